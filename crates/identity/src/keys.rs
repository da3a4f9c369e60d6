//! Generators for identifiers and credentials in the cloud's formats. All use the OS CSPRNG.
//!
//! Formats, from real values in public material:
//! * AccessKey ID: `LTAI` + 20 alphanumerics, 24 characters (current RAM keys look like
//!   `LTAI5t…`; older ones were 16 characters — we mint the current length).
//! * AccessKey secret: 30 alphanumerics.
//! * STS temporary AccessKey ID: `STS.` + 25 alphanumerics (e.g. `STS.NYx3uEBnMWqC3ogAa14JAFM6y`
//!   in AssumeRole responses); STS AccessKey secret: 44 alphanumerics.
//! * SecurityToken: opaque base64 starting `CAIS` in real responses; ours is `CAIS` + base64
//!   of 192 random bytes (the SDKs treat it as an opaque string).
//! * Account IDs (UIDs) are 16-digit numbers (`1234567890123456` in the docs); RAM user ids
//!   16 digits; role ids 18 digits (`AssumedRoleId` examples such as
//!   `329265495765631429:fax4g3kq`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::random::{ALPHANUMERIC, DIGITS, fill, string_from};
use crate::secret::Secret;

pub const ACCESS_KEY_ID_PREFIX: &str = "LTAI";
pub const ACCESS_KEY_ID_LEN: usize = 24;
pub const ACCESS_KEY_SECRET_LEN: usize = 30;
pub const STS_ACCESS_KEY_ID_PREFIX: &str = "STS.";
pub const STS_ACCESS_KEY_ID_LEN: usize = 29;
pub const STS_ACCESS_KEY_SECRET_LEN: usize = 44;
pub const ACCOUNT_ID_LEN: usize = 16;

/// A new long-term AccessKey ID: `LTAI` + 20 alphanumerics.
pub fn generate_access_key_id() -> String {
    format!(
        "{ACCESS_KEY_ID_PREFIX}{}",
        string_from(ALPHANUMERIC, ACCESS_KEY_ID_LEN - ACCESS_KEY_ID_PREFIX.len())
    )
}

/// A new AccessKey secret: 30 alphanumerics.
pub fn generate_access_key_secret() -> Secret {
    Secret::new(string_from(ALPHANUMERIC, ACCESS_KEY_SECRET_LEN))
}

/// A new temporary (STS) AccessKey ID: `STS.` + 25 alphanumerics.
pub fn generate_sts_access_key_id() -> String {
    format!(
        "{STS_ACCESS_KEY_ID_PREFIX}{}",
        string_from(
            ALPHANUMERIC,
            STS_ACCESS_KEY_ID_LEN - STS_ACCESS_KEY_ID_PREFIX.len()
        )
    )
}

/// A new temporary (STS) AccessKey secret: 44 alphanumerics.
pub fn generate_sts_access_key_secret() -> Secret {
    Secret::new(string_from(ALPHANUMERIC, STS_ACCESS_KEY_SECRET_LEN))
}

/// A new STS SecurityToken: `CAIS` + base64 of 192 random bytes (260 characters).
pub fn generate_security_token() -> Secret {
    let mut raw = zeroize::Zeroizing::new([0u8; 192]);
    fill(raw.as_mut());
    Secret::new(format!("CAIS{}", STANDARD.encode(raw.as_ref())))
}

/// A decimal id of `len` digits with a non-zero first digit (`len` ≥ 1).
pub fn generate_numeric_id(len: usize) -> String {
    if len == 0 {
        return String::new();
    }
    let mut id = string_from(&DIGITS[1..], 1);
    id.push_str(&string_from(DIGITS, len - 1));
    id
}

/// A new account id (UID): 16 digits.
pub fn generate_account_id() -> String {
    generate_numeric_id(ACCOUNT_ID_LEN)
}

/// A new RAM user id: 16 digits.
pub fn generate_user_id() -> String {
    generate_numeric_id(16)
}

/// A new RAM role id: 18 digits.
pub fn generate_role_id() -> String {
    generate_numeric_id(18)
}

/// Is `s` shaped like a long-term AccessKey ID we mint (`LTAI` + 20 alphanumerics)?
pub fn is_access_key_id(s: &str) -> bool {
    s.len() == ACCESS_KEY_ID_LEN
        && s.starts_with(ACCESS_KEY_ID_PREFIX)
        && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Is `s` shaped like an STS AccessKey ID (`STS.` + alphanumerics)?
pub fn is_sts_access_key_id(s: &str) -> bool {
    s.len() > STS_ACCESS_KEY_ID_PREFIX.len()
        && s.starts_with(STS_ACCESS_KEY_ID_PREFIX)
        && s[STS_ACCESS_KEY_ID_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}
