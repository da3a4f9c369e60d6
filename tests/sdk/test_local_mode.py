"""The local mode (docs/local-mode.md): `vpngw serve --dev` as a test suite uses it, and
ResetState through the official SDKs — what it empties, what it keeps, who may call it, and that
requests racing it see the state before or after it, never a mix.

The reset tests run against a server started with `--dev` by the harness (so VPNGW_TEST_BACKEND
picks SQLite or PostgreSQL), whose root key and data directory are the harness's; the first test
starts it exactly as a user would, with nothing but `--dev`.
"""

from __future__ import annotations

import concurrent.futures
import tempfile
import threading
import time
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as rm
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.utils_models import OpenApiRequest, Params
from alibabacloud_vpc20160428 import models as m
from darabonba.runtime import RuntimeOptions

import ram_helpers as rh
from conftest import DEV_KEY, DevServer, VpngwServer, _cleanup
from helpers import (
    REGION,
    capture_error,
    check_error,
    create_connection,
    create_customer_gateway,
    create_gateway,
    expect_error,
    new_peer_ip,
    new_vpc_id,
)

VPNGW_HOST_ID = "vpngw.local"
RESET = Params(action="ResetState", version="2025-01-01", protocol="HTTP", method="POST", auth_type="AK",
               style="RPC", pathname="/", req_body_type="formData", body_type="json")


def reset_state(server, cred: rh.Cred | None = None) -> dict:
    """ResetState with the Tea SDK's generic call, as docs/local-mode.md shows it."""
    return OpenApiClient(rh._config(server, cred or rh.Cred.root(server), "v3")).call_api(
        RESET, OpenApiRequest(), RuntimeOptions())


@pytest.fixture(scope="module")
def dev_server():
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-sdk-dev-"))
    srv = VpngwServer(workdir)
    srv.extra_args = ["--dev"]
    srv.extra_env["VPNGW_GATEWAY_PROVISION_DELAY_MS"] = None  # the harness sets one; --dev means none
    srv.start()
    yield srv
    _cleanup(srv, workdir)


def page(client, what: str, number: int = 1):
    """One page of 50 of a list: (TotalCount, items)."""
    if what == "gateways":
        body = client.describe_vpn_gateways(
            m.DescribeVpnGatewaysRequest(region_id=REGION, page_number=number, page_size=50)).body
        return body.total_count, body.vpn_gateways.vpn_gateway
    if what == "customer_gateways":
        body = client.describe_customer_gateways(
            m.DescribeCustomerGatewaysRequest(region_id=REGION, page_number=number, page_size=50)).body
        return body.total_count, body.customer_gateways.customer_gateway
    body = client.describe_vpn_connections(
        m.DescribeVpnConnectionsRequest(region_id=REGION, page_number=number, page_size=50)).body
    return body.total_count, body.vpn_connections.vpn_connection


def total(client, what: str) -> int:
    return page(client, what)[0]


def everything(client, what: str) -> list:
    """Every item of a list, page by page; the TotalCount of each page is what is listed."""
    items, number = [], 1
    while True:
        count, found = page(client, what, number)
        items += found
        if len(found) < 50:
            assert count == len(items), (what, count, len(items))
            return items
        number += 1


def _raise(e: Exception):
    raise e


# ----------------------------------------------------------------------- vpngw serve --dev


def test_dev_mode_as_a_user_starts_it():
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-sdk-devbare-"))
    srv = DevServer(workdir)
    srv.start()
    try:
        # The banner names the endpoint, the well-known key and the temporary data directory.
        assert srv.banner_value("endpoint") == f"http://{srv.endpoint}"
        assert (srv.banner_value("AccessKeyId"), srv.banner_value("AccessKeySecret")) == DEV_KEY
        data = srv.banner_value("data")
        assert data.endswith("(removed at exit)"), data
        data_dir = Path(data.removesuffix("(removed at exit)").strip())
        assert (data_dir / "vpngw.db").exists()
        assert srv.banner_value("delays") == "gateway provisioning 0 ms, updates 0 ms"
        # The key works, and a new gateway is active at once (no provisioning delay).
        client = srv.tea_client()
        gw = client.create_vpn_gateway(m.CreateVpnGatewayRequest(
            region_id=REGION, vpc_id=new_vpc_id(), bandwidth=10)).body.vpn_gateway_id
        body = client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body
        assert body.status == "active"
        assert total(client, "gateways") == 1
        reset_state(srv)
        assert total(client, "gateways") == 0
    finally:
        _cleanup(srv, workdir)
    assert not data_dir.exists(), "the temporary data directory outlived the server"


def test_without_dev_reset_is_not_served(raw):
    resp = raw.v1("ResetState", {}, version="2025-01-01")
    assert resp.status == 400, resp.json()
    assert resp.json()["Code"] == "UnsupportedOperation"
    assert "--dev" in resp.json()["Message"]


# ----------------------------------------------------------------------- what a reset does


def test_reset_empties_everything_but_the_first_root_key(dev_server):
    client = dev_server.tea_client()
    ram = rh.ram(dev_server)
    gw = create_gateway(client, vpc_id=new_vpc_id())
    cgw = create_customer_gateway(client)
    vco = create_connection(client, gw, cgw)
    client.tag_resources(m.TagResourcesRequest(region_id=REGION, resource_type="VPNGATEWAY", resource_id=[gw],
                                               tag=[m.TagResourcesRequestTag(key="k", value="v")]))
    user, user_cred = rh.create_user_with_key(ram, "alice")
    rh.attach_user(ram, user, "AdministratorAccess")
    rh.create_policy(ram, {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "vpc:*", "Resource": "*"}]},
                     name="mine")
    role_arn = rh.role_name_arn(dev_server, user)
    role_cred = rh.assume(dev_server, user_cred, role_arn)
    other = rh.vpngw_account_create(dev_server, "other")
    root_account = rh.account_id(dev_server, rh.Cred.root(dev_server))
    # Every one of them works before (and fills whatever the server remembers).
    assert total(rh.vpc(dev_server, user_cred), "gateways") == 1
    assert total(rh.vpc(dev_server, role_cred), "connections") == 1
    assert total(rh.vpc(dev_server, other), "gateways") == 0

    answer = reset_state(dev_server)
    assert answer["statusCode"] == 200 and set(answer["body"]) == {"RequestId"}, answer

    # Resources: gone, by id and in every list.
    expect_error(client.describe_vpn_gateway, "InvalidVpnGatewayInstanceId.NotFound", 404,
                 m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    expect_error(client.describe_vpn_connection, "InvalidVpnConnectionInstanceId.NotFound", 404,
                 m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    for what in ("gateways", "customer_gateways", "connections"):
        assert total(client, what) == 0, what
    tags = client.list_tag_resources(m.ListTagResourcesRequest(
        region_id=REGION, resource_type="VPNGATEWAY", tag=[m.ListTagResourcesRequestTag(key="k", value="v")]))
    assert tags.body.tag_resources.tag_resource == []
    # RAM and STS: the user, its key, the role session, the other account's key no longer sign.
    for cred in (user_cred, role_cred, other):
        err = capture_error(total, rh.vpc(dev_server, cred), "gateways")
        assert err.code in ("InvalidAccessKeyId.NotFound", "InvalidSecurityToken.Expired",
                            "InvalidSecurityToken.MismatchWithAccessKey"), err
        assert err.status in (400, 404), err
    check_error(capture_error(ram.get_user, rm.GetUserRequest(user_name="alice")), "EntityNotExist.User", 404,
                host_id=rh.RAM_HOST_ID)
    check_error(capture_error(ram.get_policy, rm.GetPolicyRequest(policy_name="mine", policy_type="Custom")),
                "EntityNotExist.Policy", 404, host_id=rh.RAM_HOST_ID)
    assert ram.list_roles(rm.ListRolesRequest()).body.roles.role == []
    # The root key and its account stay; what was there can be made again under the same names.
    assert rh.account_id(dev_server, rh.Cred.root(dev_server)) == root_account
    rh.create_user_with_key(ram, "alice")
    assert ram.list_policies_for_user(rm.ListPoliciesForUserRequest(user_name="alice")).body.policies.policy == []
    create_gateway(client, vpc_id=new_vpc_id())
    assert total(client, "gateways") == 1


def test_reset_is_the_first_root_keys_alone(dev_server):
    ram = rh.ram(dev_server)
    gw = create_gateway(dev_server.tea_client(), vpc_id=new_vpc_id())
    user, admin = rh.create_user_with_key(ram)
    rh.attach_user(ram, user, "AdministratorAccess")
    wildcard = rh.create_policy(ram, {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    rh.attach_user(ram, user, wildcard, "Custom")
    other_root = rh.vpngw_account_create(dev_server, rh.new_name("acct"))
    # A RAM user allowed everything, and another account's root: 403, and nothing changes.
    for cred in (admin, other_root):
        err = check_error(capture_error(reset_state, dev_server, cred), "Forbidden.RAM", 403, host_id=VPNGW_HOST_ID)
        assert "doesn't support RAM" in err.message
    assert dev_server.tea_client().describe_vpn_gateway(
        m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.vpn_gateway_id == gw
    # A wrong signature is refused before anything runs.
    err = capture_error(reset_state, dev_server, rh.Cred(dev_server.access_key_id, "not-the-secret"))
    check_error(err, "SignatureDoesNotMatch", 400, host_id=VPNGW_HOST_ID)
    reset_state(dev_server)


def test_reset_under_concurrent_requests(dev_server):
    """Writers build gateway → customer gateway → connection chains and readers describe them while
    resets run. No request may fail other than with the cloud's NotFound (a parent wiped between two
    calls) or a busy code; afterwards nothing dangles: every connection's gateway and customer
    gateway exist, and every list's TotalCount is what it lists."""
    client = dev_server.tea_client()
    stop = threading.Event()
    errors: list[str] = []
    resets = 0
    made = []  # connections created (list.append is atomic)

    def chain() -> None:
        while not stop.is_set():
            try:
                gw = create_gateway(client, vpc_id=new_vpc_id(), wait_active=False)
                cgw = create_customer_gateway(client, ip=new_peer_ip())
                client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
                made.append(create_connection(client, gw, cgw))
            except Exception as e:  # noqa: BLE001 - classified below
                err = capture_error(_raise, e)
                if not (err.status == 404 and "NotFound" in err.code) and err.code not in (
                        "VpnGateway.Configuring", "VpnTask.CONFLICT"):
                    errors.append(f"{err.code} {err.status} {err.message}")

    def reader() -> None:
        while not stop.is_set():
            try:
                for what in ("gateways", "customer_gateways", "connections"):
                    total(client, what)
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        running = [pool.submit(chain) for _ in range(4)] + [pool.submit(reader)]
        # Resets and writes interleave: after each reset, wait (without a time budget that a loaded
        # machine could miss) until some writer has completed a chain again. A failed reset stops
        # the workers too (without the `finally` the pool waited for them forever).
        try:
            for _ in range(8):
                before = len(made)
                reset_state(dev_server)
                resets += 1
                give_up = time.monotonic() + 60
                while len(made) == before and not errors and time.monotonic() < give_up:
                    time.sleep(0.01)
        finally:
            stop.set()
        for f in running:
            f.result()
    assert not errors, errors[:10]
    assert resets == 8 and len(made) >= 8, (resets, len(made))
    assert not errors, errors[:10]

    # Quiet now: nothing dangles, and every TotalCount is what its list holds.
    for c in everything(client, "connections"):
        client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=c.vpn_gateway_id))
        client.describe_customer_gateway(
            m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=c.customer_gateway_id))
    everything(client, "gateways")
    everything(client, "customer_gateways")
    reset_state(dev_server)
    for what in ("gateways", "customer_gateways", "connections"):
        assert total(client, what) == 0, what
