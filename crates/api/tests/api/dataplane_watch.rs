//! WatchGatewayState (vpngw 2025-01-01), in process: a first read is the
//! whole desired state, a read with a revision answers what changed after
//! it (at once, or as soon as a change commits, or `Changed: false` after
//! the wait), reports do not move the revision, the answer's items give the
//! same configuration digest as the public Describe* answers, bad input and
//! RAM are refused, and a closing server stops waiting.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{KEY_ID, SECRET, TestApi};
use serde_json::{Value, json};
use vpngw_model::dataplane::{WatchAnswer, spec_from_api};
use vpngw_ops::vpc::describe_vpn_connections;

const VPNGW: &str = "2025-01-01";
const RAM: &str = "2015-05-01";

async fn watch(
    api: &TestApi,
    gw: &str,
    revision: Option<&str>,
    wait: &str,
) -> crate::common::Answer {
    let mut p = vec![("VpnGatewayId", gw), ("WaitSeconds", wait)];
    if let Some(r) = revision {
        p.push(("Revision", r));
    }
    api.call_as(KEY_ID, SECRET, VPNGW, "WatchGatewayState", &p)
        .await
}

async fn watch_ok(api: &TestApi, gw: &str, revision: Option<&str>, wait: &str) -> Value {
    let a = watch(api, gw, revision, wait).await;
    assert_eq!(a.status, 200, "{}", a.body);
    a.body
}

fn ids(answer: &Value) -> Vec<String> {
    answer["VpnConnections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["VpnConnectionId"].as_str().unwrap().to_owned())
        .collect()
}

async fn create_connection(api: &TestApi, gw: &str, ip: &str) -> String {
    let cgw = api.ok("CreateCustomerGateway", &[("IpAddress", ip)]).await;
    let cgw = cgw["CustomerGatewayId"].as_str().unwrap().to_owned();
    let vco = api
        .ok(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", gw),
                ("CustomerGatewayId", &cgw),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
            ],
        )
        .await;
    vco["VpnConnectionId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn first_read_then_changes_since_a_revision() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    let full = watch_ok(&api, &gw, None, "0").await;
    assert_eq!(full["Changed"], true);
    assert_eq!(full["Full"], true);
    assert_eq!(full["VcoRoutesChanged"], true);
    assert_eq!(full["VpnGateway"]["VpnGatewayId"], gw.as_str());
    assert_eq!(ids(&full), vec![vco.clone()]);
    assert!(
        !full["VpnConnections"][0]["IkeConfig"]["Psk"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    let cgws = full["CustomerGateways"].as_array().unwrap();
    assert_eq!(cgws.len(), 1);
    assert_eq!(cgws[0]["CustomerGatewayId"], cgw.as_str());
    let rev = full["Revision"].as_str().unwrap().to_owned();

    // Nothing new: answered after the wait, unchanged.
    let same = watch_ok(&api, &gw, Some(&rev), "0").await;
    assert_eq!(same["Changed"], false);
    assert_eq!(same["Revision"], rev.as_str());

    // The same configuration digest as from the public answers, so that
    // the agent's reports are accepted.
    let described = api
        .ok("DescribeVpnConnections", &[("VpnGatewayId", &gw)])
        .await;
    let gateway = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    let ip = cgws[0]["IpAddress"].as_str().unwrap().to_owned();
    let lookup = |_: &str| Some(ip.clone());
    // Both read into the answers' types, as the agent reads them.
    let described: describe_vpn_connections::Answer = serde_json::from_value(described).unwrap();
    let gateway = serde_json::from_value(gateway).unwrap();
    let from_describe = spec_from_api(
        &described.vpn_connections.vpn_connection[0],
        &gateway,
        &lookup,
    )
    .unwrap();
    let watched: WatchAnswer = serde_json::from_value(full.clone()).unwrap();
    let from_watch = spec_from_api(
        &watched.vpn_connections[0],
        watched.vpn_gateway.as_ref().unwrap(),
        &lookup,
    )
    .unwrap();
    assert_eq!(from_watch.digest(), from_describe.digest());

    // A change: only it.
    let second = create_connection(&api, &gw, "47.1.2.3").await;
    let delta = watch_ok(&api, &gw, Some(&rev), "0").await;
    assert_eq!(
        (delta["Changed"].clone(), delta["Full"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(ids(&delta), vec![second.clone()]);
    assert_eq!(delta["VcoRoutesChanged"], false);
    let rev2 = delta["Revision"].as_str().unwrap().to_owned();
    assert!(rev2.parse::<i64>().unwrap() > rev.parse::<i64>().unwrap());

    // A deleted connection is named.
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &second)])
        .await;
    let delta = watch_ok(&api, &gw, Some(&rev2), "0").await;
    assert_eq!(delta["DeletedVpnConnectionIds"], json!([second]));
    assert!(ids(&delta).is_empty());
    let rev3 = delta["Revision"].as_str().unwrap().to_owned();

    // A VCO route is not in the answer: the agent is told to read them.
    api.ok(
        "CreateVcoRouteEntry",
        &[
            ("VpnConnectionId", &vco),
            ("RouteDest", "192.168.10.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
        ],
    )
    .await;
    let delta = watch_ok(&api, &gw, Some(&rev3), "0").await;
    assert_eq!(
        (delta["Changed"].clone(), delta["VcoRoutesChanged"].clone()),
        (json!(true), json!(true))
    );
    assert!(ids(&delta).is_empty());
    // Named by connection, so that the agent reads only its routes.
    assert_eq!(delta["VcoRouteConnectionIds"], json!([vco]));
    // An external VPC (vpngw does not know it): no vSwitch blocks.
    assert_eq!(delta["VSwitchCidrBlocks"], json!([]));

    // A revision the server does not know (a restored database): everything.
    let again = watch_ok(&api, &gw, Some("999999"), "0").await;
    assert_eq!(again["Full"], true);
    assert_eq!(ids(&again), vec![vco]);
}

#[tokio::test]
async fn a_gateway_is_told_the_vswitch_blocks_of_its_vpc() {
    let api = TestApi::new().await;
    let vpc = api.ok("CreateVpc", &[("CidrBlock", "172.16.0.0/12")]).await;
    let vpc = vpc["VpcId"].as_str().unwrap().to_owned();
    let vswitch = |block: &'static str| {
        let (api, vpc) = (&api, vpc.clone());
        async move {
            let p = [
                ("VpcId", vpc.as_str()),
                ("ZoneId", "cn-hangzhou-k"),
                ("CidrBlock", block),
            ];
            api.ok("CreateVSwitch", &p).await["VSwitchId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let first = vswitch("172.16.1.0/24").await;
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[("VpcId", &vpc), ("VSwitchId", &first), ("Bandwidth", "10")],
        )
        .await;
    let gw = gw["VpnGatewayId"].as_str().unwrap().to_owned();
    let full = watch_ok(&api, &gw, None, "0").await;
    assert_eq!(full["VSwitchCidrBlocks"], json!(["172.16.1.0/24"]));
    let rev = full["Revision"].as_str().unwrap().to_owned();
    // A new vSwitch of the VPC moves the gateway's revision.
    vswitch("172.16.8.0/21").await;
    let delta = watch_ok(&api, &gw, Some(&rev), "0").await;
    assert_eq!(delta["Changed"], true);
    assert_eq!(
        delta["VSwitchCidrBlocks"],
        json!(["172.16.1.0/24", "172.16.8.0/21"])
    );
}

#[tokio::test]
async fn a_waiting_watch_answers_as_soon_as_a_change_commits() {
    let api = std::sync::Arc::new(TestApi::new().await);
    let (gw, _, vco) = api.connection().await;
    let rev = watch_ok(&api, &gw, None, "0").await["Revision"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = Instant::now();
    let waiter = {
        let (api, gw, rev) = (api.clone(), gw.clone(), rev.clone());
        tokio::spawn(async move { watch_ok(&api, &gw, Some(&rev), "20").await })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "nothing changed yet");
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            ("RemoteSubnet", "192.168.7.0/24"),
        ],
    )
    .await;
    let answer = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("answered after the change")
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(answer["Changed"], true);
    assert_eq!(ids(&answer), vec![vco.clone()]);
    assert_eq!(
        answer["VpnConnections"][0]["RemoteSubnet"],
        "192.168.7.0/24"
    );

    // A report changes no desired state: the revision stays. (Taken afresh:
    // the modify's automatic routes (AutoConfigRoute) commit after the
    // connection, so the answer above may predate them.)
    let rev = watch_ok(&api, &gw, None, "0").await["Revision"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = json!({
        "Agent": "test", "Backend": "simulated", "MeasuredAt": 1,
        "Connections": [{"VpnConnectionId": vco, "ConfigDigest": "x", "Status": "ike_sa_not_established"}],
        "Events": [{"VpnConnectionId": vco, "Time": 1, "Message": "hello"}],
    })
    .to_string();
    let a = api
        .call_as(
            KEY_ID,
            SECRET,
            VPNGW,
            "ReportDataplaneState",
            &[("VpnGatewayId", &gw), ("Report", &report)],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(watch_ok(&api, &gw, Some(&rev), "0").await["Changed"], false);

    // A closing server stops waiting at once.
    let waiter = {
        let (api, gw, rev) = (api.clone(), gw.clone(), rev.clone());
        tokio::spawn(async move { watch_ok(&api, &gw, Some(&rev), "20").await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    api.service.close();
    let answer = tokio::time::timeout(Duration::from_secs(2), waiter)
        .await
        .expect("answered when the server closes")
        .unwrap();
    assert_eq!(answer["Changed"], false);
}

#[tokio::test]
async fn bad_input_and_ram_are_refused() {
    let api = TestApi::new().await;
    let (gw, _, _) = api.connection().await;
    for (wait, revision) in [("26", None), ("-1", None), ("x", None), ("0", Some("abc"))] {
        let a = watch(&api, &gw, revision, wait).await;
        assert_eq!(a.status, 400, "{wait} {revision:?}: {}", a.body);
    }
    let a = watch(&api, "vpn-doesnotexist0000000", None, "0").await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnGatewayInstanceId.NotFound")
    );
    let a = api
        .call_as(
            KEY_ID,
            SECRET,
            VPNGW,
            "WatchGatewayState",
            &[("WaitSeconds", "0")],
        )
        .await;
    assert_eq!(
        (a.status, a.code()),
        (400, "MissingParameter"),
        "{}",
        a.body
    );

    // A RAM user needs vpngw:WatchGatewayState on the gateway.
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
    let params = [("VpnGatewayId", gw.as_str()), ("WaitSeconds", "0")];
    let a = api
        .call_as(&id, &secret, VPNGW, "WatchGatewayState", &params)
        .await;
    assert_eq!((a.status, a.code()), (403, "Forbidden.RAM"), "{}", a.body);
    let policy = json!({"Version": "1", "Statement": [{"Effect": "Allow",
        "Action": "vpngw:WatchGatewayState",
        "Resource": format!("acs:vpc:cn-hangzhou:*:vpngateway/{gw}")}]})
    .to_string();
    for (action, params) in [
        (
            "CreatePolicy",
            vec![
                ("PolicyName", "agent-watch"),
                ("PolicyDocument", policy.as_str()),
            ],
        ),
        (
            "AttachPolicyToUser",
            vec![
                ("UserName", "agent"),
                ("PolicyType", "Custom"),
                ("PolicyName", "agent-watch"),
            ],
        ),
    ] {
        let p = api.call_as(KEY_ID, SECRET, RAM, action, &params).await;
        assert_eq!(p.status, 200, "{}", p.body);
    }
    let a = api
        .call_as(&id, &secret, VPNGW, "WatchGatewayState", &params)
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    // Not another gateway.
    let (other, _, _) = api.connection().await;
    let a = api
        .call_as(
            &id,
            &secret,
            VPNGW,
            "WatchGatewayState",
            &[("VpnGatewayId", other.as_str()), ("WaitSeconds", "0")],
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.body);
}
