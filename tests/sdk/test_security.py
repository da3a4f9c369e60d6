"""Issue 13: vpngw as an attacker and an unlucky operator find it, against the release binary on
loopback: the official SDKs where they can express the attack, raw HTTP and sockets where they
cannot. Each test failed before its fix. (The agent's back-off against a refusing peer is in
test_dataplane_e2e.py, which owns the network-namespace lab; the nonce memory bound under load is
crates/server/tests/nonce_memory.rs.)"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import stat
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as rm
from alibabacloud_vpc20160428 import models as m

from conftest import _cleanup, _new_server, free_port, server_binary
from helpers import (
    REGION,
    capture_error,
    check_error,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    expect_error,
    new_peer_ip,
)
from ram_helpers import (
    RAM_HOST_ID,
    Cred,
    account_id,
    assume,
    attach_user,
    create_user_with_key,
    new_name,
    ram,
    trust_user,
    vpc,
)
from signing import RawClient, new_nonce, utc_timestamp, v3_sign


@pytest.fixture
def make_server():
    """A factory for private servers configured before they start."""
    made = []

    def make(*, env=None, fd_limit=None, start=True, data_dir=None):
        srv, workdir = _new_server("vpngw-sec-")
        srv.extra_env = dict(env or {})
        srv.fd_limit = fd_limit
        if data_dir is not None:
            srv.data_dir = data_dir
        made.append((srv, workdir))
        if start:
            srv.start()
        return srv

    yield make
    for srv, workdir in made:
        _cleanup(srv, workdir)


def vpngw(*args, env=None, timeout=60) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("VPNGW_", "ALIBABA_CLOUD_"))}
    full.update(env or {})
    return subprocess.run([str(server_binary()), *args], capture_output=True, text=True, env=full, timeout=timeout)


def stderr_of(server) -> str:
    return (server.workdir / f"stderr.{server.starts}.log").read_text(errors="replace")


def stdout_of(server) -> str:
    return (server.workdir / f"stdout.{server.starts}.log").read_text(errors="replace")


# ------------------------------------------------------------ 1. sessions belong to a role


def test_a_role_session_dies_with_its_role_not_with_its_name(server):
    """The issue's attack: `assumer` assumes `rtemp` (read only); `rtemp` is deleted and created
    again under the same name with AdministratorAccess, trusting someone else. The old session must
    not inherit the new role: it stops working at once."""
    root = ram(server)
    acct = account_id(server, Cred.root(server))
    assumer, assumer_key = create_user_with_key(root)
    attach_user(root, assumer, "AliyunSTSAssumeRoleAccess")
    name = new_name("rtemp")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, assumer))
    ).body.role.arn
    root.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(role_name=name, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    session = assume(server, assumer_key, arn)
    as_session = ram(server, session)
    vpc(server, session).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    expect_error(as_session.create_user, "NoPermission", 403, rm.CreateUserRequest(user_name=new_name("x")),
                 host_id=RAM_HOST_ID)

    root.detach_policy_from_role(
        rm.DetachPolicyFromRoleRequest(role_name=name, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    root.delete_role(rm.DeleteRoleRequest(role_name=name))
    # Deleted: the session stops at once (the server caches credentials; no stale answer).
    err = capture_error(vpc(server, session).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)

    other, _ = create_user_with_key(root)
    root.create_role(rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, other)))
    root.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(role_name=name, policy_name="AdministratorAccess", policy_type="System")
    )
    victim = new_name("created-by-old-session")
    err = capture_error(as_session.create_user, rm.CreateUserRequest(user_name=victim))
    check_error(err, "InvalidAccessKeyId.NotFound", 404, host_id=RAM_HOST_ID)
    users = [u.user_name for u in root.list_users(rm.ListUsersRequest(max_items=1000)).body.users.user]
    assert victim not in users


def test_a_deleted_access_key_stops_at_once(server):
    root = ram(server)
    user, key = create_user_with_key(root)
    attach_user(root, user, "AliyunVPNGatewayReadOnlyAccess")
    client = vpc(server, key)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    root.delete_access_key(rm.DeleteAccessKeyRequest(user_name=user, user_access_key_id=key.key_id))
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)
    root.detach_policy_from_user(
        rm.DetachPolicyFromUserRequest(user_name=user, policy_name="AliyunVPNGatewayReadOnlyAccess", policy_type="System")
    )
    root.delete_user(rm.DeleteUserRequest(user_name=user))
