"""VPN gateways: Create / Describe / DescribeVpnGateways / ModifyVpnGatewayAttribute / Delete."""

from __future__ import annotations

import ipaddress
import json
import re
import time

import pytest
from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.CreateVpnGatewayRequest import CreateVpnGatewayRequest as LegacyCreateGw
from aliyunsdkvpc.request.v20160428.DescribeVpnGatewayRequest import DescribeVpnGatewayRequest as LegacyDescribeGw

from helpers import (
    OTHER_REGION,
    REGION,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_gateway,
    expect_error,
    new_vpc_id,
    retrying,
    wait_gateway_active,
    without_request_id,
)

GW_ID = re.compile(r"^vpn-[a-z0-9]+$")
NOT_FOUND = "InvalidVpnGatewayInstanceId.NotFound"


def list_gateways(client, region=REGION, **filters) -> dict:
    return client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=region, **filters)).body.to_map()


def all_gateway_pages(client, page_size: int, region=REGION, **filters) -> tuple[list[dict], int]:
    """Walk every page; check the paging fields on the way. Returns (items, TotalCount)."""
    items, page, total = [], 1, None
    while True:
        body = list_gateways(client, region, page_number=page, page_size=page_size, **filters)
        check_response("DescribeVpnGateways", body)
        assert body["PageNumber"] == page and body["PageSize"] == page_size, body
        total = body["TotalCount"] if total is None else total
        assert body["TotalCount"] == total
        chunk = body["VpnGateways"]["VpnGateway"]
        assert len(chunk) <= page_size
        items += chunk
        if len(chunk) < page_size or len(items) >= total:
            break
        page += 1
    return items, total


def test_create_then_describe(vpc):
    vpc_id = new_vpc_id()
    before_ms = int(time.time() * 1000)
    req = m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=vpc_id, bandwidth=10, name="gw-one")
    resp = vpc.create_vpn_gateway(req)
    assert resp.status_code == 200
    body = resp.body.to_map()
    check_response("CreateVpnGateway", body)
    gw = body["VpnGatewayId"]
    assert GW_ID.match(gw), gw

    # Provisioning is asynchronous: `init` first (the suite sets a 200 ms provision delay) ...
    first = describe_gateway(vpc, gw)
    check_response("DescribeVpnGateway", first)
    assert first["Status"] == "init", first
    # ... then `active`, which is what terraform polls for.
    desc = wait_gateway_active(vpc, gw)
    check_response("DescribeVpnGateway", desc)
    assert desc["VpnGatewayId"] == gw
    assert desc["VpcId"] == vpc_id
    assert desc["Name"] == "gw-one"
    assert desc["Spec"] == "10M"
    assert desc["IpsecVpn"] == "enable"  # EnableIpsec defaults to true
    assert desc["SslVpn"] == "disable"  # EnableSsl defaults to false
    ip = ipaddress.ip_address(desc["InternetIp"])
    assert ip.version == 4
    assert before_ms - 5000 <= desc["CreateTime"] <= int(time.time() * 1000) + 5000, desc["CreateTime"]


@pytest.mark.parametrize("bandwidth, spec", [(5, "5M"), (100, "100M"), (1000, "1000M")])
def test_spec_follows_bandwidth(vpc3, bandwidth, spec):
    gw = create_gateway(vpc3, bandwidth=bandwidth, wait_active=False)
    assert describe_gateway(vpc3, gw)["Spec"] == spec


def test_ssl_and_ipsec_flags(vpc):
    gw = create_gateway(vpc, enable_ssl=True, enable_ipsec=True, wait_active=False)
    desc = describe_gateway(vpc, gw)
    assert (desc["IpsecVpn"], desc["SslVpn"]) == ("enable", "enable")


def test_each_gateway_gets_its_own_id_and_ip(vpc3):
    a, b = create_gateway(vpc3), create_gateway(vpc3)
    assert a != b
    assert describe_gateway(vpc3, a)["InternetIp"] != describe_gateway(vpc3, b)["InternetIp"]


def test_describe_unknown_gateway(vpc):
    req = m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id="vpn-doesnotexist000000")
    expect_error(vpc.describe_vpn_gateway, NOT_FOUND, 404, req)


def test_paging(vpc):
    mine = {create_gateway(vpc, wait_active=False) for _ in range(3)}
    items, total = all_gateway_pages(vpc, page_size=2)
    ids = [g["VpnGatewayId"] for g in items]
    assert len(ids) == len(set(ids)) == total, "pages must neither repeat nor skip gateways"
    assert mine <= set(ids)
    # Defaults: PageNumber 1, PageSize 10.
    body = list_gateways(vpc)
    assert (body["PageNumber"], body["PageSize"]) == (1, 10)
    assert body["TotalCount"] == total
    # A page past the end is empty, not an error.
    past = list_gateways(vpc, page_number=total + 1, page_size=1)
    assert past["VpnGateways"]["VpnGateway"] == [] and past["TotalCount"] == total


def test_filters(vpc):
    vpc_id = new_vpc_id()
    gw = create_gateway(vpc, vpc_id=vpc_id)
    other = create_gateway(vpc)

    by_id = list_gateways(vpc, vpn_gateway_id=gw)
    assert by_id["TotalCount"] == 1
    assert [g["VpnGatewayId"] for g in by_id["VpnGateways"]["VpnGateway"]] == [gw]

    by_vpc = list_gateways(vpc, vpc_id=vpc_id)
    assert [g["VpnGatewayId"] for g in by_vpc["VpnGateways"]["VpnGateway"]] == [gw]
    assert by_vpc["VpnGateways"]["VpnGateway"][0]["VpcId"] == vpc_id

    active, _ = all_gateway_pages(vpc, page_size=50, status="active")
    active_ids = {g["VpnGatewayId"] for g in active}
    assert {gw, other} <= active_ids
    assert all(g["Status"] == "active" for g in active)
    init, _ = all_gateway_pages(vpc, page_size=50, status="init")
    assert gw not in {g["VpnGatewayId"] for g in init}

    assert list_gateways(vpc, vpn_gateway_id="vpn-doesnotexist000000")["TotalCount"] == 0


def test_list_item_matches_describe(vpc):
    gw = create_gateway(vpc)
    item = list_gateways(vpc, vpn_gateway_id=gw)["VpnGateways"]["VpnGateway"][0]
    desc = without_request_id(describe_gateway(vpc, gw))
    for key in ("VpnGatewayId", "VpcId", "InternetIp", "Spec", "Status", "IpsecVpn", "SslVpn", "CreateTime", "Name"):
        assert item.get(key) == desc.get(key), key


def test_modify_name_and_description(vpc):
    gw = create_gateway(vpc, name="before")
    before = without_request_id(describe_gateway(vpc, gw))
    req = m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, name="after", description="desc é ✓")
    body = vpc.modify_vpn_gateway_attribute(req).body.to_map()
    check_response("ModifyVpnGatewayAttribute", body)
    assert body["VpnGatewayId"] == gw
    assert (body["Name"], body["Description"]) == ("after", "desc é ✓")

    after = without_request_id(wait_gateway_active(vpc, gw))
    assert (after["Name"], after["Description"]) == ("after", "desc é ✓")
    unchanged = {k: v for k, v in before.items() if k not in ("Name", "Description", "Status")}
    assert {k: after.get(k) for k in unchanged} == unchanged

    # Only Description: the name stays.
    vpc.modify_vpn_gateway_attribute(
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, description="d2")
    )
    again = wait_gateway_active(vpc, gw)
    assert (again["Name"], again["Description"]) == ("after", "d2")


def test_modify_unknown_gateway(vpc):
    req = m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id="vpn-doesnotexist000000", name="x")
    expect_error(vpc.modify_vpn_gateway_attribute, NOT_FOUND, 404, req)


def test_delete(vpc):
    gw = create_gateway(vpc)
    resp = vpc.delete_vpn_gateway(m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    check_response("DeleteVpnGateway", resp.body.to_map())
    req = m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)
    expect_error(vpc.describe_vpn_gateway, NOT_FOUND, 404, req)
    assert list_gateways(vpc, vpn_gateway_id=gw)["TotalCount"] == 0
    expect_error(vpc.delete_vpn_gateway, NOT_FOUND, 404, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))


def test_delete_in_use_is_refused(vpc):
    # No documented code; docs/api-decisions.md picks DependencyViolation.VpnConnection (400),
    # the cloud's usual DependencyViolation.<Dependant> form, naming the connection.
    gw = create_gateway(vpc)
    vco = create_connection(vpc, gw, create_customer_gateway(vpc))
    req = m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)
    expect_error(vpc.delete_vpn_gateway, "DependencyViolation.VpnConnection", 400, req, message_contains=vco)
    assert describe_gateway(vpc, gw)["VpnGatewayId"] == gw
    vpc.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    retrying(vpc.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    retrying(vpc.delete_vpn_gateway, req)
    expect_error(
        vpc.describe_vpn_gateway, NOT_FOUND, 404, m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)
    )


def test_other_region_does_not_see_it(vpc):
    gw = create_gateway(vpc)
    req = m.DescribeVpnGatewayRequest(region_id=OTHER_REGION, vpn_gateway_id=gw)
    expect_error(vpc.describe_vpn_gateway, NOT_FOUND, 404, req)
    assert gw not in {g["VpnGatewayId"] for g in all_gateway_pages(vpc, 50, region=OTHER_REGION)[0]}
    assert list_gateways(vpc, region=OTHER_REGION, vpn_gateway_id=gw)["TotalCount"] == 0
    # Writes through the wrong region fail too and change nothing.
    expect_error(
        vpc.modify_vpn_gateway_attribute,
        NOT_FOUND,
        404,
        m.ModifyVpnGatewayAttributeRequest(region_id=OTHER_REGION, vpn_gateway_id=gw, name="hijack"),
    )
    expect_error(
        vpc.delete_vpn_gateway, NOT_FOUND, 404, m.DeleteVpnGatewayRequest(region_id=OTHER_REGION, vpn_gateway_id=gw)
    )
    desc = describe_gateway(vpc, gw)
    assert desc["Status"] == "active" and desc.get("Name") != "hijack"


def test_gateway_in_other_region(vpc3):
    gw = create_gateway(vpc3, region=OTHER_REGION)
    assert describe_gateway(vpc3, gw, region=OTHER_REGION)["VpnGatewayId"] == gw
    expect_error(
        vpc3.describe_vpn_gateway, NOT_FOUND, 404, m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)
    )


def test_failed_create_changes_nothing(vpc):
    before = list_gateways(vpc)["TotalCount"]
    expect_error(
        vpc.create_vpn_gateway,
        "MissingParameter",
        400,
        m.CreateVpnGatewayRequest(region_id=REGION, bandwidth=10),
        message_contains="VpcId",
    )
    assert list_gateways(vpc)["TotalCount"] == before


def test_legacy_create_and_describe(legacy):
    req = LegacyCreateGw()
    req.set_VpcId(new_vpc_id())
    req.set_Bandwidth(20)
    req.set_Name("legacy-gw")
    body = json.loads(legacy.do(req))
    check_response("CreateVpnGateway", body)
    gw = body["VpnGatewayId"]
    assert GW_ID.match(gw)

    def describe():
        d = LegacyDescribeGw()
        d.set_VpnGatewayId(gw)
        return json.loads(legacy.do(d))

    deadline = time.monotonic() + 10
    while (desc := describe())["Status"] != "active":
        assert time.monotonic() < deadline, desc
        time.sleep(0.05)
    check_response("DescribeVpnGateway", desc)
    assert (desc["Spec"], desc["Name"]) == ("20M", "legacy-gw")


def test_strict_vpc_refuses_external_ids(tmp_path):
    """`--strict-vpc`: a VpcId or VSwitchId vpngw does not know is refused, and nothing is made;
    without it (every other test here) such external VPCs are accepted as given."""
    from conftest import VpngwServer

    srv = VpngwServer(tmp_path)
    srv.extra_args = ["--strict-vpc"]
    srv.start()
    try:
        client = srv.tea_client()
        expect_error(client.create_vpn_gateway, "InvalidVpcId.NotFound", 404,
                     m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id(), bandwidth=10))
        expect_error(client.create_vpn_gateway, "InvalidVSwitchId.NotFound", 404,
                     m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id(), bandwidth=10,
                                               v_switch_id="vsw-bp1external"))
        body = client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body
        assert body.total_count == 0
    finally:
        srv.stop()
