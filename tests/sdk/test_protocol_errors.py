"""Wire protocol: both signature schemes, authentication errors, routing errors, parameter
errors, the error envelope and Format=XML (shared/spec/protocol.md, vpc-ipsec-api.md §Common)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m
from aliyunsdkvpc.request.v20160428.DescribeRegionsRequest import DescribeRegionsRequest
from aliyunsdkvpc.request.v20160428.DescribeVpnGatewayRequest import DescribeVpnGatewayRequest as LegacyDescribeGw

from helpers import (
    ERROR_BODY_KEYS,
    REGION,
    assert_request_id,
    capture_error,
    check_error,
    check_error_body,
    check_response,
    expect_error,
    new_peer_ip,
    new_vpc_id,
)
from signing import pct, utc_timestamp, v1_signature, v1_string_to_sign, v3_sign

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "spec" / "signature-vectors.json").read_text())

# "Bad value" errors: the real API answers InvalidParameter or a parameter-specific
# Invalid<Name>[.<Reason>] / IllegalParam.<Name>; the exact code is the server's choice.
BAD_VALUE = re.compile(r"(InvalidParameter|Invalid\w+|IllegalParam)(\.\w+)*")


def count_customer_gateways(vpc, region=REGION) -> int:
    req = m.DescribeCustomerGatewaysRequest(region_id=region, page_size=1)
    return vpc.describe_customer_gateways(req).body.total_count


# ------------------------------------------------------------ the harness's own signer


@pytest.mark.parametrize("case", VECTORS["percent_encoding_cases"], ids=lambda c: c["input"])
def test_signer_percent_encoding(case):
    assert pct(case["input"]) == case["encoded"]


@pytest.mark.parametrize("vec", VECTORS["vectors"], ids=lambda v: v["id"])
def test_signer_reproduces_captured_signatures(vec):
    """The raw-request signer used below must agree with the captured official clients."""
    if vec["signature_version"] == "v1":
        sts = v1_string_to_sign(vec["method"], dict(vec["params_sorted"]))
        assert sts == vec["string_to_sign"]
        assert v1_signature(vec["secret"], sts) == vec["expected_signature"]
    else:
        signed, sig = v3_sign(
            vec["method"],
            dict(vec["query_sorted"]),
            dict(vec["canonical_headers"]),
            vec["raw_body"].encode(),
            vec["secret"],
        )
        assert signed == vec["signed_headers"]
        assert sig == vec["expected_signature"]


# ------------------------------------------------------------------ accepted requests


def test_v3_and_v1_clients_are_accepted(vpc):
    resp = vpc.describe_regions(m.DescribeRegionsRequest())
    assert resp.status_code == 200
    assert_request_id(resp.body.request_id)
    assert resp.headers.get("content-type", "").startswith("application/json")


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_raw_v1_get_and_post(raw, method):
    resp = raw.v1("DescribeVpnGateways", {"RegionId": REGION, "PageSize": "1"}, method=method)
    assert resp.status == 200, resp.body
    check_response("DescribeVpnGateways", resp.json())


def test_raw_v1_params_in_form_body_are_merged_and_signed(raw):
    resp = raw.v1("DescribeVpnGateways", {"PageSize": "1"}, body_params={"RegionId": REGION, "PageNumber": "1"})
    assert resp.status == 200, resp.body
    assert resp.json()["PageSize"] == 1


def test_raw_v3(raw):
    resp = raw.v3("DescribeZones", {"RegionId": REGION})
    assert resp.status == 200, resp.body
    check_response("DescribeZones", resp.json())


def test_lowercase_json_format_is_accepted(raw):
    # Tea V1 sends Format=json, legacy sends JSON: treat it case-insensitively.
    resp = raw.v1("DescribeRegions", fmt="json")
    assert resp.status == 200, resp.body
    assert_request_id(resp.json()["RequestId"])


def test_legacy_client_is_accepted(legacy):
    body = json.loads(legacy.do(DescribeRegionsRequest()))
    assert_request_id(body["RequestId"])
    assert any(r["RegionId"] == REGION for r in body["Regions"]["Region"])


# -------------------------------------------------------------------- authentication


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_unknown_access_key_id(server, signature):
    client = server.tea_client(signature, access_key_id="LTAInosuchkey0000")
    expect_error(client.describe_regions, "InvalidAccessKeyId.NotFound", 404, m.DescribeRegionsRequest())


def test_unknown_access_key_id_legacy(server):
    legacy = server.legacy_client(access_key_id="LTAInosuchkey0000")
    expect_error(legacy.do, "InvalidAccessKeyId.NotFound", 404, DescribeRegionsRequest())


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_wrong_secret_is_signature_does_not_match(server, signature):
    client = server.tea_client(signature, secret="not-the-secret")
    expect_error(
        client.describe_regions,
        "SignatureDoesNotMatch",
        400,
        m.DescribeRegionsRequest(),
        message_contains="server string to sign is:",
    )


def test_wrong_secret_legacy_reports_invalid_access_key_secret(server):
    # aliyun-python-sdk-core compares message.split(':')[1] with its own string to sign and,
    # when equal, rewrites SignatureDoesNotMatch into InvalidAccessKeySecret (protocol.md §6.3).
    legacy = server.legacy_client(secret="not-the-secret")
    err = capture_error(legacy.do, DescribeRegionsRequest())
    assert (err.code, err.status) == ("InvalidAccessKeySecret", 400), err
    assert_request_id(err.request_id)


def test_bad_signature_message_carries_server_string_to_sign(raw):
    resp = raw.v1("DescribeRegions", signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    assert resp.status == 400
    body = resp.json()
    check_error_body(body)
    assert body["Code"] == "SignatureDoesNotMatch"
    assert "server string to sign is:" in body["Message"]
    # Exactly what the legacy client evaluates: the text after the first ':' is the V1
    # string to sign, which the server computed the same way as the client.
    assert body["Message"].split(":")[1] == resp.string_to_sign


def test_tampered_v3_signature(raw):
    resp = raw.v3("DescribeRegions", tamper_signature=True)
    assert resp.status == 400
    body = resp.json()
    check_error_body(body)
    assert body["Code"] == "SignatureDoesNotMatch"


def test_missing_signature_is_rejected(raw):
    resp = raw.v1("DescribeRegions", no_signature=True)
    assert resp.status == 400, resp.body
    # docs/api-decisions.md: MissingSignature (the live gateway's answer); protocol.md §8 also
    # allows IncompleteSignature / MissingParameter.
    assert resp.json()["Code"] in {"MissingSignature", "IncompleteSignature", "MissingParameter"}


def test_reused_nonce_v1(raw):
    nonce = "reused-" + new_vpc_id()
    first = raw.v1("DescribeRegions", nonce=nonce)
    assert first.status == 200, first.body
    second = raw.v1("DescribeRegions", nonce=nonce)
    assert second.status == 400
    body = second.json()
    check_error_body(body)
    assert body["Code"] == "SignatureNonceUsed"


def test_reused_nonce_v3(raw):
    nonce = "reused-" + new_vpc_id()
    assert raw.v3("DescribeRegions", nonce=nonce).status == 200
    second = raw.v3("DescribeRegions", nonce=nonce)
    assert second.status == 400
    assert second.json()["Code"] == "SignatureNonceUsed"


@pytest.mark.parametrize("offset_min", [-16, 16, -60 * 24])
def test_expired_timestamp_v1(raw, offset_min):
    resp = raw.v1("DescribeRegions", timestamp=utc_timestamp(offset_min * 60))
    assert resp.status == 400, resp.body
    body = resp.json()
    check_error_body(body)
    assert body["Code"] == "InvalidTimeStamp.Expired"


@pytest.mark.parametrize("offset_min", [-16, 16])
def test_expired_date_v3(raw, offset_min):
    resp = raw.v3("DescribeRegions", date=utc_timestamp(offset_min * 60))
    assert resp.status == 400, resp.body
    assert resp.json()["Code"] == "InvalidTimeStamp.Expired"


@pytest.mark.parametrize("offset_min", [-10, 10])
def test_timestamp_within_15_minutes_is_accepted(raw, offset_min):
    resp = raw.v1("DescribeRegions", timestamp=utc_timestamp(offset_min * 60))
    assert resp.status == 200, resp.body


def test_auth_errors_change_nothing(vpc, raw):
    """A create that fails authentication must not create anything."""
    before = count_customer_gateways(vpc)
    params = {"RegionId": REGION, "IpAddress": new_peer_ip()}
    assert raw.v1("CreateCustomerGateway", params, signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=").status == 400
    assert raw.v1("CreateCustomerGateway", params, timestamp=utc_timestamp(-3600)).status == 400
    assert raw.v1("CreateCustomerGateway", params, access_key_id="LTAInosuchkey0000").status == 404
    assert count_customer_gateways(vpc) == before


# ------------------------------------------------------------------------- routing


def test_unknown_action_v1(raw):
    resp = raw.v1("DescribeUnicorns", {"RegionId": REGION})
    assert resp.status == 404, resp.body
    body = resp.json()
    check_error_body(body)
    assert body["Code"] == "InvalidAction.NotFound"


def test_unknown_action_v3(raw):
    resp = raw.v3("DescribeUnicorns", {"RegionId": REGION})
    assert resp.status == 404, resp.body
    assert resp.json()["Code"] == "InvalidAction.NotFound"


def test_unknown_version(raw):
    # Public gateway behaviour (vpc-ipsec-api.json common_errors, and real responses quoted in
    # public SDK issues): a Version the product does not have -> InvalidVersion,
    # "Specified parameter Version is not valid." The product is unknown, so HostId is not checked.
    resp = raw.v1("DescribeRegions", version="2099-01-01")
    assert resp.status == 400, resp.body
    body = resp.json()
    check_error_body(body, host_id=None)
    assert body["Code"] == "InvalidVersion"


# ---------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "call, missing",
    [
        (lambda c: c.create_vpn_gateway(m.CreateVpnGatewayRequest(region_id=REGION, bandwidth=10)), "VpcId"),
        (lambda c: c.create_vpn_gateway(m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id())), "Bandwidth"),
        (lambda c: c.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION)), "VpnGatewayId"),
        (lambda c: c.create_customer_gateway(m.CreateCustomerGatewayRequest(region_id=REGION)), "IpAddress"),
        (lambda c: c.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION)), "VpnConnectionId"),
    ],
    ids=["CreateVpnGateway-VpcId", "CreateVpnGateway-Bandwidth", "DescribeVpnGateway", "CreateCustomerGateway", "DescribeVpnConnection"],
)
def test_missing_required_parameter(vpc, call, missing):
    expect_error(call, "MissingParameter", 400, vpc, message_contains=missing)


def test_missing_region_id(vpc):
    # Tea clients send RegionId only when set. Public docs list both MissingParameter and
    # MissingParameter.RegionId for this case; either must name the parameter.
    err = capture_error(vpc.describe_vpn_gateways, m.DescribeVpnGatewaysRequest())
    check_error(err, re.compile(r"MissingParameter(\.RegionId)?"), 400, message_contains="RegionId")


@pytest.mark.parametrize("bandwidth", ["abc", "-5", "10.5"])
def test_bad_integer_value(vpc, bandwidth):
    before = vpc.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body.total_count
    req = m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id(), bandwidth=bandwidth)
    expect_error(vpc.create_vpn_gateway, BAD_VALUE, 400, req)
    assert vpc.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body.total_count == before


@pytest.mark.parametrize("page", [{"page_size": "x"}, {"page_number": "1.5"}])
def test_bad_paging_values(vpc, page):
    req = m.DescribeVpnGatewaysRequest(region_id=REGION, **page)
    expect_error(vpc.describe_vpn_gateways, BAD_VALUE, 400, req)


@pytest.mark.parametrize(
    "page, name", [({"page_size": 0}, "PageSize"), ({"page_size": 51}, "PageSize"), ({"page_number": 0}, "PageNumber")]
)
def test_paging_out_of_range(vpc, page, name):
    # docs/api-decisions.md: PageSize outside 1..50 and PageNumber < 1 are InvalidParameter
    # naming the parameter (the SDK documents PageSize's maximum as 50).
    req = m.DescribeCustomerGatewaysRequest(region_id=REGION, **page)
    expect_error(vpc.describe_customer_gateways, "InvalidParameter", 400, req, message_contains=name)


def test_unknown_region(vpc):
    expect_error(
        vpc.describe_vpn_gateways,
        "InvalidRegionId.NotFound",
        404,
        m.DescribeVpnGatewaysRequest(region_id="xx-nowhere-1"),
    )


def test_unknown_region_create_changes_nothing(vpc):
    before = count_customer_gateways(vpc)
    req = m.CreateCustomerGatewayRequest(region_id="xx-nowhere-1", ip_address=new_peer_ip())
    expect_error(vpc.create_customer_gateway, "InvalidRegionId.NotFound", 404, req)
    assert count_customer_gateways(vpc) == before


# ---------------------------------------------------------------- envelope and XML


def test_error_envelope_fields(raw):
    resp = raw.v1("DescribeVpnGateway", {"RegionId": REGION, "VpnGatewayId": "vpn-doesnotexist000000"})
    assert resp.status == 404
    assert resp.content_type.startswith("application/json")
    body = resp.json()
    check_error_body(body)
    assert ERROR_BODY_KEYS <= set(body)
    assert body["Code"] == "InvalidVpnGatewayInstanceId.NotFound"


def test_request_ids_are_unique(raw):
    ids = {raw.v1("DescribeRegions").json()["RequestId"] for _ in range(5)}
    assert len(ids) == 5


def test_xml_success(raw):
    resp = raw.v1("DescribeRegions", fmt="XML")
    assert resp.status == 200, resp.body
    assert resp.content_type.startswith("text/xml"), resp.headers
    root = ET.fromstring(resp.body)
    assert root.tag == "DescribeRegionsResponse"
    assert_request_id(root.findtext("RequestId"))
    region_ids = [r.findtext("RegionId") for r in root.findall("./Regions/Region")]
    assert REGION in region_ids


def test_xml_error(raw):
    resp = raw.v1("DescribeVpnGateway", {"RegionId": REGION, "VpnGatewayId": "vpn-doesnotexist000000"}, fmt="XML")
    assert resp.status == 404, resp.body
    assert resp.content_type.startswith("text/xml"), resp.headers
    root = ET.fromstring(resp.body)
    assert root.tag == "Error"
    check_error_body({child.tag: child.text for child in root})
    assert root.findtext("Code") == "InvalidVpnGatewayInstanceId.NotFound"


def test_xml_signature_error(raw):
    resp = raw.v1("DescribeRegions", fmt="XML", signature="AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
    assert resp.status == 400
    root = ET.fromstring(resp.body)
    assert root.tag == "Error" and root.findtext("Code") == "SignatureDoesNotMatch"


def test_legacy_xml_success_and_error(legacy):
    req = DescribeRegionsRequest()
    req.set_accept_format("XML")
    status, _headers, body = legacy.do_raw(req)
    assert status == 200
    root = ET.fromstring(body)
    assert root.tag == "DescribeRegionsResponse"
    assert REGION in [r.findtext("RegionId") for r in root.findall("./Regions/Region")]

    req = LegacyDescribeGw()
    req.set_VpnGatewayId("vpn-doesnotexist000000")
    req.set_accept_format("XML")
    status, _headers, body = legacy.do_raw(req)
    assert status == 404
    root = ET.fromstring(body)
    assert root.tag == "Error"
    assert root.findtext("Code") == "InvalidVpnGatewayInstanceId.NotFound"
    assert_request_id(root.findtext("RequestId"))
