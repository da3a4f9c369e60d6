//! Text for people: what vpngw prints in tables and text logs never carries
//! a control character of its own (#13).
//!
//! Values that reach a terminal (resource ids and names from requests,
//! error messages quoting them, audit entries, log fields) could otherwise
//! move the cursor, start a new line that looks like another entry, or
//! hide text (`ESC[8m`). Every character that a terminal acts on instead
//! of showing is written as an escape: C0 and C1 controls and DEL (`\n`,
//! `\r`, `\t`, `\x1b`, `\u{9b}`), and the Unicode format characters that
//! reorder or separate lines (bidirectional overrides and isolates, the
//! line and paragraph separators). A backslash stays as it is: the escapes
//! are for reading, not for decoding.

use std::fmt::{self, Write};

/// Whether `c` is written as an escape.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Writes `s` to `out` with every [`needs_escape`] character escaped.
pub fn write_escaped<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let mut rest = s;
    while let Some(at) = rest.find(needs_escape) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32)?,
            c => write!(out, "\\u{{{:x}}}", c as u32)?,
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

/// `s` with its control characters escaped (borrowed when there are none).
pub fn printable(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(needs_escape) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    let _ = write_escaped(&mut out, s);
    out.into()
}

/// A `fmt::Write` that escapes what goes through it.
pub struct Escaping<W>(pub W);

impl<W: Write> Write for Escaping<W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(&mut self.0, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("vpn-abc_1.2"), "vpn-abc_1.2");
        assert!(matches!(printable("plain"), std::borrow::Cow::Borrowed(_)));
        assert_eq!(
            printable("vpn-z\r\n2026 root OK\x1b[8m"),
            "vpn-z\\r\\n2026 root OK\\x1b[8m"
        );
        assert_eq!(printable("a\tb\x7f\u{9b}c"), "a\\tb\\x7f\\u{9b}c");
        assert_eq!(printable("é中\u{202e}x\u{2028}"), "é中\\u{202e}x\\u{2028}");
        assert_eq!(printable("back\\slash"), "back\\slash");
        let mut out = String::new();
        let value = "x\ny";
        write!(Escaping(&mut out), "{value}|{}", 1).unwrap();
        assert_eq!(out, "x\\ny|1");
    }
}
