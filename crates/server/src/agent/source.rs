//! Where the agent's desired state comes from. It is published on a watch
//! channel, which the agent's loop hands to its parts.
//!
//! [`Watcher`]: the control plane pushes it. `WatchGatewayState` is a long
//! poll with a revision: the agent states the revision it has and the server
//! answers as soon as something of the gateway changed (or after its wait,
//! unchanged). The first answer, or one after the agent fell too far behind,
//! is the whole state; the others only the connections that changed. The
//! routes, the SSL-VPN server and the IPsec server are read through the
//! public calls after an answer that says something changed (their writes
//! move the revision too); of the connections' own (VCO) routes, one call
//! per connection, only those of new connections and of the connections the
//! answer names (`VcoRouteConnectionIds`). A failed call (the server
//! restarting) is retried after the IKE back-off's schedule
//! ([`super::backoff::Policy`]) with jitter, so that the agents of a restarted server do not all come back at
//! once; the tunnels stay as they are meanwhile, and the revision survives
//! the server's restart (it is in the database). A server without
//! `WatchGatewayState` is polled instead ([`Poller`]).
//!
//! [`Poller`]: reads the gateway, its connections and their customer
//! gateways through the public Describe* calls every interval.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::watch;
use vpngw_api::vpngw::watch::{DEFAULT_WAIT_S, MAX_WAIT_S};
use vpngw_client::{Client, ClientError};
use vpngw_model::dataplane::{ConnectionAnswer, GatewayAnswer, WatchAnswer};

use super::backoff::Policy;
use super::desired::{self, FetchedConnection, GatewayState};

/// The latest desired state; `None` until the first read.
pub type Desired = Option<Arc<GatewayState>>;

/// The wait before watching again after failed calls: short at first (a
/// server restarting is back within a second), doubling to a few seconds.
const RETRY: Policy = Policy {
    first: Duration::from_millis(200),
    factor: 2,
    cap: Duration::from_secs(5),
};

/// The wait after `failures` failed calls in a row: [`RETRY`]'s delay, of
/// which a random part (up to half) is left out, so that the agents that
/// lost the same server spread their returns.
fn retry_delay(failures: u32) -> Duration {
    RETRY
        .delay(failures)
        .mul_f64(rand::rng().random_range(0.5..=1.0))
}

/// Publishes `state` unless it says the same as the current one.
pub fn publish(out: &watch::Sender<Desired>, state: GatewayState) {
    out.send_if_modified(|current| {
        if current.as_deref().is_some_and(|c| c.same_as(&state)) {
            return false;
        }
        *current = Some(Arc::new(state));
        true
    });
}

/// Reads the desired state every `interval` through the public API.
pub struct Poller {
    client: Client,
    gateway_id: String,
    interval: Duration,
    cgw_ips: HashMap<String, String>,
    vco_routes: desired::VcoRoutes,
}

impl Poller {
    pub fn new(client: Client, gateway_id: &str, interval: Duration) -> Poller {
        Poller {
            client,
            gateway_id: gateway_id.to_owned(),
            interval,
            cgw_ips: HashMap::new(),
            vco_routes: desired::VcoRoutes::new(),
        }
    }

    /// Runs forever, publishing what changed.
    pub async fn run(mut self, out: watch::Sender<Desired>) {
        loop {
            match desired::fetch(
                &self.client,
                &self.gateway_id,
                &mut self.cgw_ips,
                &mut self.vco_routes,
            )
            .await
            {
                Ok(state) => publish(&out, state),
                // Keep the tunnels as they are until the API answers again.
                Err(e) => {
                    tracing::warn!(error = %e, "reading the desired state failed; keeping the current configuration")
                }
            }
            tokio::time::sleep(self.interval).await;
        }
    }
}

/// The desired state as the watch answers build it up: the public views it
/// came as (a connection's configuration depends on its gateway's answer,
/// so a changed gateway recomputes them all).
#[derive(Default)]
struct Views {
    gateway: GatewayAnswer,
    connections: BTreeMap<String, ConnectionAnswer>,
    cgw_ips: HashMap<String, String>,
    state: GatewayState,
}

impl Views {
    /// Takes one `WatchGatewayState` answer with `Changed: true`.
    fn merge(&mut self, answer: WatchAnswer) {
        let full = answer.full;
        for c in answer.customer_gateways {
            if !c.customer_gateway_id.is_empty() && !c.ip_address.is_empty() {
                self.cgw_ips.insert(c.customer_gateway_id, c.ip_address);
            }
        }
        let gateway = answer.vpn_gateway.unwrap_or_default();
        let addrs_changed =
            desired::gateway_addrs(&gateway) != desired::gateway_addrs(&self.gateway);
        self.gateway = gateway;
        if full {
            self.connections.clear();
        }
        let mut changed: Vec<String> = Vec::new();
        for id in answer.deleted_vpn_connection_ids {
            self.connections.remove(&id);
            changed.push(id);
        }
        for view in answer.vpn_connections {
            if !view.vpn_connection_id.is_empty() {
                let id = view.vpn_connection_id.clone();
                self.connections.insert(id.clone(), view);
                changed.push(id);
            }
        }
        let mut state = if full || addrs_changed {
            GatewayState::default()
        } else {
            std::mem::take(&mut self.state)
        };
        state.gone = false;
        state.local_addrs = desired::gateway_addrs(&self.gateway);
        state.vswitch_blocks = answer
            .v_switch_cidr_blocks
            .iter()
            .filter_map(|b| b.parse().ok())
            .collect();
        let ids: Vec<String> = if full || addrs_changed {
            self.connections.keys().cloned().collect()
        } else {
            changed
        };
        let lookup = |id: &str| self.cgw_ips.get(id).cloned();
        for id in ids {
            state.connections.remove(&id);
            state.unreadable.remove(&id);
            let Some(view) = self.connections.get(&id) else {
                continue;
            };
            match FetchedConnection::from_view(view, &self.gateway, &lookup) {
                Ok(c) => {
                    state.connections.insert(id, Arc::new(c));
                }
                Err(why) => {
                    state.unreadable.insert(id, why);
                }
            }
        }
        self.state = state;
    }
}

/// Watches the desired state (`WatchGatewayState`). See the module
/// documentation.
pub struct Watcher {
    client: Client,
    gateway_id: String,
    fallback: Poller,
}

/// Why a watch (with the reads it calls for) did not give a new state.
enum Failure {
    /// The gateway was deleted.
    Gone,
    /// The server does not know `WatchGatewayState`.
    Unsupported,
    /// Anything else: try again later.
    Transient(ClientError),
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        if e.is_not_found() {
            Failure::Gone
        } else {
            Failure::Transient(e)
        }
    }
}

impl Watcher {
    /// `fallback_interval`: how often a server without `WatchGatewayState`
    /// is polled.
    pub fn new(client: Client, gateway_id: &str, fallback_interval: Duration) -> Watcher {
        Watcher {
            // The server holds a watch up to its longest wait.
            client: client
                .clone()
                .timeout(Duration::from_secs(MAX_WAIT_S.unsigned_abs() + 10)),
            gateway_id: gateway_id.to_owned(),
            fallback: Poller::new(client, gateway_id, fallback_interval),
        }
    }

    async fn watch(&self, revision: Option<&str>) -> Result<WatchAnswer, Failure> {
        let wait = DEFAULT_WAIT_S.to_string();
        let mut params = vec![
            ("VpnGatewayId", self.gateway_id.as_str()),
            ("WaitSeconds", wait.as_str()),
        ];
        if let Some(r) = revision {
            params.push(("Revision", r));
        }
        match self.client.vpngw_typed("WatchGatewayState", &params).await {
            Ok(answer) => Ok(answer),
            Err(e)
                if matches!(
                    e.code(),
                    Some("InvalidAction.NotFound" | "UnsupportedOperation")
                ) =>
            {
                Err(Failure::Unsupported)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One watch and the reads its answer calls for; the revision to
    /// state next. Until they all succeed the revision stays, so the same
    /// change is answered again (taking an answer twice is harmless).
    async fn next(
        &self,
        views: &mut Views,
        vco_routes: &mut desired::VcoRoutes,
        revision: Option<&str>,
    ) -> Result<Option<String>, Failure> {
        let mut answer = self.watch(revision).await?;
        let revision = std::mem::take(&mut answer.revision);
        let changed = answer.changed;
        if answer.vco_routes_changed {
            // Named (a delta), or any (a full answer, or a server that does
            // not name them).
            let named = std::mem::take(&mut answer.vco_route_connection_ids);
            let full = answer.full || named.is_empty();
            vco_routes.changed((!full).then_some(named.as_slice()));
        }
        if changed {
            views.merge(answer);
            let (client, gw) = (&self.client, self.gateway_id.as_str());
            (views.state.routes, views.state.published) = desired::fetch_routes(
                client,
                gw,
                vco_routes,
                &views.state,
                desired::VcoReads::Changed,
            )
            .await?;
            views.state.ssl_server = desired::fetch_ssl_server(client, gw).await?;
            views.state.ipsec_server = desired::fetch_ipsec_server(client, gw).await?;
        }
        // An answer without a revision starts over (a full answer next).
        Ok(Some(revision).filter(|r| !r.is_empty()))
    }

    /// Runs forever, publishing what changed.
    pub async fn run(self, out: watch::Sender<Desired>) {
        let mut views = Views::default();
        let mut vco_routes = desired::VcoRoutes::new();
        let mut revision: Option<String> = None;
        let mut failures = 0u32;
        loop {
            let failure = match self
                .next(&mut views, &mut vco_routes, revision.as_deref())
                .await
            {
                Ok(next) => {
                    publish(&out, views.state.clone());
                    revision = next;
                    failures = 0;
                    continue;
                }
                Err(f) => f,
            };
            match failure {
                Failure::Gone => {
                    publish(&out, GatewayState::gone());
                    views = Views::default();
                    revision = None;
                    tokio::time::sleep(self.fallback.interval).await;
                }
                Failure::Unsupported => {
                    tracing::warn!(
                        interval_ms = self.fallback.interval.as_millis() as u64,
                        "the server has no WatchGatewayState: polling the desired state instead"
                    );
                    return self.fallback.run(out).await;
                }
                Failure::Transient(e) => {
                    failures = failures.saturating_add(1);
                    let wait = retry_delay(failures);
                    // Keep the tunnels as they are until the API answers again.
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "watching the desired state failed; keeping the current configuration");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A `WatchGatewayState` answer as the agent reads it off the wire.
    fn answer(v: Value) -> WatchAnswer {
        serde_json::from_value(v).expect("a watch answer")
    }

    fn connection(id: &str, cgw: &str, remote: &str) -> Value {
        json!({
            "VpnConnectionId": id, "VpnGatewayId": "vpn-1", "CustomerGatewayId": cgw,
            "LocalSubnet": "10.0.0.0/24", "RemoteSubnet": remote, "EffectImmediately": true,
            "IkeConfig": {"IkeVersion": "ikev2", "Psk": "k"}, "IpsecConfig": {},
        })
    }

    #[test]
    fn full_then_delta_answers_build_the_state() {
        let mut v = Views::default();
        v.merge(answer(json!({
            "Changed": true, "Full": true, "Revision": "5",
            "VpnGateway": {"VpnGatewayId": "vpn-1", "InternetIp": "198.18.0.1"},
            "VpnConnections": [connection("vco-1", "cgw-1", "10.1.0.0/24"),
                               connection("vco-2", "cgw-2", "10.2.0.0/24")],
            "CustomerGateways": [{"CustomerGatewayId": "cgw-1", "IpAddress": "203.0.113.1"},
                                 {"CustomerGatewayId": "cgw-2", "IpAddress": "203.0.113.2"}],
        })));
        assert_eq!(v.state.connections.len(), 2);
        let first = v.state.connections["vco-1"].clone();
        // A delta: one changed, one deleted, one added with an unknown
        // customer gateway (unreadable, with the reason).
        v.merge(answer(json!({
            "Changed": true, "Full": false, "Revision": "7",
            "VpnGateway": {"VpnGatewayId": "vpn-1", "InternetIp": "198.18.0.1"},
            "VpnConnections": [connection("vco-2", "cgw-2", "10.9.0.0/24"),
                               connection("vco-3", "cgw-9", "10.3.0.0/24")],
            "DeletedVpnConnectionIds": ["vco-1"],
        })));
        assert!(!v.state.connections.contains_key("vco-1"));
        assert_eq!(
            v.state.connections["vco-2"].spec.remote_subnet,
            "10.9.0.0/24"
        );
        assert!(v.state.unreadable["vco-3"].contains("cgw-9"));
        // An unchanged connection keeps its (shared) value.
        v.merge(answer(json!({
            "Changed": true, "Full": false,
            "VpnGateway": {"VpnGatewayId": "vpn-1", "InternetIp": "198.18.0.1"},
            "VpnConnections": [connection("vco-1", "cgw-1", "10.1.0.0/24")],
        })));
        assert_eq!(v.state.connections["vco-1"].digest, first.digest);
        let kept = v.state.connections["vco-2"].clone();
        v.merge(answer(json!({
            "Changed": true, "Full": false,
            "VpnGateway": {"VpnGatewayId": "vpn-1", "InternetIp": "198.18.0.1"},
            "DeletedVpnConnectionIds": ["vco-3"],
        })));
        assert!(Arc::ptr_eq(&kept, &v.state.connections["vco-2"]));
        assert!(v.state.unreadable.is_empty());
        // A new gateway address changes every tunnel.
        v.merge(answer(json!({
            "Changed": true, "Full": false,
            "VpnGateway": {"VpnGatewayId": "vpn-1", "InternetIp": "198.18.0.9"},
        })));
        assert_eq!(
            v.state.local_addrs,
            vec!["198.18.0.9".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(
            v.state.connections["vco-2"].spec.tunnels[0].local_addr,
            "198.18.0.9"
        );
    }
}
