//! The two authorization bypasses of issue 12, as a hostile RAM user tried
//! them, with the policies of the issue: each call is now refused (403) and
//! changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApi;
use serde_json::json;

const VPC: &str = "2016-04-28";

/// A dual-tunnel connection: its id and its first tunnel's id.
async fn dual_connection(api: &TestApi) -> (String, String) {
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[
                ("VpcId", "vpc-test"),
                ("Bandwidth", "10"),
                ("VSwitchId", "vsw-1"),
                ("DisasterRecoveryVSwitchId", "vsw-2"),
            ],
        )
        .await["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut cgws = Vec::new();
    for ip in ["47.1.2.3", "47.1.2.4"] {
        cgws.push(
            api.ok("CreateCustomerGateway", &[("IpAddress", ip)]).await["CustomerGatewayId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let t = "TunnelOptionsSpecification";
    let vco = api
        .ok(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", &gw),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
                (&format!("{t}.1.Role"), "master"),
                (&format!("{t}.1.CustomerGatewayId"), &cgws[0]),
                (&format!("{t}.1.TunnelIkeConfig.Psk"), "the-original-psk"),
                (&format!("{t}.2.Role"), "slave"),
                (&format!("{t}.2.CustomerGatewayId"), &cgws[1]),
            ],
        )
        .await["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let d = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let tunnel = d["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelId"]
        .as_str()
        .unwrap()
        .to_owned();
    (vco, tunnel)
}

async fn psks(api: &TestApi, vco: &str) -> Vec<String> {
    let d = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", vco)])
        .await;
    d["TunnelOptionsSpecification"]["TunnelOptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["TunnelIkeConfig"]["Psk"].as_str().unwrap().to_owned())
        .collect()
}

/// Policy `[{Allow vpc:* *}, {Deny vpc:* acs:vpc:cn-hangzhou:*:*}]`:
/// ModifyTunnelAttribute without `RegionId` (optional for it) used to be
/// authorized against `acs:vpc:*:…` and changed the tunnel's PSK.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_optional_region_is_the_resources_region() {
    let api = TestApi::new().await;
    let (vco, tunnel) = dual_connection(&api).await;
    let (key, secret) = api.ram_user("mallory").await;
    api.grant(
        "mallory",
        "region-deny",
        json!([
            {"Effect": "Allow", "Action": "vpc:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "vpc:*", "Resource": "acs:vpc:cn-hangzhou:*:*"}
        ]),
    )
    .await;
    let before = psks(&api, &vco).await;
    let params = [
        ("VpnConnectionId", vco.as_str()),
        ("TunnelId", tunnel.as_str()),
        (
            "TunnelOptionsSpecification.TunnelIkeConfig.Psk",
            "attacker-psk",
        ),
    ];
    for default_region in [false, true] {
        let a = api
            .signed(
                &key,
                &secret,
                VPC,
                "ModifyTunnelAttribute",
                &params,
                default_region,
            )
            .await;
        assert_eq!(
            a.status, 403,
            "RegionId given: {default_region}: {}",
            a.body
        );
        assert_eq!(a.code(), "Forbidden.RAM");
    }
    assert_eq!(psks(&api, &vco).await, before);
    // Without RegionId, an id that names no stored connection is not found
    // (there is no region to authorize it in), and changes nothing.
    let a = api
        .signed(
            &key,
            &secret,
            VPC,
            "ModifyTunnelAttribute",
            &[("VpnConnectionId", "vco-bp1nothere"), ("TunnelId", "tun-x")],
            false,
        )
        .await;
    assert_eq!(
        a.code(),
        "InvalidVpnConnectionInstanceId.NotFound",
        "{}",
        a.body
    );
    // The root account, without RegionId, still modifies its own tunnel.
    let a = api
        .signed(
            crate::common::KEY_ID,
            crate::common::SECRET,
            VPC,
            "ModifyTunnelAttribute",
            &params,
            false,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(psks(&api, &vco).await.contains(&"attacker-psk".to_owned()));
}

/// Policy `[{Allow vpc:* *}, {Deny vpc:* …:vpngateway/GW2, …:vpnconnection/VCO2}]`:
/// the calls that named GW2 or VCO2 through another parameter than
/// `VpnGatewayId`/`VpnConnectionId` used to pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_parameter_naming_a_resource_is_authorized() {
    let api = TestApi::new().await;
    let (gw1, _, vco1) = api.connection().await;
    let (gw2, _, vco2) = api.connection().await;
    let account = api.account().await;
    let (key, secret) = api.ram_user("mallory").await;
    api.grant(
        "mallory",
        "two-denied",
        json!([
            {"Effect": "Allow", "Action": "vpc:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "vpc:*", "Resource": [
                format!("acs:vpc:cn-hangzhou:{account}:vpngateway/{gw2}"),
                format!("acs:vpc:cn-hangzhou:{account}:vpnconnection/{vco2}"),
            ]}
        ]),
    )
    .await;
    let calls: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("DescribeVpnGateway", vec![("VpnGatewayId", gw2.clone())]),
        (
            "DescribeVpnConnection",
            vec![("VpnConnectionId", vco2.clone())],
        ),
        (
            "MoveVpnResourceGroup",
            vec![
                ("InstanceId", gw2.clone()),
                ("ResourceType", "VpnGateway".into()),
                ("NewResourceGroupId", "rg-stolen".into()),
            ],
        ),
        (
            "MoveResourceGroup",
            vec![
                ("ResourceId", gw2.clone()),
                ("ResourceType", "VpnGateway".into()),
                ("NewResourceGroupId", "rg-stolen".into()),
            ],
        ),
        (
            "TagResources",
            vec![
                ("ResourceId.1", vco2.clone()),
                ("ResourceType", "VpnConnection".into()),
                ("Tag.1.Key", "owned".into()),
                ("Tag.1.Value", "yes".into()),
            ],
        ),
        (
            "UnTagResources",
            vec![
                ("ResourceId.1", vco2.clone()),
                ("ResourceType", "VpnConnection".into()),
                ("TagKey.1", "owned".into()),
            ],
        ),
        (
            "ListTagResources",
            vec![
                ("ResourceId.1", vco2.clone()),
                ("ResourceType", "VpnConnection".into()),
            ],
        ),
        (
            "DiagnoseVpnConnections",
            vec![("VpnConnectionIds.1", vco2.clone())],
        ),
        (
            "CreateVpnRouteEntry",
            vec![
                ("VpnGatewayId", gw1.clone()),
                ("NextHop", vco2.clone()),
                ("RouteDest", "10.10.0.0/16".into()),
                ("Weight", "0".into()),
                ("PublishVpc", "false".into()),
            ],
        ),
    ];
    let before = api.state().await;
    for (action, params) in &calls {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let a = api.call_as(&key, &secret, VPC, action, &pairs).await;
        assert_eq!(a.status, 403, "{action}: {}", a.body);
    }
    assert_eq!(
        api.state().await,
        before,
        "a refused call changed the store"
    );
    // The same calls on the allowed gateway and connection are not refused.
    let a = api
        .call_as(
            &key,
            &secret,
            VPC,
            "TagResources",
            &[
                ("ResourceId.1", &vco1),
                ("ResourceType", "VpnConnection"),
                ("Tag.1.Key", "mine"),
                ("Tag.1.Value", "yes"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = api
        .call_as(
            &key,
            &secret,
            VPC,
            "DiagnoseVpnConnections",
            &[("VpnConnectionIds.1", &vco1)],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
}
