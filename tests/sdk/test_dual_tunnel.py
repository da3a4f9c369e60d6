"""Dual-tunnel IPsec connections through the official SDK: CreateVpnConnection with
TunnelOptionsSpecification (a flattened list in the form body), DescribeVpnConnection(s) with
the seed's string-typed TunnelOptions, ModifyVpnConnectionAttribute by TunnelId and by Role,
ModifyTunnelAttribute (an object in the query, real types in the answer), and the errors."""

from __future__ import annotations

import re

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    check_response,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    expect_error,
    new_peer_ip,
    new_vpc_id,
    retrying,
    wait_connection_settled,
)

TUN_ID = re.compile(r"^tun-[a-z0-9]+$")
Spec = m.CreateVpnConnectionRequestTunnelOptionsSpecification
Ike = m.CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelIkeConfig
Ipsec = m.CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelIpsecConfig
Bgp = m.CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelBgpConfig


def create_dual_gateway(client) -> str:
    return create_gateway(
        client, vpc_id=new_vpc_id(), v_switch_id="vsw-primary", disaster_recovery_vswitch_id="vsw-standby"
    )


@pytest.fixture
def dual(vpc):
    """An active dual-tunnel VPN gateway and two customer gateways with ASNs."""
    gw = create_dual_gateway(vpc)
    cgws = [create_customer_gateway(vpc, asn=str(asn)) for asn in (65001, 65002)]
    return gw, cgws


def tunnel_specs(cgws, *, bgp=True, master_psk="Master-Psk-1"):
    return [
        Spec(
            role="master",
            customer_gateway_id=cgws[0],
            enable_dpd=True,
            enable_nat_traversal=False,
            tunnel_ike_config=Ike(ike_version="ikev2", ike_enc_alg="aes256", ike_lifetime=3600, psk=master_psk),
            tunnel_ipsec_config=Ipsec(ipsec_auth_alg="sha256", ipsec_lifetime=7200),
            tunnel_bgp_config=Bgp(local_asn=65100, tunnel_cidr="169.254.10.0/30", local_bgp_ip="169.254.10.1")
            if bgp
            else None,
        ),
        Spec(
            role="slave",
            customer_gateway_id=cgws[1],
            tunnel_bgp_config=Bgp(tunnel_cidr="169.254.20.0/30", local_bgp_ip="169.254.20.2") if bgp else None,
        ),
    ]


def create_dual(client, gw, cgws, **extra) -> str:
    req = m.CreateVpnConnectionRequest(
        region_id=REGION,
        vpn_gateway_id=gw,
        local_subnet="10.20.0.0/16",
        remote_subnet="192.168.20.0/24",
        name="dual",
        enable_tunnels_bgp=extra.pop("enable_tunnels_bgp", True),
        tunnel_options_specification=extra.pop("specs", None) or tunnel_specs(cgws),
        **extra,
    )
    body = retrying(client.create_vpn_connection, req).body.to_map()
    check_response("CreateVpnConnection", body)
    vco = body["VpnConnectionId"]
    wait_connection_settled(client, vco, gw)
    return vco


def tunnels_of(body: dict) -> list[dict]:
    return body["TunnelOptionsSpecification"]["TunnelOptions"]


def test_create_and_describe_dual_tunnel(vpc, dual):
    gw, cgws = dual
    g = describe_gateway(vpc, gw)
    assert g["DisasterRecoveryInternetIp"] and g["DisasterRecoveryInternetIp"] != g["InternetIp"]
    vco = create_dual(vpc, gw, cgws)
    body = describe_connection(vpc, vco)
    check_response("DescribeVpnConnection", body)
    assert "CustomerGatewayId" not in body
    assert body["EnableTunnelsBgp"] is True
    assert body["TunnelBandwidth"] == "Standard"
    master, slave = tunnels_of(body)
    assert (master["Role"], master["TunnelIndex"]) == ("master", 1)
    assert (slave["Role"], slave["TunnelIndex"]) == ("slave", 2)
    assert TUN_ID.match(master["TunnelId"]) and TUN_ID.match(slave["TunnelId"])
    assert master["InternetIp"] == g["InternetIp"]
    assert slave["InternetIp"] == g["DisasterRecoveryInternetIp"]
    assert master["ZoneNo"].startswith(REGION + "-") and master["ZoneNo"] != slave["ZoneNo"]
    assert (master["State"], master["Status"]) == ("active", "ike_sa_not_established")
    # The seed's types: numbers and booleans as strings, TunnelIndex an integer.
    assert master["EnableDpd"] == "true" and master["EnableNatTraversal"] == "false"
    assert slave["EnableNatTraversal"] == "true"
    assert master["TunnelIkeConfig"]["IkeLifetime"] == "3600"
    assert master["TunnelIpsecConfig"]["IpsecLifetime"] == "7200"
    assert master["TunnelBgpConfig"]["LocalAsn"] == "65100"
    assert slave["TunnelBgpConfig"]["LocalAsn"] == "45104"
    assert master["TunnelBgpConfig"]["PeerAsn"] == "65001"
    assert slave["TunnelBgpConfig"]["PeerAsn"] == "65002"
    assert master["TunnelBgpConfig"]["PeerBgpIp"] == "169.254.10.2"
    assert master["TunnelBgpConfig"]["BgpStatus"] == "false"
    assert master["TunnelIkeConfig"]["Psk"] == "Master-Psk-1"
    assert re.fullmatch(r"[A-Za-z0-9]{16}", slave["TunnelIkeConfig"]["Psk"])
    assert master["TunnelIkeConfig"]["LocalId"] == g["InternetIp"]
    assert slave["TunnelIkeConfig"]["LocalId"] == g["DisasterRecoveryInternetIp"]
    assert slave["TunnelIkeConfig"]["RemoteId"] == describe_customer_gateway(vpc, cgws[1])["IpAddress"]
    # The SDK's typed model reads it all.
    typed = vpc.describe_vpn_connection(
        m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)
    ).body
    assert typed.tunnel_options_specification.tunnel_options[1].tunnel_index == 2
    # DescribeVpnConnections carries the same tunnels.
    listed = vpc.describe_vpn_connections(
        m.DescribeVpnConnectionsRequest(region_id=REGION, vpn_gateway_id=gw)
    ).body.to_map()
    check_response("DescribeVpnConnections", listed)
    assert tunnels_of(listed["VpnConnections"]["VpnConnection"][0]) == tunnels_of(body)


def test_dual_tunnel_refusals(vpc, dual):
    gw, cgws = dual
    base = dict(region_id=REGION, vpn_gateway_id=gw, local_subnet="10.21.0.0/16", remote_subnet="192.168.21.0/24")

    def create(**kw):
        return vpc.create_vpn_connection(m.CreateVpnConnectionRequest(**{**base, **kw}))

    # Both a top-level customer gateway and tunnels.
    expect_error(
        create, "InvalidParameter", 400, customer_gateway_id=cgws[0], tunnel_options_specification=tunnel_specs(cgws),
        message_contains="CustomerGatewayId",
    )
    # Neither (a dual-tunnel gateway needs its tunnels, even when a customer gateway is given).
    expect_error(create, "MissingParameter", 400, message_contains="TunnelOptionsSpecification")
    expect_error(create, "MissingParameter", 400, customer_gateway_id=cgws[0])
    # One tunnel; two masters; no customer gateway on a tunnel; an unknown one.
    expect_error(create, "InvalidParameter", 400, tunnel_options_specification=tunnel_specs(cgws)[:1])
    two_masters = tunnel_specs(cgws, bgp=False)
    two_masters[1].role = "master"
    expect_error(create, "InvalidParameter", 400, tunnel_options_specification=two_masters)
    no_cgw = tunnel_specs(cgws, bgp=False)
    no_cgw[1].customer_gateway_id = None
    expect_error(
        create, "MissingParameter", 400, tunnel_options_specification=no_cgw,
        message_contains="TunnelOptionsSpecification.2.CustomerGatewayId",
    )
    unknown = tunnel_specs(cgws, bgp=False)
    unknown[0].customer_gateway_id = "cgw-bp1doesnotexist000000"
    expect_error(create, "InvalidCustomerGatewayInstanceId.NotFound", 404, tunnel_options_specification=unknown)
    # Bad values name the flattened field.
    bad_alg = tunnel_specs(cgws, bgp=False)
    bad_alg[0].tunnel_ike_config.ike_enc_alg = "rot13"
    expect_error(
        create, "InvalidParameter", 400, tunnel_options_specification=bad_alg,
        message_contains="TunnelOptionsSpecification.1.TunnelIkeConfig.IkeEncAlg",
    )
    # Tunnel BGP without its /30.
    expect_error(
        create, "MissingParameter", 400, enable_tunnels_bgp=True,
        tunnel_options_specification=tunnel_specs(cgws, bgp=False),
        message_contains="TunnelBgpConfig.TunnelCidr",
    )
    # Single-tunnel settings on a dual-tunnel connection.
    expect_error(
        create, "InvalidParameter", 400, ike_config='{"IkeVersion":"ikev2"}',
        tunnel_options_specification=tunnel_specs(cgws, bgp=False),
    )
    # Tunnels on a gateway without a second IP.
    single = create_gateway(vpc)
    expect_error(
        vpc.create_vpn_connection, "InvalidParameter", 400,
        m.CreateVpnConnectionRequest(**{**base, "vpn_gateway_id": single}, tunnel_options_specification=tunnel_specs(cgws)),
        message_contains="TunnelOptionsSpecification",
    )
    # None of it wrote anything.
    listed = vpc.describe_vpn_connections(m.DescribeVpnConnectionsRequest(region_id=REGION, vpn_gateway_id=gw)).body
    assert listed.total_count == 0


def test_same_peer_in_same_role_is_refused(vpc, dual):
    gw, cgws = dual
    create_dual(vpc, gw, cgws)
    req = m.CreateVpnConnectionRequest(
        region_id=REGION, vpn_gateway_id=gw, local_subnet="10.22.0.0/16", remote_subnet="192.168.22.0/24",
        tunnel_options_specification=tunnel_specs(cgws, bgp=False),
    )
    expect_error(retrying, "InvalidVpnConnection.AlreadyExists", 400, vpc.create_vpn_connection, req)
    # Swapping the roles gives new address pairs: allowed.
    swapped = tunnel_specs(list(reversed(cgws)), bgp=False)
    req.tunnel_options_specification = swapped
    body = retrying(vpc.create_vpn_connection, req).body.to_map()
    assert body["VpnConnectionId"].startswith("vco-")


def test_client_token_replays_dual_create(vpc, dual):
    gw, cgws = dual
    token = "dual-" + new_peer_ip().replace(".", "-")
    req = m.CreateVpnConnectionRequest(
        region_id=REGION, vpn_gateway_id=gw, local_subnet="10.23.0.0/16", remote_subnet="192.168.23.0/24",
        tunnel_options_specification=tunnel_specs(cgws, bgp=False), client_token=token,
    )
    first = retrying(vpc.create_vpn_connection, req).body.to_map()
    again = retrying(vpc.create_vpn_connection, req).body.to_map()
    assert first["VpnConnectionId"] == again["VpnConnectionId"]


def test_modify_tunnels_by_id_and_by_role(vpc, dual):
    gw, cgws = dual
    vco = create_dual(vpc, gw, cgws)
    master, slave = tunnels_of(describe_connection(vpc, vco))
    MSpec = m.ModifyVpnConnectionAttributeRequestTunnelOptionsSpecification
    req = m.ModifyVpnConnectionAttributeRequest(
        region_id=REGION,
        vpn_connection_id=vco,
        tunnel_options_specification=[
            MSpec(
                tunnel_id=slave["TunnelId"],
                enable_dpd=False,
                tunnel_ipsec_config=m.ModifyVpnConnectionAttributeRequestTunnelOptionsSpecificationTunnelIpsecConfig(
                    ipsec_pfs="group14"
                ),
            ),
            # Terraform names the tunnel by its role only.
            MSpec(
                role="master",
                tunnel_ike_config=m.ModifyVpnConnectionAttributeRequestTunnelOptionsSpecificationTunnelIkeConfig(
                    psk="Master-Psk-2", ike_auth_alg="sha256"
                ),
            ),
        ],
    )
    body = retrying(vpc.modify_vpn_connection_attribute, req).body.to_map()
    check_response("ModifyVpnConnectionAttribute", body)
    m_out, s_out = tunnels_of(body)
    # Real types in Modify's answer.
    assert s_out["EnableDpd"] is False and m_out["EnableDpd"] is True
    assert s_out["TunnelIpsecConfig"]["IpsecPfs"] == "group14"
    assert m_out["TunnelIkeConfig"]["IkeLifetime"] == 3600
    assert m_out["TunnelBgpConfig"]["LocalAsn"] == 65100
    assert m_out["TunnelIkeConfig"]["Psk"] == "Master-Psk-2"
    after = wait_connection_settled(vpc, vco, gw)
    m_after, s_after = tunnels_of(after)
    assert s_after["EnableDpd"] == "false"
    assert m_after["TunnelIkeConfig"]["IkeAuthAlg"] == "sha256"
    assert after["IkeConfig"]["Psk"] == "Master-Psk-2"  # the top level mirrors the master
    # An unknown tunnel; neither TunnelId nor Role.
    req.tunnel_options_specification = [MSpec(tunnel_id="tun-doesnotexist00000", enable_dpd=True)]
    expect_error(retrying, "InvalidTunnelId.NotFound", 404, vpc.modify_vpn_connection_attribute, req)
    req.tunnel_options_specification = [MSpec(enable_dpd=True)]
    expect_error(retrying, "MissingParameter", 400, vpc.modify_vpn_connection_attribute, req)
    # Tunnel BGP off and on again.
    off = m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, enable_tunnels_bgp=False)
    assert retrying(vpc.modify_vpn_connection_attribute, off).body.enable_tunnels_bgp is False
    assert wait_connection_settled(vpc, vco, gw)["EnableTunnelsBgp"] is False


def test_modify_tunnel_attribute(vpc, dual):
    gw, cgws = dual
    vco = create_dual(vpc, gw, cgws)
    master, _ = tunnels_of(describe_connection(vpc, vco))
    cgw3_ip = new_peer_ip()
    cgw3 = create_customer_gateway(vpc, ip=cgw3_ip, asn="65003")
    TSpec = m.ModifyTunnelAttributeRequestTunnelOptionsSpecification
    req = m.ModifyTunnelAttributeRequest(
        region_id=REGION,
        vpn_connection_id=vco,
        tunnel_id=master["TunnelId"],
        tunnel_options_specification=TSpec(
            customer_gateway_id=cgw3,
            enable_nat_traversal=True,
            tunnel_ike_config=m.ModifyTunnelAttributeRequestTunnelOptionsSpecificationTunnelIkeConfig(
                ike_mode="aggressive", ike_lifetime=28800
            ),
            tunnel_bgp_config=m.ModifyTunnelAttributeRequestTunnelOptionsSpecificationTunnelBgpConfig(local_asn=65200),
        ),
    )
    resp = retrying(vpc.modify_tunnel_attribute, req).body
    body = resp.to_map()
    check_response("ModifyTunnelAttribute", body)
    assert resp.tunnel_id == master["TunnelId"]
    assert resp.enable_nat_traversal is True
    assert resp.tunnel_ike_config.ike_lifetime == 28800
    assert resp.tunnel_bgp_config.enable_bgp is True
    assert resp.tunnel_bgp_config.local_asn == 65200
    assert resp.tunnel_bgp_config.peer_asn == 65003
    assert resp.customer_gateway_id == cgw3
    assert resp.tunnel_ike_config.remote_id == cgw3_ip  # the default identity follows the peer
    after = tunnels_of(wait_connection_settled(vpc, vco, gw))[0]
    assert after["TunnelIkeConfig"]["IkeMode"] == "aggressive"
    assert after["TunnelIkeConfig"]["IkeLifetime"] == "28800"
    # Errors: an unknown tunnel, a bad value, an unknown connection.
    req.tunnel_id = "tun-doesnotexist00000"
    expect_error(retrying, "InvalidTunnelId.NotFound", 404, vpc.modify_tunnel_attribute, req)
    req.tunnel_id = master["TunnelId"]
    req.tunnel_options_specification = TSpec(
        tunnel_ike_config=m.ModifyTunnelAttributeRequestTunnelOptionsSpecificationTunnelIkeConfig(ike_pfs="group99")
    )
    expect_error(
        retrying, "InvalidParameter", 400, vpc.modify_tunnel_attribute, req,
        message_contains="TunnelOptionsSpecification.TunnelIkeConfig.IkePfs",
    )
    req.vpn_connection_id = "vco-bp1doesnotexist000000"
    expect_error(retrying, "InvalidVpnConnectionInstanceId.NotFound", 404, vpc.modify_tunnel_attribute, req)


def test_delete_dual_frees_both_customer_gateways(vpc, dual):
    gw, cgws = dual
    vco = create_dual(vpc, gw, cgws)
    for cgw in cgws:
        expect_error(
            vpc.delete_customer_gateway, "DependencyViolation.VpnConnection", 400,
            m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw),
        )
    retrying(vpc.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    for cgw in cgws:
        retrying(vpc.delete_customer_gateway, m.DeleteCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw))
