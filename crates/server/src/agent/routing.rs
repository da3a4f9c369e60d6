//! Routes on the gateway, the agent's side: what the IPsec part and the BGP
//! part tell each other, and how the desired state, the measured tunnels,
//! the health checks and the BGP sessions become the input of
//! [`vpngw_dataplane::forwarding::compute`].
//!
//! The two parts are coupled by two watch channels ([`Links`]): the IPsec
//! part publishes which tunnels have an IPsec SA (a BGP session runs only
//! through its tunnel, so the BGP part enables it then), and the BGP part
//! publishes every session's state and learned routes ([`BgpView`]), from
//! which the IPsec part computes the forwarding and reports `BgpStatus` per
//! tunnel. Either part wakes when the other publishes something new.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::Ipv4Net;
use tokio::sync::watch;
use vpngw_dataplane::TunnelStatus;
use vpngw_dataplane::bgp::{
    BgpDesired, BgpTimers, DEFAULT_LOCAL_ASN, SessionDesired, SessionState,
};
use vpngw_dataplane::forwarding::{
    ConnectionView, LearnedRoute, RoutingInput, Selector, Session, TunnelView,
};
use vpngw_dataplane::model::{Secret, TunnelBgp};
use vpngw_model::dataplane::{BgpSpec, TunnelSpec};

use super::desired::GatewayState;
use super::health::HealthCheck;

/// Every BGP session's measured state, by tunnel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BgpView {
    pub sessions: BTreeMap<String, SessionState>,
}

/// The channels between the IPsec part and the BGP part.
pub struct Links {
    /// Tunnels with an IPsec SA: written by the IPsec part.
    pub up_tx: watch::Sender<BTreeSet<String>>,
    pub up_rx: watch::Receiver<BTreeSet<String>>,
    /// The BGP sessions: written by the BGP part.
    pub bgp_tx: watch::Sender<BgpView>,
    pub bgp_rx: watch::Receiver<BgpView>,
}

impl Links {
    pub fn new() -> Links {
        let (up_tx, up_rx) = watch::channel(BTreeSet::new());
        let (bgp_tx, bgp_rx) = watch::channel(BgpView::default());
        Links {
            up_tx,
            up_rx,
            bgp_tx,
            bgp_rx,
        }
    }
}

fn v4_nets(list: &str) -> Vec<Ipv4Net> {
    list.split(',')
        .filter_map(|s| s.trim().parse::<Ipv4Net>().ok())
        .map(|n| n.trunc())
        .collect()
}

/// The addresses of a tunnel's BGP session, when both parse.
pub fn tunnel_bgp(bgp: &BgpSpec) -> Option<TunnelBgp> {
    Some(TunnelBgp {
        local_ip: bgp.local_bgp_ip.parse().ok()?,
        peer_ip: bgp.peer_bgp_ip.parse().ok()?,
    })
}

/// A tunnel's BGP session for BIRD, or why it cannot run.
fn session(
    connection: &str,
    t: &TunnelSpec,
    bgp: &BgpSpec,
    up: bool,
) -> Result<SessionDesired, String> {
    let addrs = tunnel_bgp(bgp).ok_or_else(|| {
        format!(
            "BGP: LocalBgpIp {:?} and the peer's address {:?} (TunnelCidr {:?}) are not both IPv4 addresses",
            bgp.local_bgp_ip, bgp.peer_bgp_ip, bgp.tunnel_cidr
        )
    })?;
    let asn = |v: i64, what: &str| {
        u32::try_from(v).ok().filter(|a| *a > 0).ok_or_else(|| {
            format!("BGP: {what} {v} is not an ASN (the customer gateway needs an Asn)")
        })
    };
    Ok(SessionDesired {
        tunnel_id: t.tunnel_id.clone(),
        connection_id: connection.to_owned(),
        local_ip: addrs.local_ip,
        peer_ip: addrs.peer_ip,
        local_asn: if bgp.local_asn == 0 {
            DEFAULT_LOCAL_ASN
        } else {
            asn(bgp.local_asn, "LocalAsn")?
        },
        peer_asn: asn(bgp.peer_asn, "PeerAsn")?,
        auth_key: Secret::new(bgp.auth_key.clone()),
        enabled: up,
        withheld: Vec::new(),
    })
}

/// What BIRD must run for `state`, with the tunnels in `up` enabled, and
/// the sessions that cannot run with the reason (by tunnel).
pub fn bgp_desired(
    state: &GatewayState,
    up: &BTreeSet<String>,
    timers: BgpTimers,
) -> (BgpDesired, BTreeMap<String, String>) {
    let mut sessions = Vec::new();
    let mut problems = BTreeMap::new();
    for c in state.connections.values() {
        for t in &c.spec.tunnels {
            let Some(bgp) = &t.bgp else { continue };
            match session(&c.spec.connection_id, t, bgp, up.contains(&t.tunnel_id)) {
                Ok(mut s) => {
                    s.withheld = withheld(state, &c.spec.connection_id);
                    sessions.push(s);
                }
                Err(why) => {
                    problems.insert(t.tunnel_id.clone(), why);
                }
            }
        }
    }
    let router_id = sessions
        .iter()
        .map(|s| s.local_ip)
        .min()
        .or_else(|| {
            state.local_addrs.iter().find_map(|a| match a {
                IpAddr::V4(v4) => Some(*v4),
                IpAddr::V6(_) => None,
            })
        })
        .unwrap_or(Ipv4Addr::new(169, 254, 0, 1));
    let desired = BgpDesired {
        router_id,
        sessions,
        advertised: advertised(state),
        timers,
    };
    (desired, problems)
}

/// The VPC side of the gateway: the blocks of its VPC's vSwitches (the
/// VPC's system routes) and every connection's `LocalSubnet` (a
/// route-based connection's `0.0.0.0/0` is no prefix of the VPC).
fn vpc_side(state: &GatewayState) -> Vec<Ipv4Net> {
    state
        .connections
        .values()
        .flat_map(|c| v4_nets(&c.spec.local_subnet))
        .chain(state.vswitch_blocks.iter().copied())
        .filter(|n| n.prefix_len() > 0)
        .collect()
}

/// What the gateway announces to its BGP peers: its VPC side and the routes
/// it publishes to the VPC's route table (PublishVpnRouteEntry), which are
/// routes of the VPC from then on (docs/api-decisions.md, "What the gateway
/// announces").
pub fn advertised(state: &GatewayState) -> Vec<Ipv4Net> {
    let mut out = vpc_side(state);
    out.extend(
        state
            .published
            .iter()
            .map(|(dest, _)| *dest)
            .filter(|n| n.prefix_len() > 0),
    );
    out.sort();
    out.dedup();
    out
}

/// The announced prefixes a connection's peers are not sent: published
/// routes that lead to the connection itself, unless the prefix is also
/// the VPC's or published through another connection.
fn withheld(state: &GatewayState, connection: &str) -> Vec<Ipv4Net> {
    let vpc = vpc_side(state);
    let elsewhere = |dest: &Ipv4Net| {
        vpc.contains(dest)
            || state
                .published
                .iter()
                .any(|(d, hop)| d == dest && hop != connection)
    };
    let mut out: Vec<Ipv4Net> = state
        .published
        .iter()
        .filter(|(dest, hop)| hop == connection && !elsewhere(dest))
        .map(|(dest, _)| *dest)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The input of the forwarding computation: the connections' configured
/// selectors and measured tunnels, their health checks, the static routes
/// and what the BGP sessions learned.
pub fn routing_input(
    state: &GatewayState,
    statuses: &HashMap<String, TunnelStatus>,
    health: &HashMap<String, HealthCheck>,
    bgp: &BgpView,
) -> RoutingInput {
    let mut input = RoutingInput {
        routes: state.routes.clone(),
        ..RoutingInput::default()
    };
    for c in state.connections.values() {
        let id = &c.spec.connection_id;
        let locals = v4_nets(&c.spec.local_subnet);
        let remotes = v4_nets(&c.spec.remote_subnet);
        let base: Vec<Selector> = locals
            .iter()
            .flat_map(|l| remotes.iter().map(move |r| Selector::new(*l, *r)))
            .collect();
        for (rank, t) in c.spec.tunnels.iter().enumerate() {
            let up = c.desired.is_ok()
                && statuses
                    .get(&t.tunnel_id)
                    .is_some_and(|s| s.ipsec_established);
            let mut selectors = base.clone();
            let session = t.bgp.as_ref().and_then(tunnel_bgp);
            if let Some(s) = session {
                selectors.push(Selector::hosts(s.local_ip, s.peer_ip));
                input.sessions.push(Session {
                    tunnel: t.tunnel_id.clone(),
                    local: s.local_ip,
                    peer: s.peer_ip,
                });
            }
            input.tunnels.push(TunnelView {
                id: t.tunnel_id.clone(),
                connection: id.clone(),
                rank: u8::try_from(rank).unwrap_or(u8::MAX),
                up,
                selectors,
            });
            let Some(state) = bgp.sessions.get(&t.tunnel_id) else {
                continue;
            };
            if state.established && t.bgp.is_some() {
                input
                    .learned
                    .extend(state.learned.iter().map(|l| LearnedRoute {
                        tunnel: t.tunnel_id.clone(),
                        prefix: l.prefix,
                        as_path_len: l.as_path.len(),
                    }));
            }
        }
        let check = health.get(id);
        let probe = check
            .and_then(|h| h.endpoints.as_ref().ok())
            .and_then(|(s, d)| match (s, d) {
                (IpAddr::V4(s), IpAddr::V4(d)) => Some((*s, *d)),
                _ => None,
            });
        input.connections.push(ConnectionView {
            id: id.clone(),
            revoked: check.is_some_and(|h| h.withdrawn),
            probe,
        });
    }
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn advertises_published_routes_but_not_to_the_peer_they_lead_to() {
        let mut state = GatewayState::default();
        let c = super::super::desired::tests::fetched("vco-1");
        let local = c.spec.local_subnet.clone();
        state.connections.insert("vco-1".into(), Arc::new(c));
        let net = |s: &str| s.parse::<Ipv4Net>().expect("net");
        state.published = vec![
            (net("192.168.1.0/24"), "vco-1".into()),
            (net("192.168.2.0/24"), "vco-2".into()),
            // Published through both: vco-1's peers hear it (from vco-2).
            (net("192.168.3.0/24"), "vco-1".into()),
            (net("192.168.3.0/24"), "vco-2".into()),
        ];
        let got: Vec<String> = advertised(&state).iter().map(ToString::to_string).collect();
        let mut want: Vec<String> = v4_nets(&local).iter().map(ToString::to_string).collect();
        want.extend(["192.168.1.0/24", "192.168.2.0/24", "192.168.3.0/24"].map(String::from));
        want.sort_by_key(|s| net(s));
        assert_eq!(got, want);
        assert_eq!(withheld(&state, "vco-1"), [net("192.168.1.0/24")]);
        assert_eq!(withheld(&state, "vco-2"), [net("192.168.2.0/24")]);
        assert!(withheld(&state, "vco-3").is_empty());
    }

    #[test]
    fn advertises_the_vpc_side() {
        let mut state = GatewayState::default();
        for (id, local) in [
            ("vco-1", "10.0.0.0/24,10.0.1.0/24"),
            ("vco-2", "0.0.0.0/0,10.0.0.0/24"),
        ] {
            let mut c = super::super::desired::tests::fetched(id);
            c.spec.local_subnet = local.into();
            state.connections.insert(id.into(), Arc::new(c));
        }
        let got: Vec<String> = advertised(&state).iter().map(ToString::to_string).collect();
        assert_eq!(got, ["10.0.0.0/24", "10.0.1.0/24"]);
        // The VPC's vSwitch blocks, each once.
        state.vswitch_blocks = ["10.0.0.0/24", "172.16.8.0/21"]
            .iter()
            .map(|b| b.parse().expect("net"))
            .collect();
        let got: Vec<String> = advertised(&state).iter().map(ToString::to_string).collect();
        assert_eq!(got, ["10.0.0.0/24", "10.0.1.0/24", "172.16.8.0/21"]);
    }

    #[test]
    fn sessions_need_addresses_and_asns() {
        let mut state = GatewayState::default();
        let mut c = super::super::desired::tests::fetched("vco-1");
        c.spec.tunnels[0].bgp = Some(BgpSpec {
            local_asn: 0,
            peer_asn: 65001,
            tunnel_cidr: "169.254.10.0/30".into(),
            local_bgp_ip: "169.254.10.1".into(),
            peer_bgp_ip: "169.254.10.2".into(),
            auth_key: "k".into(),
        });
        state
            .connections
            .insert("vco-1".into(), Arc::new(c.clone()));
        let up = BTreeSet::from(["vco-1".to_owned()]);
        let (d, problems) = bgp_desired(&state, &up, BgpTimers::default());
        assert!(problems.is_empty());
        assert_eq!(d.sessions[0].local_asn, DEFAULT_LOCAL_ASN);
        assert!(d.sessions[0].enabled);
        assert_eq!(d.router_id, Ipv4Addr::new(169, 254, 10, 1));
        // No customer gateway ASN: said, not silently skipped.
        c.spec.tunnels[0].bgp.as_mut().expect("bgp").peer_asn = 0;
        state.connections.insert("vco-1".into(), Arc::new(c));
        let (d, problems) = bgp_desired(&state, &BTreeSet::new(), BgpTimers::default());
        assert!(d.sessions.is_empty());
        assert!(problems["vco-1"].contains("PeerAsn"), "{problems:?}");
    }
}
