//! From an answer to bytes on the wire (protocol.md §6).

use std::borrow::Cow;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::encoding::percent_encode_into;
use crate::error::ApiError;
use crate::request::Format;

/// `Content-Type` of JSON answers.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=utf-8";
/// `Content-Type` of XML answers; the V3 Tea clients parse an XML error only with exactly this.
pub const XML_CONTENT_TYPE: &str = "text/xml;charset=utf-8";

const XML_DECLARATION: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;

/// An encoded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A fresh request id: random UUID v4, uppercase, 36 characters (protocol.md §6.4).
pub fn new_request_id() -> String {
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Builder::from_random_bytes(random_16())
        .into_uuid()
        .hyphenated()
        .encode_upper(&mut buf)
        .to_owned()
}

/// Random bytes from the operating system, fetched 64 ids at a time: one
/// `getrandom` call per request was 1.4% of DescribeVpnConnection's CPU.
fn random_16() -> [u8; 16] {
    use std::cell::RefCell;
    const BATCH: usize = 64 * 16;
    thread_local! {
        static POOL: RefCell<([u8; BATCH], usize)> = const { RefCell::new(([0; BATCH], BATCH)) };
    }
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        let (bytes, used) = &mut *pool;
        if *used + 16 > BATCH {
            if getrandom::fill(bytes).is_err() {
                // Cannot happen on the platforms vpngw runs on; if it
                // does, uuid asks the system itself (and panics as before).
                return *uuid::Uuid::new_v4().as_bytes();
            }
            *used = 0;
        }
        let mut out = [0u8; 16];
        out.copy_from_slice(&bytes[*used..*used + 16]);
        // Used bytes are not kept around.
        bytes[*used..*used + 16].fill(0);
        *used += 16;
        out
    })
}

/// Encode a success body (a JSON object that already holds `RequestId`) with status 200.
///
/// XML: `<?xml …?><{Action}Response>…</{Action}Response>`, each object field an element, an
/// array becomes repeated elements named by its key (`"Tag":[a,b]` → `<Tag>a</Tag><Tag>b</Tag>`),
/// `null` an empty element. Text is escaped; characters XML 1.0 cannot carry become U+FFFD;
/// characters not allowed in element names become `_`.
pub fn encode_success(format: Format, action: &str, body: &Value) -> Encoded {
    match format {
        Format::Json => Encoded {
            status: 200,
            content_type: JSON_CONTENT_TYPE,
            body: json_bytes(body),
        },
        Format::Xml => {
            let mut out = String::with_capacity(256);
            out.push_str(XML_DECLARATION);
            let root = format!("{}Response", xml_name(action));
            write_element(&mut out, &root, body);
            Encoded {
                status: 200,
                content_type: XML_CONTENT_TYPE,
                body: out.into_bytes(),
            }
        }
    }
}

/// A JSON success body already written (with `RequestId`), status 200.
pub fn encode_success_json(body: Vec<u8>) -> Encoded {
    Encoded {
        status: 200,
        content_type: JSON_CONTENT_TYPE,
        body,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody<'a> {
    request_id: &'a str,
    host_id: &'a str,
    code: &'a str,
    message: &'a str,
    recommend: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_denied_detail: Option<&'a Value>,
}

/// The troubleshooting link real answers carry in `Recommend`.
pub fn recommend_url(code: &str, product: &str, request_id: &str) -> String {
    let mut url = String::from("https://api.aliyun.com/troubleshoot?q=");
    percent_encode_into(&mut url, code);
    url.push_str("&product=");
    percent_encode_into(&mut url, product);
    url.push_str("&requestId=");
    percent_encode_into(&mut url, request_id);
    url
}

/// Encode an error: `{RequestId, HostId, Code, Message, Recommend[, AccessDeniedDetail]}` with
/// the error's status; XML form under `<Error>`. `host_id` is the product's public endpoint
/// (`vpc.aliyuncs.com`), `product` its name in the troubleshoot link (`Vpc`, `Ram`).
pub fn encode_error(
    format: Format,
    err: &ApiError,
    request_id: &str,
    host_id: &str,
    product: &str,
) -> Encoded {
    let recommend = recommend_url(&err.code, product, request_id);
    let fields = ErrorBody {
        request_id,
        host_id,
        code: &err.code,
        message: &err.message,
        recommend: &recommend,
        access_denied_detail: err.access_denied_detail.as_ref(),
    };
    match format {
        Format::Json => Encoded {
            status: err.status,
            content_type: JSON_CONTENT_TYPE,
            body: serde_json::to_vec(&fields).unwrap_or_else(|_| b"{}".to_vec()),
        },
        Format::Xml => {
            let mut out = String::with_capacity(512);
            out.push_str(XML_DECLARATION);
            out.push_str("<Error>");
            for (name, text) in [
                ("RequestId", fields.request_id),
                ("HostId", fields.host_id),
                ("Code", fields.code),
                ("Message", fields.message),
                ("Recommend", fields.recommend),
            ] {
                write_element(&mut out, name, &Value::String(text.to_owned()));
            }
            if let Some(detail) = fields.access_denied_detail {
                write_element(&mut out, "AccessDeniedDetail", detail);
            }
            out.push_str("</Error>");
            Encoded {
                status: err.status,
                content_type: XML_CONTENT_TYPE,
                body: out.into_bytes(),
            }
        }
    }
}

fn json_bytes(v: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail (its keys are strings).
    serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec())
}

/// Write `<name>…</name>` for `value`; an array writes one element per item.
fn write_element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item);
            }
        }
        Value::Object(map) => {
            open(out, name);
            for (k, v) in map {
                write_element(out, &xml_name(k), v);
            }
            close(out, name);
        }
        Value::Null => {
            open(out, name);
            close(out, name);
        }
        Value::Bool(b) => {
            open(out, name);
            out.push_str(if *b { "true" } else { "false" });
            close(out, name);
        }
        Value::Number(n) => {
            open(out, name);
            let _ = write!(out, "{n}");
            close(out, name);
        }
        Value::String(s) => {
            open(out, name);
            escape_text(out, s);
            close(out, name);
        }
    }
}

fn open(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
}

fn close(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Escape text content; drop to U+FFFD what XML 1.0 cannot represent at all.
fn escape_text(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// An XML element name for a JSON key: letters, digits, `_`, `-`, `.` kept; anything else
/// becomes `_`; a name that would start with a digit, `-` or `.` (or is empty) gets a `_`
/// in front. API field names are PascalCase and pass through untouched.
fn xml_name(key: &str) -> Cow<'_, str> {
    let ok_char = |c: char| c.is_alphanumeric() || matches!(c, '_' | '-' | '.');
    let ok_start = |c: char| c.is_alphabetic() || c == '_';
    let valid = key.chars().next().is_some_and(ok_start) && key.chars().all(ok_char);
    if valid {
        return Cow::Borrowed(key);
    }
    let mut name = String::with_capacity(key.len() + 1);
    if !key.chars().next().is_some_and(ok_start) {
        name.push('_');
    }
    name.extend(key.chars().map(|c| if ok_char(c) { c } else { '_' }));
    Cow::Owned(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_shape() {
        let id = new_request_id();
        assert_eq!(id.len(), 36);
        assert!(
            id.chars()
                .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase())
        );
        assert_eq!(id.matches('-').count(), 4);
        assert_ne!(id, new_request_id());
        // Version 4, RFC 4122 variant; every id of several batches differs.
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "A" | "B"), "{id}");
        let ids: std::collections::HashSet<String> = (0..1000).map(|_| new_request_id()).collect();
        assert_eq!(ids.len(), 1000);
    }

    #[test]
    fn xml_names_and_escaping() {
        assert_eq!(xml_name("VpnConnectionId"), "VpnConnectionId");
        assert_eq!(xml_name("1st"), "_1st");
        assert_eq!(xml_name(""), "_");
        assert_eq!(xml_name("a b<c"), "a_b_c");
        let mut s = String::new();
        escape_text(&mut s, "<a href=\"x\">&'\u{1}\n");
        assert_eq!(s, "&lt;a href=&quot;x&quot;&gt;&amp;&apos;\u{FFFD}\n");
    }

    #[test]
    fn xml_null_number_bool_and_empty_list() {
        let body = serde_json::json!({"A": null, "B": 1.5, "C": false, "D": {"E": []}});
        let e = encode_success(Format::Xml, "X", &body);
        let text = String::from_utf8(e.body).expect("utf8");
        assert!(text.ends_with("<XResponse><A></A><B>1.5</B><C>false</C><D></D></XResponse>"));
    }
}
