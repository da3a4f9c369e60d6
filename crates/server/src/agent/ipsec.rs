//! The IPsec part: the gateway's IPsec connections on charon (or the
//! simulated data plane), through [`Dataplane`].
//!
//! Desired section: `GatewayState::local_addrs` and `connections`. Report
//! section: one `ConnectionReport` per connection (status, reason, tunnels
//! with counters, health check, withdrawn route) and the log events of its
//! tunnels.
//!
//! [`Part::apply`] converges charon to the desired connections (only what
//! changed is loaded; what disappeared is unloaded and its SAs terminated).
//! [`Part::step`] starts the tunnels charon loaded (in waves: see
//! `Applier::ensure_initiated`) and re-initiates those that lost their SAs
//! (each when its [`super::backoff`] allows: a peer that keeps refusing is
//! not hammered; [`Part::wait`] wakes when a back-off ends or a place in the
//! wave frees, not only on charon's events and the periodic reconcile), reads the SA
//! state, turns charon's events into log lines and reasons, runs the
//! health-check probes, makes the routes true (`routing.rs`: the static
//! routes, the health checks under `revoke_route` and what the BGP sessions
//! learned become route children, promotions and `unreachable` rules) and
//! reports every connection, with each tunnel's `BgpStatus` and learned
//! routes as the BGP part measured them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use tokio::sync::watch;
use vpngw_dataplane::forwarding::{self, Forwarding};
use vpngw_dataplane::{
    Dataplane, DataplaneEvent, EventKind, GatewayDesired, TunnelErrorKind, TunnelState,
    TunnelStatus, failure_reason,
};
use vpngw_model::dataplane::{
    ConnectionReport, DataplaneReport, LearnedRoute, ReportedEvent, TunnelReport,
};

use super::desired::{FetchedConnection, GatewayState};
use super::health::{self, HealthCheck, Transition};
use super::part::Part;
use super::routing::{BgpView, Links, routing_input};

/// charon log groups that are packet-level noise, not worth a log line.
pub(super) const NOISY_GROUPS: &[&str] = &["NET", "ENC", "LIB", "ASN", "ESP", "TLS", "JOB"];
/// Periodic chatter that says nothing about the outcome (DPD liveness checks,
/// retransmits; "giving up" and the failure that follows are kept).
pub(super) const NOISY_MESSAGES: &[&str] = &[
    "sending DPD request",
    "received DPD request",
    "sending retransmit",
    "sending keep alive",
    "vendor ID",
    "scheduling rekeying",
    "maximum IKE_SA lifetime",
];
/// After an event, wait this long for the rest of its burst (IKE up, then
/// CHILD up) before measuring.
pub(super) const SETTLE: Duration = Duration::from_millis(50);

pub(super) fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn rank(s: TunnelState) -> u8 {
    match s {
        TunnelState::IkeSaNotEstablished => 0,
        TunnelState::IkeSaEstablished => 1,
        TunnelState::IpsecSaEstablished => 2,
    }
}

/// The IPsec connections of one gateway. See the module documentation.
pub struct IpsecPart<D: Dataplane> {
    backend: D,
    gateway_id: String,
    /// How often SAs are checked and lost ones re-initiated without an event.
    reconcile: Duration,
    next_reconcile: Instant,
    desired: Arc<GatewayState>,
    /// The data plane's form of `desired`.
    gateway: GatewayDesired,
    /// `gateway` is what the backend holds (false after a change or a
    /// failed call: the next step applies it again).
    converged: bool,
    /// Last failure explanation seen in charon's log, per tunnel.
    reasons: HashMap<String, String>,
    /// Render/load errors of the last apply, per tunnel.
    errors: HashMap<String, String>,
    /// Problems already logged once (not repeated every step).
    logged: HashSet<String>,
    health: HashMap<String, HealthCheck>,
    /// Log lines for the next report.
    events: Vec<ReportedEvent>,
    last_state: HashMap<String, TunnelState>,
    /// Why the data plane could not be read on the last step.
    outage: Option<String>,
    /// Tunnels with an IPsec SA, for the BGP part.
    up: watch::Sender<BTreeSet<String>>,
    /// The BGP sessions, from the BGP part.
    bgp: watch::Receiver<BgpView>,
    /// The forwarding last applied, and its route children by tunnel.
    forwarding: Forwarding,
    /// When each down tunnel may be initiated again ([`super::backoff`]).
    backoffs: super::backoff::Backoffs,
}

impl<D: Dataplane> IpsecPart<D> {
    pub fn new(backend: D, gateway_id: &str, reconcile: Duration, links: &Links) -> IpsecPart<D> {
        IpsecPart {
            backend,
            gateway_id: gateway_id.to_owned(),
            reconcile,
            next_reconcile: Instant::now(),
            desired: Arc::new(GatewayState::default()),
            gateway: GatewayState::default().desired(gateway_id),
            converged: false,
            reasons: HashMap::new(),
            errors: HashMap::new(),
            logged: HashSet::new(),
            health: HashMap::new(),
            events: Vec::new(),
            last_state: HashMap::new(),
            outage: None,
            up: links.up_tx.clone(),
            bgp: links.bgp_rx.clone(),
            forwarding: Forwarding::default(),
            backoffs: super::backoff::Backoffs::default(),
        }
    }

    /// The data plane's desired state: the connections with the route
    /// children of the current forwarding.
    fn gateway_desired(&self) -> GatewayDesired {
        let mut gateway = self.desired.desired(&self.gateway_id);
        for c in &mut gateway.connections {
            for t in &mut c.tunnels {
                if let Some(children) = self.forwarding.children.get(&t.tunnel_id) {
                    t.route_children = children.iter().copied().collect();
                }
            }
        }
        gateway
    }

    /// Makes the routes true (see `routing.rs`): recomputes the forwarding
    /// from what was just measured, loads changed route children (without
    /// renegotiating), promotes and blocks.
    async fn route(&mut self, statuses: &HashMap<String, TunnelStatus>) {
        let bgp = self.bgp.borrow_and_update().clone();
        let input = routing_input(&self.desired, statuses, &self.health, &bgp);
        let fw = forwarding::compute(&input);
        for (cell, decision) in &fw.table {
            let before = self
                .forwarding
                .table
                .iter()
                .find(|(c, _)| c == cell)
                .map(|(_, d)| d);
            if before != Some(decision) {
                tracing::info!(cell = %cell, target = ?decision.target, via = decision.via.as_str(), "forwarding");
            }
        }
        let children_changed = fw.children != self.forwarding.children;
        self.forwarding = fw;
        if children_changed {
            self.gateway = self.gateway_desired();
            self.converged = false;
            if let Err(e) = self.converge().await {
                tracing::warn!(error = %e, "loading the route children failed; retrying on the next step");
            }
        }
        match self.backend.apply_forwarding(&self.forwarding).await {
            Ok(r) => {
                for p in &r.promoted {
                    tracing::info!(tunnel = %p.tunnel, selector = %p.selector, "rekeyed to carry the traffic of its selectors (newest SA)");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "applying the forwarding failed; retrying on the next step")
            }
        }
        let up: BTreeSet<String> = statuses
            .iter()
            .filter(|(_, s)| s.ipsec_established)
            .map(|(t, _)| t.clone())
            .collect();
        self.up.send_if_modified(|current| {
            if *current == up {
                return false;
            }
            *current = up;
            true
        });
    }

    async fn converge(&mut self) -> Result<(), vpngw_dataplane::BackendError> {
        if !self.converged {
            let report = self.backend.apply(&self.gateway).await?;
            if !report.loaded.is_empty() || !report.unloaded.is_empty() {
                tracing::info!(loaded = ?report.loaded, unloaded = ?report.unloaded, "applied configuration");
            }
            for name in &report.loaded {
                self.errors.remove(name);
                self.reasons.remove(name);
                self.backoffs.reconfigured(name);
            }
            for name in &report.unloaded {
                self.errors.remove(name);
            }
            for e in &report.errors {
                let text = match &e.kind {
                    TunnelErrorKind::Render(r) => r.to_string(),
                    TunnelErrorKind::Rejected { command, message } => {
                        format!("the gateway rejected {command}: {message}")
                    }
                };
                if self.errors.get(&e.tunnel_id) != Some(&text) {
                    tracing::warn!(connection = %e.connection_id, tunnel = %e.tunnel_id, "{text}");
                    self.push_event(
                        &e.connection_id,
                        &e.tunnel_id,
                        format!("configuration not applied: {text}"),
                    );
                    self.errors.insert(e.tunnel_id.clone(), text);
                }
            }
            self.converged = true;
        }
        let now = Instant::now();
        let backoffs = &mut self.backoffs;
        let started = self
            .backend
            .ensure_up(&mut |tunnel| may_initiate(backoffs, tunnel, now))
            .await?;
        if !started.is_empty() {
            tracing::debug!(?started, "initiated");
        }
        Ok(())
    }

    fn push_event(&mut self, connection: &str, tunnel: &str, message: String) {
        self.events.push(ReportedEvent {
            vpn_connection_id: connection.to_owned(),
            tunnel_id: if tunnel == connection {
                String::new()
            } else {
                tunnel.to_owned()
            },
            time: epoch_ms(SystemTime::now()),
            message,
            ..ReportedEvent::default()
        });
    }

    fn collect_events(&mut self, events: Vec<DataplaneEvent>) {
        let desired = self.desired.clone();
        for e in events {
            let Some(tunnel) = e.tunnel_id.clone() else {
                tracing::info!(group = e.group.as_deref().unwrap_or(""), "{}", e.message);
                continue;
            };
            let Some(conn) = desired.connection_of_tunnel(&tunnel) else {
                continue;
            };
            let id = conn.spec.connection_id.clone();
            if e.kind == EventKind::Log {
                if let Some(reason) = failure_reason(&e.message) {
                    let before = self.reasons.insert(tunnel.clone(), reason.to_owned());
                    if before.as_deref() != Some(reason) {
                        // One plain line saying why, besides charon's own.
                        self.push_event(&id, &tunnel, format!("not established: {reason}"));
                    }
                }
                if e.group
                    .as_deref()
                    .is_some_and(|g| NOISY_GROUPS.contains(&g))
                    || NOISY_MESSAGES.iter().any(|m| e.message.contains(m))
                {
                    continue;
                }
            }
            tracing::info!(connection = %id, tunnel = %tunnel, "{}", e.message);
            self.events.push(ReportedEvent {
                vpn_connection_id: id.clone(),
                tunnel_id: if tunnel == id { String::new() } else { tunnel },
                time: epoch_ms(e.at),
                message: e.message,
                ..ReportedEvent::default()
            });
        }
    }

    async fn run_health_checks(&mut self) {
        let desired = self.desired.clone();
        let now = Instant::now();
        let mut keep = HashSet::new();
        for c in desired.connections.values() {
            let Some(spec) = &c.spec.health_check else {
                continue;
            };
            keep.insert(c.spec.connection_id.clone());
            let fresh = self
                .health
                .get(&c.spec.connection_id)
                .is_none_or(|h| &h.spec != spec);
            if fresh {
                let h = HealthCheck::new(spec.clone(), now);
                if let Err(why) = &h.endpoints {
                    tracing::warn!(connection = %c.spec.connection_id, "{why}");
                    self.push_event(&c.spec.connection_id.clone(), "", why.clone());
                }
                // A changed check starts afresh (the routes it withdrew are
                // back with the next forwarding).
                self.health.insert(c.spec.connection_id.clone(), h);
            }
        }
        // Checks of connections that are gone or no longer have one.
        self.health.retain(|k, _| keep.contains(k));

        let due: Vec<(String, std::net::IpAddr, std::net::IpAddr)> = self
            .health
            .iter()
            .filter(|(_, h)| h.due(now))
            .filter_map(|(id, h)| h.endpoints.as_ref().ok().map(|(s, d)| (id.clone(), *s, *d)))
            .collect();
        // Unusable endpoints: failed, re-evaluated every interval.
        for h in self.health.values_mut() {
            if h.endpoints.is_err() && h.due(now) {
                h.record(false, now);
            }
        }
        if due.is_empty() {
            return;
        }
        let results = {
            let b: &D = &self.backend;
            futures_util::future::join_all(
                due.iter()
                    .map(|(_, s, d)| b.probe(*s, *d, health::PROBE_TIMEOUT)),
            )
            .await
        };
        let now = Instant::now();
        for ((id, sip, dip), answered) in due.into_iter().zip(results) {
            let Some(h) = self.health.get_mut(&id) else {
                continue;
            };
            let transition = h.record(answered, now);
            let Some(conn) = desired.connections.get(&id) else {
                continue;
            };
            let subnets = remote_subnets(conn);
            match transition {
                Transition::None => {}
                Transition::Up { restore } => {
                    let mut msg = format!("health check {sip} -> {dip}: success");
                    if restore {
                        msg.push_str(&format!(
                            "; routes through the connection (to {}) restored",
                            subnets.join(",")
                        ));
                    }
                    tracing::info!(connection = %id, "{msg}");
                    self.push_event(&id, "", msg);
                }
                Transition::Down { failures, withdraw } => {
                    let mut msg = format!(
                        "health check {sip} -> {dip}: failed ({failures} probes unanswered)"
                    );
                    if withdraw {
                        msg.push_str(&format!(
                            "; routes through the connection (to {}) withdrawn (revoke_route): its traffic takes the standby routes, or is dropped",
                            subnets.join(",")
                        ));
                    }
                    tracing::warn!(connection = %id, "{msg}");
                    self.push_event(&id, "", msg);
                }
            }
        }
    }

    fn note_transitions(&mut self, statuses: &HashMap<String, TunnelStatus>) {
        let mut seen = HashSet::new();
        for c in self.desired.connections.values() {
            for t in &c.spec.tunnels {
                seen.insert(t.tunnel_id.clone());
                let now = statuses
                    .get(&t.tunnel_id)
                    .map_or(TunnelState::IkeSaNotEstablished, |s| s.state);
                let before = self.last_state.insert(t.tunnel_id.clone(), now);
                if before != Some(now) {
                    tracing::info!(connection = %c.spec.connection_id, tunnel = %t.tunnel_id, status = now.api_status(), "status");
                    // A tunnel that comes up is probed at once, so that a
                    // route its check withdrew is back as soon as it can be.
                    if now == TunnelState::IpsecSaEstablished
                        && let Some(h) = self.health.get_mut(&c.spec.connection_id)
                    {
                        h.next_due = Instant::now();
                    }
                }
                if now == TunnelState::IpsecSaEstablished {
                    self.reasons.remove(&t.tunnel_id);
                }
                self.backoffs
                    .observe(&t.tunnel_id, now != TunnelState::IkeSaNotEstablished);
            }
        }
        self.last_state.retain(|k, _| seen.contains(k));
        self.backoffs.retain(|k| seen.contains(k));
        self.reasons.retain(|k, _| seen.contains(k));
    }

    fn tunnel_reason(&self, id: &str, status: Option<&TunnelStatus>) -> String {
        if let Some(e) = self.errors.get(id) {
            return e.clone();
        }
        let Some(s) = status else {
            return self
                .outage
                .clone()
                .unwrap_or_else(|| "not configured on the gateway".into());
        };
        let logged = self.reasons.get(id);
        match s.state {
            TunnelState::IpsecSaEstablished => String::new(),
            TunnelState::IkeSaEstablished => match logged {
                Some(r) => format!("IKE SA established, IPsec SA not: {r}"),
                None => "IKE SA established, IPsec SA not (yet)".into(),
            },
            TunnelState::IkeSaNotEstablished => match (logged, s.ike_state.as_deref()) {
                (Some(r), _) => r.clone(),
                (None, Some(state)) => format!("negotiating (IKE SA {state})"),
                (None, None) if self.backend.name() == "simulated" => {
                    "simulated data plane: nothing is negotiated".into()
                }
                (None, None) => "no IKE SA".into(),
            },
        }
    }

    fn connection_report(
        &self,
        c: &FetchedConnection,
        statuses: &HashMap<String, TunnelStatus>,
        bgp: &BgpView,
    ) -> ConnectionReport {
        let mut tunnels = Vec::new();
        let mut best = TunnelState::IkeSaNotEstablished;
        for t in &c.spec.tunnels {
            let s = statuses.get(&t.tunnel_id);
            let state = match &c.desired {
                Ok(_) => s.map_or(TunnelState::IkeSaNotEstablished, |s| s.state),
                Err(_) => TunnelState::IkeSaNotEstablished,
            };
            if rank(state) > rank(best) {
                best = state;
            }
            let reason = match &c.desired {
                Err(why) => why.clone(),
                Ok(_) => self.tunnel_reason(&t.tunnel_id, s),
            };
            let mut report = TunnelReport {
                tunnel_id: t.tunnel_id.clone(),
                status: state.api_status().to_owned(),
                reason,
                ike_state: s.and_then(|s| s.ike_state.clone()).unwrap_or_default(),
                bytes_in: s.map_or(0, |s| s.bytes_in),
                bytes_out: s.map_or(0, |s| s.bytes_out),
                packets_in: s.map_or(0, |s| s.packets_in),
                packets_out: s.map_or(0, |s| s.packets_out),
                ..TunnelReport::default()
            };
            if t.bgp.is_some() {
                let session = bgp.sessions.get(&t.tunnel_id);
                let up = session.is_some_and(|s| s.established);
                report.bgp_status = if up { "true" } else { "false" }.to_owned();
                report.bgp_reason = match session {
                    Some(s) => s.reason.clone(),
                    None => "BGP session not measured yet".to_owned(),
                };
                report.learned_routes = Some(
                    session
                        .filter(|s| s.established)
                        .map(|s| {
                            s.learned
                                .iter()
                                .map(|l| LearnedRoute {
                                    route_dest: l.prefix.to_string(),
                                    as_path: l
                                        .as_path
                                        .iter()
                                        .map(ToString::to_string)
                                        .collect::<Vec<_>>()
                                        .join(" "),
                                    community: l.communities.join(" "),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                );
            }
            tunnels.push(report);
        }
        // A dual-tunnel connection carries traffic when either tunnel does.
        let reason = if best == TunnelState::IpsecSaEstablished {
            String::new()
        } else if tunnels.len() == 1 {
            tunnels[0].reason.clone()
        } else {
            tunnels
                .iter()
                .map(|t| format!("{}: {}", t.tunnel_id, t.reason))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let health = self.health.get(&c.spec.connection_id);
        ConnectionReport {
            vpn_connection_id: c.spec.connection_id.clone(),
            config_digest: c.digest.clone(),
            status: best.api_status().to_owned(),
            reason,
            tunnels,
            health_check_status: health.map_or("", |h| h.status).to_owned(),
            route_withdrawn: health.is_some_and(|h| h.withdrawn),
        }
    }
}

#[async_trait(?Send)]
impl<D: Dataplane> Part for IpsecPart<D> {
    fn name(&self) -> &'static str {
        "ipsec"
    }

    async fn apply(&mut self, desired: &Arc<GatewayState>) {
        if desired.gone && !self.desired.gone {
            tracing::warn!(gateway = %self.gateway_id, "the VPN gateway does not exist (any more): unloading every tunnel");
        }
        for (id, why) in &desired.unreadable {
            if self.logged.insert(format!("unreadable {id} {why}")) {
                tracing::warn!(connection = %id, "cannot read the connection's configuration: {why}");
            }
        }
        self.desired = desired.clone();
        self.gateway = self.gateway_desired();
        self.converged = false;
        // Measure at once: the new configuration is loaded in the step.
        self.next_reconcile = Instant::now();
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        let mut until = self.next_reconcile;
        for h in self.health.values() {
            until = until.min(h.next_due);
        }
        // A tunnel may be initiated when its back-off ends, or when a place
        // in the wave of starts frees without an SA coming up (see
        // `Applier::ensure_initiated`): the step then initiates it, not the
        // next periodic reconcile.
        let starts = [
            self.backoffs.next_end(now),
            self.backend.next_start_at().filter(|t| *t > now),
        ];
        for t in starts.into_iter().flatten() {
            until = until.min(t);
        }
        if until > now {
            tokio::select! {
                event = self.backend.wait_event(until.saturating_duration_since(now)) => {
                    if event {
                        // Let a burst of events (IKE up, then CHILD up) settle.
                        tokio::time::sleep(SETTLE).await;
                    }
                }
                // A BGP session came up or went down, or learned something:
                // the forwarding changes.
                changed = self.bgp.changed() => {
                    if changed.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        } else {
            // Yield, so that a part that is always due cannot starve the loop.
            tokio::task::yield_now().await;
        }
    }

    async fn step(&mut self, out: &mut DataplaneReport) {
        self.next_reconcile = Instant::now() + self.reconcile;
        // When the data plane cannot be read (charon died and is being
        // restarted), nothing is established as far as anyone can tell:
        // report that, with the reason, rather than leave the last status.
        let gateway = self.gateway.clone();
        let measured = match self.converge().await {
            Ok(()) => self.backend.status(&gateway).await,
            Err(e) => Err(e),
        };
        let statuses = match measured {
            Ok(s) => {
                self.outage = None;
                s
            }
            Err(e) => {
                tracing::warn!(error = %e, "data plane call failed; retrying on the next step");
                self.outage = Some(format!("gateway data plane unavailable: {e}"));
                // Whatever charon holds now is unknown: load it all again.
                self.converged = false;
                HashMap::new()
            }
        };
        let events = self.backend.take_events();
        self.collect_events(events);
        self.note_transitions(&statuses);
        self.run_health_checks().await;
        if self.outage.is_none() {
            self.route(&statuses).await;
        }
        if !self.desired.gone {
            let desired = self.desired.clone();
            let bgp = self.bgp.borrow().clone();
            out.connections.extend(
                desired
                    .connections
                    .values()
                    .map(|c| self.connection_report(c, &statuses, &bgp)),
            );
        }
        out.events.append(&mut self.events);
    }
}

/// Asks the tunnel's back-off whether to initiate it now, and logs each
/// back-off step (one line per initiation of a tunnel that keeps failing).
fn may_initiate(backoffs: &mut super::backoff::Backoffs, tunnel: &str, now: Instant) -> bool {
    match backoffs.try_initiate(tunnel, now) {
        super::backoff::Decision::Wait => false,
        super::backoff::Decision::Start => true,
        super::backoff::Decision::Initiate(step) => {
            tracing::warn!(
                tunnel,
                failed_initiations = step.failures,
                next_in_s = step.next_in.as_secs_f64(),
                "tunnel down: initiating it again (back-off: the next attempt waits {:?} if this one fails too)",
                step.next_in
            );
            true
        }
    }
}

fn remote_subnets(c: &FetchedConnection) -> Vec<String> {
    c.spec
        .remote_subnet
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}
