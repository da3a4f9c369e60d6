"""Routes through the official SDKs: the VCO routes of a connection (Create/Delete/Describe/
ModifyVcoRouteEntryWeight), a VPN gateway's destination-based routes (Create/Delete/Describe/
ModifyVpnRouteEntryWeight, PublishVpnRouteEntry) and policy-based routes (Create/Delete/Describe/
ModifyVpnPbrRouteEntryWeight/Priority/Attribute), each with both Tea signature versions.
Terraform's alicloud_vpn_gateway_vco_route replay is in test_terraform.py.
"""

from __future__ import annotations

import json
import uuid

from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.CreateVcoRouteEntryRequest import CreateVcoRouteEntryRequest as LegacyCreateVco
from aliyunsdkvpc.request.v20160428.DescribeVcoRouteEntriesRequest import (
    DescribeVcoRouteEntriesRequest as LegacyDescribeVco,
)

from helpers import (
    REGION,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    expect_error,
    retrying,
)

ROUTE_NOT_FOUND = "InvalidRouteEntry.NotFound"
DUPLICATE = "RouterEntryConflict.Duplicated"
VCO_NOT_FOUND = "InvalidVpnConnectionInstanceId.NotFound"
GW_NOT_FOUND = "InvalidVpnGatewayInstanceId.NotFound"


def body(resp) -> dict:
    return resp.body.to_map()


def gateway_with_connection(vpc) -> tuple[str, str]:
    gw = create_gateway(vpc)
    # AutoConfigRoute=false: these tests start from empty route tables (the automatic routes have
    # their own test below).
    vco = create_connection(vpc, gw, create_customer_gateway(vpc), auto_config_route=False)
    return gw, vco


def vco_routes(vpc, vco: str, **extra) -> dict:
    req = m.DescribeVcoRouteEntriesRequest(region_id=REGION, vpn_connection_id=vco, **extra)
    b = body(vpc.describe_vco_route_entries(req))
    check_response("DescribeVcoRouteEntries", b)
    return b


def gateway_routes(vpc, gw: str, **extra) -> dict:
    req = m.DescribeVpnRouteEntriesRequest(region_id=REGION, vpn_gateway_id=gw, **extra)
    b = body(vpc.describe_vpn_route_entries(req))
    check_response("DescribeVpnRouteEntries", b)
    return b


def pbr_routes(vpc, gw: str, **extra) -> dict:
    req = m.DescribeVpnPbrRouteEntriesRequest(region_id=REGION, vpn_gateway_id=gw, **extra)
    b = body(vpc.describe_vpn_pbr_route_entries(req))
    check_response("DescribeVpnPbrRouteEntries", b)
    return b


# ------------------------------------------------------------------------------ VCO routes


def test_vco_routes_create_describe_modify_delete(vpc):
    _, vco = gateway_with_connection(vpc)
    req = m.CreateVcoRouteEntryRequest(
        region_id=REGION,
        vpn_connection_id=vco,
        route_dest="192.168.10.0/24",
        next_hop=vco,
        weight=100,
        description="branch",
        overlay_mode="Ipsec",
        client_token=str(uuid.uuid4()),
    )
    created = body(vpc.create_vco_route_entry(req))
    check_response("CreateVcoRouteEntry", created)
    assert created["VpnConnectionId"] == vco
    assert (created["RouteDest"], created["NextHop"], created["Weight"]) == ("192.168.10.0/24", vco, 100)
    assert created["State"] == "published"
    assert created["OverlayMode"] == "Ipsec"
    assert created["Description"] == "branch"
    assert isinstance(created["CreateTime"], int) and created["CreateTime"] > 1_600_000_000_000
    # The same ClientToken again: the same route, nothing new.
    again = body(vpc.create_vco_route_entry(req))
    assert again["CreateTime"] == created["CreateTime"]

    for dest in ("192.168.20.0/24", "192.168.30.0/24"):
        vpc.create_vco_route_entry(
            m.CreateVcoRouteEntryRequest(region_id=REGION, vpn_connection_id=vco, route_dest=dest, next_hop=vco, weight=0)
        )
    listed = vco_routes(vpc, vco)
    assert listed["TotalCount"] == 3
    entries = listed["VcoRouteEntries"]
    assert [e["RouteDest"] for e in entries] == ["192.168.10.0/24", "192.168.20.0/24", "192.168.30.0/24"]
    assert all(e["RouteEntryType"] == "custom" and e["VpnConnectionId"] == vco for e in entries)
    # The SDK's typed model reads the unwrapped list.
    typed = vpc.describe_vco_route_entries(m.DescribeVcoRouteEntriesRequest(region_id=REGION, vpn_connection_id=vco))
    assert typed.body.vco_route_entries[0].route_dest == "192.168.10.0/24"
    assert typed.body.vco_route_entries[0].weight == 100

    page = vco_routes(vpc, vco, page_number=2, page_size=2)
    assert (page["PageNumber"], page["PageSize"], page["TotalCount"]) == (2, 2, 3)
    assert [e["RouteDest"] for e in page["VcoRouteEntries"]] == ["192.168.30.0/24"]
    assert vco_routes(vpc, vco, route_entry_type="bgp")["VcoRouteEntries"] == []

    vpc.modify_vco_route_entry_weight(
        m.ModifyVcoRouteEntryWeightRequest(
            region_id=REGION, vpn_connection_id=vco, route_dest="192.168.20.0/24", next_hop=vco, weight=0, new_weight=100
        )
    )
    assert vco_routes(vpc, vco)["VcoRouteEntries"][1]["Weight"] == 100

    delete = m.DeleteVcoRouteEntryRequest(
        region_id=REGION, vpn_connection_id=vco, route_dest="192.168.10.0/24", next_hop=vco, weight=100
    )
    deleted = body(vpc.delete_vco_route_entry(delete))
    check_response("DeleteVcoRouteEntry", deleted)
    assert [e["RouteDest"] for e in vco_routes(vpc, vco)["VcoRouteEntries"]] == ["192.168.20.0/24", "192.168.30.0/24"]
    expect_error(vpc.delete_vco_route_entry, ROUTE_NOT_FOUND, 404, delete)


def test_vco_route_errors_change_nothing(vpc):
    _, vco = gateway_with_connection(vpc)

    def create(**kw):
        args = dict(region_id=REGION, vpn_connection_id=vco, route_dest="10.8.0.0/16", next_hop=vco, weight=100)
        args.update(kw)
        return m.CreateVcoRouteEntryRequest(**args)

    vpc.create_vco_route_entry(create())
    expect_error(vpc.create_vco_route_entry, DUPLICATE, 400, create(weight=0), message_contains="10.8.0.0/16")
    expect_error(vpc.create_vco_route_entry, "InvalidParameter", 400, create(route_dest="10.9.0.0/16", weight=50))
    expect_error(vpc.create_vco_route_entry, "IllegalParam.RouteDest", 400, create(route_dest="10.9.0.1/16"))
    expect_error(vpc.create_vco_route_entry, "IllegalParam.RouteDest", 400, create(route_dest="0.0.0.0/0"))
    expect_error(vpc.create_vco_route_entry, "InvalidParameter", 400, create(route_dest="10.9.0.0/16", next_hop="vco-other"))
    expect_error(
        vpc.create_vco_route_entry, VCO_NOT_FOUND, 404, create(vpn_connection_id="vco-nope", next_hop="vco-nope")
    )
    expect_error(vpc.create_vco_route_entry, "DryRunOperation", 400, create(route_dest="10.9.0.0/16", dry_run=True))
    expect_error(
        vpc.modify_vco_route_entry_weight,
        ROUTE_NOT_FOUND,
        404,
        m.ModifyVcoRouteEntryWeightRequest(
            region_id=REGION, vpn_connection_id=vco, route_dest="10.8.0.0/16", next_hop=vco, weight=0, new_weight=100
        ),
    )
    expect_error(
        vpc.describe_vco_route_entries,
        VCO_NOT_FOUND,
        404,
        m.DescribeVcoRouteEntriesRequest(region_id=REGION, vpn_connection_id="vco-nope"),
    )
    listed = vco_routes(vpc, vco)
    assert [(e["RouteDest"], e["Weight"]) for e in listed["VcoRouteEntries"]] == [("10.8.0.0/16", 100)]


def test_vco_routes_with_the_legacy_sdk(server, legacy):
    vpc = server.tea_client("v3")
    _, vco = gateway_with_connection(vpc)
    req = LegacyCreateVco()
    req.set_VpnConnectionId(vco)
    req.set_RouteDest("172.20.0.0/16")
    req.set_NextHop(vco)
    req.set_Weight(0)
    created = json.loads(legacy.do(req))
    check_response("CreateVcoRouteEntry", created)
    req = LegacyDescribeVco()
    req.set_VpnConnectionId(vco)
    listed = json.loads(legacy.do(req))
    check_response("DescribeVcoRouteEntries", listed)
    assert [e["RouteDest"] for e in listed["VcoRouteEntries"]] == ["172.20.0.0/16"]


# ---------------------------------------------------------------- destination-based routes


def test_gateway_routes_create_describe_modify_publish_delete(vpc):
    gw, vco = gateway_with_connection(vpc)
    created = body(
        vpc.create_vpn_route_entry(
            m.CreateVpnRouteEntryRequest(
                region_id=REGION,
                vpn_gateway_id=gw,
                route_dest="10.0.0.0/24",
                next_hop=vco,
                weight=0,
                publish_vpc=True,
                description="dbr",
            )
        )
    )
    check_response("CreateVpnRouteEntry", created)
    assert (created["VpnInstanceId"], created["State"], created["Weight"]) == (gw, "published", 0)
    vpc.create_vpn_route_entry(
        m.CreateVpnRouteEntryRequest(
            region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.1.0/24", next_hop=vco, weight=100, publish_vpc=False
        )
    )
    listed = gateway_routes(vpc, gw)
    entries = listed["VpnRouteEntries"]["VpnRouteEntry"]
    assert [(e["RouteDest"], e["State"], e["Weight"]) for e in entries] == [
        ("10.0.0.0/24", "published", 0),
        ("10.0.1.0/24", "normal", 100),
    ]
    assert listed["VpnRouteCounts"]["VpnRouteCount"] == [{"RouteCount": 2, "RouteEntryType": "custom"}]
    assert gateway_routes(vpc, gw, route_entry_type="bgp")["TotalCount"] == 0

    check_response(
        "ModifyVpnRouteEntryWeight",
        body(
            vpc.modify_vpn_route_entry_weight(
                m.ModifyVpnRouteEntryWeightRequest(
                    region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, weight=0, new_weight=100
                )
            )
        ),
    )
    check_response(
        "PublishVpnRouteEntry",
        body(
            vpc.publish_vpn_route_entry(
                m.PublishVpnRouteEntryRequest(
                    region_id=REGION,
                    vpn_gateway_id=gw,
                    route_dest="10.0.1.0/24",
                    next_hop=vco,
                    route_type="dbr",
                    publish_vpc=True,
                )
            )
        ),
    )
    entries = gateway_routes(vpc, gw)["VpnRouteEntries"]["VpnRouteEntry"]
    assert [(e["Weight"], e["State"]) for e in entries] == [(100, "published"), (100, "published")]

    delete = m.DeleteVpnRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, weight=100
    )
    check_response("DeleteVpnRouteEntry", body(vpc.delete_vpn_route_entry(delete)))
    assert gateway_routes(vpc, gw)["TotalCount"] == 1
    expect_error(vpc.delete_vpn_route_entry, ROUTE_NOT_FOUND, 404, delete)


def test_gateway_route_errors_change_nothing(vpc):
    gw, vco = gateway_with_connection(vpc)
    other_gw, other_vco = gateway_with_connection(vpc)

    def create(**kw):
        args = dict(
            region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, weight=100, publish_vpc=False
        )
        args.update(kw)
        return m.CreateVpnRouteEntryRequest(**args)

    vpc.create_vpn_route_entry(create())
    expect_error(vpc.create_vpn_route_entry, DUPLICATE, 400, create(weight=0))
    expect_error(vpc.create_vpn_route_entry, VCO_NOT_FOUND, 404, create(route_dest="10.0.9.0/24", next_hop=other_vco))
    expect_error(vpc.create_vpn_route_entry, GW_NOT_FOUND, 404, create(vpn_gateway_id="vpn-nope"))
    expect_error(vpc.create_vpn_route_entry, "InvalidParameter", 400, create(route_dest="10.0.9.0/24", weight=10))
    expect_error(vpc.create_vpn_route_entry, "IllegalParam.RouteDest", 400, create(route_dest="10.0.9.0"))
    expect_error(vpc.create_vpn_route_entry, "MissingParameter", 400, create(route_dest="10.0.9.0/24", publish_vpc=None))
    expect_error(
        vpc.publish_vpn_route_entry,
        "InvalidParameter",
        400,
        m.PublishVpnRouteEntryRequest(
            region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, route_type="x", publish_vpc=True
        ),
    )
    expect_error(
        vpc.modify_vpn_route_entry_weight,
        ROUTE_NOT_FOUND,
        404,
        m.ModifyVpnRouteEntryWeightRequest(
            region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, weight=0, new_weight=100
        ),
    )
    expect_error(
        vpc.describe_vpn_route_entries,
        GW_NOT_FOUND,
        404,
        m.DescribeVpnRouteEntriesRequest(region_id=REGION, vpn_gateway_id="vpn-nope"),
    )
    entries = gateway_routes(vpc, gw)["VpnRouteEntries"]["VpnRouteEntry"]
    assert [(e["RouteDest"], e["Weight"], e["State"]) for e in entries] == [("10.0.0.0/24", 100, "normal")]
    assert gateway_routes(vpc, other_gw)["TotalCount"] == 0


# -------------------------------------------------------------------- policy-based routes


def test_pbr_routes_create_describe_modify_delete(vpc):
    gw, vco = gateway_with_connection(vpc)
    created = body(
        vpc.create_vpn_pbr_route_entry(
            m.CreateVpnPbrRouteEntryRequest(
                region_id=REGION,
                vpn_gateway_id=gw,
                route_source="192.168.1.0/24",
                route_dest="10.0.0.0/24",
                next_hop=vco,
                weight=100,
                publish_vpc=True,
            )
        )
    )
    check_response("CreateVpnPbrRouteEntry", created)
    assert (created["RouteSource"], created["Priority"], created["State"]) == ("192.168.1.0/24", 10, "published")
    vpc.create_vpn_pbr_route_entry(
        m.CreateVpnPbrRouteEntryRequest(
            region_id=REGION,
            vpn_gateway_id=gw,
            route_source="192.168.2.0/24",
            route_dest="10.0.0.0/24",
            next_hop=vco,
            weight=0,
            priority=5,
            publish_vpc=False,
        )
    )
    entries = pbr_routes(vpc, gw)["VpnPbrRouteEntries"]["VpnPbrRouteEntry"]
    assert [(e["RouteSource"], e["Weight"], e["Priority"], e["State"]) for e in entries] == [
        ("192.168.1.0/24", 100, 10, "published"),
        ("192.168.2.0/24", 0, 5, "normal"),
    ]

    named = dict(region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco)
    check_response(
        "ModifyVpnPbrRouteEntryWeight",
        body(
            vpc.modify_vpn_pbr_route_entry_weight(
                m.ModifyVpnPbrRouteEntryWeightRequest(route_source="192.168.2.0/24", weight=0, new_weight=100, **named)
            )
        ),
    )
    check_response(
        "ModifyVpnPbrRouteEntryPriority",
        body(
            vpc.modify_vpn_pbr_route_entry_priority(
                m.ModifyVpnPbrRouteEntryPriorityRequest(
                    route_source="192.168.2.0/24", weight=100, priority=5, new_priority=1, **named
                )
            )
        ),
    )
    check_response(
        "ModifyVpnPbrRouteEntryAttribute",
        body(
            vpc.modify_vpn_pbr_route_entry_attribute(
                m.ModifyVpnPbrRouteEntryAttributeRequest(
                    route_source="192.168.1.0/24", weight=100, priority=10, new_weight=0, new_priority=20, **named
                )
            )
        ),
    )
    entries = pbr_routes(vpc, gw)["VpnPbrRouteEntries"]["VpnPbrRouteEntry"]
    assert [(e["Weight"], e["Priority"]) for e in entries] == [(0, 20), (100, 1)]
    # A page of one.
    page = pbr_routes(vpc, gw, page_size=1, page_number=2)
    assert [e["RouteSource"] for e in page["VpnPbrRouteEntries"]["VpnPbrRouteEntry"]] == ["192.168.2.0/24"]

    delete = m.DeleteVpnPbrRouteEntryRequest(route_source="192.168.1.0/24", weight=0, priority=20, **named)
    check_response("DeleteVpnPbrRouteEntry", body(vpc.delete_vpn_pbr_route_entry(delete)))
    expect_error(vpc.delete_vpn_pbr_route_entry, ROUTE_NOT_FOUND, 404, delete)
    assert pbr_routes(vpc, gw)["TotalCount"] == 1


def test_pbr_route_rules_and_quota(vpc3):
    vpc = vpc3
    gw, vco = gateway_with_connection(vpc)
    vco2 = create_connection(vpc, gw, create_customer_gateway(vpc), auto_config_route=False)

    def create(**kw):
        args = dict(
            region_id=REGION,
            vpn_gateway_id=gw,
            route_source="192.168.1.0/24",
            route_dest="10.0.0.0/24",
            next_hop=vco,
            weight=100,
            publish_vpc=False,
        )
        args.update(kw)
        return m.CreateVpnPbrRouteEntryRequest(**args)

    vpc.create_vpn_pbr_route_entry(create())
    expect_error(vpc.create_vpn_pbr_route_entry, DUPLICATE, 400, create(weight=0))
    # One active route per source and destination; the standby through another connection is fine.
    expect_error(vpc.create_vpn_pbr_route_entry, "InvalidParameter", 400, create(next_hop=vco2), message_contains="Weight")
    vpc.create_vpn_pbr_route_entry(create(next_hop=vco2, weight=0))
    for priority in (0, 101):
        expect_error(
            vpc.create_vpn_pbr_route_entry, "InvalidParameter", 400, create(route_source="172.16.0.0/24", priority=priority)
        )
    expect_error(vpc.create_vpn_pbr_route_entry, "IllegalParam.RouteSource", 400, create(route_source="172.16.0.0/33"))
    expect_error(
        vpc.delete_vpn_pbr_route_entry,
        ROUTE_NOT_FOUND,
        404,
        m.DeleteVpnPbrRouteEntryRequest(
            region_id=REGION,
            vpn_gateway_id=gw,
            route_source="192.168.1.0/24",
            route_dest="10.0.0.0/24",
            next_hop=vco,
            weight=100,
            priority=11,
        ),
    )
    # 20 per gateway, with the cloud's message.
    for i in range(3, 21):
        vpc.create_vpn_pbr_route_entry(create(route_source=f"172.16.{i}.0/24", weight=0))
    expect_error(
        vpc.create_vpn_pbr_route_entry,
        "QuotaExceeded.PolicyBasedRoute",
        400,
        create(route_source="172.17.0.0/24", weight=0),
        message_contains="Existing routes: 20. Routes to be created: 1. Maximum routes: 20.",
    )
    assert pbr_routes(vpc, gw)["TotalCount"] == 20


def test_deleting_a_connection_deletes_its_routes(vpc):
    gw, vco = gateway_with_connection(vpc)
    vpc.create_vpn_route_entry(
        m.CreateVpnRouteEntryRequest(
            region_id=REGION, vpn_gateway_id=gw, route_dest="10.0.0.0/24", next_hop=vco, weight=100, publish_vpc=True
        )
    )
    vpc.create_vpn_pbr_route_entry(
        m.CreateVpnPbrRouteEntryRequest(
            region_id=REGION,
            vpn_gateway_id=gw,
            route_source="192.168.1.0/24",
            route_dest="10.0.0.0/24",
            next_hop=vco,
            weight=100,
            publish_vpc=True,
        )
    )
    vpc.create_vco_route_entry(
        m.CreateVcoRouteEntryRequest(region_id=REGION, vpn_connection_id=vco, route_dest="10.0.0.0/24", next_hop=vco, weight=0)
    )
    retrying(vpc.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    assert gateway_routes(vpc, gw)["TotalCount"] == 0
    assert pbr_routes(vpc, gw)["TotalCount"] == 0
    expect_error(
        vpc.describe_vco_route_entries,
        VCO_NOT_FOUND,
        404,
        m.DescribeVcoRouteEntriesRequest(region_id=REGION, vpn_connection_id=vco),
    )
    retrying(vpc.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))


# ------------------------------------------------------------------------------ AutoConfigRoute


def test_auto_config_route_creates_published_policy_routes(vpc3):
    """AutoConfigRoute (default true): one policy-based route per LocalSubnet and RemoteSubnet block,
    next hop the connection, published to the VPC (docs/api-decisions.md, "AutoConfigRoute"); a
    second connection for the same blocks gets the standby (weight 0); a change of the subnets
    replaces the routes made for the old ones, and leaves the user's; false makes none."""
    from test_vpc import create_vpc, create_vswitch, wait_available

    vpc_id = create_vpc(vpc3, "172.16.0.0/12")["VpcId"]
    wait_available(vpc3, vpc_id)
    vsw = create_vswitch(vpc3, vpc_id, "172.16.1.0/24")
    gw = create_gateway(vpc3, vpc_id=vpc_id, v_switch_id=vsw)
    table = vpc3.describe_route_table_list(m.DescribeRouteTableListRequest(
        region_id=REGION, vpc_id=vpc_id)).body.router_table_list.router_table_list_type[0].route_table_id

    def vpc_table() -> dict:
        listed = vpc3.describe_route_entry_list(m.DescribeRouteEntryListRequest(
            region_id=REGION, route_table_id=table, max_result=100)).body.to_map()
        return {e["DestinationCidrBlock"]: [h["NextHopId"] or h["NextHopType"] for h in e["NextHops"]["NextHop"]]
                for e in listed["RouteEntrys"]["RouteEntry"]}

    def pbr() -> list[tuple]:
        return sorted((e["RouteSource"], e["RouteDest"], e["NextHop"], e["Weight"], e["Priority"], e["State"])
                      for e in pbr_routes(vpc3, gw, page_size=50)["VpnPbrRouteEntries"]["VpnPbrRouteEntry"])

    a = create_connection(vpc3, gw, create_customer_gateway(vpc3), local_subnet="172.16.1.0/24,172.16.2.0/24",
                          remote_subnet="10.50.0.0/16")
    assert pbr() == [("172.16.1.0/24", "10.50.0.0/16", a, 100, 10, "published"),
                     ("172.16.2.0/24", "10.50.0.0/16", a, 100, 10, "published")]
    assert gateway_routes(vpc3, gw)["TotalCount"] == 0  # policy-based, not destination-based
    assert vpc_table() == {"172.16.1.0/24": ["local"], "10.50.0.0/16": [gw]}

    # Same blocks through a second connection: its route is the standby.
    b = create_connection(vpc3, gw, create_customer_gateway(vpc3), local_subnet="172.16.1.0/24",
                          remote_subnet="10.50.0.0/16", auto_config_route=True)
    assert ("172.16.1.0/24", "10.50.0.0/16", b, 0, 10, "published") in pbr() and len(pbr()) == 3

    # A route of the user's through `a`, then `a`'s RemoteSubnet changes: its automatic routes follow.
    retrying(vpc3.create_vpn_pbr_route_entry, m.CreateVpnPbrRouteEntryRequest(
        region_id=REGION, vpn_gateway_id=gw, route_source="172.16.3.0/24", route_dest="10.50.0.0/16", next_hop=a,
        weight=100, publish_vpc=False))
    retrying(vpc3.modify_vpn_connection_attribute, m.ModifyVpnConnectionAttributeRequest(
        region_id=REGION, vpn_connection_id=a, remote_subnet="10.60.0.0/16"))
    assert pbr() == sorted([("172.16.1.0/24", "10.60.0.0/16", a, 100, 10, "published"),
                            ("172.16.2.0/24", "10.60.0.0/16", a, 100, 10, "published"),
                            ("172.16.1.0/24", "10.50.0.0/16", b, 0, 10, "published"),
                            ("172.16.3.0/24", "10.50.0.0/16", a, 100, 10, "normal")])
    assert vpc_table() == {"172.16.1.0/24": ["local"], "10.50.0.0/16": [gw], "10.60.0.0/16": [gw]}

    # AutoConfigRoute=false: nothing is made; a connection's deletion takes its routes.
    c = create_connection(vpc3, gw, create_customer_gateway(vpc3), local_subnet="172.16.1.0/24",
                          remote_subnet="10.70.0.0/16", auto_config_route=False)
    assert not [r for r in pbr() if r[2] == c]
    retrying(vpc3.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=a))
    assert pbr() == [("172.16.1.0/24", "10.50.0.0/16", b, 0, 10, "published")]
