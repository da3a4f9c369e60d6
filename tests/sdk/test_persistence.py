"""State survives a restart on the same data dir: same IDs, same fields, same key."""

from __future__ import annotations

import json

from alibabacloud_vpc20160428 import models as m

from helpers import (
    OTHER_REGION,
    REGION,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_customer_gateway,
    describe_gateway,
    retrying,
    wait_gateway_active,
    without_request_id,
)


def snapshot(client, gws, cgws, vcos) -> dict:
    return {
        "gateways": {gw: without_request_id(describe_gateway(client, gw, region)) for gw, region in gws},
        "customer_gateways": {c: without_request_id(describe_customer_gateway(client, c)) for c in cgws},
        "connections": {v: without_request_id(describe_connection(client, v)) for v in vcos},
        "totals": {
            "gateways": client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body.total_count,
            "customer_gateways": client.describe_customer_gateways(
                m.DescribeCustomerGatewaysRequest(region_id=REGION)
            ).body.total_count,
            "connections": client.describe_vpn_connections(
                m.DescribeVpnConnectionsRequest(region_id=REGION)
            ).body.total_count,
        },
    }


def test_restart_keeps_everything(own_server):
    client = own_server.tea_client("v3")
    gw = create_gateway(client, name="persist-gw", bandwidth=50)
    gw_other = create_gateway(client, region=OTHER_REGION)
    deleted_gw = create_gateway(client)
    client.delete_vpn_gateway(m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=deleted_gw))
    client.modify_vpn_gateway_attribute(
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, description="survives")
    )
    wait_gateway_active(client, gw)
    cgw = create_customer_gateway(client, asn="65123", name="persist-cgw", description="d")
    cgw2 = create_customer_gateway(client)
    vco = create_connection(
        client,
        gw,
        cgw,
        name="persist-vco",
        ike_config=json.dumps({"Psk": "persist-psk", "IkeVersion": "ikev2", "IkeLifetime": 3600}),
        ipsec_config=json.dumps({"IpsecPfs": "group14"}),
    )
    retrying(
        client.modify_vpn_connection_attribute,
        m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco, remote_subnet="192.168.77.0/24"),
    )
    vco2 = create_connection(client, gw, cgw2)
    wait_gateway_active(client, gw)

    gws = [(gw, REGION), (gw_other, OTHER_REGION)]
    before = snapshot(client, gws, [cgw, cgw2], [vco, vco2])
    assert before["connections"][vco]["RemoteSubnet"] == "192.168.77.0/24"

    own_server.restart()

    # A new client too, V1 this time: the same root key must still work after the restart.
    for fresh in (own_server.tea_client("v3"), own_server.tea_client("v1")):
        after = snapshot(fresh, gws, [cgw, cgw2], [vco, vco2])
        assert after == before
    assert after["gateways"][gw]["Description"] == "survives"
    assert after["connections"][vco]["IkeConfig"]["Psk"] == "persist-psk"

    # Deleted stays deleted; new IDs do not collide with old ones.
    fresh = own_server.tea_client("v3")
    assert fresh.describe_vpn_gateways(
        m.DescribeVpnGatewaysRequest(region_id=REGION, vpn_gateway_id=deleted_gw)
    ).body.total_count == 0
    new_gw = create_gateway(fresh)
    assert new_gw not in {gw, gw_other, deleted_gw}
    new_cgw = create_customer_gateway(fresh)
    assert new_cgw not in {cgw, cgw2}
    assert create_connection(fresh, new_gw, new_cgw) not in {vco, vco2}


def test_restart_twice_and_keep_writing(own_server):
    client = own_server.tea_client("v1")
    cgw = create_customer_gateway(client, name="one")
    own_server.restart()
    client = own_server.tea_client("v1")
    client.modify_customer_gateway_attribute(
        m.ModifyCustomerGatewayAttributeRequest(region_id=REGION, customer_gateway_id=cgw, name="two")
    )
    own_server.restart()
    assert describe_customer_gateway(own_server.tea_client("v3"), cgw)["Name"] == "two"
