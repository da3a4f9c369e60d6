#!/usr/bin/env python3
"""IPsec server benchmark (not a test): stock road-warrior charons dialling the gateway's IPsec
server, all made through the official SDK and `vpngw lab --ipsec-clients N`.

    sudo .venv/bin/python bench/ipsec_server.py [--clients 100] [--bin target/release/vpngw]

One `vpngw serve`, one gateway (EnableSsl, SslConnections >= N: the IPsec server's
MaxConnections), one IPsec server (ClientIpPool a /16, LocalSubnet 10.60.0.0/24, IKEv2 defaults)
created through the SDK. Then, in the same run:

1. baseline: `vpngw lab --ipsec-clients 1` (agent, the gateway's charon, one road-warrior
   namespace with its own charon): time from starting the lab to ListIpsecServers showing
   OnlineClientCount 1; lab torn down;
2. `vpngw lab --ipsec-clients N`: time from starting the lab to OnlineClientCount N, the ratio to
   the baseline and the cost of each further client; ping to LocalSubnet through the first,
   middle and last road warrior; RSS of the agent, the gateway's charon and the road warriors'
   charons;
3. DeleteIpsecServer: time until the gateway's charon holds no IKE SA (every client disconnected).

Needs root and the `dataplane` packages of scripts/packages.txt. Prints the numbers;
BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
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
from dataplane import REGION, ROOT, Server, rss_kb, sa_count  # noqa: E402

SSL_CONNECTIONS = [5, 10, 20, 50, 100, 200, 500, 1000]
LOCAL_HOST = "10.60.0.1"


def online(c: Client, iss: str) -> int:
    body = c.list_ipsec_servers(m.ListIpsecServersRequest(region_id=REGION, ipsec_server_id=[iss])).body
    return body.ipsec_servers[0].online_client_count


def wait_online(c: Client, iss: str, want, timeout: float, what: str) -> float:
    """Seconds until `want(OnlineClientCount)` holds, polled every 20 ms."""
    t0 = time.monotonic()
    while not want(n := online(c, iss)):
        if time.monotonic() - t0 > timeout:
            sys.exit(f"{what}: OnlineClientCount {n} after {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def ns_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=100)
    ap.add_argument("--agent-interval-ms", type=int, default=500, help="agent tick (its default: 2000)")
    ap.add_argument("--lab-sync-ms", type=int, default=200)
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    n = args.clients
    quota = next((q for q in SSL_CONNECTIONS if q >= n), None)
    if n < 2 or quota is None:
        sys.exit(f"--clients must be 2..{SSL_CONNECTIONS[-1]}")
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-ipsec-server-"))
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
        iss = c.create_ipsec_server(m.CreateIpsecServerRequest(
            region_id=REGION, vpn_gateway_id=gw, client_ip_pool="10.100.0.0/16",
            local_subnet="10.60.0.0/24")).body.ipsec_server_id
        active()
        print(f"gateway {gw} (SslConnections {quota}), IPsec server {iss}")

        # 1. Baseline: one road warrior.
        t0 = time.monotonic()
        b.lab(gw, args.agent_interval_ms, args.lab_sync_ms, ["--ipsec-clients", "1"])
        base = time.monotonic() - t0 + wait_online(c, iss, lambda k: k == 1, 120, "baseline")
        print(f"baseline: vpngw lab --ipsec-clients 1 -> OnlineClientCount 1: {base:.2f}s "
              f"(agent interval {args.agent_interval_ms} ms, lab sync {args.lab_sync_ms} ms)")
        b.lab_down()

        # 2. N road warriors.
        t0 = time.monotonic()
        lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms, ["--ipsec-clients", str(n)])
        # (The baseline's count stays in ListIpsecServers until the new agent reports.)
        started = time.monotonic() - t0
        total = started + wait_online(c, iss, lambda k: k == n, 900, f"{n} road warriors")
        print(f"vpngw lab --ipsec-clients {n} -> OnlineClientCount {n}: {total:.2f}s "
              f"(lab ready after {started:.2f}s) = {total / base:.1f}x the baseline, "
              f"{(total - base) / (n - 1) * 1000:.0f} ms per further client")
        state = json.loads(Path(lab["state_path"]).read_text())
        nodes = state["road_warriors"]
        ok = 0
        for i in (0, n // 2, n - 1):
            r = subprocess.run(["ip", "netns", "exec", nodes[i]["ns"], "ping", "-n", "-q", "-c", "1", "-W", "2",
                                LOCAL_HOST], capture_output=True)
            ok += r.returncode == 0
        charon_pid = int(Path(state["vici"]).with_name("charon.pid").read_text())
        rw_rss = [rss_kb(p) for node in nodes for p in ns_pids(node["ns"])]
        print(f"ping {LOCAL_HOST} through road warriors #1, #{n // 2 + 1}, #{n}: {ok}/3 answered; RSS: agent "
              f"{rss_kb(state['agent_pid']) // 1024} MiB, gateway charon {rss_kb(charon_pid) // 1024} MiB, "
              f"road-warrior charons {sum(rw_rss) // max(len(rw_rss), 1) // 1024} MiB each ({len(rw_rss)} processes); "
              f"gateway IKE SAs {sa_count(state)}")

        # 3. The server deleted: the agent unloads it, which ends every session.
        active()
        t0 = time.monotonic()
        c.delete_ipsec_server(m.DeleteIpsecServerRequest(region_id=REGION, ipsec_server_id=iss))
        answered = time.monotonic() - t0
        while sa_count(state) > 0:
            if time.monotonic() - t0 > 120:
                sys.exit(f"{sa_count(state)} IKE SAs still up 120 s after DeleteIpsecServer")
            time.sleep(0.05)
        print(f"DeleteIpsecServer answered in {answered:.2f}s; the gateway's charon held no IKE SA "
              f"{time.monotonic() - t0:.2f}s after it")
    finally:
        b.down()


if __name__ == "__main__":
    main()
