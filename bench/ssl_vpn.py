#!/usr/bin/env python3
"""SSL-VPN benchmark (not a test): stock OpenVPN clients of the gateway's SSL server, all made
through the official SDK and `vpngw lab --ssl-clients N`.

    sudo .venv/bin/python bench/ssl_vpn.py [--clients 100] [--bin target/release/vpngw]

One `vpngw serve`, one gateway (EnableSsl, SslConnections >= N), one SSL server (UDP, ClientIpPool
a /16, LocalSubnet 10.60.0.0/24), N client certificates created through the SDK. Then, in the
same run:

1. baseline: `vpngw lab --ssl-clients 1` (agent, OpenVPN server, one client namespace): time
   from starting the lab to DescribeSslVpnClients showing the client; then, what a user waits
   for: CreateSslVpnClientCert → DescribeSslVpnClientCert → a stock `openvpn` started with that
   configuration in the lab's client namespace → the client in DescribeSslVpnClients, `--new`
   times, against the same-run baseline of the same client start with a certificate that
   exists already; lab torn down;
2. `vpngw lab --ssl-clients N`: time from starting the lab to DescribeSslVpnClients showing all
   N, the ratio to the baseline and the cost of each further client; ping to LocalSubnet through
   the first, middle and last client; RSS of the agent, the OpenVPN server and the clients;
3. DeleteSslVpnClientCert of one client: time until it is gone from DescribeSslVpnClients
   (revocation ends its live session);
4. DeleteSslVpnServer: time until the agent has stopped the OpenVPN server.

Needs root and the `dataplane` packages of scripts/packages.txt. Prints the numbers;
BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataplane import REGION, ROOT, Server, rss_kb  # noqa: E402

SSL_CONNECTIONS = [5, 10, 20, 50, 100, 200, 500, 1000]
LOCAL_HOST = "10.60.0.1"


def online(c: Client, gw: str) -> int:
    return c.describe_ssl_vpn_clients(m.DescribeSslVpnClientsRequest(
        region_id=REGION, vpn_gateway_id=gw, page_size=1)).body.total_count


def wait_online(c: Client, gw: str, want, timeout: float, what: str) -> float:
    """Seconds until `want(online count)` holds, polled every 20 ms."""
    t0 = time.monotonic()
    while not want(n := online(c, gw)):
        if time.monotonic() - t0 > timeout:
            sys.exit(f"{what}: {n} clients online after {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def online_names(c: Client, gw: str) -> set[str]:
    body = c.describe_ssl_vpn_clients(m.DescribeSslVpnClientsRequest(
        region_id=REGION, vpn_gateway_id=gw, page_size=50)).body.to_map()
    return {x["CommonName"] for x in body.get("ClientInfoList") or []}


def connect_user(c: Client, gw: str, vsc: str, ns: str, d: Path, timeout: float = 60) -> tuple[float, float]:
    """Starts a stock openvpn in `ns` from certificate `vsc`'s DescribeSslVpnClientCert answer; returns
    (seconds until the client logged its connection, seconds until DescribeSslVpnClients showed it),
    and stops the client once it shows."""
    t0 = time.monotonic()
    f = c.describe_ssl_vpn_client_cert(m.DescribeSslVpnClientCertRequest(
        region_id=REGION, ssl_vpn_client_cert_id=vsc)).body.to_map()
    d.mkdir(parents=True, exist_ok=True)
    for name, key in (("ca.crt", "CaCert"), ("client.crt", "ClientCert"), ("client.key", "ClientKey"),
                      ("client.ovpn", "ClientConfig")):
        (d / name).write_text(f[key])
    log = d / "client.log"
    # The lab's client already holds the pushed routes in this namespace: this one takes none.
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "openvpn", "--cd", str(d), "--config", "client.ovpn",
                             "--route-nopull", "--log", str(log)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        connected = None
        while True:
            now = time.monotonic() - t0
            if connected is None and log.exists() and "Initialization Sequence Completed" in log.read_text(errors="replace"):
                connected = now
            if vsc in online_names(c, gw):
                return (connected if connected is not None else now), now
            if now > timeout:
                sys.exit(f"{vsc}: not in DescribeSslVpnClients after {timeout:.0f} s\n{log.read_text(errors='replace')}")
            time.sleep(0.02)
    finally:
        # A client in its restart pause may take a while to act on SIGTERM.
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def pid_in(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return 0


def client_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--agent-interval-ms", type=int, default=500, help="agent tick (its default: 2000)")
    ap.add_argument("--lab-sync-ms", type=int, default=200)
    ap.add_argument("--new", type=int, default=5, help="certificates created and connected one by one")
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    n = args.clients
    quota = next((q for q in SSL_CONNECTIONS if q >= n), None)
    if n < 2 or quota is None:
        sys.exit(f"--clients must be 2..{SSL_CONNECTIONS[-1]}")
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-ssl-"))
    b = Server(Path(args.bin), work)
    c = b.client()
    try:
        gw = c.create_vpn_gateway(m.CreateVpnGatewayRequest(
            region_id=REGION, vpc_id="vpc-bench0000000000000", bandwidth=10, enable_ssl=True,
            ssl_connections=quota)).body.vpn_gateway_id

        def active():
            while c.describe_vpn_gateway(m.DescribeVpnGatewayRequest(
                    region_id=REGION, vpn_gateway_id=gw)).body.status != "active":
                time.sleep(0.05)

        active()
        vss = c.create_ssl_vpn_server(m.CreateSslVpnServerRequest(
            region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.100.0.0/16", local_subnet="10.60.0.0/24",
            proto="UDP")).body.ssl_vpn_server_id
        active()
        clients = [b.client() for _ in range(8)]
        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(8) as ex:
            certs = list(ex.map(lambda i: clients[i % 8].create_ssl_vpn_client_cert(m.CreateSslVpnClientCertRequest(
                region_id=REGION, ssl_vpn_server_id=vss, name=f"bench-{i:04d}")).body.ssl_vpn_client_cert_id,
                range(n)))
        print(f"gateway {gw} (SslConnections {quota}), server {vss}; {n} client certificates created "
              f"through the SDK in {time.monotonic() - t0:.2f}s (8 clients in parallel)")

        # 1. Baseline: one client.
        t0 = time.monotonic()
        lab1 = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms, ["--ssl-clients", "1"])
        base = time.monotonic() - t0 + wait_online(c, gw, lambda k: k == 1, 120, "baseline")
        print(f"baseline: vpngw lab --ssl-clients 1 -> 1 client in DescribeSslVpnClients: {base:.2f}s "
              f"(agent interval {args.agent_interval_ms} ms, lab sync {args.lab_sync_ms} ms)")
        ns = json.loads(Path(lab1["state_path"]).read_text())["ssl_clients"][0]["ns"]
        # Clients started with certificates that exist and were never used (the lab's client
        # has the first; a stopped UDP client stays listed until its ping timeout, so none is
        # used twice).
        existing = [connect_user(c, gw, certs[1 + i], ns, work / f"existing-{i}") for i in range(args.new)]
        created = []
        for i in range(args.new):
            t0 = time.monotonic()
            vsc = c.create_ssl_vpn_client_cert(m.CreateSslVpnClientCertRequest(
                region_id=REGION, ssl_vpn_server_id=vss, name=f"user-{i}")).body.ssl_vpn_client_cert_id
            create = time.monotonic() - t0
            log_s, listed_s = connect_user(c, gw, vsc, ns, work / f"new-{i}")
            created.append((create, create + log_s, create + listed_s))
            # Back to the N certificates of step 2.
            c.delete_ssl_vpn_client_cert(m.DeleteSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=vsc))
        base_conn, base_listed = median([e[0] for e in existing]), median([e[1] for e in existing])
        new_create = median([x[0] for x in created])
        new_conn, new_listed = median([x[1] for x in created]), median([x[2] for x in created])
        print(f"CreateSslVpnClientCert -> client connected (its log) {new_conn:.2f}s, -> in DescribeSslVpnClients "
              f"{new_listed:.2f}s (median of {args.new}; the create call {new_create * 1000:.0f} ms); baseline, "
              f"a certificate that exists: {base_conn:.2f}s / {base_listed:.2f}s; ratio "
              f"{new_listed / base_listed:.2f}x")
        b.lab_down()

        # 2. N clients.
        t0 = time.monotonic()
        lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms, ["--ssl-clients", str(n)])
        # (The baseline's client stays in DescribeSslVpnClients until the new agent reports.)
        started = time.monotonic() - t0
        total = started + wait_online(c, gw, lambda k: k == n, 900, f"{n} clients")
        print(f"vpngw lab --ssl-clients {n} -> all {n} in DescribeSslVpnClients: {total:.2f}s "
              f"(lab ready after {started:.2f}s) = {total / base:.1f}x the baseline, "
              f"{(total - base) / (n - 1) * 1000:.0f} ms per further client")
        state = json.loads(Path(lab["state_path"]).read_text())
        nodes = state["ssl_clients"]
        ok = 0
        sample = [0, n // 2, n - 1]
        for i in sample:
            r = subprocess.run(["ip", "netns", "exec", nodes[i]["ns"], "ping", "-n", "-q", "-c", "1", "-W", "2",
                                LOCAL_HOST], capture_output=True)
            ok += r.returncode == 0
        server_pid = pid_in(Path(state["agent_log"]).parent / "gw" / "openvpn" / "openvpn.pid")
        client_rss = [rss_kb(p) for node in nodes for p in client_pids(node["ns"])]
        print(f"ping {LOCAL_HOST} through clients #1, #{n // 2 + 1}, #{n}: {ok}/3 answered; RSS: agent "
              f"{rss_kb(state['agent_pid']) // 1024} MiB, OpenVPN server {rss_kb(server_pid) // 1024} MiB, "
              f"clients {sum(client_rss) // max(len(client_rss), 1) // 1024} MiB each ({len(client_rss)} processes)")

        # 3. One certificate revoked.
        t0 = time.monotonic()
        c.delete_ssl_vpn_client_cert(m.DeleteSslVpnClientCertRequest(region_id=REGION, ssl_vpn_client_cert_id=certs[0]))
        gone = time.monotonic() - t0 + wait_online(c, gw, lambda k: k == n - 1, 120, "revocation")
        print(f"DeleteSslVpnClientCert -> its client gone from DescribeSslVpnClients: {gone:.2f}s")

        # 4. The server deleted: the agent stops OpenVPN.
        active()
        t0 = time.monotonic()
        c.delete_ssl_vpn_server(m.DeleteSslVpnServerRequest(region_id=REGION, ssl_vpn_server_id=vss))
        answered = time.monotonic() - t0
        while Path(f"/proc/{server_pid}").exists():
            if time.monotonic() - t0 > 120:
                sys.exit("the OpenVPN server still runs 120 s after DeleteSslVpnServer")
            time.sleep(0.02)
        print(f"DeleteSslVpnServer answered in {answered:.2f}s; the OpenVPN server exited "
              f"{time.monotonic() - t0:.2f}s after it")
    finally:
        b.down()


if __name__ == "__main__":
    main()
