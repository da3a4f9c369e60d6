//! [`Secret`]: a string secret (AccessKey secrets, pre-shared keys, BGP auth keys, STS tokens).

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// A secret string.
///
/// * Its memory is zeroed when dropped.
/// * `Debug` and `Display` print `[REDACTED]`, so it cannot leak through logs or `{:?}`.
/// * Equality is constant-time in the contents (lengths are not hidden).
/// * It has no serde impls on purpose: store it with [`crate::SecretBox`].
/// * [`Secret::expose`] is the one, greppable, way to read it.
#[derive(Clone, Default)]
pub struct Secret {
    inner: String,
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret {
            inner: value.into(),
        }
    }

    /// Read the secret. Use only where the clear text is really needed (signing, the one
    /// CreateAccessKey response that returns it, writing an IPsec config).
    pub fn expose(&self) -> &str {
        &self.inner
    }

    pub fn len(&self) -> usize {
        self.inner.len()
    }

    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Constant-time comparison with a plain string (e.g. a value from a request).
    pub fn ct_eq_str(&self, other: &str) -> bool {
        self.inner.as_bytes().ct_eq(other.as_bytes()).into()
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.inner.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq_str(&other.inner)
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl zeroize::ZeroizeOnDrop for Secret {}
