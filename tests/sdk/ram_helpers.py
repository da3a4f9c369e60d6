"""RAM / STS helpers for the identity and authorization tests: clients of the official
RAM and STS SDKs pointed at a vpngw server, users with keys, roles, and accounts made with
`vpngw account create`."""

from __future__ import annotations

import json
import subprocess

from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428.client import Client as VpcClient

from conftest import server_binary
from helpers import REGION, rand_suffix

RAM_HOST_ID = "ram.aliyuncs.com"
STS_HOST_ID = "sts.aliyuncs.com"


class Cred:
    """An AccessKey pair, with the SecurityToken of STS credentials."""

    def __init__(self, key_id: str, secret: str, token: str | None = None):
        self.key_id, self.secret, self.token = key_id, secret, token

    @classmethod
    def root(cls, server) -> "Cred":
        return cls(server.access_key_id, server.access_key_secret)


def _config(server, cred: Cred, signature: str) -> Config:
    config = Config(
        access_key_id=cred.key_id,
        access_key_secret=cred.secret,
        security_token=cred.token,
        endpoint=server.endpoint,
        protocol=server.protocol,
        ca=str(server.tls_ca) if server.tls_ca else None,
        region_id=REGION,
        read_timeout=15000,
        connect_timeout=5000,
    )
    if signature == "v1":
        config.signature_algorithm = "v2"  # 'v2' selects the V1 HMAC-SHA1 scheme
    return config


def ram(server, cred: Cred | None = None, signature: str = "v3") -> RamClient:
    return RamClient(_config(server, cred or Cred.root(server), signature))


def sts(server, cred: Cred, signature: str = "v3") -> StsClient:
    return StsClient(_config(server, cred, signature))


def vpc(server, cred: Cred, signature: str = "v3") -> VpcClient:
    return VpcClient(_config(server, cred, signature))


def new_name(prefix: str) -> str:
    return f"{prefix}-{rand_suffix(8)}"


def create_user_with_key(client: RamClient, name: str | None = None) -> tuple[str, Cred]:
    name = name or new_name("u")
    client.create_user(ram_models.CreateUserRequest(user_name=name))
    key = client.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name)).body.access_key
    return name, Cred(key.access_key_id, key.access_key_secret)


def attach_user(client: RamClient, user: str, policy: str, policy_type: str = "System") -> None:
    client.attach_policy_to_user(
        ram_models.AttachPolicyToUserRequest(user_name=user, policy_name=policy, policy_type=policy_type)
    )


def create_policy(client: RamClient, document: dict | str, name: str | None = None) -> str:
    name = name or new_name("p")
    text = document if isinstance(document, str) else json.dumps(document)
    client.create_policy(ram_models.CreatePolicyRequest(policy_name=name, policy_document=text))
    return name


def account_id(server, cred: Cred) -> str:
    return sts(server, cred).get_caller_identity().body.account_id


def trust_user(account: str, user: str) -> str:
    return json.dumps(
        {
            "Version": "1",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Principal": {"RAM": [f"acs:ram::{account}:user/{user}"]},
                }
            ],
        }
    )


def assume(server, cred: Cred, arn: str, session: str = "sdk-test", signature: str = "v3", **extra) -> Cred:
    body = (
        sts(server, cred, signature)
        .assume_role(sts_models.AssumeRoleRequest(role_arn=arn, role_session_name=session, **extra))
        .body
    )
    c = body.credentials
    return Cred(c.access_key_id, c.access_key_secret, c.security_token)


def vpngw_account_create(server, name: str) -> Cred:
    """`vpngw account create` on the running server's data dir."""
    out = subprocess.run(
        [str(server_binary()), "account", "create", "--name", name, "--data-dir", str(server.data_dir), *server.store_args()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    created = json.loads(out)
    assert set(created) == {"AccountId", "AccessKeyId", "AccessKeySecret"}, created
    assert len(created["AccountId"]) == 16 and created["AccountId"].isdigit()
    return Cred(created["AccessKeyId"], created["AccessKeySecret"])


def role_name_arn(server, user: str, policy: str = "AdministratorAccess") -> str:
    """A role that `user` may assume, with the system `policy` attached; its ARN."""
    from alibabacloud_ram20150501 import models as rm

    root = ram(server)
    acct = account_id(server, Cred.root(server))
    name = new_name("role")
    arn = root.create_role(
        rm.CreateRoleRequest(role_name=name, assume_role_policy_document=trust_user(acct, user))
    ).body.role.arn
    root.attach_policy_to_role(rm.AttachPolicyToRoleRequest(role_name=name, policy_name=policy, policy_type="System"))
    return arn
