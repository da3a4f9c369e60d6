//! Sealing of secrets (access-key secrets, PSKs, BGP keys) before they reach
//! the store, and opening them again. The master key lives outside the
//! database (environment or key file), so a copy of the database alone
//! reveals no secret.

use std::sync::Arc;

use vpngw_identity::{MasterKey, Secret, SecretBox};
use vpngw_protocol::ApiError;

/// Seals and opens secrets for storage.
#[derive(Clone)]
pub struct Secrets {
    sealer: Arc<SecretBox>,
}

impl Secrets {
    pub fn new(key: MasterKey) -> Secrets {
        Secrets {
            sealer: Arc::new(SecretBox::new(key)),
        }
    }

    /// `plaintext` as stored text, bound to `aad` (the row it belongs to),
    /// so a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &str, aad: &str) -> String {
        self.sealer.seal_str(plaintext, aad.as_bytes())
    }

    pub fn open_secret(&self, sealed: &str, aad: &str) -> Result<Secret, ApiError> {
        self.sealer.open_str(sealed, aad.as_bytes()).map_err(|e| {
            // The ciphertext or the master key is wrong: an operator problem,
            // never the caller's. Log what, not the value.
            tracing::error!(error = %e, aad, "a stored secret cannot be opened");
            ApiError::internal()
        })
    }

    /// The plaintext, for a response that must show it (PSKs, BGP keys).
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, ApiError> {
        self.open_secret(sealed, aad).map(|s| s.expose().to_owned())
    }
}
