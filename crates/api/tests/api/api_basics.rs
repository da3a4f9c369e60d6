//! In-process tests of the pipeline and the issue-2 operations, with the
//! response shapes pinned as snapshots.

use crate::common::TestApi;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn describe_vpn_connection_has_the_seed_shape() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(body["Status"], "ike_sa_not_established");
    assert_eq!(body["State"], "active");
    assert_eq!(body["IkeConfig"]["IkeLifetime"], 86400);
    assert!(body["IkeConfig"]["Psk"].as_str().unwrap().len() == 16);
    insta::assert_json_snapshot!(
        api.call("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
            .await
            .stable()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_shapes() {
    let api = TestApi::new().await;
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[("VpcId", "vpc-test"), ("Bandwidth", "10"), ("Name", "gw1")],
        )
        .await;
    let id = gw["VpnGatewayId"].as_str().unwrap();
    assert!(id.starts_with("vpn-bp1"), "{id}");
    insta::assert_json_snapshot!(
        api.call("DescribeVpnGateway", &[("VpnGatewayId", id)])
            .await
            .stable()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_the_clouds_codes_and_change_nothing() {
    let api = TestApi::new().await;
    let a = api
        .call("DescribeVpnConnection", &[("VpnConnectionId", "vco-nope")])
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    insta::assert_json_snapshot!(a.stable());
    let a = api.call("CreateVpnGateway", &[("VpcId", "vpc-1")]).await;
    assert_eq!((a.status, a.code()), (400, "MissingParameter"));
    let a = api
        .call(
            "CreateVpnGateway",
            &[("VpcId", "vpc-1"), ("Bandwidth", "x")],
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    let a = api
        .call("DescribeVpnGateways", &[("RegionId", "mars-1")])
        .await;
    assert_eq!((a.status, a.code()), (404, "InvalidRegionId.NotFound"));
    let a = api.call("NoSuchAction", &[]).await;
    assert_eq!((a.status, a.code()), (404, "InvalidAction.NotFound"));
    let a = api
        .call_as(
            crate::common::KEY_ID,
            "wrong",
            "2016-04-28",
            "DescribeRegions",
            &[],
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "SignatureDoesNotMatch"));
    assert!(
        a.body["Message"]
            .as_str()
            .unwrap()
            .contains("server string to sign is:")
    );
    let a = api
        .call_as(
            "LTAInobody",
            crate::common::SECRET,
            "2016-04-28",
            "DescribeRegions",
            &[],
        )
        .await;
    assert_eq!((a.status, a.code()), (404, "InvalidAccessKeyId.NotFound"));
    let list = api.ok("DescribeVpnGateways", &[]).await;
    assert_eq!(list["TotalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_token_makes_creates_idempotent() {
    let api = TestApi::new().await;
    let params = [
        ("VpcId", "vpc-1"),
        ("Bandwidth", "10"),
        ("ClientToken", "tok-1"),
    ];
    let first = api.ok("CreateVpnGateway", &params).await;
    let again = api.ok("CreateVpnGateway", &params).await;
    assert_eq!(first["VpnGatewayId"], again["VpnGatewayId"]);
    let other = api
        .call(
            "CreateVpnGateway",
            &[
                ("VpcId", "vpc-2"),
                ("Bandwidth", "10"),
                ("ClientToken", "tok-1"),
            ],
        )
        .await;
    assert_eq!(other.code(), "IdempotentParameterMismatch");
    assert_eq!(api.ok("DescribeVpnGateways", &[]).await["TotalCount"], 1);
}
