//! Dual-tunnel connections (TunnelOptionsSpecification, ModifyTunnelAttribute)
//! and the connection extras: DownloadVpnConnectionConfig,
//! DescribeVpnConnectionLogs, the diagnoses, CheckVpnBgpEnabled and
//! DescribeVpnGatewayAvailableZones. Shapes pinned as snapshots.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::TestApi;
use serde_json::Value;

/// Replaces the values of `keys` (anywhere in `v`) with `[Key]`: values
/// that change from run to run and that `Answer::stable` leaves alone.
fn scrub(v: &mut Value, keys: &[&str]) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if keys.contains(&k.as_str()) && !val.is_null() {
                    *val = Value::String(format!("[{k}]"));
                } else {
                    scrub(val, keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| scrub(i, keys)),
        _ => {}
    }
}

fn stable(a: &crate::common::Answer, keys: &[&str]) -> Value {
    let mut v = a.stable();
    scrub(&mut v, keys);
    v
}

struct Dual {
    gw: String,
    gw_ip: String,
    dr_ip: String,
    cgw1: String,
    cgw1_ip: String,
    cgw2: String,
    cgw2_ip: String,
}

async fn dual_gateway(api: &TestApi) -> Dual {
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
    let g = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    let mut cgws = Vec::new();
    for ip in ["47.1.2.3", "47.1.2.4"] {
        let id = api
            .ok(
                "CreateCustomerGateway",
                &[("IpAddress", ip), ("Asn", "65001")],
            )
            .await["CustomerGatewayId"]
            .as_str()
            .unwrap()
            .to_owned();
        cgws.push((id, ip.to_owned()));
    }
    let (cgw2, cgw2_ip) = cgws.pop().unwrap();
    let (cgw1, cgw1_ip) = cgws.pop().unwrap();
    Dual {
        gw,
        gw_ip: g["InternetIp"].as_str().unwrap().to_owned(),
        dr_ip: g["DisasterRecoveryInternetIp"].as_str().unwrap().to_owned(),
        cgw1,
        cgw1_ip,
        cgw2,
        cgw2_ip,
    }
}

/// CreateVpnConnection parameters for a dual-tunnel connection on `d`.
fn dual_params(d: &Dual) -> Vec<(String, String)> {
    let t = "TunnelOptionsSpecification";
    let mut p: Vec<(String, String)> = Vec::new();
    let mut add = |k: String, v: &str| p.push((k, v.to_owned()));
    add("VpnGatewayId".into(), &d.gw);
    add("LocalSubnet".into(), "10.0.0.0/8");
    add("RemoteSubnet".into(), "192.168.0.0/16");
    add("Name".into(), "dual");
    add("EnableTunnelsBgp".into(), "true");
    add(format!("{t}.1.Role"), "master");
    add(format!("{t}.1.CustomerGatewayId"), &d.cgw1);
    add(format!("{t}.1.EnableDpd"), "true");
    add(format!("{t}.1.EnableNatTraversal"), "false");
    add(format!("{t}.1.TunnelIkeConfig.IkeVersion"), "ikev2");
    add(format!("{t}.1.TunnelIkeConfig.IkeEncAlg"), "aes256");
    add(format!("{t}.1.TunnelIkeConfig.IkeLifetime"), "3600");
    add(format!("{t}.1.TunnelIkeConfig.Psk"), "master-psk-1");
    add(format!("{t}.1.TunnelIpsecConfig.IpsecAuthAlg"), "sha256");
    add(format!("{t}.1.TunnelBgpConfig.LocalAsn"), "65100");
    add(
        format!("{t}.1.TunnelBgpConfig.TunnelCidr"),
        "169.254.10.0/30",
    );
    add(format!("{t}.1.TunnelBgpConfig.LocalBgpIp"), "169.254.10.1");
    add(format!("{t}.2.Role"), "slave");
    add(format!("{t}.2.CustomerGatewayId"), &d.cgw2);
    add(
        format!("{t}.2.TunnelBgpConfig.TunnelCidr"),
        "169.254.20.0/30",
    );
    add(format!("{t}.2.TunnelBgpConfig.LocalBgpIp"), "169.254.20.2");
    p
}

/// Request parameters as owned pairs.
type Pairs = Vec<(String, String)>;

fn refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn create_dual(api: &TestApi, d: &Dual) -> String {
    let p = dual_params(d);
    api.ok("CreateVpnConnection", &refs(&p)).await["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_tunnel_connection_has_the_seed_shape() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    assert!(!d.dr_ip.is_empty() && d.dr_ip != d.gw_ip);
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert!(body.get("CustomerGatewayId").is_none(), "{body}");
    assert_eq!(body["EnableTunnelsBgp"], true);
    assert_eq!(body["TunnelBandwidth"], "Standard");
    let tunnels = body["TunnelOptionsSpecification"]["TunnelOptions"]
        .as_array()
        .unwrap();
    assert_eq!(tunnels.len(), 2);
    let (m, s) = (&tunnels[0], &tunnels[1]);
    assert_eq!(
        (m["Role"].as_str(), m["TunnelIndex"].as_i64()),
        (Some("master"), Some(1))
    );
    assert_eq!(
        (s["Role"].as_str(), s["TunnelIndex"].as_i64()),
        (Some("slave"), Some(2))
    );
    assert!(m["TunnelId"].as_str().unwrap().starts_with("tun-"));
    assert_ne!(m["TunnelId"], s["TunnelId"]);
    assert_eq!(m["InternetIp"], d.gw_ip.as_str());
    assert_eq!(s["InternetIp"], d.dr_ip.as_str());
    assert_eq!(m["CustomerGatewayId"], d.cgw1.as_str());
    assert_eq!(s["CustomerGatewayId"], d.cgw2.as_str());
    let (z1, z2) = (m["ZoneNo"].as_str().unwrap(), s["ZoneNo"].as_str().unwrap());
    assert!(z1.starts_with("cn-hangzhou-") && z2.starts_with("cn-hangzhou-") && z1 != z2);
    // Strings for numbers and booleans, as the seed shows.
    assert_eq!(m["EnableDpd"], "true");
    assert_eq!(m["EnableNatTraversal"], "false");
    assert_eq!(s["EnableNatTraversal"], "true");
    assert_eq!(m["TunnelIkeConfig"]["IkeLifetime"], "3600");
    assert_eq!(s["TunnelIkeConfig"]["IkeLifetime"], "86400");
    assert_eq!(m["TunnelIpsecConfig"]["IpsecLifetime"], "86400");
    assert_eq!(m["TunnelBgpConfig"]["LocalAsn"], "65100");
    assert_eq!(s["TunnelBgpConfig"]["LocalAsn"], "45104");
    assert_eq!(m["TunnelBgpConfig"]["PeerAsn"], "65001");
    assert_eq!(m["TunnelBgpConfig"]["PeerBgpIp"], "169.254.10.2");
    assert_eq!(s["TunnelBgpConfig"]["PeerBgpIp"], "169.254.20.1");
    assert!(m["TunnelBgpConfig"].get("EnableBgp").is_none());
    // Per-tunnel PSK: given for the master, generated for the slave.
    assert_eq!(m["TunnelIkeConfig"]["Psk"], "master-psk-1");
    assert_eq!(s["TunnelIkeConfig"]["Psk"].as_str().unwrap().len(), 16);
    // Identities default to each tunnel's own addresses.
    assert_eq!(m["TunnelIkeConfig"]["LocalId"], d.gw_ip.as_str());
    assert_eq!(m["TunnelIkeConfig"]["RemoteId"], d.cgw1_ip.as_str());
    assert_eq!(s["TunnelIkeConfig"]["LocalId"], d.dr_ip.as_str());
    assert_eq!(s["TunnelIkeConfig"]["RemoteId"], d.cgw2_ip.as_str());
    // The top level mirrors the master tunnel.
    assert_eq!(body["IkeConfig"]["IkeVersion"], "ikev2");
    assert_eq!(body["IkeConfig"]["IkeLifetime"], 3600);
    insta::assert_json_snapshot!(stable(
        &api.call("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
            .await,
        &["ZoneNo"]
    ));
    let list = api
        .ok("DescribeVpnConnections", &[("VpnGatewayId", &d.gw)])
        .await;
    let item = &list["VpnConnections"]["VpnConnection"][0];
    assert_eq!(
        item["TunnelOptionsSpecification"],
        body["TunnelOptionsSpecification"]
    );
    // Both customer gateways are in use now.
    let del = api
        .call("DeleteCustomerGateway", &[("CustomerGatewayId", &d.cgw2)])
        .await;
    assert_eq!(del.status, 400, "{}", del.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_psks_are_sealed_at_rest() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let slave_psk =
        body["TunnelOptionsSpecification"]["TunnelOptions"][1]["TunnelIkeConfig"]["Psk"]
            .as_str()
            .unwrap()
            .to_owned();
    let scope = vpngw_store::Scope {
        account_id: api.service.store().accounts().await.unwrap().remove(0).id,
        region_id: "cn-hangzhou".into(),
    };
    let rec = api
        .service
        .store()
        .get(vpngw_store::Kind::VpnConnection, &scope, &vco)
        .await
        .unwrap()
        .unwrap();
    assert!(!rec.doc.contains("master-psk-1"), "{}", rec.doc);
    assert!(!rec.doc.contains(&slave_psk), "{}", rec.doc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_tunnel_errors_change_nothing() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let base = dual_params(&d);
    let with = |edit: &dyn Fn(&mut Pairs)| {
        let mut p = base.clone();
        edit(&mut p);
        p
    };
    let set = |p: &mut Vec<(String, String)>, k: &str, v: &str| {
        p.retain(|(n, _)| n != k);
        p.push((k.to_owned(), v.to_owned()));
    };
    let drop_prefix = |p: &mut Vec<(String, String)>, prefix: &str| {
        p.retain(|(n, _)| !n.starts_with(prefix));
    };
    let cases: Vec<(Pairs, u16, &str, &str)> = vec![
        (
            with(&|p| set(p, "CustomerGatewayId", &d.cgw1)),
            400,
            "InvalidParameter",
            "CustomerGatewayId",
        ),
        (
            with(&|p| drop_prefix(p, "TunnelOptionsSpecification.")),
            400,
            "MissingParameter",
            "TunnelOptionsSpecification",
        ),
        (
            with(&|p| drop_prefix(p, "TunnelOptionsSpecification.2.")),
            400,
            "InvalidParameter",
            "exactly two tunnels",
        ),
        (
            with(&|p| set(p, "TunnelOptionsSpecification.2.Role", "master")),
            400,
            "InvalidParameter",
            "one master",
        ),
        (
            with(&|p| set(p, "TunnelOptionsSpecification.2.Role", "backup")),
            400,
            "InvalidParameter",
            "TunnelOptionsSpecification.2.Role",
        ),
        (
            with(&|p| {
                set(
                    p,
                    "TunnelOptionsSpecification.2.CustomerGatewayId",
                    "cgw-nope",
                )
            }),
            404,
            "InvalidCustomerGatewayInstanceId.NotFound",
            "",
        ),
        (
            with(&|p| drop_prefix(p, "TunnelOptionsSpecification.2.CustomerGatewayId")),
            400,
            "MissingParameter",
            "TunnelOptionsSpecification.2.CustomerGatewayId",
        ),
        (
            with(&|p| {
                set(
                    p,
                    "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeEncAlg",
                    "rot13",
                )
            }),
            400,
            "InvalidParameter",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeEncAlg",
        ),
        (
            with(&|p| {
                set(
                    p,
                    "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime",
                    "x",
                )
            }),
            400,
            "InvalidParameter",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime",
        ),
        (
            with(&|p| set(p, "TunnelOptionsSpecification.1.EnableDpd", "maybe")),
            400,
            "InvalidParameter",
            "TunnelOptionsSpecification.1.EnableDpd",
        ),
        (
            with(&|p| drop_prefix(p, "TunnelOptionsSpecification.2.TunnelBgpConfig")),
            400,
            "MissingParameter",
            "TunnelOptionsSpecification.2.TunnelBgpConfig.TunnelCidr",
        ),
        (
            with(&|p| {
                set(
                    p,
                    "TunnelOptionsSpecification.2.TunnelBgpConfig.TunnelCidr",
                    "169.254.10.0/30",
                );
                set(
                    p,
                    "TunnelOptionsSpecification.2.TunnelBgpConfig.LocalBgpIp",
                    "169.254.10.2",
                );
            }),
            400,
            "InvalidParameter",
            "different BGP CIDR",
        ),
        (
            with(&|p| {
                set(
                    p,
                    "TunnelOptionsSpecification.1.TunnelBgpConfig.TunnelCidr",
                    "169.254.3.0/30",
                );
                set(
                    p,
                    "TunnelOptionsSpecification.1.TunnelBgpConfig.LocalBgpIp",
                    "169.254.3.1",
                );
            }),
            400,
            "InvalidParameter",
            "reserves",
        ),
        (
            with(&|p| set(p, "IkeConfig", r#"{"IkeVersion":"ikev2"}"#)),
            400,
            "InvalidParameter",
            "IkeConfig",
        ),
        (
            with(&|p| set(p, "RemoteCaCertificate", "cert")),
            400,
            "InvalidParameter",
            "RemoteCaCertificate",
        ),
    ];
    for (params, status, code, text) in &cases {
        let a = api.call("CreateVpnConnection", &refs(params)).await;
        assert_eq!((a.status, a.code()), (*status, *code), "{text}: {}", a.body);
        assert!(
            a.body["Message"].as_str().unwrap().contains(text),
            "{text}: {}",
            a.body
        );
    }
    let list = api.ok("DescribeVpnConnections", &[]).await;
    assert_eq!(list["TotalCount"], 0, "a refused create wrote nothing");
    // TunnelOptionsSpecification on a single-tunnel gateway.
    let single = api
        .ok(
            "CreateVpnGateway",
            &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
        )
        .await["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    let p = with(&|p| set(p, "VpnGatewayId", &single));
    let a = api.call("CreateVpnConnection", &refs(&p)).await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidParameter"),
        "{}",
        a.body
    );
    insta::assert_json_snapshot!(a.stable());
    // Terraform's empty JSON objects are fine; the dual connection is made.
    let p = with(&|p| {
        for k in ["IkeConfig", "IpsecConfig", "BgpConfig", "HealthCheckConfig"] {
            set(p, k, "{}");
        }
    });
    api.ok("CreateVpnConnection", &refs(&p)).await;
    // The same customer gateway in the same role on the same gateway again.
    let again = api.call("CreateVpnConnection", &refs(&base)).await;
    assert_eq!(
        (again.status, again.code()),
        (400, "InvalidVpnConnection.AlreadyExists")
    );
    assert_eq!(api.ok("DescribeVpnConnections", &[]).await["TotalCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_token_replays_a_dual_create() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let mut p = dual_params(&d);
    p.push(("ClientToken".into(), "dual-tok".into()));
    let first = api.ok("CreateVpnConnection", &refs(&p)).await;
    let again = api.ok("CreateVpnConnection", &refs(&p)).await;
    assert_eq!(first["VpnConnectionId"], again["VpnConnectionId"]);
    assert_eq!(api.ok("DescribeVpnConnections", &[]).await["TotalCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_tunnels_by_id_and_by_role() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let slave = body["TunnelOptionsSpecification"]["TunnelOptions"][1]["TunnelId"]
        .as_str()
        .unwrap()
        .to_owned();
    // By TunnelId (the SDK's way) and by Role (Terraform's way).
    let modified = api
        .call(
            "ModifyVpnConnectionAttribute",
            &[
                ("VpnConnectionId", &vco),
                ("TunnelOptionsSpecification.1.TunnelId", &slave),
                (
                    "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecPfs",
                    "group14",
                ),
                ("TunnelOptionsSpecification.1.EnableDpd", "false"),
                ("TunnelOptionsSpecification.2.Role", "master"),
                (
                    "TunnelOptionsSpecification.2.TunnelIkeConfig.Psk",
                    "master-psk-2",
                ),
            ],
        )
        .await;
    assert_eq!(modified.status, 200, "{}", modified.body);
    let tunnels = &modified.body["TunnelOptionsSpecification"]["TunnelOptions"];
    // Real types in Modify's answer.
    assert_eq!(tunnels[1]["EnableDpd"], false);
    assert_eq!(tunnels[1]["TunnelIpsecConfig"]["IpsecPfs"], "group14");
    assert_eq!(tunnels[1]["TunnelIpsecConfig"]["IpsecLifetime"], 86400);
    assert_eq!(tunnels[0]["TunnelIkeConfig"]["Psk"], "master-psk-2");
    assert_eq!(tunnels[0]["TunnelBgpConfig"]["LocalAsn"], 65100);
    insta::assert_json_snapshot!("modify_dual", stable(&modified, &["ZoneNo"]));
    let after = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let t = &after["TunnelOptionsSpecification"]["TunnelOptions"];
    assert_eq!(t[1]["EnableDpd"], "false");
    assert_eq!(t[0]["TunnelIkeConfig"]["Psk"], "master-psk-2");
    assert_eq!(
        after["IkeConfig"]["Psk"], "master-psk-2",
        "top level mirrors the master"
    );
    // TunnelBandwidth (not in the SDK's request, but in the response).
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco), ("TunnelBandwidth", "large")],
    )
    .await;
    let a = api
        .call(
            "ModifyVpnConnectionAttribute",
            &[("VpnConnectionId", &vco), ("TunnelBandwidth", "Huge")],
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    // Turning tunnel BGP off keeps the configured blocks.
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco), ("EnableTunnelsBgp", "false")],
    )
    .await;
    let after = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(after["EnableTunnelsBgp"], false);
    assert_eq!(after["TunnelBandwidth"], "Large");
    assert_eq!(
        after["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelBgpConfig"]["BgpStatus"],
        ""
    );
    // Errors.
    for (params, status, code) in [
        (
            vec![("TunnelOptionsSpecification.1.TunnelId", "tun-nope")],
            404,
            "InvalidTunnelId.NotFound",
        ),
        (
            vec![("TunnelOptionsSpecification.1.EnableDpd", "true")],
            400,
            "MissingParameter",
        ),
        (
            vec![
                ("TunnelOptionsSpecification.1.TunnelId", slave.as_str()),
                ("TunnelOptionsSpecification.1.Role", "master"),
            ],
            400,
            "InvalidParameter",
        ),
        (
            vec![("IpsecConfig", r#"{"IpsecPfs":"group5"}"#)],
            400,
            "InvalidParameter",
        ),
    ] {
        let mut p = vec![("VpnConnectionId", vco.as_str())];
        p.extend(params);
        let a = api.call("ModifyVpnConnectionAttribute", &p).await;
        assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
    }
    // A single-tunnel connection refuses tunnel options.
    let (_, _, single) = api.connection().await;
    let a = api
        .call(
            "ModifyVpnConnectionAttribute",
            &[
                ("VpnConnectionId", &single),
                ("TunnelOptionsSpecification.1.Role", "master"),
            ],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (400, "InvalidParameter"),
        "{}",
        a.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modify_tunnel_attribute_answers_real_types() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let master = body["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cgw3 = api
        .ok(
            "CreateCustomerGateway",
            &[("IpAddress", "47.1.2.5"), ("Asn", "65003")],
        )
        .await["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    // RegionId is optional here: the connection's id names its region.
    let a = api
        .call(
            "ModifyTunnelAttribute",
            &[
                ("VpnConnectionId", &vco),
                ("TunnelId", &master),
                ("TunnelOptionsSpecification.CustomerGatewayId", &cgw3),
                ("TunnelOptionsSpecification.EnableNatTraversal", "true"),
                (
                    "TunnelOptionsSpecification.TunnelIkeConfig.IkeMode",
                    "aggressive",
                ),
                (
                    "TunnelOptionsSpecification.TunnelIkeConfig.IkeLifetime",
                    "28800",
                ),
                (
                    "TunnelOptionsSpecification.TunnelBgpConfig.LocalAsn",
                    "65200",
                ),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["EnableNatTraversal"], true);
    assert_eq!(a.body["TunnelIkeConfig"]["IkeLifetime"], 28800);
    assert_eq!(a.body["TunnelBgpConfig"]["EnableBgp"], true);
    assert_eq!(a.body["TunnelBgpConfig"]["LocalAsn"], 65200);
    assert_eq!(a.body["TunnelBgpConfig"]["PeerAsn"], 65003);
    assert_eq!(a.body["CustomerGatewayId"], cgw3.as_str());
    // The default RemoteId follows the new customer gateway.
    assert_eq!(a.body["TunnelIkeConfig"]["RemoteId"], "47.1.2.5");
    insta::assert_json_snapshot!(stable(&a, &["ZoneNo"]));
    // The old customer gateway is free again; the new one is held.
    let del = api
        .call("DeleteCustomerGateway", &[("CustomerGatewayId", &d.cgw1)])
        .await;
    assert_eq!(del.status, 200, "{}", del.body);
    let del = api
        .call("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw3)])
        .await;
    assert_eq!(del.status, 400, "{}", del.body);
    for (params, status, code) in [
        (
            vec![("TunnelId", "tun-nope")],
            404,
            "InvalidTunnelId.NotFound",
        ),
        (
            vec![
                ("TunnelId", master.as_str()),
                (
                    "TunnelOptionsSpecification.TunnelIkeConfig.IkePfs",
                    "group99",
                ),
            ],
            400,
            "InvalidParameter",
        ),
        (
            vec![
                ("TunnelId", master.as_str()),
                ("TunnelOptionsSpecification.CustomerGatewayId", "cgw-nope"),
            ],
            404,
            "InvalidCustomerGatewayInstanceId.NotFound",
        ),
        (vec![], 400, "MissingParameter"),
    ] {
        let mut p = vec![("VpnConnectionId", vco.as_str())];
        p.extend(params);
        let a = api.call("ModifyTunnelAttribute", &p).await;
        assert_eq!((a.status, a.code()), (status, code), "{}", a.body);
    }
    let a = api
        .call(
            "ModifyTunnelAttribute",
            &[("VpnConnectionId", "vco-bp1nope"), ("TunnelId", &master)],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    let after = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(
        after["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelIkeConfig"]["IkeMode"],
        "aggressive",
        "the refused calls changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_config_is_the_peers_view() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    let g = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    let c = api
        .ok("DescribeCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
    let conn = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let a = api
        .call("DownloadVpnConnectionConfig", &[("VpnConnectionId", &vco)])
        .await;
    let cfg = &a.body["VpnConnectionConfig"];
    assert_eq!(cfg["Local"], c["IpAddress"]);
    assert_eq!(cfg["Remote"], g["InternetIp"]);
    assert_eq!(cfg["LocalSubnet"], "192.168.0.0/16");
    assert_eq!(cfg["RemoteSubnet"], "10.0.0.0/8");
    assert_eq!(cfg["IkeConfig"]["LocalId"], conn["IkeConfig"]["RemoteId"]);
    assert_eq!(cfg["IkeConfig"]["RemoteId"], conn["IkeConfig"]["LocalId"]);
    assert_eq!(cfg["IkeConfig"]["Psk"], conn["IkeConfig"]["Psk"]);
    assert_eq!(cfg["IkeConfig"]["IkeLifetime"], 86400);
    insta::assert_json_snapshot!("download_single", stable(&a, &["Local", "Remote"]));

    let d = dual_gateway(&api).await;
    let dual = create_dual(&api, &d).await;
    let a = api
        .call("DownloadVpnConnectionConfig", &[("VpnConnectionId", &dual)])
        .await;
    let cfg = &a.body["VpnConnectionConfig"];
    let tunnels = cfg["TunnelsConfig"]["TunnelConfig"].as_array().unwrap();
    assert_eq!(tunnels[0]["Local"], d.cgw1_ip.as_str());
    assert_eq!(tunnels[0]["Remote"], d.gw_ip.as_str());
    assert_eq!(tunnels[1]["Local"], d.cgw2_ip.as_str());
    assert_eq!(tunnels[1]["Remote"], d.dr_ip.as_str());
    assert_eq!(tunnels[0]["IkeConfig"]["Psk"], "master-psk-1");
    assert_eq!(tunnels[0]["IkeConfig"]["LocalId"], d.cgw1_ip.as_str());
    let bgp = cfg["BgpConfigs"]["BgpConfig"].as_array().unwrap();
    // The customer's side of each session.
    assert_eq!(bgp[0]["LocalAsn"], "65001");
    assert_eq!(bgp[0]["PeerAsn"], "65100");
    assert_eq!(bgp[0]["LocalBgpIp"], "169.254.10.2");
    assert_eq!(bgp[0]["PeerBgpIp"], "169.254.10.1");
    assert_eq!(bgp[0]["TunnelId"], tunnels[0]["TunnelId"]);
    insta::assert_json_snapshot!("download_dual", stable(&a, &["Local", "Remote"]));
    let a = api
        .call(
            "DownloadVpnConnectionConfig",
            &[("VpnConnectionId", "vco-nope")],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
}

/// Log lines without their time and ids, for a snapshot.
fn log_texts(body: &Value) -> Vec<String> {
    body["Data"]["Logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let l = l.as_str().unwrap();
            // "YYYY-MM-DD hh:mm:ss.mmm <id> [source] message"
            let rest = l.splitn(4, ' ').nth(3).unwrap_or("");
            let mut out = String::new();
            for word in rest.split(' ') {
                let w = word.trim_end_matches([',', ';', ':', ')']);
                let id_like = ["vpn-", "cgw-", "vco-", "tun-", "cn-hangzhou-"]
                    .iter()
                    .any(|p| w.starts_with(p) && w.len() > 12);
                let ip_like = w.parse::<std::net::Ipv4Addr>().is_ok() && !w.starts_with("169.254.");
                if !out.is_empty() {
                    out.push(' ');
                }
                if id_like || ip_like {
                    out.push_str(&word.replace(w, "<x>"));
                } else {
                    out.push_str(word);
                }
            }
            out
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_logs_record_what_happened() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let master = body["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelId"]
        .as_str()
        .unwrap()
        .to_owned();
    api.ok(
        "ModifyTunnelAttribute",
        &[
            ("VpnConnectionId", &vco),
            ("TunnelId", &master),
            (
                "TunnelOptionsSpecification.TunnelIkeConfig.Psk",
                "rotated-psk",
            ),
            ("TunnelOptionsSpecification.EnableDpd", "false"),
        ],
    )
    .await;
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco), ("Name", "renamed")],
    )
    .await;
    let a = api
        .call(
            "DescribeVpnConnectionLogs",
            &[("VpnConnectionId", &vco), ("MinutePeriod", "10")],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Count"], 5);
    assert_eq!(a.body["IsCompleted"], true);
    let text = a.body["Data"]["Logs"].to_string();
    assert!(
        !text.contains("rotated-psk") && !text.contains("master-psk-1"),
        "no secret in logs"
    );
    insta::assert_json_snapshot!("logs_all", log_texts(&a.body));
    let mut shape = a.body.clone();
    shape["Data"]["Logs"] = Value::Array(Vec::new());
    insta::assert_json_snapshot!("logs_shape", stable_value(shape));
    // One tunnel: its own lines and the connection's.
    let a = api
        .ok(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", &vco),
                ("TunnelId", &master),
                ("MinutePeriod", "5"),
            ],
        )
        .await;
    assert_eq!(a["Count"], 4, "{a}");
    // Paging.
    let a = api
        .ok(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", &vco),
                ("MinutePeriod", "10"),
                ("PageSize", "2"),
                ("PageNumber", "3"),
            ],
        )
        .await;
    assert_eq!(
        (a["Count"].as_i64(), a["PageNumber"].as_i64()),
        (Some(1), Some(3))
    );
    // A window in the past holds nothing.
    let a = api
        .ok(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", &vco),
                ("From", "1000000000"),
                ("To", "1000000600"),
            ],
        )
        .await;
    assert_eq!(a["Count"], 0);
    // A window given by its end and a period.
    let now_s = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 5)
    .to_string();
    let a = api
        .ok(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", &vco),
                ("To", &now_s),
                ("MinutePeriod", "2"),
            ],
        )
        .await;
    assert_eq!(a["Count"], 5);
    for (params, status, code) in [
        (vec![], 400, "MissingParameter"),
        (vec![("From", "1000000000")], 400, "MissingParameter"),
        (vec![("MinutePeriod", "11")], 400, "InvalidParameter"),
        (vec![("MinutePeriod", "x")], 400, "InvalidParameter"),
        (
            vec![("From", "1000000600"), ("To", "1000000000")],
            400,
            "InvalidParameter",
        ),
        (
            vec![("MinutePeriod", "1"), ("TunnelId", "tun-nope")],
            404,
            "InvalidTunnelId.NotFound",
        ),
        (
            vec![("MinutePeriod", "1"), ("PageSize", "51")],
            400,
            "InvalidParameter",
        ),
    ] {
        let mut p = vec![("VpnConnectionId", vco.as_str())];
        p.extend(params);
        let a = api.call("DescribeVpnConnectionLogs", &p).await;
        assert_eq!((a.status, a.code()), (status, code), "{:?}: {}", p, a.body);
    }
    // Deleting the connection is logged, and the log outlives it (but the
    // operation needs the connection).
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let a = api
        .call(
            "DescribeVpnConnectionLogs",
            &[("VpnConnectionId", &vco), ("MinutePeriod", "10")],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
}

/// Edits a stored connection behind the API's back.
async fn rewrite_connection(
    api: &TestApi,
    id: &str,
    edit: impl FnOnce(&mut vpngw_model::VpnConnection),
) {
    use vpngw_store::StoreExt;
    let store = api.service.store();
    let account = store.accounts().await.unwrap().remove(0).id;
    let scope = vpngw_store::Scope {
        account_id: account.clone(),
        region_id: "cn-hangzhou".into(),
    };
    let mut c = store
        .get_typed::<vpngw_model::VpnConnection>(&scope, id)
        .await
        .unwrap()
        .unwrap();
    edit(&mut c.value);
    store
        .update_typed(&account, &c.value, c.version)
        .await
        .unwrap();
}

fn stable_value(v: Value) -> Value {
    crate::common::Answer {
        status: 200,
        body: v,
    }
    .stable()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_tunnel_logs_and_diagnosis() {
    let api = TestApi::new().await;
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
        )
        .await["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cgw = api
        .ok("CreateCustomerGateway", &[("IpAddress", "47.9.9.9")])
        .await["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    // Everything a diagnosis should flag. ShangMi algorithms and a short
    // PSK are valid input; overlapping subnets, BGP without a peer ASN and a
    // health check outside the subnets are written into the store directly,
    // as a configuration that went wrong would be (the API may refuse them).
    let vco = api
        .ok(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", &gw),
                ("CustomerGatewayId", &cgw),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
                ("IkeConfig", r#"{"IkeEncAlg":"sm4","Psk":"zq9Kp"}"#),
                ("IpsecConfig", r#"{"IpsecAuthAlg":"sm3"}"#),
            ],
        )
        .await["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    rewrite_connection(&api, &vco, |c| {
        c.remote_subnet = "10.1.0.0/16".into();
        c.bgp.enable = true;
        c.bgp.local_asn = Some(45104);
        c.bgp.peer_asn = None;
        c.bgp.tunnel_cidr = Some("169.254.30.0/30".into());
        c.bgp.local_bgp_ip = Some("169.254.30.1".into());
        c.health_check = Some(vpngw_model::connection::HealthCheck {
            enable: true,
            dip: "172.16.0.1".into(),
            sip: "10.0.0.1".into(),
            interval_s: 3,
            retry: 3,
            policy: vpngw_model::connection::HealthCheckPolicy::RevokeRoute,
        });
    })
    .await;
    let a = api
        .call("DiagnoseVpnConnections", &[("VpnConnectionIds.1", &vco)])
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let codes: Vec<&str> = a.body["VpnConnections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["FailedReasonCode"].as_str().unwrap())
        .collect();
    for expected in [
        "SubnetOverlap",
        "UnsupportedAlgorithm",
        "PskWeak",
        "BgpPeerAsnMissing",
        "HealthCheckDestinationOutsideSubnet",
        "NegotiationNotEstablished",
    ] {
        assert!(codes.contains(&expected), "{expected} not in {codes:?}");
    }
    assert!(
        !codes.contains(&"HealthCheckSourceOutsideSubnet"),
        "{codes:?}"
    );
    assert_eq!(a.body["VpnConnections"][0]["Severity"], "Critical");
    insta::assert_json_snapshot!(
        "diagnose_connections",
        stable(&a, &["FailedTime", "SourceLog"])
    );
    // Paging over the findings.
    let page = api
        .ok(
            "DiagnoseVpnConnections",
            &[
                ("VpnGatewayId", &gw),
                ("PageSize", "2"),
                ("PageNumber", "2"),
            ],
        )
        .await;
    assert_eq!(page["TotalCount"], a.body["TotalCount"]);
    assert_eq!(page["VpnConnections"].as_array().unwrap().len(), 2);

    // The stored diagnosis of one connection.
    let started = api
        .call(
            "DiagnoseVpnGateway",
            &[
                ("VpnGatewayId", &gw),
                ("ResourceType", "IPsec"),
                ("ResourceId", &vco),
                (
                    "IPsecExtendInfo",
                    r#"{"PrivateSourceIp":"10.0.0.5","PrivateDestinationIp":"192.168.1.1"}"#,
                ),
            ],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.body["DiagnoseId"].as_str().unwrap().to_owned();
    assert!(id.starts_with("vpndgn-"));
    let result = api
        .call("GetVpnGatewayDiagnoseResult", &[("DiagnoseId", &id)])
        .await;
    assert_eq!(result.status, 200, "{}", result.body);
    let items = result.body["DiagnoseResult"].as_array().unwrap();
    let level = |name: &str| {
        items
            .iter()
            .find(|i| i["DiagnoseName"] == name)
            .map(|i| i["DiagnoseResultLevel"].as_str().unwrap().to_owned())
    };
    assert_eq!(level("VcoConfigConsistency").as_deref(), Some("error"));
    assert_eq!(level("RouteEntryConflict").as_deref(), Some("error"));
    assert_eq!(
        level("VcoUserInternetIpConnectivity").as_deref(),
        Some("normal")
    );
    assert_eq!(level("VpnIPsecQuota").as_deref(), Some("normal"));
    assert_eq!(level("VcoPrivateConnectivity").as_deref(), Some("error"));
    assert_eq!(result.body["TotalCount"], result.body["FinishedCount"]);
    assert_eq!(result.body["ResourceInstanceId"], vco.as_str());
    let description = items[0]["DiagnoseResultDescription"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(description).unwrap();
    assert!(
        parsed["problems"].as_array().unwrap().len() >= 3,
        "{parsed}"
    );
    assert!(!description.contains("zq9Kp"), "no PSK in a diagnosis");
    insta::assert_json_snapshot!(
        "diagnose_result",
        stable(
            &result,
            &["BeginTime", "FinishTime", "DiagnoseResultDescription"]
        )
    );
    // The latest diagnosis of the gateway, without its id.
    let latest = api
        .ok("GetVpnGatewayDiagnoseResult", &[("VpnGatewayId", &gw)])
        .await;
    assert_eq!(latest["DiagnoseId"], id.as_str());
    // Errors.
    for (action, params, status, code) in [
        (
            "GetVpnGatewayDiagnoseResult",
            vec![("DiagnoseId", "vpndgn-nope")],
            404,
            "InvalidDiagnoseId.NotFound",
        ),
        (
            "GetVpnGatewayDiagnoseResult",
            vec![],
            400,
            "MissingParameter",
        ),
        (
            "DiagnoseVpnGateway",
            vec![
                ("VpnGatewayId", gw.as_str()),
                ("ResourceType", "SSL"),
                ("ResourceId", vco.as_str()),
            ],
            400,
            "InvalidParameter",
        ),
        (
            "DiagnoseVpnGateway",
            vec![
                ("VpnGatewayId", gw.as_str()),
                ("ResourceType", "IPsec"),
                ("ResourceId", "vco-nope"),
            ],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DiagnoseVpnGateway",
            vec![
                ("VpnGatewayId", "vpn-nope"),
                ("ResourceType", "IPsec"),
                ("ResourceId", vco.as_str()),
            ],
            404,
            "InvalidVpnGatewayInstanceId.NotFound",
        ),
        (
            "DiagnoseVpnGateway",
            vec![
                ("VpnGatewayId", gw.as_str()),
                ("ResourceType", "IPsec"),
                ("ResourceId", vco.as_str()),
                ("IPsecExtendInfo", "nope"),
            ],
            400,
            "InvalidParameter",
        ),
        ("DiagnoseVpnConnections", vec![], 400, "MissingParameter"),
        (
            "DiagnoseVpnConnections",
            vec![("VpnConnectionIds.1", "vco-nope")],
            404,
            "InvalidVpnConnectionInstanceId.NotFound",
        ),
        (
            "DiagnoseVpnConnections",
            vec![("TunnelIds.1", "tun-nope")],
            404,
            "InvalidTunnelId.NotFound",
        ),
    ] {
        let a = api.call(action, &params).await;
        assert_eq!(
            (a.status, a.code()),
            (status, code),
            "{action} {params:?}: {}",
            a.body
        );
    }
    // A diagnosis does not keep its gateway from being deleted.
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    api.ok("DeleteVpnGateway", &[("VpnGatewayId", &gw)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnosis_of_a_healthy_dual_tunnel_connection() {
    let api = TestApi::new().await;
    let d = dual_gateway(&api).await;
    let vco = create_dual(&api, &d).await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let slave = body["TunnelOptionsSpecification"]["TunnelOptions"][1]["TunnelId"]
        .as_str()
        .unwrap()
        .to_owned();
    let a = api
        .ok("DiagnoseVpnConnections", &[("TunnelIds.1", &slave)])
        .await;
    let entries = a["VpnConnections"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert!(
        entries.iter().all(|e| e["TunnelId"] == slave.as_str()),
        "{a}"
    );
    // Only the data plane's verdict is missing: no tunnel is up yet.
    let codes: Vec<&str> = entries
        .iter()
        .map(|e| e["FailedReasonCode"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["NegotiationNotEstablished"], "{a}");
    let id = api
        .ok(
            "DiagnoseVpnGateway",
            &[
                ("VpnGatewayId", &d.gw),
                ("ResourceType", "IPsec"),
                ("ResourceId", &vco),
                ("ClientToken", "diag-1"),
            ],
        )
        .await["DiagnoseId"]
        .clone();
    let again = api
        .ok(
            "DiagnoseVpnGateway",
            &[
                ("VpnGatewayId", &d.gw),
                ("ResourceType", "IPsec"),
                ("ResourceId", &vco),
                ("ClientToken", "diag-1"),
            ],
        )
        .await["DiagnoseId"]
        .clone();
    assert_eq!(id, again, "the same ClientToken replays the diagnosis");
    let result = api
        .ok(
            "GetVpnGatewayDiagnoseResult",
            &[
                ("DiagnoseId", id.as_str().unwrap()),
                ("VpnGatewayId", &d.gw),
            ],
        )
        .await;
    for item in result["DiagnoseResult"].as_array().unwrap() {
        assert_eq!(item["DiagnoseResultLevel"], "normal", "{item}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgp_check_and_available_zones() {
    let api = TestApi::new().await;
    let a = api.call("CheckVpnBgpEnabled", &[]).await;
    assert_eq!(a.body["BgpEnabled"], true);
    insta::assert_json_snapshot!("check_bgp", a.stable());
    let a = api
        .call("DescribeVpnGatewayAvailableZones", &[("Spec", "5M")])
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["RegionId"], "cn-hangzhou");
    insta::assert_json_snapshot!("available_zones", a.stable());
    let zh = api
        .ok(
            "DescribeVpnGatewayAvailableZones",
            &[
                ("Spec", "1000M"),
                ("AcceptLanguage", "zh-CN"),
                ("RegionId", "cn-qingdao"),
            ],
        )
        .await;
    assert_eq!(zh["AvailableZoneIdList"][0]["ZoneName"], "青岛 可用区B");
    for (params, status, code) in [
        (vec![], 400, "MissingParameter"),
        (vec![("Spec", "7M")], 400, "InvalidParameter"),
        (
            vec![("Spec", "5M"), ("GatewayType", "Fancy")],
            400,
            "InvalidParameter",
        ),
        (
            vec![("Spec", "5M"), ("RegionId", "mars-1")],
            404,
            "InvalidRegionId.NotFound",
        ),
    ] {
        let a = api.call("DescribeVpnGatewayAvailableZones", &params).await;
        assert_eq!(
            (a.status, a.code()),
            (status, code),
            "{params:?}: {}",
            a.body
        );
    }
}
