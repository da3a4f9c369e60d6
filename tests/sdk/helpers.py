"""Shared helpers: error capture across the three clients, resource set-up, shape checks."""

from __future__ import annotations

import itertools
import json
import random
import re
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_vpc20160428 import models as m
from aliyunsdkcore.acs_exception.exceptions import ServerException as LegacyServerException

REGION = "cn-hangzhou"
OTHER_REGION = "cn-shanghai"
VPC_HOST_ID = "vpc.aliyuncs.com"  # protocol.md §6.2: HostId is the product's public endpoint host

REQUEST_ID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
ERROR_BODY_KEYS = {"RequestId", "HostId", "Code", "Message", "Recommend"}

SPEC = json.loads((Path(__file__).resolve().parents[2] / "spec" / "vpc-ipsec-api.json").read_text())

# Codes the real API uses for "busy, try again" (spec: terraform retries on these).
RETRYABLE_CODES = {
    "VpnGateway.Configuring",
    "VpnTask.CONFLICT",
    "VpnConnection.Configuring",
    "Appliance.Configuring",
    "TaskConflict",
    "OperationConflict",
}


# ------------------------------------------------------------------------ ids / data


def rand_suffix(n: int = 20) -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def new_vpc_id() -> str:
    """VpcId is not checked against a VPC service (there is none here); keep the real form."""
    return "vpc-" + rand_suffix()


# Customer gateway IPs must be unique per account (InvalidIpAddress.AlreadyExist), so hand
# out distinct addresses from 172.24.0.0/13 (private, never contacted by these tests, and no
# test uses it for subnets). Not 100.64.0.0/10: the cloud refuses it for customer gateways.
# Not 198.18.0.0/15: that is the server's default pool for the VPN gateways' own public IPs.
_ip_counter = itertools.count(random.randrange(1, 1 << 18))


def new_peer_ip() -> str:
    while True:
        n = next(_ip_counter) % (1 << 19)
        if 0 < n & 255 < 255:  # no .0 / .255 host parts, to stay clear of any "network address" rule
            return f"172.{24 + (n >> 16)}.{(n >> 8) & 255}.{n & 255}"


def assert_request_id(value: Any) -> None:
    assert isinstance(value, str) and REQUEST_ID_RE.match(value), f"bad RequestId {value!r}"


# ---------------------------------------------------------------------------- errors


@dataclass
class ApiError:
    code: str
    status: int
    message: str
    request_id: str | None
    body: dict | None  # the parsed error body when the client exposes it


def capture_error(fn: Callable, *args, **kwargs) -> ApiError:
    """Run one SDK call that must fail and normalise what the client raised."""
    try:
        result = fn(*args, **kwargs)
    except AlibabaCloudException as e:  # Tea clients (V3 and V1)
        data = e.data if isinstance(e.data, dict) else None
        message = (data or {}).get("Message", e.message)
        return ApiError(e.code, e.status_code, message, e.request_id, data)
    except LegacyServerException as e:  # aliyun-python-sdk-core
        return ApiError(e.get_error_code(), e.get_http_status(), e.get_error_msg(), e.get_request_id(), None)
    raise AssertionError(f"expected an error, the call succeeded: {result!r}")


def check_error(
    err: ApiError,
    code: str | re.Pattern,
    status: int,
    *,
    message_contains: str | None = None,
    host_id: str | None = VPC_HOST_ID,
) -> ApiError:
    if isinstance(code, re.Pattern):
        assert code.fullmatch(err.code or ""), f"code {err.code!r} does not match {code.pattern} ({err})"
    else:
        assert err.code == code, f"expected {code}, got {err}"
    assert err.status == status, f"expected HTTP {status}, got {err}"
    assert_request_id(err.request_id)
    if message_contains is not None:
        assert message_contains in (err.message or ""), f"{message_contains!r} not in message {err.message!r}"
    if err.body is not None:
        check_error_body(err.body, host_id=host_id)
        assert err.body["Code"] == err.code
    return err


def check_error_body(body: dict, *, host_id: str | None = VPC_HOST_ID) -> None:
    missing = ERROR_BODY_KEYS - set(body)
    assert not missing, f"error body lacks {missing}: {body}"
    assert_request_id(body["RequestId"])
    for key in ERROR_BODY_KEYS:
        assert isinstance(body[key], str) and body[key], f"{key} must be a non-empty string: {body}"
    if host_id is not None:
        assert body["HostId"] == host_id, body
    # Recommend is a troubleshooting URL naming the code (protocol.md §6.2).
    assert body["Recommend"].startswith("https://"), body
    assert body["Code"] in body["Recommend"], body


def expect_error(fn: Callable, code, status: int, *args, message_contains=None, host_id=VPC_HOST_ID, **kwargs):
    return check_error(
        capture_error(fn, *args, **kwargs), code, status, message_contains=message_contains, host_id=host_id
    )


def retrying(fn: Callable, *args, timeout: float = 15.0, **kwargs):
    """Call fn, retrying while the server says the gateway is busy (like terraform does)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn(*args, **kwargs)
        except AlibabaCloudException as e:
            if e.code not in RETRYABLE_CODES or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


# --------------------------------------------------------------------- response shape


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "map": lambda v: isinstance(v, dict),
    "array<object>": lambda v: isinstance(v, list) and all(isinstance(x, dict) for x in v),
    "array<string>": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
}


def check_shape(body: dict, fields: dict, path: str = "", *, allow_extra: bool = False) -> None:
    """Every key present must be a documented field with the documented JSON type."""
    for key, value in body.items():
        where = f"{path}.{key}" if path else key
        spec = fields.get(key)
        if spec is None:
            assert allow_extra, f"undocumented response field {where} = {value!r}"
            continue
        if value is None:
            raise AssertionError(f"{where} is null; omit the field instead")
        assert _TYPE_CHECKS[spec["type"]](value), f"{where} should be {spec['type']}, got {value!r}"
        sub = spec.get("fields")
        if sub is not None:
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                check_shape(
                    item, sub, f"{where}[{i}]" if isinstance(value, list) else where, allow_extra=allow_extra
                )


def check_response(operation: str, body: dict) -> None:
    """Shape of a success body per shared/spec/vpc-ipsec-api.json (types from the SDK models)."""
    check_shape(body, SPEC["operations"][operation]["response"])
    assert_request_id(body.get("RequestId"))


# ------------------------------------------------------------------------- resources


def create_gateway(client, *, region: str = REGION, bandwidth: int = 10, wait_active: bool = True, **extra) -> str:
    req = m.CreateVpnGatewayRequest(region_id=region, vpc_id=extra.pop("vpc_id", new_vpc_id()), bandwidth=bandwidth, **extra)
    body = client.create_vpn_gateway(req).body.to_map()
    check_response("CreateVpnGateway", body)
    gw = body["VpnGatewayId"]
    if wait_active:
        wait_gateway_active(client, gw, region=region)
    return gw


def describe_gateway(client, gw: str, region: str = REGION) -> dict:
    return client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=region, vpn_gateway_id=gw)).body.to_map()


def wait_gateway_active(client, gw: str, region: str = REGION, timeout: float = 15.0) -> dict:
    return wait_for(
        lambda: (b := describe_gateway(client, gw, region))["Status"] == "active" and b,
        timeout=timeout,
        what=f"{gw} to become active",
    )


def create_customer_gateway(client, *, region: str = REGION, ip: str | None = None, **extra) -> str:
    req = m.CreateCustomerGatewayRequest(region_id=region, ip_address=ip or new_peer_ip(), **extra)
    body = client.create_customer_gateway(req).body.to_map()
    check_response("CreateCustomerGateway", body)
    return body["CustomerGatewayId"]


def describe_customer_gateway(client, cgw: str, region: str = REGION) -> dict:
    req = m.DescribeCustomerGatewayRequest(region_id=region, customer_gateway_id=cgw)
    return client.describe_customer_gateway(req).body.to_map()


def create_connection(
    client,
    gw: str,
    cgw: str,
    *,
    region: str = REGION,
    local_subnet: str = "10.10.0.0/16",
    remote_subnet: str = "192.168.10.0/24",
    **extra,
) -> str:
    req = m.CreateVpnConnectionRequest(
        region_id=region,
        vpn_gateway_id=gw,
        customer_gateway_id=cgw,
        local_subnet=local_subnet,
        remote_subnet=remote_subnet,
        **extra,
    )
    body = retrying(client.create_vpn_connection, req).body.to_map()
    check_response("CreateVpnConnection", body)
    vco = body["VpnConnectionId"]
    wait_connection_settled(client, vco, gw, region=region)
    return vco


def describe_connection(client, vco: str, region: str = REGION) -> dict:
    req = m.DescribeVpnConnectionRequest(region_id=region, vpn_connection_id=vco)
    return client.describe_vpn_connection(req).body.to_map()


def wait_connection_settled(client, vco: str, gw: str, region: str = REGION) -> dict:
    """Connection writes are asynchronous on the real API: wait for State=active (what terraform
    waits for) and for the gateway to be back to active, so the next write is not refused."""
    body = wait_for(
        lambda: (b := describe_connection(client, vco, region))["State"] == "active" and b,
        what=f"{vco} State=active",
    )
    wait_gateway_active(client, gw, region=region)
    return body


def without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "RequestId"}


def psk() -> str:
    return "Psk-" + secrets.token_hex(8)
