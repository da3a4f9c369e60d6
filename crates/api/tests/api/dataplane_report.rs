//! ReportDataplaneState (vpngw 2025-01-01), in process: what an agent's
//! report does to DescribeVpnConnection(s) and DescribeVpnConnectionLogs,
//! stale reports, foreign and unknown connections, bad input, RAM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common::{KEY_ID, SECRET, TestApi};
use serde_json::{Value, json};
use vpngw_model::dataplane::spec_from_api;

const VPNGW: &str = "2025-01-01";
const RAM: &str = "2015-05-01";

/// The digest the agent computes from the public answers.
async fn digest(api: &TestApi, gw: &str, vco: &str) -> String {
    let conn = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", vco)])
        .await;
    let gateway = api.ok("DescribeVpnGateway", &[("VpnGatewayId", gw)]).await;
    let cgw_id = conn["CustomerGatewayId"].as_str().unwrap().to_owned();
    let cgw = api
        .ok("DescribeCustomerGateway", &[("CustomerGatewayId", &cgw_id)])
        .await;
    let ip = cgw["IpAddress"].as_str().unwrap().to_owned();
    let lookup = move |id: &str| (id == cgw_id).then(|| ip.clone());
    // DescribeVpnConnection's answer read as the listed item the agent
    // reads (the keys the data plane needs are the same).
    let conn = serde_json::from_value(conn).unwrap();
    let gateway = serde_json::from_value(gateway).unwrap();
    spec_from_api(&conn, &gateway, &lookup).unwrap().digest()
}

fn report(vco: &str, digest: &str, at: i64, status: &str, events: Value) -> String {
    json!({
        "Agent": "test",
        "Backend": "strongswan",
        "MeasuredAt": at,
        "Connections": [{
            "VpnConnectionId": vco,
            "ConfigDigest": digest,
            "Status": status,
            "Reason": if status == "ipsec_sa_established" { "" } else { "peer not responding" },
            "Tunnels": [{"TunnelId": vco, "Status": status, "BytesIn": 84, "PacketsIn": 1}],
            "HealthCheckStatus": "success",
        }],
        "Events": events,
    })
    .to_string()
}

async fn send(api: &TestApi, gw: &str, body: &str) -> crate::common::Answer {
    api.call_as(
        KEY_ID,
        SECRET,
        VPNGW,
        "ReportDataplaneState",
        &[("VpnGatewayId", gw), ("Report", body)],
    )
    .await
}

async fn status(api: &TestApi, vco: &str) -> (String, String) {
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", vco)])
        .await;
    (
        c["Status"].as_str().unwrap().to_owned(),
        c["VcoHealthCheck"]["Status"].as_str().unwrap().to_owned(),
    )
}

async fn with_health_check(api: &TestApi, vco: &str) {
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", vco),
            (
                "HealthCheckConfig",
                r#"{"enable":true,"sip":"10.0.0.9","dip":"192.168.0.9","interval":3,"retry":3}"#,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_current_report_sets_status_health_and_logs() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    with_health_check(&api, &vco).await;
    // Nothing measured yet: not established, health check failed.
    assert_eq!(
        status(&api, &vco).await,
        ("ike_sa_not_established".into(), "failed".into())
    );
    let d = digest(&api, &gw, &vco).await;
    let now = 1_700_000_000_000i64;
    let events = json!([{"VpnConnectionId": vco, "Time": now, "Message": "IKE SA established"}]);
    let a = send(
        &api,
        &gw,
        &report(&vco, &d, now, "ipsec_sa_established", events),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Accepted"], json!([vco]));
    assert_eq!(a.body["Written"], 1);
    assert_eq!(
        status(&api, &vco).await,
        ("ipsec_sa_established".into(), "success".into())
    );
    let list = api
        .ok("DescribeVpnConnections", &[("VpnGatewayId", &gw)])
        .await;
    assert_eq!(
        list["VpnConnections"]["VpnConnection"][0]["Status"],
        "ipsec_sa_established"
    );
    let logs = api
        .ok(
            "DescribeVpnConnectionLogs",
            &[
                ("VpnConnectionId", &vco),
                ("From", &(now / 1000 - 60).to_string()),
                ("To", &(now / 1000 + 60).to_string()),
            ],
        )
        .await;
    let lines: Vec<&str> = logs["Data"]["Logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[dataplane] IKE SA established")),
        "{lines:?}"
    );

    // The same report again writes nothing; an older one is stale.
    let a = send(
        &api,
        &gw,
        &report(&vco, &d, now, "ipsec_sa_established", json!([])),
    )
    .await;
    assert_eq!(
        (a.body["Written"].as_u64(), &a.body["Accepted"]),
        (Some(0), &json!([vco]))
    );
    let a = send(
        &api,
        &gw,
        &report(&vco, &d, now - 1, "ike_sa_not_established", json!([])),
    )
    .await;
    assert_eq!(a.body["Stale"], json!([vco]));
    assert_eq!(status(&api, &vco).await.0, "ipsec_sa_established");
    // A newer one that says the tunnel went down is taken.
    let a = send(
        &api,
        &gw,
        &report(&vco, &d, now + 1, "ike_sa_not_established", json!([])),
    )
    .await;
    assert_eq!(a.body["Written"], 1, "{}", a.body);
    assert_eq!(status(&api, &vco).await.0, "ike_sa_not_established");
}

#[tokio::test]
async fn a_report_about_an_older_configuration_is_stale() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let old = digest(&api, &gw, &vco).await;
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            ("RemoteSubnet", "192.168.7.0/24"),
        ],
    )
    .await;
    let a = send(
        &api,
        &gw,
        &report(&vco, &old, 1, "ipsec_sa_established", json!([])),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Stale"], json!([vco]));
    assert_eq!(status(&api, &vco).await.0, "ike_sa_not_established");
    let new = digest(&api, &gw, &vco).await;
    assert_ne!(old, new);
    let a = send(
        &api,
        &gw,
        &report(&vco, &new, 1, "ipsec_sa_established", json!([])),
    )
    .await;
    assert_eq!(a.body["Accepted"], json!([vco]));
    assert_eq!(status(&api, &vco).await.0, "ipsec_sa_established");
}

#[tokio::test]
async fn foreign_and_deleted_connections_are_unknown() {
    let api = TestApi::new().await;
    let (gw1, _, vco1) = api.connection().await;
    let (gw2, _, vco2) = api.connection().await;
    let d2 = digest(&api, &gw2, &vco2).await;
    // gw1's agent cannot report on gw2's connection.
    let a = send(
        &api,
        &gw1,
        &report(
            &vco2,
            &d2,
            1,
            "ipsec_sa_established",
            json!([{"VpnConnectionId": vco2, "Message": "x"}]),
        ),
    )
    .await;
    assert_eq!(a.body["Unknown"], json!([vco2]));
    assert_eq!(status(&api, &vco2).await.0, "ike_sa_not_established");
    let d1 = digest(&api, &gw1, &vco1).await;
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco1)])
        .await;
    let a = send(
        &api,
        &gw1,
        &report(&vco1, &d1, 1, "ipsec_sa_established", json!([])),
    )
    .await;
    assert_eq!(a.body["Unknown"], json!([vco1]));
}

#[tokio::test]
async fn bad_reports_change_nothing() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let d = digest(&api, &gw, &vco).await;
    for (body, code) in [
        ("{not json".to_owned(), "InvalidParameter"),
        (report(&vco, &d, 1, "up", json!([])), "InvalidParameter"),
        (
            report(&vco, &d, 1, "ipsec_sa_established", json!([])).replace("success", "maybe"),
            "InvalidParameter",
        ),
    ] {
        let a = send(&api, &gw, &body).await;
        assert_eq!((a.status, a.code()), (400, code), "{}", a.body);
    }
    let a = send(
        &api,
        "vpn-doesnotexist000000",
        &report(&vco, &d, 1, "ipsec_sa_established", json!([])),
    )
    .await;
    assert_eq!(a.code(), "InvalidVpnGatewayInstanceId.NotFound");
    let a = api
        .call_as(
            KEY_ID,
            SECRET,
            VPNGW,
            "ReportDataplaneState",
            &[("VpnGatewayId", &gw)],
        )
        .await;
    assert_eq!(a.code(), "MissingParameter");
    let a = api.call_as(KEY_ID, SECRET, VPNGW, "NoSuchThing", &[]).await;
    assert_eq!((a.status, a.code()), (404, "InvalidAction.NotFound"));
    // Not a VPC operation.
    let a = api
        .call(
            "ReportDataplaneState",
            &[("VpnGatewayId", &gw), ("Report", "{}")],
        )
        .await;
    assert_eq!(a.status, 404, "{}", a.body);
    assert_eq!(status(&api, &vco).await.0, "ike_sa_not_established");
}

#[tokio::test]
async fn ram_users_need_an_allow_for_the_vpngw_action() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let d = digest(&api, &gw, &vco).await;
    api.call_as(KEY_ID, SECRET, RAM, "CreateUser", &[("UserName", "agent")])
        .await;
    let k = api
        .call_as(
            KEY_ID,
            SECRET,
            RAM,
            "CreateAccessKey",
            &[("UserName", "agent")],
        )
        .await;
    let id = k.body["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = k.body["AccessKey"]["AccessKeySecret"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = report(&vco, &d, 1, "ipsec_sa_established", json!([]));
    let params = [("VpnGatewayId", gw.as_str()), ("Report", body.as_str())];
    let a = api
        .call_as(&id, &secret, VPNGW, "ReportDataplaneState", &params)
        .await;
    assert_eq!((a.status, a.code()), (403, "Forbidden.RAM"), "{}", a.body);
    assert_eq!(status(&api, &vco).await.0, "ike_sa_not_established");

    let policy = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpngw:ReportDataplaneState","Resource":"*"}]}"#;
    let p = api
        .call_as(
            KEY_ID,
            SECRET,
            RAM,
            "CreatePolicy",
            &[("PolicyName", "agent-report"), ("PolicyDocument", policy)],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let p = api
        .call_as(
            KEY_ID,
            SECRET,
            RAM,
            "AttachPolicyToUser",
            &[
                ("UserName", "agent"),
                ("PolicyType", "Custom"),
                ("PolicyName", "agent-report"),
            ],
        )
        .await;
    assert_eq!(p.status, 200, "{}", p.body);
    let a = api
        .call_as(&id, &secret, VPNGW, "ReportDataplaneState", &params)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(status(&api, &vco).await.0, "ipsec_sa_established");
}

/// A single-tunnel connection with BGP on: its session's state is
/// `VpnBgpConfig.Status`, and what it learned is listed as the gateway's
/// `bgp` routes (and the connection's), until it is withdrawn.
#[tokio::test]
async fn bgp_status_and_learned_routes() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            (
                "BgpConfig",
                r#"{"EnableBgp":true,"LocalAsn":65010,"TunnelCidr":"169.254.11.0/30","LocalBgpIp":"169.254.11.1","AuthKey":"k3y"}"#,
            ),
        ],
    )
    .await;
    let bgp_status = |c: &Value| c["VpnBgpConfig"]["Status"].as_str().unwrap().to_owned();
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(bgp_status(&c), "false");
    let d = digest(&api, &gw, &vco).await;
    let send_routes = |at: i64, up: bool, routes: Value| {
        json!({
            "Agent": "test", "Backend": "strongswan", "MeasuredAt": at,
            "Connections": [{
                "VpnConnectionId": vco, "ConfigDigest": d, "Status": "ipsec_sa_established",
                "Tunnels": [{
                    "TunnelId": vco, "Status": "ipsec_sa_established",
                    "BgpStatus": if up { "true" } else { "false" },
                    "BgpReason": if up { "" } else { "BGP state Connect: TCP-MD5 signatures do not verify" },
                    "LearnedRoutes": routes,
                }],
            }],
        })
        .to_string()
    };
    let now = 1_700_000_000_000i64;
    let routes = json!([
        {"RouteDest": "192.168.50.0/24", "AsPath": "65001", "Community": "(65000,7)"},
        {"RouteDest": "172.16.0.0/16", "AsPath": "65001 64999", "Community": ""},
        {"RouteDest": "not-a-prefix", "AsPath": "", "Community": ""},
    ]);
    let a = send(&api, &gw, &send_routes(now, true, routes)).await;
    assert_eq!(a.body["Accepted"], json!([vco]), "{}", a.body);
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(bgp_status(&c), "true");
    let listed = |v: &Value| -> Vec<(String, String, String)> {
        v["VpnRouteEntries"]["VpnRouteEntry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["RouteDest"].as_str().unwrap().to_owned(),
                    r["Source"].as_str().unwrap_or("").to_owned(),
                    r["AsPath"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    };
    let bgp = api
        .ok(
            "DescribeVpnRouteEntries",
            &[("VpnGatewayId", &gw), ("RouteEntryType", "bgp")],
        )
        .await;
    let mut got = listed(&bgp);
    got.sort();
    assert_eq!(
        got,
        [
            (
                "172.16.0.0/16".into(),
                "VPN_BGP".into(),
                "65001 64999".into()
            ),
            ("192.168.50.0/24".into(), "VPN_BGP".into(), "65001".into()),
        ]
    );
    assert_eq!(bgp["TotalCount"], 2);
    assert!(
        bgp["VpnRouteCounts"]["VpnRouteCount"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["RouteEntryType"] == "bgp"
                && c["Source"] == "VPN_BGP"
                && c["RouteCount"] == 2),
        "{bgp}"
    );
    // Custom routes are listed apart, and none of these can be deleted as one.
    let custom = api
        .ok("DescribeVpnRouteEntries", &[("VpnGatewayId", &gw)])
        .await;
    assert_eq!(custom["TotalCount"], 0);
    let own = api
        .ok(
            "DescribeVcoRouteEntries",
            &[("VpnConnectionId", &vco), ("RouteEntryType", "bgp")],
        )
        .await;
    assert_eq!(own["TotalCount"], 2, "{own}");
    assert_eq!(own["VcoRouteEntries"][0]["NextHop"], vco.as_str());

    // The session goes down: its routes go, the status says why not.
    let a = send(&api, &gw, &send_routes(now + 1000, false, json!([]))).await;
    assert_eq!(a.body["Written"], 1, "{}", a.body);
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(bgp_status(&c), "false");
    let bgp = api
        .ok(
            "DescribeVpnRouteEntries",
            &[("VpnGatewayId", &gw), ("RouteEntryType", "bgp")],
        )
        .await;
    assert_eq!(bgp["TotalCount"], 0, "{bgp}");
    // A BgpStatus that is not a boolean is refused.
    let bad = send_routes(now + 2000, true, json!([])).replace("\"true\"", "\"up\"");
    assert_eq!(send(&api, &gw, &bad).await.status, 400);
}

async fn gateway(api: &TestApi) -> String {
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
        )
        .await;
    gw["VpnGatewayId"].as_str().unwrap().to_owned()
}

/// An IPsec server's section of a report: `OnlineClientCount` and the
/// clients taken into the stored server, its log lines filed under it;
/// another gateway's report naming it is `Unknown` and files nothing.
/// (The server is stored directly: its operations are not served yet.)
#[tokio::test]
async fn ipsec_server_reports_and_log_lines() {
    use vpngw_model::{
        IpsecServer,
        ipsec_server::{ike_defaults, ipsec_defaults, parse_subnets},
        ssl_vpn::MultiFactorAuth,
    };
    use vpngw_store::{InsertGuard, LogQuery, Scope, StoreExt};

    let api = TestApi::new().await;
    let gw = gateway(&api).await;
    let other = gateway(&api).await;
    let me = api
        .call_as(KEY_ID, SECRET, "2015-04-01", "GetCallerIdentity", &[])
        .await;
    let scope = Scope {
        account_id: me.body["AccountId"].as_str().unwrap().to_owned(),
        region_id: "cn-hangzhou".into(),
    };
    let (pool, local) = parse_subnets("10.10.0.0/24", "10.0.0.0/24").unwrap();
    let server = IpsecServer {
        id: "iss-bp1report0000000001".into(),
        region_id: "cn-hangzhou".into(),
        vpn_gateway_id: gw.clone(),
        name: String::new(),
        client_ip_pool: pool,
        local_subnet: local,
        effect_immediately: false,
        ike: ike_defaults("198.18.0.1".into(), "sealed".into()),
        ipsec: ipsec_defaults(),
        psk_enabled: true,
        mfa: MultiFactorAuth::default(),
        resource_group_id: String::new(),
        create_time_ms: 1,
        online_client_count: 0,
        clients: Vec::new(),
        measured: vpngw_model::measured::Measured::default(),
    };
    let store = api.service.store();
    store
        .insert_typed(&scope.account_id, &server, InsertGuard::default())
        .await
        .unwrap();
    let body = |at: i64, line: &str| {
        json!({
            "Agent": "test",
            "Backend": "strongswan",
            "MeasuredAt": at,
            "Connections": [],
            "IpsecServers": [{
                "IpsecServerId": server.id,
                "OnlineClientCount": 1,
                "Clients": [{"Identity": "rw1@lab", "RemoteAddr": "100.100.0.2", "VirtualIp": "10.10.0.1"}],
            }],
            "Events": [{"IpsecServerId": server.id, "Time": at, "Message": line}],
        })
        .to_string()
    };
    let lines = || async {
        store
            .list_logs(&LogQuery {
                scope: scope.clone(),
                resource_id: server.id.clone(),
                tunnel_id: None,
                from_ms: 0,
                to_ms: i64::MAX,
                offset: 0,
                limit: 50,
            })
            .await
            .unwrap()
            .entries
            .into_iter()
            .map(|e| e.message)
            .collect::<Vec<_>>()
    };

    let fetch = || async {
        store
            .get_typed::<IpsecServer>(&scope, &server.id)
            .await
            .unwrap()
            .unwrap()
            .value
    };

    let a = send(&api, &gw, &body(1_000, "client 'rw1@lab' connected")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Accepted"], json!([server.id]));
    let stored = fetch().await;
    assert_eq!(stored.online_client_count, 1);
    assert_eq!(stored.clients[0].virtual_ip, "10.10.0.1");
    assert_eq!(stored.measured.measured_at_ms, 1_000);
    assert_eq!(lines().await, ["client 'rw1@lab' connected"]);

    // Another gateway's agent cannot report on it nor log for it.
    let a = send(&api, &other, &body(2_000, "forged")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Unknown"], json!([server.id]));
    assert_eq!(lines().await, ["client 'rw1@lab' connected"]);
    let stored = fetch().await;
    assert_eq!(stored.measured.measured_at_ms, 1_000);
}

/// An SSL server's log lines are filed under it only from its own
/// gateway's agent: another gateway's report that names it (with a client
/// section, so that the server is "in the report") is `Unknown` and files
/// nothing (DescribeVpnSslServerLogs stays as it was).
/// A gateway with `EnableSsl` (5 connections).
async fn ssl_gateway(api: &TestApi) -> String {
    api.ok(
        "CreateVpnGateway",
        &[
            ("VpcId", "vpc-test"),
            ("Bandwidth", "10"),
            ("EnableSsl", "true"),
            ("SslConnections", "5"),
        ],
    )
    .await["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An SSL server on `gw`.
async fn ssl_server(api: &TestApi, gw: &str) -> String {
    api.ok(
        "CreateSslVpnServer",
        &[
            ("VpnGatewayId", gw),
            ("ClientIpPool", "10.200.0.0/24"),
            ("LocalSubnet", "10.0.0.0/24"),
        ],
    )
    .await["SslVpnServerId"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

#[tokio::test]
async fn ssl_server_log_lines_only_from_its_own_gateway() {
    let api = TestApi::new().await;
    let gw = ssl_gateway(&api).await;
    let other = ssl_gateway(&api).await;
    let vss = ssl_server(&api, &gw).await;
    let body = |at: i64, line: &str| {
        json!({
            "Agent": "test",
            "Backend": "strongswan",
            "MeasuredAt": at,
            "Connections": [],
            "SslVpnServers": [{"SslVpnServerId": vss, "Connections": 0, "Clients": []}],
            "Events": [{"SslVpnServerId": vss, "Time": at, "Message": line}],
        })
        .to_string()
    };
    let lines = || async {
        let logs = api
            .ok(
                "DescribeVpnSslServerLogs",
                &[("VpnSslServerId", &vss), ("MinutePeriod", "10")],
            )
            .await;
        logs["Data"]["Logs"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|x| x.as_str().unwrap_or("").to_owned())
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let now = now_ms();

    let a = send(&api, &other, &body(now, "forged by another gateway")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["Unknown"], json!([vss]));
    assert!(
        lines().await.iter().all(|l| !l.contains("forged")),
        "{:?}",
        lines().await
    );

    let a = send(&api, &gw, &body(now + 1, "client connected")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        lines().await.iter().any(|l| l.contains("client connected")),
        "{:?}",
        lines().await
    );
}

/// The clients of an agent that stopped reporting go, on both remote-access
/// servers by the same rule (`vpngw_model::measured`): DescribeSslVpnClients,
/// `Connections` and the IPsec server's `OnlineClientCount` show the last
/// report's clients only while it is newer than `clients_fresh_ms` (90 s by
/// default; short here), and a new report brings them back.
#[tokio::test]
async fn remote_access_clients_expire_when_the_agent_stops_reporting() {
    let fresh_ms = 1_500;
    let api = TestApi::with_config(vpngw_api::Config {
        gateway_provision_delay_ms: 0,
        clients_fresh_ms: fresh_ms,
        ..vpngw_api::Config::default()
    })
    .await;
    let gw = ssl_gateway(&api).await;
    let vss = ssl_server(&api, &gw).await;
    let iss = api
        .ok(
            "CreateIpsecServer",
            &[
                ("VpnGatewayId", &gw),
                ("ClientIpPool", "10.201.0.0/24"),
                ("LocalSubnet", "10.0.0.0/24"),
            ],
        )
        .await["IpsecServerId"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = |at: i64| {
        json!({
            "Agent": "test",
            "Backend": "strongswan",
            "MeasuredAt": at,
            "Connections": [],
            "SslVpnServers": [{
                "SslVpnServerId": vss,
                "Connections": 1,
                "Clients": [{
                    "CommonName": "vsc-alice",
                    "Ip": "198.18.1.2",
                    "Port": 41234,
                    "PrivateIp": "10.200.0.6",
                    "ConnectedTime": at,
                }],
            }],
            "IpsecServers": [{
                "IpsecServerId": iss,
                "OnlineClientCount": 2,
                "Clients": [
                    {"Identity": "rw1@lab", "RemoteAddr": "100.100.0.2", "VirtualIp": "10.201.0.1"},
                    {"Identity": "rw2@lab", "RemoteAddr": "100.100.0.3", "VirtualIp": "10.201.0.2"},
                ],
            }],
            "Events": [],
        })
        .to_string()
    };
    // (SSL clients' names, DescribeSslVpnClients' TotalCount, `Connections`,
    // `OnlineClientCount`).
    let online = || async {
        let c = api
            .ok("DescribeSslVpnClients", &[("VpnGatewayId", &gw)])
            .await;
        let s = api
            .ok("DescribeSslVpnServers", &[("SslVpnServerId", &vss)])
            .await;
        let i = api
            .ok("ListIpsecServers", &[("IpsecServerId.1", &iss)])
            .await;
        let names: Vec<String> = c["ClientInfoList"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|x| x["CommonName"].as_str().unwrap_or("").to_owned())
                    .collect()
            })
            .unwrap_or_default();
        (
            names,
            c["TotalCount"].as_i64(),
            s["SslVpnServers"]["SslVpnServer"][0]["Connections"].as_i64(),
            i["IpsecServers"][0]["OnlineClientCount"].as_i64(),
        )
    };
    let everyone = (vec!["vsc-alice".to_owned()], Some(1), Some(1), Some(2));

    let a = send(&api, &gw, &report(now_ms())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(online().await, everyone);
    // Still shown within the bound.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(online().await.3, Some(2));
    // No report for longer than the bound: nobody is online.
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    assert_eq!(online().await, (vec![], Some(0), Some(0), Some(0)));
    // The agent is back with the same clients: so are they (an unchanged
    // report is written again once the stored one is a third of the bound old).
    let a = send(&api, &gw, &report(now_ms())).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(online().await, everyone);
}
