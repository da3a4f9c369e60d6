"""IPsec server end to end (#15): a gateway with `SslConnections=5`, an SSL server and an IPsec
server made with the official SDK; `vpngw lab --ssl-clients 2 --ipsec-clients 4` starts two stock
OpenVPN clients and four stock road-warrior charons in namespaces, configured only from the API's
answers, that dial in. The road warriors get addresses from `ClientIpPool` and reach a
`LocalSubnet` address; ListIpsecServers shows `OnlineClientCount` as the agent measured it and
ListIpsecServerLogs their log lines; the two servers together never keep more than the gateway's
5 connections (the newest sessions are ended, and the log says why); deleting the server
disconnects the road warriors; a server whose pre-shared key they do not have (the lab's clients
keep dialling with the first server's, `--ipsec-client-psk`) lets none of them in, and
ListIpsecServerLogs says why, naming each client.

Needs root, network namespaces, /dev/net/tun, strongSwan and openvpn (scripts/packages.txt);
skipped with a message otherwise, like test_dataplane_e2e.py. Run under `flock /work/netns.lock`.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import REGION, create_gateway, retrying
from test_dataplane_e2e import Lab, _require_packages, pytestmark  # noqa: F401

LOCAL = "10.70.0.0/24"
LOCAL_HOST = "10.70.0.1"
POOL = "10.71.0.0/24"
SSL_POOL = "10.72.0.0/24"
MAX_CONNECTIONS = 5
# The key of the first server, which the lab's road warriors keep using whatever the server says.
CLIENT_PSK = "e2e-road-warrior-key"
UP_TIMEOUT = 60.0


def ipsec_server(vpc, iss: str) -> dict:
    body = vpc.list_ipsec_servers(m.ListIpsecServersRequest(region_id=REGION, ipsec_server_id=[iss])).body.to_map()
    (s,) = body["IpsecServers"]
    return s


def ssl_connections(vpc, vss: str) -> int:
    body = vpc.describe_ssl_vpn_servers(m.DescribeSslVpnServersRequest(region_id=REGION, ssl_vpn_server_id=vss)).body
    return body.ssl_vpn_servers.ssl_vpn_server[0].connections


def ipsec_logs(vpc, iss: str) -> list[str]:
    out: list[str] = []
    for page in range(1, 20):
        req = m.ListIpsecServerLogsRequest(
            region_id=REGION, ipsec_server_id=iss, minute_period=10, page_size=50, page_number=page
        )
        lines = vpc.list_ipsec_server_logs(req).body.data or []
        out.extend(lines)
        if len(lines) < 50:
            break
    return out


def ssl_logs(vpc, vss: str) -> list[str]:
    req = m.DescribeVpnSslServerLogsRequest(region_id=REGION, vpn_ssl_server_id=vss, minute_period=10, page_size=50)
    return vpc.describe_vpn_ssl_server_logs(req).body.data.logs or []


def ping(ns: str, dst: str) -> bool:
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "2", "-i", "0.2", "-W", "1", dst],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0


def virtual_ips(ns: str) -> list[str]:
    """The addresses charon installed in a road warrior's namespace from the server's pool."""
    out = subprocess.run(["ip", "netns", "exec", ns, "ip", "-4", "-o", "addr", "show"],
                         capture_output=True, text=True, timeout=10).stdout
    return [f.split("/")[0] for line in out.splitlines() for f in line.split() if f.startswith("10.71.0.")]


@pytest.fixture(scope="module")
def ipsec_lab(server):
    _require_packages()
    if shutil.which("openvpn") is None:
        pytest.fail("openvpn missing: scripts/install-packages dataplane (scripts/test does this as root)")
    vpc = server.tea_client("v3")
    gw = create_gateway(vpc, enable_ssl=True, ssl_connections=MAX_CONNECTIONS)
    vss = retrying(
        vpc.create_ssl_vpn_server,
        m.CreateSslVpnServerRequest(region_id=REGION, vpn_gateway_id=gw, client_ip_pool=SSL_POOL, local_subnet=LOCAL,
                                    proto="UDP"),
    ).body.ssl_vpn_server_id
    for i in (1, 2):
        vpc.create_ssl_vpn_client_cert(m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id=vss,
                                                                        name=f"user{i}"))
    iss = retrying(
        vpc.create_ipsec_server,
        m.CreateIpsecServerRequest(region_id=REGION, vpn_gateway_id=gw, client_ip_pool=POOL, local_subnet=LOCAL,
                                   ip_sec_server_name="e2e", psk=CLIENT_PSK),
    ).body.ipsec_server_id
    lab = Lab(server, gw, {}, lab_args=["--ssl-clients", "2", "--ipsec-clients", "4",
                                        "--ipsec-client-psk", CLIENT_PSK])
    yield vpc, gw, vss, iss, lab
    lab.down()


def test_road_warriors_connect_reach_local_subnet_and_are_counted(ipsec_lab):
    vpc, gw, vss, iss, lab = ipsec_lab
    deadline = time.monotonic() + UP_TIMEOUT
    online = 0
    while time.monotonic() < deadline:
        online = ipsec_server(vpc, iss)["OnlineClientCount"]
        if online >= 1:
            break
        time.sleep(0.3)
    assert online >= 1, f"no road warrior online\n{lab.tail()}"
    # At least one connected road warrior has an address of ClientIpPool and reaches LocalSubnet.
    reached = []
    deadline = time.monotonic() + UP_TIMEOUT
    while not reached and time.monotonic() < deadline:
        for rw in lab.state["road_warriors"]:
            if virtual_ips(rw["ns"]) and ping(rw["ns"], LOCAL_HOST):
                reached.append(rw["ns"])
        if not reached:
            time.sleep(0.5)
    assert reached, f"no road warrior reached {LOCAL_HOST}\n{lab.tail()}"
    # Their sessions are in the server's log.
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline:
        lines = ipsec_logs(vpc, iss)
        if any("rw" in line and "@lab" in line for line in lines):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no road warrior in ListIpsecServerLogs: {lines[-20:]}\n{lab.tail()}")


def test_the_two_servers_share_the_gateways_connections(ipsec_lab):
    """2 SSL clients + 4 road warriors against SslConnections=5: the newest sessions beyond 5 are
    ended, whichever server they are on, and the log says why."""
    vpc, gw, vss, iss, lab = ipsec_lab
    deadline = time.monotonic() + UP_TIMEOUT
    samples = []
    quota_line = None
    while time.monotonic() < deadline:
        total = ipsec_server(vpc, iss)["OnlineClientCount"] + ssl_connections(vpc, vss)
        samples.append(total)
        lines = ipsec_logs(vpc, iss) + ssl_logs(vpc, vss)
        quota_line = next((line for line in lines if f"{MAX_CONNECTIONS} reached" in line), None)
        if quota_line and total == MAX_CONNECTIONS:
            break
        time.sleep(0.5)
    assert quota_line, f"no quota line in the logs; totals seen {samples}\n{lab.tail()}"
    assert samples[-1] == MAX_CONNECTIONS, f"totals seen {samples}\n{lab.tail()}"
    assert ipsec_server(vpc, iss)["MaxConnections"] == MAX_CONNECTIONS


def test_deleting_the_server_disconnects_the_road_warriors(ipsec_lab):
    vpc, gw, vss, iss, lab = ipsec_lab
    retrying(vpc.delete_ipsec_server, m.DeleteIpsecServerRequest(region_id=REGION, ipsec_server_id=iss))
    nodes = [rw["ns"] for rw in lab.state["road_warriors"]]
    deadline = time.monotonic() + UP_TIMEOUT
    while time.monotonic() < deadline and any(ping(ns, LOCAL_HOST) for ns in nodes):
        time.sleep(0.5)
    assert not any(ping(ns, LOCAL_HOST) for ns in nodes), lab.tail()


def test_a_wrong_psk_is_refused_and_the_log_says_why(ipsec_lab):
    """After the delete above: a new server with another key. The road warriors dial it with the
    old key (CLIENT_PSK): charon refuses them, none gets an address or is counted, and
    ListIpsecServerLogs has the agent's plain line naming the client and the reason."""
    vpc, gw, vss, _, lab = ipsec_lab
    iss = retrying(
        vpc.create_ipsec_server,
        m.CreateIpsecServerRequest(region_id=REGION, vpn_gateway_id=gw, client_ip_pool=POOL, local_subnet=LOCAL,
                                   ip_sec_server_name="e2e-new-key", psk="not-the-clients-key"),
    ).body.ipsec_server_id
    deadline = time.monotonic() + UP_TIMEOUT
    refused: list[str] = []
    counts = set()
    while time.monotonic() < deadline:
        counts.add(ipsec_server(vpc, iss)["OnlineClientCount"])
        refused = [line for line in ipsec_logs(vpc, iss)
                   if "not connected: authentication failed: pre-shared key or identity mismatch" in line]
        if refused:
            break
        time.sleep(0.3)
    assert refused, f"no refusal in ListIpsecServerLogs: {ipsec_logs(vpc, iss)[-20:]}\n{lab.tail()}"
    assert any("'rw" in line and "@lab'" in line for line in refused), refused
    counts.add(ipsec_server(vpc, iss)["OnlineClientCount"])
    assert counts == {0}, f"OnlineClientCount seen {counts}"
    nodes = [rw["ns"] for rw in lab.state["road_warriors"]]
    assert not any(virtual_ips(ns) for ns in nodes), lab.tail()
