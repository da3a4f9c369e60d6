#!/usr/bin/env python3
"""BGP benchmark (not a test): real strongSwan tunnels and BIRD sessions made through the official SDK.

    sudo .venv/bin/python bench/bgp.py [--rounds 5] [--agent-interval-ms 250] [--bin target/release/vpngw]

1. `--rounds` single-tunnel connections with BgpConfig, one after another (each on a new gateway and lab): the time from
   CreateVpnConnection to DescribeVpnConnection saying `ipsec_sa_established` (the baseline, same
   run, same connection), to `VpnBgpConfig.Status` true, and to the peer's prefix listed as a
   learned route (DescribeVpnRouteEntries, RouteEntryType bgp);
2. on the last connection: PublishVpnRouteEntry of a destination route through another
   connection until the peer's BIRD learns it, and its withdrawal until the peer drops it.

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


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.0f} ms (min {xs[0] * 1000:.0f}, max {xs[-1] * 1000:.0f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--agent-interval-ms", type=int, default=250)
    ap.add_argument("--lab-sync-ms", type=int, default=100)
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
