"""The Example Usage of terraform-provider-alicloud's VPN resource pages
(website/docs/r/vpn_*.html.markdown at 81c43b67), replayed call for call (terraform.py,
terraform_vpc.py) against vpngw's local mode, as a test suite would run them: `vpngw serve --dev`,
emptied with ResetState before each example (docs/local-mode.md).

Each example is applied as written, resource by resource in Terraform's dependency order, its data
sources included; then `terraform plan` must find nothing to do, and `terraform destroy` runs in
the reverse order. What an example expects to exist already (the acceptance-test account's `default-NODELETING` VPC,
a VPN gateway for `data "alicloud_vpn_gateways"`) is made first by a console user (the Tea SDK).
"""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import REGION
from terraform import (
    CustomerGateway,
    EnhancedVpnGateway,
    Provider,
    Resource,
    TerraformError,
    VcoRoute,
    VpnAttachment,
    VpnConnection,
    VpnGateway,
    check_types,
)
from terraform_cen import (
    CenInstance,
    TransitRouter,
    TransitRouterCidr,
    TransitRouterVpnAttachment,
    data_transit_router_available_resources,
)
from terraform_ipsec_server import VpnIpsecServer, data_vpn_ipsec_servers
from terraform_ssl import SslVpnClientCert, SslVpnServer, data_ssl_vpn_servers
from terraform_vpc import (
    Vpc,
    VpnPbrRouteEntry,
    VpnRouteEntry,
    VSwitch,
    data_vpcs,
    data_vpn_gateway_zones,
    data_vpn_gateways,
    data_vswitches,
    data_resource_manager_resource_groups,
    data_zones,
)
from test_local_mode import dev_server, reset_state  # noqa: F401  (the local-mode server)

NAME = "terraform-example"  # variable "name" of the examples


@pytest.fixture
def tf(dev_server) -> Provider:  # noqa: F811
    """A provider against a freshly emptied local-mode server."""
    reset_state(dev_server)
    return Provider(dev_server.raw_client())


@pytest.fixture
def console(dev_server):  # noqa: F811
    return dev_server.tea_client("v3")


class Stack:
    """One configuration's resources in the order `terraform apply` made them."""

    def __init__(self, tf: Provider):
        self.tf = tf
        self.resources: list[Resource] = []

    def apply(self, kind: type[Resource], config: dict) -> Resource:
        resource = kind(self.tf)
        resource.apply(config)
        self.resources.append(resource)
        return resource

    def plan(self) -> dict:
        """`terraform plan`: every resource refreshed; the changes it would make."""
        return {f"{r.TYPE}.{i}": change for i, r in enumerate(self.resources) if (change := r.plan())}

    def destroy(self) -> None:
        """`terraform destroy`: the reverse order, each resource gone before the one it needs."""
        for resource in reversed(self.resources):
            if resource.id is not None:
                resource.destroy()


# The example's connection (vpn_connection, vpn_route_entry, vpn_pbr_route_entry pages): dual
# tunnel with BGP, both tunnels to one customer gateway.
def example_connection(gateway_id: str, cgw_id: str) -> dict:
    return {
        "vpn_gateway_id": gateway_id,
        "vpn_connection_name": NAME,
        "local_subnet": ["3.0.0.0/24"],
        "remote_subnet": ["10.0.0.0/24", "10.0.1.0/24"],
        "tags": {"Created": "TF", "For": "example"},
        "enable_tunnels_bgp": True,
        "tunnel_options_specification": [
            {
                "tunnel_ipsec_config": [{"ipsec_auth_alg": "md5", "ipsec_enc_alg": "aes256", "ipsec_lifetime": 16400,
                                         "ipsec_pfs": "group5"}],
                "customer_gateway_id": cgw_id,
                "role": "master",
                "tunnel_bgp_config": [{"local_asn": "1219002", "tunnel_cidr": "169.254.30.0/30",
                                       "local_bgp_ip": "169.254.30.1"}],
                "tunnel_ike_config": [{"ike_mode": "aggressive", "ike_version": "ikev2", "local_id": "localid_tunnel2",
                                       "psk": "12345678", "remote_id": "remote2", "ike_auth_alg": "md5",
                                       "ike_enc_alg": "aes256", "ike_lifetime": 3600, "ike_pfs": "group14"}],
            },
            {
                "tunnel_ike_config": [{"remote_id": "remote24", "ike_enc_alg": "aes256", "ike_lifetime": 27000,
                                       "ike_mode": "aggressive", "ike_pfs": "group5", "ike_auth_alg": "md5",
                                       "ike_version": "ikev2", "local_id": "localid_tunnel2", "psk": "12345678"}],
                "tunnel_ipsec_config": [{"ipsec_lifetime": 2700, "ipsec_pfs": "group14", "ipsec_auth_alg": "md5",
                                         "ipsec_enc_alg": "aes256"}],
                "customer_gateway_id": cgw_id,
                "role": "slave",
                "tunnel_bgp_config": [{"local_asn": "1219002", "local_bgp_ip": "169.254.40.1",
                                       "tunnel_cidr": "169.254.40.0/30"}],
            },
        ],
    }


def example_customer_gateways(stack: Stack) -> tuple[Resource, Resource]:
    """defaultCustomerGateway and changeCustomerGateway of the connection and route examples."""
    first = stack.apply(CustomerGateway, {"description": "defaultCustomerGateway", "ip_address": "2.2.2.5",
                                          "asn": "2224", "customer_gateway_name": NAME})
    second = stack.apply(CustomerGateway, {"description": "changeCustomerGateway", "ip_address": "2.2.2.6",
                                           "asn": "2225", "customer_gateway_name": NAME})
    return first, second


VPC_TYPES = {"VpcId": str, "VpcName": str, "CidrBlock": str, "Status": str, "VRouterId": str, "RegionId": str,
             "IsDefault": bool, "CreationTime": str, "Description": str, "ResourceGroupId": str,
             "VSwitchIds.VSwitchId": list, "UserCidrs.UserCidr": list, "SecondaryCidrBlocks.SecondaryCidrBlock": list,
             "Tags.Tag": list}
VSWITCH_TYPES = {"VSwitchId": str, "VSwitchName": str, "VpcId": str, "ZoneId": str, "CidrBlock": str,
                 "Status": str, "IsDefault": bool, "CreationTime": str, "Description": str,
                 "AvailableIpAddressCount": int, "Tags.Tag": list}


def vpc_routes(console, vpc_id: str) -> dict[str, list[str]]:
    """The VPC's system route table as the console shows it: destination → next hops."""
    table = console.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id=vpc_id)).body.to_map()
    table_id = table["Vpcs"]["Vpc"][0]["RouterTableIds"]["RouterTableIds"][0]
    listed = console.describe_route_entry_list(m.DescribeRouteEntryListRequest(
        region_id=REGION, route_table_id=table_id, max_result=100)).body.to_map()
    return {e["DestinationCidrBlock"]: [h["NextHopId"] or h["NextHopType"] for h in e["NextHops"]["NextHop"]]
            for e in listed["RouteEntrys"]["RouteEntry"]}


def release_by_hand(console, gateway_id: str) -> None:
    """What the provider's page says to do with a subscription gateway Terraform forgot: release
    it in the console."""
    console.delete_vpn_gateway(m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gateway_id))


# --------------------------------------------------------------------- r/vpn_connection


def test_vpn_connection_example(tf, console):
    stack = Stack(tf)
    mark = tf.mark()
    zones = data_vpn_gateway_zones(tf, {"spec": "5M"})
    assert tf.actions(mark) == ["DescribeVpnGatewayAvailableZones"]
    assert tf.since(mark)[0].body == {} and tf.since(mark)[0].query == {"RegionId": REGION, "Spec": "5M"}
    assert len(zones["ids"]) >= 2, zones

    mark = tf.mark()
    vpc = stack.apply(Vpc, {"cidr_block": "172.16.0.0/16", "vpc_name": NAME})
    # Create, wait for Available, the update path (the system route table), Read (both again).
    assert tf.actions(mark) == ["CreateVpc", "DescribeVpcAttribute", "DescribeRouteTableList", "DescribeVpcAttribute",
                                "DescribeRouteTableList"]
    create = tf.since(mark)[0]
    assert create.query == {} and create.body == {"RegionId": REGION, "ClientToken": create.body["ClientToken"],
                                                  "CidrBlock": "172.16.0.0/16", "VpcName": NAME}
    check_types(vpc.raw, VPC_TYPES)
    assert vpc.state["status"] == "Available" and vpc.state["route_table_id"].startswith("vtb-")
    assert vpc.state["router_id"] == vpc.raw["VRouterId"]

    mark = tf.mark()
    vsw0 = stack.apply(VSwitch, {"cidr_block": "172.16.0.0/24", "vpc_id": vpc.id, "zone_id": zones["ids"][0]})
    assert tf.actions(mark) == ["CreateVSwitch", "DescribeVSwitchAttributes"]
    assert tf.since(mark)[0].query == {}
    vsw1 = stack.apply(VSwitch, {"cidr_block": "172.16.1.0/24", "vpc_id": vpc.id, "zone_id": zones["ids"][1]})
    check_types(vsw0.raw, VSWITCH_TYPES)
    assert (vsw0.state["zone_id"], vsw1.state["zone_id"]) == tuple(zones["ids"][:2])
    assert vsw0.state["status"] == "Available" and vsw0.raw["AvailableIpAddressCount"] == 252

    gw = stack.apply(VpnGateway, {
        "vpn_type": "Normal", "disaster_recovery_vswitch_id": vsw1.id, "vpn_gateway_name": NAME,
        "vswitch_id": vsw0.id, "auto_pay": True, "vpc_id": vpc.id, "network_type": "public",
        "payment_type": "Subscription", "enable_ipsec": True, "bandwidth": 5})
    assert (gw.state["vpc_id"], gw.state["vswitch_id"], gw.state["disaster_recovery_vswitch_id"]) == (
        vpc.id, vsw0.id, vsw1.id)
    assert gw.state["status"] == "active" and gw.state["payment_type"] == "Subscription"

    cgw, _ = example_customer_gateways(stack)
    conn = stack.apply(VpnConnection, example_connection(gw.id, cgw.id))
    assert conn.state["enable_tunnels_bgp"] is True and conn.state["tags"] == {"Created": "TF", "For": "example"}
    tunnels = conn.raw["TunnelOptionsSpecification"]["TunnelOptions"]
    assert [t["InternetIp"] for t in tunnels] == [gw.state["internet_ip"], gw.state["disaster_recovery_internet_ip"]]

    # ---- plan: nothing to do --------------------------------------------------------------
    assert stack.plan() == {}

    # ---- destroy ----------------------------------------------------------------------------
    # The connection and customer gateways go; the subscription gateway is only forgotten, and
    # stays in its vSwitches: DeleteVSwitch answers DependencyViolation until the destroy's
    # timeout, as the cloud does.
    gw_id = gw.id
    for resource in (conn, *stack.resources[4:6], gw):
        resource.destroy()
    mark = tf.mark()
    with pytest.raises(TerraformError) as refused:
        vsw1.destroy()
    assert refused.value.code == "DependencyViolation" and refused.value.status == 400
    assert len(tf.since(mark)) > 3 and {c.action for c in tf.since(mark)} == {"DeleteVSwitch"}
    release_by_hand(console, gw_id)
    mark = tf.mark()
    stack.destroy()
    actions = tf.actions(mark)
    assert actions[:2] == ["DeleteVSwitch", "DescribeVSwitchAttributes"] and actions[-2:] == ["DeleteVpc",
                                                                                            "DescribeVpcAttribute"]
    last = tf.since(mark)[-1]
    assert (last.status, last.code) == (404, "InvalidVpcId.NotFound")
    assert data_vpcs(tf, {})["ids"] == []


# ------------------------------------------------------------------------ r/vpn_gateway


def made_by_hand(console, name: str, cidr: str, zones: list[str]) -> tuple[str, list[str]]:
    """A VPC with a /24 vSwitch in each zone, made in the console."""
    vpc_id = console.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block=cidr, vpc_name=name)).body.vpc_id
    vsws = [console.create_vswitch(m.CreateVSwitchRequest(
        region_id=REGION, vpc_id=vpc_id, zone_id=zone, cidr_block=cidr.replace(".0.0/16", f".{i}.0/24"))).body.v_switch_id
        for i, zone in enumerate(zones)]
    return vpc_id, vsws


def default_nodeleting(tf: Provider, console) -> dict:
    """The data sources the vpn_gateway, vpn_ipsec_server, ssl_vpn_server and
    ssl_vpn_client_cert pages share: `data "alicloud_zones"` (VSwitch), the account's
    `default-NODELETING` VPC (made first, by hand, with a vSwitch in each of the first two zones
    and two decoys) and its vSwitch in each zone."""
    zone_ids = sorted(z.zone_id for z in console.describe_vpn_gateway_available_zones(
        m.DescribeVpnGatewayAvailableZonesRequest(region_id=REGION, spec="5M")).body.available_zone_id_list)
    home, vsws = made_by_hand(console, "default-NODELETING", "172.16.0.0/16", zone_ids[:2])
    made_by_hand(console, "default-NODELETING", "172.17.0.0/16", zone_ids[:1])
    made_by_hand(console, "default-NODELETING-2", "172.16.0.0/16", zone_ids[:1])
    zones = data_zones(tf, {"available_resource_creation": "VSwitch"})
    vpcs = data_vpcs(tf, {"name_regex": "^default-NODELETING$", "cidr_block": "172.16.0.0/16"})
    default0 = data_vswitches(tf, {"vpc_id": vpcs["ids"][0], "zone_id": zones["ids"][0]})
    default1 = data_vswitches(tf, {"vpc_id": vpcs["ids"][0], "zone_id": zones["ids"][1]})
    assert (vpcs["ids"], default0["ids"], default1["ids"]) == ([home], vsws[:1], vsws[1:])
    return {"zones": zones, "vpcs": vpcs, "default0": default0, "default1": default1}


def test_vpn_gateway_example(tf, console):
    """The example reads the account's `default-NODELETING` VPC (172.16.0.0/16) and a vSwitch of
    it in each of two zones. Decoys: the same name with another block, another name."""
    mark = tf.mark()
    data = default_nodeleting(tf, console)
    calls = tf.since(mark)
    # data "alicloud_zones": ECS's two reads, every parameter in the query (the Go SDK's ecs client).
    assert [c.action for c in calls[:2]] == ["DescribeAvailableResource", "DescribeZones"]
    assert calls[0].query == {"RegionId": REGION, "DestinationResource": "Zone", "IoOptimized": "optimized",
                              "InstanceChargeType": "PostPaid", "SpotStrategy": "NoSpot"} and calls[0].body == {}
    assert calls[1].query == {"RegionId": REGION, "InstanceChargeType": "PostPaid", "SpotStrategy": "NoSpot"}
    catalogue = [z["ZoneId"] for z in calls[1].answer["Zones"]["Zone"]]
    zone_ids = data["zones"]["ids"]
    assert zone_ids == sorted(catalogue) and len(zone_ids) >= 2
    vsw_a, vsw_b = data["default0"]["ids"][0], data["default1"]["ids"][0]
    home = data["vpcs"]["ids"][0]

    vpcs = data["vpcs"]
    assert vpcs["total_count"] == 3
    # DescribeVpcs once (one page of 50), then the system route table of the VPC found.
    assert [c.action for c in calls[2:4]] == ["DescribeVpcs", "DescribeRouteTableList"]
    listed = calls[2]
    assert listed.body == {"RegionId": REGION, "PageNumber": "1", "PageSize": "50"} and listed.query == {}
    assert vpcs["vpcs"][0]["route_table_id"].startswith("vtb-") and vpcs["vpcs"][0]["vswitch_ids"] == [vsw_a, vsw_b]
    for vpc in listed.answer["Vpcs"]["Vpc"]:
        check_types(vpc, VPC_TYPES)

    default0, default1 = data["default0"], data["default1"]
    listed = tf.calls[-1]
    assert listed.body == {"RegionId": REGION, "VpcId": home, "ZoneId": zone_ids[1], "PageSize": "50",
                           "PageNumber": "1"}
    check_types(listed.answer["VSwitches"]["VSwitch"][0], {**VSWITCH_TYPES, "RouteTable.RouteTableId": str})
    assert default1["vswitches"][0]["route_table_id"] == vpcs["vpcs"][0]["route_table_id"]

    stack = Stack(tf)
    gw = stack.apply(VpnGateway, {
        "vpn_type": "Normal", "vpn_gateway_name": NAME, "vswitch_id": default0["ids"][0],
        "disaster_recovery_vswitch_id": default1["ids"][0], "auto_pay": True, "vpc_id": vpcs["ids"][0],
        "network_type": "public", "payment_type": "Subscription", "enable_ipsec": True, "bandwidth": 20})
    assert gw.raw["Spec"] == "20M" and gw.state["vswitch_id"] == vsw_a
    assert stack.plan() == {}
    mark = tf.mark()
    stack.destroy()
    assert tf.since(mark) == []  # a subscription gateway is only forgotten
    release_by_hand(console, gw.raw["VpnGatewayId"])


# --------------------------------------------------------------- r/vpn_customer_gateway


def test_vpn_customer_gateway_example(dev_server):  # noqa: F811
    reset_state(dev_server)
    tf = Provider(dev_server.raw_client(), region="ap-southeast-1")  # provider "alicloud" { region = … }
    stack = Stack(tf)
    cgw = stack.apply(CustomerGateway, {"description": NAME, "ip_address": "4.3.2.10", "asn": "1219002",
                                        "customer_gateway_name": NAME})
    assert cgw.state["asn"] == 1219002 and cgw.state["ip_address"] == "4.3.2.10"
    assert tf.calls[0].body["RegionId"] == "ap-southeast-1"
    assert stack.plan() == {}
    stack.destroy()
    with pytest.raises(TerraformError) as gone:
        cgw.id = tf.calls[0].answer["CustomerGatewayId"]
        cgw.describe()
    assert gone.value.code == "InvalidCustomerGatewayInstanceId.NotFound"


# ------------------------------------------------- r/vpn_route_entry, r/vpn_pbr_route_entry


@pytest.mark.parametrize("kind", [VpnRouteEntry, VpnPbrRouteEntry], ids=["route_entry", "pbr_route_entry"])
def test_vpn_route_entry_examples(tf, console, kind):
    """Both pages read an existing gateway with `data "alicloud_vpn_gateways" {}` and route
    10.0.0.0/24 to the example's connection. Then `publish_vpc` and `weight` change."""
    vpc_id = console.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block="172.16.0.0/16")).body.vpc_id
    zone_ids = data_vpn_gateway_zones(tf, {"spec": "10M"})["ids"]
    vsws = [console.create_vswitch(m.CreateVSwitchRequest(
        region_id=REGION, vpc_id=vpc_id, zone_id=zone, cidr_block=f"172.16.{i}.0/24")).body.v_switch_id
        for i, zone in enumerate(zone_ids[:2])]
    console.create_vpn_gateway(m.CreateVpnGatewayRequest(
        region_id=REGION, vpc_id=vpc_id, v_switch_id=vsws[0], disaster_recovery_vswitch_id=vsws[1], bandwidth=10,
        enable_ipsec=True))

    mark = tf.mark()
    gateways = data_vpn_gateways(tf, {})
    assert tf.actions(mark) == ["DescribeVpnGateways"] and len(gateways["ids"]) == 1
    assert tf.calls[-1].body == {"RegionId": REGION, "PageNumber": "1", "PageSize": "50"}

    stack = Stack(tf)
    cgw, _ = example_customer_gateways(stack)
    conn = stack.apply(VpnConnection, example_connection(gateways["ids"][0], cgw.id))
    config = {"vpn_gateway_id": gateways["ids"][0], "route_dest": "10.0.0.0/24", "next_hop": conn.id, "weight": 0,
              "publish_vpc": False}
    if kind is VpnPbrRouteEntry:
        config["route_source"] = "192.168.1.0/24"
    mark = tf.mark()
    route = stack.apply(kind, config)
    create = tf.since(mark)[0]
    assert create.action == kind.CREATE and create.query == {}
    assert {k: create.body[k] for k in ("Weight", "PublishVpc", "NextHop")} == {
        "Weight": "0", "PublishVpc": "false", "NextHop": conn.id}
    assert route.id.split(":")[0] == gateways["ids"][0]
    assert route.state["status"] == "normal" and route.state["publish_vpc"] is False
    assert stack.plan() == {}

    # ---- publish it to the VPC and give it the weight 100 --------------------------------
    mark = tf.mark()
    route.apply({**config, "publish_vpc": True, "weight": 100})
    calls = tf.since(mark)
    publish = next(c for c in calls if c.action == "PublishVpnRouteEntry")
    assert (publish.body["RouteType"], publish.body["PublishVpc"]) == (kind.ROUTE_TYPE, "true")
    weight = next(c for c in calls if c.action == kind.WEIGHT)
    assert (weight.body["Weight"], weight.body["NewWeight"]) == ("0", "100") and "ClientToken" not in weight.body
    assert route.state["status"] == "published" and route.state["weight"] == 100
    assert stack.plan() == {}
    # Published: the VPC's system route table sends 10.0.0.0/24 to the gateway. So does the
    # example's connection for its whole RemoteSubnet: it leaves auto_config_route unset (true), and
    # the policy-based routes AutoConfigRoute makes are published (docs/api-decisions.md).
    assert vpc_routes(console, vpc_id) == {"172.16.0.0/24": ["local"], "172.16.1.0/24": ["local"],
                                           "10.0.0.0/24": [gateways["ids"][0]], "10.0.1.0/24": [gateways["ids"][0]]}

    # ---- destroy ----------------------------------------------------------------------------
    mark = tf.mark()
    stack.destroy()
    delete = tf.since(mark)[0]
    assert delete.action == kind.DELETE and delete.body["Weight"] == "100"
    assert tf.actions(mark)[1] == kind.DESCRIBE
    assert "10.0.0.0/24" not in vpc_routes(console, vpc_id)


# ---------------------------------------------- r/vpc, r/vswitch: what later applies change


def test_vpc_and_vswitch_updates(tf, console):
    """A module's later applies: names, descriptions and tags of alicloud_vpc and alicloud_vswitch
    (TagResources with ResourceType VPC / VSWITCH), the VPC's resource group (MoveResourceGroup);
    drift made in the console shows in the plan and the next apply takes it back."""
    stack = Stack(tf)
    config = {"cidr_block": "172.16.0.0/12", "vpc_name": NAME, "description": "example description",
              "tags": {"Created": "TF"}}
    mark = tf.mark()
    vpc = stack.apply(Vpc, config)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["CreateVpc", "DescribeVpcAttribute", "DescribeRouteTableList", "TagResources",
                                "DescribeVpcAttribute", "DescribeRouteTableList"]
    assert {k: v for k, v in calls[0].body.items() if k.startswith("Tag.")} == {"Tag.1.Key": "Created",
                                                                                 "Tag.1.Value": "TF"}
    tag = next(c for c in calls if c.action == "TagResources")
    assert tag.body == {"ResourceId.1": vpc.id, "RegionId": REGION, "ResourceType": "VPC", "Tag.1.Key": "Created",
                        "Tag.1.Value": "TF"}
    zone = data_vpn_gateway_zones(tf, {"spec": "10M"})["ids"][0]
    vsw_config = {"vswitch_name": NAME, "cidr_block": "172.16.0.0/21", "vpc_id": vpc.id, "zone_id": zone,
                  "tags": {"BuiltBy": "example_value", "Environment": "example_value"}}
    vsw = stack.apply(VSwitch, vsw_config)
    assert vsw.state["tags"] == vsw_config["tags"] and vsw.raw["AvailableIpAddressCount"] == 2044
    assert stack.plan() == {}

    # ---- change names, descriptions, tags and the group --------------------------------------
    changed = {**config, "vpc_name": NAME + "-2", "description": "changed", "tags": {"Created": "TF", "Env": "lab"},
               "resource_group_id": "rg-acfmvpc0002"}
    mark = tf.mark()
    vpc.apply(changed)
    assert tf.actions(mark) == ["DescribeVpcAttribute", "DescribeRouteTableList", "ModifyVpcAttribute",
                                "DescribeVpcAttribute", "MoveResourceGroup", "DescribeRouteTableList", "TagResources",
                                "DescribeVpcAttribute", "DescribeRouteTableList"]
    modify = next(c for c in tf.since(mark) if c.action == "ModifyVpcAttribute")
    assert modify.body == {"VpcId": vpc.id, "RegionId": REGION, "Description": "changed", "VpcName": NAME + "-2"}
    assert vpc.state["resource_group_id"] == "rg-acfmvpc0002" and vpc.state["tags"] == changed["tags"]
    mark = tf.mark()
    vsw.apply({**vsw_config, "vswitch_name": NAME + "-2", "description": "app tier",
               "tags": {"BuiltBy": "example_value"}})
    assert tf.actions(mark) == ["DescribeVSwitchAttributes", "ModifyVSwitchAttribute", "DescribeVSwitchAttributes",
                                "UnTagResources", "TagResources", "DescribeVSwitchAttributes"]
    untag = next(c for c in tf.since(mark) if c.action == "UnTagResources")
    assert untag.body == {"ResourceId.1": vsw.id, "RegionId": REGION, "ResourceType": "VSWITCH",
                          "TagKey.1": "Environment"}
    assert (vsw.state["vswitch_name"], vsw.state["description"], vsw.state["tags"]) == (
        NAME + "-2", "app tier", {"BuiltBy": "example_value"})
    assert stack.plan() == {}

    # ---- drift: a tag added in the console ----------------------------------------------------
    console.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type="VPC", resource_id=[vpc.id],
                                                tag=[m.TagResourcesRequestTag(key="Owner", value="ops")]))
    assert stack.plan() == {f"{Vpc.TYPE}.0": {"tags": (changed["tags"], {**changed["tags"], "Owner": "ops"})}}
    vpc.apply(changed)
    assert stack.plan() == {}
    listed = console.list_tag_resources(m.ListTagResourcesRequest(
        region_id=REGION, resource_type="VSWITCH", resource_id=[vsw.id])).body.to_map()
    assert [(t["ResourceType"], t["TagKey"]) for t in listed["TagResources"]["TagResource"]] == [("VSWITCH", "BuiltBy")]

    stack.destroy()
    assert data_vpcs(tf, {})["ids"] == []


# ------------------------------------ r/vpn_ipsec_server, r/ssl_vpn_server, r/ssl_vpn_client_cert


def example_ssl_gateway(stack: Stack, data: dict) -> Resource:
    """The gateway of the vpn_ipsec_server and ssl_vpn pages: SSL-VPN enabled, subscription."""
    return stack.apply(VpnGateway, {
        "vpn_gateway_name": NAME, "vpc_id": data["vpcs"]["ids"][0], "bandwidth": 10, "enable_ssl": True,
        "description": NAME, "payment_type": "Subscription", "vswitch_id": data["default0"]["ids"][0],
        "disaster_recovery_vswitch_id": data["default1"]["ids"][0]})


def test_vpn_ipsec_server_example(tf, console):
    stack = Stack(tf)
    gw = example_ssl_gateway(stack, default_nodeleting(tf, console))
    server = stack.apply(VpnIpsecServer, {"client_ip_pool": "10.0.0.0/24", "ipsec_server_name": NAME,
                                          "local_subnet": "192.168.0.0/24", "vpn_gateway_id": gw.id,
                                          "psk_enabled": True})
    assert server.state["psk_enabled"] is True and server.state["vpn_gateway_id"] == gw.id
    assert stack.plan() == {}
    mark = tf.mark()
    stack.destroy()
    assert tf.actions(mark)[0] == "DeleteIpsecServer"
    assert data_vpn_ipsec_servers(tf, vpn_gateway_id=gw.id)["ids"] == []
    release_by_hand(console, gw.raw["VpnGatewayId"])


@pytest.mark.parametrize("page", ["ssl_vpn_server", "ssl_vpn_client_cert"])
def test_ssl_vpn_examples(tf, console, page):
    """The client-cert page is the server page plus one certificate."""
    stack = Stack(tf)
    data = default_nodeleting(tf, console)
    gw = example_ssl_gateway(stack, data)
    # local_subnet = cidrsubnet(data.alicloud_vpcs.default.vpcs.0.cidr_block, 8, 8)
    assert data["vpcs"]["vpcs"][0]["cidr_block"] == "172.16.0.0/16"
    server = stack.apply(SslVpnServer, {"name": NAME, "vpn_gateway_id": gw.id, "client_ip_pool": "192.168.0.0/16",
                                        "local_subnet": "172.16.8.0/24", "protocol": "UDP",
                                        "cipher": "AES-128-CBC", "port": 1194, "compress": False})
    assert (server.state["local_subnet"], server.state["compress"]) == ("172.16.8.0/24", False)
    if page == "ssl_vpn_client_cert":
        cert = stack.apply(SslVpnClientCert, {"ssl_vpn_server_id": server.id, "name": NAME})
        assert cert.state["ssl_vpn_server_id"] == server.id and cert.state["status"] == "normal"
    assert stack.plan() == {}
    stack.destroy()
    assert data_ssl_vpn_servers(tf, vpn_gateway_id=gw.id)["ids"] == []
    release_by_hand(console, gw.raw["VpnGatewayId"])



# ------------------------------------------------ r/vpn_gateway_enhanced_vpn_gateway


def test_vpn_gateway_enhanced_vpn_gateway_example(dev_server):  # noqa: F811
    """Basic Usage: a VPC (`is_default = false`) with a vSwitch in each of two zones of
    ap-southeast-3, and the enhanced gateway in both. Then a tag and a new name."""
    reset_state(dev_server)
    tf = Provider(dev_server.raw_client(), region="ap-southeast-3")  # provider "alicloud" { region = … }
    stack = Stack(tf)
    vpc = stack.apply(Vpc, {"cidr_block": "192.168.0.0/16", "is_default": False})
    vsw1 = stack.apply(VSwitch, {"vpc_id": vpc.id, "zone_id": "ap-southeast-3b", "cidr_block": "192.168.10.0/24"})
    vsw2 = stack.apply(VSwitch, {"vpc_id": vpc.id, "zone_id": "ap-southeast-3a", "cidr_block": "192.168.20.0/24"})
    config = {"vpn_type": "Normal", "description": "default", "disaster_recovery_vswitch_id": vsw2.id,
              "vpc_id": vpc.id, "vpn_gateway_name": "default", "network_type": "public", "vswitch_id": vsw1.id,
              "gateway_type": "Enhanced.SiteToSite", "auto_propagate": False}
    mark = tf.mark()
    gw = stack.apply(EnhancedVpnGateway, config)
    calls = tf.since(mark)
    # Create, wait for active, then Update sends what changed from nothing: the description only
    # (auto_propagate = false is no change, the name is not sent to a new resource); its wait for
    # active and Read's DescribeVpnGateway, then Read's tags.
    assert [c.action for c in calls] == ["CreateEnhancedVpnGateway", "DescribeVpnGateway", "UpdateEnhancedVpnGateway",
                                         "DescribeVpnGateway", "DescribeVpnGateway", "ListTagResources"]
    create = calls[0]
    assert create.query == {} and {k: v for k, v in create.body.items() if k != "ClientToken"} == {
        "RegionId": "ap-southeast-3", "VpcId": vpc.id, "VpnType": "Normal", "VSwitchId": vsw1.id,
        "NetworkType": "public", "DisasterRecoveryVSwitchId": vsw2.id, "Name": "default",
        "GatewayType": "Enhanced.SiteToSite"}
    update = calls[2]
    assert {k: v for k, v in update.body.items() if k != "ClientToken"} == {
        "VpnGatewayId": gw.id, "RegionId": "ap-southeast-3", "Description": "default"}
    assert gw.id.startswith("vpn-8ps")
    assert {k: gw.state[k] for k in ("status", "gateway_type", "vswitch_id", "disaster_recovery_vswitch_id",
                                     "vpn_gateway_name", "description", "auto_propagate", "tags")} == {
        "status": "active", "gateway_type": "Enhanced.SiteToSite", "vswitch_id": vsw1.id,
        "disaster_recovery_vswitch_id": vsw2.id, "vpn_gateway_name": "default", "description": "default",
        "auto_propagate": False, "tags": {}}
    assert isinstance(gw.state["create_time"], int)
    assert stack.plan() == {}

    # ---- a later apply: a tag and a new name ---------------------------------------------------
    changed = {**config, "vpn_gateway_name": "edge", "tags": {"Created": "TF"}}
    mark = tf.mark()
    gw.apply(changed)
    assert tf.actions(mark) == ["DescribeVpnGateway", "ListTagResources", "UpdateEnhancedVpnGateway",
                                "DescribeVpnGateway", "TagResources", "DescribeVpnGateway", "ListTagResources"]
    tag = next(c for c in tf.since(mark) if c.action == "TagResources")
    assert tag.body == {"ResourceId.1": gw.id, "RegionId": "ap-southeast-3", "ResourceType": "VpnGateWay",
                        "Tag.1.Key": "Created", "Tag.1.Value": "TF"}
    assert (gw.state["vpn_gateway_name"], gw.state["tags"]) == ("edge", {"Created": "TF"})
    assert stack.plan() == {}

    # ---- destroy: the gateway, then the vSwitches it held, then the VPC --------------------------
    mark = tf.mark()
    stack.destroy()
    assert tf.actions(mark)[:2] == ["DeleteEnhancedVpnGateway", "DescribeVpnGateways"]
    assert vpc.id is None and vsw1.id is None and vsw2.id is None


# ------------------------------------------------------- r/vpn_gateway_vpn_attachment


def example_attachment_tunnel(index: int, cgw_id: str, psk: str) -> dict:
    """One tunnel_options_specification of the page's Basic Usage."""
    return {
        "tunnel_index": index,
        "customer_gateway_id": cgw_id,
        "enable_dpd": True,
        "enable_nat_traversal": True,
        "tunnel_ike_config": [{"ike_version": "ikev2", "ike_mode": "main", "ike_auth_alg": "sha256",
                               "ike_enc_alg": "aes", "ike_pfs": "group2", "ike_lifetime": 86400, "psk": psk,
                               "local_id": "42.104.22.210", "remote_id": "42.104.22.210"}],
        "tunnel_ipsec_config": [{"ipsec_auth_alg": "sha256", "ipsec_enc_alg": "aes", "ipsec_pfs": "group2",
                                 "ipsec_lifetime": 86400}],
    }


def test_vpn_gateway_vpn_attachment_example(tf):
    """Basic Usage: a dual-tunnel attachment, both tunnels to one customer gateway. The set of
    tunnels is hashed by (tunnel_index, customer_gateway_id), so the index must read back as sent
    or every plan would replace both tunnels."""
    stack = Stack(tf)
    cgw = stack.apply(CustomerGateway, {"customer_gateway_name": NAME, "ip_address": "42.104.22.210",
                                        "asn": "45014", "description": NAME})
    mark = tf.mark()
    att = stack.apply(VpnAttachment, {
        "vpn_attachment_name": NAME, "network_type": "public", "local_subnet": "0.0.0.0/0",
        "remote_subnet": "0.0.0.0/0", "effect_immediately": False,
        "tunnel_options_specification": [example_attachment_tunnel(1, cgw.id, "tf-example-psk1"),
                                         example_attachment_tunnel(2, cgw.id, "tf-example-psk2")],
    })
    assert tf.actions(mark) == ["CreateVpnAttachment", "DescribeVpnConnection"]
    create = tf.since(mark)[0].body
    assert create["TunnelOptionsSpecification.1.TunnelIndex"] == "1"
    assert create["TunnelOptionsSpecification.2.TunnelIkeConfig.Psk"] == "tf-example-psk2"
    assert create["TunnelOptionsSpecification.1.Role"] == ""  # an unset TypeString of a set element
    tunnels = att.state["tunnel_options_specification"]
    assert [(t["tunnel_index"], t["customer_gateway_id"]) for t in tunnels] == [(1, cgw.id), (2, cgw.id)]
    assert {t["role"] for t in tunnels} == {"master", "slave"}
    assert [t["tunnel_ike_config"][0]["psk"] for t in tunnels] == ["tf-example-psk1", "tf-example-psk2"]
    assert att.state["customer_gateway_id"] in (None, "")  # dual tunnel: the gateways are the tunnels'
    assert stack.plan() == {}

    # A change of one tunnel's IKE settings is an update of the set, not a replacement.
    changed = dict(att.config)
    second = example_attachment_tunnel(2, cgw.id, "tf-example-psk2")
    second["tunnel_ike_config"][0]["ike_lifetime"] = 3600
    changed["tunnel_options_specification"] = [example_attachment_tunnel(1, cgw.id, "tf-example-psk1"), second]
    mark = tf.mark()
    att.apply(changed)
    modify = [c for c in tf.since(mark) if c.action == "ModifyVpnAttachmentAttribute"][-1].body
    assert modify["TunnelOptionsSpecification.2.TunnelIkeConfig.IkeLifetime"] == "3600"
    assert att.state["tunnel_options_specification"][1]["tunnel_ike_config"][0]["ike_lifetime"] == 3600
    assert stack.plan() == {}
    stack.destroy()


def test_vpn_gateway_vpn_attachment_dual_tunnel_example(tf):
    """Dual Tunnel Mode Usage: tunnel BGP on, both tunnels to cgw1 (cgw2 is made and unused), the
    attachment in the account's first resource group as Resource Manager lists it."""
    stack = Stack(tf)
    mark = tf.mark()
    groups = data_resource_manager_resource_groups(tf, {})
    assert tf.actions(mark) == ["ListResourceGroups"]
    assert tf.since(mark)[0].body == {"PageSize": "50", "PageNumber": "1"}
    cgw1 = stack.apply(CustomerGateway, {"ip_address": "2.2.2.2", "asn": "1219001"})
    stack.apply(CustomerGateway, {"ip_address": "43.43.3.22", "asn": "44331", "customer_gateway_name": "example_amp"})
    tunnel = {"customer_gateway_id": cgw1.id, "enable_dpd": True, "enable_nat_traversal": True}
    att = stack.apply(VpnAttachment, {
        "local_subnet": "0.0.0.0/0", "enable_tunnels_bgp": True, "vpn_attachment_name": "tfaccvpngateway25800",
        "tunnel_options_specification": [
            {**tunnel, "tunnel_index": 1,
             "tunnel_ipsec_config": [{"ipsec_lifetime": 86200, "ipsec_pfs": "group5", "ipsec_auth_alg": "md5",
                                      "ipsec_enc_alg": "aes"}],
             "tunnel_bgp_config": [{"local_asn": 1219001, "local_bgp_ip": "169.254.10.1",
                                    "tunnel_cidr": "169.254.10.0/30"}],
             "tunnel_ike_config": [{"ike_mode": "main", "ike_version": "ikev1", "psk": "12345678",
                                    "remote_id": "2.2.2.2", "ike_auth_alg": "md5", "ike_enc_alg": "aes",
                                    "ike_lifetime": 86100, "ike_pfs": "group2", "local_id": "1.1.1.1"}]},
            {**tunnel, "tunnel_index": 2,
             "tunnel_ipsec_config": [{"ipsec_enc_alg": "aes", "ipsec_lifetime": 86400, "ipsec_pfs": "group5",
                                      "ipsec_auth_alg": "sha256"}],
             "tunnel_bgp_config": [{"local_asn": 1219001, "local_bgp_ip": "169.254.20.1",
                                    "tunnel_cidr": "169.254.20.0/30"}],
             "tunnel_ike_config": [{"local_id": "4.4.4.4", "remote_id": "5.5.5.5", "ike_lifetime": 86400,
                                    "ike_mode": "main", "ike_pfs": "group5", "ike_version": "ikev2",
                                    "ike_auth_alg": "md5", "ike_enc_alg": "aes", "psk": "32333442"}]},
        ],
        "remote_subnet": "0.0.0.0/0", "network_type": "public", "resource_group_id": groups["ids"][0],
    })
    assert att.state["resource_group_id"] == "rg-default" and att.state["enable_tunnels_bgp"] is True
    tunnels = att.state["tunnel_options_specification"]
    assert [t["tunnel_bgp_config"][0]["tunnel_cidr"] for t in tunnels] == ["169.254.10.0/30", "169.254.20.0/30"]
    assert [t["tunnel_bgp_config"][0]["peer_asn"] for t in tunnels] == ["1219001", "1219001"]
    assert stack.plan() == {}
    stack.destroy()


def test_vpn_gateway_vco_route_example(tf, dev_server):  # noqa: F811
    """The vco_route page's Basic Usage: a CEN instance, its transit router with a CIDR block, the
    zones a transit router offers (data alicloud_cen_transit_router_available_resources), a
    single-tunnel VPN attachment with BGP and a health check, the transit router's attachment of it,
    and the VCO route on the attached connection."""
    stack = Stack(tf)
    mark = tf.mark()
    cen = stack.apply(CenInstance, {"cen_instance_name": NAME})
    assert tf.actions(mark) == ["CreateCen", "DescribeCens"]
    assert tf.since(mark)[1].body == {"Filter.1.Value.1": cen.id, "Filter.1.Key": "CenId"}
    assert cen.state["status"] == "Active" and cen.state["protection_level"] == "REDUCED"
    tr = stack.apply(TransitRouter, {"cen_id": cen.id, "transit_router_description": NAME,
                                     "transit_router_name": NAME})
    assert tr.id == f"{cen.id}:{tr.state['transit_router_id']}" and tr.state["type"] == "Enterprise"
    cidr = stack.apply(TransitRouterCidr, {"transit_router_id": tr.state["transit_router_id"],
                                           "cidr": "192.168.0.0/16", "transit_router_cidr_name": NAME,
                                           "description": NAME, "publish_cidr_route": True})
    mark = tf.mark()
    zones = data_transit_router_available_resources(tf, {})
    assert tf.actions(mark) == ["ListTransitRouterAvailableResource"]
    zone = zones["resources"][0]["master_zones"][0]
    assert zone.startswith(REGION + "-")
    cgw = stack.apply(CustomerGateway, {"customer_gateway_name": NAME, "ip_address": "42.104.22.210",
                                        "asn": "45014", "description": NAME})
    att = stack.apply(VpnAttachment, {
        "customer_gateway_id": cgw.id, "network_type": "public", "local_subnet": "0.0.0.0/0",
        "remote_subnet": "0.0.0.0/0", "effect_immediately": False,
        "ike_config": [{"ike_auth_alg": "md5", "ike_enc_alg": "des", "ike_version": "ikev2", "ike_mode": "main",
                        "ike_lifetime": 86400, "psk": "tf-examplevpn2", "ike_pfs": "group1", "remote_id": "testbob2",
                        "local_id": "testalice2"}],
        "ipsec_config": [{"ipsec_pfs": "group5", "ipsec_enc_alg": "des", "ipsec_auth_alg": "md5",
                          "ipsec_lifetime": 86400}],
        "bgp_config": [{"enable": True, "local_asn": 45014, "tunnel_cidr": "169.254.11.0/30",
                        "local_bgp_ip": "169.254.11.1"}],
        "health_check_config": [{"enable": True, "sip": "192.168.1.1", "dip": "10.0.0.1", "interval": 10,
                                 "retry": 10, "policy": "revoke_route"}],
        "enable_dpd": True, "enable_nat_traversal": True, "vpn_attachment_name": NAME,
    })
    mark = tf.mark()
    tra = stack.apply(TransitRouterVpnAttachment, {
        "auto_publish_route_enabled": False, "transit_router_attachment_description": NAME,
        "transit_router_attachment_name": NAME, "cen_id": tr.state["cen_id"],
        "transit_router_id": cidr.state["transit_router_id"], "vpn_id": att.id, "zone": [{"zone_id": zone}],
    })
    assert tf.actions(mark) == ["CreateTransitRouterVpnAttachment", "ListTransitRouterVpnAttachments"]
    create = tf.since(mark)[0].body
    assert create["Zone.1.ZoneId"] == zone and create["AutoPublishRouteEnabled"] == "false"
    assert tra.state["status"] == "Attached" and tra.state["vpn_id"] == att.id
    # The connection now says which transit router it is bound to.
    conn = att.describe()
    assert conn["TransitRouterId"] == tr.state["transit_router_id"] and conn["TransitRouterName"] == NAME
    route = stack.apply(VcoRoute, {"next_hop": tra.state["vpn_id"], "vpn_connection_id": tra.state["vpn_id"],
                                   "weight": "100", "route_dest": "192.168.10.0/24"})
    assert route.id == f"{att.id}:192.168.10.0/24:{att.id}:100"
    assert route.state["status"] == "published"
    assert stack.plan() == {}

    # Changed arguments of the CEN parts go through their update paths, without replacement.
    mark = tf.mark()
    tr.apply({**tr.config, "transit_router_name": "renamed"})
    cen.apply({**cen.config, "description": "described"})
    tra.apply({**tra.config, "transit_router_attachment_name": "renamed"})
    cidr.apply({**cidr.config, "publish_cidr_route": False})
    assert {"UpdateTransitRouter", "ModifyCenAttribute", "UpdateTransitRouterVpnAttachmentAttribute",
            "ModifyTransitRouterCidr"} <= set(tf.actions(mark))
    assert (tr.state["transit_router_name"], cen.state["description"], tra.state["transit_router_vpn_attachment_name"],
            cidr.state["publish_cidr_route"]) == ("renamed", "described", "renamed", False)
    assert stack.plan() == {}
    stack.destroy()
    # Everything is gone, CEN included.
    assert cen.id is None and tr.id is None and tra.id is None
