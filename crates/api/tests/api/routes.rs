//! Routes in process: the VCO routes of a connection, and a VPN gateway's
//! destination-based and policy-based routes. Every response shape and
//! every error is pinned as a snapshot, and every refused request is shown
//! to change nothing.

// Test helpers: failing loudly is the point.
#![allow(clippy::unwrap_used)]

use crate::common::TestApi;
use serde_json::Value;
use vpngw_api::Config;

/// `answer.stable()`, with the IDs the redaction does not know about
/// (`NextHop` values, IDs inside messages) replaced by their labels.
fn scrub(mut v: Value, ids: &[(&str, &str)]) -> Value {
    fn walk(v: &mut Value, ids: &[(&str, &str)]) {
        match v {
            Value::String(s) => {
                for (id, label) in ids {
                    if s.contains(id) {
                        *s = s.replace(id, label);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|i| walk(i, ids)),
            Value::Object(map) => map.values_mut().for_each(|i| walk(i, ids)),
            _ => {}
        }
    }
    walk(&mut v, ids);
    v
}

/// One refused request: what it shows, the action, its parameters, and the
/// (status, code) it must get.
type Case<'a> = (&'a str, &'a str, Vec<(String, String)>, (u16, &'a str));

fn code(a: &crate::common::Answer) -> (u16, &str) {
    (a.status, a.code())
}

async fn vco_routes(api: &TestApi, vco: &str, extra: &[(&str, &str)]) -> Value {
    let mut p = vec![("VpnConnectionId", vco)];
    p.extend_from_slice(extra);
    api.ok("DescribeVcoRouteEntries", &p).await
}

async fn gateway_routes(api: &TestApi, gw: &str, extra: &[(&str, &str)]) -> Value {
    let mut p = vec![("VpnGatewayId", gw)];
    p.extend_from_slice(extra);
    api.ok("DescribeVpnRouteEntries", &p).await
}

async fn pbr_routes(api: &TestApi, gw: &str) -> Value {
    api.ok("DescribeVpnPbrRouteEntries", &[("VpnGatewayId", gw)])
        .await
}

fn dests(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| r["RouteDest"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vco_routes_create_describe_modify_delete() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]")];
    let created = api
        .call(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "192.168.10.0/24"),
                ("NextHop", &vco),
                ("Weight", "100"),
                ("Description", "to the branch"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["Weight"], 100);
    assert_eq!(created.body["State"], "published");
    insta::assert_json_snapshot!("vco_create", scrub(created.stable(), &ids));
    api.ok(
        "CreateVcoRouteEntry",
        &[
            ("VpnConnectionId", &vco),
            ("RouteDest", "192.168.20.0/24"),
            ("NextHop", &vco),
            ("Weight", "0"),
        ],
    )
    .await;
    let list = api
        .call("DescribeVcoRouteEntries", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(list.body["TotalCount"], 2);
    // Single-tunnel connections have no route statistics.
    assert!(list.body.get("VpnRouteCounts").is_none());
    insta::assert_json_snapshot!("vco_describe", scrub(list.stable(), &ids));

    // Paging, and the type filter.
    let page = vco_routes(&api, &vco, &[("PageSize", "1"), ("PageNumber", "2")]).await;
    assert_eq!(dests(&page["VcoRouteEntries"]), ["192.168.20.0/24"]);
    assert_eq!(page["TotalCount"], 2);
    assert_eq!(page["PageSize"], 1);
    let bgp = vco_routes(&api, &vco, &[("RouteEntryType", "bgp")]).await;
    assert_eq!(bgp["TotalCount"], 0);
    assert_eq!(bgp["VcoRouteEntries"], Value::Array(vec![]));

    let modified = api
        .call(
            "ModifyVcoRouteEntryWeight",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "192.168.20.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("NewWeight", "100"),
            ],
        )
        .await;
    assert_eq!(modified.status, 200, "{}", modified.body);
    insta::assert_json_snapshot!("vco_modify", modified.stable());
    let list = vco_routes(&api, &vco, &[]).await;
    assert_eq!(list["VcoRouteEntries"][1]["Weight"], 100);

    let deleted = api
        .call(
            "DeleteVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "192.168.10.0/24"),
                ("NextHop", &vco),
                ("Weight", "100"),
            ],
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    insta::assert_json_snapshot!("vco_delete", deleted.stable());
    let list = vco_routes(&api, &vco, &[]).await;
    assert_eq!(dests(&list["VcoRouteEntries"]), ["192.168.20.0/24"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vco_route_errors_change_nothing() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    let (_, _, other) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]"), (other.as_str(), "[other]")];
    let create = |dest: &'static str, hop: String, weight: &'static str| {
        vec![
            ("VpnConnectionId".to_owned(), vco.clone()),
            ("RouteDest".to_owned(), dest.to_owned()),
            ("NextHop".to_owned(), hop),
            ("Weight".to_owned(), weight.to_owned()),
        ]
    };
    let call = |params: Vec<(String, String)>, action: &'static str| {
        let api = &api;
        async move {
            let p: Vec<(&str, &str)> = params
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            api.call(action, &p).await
        }
    };
    api.ok(
        "CreateVcoRouteEntry",
        &[
            ("VpnConnectionId", &vco),
            ("RouteDest", "10.8.0.0/16"),
            ("NextHop", &vco),
            ("Weight", "100"),
        ],
    )
    .await;

    // (what, parameters, action, (status, code))
    type VcoCase<'a> = (&'a str, Vec<(String, String)>, &'a str, (u16, &'a str));
    let mut cases: Vec<VcoCase> = vec![
        (
            "duplicate",
            create("10.8.0.0/16", vco.clone(), "0"),
            "CreateVcoRouteEntry",
            (400, "RouterEntryConflict.Duplicated"),
        ),
        (
            "weight 50",
            create("10.9.0.0/16", vco.clone(), "50"),
            "CreateVcoRouteEntry",
            (400, "InvalidParameter"),
        ),
        (
            "host bits",
            create("10.9.0.1/16", vco.clone(), "0"),
            "CreateVcoRouteEntry",
            (400, "IllegalParam.RouteDest"),
        ),
        (
            "default route",
            create("0.0.0.0/0", vco.clone(), "0"),
            "CreateVcoRouteEntry",
            (400, "IllegalParam.RouteDest"),
        ),
        (
            "next hop is another connection",
            create("10.9.0.0/16", other.clone(), "0"),
            "CreateVcoRouteEntry",
            (400, "InvalidParameter"),
        ),
        (
            "no such connection",
            vec![
                ("VpnConnectionId".to_owned(), "vco-nope".to_owned()),
                ("RouteDest".to_owned(), "10.9.0.0/16".to_owned()),
                ("NextHop".to_owned(), "vco-nope".to_owned()),
                ("Weight".to_owned(), "0".to_owned()),
            ],
            "CreateVcoRouteEntry",
            (404, "InvalidVpnConnectionInstanceId.NotFound"),
        ),
        (
            "missing weight",
            create("10.9.0.0/16", vco.clone(), "")
                .into_iter()
                .filter(|(k, _)| k != "Weight")
                .collect(),
            "CreateVcoRouteEntry",
            (400, "MissingParameter"),
        ),
        (
            "overlay mode",
            create("10.9.0.0/16", vco.clone(), "0")
                .into_iter()
                .chain([("OverlayMode".to_owned(), "Gre".to_owned())])
                .collect(),
            "CreateVcoRouteEntry",
            (400, "InvalidParameter"),
        ),
        (
            "description too long",
            create("10.9.0.0/16", vco.clone(), "0")
                .into_iter()
                .chain([("Description".to_owned(), "d".repeat(101))])
                .collect(),
            "CreateVcoRouteEntry",
            (400, "InvalidDescription"),
        ),
        (
            "delete: no such route",
            create("10.9.0.0/16", vco.clone(), "0"),
            "DeleteVcoRouteEntry",
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "delete: other weight",
            create("10.8.0.0/16", vco.clone(), "0"),
            "DeleteVcoRouteEntry",
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "modify: no such route",
            create("10.9.0.0/16", vco.clone(), "0")
                .into_iter()
                .chain([("NewWeight".to_owned(), "100".to_owned())])
                .collect(),
            "ModifyVcoRouteEntryWeight",
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "modify: new weight 7",
            create("10.8.0.0/16", vco.clone(), "100")
                .into_iter()
                .chain([("NewWeight".to_owned(), "7".to_owned())])
                .collect(),
            "ModifyVcoRouteEntryWeight",
            (400, "InvalidParameter"),
        ),
        (
            "describe: route type",
            vec![
                ("VpnConnectionId".to_owned(), vco.clone()),
                ("RouteEntryType".to_owned(), "static".to_owned()),
            ],
            "DescribeVcoRouteEntries",
            (400, "InvalidParameter"),
        ),
        (
            "describe: page size",
            vec![
                ("VpnConnectionId".to_owned(), vco.clone()),
                ("PageSize".to_owned(), "51".to_owned()),
            ],
            "DescribeVcoRouteEntries",
            (400, "InvalidParameter"),
        ),
        (
            "describe: no such connection",
            vec![("VpnConnectionId".to_owned(), "vco-nope".to_owned())],
            "DescribeVcoRouteEntries",
            (404, "InvalidVpnConnectionInstanceId.NotFound"),
        ),
    ];
    let mut answers = Vec::new();
    for (what, params, action, want) in cases.drain(..) {
        let a = call(params, action).await;
        assert_eq!(code(&a), want, "{what}: {}", a.body);
        answers.push((what, scrub(a.stable(), &ids)));
    }
    insta::assert_json_snapshot!("vco_errors", answers);
    // DryRun validates and writes nothing.
    let dry = api
        .call(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "10.9.0.0/16"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("DryRun", "true"),
            ],
        )
        .await;
    assert_eq!(code(&dry), (400, "DryRunOperation"));
    let list = vco_routes(&api, &vco, &[]).await;
    assert_eq!(dests(&list["VcoRouteEntries"]), ["10.8.0.0/16"]);
    assert_eq!(list["VcoRouteEntries"][0]["Weight"], 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vco_route_client_tokens_and_quota() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    let params = [
        ("VpnConnectionId", vco.as_str()),
        ("RouteDest", "192.168.1.0/24"),
        ("NextHop", vco.as_str()),
        ("Weight", "0"),
        ("ClientToken", "tok-route-1"),
    ];
    let first = api.ok("CreateVcoRouteEntry", &params).await;
    // Same token, same parameters: the first answer, nothing new.
    let again = api.ok("CreateVcoRouteEntry", &params).await;
    assert_eq!(first["CreateTime"], again["CreateTime"]);
    let mut other = params;
    other[1] = ("RouteDest", "192.168.2.0/24");
    let mismatch = api.call("CreateVcoRouteEntry", &other).await;
    assert_eq!(code(&mismatch), (400, "IdempotentParameterMismatch"));
    assert_eq!(vco_routes(&api, &vco, &[]).await["TotalCount"], 1);
    // The quota: 20 routes per connection.
    for i in 2..=20 {
        let dest = format!("172.16.{i}.0/24");
        api.ok(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", &dest),
                ("NextHop", &vco),
                ("Weight", "0"),
            ],
        )
        .await;
    }
    let full = api
        .call(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "172.17.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
            ],
        )
        .await;
    assert_eq!(code(&full), (400, "Resource.QuotaFull"));
    assert_eq!(vco_routes(&api, &vco, &[]).await["TotalCount"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vco_routes_of_an_attachment_go_with_it() {
    let api = TestApi::new().await;
    let cgw = api
        .ok("CreateCustomerGateway", &[("IpAddress", "172.24.9.9")])
        .await;
    let cgw = cgw["CustomerGatewayId"].as_str().unwrap().to_owned();
    let att = api
        .ok(
            "CreateVpnAttachment",
            &[
                ("CustomerGatewayId", &cgw),
                ("LocalSubnet", "10.1.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
            ],
        )
        .await;
    let att = att["VpnConnectionId"].as_str().unwrap().to_owned();
    for dest in ["192.168.1.0/24", "192.168.2.0/24"] {
        api.ok(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &att),
                ("RouteDest", dest),
                ("NextHop", &att),
                ("Weight", "0"),
            ],
        )
        .await;
    }
    let list = vco_routes(&api, &att, &[]).await;
    assert_eq!(
        dests(&list["VcoRouteEntries"]),
        ["192.168.1.0/24", "192.168.2.0/24"]
    );
    // Deleting the attachment takes its routes with it.
    api.ok("DeleteVpnAttachment", &[("VpnConnectionId", &att)])
        .await;
    let gone = api
        .call("DescribeVcoRouteEntries", &[("VpnConnectionId", &att)])
        .await;
    assert_eq!(
        code(&gone),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_routes_create_describe_modify_publish_delete() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]")];
    let created = api
        .call(
            "CreateVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("PublishVpc", "true"),
                ("Description", "dbr"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["State"], "published");
    assert_eq!(created.body["VpnInstanceId"], gw.as_str());
    insta::assert_json_snapshot!("dbr_create", scrub(created.stable(), &ids));
    api.ok(
        "CreateVpnRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteDest", "10.0.1.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
            ("PublishVpc", "false"),
        ],
    )
    .await;
    let list = api
        .call("DescribeVpnRouteEntries", &[("VpnGatewayId", &gw)])
        .await;
    assert_eq!(list.body["TotalCount"], 2);
    assert_eq!(
        list.body["VpnRouteCounts"]["VpnRouteCount"][0]["RouteCount"],
        2
    );
    insta::assert_json_snapshot!("dbr_describe", scrub(list.stable(), &ids));

    let modified = api
        .call(
            "ModifyVpnRouteEntryWeight",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("NewWeight", "100"),
            ],
        )
        .await;
    assert_eq!(modified.status, 200, "{}", modified.body);
    insta::assert_json_snapshot!("dbr_modify", modified.stable());
    let published = api
        .call(
            "PublishVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.1.0/24"),
                ("NextHop", &vco),
                ("RouteType", "dbr"),
                ("PublishVpc", "true"),
            ],
        )
        .await;
    assert_eq!(published.status, 200, "{}", published.body);
    insta::assert_json_snapshot!("dbr_publish", published.stable());
    let list = gateway_routes(&api, &gw, &[]).await;
    let entries = &list["VpnRouteEntries"]["VpnRouteEntry"];
    assert_eq!(entries[0]["Weight"], 100);
    assert_eq!(entries[1]["State"], "published");

    let deleted = api
        .call(
            "DeleteVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "100"),
            ],
        )
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    insta::assert_json_snapshot!("dbr_delete", deleted.stable());
    let list = gateway_routes(&api, &gw, &[]).await;
    assert_eq!(
        dests(&list["VpnRouteEntries"]["VpnRouteEntry"]),
        ["10.0.1.0/24"]
    );
    // A second delete: the code Terraform takes as "already gone".
    let again = api
        .call(
            "DeleteVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "100"),
            ],
        )
        .await;
    assert_eq!(code(&again), (404, "InvalidRouteEntry.NotFound"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_route_errors_change_nothing() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let (other_gw, _, other_vco) = api.connection().await;
    let ids = [
        (vco.as_str(), "[vco]"),
        (other_vco.as_str(), "[other-vco]"),
        (other_gw.as_str(), "[other-gw]"),
    ];
    api.ok(
        "CreateVpnRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
            ("PublishVpc", "false"),
        ],
    )
    .await;
    let base = |dest: &'static str, hop: &str, weight: &'static str| -> Vec<(String, String)> {
        vec![
            ("VpnGatewayId".into(), gw.clone()),
            ("RouteDest".into(), dest.into()),
            ("NextHop".into(), hop.into()),
            ("Weight".into(), weight.into()),
            ("PublishVpc".into(), "false".into()),
        ]
    };
    let with = |mut p: Vec<(String, String)>, k: &str, v: &str| {
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push((k.into(), v.into()));
        }
        p
    };
    let cases: Vec<Case> = vec![
        (
            "duplicate",
            "CreateVpnRouteEntry",
            base("10.0.0.0/24", &vco, "0"),
            (400, "RouterEntryConflict.Duplicated"),
        ),
        (
            "next hop of another gateway",
            "CreateVpnRouteEntry",
            base("10.0.9.0/24", &other_vco, "0"),
            (404, "InvalidVpnConnectionInstanceId.NotFound"),
        ),
        (
            "next hop is nothing",
            "CreateVpnRouteEntry",
            base("10.0.9.0/24", "vco-nope", "0"),
            (404, "InvalidVpnConnectionInstanceId.NotFound"),
        ),
        (
            "no such gateway",
            "CreateVpnRouteEntry",
            with(base("10.0.9.0/24", &vco, "0"), "VpnGatewayId", "vpn-nope"),
            (404, "InvalidVpnGatewayInstanceId.NotFound"),
        ),
        (
            "weight 1",
            "CreateVpnRouteEntry",
            base("10.0.9.0/24", &vco, "1"),
            (400, "InvalidParameter"),
        ),
        (
            "bad CIDR",
            "CreateVpnRouteEntry",
            base("10.0.9.0", &vco, "0"),
            (400, "IllegalParam.RouteDest"),
        ),
        (
            "PublishVpc missing",
            "CreateVpnRouteEntry",
            with(base("10.0.9.0/24", &vco, "0"), "PublishVpc", ""),
            (400, "MissingParameter"),
        ),
        (
            "PublishVpc not a boolean",
            "CreateVpnRouteEntry",
            with(base("10.0.9.0/24", &vco, "0"), "PublishVpc", "yes"),
            (400, "InvalidParameter"),
        ),
        (
            "description with a URL",
            "CreateVpnRouteEntry",
            with(
                base("10.0.9.0/24", &vco, "0"),
                "Description",
                "https://example.com",
            ),
            (400, "InvalidDescription"),
        ),
        (
            "delete: weight differs",
            "DeleteVpnRouteEntry",
            base("10.0.0.0/24", &vco, "0"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "modify: no such route",
            "ModifyVpnRouteEntryWeight",
            with(base("10.0.9.0/24", &vco, "0"), "NewWeight", "100"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "publish: route type",
            "PublishVpnRouteEntry",
            with(base("10.0.0.0/24", &vco, "0"), "RouteType", "static"),
            (400, "InvalidParameter"),
        ),
        (
            "publish: no such route",
            "PublishVpnRouteEntry",
            with(base("10.0.9.0/24", &vco, "0"), "RouteType", "dbr"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "describe: no such gateway",
            "DescribeVpnRouteEntries",
            vec![("VpnGatewayId".into(), "vpn-nope".into())],
            (404, "InvalidVpnGatewayInstanceId.NotFound"),
        ),
        (
            "describe: route type",
            "DescribeVpnRouteEntries",
            vec![
                ("VpnGatewayId".into(), gw.clone()),
                ("RouteEntryType".into(), "all".into()),
            ],
            (400, "InvalidParameter"),
        ),
    ];
    let mut answers = Vec::new();
    for (what, action, params, want) in cases {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = api.call(action, &p).await;
        assert_eq!(code(&a), want, "{what}: {}", a.body);
        answers.push((what, scrub(a.stable(), &ids)));
    }
    insta::assert_json_snapshot!("dbr_errors", answers);
    let list = gateway_routes(&api, &gw, &[]).await;
    assert_eq!(list["TotalCount"], 1);
    assert_eq!(list["VpnRouteEntries"]["VpnRouteEntry"][0]["Weight"], 100);
    assert_eq!(
        list["VpnRouteEntries"]["VpnRouteEntry"][0]["State"],
        "normal"
    );
    assert_eq!(gateway_routes(&api, &other_gw, &[]).await["TotalCount"], 0);
    // The quota: 20 destination-based routes per gateway.
    for i in 1..20 {
        let dest = format!("172.16.{i}.0/24");
        api.ok(
            "CreateVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", &dest),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("PublishVpc", "false"),
            ],
        )
        .await;
    }
    let full = api
        .call(
            "CreateVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "172.17.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("PublishVpc", "false"),
            ],
        )
        .await;
    assert_eq!(code(&full), (400, "Resource.QuotaFull"));
    assert_eq!(gateway_routes(&api, &gw, &[]).await["TotalCount"], 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bgp_learned_routes_are_listed_apart_and_cannot_be_deleted() {
    use vpngw_model::{VpnRoute, routes::RouteEntryType};
    use vpngw_store::{InsertGuard, StoreExt};
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]")];
    api.ok(
        "CreateVpnRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
            ("PublishVpc", "true"),
        ],
    )
    .await;
    // What a data plane that learned a route over BGP would store.
    let scope_account = {
        let store = api.service.store();
        let accounts = store.accounts().await.unwrap();
        accounts[0].id.clone()
    };
    let learned = VpnRoute {
        id: VpnRoute::key(&gw, RouteEntryType::Bgp, "172.16.0.0/16", &vco),
        region_id: "cn-hangzhou".into(),
        vpn_gateway_id: gw.clone(),
        route_dest: "172.16.0.0/16".into(),
        next_hop: vco.clone(),
        weight: 100,
        overlay_mode: "Ipsec".into(),
        description: String::new(),
        publish_vpc: true,
        route_entry_type: RouteEntryType::Bgp,
        source: "VPN_BGP".into(),
        as_path: "65010".into(),
        community: "65010:100".into(),
        create_time_ms: 1,
    };
    api.service
        .store()
        .insert_typed(&scope_account, &learned, InsertGuard::default())
        .await
        .unwrap();
    let custom = gateway_routes(&api, &gw, &[]).await;
    assert_eq!(custom["TotalCount"], 1);
    let bgp = api
        .call(
            "DescribeVpnRouteEntries",
            &[("VpnGatewayId", &gw), ("RouteEntryType", "bgp")],
        )
        .await;
    assert_eq!(bgp.body["TotalCount"], 1);
    assert_eq!(
        bgp.body["VpnRouteCounts"]["VpnRouteCount"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    insta::assert_json_snapshot!("dbr_describe_bgp", scrub(bgp.stable(), &ids));
    let delete = api
        .call(
            "DeleteVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "172.16.0.0/16"),
                ("NextHop", &vco),
                ("Weight", "100"),
            ],
        )
        .await;
    assert_eq!(code(&delete), (404, "InvalidRouteEntry.NotFound"));
    // The connection's deletion takes learned routes too.
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let bgp = gateway_routes(&api, &gw, &[("RouteEntryType", "bgp")]).await;
    assert_eq!(bgp["TotalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pbr_routes_create_describe_modify_publish_delete() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]")];
    let created = api
        .call(
            "CreateVpnPbrRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteSource", "192.168.1.0/24"),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "100"),
                ("PublishVpc", "true"),
                ("Description", "pbr"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body["Priority"], 10);
    insta::assert_json_snapshot!("pbr_create", scrub(created.stable(), &ids));
    api.ok(
        "CreateVpnPbrRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteSource", "192.168.2.0/24"),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "0"),
            ("Priority", "5"),
            ("PublishVpc", "false"),
        ],
    )
    .await;
    let list = api
        .call("DescribeVpnPbrRouteEntries", &[("VpnGatewayId", &gw)])
        .await;
    assert_eq!(list.body["TotalCount"], 2);
    insta::assert_json_snapshot!("pbr_describe", scrub(list.stable(), &ids));

    let name = |source: &'static str, weight: &'static str| {
        vec![
            ("VpnGatewayId", gw.clone()),
            ("RouteSource", source.to_owned()),
            ("RouteDest", "10.0.0.0/24".to_owned()),
            ("NextHop", vco.clone()),
            ("Weight", weight.to_owned()),
        ]
    };
    let call = |action: &'static str,
                mut p: Vec<(&'static str, String)>,
                extra: &[(&'static str, &str)]| {
        let api = &api;
        for (k, v) in extra {
            p.push((k, (*v).to_owned()));
        }
        async move {
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            api.call(action, &p).await
        }
    };
    let a = call(
        "ModifyVpnPbrRouteEntryWeight",
        name("192.168.2.0/24", "0"),
        &[("NewWeight", "100")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    insta::assert_json_snapshot!("pbr_modify_weight", a.stable());
    let a = call(
        "ModifyVpnPbrRouteEntryPriority",
        name("192.168.2.0/24", "100"),
        &[("Priority", "5"), ("NewPriority", "1")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    insta::assert_json_snapshot!("pbr_modify_priority", a.stable());
    let a = call(
        "ModifyVpnPbrRouteEntryAttribute",
        name("192.168.1.0/24", "100"),
        &[
            ("Priority", "10"),
            ("NewPriority", "20"),
            ("NewWeight", "0"),
        ],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    insta::assert_json_snapshot!("pbr_modify_attribute", a.stable());
    let list = pbr_routes(&api, &gw).await;
    let entries = &list["VpnPbrRouteEntries"]["VpnPbrRouteEntry"];
    assert_eq!(
        (entries[0]["Weight"].clone(), entries[0]["Priority"].clone()),
        (0.into(), 20.into())
    );
    assert_eq!(
        (entries[1]["Weight"].clone(), entries[1]["Priority"].clone()),
        (100.into(), 1.into())
    );

    // Publish names destination and next hop: every source follows.
    let a = call(
        "PublishVpnRouteEntry",
        vec![
            ("VpnGatewayId", gw.clone()),
            ("RouteDest", "10.0.0.0/24".to_owned()),
            ("NextHop", vco.clone()),
            ("RouteType", "pbr".to_owned()),
            ("PublishVpc", "true".to_owned()),
        ],
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let list = pbr_routes(&api, &gw).await;
    for e in list["VpnPbrRouteEntries"]["VpnPbrRouteEntry"]
        .as_array()
        .unwrap()
    {
        assert_eq!(e["State"], "published");
    }

    let a = call(
        "DeleteVpnPbrRouteEntry",
        name("192.168.1.0/24", "0"),
        &[("Priority", "20")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    insta::assert_json_snapshot!("pbr_delete", a.stable());
    let a = call("DeleteVpnPbrRouteEntry", name("192.168.2.0/24", "100"), &[]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(pbr_routes(&api, &gw).await["TotalCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pbr_route_errors_change_nothing() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let (_, _, other_vco) = api.connection().await;
    let ids = [(vco.as_str(), "[vco]"), (other_vco.as_str(), "[other-vco]")];
    api.ok(
        "CreateVpnPbrRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteSource", "192.168.1.0/24"),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
            ("Priority", "7"),
            ("PublishVpc", "false"),
        ],
    )
    .await;
    let base = |source: &'static str, hop: &str, weight: &'static str| -> Vec<(String, String)> {
        vec![
            ("VpnGatewayId".into(), gw.clone()),
            ("RouteSource".into(), source.into()),
            ("RouteDest".into(), "10.0.0.0/24".into()),
            ("NextHop".into(), hop.into()),
            ("Weight".into(), weight.into()),
            ("PublishVpc".into(), "false".into()),
        ]
    };
    let with = |mut p: Vec<(String, String)>, k: &str, v: &str| {
        p.retain(|(n, _)| n != k);
        if !v.is_empty() {
            p.push((k.into(), v.into()));
        }
        p
    };
    let cases: Vec<Case> = vec![
        (
            "duplicate",
            "CreateVpnPbrRouteEntry",
            base("192.168.1.0/24", &vco, "0"),
            (400, "RouterEntryConflict.Duplicated"),
        ),
        (
            "next hop of another gateway",
            "CreateVpnPbrRouteEntry",
            with(
                base("192.168.1.0/24", &vco, "100"),
                "RouteDest",
                "10.0.0.0/24",
            )
            .into_iter()
            .map(|(k, v)| {
                if k == "NextHop" {
                    (k, other_vco.clone())
                } else {
                    (k, v)
                }
            })
            .collect(),
            (404, "InvalidVpnConnectionInstanceId.NotFound"),
        ),
        (
            "priority 0",
            "CreateVpnPbrRouteEntry",
            with(base("192.168.9.0/24", &vco, "0"), "Priority", "0"),
            (400, "InvalidParameter"),
        ),
        (
            "priority 101",
            "CreateVpnPbrRouteEntry",
            with(base("192.168.9.0/24", &vco, "0"), "Priority", "101"),
            (400, "InvalidParameter"),
        ),
        (
            "source not a CIDR",
            "CreateVpnPbrRouteEntry",
            base("192.168.9.300/24", &vco, "0"),
            (400, "IllegalParam.RouteSource"),
        ),
        (
            "missing source",
            "CreateVpnPbrRouteEntry",
            with(base("192.168.9.0/24", &vco, "0"), "RouteSource", ""),
            (400, "MissingParameter"),
        ),
        (
            "delete: priority differs",
            "DeleteVpnPbrRouteEntry",
            with(base("192.168.1.0/24", &vco, "100"), "Priority", "8"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "delete: weight differs",
            "DeleteVpnPbrRouteEntry",
            base("192.168.1.0/24", &vco, "0"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "modify priority: 200",
            "ModifyVpnPbrRouteEntryPriority",
            with(base("192.168.1.0/24", &vco, "100"), "NewPriority", "200"),
            (400, "InvalidParameter"),
        ),
        (
            "modify attribute: nothing to change",
            "ModifyVpnPbrRouteEntryAttribute",
            with(base("192.168.1.0/24", &vco, "100"), "Priority", "7"),
            (400, "MissingParameter"),
        ),
        (
            "modify attribute: priority required",
            "ModifyVpnPbrRouteEntryAttribute",
            with(base("192.168.1.0/24", &vco, "100"), "NewWeight", "0"),
            (400, "MissingParameter"),
        ),
        (
            "modify weight: no such route",
            "ModifyVpnPbrRouteEntryWeight",
            with(base("192.168.9.0/24", &vco, "100"), "NewWeight", "0"),
            (404, "InvalidRouteEntry.NotFound"),
        ),
        (
            "describe: no such gateway",
            "DescribeVpnPbrRouteEntries",
            vec![("VpnGatewayId".into(), "vpn-nope".into())],
            (404, "InvalidVpnGatewayInstanceId.NotFound"),
        ),
    ];
    let mut answers = Vec::new();
    for (what, action, params, want) in cases {
        let p: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let a = api.call(action, &p).await;
        assert_eq!(code(&a), want, "{what}: {}", a.body);
        answers.push((what, scrub(a.stable(), &ids)));
    }
    insta::assert_json_snapshot!("pbr_errors", answers);

    // One active route per source and destination: a standby (weight 0)
    // through another connection of the gateway is fine, a second active
    // one is not, neither by create nor by modify.
    let (vco2, _) = second_connection(&api, &gw).await;
    let ids = [(vco.as_str(), "[vco]"), (vco2.as_str(), "[vco2]")];
    let pair = |weight: &str| {
        [
            ("VpnGatewayId", gw.clone()),
            ("RouteSource", "192.168.1.0/24".to_owned()),
            ("RouteDest", "10.0.0.0/24".to_owned()),
            ("NextHop", vco2.clone()),
            ("Weight", weight.to_owned()),
            ("PublishVpc", "false".to_owned()),
        ]
    };
    let p = pair("100");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let active = api.call("CreateVpnPbrRouteEntry", &p).await;
    assert_eq!(code(&active), (400, "InvalidParameter"));
    insta::assert_json_snapshot!("pbr_second_active", scrub(active.stable(), &ids));
    let p = pair("0");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.ok("CreateVpnPbrRouteEntry", &p).await;
    let p = pair("0");
    let mut p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    p.push(("NewWeight", "100"));
    let promote = api.call("ModifyVpnPbrRouteEntryWeight", &p).await;
    assert_eq!(code(&promote), (400, "InvalidParameter"));
    let list = pbr_routes(&api, &gw).await;
    assert_eq!(list["TotalCount"], 2);
    let weights: Vec<i64> = list["VpnPbrRouteEntries"]["VpnPbrRouteEntry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Weight"].as_i64().unwrap())
        .collect();
    assert_eq!(weights, [100, 0]);

    // The quota, with the cloud's message.
    for i in 3..=20 {
        let source = format!("172.16.{i}.0/24");
        api.ok(
            "CreateVpnPbrRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteSource", &source),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("PublishVpc", "false"),
            ],
        )
        .await;
    }
    let full = api
        .call(
            "CreateVpnPbrRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteSource", "172.17.0.0/24"),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
                ("PublishVpc", "false"),
            ],
        )
        .await;
    assert_eq!(code(&full), (400, "QuotaExceeded.PolicyBasedRoute"));
    insta::assert_json_snapshot!("pbr_quota", full.stable());
    assert_eq!(pbr_routes(&api, &gw).await["TotalCount"], 20);
}

/// A second connection on the same gateway, to a new customer gateway.
async fn second_connection(api: &TestApi, gw: &str) -> (String, String) {
    let cgw = api
        .ok("CreateCustomerGateway", &[("IpAddress", "172.24.77.7")])
        .await;
    let cgw = cgw["CustomerGatewayId"].as_str().unwrap().to_owned();
    let vco = api
        .ok(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", gw),
                ("CustomerGatewayId", &cgw),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
                ("AutoConfigRoute", "false"),
            ],
        )
        .await;
    (vco["VpnConnectionId"].as_str().unwrap().to_owned(), cgw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_a_route_withdraws_its_twin_in_the_other_table() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    for (action, extra) in [
        ("CreateVpnRouteEntry", None),
        ("CreateVpnPbrRouteEntry", Some("192.168.1.0/24")),
    ] {
        let mut p = vec![
            ("VpnGatewayId", gw.as_str()),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", vco.as_str()),
            ("Weight", "100"),
            ("PublishVpc", "true"),
        ];
        if let Some(source) = extra {
            p.push(("RouteSource", source));
        }
        api.ok(action, &p).await;
    }
    api.ok(
        "PublishVpnRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("RouteType", "pbr"),
            ("PublishVpc", "false"),
        ],
    )
    .await;
    let dbr = gateway_routes(&api, &gw, &[]).await;
    assert_eq!(
        dbr["VpnRouteEntries"]["VpnRouteEntry"][0]["State"],
        "normal"
    );
    let pbr = pbr_routes(&api, &gw).await;
    assert_eq!(
        pbr["VpnPbrRouteEntries"]["VpnPbrRouteEntry"][0]["State"],
        "normal"
    );
    // Publishing touches only the table named.
    api.ok(
        "PublishVpnRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("RouteType", "dbr"),
            ("PublishVpc", "true"),
        ],
    )
    .await;
    let pbr = pbr_routes(&api, &gw).await;
    assert_eq!(
        pbr["VpnPbrRouteEntries"]["VpnPbrRouteEntry"][0]["State"],
        "normal"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_connection_deletes_its_routes() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    let (vco2, cgw2) = second_connection(&api, &gw).await;
    for hop in [&vco, &vco2] {
        api.ok(
            "CreateVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", hop),
                ("Weight", if hop == &vco { "100" } else { "0" }),
                ("PublishVpc", "true"),
            ],
        )
        .await;
    }
    api.ok(
        "CreateVpnPbrRouteEntry",
        &[
            ("VpnGatewayId", &gw),
            ("RouteSource", "192.168.1.0/24"),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
            ("PublishVpc", "true"),
        ],
    )
    .await;
    api.ok(
        "CreateVcoRouteEntry",
        &[
            ("VpnConnectionId", &vco),
            ("RouteDest", "10.0.0.0/24"),
            ("NextHop", &vco),
            ("Weight", "100"),
        ],
    )
    .await;
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let dbr = gateway_routes(&api, &gw, &[]).await;
    assert_eq!(dbr["TotalCount"], 1);
    assert_eq!(
        dbr["VpnRouteEntries"]["VpnRouteEntry"][0]["NextHop"],
        vco2.as_str()
    );
    assert_eq!(pbr_routes(&api, &gw).await["TotalCount"], 0);
    // A new connection with the old one's customer gateway starts clean.
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
    api.ok("DeleteVpnConnection", &[("VpnConnectionId", &vco2)])
        .await;
    assert_eq!(gateway_routes(&api, &gw, &[]).await["TotalCount"], 0);
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw2)])
        .await;
    api.ok("DeleteVpnGateway", &[("VpnGatewayId", &gw)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_writes_keep_the_gateway_busy_for_the_update_delay() {
    let api = TestApi::with_config(Config {
        gateway_provision_delay_ms: 0,
        gateway_update_delay_ms: 600_000,
        ..Config::default()
    })
    .await;
    let (gw, _, vco) = api.connection().await;
    let dbr = |dest: &'static str| {
        [
            ("VpnGatewayId", gw.clone()),
            ("RouteDest", dest.to_owned()),
            ("NextHop", vco.clone()),
            ("Weight", "0".to_owned()),
            ("PublishVpc", "false".to_owned()),
        ]
    };
    let p = dbr("10.0.0.0/24");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.ok("CreateVpnRouteEntry", &p).await;
    let g = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    assert_eq!(g["Status"], "updating");
    // Every write on the gateway now waits (Terraform retries this code).
    let p = dbr("10.0.1.0/24");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let busy = api.call("CreateVpnRouteEntry", &p).await;
    assert_eq!(code(&busy), (400, "VpnGateway.Configuring"));
    insta::assert_json_snapshot!("gateway_configuring", busy.stable());
    let busy = api
        .call(
            "CreateVcoRouteEntry",
            &[
                ("VpnConnectionId", &vco),
                ("RouteDest", "10.0.1.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
            ],
        )
        .await;
    assert_eq!(code(&busy), (400, "VpnGateway.Configuring"));
    let busy = api
        .call(
            "DeleteVpnRouteEntry",
            &[
                ("VpnGatewayId", &gw),
                ("RouteDest", "10.0.0.0/24"),
                ("NextHop", &vco),
                ("Weight", "0"),
            ],
        )
        .await;
    assert_eq!(code(&busy), (400, "VpnGateway.Configuring"));
    // Reads still answer, and the refused writes changed nothing.
    assert_eq!(gateway_routes(&api, &gw, &[]).await["TotalCount"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vco_route_writes_keep_the_connection_busy() {
    let api = TestApi::with_config(Config {
        gateway_provision_delay_ms: 0,
        gateway_update_delay_ms: 600_000,
        ..Config::default()
    })
    .await;
    let (gw, _, vco) = api.connection().await;
    let route = |dest: &'static str| {
        [
            ("VpnConnectionId", vco.clone()),
            ("RouteDest", dest.to_owned()),
            ("NextHop", vco.clone()),
            ("Weight", "0".to_owned()),
        ]
    };
    let p = route("192.168.1.0/24");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    api.ok("CreateVcoRouteEntry", &p).await;
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(c["State"], "updating");
    // The route task is the connection's: its gateway stays active.
    let g = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    assert_eq!(g["Status"], "active");
    let p = route("192.168.2.0/24");
    let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let busy = api.call("CreateVcoRouteEntry", &p).await;
    assert_eq!(code(&busy), (400, "VpnConnection.Configuring"));
    insta::assert_json_snapshot!("connection_configuring", busy.stable());
    assert_eq!(vco_routes(&api, &vco, &[]).await["TotalCount"], 1);
}
