//! CSPRNG helpers over the operating system's generator (`getrandom`).

/// Fill `buf` from the OS CSPRNG.
///
/// # Panics
/// If the operating system cannot supply randomness (on Linux: `getrandom(2)` failing),
/// which leaves no safe way to mint keys; this is the same policy as `rand::rngs::OsRng`.
pub fn fill(buf: &mut [u8]) {
    if let Err(e) = getrandom::fill(buf) {
        panic!("the operating system random number generator failed: {e}");
    }
}

/// `n` characters drawn uniformly from `alphabet` (rejection sampling: no modulo bias).
pub fn string_from(alphabet: &[u8], n: usize) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(n);
    let mut buf = [0u8; 64];
    while out.len() < n {
        fill(&mut buf);
        for &b in &buf {
            if usize::from(b) < limit {
                out.push(char::from(alphabet[usize::from(b) % alphabet.len()]));
                if out.len() == n {
                    break;
                }
            }
        }
    }
    zeroize::Zeroize::zeroize(&mut buf);
    out
}

pub const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const DIGITS: &[u8] = b"0123456789";
