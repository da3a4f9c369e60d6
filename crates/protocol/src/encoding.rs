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
/// by two hex digits stands for itself (WHATWG rule), anything else is literal. The input and
/// the result must be UTF-8; unlike browsers we do not replace bad bytes, because a signature
/// over replaced text would silently differ from what the client signed.
///
/// Borrows when there is nothing to decode.
pub fn form_decode(input: &[u8]) -> Result<Cow<'_, str>, std::str::Utf8Error> {
    let s = std::str::from_utf8(input)?;
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(s.len());
    decode_str_into(&mut out, s, &mut Vec::new())?;
    Ok(Cow::Owned(out))
}

/// Decode `s` (form rules) onto the end of `out`. Literal runs are copied as they are (they
/// are already UTF-8); each run of `%XX` escapes is decoded in `scratch` and must be UTF-8 by
/// itself, which is the same as requiring the whole result to be UTF-8, because a valid `&str`
/// cannot hold a stray continuation byte that an escaped lead byte could pair with.
pub(crate) fn decode_str_into(
    out: &mut String,
    s: &str,
    scratch: &mut Vec<u8>,
) -> Result<(), std::str::Utf8Error> {
    let bytes = s.as_bytes();
    let escape_at = |j: usize| -> Option<u8> {
        if bytes.get(j) != Some(&b'%') {
            return None;
        }
        let hi = bytes.get(j + 1).copied().and_then(hex_val)?;
        let lo = bytes.get(j + 2).copied().and_then(hex_val)?;
        Some(hi << 4 | lo)
    };
    let (mut i, mut literal_from) = (0, 0);
    loop {
        // Skip literal bytes eight at a time: most of a request is names and plain values.
        while let Some(word) = bytes
            .get(i..i + 8)
            .and_then(|c| <[u8; 8]>::try_from(c).ok())
        {
            let word = u64::from_le_bytes(word);
            if has_byte(word, b'%') || has_byte(word, b'+') {
                break;
            }
            i += 8;
        }
        let Some(&b) = bytes.get(i) else {
            break;
        };
        match b {
            b'+' => {
                out.push_str(&s[literal_from..i]);
                out.push(' ');
                i += 1;
                literal_from = i;
            }
            b'%' => {
                scratch.clear();
                let mut j = i;
                while let Some(byte) = escape_at(j) {
                    scratch.push(byte);
                    j += 3;
                }
                if scratch.is_empty() {
                    // A lone '%' stays literal.
                    i += 1;
                    continue;
                }
                out.push_str(&s[literal_from..i]);
                out.push_str(std::str::from_utf8(scratch)?);
                i = j;
                literal_from = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[literal_from..]);
    Ok(())
}

/// Whether any byte of `word` equals `byte` (the classic zero-byte test on `word ^ byte…`).
#[inline]
fn has_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGHS: u64 = ONES << 7;
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Split a form-urlencoded string into raw `(name, value)` pairs (not yet decoded).
/// Empty segments (`&&`) are skipped; a segment without `=` has an empty value.
pub(crate) fn split_pairs(input: &str) -> impl Iterator<Item = (&str, &str)> {
    input
        .split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| seg.split_once('=').unwrap_or((seg, "")))
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
        assert!(d("%C3%A9%C3").is_err());
        assert_eq!(d("a%C3%A9+%E4%B8%AD%").as_deref(), Ok("aé 中%"));
        assert!(form_decode(b"\xC3%A9").is_err());
        assert!(matches!(form_decode(b"plain"), Ok(Cow::Borrowed("plain"))));
    }

    #[test]
    fn specials_at_every_offset() {
        for len in 0..24 {
            for at in 0..len {
                for (special, decoded) in [("+", " "), ("%41", "A"), ("%", "%"), ("%C3%A9", "é")] {
                    let input = format!("{}{special}{}", "x".repeat(at), "y".repeat(len - at));
                    let want = format!("{}{decoded}{}", "x".repeat(at), "y".repeat(len - at));
                    assert_eq!(form_decode(input.as_bytes()).as_deref(), Ok(want.as_str()));
                }
            }
        }
        assert!(has_byte(u64::from_le_bytes(*b"abcdefg%"), b'%'));
        assert!(!has_byte(u64::from_le_bytes(*b"abcdefgh"), b'%'));
        assert!(!has_byte(u64::from_le_bytes([0x80 | b'%'; 8]), b'%'));
    }

    #[test]
    fn split_rules() {
        let pairs: Vec<_> = split_pairs("a=1&&b&c=&=d&e=f=g").collect();
        assert_eq!(
            pairs,
            vec![("a", "1"), ("b", ""), ("c", ""), ("", "d"), ("e", "f=g")]
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
