"""Issue 7, for the people who use vpngw: the aliyun-style CLI (golden outputs), the config
file, /metrics after a known workload, logs that never carry a secret, the audit log, and the
web console in headless Chromium."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m

from cli_helpers import cli, golden
from conftest import _cleanup, _new_server, server_binary
from helpers import (
    REGION,
    create_connection,
    create_customer_gateway,
    create_gateway,
    describe_connection,
    new_vpc_id,
    psk,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_server():
    """A factory for a private server that the test configures before starting it."""
    made = []

    def make(*, args=(), env=None, start=True):
        srv, workdir = _new_server("vpngw-ux-")
        srv.extra_args = list(args)
        srv.extra_env = dict(env or {})
        made.append((srv, workdir))
        if start:
            srv.start()
        return srv

    yield make
    for srv, workdir in made:
        _cleanup(srv, workdir)


# --------------------------------------------------------------------------------- the CLI


def test_cli_call_json_table_and_errors(server):
    # A write, pretty JSON out.
    r = cli(server, "vpc", "CreateVpnGateway", "--RegionId", REGION, "--VpcId", new_vpc_id(), "--Bandwidth", "10",
            "--Name", "cli-gw", check=0)
    created = json.loads(r.stdout)
    gw = created["VpnGatewayId"]
    assert r.stdout.startswith("{\n  "), "pretty-printed"
    golden("cli_create_vpn_gateway.txt", r.stdout)

    # A JSON-string parameter, passed through as the aliyun CLI does.
    cgw = json.loads(cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.200.7",
                         "--Name", "cli-cgw", check=0).stdout)["CustomerGatewayId"]
    client = server.tea_client()
    from helpers import wait_gateway_active

    wait_gateway_active(client, gw)
    r = cli(server, "vpc", "CreateVpnConnection", "--RegionId", REGION, "--VpnGatewayId", gw, "--CustomerGatewayId", cgw,
            "--LocalSubnet", "10.1.0.0/16", "--RemoteSubnet", "192.168.1.0/24", "--Name", "cli-vco",
            "--IkeConfig", '{"IkeEncAlg":"aes256","IkeLifetime":3600,"Psk":"cli-psk-123"}', check=0)
    vco = json.loads(r.stdout)["VpnConnectionId"]
    body = describe_connection(client, vco)
    assert body["IkeConfig"]["IkeEncAlg"] == "aes256" and body["IkeConfig"]["IkeLifetime"] == 3600

    r = cli(server, "vpc", "DescribeVpnConnection", "--RegionId", REGION, "--VpnConnectionId", vco, check=0)
    assert r.stdout.startswith("{\n  ") and json.loads(r.stdout)["VpnConnectionId"] == vco
    # Table mode on one object, with nested columns.
    r = cli(server, "vpc", "DescribeVpnConnection", "--RegionId", REGION, "--VpnConnectionId", vco, "--output",
            "cols=VpnConnectionId,Name,State,IkeConfig.IkeEncAlg,IkeConfig.IkeLifetime,IpsecConfig.IpsecEncAlg", check=0)
    golden("cli_describe_vpn_connection_cols.txt", r.stdout)

    # Flattened parameters: --ResourceId.1, --Tag.1.Key / --Tag.1.Value (write and filter).
    tag = "cli" + vco[-8:]
    cli(server, "vpc", "TagResources", "--RegionId", REGION, "--ResourceType", "VPNGATEWAY", "--ResourceId.1", gw,
        "--Tag.1.Key", "owner", "--Tag.1.Value", tag, check=0)
    r = cli(server, "vpc", "DescribeVpnGateways", "--RegionId", REGION, "--Tag.1.Key", "owner", "--Tag.1.Value", tag,
            "--output", "cols=VpnGatewayId,Name,Status", "rows=VpnGateways.VpnGateway[]", check=0)
    golden("cli_describe_vpn_gateways_by_tag.txt", r.stdout)
    assert gw in r.stdout

    # Table mode, aliyun style.
    r = cli(server, "vpc", "DescribeVpnConnections", "--RegionId", REGION, "--VpnGatewayId", gw,
            "--output", "cols=VpnConnectionId,Name,Status,IkeConfig.IkeEncAlg", "rows=VpnConnections.VpnConnection[]", check=0)
    golden("cli_describe_vpn_connections_table.txt", r.stdout)
    r = cli(server, "vpc", "DescribeRegions", "--output", "cols=RegionId", "rows=Regions.Region[]", "num=true", check=0)
    golden("cli_describe_regions_table.txt", r.stdout)

    # API errors: Code, Message, RequestId on stderr, exit 1, nothing on stdout.
    r = cli(server, "vpc", "DescribeVpnConnection", "--RegionId", REGION, "--VpnConnectionId", "vco-doesnotexist0000000", check=1)
    assert r.stdout == ""
    golden("cli_error_not_found.txt", r.stderr)
    r = cli(server, "vpc", "DescribeVpnConnection", "--RegionId", REGION, "--VpnConnectionId", vco, check=1,
            env={"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "wrong"})
    assert "ERROR: SignatureDoesNotMatch" in r.stderr and "RequestId: " in r.stderr
    # Usage errors exit non-zero too, and say how parameters are written.
    r = cli(server, "vpc", "DescribeVpnGateways", "RegionId", check=1)
    assert "--Name value" in r.stderr


def test_cli_credentials_profile_and_flags(server):
    env_without_keys = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""}
    r = cli(server, "vpc", "DescribeRegions", env=env_without_keys)
    assert r.returncode != 0 and "vpngw configure" in r.stderr
    # `vpngw configure` (aliyun-style prompts on stdin) writes a 0600 profile file.
    profile_path = server.workdir / "profiles.json"
    r = subprocess.run(
        [str(server_binary()), "configure", "--profile", "lab", "--config-path", str(profile_path)],
        input=f"{server.access_key_id}\n{server.access_key_secret}\ncn-shanghai\nhttp://{server.endpoint}\n",
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert "Saved profile [lab]" in r.stdout
    assert server.access_key_secret not in r.stdout
    assert oct(profile_path.stat().st_mode & 0o777) == "0o600"
    saved = json.loads(profile_path.read_text())
    assert saved["current"] == "lab" and saved["profiles"][0]["region_id"] == "cn-shanghai"
    # The profile is used when the environment has no key; its region is the default RegionId.
    r = cli(server, "vpc", "DescribeVpnGateways", "--config-path", str(profile_path), "--endpoint", "http://127.0.0.1:9",
            "--profile", "lab", env={**env_without_keys, "VPNGW_ENDPOINT": ""})
    assert r.returncode == 1 and "127.0.0.1:9" in r.stderr, "--endpoint wins over the profile"
    r = cli(server, "vpc", "DescribeVpnGateways", "--config-path", str(profile_path),
            env={**env_without_keys, "VPNGW_ENDPOINT": ""}, check=0)
    assert "TotalCount" in json.loads(r.stdout)
    listing = subprocess.run([str(server_binary()), "configure", "list", "--config-path", str(profile_path)],
                             capture_output=True, text=True, check=True).stdout
    assert "lab" in listing and server.access_key_secret not in listing and server.access_key_id not in listing
    # Explicit flags win over everything.
    r = cli(server, "vpc", "DescribeRegions", "--access-key-id", server.access_key_id, "--access-key-secret", "nope",
            check=1)
    assert "SignatureDoesNotMatch" in r.stderr


def test_cli_ram_and_sts_with_a_security_token(server):
    """RAM and STS through the CLI alone: a user, its key, a role it may assume (JSON-string
    policy document), then a call with the STS credentials from ALIBABA_CLOUD_SECURITY_TOKEN."""
    me = json.loads(cli(server, "sts", "GetCallerIdentity", check=0).stdout)
    account = me["AccountId"]
    user = "cliuser" + secrets_suffix()
    cli(server, "ram", "CreateUser", "--UserName", user, check=0)
    key = json.loads(cli(server, "ram", "CreateAccessKey", "--UserName", user, check=0).stdout)["AccessKey"]
    cli(server, "ram", "AttachPolicyToUser", "--PolicyType", "System", "--PolicyName", "AliyunSTSAssumeRoleAccess",
        "--UserName", user, check=0)
    trust = json.dumps({"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                       "Principal": {"RAM": [f"acs:ram::{account}:user/{user}"]}}]})
    role = json.loads(cli(server, "ram", "CreateRole", "--RoleName", "clirole" + user[-6:],
                          "--AssumeRolePolicyDocument", trust, check=0).stdout)["Role"]
    cli(server, "ram", "AttachPolicyToRole", "--PolicyType", "System", "--PolicyName", "AliyunVPNGatewayReadOnlyAccess",
        "--RoleName", role["RoleName"], check=0)
    as_user = {"ALIBABA_CLOUD_ACCESS_KEY_ID": key["AccessKeyId"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": key["AccessKeySecret"]}
    creds = json.loads(cli(server, "sts", "AssumeRole", "--RoleArn", role["Arn"], "--RoleSessionName", "cli",
                           env=as_user, check=0).stdout)["Credentials"]
    as_role = {"ALIBABA_CLOUD_ACCESS_KEY_ID": creds["AccessKeyId"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds["AccessKeySecret"],
               "ALIBABA_CLOUD_SECURITY_TOKEN": creds["SecurityToken"]}
    who = json.loads(cli(server, "sts", "GetCallerIdentity", env=as_role, check=0).stdout)
    assert who["AccountId"] == account and who["IdentityType"] == "AssumedRoleUser" and "assumed-role" in who["Arn"]
    cli(server, "vpc", "DescribeVpnGateways", "--RegionId", REGION, env=as_role, check=0)
    # Read-only role: a write is refused with the API's code, exit 1.
    r = cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.250.9", env=as_role, check=1)
    assert r.stderr.startswith("ERROR: Forbidden"), r.stderr
    # Without the token the temporary key is not accepted.
    r = cli(server, "sts", "GetCallerIdentity", env={**as_role, "ALIBABA_CLOUD_SECURITY_TOKEN": ""}, check=1)
    assert "ERROR: " in r.stderr


def secrets_suffix() -> str:
    import secrets

    return secrets.token_hex(4)


def test_completions_name_the_actions(server):
    for shell in ("bash", "zsh"):
        r = cli(server, "completion", shell, check=0)
        assert "DescribeVpnConnection" in r.stdout and "CreateUser" in r.stdout and "configure" in r.stdout, shell
    r = cli(server, "completion", "fish", check=0)  # fish: commands and flags
    assert "__fish_vpngw" in r.stdout and '"vpc"' in r.stdout
    # `--help` after an action lists its parameters (from the vendor metadata).
    r = cli(server, "vpc", "CreateVpnConnection", "--help", check=0)
    assert "--IkeConfig" in r.stdout and "JSON string" in r.stdout and "--RegionId" in r.stdout
    assert "DescribeVpnConnection" in cli(server, "vpc", "--help", check=0).stdout


# ------------------------------------------------------------------------ config file


def test_config_file_flags_env_and_unknown_keys(fresh_server, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('listen = "127.0.0.1:1"\nquota_vpn_gatways = 3\n')
    r = subprocess.run([str(server_binary()), "serve", "--config", str(bad)], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "quota_vpn_gatways" in r.stderr, r.stderr

    good = tmp_path / "vpngw.toml"
    good.write_text("quota_vpn_gateways = 1\ngateway_provision_delay_ms = 50\nlog_format = \"json\"\n")
    # The file sets the quota to 1; the environment raises the provisioning delay over the file's.
    srv = fresh_server(args=["--config", str(good)], env={"VPNGW_QUOTA_VPN_GATEWAYS": None, "VPNGW_LOG_FORMAT": None, "VPNGW_GATEWAY_PROVISION_DELAY_MS": "60000"})
    client = srv.tea_client()
    gw = create_gateway(client, wait_active=False)
    from helpers import capture_error, describe_gateway

    err = capture_error(client.create_vpn_gateway, m.CreateVpnGatewayRequest(region_id=REGION, vpc_id=new_vpc_id(), bandwidth=10))
    assert err.code == "Resource.QuotaFull", err
    time.sleep(0.3)
    assert describe_gateway(client, gw)["Status"] == "init", "env beats file"
    log = srv._log("stderr").read_text()
    assert log.lstrip().startswith("{"), "log_format from the file"


# ------------------------------------------------------------------------------ metrics


def scrape(server) -> dict[tuple[str, frozenset], float]:
    text = urllib.request.urlopen(f"http://{server.endpoint}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        mm = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        assert mm, f"not Prometheus text: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', mm.group(2) or ""))
        out[(mm.group(1), labels)] = float(mm.group(3))
    return out


def metric(samples, name, **labels) -> float:
    want = frozenset(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def test_metrics_after_a_known_workload(own_server):
    client = own_server.tea_client()
    gw1 = create_gateway(client)
    gw2 = create_gateway(client)
    cgw = create_customer_gateway(client)
    vco = create_connection(client, gw1, cgw)
    from helpers import capture_error

    capture_error(client.describe_vpn_gateway, m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id="vpn-nope00000000000000"))
    s = scrape(own_server)
    assert metric(s, "vpngw_requests_total", action="CreateVpnGateway", code="OK") == 2
    assert metric(s, "vpngw_requests_total", action="CreateCustomerGateway", code="OK") == 1
    assert metric(s, "vpngw_requests_total", action="CreateVpnConnection", code="OK") == 1
    assert metric(s, "vpngw_requests_total", action="DescribeVpnGateway", code="InvalidVpnGatewayInstanceId.NotFound") == 1
    # Latency histograms: a count per action and cumulative buckets up to +Inf.
    assert metric(s, "vpngw_request_duration_seconds_count", action="CreateVpnGateway") == 2
    assert metric(s, "vpngw_request_duration_seconds_bucket", action="CreateVpnGateway", le="+Inf") == 2
    assert metric(s, "vpngw_request_duration_seconds_sum", action="CreateVpnGateway") > 0
    # Store operations, by operation (a create commits with its trail: insert_with).
    inserts = sum(metric(s, "vpngw_store_operation_duration_seconds_count", op=op, mode="write")
                  for op in ("insert", "insert_with"))
    assert inserts >= 4
    assert metric(s, "vpngw_store_operation_duration_seconds_count", op="get", mode="read") >= 1
    # Resources by status, read at scrape time.
    status = describe_connection(client, vco)["Status"]
    assert metric(s, "vpngw_vpn_connections", status=status) == 1
    assert metric(s, "vpngw_vpn_gateways", status="active") == 2
    assert metric(s, "vpngw_customer_gateways") == 1
    # Agent convergence: a report about the connection measured against an older configuration
    # (stale: not converged yet) and about a connection that does not exist (unknown).
    report = {
        "Agent": "test", "Backend": "simulated", "MeasuredAt": int(time.time() * 1000),
        "Connections": [
            {"VpnConnectionId": vco, "ConfigDigest": "not-the-current-one", "Status": "ike_sa_not_established"},
            {"VpnConnectionId": "vco-doesnotexist0000000", "ConfigDigest": "x", "Status": "ike_sa_not_established"},
        ],
    }
    r = own_server.raw_client().v1("ReportDataplaneState", {"RegionId": REGION, "VpnGatewayId": gw1,
                                                            "Report": json.dumps(report)}, version="2025-01-01")
    assert r.status == 200, r.json()
    s = scrape(own_server)
    assert metric(s, "vpngw_agent_reports_total") == 1
    assert metric(s, "vpngw_agent_report_connections_total", result="stale") == 1
    assert metric(s, "vpngw_agent_report_connections_total", result="unknown") == 1
    assert metric(s, "vpngw_agent_report_connections_total", result="accepted") == 0
    assert metric(s, "vpngw_agent_last_report_timestamp_seconds") > time.time() - 60
    # A deleted connection leaves its gauge at 0, not stale.
    from helpers import retrying

    retrying(client.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
    s = scrape(own_server)
    assert metric(s, "vpngw_vpn_connections", status=status) == 0
    assert metric(s, "vpngw_requests_total", action="DeleteVpnConnection", code="OK") >= 1
    assert gw2


# --------------------------------------------------------------------- logs and audit


def test_logs_carry_request_ids_and_never_secrets(fresh_server, tmp_path):
    conf = tmp_path / "vpngw.toml"
    conf.write_text('log_format = "json"\nlog = "trace,hyper=info"\ngateway_provision_delay_ms = 100\n')
    srv = fresh_server(args=["--config", str(conf)], env={"VPNGW_LOG": None, "VPNGW_LOG_FORMAT": None})
    client = srv.tea_client()
    legacy = srv.legacy_client()
    secrets_used = [srv.access_key_secret]
    gw = create_gateway(client)
    cgw = create_customer_gateway(client)
    key1, key2 = psk(), psk()
    secrets_used += [key1, key2]
    vco = create_connection(client, gw, cgw, ike_config=json.dumps({"Psk": key1}))
    client.modify_vpn_connection_attribute(m.ModifyVpnConnectionAttributeRequest(
        region_id=REGION, vpn_connection_id=vco, ike_config=json.dumps({"Psk": key2})))
    assert describe_connection(client, vco)["IkeConfig"]["Psk"] == key2
    # V1-signed traffic too (the secret is the HMAC key there as well), and a failed signature.
    from aliyunsdkvpc.request.v20160428.DescribeVpnConnectionRequest import DescribeVpnConnectionRequest

    req = DescribeVpnConnectionRequest()
    req.set_VpnConnectionId(vco)
    legacy.do(req)
    bad = srv.tea_client(secret="wrong-" + srv.access_key_secret)
    from helpers import capture_error

    assert capture_error(bad.describe_vpn_connection, m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)).code == "SignatureDoesNotMatch"
    time.sleep(0.2)
    srv.stop()
    text = srv._log("stderr").read_text() + srv._log("stdout").read_text()
    for s in secrets_used:
        assert s not in text, "a secret reached the logs"
    # Every line logged while answering a request carries its RequestId and Action.
    lines = [json.loads(l) for l in srv._log("stderr").read_text().splitlines() if l.startswith("{")]
    answered = [l for l in lines if l.get("fields", {}).get("message") == "answered"]
    assert len(answered) >= 6
    for l in answered:
        span = l.get("span", {})
        assert re.match(r"^[0-9A-F-]{36}$", span.get("request_id", "")), l
        assert span.get("action"), l
    in_requests = [l for l in lines if l.get("span", {}).get("name") == "request"]
    assert all("request_id" in l["span"] for l in in_requests)


def test_audit_log_of_writes(own_server):
    client = own_server.tea_client()
    gw = create_gateway(client)
    from helpers import capture_error

    err = capture_error(client.delete_vpn_gateway, m.DeleteVpnGatewayRequest(region_id=REGION, vpn_gateway_id="vpn-missing000000000000"))
    client.describe_vpn_gateways(m.DescribeVpnGatewaysRequest(region_id=REGION))  # a read: not audited

    def audit(*args):
        r = subprocess.run([str(server_binary()), "audit", "--data-dir", str(own_server.data_dir),
                            *own_server.store_args(), *args],
                           capture_output=True, text=True, timeout=30, env={**os.environ, "VPNGW_DATA_DIR": ""})
        assert r.returncode == 0, r.stderr
        return r.stdout

    events = [json.loads(l) for l in audit("--output", "json", "--since", "10m").splitlines()]
    actions = [e["Action"] for e in events]
    assert "CreateVpnGateway" in actions and "DeleteVpnGateway" in actions
    assert "DescribeVpnGateways" not in actions
    create = next(e for e in events if e["Action"] == "CreateVpnGateway")
    assert create["AccountId"] and create["Principal"] == "root"
    assert create["AccessKeyId"] == own_server.access_key_id
    assert gw in create["ResourceIds"] and create["Code"] is None
    assert create["SourceIp"] == "127.0.0.1" and create["Product"] == "Vpc" and create["RegionId"] == REGION
    delete = next(e for e in events if e["Action"] == "DeleteVpnGateway")
    assert delete["Code"] == err.code
    # Filters: by action, failed only, time window, resource.
    only = [json.loads(l)["Action"] for l in audit("--output", "json", "--action", "CreateVpnGateway").splitlines()]
    assert only == ["CreateVpnGateway"]
    failed = [json.loads(l)["Action"] for l in audit("--output", "json", "--failed").splitlines()]
    assert failed == ["DeleteVpnGateway"]
    assert audit("--output", "json", "--since", "2099-01-01T00:00:00Z") == ""
    assert gw in audit("--resource", gw)
    table = audit()
    assert table.splitlines()[0].startswith("TIME") and "Vpc:CreateVpnGateway" in table
    assert own_server.access_key_secret not in table
