"""Issue 19, the CLI that waits: aliyun's --waiter, --pager, --dryrun and --quiet; parameters
checked against the operation declarations (refused with a "did you mean" unless --force);
the table rules; credentials in pairs; `configure get/switch/delete` and a `configure` without
input that saves nothing; `GET /` in a browser. Outputs are compared with golden files."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

from alibabacloud_vpc20160428 import models as m

from cli_helpers import cli, golden
from conftest import server_binary
from helpers import REGION, new_vpc_id


def cgw_count(server) -> int:
    r = cli(server, "vpc", "DescribeCustomerGateways", "--RegionId", REGION, "--PageSize", "1", check=0)
    return json.loads(r.stdout)["TotalCount"]


def test_waiter_waits_for_a_value_and_times_out(server):
    created = json.loads(cli(server, "vpc", "CreateVpnGateway", "--RegionId", REGION, "--VpcId", new_vpc_id(),
                             "--Bandwidth", "10", check=0).stdout)
    gw = created["VpnGatewayId"]
    # A new gateway is `init` for a while; the waiter calls again until Status is `active`.
    r = cli(server, "vpc", "DescribeVpnGateway", "--RegionId", REGION, "--VpnGatewayId", gw,
            "--waiter", "expr=Status", "to=active", "interval=0.1", "timeout=20",
            "--output", "cols=VpnGatewayId,Status", check=0)
    golden("cli_waiter_active.txt", r.stdout)
    # A value that never comes: an error after `timeout`, saying what the expression gave.
    r = cli(server, "vpc", "DescribeVpnGateway", "--RegionId", REGION, "--VpnGatewayId", gw,
            "--waiter", "expr=Status", "to=deleted", "interval=0.1", "timeout=0.5", check=1)
    assert r.stdout == ""
    golden("cli_waiter_timeout.txt", r.stderr)
    # An API error while waiting is the API's error.
    r = cli(server, "vpc", "DescribeVpnGateway", "--RegionId", REGION, "--VpnGatewayId", "vpn-doesnotexist000000000",
            "--waiter", "expr=Status", "to=active", check=1)
    assert r.stderr.startswith("ERROR: InvalidVpnGatewayInstanceId.NotFound"), r.stderr


def test_pager_merges_every_page_and_tables_say_when_they_show_one(own_server):
    for i in range(3):
        cli(own_server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", f"172.24.9.{i + 1}",
            "--Name", f"pager-{i}", check=0)
    cols = ["--output", "cols=Name,IpAddress", "rows=CustomerGateways.CustomerGateway[]"]
    # One page of two: the table says on stderr that it shows 2 of 3 (stdout stays the table).
    r = cli(own_server, "vpc", "DescribeCustomerGateways", "--RegionId", REGION, "--PageSize", "2", *cols, check=0)
    assert len(r.stdout.splitlines()) == 2 + 2
    golden("cli_table_first_page.txt", r.stdout + "--- stderr\n" + r.stderr)
    # --pager: every page (of 2), merged under the list's own path.
    r = cli(own_server, "vpc", "DescribeCustomerGateways", "--RegionId", REGION, "--PageSize", "2", "--pager", check=0)
    merged = json.loads(r.stdout)
    assert sorted(c["Name"] for c in merged["CustomerGateways"]["CustomerGateway"]) == ["pager-0", "pager-1", "pager-2"]
    r = cli(own_server, "vpc", "DescribeCustomerGateways", "--RegionId", REGION, "--PageSize", "2", "--pager", *cols,
            check=0)
    assert r.stderr == ""
    golden("cli_pager_table.txt", "\n".join(sorted(r.stdout.splitlines()[2:])) + "\n")
    # A path that is not a list.
    r = cli(own_server, "vpc", "DescribeCustomerGateways", "--RegionId", REGION, "--pager", "path=TotalCount", check=1)
    assert "--pager path=TotalCount" in r.stderr, r.stderr


def test_dryrun_sends_nothing_and_quiet_prints_nothing(server):
    before = cgw_count(server)
    r = cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.77.1",
            "--Name", "dry", "--dryrun", check=0)
    golden("cli_dryrun.txt", r.stdout)
    assert cgw_count(server) == before, "--dryrun sent the request"
    r = cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.77.2", "--quiet",
            check=0)
    assert r.stdout == "" and r.stderr == ""
    assert cgw_count(server) == before + 1
    # Errors are still printed.
    r = cli(server, "vpc", "DescribeVpnGateway", "--RegionId", REGION, "--VpnGatewayId", "vpn-doesnotexist000000000",
            "--quiet", check=1)
    assert "ERROR: InvalidVpnGatewayInstanceId.NotFound" in r.stderr


def test_unknown_parameters_and_actions_are_refused_unless_forced(server):
    client = server.tea_client()
    before = cgw_count(server)
    # CreateCustomerGateway takes Tags.N.Key: Tag.1.Key would be ignored by the server.
    r = cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.78.1",
            "--Tag.1.Key", "env", "--Tag.1.Value", "lab", check=1)
    assert r.stdout == ""
    golden("cli_unknown_parameter.txt", r.stderr)
    assert cgw_count(server) == before, "a refused call was sent"
    r = cli(server, "vpc", "DescribeVpnGateways", "--RegionId", REGION, "--VpcID", "vpc-x", check=1)
    assert "Did you mean --VpcId?" in r.stderr, r.stderr
    # --force sends it as written (and the server ignores what it does not know, as the cloud does).
    r = cli(server, "vpc", "CreateCustomerGateway", "--RegionId", REGION, "--IpAddress", "172.24.78.2",
            "--Tag.1.Key", "env", "--force", check=0)
    cgw = json.loads(r.stdout)["CustomerGatewayId"]
    got = client.describe_customer_gateway(m.DescribeCustomerGatewayRequest(region_id=REGION, customer_gateway_id=cgw))
    assert not (got.body.tags and got.body.tags.tag), "Tag.1.Key is not a parameter of CreateCustomerGateway"
    # Nested and JSON forms of declared parameters pass.
    r = cli(server, "vpc", "CreateVpnConnection", "--RegionId", REGION, "--VpnGatewayId", "vpn-doesnotexist000000000",
            "--TunnelOptionsSpecification.1.TunnelIkeConfig.IkeVersion", "ikev2", "--Tags.1.Key", "k",
            "--IkeConfig", "{}", "--dryrun", check=0)
    assert "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeVersion=ikev2" in r.stdout
    # Unknown actions: a "did you mean"; --force sends one anyway and prints the server's answer.
    r = cli(server, "vpc", "DescribeVpnGateway2", check=1)
    golden("cli_unknown_action.txt", r.stderr)
    r = cli(server, "vpc", "describevpngateways", check=1)
    assert "Did you mean DescribeVpnGateways?" in r.stderr
    r = cli(server, "ram", "ListUser", check=1)
    assert "Did you mean ListUsers?" in r.stderr
    r = cli(server, "vpc", "DescribeVpcz", check=1)
    assert "is not an operation of `vpngw vpc`" in r.stderr, r.stderr
    r = cli(server, "vpc", "DescribeVpcz", "--force", check=1)
    assert r.stderr.startswith("ERROR: InvalidAction.NotFound"), r.stderr
    # An operation of the product that vpngw does not serve is sent, and refused by the server (#12).
    r = cli(server, "vpc", "DescribeNatGateways", check=1)
    assert r.stderr.startswith("ERROR: UnsupportedOperation"), r.stderr


def test_table_paths_that_match_nothing_are_errors(server):
    r = cli(server, "vpc", "DescribeRegions", "--output", "cols=RegionId", "rows=Region.Regions[]", check=1)
    golden("cli_table_bad_rows.txt", r.stderr)
    r = cli(server, "vpc", "DescribeRegions", "--output", "cols=RegionId,LocalNmae", "rows=Regions.Region[]", check=1)
    golden("cli_table_bad_cols.txt", r.stderr)
    assert r.stdout == ""


def test_credentials_flags_go_in_pairs(server):
    r = cli(server, "vpc", "DescribeRegions", "--access-key-secret", server.access_key_secret, check=1)
    assert "--access-key-id and --access-key-secret go together" in r.stderr
    assert server.access_key_secret not in r.stderr
    r = cli(server, "vpc", "DescribeRegions", "--access-key-id", server.access_key_id, check=1)
    assert "go together" in r.stderr


def configure(path, *args, stdin=None):
    return subprocess.run([str(server_binary()), "configure", *args, "--config-path", str(path)],
                          input=stdin, capture_output=True, text=True, timeout=30)


def test_configure_get_switch_delete_and_no_input(tmp_path):
    path = tmp_path / "profiles.json"
    # No input at all (stdin at its end): an error, and nothing is saved.
    r = subprocess.run([str(server_binary()), "configure", "--profile", "empty", "--config-path", str(path)],
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "nothing was saved" in r.stderr, r
    assert not path.exists()
    # Too few lines: the same.
    r = configure(path, "--profile", "short", stdin="LTAIshort\n")
    assert r.returncode != 0 and "nothing was saved" in r.stderr and not path.exists()
    # Enter on every prompt of a new profile leaves the key empty: refused too.
    r = configure(path, "--profile", "blank", stdin="\n\n\n\n")
    assert r.returncode != 0 and "needs an Access Key Id" in r.stderr and not path.exists()

    assert configure(path, "set", "--profile", "a", "--access-key-id", "LTAIaaaa", "--access-key-secret",
                     "secret-aaaa", "--region", "cn-shanghai").returncode == 0
    assert configure(path, "set", "--profile", "b", "--access-key-id", "LTAIbbbb", "--access-key-secret",
                     "secret-bbbb").returncode == 0
    # get: the current profile (b, the last saved) as JSON, secrets masked; or fields as stored.
    r = configure(path, "get")
    got = json.loads(r.stdout)
    assert got["name"] == "b" and got["access_key_secret"] == "***bbb" and "secret-bbbb" not in r.stdout
    assert configure(path, "get", "--profile", "a", "region_id", "access_key_id").stdout == "cn-shanghai\nLTAIaaaa\n"
    assert configure(path, "get", "nope").returncode != 0
    # switch makes a profile current; an unknown one is an error naming those there are.
    assert configure(path, "switch", "--profile", "a").returncode == 0
    assert json.loads(path.read_text())["current"] == "a"
    r = configure(path, "switch", "--profile", "c")
    assert r.returncode != 0 and "profiles: a, b" in r.stderr
    golden("cli_configure_list.txt", configure(path, "list").stdout)
    # delete: the current one goes, the first left becomes current.
    assert configure(path, "delete", "--profile", "a").returncode == 0
    saved = json.loads(path.read_text())
    assert [p["name"] for p in saved["profiles"]] == ["b"] and saved["current"] == "b"
    assert configure(path, "delete", "--profile", "a").returncode != 0


def test_get_root_in_a_browser_goes_to_the_console(server):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(f"http://{server.endpoint}/", headers={"Accept": "text/html,application/xhtml+xml"})
    try:
        opener.open(req, timeout=5)
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as e:
        assert e.code in (302, 303, 307) and e.headers["Location"] == "/console/"
    # An API client (no HTML wanted) still gets the API's error.
    req = urllib.request.Request(f"http://{server.endpoint}/", headers={"Accept": "application/json"})
    try:
        opener.open(req, timeout=5)
        raise AssertionError("no error")
    except urllib.error.HTTPError as e:
        assert json.loads(e.read())["Code"] == "MissingSignature" or e.code == 400
