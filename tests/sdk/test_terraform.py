"""Terraform's call sequences, replayed resource by resource against `vpngw serve`
(shared/spec/terraform-and-traps.md; the provider's code as terraform.py replays it).

Each test is what `terraform apply`, `terraform plan`, a second `apply` with a changed
configuration and `terraform destroy` send for one resource: the exact requests (what goes in
the query and what in the form body, the JSON-string settings, the flattened lists, ClientToken
per attempt), the waits on Status/State, the retries on the resource's codes, the fields Read
takes and the JSON types it relies on, a plan that finds no drift, and the destroy's polling
until NotFound. A console user (the Tea SDK) sometimes gets in the way, as people do: that is
what makes Terraform meet its retryable codes, and drift that the plan must show.

The server keeps a gateway `updating` for UPDATE_DELAY_MS after a gateway change or a route
write, so Terraform's waits really wait.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m

from conftest import VpngwServer, _cleanup
from helpers import REGION, new_peer_ip, new_vpc_id, rand_suffix, wait_for
from terraform import (
    CustomerGateway,
    Provider,
    VcoRoute,
    VpnAttachment,
    VpnConnection,
    VpnGateway,
    check_types,
    go_json,
)

UPDATE_DELAY_MS = 400


@pytest.fixture(scope="module")
def tf_server():
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-sdk-tf-"))
    srv = VpngwServer(workdir)
    srv.extra_env["VPNGW_GATEWAY_UPDATE_DELAY_MS"] = str(UPDATE_DELAY_MS)
    srv.start()
    yield srv
    _cleanup(srv, workdir)


@pytest.fixture
def tf(tf_server) -> Provider:
    return Provider(tf_server.raw_client())


@pytest.fixture
def console(tf_server):
    """Someone else, in the console."""
    return tf_server.tea_client("v3")


def touch_gateway(console, gw: str) -> None:
    """A console edit of the gateway: it is `updating` for UPDATE_DELAY_MS."""
    console.modify_vpn_gateway_attribute(
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, description="touched " + rand_suffix(6))
    )


def only(calls, action):
    found = [c for c in calls if c.action == action]
    assert found, f"no {action} in {[c.action for c in calls]}"
    return found


def token_of(call) -> str:
    token = call.body["ClientToken"]
    assert token.startswith(f"TF-{call.action}-") and len(token) <= 64, token
    return token


def assert_retried(calls, action: str, code: str, *, fresh_tokens: bool) -> None:
    """`action` first failed with `code`, was retried, and finally succeeded; the ClientToken
    changed between attempts (or stayed, for the calls that build it once)."""
    attempts = only(calls, action)
    assert attempts[0].status == 400 and attempts[0].code == code, attempts[0]
    assert attempts[-1].status == 200, attempts[-1]
    assert all(a.code == code for a in attempts[:-1]), [a.code for a in attempts]
    tokens = [token_of(a) for a in attempts]
    if fresh_tokens:
        assert len(set(tokens)) == len(tokens), tokens
    else:
        assert len(set(tokens)) == 1, tokens


def assert_gone(calls, action: str, code: str) -> None:
    """The last read of a destroy answered NotFound the way Terraform detects it."""
    last = only(calls, action)[-1]
    assert (last.status, last.code) == (404, code), last
    assert "NotFound" in last.code


# --------------------------------------------------------------------- alicloud_vpn_gateway


GATEWAY_TYPES = {
    "VpnGatewayId": str, "VpcId": str, "VSwitchId": str, "Name": str, "Description": str, "Status": str,
    "BusinessStatus": str, "ChargeType": str, "Spec": str, "IpsecVpn": str, "SslVpn": str, "SslMaxConnections": int,
    "NetworkType": str, "VpnType": str, "InternetIp": str, "DisasterRecoveryInternetIp": str,
    "DisasterRecoveryVSwitchId": str, "SslVpnInternetIp": str, "CreateTime": int, "EndTime": int,
    "AutoPropagate": bool, "EnableBgp": bool, "ResourceGroupId": str, "Tag": str, "Tags.Tag": list,
}


def gateway_config(**extra) -> dict:
    return {
        "vpc_id": new_vpc_id(),
        "vswitch_id": "vsw-" + rand_suffix(),
        "vpn_gateway_name": "tf-test-gw",
        "bandwidth": 10,
        "enable_ipsec": True,
        "enable_ssl": False,
        "payment_type": "PayAsYouGo",
        **extra,
    }


def test_vpn_gateway(tf, console):
    gw = VpnGateway(tf)
    config = gateway_config(
        description="created by terraform",
        network_type="public",
        vpn_type="Normal",
        auto_propagate=True,
        resource_group_id="rg-acfmtfgw0001",
        tags={"Created": "TF", "For": "Gateway"},
    )

    # ---- apply: create, wait for active, the update path of a new resource, read ---------
    mark = tf.mark()
    state = gw.apply(config)
    calls = tf.since(mark)
    assert tf.actions(mark) == [
        "CreateVpnGateway", "DescribeVpnGateway",  # Status until active
        "ModifyVpnGatewayAttribute", "DescribeVpnGateway",  # description/auto_propagate, then active again
        "TagResources", "DescribeVpnGateway",  # tags, then Read
    ]
    create = calls[0]
    assert create.query == {}
    assert create.body == {
        "RegionId": REGION, "ClientToken": token_of(create), "VpcId": config["vpc_id"],
        "VSwitchId": config["vswitch_id"], "Name": "tf-test-gw", "NetworkType": "public", "AutoPay": "true",
        "EnableIpsec": "true", "EnableSsl": "false", "VpnType": "Normal", "InstanceChargeType": "POSTPAY",
        "Bandwidth": "10", "ResourceGroupId": "rg-acfmtfgw0001",
    }
    polls = only(calls, "DescribeVpnGateway")
    assert polls[0].query == {"VpnGatewayId": gw.id, "RegionId": REGION} and polls[0].body == {}
    modify = only(calls, "ModifyVpnGatewayAttribute")[0]
    assert modify.query == {"VpnGatewayId": gw.id}
    assert modify.body == {"RegionId": REGION, "ClientToken": token_of(modify),
                           "Description": "created by terraform", "AutoPropagate": "true"}
    # The wait after the modification saw the gateway busy, then active.
    after = [c.answer["Status"] for c in polls if calls.index(c) > calls.index(modify)]
    assert after[0] == "updating" and after[-2:] == ["active", "active"], after
    tag = only(calls, "TagResources")[0]
    assert tag.body == {"ResourceId.1": gw.id, "RegionId": REGION, "ResourceType": "VpnGateWay",
                        "Tag.1.Key": "Created", "Tag.1.Value": "TF", "Tag.2.Key": "For", "Tag.2.Value": "Gateway"}

    check_types(gw.raw, GATEWAY_TYPES)
    assert gw.raw["Spec"] == "10M" and gw.raw["IpsecVpn"] == "enable" and gw.raw["SslVpn"] == "disable"
    assert gw.raw["ChargeType"] == "PostpayByFlow"
    assert state["bandwidth"] == 10 and state["enable_ipsec"] is True and state["enable_ssl"] is False
    assert state["payment_type"] == "PayAsYouGo" and state["status"] == "active"
    assert state["tags"] == {"Created": "TF", "For": "Gateway"}
    assert state["internet_ip"] and state["business_status"] == "Normal"

    # ---- plan: nothing to do, twice, and a plan only reads -------------------------------
    mark = tf.mark()
    assert gw.plan() == {}
    assert gw.plan() == {}
    assert set(tf.actions(mark)) == {"DescribeVpnGateway"}

    # Someone edits the description in the console: the next plan shows it.
    console.modify_vpn_gateway_attribute(
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw.id, description="edited by hand")
    )
    assert gw.plan() == {"description": ("created by terraform", "edited by hand")}
    wait_for(lambda: gw.refresh()["status"] == "active", what="console edit done")

    # ---- apply a changed configuration ----------------------------------------------------
    changed = {**config, "vpn_gateway_name": "tf-test-gw-2", "description": "updated by terraform",
               "auto_propagate": False, "resource_group_id": "rg-acfmtfgw0002",
               "tags": {"Created": "TF", "For": "Gateway-2", "Owner": "net"}}
    mark = tf.mark()
    state = gw.apply(changed)
    calls = tf.since(mark)
    assert tf.actions(mark) == [
        "DescribeVpnGateway",  # refresh
        "ModifyVpnGatewayAttribute", "DescribeVpnGateway",  # then wait for active
        "MoveVpnResourceGroup", "UnTagResources", "TagResources", "DescribeVpnGateway",
    ]
    modify = only(calls, "ModifyVpnGatewayAttribute")[0]
    assert modify.body == {"RegionId": REGION, "ClientToken": token_of(modify), "Name": "tf-test-gw-2",
                           "Description": "updated by terraform", "AutoPropagate": "false"}
    move = only(calls, "MoveVpnResourceGroup")[0]
    assert move.query == {"InstanceId": gw.id}
    assert move.body == {"RegionId": REGION, "NewResourceGroupId": "rg-acfmtfgw0002", "ResourceType": "VpnGateWay"}
    untag = only(calls, "UnTagResources")[0]
    assert untag.body == {"ResourceId.1": gw.id, "RegionId": REGION, "ResourceType": "VpnGateWay", "TagKey.1": "For"}
    assert len(only(calls, "TagResources")[0].body) == 3 + 2 * 3  # every configured tag again
    assert (state["vpn_gateway_name"], state["description"], state["auto_propagate"]) == (
        "tf-test-gw-2", "updated by terraform", False)
    assert state["resource_group_id"] == "rg-acfmtfgw0002"
    assert state["tags"] == {"Created": "TF", "For": "Gateway-2", "Owner": "net"}
    check_types(gw.raw, GATEWAY_TYPES)
    assert gw.plan() == {}

    # ---- destroy, while a console edit keeps the gateway busy --------------------------
    touch_gateway(console, gw.id)
    mark = tf.mark()
    gw.destroy()
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DeleteVpnGateway", "DescribeVpnGateway"]
    assert_retried(calls, "DeleteVpnGateway", "VpnGateway.Configuring", fresh_tokens=True)
    delete = only(calls, "DeleteVpnGateway")[-1]
    assert set(delete.query) == {"VpnGatewayId"} and set(delete.body) == {"RegionId", "ClientToken"}
    assert_gone(calls, "DescribeVpnGateway", "InvalidVpnGatewayInstanceId.NotFound")


def test_vpn_gateway_subscription_is_only_forgotten(tf, console):
    """payment_type Subscription: InstanceChargeType PREPAY with Period; ChargeType "Prepay"
    reads back as Subscription; destroy makes no call at all."""
    gw = VpnGateway(tf)
    mark = tf.mark()
    state = gw.apply(gateway_config(payment_type="Subscription", period=3))
    create = tf.since(mark)[0]
    assert (create.body["InstanceChargeType"], create.body["Period"]) == ("PREPAY", "3")
    assert tf.actions(mark) == ["CreateVpnGateway", "DescribeVpnGateway"]  # no description, no tags
    assert gw.raw["ChargeType"] == "Prepay" and state["payment_type"] == "Subscription"
    assert isinstance(gw.raw["EndTime"], int) and gw.raw["EndTime"] > gw.raw["CreateTime"]
    assert gw.plan() == {}
    gw_id = gw.id
    mark = tf.mark()
    gw.destroy()
    assert tf.since(mark) == [] and gw.id is None
    still = console.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw_id))
    assert still.body.status == "active"


# ------------------------------------------------------------ alicloud_vpn_customer_gateway


CUSTOMER_GATEWAY_TYPES = {"CustomerGatewayId": str, "IpAddress": str, "Name": str, "Description": str,
                          "Asn": int, "CreateTime": int, "Tags.Tag": list}


def test_vpn_customer_gateway(tf):
    cgw = CustomerGateway(tf)
    config = {"ip_address": new_peer_ip(), "asn": "65010", "customer_gateway_name": "tf-cgw",
              "description": "created by terraform", "tags": {"Created": "TF", "Site": "branch-1"}}

    mark = tf.mark()
    state = cgw.apply(config)
    calls = tf.since(mark)
    # No polling: the ID, the tags, then Read.
    assert tf.actions(mark) == ["CreateCustomerGateway", "TagResources", "DescribeCustomerGateway"]
    create = calls[0]
    assert create.query == {}
    assert create.body == {"RegionId": REGION, "ClientToken": token_of(create), "IpAddress": config["ip_address"],
                           "Description": "created by terraform", "Asn": "65010", "Name": "tf-cgw"}
    assert calls[1].body["ResourceType"] == "CUSTOMERGATEWAY"
    read = calls[-1]
    assert read.query == {"CustomerGatewayId": cgw.id} and read.body == {"RegionId": REGION}
    # The ASN goes in as a string and comes back as a number (json.Number into a TypeString).
    check_types(cgw.raw, CUSTOMER_GATEWAY_TYPES)
    assert cgw.raw["Asn"] == 65010
    assert state["tags"] == config["tags"] and state["customer_gateway_name"] == "tf-cgw"
    assert cgw.plan() == {} and cgw.plan() == {}

    changed = {**config, "customer_gateway_name": "tf-cgw-2", "description": "updated by terraform", "tags": {}}
    mark = tf.mark()
    state = cgw.apply(changed)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DescribeCustomerGateway", "ModifyCustomerGatewayAttribute", "UnTagResources",
                                "DescribeCustomerGateway"]
    modify = only(calls, "ModifyCustomerGatewayAttribute")[0]
    assert modify.query == {}
    assert modify.body == {"CustomerGatewayId": cgw.id, "RegionId": REGION, "ClientToken": token_of(modify),
                           "Description": "updated by terraform", "Name": "tf-cgw-2"}
    untag = only(calls, "UnTagResources")[0]
    assert untag.body == {"ResourceId.1": cgw.id, "RegionId": REGION, "ResourceType": "CUSTOMERGATEWAY",
                          "TagKey.1": "Created", "TagKey.2": "Site"}
    assert (state["customer_gateway_name"], state["description"], state["tags"]) == (
        "tf-cgw-2", "updated by terraform", {})
    assert cgw.plan() == {}

    cgw_id = cgw.id
    mark = tf.mark()
    cgw.destroy()
    assert tf.actions(mark) == ["DeleteCustomerGateway"]  # and no polling
    delete = tf.since(mark)[0]
    assert delete.query == {} and set(delete.body) == {"CustomerGatewayId", "RegionId", "ClientToken"}
    cgw.id = cgw_id
    assert cgw.refresh() is None  # 404 InvalidCustomerGatewayInstanceId.NotFound: gone from the state
    assert_gone(tf.calls, "DescribeCustomerGateway", "InvalidCustomerGatewayInstanceId.NotFound")
    # A destroy repeated after a lost answer: the NotFound counts as done.
    cgw.id = cgw_id
    mark = tf.mark()
    cgw.destroy()
    assert [(c.status, c.code) for c in tf.since(mark)] == [(404, "InvalidCustomerGatewayInstanceId.NotFound")]


# ------------------------------------------------------------------ alicloud_vpn_connection


CONNECTION_TYPES = {
    "VpnConnectionId": str, "VpnGatewayId": str, "Name": str, "LocalSubnet": str, "RemoteSubnet": str,
    "CreateTime": int, "EffectImmediately": bool, "EnableDpd": bool, "EnableNatTraversal": bool,
    "EnableTunnelsBgp": bool, "State": str, "Status": str, "ResourceGroupId": str, "Tags.Tag": list,
    "IkeConfig.IkeVersion": str, "IkeConfig.IkeMode": str, "IkeConfig.IkeEncAlg": str, "IkeConfig.IkeAuthAlg": str,
    "IkeConfig.IkePfs": str, "IkeConfig.IkeLifetime": int, "IkeConfig.LocalId": str, "IkeConfig.RemoteId": str,
    "IkeConfig.Psk": str, "IpsecConfig.IpsecEncAlg": str, "IpsecConfig.IpsecAuthAlg": str,
    "IpsecConfig.IpsecPfs": str, "IpsecConfig.IpsecLifetime": int,
    "VpnBgpConfig.EnableBgp": str, "VpnBgpConfig.Status": str, "VcoHealthCheck.Enable": str,
    "VcoHealthCheck.Status": str,
}
SINGLE_TUNNEL_TYPES = {
    **CONNECTION_TYPES, "CustomerGatewayId": str,
    "VpnBgpConfig.LocalAsn": int, "VpnBgpConfig.PeerAsn": int, "VpnBgpConfig.TunnelCidr": str,
    "VpnBgpConfig.LocalBgpIp": str, "VpnBgpConfig.PeerBgpIp": str,
    "VcoHealthCheck.Dip": str, "VcoHealthCheck.Sip": str, "VcoHealthCheck.Interval": int,
    "VcoHealthCheck.Retry": int,
}
DUAL_TUNNEL_TYPES = {
    **CONNECTION_TYPES,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelId": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIndex": int,
    "TunnelOptionsSpecification.TunnelOptions[*].Role": str,
    "TunnelOptionsSpecification.TunnelOptions[*].CustomerGatewayId": str,
    "TunnelOptionsSpecification.TunnelOptions[*].EnableDpd": str,
    "TunnelOptionsSpecification.TunnelOptions[*].EnableNatTraversal": str,
    "TunnelOptionsSpecification.TunnelOptions[*].InternetIp": str,
    "TunnelOptionsSpecification.TunnelOptions[*].State": str,
    "TunnelOptionsSpecification.TunnelOptions[*].Status": str,
    "TunnelOptionsSpecification.TunnelOptions[*].ZoneNo": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIkeConfig.IkeLifetime": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIkeConfig.Psk": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIkeConfig.LocalId": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIkeConfig.RemoteId": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelIpsecConfig.IpsecLifetime": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelBgpConfig.LocalAsn": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelBgpConfig.PeerAsn": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelBgpConfig.TunnelCidr": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelBgpConfig.LocalBgpIp": str,
    "TunnelOptionsSpecification.TunnelOptions[*].TunnelBgpConfig.BgpStatus": str,
}


def test_vpn_connection(tf, console):
    gw = VpnGateway(tf)
    gw.apply(gateway_config())
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip(), "asn": "65020"})
    ike = {"ike_auth_alg": "md5", "ike_enc_alg": "aes", "ike_version": "ikev2", "ike_mode": "main",
           "ike_lifetime": 86400, "psk": "tf-testvpn1", "ike_pfs": "group2", "ike_remote_id": "testbob1",
           "ike_local_id": "testalice1"}
    config = {
        "vpn_gateway_id": gw.id,
        "customer_gateway_id": cgw.id,
        "vpn_connection_name": "tf-vco",
        "local_subnet": ["172.16.0.0/24", "172.16.1.0/24"],
        "remote_subnet": ["10.0.0.0/24", "10.0.1.0/24"],
        "effect_immediately": True,
        "enable_dpd": True,
        "enable_nat_traversal": True,
        "auto_config_route": True,
        "ike_config": [ike],
        "ipsec_config": [{"ipsec_pfs": "group5", "ipsec_enc_alg": "aes", "ipsec_auth_alg": "sha1",
                          "ipsec_lifetime": 8640}],
        "bgp_config": [{"enable": True, "local_asn": "45014", "tunnel_cidr": "169.254.11.0/30",
                        "local_bgp_ip": "169.254.11.1"}],
        "health_check_config": [{"enable": True, "dip": "10.0.0.1", "sip": "172.16.0.1", "interval": 10,
                                 "retry": 10}],
        "tags": {"Created": "TF", "For": "Connection"},
    }

    # ---- apply, while a console edit keeps the gateway busy -------------------------------
    vco = VpnConnection(tf)
    touch_gateway(console, gw.id)
    mark = tf.mark()
    state = vco.apply(config)
    calls = tf.since(mark)
    assert tf.actions(mark) == [
        "CreateVpnConnection", "DescribeVpnConnection",  # State until active
        # A new resource with a health check goes through Modify (its update path is not limited
        # to changes of existing resources there), and waits for State again.
        "ModifyVpnConnectionAttribute", "DescribeVpnConnection",
        "TagResources", "DescribeVpnConnection",
    ]
    assert_retried(calls, "CreateVpnConnection", "VpnGateway.Configuring", fresh_tokens=True)
    create = only(calls, "CreateVpnConnection")[-1]
    assert create.query == {}
    assert create.body == {
        "RegionId": REGION, "ClientToken": token_of(create),
        "LocalSubnet": "172.16.0.0/24,172.16.1.0/24", "RemoteSubnet": "10.0.0.0/24,10.0.1.0/24",
        "EffectImmediately": "true", "EnableDpd": "true", "EnableNatTraversal": "true",
        "IkeConfig": '{"IkeAuthAlg":"md5","IkeEncAlg":"aes","IkeLifetime":86400,"IkeMode":"main","IkePfs":"group2",'
                     '"IkeVersion":"ikev2","LocalId":"testalice1","Psk":"tf-testvpn1","RemoteId":"testbob1"}',
        "IpsecConfig": '{"IpsecAuthAlg":"sha1","IpsecEncAlg":"aes","IpsecLifetime":8640,"IpsecPfs":"group5"}',
        # local_asn is a TypeString in this resource: the ASN travels as a JSON string.
        "BgpConfig": '{"EnableBgp":true,"LocalAsn":"45014","LocalBgpIp":"169.254.11.1","TunnelCidr":"169.254.11.0/30"}',
        "CustomerGatewayId": cgw.id, "AutoConfigRoute": "true", "Name": "tf-vco", "VpnGatewayId": gw.id,
        "Tags.1.Key": "Created", "Tags.1.Value": "TF", "Tags.2.Key": "For", "Tags.2.Value": "Connection",
        "HealthCheckConfig": '{"dip":"10.0.0.1","enable":true,"interval":10,"retry":10,"sip":"172.16.0.1"}',
    }
    modify = only(calls, "ModifyVpnConnectionAttribute")[0]
    assert modify.query == {"VpnConnectionId": vco.id}
    assert modify.body == {
        "RegionId": REGION, "ClientToken": token_of(modify), "LocalSubnet": "172.16.0.0/24,172.16.1.0/24",
        "RemoteSubnet": "10.0.0.0/24,10.0.1.0/24", "AutoConfigRoute": "true",
        "HealthCheckConfig": '{"Dip":"10.0.0.1","Enable":true,"Interval":10,"Retry":10,"Sip":"172.16.0.1"}',
    }
    read = calls[-1]
    assert read.query == {"VpnConnectionId": vco.id, "RegionId": REGION} and read.body == {}
    assert only(calls, "TagResources")[0].body["ResourceType"] == "VPNCONNECTION"

    check_types(vco.raw, SINGLE_TUNNEL_TYPES)
    assert "TunnelOptionsSpecification" not in vco.raw
    assert (vco.raw["VpnBgpConfig"]["EnableBgp"], vco.raw["VcoHealthCheck"]["Enable"]) == ("true", "true")
    assert vco.raw["VpnBgpConfig"]["PeerAsn"] == 65020 and vco.raw["VpnBgpConfig"]["PeerBgpIp"] == "169.254.11.2"
    assert state["local_subnet"] == ["172.16.0.0/24", "172.16.1.0/24"]
    assert state["bgp_config"][0]["enable"] is True and state["health_check_config"][0]["enable"] is True
    assert state["ike_config"] == [ike]
    assert state["tags"] == config["tags"] and state["status"] == "ike_sa_not_established"
    assert vco.plan() == {} and vco.plan() == {}

    # ---- apply a changed configuration ---------------------------------------------------
    ike2 = {**ike, "ike_enc_alg": "aes256", "ike_lifetime": 3600, "psk": "tf-testvpn2"}
    changed = {
        **config,
        "vpn_connection_name": "tf-vco-2",
        "local_subnet": ["172.16.0.0/24", "172.16.1.0/24", "172.16.2.0/24"],
        "enable_dpd": False,
        "ike_config": [ike2],
        "ipsec_config": [{"ipsec_pfs": "group14", "ipsec_enc_alg": "aes256", "ipsec_auth_alg": "sha256",
                          "ipsec_lifetime": 3600}],
        # Only `enable` configured: the other fields come from the state, and go along.
        "bgp_config": [{"enable": False}],
        "health_check_config": [{"enable": True, "dip": "10.0.0.2", "sip": "172.16.0.2", "interval": 5, "retry": 3}],
        "tags": {"Created": "TF", "Owner": "net"},
    }
    mark = tf.mark()
    state = vco.apply(changed)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DescribeVpnConnection", "ModifyVpnConnectionAttribute", "DescribeVpnConnection",
                                "UnTagResources", "TagResources", "DescribeVpnConnection"]
    modify = only(calls, "ModifyVpnConnectionAttribute")[0]
    assert modify.body == {
        "RegionId": REGION, "ClientToken": token_of(modify),
        "LocalSubnet": "172.16.0.0/24,172.16.1.0/24,172.16.2.0/24", "RemoteSubnet": "10.0.0.0/24,10.0.1.0/24",
        "AutoConfigRoute": "true", "EnableDpd": "false", "Name": "tf-vco-2",
        "IkeConfig": go_json({"IkeAuthAlg": "md5", "IkeEncAlg": "aes256", "IkeLifetime": 3600, "IkeMode": "main",
                              "IkePfs": "group2", "IkeVersion": "ikev2", "LocalId": "testalice1",
                              "Psk": "tf-testvpn2", "RemoteId": "testbob1"}),
        "IpsecConfig": '{"IpsecAuthAlg":"sha256","IpsecEncAlg":"aes256","IpsecLifetime":3600,"IpsecPfs":"group14"}',
        "BgpConfig": '{"EnableBgp":false,"LocalAsn":"45014","LocalBgpIp":"169.254.11.1","TunnelCidr":"169.254.11.0/30"}',
        "HealthCheckConfig": '{"Dip":"10.0.0.2","Enable":true,"Interval":5,"Retry":3,"Sip":"172.16.0.2"}',
    }
    check_types(vco.raw, SINGLE_TUNNEL_TYPES)
    assert vco.raw["VpnBgpConfig"]["EnableBgp"] == "false"
    assert state["health_check_config"][0] == {"dip": "10.0.0.2", "enable": True, "interval": 5, "retry": 3,
                                               "sip": "172.16.0.2"}
    assert state["ike_config"] == [ike2] and state["enable_dpd"] is False
    assert sorted(state["local_subnet"]) == ["172.16.0.0/24", "172.16.1.0/24", "172.16.2.0/24"]
    assert state["tags"] == {"Created": "TF", "Owner": "net"}
    assert vco.plan() == {}

    # ---- destroy: the connection (polled until NotFound), then what it used -------------
    mark = tf.mark()
    vco.destroy()
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DeleteVpnConnection", "DescribeVpnConnection"]
    delete = calls[0]
    assert delete.query == {"VpnConnectionId": delete.query["VpnConnectionId"]}
    assert set(delete.body) == {"RegionId", "ClientToken"} and delete.status == 200
    assert_gone(calls, "DescribeVpnConnection", "InvalidVpnConnectionInstanceId.NotFound")
    cgw.destroy()
    gw.destroy()
    assert all(c.status == 200 for c in tf.since(mark) if c.action.startswith("Delete"))


def test_vpn_connection_dual_tunnel(tf):
    """The acceptance test's HA-VPN shape: a gateway with a disaster-recovery vSwitch and a
    connection given only TunnelOptionsSpecification (one customer gateway for both tunnels).

    Describe* answers the tunnels' numbers and booleans as strings (the SDK models say so), and
    the provider's connection Read copies them as they are into TypeBool/TypeInt fields (its
    attachment Read converts them with formatBool/formatInt); the plan compares Terraform's
    flatmap strings, where both read the same."""
    gw = VpnGateway(tf)
    gw.apply(gateway_config(disaster_recovery_vswitch_id="vsw-" + rand_suffix(), vpn_type="Normal",
                            network_type="public"))
    assert gw.state["disaster_recovery_internet_ip"] and gw.state["disaster_recovery_internet_ip"] != gw.state["internet_ip"]
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip(), "asn": "65030"})

    def tunnel(role, cidr, ike_lifetime, pfs, remote_id, ipsec_lifetime, ipsec_pfs, **flags):
        return {
            "customer_gateway_id": cgw.id,
            "role": role,
            **flags,
            "tunnel_bgp_config": [{"local_asn": "1219002", "tunnel_cidr": cidr,
                                   "local_bgp_ip": cidr.replace(".0/30", ".1")}],
            "tunnel_ike_config": [{"ike_auth_alg": "md5", "ike_enc_alg": "aes256", "ike_lifetime": ike_lifetime,
                                   "ike_mode": "aggressive", "ike_pfs": pfs, "ike_version": "ikev2",
                                   "local_id": "localid_tunnel2", "psk": "12345678", "remote_id": remote_id}],
            "tunnel_ipsec_config": [{"ipsec_auth_alg": "md5", "ipsec_enc_alg": "aes256",
                                     "ipsec_lifetime": ipsec_lifetime, "ipsec_pfs": ipsec_pfs}],
        }

    config = {
        "vpn_gateway_id": gw.id,
        "local_subnet": ["3.0.0.0/24"],
        "remote_subnet": ["10.0.0.0/24", "10.0.1.0/24"],
        "vpn_connection_name": "tf-vco-ha",
        "network_type": "public",  # in the schema, sent by neither Create nor Modify
        "tunnel_options_specification": [
            tunnel("master", "169.254.30.0/30", 3600, "group14", "remote2", 16400, "group5",
                   enable_dpd=True, enable_nat_traversal=True),
            # enable_dpd/enable_nat_traversal unset: Terraform reads them false and sends "false".
            tunnel("slave", "169.254.40.0/30", 27000, "group5", "remote24", 2700, "group14"),
        ],
        "tags": {"Created": "TF", "For": "HA-VPN"},
    }
    vco = VpnConnection(tf)
    mark = tf.mark()
    state = vco.apply(config)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["CreateVpnConnection", "DescribeVpnConnection", "TagResources",
                                "DescribeVpnConnection"]
    create = calls[0]
    tos = {k: v for k, v in create.body.items() if k.startswith("TunnelOptionsSpecification.")}
    assert tos == {
        "TunnelOptionsSpecification.1.CustomerGatewayId": cgw.id,
        "TunnelOptionsSpecification.1.EnableDpd": "true",
        "TunnelOptionsSpecification.1.EnableNatTraversal": "true",
        "TunnelOptionsSpecification.1.Role": "master",
        "TunnelOptionsSpecification.1.TunnelBgpConfig.LocalAsn": "1219002",
        "TunnelOptionsSpecification.1.TunnelBgpConfig.LocalBgpIp": "169.254.30.1",
        "TunnelOptionsSpecification.1.TunnelBgpConfig.TunnelCidr": "169.254.30.0/30",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeAuthAlg": "md5",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeEncAlg": "aes256",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime": "3600",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeMode": "aggressive",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkePfs": "group14",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeVersion": "ikev2",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.LocalId": "localid_tunnel2",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.Psk": "12345678",
        "TunnelOptionsSpecification.1.TunnelIkeConfig.RemoteId": "remote2",
        "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecAuthAlg": "md5",
        "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecEncAlg": "aes256",
        "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecLifetime": "16400",
        "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecPfs": "group5",
        **{k.replace(".1.", ".2.", 1): v for k, v in {
            "TunnelOptionsSpecification.1.CustomerGatewayId": cgw.id,
            "TunnelOptionsSpecification.1.EnableDpd": "false",
            "TunnelOptionsSpecification.1.EnableNatTraversal": "false",
            "TunnelOptionsSpecification.1.Role": "slave",
            "TunnelOptionsSpecification.1.TunnelBgpConfig.LocalAsn": "1219002",
            "TunnelOptionsSpecification.1.TunnelBgpConfig.LocalBgpIp": "169.254.40.1",
            "TunnelOptionsSpecification.1.TunnelBgpConfig.TunnelCidr": "169.254.40.0/30",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeAuthAlg": "md5",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeEncAlg": "aes256",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime": "27000",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeMode": "aggressive",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkePfs": "group5",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeVersion": "ikev2",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.LocalId": "localid_tunnel2",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.Psk": "12345678",
            "TunnelOptionsSpecification.1.TunnelIkeConfig.RemoteId": "remote24",
            "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecAuthAlg": "md5",
            "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecEncAlg": "aes256",
            "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecLifetime": "2700",
            "TunnelOptionsSpecification.1.TunnelIpsecConfig.IpsecPfs": "group14",
        }.items()},
    }
    assert set(create.body) - set(tos) == {"RegionId", "ClientToken", "LocalSubnet", "RemoteSubnet", "Name",
                                          "VpnGatewayId", "Tags.1.Key", "Tags.1.Value", "Tags.2.Key", "Tags.2.Value"}

    check_types(vco.raw, DUAL_TUNNEL_TYPES)
    options = vco.raw["TunnelOptionsSpecification"]["TunnelOptions"]
    assert [(t["TunnelIndex"], t["Role"]) for t in options] == [(1, "master"), (2, "slave")]
    assert [(t["EnableDpd"], t["EnableNatTraversal"]) for t in options] == [("true", "true"), ("false", "false")]
    assert [t["InternetIp"] for t in options] == [gw.state["internet_ip"], gw.state["disaster_recovery_internet_ip"]]
    assert [t["TunnelIkeConfig"]["IkeLifetime"] for t in options] == ["3600", "27000"]
    assert [t["TunnelBgpConfig"]["PeerAsn"] for t in options] == ["65030", "65030"]
    assert state["enable_tunnels_bgp"] is False and len(state["tunnel_options_specification"]) == 2
    assert vco.plan() == {} and vco.plan() == {}

    # ---- apply: rename, tunnel BGP on, new IKE settings for the slave ---------------------
    changed = {**config, "vpn_connection_name": "tf-vco-ha-2", "enable_tunnels_bgp": True,
               "tunnel_options_specification": [
                   config["tunnel_options_specification"][0],
                   {**config["tunnel_options_specification"][1],
                    "tunnel_ike_config": [{**config["tunnel_options_specification"][1]["tunnel_ike_config"][0],
                                           "ike_lifetime": 28800, "psk": "87654321"}]},
               ]}
    mark = tf.mark()
    state = vco.apply(changed)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DescribeVpnConnection", "ModifyVpnConnectionAttribute", "DescribeVpnConnection"]
    modify = only(calls, "ModifyVpnConnectionAttribute")[0]
    assert modify.query == {"VpnConnectionId": vco.id}
    body = modify.body
    # Modify names the tunnels by Role only, and sends no customer gateway.
    assert not any(k.endswith("CustomerGatewayId") for k in body)
    assert (body["TunnelOptionsSpecification.1.Role"], body["TunnelOptionsSpecification.2.Role"]) == ("master", "slave")
    assert body["TunnelOptionsSpecification.2.TunnelIkeConfig.IkeLifetime"] == "28800"
    assert (body["Name"], body["EnableTunnelsBgp"]) == ("tf-vco-ha-2", "true")
    assert "IkeConfig" not in body and "HealthCheckConfig" not in body
    check_types(vco.raw, DUAL_TUNNEL_TYPES)
    options = vco.raw["TunnelOptionsSpecification"]["TunnelOptions"]
    assert [t["TunnelIkeConfig"]["IkeLifetime"] for t in options] == ["3600", "28800"]
    assert options[1]["TunnelIkeConfig"]["Psk"] == "87654321"
    assert state["enable_tunnels_bgp"] is True and state["vpn_connection_name"] == "tf-vco-ha-2"
    assert vco.plan() == {}

    mark = tf.mark()
    vco.destroy()
    assert tf.actions(mark) == ["DeleteVpnConnection", "DescribeVpnConnection"]
    assert_gone(tf.since(mark), "DescribeVpnConnection", "InvalidVpnConnectionInstanceId.NotFound")
    cgw.destroy()
    gw.destroy()


# ------------------------------------------------------- alicloud_vpn_gateway_vpn_attachment


ATTACHMENT_TYPES = {
    **CONNECTION_TYPES, "CustomerGatewayId": str, "NetworkType": str,
    "VpnBgpConfig.LocalAsn": int, "VpnBgpConfig.TunnelCidr": str, "VpnBgpConfig.LocalBgpIp": str,
    "VcoHealthCheck.Dip": str, "VcoHealthCheck.Sip": str, "VcoHealthCheck.Interval": int,
    "VcoHealthCheck.Retry": int, "VcoHealthCheck.Policy": str, "TunnelBandwidth": str,
}


def test_vpn_gateway_vpn_attachment(tf):
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip(), "asn": "65040"})
    config = {
        "customer_gateway_id": cgw.id,
        "network_type": "public",
        "local_subnet": "0.0.0.0/0",
        "remote_subnet": "0.0.0.0/0",
        "effect_immediately": False,
        "enable_dpd": True,
        "enable_nat_traversal": True,
        "vpn_attachment_name": "tf-attachment",
        "ike_config": [{"ike_auth_alg": "md5", "ike_enc_alg": "des", "ike_version": "ikev2", "ike_mode": "main",
                        "ike_lifetime": 86400, "psk": "tf-test-vpn1", "ike_pfs": "group1", "remote_id": "testbob2",
                        "local_id": "testalice2"}],
        "ipsec_config": [{"ipsec_pfs": "group5", "ipsec_enc_alg": "des", "ipsec_auth_alg": "md5",
                          "ipsec_lifetime": 86400}],
        "bgp_config": [{"enable": True, "local_asn": 45014, "tunnel_cidr": "169.254.11.0/30",
                        "local_bgp_ip": "169.254.11.1"}],
        "health_check_config": [{"enable": True, "sip": "192.168.1.1", "dip": "10.0.0.1", "interval": 10,
                                 "retry": 10, "policy": "revoke_route"}],
        "resource_group_id": "rg-acfmtfattach01",
        "tags": {"Created": "TF", "For": "VpnAttachment"},
    }
    att = VpnAttachment(tf)
    mark = tf.mark()
    state = att.apply(config)
    calls = tf.since(mark)
    # No wait after the create nor after the health check's Modify.
    assert tf.actions(mark) == ["CreateVpnAttachment", "ModifyVpnAttachmentAttribute", "TagResources",
                                "DescribeVpnConnection"]
    create = calls[0]
    assert create.query == {}
    assert create.body == {
        "RegionId": REGION, "ClientToken": token_of(create), "NetworkType": "public",
        "LocalSubnet": "0.0.0.0/0", "RemoteSubnet": "0.0.0.0/0", "EffectImmediately": "false",
        "EnableDpd": "true", "EnableNatTraversal": "true", "Name": "tf-attachment",
        "IkeConfig": '{"IkeAuthAlg":"md5","IkeEncAlg":"des","IkeLifetime":86400,"IkeMode":"main","IkePfs":"group1",'
                     '"IkeVersion":"ikev2","LocalId":"testalice2","Psk":"tf-test-vpn1","RemoteId":"testbob2"}',
        "IpsecConfig": '{"IpsecAuthAlg":"md5","IpsecEncAlg":"des","IpsecLifetime":86400,"IpsecPfs":"group5"}',
        # local_asn is a TypeInt in this resource.
        "BgpConfig": '{"EnableBgp":true,"LocalAsn":45014,"LocalBgpIp":"169.254.11.1","TunnelCidr":"169.254.11.0/30"}',
        "CustomerGatewayId": cgw.id,
        # expandTagsToMap spells them Tag.N (the API documents Tags.N): the tags arrive with TagResources.
        "Tag.1.Key": "Created", "Tag.1.Value": "TF", "Tag.2.Key": "For", "Tag.2.Value": "VpnAttachment",
        "ResourceGroupId": "rg-acfmtfattach01",
        "HealthCheckConfig": '{"Policy":"revoke_route","dip":"10.0.0.1","enable":true,"interval":10,"retry":10,'
                             '"sip":"192.168.1.1"}',
    }
    modify = only(calls, "ModifyVpnAttachmentAttribute")[-1]
    assert modify.query == {}
    assert modify.body == {
        "VpnConnectionId": att.id, "RegionId": REGION, "ClientToken": token_of(modify),
        "LocalSubnet": "0.0.0.0/0", "RemoteSubnet": "0.0.0.0/0",
        "HealthCheckConfig": '{"Dip":"10.0.0.1","Enable":true,"Interval":10,"Policy":"revoke_route","Retry":10,'
                             '"Sip":"192.168.1.1"}',
    }
    assert only(calls, "TagResources")[0].body["ResourceType"] == "VPNATTACHMENT"
    read = calls[-1]
    assert read.query == {} and read.body == {"VpnConnectionId": att.id, "RegionId": REGION}
    check_types(att.raw, ATTACHMENT_TYPES)
    assert state["status"] in ("init", "unbound", "attached", "active"), state["status"]
    assert state["network_type"] == "public" and state["resource_group_id"] == "rg-acfmtfattach01"
    assert state["bgp_config"][0]["enable"] is True and state["bgp_config"][0]["local_asn"] == 45014
    assert state["health_check_config"][0]["policy"] == "revoke_route"
    assert state["tags"] == config["tags"] and state["tunnel_bandwidth"] == "Standard"
    assert att.plan() == {} and att.plan() == {}

    changed = {
        **config,
        "vpn_attachment_name": "tf-attachment-2",
        "local_subnet": "10.40.0.0/16",
        "remote_subnet": "192.168.40.0/24",
        "enable_dpd": False,
        "ike_config": [{**config["ike_config"][0], "ike_auth_alg": "sha256"}],
        "health_check_config": [{"enable": True, "sip": "192.168.40.1", "dip": "10.40.0.1", "interval": 5,
                                 "retry": 5, "policy": "reserve_route"}],
        "resource_group_id": "rg-acfmtfattach02",
        "tags": {"Created": "TF-2", "Owner": "net"},
    }
    mark = tf.mark()
    state = att.apply(changed)
    calls = tf.since(mark)
    assert tf.actions(mark) == ["DescribeVpnConnection", "ModifyVpnAttachmentAttribute", "MoveVpnResourceGroup",
                                "UnTagResources", "TagResources", "DescribeVpnConnection"]
    modify = only(calls, "ModifyVpnAttachmentAttribute")[-1]
    assert modify.body["IkeConfig"] == go_json({
        "IkeAuthAlg": "sha256", "IkeEncAlg": "des", "IkeLifetime": 86400, "IkeMode": "main", "IkePfs": "group1",
        "IkeVersion": "ikev2", "LocalId": "testalice2", "Psk": "tf-test-vpn1", "RemoteId": "testbob2"})
    assert (modify.body["Name"], modify.body["EnableDpd"], modify.body["LocalSubnet"]) == (
        "tf-attachment-2", "false", "10.40.0.0/16")
    move = only(calls, "MoveVpnResourceGroup")[0]
    assert move.query == {}  # InstanceId in the body for this resource
    assert move.body == {"InstanceId": att.id, "RegionId": REGION, "NewResourceGroupId": "rg-acfmtfattach02",
                         "ResourceType": "VPNATTACHMENT"}
    check_types(att.raw, ATTACHMENT_TYPES)
    assert state["health_check_config"][0]["policy"] == "reserve_route"
    assert state["ike_config"][0]["ike_auth_alg"] == "sha256" and state["ike_config"][0]["ike_pfs"] == "group1"
    assert (state["vpn_attachment_name"], state["local_subnet"], state["enable_dpd"]) == (
        "tf-attachment-2", "10.40.0.0/16", False)
    assert state["resource_group_id"] == "rg-acfmtfattach02"
    assert state["tags"] == {"Created": "TF-2", "Owner": "net"}
    assert att.plan() == {}

    att_id = att.id
    mark = tf.mark()
    att.destroy()
    assert tf.actions(mark) == ["DeleteVpnAttachment"]  # no polling
    delete = tf.since(mark)[0]
    assert delete.query == {} and set(delete.body) == {"VpnConnectionId", "RegionId", "ClientToken"}
    att.id = att_id
    assert att.refresh() is None
    assert_gone(tf.calls, "DescribeVpnConnection", "InvalidVpnConnectionInstanceId.NotFound")
    # A destroy repeated after a lost answer: NotFoundError counts as done.
    att.id = att_id
    mark = tf.mark()
    att.destroy()
    assert [(c.status, c.code) for c in tf.since(mark)] == [(404, "InvalidVpnConnectionInstanceId.NotFound")]
    cgw.destroy()


# ---------------------------------------------------------- alicloud_vpn_gateway_vco_route


def test_vpn_gateway_vco_route(tf, console):
    """Two routes on one connection, created back to back: the second meets the first's task
    (VpnConnection.Configuring) and is retried with the same ClientToken. Each is read back by
    its `conn:dest:nexthop:weight` ID; destroy waits for three NotFound reads in a row; a route
    whose connection is gone reads as gone."""
    gw = VpnGateway(tf)
    gw.apply(gateway_config())
    cgw = CustomerGateway(tf)
    cgw.apply({"ip_address": new_peer_ip()})
    vco = VpnConnection(tf)
    vco.apply({"vpn_gateway_id": gw.id, "customer_gateway_id": cgw.id, "local_subnet": ["10.10.0.0/16"],
               "remote_subnet": ["192.168.10.0/24"]})

    first, second = VcoRoute(tf), VcoRoute(tf)
    mark = tf.mark()
    state = first.apply({"vpn_connection_id": vco.id, "route_dest": "192.168.10.0/24", "next_hop": vco.id,
                         "weight": 100, "overlay_mode": "Ipsec"})
    calls = tf.since(mark)
    assert tf.actions(mark) == ["CreateVcoRouteEntry", "DescribeVcoRouteEntries"]
    create = calls[0]
    assert create.query == {}
    assert create.body == {"RegionId": REGION, "Weight": "100", "NextHop": vco.id, "RouteDest": "192.168.10.0/24",
                           "VpnConnectionId": vco.id, "OverlayMode": "Ipsec", "ClientToken": token_of(create)}
    assert calls[1].body == {"RegionId": REGION, "VpnConnectionId": vco.id, "PageNumber": "1", "PageSize": "20"}
    assert first.id == f"{vco.id}:192.168.10.0/24:{vco.id}:100"
    check_types(first.raw, {"RouteDest": str, "NextHop": str, "Weight": int, "State": str, "VpnConnectionId": str,
                            "CreateTime": int})
    assert (state["status"], state["weight"]) == ("published", 100)
    # The connection is busy with the route's task.
    vco.refresh()
    assert vco.raw["State"] == "updating"

    mark = tf.mark()
    second.apply({"vpn_connection_id": vco.id, "route_dest": "192.168.20.0/24", "next_hop": vco.id, "weight": 0})
    assert_retried(tf.since(mark), "CreateVcoRouteEntry", "VpnConnection.Configuring", fresh_tokens=False)
    assert second.state["weight"] == 0

    # plan: both still there, unchanged (Weight compared as Terraform's string).
    assert first.plan() == {} and second.plan() == {}
    # destroy both; each waits for three NotFound reads, 3 s (scaled) apart.
    for route in (first, second):
        mark = tf.mark()
        route_id = route.id
        route.destroy()
        calls = tf.since(mark)
        deletes = only(calls, "DeleteVcoRouteEntry")
        assert deletes[-1].status == 200 and {c.code for c in deletes[:-1]} <= {"VpnConnection.Configuring"}
        reads = calls[calls.index(deletes[-1]) + 1:]
        assert [c.action for c in reads] == ["DescribeVcoRouteEntries"] * len(reads) and len(reads) >= 3
        dest = route_id.split(":")[1]
        assert all(dest not in {e["RouteDest"] for e in c.answer["VcoRouteEntries"]} for c in reads[-3:])
        route.id = route_id
        assert route.refresh() is None

    # A route whose connection is gone reads as gone.
    third = VcoRoute(tf)
    wait_for(lambda: vco.refresh() and vco.raw["State"] == "active", what="connection settled")
    third.apply({"vpn_connection_id": vco.id, "route_dest": "192.168.30.0/24", "next_hop": vco.id, "weight": 0})
    vco.destroy()
    assert third.refresh() is None
    assert_gone(tf.calls, "DescribeVcoRouteEntries", "InvalidVpnConnectionInstanceId.NotFound")
    cgw.destroy()
    gw.destroy()
