//! Tags, resource groups and transit-router attachments, in process: every
//! new response shape and error pinned as a snapshot, and every refused
//! request shown to change nothing.

#![allow(clippy::unwrap_used)]

use crate::common::TestApi;
use serde_json::{Value, json};

fn tags_of(body: &Value, wrapper: &str) -> Vec<(String, String)> {
    body[wrapper]["Tag"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["Key"].as_str().unwrap().to_owned(),
                t["Value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

async fn gateway_tags(api: &TestApi, gw: &str) -> Vec<(String, String)> {
    let body = api.ok("DescribeVpnGateway", &[("VpnGatewayId", gw)]).await;
    tags_of(&body, "Tags")
}

/// A customer gateway with a fresh address.
async fn customer_gateway(api: &TestApi, ip: &str) -> String {
    let body = api
        .ok(
            "CreateCustomerGateway",
            &[("IpAddress", ip), ("Asn", "65010")],
        )
        .await;
    body["CustomerGatewayId"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_resources_on_every_kind_with_terraforms_spellings() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    for (rtype, id) in [
        ("VpnGateWay", gw.as_str()),
        ("CUSTOMERGATEWAY", cgw.as_str()),
        ("VPNCONNECTION", vco.as_str()),
    ] {
        let body = api
            .ok(
                "TagResources",
                &[
                    ("ResourceType", rtype),
                    ("ResourceId.1", id),
                    ("Tag.1.Key", "env"),
                    ("Tag.1.Value", "prod"),
                    ("Tag.2.Key", "team"),
                    ("Tag.2.Value", ""),
                ],
            )
            .await;
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    }
    let want = pairs(&[("env", "prod"), ("team", "")]);
    assert_eq!(gateway_tags(&api, &gw).await, want);
    let c = api
        .ok("DescribeCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
    assert_eq!(tags_of(&c, "Tags"), want);
    let v = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(tags_of(&v, "Tags"), want);
    // DescribeVpnConnections wraps each item's tags in `Tag`.
    let list = api.ok("DescribeVpnConnections", &[]).await;
    assert_eq!(
        tags_of(&list["VpnConnections"]["VpnConnection"][0], "Tag"),
        want
    );

    // Overwriting keeps the position; a new key goes last.
    api.ok(
        "TagResources",
        &[
            ("ResourceType", "vpngateway"),
            ("ResourceId.1", &gw),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "dev"),
            ("Tag.2.Key", "owner"),
            ("Tag.2.Value", "me"),
        ],
    )
    .await;
    assert_eq!(
        gateway_tags(&api, &gw).await,
        pairs(&[("env", "dev"), ("team", ""), ("owner", "me")])
    );

    // Terraform's update: UnTagResources of the removed keys, then TagResources.
    api.ok(
        "UnTagResources",
        &[
            ("ResourceType", "VpnGateWay"),
            ("ResourceId.1", &gw),
            ("TagKey.1", "team"),
            ("TagKey.2", "not-there"),
        ],
    )
    .await;
    assert_eq!(
        gateway_tags(&api, &gw).await,
        pairs(&[("env", "dev"), ("owner", "me")])
    );
    // No key and no All: nothing is removed.
    api.ok(
        "UnTagResources",
        &[("ResourceType", "VpnGateWay"), ("ResourceId.1", &gw)],
    )
    .await;
    assert_eq!(gateway_tags(&api, &gw).await.len(), 2);
    api.ok(
        "UnTagResources",
        &[
            ("ResourceType", "VpnGateWay"),
            ("ResourceId.1", &gw),
            ("All", "true"),
        ],
    )
    .await;
    assert!(gateway_tags(&api, &gw).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_limits_are_the_clouds_errors_and_change_nothing() {
    let api = TestApi::new().await;
    let (gw, _, _) = api.connection().await;
    let twenty: Vec<(String, String)> = (1..=20)
        .flat_map(|i| {
            [
                (format!("Tag.{i}.Key"), format!("k{i}")),
                (format!("Tag.{i}.Value"), format!("v{i}")),
            ]
        })
        .collect();
    let mut params: Vec<(&str, &str)> = vec![("ResourceType", "VPNGATEWAY"), ("ResourceId.1", &gw)];
    params.extend(twenty.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    api.ok("TagResources", &params).await;
    assert_eq!(gateway_tags(&api, &gw).await.len(), 20);

    let long = "k".repeat(129);
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        // A 21st tag on the resource.
        ("quota", vec![("Tag.1.Key", "k21"), ("Tag.1.Value", "v")]),
        ("empty key", vec![("Tag.1.Key", ""), ("Tag.1.Value", "v")]),
        ("value only", vec![("Tag.1.Value", "v")]),
        ("long key", vec![("Tag.1.Key", &long)]),
        (
            "long value",
            vec![("Tag.1.Key", "k1"), ("Tag.1.Value", &long)],
        ),
        (
            "aliyun key",
            vec![("Tag.1.Key", "aliyun-x"), ("Tag.1.Value", "v")],
        ),
        (
            "acs key",
            vec![("Tag.1.Key", "ACS:x"), ("Tag.1.Value", "v")],
        ),
        (
            "acs value",
            vec![("Tag.1.Key", "k1"), ("Tag.1.Value", "acs:x")],
        ),
        (
            "url key",
            vec![("Tag.1.Key", "http://x"), ("Tag.1.Value", "v")],
        ),
        (
            "duplicate",
            vec![
                ("Tag.1.Key", "k1"),
                ("Tag.1.Value", "a"),
                ("Tag.2.Key", "k1"),
                ("Tag.2.Value", "b"),
            ],
        ),
    ];
    let mut answers = serde_json::Map::new();
    for (name, tag_params) in cases {
        let mut p: Vec<(&str, &str)> = vec![("ResourceType", "VpnGateWay"), ("ResourceId.1", &gw)];
        p.extend(tag_params);
        let a = api.call("TagResources", &p).await;
        answers.insert(name.into(), json!({"status": a.status, "body": a.stable()}));
    }
    // 21 tags in one request.
    let mut p: Vec<(&str, &str)> = vec![("ResourceType", "VpnGateWay"), ("ResourceId.1", &gw)];
    let many: Vec<String> = (1..=21).map(|i| format!("Tag.{i}.Key")).collect();
    p.extend(many.iter().map(|k| (k.as_str(), "x")));
    let a = api.call("TagResources", &p).await;
    answers.insert(
        "21 in one request".into(),
        json!({"status": a.status, "body": a.stable()}),
    );
    // 51 resources.
    let ids: Vec<String> = (1..=51).map(|i| format!("ResourceId.{i}")).collect();
    let mut p: Vec<(&str, &str)> = vec![
        ("ResourceType", "VpnGateWay"),
        ("Tag.1.Key", "k"),
        ("Tag.1.Value", "v"),
    ];
    p.extend(ids.iter().map(|k| (k.as_str(), gw.as_str())));
    let a = api.call("TagResources", &p).await;
    answers.insert(
        "51 resources".into(),
        json!({"status": a.status, "body": a.stable()}),
    );
    // A resource that does not exist, next to one that does: nothing is written.
    let a = api
        .call(
            "TagResources",
            &[
                ("ResourceType", "VpnGateWay"),
                ("ResourceId.1", &gw),
                ("ResourceId.2", "vpn-nope"),
                ("Tag.1.Key", "k1"),
                ("Tag.1.Value", "changed"),
            ],
        )
        .await;
    answers.insert(
        "unknown id".into(),
        json!({"status": a.status, "body": a.stable()}),
    );
    // A customer gateway is not a VPN gateway.
    let a = api
        .call(
            "TagResources",
            &[
                ("ResourceType", "NATGATEWAY"),
                ("ResourceId.1", &gw),
                ("Tag.1.Key", "k1"),
            ],
        )
        .await;
    answers.insert(
        "unknown type".into(),
        json!({"status": a.status, "body": a.stable()}),
    );
    let a = api
        .call(
            "TagResources",
            &[("ResourceType", "VpnGateWay"), ("ResourceId.1", &gw)],
        )
        .await;
    answers.insert(
        "no tag".into(),
        json!({"status": a.status, "body": a.stable()}),
    );
    insta::assert_json_snapshot!(Value::Object(answers));

    let tags = gateway_tags(&api, &gw).await;
    assert_eq!(tags.len(), 20);
    assert!(tags.iter().all(|(k, v)| v == &format!("v{}", &k[1..])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tag_resources_pages_and_filters() {
    let api = TestApi::new().await;
    let (gw1, _, _) = api.connection().await;
    let (gw2, _, _) = api.connection().await;
    for (gw, value) in [(&gw1, "a"), (&gw2, "b")] {
        api.ok(
            "TagResources",
            &[
                ("ResourceType", "VpnGateWay"),
                ("ResourceId.1", gw),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", value),
                ("Tag.2.Key", "shared"),
                ("Tag.2.Value", "yes"),
            ],
        )
        .await;
    }
    // By id: every tag of the resources named.
    let body = api
        .ok(
            "ListTagResources",
            &[
                ("ResourceType", "VPNGATEWAY"),
                ("ResourceId.1", &gw1),
                ("ResourceId.2", &gw2),
            ],
        )
        .await;
    let all = body["TagResources"]["TagResource"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(all.len(), 4);
    assert_eq!(body["NextToken"], "");
    insta::assert_json_snapshot!("list_tag_resources_by_id", {
        let a = api
            .call(
                "ListTagResources",
                &[("ResourceType", "VpnGateWay"), ("ResourceId.1", &gw1)],
            )
            .await;
        a.stable()
    });

    // Paging one entry at a time walks the same list.
    let mut token = String::new();
    let mut walked = Vec::new();
    loop {
        let mut p: Vec<(&str, &str)> = vec![
            ("ResourceType", "VpnGateWay"),
            ("ResourceId.1", &gw1),
            ("ResourceId.2", &gw2),
            ("MaxResults", "1"),
        ];
        if !token.is_empty() {
            p.push(("NextToken", &token));
        }
        let page = api.ok("ListTagResources", &p).await;
        let items = page["TagResources"]["TagResource"].as_array().unwrap();
        assert_eq!(items.len(), 1);
        walked.push(items[0].clone());
        token = page["NextToken"].as_str().unwrap().to_owned();
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(walked, all);

    // By tag: resources carrying it, and only the filtered keys.
    let body = api
        .ok(
            "ListTagResources",
            &[
                ("ResourceType", "VpnGateWay"),
                ("Tag.1.Key", "env"),
                ("Tag.1.Value", "b"),
            ],
        )
        .await;
    let items = body["TagResources"]["TagResource"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["ResourceId"], gw2.as_str());
    assert_eq!(items[0]["ResourceType"], "VPNGATEWAY");
    assert_eq!(items[0]["TagValue"], "b");
    // Key only: every value of the key.
    let body = api
        .ok(
            "ListTagResources",
            &[("ResourceType", "VpnGateWay"), ("Tag.1.Key", "env")],
        )
        .await;
    assert_eq!(
        body["TagResources"]["TagResource"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Other types see none of the gateways' tags.
    let body = api
        .ok(
            "ListTagResources",
            &[("ResourceType", "CUSTOMERGATEWAY"), ("Tag.1.Key", "env")],
        )
        .await;
    assert!(
        body["TagResources"]["TagResource"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let mut answers = serde_json::Map::new();
    for (name, p) in [
        ("nothing to list by", vec![("ResourceType", "VpnGateWay")]),
        (
            "bad token",
            vec![
                ("ResourceType", "VpnGateWay"),
                ("Tag.1.Key", "env"),
                ("NextToken", "not-a-token"),
            ],
        ),
        (
            "max results",
            vec![
                ("ResourceType", "VpnGateWay"),
                ("Tag.1.Key", "env"),
                ("MaxResults", "51"),
            ],
        ),
        (
            "value without key",
            vec![("ResourceType", "VpnGateWay"), ("Tag.1.Value", "a")],
        ),
    ] {
        let a = api.call("ListTagResources", &p).await;
        answers.insert(name.into(), json!({"status": a.status, "body": a.stable()}));
    }
    insta::assert_json_snapshot!("list_tag_resources_errors", Value::Object(answers));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tag_filters_and_create_tags_on_the_describe_lists() {
    let api = TestApi::new().await;
    let cgw_a = api
        .ok(
            "CreateCustomerGateway",
            &[
                ("IpAddress", "172.24.1.1"),
                ("Tags.1.Key", "site"),
                ("Tags.1.Value", "a"),
            ],
        )
        .await["CustomerGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    customer_gateway(&api, "172.24.1.2").await;
    let list = api
        .ok(
            "DescribeCustomerGateways",
            &[("Tag.1.Key", "site"), ("Tag.1.Value", "a")],
        )
        .await;
    assert_eq!(list["TotalCount"], 1);
    assert_eq!(
        list["CustomerGateways"]["CustomerGateway"][0]["CustomerGatewayId"],
        cgw_a.as_str()
    );
    let list = api
        .ok(
            "DescribeCustomerGateways",
            &[("Tag.1.Key", "site"), ("Tag.1.Value", "b")],
        )
        .await;
    assert_eq!(list["TotalCount"], 0);

    let (gw, _, vco) = api.connection().await;
    api.ok(
        "TagResources",
        &[
            ("ResourceType", "VpnGateWay"),
            ("ResourceId.1", &gw),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ],
    )
    .await;
    let list = api.ok("DescribeVpnGateways", &[("Tag.1.Key", "env")]).await;
    assert_eq!(list["TotalCount"], 1);
    let list = api
        .ok(
            "DescribeVpnGateways",
            &[("Tag.1.Key", "env"), ("Tag.1.Value", "dev")],
        )
        .await;
    assert_eq!(list["TotalCount"], 0);
    let list = api
        .ok("DescribeVpnConnections", &[("Tag.1.Key", "env")])
        .await;
    assert_eq!(list["TotalCount"], 0);
    api.ok(
        "TagResources",
        &[
            ("ResourceType", "VPNCONNECTION"),
            ("ResourceId.1", &vco),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ],
    )
    .await;
    let list = api
        .ok("DescribeVpnConnections", &[("Tag.1.Key", "env")])
        .await;
    assert_eq!(list["TotalCount"], 1);

    // Tags.N on create follows the same rules.
    let mut answers = serde_json::Map::new();
    for (name, p) in [
        (
            "reserved key",
            vec![
                ("IpAddress", "172.24.1.3"),
                ("Tags.1.Key", "aliyun:x"),
                ("Tags.1.Value", "v"),
            ],
        ),
        (
            "duplicate key",
            vec![
                ("IpAddress", "172.24.1.3"),
                ("Tags.1.Key", "a"),
                ("Tags.2.Key", "a"),
            ],
        ),
    ] {
        let a = api.call("CreateCustomerGateway", &p).await;
        answers.insert(name.into(), json!({"status": a.status, "body": a.stable()}));
    }
    insta::assert_json_snapshot!(Value::Object(answers));
    let list = api.ok("DescribeCustomerGateways", &[]).await;
    assert_eq!(list["TotalCount"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_groups_on_create_filter_and_move() {
    let api = TestApi::new().await;
    let gw = api
        .ok(
            "CreateVpnGateway",
            &[
                ("VpcId", "vpc-test"),
                ("Bandwidth", "10"),
                ("ResourceGroupId", "rg-acfmzs372ygaaaa"),
            ],
        )
        .await["VpnGatewayId"]
        .as_str()
        .unwrap()
        .to_owned();
    let cgw = customer_gateway(&api, "172.24.2.1").await;
    let vco = api
        .ok(
            "CreateVpnConnection",
            &[
                ("VpnGatewayId", &gw),
                ("CustomerGatewayId", &cgw),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
            ],
        )
        .await["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = api
        .ok(
            "DescribeVpnGateways",
            &[("ResourceGroupId", "rg-acfmzs372ygaaaa")],
        )
        .await;
    assert_eq!(list["TotalCount"], 1);
    // A gateway's connection is in the gateway's group.
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(c["ResourceGroupId"], "rg-acfmzs372ygaaaa");
    let list = api
        .ok(
            "DescribeCustomerGateways",
            &[("ResourceGroupId", "rg-default")],
        )
        .await;
    assert_eq!(list["TotalCount"], 1);

    // Terraform moves a gateway with ResourceType "VpnGateWay"; its connections follow.
    let body = api
        .ok(
            "MoveVpnResourceGroup",
            &[
                ("InstanceId", &gw),
                ("ResourceType", "VpnGateWay"),
                ("NewResourceGroupId", "rg-acfmzs372ygbbbb"),
            ],
        )
        .await;
    assert_eq!(body.as_object().unwrap().len(), 1);
    let g = api.ok("DescribeVpnGateway", &[("VpnGatewayId", &gw)]).await;
    assert_eq!(g["ResourceGroupId"], "rg-acfmzs372ygbbbb");
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(c["ResourceGroupId"], "rg-acfmzs372ygbbbb");
    let list = api
        .ok(
            "DescribeVpnConnections",
            &[("ResourceGroupId", "rg-acfmzs372ygbbbb")],
        )
        .await;
    assert_eq!(list["TotalCount"], 1);
    api.ok(
        "MoveResourceGroup",
        &[
            ("ResourceId", &cgw),
            ("ResourceType", "CustomerGateway"),
            ("NewResourceGroupId", "rg-acfmzs372ygcccc"),
        ],
    )
    .await;
    let c = api
        .ok("DescribeCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
    assert_eq!(c["ResourceGroupId"], "rg-acfmzs372ygcccc");

    let mut answers = serde_json::Map::new();
    for (name, action, p) in [
        (
            "malformed group on create",
            "CreateVpnGateway",
            vec![
                ("VpcId", "vpc-test"),
                ("Bandwidth", "10"),
                ("ResourceGroupId", "group-1"),
            ],
        ),
        (
            "malformed group on move",
            "MoveVpnResourceGroup",
            vec![
                ("InstanceId", gw.as_str()),
                ("ResourceType", "VpnGateway"),
                ("NewResourceGroupId", "rg-"),
            ],
        ),
        (
            "unknown gateway",
            "MoveVpnResourceGroup",
            vec![
                ("InstanceId", "vpn-nope"),
                ("ResourceType", "VpnGateway"),
                ("NewResourceGroupId", "rg-acfmzs372ygdddd"),
            ],
        ),
        (
            "unknown attachment",
            "MoveVpnResourceGroup",
            vec![
                ("InstanceId", "vco-nope"),
                ("ResourceType", "VPNATTACHMENT"),
                ("NewResourceGroupId", "rg-acfmzs372ygdddd"),
            ],
        ),
        (
            "a gateway's connection alone",
            "MoveVpnResourceGroup",
            vec![
                ("InstanceId", vco.as_str()),
                ("ResourceType", "VpnAttachment"),
                ("NewResourceGroupId", "rg-acfmzs372ygdddd"),
            ],
        ),
        (
            "unknown type",
            "MoveResourceGroup",
            vec![
                ("ResourceId", gw.as_str()),
                ("ResourceType", "Eip"),
                ("NewResourceGroupId", "rg-acfmzs372ygdddd"),
            ],
        ),
        (
            "missing group",
            "MoveVpnResourceGroup",
            vec![("InstanceId", gw.as_str()), ("ResourceType", "VpnGateway")],
        ),
    ] {
        let a = api.call(action, &p).await;
        answers.insert(name.into(), json!({"status": a.status, "body": a.stable()}));
    }
    insta::assert_json_snapshot!(Value::Object(answers));
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(c["ResourceGroupId"], "rg-acfmzs372ygbbbb");
    assert_eq!(api.ok("DescribeVpnGateways", &[]).await["TotalCount"], 1);
}

async fn attachment(api: &TestApi, cgw: &str, extra: &[(&str, &str)]) -> Value {
    let mut p: Vec<(&str, &str)> = vec![
        ("CustomerGatewayId", cgw),
        ("LocalSubnet", "10.1.0.0/16"),
        ("RemoteSubnet", "192.168.1.0/24"),
    ];
    p.extend_from_slice(extra);
    api.ok("CreateVpnAttachment", &p).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_are_connections_without_a_gateway() {
    let api = TestApi::new().await;
    let cgw = customer_gateway(&api, "172.24.3.1").await;
    let created = attachment(
        &api,
        &cgw,
        &[
            ("Name", "att1"),
            ("NetworkType", "public"),
            ("TunnelBandwidth", "standard"),
            ("RemoteCaCert", "-----BEGIN CERTIFICATE----- MIIB7zCCAZW"),
            ("ResourceGroupId", "rg-acfmzs372ygeeee"),
            ("Tags.1.Key", "For"),
            ("Tags.1.Value", "VpnAttachment"),
            (
                "IkeConfig",
                r#"{"IkeVersion":"ikev2","Psk":"secret-1","IkeLifetime":3600}"#,
            ),
            ("IpsecConfig", r#"{"IpsecEncAlg":"aes256","IpsecPfs":"group14"}"#),
            (
                "BgpConfig",
                r#"{"EnableBgp":true,"LocalAsn":65001,"TunnelCidr":"169.254.20.0/30","LocalBgpIp":"169.254.20.1"}"#,
            ),
            (
                "HealthCheckConfig",
                r#"{"enable":true,"dip":"10.1.0.1","sip":"192.168.1.1","interval":3,"retry":3,"Policy":"reserve_route"}"#,
            ),
            ("ClientToken", "att-token-1"),
        ],
    )
    .await;
    assert_eq!(created["Success"], true);
    assert_eq!(created["Code"], "200");
    let vco = created["VpnConnectionId"].as_str().unwrap().to_owned();
    assert!(vco.starts_with("vco-bp1"), "{vco}");
    insta::assert_json_snapshot!(
        "create_vpn_attachment",
        crate::common::Answer {
            status: 200,
            body: created.clone()
        }
        .stable()
    );

    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(body["AttachType"], "CEN");
    assert_eq!(body["State"], "init");
    assert_eq!(body["NetworkType"], "public");
    assert_eq!(body["Spec"], "1000M");
    assert_eq!(body["TunnelBandwidth"], "Standard");
    assert_eq!(body["CrossAccountAuthorized"], false);
    assert!(body["ZoneNo"].as_str().unwrap().starts_with("cn-hangzhou-"));
    assert_eq!(body["VpnGatewayId"], "");
    assert_eq!(body["IkeConfig"]["Psk"], "secret-1");
    assert_eq!(body["IkeConfig"]["LocalId"], body["InternetIp"]);
    assert_eq!(body["VpnBgpConfig"]["PeerAsn"], 65010);
    assert_eq!(body["VpnBgpConfig"]["PeerBgpIp"], "169.254.20.2");
    assert_eq!(body["VcoHealthCheck"]["Policy"], "reserve_route");
    assert_eq!(
        body["RemoteCaCertificate"],
        "-----BEGIN CERTIFICATE----- MIIB7zCCAZW"
    );
    // The zone is chosen from the id; the prefix was checked above.
    let mut shape = api
        .call("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await
        .stable();
    shape["ZoneNo"] = json!("[ZoneNo]");
    insta::assert_json_snapshot!("describe_vpn_connection_of_an_attachment", shape);
    let list = api.ok("DescribeVpnConnections", &[]).await;
    assert_eq!(list["TotalCount"], 1);
    assert_eq!(
        list["VpnConnections"]["VpnConnection"][0]["AttachType"],
        "CEN"
    );

    // The same ClientToken and parameters: the same attachment, nothing new.
    let again = attachment(
        &api,
        &cgw,
        &[
            ("Name", "att1"),
            ("NetworkType", "public"),
            ("TunnelBandwidth", "standard"),
            ("RemoteCaCert", "-----BEGIN CERTIFICATE----- MIIB7zCCAZW"),
            ("ResourceGroupId", "rg-acfmzs372ygeeee"),
            ("Tags.1.Key", "For"),
            ("Tags.1.Value", "VpnAttachment"),
            (
                "IkeConfig",
                r#"{"IkeVersion":"ikev2","Psk":"secret-1","IkeLifetime":3600}"#,
            ),
            ("IpsecConfig", r#"{"IpsecEncAlg":"aes256","IpsecPfs":"group14"}"#),
            (
                "BgpConfig",
                r#"{"EnableBgp":true,"LocalAsn":65001,"TunnelCidr":"169.254.20.0/30","LocalBgpIp":"169.254.20.1"}"#,
            ),
            (
                "HealthCheckConfig",
                r#"{"enable":true,"dip":"10.1.0.1","sip":"192.168.1.1","interval":3,"retry":3,"Policy":"reserve_route"}"#,
            ),
            ("ClientToken", "att-token-1"),
        ],
    )
    .await;
    assert_eq!(again["VpnConnectionId"], vco.as_str());

    let large = attachment(&api, &cgw, &[("TunnelBandwidth", "LARGE")]).await;
    let large = large["VpnConnectionId"].as_str().unwrap().to_owned();
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &large)])
        .await;
    assert_eq!(
        (&body["TunnelBandwidth"], &body["Spec"]),
        (&json!("Large"), &json!("3000M"))
    );
    api.ok("DeleteVpnAttachment", &[("VpnConnectionId", &large)])
        .await;

    let list = api.ok("DescribeVpnAttachments", &[]).await;
    assert_eq!(list["TotalCount"], 1);
    insta::assert_json_snapshot!(
        "describe_vpn_attachments",
        api.call("DescribeVpnAttachments", &[("AttachType", "CEN")])
            .await
            .stable()
    );
    // A gateway's connection is no attachment.
    api.connection().await;
    assert_eq!(api.ok("DescribeVpnAttachments", &[]).await["TotalCount"], 1);
    assert_eq!(api.ok("DescribeVpnConnections", &[]).await["TotalCount"], 2);

    let cgw2 = customer_gateway(&api, "172.24.3.2").await;
    let modified = api
        .ok(
            "ModifyVpnAttachmentAttribute",
            &[
                ("VpnConnectionId", &vco),
                ("Name", "att1b"),
                ("CustomerGatewayId", &cgw2),
                ("LocalSubnet", "10.2.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
                ("EnableDpd", "false"),
                (
                    "HealthCheckConfig",
                    r#"{"Enable":true,"Dip":"10.2.0.1","Sip":"192.168.1.1","Interval":5,"Retry":4,"Policy":"revoke_route"}"#,
                ),
                ("ClientToken", "mod-1"),
            ],
        )
        .await;
    insta::assert_json_snapshot!(
        "modify_vpn_attachment_attribute",
        crate::common::Answer {
            status: 200,
            body: modified
        }
        .stable()
    );
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(body["Name"], "att1b");
    assert_eq!(body["CustomerGatewayId"], cgw2.as_str());
    assert_eq!(body["IkeConfig"]["RemoteId"], "172.24.3.2");
    assert_eq!(body["IkeConfig"]["Psk"], "secret-1");
    assert_eq!(body["Spec"], "1000M");
    assert_eq!(body["VcoHealthCheck"]["Interval"], 5);
    assert_eq!(body["State"], "init");
    // The first customer gateway is free now; the second is in use.
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw)])
        .await;
    let a = api
        .call("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw2)])
        .await;
    assert_eq!(a.code(), "DependencyViolation.VpnConnection");

    let auth = api
        .ok(
            "DescribeVpnCrossAccountAuthorizations",
            &[("VpnConnectionId", &vco)],
        )
        .await;
    insta::assert_json_snapshot!(
        "describe_vpn_cross_account_authorizations",
        crate::common::Answer {
            status: 200,
            body: auth
        }
        .stable()
    );

    let deleted = api
        .ok("DeleteVpnAttachment", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(deleted["Success"], true);
    assert_eq!(deleted["Code"], "200");
    let a = api
        .call("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    let a = api
        .call("DeleteVpnAttachment", &[("VpnConnectionId", &vco)])
        .await;
    assert_eq!(
        (a.status, a.code()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw2)])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_errors_change_nothing() {
    let api = TestApi::new().await;
    let cgw = customer_gateway(&api, "172.24.4.1").await;
    let (_, _, gw_vco) = api.connection().await;
    let att = attachment(&api, &cgw, &[]).await["VpnConnectionId"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = [
        ("CustomerGatewayId", cgw.as_str()),
        ("LocalSubnet", "10.1.0.0/16"),
        ("RemoteSubnet", "192.168.1.0/24"),
    ];
    // The base parameters, with `extra` replacing or adding some.
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut p: Vec<(&str, &str)> = base
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .copied()
            .collect();
        p.extend_from_slice(extra);
        p
    };
    let mut answers = serde_json::Map::new();
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "missing customer gateway",
            "CreateVpnAttachment",
            vec![
                ("LocalSubnet", "10.1.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
            ],
        ),
        (
            "unknown customer gateway",
            "CreateVpnAttachment",
            vec![
                ("CustomerGatewayId", "cgw-nope"),
                ("LocalSubnet", "10.1.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
            ],
        ),
        (
            "bad network type",
            "CreateVpnAttachment",
            with(&[("NetworkType", "internet")]),
        ),
        (
            "bad tunnel bandwidth",
            "CreateVpnAttachment",
            with(&[("TunnelBandwidth", "Huge")]),
        ),
        (
            "bad subnet",
            "CreateVpnAttachment",
            with(&[("LocalSubnet", "10.1.0.1/16")]),
        ),
        (
            "bad ike",
            "CreateVpnAttachment",
            with(&[("IkeConfig", r#"{"IkeEncAlg":"rot13"}"#)]),
        ),
        (
            "bad group",
            "CreateVpnAttachment",
            with(&[("ResourceGroupId", "RG-1")]),
        ),
        (
            "bad tag",
            "CreateVpnAttachment",
            with(&[("Tags.1.Key", "acs:k")]),
        ),
        (
            "dual tunnel with a top-level customer gateway",
            "CreateVpnAttachment",
            with(&[("TunnelOptionsSpecification.1.CustomerGatewayId", "cgw-x")]),
        ),
        (
            "dual tunnel with one tunnel",
            "CreateVpnAttachment",
            vec![
                ("LocalSubnet", "10.1.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
                (
                    "TunnelOptionsSpecification.1.CustomerGatewayId",
                    cgw.as_str(),
                ),
            ],
        ),
        (
            "tunnel options on a single-tunnel attachment",
            "ModifyVpnAttachmentAttribute",
            vec![
                ("VpnConnectionId", att.as_str()),
                ("TunnelOptionsSpecification.1.TunnelIndex", "1"),
                ("TunnelOptionsSpecification.1.EnableDpd", "false"),
            ],
        ),
        (
            "dry run",
            "CreateVpnAttachment",
            with(&[("DryRun", "true")]),
        ),
        (
            "other attach type",
            "DescribeVpnAttachments",
            vec![("AttachType", "VPNGW")],
        ),
        (
            "modify a gateway's connection",
            "ModifyVpnAttachmentAttribute",
            vec![("VpnConnectionId", gw_vco.as_str()), ("Name", "x")],
        ),
        (
            "modify unknown",
            "ModifyVpnAttachmentAttribute",
            vec![("VpnConnectionId", "vco-nope"), ("Name", "x")],
        ),
        (
            "modify bad subnet",
            "ModifyVpnAttachmentAttribute",
            vec![
                ("VpnConnectionId", att.as_str()),
                ("Name", "changed"),
                ("RemoteSubnet", "x"),
            ],
        ),
        (
            "delete a gateway's connection",
            "DeleteVpnAttachment",
            vec![("VpnConnectionId", gw_vco.as_str())],
        ),
        (
            "authorizations of unknown",
            "DescribeVpnCrossAccountAuthorizations",
            vec![("VpnConnectionId", "vco-nope")],
        ),
    ];
    for (name, action, p) in cases {
        let a = api.call(action, &p).await;
        answers.insert(name.into(), json!({"status": a.status, "body": a.stable()}));
    }
    insta::assert_json_snapshot!(Value::Object(answers));
    assert_eq!(api.ok("DescribeVpnAttachments", &[]).await["TotalCount"], 1);
    assert_eq!(api.ok("DescribeVpnConnections", &[]).await["TotalCount"], 2);
    let c = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &att)])
        .await;
    assert_eq!(c["Name"], "");
    assert_eq!(c["RemoteSubnet"], "192.168.1.0/24");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_tunnel_attachments() {
    let api = TestApi::new().await;
    let cgw1 = customer_gateway(&api, "172.24.5.1").await;
    let cgw2 = customer_gateway(&api, "172.24.5.2").await;
    let tos = "TunnelOptionsSpecification";
    let created = api
        .ok(
            "CreateVpnAttachment",
            &[
                ("LocalSubnet", "10.5.0.0/16"),
                ("RemoteSubnet", "192.168.5.0/24"),
                ("EnableTunnelsBgp", "true"),
                // Terraform names the tunnels by TunnelIndex, not Role.
                (&format!("{tos}.1.TunnelIndex"), "1"),
                (&format!("{tos}.1.CustomerGatewayId"), &cgw1),
                (&format!("{tos}.1.TunnelIkeConfig.Psk"), "psk-one"),
                (
                    &format!("{tos}.1.TunnelBgpConfig.TunnelCidr"),
                    "169.254.40.0/30",
                ),
                (
                    &format!("{tos}.1.TunnelBgpConfig.LocalBgpIp"),
                    "169.254.40.1",
                ),
                (&format!("{tos}.2.TunnelIndex"), "2"),
                (&format!("{tos}.2.CustomerGatewayId"), &cgw2),
                (&format!("{tos}.2.EnableDpd"), "false"),
                (
                    &format!("{tos}.2.TunnelBgpConfig.TunnelCidr"),
                    "169.254.41.0/30",
                ),
                (
                    &format!("{tos}.2.TunnelBgpConfig.LocalBgpIp"),
                    "169.254.41.1",
                ),
            ],
        )
        .await;
    let vco = created["VpnConnectionId"].as_str().unwrap().to_owned();
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let tunnels = body["TunnelOptionsSpecification"]["TunnelOptions"]
        .as_array()
        .unwrap();
    assert_eq!(tunnels.len(), 2);
    assert_eq!(tunnels[0]["Role"], "master");
    assert_eq!(tunnels[0]["CustomerGatewayId"], cgw1.as_str());
    assert_eq!(tunnels[0]["TunnelIkeConfig"]["Psk"], "psk-one");
    assert_eq!(tunnels[0]["InternetIp"], body["InternetIp"]);
    assert_eq!(tunnels[0]["ZoneNo"], body["ZoneNo"]);
    assert_eq!(tunnels[1]["Role"], "slave");
    assert_eq!(tunnels[1]["EnableDpd"], "false");
    assert_ne!(tunnels[0]["InternetIp"], tunnels[1]["InternetIp"]);
    assert_eq!(tunnels[1]["State"], "init");
    assert_eq!(body["EnableTunnelsBgp"], true);
    assert_eq!(body["State"], "init");
    assert!(body.get("CustomerGatewayId").is_none());

    let modified = api
        .ok(
            "ModifyVpnAttachmentAttribute",
            &[
                ("VpnConnectionId", &vco),
                (&format!("{tos}.1.TunnelIndex"), "2"),
                (&format!("{tos}.1.TunnelIkeConfig.IkeVersion"), "ikev2"),
                (&format!("{tos}.1.EnableNatTraversal"), "false"),
            ],
        )
        .await;
    insta::assert_json_snapshot!(
        "modify_dual_tunnel_attachment",
        crate::common::Answer {
            status: 200,
            body: modified
        }
        .stable()
    );
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let slave = &body["TunnelOptionsSpecification"]["TunnelOptions"][1];
    assert_eq!(slave["TunnelIkeConfig"]["IkeVersion"], "ikev2");
    assert_eq!(slave["EnableNatTraversal"], "false");
    // Terraform also sends each element's Role (not in the SDK model); a
    // role names the tunnel as on connections, and wins over the index.
    api.ok(
        "ModifyVpnAttachmentAttribute",
        &[
            ("VpnConnectionId", &vco),
            (&format!("{tos}.1.Role"), "master"),
            (&format!("{tos}.1.TunnelIndex"), "2"),
            (&format!("{tos}.1.EnableDpd"), "false"),
        ],
    )
    .await;
    let body = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &vco)])
        .await;
    let [master, slave] = [0, 1].map(|i| &body["TunnelOptionsSpecification"]["TunnelOptions"][i]);
    assert_eq!(
        (&master["Role"], &master["EnableDpd"]),
        (&json!("master"), &json!("false"))
    );
    assert_eq!(slave["EnableNatTraversal"], "false");
    let a = api
        .call(
            "ModifyVpnAttachmentAttribute",
            &[
                ("VpnConnectionId", &vco),
                (&format!("{tos}.1.Role"), "backup"),
            ],
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "InvalidParameter"));
    assert!(
        a.body["Message"]
            .as_str()
            .is_some_and(|m| m.contains("TunnelOptionsSpecification.1.Role")),
        "{:?}",
        a.body
    );
    // Both customer gateways are in use.
    let a = api
        .call("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw2)])
        .await;
    assert_eq!(a.code(), "DependencyViolation.VpnConnection");
    api.ok("DeleteVpnAttachment", &[("VpnConnectionId", &vco)])
        .await;
    api.ok("DeleteCustomerGateway", &[("CustomerGatewayId", &cgw2)])
        .await;
}
