//! Wire encodings: the canonical percent-encoding used by both signatures (protocol.md §4.1)
//! and form-urlencoded decoding of query strings and bodies (protocol.md §1.1).

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Every byte except the RFC 3986 unreserved set `A-Z a-z 0-9 - _ . ~` is escaped.
const CANONICAL: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Append `pct(s)`: UTF-8 bytes, unreserved bytes literal, every other byte `%XX` with
/// uppercase hex (space is `%20`, `*` is `%2A`, `~` stays).
#[inline]
pub fn percent_encode_into(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, CANONICAL));
}

/// `pct(s)` as a new string.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    percent_encode_into(&mut out, s);
    out
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decode one form-urlencoded component: `+` is a space, `%XX` is a byte, a `%` not followed
/// by two hex digits stands for itself (WHATWG rule), anything else is literal. The result
/// must be UTF-8; unlike browsers we do not replace bad bytes, because a signature over
/// replaced text would silently differ from what the client signed.
///
/// Borrows when there is nothing to decode.
pub fn form_decode(input: &[u8]) -> Result<Cow<'_, str>, std::str::Utf8Error> {
    if !input.iter().any(|&b| b == b'%' || b == b'+') {
        return std::str::from_utf8(input).map(Cow::Borrowed);
    }
    let mut out = Vec::with_capacity(input.len());
    decode_into(input, &mut out);
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|e| e.utf8_error())
}

/// Decode `input` (form rules) by appending raw bytes to `out`. No UTF-8 check.
pub(crate) fn decode_into(input: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = input.get(i + 1).copied().and_then(hex_val);
                let lo = input.get(i + 2).copied().and_then(hex_val);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push(hi << 4 | lo);
                    i += 3;
                } else {
                    out.push(b'%');
                    i += 1;
                }
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
}

/// Split a form-urlencoded string into raw `(name, value)` byte slices (not yet decoded).
/// Empty segments (`&&`) are skipped; a segment without `=` has an empty value.
pub(crate) fn split_pairs(input: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    input
        .split(|&b| b == b'&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| match seg.iter().position(|&b| b == b'=') {
            Some(eq) => (&seg[..eq], &seg[eq + 1..]),
            None => (seg, &seg[seg.len()..]),
        })
}

/// Lowercase hex of `bytes`.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 15)]));
    }
    s
}

/// Parse exactly `N` bytes of hex (either case).
pub(crate) fn hex_decode<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    if s.len() != N * 2 {
        return None;
    }
    let mut out = [0u8; N];
    for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        *o = hex_val(pair[0])? << 4 | hex_val(pair[1])?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_rules() {
        let d = |s: &str| form_decode(s.as_bytes()).map(Cow::into_owned);
        assert_eq!(d("a+b%20c").as_deref(), Ok("a b c"));
        assert_eq!(d("%2B%2b").as_deref(), Ok("++"));
        assert_eq!(d("100%").as_deref(), Ok("100%"));
        assert_eq!(d("%zz%4").as_deref(), Ok("%zz%4"));
        assert_eq!(d("%C3%A9").as_deref(), Ok("é"));
        assert_eq!(d("*~").as_deref(), Ok("*~"));
        assert!(d("%C3").is_err());
        assert!(d("%FF").is_err());
        assert!(matches!(form_decode(b"plain"), Ok(Cow::Borrowed("plain"))));
    }

    #[test]
    fn split_rules() {
        let pairs: Vec<_> = split_pairs(b"a=1&&b&c=&=d&e=f=g").collect();
        assert_eq!(
            pairs,
            vec![
                (&b"a"[..], &b"1"[..]),
                (b"b", b""),
                (b"c", b""),
                (b"", b"d"),
                (b"e", b"f=g")
            ]
        );
    }

    #[test]
    fn hex_round_trip() {
        let bytes = [0u8, 1, 0xab, 0xff];
        let h = hex_lower(&bytes);
        assert_eq!(h, "0001abff");
        assert_eq!(hex_decode::<4>(h.as_bytes()), Some(bytes));
        assert_eq!(hex_decode::<4>(b"0001ABFF"), Some(bytes));
        assert_eq!(hex_decode::<4>(b"0001abf"), None);
        assert_eq!(hex_decode::<4>(b"0001abfg"), None);
    }
}
