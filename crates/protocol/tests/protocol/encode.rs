//! The exact bytes of answers, pinned with insta snapshots.
//!
//! Object keys in the bodies below are written in sorted order at every level, so the output
//! is the same whether or not serde_json's `preserve_order` feature is unified into the build.

use serde_json::json;
use vpngw_protocol::{ApiError, Encoded, Format, encode_error, encode_success};

const REQUEST_ID: &str = "7C0E6C8E-3B2C-5A1D-9F4E-0123456789AB";

fn show(e: &Encoded) -> String {
    format!(
        "status: {}\ncontent-type: {}\n\n{}",
        e.status,
        e.content_type,
        String::from_utf8_lossy(&e.body)
    )
}

fn describe_vpn_connection() -> serde_json::Value {
    json!({
        "CreateTime": 1_700_000_000_000_u64,
        "CustomerGatewayId": "cgw-test1",
        "EffectImmediately": false,
        "EnableTunnelsBgp": true,
        "IkeConfig": {
            "IkeAuthAlg": "sha256",
            "IkeLifetime": 86400,
            "LocalId": "116.62.0.1",
            "Psk": "ps k+/=1&*~<>\"'",
        },
        "LocalSubnet": "192.168.0.0/24,172.16.1.0/24",
        "Name": "vco test/1*~é",
        "RemoteSubnet": "10.0.0.0/24",
        "RequestId": REQUEST_ID,
        "Spec": null,
        "Status": "ike_sa_not_established",
        "Tags": {
            "Tag": [
                {"Key": "env", "Value": "test"},
                {"Key": "owner", "Value": "ops team"},
            ]
        },
        "TunnelOptionsSpecification": {
            "TunnelOptions": [
                {"Role": "master", "TunnelId": "tun-1"},
                {"Role": "slave", "TunnelId": "tun-2"},
            ]
        },
        "VpnConnectionId": "vco-test",
    })
}

#[test]
fn success_json() {
    let e = encode_success(
        Format::Json,
        "DescribeVpnConnection",
        &describe_vpn_connection(),
    );
    assert_eq!(e.status, 200);
    let back: serde_json::Value = serde_json::from_slice(&e.body).expect("valid JSON");
    assert_eq!(back, describe_vpn_connection());
    insta::assert_snapshot!(show(&e));
}

#[test]
fn success_xml() {
    let e = encode_success(
        Format::Xml,
        "DescribeVpnConnection",
        &describe_vpn_connection(),
    );
    insta::assert_snapshot!(show(&e));
}

fn not_found() -> ApiError {
    ApiError::new(
        "InvalidVpnConnectionInstanceId.NotFound",
        "The specified vpn connection instance id does not exist.",
    )
}

#[test]
fn error_json() {
    let e = encode_error(
        Format::Json,
        &not_found(),
        REQUEST_ID,
        "vpc.aliyuncs.com",
        "Vpc",
    );
    assert_eq!(e.status, 404);
    insta::assert_snapshot!(show(&e));
}

#[test]
fn error_xml() {
    let e = encode_error(
        Format::Xml,
        &not_found(),
        REQUEST_ID,
        "vpc.aliyuncs.com",
        "Vpc",
    );
    insta::assert_snapshot!(show(&e));
}

fn denied() -> ApiError {
    ApiError::forbidden_ram(Some(json!({
        "AuthAction": "vpc:DescribeVpnConnection",
        "AuthPrincipalDisplayName": "alice",
        "AuthPrincipalType": "SubUser",
        "NoPermissionType": "ImplicitDeny",
        "PolicyType": "AccountLevelIdentityBasedPolicy",
    })))
}

#[test]
fn error_with_access_denied_detail_json() {
    let e = encode_error(
        Format::Json,
        &denied(),
        REQUEST_ID,
        "vpc.aliyuncs.com",
        "Vpc",
    );
    assert_eq!(e.status, 403);
    insta::assert_snapshot!(show(&e));
}

#[test]
fn error_with_access_denied_detail_xml() {
    let e = encode_error(
        Format::Xml,
        &denied(),
        REQUEST_ID,
        "vpc.aliyuncs.com",
        "Vpc",
    );
    insta::assert_snapshot!(show(&e));
}

#[test]
fn signature_mismatch_json_keeps_the_colon_contract() {
    let err = ApiError::signature_does_not_match("POST&%2F&AccessKeyId%3Dtestid");
    let e = encode_error(Format::Json, &err, REQUEST_ID, "ram.aliyuncs.com", "Ram");
    let v: serde_json::Value = serde_json::from_slice(&e.body).expect("json");
    let message = v["Message"].as_str().expect("message");
    assert_eq!(
        message.split(':').nth(1),
        Some("POST&%2F&AccessKeyId%3Dtestid")
    );
    assert_eq!(v["Code"], "SignatureDoesNotMatch");
    assert_eq!(e.status, 400);
}
