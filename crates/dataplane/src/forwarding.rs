//! Routes → forwarding: which tunnel a packet leaving the gateway takes, and
//! what the data plane must install so that kernel-libipsec sends it there.
//!
//! Everything here is pure: [`compute`] maps the gateway's routes and the
//! measured state of its tunnels ([`RoutingInput`]) to a [`Forwarding`];
//! [`decide`] is the reference (the cloud's matching rules, one packet at a
//! time) and [`model_select`] what kernel-libipsec does with a
//! [`Forwarding`], so that tests can check that the two agree.
//!
//! # The cloud's rules ([`decide`])
//!
//! A packet from `src` to `dst` is matched against, in this order (VPN
//! Gateway documentation, "route priority"):
//! 1. the policy-based routes: routes with the same source and destination
//!    form an active (weight 100) / standby (weight 0) pair; the pair whose
//!    smallest `Priority` is smallest wins, ties going to the longer source,
//!    then the longer destination, then the older route;
//! 2. the destination-based routes (and the connections' own VCO routes):
//!    the longest destination wins; routes to the same destination form an
//!    active/standby set;
//! 3. the routes learned over BGP: the longest prefix wins, then the shorter
//!    AS path, then the master tunnel, then the smaller ids.
//!
//! In an active/standby set the active route is used while its connection is
//! usable (IPsec up on a tunnel and, under `revoke_route`, its health check
//! passing), else the standby if that one is usable; when neither is, the
//! traffic is sent to the active one, i.e. dropped ([`Target::Blackhole`]).
//! A connection's traffic leaves through its master tunnel while that is up,
//! else its slave. BGP routes exist only while their session is up, so a lost
//! session or tunnel simply removes them. Health-check probes (`Sip` → `Dip`)
//! and BGP sessions always use their own connection and tunnel.
//!
//! # What kernel-libipsec does ([`model_select`])
//!
//! The kernels here have no ESP and no XFRM interfaces: charon's
//! kernel-libipsec puts every SA behind one TUN device and picks the SA of
//! an outbound packet by its traffic selectors (strongSwan 5.9.8,
//! `ipsec_policy_mgr.c`): the policy with the most specific selectors wins
//! (largest sum of the two prefix lengths), and among equal selectors the
//! most recently installed one. Identical selectors also share one reqid,
//! and the SA of a reqid is the newest one (`ipsec_sa_mgr.c`). Marks are
//! ignored. `docs/dataplane-routing.md` has the measurements.
//!
//! # Making the two agree ([`compute`])
//!
//! Every tunnel keeps its configured children (`LocalSubnet` ×
//! `RemoteSubnet`, plus the BGP session's /32 pair): the API's `Status` is
//! the negotiation of exactly those. On top of them:
//! - where several tunnels hold identical selectors, the tunnel that should
//!   carry that traffic is made the newest ([`Forwarding::promotions`]; the
//!   data plane rekeys its child);
//! - where the configured selectors cannot express a decision, a more
//!   specific child is added on the chosen tunnel
//!   ([`Forwarding::children`]): one per "cell" (see below);
//! - traffic whose routes all lead to unusable connections is dropped with
//!   an `unreachable` rule ([`Forwarding::blocks`]), except health-check
//!   probes and BGP sessions ([`Forwarding::exempt`]).
//!
//! Cells: every prefix that appears anywhere (route sources and
//! destinations, learned prefixes, configured subnets, probe and session
//! addresses) cuts the address space; the pieces that contain no smaller
//! prefix of the set are prefixes themselves ("atoms"), and a cell is a
//! pair of a source atom and a destination atom. Both the cloud's decision
//! and libipsec's choice are constant on a cell, so checking one address
//! per cell checks them all, and a child whose selectors are exactly a cell
//! is at least as specific as any other selector that covers it.
//!
//! Only IPv4: the API's routes are IPv4.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// A pair of traffic selectors as the gateway sees them: `local` is this
/// side (the VPC side, the packet's source), `remote` the peer's side (the
/// packet's destination).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Selector {
    /// This side (source of outbound packets).
    pub local: Ipv4Net,
    /// The peer's side (destination of outbound packets).
    pub remote: Ipv4Net,
}

impl Selector {
    /// A selector of two prefixes (host bits are cleared).
    pub fn new(local: Ipv4Net, remote: Ipv4Net) -> Selector {
        Selector {
            local: local.trunc(),
            remote: remote.trunc(),
        }
    }

    /// The selector of one flow between two hosts.
    pub fn hosts(local: Ipv4Addr, remote: Ipv4Addr) -> Selector {
        Selector::new(host(local), host(remote))
    }

    /// Whether a packet from `src` to `dst` matches.
    pub fn matches(&self, src: Ipv4Addr, dst: Ipv4Addr) -> bool {
        self.local.contains(&src) && self.remote.contains(&dst)
    }

    /// Whether every packet of `other` matches `self`.
    pub fn covers(&self, other: &Selector) -> bool {
        self.local.contains(&other.local) && self.remote.contains(&other.remote)
    }

    /// libipsec's order of policies: the larger, the more specific.
    pub fn specificity(&self) -> u8 {
        self.local.prefix_len() + self.remote.prefix_len()
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} === {}", self.local, self.remote)
    }
}

fn host(a: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new(a, 32).unwrap_or_default()
}

/// One tunnel of the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelView {
    /// Tunnel id (the connection id for single-tunnel connections).
    pub id: String,
    /// Its connection.
    pub connection: String,
    /// Preference inside its connection: 0 for the master (and single
    /// tunnels), 1 for the slave.
    pub rank: u8,
    /// Its IPsec SA is installed: it can carry traffic and hold children.
    pub up: bool,
    /// Its configured children's selectors (`LocalSubnet` × `RemoteSubnet`,
    /// and the BGP session's host pair).
    pub selectors: Vec<Selector>,
}

/// One connection of the gateway.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionView {
    /// `vco-…`.
    pub id: String,
    /// Its health check failed under `revoke_route`: its routes are not
    /// used (its probes still go through it).
    pub revoked: bool,
    /// The health check's `Sip` → `Dip`, pinned to the connection.
    pub probe: Option<(Ipv4Addr, Ipv4Addr)>,
}

/// Which table a static route belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteTable {
    /// Policy-based (`*VpnPbrRouteEntry*`): matches source and destination.
    Policy {
        /// `RouteSource`.
        source: Ipv4Net,
        /// `Priority` (smaller wins).
        priority: i64,
    },
    /// Destination-based (`*VpnRouteEntry*`) and VCO routes
    /// (`*VcoRouteEntry*`).
    Destination,
}

/// A route configured through the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRoute {
    /// Its table (and source, for policy-based routes).
    pub table: RouteTable,
    /// `RouteDest`.
    pub dest: Ipv4Net,
    /// `NextHop`: a connection of the gateway.
    pub next_hop: String,
    /// 100 (active) or 0 (standby).
    pub weight: i64,
}

/// A route learned over the BGP session of a tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnedRoute {
    /// The tunnel whose session learned it.
    pub tunnel: String,
    /// The prefix.
    pub prefix: Ipv4Net,
    /// Length of its AS path.
    pub as_path_len: usize,
}

/// A BGP session: its packets always take their own tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The tunnel.
    pub tunnel: String,
    /// `LocalBgpIp`.
    pub local: Ipv4Addr,
    /// The peer's address in `TunnelCidr`.
    pub peer: Ipv4Addr,
}

/// Everything [`compute`] needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutingInput {
    /// Every tunnel of the gateway.
    pub tunnels: Vec<TunnelView>,
    /// Every connection of the gateway.
    pub connections: Vec<ConnectionView>,
    /// Static routes, oldest first (the order breaks ties).
    pub routes: Vec<StaticRoute>,
    /// Routes learned over BGP (only from sessions that are up).
    pub learned: Vec<LearnedRoute>,
    /// BGP sessions.
    pub sessions: Vec<Session>,
}

/// Where a packet goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// Through this tunnel.
    Tunnel(String),
    /// Nowhere: every route that matches leads to an unusable connection.
    Blackhole,
}

/// Which rule decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Via {
    /// A policy-based route.
    Policy,
    /// A destination-based or VCO route.
    Destination,
    /// A route learned over BGP.
    Bgp,
    /// A health-check probe of the connection.
    Probe,
    /// A BGP session of the tunnel.
    Session,
}

impl Via {
    /// How logs name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Policy => "policy-based route",
            Via::Destination => "destination-based route",
            Via::Bgp => "BGP route",
            Via::Probe => "health check",
            Via::Session => "BGP session",
        }
    }
}

/// The decision for a packet (or a cell of packets).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Decision {
    /// Where it goes.
    pub target: Target,
    /// Why.
    pub via: Via,
}

/// What the data plane installs so that libipsec follows the routes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Forwarding {
    /// Children to add to each tunnel, beyond its configured ones.
    pub children: BTreeMap<String, BTreeSet<Selector>>,
    /// Selectors that several up tunnels hold identically, with the tunnel
    /// whose SA must be the newest (the one that carries that traffic).
    pub promotions: BTreeMap<Selector, String>,
    /// Traffic to drop (`ip rule … unreachable`).
    pub blocks: BTreeSet<Selector>,
    /// Pinned flows (probes, BGP sessions) that bypass [`Self::blocks`].
    pub exempt: BTreeSet<Selector>,
    /// Every routed cell with its decision (for logs and tests).
    pub table: Vec<(Selector, Decision)>,
}

// ---- the cloud's rules -------------------------------------------------------

struct Index<'a> {
    /// Connection id → its tunnels, best first (up before down, then rank).
    conn_tunnels: HashMap<&'a str, Vec<&'a TunnelView>>,
    revoked: HashMap<&'a str, bool>,
    /// Destination-table routes by destination.
    dbr: HashMap<Ipv4Net, Vec<(usize, &'a StaticRoute)>>,
    /// Learned routes (of up tunnels of usable connections) by prefix.
    bgp: HashMap<Ipv4Net, Vec<&'a LearnedRoute>>,
    /// Policy routes, grouped by (source, destination), best group first.
    pbr: Vec<PbrGroup<'a>>,
    /// Pinned host pairs.
    pins: HashMap<(Ipv4Addr, Ipv4Addr), Decision>,
    tunnel_by_id: HashMap<&'a str, &'a TunnelView>,
}

struct PbrGroup<'a> {
    source: Ipv4Net,
    dest: Ipv4Net,
    /// Members, preferred first (weight, priority, age).
    members: Vec<&'a StaticRoute>,
}

impl<'a> Index<'a> {
    fn new(input: &'a RoutingInput) -> Index<'a> {
        let mut conn_tunnels: HashMap<&str, Vec<&TunnelView>> = HashMap::new();
        for t in &input.tunnels {
            conn_tunnels
                .entry(t.connection.as_str())
                .or_default()
                .push(t);
        }
        for ts in conn_tunnels.values_mut() {
            ts.sort_by(|a, b| (!a.up, a.rank, &a.id).cmp(&(!b.up, b.rank, &b.id)));
        }
        let revoked: HashMap<&str, bool> = input
            .connections
            .iter()
            .map(|c| (c.id.as_str(), c.revoked))
            .collect();
        let tunnel_by_id: HashMap<&str, &TunnelView> =
            input.tunnels.iter().map(|t| (t.id.as_str(), t)).collect();

        let mut dbr: HashMap<Ipv4Net, Vec<(usize, &StaticRoute)>> = HashMap::new();
        let mut pbr: BTreeMap<(Ipv4Net, Ipv4Net), Vec<(usize, &StaticRoute)>> = BTreeMap::new();
        for (order, r) in input.routes.iter().enumerate() {
            match r.table {
                RouteTable::Destination => dbr.entry(r.dest.trunc()).or_default().push((order, r)),
                RouteTable::Policy { source, .. } => pbr
                    .entry((source.trunc(), r.dest.trunc()))
                    .or_default()
                    .push((order, r)),
            }
        }
        for routes in dbr.values_mut() {
            routes.sort_by_key(|(order, r)| (std::cmp::Reverse(r.weight), *order));
        }
        let priority = |r: &StaticRoute| match r.table {
            RouteTable::Policy { priority, .. } => priority,
            RouteTable::Destination => i64::MAX,
        };
        let mut groups: Vec<(i64, usize, PbrGroup)> = pbr
            .into_iter()
            .map(|((source, dest), mut members)| {
                members
                    .sort_by_key(|(order, r)| (std::cmp::Reverse(r.weight), priority(r), *order));
                let best_priority = members
                    .iter()
                    .map(|(_, r)| priority(r))
                    .min()
                    .unwrap_or(i64::MAX);
                let oldest = members.iter().map(|(o, _)| *o).min().unwrap_or(usize::MAX);
                (
                    best_priority,
                    oldest,
                    PbrGroup {
                        source,
                        dest,
                        members: members.into_iter().map(|(_, r)| r).collect(),
                    },
                )
            })
            .collect();
        groups.sort_by(|a, b| {
            (
                a.0,
                std::cmp::Reverse(a.2.source.prefix_len()),
                std::cmp::Reverse(a.2.dest.prefix_len()),
                a.1,
            )
                .cmp(&(
                    b.0,
                    std::cmp::Reverse(b.2.source.prefix_len()),
                    std::cmp::Reverse(b.2.dest.prefix_len()),
                    b.1,
                ))
        });

        let mut index = Index {
            conn_tunnels,
            revoked,
            dbr,
            bgp: HashMap::new(),
            pbr: groups.into_iter().map(|(_, _, g)| g).collect(),
            pins: HashMap::new(),
            tunnel_by_id,
        };
        let mut bgp: HashMap<Ipv4Net, Vec<&LearnedRoute>> = HashMap::new();
        for l in &input.learned {
            let usable = index
                .tunnel_by_id
                .get(l.tunnel.as_str())
                .is_some_and(|t| t.up && !index.is_revoked(&t.connection));
            if usable {
                bgp.entry(l.prefix.trunc()).or_default().push(l);
            }
        }
        for routes in bgp.values_mut() {
            routes.sort_by(|a, b| {
                let rank = |l: &LearnedRoute| {
                    let t = index.tunnel_by_id.get(l.tunnel.as_str());
                    (
                        l.as_path_len,
                        t.map_or(u8::MAX, |t| t.rank),
                        t.map_or("", |t| t.connection.as_str()).to_owned(),
                        l.tunnel.clone(),
                    )
                };
                rank(a).cmp(&rank(b))
            });
        }
        index.bgp = bgp;
        let mut pins = HashMap::new();
        for c in &input.connections {
            if let Some((sip, dip)) = c.probe
                && let Some(t) = index.first_up_tunnel(&c.id)
            {
                pins.insert(
                    (sip, dip),
                    Decision {
                        target: Target::Tunnel(t.id.clone()),
                        via: Via::Probe,
                    },
                );
            }
        }
        for s in &input.sessions {
            if index
                .tunnel_by_id
                .get(s.tunnel.as_str())
                .is_some_and(|t| t.up)
            {
                pins.insert(
                    (s.local, s.peer),
                    Decision {
                        target: Target::Tunnel(s.tunnel.clone()),
                        via: Via::Session,
                    },
                );
            }
        }
        index.pins = pins;
        index
    }

    fn is_revoked(&self, connection: &str) -> bool {
        self.revoked.get(connection).copied().unwrap_or(false)
    }

    fn first_up_tunnel(&self, connection: &str) -> Option<&'a TunnelView> {
        self.conn_tunnels
            .get(connection)
            .and_then(|ts| ts.iter().find(|t| t.up).copied())
    }

    /// The tunnel a route to `connection` uses, when the connection is usable.
    fn usable_tunnel(&self, connection: &str) -> Option<&'a TunnelView> {
        if self.is_revoked(connection) {
            return None;
        }
        self.first_up_tunnel(connection)
    }

    /// The first usable route of an active/standby set, else a blackhole.
    fn choose<'r>(&self, members: impl IntoIterator<Item = &'r StaticRoute>, via: Via) -> Decision {
        for r in members {
            if let Some(t) = self.usable_tunnel(&r.next_hop) {
                return Decision {
                    target: Target::Tunnel(t.id.clone()),
                    via,
                };
            }
        }
        Decision {
            target: Target::Blackhole,
            via,
        }
    }

    fn decide(&self, src: Ipv4Addr, dst: Ipv4Addr) -> Option<Decision> {
        if let Some(d) = self.pins.get(&(src, dst)) {
            return Some(d.clone());
        }
        if let Some(g) = self
            .pbr
            .iter()
            .find(|g| g.source.contains(&src) && g.dest.contains(&dst))
        {
            return Some(self.choose(g.members.iter().copied(), Via::Policy));
        }
        for len in (0..=32u8).rev() {
            let Ok(net) = Ipv4Net::new(dst, len) else {
                continue;
            };
            if let Some(routes) = self.dbr.get(&net.trunc()) {
                return Some(self.choose(routes.iter().map(|(_, r)| *r), Via::Destination));
            }
        }
        for len in (0..=32u8).rev() {
            let Ok(net) = Ipv4Net::new(dst, len) else {
                continue;
            };
            if let Some(best) = self.bgp.get(&net.trunc()).and_then(|v| v.first()) {
                return Some(Decision {
                    target: Target::Tunnel(best.tunnel.clone()),
                    via: Via::Bgp,
                });
            }
        }
        None
    }
}

/// The cloud's decision for one packet leaving the gateway from `src` to
/// `dst`; `None` when no route matches (the packet is not routed: libipsec
/// sends it through whatever configured selectors match it, as before routes
/// existed).
pub fn decide(input: &RoutingInput, src: Ipv4Addr, dst: Ipv4Addr) -> Option<Decision> {
    Index::new(input).decide(src, dst)
}

// ---- atoms --------------------------------------------------------------------

/// `p` minus every prefix of `holes` (all inside `p`, none equal to it),
/// as prefixes.
fn subtract(p: Ipv4Net, holes: &[Ipv4Net]) -> Vec<Ipv4Net> {
    let inside: Vec<Ipv4Net> = holes.iter().copied().filter(|h| p.contains(h)).collect();
    if inside.is_empty() {
        return vec![p];
    }
    if inside.contains(&p) {
        return Vec::new();
    }
    match p.subnets(p.prefix_len() + 1) {
        Ok(halves) => halves.flat_map(|half| subtract(half, &inside)).collect(),
        Err(_) => Vec::new(),
    }
}

/// The atoms of a set of prefixes: for every prefix, the part of it that no
/// smaller prefix of the set covers, cut into prefixes. Atoms are disjoint,
/// and every prefix of the set is a union of atoms.
pub fn atoms(set: &BTreeSet<Ipv4Net>) -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    for p in set {
        let children: Vec<Ipv4Net> = set
            .range(*p..)
            .skip(1)
            .take_while(|c| p.contains(*c))
            .copied()
            .collect();
        out.extend(subtract(*p, &children));
    }
    out
}

// ---- compute ---------------------------------------------------------------------

/// Which configured selectors of up tunnels hold exactly a selector.
type Holders<'a> = BTreeMap<Selector, Vec<&'a TunnelView>>;

fn preference(t: &TunnelView) -> (u8, &str, &str) {
    (t.rank, t.connection.as_str(), t.id.as_str())
}

/// The forwarding that makes libipsec follow the routes. See the module
/// documentation for the method.
pub fn compute(input: &RoutingInput) -> Forwarding {
    let index = Index::new(input);
    let mut holders: Holders = BTreeMap::new();
    for t in input.tunnels.iter().filter(|t| t.up) {
        for s in &t.selectors {
            let list = holders.entry(Selector::new(s.local, s.remote)).or_default();
            if !list.iter().any(|h| h.id == t.id) {
                list.push(t);
            }
        }
    }

    // The cuts: every prefix either side that anything depends on.
    let mut sources: BTreeSet<Ipv4Net> = BTreeSet::new();
    let mut dests: BTreeSet<Ipv4Net> = BTreeSet::new();
    let mut routed: BTreeSet<Ipv4Net> = BTreeSet::new();
    for s in holders.keys() {
        sources.insert(s.local);
        dests.insert(s.remote);
    }
    for r in &input.routes {
        if let RouteTable::Policy { source, .. } = r.table {
            sources.insert(source.trunc());
        }
        dests.insert(r.dest.trunc());
        routed.insert(r.dest.trunc());
    }
    for p in index.bgp.keys() {
        dests.insert(*p);
        routed.insert(*p);
    }
    for (src, dst) in index.pins.keys() {
        sources.insert(host(*src));
        dests.insert(host(*dst));
        routed.insert(host(*dst));
    }
    let src_atoms = atoms(&sources);
    let dst_atoms: Vec<Ipv4Net> = atoms(&dests)
        .into_iter()
        .filter(|a| routed.iter().any(|r| r.contains(a)))
        .collect();

    let mut fw = Forwarding::default();
    // Votes of the cells whose most specific configured selector is shared.
    let mut votes: BTreeMap<Selector, Vec<(Selector, String)>> = BTreeMap::new();
    for src in &src_atoms {
        for dst in &dst_atoms {
            let cell = Selector::new(*src, *dst);
            let Some(decision) = index.decide(src.network(), dst.network()) else {
                continue;
            };
            fw.table.push((cell, decision.clone()));
            if matches!(decision.via, Via::Probe | Via::Session) {
                fw.exempt.insert(cell);
            }
            let tunnel = match &decision.target {
                Target::Blackhole => {
                    fw.blocks.insert(cell);
                    continue;
                }
                Target::Tunnel(t) => t.clone(),
            };
            let best = most_specific(holders.keys(), &cell);
            match best.as_slice() {
                [shared] if holders[shared].iter().any(|h| h.id == tunnel) => {
                    votes.entry(*shared).or_default().push((cell, tunnel));
                }
                [shared] if *shared == cell => {
                    // Identical to another tunnel's configured selector:
                    // hold it too, and be the newest.
                    votes
                        .entry(*shared)
                        .or_default()
                        .push((cell, tunnel.clone()));
                    fw.children.entry(tunnel).or_default().insert(cell);
                }
                _ => {
                    fw.children.entry(tunnel).or_default().insert(cell);
                }
            }
        }
    }

    // Each shared selector is won by the tunnel most of its cells want;
    // the other cells get children of their own (strictly more specific).
    for (shared, holders_of) in &holders {
        let mut members: Vec<&str> = holders_of.iter().map(|t| t.id.as_str()).collect();
        let extra: Vec<String> = fw
            .children
            .iter()
            .filter(|(_, cs)| cs.contains(shared))
            .map(|(t, _)| t.clone())
            .collect();
        members.extend(extra.iter().map(String::as_str));
        members.sort_unstable();
        members.dedup();
        let cell_votes = votes.get(shared).map(Vec::as_slice).unwrap_or(&[]);
        if members.len() < 2 && cell_votes.is_empty() {
            continue;
        }
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for (_, t) in cell_votes {
            *counts.entry(t.as_str()).or_default() += 1;
        }
        let default_order = |id: &str| {
            index
                .tunnel_by_id
                .get(id)
                .map(|t| preference(t))
                .unwrap_or((u8::MAX, "", ""))
        };
        let winner = members
            .iter()
            .copied()
            .max_by(|a, b| {
                let ka = (
                    counts.get(a).copied().unwrap_or(0),
                    std::cmp::Reverse(default_order(a)),
                );
                let kb = (
                    counts.get(b).copied().unwrap_or(0),
                    std::cmp::Reverse(default_order(b)),
                );
                ka.cmp(&kb)
            })
            .unwrap_or_default()
            .to_owned();
        for (cell, t) in cell_votes {
            if *t != winner {
                fw.children.entry(t.clone()).or_default().insert(*cell);
            }
        }
        if members.len() >= 2 {
            fw.promotions.insert(*shared, winner);
        }
    }
    fw
}

/// The most specific selectors among `selectors` that cover `cell`
/// (several only when different selectors tie).
fn most_specific<'s>(
    selectors: impl Iterator<Item = &'s Selector>,
    cell: &Selector,
) -> Vec<Selector> {
    let mut best: Vec<Selector> = Vec::new();
    for s in selectors.filter(|s| s.covers(cell)) {
        match best.first().map(Selector::specificity) {
            Some(b) if s.specificity() < b => {}
            Some(b) if s.specificity() == b => best.push(*s),
            _ => best = vec![*s],
        }
    }
    best
}

// ---- what libipsec does -------------------------------------------------------------

/// What kernel-libipsec does with a packet, given the tunnels' configured
/// children and a [`Forwarding`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Sent through this tunnel.
    Tunnel(String),
    /// Dropped by an `unreachable` rule.
    Blocked,
    /// No SA matches.
    NoPolicy,
    /// Different selectors of equal specificity match: the order in which
    /// charon installed them decides, which nothing here controls.
    Ambiguous,
}

/// kernel-libipsec's choice for a packet from `src` to `dst`: `ip rule`s
/// first (exemptions, then blocks), then the most specific selector of an
/// up tunnel; among identical selectors the promoted tunnel (the newest SA).
pub fn model_select(
    input: &RoutingInput,
    fw: &Forwarding,
    src: Ipv4Addr,
    dst: Ipv4Addr,
) -> Outcome {
    let exempt = fw.exempt.iter().any(|s| s.matches(src, dst));
    if !exempt && fw.blocks.iter().any(|s| s.matches(src, dst)) {
        return Outcome::Blocked;
    }
    let mut held: BTreeMap<Selector, Vec<&str>> = BTreeMap::new();
    for t in input.tunnels.iter().filter(|t| t.up) {
        for s in &t.selectors {
            held.entry(Selector::new(s.local, s.remote))
                .or_default()
                .push(&t.id);
        }
        for s in fw.children.get(&t.id).into_iter().flatten() {
            held.entry(*s).or_default().push(&t.id);
        }
    }
    let point = Selector::hosts(src, dst);
    let best = most_specific(held.keys(), &point);
    match best.as_slice() {
        [] => Outcome::NoPolicy,
        [s] => {
            let mut tunnels = held[s].clone();
            tunnels.sort_unstable();
            tunnels.dedup();
            match tunnels.as_slice() {
                [only] => Outcome::Tunnel((*only).to_owned()),
                _ => match fw.promotions.get(s) {
                    Some(t) if tunnels.contains(&t.as_str()) => Outcome::Tunnel(t.clone()),
                    _ => Outcome::Ambiguous,
                },
            }
        }
        _ => Outcome::Ambiguous,
    }
}

#[cfg(test)]
mod tests;
