"""Terraform's alicloud_ssl_vpn_server and alicloud_ssl_vpn_client_cert replayed call for call
(terraform_ssl.py) against the server of test_terraform.py, which keeps a gateway `updating` for
a while after each change, so the provider meets `VpnGateway.Configuring` and retries."""

from __future__ import annotations

from alibabacloud_vpc20160428 import models as m

from helpers import REGION, create_gateway, wait_gateway_active
from terraform import Provider, check_types
from terraform_ssl import SslVpnClientCert, SslVpnServer
from test_terraform import console, tf, tf_server  # noqa: F401  (the shared server and clients)

SERVER_TYPES = {
    "SslVpnServerId": str, "VpnGatewayId": str, "Name": str, "LocalSubnet": str, "ClientIpPool": str,
    "Cipher": str, "Proto": str, "Port": int, "Compress": bool, "Connections": int, "MaxConnections": int,
    "InternetIp": str, "CreateTime": int, "RegionId": str,
}
CERT_TYPES = {
    "SslVpnClientCertId": str, "SslVpnServerId": str, "Name": str, "Status": str, "CaCert": str,
    "ClientCert": str, "ClientKey": str, "ClientConfig": str, "CreateTime": int, "EndTime": int,
}


def server_config(gw: str, **extra) -> dict:
    return {"vpn_gateway_id": gw, "name": "tf-ssl", "client_ip_pool": "192.168.100.0/24",
            "local_subnet": "172.16.0.0/21", "protocol": "UDP", "cipher": "AES-128-CBC", "port": 1194,
            "compress": False, **extra}


def test_ssl_vpn_server_and_client_cert(tf: Provider, console):  # noqa: F811
    gw = create_gateway(console, enable_ssl=True, ssl_connections=5)
    server = SslVpnServer(tf)
    mark = tf.mark()
    state = server.apply(server_config(gw))
    # Create, then the provider's wait and Read: DescribeSslVpnServers by id.
    assert tf.actions(mark) == ["CreateSslVpnServer", "DescribeSslVpnServers"]
    create = tf.since(mark)[0]
    assert create.body == {} and create.query["Proto"] == "UDP" and create.query["Compress"] == "false"
    assert create.query["ClientToken"].startswith("TF-CreateSslVpnServer-")
    check_types(server.raw, SERVER_TYPES)
    assert (state["protocol"], state["port"], state["max_connections"]) == ("UDP", 1194, 5)
    assert state["internet_ip"]
    assert server.plan() == {}

    # The gateway is `updating` after the server's creation: the certificate waits for it.
    cert = SslVpnClientCert(tf)
    mark = tf.mark()
    cstate = cert.apply({"ssl_vpn_server_id": server.id, "name": "tf-cert"})
    calls = tf.since(mark)
    creates = [c for c in calls if c.action == "CreateSslVpnClientCert"]
    assert creates[-1].status == 200
    assert all(c.code == "VpnGateway.Configuring" for c in creates[:-1])
    assert len({c.query["ClientToken"] for c in creates}) == 1  # built once, kept
    check_types(cert.raw, CERT_TYPES)
    assert cstate["status"] == "normal" and "PRIVATE KEY" in cstate["client_key"]
    assert f"remote {state['internet_ip']} 1194" in cstate["client_config"]
    assert cert.plan() == {}

    # A changed port and protocol: ModifySslVpnServer with both, plus the pool and subnets
    # Terraform always sends.
    wait_gateway_active(console, gw)
    mark = tf.mark()
    state = server.apply(server_config(gw, protocol="TCP", port=1195))
    modify = [c for c in tf.since(mark) if c.action == "ModifySslVpnServer"][-1]
    assert modify.status == 200
    assert {k: modify.query.get(k) for k in ("Proto", "Port", "ClientIpPool", "LocalSubnet")} == {
        "Proto": "TCP", "Port": "1195", "ClientIpPool": "192.168.100.0/24", "LocalSubnet": "172.16.0.0/21"}
    assert "Name" not in modify.query and "Cipher" not in modify.query
    assert (state["protocol"], state["port"]) == ("TCP", 1195)
    assert server.plan() == {}
    # The certificate's configuration follows the server.
    assert "proto tcp" in cert.refresh()["client_config"]

    # Drift made in the console shows in the plan.
    wait_gateway_active(console, gw)
    console.modify_ssl_vpn_client_cert(
        m.ModifySslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=cert.id, name="renamed"))
    assert cert.plan() == {"name": ("tf-cert", "renamed")}
    cert.apply({"ssl_vpn_server_id": server.id, "name": "tf-cert"})
    assert cert.plan() == {}

    # Destroy: the certificate, then the server; each polled until NotFound.
    mark = tf.mark()
    cert.destroy()
    calls = tf.since(mark)
    deletes = [c for c in calls if c.action == "DeleteSslVpnClientCert"]
    assert deletes[-1].status == 200
    last = [c for c in calls if c.action == "DescribeSslVpnClientCert"][-1]
    assert (last.status, last.code) == (404, "InvalidInstanceId.NotFound")
    wait_gateway_active(console, gw)
    mark = tf.mark()
    server.destroy()
    assert [c for c in tf.since(mark) if c.action == "DeleteSslVpnServer"][-1].status == 200
    describe = [c for c in tf.since(mark) if c.action == "DescribeSslVpnServers"][-1]
    assert describe.status == 200 and describe.answer["SslVpnServers"]["SslVpnServer"] == []
