"""Resource groups: ResourceGroupId on create and as a list filter, MoveVpnResourceGroup,
MoveResourceGroup."""

from __future__ import annotations

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


def new_group() -> str:
    return "rg-acfm" + rand_suffix(12)


def move_vpn(client, instance_id: str, rtype: str, group: str) -> dict:
    req = m.MoveVpnResourceGroupRequest(
        region_id=REGION, instance_id=instance_id, resource_type=rtype, new_resource_group_id=group
    )
    body = client.move_vpn_resource_group(req).body.to_map()
    check_response("MoveVpnResourceGroup", body)
    return body


def move(client, resource_id: str, rtype: str, group: str) -> dict:
    req = m.MoveResourceGroupRequest(
        region_id=REGION, resource_id=resource_id, resource_type=rtype, new_resource_group_id=group
    )
    body = client.move_resource_group(req).body.to_map()
    check_response("MoveResourceGroup", body)
    return body


def test_group_on_create_and_as_filter(vpc):
    group = new_group()
    gw = create_gateway(vpc, resource_group_id=group)
    cgw = create_customer_gateway(vpc, resource_group_id=group)
    vco = create_connection(vpc, gw, cgw)
    assert describe_gateway(vpc, gw)["ResourceGroupId"] == group
    assert describe_customer_gateway(vpc, cgw)["ResourceGroupId"] == group
    # CreateVpnConnection takes no group: a gateway's connection is in the gateway's.
    assert describe_connection(vpc, vco)["ResourceGroupId"] == group

    body = vpc.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION, resource_group_id=group)).body
    assert [g.vpn_gateway_id for g in body.vpn_gateways.vpn_gateway] == [gw]
    body = vpc.describe_customer_gateways(
        m.DescribeCustomerGatewaysRequest(region_id=REGION, resource_group_id=group)
    ).body
    assert [c.customer_gateway_id for c in body.customer_gateways.customer_gateway] == [cgw]


def test_move_gateway_takes_its_connections(vpc):
    gw = create_gateway(vpc)
    cgw = create_customer_gateway(vpc)
    vco = create_connection(vpc, gw, cgw)
    group = new_group()
    move_vpn(vpc, gw, "VpnGateWay", group)  # Terraform's spelling
    assert describe_gateway(vpc, gw)["ResourceGroupId"] == group
    assert describe_connection(vpc, vco)["ResourceGroupId"] == group
    body = vpc.describe_vpn_connections(
        m.DescribeVpnConnectionsRequest(region_id=REGION, resource_group_id=group)
    ).body.to_map()
    assert [c["VpnConnectionId"] for c in body["VpnConnections"]["VpnConnection"]] == [vco]
    # The customer gateway stays where it was.
    assert describe_customer_gateway(vpc, cgw)["ResourceGroupId"] == "rg-default"

    other = new_group()
    move(vpc, cgw, "CustomerGateway", other)
    assert describe_customer_gateway(vpc, cgw)["ResourceGroupId"] == other


def test_move_errors_change_nothing(vpc):
    gw = create_gateway(vpc)
    cgw = create_customer_gateway(vpc)
    vco = create_connection(vpc, gw, cgw)
    expect_error(move_vpn, "InvalidResourceGroupId", 400, vpc, gw, "VpnGateway", "not-a-group")
    expect_error(move_vpn, "InvalidVpnGatewayInstanceId.NotFound", 404, vpc, "vpn-nope", "VpnGateway", new_group())
    expect_error(
        move_vpn, "InvalidCustomerGatewayInstanceId.NotFound", 404, vpc, "cgw-nope", "CustomerGateway", new_group()
    )
    expect_error(move_vpn, "InvalidResourceType.NotFound", 404, vpc, gw, "Eip", new_group())
    # A gateway's connection moves with its gateway only.
    expect_error(move_vpn, "InvalidParameter", 400, vpc, vco, "VpnAttachment", new_group())
    expect_error(
        vpc.create_vpn_gateway,
        "InvalidResourceGroupId",
        400,
        m.CreateVpnGatewayRequest(region_id=REGION, vpc_id="vpc-x", bandwidth=10, resource_group_id="RG-1"),
    )
    assert describe_gateway(vpc, gw)["ResourceGroupId"] == "rg-default"
    assert describe_connection(vpc, vco)["ResourceGroupId"] == "rg-default"
