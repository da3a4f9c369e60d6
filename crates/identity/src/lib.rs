//! `vpngw-identity`: secrets at rest and credential formats.
//!
//! * [`Secret`] — a string secret: zeroed on drop, `[REDACTED]` in `Debug`/`Display`,
//!   constant-time equality, read only through [`Secret::expose`].
//! * [`MasterKey`] — 256-bit key from `VPNGW_MASTER_KEY` (hex or base64) or a 0600 key file
//!   outside the database (created atomically if absent).
//! * [`SecretBox`] — XChaCha20-Poly1305 sealing with a version byte, a random nonce per
//!   message, and associated data that binds each ciphertext to its row.
//! * [`keys`] — AccessKey / STS / account id generators in the cloud's formats.
//!
//! ```
//! use vpngw_identity::{MasterKey, SecretBox, associated_data, keys};
//! let sb = SecretBox::new(MasterKey::generate());
//! let id = keys::generate_access_key_id();
//! let secret = keys::generate_access_key_secret();
//! let ad = associated_data("accesskey", &id);
//! let stored = sb.seal_secret(&secret, &ad);           // goes into a TEXT column
//! assert_eq!(sb.open_str(&stored, &ad).unwrap(), secret);
//! assert!(sb.open_str(&stored, &associated_data("accesskey", "other")).is_err());
//! assert_eq!(format!("{secret:?}"), "[REDACTED]");
//! ```

pub mod keys;
pub mod master_key;
mod random;
pub mod secret;
pub mod secretbox;

pub use master_key::{KeyError, KeySource, MASTER_KEY_ENV, MASTER_KEY_LEN, MasterKey};
pub use secret::Secret;
pub use secretbox::{FORMAT_V1, OVERHEAD, OpenError, SecretBox, associated_data};
