"""Tags: TagResources / UnTagResources / ListTagResources on gateways, customer gateways,
connections and attachments; Tags.N on create; Tag.N filters on the Describe*s lists."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    check_response,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    expect_error,
    rand_suffix,
)


def tag(client, rtype: str, ids: list[str], tags: dict[str, str]):
    req = m.TagResourcesRequest(
        region_id=REGION,
        resource_type=rtype,
        resource_id=ids,
        tag=[m.TagResourcesRequestTag(key=k, value=v) for k, v in tags.items()],
    )
    body = client.tag_resources(req).body.to_map()
    check_response("TagResources", body)
    return body


def untag(client, rtype: str, ids: list[str], keys: list[str] | None = None, all_: bool | None = None):
    req = m.UnTagResourcesRequest(region_id=REGION, resource_type=rtype, resource_id=ids, tag_key=keys, all=all_)
    body = client.un_tag_resources(req).body.to_map()
    check_response("UnTagResources", body)
    return body


def list_tags(client, rtype: str, ids=None, tags=None, **kw) -> dict:
    req = m.ListTagResourcesRequest(
        region_id=REGION,
        resource_type=rtype,
        resource_id=ids,
        tag=[m.ListTagResourcesRequestTag(key=k, value=v) for k, v in (tags or {}).items()] or None,
        **kw,
    )
    body = client.list_tag_resources(req).body.to_map()
    check_response("ListTagResources", body)
    return body


def tag_map(wrapper: dict | None) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (wrapper or {}).get("Tag", [])}


@pytest.fixture(scope="module")
def resources(server):
    """One gateway, customer gateway and connection, shared by the module (tests use their own keys)."""
    client = server.tea_client("v3")
    gw = create_gateway(client)
    cgw = create_customer_gateway(client)
    vco = create_connection(client, gw, cgw)
    return {"gw": gw, "cgw": cgw, "vco": vco}


@pytest.mark.parametrize(
    "rtype,which",
    [
        ("VpnGateWay", "gw"),  # Terraform's spelling
        ("VPNGATEWAY", "gw"),  # the documented one
        ("CUSTOMERGATEWAY", "cgw"),
        ("customergateway", "cgw"),
        ("VPNCONNECTION", "vco"),
    ],
)
def test_tag_and_untag_every_kind(vpc, resources, rtype, which):
    rid = resources[which]
    key = f"k-{rtype.lower()}"
    tag(vpc, rtype, [rid], {key: "one", key + "-2": ""})
    if which == "gw":
        tags = tag_map(describe_gateway(vpc, rid)["Tags"])
    elif which == "cgw":
        tags = tag_map(describe_customer_gateway(vpc, rid)["Tags"])
    else:
        tags = tag_map(describe_connection(vpc, rid)["Tags"])
    assert tags[key] == "one" and tags[key + "-2"] == ""

    listed = list_tags(vpc, rtype, ids=[rid])
    entries = {(e["TagKey"], e["TagValue"]) for e in listed["TagResources"]["TagResource"]}
    assert {(key, "one"), (key + "-2", "")} <= entries
    assert {e["ResourceType"] for e in listed["TagResources"]["TagResource"]} == {rtype.upper()}

    untag(vpc, rtype, [rid], keys=[key, key + "-2"])
    listed = list_tags(vpc, rtype, ids=[rid])
    assert key not in {e["TagKey"] for e in listed["TagResources"]["TagResource"]}


def test_overwrite_untag_all_and_describe_filters(vpc):
    gw1, gw2 = create_gateway(vpc), create_gateway(vpc)
    tag(vpc, "VpnGateWay", [gw1, gw2], {"env": "prod", "team": "net"})
    tag(vpc, "VpnGateWay", [gw2], {"env": "dev"})
    assert tag_map(describe_gateway(vpc, gw2)["Tags"]) == {"env": "dev", "team": "net"}

    req = m.DescribeVpnGatewaysRequest(
        region_id=REGION, tag=[m.DescribeVpnGatewaysRequestTag(key="env", value="dev")]
    )
    body = vpc.describe_vpn_gateways(req).body.to_map()
    check_response("DescribeVpnGateways", body)
    assert [g["VpnGatewayId"] for g in body["VpnGateways"]["VpnGateway"]] == [gw2]

    untag(vpc, "VPNGATEWAY", [gw1, gw2], all_=True)
    assert tag_map(describe_gateway(vpc, gw1)["Tags"]) == {}
    assert tag_map(describe_gateway(vpc, gw2)["Tags"]) == {}
    body = vpc.describe_vpn_gateways(req).body.to_map()
    assert body["TotalCount"] == 0


def test_list_tag_resources_paging(vpc):
    gw = create_gateway(vpc)
    tag(vpc, "VpnGateWay", [gw], {f"page-{i}": str(i) for i in range(5)})
    seen, token, pages = [], None, 0
    while True:
        body = list_tags(vpc, "VpnGateWay", ids=[gw], max_results=2, next_token=token)
        items = body["TagResources"]["TagResource"]
        assert len(items) <= 2
        seen += [(e["TagKey"], e["TagValue"]) for e in items]
        pages += 1
        token = body.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == [(f"page-{i}", str(i)) for i in range(5)]
    # By tag: the resource carrying it, only the filtered key.
    marker = rand_suffix(8)
    tag(vpc, "VpnGateWay", [gw], {"marker": marker})
    body = list_tags(vpc, "VpnGateWay", tags={"marker": marker})
    assert [(e["ResourceId"], e["TagKey"]) for e in body["TagResources"]["TagResource"]] == [(gw, "marker")]


def test_customer_gateway_tags_on_create_and_filter(vpc):
    cgw = create_customer_gateway(vpc, tags=[m.CreateCustomerGatewayRequestTags(key="site", value="hz-1")])
    assert tag_map(describe_customer_gateway(vpc, cgw)["Tags"]) == {"site": "hz-1"}
    req = m.DescribeCustomerGatewaysRequest(
        region_id=REGION, tag=[m.DescribeCustomerGatewaysRequestTag(key="site", value="hz-1")]
    )
    body = vpc.describe_customer_gateways(req).body.to_map()
    assert cgw in [c["CustomerGatewayId"] for c in body["CustomerGateways"]["CustomerGateway"]]


def test_connection_tag_filter(vpc3, resources):
    tag(vpc3, "VPNCONNECTION", [resources["vco"]], {"filter-me": "yes"})
    req = m.DescribeVpnConnectionsRequest(
        region_id=REGION, tag=[m.DescribeVpnConnectionsRequestTag(key="filter-me", value="yes")]
    )
    body = vpc3.describe_vpn_connections(req).body.to_map()
    check_response("DescribeVpnConnections", body)
    items = body["VpnConnections"]["VpnConnection"]
    assert [c["VpnConnectionId"] for c in items] == [resources["vco"]]
    # List items wrap their tags in `Tag`, not `Tags`.
    assert tag_map(items[0]["Tag"])["filter-me"] == "yes"


def test_limits_are_errors_and_change_nothing(vpc):
    gw = create_gateway(vpc)
    tag(vpc, "VpnGateWay", [gw], {f"k{i}": "v" for i in range(20)})
    expect_error(tag, "QuotaExceed.TagsPerResource", 403, vpc, "VpnGateWay", [gw], {"k20": "v"})
    expect_error(tag, "InvalidTagKey.Malformed", 400, vpc, "VpnGateWay", [gw], {"aliyun-x": "v"})
    expect_error(tag, "InvalidTagKey.Malformed", 400, vpc, "VpnGateWay", [gw], {"acs:x": "v"})
    expect_error(tag, "InvalidTagKey.Malformed", 400, vpc, "VpnGateWay", [gw], {"k" * 129: "v"})
    expect_error(tag, "InvalidTagValue.Malformed", 400, vpc, "VpnGateWay", [gw], {"k1": "v" * 129})
    expect_error(tag, "NumberExceed.Tags", 400, vpc, "VpnGateWay", [gw], {f"n{i}": "v" for i in range(21)})
    expect_error(
        tag, "InvalidResourceId.NotFound", 404, vpc, "VpnGateWay", [gw, "vpn-doesnotexist"], {"k1": "changed"}
    )
    expect_error(tag, "InvalidResourceType.NotFound", 404, vpc, "NATGATEWAY", [gw], {"k1": "changed"})
    tags = tag_map(describe_gateway(vpc, gw)["Tags"])
    assert tags == {f"k{i}": "v" for i in range(20)}
    expect_error(list_tags, "MissingParameter", 400, vpc, "VpnGateWay")
    expect_error(list_tags, "InvalidParameter", 400, vpc, "VpnGateWay", ids=[gw], next_token="zz")
