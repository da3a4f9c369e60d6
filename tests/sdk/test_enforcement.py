"""RAM policies enforced on VPC calls, seen through the official VPC SDK: no policy → 403 and
nothing created; read-only → describe yes, delete 403 and nothing deleted; a policy scoped to
one connection ARN; explicit Deny wins; acs:SourceIp from the real peer address; deleted keys;
a second account made with `vpngw account create` sees nothing of the first; no secret is
stored in clear in the data dir."""

from __future__ import annotations

import json

import pytest
from alibabacloud_ram20150501 import models as rm
from alibabacloud_vpc20160428 import models as m

from helpers import (
    REGION,
    capture_error,
    check_error,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    describe_gateway,
    new_vpc_id,
)
from ram_helpers import (
    Cred,
    assume,
    attach_user,
    create_policy,
    create_user_with_key,
    new_name,
    ram,
    role_name_arn,
    vpc,
    vpngw_account_create,
)


def allow(action, resource="*", **condition) -> dict:
    stmt = {"Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "1", "Statement": [stmt]}


def gateway_ids(client) -> set[str]:
    """Every gateway the client may list, all pages (the shared account holds more than one page)."""
    ids: set[str] = set()
    page = 1
    while True:
        req = m.DescribeVpnGatewaysRequest(region_id=REGION, page_size=50, page_number=page)
        body = client.describe_vpn_gateways(req).body
        ids |= {g.vpn_gateway_id for g in body.vpn_gateways.vpn_gateway}
        if page * 50 >= body.total_count:
            return ids
        page += 1


@pytest.mark.parametrize("signature", ["v3", "v1"], ids=["teaV3", "teaV1"])
def test_no_policy_is_denied_and_nothing_is_created(server, vpc3, signature):
    user, cred = create_user_with_key(ram(server))
    before = gateway_ids(vpc3)
    client = vpc(server, cred, signature)
    err = capture_error(
        client.create_vpn_gateway,
        m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id(), bandwidth=10),
    )
    check_error(err, "Forbidden.RAM", 403)
    detail = err.body["AccessDeniedDetail"]
    assert detail["NoPermissionType"] == "ImplicitDeny"
    assert detail["AuthAction"] == "vpc:CreateVpnGateway"
    assert detail["AuthPrincipalType"] == "SubUser"
    assert detail["AuthPrincipalDisplayName"] == user
    assert detail["EncodedDiagnosticMessage"]
    assert gateway_ids(vpc3) == before
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "Forbidden.RAM", 403)


def test_read_only_can_describe_but_not_delete(server, vpc3):
    gw = create_gateway(vpc3)
    user, cred = create_user_with_key(ram(server))
    # The real AliyunVPCReadOnlyAccess does not cover vpc:*Vpn* actions: the VPN
    # gateway read-only policy does.
    attach_user(ram(server), user, "AliyunVPNGatewayReadOnlyAccess")
    client = vpc(server, cred)
    assert client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.vpn_gateway_id == gw
    assert gw in gateway_ids(client)
    err = capture_error(client.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    check_error(err, "Forbidden.RAM", 403)
    err = capture_error(
        client.modify_vpn_gateway_attribute,
        m.ModifyVpnGatewayAttributeRequest(region_id=REGION, vpn_gateway_id=gw, name="hijacked"),
    )
    check_error(err, "Forbidden.RAM", 403)
    assert describe_gateway(vpc3, gw)["Name"] != "hijacked"

    other, other_cred = create_user_with_key(ram(server))
    attach_user(ram(server), other, "AliyunVPCReadOnlyAccess")
    err = capture_error(vpc(server, other_cred).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "Forbidden.RAM", 403)


def test_policy_scoped_to_one_connection(server, vpc3):
    gw = create_gateway(vpc3)
    vco_a = create_connection(vpc3, gw, create_customer_gateway(vpc3))
    vco_b = create_connection(vpc3, gw, create_customer_gateway(vpc3))
    root = ram(server)
    user, cred = create_user_with_key(root)
    doc = allow(["vpc:DescribeVpnConnection", "vpc:ModifyVpnConnectionAttribute"], f"acs:vpc:*:*:vpnconnection/{vco_a}")
    attach_user(root, user, create_policy(root, doc), "Custom")
    client = vpc(server, cred)
    got = client.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco_a)).body
    assert got.vpn_connection_id == vco_a
    client.modify_vpn_connection_attribute(
        m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco_a, name="mine")
    )
    err = capture_error(
        client.describe_vpn_connection, m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco_b)
    )
    check_error(err, "Forbbiden.SubUser", 403)
    err = capture_error(
        client.modify_vpn_connection_attribute,
        m.ModifyVpnConnectionAttributeRequest(region_id=REGION, vpn_connection_id=vco_b, name="mine"),
    )
    check_error(err, "Forbbiden.SubUser", 403)
    assert describe_connection(vpc3, vco_b)["Name"] != "mine"
    err = capture_error(client.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco_a))
    check_error(err, "Forbidden.RAM", 403)
    assert describe_connection(vpc3, vco_a)["VpnConnectionId"] == vco_a


def test_explicit_deny_wins(server, vpc3):
    gw = create_gateway(vpc3)
    root = ram(server)
    user, cred = create_user_with_key(root)
    attach_user(root, user, "AdministratorAccess")
    deny = {"Version": "1", "Statement": [{"Sid": "keep", "Effect": "Deny", "Action": "vpc:Delete*", "Resource": "*"}]}
    group = new_name("no-delete")
    root.create_group(rm.CreateGroupRequest(group_name=group))
    root.add_user_to_group(rm.AddUserToGroupRequest(group_name=group, user_name=user))
    root.attach_policy_to_group(
        rm.AttachPolicyToGroupRequest(group_name=group, policy_name=create_policy(root, deny), policy_type="Custom")
    )
    client = vpc(server, cred, "v1")
    client.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    err = capture_error(client.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw))
    check_error(err, "Forbidden.RAM", 403)
    assert err.body["AccessDeniedDetail"]["NoPermissionType"] == "ExplicitDeny"
    assert describe_gateway(vpc3, gw)["VpnGatewayId"] == gw


def test_source_ip_condition_sees_the_peer(server):
    root = ram(server)
    local, local_cred = create_user_with_key(root)
    attach_user(root, local, create_policy(root, allow("vpc:Describe*", IpAddress={"acs:SourceIp": "127.0.0.0/8"})), "Custom")
    remote, remote_cred = create_user_with_key(root)
    attach_user(root, remote, create_policy(root, allow("vpc:Describe*", IpAddress={"acs:SourceIp": "10.0.0.0/8"})), "Custom")
    vpc(server, local_cred).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    err = capture_error(vpc(server, remote_cred).describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "Forbidden.RAM", 403)


def test_deleted_and_disabled_keys(server):
    root = ram(server)
    user, cred = create_user_with_key(root)
    attach_user(root, user, "AliyunVPNGatewayReadOnlyAccess")
    client = vpc(server, cred)
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    root.update_access_key(rm.UpdateAccessKeyRequest(user_name=user, user_access_key_id=cred.key_id, status="Inactive"))
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.Inactive", 400)
    root.delete_access_key(rm.DeleteAccessKeyRequest(user_name=user, user_access_key_id=cred.key_id))
    err = capture_error(client.describe_vpn_gateways, m.DescribeVpnGatewaysRequest(region_id=REGION))
    check_error(err, "InvalidAccessKeyId.NotFound", 404)


def test_second_account_sees_nothing_of_the_first(server, vpc3):
    gw = create_gateway(vpc3)
    cgw = create_customer_gateway(vpc3)
    vco = create_connection(vpc3, gw, cgw)
    other = vpngw_account_create(server, new_name("second"))
    client = vpc(server, other)
    for call, req, code in [
        (client.describe_vpn_gateway, m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw), "InvalidVpnGatewayInstanceId.NotFound"),
        (client.describe_customer_gateway, m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw), "InvalidCustomerGatewayInstanceId.NotFound"),
        (client.describe_vpn_connection, m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco), "InvalidVpnConnectionInstanceId.NotFound"),
        (client.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco), "InvalidVpnConnectionInstanceId.NotFound"),
        (client.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw), "InvalidVpnGatewayInstanceId.NotFound"),
    ]:
        check_error(capture_error(call, req), code, 404)
    assert gateway_ids(client) == set()
    # Its own resources work, and the first account does not see them either.
    own = create_gateway(client)
    assert gateway_ids(client) == {own}
    assert own not in gateway_ids(vpc3)
    assert describe_connection(vpc3, vco)["VpnConnectionId"] == vco
    # RAM: the other account's users are its own.
    assert [u.user_name for u in ram(server, other).list_users(rm.ListUsersRequest()).body.users.user] == []


def test_no_secret_in_clear_in_the_data_dir(server, vpc3):
    root = ram(server)
    user, cred = create_user_with_key(root)
    attach_user(root, user, "AliyunSTSAssumeRoleAccess")
    arn = role_name_arn(server, user)
    session = assume(server, cred, arn)
    vpc(server, session).describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    other = vpngw_account_create(server, new_name("secret-check"))
    vpc3.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))
    needles = {
        "root secret": server.access_key_secret,
        "user secret": cred.secret,
        "STS secret": session.secret,
        "STS token": session.token,
        "account create secret": other.secret,
    }
    files = [p for p in server.data_dir.rglob("*") if p.is_file()]
    if server.database_url:  # PostgreSQL: everything the server stored, as pg_dump writes it
        import pg

        dumped = pg.dump(server.database_url)
        assert b"COPY" in dumped and server.access_key_id.encode() in dumped
        for what, secret in needles.items():
            assert secret.encode() not in dumped, f"{what} in clear in the PostgreSQL database"
    else:
        assert any(p.name.startswith("vpngw.db") for p in files), files
    for path in files:
        data = path.read_bytes()
        for what, secret in needles.items():
            assert secret.encode() not in data, f"{what} in clear in {path}"
