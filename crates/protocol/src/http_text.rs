//! Read the text of a raw HTTP/1.1 request, as captured (`captured-requests.txt`), into the
//! parts [`crate::parse`] takes. Used by the tests, the seed corpus and the fuzz target; it is
//! lenient and total (lines that are not valid headers are skipped), not a server-grade parser.

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::request::RawRequest;

/// An owned request read from text.
#[derive(Debug, Clone)]
pub struct HttpText {
    pub method: Method,
    /// Request target as written, e.g. `/?Action=…`.
    pub target: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl HttpText {
    /// Request line, header lines (`\n` or `\r\n`), an empty line, then the body bytes as they
    /// are. `None` when there is no request line with a valid method and a UTF-8 target.
    pub fn parse(text: &[u8]) -> Option<Self> {
        let (head, body) = split_head(text);
        let mut lines = head
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
        let request_line = lines.next()?;
        let mut parts = request_line.split(|&b| b == b' ').filter(|p| !p.is_empty());
        let method = Method::from_bytes(parts.next()?).ok()?;
        let target = std::str::from_utf8(parts.next()?).ok()?.to_owned();
        let mut headers = HeaderMap::new();
        for line in lines {
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(line[..colon].trim_ascii()),
                HeaderValue::from_bytes(line[colon + 1..].trim_ascii()),
            ) else {
                continue;
            };
            headers.append(name, value);
        }
        Some(Self {
            method,
            target,
            headers,
            body: body.to_vec(),
        })
    }

    /// The query string of the target, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }

    /// Borrow as the input of [`crate::parse`].
    pub fn raw(&self) -> RawRequest<'_> {
        RawRequest {
            method: &self.method,
            query: self.query(),
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Split at the first empty line.
fn split_head(text: &[u8]) -> (&[u8], &[u8]) {
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\n' {
            let rest = &text[i + 1..];
            if rest.starts_with(b"\n") {
                return (&text[..i], &rest[1..]);
            }
            if rest.starts_with(b"\r\n") {
                return (&text[..i], &rest[2..]);
            }
        }
        i += 1;
    }
    (text, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_request_text() {
        let t = HttpText::parse(
            b"POST /?A=1 HTTP/1.1\r\nHost: x\r\nbad header\r\nX-Y:  z \r\n\r\nk=v\n",
        )
        .expect("request");
        assert_eq!(t.method, Method::POST);
        assert_eq!(t.query(), Some("A=1"));
        assert_eq!(t.headers.get("host").map(|v| v.as_bytes()), Some(&b"x"[..]));
        assert_eq!(t.headers.get("x-y").map(|v| v.as_bytes()), Some(&b"z"[..]));
        assert_eq!(t.body, b"k=v\n");
        let t = HttpText::parse(b"GET / HTTP/1.1\nHost: x").expect("request");
        assert_eq!(t.query(), None);
        assert!(t.body.is_empty());
        assert!(HttpText::parse(b"").is_none());
        assert!(HttpText::parse(b"GET").is_none());
    }
}
