"""Terraform's SSL-VPN resources replayed: alicloud_ssl_vpn_server and alicloud_ssl_vpn_client_cert
(alicloud/resource_alicloud_ssl_vpn_{server,client_cert}.go, service_alicloud_vpn_gateway.go,
extension_vpn.go, common.go at 81c43b67), and their data sources alicloud_ssl_vpn_servers and
alicloud_ssl_vpn_client_certs (data_source_alicloud_ssl_vpn_{servers,client_certs}.go), on the
harness of terraform.py.

Unlike the IPsec resources these use the older Go SDK (`vpc.CreateXxxRequest` +
`WithVpcClient`): every parameter goes in the query, the body is empty, the ClientToken is built
once before the retry loop and kept for every attempt, and the retry loops sleep a fixed time
themselves (10 s on `VpnGateway.Configuring` for the server, none for the certificate). Waits are
the provider's own loops (WaitForSslVpnServer / WaitForSslVpnClientCert: DefaultIntervalShort =
5 s between reads, DefaultTimeout = 120 s). Durations are scaled like the rest of the harness.
"""

from __future__ import annotations

import time
from typing import Any

from terraform import (
    PAGE_SIZE_LARGE,
    Data,
    Provider,
    Resource,
    TerraformError,
    build_client_token,
    filter_ids_and_name,
    go_fmt,
)

DEFAULT_TIMEOUT = 120
INTERVAL_SHORT = 5


def _wait(tf: Provider, read, done, *, deleted: bool) -> None:
    """The provider's WaitForSslVpn* loop: read; NotFound ends a delete wait; `done(obj)` ends
    the others; otherwise sleep DefaultIntervalShort until DefaultTimeout."""
    deadline = time.monotonic() + DEFAULT_TIMEOUT * tf.scale
    while True:
        try:
            obj = read()
        except TerraformError as e:
            if not e.not_found:
                raise
            if deleted:
                return
            obj = None
        if obj is not None and not deleted and done(obj):
            return
        if time.monotonic() > deadline:
            raise AssertionError("timeout waiting for the SSL-VPN resource")
        tf.sleep(INTERVAL_SHORT)


class SslVpnServer(Resource):
    """alicloud_ssl_vpn_server."""

    TYPE = "alicloud_ssl_vpn_server"

    def describe(self) -> dict:
        """VpnGatewayService.DescribeSslVpnServer: DescribeSslVpnServers by id; an empty list or
        another id is NotFound."""
        answer = self.tf.read("DescribeSslVpnServers", {"RegionId": self.tf.region, "SslVpnServerId": self.id}, None)
        items = answer.get("SslVpnServers", {}).get("SslVpnServer") or []
        if not items or items[0].get("SslVpnServerId") != self.id:
            raise TerraformError("DescribeSslVpnServers", 404, {"Code": "NotFound", "Message": "SslVpnGateway NotFound"})
        return items[0]

    def create(self, d: Data) -> str:
        query: dict[str, Any] = {
            "RegionId": self.tf.region,
            "VpnGatewayId": d.get("vpn_gateway_id"),
            "ClientIpPool": d.get("client_ip_pool"),
            "LocalSubnet": d.get("local_subnet"),
            "Name": d.get("name") or "",
            "Proto": d.get("protocol") or "UDP",
            "Cipher": d.get("cipher") or "AES-128-CBC",
            "Port": d.get("port") or 1194,
            "Compress": bool(d.get("compress")),
            "ClientToken": build_client_token("CreateSslVpnServer"),
        }
        answer = self.tf.retry("CreateSslVpnServer", query, {}, expected=["VpnGateway.Configuring"],
                               timeout_s=180, fresh_token=False, waits=(10, 10))
        self.id = go_fmt(answer["SslVpnServerId"])
        _wait(self.tf, self.describe, lambda o: o.get("SslVpnServerId") == self.id, deleted=False)
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "vpn_gateway_id": obj.get("VpnGatewayId"),
            "name": obj.get("Name"),
            "local_subnet": obj.get("LocalSubnet"),
            "client_ip_pool": obj.get("ClientIpPool"),
            "cipher": obj.get("Cipher"),
            "protocol": obj.get("Proto"),
            "port": obj.get("Port"),
            "compress": obj.get("Compress"),
            "connections": obj.get("Connections"),
            "max_connections": obj.get("MaxConnections"),
            "internet_ip": obj.get("InternetIp"),
        })

    def update(self, d: Data) -> None:
        query: dict[str, Any] = {"RegionId": self.tf.region, "SslVpnServerId": self.id}
        if d.has_change("name"):
            query["Name"] = d.get("name")
        # Always sent, changed or not.
        query["ClientIpPool"] = d.get("client_ip_pool")
        query["LocalSubnet"] = d.get("local_subnet")
        for key, param in (("protocol", "Proto"), ("cipher", "Cipher"), ("port", "Port"), ("compress", "Compress")):
            if d.has_change(key):
                query[param] = d.get(key)
        self.tf.retry("ModifySslVpnServer", query, {}, expected=["VpnGateway.Configuring"], timeout_s=300,
                      fresh_token=False, waits=(10, 10))
        self.read(new=False)

    def destroy(self) -> None:
        query = {"RegionId": self.tf.region, "SslVpnServerId": self.id}
        try:
            self.tf.retry("DeleteSslVpnServer", query, {}, expected=["VpnGateway.Configuring"], timeout_s=300,
                          fresh_token=False, waits=(10, 10))
        except TerraformError as e:
            if not e.expected(["InvalidSslVpnServerId.NotFound"]):
                raise
        _wait(self.tf, self.describe, lambda o: False, deleted=True)
        self.id = None


class SslVpnClientCert(Resource):
    """alicloud_ssl_vpn_client_cert."""

    TYPE = "alicloud_ssl_vpn_client_cert"

    def describe(self) -> dict:
        """VpnGatewayService.DescribeSslVpnClientCert: another id is NotFound."""
        obj = self.tf.read("DescribeSslVpnClientCert", {"RegionId": self.tf.region, "SslVpnClientCertId": self.id}, None)
        if obj.get("SslVpnClientCertId") != self.id:
            raise TerraformError("DescribeSslVpnClientCert", 404, {"Code": "NotFound", "Message": "SslVpnClientCert NotFound"})
        return obj

    def create(self, d: Data) -> str:
        query: dict[str, Any] = {"RegionId": self.tf.region, "SslVpnServerId": d.get("ssl_vpn_server_id")}
        if d.get("name"):
            query["Name"] = d.get("name")
        query["ClientToken"] = build_client_token("CreateSslVpnClientCert")
        answer = self.tf.retry("CreateSslVpnClientCert", query, {}, expected=["VpnGateway.Configuring"],
                               timeout_s=180, fresh_token=False, waits=(0, 0))
        self.id = go_fmt(answer["SslVpnClientCertId"])
        _wait(self.tf, self.describe, lambda o: o.get("Status") == "normal", deleted=False)
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        return self.keep({
            "name": obj.get("Name"),
            "status": obj.get("Status"),
            "ssl_vpn_server_id": obj.get("SslVpnServerId"),
            "ca_cert": obj.get("CaCert"),
            "client_cert": obj.get("ClientCert"),
            "client_key": obj.get("ClientKey"),
            "client_config": obj.get("ClientConfig"),
        })

    def update(self, d: Data) -> None:
        # No retry loop around ModifySslVpnClientCert.
        self.tf.rpc_post("ModifySslVpnClientCert",
                         {"RegionId": self.tf.region, "SslVpnClientCertId": self.id, "Name": d.get("name")}, {})
        self.read(new=False)

    def destroy(self) -> None:
        query = {"RegionId": self.tf.region, "SslVpnClientCertId": self.id}
        try:
            self.tf.retry("DeleteSslVpnClientCert", query, {}, expected=["VpnGateway.Configuring"], timeout_s=300,
                          fresh_token=False, waits=(0, 0))
        except TerraformError as e:
            if not e.expected(["InvalidSslVpnClientCertId.NotFound"]):
                raise
        _wait(self.tf, self.describe, lambda o: False, deleted=True)
        self.id = None


# ---- data sources ------------------------------------------------------------------------------
# data_source_alicloud_ssl_vpn_{servers,client_certs}.go: one DescribeSslVpn* call per page
# (PageSizeLarge = 50, PageNumber from 1) without a retry loop, until a page is empty or shorter
# than 50; then `ids` and `name_regex` filter in the provider, and the attributes are mapped.

def timestamp_to_str(ms: int) -> str:
    """TimestampToStr: seconds of the millisecond value, as 2006-01-02T15:04:05Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms // 1000))


def _read_pages(tf: Provider, action: str, query: dict, outer: str, inner: str) -> list[dict]:
    query = {"RegionId": tf.region, "PageSize": PAGE_SIZE_LARGE, "PageNumber": 1, **query}
    items: list[dict] = []
    while True:
        answer = tf.rpc_post(action, query, {})
        page = (answer.get(outer) or {}).get(inner) or []
        if not page:
            break
        items.extend(page)
        if len(page) < PAGE_SIZE_LARGE:
            break
        query["PageNumber"] += 1
    return items


def data_ssl_vpn_servers(tf: Provider, *, vpn_gateway_id: str | None = None, ids: list[str] | None = None,
                         name_regex: str | None = None) -> dict:
    """data "alicloud_ssl_vpn_servers": the state it sets (ids, names, servers)."""
    query = {"VpnGatewayId": vpn_gateway_id} if vpn_gateway_id else {}
    items = _read_pages(tf, "DescribeSslVpnServers", query, "SslVpnServers", "SslVpnServer")
    servers = [
        {
            "id": s["SslVpnServerId"], "vpn_gateway_id": s["VpnGatewayId"], "local_subnet": s["LocalSubnet"],
            "name": s["Name"], "client_ip_pool": s["ClientIpPool"], "create_time": timestamp_to_str(s["CreateTime"]),
            "cipher": s["Cipher"], "proto": s["Proto"], "port": s["Port"], "compress": s["Compress"],
            "connections": s["Connections"], "max_connections": s["MaxConnections"], "internet_ip": s["InternetIp"],
        }
        for s in filter_ids_and_name(items, id_key="SslVpnServerId", ids=ids, name_regex=name_regex)
    ]
    return {"ids": [s["id"] for s in servers], "names": [s["name"] for s in servers], "servers": servers}


def data_ssl_vpn_client_certs(tf: Provider, *, ssl_vpn_server_id: str | None = None, ids: list[str] | None = None,
                              name_regex: str | None = None) -> dict:
    """data "alicloud_ssl_vpn_client_certs": the state it sets (ids, names, certs)."""
    query = {"SslVpnServerId": ssl_vpn_server_id} if ssl_vpn_server_id else {}
    items = _read_pages(tf, "DescribeSslVpnClientCerts", query, "SslVpnClientCertKeys", "SslVpnClientCertKey")
    certs = [
        {
            "ssl_vpn_server_id": c["SslVpnServerId"], "id": c["SslVpnClientCertId"], "name": c["Name"],
            "end_time": c["EndTime"], "create_time": timestamp_to_str(c["CreateTime"]), "status": c["Status"],
        }
        for c in filter_ids_and_name(items, id_key="SslVpnClientCertId", ids=ids, name_regex=name_regex)
    ]
    return {"ids": [c["id"] for c in certs], "names": [c["name"] for c in certs], "certs": certs}
