"""Issue 19, metrics you can alert on and logs you can read: per-connection and per-tunnel
gauges with bounded labels (also for health check and BGP), counters at 0 from the start,
families in a stable order, process_* and vpngw_build_info, no empty label values, every
family documented; request log lines with the caller, source IP, region and an integer
elapsed_us, the console's polling at debug; `vpngw audit` in aligned columns."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.request
from pathlib import Path

from alibabacloud_vpc20160428 import models as m

from conftest import server_binary
from test_ux import fresh_server  # noqa: F401 (a fixture)
from helpers import REGION, create_connection, create_customer_gateway, create_gateway, new_vpc_id, retrying, wait_for
from test_dual_tunnel import create_dual, create_dual_gateway

REPO = Path(__file__).resolve().parents[2]


def scrape_text(server) -> str:
    return urllib.request.urlopen(f"http://{server.endpoint}/metrics", timeout=5).read().decode()


def series(text: str) -> dict[tuple[str, frozenset], float]:
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        mm = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        assert mm, f"not Prometheus text: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', mm.group(2) or ""))
        out[(mm.group(1), labels)] = float(mm.group(3))
    return out


def find(samples, name, **labels) -> list[float]:
    want = frozenset(labels.items())
    return [v for (n, ls), v in samples.items() if n == name and want <= ls]


def families(text: str) -> list[str]:
    return [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")]


def test_metrics_per_resource_in_a_stable_documented_order(own_server):
    first = scrape_text(own_server)
    s = series(first)
    # Counters with known labels exist from the start, at 0; build info and process metrics too.
    assert find(s, "vpngw_agent_reports_total") == [0]
    for result in ("accepted", "stale", "unknown"):
        assert find(s, "vpngw_agent_report_connections_total", result=result) == [0], result
    assert find(s, "vpngw_audit_failures_total") == [0]
    assert find(s, "vpngw_build_info") == [1] and any(n == "vpngw_build_info" and dict(ls).get("version")
                                                      for n, ls in s)
    assert find(s, "process_resident_memory_bytes")[0] > 0
    assert find(s, "process_cpu_seconds_total")

    # A known workload: a single-tunnel connection with a health check and BGP, a dual-tunnel one.
    client = own_server.tea_client()
    gw = create_gateway(client)
    cgw = create_customer_gateway(client, asn="65010")
    single = create_connection(client, gw, cgw, name="single",
                               health_check_config=json.dumps({"enable": True, "dip": "10.10.0.1", "sip": "192.168.10.1"}),
                               bgp_config=json.dumps({"EnableBgp": True, "TunnelCidr": "169.254.11.0/30",
                                                      "LocalBgpIp": "169.254.11.1", "LocalAsn": 65011}))
    dual_gw = create_dual_gateway(client)
    cgws = [create_customer_gateway(client, asn=str(asn)) for asn in (65001, 65002)]
    dual = create_dual(client, dual_gw, cgws)
    account = json.loads(subprocess.run(
        [str(server_binary()), "sts", "GetCallerIdentity"], capture_output=True, text=True, check=True,
        env={**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": own_server.access_key_id,
             "ALIBABA_CLOUD_ACCESS_KEY_SECRET": own_server.access_key_secret,
             "VPNGW_ENDPOINT": f"http://{own_server.endpoint}"}).stdout)["AccountId"]

    text = scrape_text(own_server)
    s = series(text)
    base = dict(account=account, region=REGION)
    assert find(s, "vpngw_vpn_connection_up", vpn_connection=single, vpn_gateway=gw, **base) == [0]
    assert find(s, "vpngw_vpn_connection_measured", vpn_connection=single) == [0]
    assert find(s, "vpngw_vpn_connection_health_check_up", vpn_connection=single) == [0]
    assert find(s, "vpngw_vpn_connection_bgp_up", vpn_connection=single) == [0]
    assert find(s, "vpngw_vpn_connection_up", vpn_connection=dual, vpn_gateway=dual_gw, **base) == [0]
    assert find(s, "vpngw_vpn_connection_health_check_up", vpn_connection=dual) == [], "no health check there"
    for role in ("master", "slave"):
        assert find(s, "vpngw_vpn_tunnel_up", vpn_connection=dual, role=role) == [0], role
        assert find(s, "vpngw_vpn_tunnel_bgp_up", vpn_connection=dual, role=role) == [0], role
    assert len(find(s, "vpngw_vpn_tunnel_up")) == 2
    assert find(s, "vpngw_customer_gateways") == [3]
    assert find(s, "vpngw_vpn_gateways", status="active") == [2]

    # No empty label value anywhere (vpngw_customer_gateways{status=""} was one).
    assert '=""' not in text
    # Families sorted by name, each once; the same state scrapes to the same text.
    names = families(text)
    assert names == sorted(names) and len(names) == len(set(names))
    again = scrape_text(own_server)
    strip = lambda t: [l for l in t.splitlines() if not l.startswith(("process_", "vpngw_request", "vpngw_store"))]
    assert strip(again) == strip(text)
    # Every family is documented in docs/operations.md.
    doc = (REPO / "docs" / "operations.md").read_text()
    undocumented = [n for n in names if f"`{n}`" not in doc]
    assert not undocumented, f"document these in docs/operations.md: {undocumented}"

    # A deleted connection's series go away (they are not kept at 0 forever).
    retrying(client.delete_vpn_connection, m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=dual))
    wait_for(lambda: not find(series(scrape_text(own_server)), "vpngw_vpn_tunnel_up", vpn_connection=dual),
             what="the deleted connection's tunnel series to go")


def test_measured_connections_after_a_simulated_agent(own_server):
    client = own_server.tea_client()
    gw = create_gateway(client)
    vco = create_connection(client, gw, create_customer_gateway(client))
    env = {**os.environ, "ALIBABA_CLOUD_ACCESS_KEY_ID": own_server.access_key_id,
           "ALIBABA_CLOUD_ACCESS_KEY_SECRET": own_server.access_key_secret, "VPNGW_LOG": "warn"}
    agent = subprocess.Popen([str(server_binary()), "agent", "--backend", "simulated", "--interval-ms", "200",
                              "--gateway", gw, "--server", f"http://{own_server.endpoint}"],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: find(series(scrape_text(own_server)), "vpngw_vpn_connection_measured", vpn_connection=vco) == [1],
                 timeout=20, what="the agent's report to count as measured")
        s = series(scrape_text(own_server))
        assert find(s, "vpngw_agent_reports_total")[0] >= 1
        assert find(s, "vpngw_agent_report_connections_total", result="accepted")[0] >= 1
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def test_request_log_lines(fresh_server):
    srv = fresh_server(env={"VPNGW_LOG_FORMAT": "json", "VPNGW_LOG": "debug,hyper=info,h2=info"})
    client = srv.tea_client()
    create_customer_gateway(client)
    # What the console sends on its periodic refresh: logged at debug.
    raw = srv.raw_client()
    r = raw.v3("DescribeCustomerGateways", {"RegionId": REGION}, unsigned_headers={"x-vpngw-console-poll": "1"})
    assert r.status == 200
    time.sleep(0.2)
    srv.stop()
    lines = [json.loads(l) for l in srv._log("stderr").read_text().splitlines() if l.startswith("{")]
    answered = [l for l in lines if l.get("fields", {}).get("message") == "answered"]
    create = next(l for l in answered if l["span"].get("action") == "CreateCustomerGateway")
    assert create["level"] == "INFO"
    assert create["fields"]["code"] == "OK" and create["fields"]["status"] == 200
    assert isinstance(create["fields"]["elapsed_us"], int) and create["fields"]["elapsed_us"] > 0
    span = create["span"]
    assert span["account"] and span["principal"] == "root" and span["region"] == REGION
    assert span["source_ip"] == "127.0.0.1"
    polled = [l for l in answered if l["span"].get("action") == "DescribeCustomerGateways"]
    assert polled and all(l["level"] == "DEBUG" for l in polled), polled


def test_audit_table_columns_align_whatever_the_principal(own_server):
    client = own_server.tea_client()
    gw = create_gateway(client)
    cgw = create_customer_gateway(client)
    create_connection(client, gw, cgw)
    # A RAM user with a long name, whose write is refused (and audited all the same).
    user = "a-rather-long-ram-user-name-for-the-audit-table"
    ram = lambda *a, **kw: subprocess.run([str(server_binary()), "ram", *a], capture_output=True, text=True,
                                          env={**os.environ, "VPNGW_ENDPOINT": f"http://{own_server.endpoint}",
                                               **kw.get("env", {
                                                   "ALIBABA_CLOUD_ACCESS_KEY_ID": own_server.access_key_id,
                                                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": own_server.access_key_secret})})
    assert ram("CreateUser", "--UserName", user).returncode == 0
    key = json.loads(ram("CreateAccessKey", "--UserName", user).stdout)["AccessKey"]
    as_user = own_server.tea_client(access_key_id=key["AccessKeyId"], secret=key["AccessKeySecret"])
    from helpers import capture_error

    capture_error(as_user.create_customer_gateway, m.CreateCustomerGatewayRequest(region_id=REGION, ip_address="172.24.99.9"))
    r = subprocess.run([str(server_binary()), "audit", "--data-dir", str(own_server.data_dir), *own_server.store_args()],
                       capture_output=True, text=True, timeout=30, env={**os.environ, "VPNGW_DATA_DIR": ""})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    header = lines[0]
    for col in ("TIME", "ACCOUNT", "PRINCIPAL (KEY)", "SOURCE IP", "REGION", "ACTION", "RESOURCES", "RESULT"):
        assert col in header, header
    # Every column starts where its header does, on every line.
    starts = [header.index(c) for c in ("SOURCE IP", "REGION", "ACTION", "RESOURCES", "RESULT")]
    for line in lines[1:]:
        for s in starts:
            assert line[s - 2:s] == "  " and line[s] != " ", f"misaligned at {s}:\n{header}\n{line}"
    assert any(user in l for l in lines) and any("127.0.0.1" in l and REGION in l for l in lines)
    # The connection's resources, grouped by type (cgw-, then vco-, then vpn-).
    create_vco = next(l for l in lines if "Vpc:CreateVpnConnection" in l)
    ids = re.findall(r"\b(cgw|vco|vpn)-", create_vco)
    assert ids == sorted(ids), create_vco
