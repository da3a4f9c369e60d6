"""STS 2015-04-01 through the official SDK (alibabacloud-sts20150401): AssumeRole with trust
policy, DurationSeconds and session policy; GetCallerIdentity; temporary credentials used
by the VPC SDK with V3 (`x-acs-security-token`) and V1 (`SecurityToken`) signing; expiry."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from alibabacloud_ram20150501 import models as rm
from alibabacloud_sts20150401 import models as sm
from alibabacloud_vpc20160428 import models as m

from conftest import VpngwServer, _cleanup
from helpers import REGION, capture_error, check_error
from ram_helpers import (
    STS_HOST_ID,
    Cred,
    account_id,
    assume,
    attach_user,
    create_user_with_key,
    new_name,
    ram,
    sts,
    trust_user,
    vpc,
)

DESCRIBE_ONLY = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "vpc:DescribeVpnGateways", "Resource": "*"}]}
)


def role_for(server, user: str, policy: str = "AdministratorAccess") -> str:
    """A role that `user` may assume, with `policy` attached; returns its ARN."""
    root = ram(server)
    acct = account_id(server, Cred.root(server))
    name = new_name("role")
    role = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, user))
    ).body.role
    root.attach_policy_to_role(rm.AttachPolicyToRoleRequest(role_name=name, policy_name=policy, policy_type="System"))
    return role.arn


@pytest.fixture
def assumer(server):
    """A RAM user allowed to call sts:AssumeRole."""
    user, cred = create_user_with_key(ram(server))
    attach_user(ram(server), user, "AliyunSTSAssumeRoleAccess")
    return user, cred


@pytest.mark.parametrize("signature", ["v3", "v1"], ids=["teaV3", "teaV1"])
def test_assume_role_and_use_the_credentials(server, assumer, signature):
    user, cred = assumer
    arn = role_for(server, user)
    acct = account_id(server, Cred.root(server))
    body = (
        sts(server, cred, signature)
        .assume_role(sm.AssumeRoleRequest(role_arn=arn, role_session_name="alice-session", duration_seconds=900))
        .body
    )
    c = body.credentials
    assert c.access_key_id.startswith("STS.") and c.access_key_secret and c.security_token.startswith("CAIS")
    expires = time.mktime(time.strptime(c.expiration, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert 850 <= expires - time.time() <= 905
    assert body.assumed_role_user.arn == f"{arn}/alice-session"
    assert body.assumed_role_user.assumed_role_id.endswith(":alice-session")
    session = Cred(c.access_key_id, c.access_key_secret, c.security_token)

    me = sts(server, session, signature).get_caller_identity().body
    assert (me.identity_type, me.account_id) == ("AssumedRoleUser", acct)
    assert me.arn == f"acs:ram::{acct}:assumed-role/{arn.rsplit('/', 1)[1]}/alice-session"
    assert me.principal_id == body.assumed_role_user.assumed_role_id

    # The role has AdministratorAccess: the session may use VPC (token in both signature versions).
    listed = vpc(server, session, signature).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION)).body
    assert listed.total_count is not None

    # Without the token the key is refused.
    no_token = Cred(session.key_id, session.secret)
    err = capture_error(vpc(server, no_token, signature).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "MissingSecurityToken", 400)
    other = Cred(session.key_id, session.secret, "CAIS" + "A" * 256)
    err = capture_error(vpc(server, other, signature).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidSecurityToken.MismatchWithAccessKey", 400)


def test_session_policy_intersects_the_role(server, assumer):
    user, cred = assumer
    arn = role_for(server, user)
    session = assume(server, cred, arn, policy=DESCRIBE_ONLY)
    client = vpc(server, session)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    err = capture_error(client.describe_customer_gateways, m.DescribeCustomerGatewaysRequest(region_id=REGION))
    check_error(err, "Forbidden.RAM", 403)
    detail = err.body["AccessDeniedDetail"]
    assert detail["PolicyType"] == "SessionPolicy"
    assert detail["AuthPrincipalType"] == "AssumedRoleUser"
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["AuthAction"] == "vpc:DescribeCustomerGateways"


def test_assume_role_refusals(server, assumer):
    user, cred = assumer
    arn = role_for(server, user)
    client = sts(server, cred)
    cases = [
        (dict(role_arn="acs:ram:bad", role_session_name="ss"), "InvalidParameter.RoleArn", 400),
        (dict(role_arn=arn, role_session_name="s"), "InvalidParameter.RoleSessionName", 400),
        (dict(role_arn=arn, role_session_name="ss", duration_seconds=899), "InvalidParameter.DurationSeconds", 400),
        (dict(role_arn=arn, role_session_name="ss", duration_seconds=3601), "InvalidParameter.DurationSeconds", 400),
        (dict(role_arn=arn, role_session_name="ss", policy="{nope"), "InvalidParameter.PolicyGrammar", 400),
        (dict(role_arn=arn.rsplit("/", 1)[0] + "/no-such-role", role_session_name="ss"), "EntityNotExist.Role", 404),
    ]
    for params, code, status in cases:
        err = capture_error(client.assume_role, sm.AssumeRoleRequest(**params))
        check_error(err, code, status, host_id=STS_HOST_ID)

    # Root keys cannot assume roles.
    err = capture_error(sts(server, Cred.root(server)).assume_role, sm.AssumeRoleRequest(role_arn=arn, role_session_name="ss"))
    check_error(err, "NoPermission", 403, message_contains="Roles may not be assumed by root accounts", host_id=STS_HOST_ID)

    # A user the trust policy does not name.
    stranger, stranger_cred = create_user_with_key(ram(server))
    attach_user(ram(server), stranger, "AliyunSTSAssumeRoleAccess")
    err = capture_error(sts(server, stranger_cred).assume_role, sm.AssumeRoleRequest(role_arn=arn, role_session_name="ss"))
    check_error(err, "NoPermission", 403, host_id=STS_HOST_ID)
    assert err.body["AccessDeniedDetail"]["PolicyType"] == "AssumeRolePolicy"

    # A user the trust policy names, without sts:AssumeRole permission of its own.
    trusted, plain = create_user_with_key(ram(server))
    arn2 = role_for(server, trusted)
    err = capture_error(sts(server, plain).assume_role, sm.AssumeRoleRequest(role_arn=arn2, role_session_name="ss"))
    check_error(err, "NoPermission", 403, host_id=STS_HOST_ID)
    assert err.body["AccessDeniedDetail"]["PolicyType"] == "AccountLevelIdentityBasedPolicy"


def test_get_caller_identity(server):
    root = sts(server, Cred.root(server)).get_caller_identity().body
    assert root.identity_type == "Account" and root.arn == f"acs:ram::{root.account_id}:root"
    user, cred = create_user_with_key(ram(server))
    me = sts(server, cred, "v1").get_caller_identity().body
    assert (me.identity_type, me.arn) == ("RAMUser", f"acs:ram::{root.account_id}:user/{user}")
    assert me.user_id == me.principal_id and len(me.user_id) == 16


@pytest.fixture(scope="module")
def short_sts_server():
    """A private server whose STS credentials may be as short as 1 s (test knob
    VPNGW_STS_MIN_DURATION_SECONDS; the cloud's minimum is 900 s)."""
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-sdk-sts-"))
    srv = VpngwServer(workdir)
    old = os.environ.get("VPNGW_STS_MIN_DURATION_SECONDS")
    os.environ["VPNGW_STS_MIN_DURATION_SECONDS"] = "1"
    try:
        srv.start()
    finally:
        if old is None:
            os.environ.pop("VPNGW_STS_MIN_DURATION_SECONDS", None)
        else:
            os.environ["VPNGW_STS_MIN_DURATION_SECONDS"] = old
    yield srv
    _cleanup(srv, workdir)


@pytest.mark.parametrize("signature", ["v3", "v1"], ids=["teaV3", "teaV1"])
def test_expired_token_is_refused(short_sts_server, signature):
    server = short_sts_server
    user, cred = create_user_with_key(ram(server))
    attach_user(ram(server), user, "AliyunSTSAssumeRoleAccess")
    arn = role_for(server, user)
    session = assume(server, cred, arn, duration_seconds=2)
    client = vpc(server, session, signature)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    time.sleep(2.5)
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidSecurityToken.Expired", 400)
