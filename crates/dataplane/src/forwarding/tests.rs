use std::net::Ipv4Addr;

use proptest::prelude::*;

use super::*;

fn net(s: &str) -> Ipv4Net {
    s.parse().expect("prefix")
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().expect("address")
}

fn sel(local: &str, remote: &str) -> Selector {
    Selector::new(net(local), net(remote))
}

fn tunnel(id: &str, connection: &str, rank: u8, selectors: &[Selector]) -> TunnelView {
    TunnelView {
        id: id.into(),
        connection: connection.into(),
        rank,
        up: true,
        selectors: selectors.to_vec(),
    }
}

fn conn(id: &str) -> ConnectionView {
    ConnectionView {
        id: id.into(),
        revoked: false,
        probe: None,
    }
}

fn dbr(dest: &str, next_hop: &str, weight: i64) -> StaticRoute {
    StaticRoute {
        table: RouteTable::Destination,
        dest: net(dest),
        next_hop: next_hop.into(),
        weight,
    }
}

fn pbr(source: &str, dest: &str, next_hop: &str, weight: i64, priority: i64) -> StaticRoute {
    StaticRoute {
        table: RouteTable::Policy {
            source: net(source),
            priority,
        },
        dest: net(dest),
        next_hop: next_hop.into(),
        weight,
    }
}

fn learned(tunnel: &str, prefix: &str) -> LearnedRoute {
    LearnedRoute {
        tunnel: tunnel.into(),
        prefix: net(prefix),
        as_path_len: 1,
    }
}

/// A dual-tunnel connection `vco-d` (master `tun-m`, slave `tun-s`) with
/// the same subnets on both tunnels.
fn dual(local: &str, remote: &str) -> RoutingInput {
    let s = sel(local, remote);
    RoutingInput {
        tunnels: vec![
            tunnel("tun-m", "vco-d", 0, &[s]),
            tunnel("tun-s", "vco-d", 1, &[s]),
        ],
        connections: vec![conn("vco-d")],
        ..RoutingInput::default()
    }
}

/// Every routed packet goes where the cloud's rules say.
fn assert_follows(input: &RoutingInput, fw: &Forwarding, points: &[(&str, &str)]) {
    for (src, dst) in points {
        let (src, dst) = (ip(src), ip(dst));
        let want = match decide(input, src, dst) {
            Some(Decision {
                target: Target::Tunnel(t),
                ..
            }) => Outcome::Tunnel(t),
            Some(Decision {
                target: Target::Blackhole,
                ..
            }) => Outcome::Blocked,
            None => continue,
        };
        assert_eq!(
            model_select(input, fw, src, dst),
            want,
            "{src} -> {dst}\n{fw:#?}"
        );
    }
}

#[test]
fn atoms_cut_prefixes_into_disjoint_pieces() {
    let set: BTreeSet<Ipv4Net> = ["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/24"]
        .iter()
        .map(|s| net(s))
        .collect();
    let a = atoms(&set);
    // 10.0.0.0/8 minus 10.1.0.0/16: 8 pieces; 10.1.0.0/16 minus 10.1.2.0/24: 8 pieces.
    assert_eq!(a.len(), 8 + 8 + 1 + 1, "{a:?}");
    for (i, x) in a.iter().enumerate() {
        for y in &a[i + 1..] {
            assert!(!x.contains(y) && !y.contains(x), "{x} and {y} overlap");
        }
    }
    let size = |n: &Ipv4Net| 1u64 << (32 - n.prefix_len());
    let covered: u64 = a
        .iter()
        .filter(|n| net("10.0.0.0/8").contains(*n))
        .map(size)
        .sum();
    assert_eq!(covered, 1 << 24);
    assert!(
        a.contains(&net("10.1.2.0/24"))
            && a.contains(&net("10.1.3.0/24"))
            && a.contains(&net("10.0.0.0/16"))
    );
}

#[test]
fn dual_tunnel_without_routes_prefers_the_master() {
    let input = dual("10.0.0.0/24", "192.168.50.0/24");
    let fw = compute(&input);
    assert!(fw.children.is_empty());
    assert_eq!(
        fw.promotions
            .get(&sel("10.0.0.0/24", "192.168.50.0/24"))
            .map(String::as_str),
        Some("tun-m")
    );
    assert_eq!(
        model_select(&input, &fw, ip("10.0.0.1"), ip("192.168.50.1")),
        Outcome::Tunnel("tun-m".into())
    );

    // Master down: only the slave holds the selectors, nothing to promote.
    let mut down = input.clone();
    down.tunnels[0].up = false;
    let fw = compute(&down);
    assert!(fw.promotions.is_empty() && fw.children.is_empty());
    assert_eq!(
        model_select(&down, &fw, ip("10.0.0.1"), ip("192.168.50.1")),
        Outcome::Tunnel("tun-s".into())
    );
}

#[test]
fn bgp_routes_follow_the_sessions() {
    let mut input = dual("10.0.0.0/24", "192.168.50.0/24");
    input.learned = vec![
        learned("tun-m", "192.168.50.0/24"),
        learned("tun-s", "192.168.50.0/24"),
    ];
    let fw = compute(&input);
    assert_eq!(fw.promotions.values().collect::<Vec<_>>(), ["tun-m"]);
    assert!(fw.children.is_empty());
    assert_eq!(
        fw.table,
        vec![(
            sel("10.0.0.0/24", "192.168.50.0/24"),
            Decision {
                target: Target::Tunnel("tun-m".into()),
                via: Via::Bgp
            }
        )]
    );
    // The master's session is down (its routes are gone): the slave's route wins,
    // although the master's IPsec SA is up.
    input.learned.remove(0);
    let fw = compute(&input);
    assert_eq!(fw.promotions.values().collect::<Vec<_>>(), ["tun-s"]);
    assert_follows(
        &input,
        &fw,
        &[
            ("10.0.0.1", "192.168.50.1"),
            ("10.0.0.200", "192.168.50.77"),
        ],
    );
}

#[test]
fn learned_prefixes_inside_a_wide_selector_need_no_children_when_they_agree() {
    let mut input = dual("10.0.0.0/24", "0.0.0.0/0");
    input.learned = (0..50)
        .map(|i| learned("tun-m", &format!("172.16.{i}.0/24")))
        .collect();
    input
        .learned
        .extend((0..50).map(|i| learned("tun-s", &format!("172.16.{i}.0/24"))));
    let fw = compute(&input);
    assert!(fw.children.is_empty(), "{:?}", fw.children);
    assert_eq!(fw.promotions.values().collect::<Vec<_>>(), ["tun-m"]);
    // One prefix only the slave learned: one child on the slave.
    input.learned.push(learned("tun-s", "172.17.0.0/24"));
    let fw = compute(&input);
    assert_eq!(
        fw.children["tun-s"],
        BTreeSet::from([sel("10.0.0.0/24", "172.17.0.0/24")])
    );
    assert_follows(
        &input,
        &fw,
        &[("10.0.0.1", "172.17.0.1"), ("10.0.0.1", "172.16.9.1")],
    );
}

/// Two single-tunnel connections to the same subnets, a destination route
/// through each: active and standby.
fn active_standby() -> RoutingInput {
    let s = sel("10.0.0.0/24", "192.168.60.0/24");
    RoutingInput {
        tunnels: vec![
            tunnel("vco-a", "vco-a", 0, &[s]),
            tunnel("vco-b", "vco-b", 0, &[s]),
        ],
        connections: vec![conn("vco-a"), conn("vco-b")],
        routes: vec![
            dbr("192.168.60.0/24", "vco-b", 0),
            dbr("192.168.60.0/24", "vco-a", 100),
        ],
        ..RoutingInput::default()
    }
}

#[test]
fn destination_routes_fail_over_on_revoke_and_blackhole_when_nothing_is_left() {
    let mut input = active_standby();
    let fw = compute(&input);
    assert_eq!(fw.promotions.values().collect::<Vec<_>>(), ["vco-a"]);
    input.connections[0].revoked = true;
    input.connections[0].probe = Some((ip("10.0.0.9"), ip("192.168.60.9")));
    let fw = compute(&input);
    assert_follows(
        &input,
        &fw,
        &[("10.0.0.1", "192.168.60.1"), ("10.0.0.9", "192.168.60.9")],
    );
    assert_eq!(
        model_select(&input, &fw, ip("10.0.0.1"), ip("192.168.60.1")),
        Outcome::Tunnel("vco-b".into())
    );
    // The probe keeps its own connection.
    assert_eq!(
        model_select(&input, &fw, ip("10.0.0.9"), ip("192.168.60.9")),
        Outcome::Tunnel("vco-a".into())
    );

    // Standby down too: dropped, except the probe.
    input.tunnels[1].up = false;
    let fw = compute(&input);
    assert!(!fw.blocks.is_empty());
    assert_eq!(
        model_select(&input, &fw, ip("10.0.0.1"), ip("192.168.60.1")),
        Outcome::Blocked
    );
    assert_eq!(
        model_select(&input, &fw, ip("10.0.0.9"), ip("192.168.60.9")),
        Outcome::Tunnel("vco-a".into())
    );
}

#[test]
fn policy_routes_choose_by_source_and_beat_longer_destination_routes() {
    let s = sel("10.40.0.0/16", "192.168.0.0/16");
    let mut input = RoutingInput {
        tunnels: vec![
            tunnel("vco-a", "vco-a", 0, &[s]),
            tunnel("vco-b", "vco-b", 0, &[s]),
        ],
        connections: vec![conn("vco-a"), conn("vco-b")],
        routes: vec![
            pbr("10.40.1.0/24", "192.168.0.0/16", "vco-a", 100, 10),
            pbr("10.40.2.0/24", "192.168.0.0/16", "vco-b", 100, 10),
            dbr("192.168.60.0/24", "vco-b", 100),
        ],
        ..RoutingInput::default()
    };
    let fw = compute(&input);
    let points = [
        ("10.40.1.5", "192.168.60.1"),
        ("10.40.2.5", "192.168.60.1"),
        ("10.40.3.5", "192.168.60.1"),
        ("10.40.1.5", "192.168.7.1"),
    ];
    assert_follows(&input, &fw, &points);
    assert_eq!(
        model_select(&input, &fw, ip("10.40.1.5"), ip("192.168.60.1")),
        Outcome::Tunnel("vco-a".into())
    );
    assert_eq!(
        model_select(&input, &fw, ip("10.40.3.5"), ip("192.168.60.1")),
        Outcome::Tunnel("vco-b".into())
    );
    // The standby of a policy pair takes over when the active one is revoked.
    input
        .routes
        .push(pbr("10.40.1.0/24", "192.168.0.0/16", "vco-b", 0, 10));
    input.connections[0].revoked = true;
    let fw = compute(&input);
    assert_follows(&input, &fw, &points);
    assert_eq!(
        model_select(&input, &fw, ip("10.40.1.5"), ip("192.168.60.1")),
        Outcome::Tunnel("vco-b".into())
    );
}

#[test]
fn a_route_can_override_a_more_specific_selector_of_another_connection() {
    let input = RoutingInput {
        tunnels: vec![
            tunnel(
                "vco-wide",
                "vco-wide",
                0,
                &[sel("10.0.0.0/24", "192.168.0.0/16")],
            ),
            tunnel(
                "vco-narrow",
                "vco-narrow",
                0,
                &[sel("10.0.0.0/24", "192.168.50.0/24")],
            ),
        ],
        connections: vec![conn("vco-wide"), conn("vco-narrow")],
        routes: vec![dbr("192.168.0.0/16", "vco-wide", 100)],
        ..RoutingInput::default()
    };
    let fw = compute(&input);
    // The wide connection holds the narrow selector too, and is the newest.
    assert_eq!(
        fw.children["vco-wide"],
        BTreeSet::from([sel("10.0.0.0/24", "192.168.50.0/24")])
    );
    assert_eq!(
        fw.promotions[&sel("10.0.0.0/24", "192.168.50.0/24")],
        "vco-wide"
    );
    assert_follows(
        &input,
        &fw,
        &[("10.0.0.1", "192.168.50.1"), ("10.0.0.1", "192.168.1.1")],
    );
}

// ---- properties -----------------------------------------------------------------

/// Small prefixes inside a small space, so that routes overlap often.
fn prefix(base: [u8; 2]) -> impl Strategy<Value = Ipv4Net> {
    (0u8..4, 20u8..=26).prop_map(move |(third, len)| {
        Ipv4Net::new(Ipv4Addr::new(base[0], base[1], third * 2, 0), len)
            .expect("len")
            .trunc()
    })
}

fn local_prefix() -> impl Strategy<Value = Ipv4Net> {
    prefix([10, 0])
}

fn remote_prefix() -> impl Strategy<Value = Ipv4Net> {
    prop_oneof![
        prefix([192, 168]),
        Just(net("0.0.0.0/0")),
        Just(net("192.168.0.0/16"))
    ]
}

#[derive(Debug, Clone)]
struct Scenario {
    input: RoutingInput,
    points: Vec<(Ipv4Addr, Ipv4Addr)>,
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let connection = (
        prop::collection::vec((local_prefix(), remote_prefix()), 1..3),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 2),
        any::<bool>(),
        any::<bool>(),
    );
    let route = (
        0u8..3,
        local_prefix(),
        remote_prefix(),
        0usize..4,
        any::<bool>(),
        1i64..4,
    );
    (
        prop::collection::vec(connection, 1..4),
        prop::collection::vec(route, 0..6),
        prop::collection::vec((0usize..8, remote_prefix(), 1usize..3), 0..6),
        prop::collection::vec((0u8..8, 0u8..255, 0u8..8, 0u8..255), 40),
    )
        .prop_map(|(conns, routes, learned, points)| {
            let mut input = RoutingInput::default();
            for (i, (subnets, is_dual, up, revoked, probe)) in conns.iter().enumerate() {
                let id = format!("vco-{i}");
                let selectors: Vec<Selector> =
                    subnets.iter().map(|(l, r)| Selector::new(*l, *r)).collect();
                let count = if *is_dual { 2 } else { 1 };
                for (n, up) in up.iter().take(count).enumerate() {
                    input.tunnels.push(TunnelView {
                        id: if count == 1 {
                            id.clone()
                        } else {
                            format!("tun-{i}{n}")
                        },
                        connection: id.clone(),
                        rank: n as u8,
                        up: *up,
                        selectors: selectors.clone(),
                    });
                }
                let (l, r) = subnets[0];
                input.connections.push(ConnectionView {
                    id: id.clone(),
                    revoked: *revoked,
                    probe: probe.then(|| {
                        (
                            l.network(),
                            if r.prefix_len() == 0 {
                                Ipv4Addr::new(192, 168, 0, 9)
                            } else {
                                r.network()
                            },
                        )
                    }),
                });
            }
            let n = input.connections.len();
            for (kind, src, dst, hop, active, priority) in routes {
                let next_hop = format!("vco-{}", hop % n);
                let weight = if active { 100 } else { 0 };
                let dest = if dst.prefix_len() == 0 {
                    net("192.168.0.0/20")
                } else {
                    dst
                };
                input.routes.push(StaticRoute {
                    table: if kind == 0 {
                        RouteTable::Policy {
                            source: src,
                            priority,
                        }
                    } else {
                        RouteTable::Destination
                    },
                    dest,
                    next_hop,
                    weight,
                });
            }
            let tunnel_ids: Vec<String> = input.tunnels.iter().map(|t| t.id.clone()).collect();
            for (t, prefix, as_path_len) in learned {
                if prefix.prefix_len() == 0 {
                    continue;
                }
                input.learned.push(LearnedRoute {
                    tunnel: tunnel_ids[t % tunnel_ids.len()].clone(),
                    prefix,
                    as_path_len,
                });
            }
            let points = points
                .into_iter()
                .map(|(a, b, c, d)| (Ipv4Addr::new(10, 0, a, b), Ipv4Addr::new(192, 168, c, d)))
                .collect();
            Scenario { input, points }
        })
}

/// Whether a packet's source is one the gateway can send from at all: inside
/// a configured selector of an up tunnel or a policy route's source.
fn sendable(input: &RoutingInput, src: Ipv4Addr) -> bool {
    input
        .tunnels
        .iter()
        .filter(|t| t.up)
        .flat_map(|t| &t.selectors)
        .any(|s| s.local.contains(&src))
        || input
            .routes
            .iter()
            .any(|r| matches!(r.table, RouteTable::Policy { source, .. } if source.contains(&src)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// For every routed packet, libipsec (as modelled) does what the cloud's
    /// rules say: same tunnel, or dropped.
    #[test]
    fn libipsec_follows_the_routes(s in scenario()) {
        let fw = compute(&s.input);
        let mut points = s.points.clone();
        // Every cell's corner and the probes, besides the random points.
        points.extend(fw.table.iter().map(|(cell, _)| (cell.local.network(), cell.remote.network())));
        points.extend(s.input.connections.iter().filter_map(|c| c.probe));
        for (src, dst) in points {
            let Some(d) = decide(&s.input, src, dst) else { continue };
            if !sendable(&s.input, src) {
                continue;
            }
            let got = model_select(&s.input, &fw, src, dst);
            let want = match d.target {
                Target::Tunnel(t) => Outcome::Tunnel(t),
                Target::Blackhole => Outcome::Blocked,
            };
            prop_assert_eq!(got, want, "{} -> {} via {:?}\n{:#?}\n{:#?}", src, dst, d.via, s.input, fw);
        }
    }

    /// Children only go to tunnels that are up, and never repeat a tunnel's
    /// configured selectors.
    #[test]
    fn children_are_installable(s in scenario()) {
        let fw = compute(&s.input);
        for (t, children) in &fw.children {
            let tunnel = s.input.tunnels.iter().find(|x| &x.id == t);
            prop_assert!(tunnel.is_some_and(|x| x.up), "child on {}", t);
            let tunnel = tunnel.expect("checked");
            for c in children {
                prop_assert!(!tunnel.selectors.contains(c));
            }
        }
        for t in fw.promotions.values() {
            prop_assert!(s.input.tunnels.iter().any(|x| &x.id == t && x.up));
        }
    }

    /// The same input always gives the same forwarding.
    #[test]
    fn deterministic(s in scenario()) {
        prop_assert_eq!(compute(&s.input), compute(&s.input));
    }
}
