"""Replays Terraform's calls (spec/terraform-and-traps.md, terraform-provider-alicloud) for
alicloud_vpn_gateway_vpn_attachment, and the tag and resource-group steps of
alicloud_vpn_gateway, alicloud_vpn_customer_gateway and alicloud_vpn_connection.

Terraform signs with V1 and sends everything through RpcPost: the form body carries
RegionId, ClientToken (fresh on every attempt), the JSON-string configs and the flattened
lists; only a few resource ids travel in the query. Retries follow NeedRetry plus each
resource's own retryable codes; NotFound is HTTP 404 or a message containing "NotFound".
"""

from __future__ import annotations

import json
import time
import uuid

from helpers import REGION, new_peer_ip, new_vpc_id

NEED_RETRY = ("ServiceUnavailable", "Rejected.Throttling")


class TerraformError(Exception):
    def __init__(self, status: int, body: dict):
        super().__init__(f"{status} {body}")
        self.status = status
        self.code = body.get("Code", "")
        self.message = body.get("Message", "")

    @property
    def not_found(self) -> bool:  # NotFoundError()
        return self.status == 404 or "NotFound" in self.message


def client_token(action: str) -> str:  # buildClientToken()
    return f"TF-{action}-{int(time.time())}-{uuid.uuid4().hex[:8]}"


def rpc_post(raw, action: str, query: dict | None, body: dict, retry_on=(), timeout: float = 20.0) -> dict:
    """client.RpcPost inside resource.Retry: NeedRetry or an expected code → wait and retry."""
    deadline = time.monotonic() + timeout
    while True:
        params = {"RegionId": REGION, **{k: str(v) for k, v in body.items()}}
        if "ClientToken" in params:
            params["ClientToken"] = client_token(action)
        resp = raw.v1(action, {k: str(v) for k, v in (query or {}).items()}, body_params=params)
        data = resp.json()
        if resp.status == 200:
            return data
        err = TerraformError(resp.status, data)
        retryable = (
            err.code in NEED_RETRY
            or "Throttling" in err.code
            or err.message.startswith("code: 5")
            or err.code in retry_on
        )
        if not retryable or time.monotonic() > deadline:
            raise err
        time.sleep(0.2)


def flatten_tags(prefix: str, tags: dict[str, str]) -> dict[str, str]:
    out = {}
    for i, (k, v) in enumerate(tags.items(), start=1):
        out[f"{prefix}.{i}.Key"] = k
        out[f"{prefix}.{i}.Value"] = v
    return out


def set_resource_tags(raw, rid: str, rtype: str, old: dict[str, str], new: dict[str, str]) -> None:
    """SetResourceTags: UnTagResources for removed/changed keys, then TagResources for added ones."""
    removed = [k for k in old if k not in new or old[k] != new[k]]
    added = {k: v for k, v in new.items() if old.get(k) != v}
    if removed:
        body = {"ResourceId.1": rid, "ResourceType": rtype}
        body.update({f"TagKey.{i}": k for i, k in enumerate(removed, start=1)})
        rpc_post(raw, "UnTagResources", None, body)
    if added:
        body = {"ResourceId.1": rid, "ResourceType": rtype, **flatten_tags("Tag", added)}
        rpc_post(raw, "TagResources", None, body)


def tags_of(obj: dict) -> dict[str, str]:  # tagsToMap($.Tags.Tag)
    return {t["Key"]: t["Value"] for t in obj.get("Tags", {}).get("Tag", [])}


def poll(fn, until, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"state never reached: {value}")
        time.sleep(interval)


ATTACHMENT_RETRY = ("Appliance.Configuring", "VpnGateway.Configuring", "VpnTask.CONFLICT", "TaskConflict")
ATTACHMENT_MODIFY_RETRY = ("VpnConnection.Configuring", "Appliance.Configuring", "VpnTask.CONFLICT", "VpnGateway.Configuring")


def describe_attachment(raw, vco: str) -> dict:
    return rpc_post(raw, "DescribeVpnConnection", None, {"VpnConnectionId": vco})


def attachment_state(raw, vco: str) -> str:
    """VpnGatewayVpnAttachmentStateRefreshFunc on `State`; NotFound reads as ""."""
    try:
        return describe_attachment(raw, vco)["State"]
    except TerraformError as e:
        if e.not_found:
            return ""
        raise


def test_vpn_gateway_vpn_attachment_lifecycle(raw):
    cgw = rpc_post(
        raw, "CreateCustomerGateway", None,
        {"IpAddress": new_peer_ip(), "Asn": "65030", "ClientToken": "x"},
        retry_on=("OperationConflict",),
    )["CustomerGatewayId"]

    # ---- apply: create -----------------------------------------------------------------
    tags = {"Created": "TF", "For": "VpnAttachment"}
    request = {
        "CustomerGatewayId": cgw,
        "LocalSubnet": "0.0.0.0/0",
        "RemoteSubnet": "0.0.0.0/0",
        "NetworkType": "public",
        "Name": "tf-attachment",
        "EffectImmediately": "false",
        "EnableDpd": "true",
        "EnableNatTraversal": "true",
        # Only the keys set in the configuration go into the JSON strings.
        "IkeConfig": json.dumps({"IkeAuthAlg": "md5", "IkeEncAlg": "des", "IkeVersion": "ikev2",
                                 "IkeMode": "main", "IkeLifetime": 86400, "Psk": "tf-test-vpn1",
                                 "IkePfs": "group1", "RemoteId": "testbob2", "LocalId": "testalice2"}),
        "IpsecConfig": json.dumps({"IpsecPfs": "group5", "IpsecEncAlg": "des", "IpsecAuthAlg": "md5",
                                   "IpsecLifetime": 86400}),
        "BgpConfig": json.dumps({"EnableBgp": True, "LocalAsn": 45014, "TunnelCidr": "169.254.11.0/30",
                                 "LocalBgpIp": "169.254.11.1"}),
        "HealthCheckConfig": json.dumps({"enable": True, "sip": "192.168.1.1", "dip": "10.0.0.1",
                                         "interval": 10, "retry": 10, "Policy": "revoke_route"}),
        "ResourceGroupId": "rg-acfmtfattach01",
        **flatten_tags("Tags", tags),
        "ClientToken": "x",
    }
    created = rpc_post(raw, "CreateVpnAttachment", {}, request, retry_on=ATTACHMENT_RETRY)
    vco = created["VpnConnectionId"]
    # The update step on a new resource: only tags, which were already given on create.
    set_resource_tags(raw, vco, "VPNATTACHMENT", {}, tags)
    state = describe_attachment(raw, vco)
    assert state["State"] in ("attached", "active", "init")
    assert state["Name"] == "tf-attachment"
    assert state["NetworkType"] == "public"
    assert state["ResourceGroupId"] == "rg-acfmtfattach01"
    assert state["IkeConfig"]["Psk"] == "tf-test-vpn1"
    assert state["IkeConfig"]["LocalId"] == "testalice2"
    assert state["IpsecConfig"]["IpsecPfs"] == "group5"
    assert state["VpnBgpConfig"]["EnableBgp"] == "true" and state["VpnBgpConfig"]["LocalAsn"] == 45014
    assert state["VcoHealthCheck"]["Enable"] == "true" and state["VcoHealthCheck"]["Retry"] == 10
    assert state["InternetIp"]
    assert tags_of(state) == tags

    # ---- update: modify, wait, move group, retag ----------------------------------------
    modify = {
        "VpnConnectionId": vco,
        "LocalSubnet": "10.40.0.0/16",
        "RemoteSubnet": "192.168.40.0/24",
        "Name": "tf-attachment-2",
        "EnableDpd": "false",
        "IkeConfig": json.dumps({"IkeAuthAlg": "sha256", "Psk": "tf-test-vpn1"}),
        "HealthCheckConfig": json.dumps({"Enable": True, "Dip": "10.40.0.1", "Sip": "192.168.40.1",
                                         "Interval": 5, "Retry": 5, "Policy": "keep_route"}),
        "ClientToken": "x",
    }
    rpc_post(raw, "ModifyVpnAttachmentAttribute", {}, modify, retry_on=ATTACHMENT_MODIFY_RETRY)
    poll(lambda: attachment_state(raw, vco), lambda s: s in ("attached", "active", "init"))
    rpc_post(raw, "MoveVpnResourceGroup", {},
             {"InstanceId": vco, "NewResourceGroupId": "rg-acfmtfattach02", "ResourceType": "VPNATTACHMENT"})
    new_tags = {"Created": "TF-2", "Owner": "net"}
    set_resource_tags(raw, vco, "VPNATTACHMENT", tags, new_tags)
    state = describe_attachment(raw, vco)
    assert (state["Name"], state["LocalSubnet"], state["EnableDpd"]) == ("tf-attachment-2", "10.40.0.0/16", False)
    assert state["IkeConfig"]["IkeAuthAlg"] == "sha256" and state["IkeConfig"]["IkePfs"] == "group1"
    assert state["VcoHealthCheck"]["Policy"] == "keep_route" and state["VcoHealthCheck"]["Interval"] == 5
    assert state["ResourceGroupId"] == "rg-acfmtfattach02"
    assert tags_of(state) == new_tags

    # ---- destroy --------------------------------------------------------------------------
    rpc_post(raw, "DeleteVpnAttachment", {}, {"VpnConnectionId": vco, "ClientToken": "x"})
    assert poll(lambda: attachment_state(raw, vco), lambda s: s == "") == ""
    # A second destroy (e.g. after a lost answer) sees NotFound, which Terraform treats as done.
    try:
        rpc_post(raw, "DeleteVpnAttachment", {}, {"VpnConnectionId": vco, "ClientToken": "x"})
        raise AssertionError("delete of a deleted attachment succeeded")
    except TerraformError as e:
        assert e.not_found and e.code == "InvalidVpnConnectionInstanceId.NotFound"
    rpc_post(raw, "DeleteCustomerGateway", None, {"CustomerGatewayId": cgw}, retry_on=("VpnGateway.Configuring",))


def test_tag_and_group_steps_of_gateway_customer_gateway_and_connection(raw):
    # alicloud_vpn_gateway: create, poll Status=active, then tags with "VpnGateWay".
    gw = rpc_post(raw, "CreateVpnGateway", None,
                  {"VpcId": new_vpc_id(), "Bandwidth": "10", "AutoPay": "true", "ClientToken": "x"},
                  retry_on=("OperationFailed.SslNotSupport",))["VpnGatewayId"]
    poll(lambda: rpc_post(raw, "DescribeVpnGateway", None, {"VpnGatewayId": gw}),
         lambda g: g["Status"] == "active")
    set_resource_tags(raw, gw, "VpnGateWay", {}, {"Name": "gw", "Env": "test"})
    g = rpc_post(raw, "DescribeVpnGateway", None, {"VpnGatewayId": gw})
    assert tags_of(g) == {"Name": "gw", "Env": "test"}
    # Update: resource_group_id → MoveVpnResourceGroup with InstanceId in the query.
    rpc_post(raw, "MoveVpnResourceGroup", {"InstanceId": gw},
             {"NewResourceGroupId": "rg-acfmtfgw0001", "ResourceType": "VpnGateWay"})
    set_resource_tags(raw, gw, "VpnGateWay", {"Name": "gw", "Env": "test"}, {"Name": "gw", "Env": "prod"})
    g = rpc_post(raw, "DescribeVpnGateway", None, {"VpnGatewayId": gw})
    assert g["ResourceGroupId"] == "rg-acfmtfgw0001"
    assert tags_of(g) == {"Name": "gw", "Env": "prod"}

    # alicloud_vpn_customer_gateway: create (no polling), then tags with "CUSTOMERGATEWAY".
    cgw = rpc_post(raw, "CreateCustomerGateway", None,
                   {"IpAddress": new_peer_ip(), "Name": "tf-cgw", "ClientToken": "x"},
                   retry_on=("OperationConflict",))["CustomerGatewayId"]
    set_resource_tags(raw, cgw, "CUSTOMERGATEWAY", {}, {"Site": "a"})
    set_resource_tags(raw, cgw, "CUSTOMERGATEWAY", {"Site": "a"}, {})
    c = rpc_post(raw, "DescribeCustomerGateway", None, {"CustomerGatewayId": cgw})
    assert tags_of(c) == {}

    # alicloud_vpn_connection: Tags.N on create, poll State=active, then "VPNCONNECTION".
    vco = rpc_post(raw, "CreateVpnConnection", None,
                   {"VpnGatewayId": gw, "CustomerGatewayId": cgw, "LocalSubnet": "10.50.0.0/16",
                    "RemoteSubnet": "192.168.50.0/24", **flatten_tags("Tags", {"A": "1"}), "ClientToken": "x"},
                   retry_on=("Appliance.Configuring", "VpnGateway.Configuring", "VpnTask.CONFLICT",
                             "VpnConnection.Configuring"))["VpnConnectionId"]
    poll(lambda: rpc_post(raw, "DescribeVpnConnection", None, {"VpnConnectionId": vco}),
         lambda v: v["State"] == "active")
    set_resource_tags(raw, vco, "VPNCONNECTION", {}, {"A": "1"})
    set_resource_tags(raw, vco, "VPNCONNECTION", {"A": "1"}, {"A": "2", "B": "3"})
    v = rpc_post(raw, "DescribeVpnConnection", None, {"VpnConnectionId": vco})
    assert tags_of(v) == {"A": "2", "B": "3"}
    # The gateway's group move took the connection along.
    assert v["ResourceGroupId"] == "rg-acfmtfgw0001"

    # Destroy in dependency order, polling until NotFound like Terraform.
    rpc_post(raw, "DeleteVpnConnection", None, {"VpnConnectionId": vco},
             retry_on=("Appliance.Configuring", "VpnGateway.Configuring", "VpnTask.CONFLICT",
                       "VpnConnection.Configuring"))
    rpc_post(raw, "DeleteVpnGateway", None, {"VpnGatewayId": gw}, retry_on=("VpnGateway.Configuring",))
    rpc_post(raw, "DeleteCustomerGateway", None, {"CustomerGatewayId": cgw}, retry_on=("VpnGateway.Configuring",))
    for action, key, rid in (("DescribeVpnGateway", "VpnGatewayId", gw),
                             ("DescribeVpnConnection", "VpnConnectionId", vco)):
        try:
            rpc_post(raw, action, None, {key: rid})
            raise AssertionError(f"{rid} still there")
        except TerraformError as e:
            assert e.not_found, e
