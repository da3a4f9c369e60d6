#!/usr/bin/env python3
"""Data plane benchmark (not a test): real strongSwan tunnels made through the official SDK.

    flock /work/netns.lock .venv/bin/python bench/dataplane.py [--single 20] [--psk-changes 10]
        [--many 1000] [--bin target/release/vpngw] [--baseline-bin /path/to/older/vpngw]

(as root). In one run, with the agent at its default settings:
1. CreateVpnConnection -> DescribeVpnConnection says ipsec_sa_established, `--single` connections
   made one after another with IKEv1, then as many with IKEv2, against one customer gateway per
   version whose device (the lab's peer address) is up before: median, p99, min, max;
2. a pre-shared key changed (ModifyVpnConnectionAttribute) on the last IKEv2 connection,
   `--psk-changes` times: until the gateway's charon holds a new IKE SA with its IPsec SA and the
   API says ipsec_sa_established;
3. `--many` connections on one gateway and one agent: create them all (8 SDK clients in
   parallel), wait until DescribeVpnConnections reports every one ipsec_sa_established (the
   agent's reports and the server's durable writes and CPU meanwhile, from /metrics and /proc),
   ping through a sample, then delete them all and wait until the gateway's charon holds no SA.

With `--baseline-bin`, everything runs first with that binary (a build of an older commit: the
"before"), then with `--bin`, in one run on the same machine, and a comparison is printed. The
agent runs with each binary's default settings unless `--agent-interval-ms` is given. The load
average is printed with each step: the machine may be shared.

Runs `vpngw serve` on a free port with a temporary data directory and `vpngw lab --shared-peer`
(one customer-gateway namespace holding every peer address, one charon for all peers). Needs root
and the `dataplane` packages of scripts/packages.txt. Prints the numbers; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
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


class Server:
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

    def lab(self, gateway: str, agent_interval_ms: int | None, sync_ms: int, lab_args: list[str] = (),
            shared: bool = True, agent_args: list[str] = ()) -> dict:
        """`vpngw lab` on `gateway`: with `shared`, one namespace for every customer gateway, else one each.
        The agent runs with its default interval unless `agent_interval_ms` is given."""
        interval = ["--interval-ms", str(agent_interval_ms)] if agent_interval_ms else []
        agent = [*interval, *agent_args]
        out = subprocess.run(
            [str(self.binary), "lab", "--gateway", gateway, "--server", f"http://127.0.0.1:{self.port}",
             *(["--shared-peer"] if shared else []), "--sync-interval-ms", str(sync_ms), *lab_args,
             *(["--", *agent] if agent else [])],
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


def swanctl(lab: dict, *args: str) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", lab["gateway_ns"], "swanctl", *args, "--raw", "--uri", f"unix://{lab['vici']}"],
        capture_output=True, text=True,
    ).stdout


def sa_count(lab: dict) -> int:
    """IKE SAs the gateway's charon holds, in any state."""
    return sum(1 for line in swanctl(lab, "--list-sas").splitlines() if line.startswith("list-sa event"))


def ike_sa(lab: dict, vco: str) -> tuple[int | None, bool]:
    """The unique id of `vco`'s IKE SA on the gateway, and whether it is established with its
    IPsec SA installed."""
    out = swanctl(lab, "--list-sas", "--ike", vco)
    found = re.search(r"uniqueid=(\d+)", out)
    up = "state=ESTABLISHED" in out and "state=INSTALLED" in out
    return (int(found.group(1)) if found else None), up


def peer_conns(lab: dict) -> str:
    """The connections the shared peer's charon has loaded."""
    peer = json.loads(Path(lab["state_path"]).read_text())["peers"][0]
    vici = Path(peer["charon_log"]).with_name("charon.vici")
    return subprocess.run(["ip", "netns", "exec", peer["ns"], "swanctl", "--list-conns", "--uri", f"unix://{vici}"],
                          capture_output=True, text=True).stdout


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


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values."""
    rank = max(1, round(q / 100 * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summary(times: list[float]) -> dict:
    times = sorted(times)
    return {"median": statistics.median(times) * 1000, "p99": percentile(times, 99) * 1000,
            "min": times[0] * 1000, "max": times[-1] * 1000, "n": len(times)}


def fmt(stats: dict) -> str:
    return (f"median {stats['median']:.0f} ms, p99 {stats['p99']:.0f} ms, min {stats['min']:.0f} ms, "
            f"max {stats['max']:.0f} ms (n={stats['n']})")


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def metric(port: int, name: str) -> float:
    """The sum of a Prometheus counter's series on the server's /metrics (0 when absent)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith(name) and (line[len(name)] in " {"))


def wait_until(what: str, lab: dict, ready, timeout: float = 60, poll: float = 0.01) -> float:
    t0 = time.monotonic()
    while not ready():
        if time.monotonic() - t0 > timeout:
            sys.exit(f"{what}: not after {timeout} s; see {lab['agent_log']}")
        time.sleep(poll)
    return time.monotonic() - t0


def run(binary: Path, args, label: str) -> dict:
    """One full measurement with `binary`; returns the numbers."""
    results: dict = {}
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-"))
    b = Server(binary, work)
    c = b.client()

    def say(text: str) -> None:
        print(f"[{label}] {text}", flush=True)

    def status(vco: str) -> str:
        return c.describe_vpn_connection(m.DescribeVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco)).body.status

    try:
        gw = c.create_vpn_gateway(m.CreateVpnGatewayRequest(region_id=REGION, vpc_id="vpc-bench0000000000000",
                                                            bandwidth=10)).body.vpn_gateway_id
        while c.describe_vpn_gateway(m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status != "active":
            time.sleep(0.05)
        t = time.monotonic()
        lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms)
        interval = f"{args.agent_interval_ms} ms" if args.agent_interval_ms else "its default"
        say(f"lab up in {time.monotonic() - t:.2f}s: gateway {gw} ({', '.join(lab['gateway_addrs'])}), "
            f"agent interval {interval}, lab sync {args.lab_sync_ms} ms; {load()}")

        def connect(cgw: str, j: int, version: str) -> str:
            return c.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet=remote_subnet(4000 + j), effect_immediately=True,
                ike_config=json.dumps({"IkeVersion": version}))).body.vpn_connection_id

        def delete_everywhere(vco: str) -> None:
            # Gone from the gateway and from the peer: with the old connection's pre-shared key
            # still loaded for the same addresses the peer would answer the next one with it.
            c.delete_vpn_connection(m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
            wait_until(f"{vco} unloaded", lab, lambda: sa_count(lab) == 0 and vco not in peer_conns(lab), poll=0.05)

        # 1. CreateVpnConnection -> ipsec_sa_established, one connection at a time, per IKE version.
        # One customer gateway per version, whose device (the lab's peer address) is up before the
        # measured connections are made, as a customer's would be: a first connection builds it.
        for k, version in enumerate(("ikev1", "ikev2") if args.single > 0 else ()):
            cgw = c.create_customer_gateway(m.CreateCustomerGatewayRequest(
                region_id=REGION, ip_address=peer_ip(60000 + k))).body.customer_gateway_id
            warm = connect(cgw, k * 1000, version)
            wait_until(f"{warm} up", lab, lambda: status(warm) == "ipsec_sa_established")
            delete_everywhere(warm)
            times = []
            for i in range(args.single):
                t0 = time.monotonic()
                vco = connect(cgw, k * 1000 + i + 1, version)
                while status(vco) != "ipsec_sa_established":
                    if time.monotonic() - t0 > 60:
                        sys.exit(f"{vco} not established after 60 s; see {lab['agent_log']}")
                    time.sleep(0.01)
                times.append(time.monotonic() - t0)
                if i + 1 < args.single:
                    delete_everywhere(vco)
            results[version] = summary(times)
            say(f"CreateVpnConnection -> ipsec_sa_established, {version}, one at a time: "
                f"{fmt(results[version])}; {load()}")

            # 2. A pre-shared key changed on the established connection: until the gateway's
            # charon holds a new IKE SA (renegotiated, with its IPsec SA) and the API says
            # ipsec_sa_established.
            if version == "ikev2" and args.psk_changes:
                times = []
                for i in range(args.psk_changes):
                    before, _ = ike_sa(lab, vco)
                    t0 = time.monotonic()
                    c.modify_vpn_connection_attribute(m.ModifyVpnConnectionAttributeRequest(
                        region_id=REGION, vpn_connection_id=vco,
                        ike_config=json.dumps({"Psk": f"bench-psk-{label}-{i}-{secrets.token_hex(4)}"})))

                    def renegotiated() -> bool:
                        sa, up = ike_sa(lab, vco)
                        return up and sa is not None and sa != before

                    wait_until(f"{vco} renegotiated", lab, renegotiated, timeout=30)
                    wait_until(f"{vco} measured", lab, lambda: status(vco) == "ipsec_sa_established", timeout=30)
                    times.append(time.monotonic() - t0)
                results["psk"] = summary(times)
                say(f"ModifyVpnConnectionAttribute (new Psk) -> renegotiated and ipsec_sa_established: "
                    f"{fmt(results['psk'])}")
            delete_everywhere(vco)

        # 3. Many connections on one agent.
        n = args.many
        if n <= 0:
            return results
        clients = [b.client() for _ in range(8)]

        def make(i: int) -> str:
            cl = clients[i % len(clients)]
            cgw = cl.create_customer_gateway(m.CreateCustomerGatewayRequest(region_id=REGION, ip_address=peer_ip(i))).body.customer_gateway_id
            return cl.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet=remote_subnet(i), effect_immediately=True)).body.vpn_connection_id

        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(8) as ex:
            ids = list(ex.map(make, range(n)))
        created = time.monotonic() - t0
        say(f"{n} customer gateways + connections created through the SDK in {created:.1f}s; {load()}")
        # From the last create on, the server's only writes are the agent's reports.
        counters = ("vpngw_agent_reports_total", "vpngw_store_write_jobs_total", "vpngw_store_group_commits_total")
        before = [metric(b.port, k) for k in counters]
        cpu0 = cpu_s(b.serve.pid)
        last_print = 0.0
        while True:
            st = statuses(c, gw)
            up = sum(1 for v in st.values() if v == "ipsec_sa_established")
            el = time.monotonic() - t0
            if el - last_print >= 5:
                say(f"  {el:6.1f}s: {up}/{n} ipsec_sa_established (charon: {sa_count(lab)} IKE SAs)")
                last_print = el
            if up == n:
                break
            if el > args.many_timeout:
                break
            time.sleep(0.2)
        converged = time.monotonic() - t0
        results["up"] = up
        reports, writes, commits = (metric(b.port, k) - v for k, v in zip(counters, before))
        cpu = cpu_s(b.serve.pid) - cpu0
        if up == n:
            results["all_up_after_last_create"] = converged - created
        results["created"] = created
        results["reports"] = {"reports": reports, "writes": writes, "commits": commits, "server_cpu_s": cpu}
        if up == n:
            say(f"all {n} ipsec_sa_established {converged:.1f}s after the first CreateVpnConnection "
                f"({converged - created:.1f}s after the last); {load()}")
        else:
            say(f"only {up}/{n} ipsec_sa_established {converged:.1f}s after the first CreateVpnConnection "
                f"(given up: --many-timeout {args.many_timeout} s); {load()}")
        say(f"meanwhile: {reports:.0f} agent reports, {writes:.0f} durable writes "
            f"= {writes / max(reports, 1):.2f} per report ({commits:.0f} group commits); server CPU {cpu:.2f} s "
            f"= {cpu / max(reports, 1) * 1000:.1f} ms per report (answering this script's polls included)")
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
        say(f"ping through connections #1, #{n // 2 + 1}, #{n}: {ok}/3 answered; "
            f"RSS: agent {rss_kb(agent_pid) // 1024} MiB, gateway charon {rss_kb(charon_pid) // 1024} MiB")

        t1 = time.monotonic()
        with cf.ThreadPoolExecutor(8) as ex:
            list(ex.map(lambda p: clients[p[0] % 8].delete_vpn_connection(
                m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=p[1])), enumerate(ids)))
        deleted = time.monotonic() - t1
        while sa_count(lab) > 0:
            if time.monotonic() - t1 > 600:
                sys.exit("SAs still up 600 s after deleting")
            time.sleep(0.1)
        results["no_sa_after_last_delete"] = time.monotonic() - t1 - deleted
        say(f"{n} connections deleted through the SDK in {deleted:.1f}s; gateway charon held no SA "
            f"{time.monotonic() - t1:.1f}s after the first delete "
            f"({results['no_sa_after_last_delete']:.1f}s after the last); {load()}")
        return results
    finally:
        b.down()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--single", type=int, default=20, help="connections one at a time, per IKE version")
    ap.add_argument("--psk-changes", type=int, default=10, help="pre-shared key changes measured")
    ap.add_argument("--many", type=int, default=1000)
    ap.add_argument("--many-timeout", type=float, default=900,
                    help="seconds after the first create to wait for all --many, then measure the rest anyway")
    ap.add_argument("--agent-interval-ms", type=int, default=None, help="agent --interval-ms (default: the binary's own)")
    ap.add_argument("--lab-sync-ms", type=int, default=500, help="how often the lab mirrors new connections on the peer "
                    "(a lab that can watch the gateway follows it at once)")
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    ap.add_argument("--baseline-bin", default=None, help="an older build, measured first in the same run")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    runs = [("before", Path(args.baseline_bin))] if args.baseline_bin else []
    runs.append(("after" if args.baseline_bin else "run", Path(args.bin)))
    results = {label: run(binary, args, label) for label, binary in runs}
    if len(results) == 2:
        before, after = results["before"], results["after"]
        print("\nbefore -> after (same run, same machine):")
        for key, what in (("ikev1", "ikev1 CreateVpnConnection -> ipsec_sa_established"),
                          ("ikev2", "ikev2 CreateVpnConnection -> ipsec_sa_established"),
                          ("psk", "new Psk -> renegotiated and ipsec_sa_established")):
            if key in before and key in after:
                print(f"  {what}: median {before[key]['median']:.0f} -> {after[key]['median']:.0f} ms, "
                      f"p99 {before[key]['p99']:.0f} -> {after[key]['p99']:.0f} ms")
        if "reports" in before and "reports" in after:
            per = [r["reports"]["writes"] / max(r["reports"]["reports"], 1) for r in (before, after)]
            print(f"  durable writes per agent report while {args.many} came up: {per[0]:.2f} -> {per[1]:.2f}")
        for key, what in (("all_up_after_last_create", f"{args.many} connections all up after the last create"),
                          ("no_sa_after_last_delete", "no SA after the last delete")):
            if key in before and key in after:
                print(f"  {what}: {before[key]:.1f} -> {after[key]:.1f} s")
        if "up" in before and "up" in after:
            print(f"  established of {args.many}: {before['up']} -> {after['up']}")


if __name__ == "__main__":
    main()
