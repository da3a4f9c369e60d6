#!/usr/bin/env bash
# The measurements behind docs/dataplane-routing.md: how kernel-libipsec picks
# an SA when several tunnels could carry a packet, how fast a dual tunnel fails
# over, whether fwmark keeps charon's own packets out of a 0.0.0.0/0 selector,
# and BIRD 2 against FRR as a BGP speaker through the tunnels (TCP-MD5,
# session set-up, 1,000 prefixes, memory).
#
#   sudo flock -o /work/netns.lock bench/dataplane_routing_probe.sh [selectors|failover|fwmark|bird|frr|all]
#
# Root only; builds three network namespaces (${PREFIX}gw, ${PREFIX}p1,
# ${PREFIX}p2) joined by veths, runs charon (kernel-libipsec) in each and, for
# bird/frr, a BGP daemon, and deletes everything when it exits. Nothing leaves
# the namespaces. Environment: PREFIX (namespace prefix, default rtprobe-),
# VER (IKE version, default 2), N (prefixes for bird/frr, default 1000).
set -euo pipefail
PREFIX=${PREFIX:-rtprobe-}
VER=${VER:-2}
N=${N:-1000}
DIR=$(mktemp -d /tmp/rtprobe.XXXXXX)
GW=${PREFIX}gw

down() {
    for n in gw p1 p2; do
        for p in $(ip netns pids "${PREFIX}$n" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
    done
    sleep 0.3
    for n in gw p1 p2; do
        for p in $(ip netns pids "${PREFIX}$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
        ip netns del "${PREFIX}$n" 2>/dev/null || true
    done
}
trap 'down; rm -rf "$DIR"' EXIT
ms() { echo $(( ($2 - $1) / 1000000 )); }
now() { date +%s%N; }

# gw: lo 198.18.255.1, .2 (public), 10.0.0.1 (inside), 169.254.10.1, 169.254.20.1 (BGP)
# p<i>: lo 198.18.<i>.2 (public), 192.168.50.1 (inside), 169.254.<i>0.2 (BGP)
topology() {
    down
    for n in gw p1 p2; do ip netns add "${PREFIX}$n"; ip -n "${PREFIX}$n" link set lo up; done
    for a in 198.18.255.1 198.18.255.2 10.0.0.1 169.254.10.1 169.254.20.1; do ip -n "$GW" addr add "$a/32" dev lo; done
    for i in 1 2; do
        ip link add "p$i" netns "$GW" type veth peer name gw netns "${PREFIX}p$i"
        ip -n "$GW" link set "p$i" up; ip -n "${PREFIX}p$i" link set gw up
        for a in "198.18.$i.2" 192.168.50.1 "169.254.${i}0.2"; do ip -n "${PREFIX}p$i" addr add "$a/32" dev lo; done
        ip -n "$GW" route add "198.18.$i.2/32" dev "p$i"
        ip -n "${PREFIX}p$i" route add 198.18.255.0/24 dev gw
    done
}

# strongswan.conf for node $1 (extra plugin settings in $2)
charon_conf() {
    mkdir -p "$DIR/$1"
    cat >"$DIR/$1/strongswan.conf" <<EOF
charon {
  load = random nonce openssl pem pkcs1 x509 pubkey revocation constraints kdf hmac sha1 sha2 aes gmp kernel-libipsec! kernel-netlink socket-default vici! updown
  install_routes = yes
  retransmit_timeout = 1
  retransmit_base = 1
  retransmit_tries = 2
  filelog { f { path = $DIR/$1/charon.log
    default = 1
    ike_name = yes } }
  syslog { daemon { default = -1 } }
  plugins { vici { socket = unix://$DIR/$1/charon.vici }
    ${2:-} }
}
EOF
}
start_charon() {
    STRONGSWAN_CONF="$DIR/$1/strongswan.conf" ip netns exec "${PREFIX}$1" \
        sh -c 'mount -t tmpfs tmpfs /run && exec /usr/lib/ipsec/charon' >"$DIR/$1/out" 2>&1 &
    for _ in $(seq 200); do [ -S "$DIR/$1/charon.vici" ] && return; sleep 0.02; done
    echo "charon in $1 did not start" >&2; exit 1
}
sw() {
    local n=$1; shift
    STRONGSWAN_CONF="$DIR/$n/strongswan.conf" ip netns exec "${PREFIX}$n" swanctl "$@" --uri "unix://$DIR/$n/charon.vici" 2>/dev/null
}

# swanctl.conf: gw has t1 (-> p1) and t2 (-> p2), each with a BGP child
# (169.254.<i>0.1/32 === .2/32) and a data child (10.0.0.0/24 === 192.168.50.0/24);
# the peers mirror them, or accept anything with PEER_TS=any.
swanctl_conf() {
    python3 - "$1" "$VER" 192.168.50.0/24 "${PEER_TS:-exact}" <<'PY'
import sys
role, ver, remote_ts, peer_ts = sys.argv[1:]
def conn(name, la, ra, children):
    ch = "".join(f"   {n} {{ local_ts = {l}\n    remote_ts = {r}\n    esp_proposals = aes128-sha256\n    dpd_action = clear\n    {'start_action = start' if s else ''} }}\n" for n, l, r, s in children)
    mobike = "mobike = no" if ver == "2" else ""
    return (f" {name} {{ version = {ver}\n  local_addrs = {la}\n  remote_addrs = {ra}\n  proposals = aes128-sha256-modp2048\n"
            f"  encap = yes\n  {mobike}\n  dpd_delay = 2s\n  dpd_timeout = 6s\n  local {{ auth = psk\n   id = {la} }}\n"
            f"  remote {{ auth = psk\n   id = {ra} }}\n  children {{\n{ch}  }}\n }}\n")
def secret(a, b, k):
    return f" ike-{k} {{ id-1 = {a}\n  id-2 = {b}\n  secret = {k} }}\n"
conns, secrets = "", ""
if role == "gw":
    for i in (1, 2):
        conns += conn(f"t{i}", f"198.18.255.{i}", f"198.18.{i}.2", [
            (f"t{i}-bgp", f"169.254.{i}0.1/32", f"169.254.{i}0.2/32", True),
            (f"t{i}-net", "10.0.0.0/24", remote_ts, True)])
        secrets += secret(f"198.18.255.{i}", f"198.18.{i}.2", f"k{i}")
else:
    i = int(role[1])
    children = [("any", "0.0.0.0/0", "0.0.0.0/0", False)] if peer_ts == "any" else [
        ("bgp", f"169.254.{i}0.2/32", f"169.254.{i}0.1/32", False), ("net", "192.168.50.0/24", "10.0.0.0/24", False)]
    conns += conn(f"t{i}", f"198.18.{i}.2", f"198.18.255.{i}", children)
    secrets += secret(f"198.18.{i}.2", f"198.18.255.{i}", f"k{i}")
print("connections {\n" + conns + "}\nsecrets {\n" + secrets + "}")
PY
}

# Brings up charon everywhere and the four gw children; prints the time.
ipsec_up() {
    topology
    for n in p1 p2; do charon_conf "$n"; done
    charon_conf gw "${GW_PLUGINS:-}"
    for n in p1 p2 gw; do start_charon "$n"; done
    for n in p1 p2; do
        swanctl_conf "$n" >"$DIR/$n/swanctl.conf"
        sw "$n" --load-all --file "$DIR/$n/swanctl.conf" >/dev/null
    done
    swanctl_conf gw >"$DIR/gw/swanctl.conf"
    local t0 c=0
    t0=$(now)
    sw gw --load-all --file "$DIR/gw/swanctl.conf" >/dev/null
    for _ in $(seq 300); do
        c=$(sw gw --list-sas | grep -c INSTALLED || true); [ "$c" -ge 4 ] && break; sleep 0.02
    done
    echo "IKEv$VER: $c child SAs installed $(ms "$t0" "$(now)") ms after loading the gateway's configuration"
}

# Packets sent per data child ("t1-net=5 t2-net=0 ...").
data_counters() {
    sw gw --list-sas --raw | python3 -c '
import re, sys
for m in re.finditer(r"name=(t\d-net) uniqueid=(\d+) reqid=(\d+) state=(\S+).*?packets-out=(\d+)", sys.stdin.read()):
    print(f"{m[1]}(uniqueid {m[2]}, reqid {m[3]})={m[5]}", end=" ")
print()'
}
gw_ping() { ip netns exec "$GW" ping -n -q -c "${1:-5}" -i 0.05 -W 1 -I 10.0.0.1 192.168.50.1 | grep -o '[0-9]* received' || true; }

selectors() {
    echo "== identical selectors on two tunnels (IKEv$VER)"
    ipsec_up
    gw_ping 5; data_counters
    local carrying other t0
    carrying=$(sw gw --list-sas --raw | grep -o 'name=t.-net [^}]*packets-out=[1-9]' | grep -o 't.-net' | head -1)
    other=$([ "$carrying" = t1-net ] && echo t2-net || echo t1-net)
    echo "-> both data children share a reqid; the newest SA ($carrying) carries the traffic. Rekeying $other:"
    t0=$(now); sw gw --rekey --child "$other" >/dev/null
    echo "   rekey returned after $(ms "$t0" "$(now)") ms"
    sleep 0.3; gw_ping 5; data_counters
}

failover() {
    echo "== dual tunnel failover on a link cut (IKEv$VER, dpd_delay 2 s, dpd_timeout 6 s, retransmits 1 s x2)"
    ipsec_up
    local carrying i tcut
    gw_ping 3 >/dev/null
    carrying=$(sw gw --list-sas --raw | grep -o 'name=t.-net [^}]*packets-out=[1-9]' | grep -o 't.-net' | head -1)
    i=${carrying:1:1}
    ip netns exec "$GW" ping -n -D -i 0.05 -W 1 -I 10.0.0.1 192.168.50.1 >"$DIR/ping.log" 2>&1 &
    local pp=$!
    sleep 1
    tcut=$(date +%s.%N)
    ip -n "${PREFIX}p$i" link set gw down
    sleep 10
    kill "$pp"
    python3 - "$tcut" "$DIR/ping.log" "$carrying" <<'PY'
import re, sys
tcut, path, tunnel = float(sys.argv[1]), sys.argv[2], sys.argv[3]
ts = [float(m.group(1)) for m in re.finditer(r"\[(\d+\.\d+)\] .*icmp_seq", open(path).read())]
gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a > 0.2 and b > tcut]
for a, b in gaps:
    print(f"   {tunnel}'s link cut: no answers for {b - a:.2f} s, answered again {b - tcut:.2f} s after the cut")
print(f"   answers after the cut: {sum(1 for t in ts if t > tcut)}")
PY
    data_counters
}

fwmark() {
    echo "== a 0.0.0.0/0 selector on t1 next to t2 (policy-based), without fwmark"
    ipsec_up_mixed
    echo "== the same with kernel-netlink.fwmark = !0x4d, socket-default.fwmark = 0x4d, kernel-libipsec.allow_peer_ts = yes"
    GW_PLUGINS="kernel-netlink { fwmark = !0x4d } socket-default { fwmark = 0x4d } kernel-libipsec { allow_peer_ts = yes }" \
        ipsec_up_mixed
}
ipsec_up_mixed() {
    topology
    for n in p1 p2; do charon_conf "$n"; done
    charon_conf gw "${GW_PLUGINS:-}"
    for n in p1 p2 gw; do start_charon "$n"; done
    PEER_TS=any swanctl_conf p1 >"$DIR/p1/swanctl.conf"; sw p1 --load-all --file "$DIR/p1/swanctl.conf" >/dev/null
    swanctl_conf p2 >"$DIR/p2/swanctl.conf"; sw p2 --load-all --file "$DIR/p2/swanctl.conf" >/dev/null
    swanctl_conf gw | python3 -c '
import sys; s = sys.stdin.read(); i = s.index("t1-net"); j = s.index("192.168.50.0/24", i)
print(s[:j] + "0.0.0.0/0" + s[j + 15:])' >"$DIR/gw/swanctl.conf"
    sw gw --load-all --file "$DIR/gw/swanctl.conf" >/dev/null
    sleep 12
    echo "   after 12 s: $(sw gw --list-sas | grep -c INSTALLED) of 4 child SAs installed; table 220: $(ip -n "$GW" route show table 220 | tr '\n' ';')"
}

bird_conf() { # node, router id, local as, bgp sessions (name local peer peer_as key)...
    local node=$1 id=$2 as=$3; shift 3
    {
        echo "router id $id;"
        echo "log \"$DIR/$node/bird.log\" all;"
        echo "protocol device { scan time 10; }"
        echo "protocol static mine { ipv4; ${STATIC:-} }"
        while [ $# -gt 0 ]; do
            echo "protocol bgp $1 { local $2 as $as; neighbor $3 as $4; multihop 2; password \"$5\";"
            echo "  hold time 9; keepalive time 3; connect delay time 1; connect retry time 1; error wait time 1,4;"
            echo "  ipv4 { import all; export where proto = \"mine\"; }; }"
            shift 5
        done
    } >"$DIR/$node/bird.conf"
}
bird() {
    echo "== BIRD $(/usr/sbin/bird --version 2>&1 | awk '{print $3}') through the tunnels, TCP-MD5, $N prefixes from each peer (IKEv$VER)"
    local peer_routes t0 t1 e c
    peer_routes="route 192.168.50.0/24 blackhole; $(python3 -c "print(' '.join(f'route 172.{16 + i // 256}.{i % 256}.0/24 blackhole;' for i in range($N)))")"
    ipsec_up
    STATIC="route 10.0.0.0/24 blackhole;" bird_conf gw 169.254.10.1 45104 \
        t1 169.254.10.1 169.254.10.2 65001 key1 t2 169.254.20.1 169.254.20.2 65001 "${GW_KEY2:-key2}"
    STATIC=$peer_routes bird_conf p1 169.254.10.2 65001 vpngw 169.254.10.2 169.254.10.1 45104 key1
    STATIC=$peer_routes bird_conf p2 169.254.20.2 65001 vpngw 169.254.20.2 169.254.20.1 45104 key2
    for n in p1 p2 gw; do ip netns exec "${PREFIX}$n" /usr/sbin/bird -c "$DIR/$n/bird.conf" -s "$DIR/$n/bird.ctl" -P "$DIR/$n/bird.pid"; done
    for _ in $(seq 100); do [ -s "$DIR/gw/bird.pid" ] && break; sleep 0.02; done
    local rss0; rss0=$(ps -o rss= -p "$(cat "$DIR/gw/bird.pid")")
    t0=$(now)
    for _ in $(seq 300); do
        e=$(ip netns exec "$GW" birdc -s "$DIR/gw/bird.ctl" show protocols | grep -c Established || true); [ "$e" = 2 ] && break; sleep 0.01
    done
    t1=$(now); echo "   $e sessions Established $(ms "$t0" "$t1") ms after the daemons started (tunnels already up)"
    for _ in $(seq 300); do
        c=$(ip netns exec "$GW" birdc -s "$DIR/gw/bird.ctl" show route count | grep -o '^[0-9]* of' | head -1 | cut -d' ' -f1); [ "${c:-0}" -ge $((2 * N + 3)) ] && break; sleep 0.01
    done
    echo "   $c routes in the table $(ms "$t1" "$(now)") ms after that"
    t0=$(now); ip netns exec "$GW" birdc -s "$DIR/gw/bird.ctl" show route all protocol t2 >"$DIR/routes.txt"
    echo "   'show route all protocol t2': $(wc -l <"$DIR/routes.txt") lines in $(ms "$t0" "$(now)") ms"
    echo "   bird RSS: $rss0 kB before, $(ps -o rss= -p "$(cat "$DIR/gw/bird.pid")") kB after"
    echo "   TCP-MD5 counters in the gateway namespace: $(ip netns exec "$GW" nstat -az 2>/dev/null | awk '/TCPMD5/ {printf "%s=%s ", $1, $2}')"
}

frr() {
    echo "== FRR $(/usr/lib/frr/bgpd --version 2>&1 | head -1 | awk '{print $NF}') bgpd (no zebra) through the tunnels, TCP-MD5, $N prefixes from each peer (IKEv$VER)"
    ipsec_up
    frr_conf() { # node id as (peer local peer_as key)...
        local node=$1 id=$2 as=$3; shift 3
        {
            echo "log file $DIR/$node/frr.log"
            echo "router bgp $as"
            echo " bgp router-id $id"; echo " no bgp ebgp-requires-policy"; echo " no bgp network import-check"; echo " timers bgp 3 9"
            local nets=()
            while [ $# -gt 0 ]; do
                echo " neighbor $1 remote-as $3"; echo " neighbor $1 update-source $2"; echo " neighbor $1 ebgp-multihop 2"
                echo " neighbor $1 password $4"; echo " neighbor $1 timers connect 1"
                shift 4
            done
            echo " address-family ipv4 unicast"
            printf '%s\n' "${NETS[@]}"
            echo " exit-address-family"
        } >"$DIR/$node/bgpd.conf"
    }
    NETS=("  network 10.0.0.0/24") frr_conf gw 169.254.10.1 45104 169.254.10.2 169.254.10.1 65001 key1 169.254.20.2 169.254.20.1 65001 key2
    mapfile -t NETS < <(python3 -c "print('  network 192.168.50.0/24'); [print(f'  network 172.{16 + i // 256}.{i % 256}.0/24') for i in range($N)]")
    frr_conf p1 169.254.10.2 65001 169.254.10.1 169.254.10.2 45104 key1
    frr_conf p2 169.254.20.2 65001 169.254.20.1 169.254.20.2 45104 key2
    local t0 c n
    t0=$(now)
    for n in p1 p2 gw; do
        mkdir -p "$DIR/$n/vty"; chown frr:frr "$DIR/$n/vty"
        ip netns exec "${PREFIX}$n" /usr/lib/frr/bgpd -d -Z -S -f "$DIR/$n/bgpd.conf" -i "$DIR/$n/bgpd.pid" --vty_socket "$DIR/$n/vty" -P 0
    done
    for _ in $(seq 100); do [ -s "$DIR/gw/bgpd.pid" ] && break; sleep 0.02; done
    local rss0; rss0=$(ps -o rss= -p "$(cat "$DIR/gw/bgpd.pid")")
    for _ in $(seq 1000); do
        c=$(ip netns exec "$GW" vtysh --vty_socket "$DIR/gw/vty" -c 'show bgp summary json' 2>/dev/null |
            python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(p.get("pfxRcd", 0) for p in d["ipv4Unicast"]["peers"].values()))' 2>/dev/null || echo 0)
        [ "${c:-0}" -ge $((2 * N + 2)) ] && break; sleep 0.02
    done
    echo "   $c prefixes received $(ms "$t0" "$(now)") ms after the daemons started (tunnels already up)"
    t0=$(now); ip netns exec "$GW" vtysh --vty_socket "$DIR/gw/vty" -c 'show bgp ipv4 unicast json' >"$DIR/routes.json"
    echo "   'show bgp ipv4 unicast json': $(wc -c <"$DIR/routes.json") bytes in $(ms "$t0" "$(now)") ms"
    echo "   bgpd RSS: $rss0 kB before, $(ps -o rss= -p "$(cat "$DIR/gw/bgpd.pid")") kB after"
}

case "${1:-all}" in
    selectors) selectors ;;
    failover) failover ;;
    fwmark) fwmark ;;
    bird) bird ;;
    frr) frr ;;
    all)
        for v in 1 2; do VER=$v selectors; VER=$v failover; done
        fwmark
        bird
        GW_KEY2=not-the-peers-key N=10 bird
        frr
        ;;
    *) echo "usage: $0 [selectors|failover|fwmark|bird|frr|all]" >&2; exit 2 ;;
esac
