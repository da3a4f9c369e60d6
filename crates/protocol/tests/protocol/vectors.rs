//! Known answers: every vector of `spec/signature-vectors.json`, driven from the file itself.

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use vpngw_protocol::sign::{content_sha256, v1_signature, v3_signature, v3_string_to_sign};
use vpngw_protocol::{
    RawRequest, RpcRequest, SignatureVersion, form_decode, parse, percent_encode,
};

const VECTORS: &str = include_str!("../../../../spec/signature-vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("signature-vectors.json is JSON")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {}", v["id"]))
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .expect("array of pairs")
        .iter()
        .map(|p| (s_idx(p, 0), s_idx(p, 1)))
        .collect()
}

fn s_idx(v: &Value, i: usize) -> String {
    v[i].as_str().expect("pair element is a string").to_owned()
}

/// The request of one vector, rebuilt from its request line, headers and body.
struct Vector {
    id: String,
    method: Method,
    target: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Vector {
    fn from_json(v: &Value) -> Self {
        let line = s(v, "raw_request_line");
        let mut parts = line.split(' ');
        let method = Method::from_bytes(parts.next().expect("method").as_bytes()).expect("method");
        let target = parts.next().expect("target").to_owned();
        let mut headers = HeaderMap::new();
        if let Some(ct) = v["content_type"].as_str() {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_str(ct).expect("ct"),
            );
        }
        if v["signature_version"] == "v3" {
            for (name, value) in pairs(&v["canonical_headers"]) {
                headers.insert(
                    HeaderName::from_bytes(name.as_bytes()).expect("name"),
                    HeaderValue::from_str(&value).expect("value"),
                );
            }
            headers.insert(
                http::header::AUTHORIZATION,
                HeaderValue::from_str(s(v, "authorization_header")).expect("authorization"),
            );
        }
        Self {
            id: s(v, "id").to_owned(),
            method,
            target,
            headers,
            body: s(v, "raw_body").as_bytes().to_vec(),
        }
    }

    fn raw(&self) -> RawRequest<'_> {
        RawRequest {
            method: &self.method,
            query: self.target.split_once('?').map(|(_, q)| q),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn parse(&self) -> RpcRequest {
        parse(&self.raw()).unwrap_or_else(|e| panic!("{}: {e}", self.id))
    }
}

#[test]
fn percent_encoding_cases() {
    let all = vectors();
    let cases = all["percent_encoding_cases"].as_array().expect("cases");
    assert!(cases.len() >= 8);
    for case in cases {
        let input = s(case, "input");
        let encoded = s(case, "encoded");
        assert_eq!(percent_encode(input), encoded, "{input:?}");
        assert_eq!(form_decode(encoded.as_bytes()).as_deref(), Ok(input));
    }
}

#[test]
fn v1_vectors() {
    let all = vectors();
    let mut count = 0;
    for v in all["vectors"].as_array().expect("vectors") {
        if v["signature_version"] != "v1" {
            continue;
        }
        count += 1;
        let vector = Vector::from_json(v);
        let id = &vector.id;
        let req = vector.parse();
        assert_eq!(req.signature_version(), SignatureVersion::V1, "{id}");
        assert_eq!(req.access_key_id(), s(v, "access_key_id"), "{id}");
        assert_eq!(s(v, "hmac_key"), format!("{}&", s(v, "secret")), "{id}");

        // The decoded, sorted parameter set is exactly the signed one plus Signature.
        let got: Vec<(String, String)> = req
            .params()
            .iter()
            .filter(|(k, _)| *k != "Signature")
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        assert_eq!(got, pairs(&v["params_sorted"]), "{id}");

        assert_eq!(
            req.canonical_query_string(),
            s(v, "canonicalized_query_string"),
            "{id}"
        );
        let sts = req.string_to_sign();
        assert_eq!(sts, s(v, "string_to_sign"), "{id}");
        let secret = s(v, "secret").as_bytes();
        assert_eq!(
            v1_signature(secret, &sts),
            s(v, "expected_signature"),
            "{id}"
        );
        assert_eq!(
            req.params().get("Signature"),
            Some(s(v, "expected_signature")),
            "{id}"
        );
        req.verify_signature(secret)
            .unwrap_or_else(|e| panic!("{id}: {e}"));

        // Wrong secret: rejected, and the message quotes our string to sign after ':'.
        let err = req
            .verify_signature(b"testsecreT")
            .expect_err("wrong secret");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");
        assert_eq!(err.message.split(':').nth(1), Some(sts.as_str()), "{id}");

        // One flipped byte in the sent signature: rejected.
        let mut flipped = Vector::from_json(v);
        let good = s(v, "expected_signature");
        let bad = flip_base64_char(good);
        let encoded_good = percent_encode(good);
        assert!(flipped.target.contains(&encoded_good), "{id}");
        flipped.target = flipped.target.replace(&encoded_good, &percent_encode(&bad));
        let err = flipped
            .parse()
            .verify_signature(secret)
            .expect_err("flipped");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");

        // One flipped byte in a signed value: rejected.
        let mut tampered = Vector::from_json(v);
        tampered.target = tampered.target.replacen("Version=20", "Version=21", 1);
        let err = tampered
            .parse()
            .verify_signature(secret)
            .expect_err("tampered");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");
    }
    assert!(count >= 14, "only {count} V1 vectors ran");
}

fn flip_base64_char(sig: &str) -> String {
    let mut chars: Vec<char> = sig.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[test]
fn v3_vectors() {
    let all = vectors();
    let mut count = 0;
    for v in all["vectors"].as_array().expect("vectors") {
        if v["signature_version"] != "v3" {
            continue;
        }
        count += 1;
        let vector = Vector::from_json(v);
        let id = &vector.id;
        assert_eq!(s(v, "algorithm"), "ACS3-HMAC-SHA256", "{id}");
        assert_eq!(s(v, "canonical_uri"), "/", "{id}");
        assert_eq!(content_sha256(&vector.body), s(v, "hashed_payload"), "{id}");
        assert_eq!(
            s(v, "x_acs_content_sha256_header"),
            s(v, "hashed_payload"),
            "{id}"
        );

        let req = vector.parse();
        assert_eq!(req.signature_version(), SignatureVersion::V3, "{id}");
        assert_eq!(req.access_key_id(), s(v, "access_key_id"), "{id}");
        let query: Vec<(String, String)> = pairs(&v["query_sorted"]);
        let cq = req.canonical_query_string();
        assert_eq!(cq, s(v, "canonical_query_string"), "{id}");
        for (k, val) in &query {
            assert_eq!(req.params().get(k), Some(val.as_str()), "{id} {k}");
        }
        assert_eq!(
            req.canonical_request()
                .map(String::from_utf8_lossy)
                .as_deref(),
            Some(s(v, "canonical_request")),
            "{id}"
        );
        let sts = req.string_to_sign();
        assert_eq!(sts, s(v, "string_to_sign"), "{id}");
        assert_eq!(
            v3_string_to_sign(s(v, "canonical_request").as_bytes()),
            sts,
            "{id}"
        );
        let secret = s(v, "secret").as_bytes();
        assert_eq!(s(v, "hmac_key").as_bytes(), secret, "{id}");
        assert_eq!(
            v3_signature(secret, &sts),
            s(v, "expected_signature"),
            "{id}"
        );
        req.verify_signature(secret)
            .unwrap_or_else(|e| panic!("{id}: {e}"));

        let err = req
            .verify_signature(b"testsecreT")
            .expect_err("wrong secret");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");
        assert!(
            err.message
                .ends_with(&format!("server string to sign is:{sts}")),
            "{id}"
        );

        // One flipped hex digit in the Authorization signature: rejected.
        let mut flipped = Vector::from_json(v);
        let auth = s(v, "authorization_header");
        let last = auth.chars().last().expect("non-empty");
        let replacement = if last == '0' { '1' } else { '0' };
        let bad = format!("{}{replacement}", &auth[..auth.len() - 1]);
        flipped.headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(&bad).expect("header"),
        );
        let err = flipped
            .parse()
            .verify_signature(secret)
            .expect_err("flipped");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");

        // A tampered signed header: rejected.
        let mut tampered = Vector::from_json(v);
        tampered.headers.insert(
            "x-acs-signature-nonce",
            HeaderValue::from_static("0000000000000000"),
        );
        let err = tampered
            .parse()
            .verify_signature(secret)
            .expect_err("tampered");
        assert_eq!(err.code, "SignatureDoesNotMatch", "{id}");
    }
    assert!(count >= 10, "only {count} V3 vectors ran");
}

#[test]
fn every_vector_is_covered() {
    let all = vectors();
    let list = all["vectors"].as_array().expect("vectors");
    assert!(list.len() >= 27);
    for v in list {
        let version = v["signature_version"].as_str();
        assert!(matches!(version, Some("v1" | "v3")), "{}", v["id"]);
    }
}
