//! Behaviour of `parse` and `verify_signature` on requests that are wrong in one way each.

use http::{HeaderMap, HeaderValue, Method};
use time::macros::datetime;
use vpngw_protocol::sign::{
    sign_v1_query, sign_v3, v1_canonical_query, v1_signature, v1_string_to_sign,
};
use vpngw_protocol::{
    ApiError, Format, MAX_NAME_LEN, MAX_PARAMS, Params, RawRequest, RpcRequest, SignatureVersion,
    check_timestamp, parse, percent_encode,
};

const SECRET: &[u8] = b"testsecret";

struct Req {
    method: Method,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Req {
    fn raw(&self) -> RawRequest<'_> {
        RawRequest {
            method: &self.method,
            query: (!self.query.is_empty()).then_some(self.query.as_str()),
            headers: &self.headers,
            body: &self.body,
        }
    }

    fn parse(&self) -> Result<RpcRequest, ApiError> {
        parse(&self.raw())
    }

    fn code(&self) -> String {
        match self.parse() {
            Ok(_) => "Ok".into(),
            Err(e) => e.code.into_owned(),
        }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers
            .append(name, HeaderValue::from_str(value).expect("header value"));
        self
    }
}

fn common_v1() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AccessKeyId", "testid"),
        ("Action", "DescribeVpnConnection"),
        ("Format", "JSON"),
        ("RegionId", "cn-hangzhou"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "4ff639caf0cc0ef493a49d293226b1b8"),
        ("SignatureType", ""),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2026-11-25T16:31:18Z"),
        ("Version", "2016-04-28"),
        ("VpnConnectionId", "vco-test"),
    ]
}

/// A V1 request with every parameter in the query, signed.
fn v1(pairs: &[(&str, &str)]) -> Req {
    Req {
        method: Method::POST,
        query: sign_v1_query("POST", pairs, SECRET).expect("signable"),
        headers: HeaderMap::new(),
        body: Vec::new(),
    }
}

fn without(name: &str) -> Vec<(&'static str, &'static str)> {
    common_v1()
        .into_iter()
        .filter(|(k, _)| *k != name)
        .collect()
}

fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
    let mut pairs = without(name);
    pairs.push((name, value));
    pairs
}

/// A V3 request signed like the Python client, with `query` and an optional form body.
fn v3(query: &str, body: &str) -> Req {
    let mut headers = HeaderMap::new();
    for (k, v) in [
        ("host", "127.0.0.1:18080"),
        ("x-acs-action", "CreateVpnConnection"),
        ("x-acs-version", "2016-04-28"),
        ("x-acs-date", "2026-11-25T16:29:04Z"),
        ("x-acs-signature-nonce", "1cd66bf6dd707ef964d68a003fcbbf0f"),
        ("accept", "application/json"),
    ] {
        headers.insert(k, HeaderValue::from_static(v));
    }
    if !body.is_empty() {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
    }
    sign_v3(
        "POST",
        query,
        &mut headers,
        body.as_bytes(),
        "testid",
        SECRET,
    )
    .expect("signed");
    Req {
        method: Method::POST,
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn authorization(value: &str) -> Req {
    let req = v3("RegionId=cn-hangzhou", "");
    let mut headers = req.headers;
    headers.insert(
        http::header::AUTHORIZATION,
        HeaderValue::from_str(value).expect("value"),
    );
    Req { headers, ..req }
}

const HEX64: &str = "8fce1a796937fcc60882c6b649f9212a28839f83040551c9e587e21f1ac9d38c";

#[test]
fn baseline_requests_verify() {
    let req = v1(&common_v1()).parse().expect("v1");
    assert_eq!(req.signature_version(), SignatureVersion::V1);
    req.verify_signature(SECRET).expect("v1 verifies");
    assert_eq!(req.params().get("SignatureType"), Some(""));
    assert!(req.canonical_request().is_none());

    let req = v3("RegionId=cn-hangzhou&Name=a+b", "Tags.1.Key=env")
        .parse()
        .expect("v3");
    assert_eq!(req.signature_version(), SignatureVersion::V3);
    req.verify_signature(SECRET).expect("v3 verifies");
    assert_eq!(req.action(), "CreateVpnConnection");
    assert_eq!(req.version(), "2016-04-28");
    assert_eq!(req.access_key_id(), "testid");
    assert_eq!(req.signature_nonce(), "1cd66bf6dd707ef964d68a003fcbbf0f");
    assert_eq!(req.timestamp(), datetime!(2026-11-25 16:29:04 UTC));
    assert_eq!(req.format(), Format::Json);
    // The body is in the parameters but not in the canonical query.
    assert_eq!(req.params().get("Tags.1.Key"), Some("env"));
    assert_eq!(
        req.canonical_query_string(),
        "Name=a%20b&RegionId=cn-hangzhou"
    );
}

#[test]
fn no_signature_at_all_is_missing_signature() {
    let bare = Req {
        method: Method::GET,
        query: "Action=DescribeVpnConnection&Version=2016-04-28".into(),
        headers: HeaderMap::new(),
        body: vec![],
    };
    let err = bare.parse().expect_err("unsigned");
    assert_eq!((err.code.as_ref(), err.status), ("MissingSignature", 400));
    assert_eq!(err.message, "Signature is mandatory for this action.");
    let empty = Req {
        query: common_v1()
            .iter()
            .map(|(k, v)| format!("{k}={}", percent_encode(v)))
            .collect::<Vec<_>>()
            .join("&")
            + "&Signature=",
        ..bare
    };
    assert_eq!(empty.code(), "MissingSignature");
}

#[test]
fn other_authorization_schemes() {
    let bearer = Req {
        method: Method::GET,
        query: String::new(),
        headers: HeaderMap::new(),
        body: vec![],
    }
    .header("authorization", "Bearer abc");
    assert_eq!(bearer.code(), "IncompleteSignature");
    // A V1 request is still V1 when a non-ACS3 Authorization rides along.
    let req = v1(&common_v1()).header("authorization", "Basic dGVzdA==");
    assert_eq!(req.code(), "Ok");
    let twice = v3("", "").header("authorization", "ACS3-HMAC-SHA256 x");
    assert_eq!(twice.code(), "IncompleteSignature");
}

#[test]
fn malformed_authorization_is_incomplete_signature() {
    let sh =
        "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";
    let cases = [
        "ACS3-HMAC-SHA256".to_owned(),
        "ACS3-HMAC-SHA256 ".to_owned(),
        format!("ACS3-HMAC-SHA256 Credential=testid,Signature={HEX64}"),
        format!("ACS3-HMAC-SHA256 SignedHeaders={sh},Signature={HEX64}"),
        format!("ACS3-HMAC-SHA256 Credential=,SignedHeaders={sh},Signature={HEX64}"),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh}"),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh},Signature=xyz"),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh},Signature={HEX64}0"),
        format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh},Signature={}",
            &HEX64[..63]
        ),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh},Signature={HEX64},Extra=1"),
        format!(
            "ACS3-HMAC-SHA256 Credential=testid,Credential=x,SignedHeaders={sh},Signature={HEX64}"
        ),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={sh},Signature={HEX64},"),
        format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=Host;x-acs-date,Signature={HEX64}"
        ),
        format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;;x-acs-date,Signature={HEX64}"
        ),
        format!("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;host,Signature={HEX64}"),
        format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={},Signature={HEX64}",
            (0..65)
                .map(|i| format!("x-h{i}"))
                .collect::<Vec<_>>()
                .join(";")
        ),
    ];
    for case in cases {
        assert_eq!(authorization(&case).code(), "IncompleteSignature", "{case}");
    }
    // Spaces after the commas are tolerated.
    let spaced =
        format!("ACS3-HMAC-SHA256 Credential=testid, SignedHeaders={sh}, Signature={HEX64}");
    assert_eq!(authorization(&spaced).code(), "Ok");
}

#[test]
fn unsupported_algorithms_are_invalid_signature_method() {
    for alg in ["ACS3-HMAC-SM3", "ACS3-RSA-SHA256", "ACS3-HMAC-SHA256X"] {
        let value = format!("{alg} Credential=testid,SignedHeaders=host,Signature={HEX64}");
        assert_eq!(
            authorization(&value).code(),
            "InvalidSignatureMethod",
            "{alg}"
        );
    }
    assert_eq!(
        v1(&with("SignatureMethod", "HMAC-SHA256")).code(),
        "InvalidSignatureMethod"
    );
    assert_eq!(
        v1(&with("SignatureMethod", "hmac-sha1")).code(),
        "InvalidSignatureMethod"
    );
}

#[test]
fn v1_missing_common_parameters() {
    for (name, code, message_part) in [
        ("SignatureMethod", "MissingParameter", "\"SignatureMethod\""),
        (
            "AccessKeyId",
            "MissingAccessKeyId",
            "AccessKeyId is mandatory",
        ),
        ("Timestamp", "MissingTimestamp", "Timestamp is mandatory"),
        ("SignatureNonce", "MissingParameter", "\"SignatureNonce\""),
        ("Action", "MissingParameter", "\"Action\""),
        ("Version", "MissingParameter", "\"Version\""),
    ] {
        let err = v1(&without(name)).parse().expect_err(name);
        assert_eq!(err.code, code, "{name}");
        assert_eq!(err.status, 400, "{name}");
        assert!(
            err.message.contains(message_part),
            "{name}: {}",
            err.message
        );
    }
    // An empty value counts as missing.
    assert_eq!(v1(&with("SignatureNonce", "")).code(), "MissingParameter");
    // V1 never takes the operation from the unsigned headers.
    let req = v1(&without("Action")).header("x-acs-action", "DeleteVpnConnection");
    assert_eq!(req.code(), "MissingParameter");
    // SignatureVersion, when sent, must be 1.0.
    assert_eq!(
        v1(&with("SignatureVersion", "2.0")).code(),
        "InvalidParameter"
    );
    assert_eq!(v1(&without("SignatureVersion")).code(), "Ok");
}

#[test]
fn timestamps() {
    for bad in [
        "2026-11-25 16:31:18",
        "2026-11-25T16:31:18",
        "yesterday",
        "2026-13-01T00:00:00Z",
        "1700000000",
    ] {
        let mut pairs = without("Timestamp");
        pairs.push(("Timestamp", bad));
        assert_eq!(v1(&pairs).code(), "InvalidTimeStamp.Format", "{bad}");
    }
    // Fractions and offsets are RFC 3339 and accepted; the time is normalised to UTC.
    let req = v1(&with("Timestamp", "2026-11-25T18:31:18.312+02:00"))
        .parse()
        .expect("ok");
    assert_eq!(req.timestamp(), datetime!(2026-11-25 16:31:18.312 UTC));

    let mut req = v3("", "");
    req.headers.insert(
        "x-acs-date",
        HeaderValue::from_static("Wed, 25 Nov 2026 16:29:04 GMT"),
    );
    assert_eq!(req.code(), "InvalidTimeStamp.Format");

    let now = datetime!(2026-11-25 16:30:00 UTC);
    let fifteen = time::Duration::minutes(15);
    let second = time::Duration::seconds(1);
    assert!(check_timestamp(now + fifteen, now).is_ok());
    assert!(check_timestamp(now - fifteen, now).is_ok());
    for ts in [
        now + fifteen + second,
        now - fifteen - second,
        datetime!(1970-01-01 0:00 UTC),
    ] {
        let err = check_timestamp(ts, now).expect_err("expired");
        assert_eq!(
            (err.code.as_ref(), err.status),
            ("InvalidTimeStamp.Expired", 400)
        );
    }
}

#[test]
fn v3_headers_must_be_present_and_signed() {
    for name in [
        "host",
        "x-acs-date",
        "x-acs-signature-nonce",
        "x-acs-content-sha256",
        "x-acs-action",
        "x-acs-version",
    ] {
        let mut req = v3("", "");
        req.headers.remove(name);
        let err = req.parse().expect_err(name);
        assert_eq!(err.code, "MissingHeader", "{name}");
        assert_eq!(
            err.message,
            format!("Specified header {name} is mandatory for this action.")
        );
    }
    // Added after signing, so present but not in SignedHeaders.
    for (name, value) in [
        ("x-acs-security-token", "token"),
        ("x-acs-action", "DeleteVpnConnection"),
    ] {
        let mut req = v3("", "");
        let removed = req.headers.remove(name).is_some();
        let mut signed = if removed { v3_without(name) } else { req };
        signed.headers.insert(name, HeaderValue::from_static(value));
        assert_eq!(signed.code(), "IncompleteSignature", "{name}");
    }
    // Action and Version from the query win over the headers (and are signed there).
    let req = v3("Action=DescribeVpnConnection&Version=2016-04-28", "")
        .parse()
        .expect("ok");
    assert_eq!(req.action(), "DescribeVpnConnection");
    req.verify_signature(SECRET).expect("verifies");
}

/// A V3 request signed without header `name`.
fn v3_without(name: &str) -> Req {
    let mut headers = v3("", "").headers;
    headers.remove(name);
    headers.remove(http::header::AUTHORIZATION);
    sign_v3("POST", "", &mut headers, b"", "testid", SECRET).expect("signed");
    Req {
        method: Method::POST,
        query: String::new(),
        headers,
        body: vec![],
    }
}

#[test]
fn v3_security_token_when_signed() {
    let mut headers = v3("", "").headers;
    headers.remove(http::header::AUTHORIZATION);
    headers.insert(
        "x-acs-security-token",
        HeaderValue::from_static("testststoken"),
    );
    headers.insert("x-acs-accesskey-id", HeaderValue::from_static("testid"));
    sign_v3("POST", "", &mut headers, b"", "testid", SECRET).expect("signed");
    let req = Req {
        method: Method::POST,
        query: String::new(),
        headers,
        body: vec![],
    }
    .parse()
    .expect("ok");
    assert_eq!(req.security_token(), Some("testststoken"));
    req.verify_signature(SECRET).expect("verifies");
}

#[test]
fn v3_content_type_must_be_signed_when_sent() {
    // Signed with a form body, then the Content-Type is dropped from
    // SignedHeaders: the body's parameters would otherwise count or not at
    // the sender's whim (#13).
    let body = "TunnelOptionsSpecification.1.Role=master";
    let signed = v3("", body);
    assert_eq!(signed.code(), "Ok");
    let mut headers = signed.headers.clone();
    let content_type = headers
        .remove(http::header::CONTENT_TYPE)
        .expect("content-type");
    headers.remove(http::header::AUTHORIZATION);
    sign_v3("POST", "", &mut headers, body.as_bytes(), "testid", SECRET).expect("signed");
    // Without a Content-Type the body is not read: fine, and signed as such.
    let without = Req {
        method: Method::POST,
        query: String::new(),
        headers: headers.clone(),
        body: body.as_bytes().to_vec(),
    };
    let parsed = without.parse().expect("ok");
    assert_eq!(
        parsed.params().get("TunnelOptionsSpecification.1.Role"),
        None
    );
    // Added after signing: refused, before any signature is checked.
    let added = without.header("content-type", content_type.to_str().expect("ascii"));
    let err = added.parse().expect_err("unsigned content-type");
    assert_eq!(err.code, "IncompleteSignature");
    assert!(err.message.contains("content-type"), "{}", err.message);
}

#[test]
fn v3_body_hash_must_match() {
    let mut req = v3("", "Tags.1.Key=env");
    req.body = b"Tags.1.Key=evil".to_vec();
    let err = req.parse().expect_err("tampered body");
    assert_eq!(err.code, "IncompleteSignature");
    assert!(err.message.contains("x-acs-content-sha256"));
    // Uppercase hex in the header is the same hash.
    let mut req = v3("", "Tags.1.Key=env");
    let upper = req.headers["x-acs-content-sha256"]
        .to_str()
        .expect("ascii")
        .to_ascii_uppercase();
    req.headers.insert(
        "x-acs-content-sha256",
        HeaderValue::from_str(&upper).expect("value"),
    );
    assert_eq!(req.code(), "Ok");
}

#[test]
fn v3_repeated_headers_are_sorted_and_joined() {
    let mut headers = v3("", "").headers;
    headers.remove(http::header::AUTHORIZATION);
    headers.append("x-acs-extra", HeaderValue::from_static(" b "));
    headers.append("x-acs-extra", HeaderValue::from_static("a"));
    sign_v3("POST", "", &mut headers, b"", "testid", SECRET).expect("signed");
    let req = Req {
        method: Method::POST,
        query: String::new(),
        headers,
        body: vec![],
    }
    .parse()
    .expect("ok");
    let cr = String::from_utf8(req.canonical_request().expect("v3").to_vec()).expect("utf8");
    assert!(cr.contains("\nx-acs-extra:a,b\n"), "{cr}");
    req.verify_signature(SECRET).expect("verifies");
}

/// A V1 request whose `body_pairs` travel in a form body (signed with the query).
fn v1_with_body(body_pairs: &[(&str, &str)], content_type: &str) -> Req {
    let query_pairs = common_v1();
    let all = Params::from_pairs(
        query_pairs
            .iter()
            .copied()
            .chain(body_pairs.iter().copied()),
    )
    .expect("valid");
    let sts = v1_string_to_sign("POST", &v1_canonical_query(&all));
    let signature = v1_signature(SECRET, &sts);
    let mut query = Params::from_pairs(query_pairs).expect("valid").to_form();
    query.push_str("&Signature=");
    query.push_str(&percent_encode(&signature));
    let body = Params::from_pairs(body_pairs.iter().copied())
        .expect("valid")
        .to_form();
    Req {
        method: Method::POST,
        query,
        headers: HeaderMap::new(),
        body: body.into_bytes(),
    }
    .header("content-type", content_type)
}

#[test]
fn form_bodies_are_merged_and_signed() {
    let body = [("TunnelOptionsSpecification.1.Role", "master")];
    let req = v1_with_body(&body, "application/x-www-form-urlencoded; charset=UTF-8")
        .parse()
        .expect("ok");
    assert_eq!(
        req.params().get("TunnelOptionsSpecification.1.Role"),
        Some("master")
    );
    req.verify_signature(SECRET).expect("body is signed");

    // Another content type: the body is not parameters, so the signature (which covered
    // them) no longer matches and the parameter is absent.
    let req = v1_with_body(&body, "application/json").parse().expect("ok");
    assert_eq!(req.params().get("TunnelOptionsSpecification.1.Role"), None);
    assert_eq!(
        req.verify_signature(SECRET).map_err(|e| e.code),
        Err("SignatureDoesNotMatch".into())
    );
}

#[test]
fn duplicate_names_are_invalid() {
    let mut req = v1(&common_v1());
    req.query.push_str("&RegionId=cn-beijing");
    let err = req.parse().expect_err("duplicate");
    assert_eq!(err.code, "InvalidParameter");
    assert!(err.message.contains("\"RegionId\""), "{}", err.message);

    let mut req = v1(&common_v1()).header("content-type", "application/x-www-form-urlencoded");
    req.body = b"RegionId=cn-beijing".to_vec();
    let err = req.parse().expect_err("query and body");
    assert!(err.message.contains("\"RegionId\""));
}

#[test]
fn bounded_work() {
    let mut req = v1(&common_v1());
    for i in 0..MAX_PARAMS {
        req.query.push_str(&format!("&P{i}=1"));
    }
    let err = req.parse().expect_err("too many");
    assert_eq!(err.code, "InvalidParameter");

    let mut req = v1(&common_v1());
    req.query
        .push_str(&format!("&{}=1", "N".repeat(MAX_NAME_LEN + 1)));
    let err = req.parse().expect_err("long name");
    assert_eq!(err.code, "InvalidParameter");
    assert!(err.message.len() < 400);

    let mut req = v1(&common_v1());
    req.query.push_str("&Bad=%C3");
    assert_eq!(req.code(), "InvalidParameter");
    let mut req = v1(&common_v1());
    req.query.push_str("&=x");
    assert_eq!(req.code(), "InvalidParameter");
}

#[test]
fn methods() {
    for m in [
        Method::PUT,
        Method::DELETE,
        Method::HEAD,
        Method::OPTIONS,
        Method::PATCH,
    ] {
        let req = Req {
            method: m.clone(),
            ..v1(&common_v1())
        };
        let err = req.parse().expect_err("method");
        assert_eq!(
            (err.code.as_ref(), err.status),
            ("UnsupportedHTTPMethod", 400),
            "{m}"
        );
    }
    // GET is signed with GET.
    let req = Req {
        method: Method::GET,
        query: sign_v1_query("GET", &common_v1(), SECRET).expect("signable"),
        headers: HeaderMap::new(),
        body: vec![],
    };
    req.parse()
        .expect("ok")
        .verify_signature(SECRET)
        .expect("verifies");
    // The same query sent with POST does not verify.
    let req = Req {
        method: Method::POST,
        ..req
    };
    assert!(req.parse().expect("ok").verify_signature(SECRET).is_err());
}

#[test]
fn formats() {
    for (value, want) in [
        ("XML", Format::Xml),
        ("xml", Format::Xml),
        ("Xml", Format::Xml),
        ("json", Format::Json),
        ("JSON", Format::Json),
        ("yaml", Format::Json),
    ] {
        let req = v1(&with("Format", value)).parse().expect("ok");
        assert_eq!(req.format(), want, "{value}");
    }
    assert_eq!(
        v1(&without("Format")).parse().expect("ok").format(),
        Format::Json
    );
}

#[test]
fn undecodable_v1_signature_does_not_match() {
    for bad in ["not base64!", "AAAA", "VFsuh+hjCGfYGRpGmGbONV2qq/8"] {
        let mut req = v1(&common_v1());
        let (head, _) = req.query.split_once("&Signature=").expect("signature");
        req.query = format!("{head}&Signature={}", percent_encode(bad));
        let err = req
            .parse()
            .expect("parses")
            .verify_signature(SECRET)
            .expect_err(bad);
        assert_eq!(err.code, "SignatureDoesNotMatch", "{bad}");
    }
}
