//! Property tests: encoding round trips, flattened structures through a whole signed request,
//! and totality of parsing on arbitrary input.

use std::collections::BTreeMap;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use proptest::prelude::*;
use vpngw_protocol::sign::{sign_v3, v1_canonical_query, v1_signature, v1_string_to_sign};
use vpngw_protocol::{
    Format, Params, RawRequest, encode_error, encode_success, form_decode, parse, percent_encode,
};

const SECRET: &[u8] = b"testsecret";

fn common() -> Vec<(String, String)> {
    [
        ("AccessKeyId", "testid"),
        ("Action", "CreateVpnConnection"),
        ("Format", "json"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "0ccd55d58c838e308143d6f54a65ddad"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-11-25T16:29:05Z"),
        ("Version", "2016-04-28"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A signed V1 POST: common parameters in the query, `business` in the query or in a form
/// body. Values on the wire use `+` for spaces in the body, `%20` in the query (like legacy).
fn signed_v1(business: &[(String, String)], in_body: bool) -> (String, HeaderMap, Vec<u8>) {
    let all = Params::from_pairs(common().into_iter().chain(business.iter().cloned()))
        .expect("valid pairs");
    let signature = v1_signature(
        SECRET,
        &v1_string_to_sign("POST", &v1_canonical_query(&all)),
    );
    let mut headers = HeaderMap::new();
    let (mut query, body) = if in_body {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let body = Params::from_pairs(business.iter().cloned())
            .expect("valid")
            .to_form()
            .replace("%20", "+");
        (Params::from_pairs(common()).expect("valid").to_form(), body)
    } else {
        (all.to_form(), String::new())
    };
    query.push_str("&Signature=");
    query.push_str(&percent_encode(&signature));
    (query, headers, body.into_bytes())
}

fn field_name() -> impl Strategy<Value = String> {
    "[A-Z][A-Za-z0-9]{0,6}(\\.[A-Z][a-z]{0,4})?"
}

proptest! {
    #[test]
    fn percent_encoding_round_trips(s in any::<String>()) {
        let encoded = percent_encode(&s);
        let bytes = encoded.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                prop_assert!(bytes[i + 1..i + 3].iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)));
                i += 3;
            } else {
                prop_assert!(bytes[i].is_ascii_alphanumeric() || b"-_.~".contains(&bytes[i]));
                i += 1;
            }
        }
        let decoded = form_decode(bytes);
        prop_assert_eq!(decoded.as_deref(), Ok(s.as_str()));
        // Form style: spaces as '+'.
        let plus = encoded.replace("%20", "+");
        let decoded = form_decode(plus.as_bytes());
        prop_assert_eq!(decoded.as_deref(), Ok(s.as_str()));
    }

    #[test]
    fn lists_of_objects_survive_a_signed_request(
        objects in prop::collection::vec(
            prop::collection::btree_map(field_name(), any::<String>(), 1..4),
            0..12,
        ),
        scalars in prop::collection::vec(any::<String>(), 0..12),
        in_body in any::<bool>(),
    ) {
        let mut business: Vec<(String, String)> = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            for (field, value) in object {
                business.push((format!("Obj.{}.{field}", i + 1), value.clone()));
            }
        }
        for (i, value) in scalars.iter().enumerate() {
            business.push((format!("L.{}", i + 1), value.clone()));
        }
        let (query, headers, body) = signed_v1(&business, in_body);
        let raw = RawRequest { method: &Method::POST, query: Some(&query), headers: &headers, body: &body };
        let req = parse(&raw).expect("parses");
        req.verify_signature(SECRET).expect("verifies");

        let got = req.params().objects("Obj").expect("objects");
        let want: Vec<Params> = objects
            .iter()
            .map(|o| Params::from_pairs(o.iter()).expect("valid"))
            .collect();
        prop_assert_eq!(got, want);
        let list = req.params().list("L").expect("list");
        prop_assert_eq!(list, scalars.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn parse_is_total_on_arbitrary_input(
        method in prop_oneof![Just(Method::GET), Just(Method::POST), Just(Method::PUT)],
        query in prop_oneof![any::<String>(), "([A-Za-z.=&+0-9]|%[0-9A-Fa-f]{2}|%){0,120}"],
        body in prop_oneof![prop::collection::vec(any::<u8>(), 0..200).boxed(), "([A-Za-z.=&+%0-9]){0,120}".prop_map(String::into_bytes).boxed()],
        headers in prop::collection::vec((header_name(), header_value()), 0..10),
    ) {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(&value)) {
                map.append(n, v);
            }
        }
        exercise(&method, Some(&query), &map, &body);
    }

    #[test]
    fn parse_is_total_on_mutated_signed_requests(
        which in 0usize..8,
        value in header_value(),
        cut in any::<prop::sample::Index>(),
        junk in any::<String>(),
    ) {
        let mut headers = HeaderMap::new();
        for (k, v) in [
            ("host", "127.0.0.1:18080"),
            ("x-acs-action", "CreateVpnConnection"),
            ("x-acs-version", "2016-04-28"),
            ("x-acs-date", "2026-11-25T16:29:04Z"),
            ("x-acs-signature-nonce", "1cd66bf6dd707ef964d68a003fcbbf0f"),
            ("content-type", "application/x-www-form-urlencoded"),
        ] {
            headers.insert(k, HeaderValue::from_static(v));
        }
        let body = b"Tags.1.Key=env&Tags.1.Value=x".to_vec();
        sign_v3("POST", "RegionId=cn-hangzhou", &mut headers, &body, "testid", SECRET).expect("signed");
        let names: Vec<HeaderName> = headers.keys().cloned().collect();
        let name = &names[which % names.len()];
        if let Ok(v) = HeaderValue::from_bytes(&value) {
            headers.insert(name.clone(), v);
        }
        let query = "RegionId=cn-hangzhou".to_owned();
        let at = cut.index(query.len() + 1);
        let mutated = format!("{}{}", &query[..at], junk);
        exercise(&Method::POST, Some(&mutated), &headers, &body);
    }

    #[test]
    fn encoding_answers_is_total(value in json_value(), action in any::<String>()) {
        for format in [Format::Json, Format::Xml] {
            let e = encode_success(format, &action, &value);
            prop_assert_eq!(e.status, 200);
            prop_assert!(std::str::from_utf8(&e.body).is_ok());
        }
    }
}

fn exercise(method: &Method, query: Option<&str>, headers: &HeaderMap, body: &[u8]) {
    let raw = RawRequest {
        method,
        query,
        headers,
        body,
    };
    match parse(&raw) {
        Ok(req) => {
            let _ = (
                req.action(),
                req.version(),
                req.format(),
                req.access_key_id(),
            );
            let _ = (req.signature_nonce(), req.timestamp(), req.security_token());
            let _ = (req.canonical_query_string(), req.canonical_request());
            let _ = req.verify_signature(SECRET);
            let _ = req.params().objects("Tags");
            let _ = req.params().list("Tags");
        }
        Err(e) => {
            assert!((400..600).contains(&e.status));
            let _ = encode_error(Format::Xml, &e, "id", "vpc.aliyuncs.com", "Vpc");
            let _ = encode_error(Format::Json, &e, "id", "vpc.aliyuncs.com", "Vpc");
        }
    }
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("authorization".to_owned()),
        Just("content-type".to_owned()),
        Just("host".to_owned()),
        Just("x-acs-action".to_owned()),
        Just("x-acs-version".to_owned()),
        Just("x-acs-date".to_owned()),
        Just("x-acs-signature-nonce".to_owned()),
        Just("x-acs-content-sha256".to_owned()),
        Just("x-acs-security-token".to_owned()),
        "[a-z-]{1,12}",
    ]
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80),
        "[ -~]{0,80}".prop_map(String::into_bytes),
        "ACS3-[A-Z0-9-]{0,20} ?((Credential|SignedHeaders|Signature|X)=[a-z0-9;.-]{0,70},?){0,4}"
            .prop_map(String::into_bytes),
        Just(b"application/x-www-form-urlencoded".to_vec()),
        "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"
            .prop_map(String::into_bytes),
    ]
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|m: BTreeMap<String, Value>| Value::Object(m.into_iter().collect())),
        ]
    })
}
