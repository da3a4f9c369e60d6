#!/usr/bin/env python3
"""Failover convergence benchmark (not a test): a dual-tunnel connection loses its master tunnel's link.

    flock /work/netns.lock nice -n 19 .venv/bin/python bench/bgp_failover.py [--rounds 5] [--bin target/release/vpngw]

Per round, on one gateway and one `vpngw lab` (one namespace, charon and BIRD per customer gateway):
a dual-tunnel connection, pings from the gateway's namespace every 50 ms to the peer's network, then the
master's link is cut (the peer's veth set down) and, once the slave carries the traffic, restored. The
round checks that the master carried the pings before the cut and the slave after it (the gateway's SA
counters), and counts the traffic as moved at the first answer of the run of answers that lasts until the
pings stop (12 s after the cut; a round whose answers do not come back steadily fails). Two kinds
of connection, alternated (as root):

- baseline: the same dual tunnel without BGP (traffic moves when DPD clears the master's SAs);
- BGP: `EnableTunnelsBgp`, both peers announcing the RemoteSubnet: from the cut until pings are answered
  again through the slave, and until the master's `BgpStatus` is false (DescribeVpnConnection; the routes
  it learned go with it, and the slave's stay listed: the API lists a learned route per connection, not
  per tunnel).

The agent runs with the e2e tests' DPD settings (`--dpd-delay-s 2 --dpd-timeout-s 6 --retransmit fast`),
so the bound the issue names is DPD timeout + 1 s = 7 s. Prints medians and the ratio to the baseline
measured in the same run, and the load average (the machine may be shared); BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alibabacloud_vpc20160428 import models as m

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dataplane import REGION, ROOT, Server, peer_ip  # noqa: E402

DPD_ARGS = ["--dpd-delay-s", "2", "--dpd-timeout-s", "6", "--retransmit", "fast", "--reconcile-ms", "300"]
# How long the pings run after the cut (the DPD timeout, 6 s, and room), and the longest silence that
# still counts as answered steadily (pings every 50 ms, each waited for 1 s).
WINDOW_S = 12.0
GAP_S = 0.5


def wait(what: str, check, timeout: float = 60.0) -> float:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            sys.exit(f"{what}: not after {timeout:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {xs[0] * 1000:.0f}, max {xs[-1] * 1000:.0f})"


def gw_swanctl(lab: dict, *args: str) -> str:
    return subprocess.run(["ip", "netns", "exec", lab["gateway_ns"], "swanctl", *args, "--uri", f"unix://{lab['vici']}"],
                          capture_output=True, text=True, timeout=10).stdout


def packets_out(lab: dict, tunnel: str) -> int:
    """Packets the gateway sent through the data child SAs of one tunnel (its IKE SA is named after
    it); the `<tunnel>-bgp` child carries the BGP session's own packets, which are not traffic."""
    out = gw_swanctl(lab, "--list-sas", "--ike", tunnel, "--raw")
    children = re.findall(r"name=(\S+) uniqueid=\d+ .*?packets-out=(\d+)", out)
    return sum(int(n) for name, n in children if not name.endswith("-bgp"))


def carrier(lab: dict, tunnels: list[str], src: str, dst: str) -> str | None:
    """The tunnel whose SAs three pings from `src` to `dst` leave by (None: no answer, or no single one)."""
    before = {t: packets_out(lab, t) for t in tunnels}
    ok = subprocess.run(["ip", "netns", "exec", lab["gateway_ns"], "ping", "-n", "-q", "-c", "3", "-i", "0.2",
                         "-W", "1", "-I", src, dst], capture_output=True, timeout=30).returncode == 0
    grew = [t for t in tunnels if packets_out(lab, t) - before[t] >= 3]
    return grew[0] if ok and len(grew) == 1 else None


def recovery(answered: list[float], t_cut: float, t_end: float) -> float | None:
    """Seconds from the cut to the first answer of the run that lasts until the pings stop (answers
    at most GAP_S apart, the last within GAP_S of the end), or None if the answers did not come back
    steadily. Answers already in flight at the cut do not count: they end before the gap."""
    if not answered or t_end - answered[-1] > GAP_S:
        return None
    start = len(answered) - 1
    while start > 0 and answered[start] - answered[start - 1] <= GAP_S:
        start -= 1
    if answered[start] <= t_cut:
        return None  # no gap at all: the cut link was not carrying the traffic
    return answered[start] - t_cut


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-failover-"))
    b = Server(Path(args.bin), work)
    c = b.client()
    try:
        gw = c.create_vpn_gateway(m.CreateVpnGatewayRequest(
            region_id=REGION, vpc_id="vpc-bench0000000000000", bandwidth=10, v_switch_id="vsw-primary",
            disaster_recovery_vswitch_id="vsw-standby")).body.vpn_gateway_id
        wait("gateway active", lambda: c.describe_vpn_gateway(
            m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status == "active")
        lab = b.lab(gw, 60000, 50, shared=False, agent_args=DPD_ARGS)
        print(f"lab up: gateway {gw}, one peer namespace per customer gateway")

        def peers() -> list[dict]:
            return json.loads(Path(lab["state_path"]).read_text())["peers"]

        def peer_of(ip: str) -> dict:
            found: list[dict] = []
            wait(f"the lab's peer for {ip}", lambda: found.extend(p for p in peers() if ip in p["addrs"]) or found)
            return found[0]

        def tunnels(vco: str) -> dict[str, dict]:
            body = c.describe_vpn_connection(m.DescribeVpnConnectionRequest(
                region_id=REGION, vpn_connection_id=vco)).body.to_map()
            return {t["Role"]: t for t in body["TunnelOptionsSpecification"]["TunnelOptions"]}

        def learned(vco: str, remote: str) -> bool:
            got = c.describe_vpn_route_entries(m.DescribeVpnRouteEntriesRequest(
                region_id=REGION, vpn_gateway_id=gw, route_entry_type="bgp", page_size=50)).body.to_map()
            return any(r["RouteDest"] == remote and r["NextHop"] == vco for r in got["VpnRouteEntries"]["VpnRouteEntry"])

        results: dict[str, list[float]] = {"base": [], "bgp": [], "status": []}
        for i in range(args.rounds * 2):
            with_bgp = i % 2 == 1
            ips = [peer_ip(63000 + 2 * i), peer_ip(63001 + 2 * i)]
            cgws = [c.create_customer_gateway(m.CreateCustomerGatewayRequest(
                region_id=REGION, ip_address=ip, asn="65001")).body.customer_gateway_id for ip in ips]
            Spec = m.CreateVpnConnectionRequestTunnelOptionsSpecification
            Bgp = m.CreateVpnConnectionRequestTunnelOptionsSpecificationTunnelBgpConfig
            specs = [Spec(role=role, customer_gateway_id=cgw, tunnel_bgp_config=Bgp(
                local_asn=65010, tunnel_cidr=f"169.254.{100 + 2 * i + k}.0/30",
                local_bgp_ip=f"169.254.{100 + 2 * i + k}.1") if with_bgp else None)
                for k, (role, cgw) in enumerate((("master", cgws[0]), ("slave", cgws[1])))]
            local, remote = f"10.{50 + i}.0.0/24", f"192.168.{150 + i}.0/24"
            vco = c.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, local_subnet=local, remote_subnet=remote,
                enable_tunnels_bgp=with_bgp, auto_config_route=False, effect_immediately=True,
                tunnel_options_specification=specs)).body.vpn_connection_id
            wait("both tunnels up", lambda: all(t["Status"] == "ipsec_sa_established" for t in tunnels(vco).values()))
            if with_bgp:
                wait("both sessions up", lambda: all(
                    t["TunnelBgpConfig"]["BgpStatus"] == "true" for t in tunnels(vco).values()))
                wait("the route learned", lambda: learned(vco, remote))
            src, dst = local.replace("0/24", "1"), remote.replace("0/24", "1")
            master, slave = (tunnels(vco)[r]["TunnelId"] for r in ("master", "slave"))
            wait("the master carrying the traffic", lambda: carrier(lab, [master, slave], src, dst) == master)
            ping = subprocess.Popen(
                ["ip", "netns", "exec", lab["gateway_ns"], "ping", "-n", "-D", "-i", "0.05", "-W", "1",
                 "-I", src, dst], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            time.sleep(1.0)
            peer = peer_of(ips[0])
            t_cut = time.time()
            subprocess.run(["ip", "-n", peer["ns"], "link", "set", peer["link_dev"], "down"], check=True)
            t0 = time.monotonic()
            status = None
            if with_bgp:
                status = wait("the master's BgpStatus false",
                              lambda: tunnels(vco)["master"]["TunnelBgpConfig"]["BgpStatus"] == "false", 30)
                if not learned(vco, remote):
                    sys.exit(f"round {i + 1}: the slave's learned route is not listed")
            time.sleep(max(0.0, WINDOW_S - (time.monotonic() - t0)))
            t_end = time.time()
            ping.terminate()
            out, _ = ping.communicate(timeout=10)
            answered = [float(x) for x in re.findall(r"^\[(\d+\.\d+)\] \d+ bytes from", out, re.M)]
            moved = recovery(answered, t_cut, t_end)
            if moved is None:
                sys.exit(f"round {i + 1}: traffic not answered steadily again within {WINDOW_S:.0f} s of the cut "
                         f"({len([t for t in answered if t > t_cut])} answers after it); see {lab['agent_log']}")
            now = carrier(lab, [master, slave], src, dst)
            if now != slave:
                sys.exit(f"round {i + 1}: after the cut the traffic leaves by {now}, not the slave {slave}")
            results["bgp" if with_bgp else "base"].append(moved)
            if with_bgp:
                results["status"].append(status)
            print(f"  round {i + 1} ({'BGP' if with_bgp else 'no BGP'}): traffic through the slave "
                  f"{moved * 1000:.0f} ms after the cut"
                  + (f", master BgpStatus false after {status * 1000:.0f} ms" if with_bgp else "")
                  + f" (load {os.getloadavg()[0]:.1f})", flush=True)
            subprocess.run(["ip", "-n", peer["ns"], "link", "set", peer["link_dev"], "up"], check=True)
            c.delete_vpn_connection(m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=vco))
            wait("gateway active", lambda: c.describe_vpn_gateway(
                m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status == "active")
        base = statistics.median(results["base"])
        print(f"link cut -> traffic through the slave, no BGP (baseline): {ms(results['base'])}")
        print(f"link cut -> traffic through the slave, BGP:               {ms(results['bgp'])}; "
              f"ratio to the baseline median {statistics.median(results['bgp']) / base:.2f}")
        print(f"link cut -> master BgpStatus false:                       {ms(results['status'])}; "
              f"ratio {statistics.median(results['status']) / base:.2f}")
        bound = 7.0  # DPD timeout + 1 s
        within = sum(1 for t in results["base"] + results["bgp"] if t <= bound)
        print(f"rounds with traffic through the slave within DPD timeout + 1 s ({bound:.0f} s): "
              f"{within} of {len(results['base']) + len(results['bgp'])}")
        print(f"(load average at the end: {os.getloadavg()[0]:.1f})")
    except SystemExit:
        if "lab" in locals():
            for key in ("agent_log", "lab_log"):
                if Path(lab[key]).exists():
                    print(f"--- {lab[key]}:\n" + "\n".join(Path(lab[key]).read_text().splitlines()[-25:]))
        raise
    finally:
        b.down()


if __name__ == "__main__":
    main()
