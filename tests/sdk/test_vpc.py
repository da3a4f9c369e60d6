"""VPCs and vSwitches through the official SDK: CreateVpc … DeleteVSwitch and DescribeRouteTableList,
with the cloud's asynchronous states (Pending, then Available), CIDR rules, dependencies, ClientToken,
DryRun, tags and errors (docs/api-decisions.md, "VPC and vSwitch")."""

from __future__ import annotations

import concurrent.futures
import ipaddress
import re

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import REGION, capture_error, check_error, expect_error, rand_suffix, wait_for

VPC_ID = re.compile(r"^vpc-bp1[a-z0-9]+$")
VSW_ID = re.compile(r"^vsw-bp1[a-z0-9]+$")
ZONE = "cn-hangzhou-k"


def create_vpc(client, cidr: str = "192.168.0.0/16", **kw) -> dict:
    return client.create_vpc(m.CreateVpcRequest(region_id=REGION, cidr_block=cidr, **kw)).body.to_map()


def vpc_attr(client, vpc_id: str) -> dict:
    return client.describe_vpc_attribute(m.DescribeVpcAttributeRequest(region_id=REGION, vpc_id=vpc_id)).body.to_map()


def wait_available(client, vpc_id: str) -> dict:
    def available():
        attr = vpc_attr(client, vpc_id)
        return attr if attr["Status"] == "Available" else None
    return wait_for(available, what="VPC Available")


def create_vswitch(client, vpc_id: str, cidr: str, zone: str = ZONE, **kw) -> str:
    return client.create_vswitch(m.CreateVSwitchRequest(
        region_id=REGION, vpc_id=vpc_id, zone_id=zone, cidr_block=cidr, **kw)).body.v_switch_id


def vswitch_attr(client, vsw: str) -> dict:
    return client.describe_vswitch_attributes(
        m.DescribeVSwitchAttributesRequest(region_id=REGION, v_switch_id=vsw)).body.to_map()


def delete_vpc(client, vpc_id: str) -> None:
    client.delete_vpc(m.DeleteVpcRequest(region_id=REGION, vpc_id=vpc_id))


def test_vpc_lifecycle(vpc):
    name = "net-" + rand_suffix(6)
    token = "tok-" + rand_suffix(10)
    body = create_vpc(vpc, "10.0.0.0/8", vpc_name=name, description="lab network", client_token=token,
                      tag=[m.CreateVpcRequestTag(key="env", value="lab")])
    vpc_id = body["VpcId"]
    assert VPC_ID.match(vpc_id), body
    assert body["VRouterId"].startswith("vrt-") and body["RouteTableId"].startswith("vtb-"), body
    assert body["ResourceGroupId"], body
    # The same ClientToken is the same VPC.
    assert create_vpc(vpc, "10.0.0.0/8", vpc_name=name, description="lab network", client_token=token,
                      tag=[m.CreateVpcRequestTag(key="env", value="lab")])["VpcId"] == vpc_id
    # Pending at first (the server's provisioning delay), then Available.
    assert vpc_attr(vpc, vpc_id)["Status"] in ("Pending", "Available")
    attr = wait_available(vpc, vpc_id)
    assert (attr["CidrBlock"], attr["VpcName"], attr["Description"]) == ("10.0.0.0/8", name, "lab network")
    assert attr["VRouterId"] == body["VRouterId"] and attr["RegionId"] == REGION
    assert attr["IsDefault"] is False and attr["VSwitchIds"]["VSwitchId"] == []
    assert attr["Tags"]["Tag"] == [{"Key": "env", "Value": "lab"}]
    # Listed by id, by name and by tag.
    for kw in ({"vpc_id": vpc_id}, {"vpc_name": name},
               {"tag": [m.DescribeVpcsRequestTag(key="env", value="lab")], "vpc_id": vpc_id}):
        listed = vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, **kw)).body.to_map()
        assert [v["VpcId"] for v in listed["Vpcs"]["Vpc"]] == [vpc_id], (kw, listed)
        assert listed["TotalCount"] == 1
        assert listed["Vpcs"]["Vpc"][0]["RouterTableIds"]["RouterTableIds"] == [body["RouteTableId"]]
    assert vpc.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, is_default=True)).body.total_count == 0
    # The system route table, as the provider's read of alicloud_vpc asks for it.
    tables = vpc.describe_route_table_list(
        m.DescribeRouteTableListRequest(region_id=REGION, vpc_id=vpc_id)).body.to_map()
    [table] = tables["RouterTableList"]["RouterTableListType"]
    assert (table["RouteTableId"], table["RouteTableType"], table["VpcId"], table["RouterId"]) == (
        body["RouteTableId"], "System", vpc_id, body["VRouterId"])
    # Modify, then delete: gone.
    vpc.modify_vpc_attribute(m.ModifyVpcAttributeRequest(region_id=REGION, vpc_id=vpc_id, vpc_name=name + "-2",
                                                         description="renamed"))
    attr = vpc_attr(vpc, vpc_id)
    assert (attr["VpcName"], attr["Description"]) == (name + "-2", "renamed")
    delete_vpc(vpc, vpc_id)
    expect_error(vpc_attr, "InvalidVpcId.NotFound", 404, vpc, vpc_id)
    expect_error(delete_vpc, "InvalidVpcId.NotFound", 404, vpc, vpc_id)


@pytest.mark.parametrize("cidr", ["100.64.0.0/16", "127.0.0.0/8", "10.0.0.0/29", "10.0.0.1/8", "10.0.0.0", "fd00::/8"])
def test_vpc_cidr_rules(vpc3, cidr):
    before = vpc3.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count
    expect_error(create_vpc, "InvalidCidrBlock.Malformed", 400, vpc3, cidr)
    assert vpc3.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count == before


def test_dry_run_creates_nothing(vpc3):
    before = vpc3.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count
    expect_error(create_vpc, "DryRunOperation", 400, vpc3, "10.0.0.0/8", dry_run=True)
    assert vpc3.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count == before


def test_vswitch_rules_and_dependencies(vpc):
    vpc_id = create_vpc(vpc, "192.168.0.0/16")["VpcId"]
    wait_available(vpc, vpc_id)
    table = vpc.describe_route_table_list(m.DescribeRouteTableListRequest(
        region_id=REGION, vpc_id=vpc_id)).body.router_table_list.router_table_list_type[0].route_table_id
    # Refusals, each changing nothing.
    for cidr, code, status in (
        ("10.0.0.0/24", "InvalidCidrBlock.Mismatch", 400),
        ("192.168.0.0/30", "InvalidCidrBlock.Malformed", 400),
        ("192.168.0.0/15", "InvalidCidrBlock.Malformed", 400),
        ("192.168.1.1/24", "InvalidCidrBlock.Malformed", 400),
    ):
        expect_error(create_vswitch, code, status, vpc, vpc_id, cidr)
    expect_error(create_vswitch, "InvalidZoneId.NotFound", 404, vpc, vpc_id, "192.168.1.0/24", zone="cn-hangzhou-z")
    expect_error(create_vswitch, "InvalidZoneId.NotFound", 404, vpc, vpc_id, "192.168.1.0/24", zone="cn-shanghai-b")
    expect_error(create_vswitch, "InvalidVpcId.NotFound", 404, vpc, "vpc-bp1doesnotexist", "192.168.1.0/24")
    assert vpc_attr(vpc, vpc_id)["VSwitchIds"]["VSwitchId"] == []

    vsw = create_vswitch(vpc, vpc_id, "192.168.1.0/24", v_switch_name="app", description="apps",
                         tag=[m.CreateVSwitchRequestTag(key="tier", value="app")])
    assert VSW_ID.match(vsw), vsw
    def available():
        attr = vswitch_attr(vpc, vsw)
        return attr if attr["Status"] == "Available" else None
    attr = wait_for(available, what="vSwitch Available")
    assert (attr["VpcId"], attr["ZoneId"], attr["CidrBlock"], attr["VSwitchName"], attr["Description"]) == (
        vpc_id, ZONE, "192.168.1.0/24", "app", "apps")
    # The first and the last three addresses are reserved.
    assert attr["AvailableIpAddressCount"] == 252
    assert attr["RouteTable"] == {"RouteTableId": table, "RouteTableType": "System"}
    assert attr["Tags"]["Tag"] == [{"Key": "tier", "Value": "app"}]
    assert vpc_attr(vpc, vpc_id)["VSwitchIds"]["VSwitchId"] == [vsw]
    err = expect_error(create_vswitch, "InvalidCidrBlock.Overlapped", 400, vpc, vpc_id, "192.168.1.128/25")
    assert vsw in err.message
    # Listed by VPC and by zone.
    listed = vpc.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, vpc_id=vpc_id)).body.to_map()
    assert [s["VSwitchId"] for s in listed["VSwitches"]["VSwitch"]] == [vsw] and listed["TotalCount"] == 1
    assert vpc.describe_vswitches(m.DescribeVSwitchesRequest(
        region_id=REGION, vpc_id=vpc_id, zone_id="cn-hangzhou-b")).body.total_count == 0
    # A VPC with a vSwitch cannot go.
    expect_error(delete_vpc, "DependencyViolation.VSwitch", 400, vpc, vpc_id)
    vpc.modify_vswitch_attribute(m.ModifyVSwitchAttributeRequest(region_id=REGION, v_switch_id=vsw,
                                                                 v_switch_name="app-2"))
    assert vswitch_attr(vpc, vsw)["VSwitchName"] == "app-2"
    vpc.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw))
    expect_error(vswitch_attr, "InvalidVSwitchId.NotFound", 404, vpc, vsw)
    # Its block is free again.
    again = create_vswitch(vpc, vpc_id, "192.168.1.0/25")
    vpc.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=again))
    delete_vpc(vpc, vpc_id)


def test_overlapping_vswitches_created_at_once(vpc3):
    """Eight overlapping CreateVSwitch calls at the same time: exactly one vSwitch stays."""
    vpc_id = create_vpc(vpc3, "10.0.0.0/8")["VpcId"]
    wait_available(vpc3, vpc_id)
    blocks = ["10.1.0.0/16", "10.1.0.0/24", "10.1.1.0/24", "10.1.0.0/20"] * 2
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda b: _try(vpc3, vpc_id, b), blocks))
    made = [o for o in outcomes if isinstance(o, str)]
    refused = [o for o in outcomes if not isinstance(o, str)]
    assert refused, outcomes
    for err in refused:
        check_error(err, re.compile(r"InvalidCidrBlock\.Overlapped|VpnTask\.CONFLICT|TaskConflict"), 400)
    kept = vpc3.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, vpc_id=vpc_id)).body
    kept_blocks = [s.cidr_block for s in kept.v_switches.v_switch]
    assert kept.total_count == len(made) and len(kept_blocks) == len(made), (made, kept_blocks)
    nets = [ipaddress.ip_network(b) for b in kept_blocks]
    assert all(not a.overlaps(b) for i, a in enumerate(nets) for b in nets[i + 1:]), kept_blocks
    assert sorted(vpc_attr(vpc3, vpc_id)["VSwitchIds"]["VSwitchId"]) == sorted(made)
    for vsw in made:
        vpc3.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw))
    delete_vpc(vpc3, vpc_id)


def _try(client, vpc_id: str, block: str):
    try:
        return create_vswitch(client, vpc_id, block)
    except Exception as e:  # noqa: BLE001 - returned for classification
        return capture_error(_raise, e)


def _raise(e: Exception):
    raise e


def test_gateway_in_a_known_vswitch(vpc3):
    from helpers import create_gateway, new_vpc_id

    vpc_id = create_vpc(vpc3, "172.16.0.0/12")["VpcId"]
    other = create_vpc(vpc3, "10.0.0.0/8")["VpcId"]
    wait_available(vpc3, vpc_id)
    wait_available(vpc3, other)
    vsw = create_vswitch(vpc3, vpc_id, "172.16.1.0/24")
    vsw_b = create_vswitch(vpc3, vpc_id, "172.16.2.0/24", zone="cn-hangzhou-b")
    vsw_k2 = create_vswitch(vpc3, vpc_id, "172.16.3.0/24")
    # Refused, each creating nothing: a vSwitch of another VPC, an unknown vSwitch in a known VPC,
    # two vSwitches of one zone.
    before = vpc3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body.total_count
    expect_error(create_gateway, "InvalidVSwitchId.Mismatch", 400, vpc3, vpc_id=other, v_switch_id=vsw)
    expect_error(create_gateway, "InvalidVSwitchId.NotFound", 404, vpc3, vpc_id=vpc_id, v_switch_id="vsw-bp1nothere")
    expect_error(create_gateway, "InvalidParameter.DisasterRecoveryVSwitchId", 400, vpc3, vpc_id=vpc_id,
                 v_switch_id=vsw, disaster_recovery_vswitch_id=vsw_k2)
    assert vpc3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body.total_count == before
    # Unknown ids are an external VPC, as before.
    create_gateway(vpc3, vpc_id=new_vpc_id(), v_switch_id="vsw-external")
    # In a known vSwitch: it holds the vSwitch and the VPC.
    gw = create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw, disaster_recovery_vswitch_id=vsw_b)
    described = vpc3.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body
    assert (described.vpc_id, described.v_switch_id, described.disaster_recovery_vswitch_id) == (vpc_id, vsw, vsw_b)
    err = expect_error(lambda: vpc3.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw)),
                       "DependencyViolation", 400)
    assert gw in err.message
    vpc3.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw_k2))
    vpc3.delete_vpn_gateway(m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    for s in (vsw, vsw_b):
        vpc3.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=s))
    delete_vpc(vpc3, vpc_id)
    delete_vpc(vpc3, other)


def test_routes_a_gateway_publishes_reach_the_vpc(vpc3):
    """DescribeRouteEntryList: the vSwitches' blocks (System, next hop local), then what the VPC's
    VPN gateways publish (next hop the gateway), in and out with PublishVpnRouteEntry and the
    route's deletion (docs/api-decisions.md, "The VPC's route table")."""
    from helpers import create_connection, create_customer_gateway, create_gateway, retrying, wait_gateway_active

    vpc_id = create_vpc(vpc3, "172.16.0.0/12")["VpcId"]
    wait_available(vpc3, vpc_id)
    vsw = create_vswitch(vpc3, vpc_id, "172.16.1.0/24")
    create_vswitch(vpc3, vpc_id, "172.16.0.0/24", zone="cn-hangzhou-b")
    table = vpc3.describe_route_table_list(m.DescribeRouteTableListRequest(
        region_id=REGION, vpc_id=vpc_id)).body.router_table_list.router_table_list_type[0].route_table_id

    def entries(**kw) -> dict:
        return vpc3.describe_route_entry_list(m.DescribeRouteEntryListRequest(
            region_id=REGION, route_table_id=table, **kw)).body.to_map()

    def summary(listed: dict) -> list:
        return [(e["DestinationCidrBlock"], e["Type"], [(h["NextHopType"], h["NextHopId"]) for h in e["NextHops"]["NextHop"]])
                for e in listed["RouteEntrys"]["RouteEntry"]]

    locals_ = [("172.16.0.0/24", "System", [("local", "")]), ("172.16.1.0/24", "System", [("local", "")])]
    listed = entries()
    assert summary(listed) == locals_ and listed["TotalCount"] == 2 and listed["NextToken"] == ""
    first = listed["RouteEntrys"]["RouteEntry"][0]
    assert re.match(r"^rte-bp1[a-z0-9]{18}$", first["RouteEntryId"]), first
    assert (first["RouteTableId"], first["Status"], first["IpVersion"]) == (table, "Available", "ipv4")
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", first["GmtModified"]), first

    gw = create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw)
    cgw = create_customer_gateway(vpc3)
    vco = create_connection(vpc3, gw, cgw, auto_config_route=False)  # its own routes: test_routes.py
    retrying(vpc3.create_vpn_route_entry, m.CreateVpnRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_dest="10.10.0.0/16", next_hop=vco, weight=0, publish_vpc=False))
    wait_gateway_active(vpc3, gw)
    assert summary(entries()) == locals_  # not published: not in the VPC
    retrying(vpc3.publish_vpn_route_entry, m.PublishVpnRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_dest="10.10.0.0/16", next_hop=vco, route_type="dbr",
        publish_vpc=True))
    wait_gateway_active(vpc3, gw)
    retrying(vpc3.create_vpn_pbr_route_entry, m.CreateVpnPbrRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_source="172.16.1.0/24", route_dest="10.20.0.0/16", next_hop=vco,
        weight=0, publish_vpc=True))
    wait_gateway_active(vpc3, gw)
    published = [("10.10.0.0/16", "Custom", [("VpnGateway", gw)]), ("10.20.0.0/16", "Custom", [("VpnGateway", gw)])]
    listed = entries()
    assert summary(listed) == locals_ + published and listed["TotalCount"] == 4
    assert listed["RouteEntrys"]["RouteEntry"][0]["RouteEntryId"] == first["RouteEntryId"]  # stable

    # Filters, and pages of one through NextToken.
    ids = [e["RouteEntryId"] for e in listed["RouteEntrys"]["RouteEntry"]]
    assert summary(entries(route_entry_type="Custom")) == published
    assert summary(entries(next_hop_type="local")) == locals_
    assert summary(entries(next_hop_id=gw, destination_cidr_block="10.20.0.0/16")) == published[1:]
    assert summary(entries(dest_cidr_block_list=["10.10.0.0/16", "172.16.1.0/24"])) == [locals_[1], published[0]]
    assert summary(entries(route_entry_id=ids[2])) == published[:1]
    assert entries(ip_version="ipv6")["TotalCount"] == 0 and entries(route_entry_type="BGP")["TotalCount"] == 0
    seen, token = [], None
    while True:
        page = entries(max_result=1, next_token=token)
        seen += [e["RouteEntryId"] for e in page["RouteEntrys"]["RouteEntry"]]
        assert page["TotalCount"] == 4
        if not page["NextToken"]:
            break
        token = page["NextToken"]
    assert seen == ids

    # Withdrawn, and gone with its route.
    retrying(vpc3.publish_vpn_route_entry, m.PublishVpnRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_dest="10.10.0.0/16", next_hop=vco, route_type="dbr",
        publish_vpc=False))
    wait_gateway_active(vpc3, gw)
    assert summary(entries()) == locals_ + published[1:]
    retrying(vpc3.delete_vpn_pbr_route_entry, m.DeleteVpnPbrRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_source="172.16.1.0/24", route_dest="10.20.0.0/16", next_hop=vco,
        weight=0))
    wait_gateway_active(vpc3, gw)
    assert summary(entries()) == locals_

    # Refusals.
    expect_error(entries, "InvalidParameter", 400, max_result=101)
    expect_error(entries, "InvalidParameter", 400, route_entry_type="Static")
    expect_error(entries, "InvalidParameter", 400, destination_cidr_block="10.0.0.0/33")
    expect_error(entries, "InvalidParameter", 400, next_token="not-a-token")
    expect_error(lambda: vpc3.describe_route_entry_list(m.DescribeRouteEntryListRequest(
        region_id=REGION, route_table_id="vtb-bp1doesnotexist")), "InvalidRouteTable.NotFound", 404)


def test_vpc_and_vswitch_tags_and_groups(vpc3):
    """ResourceType VPC / VSWITCH in the tag operations and MoveResourceGroup (not in
    MoveVpnResourceGroup, which is for VPN resources)."""
    vpc_id = create_vpc(vpc3, "192.168.0.0/16")["VpcId"]
    wait_available(vpc3, vpc_id)
    vsw = create_vswitch(vpc3, vpc_id, "192.168.3.0/24")
    key = "k" + rand_suffix(8)
    for rtype, rid in (("VPC", vpc_id), ("vSwitch", vsw)):
        vpc3.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type=rtype, resource_id=[rid],
                                                 tag=[m.TagResourcesRequestTag(key=key, value=rtype)]))
    listed = vpc3.list_tag_resources(m.ListTagResourcesRequest(
        region_id=REGION, resource_type="VPC", tag=[m.ListTagResourcesRequestTag(key=key)])).body.to_map()
    assert [(t["ResourceId"], t["ResourceType"], t["TagValue"]) for t in listed["TagResources"]["TagResource"]] == [
        (vpc_id, "VPC", "VPC")]
    assert vswitch_attr(vpc3, vsw)["Tags"]["Tag"] == [{"Key": key, "Value": "vSwitch"}]
    vpc3.un_tag_resources(m.UnTagResourcesRequest(region_id=REGION, resource_type="VSWITCH", resource_id=[vsw],
                                                  tag_key=[key]))
    assert vswitch_attr(vpc3, vsw)["Tags"]["Tag"] == []
    expect_error(lambda: vpc3.tag_resources(m.TagResourcesRequest(
        region_id=REGION, resource_type="VPC", resource_id=["vpc-bp1doesnotexist"],
        tag=[m.TagResourcesRequestTag(key=key, value="x")])), "InvalidResourceId.NotFound", 404)

    group = "rg-acfm" + rand_suffix(8)
    vpc3.move_resource_group(m.MoveResourceGroupRequest(region_id=REGION, resource_type="VPC", resource_id=vpc_id,
                                                        new_resource_group_id=group))
    assert vpc_attr(vpc3, vpc_id)["ResourceGroupId"] == group
    moved = vpc3.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, resource_group_id=group)).body.to_map()
    assert [v["VpcId"] for v in moved["Vpcs"]["Vpc"]] == [vpc_id]
    expect_error(lambda: vpc3.move_vpn_resource_group(m.MoveVpnResourceGroupRequest(
        region_id=REGION, resource_type="VPC", instance_id=vpc_id, new_resource_group_id="rg-acfmother")),
        "InvalidResourceType.NotFound", 404)
    assert vpc_attr(vpc3, vpc_id)["ResourceGroupId"] == group
    vpc3.delete_vswitch(m.DeleteVSwitchRequest(region_id=REGION, v_switch_id=vsw))
    wait_for(lambda: capture_error(vswitch_attr, vpc3, vsw), what="vSwitch gone")
    delete_vpc(vpc3, vpc_id)


def test_private_gateway_takes_its_addresses_from_its_vswitches(vpc3):
    """NetworkType private in vSwitches vpngw knows: InternetIp from the vSwitch's usable
    addresses (not the first, not the last three), DisasterRecoveryInternetIp from the second
    vSwitch's; no address twice in the VPC. A public gateway keeps public addresses."""
    from helpers import create_gateway, describe_gateway

    vpc_id = create_vpc(vpc3, "10.0.0.0/8")["VpcId"]
    wait_available(vpc3, vpc_id)
    vsw = create_vswitch(vpc3, vpc_id, "10.1.0.0/29")  # .1 to .4 usable
    dr = create_vswitch(vpc3, vpc_id, "10.2.0.0/24", zone="cn-hangzhou-b")
    usable = {f"10.1.0.{i}" for i in range(1, 5)}
    seen = []
    for _ in range(2):
        gw = describe_gateway(vpc3, create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw,
                                                   disaster_recovery_vswitch_id=dr, network_type="private"))
        assert gw["NetworkType"] == "private" and gw["InternetIp"] in usable, gw
        assert ipaddress.ip_address(gw["DisasterRecoveryInternetIp"]) in ipaddress.ip_network("10.2.0.0/24"), gw
        seen += [gw["InternetIp"], gw["DisasterRecoveryInternetIp"]]
    assert len(set(seen)) == len(seen), seen
    public = describe_gateway(vpc3, create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw,
                                                   disaster_recovery_vswitch_id=dr))
    assert ipaddress.ip_address(public["InternetIp"]) not in ipaddress.ip_network("10.0.0.0/8"), public
    # Two more private gateways take the last two usable addresses; the next finds none.
    for _ in range(2):
        create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw, network_type="private")
    expect_error(lambda: create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw, network_type="private"),
                 "QuotaExceeded.PrivateIpAddress", 400)


def test_vpc_quota_per_account_and_region(tmp_path):
    """`--quota-vpcs` (the cloud's default: 10 per region): past it CreateVpc is
    400 QuotaExceeded.Vpc and creates nothing; another region has its own count, and a deleted
    VPC frees its place."""
    from conftest import VpngwServer
    from helpers import OTHER_REGION

    srv = VpngwServer(tmp_path)
    srv.extra_env = {"VPNGW_QUOTA_VPCS": "2"}
    srv.start()
    try:
        client = srv.tea_client()
        first, _ = (create_vpc(client, f"10.{i}.0.0/16")["VpcId"] for i in range(2))
        err = expect_error(create_vpc, "QuotaExceeded.Vpc", 400, client, "10.2.0.0/16")
        assert err.message == "VPC quota exceeded."
        listed = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count
        assert listed == 2
        client.create_vpc(m.CreateVpcRequest(region_id=OTHER_REGION, cidr_block="10.3.0.0/16"))
        wait_available(client, first)
        delete_vpc(client, first)
        create_vpc(client, "10.4.0.0/16")
    finally:
        srv.stop()
