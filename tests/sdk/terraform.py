"""Terraform's side of the wire, replayed: the RpcPost client of terraform-provider-alicloud and
the create/read/update/delete functions of its five IPsec-VPN resources, call for call
(alicloud/resource_alicloud_vpn_{gateway,customer_gateway,connection,gateway_vpn_attachment,
gateway_vco_route}.go, service_alicloud_vpn_gateway_v2.go, service_alicloud_vpc.go, errors.go,
common.go at 81c43b67; shared/spec/terraform-and-traps.md). The tests in test_terraform.py drive
these against a running `vpngw serve`.

The client (connectivity.RpcPost → tea-rpc DoRequest):
- The query carries Action, Format=json, Version, Timestamp, SignatureNonce, the V1 signature
  fields and whatever the resource puts in its `query` map (a few resource IDs, sometimes
  RegionId). The resource's `request` map is the form body, flattened like rpcutil.Query
  (`Tags.1.Key`, `TunnelOptionsSpecification.2.TunnelIkeConfig.Psk`) with Go's %v formatting
  (booleans `true`/`false`). The V1 HMAC-SHA1 signature covers query and body together.
- JSON-string parameters are json.Marshal of a Go map: keys sorted, no spaces.
- Writes run in resource.Retry: the resource's expected codes (IsExpectedErrors: same code, or
  the code is in the error body) or NeedRetry (ServiceUnavailable, *Throttling*, any HTTP 5xx)
  → incrementalWait (3 s, then 5 s per attempt; 3 s/3 s for VCO routes) plus the retry loop's
  own back-off, and again. Most writes take a fresh ClientToken after every attempt
  (buildClientToken); CreateVpnAttachment, ModifyVpnAttachmentAttribute and the VCO route
  calls keep their first one.
- Waits are StateChangeConf.WaitForState: sleep Delay, refresh, then back off (MinTimeout 3 s,
  at most 10 s); a refresh answering NotFound (HTTP 404, or "NotFound" in the message) returns
  no object: the target of a delete wait, a failure for the others after 20 tries.

Every duration is Terraform's, multiplied by `Provider.scale` (0.01 by default: a 20 s delay is
0.2 s), so a replay keeps the shape of the real timing and stays fast.

The resource classes keep what Terraform would keep: `state` (the attributes Read sets, with
the provider's conversions: Spec "10M" → bandwidth 10, IpsecVpn "enable" → true, formatBool,
LocalSubnet split on commas, Tags.Tag → map) and `raw` (the last Describe answer, for the type
checks). `plan(config)` lists the configured attributes whose state differs, as `terraform plan`
would show them (compared as Terraform's flatmap strings).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from helpers import REGION
from signing import VPC_VERSION

ECS_VERSION = "2014-05-26"  # the ecs client of alibaba-cloud-sdk-go (data "alicloud_zones")
RESOURCE_MANAGER_VERSION = "2020-03-31"  # data "alicloud_resource_manager_resource_groups"

# --------------------------------------------------------------------------- the wire


class TerraformError(Exception):
    """A tea.SDKError from RpcPost: HTTP status, Code, Message and the error body."""

    def __init__(self, action: str, status: int, body: dict):
        self.action = action
        self.status = status
        self.code = body.get("Code", "")
        self.message = body.get("Message", "")
        self.data = body
        super().__init__(f"{action}: HTTP {status} {self.code}: {self.message}")

    @property
    def sdk_message(self) -> str:
        """tea-rpc's message: `code: <status>, <Message> request id: <RequestId>`."""
        return f"code: {self.status}, {self.message} request id: {self.data.get('RequestId', '')}"

    @property
    def not_found(self) -> bool:  # NotFoundError(): HTTP 404 or "NotFound" in the message
        return self.status == 404 or "NotFound" in self.sdk_message

    @property
    def need_retry(self) -> bool:  # NeedRetry()
        return (
            self.code in ("ServiceUnavailable", "Rejected.Throttling")
            or "Throttling" in self.code
            or self.sdk_message.startswith("code: 5")
        )

    def expected(self, codes) -> bool:
        """IsExpectedErrors() on a tea.SDKError: the code itself, a code the expected one starts
        with, or the expected code anywhere in the error body."""
        data = json.dumps(self.data)
        return any(self.code == c or c.startswith(self.code) or c in data for c in codes)


def build_client_token(action: str) -> str:
    """buildClientToken(): TF-<action>-<unix seconds>-<uuid>, at most 64 characters."""
    return f"TF-{action}-{int(time.time())}-{uuid.uuid4()}"[:64]


def go_json(value: Any) -> str:
    """json.Marshal of a map[string]interface{}: sorted keys, no spaces."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def go_fmt(value: Any) -> str:
    """fmt.Sprintf("%v"): Go's spelling of booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flatten(params: dict, prefix: str = "") -> dict[str, str]:
    """rpcutil.Query: nested lists become `.1`, `.2`, nested maps `.Key`, leaves %v."""
    out: dict[str, str] = {}
    for key, value in params.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        elif isinstance(value, list):
            out.update(flatten({str(i): v for i, v in enumerate(value, start=1)}, name))
        elif value is not None:
            out[name] = go_fmt(value)
    return out


@dataclass
class Call:
    """One HTTP request the provider sent, and what came back."""

    action: str
    query: dict[str, str]
    body: dict[str, str]
    status: int
    answer: dict

    @property
    def code(self) -> str | None:
        return self.answer.get("Code") if self.status != 200 else None


class Provider:
    """The provider's client and its waiting machinery, with Terraform's times × `scale`."""

    def __init__(self, raw, *, region: str = REGION, scale: float = 0.01):
        self.raw = raw
        self.region = region
        self.scale = scale
        self.calls: list[Call] = []

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds * self.scale)

    # ---- calls ----------------------------------------------------------------------

    def rpc_post(self, action: str, query: dict | None, body: dict | None, *, method: str = "POST",
                 version: str = VPC_VERSION) -> dict:
        """One client.RpcPost (client.RpcGet with method="GET": the query only; another
        product's `version`); raises TerraformError on HTTP 4xx/5xx."""
        q = flatten(query or {})
        b = flatten(body or {})
        resp = self.raw.v1(action, q, body_params=b, fmt="json", method=method, version=version)
        answer = resp.json()
        self.calls.append(Call(action, q, b, resp.status, answer))
        if resp.status >= 400:
            raise TerraformError(action, resp.status, answer)
        return answer

    def retry(
        self,
        action: str,
        query: dict | None,
        body: dict,
        *,
        expected=(),
        timeout_s: float,
        fresh_token: bool = True,
        waits: tuple[float, float] = (3, 5),
        method: str = "POST",
        version: str = VPC_VERSION,
    ) -> dict:
        """resource.Retry(timeout, …) around RpcPost: the expected codes and NeedRetry are
        retried after incrementalWait(first, then) and the loop's back-off (0.5 s, 1 s, 2 s, …,
        at most 10 s); with `fresh_token` the ClientToken is rebuilt after every attempt."""
        deadline = time.monotonic() + timeout_s * self.scale
        attempt = 0
        backoff = 0.5
        while True:
            try:
                return self.rpc_post(action, query, body, method=method, version=version)
            except TerraformError as e:
                if not (e.expected(expected) or e.need_retry) or time.monotonic() > deadline:
                    raise
            finally:
                if fresh_token and "ClientToken" in body:
                    body["ClientToken"] = build_client_token(action)
            attempt += 1
            self.sleep(waits[0] if attempt == 1 else waits[1])
            self.sleep(backoff)
            backoff = min(backoff * 2, 10)

    def read(self, action: str, query: dict | None, body: dict | None) -> dict:
        """The Describe* helpers: resource.Retry(1 min) on NeedRetry only."""
        return self.retry(action, query, body or {}, timeout_s=60, fresh_token=False)

    def wait_for_state(
        self,
        refresh: Callable[[], tuple[Any, str]],
        target: list[str],
        *,
        delay_s: float,
        timeout_s: float,
        pending: list[str] = (),
        poll_interval_s: float | None = None,
        continuous: int = 1,
    ) -> Any:
        """StateChangeConf.WaitForState with BuildStateConf's MinTimeout of 3 s. `refresh`
        returns (object, state); (None, "") is "not found", the target when `target` is empty."""
        deadline = time.monotonic() + timeout_s * self.scale
        self.sleep(delay_s)
        wait, occurrences, not_found, last = 0.1, 0, 0, None
        while True:
            obj, state = refresh()
            last = (obj is not None, state)
            if obj is None:
                if not target:
                    occurrences += 1
                    if occurrences >= continuous:
                        return None
                else:
                    occurrences = 0
                    not_found += 1
                    if not_found > 20:
                        raise AssertionError(f"resource not found while waiting for {target}")
            elif state in target:
                occurrences += 1
                if occurrences >= continuous:
                    return obj
            else:
                occurrences = 0
                if pending and state not in pending:
                    raise AssertionError(f"unexpected state {state!r}, wanted {target}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timeout waiting for {target or 'deletion'} (last: {last})")
            if occurrences == 0:
                wait *= 2
            if poll_interval_s is not None:
                wait = poll_interval_s
            else:
                wait = min(max(wait, 3), 10)
            self.sleep(wait)

    # ---- the call log ---------------------------------------------------------------------

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[Call]:
        return self.calls[mark:]

    def actions(self, mark: int = 0) -> list[str]:
        """The actions sent since `mark`, runs of the same action collapsed into one."""
        out: list[str] = []
        for c in self.calls[mark:]:
            if not out or out[-1] != c.action:
                out.append(c.action)
        return out


# ----------------------------------------------------------------------- resource data


def _empty(v: Any) -> bool:
    return v is None or v is False or v == 0 or v == "" or v == [] or v == {}


class Data:
    """The parts of schema.ResourceData the resources use. `config` is the configuration being
    applied, `state` what the refresh before it read ({} for a new resource). Attributes and block
    fields absent from the configuration read from the state (they are Optional+Computed), absent
    block fields of a new resource are their schema's zero values (0 and false are then sent, ""
    is not), and HasChange compares the planned value with the refreshed state."""

    def __init__(self, config: dict, *, prior: dict, state: dict, new: bool, blocks: dict, sets: tuple):
        self.config = config
        self.prior = prior  # the configuration applied before
        self.state = state
        self.is_new = new
        self.blocks = blocks  # block name → {field: zero value}
        self.sets = sets

    def get(self, key: str) -> Any:
        if key in self.blocks:
            old = self.state.get(key) or []
            if key not in self.config:
                return old
            merged = []
            for i, item in enumerate(self.config[key]):
                zeros = self.blocks[key]
                base = dict(zeros)
                if i < len(old):
                    for k, v in old[i].items():
                        if v is not None:  # a TypeString field keeps a number as its digits
                            base[k] = go_fmt(v) if zeros.get(k) == "" and not isinstance(v, str) else v
                base.update(item)
                merged.append(base)
            return merged
        if key in self.config:
            return self.config[key]
        return self.state.get(key)

    def get_ok(self, key: str) -> tuple[Any, bool]:
        v = self.get(key)
        return v, not _empty(v)

    def get_ok_exists(self, key: str, default: Any = None) -> tuple[Any, bool]:
        if key in self.config:
            return self.config[key], True
        return default, default is not None

    def has_change(self, key: str) -> bool:
        if self.is_new:
            return not _empty(self.config.get(key))
        if key not in self.config:
            # Removed from the configuration: an Optional+Computed attribute keeps its value.
            return key in self.prior and key not in self.blocks and not _empty(self.state.get(key))
        return bool(diff({key: self.config[key]}, self.state, sets=self.sets))


def tags_to_map(obj: dict) -> dict[str, str]:
    """tagsToMap(jsonpath $.Tags.Tag)."""
    return {t["Key"]: t["Value"] for t in (obj.get("Tags") or {}).get("Tag") or []}


def convert_tags(tags: dict[str, str]) -> list[dict[str, str]]:
    """ConvertTags(): a list of {Key, Value} maps (flattened as `Tags.N.Key`)."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def format_bool(v: Any) -> bool:
    """formatBool(): a bool, or a string strconv.ParseBool accepts; anything else panics."""
    if v is None:
        return False
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v == "":
            return False
        if v in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if v in ("0", "f", "F", "FALSE", "false", "False"):
            return False
    raise AssertionError(f"formatBool would panic on {v!r}")


def format_int(v: Any) -> int:
    """formatInt(): a number, or a string strconv.Atoi accepts; anything else panics."""
    if v is None:
        return 0
    if isinstance(v, bool):
        raise AssertionError(f"formatInt would panic on {v!r}")
    if isinstance(v, (int, float)):
        return int(v)
    if isinstance(v, str):
        return 0 if v == "" else int(v)
    raise AssertionError(f"formatInt would panic on {v!r}")


def split_commas(v: Any) -> list[str] | None:
    """jsonata $split($.X, ",")."""
    return None if v is None else v.split(",")


def _flat(value: Any) -> Any:
    """An attribute as Terraform's flatmap state holds it: strings, lists, maps of them."""
    if isinstance(value, dict):
        return {k: _flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_flat(v) for v in value]
    return None if value is None else go_fmt(value)


def diff(config: dict, state: dict, *, sets: tuple[str, ...] = ()) -> dict[str, tuple[Any, Any]]:
    """The configured attributes whose state differs, as `terraform plan` would list them:
    blocks compare their configured fields only, `sets` compare without order."""
    out: dict[str, tuple[Any, Any]] = {}
    for key, want in config.items():
        have = state.get(key)
        if key in sets:
            if sorted(_flat(want)) != sorted(_flat(have) or []):
                out[key] = (want, have)
        elif isinstance(want, list) and want and isinstance(want[0], dict):
            have = have or []
            if len(have) != len(want):
                out[key] = (want, have)
                continue
            for i, (w, h) in enumerate(zip(want, have)):
                sub = diff(w, h)
                out.update({f"{key}.{i}.{k}": v for k, v in sub.items()})
        elif _flat(want) != _flat(have):
            out[key] = (want, have)
    return out


class Resource:
    """A resource instance: `apply` (create or update), `refresh`, `plan`, `destroy`."""

    TYPE = ""
    BLOCKS: dict[str, dict[str, Any]] = {}
    SETS: tuple[str, ...] = ()

    def __init__(self, tf: Provider):
        self.tf = tf
        self.id: str | None = None
        self.config: dict = {}
        self.state: dict = {}
        self.raw: dict = {}

    def data(self, config: dict, *, new: bool) -> Data:
        return Data(config, prior={} if new else self.config, state={} if new else self.state, new=new,
                    blocks=self.BLOCKS, sets=self.SETS)

    def apply(self, config: dict) -> dict:
        config = dict(config)
        if self.id is None:
            d = self.data(config, new=True)
            self.config = config
            self.id = self.create(d)
        else:
            assert self.refresh() is not None, f"{self.TYPE} {self.id} is gone"  # apply refreshes first
            d = self.data(config, new=False)
            self.config = config
            self.update(d)
        return self.state

    def keep(self, read: dict) -> dict:
        """The new state: what Read set, over the configured values it does not read (Terraform
        keeps those, e.g. a gateway's `period`)."""
        self.state = {**{k: v for k, v in self.config.items() if k not in read}, **read}
        return self.state

    def refresh(self) -> dict | None:
        """`terraform refresh`: Read; None (and the resource leaves the state) when gone."""
        state = self.read(new=False)
        if state is None:
            self.id = None
        return state

    def plan(self, config: dict | None = None) -> dict[str, tuple[Any, Any]]:
        """`terraform plan` after a refresh: the configured attributes that would change."""
        if self.refresh() is None:
            return {"<resource>": ("create", None)}
        return diff(self.config if config is None else config, self.state, sets=self.SETS)

    # ---- to implement -------------------------------------------------------------------

    def describe(self) -> dict:
        raise NotImplementedError

    def create(self, d: Data) -> str:
        raise NotImplementedError

    def read(self, *, new: bool) -> dict | None:
        raise NotImplementedError

    def update(self, d: Data) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        raise NotImplementedError

    # ---- shared steps -----------------------------------------------------------------

    def refresh_status(self) -> tuple[dict | None, str]:
        """The provider's `<Resource>StateRefreshFunc(id, "Status")`: (None, "") once the resource
        is gone (NotFound)."""
        try:
            obj = self.describe()
        except TerraformError as e:
            if e.not_found:
                return None, ""
            raise
        return obj, go_fmt(obj.get("Status"))

    def described(self, *, new: bool) -> dict | None:
        """Read's first step: the Describe call, kept in `raw`; None when a resource Terraform
        already had is gone (NotFound on a refresh); NotFound right after Create is an error."""
        try:
            obj = self.describe()
        except TerraformError as e:
            if not new and e.not_found:
                return None
            raise
        self.raw = obj
        return obj

    def set_resource_tags(self, d: Data, resource_type: str, timeout_s: float) -> None:
        """VPNGatewayServiceV2.SetResourceTags: UnTagResources for removed or changed keys,
        then TagResources with every configured tag."""
        if not d.has_change("tags"):
            return
        old = d.state.get("tags") or {}
        new = d.config.get("tags") or {}
        removed = [k for k, v in old.items() if k not in new or new[k] != v]
        if removed:
            body = {"ResourceId.1": self.id, "RegionId": self.tf.region, "ResourceType": resource_type}
            body.update({f"TagKey.{i}": k for i, k in enumerate(removed, start=1)})
            self.tf.retry("UnTagResources", {}, body, timeout_s=timeout_s, fresh_token=False)
        if new:
            body = {"ResourceId.1": self.id, "RegionId": self.tf.region, "ResourceType": resource_type}
            for i, (k, v) in enumerate(new.items(), start=1):
                body[f"Tag.{i}.Key"] = k
                body[f"Tag.{i}.Value"] = v
            self.tf.retry("TagResources", {}, body, timeout_s=timeout_s, fresh_token=False)


def _json_block(block: list[dict] | None, keys: dict[str, str]) -> str | None:
    """The JSON string Terraform builds from a one-element block: each mapped field whose value
    is neither nil nor "" (so 0 and false are sent), keyed as the API spells it."""
    if not block:
        return None
    item = block[0]
    return go_json({api: item[tf] for tf, api in keys.items() if item.get(tf) is not None and item.get(tf) != ""})


# --------------------------------------------------------------------- alicloud_vpn_gateway


class VpnGateway(Resource):
    """alicloud_vpn_gateway (timeouts: create 15 min, update 5 min, delete 5 min)."""

    TYPE = "alicloud_vpn_gateway"
    RESOURCE_TYPE = "VpnGateWay"
    CREATE, UPDATE, DELETE = 900, 300, 300

    def describe(self) -> dict:
        """DescribeVPNGatewayVPNGateway: VpnGatewayId and RegionId in the query, empty body."""
        return self.tf.read("DescribeVpnGateway", {"VpnGatewayId": self.id, "RegionId": self.tf.region}, {})

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {
            "RegionId": self.tf.region,
            "ClientToken": build_client_token("CreateVpnGateway"),
            "VpcId": d.get("vpc_id"),
        }
        for key, param in (("vswitch_id", "VSwitchId"), ("name", "Name"), ("vpn_gateway_name", "Name"),
                           ("network_type", "NetworkType")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        body["AutoPay"] = d.get_ok_exists("auto_pay")[0] if d.get_ok_exists("auto_pay")[1] else True
        body["EnableIpsec"] = d.get_ok_exists("enable_ipsec", True)[0]  # Default: true
        body["EnableSsl"] = d.get_ok_exists("enable_ssl", False)[0]  # Default: false
        v, ok = d.get_ok("ssl_connections")
        if ok and body["EnableSsl"]:
            body["SslConnections"] = v
        for key, param in (("vpn_type", "VpnType"), ("disaster_recovery_vswitch_id", "DisasterRecoveryVSwitchId")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        charge = {"Subscription": "PREPAY", "PrePaid": "PREPAY", "PayAsYouGo": "POSTPAY", "PostPaid": "POSTPAY"}
        v, ok = d.get_ok("payment_type")
        if ok:
            body["InstanceChargeType"] = charge.get(v, v)
        body["Bandwidth"] = d.get("bandwidth")
        v, ok = d.get_ok("resource_group_id")
        if ok:
            body["ResourceGroupId"] = v
        period = d.config.get("period", 1)  # Default: 1
        if period and body.get("InstanceChargeType") == "PREPAY":
            body["Period"] = period
        answer = self.tf.retry("CreateVpnGateway", {}, body, expected=["OperationFailed.SslNotSupport"],
                               timeout_s=self.CREATE)
        self.id = go_fmt(answer["VpnGatewayId"])
        self.tf.wait_for_state(self.refresh_status, ["active"], delay_s=20, timeout_s=self.CREATE)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        query = {"VpnGatewayId": self.id}
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("ModifyVpnGatewayAttribute")}
        update = False
        if d.has_change("description"):
            update, body["Description"] = True, d.get("description")
        if d.has_change("auto_propagate"):
            update, body["AutoPropagate"] = True, d.get("auto_propagate")
        if not d.is_new and d.has_change("name"):
            update, body["Name"] = True, d.get("name")
        if not d.is_new and d.has_change("vpn_gateway_name"):
            update, body["Name"] = True, d.get("vpn_gateway_name")
        if update:
            self.tf.retry("ModifyVpnGatewayAttribute", query, body, timeout_s=self.UPDATE)
            self.tf.wait_for_state(self.refresh_status, ["active"], delay_s=5, timeout_s=self.UPDATE)
        if d.get_ok("resource_group_id")[1] and not d.is_new and d.has_change("resource_group_id"):
            self.tf.retry(
                "MoveVpnResourceGroup",
                {"InstanceId": self.id},
                {"RegionId": self.tf.region, "NewResourceGroupId": d.get("resource_group_id"),
                 "ResourceType": self.RESOURCE_TYPE},
                timeout_s=self.UPDATE,
                fresh_token=False,
            )
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.UPDATE)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        charge = {"Prepay": "Subscription", "PostpayByFlow": "PayAsYouGo"}
        spec = obj.get("Spec")
        s = {
            "auto_propagate": obj.get("AutoPropagate"),
            "create_time": obj.get("CreateTime"),
            "description": obj.get("Description"),
            "disaster_recovery_vswitch_id": obj.get("DisasterRecoveryVSwitchId"),
            "network_type": obj.get("NetworkType"),
            "payment_type": charge.get(obj.get("ChargeType"), obj.get("ChargeType")),
            "resource_group_id": obj.get("ResourceGroupId"),
            "ssl_connections": obj.get("SslMaxConnections"),
            "status": obj.get("Status"),
            "vswitch_id": obj.get("VSwitchId"),
            "vpc_id": obj.get("VpcId"),
            "vpn_gateway_name": obj.get("Name"),
            "vpn_type": obj.get("VpnType"),
            "internet_ip": obj.get("InternetIp"),
            "business_status": obj.get("BusinessStatus"),
            "tags": tags_to_map(obj),
            # $substringBefore($.Spec, "M") through formatInt
            "bandwidth": format_int(spec.split("M")[0]) if isinstance(spec, str) else format_int(spec),
            "enable_ipsec": obj.get("IpsecVpn") == "enable",
            "enable_ssl": obj.get("SslVpn") == "enable",
            "ssl_vpn_internet_ip": obj.get("SslVpnInternetIp"),
            "disaster_recovery_internet_ip": obj.get("DisasterRecoveryInternetIp"),
        }
        s["name"] = s["vpn_gateway_name"]
        return self.keep(s)

    def destroy(self) -> None:
        if self.state.get("payment_type") == "Subscription" or self.config.get("payment_type") == "Subscription":
            self.id = None  # Terraform only forgets a subscription gateway
            return
        body = {"RegionId": self.tf.region, "ClientToken": build_client_token("DeleteVpnGateway")}
        try:
            self.tf.retry("DeleteVpnGateway", {"VpnGatewayId": self.id}, body,
                          expected=["VpnGateway.Configuring"], timeout_s=self.DELETE)
        except TerraformError as e:
            if e.expected(["INSTANCE_NOT_EXISTS", "IncorrectStatus.VpnGateway", "InvalidVpnGatewayId.NotFound",
                           "InvalidRegionId.NotFound"]):
                self.id = None
                return
            raise
        self.tf.wait_for_state(self.refresh_status, [], delay_s=5, timeout_s=self.DELETE)
        self.id = None


# ---------------------------------------------- alicloud_vpn_gateway_enhanced_vpn_gateway


class EnhancedVpnGateway(Resource):
    """alicloud_vpn_gateway_enhanced_vpn_gateway (timeouts: 5 min each). Every call is an RpcPost
    with an empty query: the parameters travel in the body."""

    TYPE = "alicloud_vpn_gateway_enhanced_vpn_gateway"
    RESOURCE_TYPE = "VpnGateWay"
    CREATE = UPDATE = DELETE = 300

    def describe(self) -> dict:
        """DescribeVpnGatewayEnhancedVpnGateway: DescribeVpnGateway, InvalidVpnGatewayInstanceId.NotFound
        is "gone"."""
        return self.tf.read("DescribeVpnGateway", {}, {"VpnGatewayId": self.id, "RegionId": self.tf.region})

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {
            "RegionId": self.tf.region,
            "ClientToken": build_client_token("CreateEnhancedVpnGateway"),
            "VpcId": d.get("vpc_id"),
        }
        for key, param in (("vpn_type", "VpnType"), ("vswitch_id", "VSwitchId"), ("network_type", "NetworkType"),
                           ("disaster_recovery_vswitch_id", "DisasterRecoveryVSwitchId"),
                           ("vpn_gateway_name", "Name")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        body["GatewayType"] = d.get("gateway_type")
        answer = self.tf.retry("CreateEnhancedVpnGateway", {}, body, timeout_s=self.CREATE)
        self.id = go_fmt(answer["VpnGatewayId"])
        self.tf.wait_for_state(self.refresh_status, ["active"], delay_s=5, timeout_s=self.CREATE)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"VpnGatewayId": self.id, "RegionId": self.tf.region,
                                "ClientToken": build_client_token("UpdateEnhancedVpnGateway")}
        update = False
        if d.has_change("description"):
            update, body["Description"] = True, d.get("description")
        if d.has_change("auto_propagate"):
            update, body["AutoPropagate"] = True, d.get("auto_propagate")
        if not d.is_new and d.has_change("vpn_gateway_name"):
            update, body["Name"] = True, d.get("vpn_gateway_name")
        if update:
            self.tf.retry("UpdateEnhancedVpnGateway", {}, body, timeout_s=self.UPDATE)
            self.tf.wait_for_state(self.refresh_status, ["active"], delay_s=5, timeout_s=self.UPDATE)
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.UPDATE)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        s = {
            "auto_propagate": obj.get("AutoPropagate"),
            "create_time": obj.get("CreateTime"),
            "description": obj.get("Description"),
            "disaster_recovery_vswitch_id": obj.get("DisasterRecoveryVSwitchId"),
            "gateway_type": obj.get("GatewayType"),
            "network_type": obj.get("NetworkType"),
            "status": obj.get("Status"),
            "vswitch_id": obj.get("VSwitchId"),
            "vpc_id": obj.get("VpcId"),
            "vpn_gateway_name": obj.get("Name"),
            "vpn_type": obj.get("VpnType"),
        }
        # DescribeEnhancedVpnGatewayListTagResources, then tagsToMap($.TagResources.TagResource).
        listed = self.tf.read("ListTagResources", {}, {"ResourceId.1": self.id, "RegionId": self.tf.region,
                                                       "ResourceType": self.RESOURCE_TYPE})
        s["tags"] = {t["TagKey"]: t["TagValue"] for t in (listed.get("TagResources") or {}).get("TagResource") or []}
        return self.keep(s)

    def destroy(self) -> None:
        body = {"VpnGatewayId": self.id, "RegionId": self.tf.region,
                "ClientToken": build_client_token("DeleteEnhancedVpnGateway")}
        try:
            self.tf.retry("DeleteEnhancedVpnGateway", {}, body, timeout_s=self.DELETE)
        except TerraformError as e:
            if e.not_found:
                self.id = None
                return
            raise

        def listed() -> tuple[dict, str]:
            """DescribeAsyncVpnGatewayEnhancedVpnGatewayStateRefreshFunc(…, "$.TotalCount")."""
            obj = self.tf.read("DescribeVpnGateways", {}, {"VpnGatewayId": self.id, "RegionId": self.tf.region})
            return obj, go_fmt(obj.get("TotalCount"))

        self.tf.wait_for_state(listed, ["0"], delay_s=5, timeout_s=self.DELETE)
        self.id = None


# ------------------------------------------------------------ alicloud_vpn_customer_gateway


class CustomerGateway(Resource):
    """alicloud_vpn_customer_gateway (5 min each); no waits at all."""

    TYPE = "alicloud_vpn_customer_gateway"
    RESOURCE_TYPE = "CUSTOMERGATEWAY"
    TIMEOUT = 300

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {
            "RegionId": self.tf.region,
            "ClientToken": build_client_token("CreateCustomerGateway"),
            "IpAddress": d.get("ip_address"),
        }
        for key, param in (("description", "Description"), ("asn", "Asn"), ("name", "Name"),
                           ("customer_gateway_name", "Name")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = v
        answer = self.tf.retry("CreateCustomerGateway", None, body, expected=["OperationConflict"],
                               timeout_s=self.TIMEOUT)
        self.id = go_fmt(answer["CustomerGatewayId"])
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {
            "CustomerGatewayId": self.id,
            "RegionId": self.tf.region,
            "ClientToken": build_client_token("ModifyCustomerGatewayAttribute"),
        }
        update = False
        for key, param in (("description", "Description"), ("name", "Name"), ("customer_gateway_name", "Name")):
            if not d.is_new and d.has_change(key):
                update, body[param] = True, d.get(key)
        if update:
            self.tf.retry("ModifyCustomerGatewayAttribute", None, body, timeout_s=self.TIMEOUT)
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.TIMEOUT)
        self.read(new=d.is_new)

    def describe(self) -> dict:
        """DescribeVPNGatewayCustomerGateway: CustomerGatewayId in the query, RegionId in the body."""
        return self.tf.read("DescribeCustomerGateway", {"CustomerGatewayId": self.id}, {"RegionId": self.tf.region})

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        self.state = {
            "asn": obj.get("Asn"),
            "create_time": obj.get("CreateTime"),
            "customer_gateway_name": obj.get("Name"),
            "description": obj.get("Description"),
            "ip_address": obj.get("IpAddress"),
            "tags": tags_to_map(obj),
        }
        self.state["name"] = self.state["customer_gateway_name"]
        return self.keep(self.state)

    def destroy(self) -> None:
        body = {"CustomerGatewayId": self.id, "RegionId": self.tf.region,
                "ClientToken": build_client_token("DeleteCustomerGateway")}
        try:
            self.tf.retry("DeleteCustomerGateway", None, body, expected=["VpnGateway.Configuring"],
                          timeout_s=self.TIMEOUT)
        except TerraformError as e:
            if not e.expected(["InvalidCustomerGatewayInstanceId.NotFound"]):
                raise
        self.id = None


# ------------------------------------------------------------------ alicloud_vpn_connection

_IKE_KEYS = {  # resource_alicloud_vpn_connection.go: ike_config field → IkeConfig key
    "psk": "Psk", "ike_version": "IkeVersion", "ike_mode": "IkeMode", "ike_enc_alg": "IkeEncAlg",
    "ike_auth_alg": "IkeAuthAlg", "ike_pfs": "IkePfs", "ike_lifetime": "IkeLifetime",
    "ike_local_id": "LocalId", "ike_remote_id": "RemoteId",
}
_IPSEC_KEYS = {"ipsec_enc_alg": "IpsecEncAlg", "ipsec_auth_alg": "IpsecAuthAlg", "ipsec_pfs": "IpsecPfs",
               "ipsec_lifetime": "IpsecLifetime"}
_BGP_KEYS = {"local_asn": "LocalAsn", "tunnel_cidr": "TunnelCidr", "local_bgp_ip": "LocalBgpIp", "enable": "EnableBgp"}
_TUNNEL_IKE_KEYS = {"ike_auth_alg": "IkeAuthAlg", "ike_enc_alg": "IkeEncAlg", "ike_lifetime": "IkeLifetime",
                    "ike_mode": "IkeMode", "ike_pfs": "IkePfs", "ike_version": "IkeVersion", "local_id": "LocalId",
                    "psk": "Psk", "remote_id": "RemoteId"}
_TUNNEL_BGP_KEYS = {"local_asn": "LocalAsn", "local_bgp_ip": "LocalBgpIp", "tunnel_cidr": "TunnelCidr"}
CONNECTION_RETRY = ["Appliance.Configuring", "VpnGateway.Configuring", "VpnTask.CONFLICT", "VpnConnection.Configuring"]


def _sub(item: dict, block: str, keys: dict[str, str]) -> dict | None:
    """A tunnel's nested block as the request map, fields neither nil nor ""."""
    value = item.get(block)
    if not value:
        return None
    return {api: value[0][tf] for tf, api in keys.items() if value[0].get(tf) is not None and value[0].get(tf) != ""}


def _ike_state(raw: dict, keys: dict[str, str]) -> list[dict]:
    return [{tf: raw.get(api) for tf, api in keys.items()}] if raw else []


class VpnConnection(Resource):
    """alicloud_vpn_connection (5 min each), single tunnel or dual tunnel."""

    TYPE = "alicloud_vpn_connection"
    RESOURCE_TYPE = "VPNCONNECTION"
    TIMEOUT = 300
    SETS = ("local_subnet", "remote_subnet")
    BLOCKS = {  # Optional+Computed blocks and their fields' zero values
        "ike_config": {"ike_auth_alg": "", "ike_enc_alg": "", "ike_version": "", "ike_local_id": "",
                       "ike_remote_id": "", "ike_mode": "", "ike_lifetime": 0, "psk": "", "ike_pfs": ""},
        "ipsec_config": {"ipsec_pfs": "", "ipsec_enc_alg": "", "ipsec_auth_alg": "", "ipsec_lifetime": 0},
        "bgp_config": {"local_asn": "", "tunnel_cidr": "", "enable": False, "local_bgp_ip": ""},
        "health_check_config": {"enable": False, "dip": "", "retry": 0, "sip": "", "interval": 0},
    }

    def describe(self) -> dict:
        """DescribeVPNGatewayVpnConnection: VpnConnectionId and RegionId in the query."""
        return self.tf.read("DescribeVpnConnection", {"VpnConnectionId": self.id, "RegionId": self.tf.region}, {})

    def refresher(self, field: str) -> Callable[[], tuple[dict | None, str]]:
        """VPNGatewayVpnConnectionStateRefreshFunc(id, field)."""

        def refresh():
            try:
                obj = self.describe()
            except TerraformError as e:
                if e.not_found:
                    return None, ""
                raise
            return obj, go_fmt(obj.get(field))

        return refresh

    def tunnels(self, d: Data, *, create: bool) -> list[dict]:
        out = []
        for t in d.get("tunnel_options_specification") or []:
            m: dict[str, Any] = {}
            if create:
                m["CustomerGatewayId"] = t.get("customer_gateway_id")
            # An unset TypeBool of the block reads false, and is sent.
            m["EnableDpd"] = t.get("enable_dpd", False)
            m["EnableNatTraversal"] = t.get("enable_nat_traversal", False)
            m["Role"] = t.get("role")
            for block, api, keys in (("tunnel_bgp_config", "TunnelBgpConfig", _TUNNEL_BGP_KEYS),
                                     ("tunnel_ike_config", "TunnelIkeConfig", _TUNNEL_IKE_KEYS),
                                     ("tunnel_ipsec_config", "TunnelIpsecConfig", _IPSEC_KEYS)):
                sub = _sub(t, block, keys)
                if sub is not None:
                    m[api] = sub
            out.append(m)
        return out

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("CreateVpnConnection")}
        for key, param in (("local_subnet", "LocalSubnet"), ("remote_subnet", "RemoteSubnet")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = ",".join(v)  # convertListToCommaSeparate
        for key, param in (("effect_immediately", "EffectImmediately"), ("enable_dpd", "EnableDpd"),
                           ("enable_nat_traversal", "EnableNatTraversal")):
            v, ok = d.get_ok_exists(key)
            if ok:
                body[param] = v
        for block, param, keys in (("ike_config", "IkeConfig", _IKE_KEYS), ("ipsec_config", "IpsecConfig", _IPSEC_KEYS),
                                   ("bgp_config", "BgpConfig", _BGP_KEYS)):
            text = _json_block(d.get(block), keys)
            if text is not None:
                body[param] = text
        v, ok = d.get_ok("customer_gateway_id")
        if ok:
            body["CustomerGatewayId"] = v
        v, ok = d.get_ok_exists("auto_config_route")
        if ok:
            body["AutoConfigRoute"] = v
        for key in ("name", "vpn_connection_name"):
            v, ok = d.get_ok(key)
            if ok:
                body["Name"] = v
        body["VpnGatewayId"] = d.get("vpn_gateway_id")
        v, ok = d.get_ok("tags")
        if ok:
            body["Tags"] = convert_tags(v)
        if d.get_ok("tunnel_options_specification")[1]:
            body["TunnelOptionsSpecification"] = self.tunnels(d, create=True)
        v, ok = d.get_ok_exists("enable_tunnels_bgp")
        if ok:
            body["EnableTunnelsBgp"] = v
        text = _json_block(d.get("health_check_config"),
                           {"enable": "enable", "dip": "dip", "sip": "sip", "interval": "interval", "retry": "retry"})
        if text is not None:
            body["HealthCheckConfig"] = text
        answer = self.tf.retry("CreateVpnConnection", {}, body, expected=CONNECTION_RETRY, timeout_s=self.TIMEOUT)
        self.id = go_fmt(answer["VpnConnectionId"])
        self.tf.wait_for_state(self.refresher("State"), ["active"], delay_s=10, timeout_s=self.TIMEOUT)
        self.update(d)
        return self.id

    def update(self, d: Data) -> None:
        query = {"VpnConnectionId": self.id}
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("ModifyVpnConnectionAttribute")}
        update = not d.is_new and (d.has_change("local_subnet") or d.has_change("remote_subnet"))
        for key, param in (("local_subnet", "LocalSubnet"), ("remote_subnet", "RemoteSubnet")):
            v, ok = d.get_ok(key)
            if ok:
                body[param] = ",".join(v)
        if not d.is_new and d.has_change("effect_immediately"):
            update, body["EffectImmediately"] = True, d.get("effect_immediately")
        v, ok = d.get_ok_exists("auto_config_route")
        if ok:
            body["AutoConfigRoute"] = v
        for key, param in (("enable_dpd", "EnableDpd"), ("enable_nat_traversal", "EnableNatTraversal")):
            if not d.is_new and d.has_change(key):
                update, body[param] = True, d.get(key)
        if not d.is_new and d.has_change("enable_tunnels_bgp"):
            body["EnableTunnelsBgp"] = d.get("enable_tunnels_bgp")  # (the provider does not set `update` here)
        for key in ("name", "vpn_connection_name"):
            if not d.is_new and d.has_change(key):
                update, body["Name"] = True, d.get(key)
        for block, param, keys in (("ike_config", "IkeConfig", _IKE_KEYS), ("ipsec_config", "IpsecConfig", _IPSEC_KEYS),
                                   ("bgp_config", "BgpConfig", _BGP_KEYS)):
            if not d.is_new and d.has_change(block):
                update = True
                text = _json_block(d.get(block), keys)
                if text is not None:
                    body[param] = text
        if not d.is_new and d.has_change("tunnel_options_specification"):
            update = True
            if d.get_ok("tunnel_options_specification")[1]:
                body["TunnelOptionsSpecification"] = self.tunnels(d, create=False)
        # Not limited to updates: on a new resource with a health check this sends a Modify too,
        # with the keys capitalised this time.
        if d.has_change("health_check_config"):
            update = True
            text = _json_block(d.get("health_check_config"),
                               {"enable": "Enable", "dip": "Dip", "sip": "Sip", "interval": "Interval", "retry": "Retry"})
            if text is not None:
                body["HealthCheckConfig"] = text
        if update:
            self.tf.retry("ModifyVpnConnectionAttribute", query, body,
                          expected=["VpnGateway.Configuring", "VpnTask.CONFLICT"], timeout_s=self.TIMEOUT)
            self.tf.wait_for_state(self.refresher("State"), ["active"], delay_s=10, timeout_s=self.TIMEOUT)
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.TIMEOUT)
        self.read(new=d.is_new)

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        s: dict[str, Any] = {k: obj.get(api) for k, api in (
            ("create_time", "CreateTime"), ("customer_gateway_id", "CustomerGatewayId"),
            ("effect_immediately", "EffectImmediately"), ("enable_dpd", "EnableDpd"),
            ("enable_nat_traversal", "EnableNatTraversal"), ("enable_tunnels_bgp", "EnableTunnelsBgp"),
            ("resource_group_id", "ResourceGroupId"), ("status", "Status"), ("vpn_connection_name", "Name"),
            ("vpn_gateway_id", "VpnGatewayId"))}
        bgp = obj.get("VpnBgpConfig") or {}
        s["bgp_config"] = [{
            "enable": format_bool(bgp.get("EnableBgp")), "local_asn": bgp.get("LocalAsn"),
            "local_bgp_ip": bgp.get("LocalBgpIp"), "status": bgp.get("Status"), "tunnel_cidr": bgp.get("TunnelCidr"),
        }] if bgp else []
        hc = obj.get("VcoHealthCheck") or {}
        s["health_check_config"] = [{
            "dip": hc.get("Dip"), "enable": format_bool(hc.get("Enable")), "interval": hc.get("Interval"),
            "retry": hc.get("Retry"), "sip": hc.get("Sip"),
        }] if hc else []
        s["ike_config"] = _ike_state(obj.get("IkeConfig") or {}, _IKE_KEYS)
        s["ipsec_config"] = _ike_state(obj.get("IpsecConfig") or {}, _IPSEC_KEYS)
        s["tags"] = tags_to_map(obj)
        tunnels = []
        for t in ((obj.get("TunnelOptionsSpecification") or {}).get("TunnelOptions") or []):
            item = {k: t.get(api) for k, api in (
                ("customer_gateway_id", "CustomerGatewayId"), ("enable_dpd", "EnableDpd"),
                ("enable_nat_traversal", "EnableNatTraversal"), ("internet_ip", "InternetIp"), ("role", "Role"),
                ("state", "State"), ("status", "Status"), ("tunnel_id", "TunnelId"), ("zone_no", "ZoneNo"))}
            bgp = t.get("TunnelBgpConfig") or {}
            item["tunnel_bgp_config"] = [{k: bgp.get(api) for k, api in (
                ("bgp_status", "BgpStatus"), ("local_asn", "LocalAsn"), ("local_bgp_ip", "LocalBgpIp"),
                ("peer_asn", "PeerAsn"), ("peer_bgp_ip", "PeerBgpIp"), ("tunnel_cidr", "TunnelCidr"))}] if bgp else []
            item["tunnel_ike_config"] = _ike_state(t.get("TunnelIkeConfig") or {}, _TUNNEL_IKE_KEYS)
            item["tunnel_ipsec_config"] = _ike_state(t.get("TunnelIpsecConfig") or {}, _IPSEC_KEYS)
            tunnels.append(item)
        s["tunnel_options_specification"] = tunnels
        s["local_subnet"] = split_commas(obj.get("LocalSubnet"))
        s["remote_subnet"] = split_commas(obj.get("RemoteSubnet"))
        s["name"] = s["vpn_connection_name"]
        return self.keep(s)

    def destroy(self) -> None:
        body = {"RegionId": self.tf.region, "ClientToken": build_client_token("DeleteVpnConnection")}
        self.tf.retry("DeleteVpnConnection", {"VpnConnectionId": self.id}, body, expected=CONNECTION_RETRY,
                      timeout_s=self.TIMEOUT)
        self.tf.wait_for_state(self.refresher("Status"), [], delay_s=5, timeout_s=self.TIMEOUT)
        self.id = None


# ------------------------------------------------------- alicloud_vpn_gateway_vpn_attachment

ATTACHMENT_CREATE_RETRY = ["Appliance.Configuring", "VpnGateway.Configuring", "VpnTask.CONFLICT", "TaskConflict"]
ATTACHMENT_MODIFY_RETRY = ["VpnConnection.Configuring", "Appliance.Configuring", "VpnTask.CONFLICT",
                           "VpnGateway.Configuring"]
_ATTACHMENT_IKE_KEYS = {"psk": "Psk", "ike_version": "IkeVersion", "ike_mode": "IkeMode", "ike_enc_alg": "IkeEncAlg",
                        "ike_auth_alg": "IkeAuthAlg", "ike_pfs": "IkePfs", "ike_lifetime": "IkeLifetime",
                        "remote_id": "RemoteId", "local_id": "LocalId"}


class VpnAttachment(Resource):
    """alicloud_vpn_gateway_vpn_attachment: a connection bound to no VPN gateway, read back
    through DescribeVpnConnection; no state waits."""

    TYPE = "alicloud_vpn_gateway_vpn_attachment"
    RESOURCE_TYPE = "VPNATTACHMENT"
    TIMEOUT = 300
    BLOCKS = {
        "ike_config": {"ike_auth_alg": "", "local_id": "", "ike_enc_alg": "", "ike_version": "", "ike_mode": "",
                       "ike_lifetime": 0, "psk": "", "remote_id": "", "ike_pfs": ""},
        "ipsec_config": {"ipsec_pfs": "", "ipsec_enc_alg": "", "ipsec_auth_alg": "", "ipsec_lifetime": 0},
        "bgp_config": {"local_asn": 0, "tunnel_cidr": "", "enable": False, "local_bgp_ip": ""},
        "health_check_config": {"policy": "", "enable": False, "dip": "", "retry": 0, "sip": "", "interval": 0},
        # A set hashed by (tunnel_index, customer_gateway_id): the replay lists it by tunnel_index.
        "tunnel_options_specification": {"customer_gateway_id": "", "enable_dpd": False,
                                         "enable_nat_traversal": False, "role": "", "tunnel_index": 0,
                                         "tunnel_bgp_config": [], "tunnel_ike_config": [],
                                         "tunnel_ipsec_config": []},
    }
    HEALTH_CREATE = {"enable": "enable", "dip": "dip", "sip": "sip", "interval": "interval", "retry": "retry",
                     "policy": "Policy"}
    HEALTH_MODIFY = {"enable": "Enable", "dip": "Dip", "sip": "Sip", "interval": "Interval", "retry": "Retry",
                     "policy": "Policy"}

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {"RegionId": self.tf.region, "ClientToken": build_client_token("CreateVpnAttachment")}
        v, ok = d.get_ok("network_type")
        if ok:
            body["NetworkType"] = v
        body["LocalSubnet"] = d.get("local_subnet")
        body["RemoteSubnet"] = d.get("remote_subnet")
        for key, param in (("effect_immediately", "EffectImmediately"), ("enable_dpd", "EnableDpd"),
                           ("enable_nat_traversal", "EnableNatTraversal")):
            v, ok = d.get_ok_exists(key)
            if ok:
                body[param] = v
        v, ok = d.get_ok("vpn_attachment_name")
        if ok:
            body["Name"] = v
        for block, param, keys in (("ike_config", "IkeConfig", _ATTACHMENT_IKE_KEYS),
                                   ("ipsec_config", "IpsecConfig", _IPSEC_KEYS), ("bgp_config", "BgpConfig", _BGP_KEYS)):
            text = _json_block(d.get(block), keys)
            if text is not None:
                body[param] = text
        v, ok = d.get_ok("customer_gateway_id")
        if ok:
            body["CustomerGatewayId"] = v
        v, ok = d.get_ok("tags")
        if ok:  # expandTagsToMap: `Tag.N.Key`, although CreateVpnAttachment documents `Tags.N.Key`
            for i, tag in enumerate(convert_tags(v), start=1):
                body[f"Tag.{i}.Key"], body[f"Tag.{i}.Value"] = tag["Key"], tag["Value"]
        v, ok = d.get_ok("resource_group_id")
        if ok:
            body["ResourceGroupId"] = v
        v, ok = d.get_ok_exists("enable_tunnels_bgp")
        if ok:
            body["EnableTunnelsBgp"] = v
        v, ok = d.get_ok("tunnel_bandwidth")
        if ok:
            body["TunnelBandwidth"] = v
        if d.get_ok("tunnel_options_specification")[1]:
            body["TunnelOptionsSpecification"] = self.tunnels(d)
        text = _json_block(d.get("health_check_config"), self.HEALTH_CREATE)
        if text is not None:
            body["HealthCheckConfig"] = text
        # The ClientToken of CreateVpnAttachment is built once, before the retry loop.
        answer = self.tf.retry("CreateVpnAttachment", {}, body, expected=ATTACHMENT_CREATE_RETRY,
                               timeout_s=self.TIMEOUT, fresh_token=False)
        self.id = go_fmt(answer["VpnConnectionId"])
        self.update(d)
        return self.id

    @staticmethod
    def tunnels(d: Data) -> list[dict]:
        """TunnelOptionsSpecification as the create and the update build it: every field of a set
        element (an unset role is "", an unset bool false), its three blocks as maps of the fields
        neither nil nor "" (an empty map flattens to nothing)."""
        out = []
        for t in d.get("tunnel_options_specification") or []:
            m: dict[str, Any] = {"CustomerGatewayId": t.get("customer_gateway_id"),
                                 "EnableDpd": t.get("enable_dpd", False),
                                 "EnableNatTraversal": t.get("enable_nat_traversal", False),
                                 "Role": t.get("role", ""), "TunnelIndex": t.get("tunnel_index")}
            for block, api, keys in (("tunnel_bgp_config", "TunnelBgpConfig", _TUNNEL_BGP_KEYS),
                                     ("tunnel_ike_config", "TunnelIkeConfig", _TUNNEL_IKE_KEYS),
                                     ("tunnel_ipsec_config", "TunnelIpsecConfig", _IPSEC_KEYS)):
                m[api] = _sub(t, block, keys) or {}
            out.append(m)
        return out

    def update(self, d: Data) -> None:
        body: dict[str, Any] = {"VpnConnectionId": self.id, "RegionId": self.tf.region,
                                "ClientToken": build_client_token("ModifyVpnAttachmentAttribute")}
        update = False
        if not d.is_new and d.has_change("effect_immediately"):
            update, body["EffectImmediately"] = True, d.get("effect_immediately")
        if not d.is_new and (d.has_change("local_subnet") or d.has_change("remote_subnet")):
            update = True
        body["LocalSubnet"] = d.get("local_subnet")
        body["RemoteSubnet"] = d.get("remote_subnet")
        for key, param in (("vpn_attachment_name", "Name"), ("enable_dpd", "EnableDpd"),
                           ("enable_nat_traversal", "EnableNatTraversal")):
            if not d.is_new and d.has_change(key):
                update, body[param] = True, d.get(key)
        for block, param, keys in (("bgp_config", "BgpConfig", _BGP_KEYS),
                                   ("ike_config", "IkeConfig", _ATTACHMENT_IKE_KEYS),
                                   ("ipsec_config", "IpsecConfig", _IPSEC_KEYS)):
            if not d.is_new and d.has_change(block):
                update = True
                body[param] = _json_block(d.get(block), keys) or "{}"
        if not d.is_new and d.has_change("enable_tunnels_bgp"):
            update, body["EnableTunnelsBgp"] = True, d.get("enable_tunnels_bgp")
        if not d.is_new and d.has_change("tunnel_options_specification"):
            update = True
            body["TunnelOptionsSpecification"] = self.tunnels(d)
        if d.has_change("health_check_config"):  # also on a new resource
            update = True
            body["HealthCheckConfig"] = _json_block(d.get("health_check_config"), self.HEALTH_MODIFY) or "{}"
        if update:
            # No fresh ClientToken per attempt, and no wait afterwards.
            self.tf.retry("ModifyVpnAttachmentAttribute", {}, body, expected=ATTACHMENT_MODIFY_RETRY,
                          timeout_s=self.TIMEOUT, fresh_token=False)
        if d.get_ok("resource_group_id")[1] and not d.is_new and d.has_change("resource_group_id"):
            self.tf.retry(
                "MoveVpnResourceGroup",
                {},
                {"InstanceId": self.id, "RegionId": self.tf.region,
                 "NewResourceGroupId": d.get("resource_group_id"), "ResourceType": self.RESOURCE_TYPE},
                timeout_s=self.TIMEOUT,
                fresh_token=False,
            )
        self.set_resource_tags(d, self.RESOURCE_TYPE, self.TIMEOUT)
        self.read(new=d.is_new)

    def describe(self) -> dict:
        """DescribeVpnGatewayVpnAttachment: everything in the body."""
        return self.tf.read("DescribeVpnConnection", {}, {"VpnConnectionId": self.id, "RegionId": self.tf.region})

    def read(self, *, new: bool) -> dict | None:
        obj = self.described(new=new)
        if obj is None:
            return None
        s: dict[str, Any] = {k: obj.get(api) for k, api in (
            ("create_time", "CreateTime"), ("customer_gateway_id", "CustomerGatewayId"),
            ("effect_immediately", "EffectImmediately"), ("enable_dpd", "EnableDpd"),
            ("enable_nat_traversal", "EnableNatTraversal"), ("enable_tunnels_bgp", "EnableTunnelsBgp"),
            ("local_subnet", "LocalSubnet"), ("network_type", "NetworkType"), ("remote_subnet", "RemoteSubnet"),
            ("resource_group_id", "ResourceGroupId"), ("status", "State"), ("vpn_attachment_name", "Name"))}
        bw = obj.get("TunnelBandwidth")
        s["tunnel_bandwidth"] = {"large": "Large", "standard": "Standard"}.get(bw.lower(), bw) if isinstance(bw, str) else bw
        bgp = obj.get("VpnBgpConfig") or {}
        s["bgp_config"] = [{
            "enable": format_bool(bgp.get("EnableBgp")), "local_asn": bgp.get("LocalAsn"),
            "local_bgp_ip": bgp.get("LocalBgpIp"), "status": bgp.get("Status"), "tunnel_cidr": bgp.get("TunnelCidr"),
        }] if bgp else []
        hc = obj.get("VcoHealthCheck") or {}
        s["health_check_config"] = [{
            "dip": hc.get("Dip"), "enable": format_bool(hc.get("Enable")), "interval": hc.get("Interval"),
            "policy": hc.get("Policy"), "retry": hc.get("Retry"), "sip": hc.get("Sip"), "status": hc.get("Status"),
        }] if hc else []
        s["ike_config"] = _ike_state(obj.get("IkeConfig") or {}, _ATTACHMENT_IKE_KEYS)
        s["ipsec_config"] = _ike_state(obj.get("IpsecConfig") or {}, _IPSEC_KEYS)
        s["tags"] = tags_to_map(obj)
        tunnels = []
        for t in ((obj.get("TunnelOptionsSpecification") or {}).get("TunnelOptions") or []):
            item = {k: t.get(api) for k, api in (
                ("customer_gateway_id", "CustomerGatewayId"), ("internet_ip", "InternetIp"), ("role", "Role"),
                ("state", "State"), ("status", "Status"), ("tunnel_id", "TunnelId"), ("tunnel_index", "TunnelIndex"),
                ("zone_no", "ZoneNo"))}
            item["enable_dpd"] = format_bool(t.get("EnableDpd"))
            item["enable_nat_traversal"] = format_bool(t.get("EnableNatTraversal"))
            bgp = t.get("TunnelBgpConfig") or {}
            item["tunnel_bgp_config"] = [{
                "bgp_status": bgp.get("BgpStatus"), "local_asn": format_int(bgp.get("LocalAsn")),
                "local_bgp_ip": bgp.get("LocalBgpIp"), "peer_asn": bgp.get("PeerAsn"),
                "peer_bgp_ip": bgp.get("PeerBgpIp"), "tunnel_cidr": bgp.get("TunnelCidr")}] if bgp else []
            ike = t.get("TunnelIkeConfig") or {}
            item["tunnel_ike_config"] = [{**{tf: ike.get(api) for tf, api in _TUNNEL_IKE_KEYS.items()},
                                          "ike_lifetime": format_int(ike.get("IkeLifetime"))}] if ike else []
            ipsec = t.get("TunnelIpsecConfig") or {}
            item["tunnel_ipsec_config"] = [{**{tf: ipsec.get(api) for tf, api in _IPSEC_KEYS.items()},
                                            "ipsec_lifetime": format_int(ipsec.get("IpsecLifetime"))}] if ipsec else []
            tunnels.append(item)
        # A TypeSet: listed here by tunnel_index, as the tests configure it.
        s["tunnel_options_specification"] = sorted(tunnels, key=lambda t: format_int(t.get("tunnel_index")))
        return self.keep(s)

    def destroy(self) -> None:
        body = {"VpnConnectionId": self.id, "RegionId": self.tf.region,
                "ClientToken": build_client_token("DeleteVpnAttachment")}
        try:
            self.tf.retry("DeleteVpnAttachment", {}, body, timeout_s=self.TIMEOUT)
        except TerraformError as e:
            if not e.not_found:
                raise
        self.id = None


# ---------------------------------------------------------- alicloud_vpn_gateway_vco_route

VCO_ROUTE_RETRY = ["VpnGateway.Configuring", "TaskConflict", "Appliance.Configuring", "VpnTask.CONFLICT",
                   "VpnConnection.Configuring"]


class VcoRoute(Resource):
    """alicloud_vpn_gateway_vco_route (create and delete 1 min; every change forces a new one).
    Its ID is `<connection>:<route_dest>:<next_hop>:<weight>`; Read pages through
    DescribeVcoRouteEntries (PageSize 20) for that triple."""

    TYPE = "alicloud_vpn_gateway_vco_route"
    TIMEOUT = 60

    def create(self, d: Data) -> str:
        body: dict[str, Any] = {
            "RegionId": self.tf.region,
            "Weight": d.get("weight"),
            "NextHop": d.get("next_hop"),
            "RouteDest": d.get("route_dest"),
            "VpnConnectionId": d.get("vpn_connection_id"),
        }
        v, ok = d.get_ok("overlay_mode")
        if ok:
            body["OverlayMode"] = v
        body["ClientToken"] = build_client_token("CreateVcoRouteEntry")  # once, before the loop
        self.tf.retry("CreateVcoRouteEntry", None, body, expected=VCO_ROUTE_RETRY, timeout_s=self.TIMEOUT,
                      fresh_token=False, waits=(3, 3))
        self.id = ":".join(go_fmt(body[k]) for k in ("VpnConnectionId", "RouteDest", "NextHop", "Weight"))
        self.read(new=True)
        return self.id

    def describe(self) -> dict | None:
        """VpcService.DescribeVpnGatewayVcoRoute: the entry, or None when the route, or its
        connection, is gone (UnknownError and NotFound errors alike)."""
        conn, dest, hop, weight = self.id.split(":")
        body: dict[str, Any] = {"RegionId": self.tf.region, "VpnConnectionId": conn, "PageNumber": 1, "PageSize": 20}
        while True:
            try:
                answer = self.tf.retry("DescribeVcoRouteEntries", None, dict(body), timeout_s=300, fresh_token=False,
                                       waits=(3, 3))
            except TerraformError as e:
                if e.expected(["UnknownError"]) or e.not_found:
                    return None
                raise
            entries = answer["VcoRouteEntries"]
            if not entries:
                return None
            for item in entries:
                if (go_fmt(item["RouteDest"]), go_fmt(item["NextHop"]), go_fmt(item["Weight"])) == (dest, hop, weight):
                    return item
            if len(entries) < body["PageSize"]:
                return None
            body["PageNumber"] += 1

    def read(self, *, new: bool) -> dict | None:
        obj = self.describe()
        if obj is None:
            return None
        self.raw = obj
        self.state = {
            "weight": obj.get("Weight"),
            "status": obj.get("State"),
            "next_hop": obj.get("NextHop"),
            "route_dest": obj.get("RouteDest"),
            "vpn_connection_id": obj.get("VpnConnectionId"),
        }
        return self.keep(self.state)

    def update(self, d: Data) -> None:
        raise AssertionError("every argument of alicloud_vpn_gateway_vco_route forces a new resource")

    def destroy(self) -> None:
        conn, dest, hop, weight = self.id.split(":")
        body = {"RegionId": self.tf.region, "VpnConnectionId": conn, "RouteDest": dest, "NextHop": hop,
                "Weight": weight, "ClientToken": build_client_token("DeleteVcoRouteEntry")}
        self.tf.retry("DeleteVcoRouteEntry", None, body, expected=VCO_ROUTE_RETRY, timeout_s=self.TIMEOUT,
                      fresh_token=False, waits=(3, 3))

        # waitForVpnGatewayVcoRouteDeleted: three "not found" reads in a row, 3 s apart.
        def refresh():
            obj = self.describe()
            return (obj, "present") if obj is not None else (None, "")

        self.tf.wait_for_state(refresh, [], pending=["present"], delay_s=0, timeout_s=self.TIMEOUT,
                               poll_interval_s=3, continuous=3)
        self.id = None


# ---------------------------------------------------------------------------- data sources

PAGE_SIZE_LARGE = 50  # common.go PageSizeLarge: the page every list data source reads


def filter_ids_and_name(items: list[dict], *, id_key: str, ids: list[str] | None, name_regex: str | None,
                        name_key: str = "Name") -> list[dict]:
    """What every list data source does with the answers: `ids` (idsMap) and `name_regex` (Go's
    regexp.MatchString: a match anywhere in the name) filter in the provider."""
    wanted = {i.strip() for i in ids or [] if i is not None}
    pattern = re.compile(name_regex) if name_regex else None
    return [
        i for i in items
        if (pattern is None or pattern.search(go_fmt(i.get(name_key) or "")))
        and (not wanted or go_fmt(i.get(id_key)) in wanted)
    ]


def check_types(obj: dict, expected: dict[str, type | tuple[type, ...]]) -> None:
    """Asserts the JSON type of each `a.b.c` path of `obj` (list items as `a[*].b`); booleans are
    not integers here. Missing paths fail too: Terraform reads them."""
    failures = []
    for path, kind in expected.items():
        values = [obj]
        for part in path.split("."):
            nxt = []
            for v in values:
                if part.endswith("[*]"):
                    items = v.get(part[:-3]) if isinstance(v, dict) else None
                    if not isinstance(items, list) or not items:
                        failures.append(f"{path}: {part[:-3]} is {items!r}, not a non-empty list")
                        continue
                    nxt.extend(items)
                elif isinstance(v, dict) and part in v:
                    nxt.append(v[part])
                else:
                    failures.append(f"{path}: missing")
            values = nxt
        for v in values:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            ok = isinstance(v, kinds) and not (isinstance(v, bool) and bool not in kinds)
            if not ok:
                failures.append(f"{path}: {v!r} is not {' or '.join(k.__name__ for k in kinds)}")
    assert not failures, "JSON types Terraform relies on:\n  " + "\n  ".join(failures)
