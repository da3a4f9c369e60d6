//! [`SecretBox`]: authenticated encryption of secrets at rest.
//!
//! Algorithm: XChaCha20-Poly1305 (RustCrypto `chacha20poly1305`) keyed directly by the
//! [`MasterKey`]. Each seal draws a fresh random 192-bit nonce from the OS CSPRNG; with
//! 192-bit nonces random generation is safe for any realistic number of messages.
//!
//! Sealed format (version 1), binary:
//!
//! ```text
//! 0x01 | nonce (24 bytes) | ciphertext | Poly1305 tag (16 bytes)
//! ```
//!
//! The AEAD's associated data is `0x01 || associated_data`, so the version byte is
//! authenticated too. Callers bind each ciphertext to its row with associated data such as
//! [`associated_data`]`("accesskey", id)` = `b"accesskey:<id>"`: a ciphertext copied into another
//! row (or another column kind) fails to open. `seal_str` / `open_str` wrap the binary form
//! in standard padded base64 for TEXT columns. A future format gets a new version byte;
//! `open` refuses versions it does not know.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use zeroize::Zeroizing;

use crate::master_key::MasterKey;
use crate::random::fill;
use crate::secret::Secret;

/// Format version written by this build.
pub const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// Bytes a sealed message adds to its plaintext.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Why a sealed value could not be opened. Deliberately coarse: no oracle beyond "bad".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenError {
    /// `open_str` input is not base64.
    Encoding,
    /// Too short to hold a header and a tag.
    Truncated,
    /// A version byte this build does not understand.
    UnsupportedVersion(u8),
    /// Wrong key, wrong associated data, or the bytes were altered.
    Authentication,
    /// `open_str` plaintext is not UTF-8.
    NotUtf8,
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Encoding => f.write_str("sealed secret is not valid base64"),
            OpenError::Truncated => f.write_str("sealed secret is truncated"),
            OpenError::UnsupportedVersion(v) => {
                write!(f, "sealed secret has unsupported format version {v}")
            }
            OpenError::Authentication => f.write_str(
                "sealed secret failed authentication (wrong master key, wrong row, or tampered)",
            ),
            OpenError::NotUtf8 => f.write_str("sealed secret is not UTF-8 text"),
        }
    }
}

impl std::error::Error for OpenError {}

/// Associated data binding a ciphertext to a row: `b"<kind>:<id>"`, e.g.
/// `associated_data("accesskey", "LTAI…")`, `associated_data("vpnconnection.psk", "vco-…")`.
pub fn associated_data(kind: &str, id: &str) -> Vec<u8> {
    let mut ad = Vec::with_capacity(kind.len() + 1 + id.len());
    ad.extend_from_slice(kind.as_bytes());
    ad.push(b':');
    ad.extend_from_slice(id.as_bytes());
    ad
}

/// Seals and opens secrets with the master key.
#[derive(Clone)]
pub struct SecretBox {
    key: MasterKey,
}

impl fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBox([REDACTED])")
    }
}

fn aad(associated_data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + associated_data.len());
    v.push(FORMAT_V1);
    v.extend_from_slice(associated_data);
    v
}

impl SecretBox {
    pub fn new(key: MasterKey) -> SecretBox {
        SecretBox { key }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.key.as_bytes().into())
    }

    /// Encrypt `plaintext`, bound to `associated_data`. Output: see the module docs.
    pub fn seal(&self, plaintext: &[u8], associated_data: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        fill(&mut nonce);
        let ad = aad(associated_data);
        let ct = match self.cipher().encrypt(
            &XNonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &ad,
            },
        ) {
            Ok(ct) => ct,
            // Only possible for inputs of ~256 GiB, far beyond any secret.
            Err(_) => panic!("XChaCha20-Poly1305 refused to encrypt (input too large)"),
        };
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypt and authenticate a value produced by [`SecretBox::seal`] with the same
    /// associated data. The plaintext is zeroed when the returned buffer is dropped.
    pub fn open(
        &self,
        sealed: &[u8],
        associated_data: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let (&version, rest) = sealed.split_first().ok_or(OpenError::Truncated)?;
        if version != FORMAT_V1 {
            return Err(OpenError::UnsupportedVersion(version));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(OpenError::Truncated);
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| OpenError::Truncated)?;
        let ad = aad(associated_data);
        self.cipher()
            .decrypt(&nonce, Payload { msg: ct, aad: &ad })
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Authentication)
    }

    /// Seal a string secret and return base64 text for a TEXT column.
    pub fn seal_str(&self, secret: &str, associated_data: &[u8]) -> String {
        STANDARD.encode(self.seal(secret.as_bytes(), associated_data))
    }

    /// [`SecretBox::seal_str`] for a [`Secret`].
    pub fn seal_secret(&self, secret: &Secret, associated_data: &[u8]) -> String {
        self.seal_str(secret.expose(), associated_data)
    }

    /// Open base64 text produced by [`SecretBox::seal_str`].
    pub fn open_str(&self, sealed: &str, associated_data: &[u8]) -> Result<Secret, OpenError> {
        let raw = STANDARD
            .decode(sealed.trim())
            .map_err(|_| OpenError::Encoding)?;
        let mut plain = self.open(&raw, associated_data)?;
        let bytes = std::mem::take(&mut *plain);
        match String::from_utf8(bytes) {
            Ok(s) => Ok(Secret::new(s)),
            Err(e) => {
                let mut b = e.into_bytes();
                zeroize::Zeroize::zeroize(&mut b);
                Err(OpenError::NotUtf8)
            }
        }
    }
}
