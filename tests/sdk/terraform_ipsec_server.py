"""Terraform's alicloud_vpn_ipsec_server replayed (alicloud/resource_alicloud_vpn_ipsec_server.go,
VpcService.DescribeVpnIpsecServer in service_alicloud_vpc.go), on the harness of terraform.py.

What the provider does, call for call:
- Create: CreateIpsecServer through RpcPost (every parameter in the body), a fresh ClientToken per
  attempt, retried on NeedRetry only (1 min); then Read. DryRun, EffectImmediately and PskEnabled
  are sent when set in the configuration (GetOkExists), the name and Psk when not empty.
- `ike_config` (a set of one block) becomes IkeConfig: json.Marshal of all eight keys, `""` and `0`
  for the fields the block leaves out. `ipsec_config` becomes IpsecConfig on create from keys the
  block does not have (`ipsecConfigArg["IpsecEncAlg"]`), so every value is `null`; Update reads
  the right keys.
- Read: ListIpsecServers with `IpsecServerId` = [id] (flattened `IpsecServerId.1` by the client);
  an empty list or another id is NotFound (the resource leaves the state).
- Update: UpdateIpsecServer with what changed (`IpsecServerName`, not `IpSecServerName`), retried
  on `VpnGateway.Configuring` and NeedRetry (1 min), then Read.
- Delete: DeleteIpsecServer, retried on `VpnGateway.Configuring`; no wait after it.
"""

from __future__ import annotations

import re
from typing import Any

from terraform import PAGE_SIZE_LARGE, Data, Resource, TerraformError, build_client_token, format_int, go_fmt, go_json

TIMEOUT = 60  # schema.DefaultTimeout(1 * time.Minute) for create, update and delete

IKE_KEYS = {
    "IkeVersion": "ike_version",
    "IkeMode": "ike_mode",
    "IkeEncAlg": "ike_enc_alg",
    "IkeAuthAlg": "ike_auth_alg",
    "IkePfs": "ike_pfs",
    "IkeLifetime": "ike_lifetime",
    "LocalId": "local_id",
    "RemoteId": "remote_id",
}
IPSEC_KEYS = {
    "IpsecEncAlg": "ipsec_enc_alg",
    "IpsecAuthAlg": "ipsec_auth_alg",
    "IpsecPfs": "ipsec_pfs",
    "IpsecLifetime": "ipsec_lifetime",
}


class VpnIpsecServer(Resource):
    """alicloud_vpn_ipsec_server."""

    TYPE = "alicloud_vpn_ipsec_server"
    BLOCKS = {
        "ike_config": {field: (0 if field == "ike_lifetime" else "") for field in IKE_KEYS.values()},
        "ipsec_config": {field: (0 if field == "ipsec_lifetime" else "") for field in IPSEC_KEYS.values()},
    }

    def describe(self) -> dict:
        answer = self.tf.read("ListIpsecServers", None, {"RegionId": self.tf.region, "IpsecServerId": [self.id]})
        items = answer.get("IpsecServers") or []
        if not items or items[0].get("IpsecServerId") != self.id:
            raise TerraformError("ListIpsecServers", 404, {"Code": "NotFound", "Message": "VPC NotFound"})
        return items[0]

    @staticmethod
    def _ike(d: Data) -> str | None:
        block, ok = d.get_ok("ike_config")
        if not ok:
            return None
        ike: dict[str, Any] = {}
        for arg in block:
            ike = {wire: arg.get(field) for wire, field in IKE_KEYS.items()}
        return go_json(ike)

    @staticmethod
    def _ipsec(d: Data, *, create: bool) -> str | None:
        block, ok = d.get_ok("ipsec_config")
        if not ok:
            return None
        ipsec: dict[str, Any] = {}
        for arg in block:
            # The create path reads the block under the wire names, which it does not have.
            ipsec = {wire: arg.get(wire if create else field) for wire, field in IPSEC_KEYS.items()}
        return go_json(ipsec)

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"ClientIpPool": d.get("client_ip_pool")}
        for key, param in (("dry_run", "DryRun"), ("effect_immediately", "EffectImmediately")):
            v, ok = d.get_ok_exists(key)
            if ok:
                body[param] = v
        name, ok = d.get_ok("ipsec_server_name")
        if ok:
            body["IpSecServerName"] = name
        body["LocalSubnet"] = d.get("local_subnet")
        psk, ok = d.get_ok("psk")
        if ok:
            body["Psk"] = psk
        v, ok = d.get_ok_exists("psk_enabled")
        if ok:
            body["PskEnabled"] = v
        if (ike := self._ike(d)) is not None:
            body["IkeConfig"] = ike
        if (ipsec := self._ipsec(d, create=True)) is not None:
            body["IpsecConfig"] = ipsec
        body["RegionId"] = self.tf.region
        body["VpnGatewayId"] = d.get("vpn_gateway_id")
        body["ClientToken"] = build_client_token("CreateIpsecServer")
        answer = self.tf.retry("CreateIpsecServer", None, body, timeout_s=TIMEOUT, waits=(3, 3))
        self.id = go_fmt(answer["IpsecServerId"])
        self.read(new=True)
        return self.id

    def read(self, *, new: bool) -> dict | None:
        try:
            obj = self.describe()
        except TerraformError as e:
            if e.not_found:
                return None
            raise
        self.raw = obj
        state: dict[str, Any] = {
            "client_ip_pool": obj.get("ClientIpPool"),
            "effect_immediately": obj.get("EffectImmediately"),
            "ipsec_server_name": obj.get("IpsecServerName"),
            "local_subnet": obj.get("LocalSubnet"),
            "psk": obj.get("Psk"),
            "psk_enabled": obj.get("PskEnabled"),
            "vpn_gateway_id": obj.get("VpnGatewayId"),
        }
        if "IkeConfig" in obj:
            ike = obj["IkeConfig"] or {}
            state["ike_config"] = (
                [{field: (format_int(ike.get(wire)) if field == "ike_lifetime" else ike.get(wire))
                  for wire, field in IKE_KEYS.items()}] if ike else []
            )
        if "IpsecConfig" in obj:
            ipsec = obj["IpsecConfig"] or {}
            state["ipsec_config"] = (
                [{field: (format_int(ipsec.get(wire)) if field == "ipsec_lifetime" else ipsec.get(wire))
                  for wire, field in IPSEC_KEYS.items()}] if ipsec else []
            )
        return self.keep(state)

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"IpsecServerId": self.id, "RegionId": self.tf.region}
        changed = False
        if d.has_change("client_ip_pool"):
            changed = True
            body["ClientIpPool"] = d.get("client_ip_pool")
        if d.has_change("effect_immediately"):
            changed = True
            v, ok = d.get_ok_exists("effect_immediately")
            if ok:
                body["EffectImmediately"] = v
        if d.has_change("ipsec_server_name"):
            changed = True
            v, ok = d.get_ok("ipsec_server_name")
            if ok:
                body["IpsecServerName"] = v
        if d.has_change("local_subnet"):
            changed = True
            body["LocalSubnet"] = d.get("local_subnet")
        if d.has_change("psk"):
            changed = True
            v, ok = d.get_ok("psk")
            if ok:
                body["Psk"] = v
        if d.has_change("ike_config"):
            changed = True
            if (ike := self._ike(d)) is not None:
                body["IkeConfig"] = ike
        if d.has_change("ipsec_config"):
            changed = True
            if (ipsec := self._ipsec(d, create=False)) is not None:
                body["IpsecConfig"] = ipsec
        if d.has_change("psk_enabled"):
            changed = True
            v, ok = d.get_ok_exists("psk_enabled")
            if ok:
                body["PskEnabled"] = v
        if changed:
            v, ok = d.get_ok_exists("dry_run")
            if ok:
                body["DryRun"] = v
            body["ClientToken"] = build_client_token("UpdateIpsecServer")
            self.tf.retry("UpdateIpsecServer", None, body, expected=["VpnGateway.Configuring"],
                          timeout_s=TIMEOUT, waits=(3, 3))
        self.read(new=False)

    def destroy(self) -> None:
        body: dict[str, Any] = {"IpsecServerId": self.id, "RegionId": self.tf.region,
                                "ClientToken": build_client_token("DeleteIpsecServer")}
        self.tf.retry("DeleteIpsecServer", None, body, expected=["VpnGateway.Configuring"],
                      timeout_s=TIMEOUT, waits=(3, 3))
        self.id = None


# ---- data source -------------------------------------------------------------------------------
# data_source_alicloud_vpn_ipsec_servers.go: ListIpsecServers with MaxResults = PageSizeLarge (50),
# the name, gateway and `ids` in the request, retried on NeedRetry (5 min), following NextToken;
# `name_regex` filters in the provider; then the attributes are mapped.


def _blocks(obj: dict, key: str, keys: dict[str, str], lifetime: str) -> list[dict]:
    block = obj.get(key) or {}
    if not block:
        return []
    return [{field: (format_int(block.get(wire)) if field == lifetime else block.get(wire))
             for wire, field in keys.items()}]


def data_vpn_ipsec_servers(tf, *, ids: list[str] | None = None, name_regex: str | None = None,
                           ipsec_server_name: str | None = None, vpn_gateway_id: str | None = None) -> dict:
    """data "alicloud_vpn_ipsec_servers": the state it sets (ids, names, servers)."""
    body: dict[str, Any] = {}
    if ipsec_server_name:
        body["IpsecServerName"] = ipsec_server_name
    body["RegionId"] = tf.region
    if vpn_gateway_id:
        body["VpnGatewayId"] = vpn_gateway_id
    body["MaxResults"] = PAGE_SIZE_LARGE
    if ids:
        body["IpsecServerId"] = list(ids)
    pattern = re.compile(name_regex) if name_regex else None
    objects: list[dict] = []
    while True:
        answer = tf.retry("ListIpsecServers", None, body, timeout_s=300, fresh_token=False, waits=(3, 3))
        for item in answer.get("IpsecServers") or []:
            if pattern is not None and not pattern.search(go_fmt(item.get("IpsecServerName"))):
                continue
            objects.append(item)
        token = answer.get("NextToken")
        if not isinstance(token, str) or not token:
            break
        body["NextToken"] = token
    servers = [
        {
            "client_ip_pool": o.get("ClientIpPool"), "create_time": o.get("CreationTime"),
            "effect_immediately": o.get("EffectImmediately"), "idaas_instance_id": o.get("IDaaSInstanceId"),
            "internet_ip": o.get("InternetIp"), "id": go_fmt(o.get("IpsecServerId")),
            "ipsec_server_id": go_fmt(o.get("IpsecServerId")), "ipsec_server_name": o.get("IpsecServerName"),
            "local_subnet": o.get("LocalSubnet"), "max_connections": format_int(o.get("MaxConnections")),
            "multi_factor_auth_enabled": o.get("MultiFactorAuthEnabled"),
            "online_client_count": format_int(o.get("OnlineClientCount")), "psk": o.get("Psk"),
            "psk_enabled": o.get("PskEnabled"), "vpn_gateway_id": o.get("VpnGatewayId"),
            "ike_config": _blocks(o, "IkeConfig", IKE_KEYS, "ike_lifetime"),
            "ipsec_config": _blocks(o, "IpsecConfig", IPSEC_KEYS, "ipsec_lifetime"),
        }
        for o in objects
    ]
    return {"ids": [s["id"] for s in servers], "names": [o.get("IpsecServerName") for o in objects], "servers": servers}
