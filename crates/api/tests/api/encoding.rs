//! Answers are written once from their views (`vpngw_protocol::JsonAnswer`)
//! and must be the bytes the old way gave — view → `serde_json::Value`
//! (objects sorted by key) → text, with `RequestId` inserted — for JSON and
//! for XML, on success and on error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{KEY_ID, SECRET, TestApi};
use vpngw_protocol::{Encoded, Format, encode_success};

/// Calls `action` signed with the root key, in the given `Format`.
async fn raw(api: &TestApi, format: &str, action: &str, params: &[(&str, &str)]) -> Encoded {
    let nonce = format!("{:032x}", rand_u128());
    let t = time::OffsetDateTime::now_utc();
    let timestamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut pairs: Vec<(&str, &str)> = vec![
        ("Action", action),
        ("Version", "2016-04-28"),
        ("Format", format),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", &nonce),
        ("Timestamp", &timestamp),
        ("RegionId", "cn-hangzhou"),
    ];
    pairs.extend_from_slice(params);
    let query = vpngw_protocol::sign::sign_v1_query("POST", &pairs, SECRET.as_bytes()).unwrap();
    let headers = http::HeaderMap::new();
    let raw = vpngw_protocol::RawRequest {
        method: &http::Method::POST,
        query: Some(&query),
        headers: &headers,
        body: b"",
    };
    api.service.call(&raw).await.0
}

fn rand_u128() -> u128 {
    use rand::Rng;
    rand::rng().random()
}

/// The JSON body is exactly what serializing its own value gives: keys
/// sorted at every level, serde_json's escapes and numbers.
fn assert_canonical_json(action: &str, e: &Encoded) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&e.body).unwrap();
    assert_eq!(
        String::from_utf8(e.body.clone()).unwrap(),
        serde_json::to_string(&v).unwrap(),
        "{action}: not the old bytes"
    );
    v
}

/// The XML body is what the old encoder gives for the JSON answer's value
/// (the same call answered twice, so only RequestId differs).
fn assert_xml_matches(action: &str, json: &serde_json::Value, xml: &Encoded) {
    let text = String::from_utf8(xml.body.clone()).unwrap();
    let rid = text
        .split("<RequestId>")
        .nth(1)
        .and_then(|t| t.split('<').next())
        .unwrap()
        .to_owned();
    let mut v = json.clone();
    v["RequestId"] = serde_json::Value::String(rid);
    let old = encode_success(Format::Xml, action, &v);
    assert_eq!(
        text,
        String::from_utf8(old.body).unwrap(),
        "{action}: XML differs"
    );
    assert_eq!((xml.status, xml.content_type), (200, old.content_type));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_are_the_old_bytes_in_json_and_xml() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    let reads: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("DescribeVpnConnection", vec![("VpnConnectionId", &vco)]),
        ("DescribeVpnConnections", vec![("VpnGatewayId", &gw)]),
        ("DescribeVpnGateway", vec![("VpnGatewayId", &gw)]),
        ("DescribeVpnGateways", vec![]),
        ("DescribeCustomerGateway", vec![("CustomerGatewayId", &cgw)]),
        ("DescribeCustomerGateways", vec![]),
        (
            "DescribeVpnConnectionLogs",
            vec![("VpnConnectionId", &vco), ("MinutePeriod", "10")],
        ),
        ("DescribeRegions", vec![]),
    ];
    for (action, params) in &reads {
        let json = raw(&api, "JSON", action, params).await;
        assert_eq!(json.status, 200, "{action}");
        let v = assert_canonical_json(action, &json);
        assert_eq!(v["RequestId"].as_str().unwrap().len(), 36, "{action}");
        let xml = raw(&api, "XML", action, params).await;
        assert_xml_matches(action, &v, &xml);
    }
    // Writes (answered and audited from the same answer).
    let json = raw(
        &api,
        "JSON",
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco), ("Name", "named \"quoted\" <&>")],
    )
    .await;
    assert_eq!(json.status, 200);
    let v = assert_canonical_json("ModifyVpnConnectionAttribute", &json);
    assert_eq!(v["Name"], "named \"quoted\" <&>");
    let xml = raw(
        &api,
        "XML",
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco), ("Description", "d")],
    )
    .await;
    let text = String::from_utf8(xml.body).unwrap();
    assert!(
        text.contains("<Name>named &quot;quoted&quot; &lt;&amp;&gt;</Name>"),
        "{text}"
    );
    // Errors keep their own envelope (fields in the cloud's order).
    let err = raw(
        &api,
        "JSON",
        "DescribeVpnConnection",
        &[("VpnConnectionId", "vco-nope")],
    )
    .await;
    assert_eq!(err.status, 404);
    assert!(
        String::from_utf8(err.body)
            .unwrap()
            .starts_with("{\"RequestId\":")
    );
}
