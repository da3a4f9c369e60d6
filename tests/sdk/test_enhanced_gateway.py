"""Enhanced VPN gateways: CreateEnhancedVpnGateway / UpdateEnhancedVpnGateway /
DeleteEnhancedVpnGateway through the official SDK, and `GatewayType` in DescribeVpnGateway(s)
(docs/api-decisions.md, "Enhanced VPN gateways")."""

from __future__ import annotations

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    check_response,
    create_customer_gateway,
    create_gateway,
    describe_gateway,
    expect_error,
    wait_gateway_active,
)
from ram_helpers import attach_user, create_policy, create_user_with_key, ram
from ram_helpers import vpc as vpc_as
from test_vpc import create_vpc, create_vswitch, wait_available

ENHANCED = "Enhanced.SiteToSite"
NOT_FOUND = "InvalidVpnGatewayInstanceId.NotFound"


@pytest.fixture
def network(vpc3) -> dict:
    """A VPC with a vSwitch in each of two zones and a second one in the first zone."""
    vpc_id = create_vpc(vpc3, "172.16.0.0/12")["VpcId"]
    wait_available(vpc3, vpc_id)
    return {
        "vpc": vpc_id,
        "a": create_vswitch(vpc3, vpc_id, "172.16.1.0/24", zone="cn-hangzhou-b"),
        "b": create_vswitch(vpc3, vpc_id, "172.16.2.0/24", zone="cn-hangzhou-k"),
        "a2": create_vswitch(vpc3, vpc_id, "172.16.3.0/24", zone="cn-hangzhou-b"),
    }


def create_enhanced(client, net: dict, **extra) -> dict:
    req = m.CreateEnhancedVpnGatewayRequest(
        region_id=REGION, vpc_id=net["vpc"], gateway_type=ENHANCED, v_switch_id=net["a"],
        disaster_recovery_vswitch_id=net["b"], **extra)
    return client.create_enhanced_vpn_gateway(req).body.to_map()


def total(client, **filters) -> int:
    return client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION, **filters)).body.total_count


def test_create_describe_update_delete(vpc, network):
    body = create_enhanced(vpc, network)
    assert set(body) == {"VpnGatewayId", "Name", "RequestId"}
    gw = body["VpnGatewayId"]
    # Without a Name the gateway is named by its id.
    assert body["Name"] == gw
    assert describe_gateway(vpc, gw)["Status"] == "init"  # asynchronous, as CreateVpnGateway
    desc = wait_gateway_active(vpc, gw)
    check_response("DescribeVpnGateway", desc)
    assert (desc["GatewayType"], desc["Name"], desc["VpcId"], desc["VSwitchId"], desc["DisasterRecoveryVSwitchId"]) == (
        ENHANCED, gw, network["vpc"], network["a"], network["b"])
    # Site-to-cloud IPsec only, two tunnel addresses, no bandwidth specification.
    assert (desc["IpsecVpn"], desc["SslVpn"], desc["Spec"], desc["NetworkType"], desc["VpnType"]) == (
        "enable", "disable", "", "public", "Normal")
    assert desc["InternetIp"] and desc["DisasterRecoveryInternetIp"]
    assert desc["InternetIp"] != desc["DisasterRecoveryInternetIp"]

    updated = vpc.update_enhanced_vpn_gateway(m.UpdateEnhancedVpnGatewayRequest(
        region_id=REGION, vpn_gateway_id=gw, name="edge", description="default", auto_propagate=True)).body.to_map()
    assert {k: updated[k] for k in ("VpnGatewayId", "Name", "Description", "AutoPropagate", "GatewayType", "VpcId",
                                     "VSwitchId", "DisasterRecoveryVSwitchId", "NetworkType", "VpnType")} == {
        "VpnGatewayId": gw, "Name": "edge", "Description": "default", "AutoPropagate": True, "GatewayType": ENHANCED,
        "VpcId": network["vpc"], "VSwitchId": network["a"], "DisasterRecoveryVSwitchId": network["b"],
        "NetworkType": "public", "VpnType": "Normal"}
    assert updated["CreateTime"] == desc["CreateTime"] and updated["Tags"] == {"Tag": []}
    desc = wait_gateway_active(vpc, gw)
    assert (desc["Name"], desc["Description"], desc["AutoPropagate"]) == ("edge", "default", True)

    vpc.delete_enhanced_vpn_gateway(m.DeleteEnhancedVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    expect_error(describe_gateway, NOT_FOUND, 404, vpc, gw)
    assert total(vpc, vpn_gateway_id=gw) == 0  # what Terraform's delete waits for
    expect_error(vpc.delete_enhanced_vpn_gateway, NOT_FOUND, 404,
                 m.DeleteEnhancedVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))


def test_gateway_type_in_answers_and_filter(vpc3, network):
    traditional = create_gateway(vpc3, vpc_id=network["vpc"])
    assert describe_gateway(vpc3, traditional)["GatewayType"] == "Traditional"
    enhanced = [create_enhanced(vpc3, network, name=f"e{i}")["VpnGatewayId"] for i in range(3)]

    def listed(**filters) -> tuple[list[str], int]:
        body = vpc3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(
            region_id=REGION, vpc_id=network["vpc"], **filters)).body.to_map()
        return [g["VpnGatewayId"] for g in body["VpnGateways"]["VpnGateway"]], body["TotalCount"]

    ids, count = listed(gateway_type=ENHANCED)
    assert count == 3 and sorted(ids) == sorted(enhanced)
    assert listed(gateway_type="Traditional") == ([traditional], 1)
    assert listed()[1] == 4
    # Paged after the filter: two pages of two, then one.
    first, count = listed(gateway_type=ENHANCED, page_size=2, page_number=1)
    second, _ = listed(gateway_type=ENHANCED, page_size=2, page_number=2)
    assert count == 3 and len(first) == 2 and len(second) == 1 and sorted(first + second) == sorted(enhanced)
    for bad in ("Normal", "enhanced.sitetosite", "Enhanced"):
        expect_error(listed, "InvalidParameter", 400, gateway_type=bad)


def test_refusals_create_nothing(vpc3, network):
    before = total(vpc3)
    other = create_vpc(vpc3, "10.0.0.0/8")["VpcId"]
    wait_available(vpc3, other)
    for code, status, extra in [
        ("InvalidParameter", 400, {"gateway_type": "Traditional"}),
        ("InvalidParameter", 400, {"gateway_type": "Enhanced.SiteToCloud"}),
        ("InvalidParameter", 400, {"network_type": "internal"}),
        ("InvalidParameter", 400, {"vpn_type": "Fast"}),
        ("InvalidName", 400, {"name": "1starts-with-a-digit"}),
        # Dual tunnel only: both vSwitches, in two zones, of the gateway's VPC.
        ("MissingParameter", 400, {"v_switch_id": None}),
        ("MissingParameter", 400, {"disaster_recovery_vswitch_id": None}),
        ("InvalidParameter.DisasterRecoveryVSwitchId", 400, {"disaster_recovery_vswitch_id": network["a2"]}),
        ("InvalidVSwitchId.Mismatch", 400, {"vpc_id": other}),
        ("InvalidVSwitchId.NotFound", 404, {"v_switch_id": "vsw-bp1nothere"}),
    ]:
        req = m.CreateEnhancedVpnGatewayRequest(
            region_id=REGION, vpc_id=network["vpc"], gateway_type=ENHANCED, v_switch_id=network["a"],
            disaster_recovery_vswitch_id=network["b"])
        for k, v in extra.items():
            setattr(req, k, v)
        expect_error(vpc3.create_enhanced_vpn_gateway, code, status, req)
    assert total(vpc3) == before


def test_enhanced_operations_and_features_stay_with_enhanced_gateways(vpc3, network):
    """Update/DeleteEnhancedVpnGateway do not find a traditional gateway; an enhanced gateway has
    no SSL-VPN nor IPsec server, and takes dual-tunnel connections only."""
    traditional = create_gateway(vpc3)
    expect_error(vpc3.update_enhanced_vpn_gateway, NOT_FOUND, 404, m.UpdateEnhancedVpnGatewayRequest(
        region_id=REGION, vpn_gateway_id=traditional, name="nope"))
    expect_error(vpc3.delete_enhanced_vpn_gateway, NOT_FOUND, 404, m.DeleteEnhancedVpnGatewayRequest(
        region_id=REGION, vpn_gateway_id=traditional))
    assert describe_gateway(vpc3, traditional)["Name"] == ""

    gw = create_enhanced(vpc3, network)["VpnGatewayId"]
    # Not while it provisions.
    expect_error(vpc3.update_enhanced_vpn_gateway, "VpnGateway.Configuring", 400, m.UpdateEnhancedVpnGatewayRequest(
        region_id=REGION, vpn_gateway_id=gw, description="early"))
    wait_gateway_active(vpc3, gw)
    expect_error(vpc3.create_ssl_vpn_server, "OperationFailed.SslVpnDisabled", 400, m.CreateSslVpnServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.200.0.0/24", local_subnet="172.16.0.0/12"))
    expect_error(vpc3.create_ipsec_server, "OperationFailed.SslVpnDisabled", 400, m.CreateIpsecServerRequest(
        region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.201.0.0/24", local_subnet="172.16.0.0/12"))
    cgw = create_customer_gateway(vpc3)
    expect_error(vpc3.create_vpn_connection, "MissingParameter", 400, m.CreateVpnConnectionRequest(
        region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="172.16.0.0/12",
        remote_subnet="192.168.0.0/24"), message_contains="TunnelOptionsSpecification")
    tunnels = [m.CreateVpnConnectionRequestTunnelOptionsSpecification(customer_gateway_id=cgw, role=role)
               for role in ("master", "slave")]
    vco = vpc3.create_vpn_connection(m.CreateVpnConnectionRequest(
        region_id=REGION, vpn_gateway_id=gw, local_subnet="172.16.0.0/12", remote_subnet="192.168.0.0/24",
        tunnel_options_specification=tunnels)).body.vpn_connection_id
    wait_gateway_active(vpc3, gw)
    described = vpc3.describe_vpn_connection(m.DescribeVpnConnectionRequest(
        region_id=REGION, vpn_connection_id=vco)).body.to_map()
    assert len(described["TunnelOptionsSpecification"]["TunnelOptions"]) == 2
    # In use: refused, as DeleteVpnGateway refuses.
    err = expect_error(vpc3.delete_enhanced_vpn_gateway, "DependencyViolation.VpnConnection", 400,
                       m.DeleteEnhancedVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    assert vco in err.message


def test_ram_authorizes_the_gateway_named(server, vpc3, network):
    """vpc:UpdateEnhancedVpnGateway on acs:vpc:<region>:<account>:vpngateway/<id>: a Deny on one
    gateway refuses it there and nowhere else."""
    admin = ram(server)
    kept = create_enhanced(vpc3, network)["VpnGatewayId"]
    other = create_enhanced(vpc3, network)["VpnGatewayId"]
    for gw in (kept, other):
        wait_gateway_active(vpc3, gw)
    user, cred = create_user_with_key(admin)
    policy = create_policy(admin, {"Version": "1", "Statement": [
        {"Effect": "Allow", "Action": "vpc:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "vpc:*EnhancedVpnGateway", "Resource": f"acs:vpc:*:*:vpngateway/{kept}"},
    ]})
    attach_user(admin, user, policy, "Custom")
    as_user = vpc_as(server, cred)
    for call in (
        lambda: as_user.update_enhanced_vpn_gateway(m.UpdateEnhancedVpnGatewayRequest(
            region_id=REGION, vpn_gateway_id=kept, description="denied")),
        lambda: as_user.delete_enhanced_vpn_gateway(m.DeleteEnhancedVpnGatewayRequest(
            region_id=REGION, vpn_gateway_id=kept)),
    ):
        expect_error(call, "Forbidden.RAM", 403)
    assert describe_gateway(vpc3, kept)["Description"] == ""
    as_user.update_enhanced_vpn_gateway(m.UpdateEnhancedVpnGatewayRequest(
        region_id=REGION, vpn_gateway_id=other, description="allowed"))
    assert describe_gateway(vpc3, other)["Description"] == "allowed"
