"""Terraform's alicloud_vpn_ipsec_server replayed call for call (terraform_ipsec_server.py)
against the server of test_terraform.py, which keeps a gateway `updating` for a while after each
change, so the provider's update and delete meet `VpnGateway.Configuring` and retry."""

from __future__ import annotations

import json

from helpers import create_gateway, wait_gateway_active
from terraform import Provider, check_types
from terraform_ipsec_server import VpnIpsecServer, data_vpn_ipsec_servers
from test_terraform import console, tf, tf_server  # noqa: F401  (the shared server and clients)

SERVER_TYPES = {
    "IpsecServerId": str, "VpnGatewayId": str, "IpsecServerName": str, "LocalSubnet": str,
    "ClientIpPool": str, "Psk": str, "PskEnabled": bool, "EffectImmediately": bool,
    "IkeConfig.IkeVersion": str, "IkeConfig.IkeLifetime": int, "IkeConfig.LocalId": str,
    "IpsecConfig.IpsecPfs": str, "IpsecConfig.IpsecLifetime": int, "OnlineClientCount": int,
    "MaxConnections": int, "InternetIp": str, "CreationTime": str, "RegionId": str,
}


def test_vpn_ipsec_server_lifecycle(tf: Provider, console):  # noqa: F811
    gw = create_gateway(console, enable_ssl=True, ssl_connections=5)
    res = VpnIpsecServer(tf)
    config = {
        "vpn_gateway_id": gw,
        "ipsec_server_name": "tf-ipsec",
        "client_ip_pool": "10.220.0.0/24",
        "local_subnet": "192.168.0.0/24",
        "psk_enabled": True,
        "ike_config": [{"ike_version": "ikev2", "ike_enc_alg": "aes256"}],
        "ipsec_config": [{"ipsec_pfs": "group5"}],
    }
    mark = tf.mark()
    state = res.apply(config)
    assert tf.actions(mark) == ["CreateIpsecServer", "ListIpsecServers"]
    create, read = tf.since(mark)
    assert create.query.get("IpSecServerName") is None and create.body["IpSecServerName"] == "tf-ipsec"
    assert create.body["ClientToken"].startswith("TF-CreateIpsecServer-")
    # The block's unset fields go out as "" and 0, IpsecConfig with every value null.
    assert json.loads(create.body["IkeConfig"]) == {
        "IkeAuthAlg": "", "IkeEncAlg": "aes256", "IkeLifetime": 0, "IkeMode": "", "IkePfs": "",
        "IkeVersion": "ikev2", "LocalId": "", "RemoteId": "",
    }
    assert json.loads(create.body["IpsecConfig"]) == dict.fromkeys(
        ("IpsecAuthAlg", "IpsecEncAlg", "IpsecLifetime", "IpsecPfs")
    )
    assert read.body == {"RegionId": tf.region, "IpsecServerId.1": res.id}
    check_types(res.raw, SERVER_TYPES)
    # The defaults took the empty values' place; the generated key is in the state (Computed).
    ike = state["ike_config"][0]
    assert (ike["ike_version"], ike["ike_enc_alg"], ike["ike_lifetime"], ike["ike_mode"]) == (
        "ikev2", "aes256", 86400, "main",
    )
    assert ike["local_id"] == res.raw["InternetIp"]
    assert len(state["psk"]) == 16 and state["psk_enabled"] is True
    # The provider's create bug: the configured ipsec_pfs was sent as null, so the first plan
    # shows it, and the next apply's update sends the right keys and converges.
    assert state["ipsec_config"][0]["ipsec_pfs"] == "group2"
    assert set(res.plan()) == {"ipsec_config.0.ipsec_pfs"}
    mark = tf.mark()
    state = res.apply(config)
    updates = [c for c in tf.since(mark) if c.action == "UpdateIpsecServer"]
    # The gateway is still `updating` after the create: the update retries until it is active.
    assert updates[-1].status == 200 and all(c.code == "VpnGateway.Configuring" for c in updates[:-1])
    assert json.loads(updates[-1].body["IpsecConfig"])["IpsecPfs"] == "group5"
    assert state["ipsec_config"][0]["ipsec_pfs"] == "group5"
    assert res.plan() == {}

    # An update of the name, the pool and the key: only what changed is sent.
    wait_gateway_active(console, gw)
    config = {**config, "ipsec_server_name": "tf-ipsec-2", "client_ip_pool": "10.221.0.0/24", "psk": "tf-key-2"}
    mark = tf.mark()
    state = res.apply(config)
    (upd,) = [c for c in tf.since(mark) if c.action == "UpdateIpsecServer" and c.status == 200]
    assert {k for k in upd.body if k not in ("RegionId", "IpsecServerId", "ClientToken")} == {
        "IpsecServerName", "ClientIpPool", "Psk",
    }
    assert (state["ipsec_server_name"], state["client_ip_pool"], state["psk"]) == (
        "tf-ipsec-2", "10.221.0.0/24", "tf-key-2",
    )
    assert res.plan() == {}

    # Import: Read by id alone.
    imported = VpnIpsecServer(tf)
    imported.id = res.id
    assert imported.read(new=True)["client_ip_pool"] == "10.221.0.0/24"

    # Destroy (retrying while the gateway is `updating`), then the next refresh drops it.
    gone = res.id
    res.destroy()
    after = VpnIpsecServer(tf)
    after.id = gone
    assert after.refresh() is None


def test_data_vpn_ipsec_servers(tf: Provider, console):  # noqa: F811
    """Three servers on three gateways, read back with MaxResults=50 (served as pages of 20,
    followed by NextToken), by ids, by name and name_regex, by gateway."""
    made = {}
    for i in range(3):
        gw = create_gateway(console, enable_ssl=True, ssl_connections=10)
        res = VpnIpsecServer(tf)
        res.apply({"vpn_gateway_id": gw, "ipsec_server_name": f"tf-ds-{i}", "client_ip_pool": f"10.23{i}.0.0/24",
                   "local_subnet": "192.168.0.0/24"})
        made[res.id] = gw
    mark = tf.mark()
    every = data_vpn_ipsec_servers(tf, name_regex="^tf-ds-")
    assert sorted(every["ids"]) == sorted(made) and sorted(every["names"]) == ["tf-ds-0", "tf-ds-1", "tf-ds-2"]
    first = tf.since(mark)[0]
    assert first.body["MaxResults"] == "50" and first.status == 200
    one = every["servers"][0]
    assert one["max_connections"] == 10 and one["online_client_count"] == 0 and len(one["psk"]) == 16
    assert one["ike_config"][0]["ike_version"] == "ikev2" and one["ipsec_config"][0]["ipsec_lifetime"] == 86400
    picked = sorted(made)[:2]
    assert sorted(data_vpn_ipsec_servers(tf, ids=picked)["ids"]) == picked
    assert data_vpn_ipsec_servers(tf, ipsec_server_name="tf-ds-1")["names"] == ["tf-ds-1"]
    iss, gw = next(iter(made.items()))
    assert data_vpn_ipsec_servers(tf, vpn_gateway_id=gw)["ids"] == [iss]
