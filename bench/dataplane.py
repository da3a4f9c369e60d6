#!/usr/bin/env python3
"""Data plane benchmark (not a test): real strongSwan tunnels made through the official SDK.

    sudo .venv/bin/python bench/dataplane.py [--single 10] [--many 1000] [--bin target/release/vpngw]

1. time from CreateVpnConnection to DescribeVpnConnection saying ipsec_sa_established, for
   `--single` connections made one after another (each with its own customer gateway);
2. `--many` connections on one gateway and one agent: create them all (8 SDK clients in
   parallel), wait until DescribeVpnConnections reports every one ipsec_sa_established, ping
   through a sample, then delete them all and wait until the gateway's charon holds no SA.

Runs `vpngw serve` on a free port with a temporary data directory and `vpngw lab --shared-peer`
(one customer-gateway namespace holding every peer address, one charon for all peers). Needs root
and the `dataplane` packages of scripts/packages.txt. Prints the numbers; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client

REGION = "cn-hangzhou"
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peer_ip(i: int) -> str:
    # 172.24.0.0/13: private, unused by the subnets here; the lab puts it on a namespace's
    # loopback. (The cloud refuses 100.64.0.0/10 for customer gateways.)
    block = i // 250
    return f"172.{24 + (block >> 8)}.{block & 255}.{i % 250 + 1}"


def remote_subnet(i: int) -> str:
    return f"172.{16 + (i >> 8)}.{i & 255}.0/24"


class Bench:
    def __init__(self, binary: Path, work: Path):
        self.binary = binary
        self.work = work
        self.port = free_port()
        self.key = "bench" + secrets.token_hex(6)
        self.secret = secrets.token_urlsafe(24)
        self.env = dict(
            os.environ,
            ALIBABA_CLOUD_ACCESS_KEY_ID=self.key,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=self.secret,
            VPNGW_ROOT_ACCESS_KEY_ID=self.key,
            VPNGW_ROOT_ACCESS_KEY_SECRET=self.secret,
            VPNGW_GATEWAY_PROVISION_DELAY_MS="100",
            VPNGW_QUOTA_VPN_GATEWAYS="0",
            VPNGW_QUOTA_CUSTOMER_GATEWAYS="0",
            VPNGW_QUOTA_CONNECTIONS_PER_GATEWAY="0",
            VPNGW_LOG="warn",
        )
        log = open(work / "serve.log", "wb")
        self.serve = subprocess.Popen(
            [str(binary), "serve", "--listen", f"127.0.0.1:{self.port}", "--data-dir", str(work / "data")],
            env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or self.serve.poll() is not None:
                    sys.exit("vpngw serve did not start; see " + str(work / "serve.log"))
                time.sleep(0.05)
        self.gateway = None

    def client(self) -> Client:
        return Client(Config(access_key_id=self.key, access_key_secret=self.secret,
                             endpoint=f"127.0.0.1:{self.port}", protocol="http", region_id=REGION,
                             read_timeout=60000, connect_timeout=5000))

    def lab(self, gateway: str, agent_interval_ms: int, sync_ms: int, lab_args: list[str] = ()) -> dict:
        out = subprocess.run(
            [str(self.binary), "lab", "--gateway", gateway, "--server", f"http://127.0.0.1:{self.port}",
             "--shared-peer", "--sync-interval-ms", str(sync_ms), *lab_args,
             "--", "--interval-ms", str(agent_interval_ms)],
            env=self.env, capture_output=True, text=True, timeout=120,
        )
        if out.returncode != 0:
            sys.exit(f"vpngw lab failed:\n{out.stdout}\n{out.stderr}")
        state = next(l.split()[-1] for l in out.stdout.splitlines() if l.strip().startswith("state"))
        self.gateway = gateway
        return json.loads(Path(state).read_text()) | {"state_path": state}

    def lab_down(self):
        if self.gateway:
            subprocess.run([str(self.binary), "lab", "--down", "--gateway", self.gateway],
                           env=self.env, capture_output=True, timeout=120)
            self.gateway = None

    def down(self):
        self.lab_down()
        self.serve.send_signal(signal.SIGTERM)
        self.serve.wait(timeout=20)


def sa_count(lab: dict) -> int:
    out = subprocess.run(
        ["ip", "netns", "exec", lab["gateway_ns"], "swanctl", "--list-sas", "--raw", "--uri", f"unix://{lab['vici']}"],
        capture_output=True, text=True,
    ).stdout
    return sum(1 for line in out.splitlines() if "state=ESTABLISHED" in line)


def statuses(c: Client, gw: str) -> dict[str, str]:
    out: dict[str, str] = {}
    page = 1
    while True:
        body = c.describe_vpn_connections(m.DescribeVpnConnectionsRequest(
            region_id=REGION, vpn_gateway_id=gw, page_size=50, page_number=page)).body
        for v in body.vpn_connections.vpn_connection:
            out[v.vpn_connection_id] = v.status
        if page * 50 >= body.total_count:
            return out
        page += 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--single", type=int, default=10)
    ap.add_argument("--many", type=int, default=1000)
    ap.add_argument("--agent-interval-ms", type=int, default=2000, help="agent tick (its default: 2000)")
    ap.add_argument("--lab-sync-ms", type=int, default=500, help="how often the lab mirrors new connections on the peer")
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-"))
    b = Bench(Path(args.bin), work)
    c = b.client()
    try:
        gw = c.create_vpn_gateway(m.CreateVpnGatewayRequest(region_id=REGION, vpc_id="vpc-bench0000000000000",
                                                            bandwidth=10)).body.vpn_gateway_id
        while c.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status != "active":
            time.sleep(0.05)
        t = time.monotonic()
        lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms)
        print(f"lab up in {time.monotonic() - t:.2f}s: gateway {gw} ({', '.join(lab['gateway_addrs'])}), "
              f"agent interval {args.agent_interval_ms} ms, lab sync {args.lab_sync_ms} ms")

        # 1. Time to established, one connection at a time.
        times = []
        for i in range(args.single):
            cgw = c.create_customer_gateway(m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=peer_ip(60000 + i))).body.customer_gateway_id
            t0 = time.monotonic()
            vco = c.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet=remote_subnet(4000 + i), effect_immediately=True)).body.vpn_connection_id
            while c.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)).body.status != "ipsec_sa_established":
                if time.monotonic() - t0 > 60:
                    sys.exit(f"{vco} not established after 60 s; see {lab['agent_log']}")
                time.sleep(0.01)
            times.append(time.monotonic() - t0)
            c.delete_vpn_connection(m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
        if times:
            times.sort()
            print(f"CreateVpnConnection -> ipsec_sa_established, {len(times)} connections one at a time: "
                  f"median {statistics.median(times) * 1000:.0f} ms, min {times[0] * 1000:.0f} ms, "
                  f"max {times[-1] * 1000:.0f} ms")
        while sa_count(lab) > 0:
            time.sleep(0.1)

        # 2. Many connections on one agent.
        n = args.many
        if n <= 0:
            return
        clients = [b.client() for _ in range(8)]

        def make(i: int) -> str:
            cl = clients[i % len(clients)]
            cgw = cl.create_customer_gateway(m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=peer_ip(i + 1))).body.customer_gateway_id
            return cl.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet=remote_subnet(i), effect_immediately=True)).body.vpn_connection_id

        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(8) as ex:
            ids = list(ex.map(make, range(n)))
        created = time.monotonic() - t0
        print(f"{n} customer gateways + connections created through the SDK in {created:.1f}s")
        last_print = 0.0
        while True:
            st = statuses(c, gw)
            up = sum(1 for v in st.values() if v == "ipsec_sa_established")
            el = time.monotonic() - t0
            if el - last_print >= 10:
                print(f"  {el:6.1f}s: {up}/{n} ipsec_sa_established (charon: {sa_count(lab)} IKE SAs)")
                last_print = el
            if up == n:
                break
            if el > 900:
                sys.exit(f"only {up}/{n} established after 900 s; see {lab['agent_log']}")
            time.sleep(0.5)
        converged = time.monotonic() - t0
        print(f"all {n} ipsec_sa_established {converged:.1f}s after the first CreateVpnConnection "
              f"({converged - created:.1f}s after the last)")
        state = json.loads(Path(lab["state_path"]).read_text())
        peer = state["peers"][0]
        sample = [0, n // 2, n - 1]
        ok = 0
        for i in sample:
            src = remote_subnet(i).split("/")[0][:-1] + "1"
            r = subprocess.run(["ip", "netns", "exec", peer["ns"], "ping", "-n", "-q", "-c", "1", "-W", "2", "-I", src, "10.0.0.1"],
                               capture_output=True)
            ok += r.returncode == 0
        agent_pid = state["agent_pid"]
        charon_pid = int(Path(lab["vici"]).with_name("charon.pid").read_text())
        print(f"ping through connections #1, #{n // 2 + 1}, #{n}: {ok}/3 answered; "
              f"RSS: agent {rss_kb(agent_pid) // 1024} MiB, gateway charon {rss_kb(charon_pid) // 1024} MiB")

        t1 = time.monotonic()
        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda x: clients[x[0] % 8].delete_vpn_connection(
                m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=x[1])), enumerate(ids)))
        deleted = time.monotonic() - t1
        while sa_count(lab) > 0:
            if time.monotonic() - t1 > 600:
                sys.exit("SAs still up 600 s after deleting")
            time.sleep(0.5)
        print(f"{n} connections deleted through the SDK in {deleted:.1f}s; gateway charon held no SA "
              f"{time.monotonic() - t1:.1f}s after the first delete")
    finally:
        b.down()


if __name__ == "__main__":
    main()
