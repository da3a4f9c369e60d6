"""Customer gateways: Create / Describe / DescribeCustomerGateways / Modify / Delete."""

from __future__ import annotations

import json
import re
import time

import pytest
from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.CreateCustomerGatewayRequest import CreateCustomerGatewayRequest as LegacyCreate
from aliyunsdkvpc.request.v20160428.DescribeCustomerGatewayRequest import (
    DescribeCustomerGatewayRequest as LegacyDescribe,
)

from helpers import (
    OTHER_REGION,
    REGION,
    capture_error,
    check_error,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_customer_gateway,
    expect_error,
    new_peer_ip,
    retrying,
    without_request_id,
)

CGW_ID = re.compile(r"^cgw-[a-z0-9]+$")
NOT_FOUND = "InvalidCustomerGatewayInstanceId.NotFound"


def list_cgws(client, region=REGION, **kw) -> dict:
    body = client.describe_customer_gateways(m.DescribeCustomerGatewaysRequest(region_id=region, **kw)).body.to_map()
    check_response("DescribeCustomerGateways", body)
    return body


def test_create_then_describe(vpc):
    ip = new_peer_ip()
    before_ms = int(time.time() * 1000)
    req = m.CreateCustomerGatewayRequest(
        region_id=REGION, ip_address=ip, asn="65001", name="branch-1", description="office"
    )
    body = vpc.create_customer_gateway(req).body.to_map()
    check_response("CreateCustomerGateway", body)
    cgw = body["CustomerGatewayId"]
    assert CGW_ID.match(cgw), cgw
    assert body["IpAddress"] == ip
    assert (body["Name"], body["Description"]) == ("branch-1", "office")
    assert before_ms - 5000 <= body["CreateTime"] <= time.time() * 1000 + 5000

    desc = describe_customer_gateway(vpc, cgw)
    check_response("DescribeCustomerGateway", desc)
    assert desc["CustomerGatewayId"] == cgw
    assert desc["IpAddress"] == ip
    # Asn goes in as a string and comes back as an integer (spec: "ASN type flips").
    assert desc["Asn"] == 65001 and not isinstance(desc["Asn"], bool)
    assert (desc["Name"], desc["Description"]) == ("branch-1", "office")
    assert desc["CreateTime"] == body["CreateTime"]


def test_four_byte_asn(vpc3):
    cgw = create_customer_gateway(vpc3, asn="4200000000")
    assert describe_customer_gateway(vpc3, cgw)["Asn"] == 4200000000


def test_without_asn(vpc3):
    cgw = create_customer_gateway(vpc3)
    desc = describe_customer_gateway(vpc3, cgw)
    check_response("DescribeCustomerGateway", desc)
    assert "Asn" not in desc or isinstance(desc["Asn"], int)


@pytest.mark.parametrize("bad_ip", ["300.1.1.1", "1.2.3", "not-an-ip", "10.0.0.0/24", ""])
def test_invalid_ip_address(vpc, bad_ip):
    before = list_cgws(vpc, page_size=1)["TotalCount"]
    req = m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=bad_ip)
    if bad_ip == "":
        # An empty value counts as not supplied.
        err = capture_error(vpc.create_customer_gateway, req)
        assert err.status == 400 and err.code in {"MissingParameter", "InvalidIpAddress.WrongFormat"}, err
    else:
        expect_error(vpc.create_customer_gateway, "InvalidIpAddress.WrongFormat", 400, req)
    assert list_cgws(vpc, page_size=1)["TotalCount"] == before


@pytest.mark.parametrize("bad_asn", ["abc", "-1", "0", "4294967296", "45104"])  # 45104: the cloud's own ASN
def test_invalid_asn(vpc3, bad_asn):
    before = list_cgws(vpc3, page_size=1)["TotalCount"]
    req = m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=new_peer_ip(), asn=bad_asn)
    expect_error(vpc3.create_customer_gateway, re.compile(r"(InvalidParameter|Invalid\w*Asn\w*|IllegalParam)(\.\w+)*"), 400, req)
    assert list_cgws(vpc3, page_size=1)["TotalCount"] == before


def test_duplicate_ip_address(vpc):
    ip = new_peer_ip()
    cgw = create_customer_gateway(vpc, ip=ip)
    before = list_cgws(vpc, page_size=1)["TotalCount"]
    req = m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=ip)
    expect_error(vpc.create_customer_gateway, "InvalidIpAddress.AlreadyExist", 400, req)
    assert list_cgws(vpc, page_size=1)["TotalCount"] == before
    assert describe_customer_gateway(vpc, cgw)["IpAddress"] == ip


def test_describe_unknown(vpc):
    req = m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id="cgw-doesnotexist000000")
    expect_error(vpc.describe_customer_gateway, NOT_FOUND, 404, req)


def test_paging_and_filter(vpc):
    mine = {create_customer_gateway(vpc) for _ in range(3)}
    page, items, total = 1, [], None
    while True:
        body = list_cgws(vpc, page_number=page, page_size=2)
        assert (body["PageNumber"], body["PageSize"]) == (page, 2)
        total = body["TotalCount"] if total is None else total
        assert body["TotalCount"] == total
        chunk = body["CustomerGateways"]["CustomerGateway"]
        assert len(chunk) <= 2
        items += chunk
        if len(chunk) < 2 or len(items) >= total:
            break
        page += 1
    ids = [c["CustomerGatewayId"] for c in items]
    assert len(ids) == len(set(ids)) == total
    assert mine <= set(ids)

    default = list_cgws(vpc)
    assert (default["PageNumber"], default["PageSize"], default["TotalCount"]) == (1, 10, total)

    one = sorted(mine)[0]
    filtered = list_cgws(vpc, customer_gateway_id=one)
    assert filtered["TotalCount"] == 1
    [item] = filtered["CustomerGateways"]["CustomerGateway"]
    assert item["CustomerGatewayId"] == one
    assert without_request_id(describe_customer_gateway(vpc, one)).items() >= {
        k: v for k, v in item.items() if k != "Tags"
    }.items()
    assert list_cgws(vpc, customer_gateway_id="cgw-doesnotexist000000")["TotalCount"] == 0


def test_modify(vpc):
    cgw = create_customer_gateway(vpc, name="old", asn="65010")
    before = without_request_id(describe_customer_gateway(vpc, cgw))
    req = m.ModifyCustomerGatewayAttributeRequest(
        region_id=REGION, customer_gateway_id=cgw, name="new", description="moved"
    )
    body = vpc.modify_customer_gateway_attribute(req).body.to_map()
    check_response("ModifyCustomerGatewayAttribute", body)
    assert (body["CustomerGatewayId"], body["Name"], body["Description"]) == (cgw, "new", "moved")
    after = without_request_id(describe_customer_gateway(vpc, cgw))
    assert (after["Name"], after["Description"]) == ("new", "moved")
    assert {k: v for k, v in after.items() if k not in ("Name", "Description")} == {
        k: v for k, v in before.items() if k not in ("Name", "Description")
    }


def test_modify_unknown(vpc):
    req = m.ModifyCustomerGatewayAttributeRequest(region_id=REGION, customer_gateway_id="cgw-doesnotexist000000", name="x")
    expect_error(vpc.modify_customer_gateway_attribute, NOT_FOUND, 404, req)


def test_delete(vpc):
    cgw = create_customer_gateway(vpc)
    body = vpc.delete_customer_gateway(m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw))
    check_response("DeleteCustomerGateway", body.body.to_map())
    expect_error(
        vpc.describe_customer_gateway,
        NOT_FOUND,
        404,
        m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw),
    )
    assert list_cgws(vpc, customer_gateway_id=cgw)["TotalCount"] == 0
    expect_error(
        vpc.delete_customer_gateway,
        NOT_FOUND,
        404,
        m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw),
    )


def test_delete_frees_the_ip_address(vpc3):
    ip = new_peer_ip()
    cgw = create_customer_gateway(vpc3, ip=ip)
    vpc3.delete_customer_gateway(m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw))
    assert create_customer_gateway(vpc3, ip=ip) != cgw


def test_delete_in_use_is_refused(vpc):
    """The real API documents no code for this case (vpc-ipsec-api.json lists none; the docs
    only say "make sure no IPsec-VPN connection is associated"). docs/api-decisions.md picks
    DependencyViolation.VpnConnection (400). Both gateways and the connection survive, and the
    delete works once the connection is gone."""
    gw = create_gateway(vpc)
    cgw = create_customer_gateway(vpc)
    vco = create_connection(vpc, gw, cgw)
    err = capture_error(
        vpc.delete_customer_gateway, m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw)
    )
    check_error(err, "DependencyViolation.VpnConnection", 400, message_contains=vco)
    assert describe_customer_gateway(vpc, cgw)["CustomerGatewayId"] == cgw
    desc = vpc.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    assert desc.body.customer_gateway_id == cgw

    retrying(vpc.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    retrying(vpc.delete_customer_gateway, m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw))
    expect_error(
        vpc.describe_customer_gateway,
        NOT_FOUND,
        404,
        m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw),
    )


def test_other_region_does_not_see_it(vpc3):
    cgw = create_customer_gateway(vpc3)
    expect_error(
        vpc3.describe_customer_gateway,
        NOT_FOUND,
        404,
        m.DescribeCustomerGatewayRequest(region_id=OTHER_REGION, customer_gateway_id=cgw),
    )
    assert list_cgws(vpc3, region=OTHER_REGION, customer_gateway_id=cgw)["TotalCount"] == 0


def test_legacy_create_and_describe(legacy):
    ip = new_peer_ip()
    req = LegacyCreate()
    req.set_IpAddress(ip)
    req.set_Asn("64512")
    req.set_Name("legacy-cgw")
    body = json.loads(legacy.do(req))
    check_response("CreateCustomerGateway", body)
    cgw = body["CustomerGatewayId"]
    d = LegacyDescribe()
    d.set_CustomerGatewayId(cgw)
    desc = json.loads(legacy.do(d))
    check_response("DescribeCustomerGateway", desc)
    assert (desc["IpAddress"], desc["Asn"], desc["Name"]) == (ip, 64512, "legacy-cgw")

    d = LegacyDescribe()
    d.set_CustomerGatewayId("cgw-doesnotexist000000")
    err = capture_error(legacy.do, d)
    check_error(err, NOT_FOUND, 404)
