"""RAM 2015-05-01 through the official SDKs (alibabacloud-ram20150501 with V3 and V1 signing,
and the legacy aliyun-python-sdk-ram): users, access keys, groups, roles, policies and
attachments, with the cloud's response shapes and errors."""

from __future__ import annotations

import json

import pytest
from alibabacloud_ram20150501 import models as rm
from aliyunsdkram.request.v20150501.CreateUserRequest import CreateUserRequest as LegacyCreateUser
from aliyunsdkram.request.v20150501.GetUserRequest import GetUserRequest as LegacyGetUser
from aliyunsdkram.request.v20150501.ListPoliciesRequest import ListPoliciesRequest as LegacyListPolicies

from helpers import capture_error, check_error, expect_error
from ram_helpers import RAM_HOST_ID, attach_user, create_policy, create_user_with_key, new_name, ram

READ_VPN = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": "vpc:DescribeVpn*", "Resource": "*"}],
}


@pytest.fixture(params=["v3", "v1"], ids=["teaV3", "teaV1"])
def client(request, server):
    return ram(server, signature=request.param)


def test_user_lifecycle(client):
    name = new_name("alice")
    created = client.create_user(
        rm.CreateUserRequest(
            user_name=name, display_name="Alice", comments="ops", email="alice@example.com", mobile_phone="86-18600008888"
        )
    ).body
    assert created.user.user_name == name
    assert created.user.display_name == "Alice"
    assert created.user.email == "alice@example.com"
    assert len(created.user.user_id) == 16 and created.user.user_id.isdigit()
    assert created.user.create_date.endswith("Z")
    expect_error(
        client.create_user, "EntityAlreadyExists.User", 409, rm.CreateUserRequest(user_name=name), host_id=RAM_HOST_ID
    )

    got = client.get_user(rm.GetUserRequest(user_name=name)).body.user
    assert (got.user_id, got.comments, got.mobile_phone) == (created.user.user_id, "ops", "86-18600008888")
    assert got.update_date

    renamed = name + "-2"
    updated = client.update_user(
        rm.UpdateUserRequest(user_name=name, new_user_name=renamed, new_display_name="Alice B")
    ).body.user
    assert (updated.user_name, updated.display_name, updated.user_id) == (renamed, "Alice B", got.user_id)
    expect_error(client.get_user, "EntityNotExist.User", 404, rm.GetUserRequest(user_name=name), host_id=RAM_HOST_ID)

    listed = client.list_users(rm.ListUsersRequest(max_items=1000)).body
    assert listed.is_truncated is False
    assert renamed in [u.user_name for u in listed.users.user]
    first = client.list_users(rm.ListUsersRequest(max_items=1)).body
    if first.is_truncated:
        more = client.list_users(rm.ListUsersRequest(max_items=1, marker=first.marker)).body
        assert more.users.user[0].user_name != first.users.user[0].user_name

    key = client.create_access_key(rm.CreateAccessKeyRequest(user_name=renamed)).body.access_key
    assert key.access_key_id.startswith("LTAI") and len(key.access_key_secret) == 30 and key.status == "Active"
    client.create_access_key(rm.CreateAccessKeyRequest(user_name=renamed))
    expect_error(
        client.create_access_key,
        "LimitExceeded.User.AccessKey",
        409,
        rm.CreateAccessKeyRequest(user_name=renamed),
        host_id=RAM_HOST_ID,
    )
    keys = client.list_access_keys(rm.ListAccessKeysRequest(user_name=renamed)).body.access_keys.access_key
    assert len(keys) == 2 and {k.status for k in keys} == {"Active"}
    assert not hasattr(keys[0], "access_key_secret") or keys[0].access_key_secret is None
    client.update_access_key(
        rm.UpdateAccessKeyRequest(user_name=renamed, user_access_key_id=key.access_key_id, status="Inactive")
    )
    keys = client.list_access_keys(rm.ListAccessKeysRequest(user_name=renamed)).body.access_keys.access_key
    assert {k.access_key_id: k.status for k in keys}[key.access_key_id] == "Inactive"

    expect_error(
        client.delete_user,
        "DeleteConflict.User.AccessKey",
        409,
        rm.DeleteUserRequest(user_name=renamed),
        host_id=RAM_HOST_ID,
    )
    for k in keys:
        client.delete_access_key(rm.DeleteAccessKeyRequest(user_name=renamed, user_access_key_id=k.access_key_id))
    expect_error(
        client.delete_access_key,
        "EntityNotExist.User.AccessKey",
        404,
        rm.DeleteAccessKeyRequest(user_name=renamed, user_access_key_id=key.access_key_id),
        host_id=RAM_HOST_ID,
    )
    client.delete_user(rm.DeleteUserRequest(user_name=renamed))
    expect_error(client.get_user, "EntityNotExist.User", 404, rm.GetUserRequest(user_name=renamed), host_id=RAM_HOST_ID)


def test_bad_user_parameters(client):
    expect_error(
        client.create_user,
        "InvalidParameter.UserName.InvalidChars",
        400,
        rm.CreateUserRequest(user_name="bad name"),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.create_user,
        "InvalidParameter.UserName.Length",
        400,
        rm.CreateUserRequest(user_name="x" * 65),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.create_user,
        "InvalidParameter.Email.Format",
        400,
        rm.CreateUserRequest(user_name=new_name("e"), email="not-an-email"),
        host_id=RAM_HOST_ID,
    )
    expect_error(client.create_user, "MissingParameter", 400, rm.CreateUserRequest(), host_id=RAM_HOST_ID)


def test_groups_and_membership(client):
    user, _ = create_user_with_key(client)
    group = new_name("ops")
    g = client.create_group(rm.CreateGroupRequest(group_name=group, comments="operators")).body.group
    assert (g.group_name, g.comments) == (group, "operators") and g.group_id and g.create_date
    expect_error(
        client.create_group, "EntityAlreadyExists.Group", 409, rm.CreateGroupRequest(group_name=group), host_id=RAM_HOST_ID
    )
    client.add_user_to_group(rm.AddUserToGroupRequest(group_name=group, user_name=user))
    expect_error(
        client.add_user_to_group,
        "EntityAlreadyExists.User.Group",
        409,
        rm.AddUserToGroupRequest(group_name=group, user_name=user),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.add_user_to_group,
        "EntityNotExist.Group",
        404,
        rm.AddUserToGroupRequest(group_name=new_name("nogroup"), user_name=user),
        host_id=RAM_HOST_ID,
    )
    groups = client.list_groups_for_user(rm.ListGroupsForUserRequest(user_name=user)).body.groups.group
    assert [(x.group_name, x.comments) for x in groups] == [(group, "operators")]
    assert groups[0].join_date.endswith("Z")
    # Keys first, then the group blocks the delete.
    for k in client.list_access_keys(rm.ListAccessKeysRequest(user_name=user)).body.access_keys.access_key:
        client.delete_access_key(rm.DeleteAccessKeyRequest(user_name=user, user_access_key_id=k.access_key_id))
    expect_error(
        client.delete_user, "DeleteConflict.User.Group", 409, rm.DeleteUserRequest(user_name=user), host_id=RAM_HOST_ID
    )
    client.remove_user_from_group(rm.RemoveUserFromGroupRequest(group_name=group, user_name=user))
    expect_error(
        client.remove_user_from_group,
        "EntityNotExist.User.Group",
        404,
        rm.RemoveUserFromGroupRequest(group_name=group, user_name=user),
        host_id=RAM_HOST_ID,
    )
    assert client.list_groups_for_user(rm.ListGroupsForUserRequest(user_name=user)).body.groups.group == []
    client.delete_user(rm.DeleteUserRequest(user_name=user))


def test_roles(client, server):
    name = new_name("role")
    trust = json.dumps(
        {
            "Version": "1",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"RAM": ["acs:ram::1234567890123456:root"]}}],
        }
    )
    role = client.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust, description="d", max_session_duration=7200)
    ).body.role
    assert role.role_name == name and role.arn.endswith(f":role/{name}") and role.arn.startswith("acs:ram::")
    assert role.max_session_duration == 7200 and role.assume_role_policy_document == trust
    assert len(role.role_id) == 18
    got = client.get_role(rm.GetRoleRequest(role_name=name)).body.role
    assert (got.role_id, got.description) == (role.role_id, "d")
    expect_error(
        client.create_role,
        "EntityAlreadyExists.Role",
        409,
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.create_role,
        "MalformedPolicyDocument",
        400,
        rm.CreateRoleRequest(role_name=new_name("r"), assume_role_policy_document='{"Version":"1"}'),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.create_role,
        "InvalidParameter.MaxSessionDuration",
        400,
        rm.CreateRoleRequest(role_name=new_name("r"), assume_role_policy_document=trust, max_session_duration=60),
        host_id=RAM_HOST_ID,
    )
    client.attach_policy_to_role(
        rm.AttachPolicyToRoleRequest(role_name=name, policy_name="AliyunVPCReadOnlyAccess", policy_type="System")
    )
    listed = client.list_policies_for_role(rm.ListPoliciesForRoleRequest(role_name=name)).body.policies.policy
    assert [(p.policy_name, p.policy_type) for p in listed] == [("AliyunVPCReadOnlyAccess", "System")]
    expect_error(
        client.delete_role, "DeleteConflict.Role.Policy", 409, rm.DeleteRoleRequest(role_name=name), host_id=RAM_HOST_ID
    )
    client.detach_policy_from_role(
        rm.DetachPolicyFromRoleRequest(role_name=name, policy_name="AliyunVPCReadOnlyAccess", policy_type="System")
    )
    client.delete_role(rm.DeleteRoleRequest(role_name=name))
    expect_error(client.get_role, "EntityNotExist.Role", 404, rm.GetRoleRequest(role_name=name), host_id=RAM_HOST_ID)


def test_policies_versions_and_attachments(client):
    name = create_policy(client, READ_VPN)
    got = client.get_policy(rm.GetPolicyRequest(policy_name=name, policy_type="Custom")).body
    assert (got.policy.policy_type, got.policy.default_version, got.policy.attachment_count) == ("Custom", "v1", 0)
    assert json.loads(got.default_policy_version.policy_document) == READ_VPN
    assert got.default_policy_version.is_default_version is True

    v2 = client.create_policy_version(
        rm.CreatePolicyVersionRequest(policy_name=name, policy_document=json.dumps(READ_VPN), set_as_default=False)
    ).body.policy_version
    assert (v2.version_id, v2.is_default_version) == ("v2", False)
    v3 = client.create_policy_version(
        rm.CreatePolicyVersionRequest(policy_name=name, policy_document=json.dumps(READ_VPN), set_as_default=True)
    ).body.policy_version
    assert (v3.version_id, v3.is_default_version) == ("v3", True)
    assert client.get_policy(rm.GetPolicyRequest(policy_name=name, policy_type="Custom")).body.policy.default_version == "v3"
    client.create_policy_version(rm.CreatePolicyVersionRequest(policy_name=name, policy_document=json.dumps(READ_VPN)))
    client.create_policy_version(rm.CreatePolicyVersionRequest(policy_name=name, policy_document=json.dumps(READ_VPN)))
    expect_error(
        client.create_policy_version,
        "LimitExceeded.Policy.Version",
        409,
        rm.CreatePolicyVersionRequest(policy_name=name, policy_document=json.dumps(READ_VPN)),
        host_id=RAM_HOST_ID,
    )

    user, _ = create_user_with_key(client)
    group = new_name("g")
    client.create_group(rm.CreateGroupRequest(group_name=group))
    attach_user(client, user, name, "Custom")
    attach_user(client, user, "AliyunVPCFullAccess")
    expect_error(
        client.attach_policy_to_user,
        "EntityAlreadyExists.User.Policy",
        409,
        rm.AttachPolicyToUserRequest(user_name=user, policy_name=name, policy_type="Custom"),
        host_id=RAM_HOST_ID,
    )
    client.attach_policy_to_group(rm.AttachPolicyToGroupRequest(group_name=group, policy_name=name, policy_type="Custom"))
    for_user = client.list_policies_for_user(rm.ListPoliciesForUserRequest(user_name=user)).body.policies.policy
    assert {(p.policy_name, p.policy_type, p.default_version) for p in for_user} == {
        (name, "Custom", "v3"),
        ("AliyunVPCFullAccess", "System", "v12"),
    }
    assert all(p.attach_date.endswith("Z") for p in for_user)
    for_group = client.list_policies_for_group(rm.ListPoliciesForGroupRequest(group_name=group)).body.policies.policy
    assert [p.policy_name for p in for_group] == [name]
    assert client.get_policy(rm.GetPolicyRequest(policy_name=name, policy_type="Custom")).body.policy.attachment_count == 2

    expect_error(
        client.delete_policy, "DeleteConflict.Policy.User", 409, rm.DeletePolicyRequest(policy_name=name), host_id=RAM_HOST_ID
    )
    client.detach_policy_from_user(rm.DetachPolicyFromUserRequest(user_name=user, policy_name=name, policy_type="Custom"))
    expect_error(
        client.detach_policy_from_user,
        "EntityNotExist.User.Policy",
        404,
        rm.DetachPolicyFromUserRequest(user_name=user, policy_name=name, policy_type="Custom"),
        host_id=RAM_HOST_ID,
    )
    client.detach_policy_from_group(
        rm.DetachPolicyFromGroupRequest(group_name=group, policy_name=name, policy_type="Custom")
    )
    expect_error(
        client.delete_policy, "DeleteConflict.Policy.Version", 409, rm.DeletePolicyRequest(policy_name=name), host_id=RAM_HOST_ID
    )
    client.delete_policy(rm.DeletePolicyRequest(policy_name=name, cascading_delete=True))
    expect_error(
        client.get_policy,
        "EntityNotExist.Policy",
        404,
        rm.GetPolicyRequest(policy_name=name, policy_type="Custom"),
        host_id=RAM_HOST_ID,
    )


def test_system_policies_exist_and_bad_documents_are_refused(client):
    listed = client.list_policies(rm.ListPoliciesRequest(policy_type="System", max_items=1000)).body
    names = {p.policy_name for p in listed.policies.policy}
    assert {"AdministratorAccess", "AliyunVPCFullAccess", "AliyunVPCReadOnlyAccess"} <= names
    assert all(p.policy_type == "System" for p in listed.policies.policy)
    admin = client.get_policy(rm.GetPolicyRequest(policy_name="AdministratorAccess", policy_type="System")).body
    assert json.loads(admin.policy.policy_document)["Statement"][0]["Action"] == "*"
    page = client.list_policies(rm.ListPoliciesRequest(max_items=2)).body
    assert page.is_truncated is True and len(page.policies.policy) == 2
    nxt = client.list_policies(rm.ListPoliciesRequest(max_items=2, marker=page.marker)).body
    assert {p.policy_name for p in nxt.policies.policy}.isdisjoint({p.policy_name for p in page.policies.policy})

    name = new_name("bad")
    for doc in (
        "not json",
        '{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}',
        '{"Version":"2","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
        '{"Version":"1","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}',
    ):
        expect_error(
            client.create_policy,
            "MalformedPolicyDocument",
            400,
            rm.CreatePolicyRequest(policy_name=name, policy_document=doc),
            host_id=RAM_HOST_ID,
        )
    expect_error(
        client.get_policy, "EntityNotExist.Policy", 404, rm.GetPolicyRequest(policy_name=name, policy_type="Custom"), host_id=RAM_HOST_ID
    )
    expect_error(
        client.create_policy,
        "EntityAlreadyExists.Policy",
        409,
        rm.CreatePolicyRequest(policy_name="AdministratorAccess", policy_document=json.dumps(READ_VPN)),
        host_id=RAM_HOST_ID,
    )
    expect_error(
        client.get_policy, "InvalidParameter.PolicyType", 400, rm.GetPolicyRequest(policy_name="x", policy_type="Other"), host_id=RAM_HOST_ID
    )


def test_legacy_ram_sdk(server):
    legacy = server.legacy_client()
    name = new_name("legacy")
    req = LegacyCreateUser()
    req.set_UserName(name)
    req.set_DisplayName("Legacy")
    body = json.loads(legacy.do(req))
    assert body["User"]["UserName"] == name and body["RequestId"]
    req = LegacyGetUser()
    req.set_UserName(name)
    assert json.loads(legacy.do(req))["User"]["DisplayName"] == "Legacy"
    req = LegacyGetUser()
    req.set_UserName(name + "-missing")
    err = capture_error(legacy.do, req)
    check_error(err, "EntityNotExist.User", 404, host_id=RAM_HOST_ID)
    req = LegacyListPolicies()
    req.set_PolicyType("System")
    policies = json.loads(legacy.do(req))["Policies"]["Policy"]
    assert "AdministratorAccess" in {p["PolicyName"] for p in policies}
    # XML answers too.
    req = LegacyGetUser()
    req.set_UserName(name)
    req.set_accept_format("XML")
    status, _headers, body = legacy.do_raw(req)
    assert status == 200 and b"<UserName>" + name.encode() + b"</UserName>" in body
