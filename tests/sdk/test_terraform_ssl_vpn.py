"""Terraform's alicloud_ssl_vpn_server and alicloud_ssl_vpn_client_cert, and the data sources
alicloud_ssl_vpn_servers and alicloud_ssl_vpn_client_certs, replayed call for call (terraform_ssl.py) against the server of test_terraform.py, which keeps a gateway `updating` for
a while after each change, so the provider meets `VpnGateway.Configuring` and retries."""

from __future__ import annotations

from alibabacloud_vpc20160428 import models as m

from helpers import REGION, create_gateway, wait_gateway_active
from terraform import Provider, check_types
from terraform_ssl import (
    PAGE_SIZE_LARGE,
    SslVpnClientCert,
    SslVpnServer,
    data_ssl_vpn_client_certs,
    data_ssl_vpn_servers,
    timestamp_to_str,
)
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


CERT_KEY_TYPES = {
    "SslVpnClientCertId": str, "SslVpnServerId": str, "Name": str, "Status": str, "CreateTime": int,
    "EndTime": int, "RegionId": str,
}


def test_ssl_vpn_data_sources(tf: Provider, console):  # noqa: F811
    gws = [create_gateway(console, enable_ssl=True, ssl_connections=5) for _ in range(2)]
    servers = []
    for i, gw in enumerate(gws):
        wait_gateway_active(console, gw)
        servers.append(console.create_ssl_vpn_server(m.CreateSslVpnServerRequest(
            region_id=REGION, vpn_gateway_id=gw, name=f"tf-ds-{i}", client_ip_pool=f"192.168.{200 + i}.0/24",
            local_subnet="172.16.0.0/21")).body.ssl_vpn_server_id)

    # alicloud_ssl_vpn_servers by gateway: one page, the provider's mapping.
    mark = tf.mark()
    state = data_ssl_vpn_servers(tf, vpn_gateway_id=gws[0])
    call = tf.since(mark)
    assert [c.action for c in call] == ["DescribeSslVpnServers"]
    assert {k: call[0].query[k] for k in ("PageSize", "PageNumber", "VpnGatewayId")} == {
        "PageSize": "50", "PageNumber": "1", "VpnGatewayId": gws[0]}
    check_types(call[0].answer["SslVpnServers"]["SslVpnServer"][0], SERVER_TYPES)
    assert state["ids"] == [servers[0]] and state["names"] == ["tf-ds-0"]
    s = state["servers"][0]
    assert (s["vpn_gateway_id"], s["client_ip_pool"], s["local_subnet"]) == (gws[0], "192.168.200.0/24", "172.16.0.0/21")
    assert (s["proto"], s["port"], s["cipher"], s["compress"]) == ("TCP", 1194, "AES-128-CBC", False)  # the defaults
    assert (s["connections"], s["max_connections"]) == (0, 5) and s["internet_ip"]
    raw = call[0].answer["SslVpnServers"]["SslVpnServer"][0]
    assert s["create_time"] == timestamp_to_str(raw["CreateTime"]) and s["create_time"].endswith("Z")
    # The whole region, then filtered in the provider by ids and by name_regex.
    assert set(servers) <= set(data_ssl_vpn_servers(tf)["ids"])
    assert data_ssl_vpn_servers(tf, ids=[servers[1]])["names"] == ["tf-ds-1"]
    assert sorted(data_ssl_vpn_servers(tf, name_regex="^tf-ds-[01]$")["ids"]) == sorted(servers)
    assert data_ssl_vpn_servers(tf, vpn_gateway_id=gws[1], name_regex="nothing") == {"ids": [], "names": [], "servers": []}

    # alicloud_ssl_vpn_client_certs over two pages: 50, then the rest.
    wait_gateway_active(console, gws[0])
    certs = [
        console.create_ssl_vpn_client_cert(m.CreateSslVpnClientCertRequest(
            region_id=REGION, ssl_vpn_server_id=servers[0], name=f"tf-ds-cert-{i}")).body.ssl_vpn_client_cert_id
        for i in range(PAGE_SIZE_LARGE + 1)
    ]
    mark = tf.mark()
    state = data_ssl_vpn_client_certs(tf, ssl_vpn_server_id=servers[0])
    calls = tf.since(mark)
    assert [(c.action, c.query["PageNumber"], c.query["SslVpnServerId"]) for c in calls] == [
        ("DescribeSslVpnClientCerts", "1", servers[0]), ("DescribeSslVpnClientCerts", "2", servers[0])]
    assert [len(c.answer["SslVpnClientCertKeys"]["SslVpnClientCertKey"]) for c in calls] == [PAGE_SIZE_LARGE, 1]
    check_types(calls[0].answer["SslVpnClientCertKeys"]["SslVpnClientCertKey"][0], CERT_KEY_TYPES)
    assert sorted(state["ids"]) == sorted(certs)
    assert all(c["ssl_vpn_server_id"] == servers[0] and c["status"] == "normal" and c["end_time"] > 0
               for c in state["certs"])
    assert data_ssl_vpn_client_certs(tf, ids=[certs[7]], ssl_vpn_server_id=servers[0])["names"] == ["tf-ds-cert-7"]
    assert sorted(data_ssl_vpn_client_certs(tf, name_regex="cert-5[0-9]$")["ids"]) == sorted([certs[50]])
    # Another server's certificates are not listed under this one.
    assert data_ssl_vpn_client_certs(tf, ssl_vpn_server_id=servers[1])["ids"] == []
