"""SSL-VPN end to end: a gateway, its SSL server and client certificates made with the official
SDK become a real OpenVPN server in the gateway's namespace (run by `vpngw agent`), and stock
`openvpn` clients in namespaces, configured only from DescribeSslVpnClientCert (`vpngw lab
--ssl-clients`), connect, ping a LocalSubnet address and show in DescribeSslVpnClients; deleting a
certificate ends that client's session alone; UDP, then TCP; a certificate of another server's CA
is refused and the refusal is in DescribeVpnSslServerLogs; a client over the gateway's connection
quota is refused at connect (AUTH_FAILED, it stops) and the refusal is logged; Compress, DnsServers
and Cipher `none` reach the client (its PUSH_REPLY and configuration).

Needs root, network namespaces, /dev/net/tun and openvpn (scripts/packages.txt, group dataplane);
skipped with a message otherwise, like test_dataplane_e2e.py. Run under `flock /work/netns.lock`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from alibabacloud_vpc20160428 import models as m

from helpers import REGION, create_gateway, retrying
from test_dataplane_e2e import Lab, _require_packages, pytestmark  # noqa: F401

LOCAL = "10.60.0.0/24"
LOCAL_HOST = "10.60.0.1"
POOL = "10.61.0.0/24"
UP_TIMEOUT = 40.0


def clients(vpc, gw: str) -> list[dict]:
    body = vpc.describe_ssl_vpn_clients(m.DescribeSslVpnClientsRequest(region_id=REGION, vpn_gateway_id=gw)).body
    return body.to_map().get("ClientInfoList") or []


def wait_clients(vpc, lab: Lab, gw: str, want: set[str], timeout: float = UP_TIMEOUT) -> list[dict]:
    deadline = time.monotonic() + timeout
    got: list[dict] = []
    while time.monotonic() < deadline:
        got = clients(vpc, gw)
        if {c["CommonName"] for c in got} == want:
            return got
        time.sleep(0.2)
    raise AssertionError(f"waited {timeout}s for clients {want}, got {got}\n{lab.tail()}\n{client_logs(lab)}")


def client_logs(lab: Lab) -> str:
    """The last lines of OpenVPN's server log and of every lab client's log."""
    out = []
    server_log = Path(lab.state["agent_log"]).parent / "gw" / "openvpn" / "openvpn.log"
    if server_log.exists():
        lines = [line for line in server_log.read_text(errors="replace").splitlines() if "MANAGEMENT:" not in line]
        out.append(f"--- {server_log} ---\n" + "\n".join(lines[-30:]))
    for c in lab.state.get("ssl_clients", []):
        p = Path(c["log"])
        if p.exists():
            out.append(f"--- {p} ---\n" + "\n".join(p.read_text(errors="replace").splitlines()[-15:]))
    return "\n".join(out)


def server_logs(vpc, vss: str, cert: str | None = None) -> list[str]:
    req = m.DescribeVpnSslServerLogsRequest(region_id=REGION, vpn_ssl_server_id=vss, minute_period=10, page_size=50)
    if cert:
        req.ssl_vpn_client_cert_id = cert
    out: list[str] = []
    for page in range(1, 20):
        req.page_number = page
        lines = vpc.describe_vpn_ssl_server_logs(req).body.data.logs or []
        out.extend(lines)
        if len(lines) < 50:
            break
    return out


def wait_log(vpc, lab: Lab, vss: str, text: str, timeout: float = UP_TIMEOUT) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = server_logs(vpc, vss)
        if any(text in line for line in lines):
            return lines
        time.sleep(0.3)
    shown = "\n".join(lines[-20:])
    raise AssertionError(f"no {text!r} in DescribeVpnSslServerLogs, last lines:\n{shown}\n{lab.tail()}\n{client_logs(lab)}")


def ping(ns: str, dst: str) -> bool:
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-n", "-q", "-c", "3", "-i", "0.2", "-W", "1", dst],
                       capture_output=True, text=True, timeout=30)
    return r.returncode == 0


def cert_files(vpc, vsc: str) -> dict:
    return vpc.describe_ssl_vpn_client_cert(
        m.DescribeSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=vsc)
    ).body.to_map()


def new_cert(vpc, vss: str, name: str) -> str:
    return vpc.create_ssl_vpn_client_cert(
        m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id=vss, name=name)
    ).body.ssl_vpn_client_cert_id


def start_client(ns: str, d: Path, ca: str, cert: str, key: str, config: str, *extra: str) -> subprocess.Popen:
    """A stock openvpn in `ns` with these files and ClientConfig in `d`, its log in d/client.log."""
    d.mkdir(parents=True, exist_ok=True)
    Path(d, "ca.crt").write_text(ca)
    Path(d, "client.crt").write_text(cert)
    Path(d, "client.key").write_text(key)
    Path(d, "client.ovpn").write_text(config)
    return subprocess.Popen(["ip", "netns", "exec", ns, "openvpn", "--cd", str(d), "--config", "client.ovpn",
                             "--log", str(Path(d, "client.log")), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_client_of(vpc, ns: str, vsc: str, d: Path, *extra: str) -> subprocess.Popen:
    f = cert_files(vpc, vsc)
    return start_client(ns, d, f["CaCert"], f["ClientCert"], f["ClientKey"], f["ClientConfig"], *extra)


def stop(proc: subprocess.Popen) -> None:
    # A TCP client refused in its TLS handshake may sit in its restart pause
    # for a while before it acts on SIGTERM.
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def ssl_lab(server):
    _require_packages()
    if shutil.which("openvpn") is None:
        pytest.fail("openvpn missing: scripts/install-packages dataplane (scripts/test does this as root)")
    vpc = server.tea_client("v3")
    gw = create_gateway(vpc, enable_ssl=True, ssl_connections=5)
    vss = retrying(
        vpc.create_ssl_vpn_server,
        m.CreateSslVpnServerRequest(region_id=REGION, vpn_gateway_id=gw, client_ip_pool=POOL, local_subnet=LOCAL, proto="UDP"),
    ).body.ssl_vpn_server_id
    certs = [
        vpc.create_ssl_vpn_client_cert(
            m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id=vss, name=f"user{i}")
        ).body.ssl_vpn_client_cert_id
        for i in (1, 2)
    ]
    lab = Lab(server, gw, {}, lab_args=["--ssl-clients", "2"])
    yield vpc, gw, vss, certs, lab
    lab.down()


def test_clients_connect_ping_and_a_deleted_certificate_ends_only_its_session(ssl_lab):
    vpc, gw, vss, (a, b), lab = ssl_lab
    online = wait_clients(vpc, lab, gw, {a, b})
    for c in online:
        assert c["Status"] == "online" and c["PrivateIp"].startswith("10.61.0.") and int(c["Port"]) > 0
    nodes = {c["cert"]: c["ns"] for c in lab.state["ssl_clients"]}
    assert ping(nodes[a], LOCAL_HOST) and ping(nodes[b], LOCAL_HOST), client_logs(lab)
    s = vpc.describe_ssl_vpn_servers(m.DescribeSslVpnServersRequest(region_id=REGION, ssl_vpn_server_id=vss)).body
    assert s.ssl_vpn_servers.ssl_vpn_server[0].connections == 2
    # The server's log, and one client's lines alone.
    wait_log(vpc, lab, vss, "Peer Connection Initiated")
    assert any(a in line for line in server_logs(vpc, vss, cert=a))
    b_since = next(c["ConnectedTime"] for c in online if c["CommonName"] == b)

    vpc.delete_ssl_vpn_client_cert(m.DeleteSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=a))
    after = wait_clients(vpc, lab, gw, {b})
    # The other client kept its session (same connection time) and still reaches LocalSubnet.
    assert after[0]["ConnectedTime"] == b_since
    assert ping(nodes[b], LOCAL_HOST)
    # The revoked client tries again and is refused by the CRL.
    wait_log(vpc, lab, vss, "certificate revoked")
    assert not ping(nodes[a], LOCAL_HOST)


def test_tcp_after_modify(ssl_lab):
    vpc, gw, vss, (_, b), lab = ssl_lab
    retrying(vpc.modify_ssl_vpn_server, m.ModifySslVpnServerRequest(region_id=REGION, ssl_vpn_server_id=vss, proto="TCP"))
    assert "proto tcp" in cert_files(vpc, b)["ClientConfig"]
    deadline = time.monotonic() + UP_TIMEOUT
    nodes = {c["cert"]: c["ns"] for c in lab.state["ssl_clients"]}
    while time.monotonic() < deadline:
        log = Path(next(c["log"] for c in lab.state["ssl_clients"] if c["cert"] == b))
        if log.exists() and "TCP connection established" in log.read_text(errors="replace") and ping(nodes[b], LOCAL_HOST):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"the client did not come back over TCP\n{lab.tail()}\n{client_logs(lab)}")
    wait_clients(vpc, lab, gw, {b})


def test_a_certificate_of_another_ca_is_refused_and_logged(ssl_lab):
    vpc, gw, vss, (_, b), lab = ssl_lab
    other_gw = create_gateway(vpc, enable_ssl=True)
    other = retrying(
        vpc.create_ssl_vpn_server,
        m.CreateSslVpnServerRequest(region_id=REGION, vpn_gateway_id=other_gw, client_ip_pool="10.62.0.0/24", local_subnet=LOCAL),
    ).body.ssl_vpn_server_id
    foreign = cert_files(vpc, vpc.create_ssl_vpn_client_cert(
        m.CreateSslVpnClientCertRequest(region_id=REGION, ssl_vpn_server_id=other)).body.ssl_vpn_client_cert_id)
    ours = cert_files(vpc, b)
    ns = next(c["ns"] for c in lab.state["ssl_clients"] if c["cert"] == b)
    with tempfile.TemporaryDirectory(prefix="sslvpn-foreign-") as d:
        proc = start_client(ns, Path(d), ours["CaCert"], foreign["ClientCert"], foreign["ClientKey"], ours["ClientConfig"])
        try:
            lines = wait_log(vpc, lab, vss, "VERIFY ERROR")
        finally:
            stop(proc)
    assert any("unable to get local issuer certificate" in line or "VERIFY ERROR" in line for line in lines)
    assert {c["CommonName"] for c in clients(vpc, gw)} == {b}


def test_a_client_over_the_shared_connection_quota_is_refused_at_connect(ssl_lab):
    """SslConnections=5: with 5 sessions up a sixth client is refused in its handshake
    (management-client-auth), told why (AUTH_FAILED) and stops; it never gets in and out."""
    vpc, gw, vss, (_, b), lab = ssl_lab
    ns = next(c["ns"] for c in lab.state["ssl_clients"] if c["cert"] == b)
    wait_clients(vpc, lab, gw, {b})
    fill = [new_cert(vpc, vss, f"quota{i}") for i in range(4)]
    over = new_cert(vpc, vss, "over")
    procs = []
    with tempfile.TemporaryDirectory(prefix="sslvpn-quota-") as d:
        try:
            # Extra clients share b's namespace: they take no pushed routes.
            procs = [start_client_of(vpc, ns, c, Path(d, c), "--route-nopull") for c in fill]
            wait_clients(vpc, lab, gw, {b, *fill})
            refused = start_client_of(vpc, ns, over, Path(d, over), "--route-nopull")
            procs.append(refused)
            try:
                refused.wait(timeout=UP_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"the refused client did not stop\n{Path(d, over, 'client.log').read_text()}\n"
                                     f"{clients(vpc, gw)}\n{lab.tail()}\n{client_logs(lab)}")
            log = Path(d, over, "client.log").read_text(errors="replace")
            assert "AUTH_FAILED,SslConnections 5 reached" in log, log
            assert "Initialization Sequence Completed" not in log, log
            wait_log(vpc, lab, vss, f"{over}/")
            mine = server_logs(vpc, vss, cert=over)
            assert any("refused at connect: SslConnections 5 reached" in line for line in mine), mine
            # Nobody else was cut off for it.
            assert {c["CommonName"] for c in clients(vpc, gw)} == {b, *fill}
        finally:
            for p in procs:
                stop(p)
    wait_clients(vpc, lab, gw, {b})


def test_compress_dns_servers_and_cipher_none_reach_the_client(ssl_lab):
    """The lab's client restarts with the new ClientConfig; what the server pushes (DNS,
    compression) is in the client's PUSH_REPLY, `cipher none` and `comp-lzo` in its
    configuration, and traffic still flows (both ends frame compression alike). Shares the lab."""
    vpc, gw, vss, (_, b), lab = ssl_lab
    retrying(
        vpc.modify_ssl_vpn_server,
        m.ModifySslVpnServerRequest(
            region_id=REGION, ssl_vpn_server_id=vss, compress=True, dns_servers="10.60.0.53", cipher="none"
        ),
    )
    node = next(c for c in lab.state["ssl_clients"] if c["cert"] == b)
    log = Path(node["log"])
    deadline = time.monotonic() + UP_TIMEOUT
    text = ""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "dhcp-option DNS 10.60.0.53" in text and "Initialization Sequence Completed" in text:
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"the client did not come back with the new settings\n{lab.tail()}\n{client_logs(lab)}")
    push = next(line for line in text.splitlines() if "PUSH_REPLY" in line and "dhcp-option DNS 10.60.0.53" in line)
    assert "comp-lzo yes" in push, push
    config = (log.parent / "client.ovpn").read_text()
    assert "\ncipher none\n" in config and "\ncomp-lzo\n" in config, config
    # As documented (api-decisions "Cipher"): a 2.6 client negotiates an AEAD cipher whatever
    # `cipher` says; `none` is the server's fallback for clients that cannot negotiate.
    assert "Data Channel: cipher 'AES-256-GCM'" in text, text
    assert ping(node["ns"], LOCAL_HOST), client_logs(lab)
    wait_clients(vpc, lab, gw, {b})


def test_deleting_the_server_disconnects_everyone(ssl_lab):
    vpc, gw, vss, _, lab = ssl_lab
    retrying(vpc.delete_ssl_vpn_server, m.DeleteSslVpnServerRequest(region_id=REGION, ssl_vpn_server_id=vss))
    deadline = time.monotonic() + UP_TIMEOUT
    nodes = [c["ns"] for c in lab.state["ssl_clients"]]
    while time.monotonic() < deadline and any(ping(ns, LOCAL_HOST) for ns in nodes):
        time.sleep(0.5)
    assert not any(ping(ns, LOCAL_HOST) for ns in nodes), lab.tail()
