#!/usr/bin/env python3
"""BGP benchmark (not a test): real strongSwan tunnels and BIRD sessions made through the official SDK.

    flock /work/netns.lock nice -n 19 .venv/bin/python bench/bgp.py [--rounds 5] [--agent-interval-ms 250] [--prefixes 1000] [--bin target/release/vpngw]

1. `--rounds` single-tunnel connections with BgpConfig, one after another (each on a new gateway and lab): the time from
   CreateVpnConnection to DescribeVpnConnection saying `ipsec_sa_established` (the baseline, same
   run, same connection), to `VpnBgpConfig.Status` true, and to the peer's prefix listed as a
   learned route (DescribeVpnRouteEntries, RouteEntryType bgp);
2. on the last connection: PublishVpnRouteEntry of a destination route through another
   connection until the peer's BIRD learns it, and its withdrawal until the peer drops it;
3. `--prefixes` learned prefixes (1,000 by default; 0 skips): one more BGP connection (RemoteSubnet
   172.16.0.0/12) whose peer then announces N /24s inside it (written into the peer BIRD's static
   protocol, `birdc configure`): the time until DescribeVpnRouteEntries lists them all, against the
   same run's baseline of one more prefix announced the same way, and the agent's and the gateway
   BIRD's RSS before and after.

Runs `vpngw serve` and `vpngw lab --shared-peer` as bench/dataplane.py does (one customer-gateway
namespace, one charon and one BIRD for every peer). Needs root and the `dataplane` packages of
scripts/packages.txt. Prints the numbers; BENCHMARKS.md records them.
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


def wait(what: str, check, timeout: float = 60.0, fatal: bool = True) -> float | None:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            if fatal:
                sys.exit(f"{what}: not after {timeout:.0f} s")
            return None
        time.sleep(0.01)
    return time.monotonic() - t0


def peer_learned(lab: dict) -> set[str]:
    """What the (shared) peer's BIRD learned over BGP."""
    sock = json.loads(Path(lab["state_path"]).read_text())["peers"][0]["bird_socket"]
    out = subprocess.run(["birdc", "-s", sock, "show", "route"], capture_output=True, text=True).stdout
    return set(re.findall(r"^(\d+\.\d+\.\d+\.\d+/\d+)\s+\w+ \[t_", out, re.M))


def peer_announce(lab: dict, prefixes: list[str]) -> None:
    """Makes the (shared) peer's BIRD announce `prefixes` besides what the lab gives it: written into
    the static protocol of its bird.conf and reloaded. The lab rewrites the file only when what it
    wants changes (BgpSpeaker::apply), so this holds while no connection changes."""
    peer = json.loads(Path(lab["state_path"]).read_text())["peers"][0]
    sock = peer["bird_socket"]
    conf = Path(sock).with_name("bird.conf")
    text = conf.read_text()
    head, sep, rest = text.partition("protocol static vpngw_advertised {\n  ipv4;\n")
    if not sep:
        sys.exit(f"{conf}: no static protocol vpngw_advertised")
    rest = "".join(line + "\n" for line in rest.splitlines() if not line.endswith("blackhole; # bench"))
    extra = "".join(f"  route {p} blackhole; # bench\n" for p in prefixes)
    conf.write_text(head + sep + extra + rest)
    out = subprocess.run(["birdc", "-s", sock, "configure", f'"{conf}"'], capture_output=True, text=True).stdout
    if "Reconfigured" not in out and "Reconfiguration in progress" not in out:
        sys.exit(f"birdc configure: {out}")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {xs[0] * 1000:.0f}, max {xs[-1] * 1000:.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--agent-interval-ms", type=int, default=250)
    ap.add_argument("--lab-sync-ms", type=int, default=100)
    ap.add_argument("--prefixes", type=int, default=1000, help="learned prefixes for step 3 (0: skip it; at most 4000)")
    ap.add_argument("--prefix-rounds", type=int, default=3, help="step 3's repetitions (baseline and N each)")
    ap.add_argument("--bin", default=str(ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "vpngw"))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces)")
    work = Path(tempfile.mkdtemp(prefix="vpngw-bench-bgp-"))
    b = Server(Path(args.bin), work)
    c = b.client()
    try:
        def new_gateway() -> str:
            gw = c.create_vpn_gateway(m.CreateVpnGatewayRequest(region_id=REGION, vpc_id="vpc-bench0000000000000",
                                                                bandwidth=10)).body.vpn_gateway_id
            wait("gateway active", lambda: c.describe_vpn_gateway(
                m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status == "active")
            return gw

        gw = new_gateway()
        lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms)
        print(f"lab up: gateway {gw}, agent interval {args.agent_interval_ms} ms, lab sync {args.lab_sync_ms} ms")

        def conn(vco: str) -> dict:
            return c.describe_vpn_connection(m.DescribeVpnConnectionRequest(
                region_id=REGION, vpn_connection_id=vco)).body.to_map()

        def learned(remote: str) -> bool:
            got = c.describe_vpn_route_entries(m.DescribeVpnRouteEntriesRequest(
                region_id=REGION, vpn_gateway_id=gw, route_entry_type="bgp", page_size=50)).body.to_map()
            return any(r["RouteDest"] == remote for r in got["VpnRouteEntries"]["VpnRouteEntry"])

        ipsec, bgp, routes, ratios = [], [], [], []
        failed = 0
        for i in range(args.rounds):
            cgw = c.create_customer_gateway(m.CreateCustomerGatewayRequest(
                region_id=REGION, ip_address=peer_ip(61000 + i), asn="65001")).body.customer_gateway_id
            remote = f"192.168.{100 + i}.0/24"
            bgp_config = json.dumps({"EnableBgp": True, "LocalAsn": 65010, "TunnelCidr": f"169.254.{40 + i}.0/30",
                                     "LocalBgpIp": f"169.254.{40 + i}.1"})
            vco = c.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet=remote, effect_immediately=True, auto_config_route=False,
                bgp_config=bgp_config)).body.vpn_connection_id
            t_ipsec = wait("ipsec_sa_established", lambda: conn(vco)["Status"] == "ipsec_sa_established")
            up = wait("BgpStatus true", lambda: conn(vco)["VpnBgpConfig"]["Status"] == "true", 30, fatal=False)
            ipsec.append(t_ipsec)
            if up is None:
                why = [x for x in conn(vco)["VpnBgpConfig"].items()]
                print(f"  round {i + 1}: the session did not come up within 30 s ({why}); see {lab['agent_log']}")
                failed += 1
            else:
                t_bgp = t_ipsec + up
                t_route = t_bgp + wait("learned route listed", lambda: learned(remote))
                bgp.append(t_bgp), routes.append(t_route), ratios.append(t_bgp / t_ipsec)
            if i + 1 < args.rounds:
                # A new gateway and lab per round: every round measures a first session.
                gw = new_gateway()
                b.lab_down()
                lab = b.lab(gw, args.agent_interval_ms, args.lab_sync_ms)
        print(f"CreateVpnConnection -> ipsec_sa_established (baseline): {ms(ipsec)}")
        print(f"CreateVpnConnection -> BgpStatus true:                 {ms(bgp)}; "
              f"ratio to the baseline median {statistics.median(ratios):.2f}")
        print(f"CreateVpnConnection -> learned route listed:           {ms(routes)}")
        print(f"sessions that did not come up within 30 s: {failed} of {args.rounds}")

        # 2. A published route reaching the peer, and its withdrawal (needs the last session up).
        if up is None:
            sys.exit("the last round's session is down: no measurement of announcements")
        other_cgw = c.create_customer_gateway(m.CreateCustomerGatewayRequest(
            region_id=REGION, ip_address=peer_ip(62000))).body.customer_gateway_id
        other = c.create_vpn_connection(m.CreateVpnConnectionRequest(
            region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=other_cgw, local_subnet="10.0.0.0/24",
            remote_subnet="192.168.200.0/24", effect_immediately=True, auto_config_route=False)).body.vpn_connection_id
        c.create_vpn_route_entry(m.CreateVpnRouteEntryRequest(
            region_id=REGION, vpn_gateway_id=gw, route_dest="192.168.200.0/24", next_hop=other, weight=100,
            publish_vpc=False))
        announce, withdraw = [], []
        for _ in range(args.rounds):
            for on, times in ((True, announce), (False, withdraw)):
                wait("gateway active", lambda: c.describe_vpn_gateway(
                    m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status == "active")
                t0 = time.monotonic()
                c.publish_vpn_route_entry(m.PublishVpnRouteEntryRequest(
                    region_id=REGION, vpn_gateway_id=gw, route_dest="192.168.200.0/24", next_hop=other,
                    route_type="dbr", publish_vpc=on))
                wait("the peer following", lambda: ("192.168.200.0/24" in peer_learned(lab)) == on)
                times.append(time.monotonic() - t0)
        print(f"PublishVpnRouteEntry true -> the peer's BIRD learned it:  {ms(announce)}; "
              f"ratio to the ipsec baseline median {statistics.median(announce) / statistics.median(ipsec):.2f}")
        print(f"PublishVpnRouteEntry false -> the peer's BIRD dropped it: {ms(withdraw)}; "
              f"ratio to the ipsec baseline median {statistics.median(withdraw) / statistics.median(ipsec):.2f}")

        # 3. Many learned prefixes on one connection.
        if args.prefixes > 0:
            n = min(args.prefixes, 4000)
            # The shared peer's BIRD announces to all its sessions: only this step's connection is left.
            for old in (vco, other):
                c.delete_vpn_connection(m.DeleteVpnConnectionRequest(region_id=REGION, vpn_connection_id=old))
                wait("gateway active", lambda: c.describe_vpn_gateway(
                    m.DescribeVpnGatewayRequest(region_id=REGION, vpn_gateway_id=gw)).body.status == "active")
            cgw = c.create_customer_gateway(m.CreateCustomerGatewayRequest(
                region_id=REGION, ip_address=peer_ip(62001), asn="65001")).body.customer_gateway_id
            many = c.create_vpn_connection(m.CreateVpnConnectionRequest(
                region_id=REGION, vpn_gateway_id=gw, customer_gateway_id=cgw, local_subnet="10.0.0.0/24",
                remote_subnet="172.16.0.0/12", effect_immediately=True, auto_config_route=False,
                bgp_config=json.dumps({"EnableBgp": True, "LocalAsn": 65010, "TunnelCidr": "169.254.90.0/30",
                                       "LocalBgpIp": "169.254.90.1"}))).body.vpn_connection_id
            wait("BgpStatus true (step 3)", lambda: conn(many)["VpnBgpConfig"]["Status"] == "true", 60)
            wait("172.16.0.0/12 listed", lambda: learned("172.16.0.0/12"))

            def listed() -> int:
                return c.describe_vpn_route_entries(m.DescribeVpnRouteEntriesRequest(
                    region_id=REGION, vpn_gateway_id=gw, route_entry_type="bgp", page_size=1)).body.total_count

            st = json.loads(Path(lab["state_path"]).read_text())
            agent_pid = st["agent_pid"]
            gw_bird = Path(st["agent_log"]).parent / "gw" / "bird.pid"
            bird_pid = int(gw_bird.read_text().split()[0]) if gw_bird.exists() else None

            def rss() -> str:
                bird = f", gateway BIRD {rss_mib(bird_pid):.1f} MiB" if bird_pid else ""
                return f"agent {rss_mib(agent_pid):.1f} MiB{bird}"

            time.sleep(3)
            base_count, rss_before = listed(), rss()
            one, all_ = [], []
            big = [f"172.{16 + k // 256}.{k % 256}.0/24" for k in range(n)]
            for _ in range(max(1, args.prefix_rounds)):
                for prefixes, times in ((["172.31.255.0/24"], one), (big, all_)):
                    t0 = time.monotonic()
                    peer_announce(lab, prefixes)
                    wait(f"{len(prefixes)} more listed", lambda: listed() >= base_count + len(prefixes), 120)
                    times.append(time.monotonic() - t0)
                    if prefixes is big:
                        rss_after = rss()
                    peer_announce(lab, [])
                    wait("back to the start", lambda: listed() == base_count, 120)
            print(f"one more prefix announced -> listed (baseline):     {ms(one)}")
            print(f"{n} more prefixes announced -> all listed:         {ms(all_)}; "
                  f"ratio to the baseline median {statistics.median(all_) / statistics.median(one):.2f}")
            print(f"RSS with {base_count} learned routes: {rss_before}; with {base_count + n}: {rss_after}")
        print(f"(load average at the end: {os.getloadavg()[0]:.1f})")
    except SystemExit:
        for key in ("agent_log", "lab_log"):
            if "lab" in locals() and Path(lab[key]).exists():
                print(f"--- {lab[key]}:\n" + "\n".join(Path(lab[key]).read_text().splitlines()[-25:]))
        if "lab" in locals():
            sock = json.loads(Path(lab["state_path"]).read_text())["peers"][0]["bird_socket"]
            print(subprocess.run(["birdc", "-s", sock, "show", "protocols", "all"],
                                 capture_output=True, text=True).stdout[-3000:])
        raise
    finally:
        b.down()


if __name__ == "__main__":
    main()
