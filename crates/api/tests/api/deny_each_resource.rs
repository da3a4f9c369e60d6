//! Every parameter that names a resource is authorized: for every served
//! operation and every resource parameter its declaration lists
//! (`vpngw_ops::Declaration::resource_params`, from `spec/declarations.json`),
//! a RAM user allowed `vpc:*` on everything but with an explicit Deny on that
//! one resource is refused, and nothing stored changes.
//!
//! The operations and parameters come from the declarations, so a new
//! operation or resource parameter without a sample here fails the test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use crate::common::TestApi;
use serde_json::{Value, json};
use vpngw_ops::{Product, ResourceRole};

/// Sample requests per operation: each names resources by placeholders
/// (`{gw}`), and every resource parameter of the operation appears in one.
fn samples() -> HashMap<&'static str, Vec<Vec<(&'static str, &'static str)>>> {
    let route = |param: &'static str, id: &'static str, hop: &'static str| {
        vec![
            (param, id),
            ("NextHop", hop),
            ("RouteDest", "10.9.0.0/16"),
            ("Weight", "0"),
            ("NewWeight", "100"),
            ("PublishVpc", "true"),
            ("RouteSource", "10.8.0.0/16"),
            ("NewPriority", "2"),
            ("Priority", "1"),
            ("RouteType", "custom"),
        ]
    };
    let tags = |t: &'static str| {
        vec![
            ("ResourceType", t),
            ("ResourceId.1", "{gw}"),
            ("Tag.1.Key", "k"),
            ("Tag.1.Value", "v"),
            ("TagKey.1", "k"),
        ]
    };
    HashMap::from([
        (
            "CreateVpnGateway",
            vec![vec![
                ("VpcId", "vpc-deny"),
                ("Bandwidth", "10"),
                ("VSwitchId", "vsw-deny1"),
                ("DisasterRecoveryVSwitchId", "vsw-deny2"),
            ]],
        ),
        ("DescribeVpnGateway", vec![vec![("VpnGatewayId", "{gw}")]]),
        (
            "DescribeVpnGateways",
            vec![vec![("VpnGatewayId", "{gw}"), ("VpcId", "vpc-test")]],
        ),
        (
            "ModifyVpnGatewayAttribute",
            vec![vec![("VpnGatewayId", "{gw}"), ("Name", "renamed")]],
        ),
        ("DeleteVpnGateway", vec![vec![("VpnGatewayId", "{gw}")]]),
        (
            "CreateEnhancedVpnGateway",
            vec![vec![
                ("VpcId", "vpc-deny"),
                ("GatewayType", "Enhanced.SiteToSite"),
                ("VSwitchId", "vsw-deny1"),
                ("DisasterRecoveryVSwitchId", "vsw-deny2"),
            ]],
        ),
        (
            "UpdateEnhancedVpnGateway",
            vec![vec![("VpnGatewayId", "{gw}"), ("Description", "d")]],
        ),
        (
            "DeleteEnhancedVpnGateway",
            vec![vec![("VpnGatewayId", "{gw}")]],
        ),
        ("CheckVpnBgpEnabled", vec![vec![]]),
        (
            "DescribeVpnGatewayAvailableZones",
            vec![vec![("Spec", "10M")]],
        ),
        (
            "CreateCustomerGateway",
            vec![vec![("IpAddress", "47.100.1.1")]],
        ),
        (
            "DescribeCustomerGateway",
            vec![vec![("CustomerGatewayId", "{cgw}")]],
        ),
        (
            "DescribeCustomerGateways",
            vec![vec![("CustomerGatewayId", "{cgw}")]],
        ),
        (
            "ModifyCustomerGatewayAttribute",
            vec![vec![("CustomerGatewayId", "{cgw}"), ("Name", "renamed")]],
        ),
        (
            "DeleteCustomerGateway",
            vec![vec![("CustomerGatewayId", "{cgw}")]],
        ),
        (
            "CreateVpnConnection",
            vec![
                vec![
                    ("VpnGatewayId", "{gw}"),
                    ("CustomerGatewayId", "{cgw2}"),
                    ("LocalSubnet", "10.0.0.0/8"),
                    ("RemoteSubnet", "192.168.0.0/16"),
                ],
                vec![
                    ("VpnGatewayId", "{dgw}"),
                    ("LocalSubnet", "10.0.0.0/8"),
                    ("RemoteSubnet", "192.168.0.0/16"),
                    ("TunnelOptionsSpecification.1.CustomerGatewayId", "{cgw}"),
                    ("TunnelOptionsSpecification.1.Role", "master"),
                    ("TunnelOptionsSpecification.2.CustomerGatewayId", "{cgw2}"),
                    ("TunnelOptionsSpecification.2.Role", "slave"),
                ],
            ],
        ),
        (
            "DescribeVpnConnection",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "DescribeVpnConnections",
            vec![vec![
                ("VpnConnectionId", "{vco}"),
                ("VpnGatewayId", "{gw}"),
                ("CustomerGatewayId", "{cgw}"),
            ]],
        ),
        (
            "ModifyVpnConnectionAttribute",
            vec![vec![
                ("VpnConnectionId", "{dvco}"),
                ("TunnelOptionsSpecification.1.TunnelId", "{tun1}"),
                ("TunnelOptionsSpecification.1.CustomerGatewayId", "{cgw}"),
                (
                    "TunnelOptionsSpecification.1.TunnelIkeConfig.Psk",
                    "changed",
                ),
            ]],
        ),
        (
            "DeleteVpnConnection",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "ModifyTunnelAttribute",
            // RegionId is optional here: this sample leaves it out.
            vec![vec![
                ("-RegionId", ""),
                ("VpnConnectionId", "{dvco}"),
                ("TunnelId", "{tun1}"),
                ("TunnelOptionsSpecification.CustomerGatewayId", "{cgw}"),
                ("TunnelOptionsSpecification.TunnelIkeConfig.Psk", "changed"),
            ]],
        ),
        (
            "DownloadVpnConnectionConfig",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "DescribeVpnConnectionLogs",
            vec![vec![("VpnConnectionId", "{dvco}"), ("TunnelId", "{tun1}")]],
        ),
        (
            "CreateVpnAttachment",
            vec![vec![
                ("CustomerGatewayId", "{cgw}"),
                ("LocalSubnet", "10.1.0.0/16"),
                ("RemoteSubnet", "192.168.1.0/24"),
                ("TunnelOptionsSpecification.1.CustomerGatewayId", "{cgw2}"),
            ]],
        ),
        (
            "DescribeVpnAttachments",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "ModifyVpnAttachmentAttribute",
            vec![vec![
                ("VpnConnectionId", "{dvco}"),
                ("CustomerGatewayId", "{cgw}"),
                ("TunnelOptionsSpecification.1.TunnelId", "{tun1}"),
                ("TunnelOptionsSpecification.1.CustomerGatewayId", "{cgw2}"),
            ]],
        ),
        (
            "DeleteVpnAttachment",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "DescribeVpnCrossAccountAuthorizations",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "CreateVcoRouteEntry",
            vec![route("VpnConnectionId", "{vco}", "{vco}")],
        ),
        (
            "DeleteVcoRouteEntry",
            vec![route("VpnConnectionId", "{vco}", "{vco}")],
        ),
        (
            "DescribeVcoRouteEntries",
            vec![vec![("VpnConnectionId", "{vco}")]],
        ),
        (
            "ModifyVcoRouteEntryWeight",
            vec![route("VpnConnectionId", "{vco}", "{vco}")],
        ),
        (
            "CreateVpnRouteEntry",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "DeleteVpnRouteEntry",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "DescribeVpnRouteEntries",
            vec![vec![("VpnGatewayId", "{gw}")]],
        ),
        (
            "ModifyVpnRouteEntryWeight",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "PublishVpnRouteEntry",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "CreateVpnPbrRouteEntry",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "DeleteVpnPbrRouteEntry",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "DescribeVpnPbrRouteEntries",
            vec![vec![("VpnGatewayId", "{gw}")]],
        ),
        (
            "ModifyVpnPbrRouteEntryWeight",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "ModifyVpnPbrRouteEntryPriority",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "ModifyVpnPbrRouteEntryAttribute",
            vec![route("VpnGatewayId", "{gw}", "{vco}")],
        ),
        (
            "DiagnoseVpnConnections",
            vec![
                vec![("VpnConnectionIds.1", "{vco}"), ("VpnGatewayId", "{gw}")],
                // The tunnel alone: the handler finds its connection.
                vec![("TunnelIds.1", "{tun1}")],
            ],
        ),
        (
            "DiagnoseVpnGateway",
            vec![vec![
                ("VpnGatewayId", "{gw}"),
                ("ResourceType", "IPsec"),
                ("ResourceId", "{vco}"),
            ]],
        ),
        (
            "GetVpnGatewayDiagnoseResult",
            vec![vec![("VpnGatewayId", "{gw}"), ("DiagnoseId", "{diag}")]],
        ),
        ("TagResources", vec![tags("VpnGateway")]),
        ("UnTagResources", vec![tags("VpnGateway")]),
        ("ListTagResources", vec![tags("VpnGateway")]),
        (
            "MoveVpnResourceGroup",
            vec![vec![
                ("ResourceType", "VpnGateway"),
                ("InstanceId", "{gw}"),
                ("NewResourceGroupId", "rg-elsewhere"),
            ]],
        ),
        (
            "MoveResourceGroup",
            vec![vec![
                ("ResourceType", "VpnGateway"),
                ("ResourceId", "{gw}"),
                ("NewResourceGroupId", "rg-elsewhere"),
            ]],
        ),
        ("CreateVpc", vec![vec![("CidrBlock", "10.0.0.0/8")]]),
        ("DescribeVpcs", vec![vec![("VpcId", "{vpc}")]]),
        ("DescribeVpcAttribute", vec![vec![("VpcId", "{vpc}")]]),
        (
            "ModifyVpcAttribute",
            vec![vec![("VpcId", "{vpc}"), ("VpcName", "renamed")]],
        ),
        ("DeleteVpc", vec![vec![("VpcId", "{vpc}")]]),
        (
            "CreateVSwitch",
            vec![vec![
                ("VpcId", "{vpc}"),
                ("ZoneId", "cn-hangzhou-k"),
                ("CidrBlock", "172.16.9.0/24"),
            ]],
        ),
        (
            "DescribeVSwitches",
            vec![
                // The route table alone: the handler authorizes its VPC.
                vec![("RouteTableId", "{vtb}")],
                vec![("VSwitchId", "{vsw}"), ("VpcId", "{vpc}")],
            ],
        ),
        (
            "DescribeVSwitchAttributes",
            vec![vec![("VSwitchId", "{vsw}")]],
        ),
        (
            "ModifyVSwitchAttribute",
            vec![vec![("VSwitchId", "{vsw}"), ("VSwitchName", "renamed")]],
        ),
        ("DeleteVSwitch", vec![vec![("VSwitchId", "{vsw}")]]),
        (
            "DescribeRouteTableList",
            vec![
                vec![("RouteTableId", "{vtb}"), ("RouterId", "{vrt}")],
                vec![("VpcId", "{vpc}")],
            ],
        ),
        (
            "DescribeRouteEntryList",
            // The route table alone: the handler authorizes its VPC.
            vec![vec![("RouteTableId", "{vtb}")]],
        ),
        ("DescribeRegions", vec![vec![]]),
        ("ResetState", vec![vec![]]),
        ("DescribeZones", vec![vec![]]),
        (
            "ReportDataplaneState",
            vec![vec![
                ("VpnGatewayId", "{gw}"),
                ("Report", r#"{"Connections":[]}"#),
            ]],
        ),
        // Names no resource (refused unless `--dev`).
        ("ResetState", vec![vec![]]),
        (
            "WatchGatewayState",
            vec![vec![("VpnGatewayId", "{gw}"), ("WaitSeconds", "0")]],
        ),
        (
            "DescribeSslVpnServerPki",
            vec![vec![("SslVpnServerId", "{vss}")]],
        ),
        (
            "CreateSslVpnServer",
            vec![vec![
                ("VpnGatewayId", "{sgw}"),
                ("ClientIpPool", "10.201.0.0/24"),
                ("LocalSubnet", "10.0.0.0/24"),
            ]],
        ),
        (
            "CreateIpsecServer",
            vec![vec![
                ("VpnGatewayId", "{sgw}"),
                ("ClientIpPool", "10.202.0.0/24"),
                ("LocalSubnet", "10.0.0.0/24"),
            ]],
        ),
        (
            "UpdateIpsecServer",
            vec![vec![
                ("IpsecServerId", "{iss}"),
                ("IpsecServerName", "renamed"),
            ]],
        ),
        ("DeleteIpsecServer", vec![vec![("IpsecServerId", "{iss}")]]),
        (
            "ListIpsecServers",
            vec![vec![
                ("IpsecServerId.1", "{iss}"),
                ("VpnGatewayId", "{sgw}"),
            ]],
        ),
        (
            "ListIpsecServerLogs",
            vec![vec![("IpsecServerId", "{iss}"), ("MinutePeriod", "10")]],
        ),
        (
            "DescribeSslVpnServers",
            vec![vec![("SslVpnServerId", "{vss}"), ("VpnGatewayId", "{sgw}")]],
        ),
        (
            "ModifySslVpnServer",
            vec![vec![("SslVpnServerId", "{vss}"), ("Name", "renamed")]],
        ),
        (
            "DeleteSslVpnServer",
            vec![vec![("SslVpnServerId", "{vss}")]],
        ),
        (
            "CreateSslVpnClientCert",
            vec![vec![("SslVpnServerId", "{vss}"), ("Name", "another")]],
        ),
        (
            "DescribeSslVpnClientCert",
            vec![vec![("SslVpnClientCertId", "{vsc}")]],
        ),
        (
            "DescribeSslVpnClientCerts",
            vec![vec![
                ("SslVpnClientCertId", "{vsc}"),
                ("SslVpnServerId", "{vss}"),
            ]],
        ),
        (
            "ModifySslVpnClientCert",
            vec![vec![("SslVpnClientCertId", "{vsc}"), ("Name", "renamed")]],
        ),
        (
            "DeleteSslVpnClientCert",
            vec![vec![("SslVpnClientCertId", "{vsc}")]],
        ),
        (
            "DescribeSslVpnClients",
            vec![vec![("VpnGatewayId", "{sgw}")]],
        ),
        (
            "DescribeVpnSslServerLogs",
            vec![vec![
                ("VpnSslServerId", "{vss}"),
                ("SslVpnClientCertId", "{vsc}"),
            ]],
        ),
        // CEN (Cbn): `-RegionId` where the operation takes none.
        ("CreateCen", vec![vec![("-RegionId", ""), ("Name", "n")]]),
        ("DescribeCens", vec![vec![("-RegionId", "")]]),
        (
            "ModifyCenAttribute",
            vec![vec![("-RegionId", ""), ("CenId", "{cen}"), ("Name", "n")]],
        ),
        (
            "DeleteCen",
            vec![vec![("-RegionId", ""), ("CenId", "{cen}")]],
        ),
        ("CreateTransitRouter", vec![vec![("CenId", "{cen}")]]),
        (
            "ListTransitRouters",
            vec![vec![("CenId", "{cen}"), ("TransitRouterId", "{tr}")]],
        ),
        (
            "UpdateTransitRouter",
            vec![vec![
                ("TransitRouterId", "{tr}"),
                ("TransitRouterName", "n"),
            ]],
        ),
        (
            "DeleteTransitRouter",
            vec![vec![("-RegionId", ""), ("TransitRouterId", "{tr}")]],
        ),
        (
            "CreateTransitRouterCidr",
            vec![vec![("TransitRouterId", "{tr}"), ("Cidr", "10.7.0.0/16")]],
        ),
        (
            "ListTransitRouterCidr",
            vec![vec![
                ("TransitRouterId", "{tr}"),
                ("TransitRouterCidrId", "{cidr}"),
            ]],
        ),
        (
            "ModifyTransitRouterCidr",
            vec![vec![
                ("TransitRouterId", "{tr}"),
                ("TransitRouterCidrId", "{cidr}"),
                ("Name", "n"),
            ]],
        ),
        (
            "DeleteTransitRouterCidr",
            vec![vec![
                ("TransitRouterId", "{tr}"),
                ("TransitRouterCidrId", "{cidr}"),
            ]],
        ),
        ("ListTransitRouterAvailableResource", vec![vec![]]),
        (
            "CreateTransitRouterVpnAttachment",
            vec![vec![
                ("CenId", "{cen}"),
                ("TransitRouterId", "{tr}"),
                ("VpnId", "{vcoa}"),
            ]],
        ),
        (
            "ListTransitRouterVpnAttachments",
            vec![vec![
                ("CenId", "{cen}"),
                ("TransitRouterId", "{tr}"),
                ("TransitRouterAttachmentId", "{tra}"),
            ]],
        ),
        (
            "UpdateTransitRouterVpnAttachmentAttribute",
            vec![vec![
                ("-RegionId", ""),
                ("TransitRouterAttachmentId", "{tra}"),
                ("TransitRouterAttachmentName", "n"),
            ]],
        ),
        (
            "DeleteTransitRouterVpnAttachment",
            vec![vec![
                ("-RegionId", ""),
                ("TransitRouterAttachmentId", "{tra}"),
            ]],
        ),
    ])
}

/// The resources of the fixture, by placeholder, and what each is a part of.
struct World {
    ids: HashMap<&'static str, String>,
}

impl World {
    async fn build(api: &TestApi) -> World {
        let mut ids = HashMap::new();
        let (gw, cgw, vco) = api.connection().await;
        ids.insert("{gw}", gw);
        ids.insert("{cgw}", cgw);
        ids.insert("{vco}", vco);
        let cgw2 = api
            .ok("CreateCustomerGateway", &[("IpAddress", "47.99.2.2")])
            .await["CustomerGatewayId"]
            .as_str()
            .unwrap()
            .to_owned();
        let dgw = api
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
        let t = "TunnelOptionsSpecification";
        let dvco = api
            .ok(
                "CreateVpnConnection",
                &[
                    ("VpnGatewayId", &dgw),
                    ("LocalSubnet", "10.0.0.0/8"),
                    ("RemoteSubnet", "192.168.0.0/16"),
                    (&format!("{t}.1.Role"), "master"),
                    (&format!("{t}.1.CustomerGatewayId"), &ids["{cgw}"]),
                    (&format!("{t}.2.Role"), "slave"),
                    (&format!("{t}.2.CustomerGatewayId"), &cgw2),
                ],
            )
            .await["VpnConnectionId"]
            .as_str()
            .unwrap()
            .to_owned();
        let d = api
            .ok("DescribeVpnConnection", &[("VpnConnectionId", &dvco)])
            .await;
        let tun1 = d["TunnelOptionsSpecification"]["TunnelOptions"][0]["TunnelId"]
            .as_str()
            .unwrap()
            .to_owned();
        ids.insert("{cgw2}", cgw2);
        ids.insert("{dgw}", dgw);
        ids.insert("{dvco}", dvco);
        ids.insert("{tun1}", tun1);
        ids.insert("{diag}", "vpndgn-not-a-real-one".to_owned());
        let sgw = api
            .ok(
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
            .to_owned();
        let vss = api
            .ok(
                "CreateSslVpnServer",
                &[
                    ("VpnGatewayId", &sgw),
                    ("ClientIpPool", "10.200.0.0/24"),
                    ("LocalSubnet", "10.0.0.0/24"),
                ],
            )
            .await["SslVpnServerId"]
            .as_str()
            .unwrap()
            .to_owned();
        let vsc = api
            .ok("CreateSslVpnClientCert", &[("SslVpnServerId", &vss)])
            .await["SslVpnClientCertId"]
            .as_str()
            .unwrap()
            .to_owned();
        let iss = api
            .ok(
                "CreateIpsecServer",
                &[
                    ("VpnGatewayId", &sgw),
                    ("ClientIpPool", "10.203.0.0/24"),
                    ("LocalSubnet", "10.0.0.0/24"),
                ],
            )
            .await["IpsecServerId"]
            .as_str()
            .unwrap()
            .to_owned();
        ids.insert("{iss}", iss);
        ids.insert("{sgw}", sgw);
        ids.insert("{vss}", vss);
        ids.insert("{vsc}", vsc);
        let vpc = api.ok("CreateVpc", &[("CidrBlock", "172.16.0.0/12")]).await;
        for (placeholder, key) in [
            ("{vpc}", "VpcId"),
            ("{vtb}", "RouteTableId"),
            ("{vrt}", "VRouterId"),
        ] {
            ids.insert(placeholder, vpc[key].as_str().unwrap().to_owned());
        }
        let vsw = api
            .ok(
                "CreateVSwitch",
                &[
                    ("VpcId", &ids["{vpc}"]),
                    ("ZoneId", "cn-hangzhou-k"),
                    ("CidrBlock", "172.16.1.0/24"),
                ],
            )
            .await["VSwitchId"]
            .as_str()
            .unwrap()
            .to_owned();
        ids.insert("{vsw}", vsw);
        // CEN: an instance, its transit router with a CIDR block, and the
        // router's attachment of a connection made with CreateVpnAttachment.
        const CBN: &str = "2017-09-12";
        let id = |v: serde_json::Value, key: &str| v[key].as_str().unwrap().to_owned();
        let cen = id(api.ok_in(CBN, "CreateCen", &[]).await, "CenId");
        let tr = id(
            api.ok_in(CBN, "CreateTransitRouter", &[("CenId", &cen)])
                .await,
            "TransitRouterId",
        );
        let cidr = id(
            api.ok_in(
                CBN,
                "CreateTransitRouterCidr",
                &[("TransitRouterId", &tr), ("Cidr", "192.168.0.0/16")],
            )
            .await,
            "TransitRouterCidrId",
        );
        let vcoa = id(
            api.ok(
                "CreateVpnAttachment",
                &[
                    ("CustomerGatewayId", &ids["{cgw}"]),
                    ("LocalSubnet", "0.0.0.0/0"),
                    ("RemoteSubnet", "0.0.0.0/0"),
                ],
            )
            .await,
            "VpnConnectionId",
        );
        let spare = id(
            api.ok(
                "CreateVpnAttachment",
                &[
                    ("CustomerGatewayId", &ids["{cgw}"]),
                    ("LocalSubnet", "0.0.0.0/0"),
                    ("RemoteSubnet", "0.0.0.0/0"),
                ],
            )
            .await,
            "VpnConnectionId",
        );
        let tra = id(
            api.ok_in(
                CBN,
                "CreateTransitRouterVpnAttachment",
                &[("TransitRouterId", &tr), ("VpnId", &spare)],
            )
            .await,
            "TransitRouterAttachmentId",
        );
        ids.insert("{cen}", cen);
        ids.insert("{tr}", tr);
        ids.insert("{cidr}", cidr);
        ids.insert("{vcoa}", vcoa);
        ids.insert("{tra}", tra);
        World { ids }
    }

    fn fill(&self, value: &str) -> String {
        let mut v = value.to_owned();
        for (k, id) in &self.ids {
            v = v.replace(k, id);
        }
        v
    }

    /// The whole a part belongs to (a tunnel's connection, a diagnosis's gateway).
    fn whole_of(&self, part: &str) -> &str {
        match part {
            "{tun1}" => &self.ids["{dvco}"],
            "{diag}" => &self.ids["{gw}"],
            "{vtb}" | "{vrt}" => &self.ids["{vpc}"],
            "{cidr}" => &self.ids["{tr}"],
            other => panic!("no whole known for {other}"),
        }
    }
}

/// The sample value of a resource parameter (`N` is index 1).
fn value_of<'a>(sample: &'a [(&'static str, &'static str)], path: &str) -> Option<&'a str> {
    let wire = path.replace(".N", ".1");
    sample.iter().find(|(k, _)| *k == wire).map(|(_, v)| *v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_parameter_is_authorized() {
    let api = TestApi::new().await;
    let world = World::build(&api).await;
    let account = api.account().await;
    let (key, secret) = api.ram_user("bob").await;
    api.grant(
        "bob",
        "all",
        json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]),
    )
    .await;
    let samples = samples();
    let mut checked = 0;
    for product in [Product::Vpc, Product::Vpngw, Product::Cbn] {
        for decl in product.declarations() {
            let Some(list) = samples.get(decl.name) else {
                panic!("{}: add a sample request to this test", decl.name);
            };
            for rp in decl.resource_params {
                let sample = list
                    .iter()
                    .find(|s| value_of(s, rp.path).is_some())
                    .unwrap_or_else(|| {
                        panic!("{}: no sample names {}; add one", decl.name, rp.path)
                    });
                let placeholder = value_of(sample, rp.path).unwrap();
                let (kind, id, part) = match rp.role {
                    ResourceRole::Kind(k) => (k, world.fill(placeholder), false),
                    ResourceRole::KindFrom { param, table } => {
                        let t = sample.iter().find(|(k, _)| *k == param).unwrap().1;
                        (table.kind(t).unwrap(), world.fill(placeholder), false)
                    }
                    ResourceRole::PartOf(k) => (k, world.whole_of(placeholder).to_owned(), true),
                };
                // CEN's resources are global to RAM (no region in their ARNs).
                let arn = match kind.arn_service() {
                    "vpc" => format!("acs:vpc:cn-hangzhou:{account}:{}/{id}", kind.arn_type()),
                    service => format!("acs:{service}:*:{account}:{}/{id}", kind.arn_type()),
                };
                let policy = format!("deny{checked}");
                api.grant(
                    "bob",
                    &policy,
                    json!([{"Effect": "Deny", "Action": "*", "Resource": arn}]),
                )
                .await;
                let default_region = !sample.iter().any(|(k, _)| *k == "-RegionId");
                let params: Vec<(String, String)> = sample
                    .iter()
                    .filter(|(k, _)| !k.starts_with('-'))
                    .map(|(k, v)| ((*k).to_owned(), world.fill(v)))
                    .collect();
                let pairs: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let before = api.state().await;
                let answer = api
                    .signed(
                        &key,
                        &secret,
                        product.version(),
                        decl.name,
                        &pairs,
                        default_region,
                    )
                    .await;
                let what = format!("{} {} (deny {arn})", decl.name, rp.path);
                assert_ne!(answer.status, 200, "{what}: allowed: {}", answer.body);
                assert_eq!(api.state().await, before, "{what}: changed the store");
                if answer.status == 403 || !part {
                    assert_eq!(answer.status, 403, "{what}: {}", answer.body);
                    let detail = &answer.body["AccessDeniedDetail"];
                    let diag = vpngw_policy::decode_diagnostic_message(
                        detail["EncodedDiagnosticMessage"].as_str().unwrap_or(""),
                    )
                    .unwrap_or(Value::Null);
                    assert_eq!(
                        diag["AuthResource"],
                        arn.as_str(),
                        "{what}: {}",
                        answer.body
                    );
                    assert_eq!(diag["ExplicitDeny"], true, "{what}");
                }
                api.revoke("bob", &policy).await;
                checked += 1;
            }
        }
    }
    assert!(checked > 60, "only {checked} resource parameters checked");
}
