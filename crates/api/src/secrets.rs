//! Sealing of secrets (access-key secrets, PSKs, BGP keys) before they reach
//! the store, and opening them again. The master key lives outside the
//! database (environment or key file), so a copy of the database alone
//! reveals no secret.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use vpngw_identity::{MasterKey, Secret, SecretBox};
use vpngw_protocol::ApiError;

/// Seals and opens secrets for storage.
#[derive(Clone)]
pub struct Secrets {
    sealer: Arc<SecretBox>,
    /// Plaintexts already opened, by sealed text, with the associated data
    /// they were opened with. Opening is a pure function of those two (a
    /// re-sealed or changed secret is new sealed text), so this memo is never
    /// stale; it saves the AEAD open of the access-key secret on every
    /// request (BENCHMARKS.md, "Profile"). Keyed by the sealed text alone, a
    /// lookup allocates nothing; a sealed text opens under one associated
    /// data only, so one entry per text is enough.
    opened: Arc<Mutex<HashMap<String, (String, Secret)>>>,
}

/// Memo entries kept at most; past that the memo starts over.
const MEMO_LIMIT: usize = 4096;

impl Secrets {
    pub fn new(key: MasterKey) -> Secrets {
        Secrets {
            sealer: Arc::new(SecretBox::new(key)),
            opened: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// `plaintext` as stored text, bound to `aad` (the row it belongs to),
    /// so a sealed value copied to another row does not open.
    pub fn seal(&self, plaintext: &str, aad: &str) -> String {
        self.sealer.seal_str(plaintext, aad.as_bytes())
    }

    pub fn open_secret(&self, sealed: &str, aad: &str) -> Result<Secret, ApiError> {
        if let Ok(memo) = self.opened.lock()
            && let Some((opened_aad, s)) = memo.get(sealed)
            && opened_aad == aad
        {
            return Ok(Secret::new(s.expose()));
        }
        let secret = self.sealer.open_str(sealed, aad.as_bytes()).map_err(|e| {
            // The ciphertext or the master key is wrong: an operator problem,
            // never the caller's. Log what, not the value.
            tracing::error!(error = %e, aad, "a stored secret cannot be opened");
            ApiError::internal()
        })?;
        if let Ok(mut memo) = self.opened.lock() {
            if memo.len() >= MEMO_LIMIT {
                memo.clear();
            }
            memo.insert(
                sealed.to_owned(),
                (aad.to_owned(), Secret::new(secret.expose())),
            );
        }
        Ok(secret)
    }

    /// The plaintext, for a response that must show it (PSKs, BGP keys).
    pub fn open(&self, sealed: &str, aad: &str) -> Result<String, ApiError> {
        self.open_secret(sealed, aad).map(|s| s.expose().to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memo_is_bound_to_the_associated_data_and_the_sealed_text() {
        let s = Secrets::new(MasterKey::generate());
        let sealed = s.seal("psk-1", "row:a");
        // Twice: the second answer comes from the memo.
        assert_eq!(s.open(&sealed, "row:a").unwrap(), "psk-1");
        assert_eq!(s.open(&sealed, "row:a").unwrap(), "psk-1");
        // The same sealed text under another row still does not open.
        assert!(s.open(&sealed, "row:b").is_err());
        // A re-sealed value is new text and opens to the new plaintext.
        let resealed = s.seal("psk-2", "row:a");
        assert_eq!(s.open(&resealed, "row:a").unwrap(), "psk-2");
        // A tampered text is refused, memo or not.
        let mut bad = sealed.clone();
        bad.insert(5, 'A');
        assert!(s.open(&bad, "row:a").is_err());
    }

    #[test]
    fn memo_stays_bounded() {
        let s = Secrets::new(MasterKey::generate());
        for i in 0..(MEMO_LIMIT + 10) {
            let aad = format!("row:{i}");
            let sealed = s.seal("x", &aad);
            assert_eq!(s.open(&sealed, &aad).unwrap(), "x");
        }
        assert!(s.opened.lock().unwrap().len() <= MEMO_LIMIT);
    }
}
