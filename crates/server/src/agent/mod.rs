//! `vpngw agent`: runs beside one gateway's data plane and keeps it in step
//! with the control plane.
//!
//! Every tick: read the gateway's desired state through the public API
//! ([`desired::fetch`]) → [`Dataplane::apply`] (only what changed is loaded)
//! → [`Dataplane::ensure_up`] → [`Dataplane::status`] → health-check probes
//! → `ReportDataplaneState` (statuses, reasons, counters, health checks, log
//! events). The loop also wakes at once when charon reports an SA going up
//! or down. The control plane keeps no agent session: restarting either side
//! converges again on the next tick, and a connection deleted through the
//! API disappears from the desired state, so the applier unloads it and its
//! SAs are terminated.

mod crypto_check;
pub mod desired;
pub mod health;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use clap::{Args, ValueEnum};
use vpngw_client::Client;
use vpngw_dataplane::{
    CharonConfig, Dataplane, DataplaneEvent, DpdTiming, EventKind, GatewayDesired, RenderOptions,
    Retransmit, Simulated, StrongSwan, TunnelState, TunnelStatus, failure_reason,
};
use vpngw_model::dataplane::{ConnectionReport, DataplaneReport, ReportedEvent, TunnelReport};

use desired::{Fetched, FetchedConnection};
use health::{HealthCheck, Transition};

/// Which data plane the agent drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Backend {
    /// A real charon (root; kernel-libipsec).
    Strongswan,
    /// Nothing is negotiated; deterministic; no root (tests, benchmarks).
    Simulated,
}

/// charon's IKE retransmission schedule (how fast a silent IKEv2 peer is
/// declared dead).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RetransmitSchedule {
    /// 2 s, ×1.5, 3 tries (≈16 s).
    Gateway,
    /// 1 s, ×1, 2 tries (3 s): labs and tests.
    Fast,
    /// strongSwan's defaults (≈165 s).
    Strongswan,
}

#[derive(Args, Clone, Debug)]
pub struct AgentArgs {
    /// The VPN gateway this agent serves (`vpn-…`).
    #[arg(long, env = "VPNGW_AGENT_GATEWAY")]
    pub gateway: String,

    /// The vpngw API endpoint.
    #[arg(
        long,
        env = "VPNGW_AGENT_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    pub server: String,

    /// The gateway's region.
    #[arg(long, env = "VPNGW_AGENT_REGION", default_value = "cn-hangzhou")]
    pub region: String,

    /// Data plane backend.
    #[arg(long, value_enum, default_value = "strongswan")]
    pub backend: Backend,

    /// Network namespace of the gateway (charon and the health-check probes
    /// run there; the agent itself stays in its own namespace so that it can
    /// reach the API on 127.0.0.1).
    #[arg(long, env = "VPNGW_AGENT_NETNS")]
    pub netns: Option<String>,

    /// Directory for charon's configuration, vici socket and log
    /// (default: /var/lib/vpngw-agent/<gateway>; not under /run).
    #[arg(long, env = "VPNGW_AGENT_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// charon binary.
    #[arg(long, default_value = vpngw_dataplane::charon::DEFAULT_CHARON)]
    pub charon: PathBuf,

    /// charon's plugin `load` list, separated by spaces (`name!`: charon
    /// must load it to start). Default: the plugins vpngw needs, see
    /// docs/dataplane-lab.md. A tunnel whose algorithms the list leaves out
    /// is refused with the reason.
    #[arg(long, env = "VPNGW_AGENT_CHARON_LOAD")]
    pub charon_load: Option<String>,

    /// Milliseconds between two reads of the desired state.
    #[arg(long, default_value_t = 2000)]
    pub interval_ms: u64,

    /// DPD: seconds without traffic before a liveness check.
    #[arg(long, default_value_t = 10)]
    pub dpd_delay_s: u32,

    /// DPD (IKEv1): seconds without an answer before the SAs are cleared.
    #[arg(long, default_value_t = 30)]
    pub dpd_timeout_s: u32,

    /// IKE retransmission schedule (IKEv2 DPD gives up after it).
    #[arg(long, value_enum, default_value = "gateway")]
    pub retransmit: RetransmitSchedule,

    /// Log format: `text` or `json`.
    #[arg(long, env = "VPNGW_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

/// Largest number of connections per ReportDataplaneState call.
const REPORT_CHUNK: usize = 200;
/// Largest number of log events per report.
const MAX_EVENTS: usize = 200;
/// charon log groups that are packet-level noise, not worth a log line.
const NOISY_GROUPS: &[&str] = &["NET", "ENC", "LIB", "ASN", "ESP", "TLS", "JOB"];
/// Periodic chatter that says nothing about the outcome (DPD liveness checks,
/// retransmits; "giving up" and the failure that follows are kept).
const NOISY_MESSAGES: &[&str] = &[
    "sending DPD request",
    "received DPD request",
    "sending retransmit",
    "sending keep alive",
    "vendor ID",
    "scheduling rekeying",
    "maximum IKE_SA lifetime",
];

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let client = Client::from_env(&args.server, &args.region)?.timeout(Duration::from_secs(20));
    let options = RenderOptions {
        dpd: DpdTiming {
            delay_s: args.dpd_delay_s,
            timeout_s: args.dpd_timeout_s,
        },
        ..RenderOptions::default()
    };
    let agent = Agent::new(client, &args);
    match args.backend {
        Backend::Simulated => agent.run(Simulated::new(options)).await,
        Backend::Strongswan => {
            let state_dir = args
                .state_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/var/lib/vpngw-agent").join(&args.gateway));
            let mut config = CharonConfig::new(state_dir, args.netns.clone());
            config.charon_bin = args.charon.clone();
            if let Some(load) = &args.charon_load {
                config.load = load.split_whitespace().map(str::to_owned).collect();
            }
            config.retransmit = match args.retransmit {
                RetransmitSchedule::Gateway => Retransmit::GATEWAY,
                RetransmitSchedule::Fast => Retransmit::FAST,
                RetransmitSchedule::Strongswan => Retransmit::STRONGSWAN,
            };
            let backend = StrongSwan::start(config, options, 1).await?;
            tracing::info!(
                gateway = %args.gateway,
                netns = args.netns.as_deref().unwrap_or("-"),
                charon_pid = backend.charon_pid().unwrap_or(0),
                log = %backend.config().log_path().display(),
                "charon started"
            );
            crypto_check::log_startup(&backend);
            agent.run(backend).await
        }
    }
}

/// Logs on stderr, filtered by `VPNGW_LOG` (default `info`).
pub(crate) fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VPNGW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn epoch_ms(t: SystemTime) -> i64 {
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

/// The control loop of one gateway.
pub struct Agent {
    client: Client,
    gateway_id: String,
    interval: Duration,
    cgw_ips: HashMap<String, String>,
    fetched: Option<Fetched>,
    last_fetch: Option<Instant>,
    /// Last failure explanation seen in charon's log, per tunnel.
    reasons: HashMap<String, String>,
    /// Render/load errors of the last apply, per tunnel.
    errors: HashMap<String, String>,
    /// Problems already logged once (not repeated every tick).
    logged: HashSet<String>,
    health: HashMap<String, HealthCheck>,
    events: Vec<ReportedEvent>,
    last_state: HashMap<String, TunnelState>,
    /// Why the data plane could not be read on the last tick.
    outage: Option<String>,
    backend_name: &'static str,
    agent_name: String,
}

impl Agent {
    pub fn new(client: Client, args: &AgentArgs) -> Agent {
        Agent {
            client,
            gateway_id: args.gateway.clone(),
            interval: Duration::from_millis(args.interval_ms.max(100)),
            cgw_ips: HashMap::new(),
            fetched: None,
            last_fetch: None,
            reasons: HashMap::new(),
            errors: HashMap::new(),
            logged: HashSet::new(),
            health: HashMap::new(),
            events: Vec::new(),
            last_state: HashMap::new(),
            outage: None,
            backend_name: "",
            agent_name: format!(
                "vpngw-agent pid {} on {}",
                std::process::id(),
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .unwrap_or_default()
                    .trim()
            ),
        }
    }

    /// Runs until SIGINT/SIGTERM. Dropping `backend` afterwards stops
    /// charon (which deletes its SAs).
    pub async fn run<D: Dataplane>(mut self, mut backend: D) -> anyhow::Result<()> {
        self.backend_name = backend.name();
        let shutdown = shutdown_signal();
        tokio::pin!(shutdown);
        tracing::info!(gateway = %self.gateway_id, backend = self.backend_name, server = %self.client.endpoint(), "agent running");
        loop {
            self.tick(&mut backend).await;
            let wait = self.next_wait();
            tokio::select! {
                _ = &mut shutdown => break,
                _ = backend.wait_event(wait) => {
                    // Let a burst of events (IKE up, then CHILD up) settle.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tracing::info!(gateway = %self.gateway_id, "agent stopping");
        Ok(())
    }

    fn next_wait(&self) -> Duration {
        let now = Instant::now();
        let mut wait = match self.last_fetch {
            Some(t) => self.interval.saturating_sub(now.duration_since(t)),
            None => Duration::ZERO,
        };
        for h in self.health.values() {
            wait = wait.min(h.next_due.saturating_duration_since(now));
        }
        wait.max(Duration::from_millis(20))
    }

    async fn tick<D: Dataplane>(&mut self, backend: &mut D) {
        let fetch_due = self.last_fetch.is_none_or(|t| t.elapsed() >= self.interval);
        if fetch_due {
            self.last_fetch = Some(Instant::now());
            match desired::fetch(&self.client, &self.gateway_id, &mut self.cgw_ips).await {
                Ok(f) => {
                    if matches!(f, Fetched::Gone) && !matches!(self.fetched, Some(Fetched::Gone)) {
                        tracing::warn!(gateway = %self.gateway_id, "the VPN gateway does not exist (any more): unloading every tunnel");
                    }
                    if let Fetched::Gateway { unreadable, .. } = &f {
                        for (id, why) in unreadable {
                            if self.logged.insert(format!("unreadable {id} {why}")) {
                                tracing::warn!(connection = %id, "cannot read the connection's configuration: {why}");
                            }
                        }
                    }
                    self.fetched = Some(f);
                }
                Err(e) => {
                    // Keep the tunnels as they are until the API answers again.
                    tracing::warn!(error = %e, "reading the desired state failed; keeping the current configuration");
                }
            }
        }
        let Some(fetched) = self.fetched.clone() else {
            return;
        };
        let desired = fetched.desired(&self.gateway_id);
        // When the data plane cannot be read (charon died and is being
        // restarted), nothing is established as far as anyone can tell:
        // report that, with the reason, rather than leave the last status.
        let measured = match self.converge(backend, &desired).await {
            Ok(()) => backend.status(&desired).await,
            Err(e) => Err(e),
        };
        let statuses = match measured {
            Ok(s) => {
                self.outage = None;
                s
            }
            Err(e) => {
                tracing::warn!(error = %e, "data plane call failed; retrying on the next tick");
                self.outage = Some(format!("gateway data plane unavailable: {e}"));
                HashMap::new()
            }
        };
        self.collect_events(backend.take_events(), &fetched);
        self.run_health_checks(backend, &fetched).await;
        self.note_transitions(&fetched, &statuses);
        if let Fetched::Gateway { .. } = fetched {
            self.report(&fetched, &statuses).await;
        }
    }

    async fn converge<D: Dataplane>(
        &mut self,
        backend: &mut D,
        desired: &GatewayDesired,
    ) -> Result<(), vpngw_dataplane::BackendError> {
        let report = backend.apply(desired).await?;
        if !report.loaded.is_empty() || !report.unloaded.is_empty() {
            tracing::info!(loaded = ?report.loaded, unloaded = ?report.unloaded, "applied configuration");
        }
        for name in &report.loaded {
            self.errors.remove(name);
            self.reasons.remove(name);
        }
        for name in &report.unloaded {
            self.errors.remove(name);
        }
        for e in &report.errors {
            let text = match &e.kind {
                vpngw_dataplane::TunnelErrorKind::Render(r) => r.to_string(),
                vpngw_dataplane::TunnelErrorKind::Rejected { command, message } => {
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
        let started = backend.ensure_up().await?;
        if !started.is_empty() {
            tracing::debug!(?started, "initiated");
        }
        Ok(())
    }

    fn connection_of<'a>(fetched: &'a Fetched, tunnel: &str) -> Option<&'a FetchedConnection> {
        fetched
            .connections()
            .iter()
            .find(|c| c.spec.tunnels.iter().any(|t| t.tunnel_id == tunnel))
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
        });
    }

    fn collect_events(&mut self, events: Vec<DataplaneEvent>, fetched: &Fetched) {
        for e in events {
            let Some(tunnel) = e.tunnel_id.clone() else {
                tracing::info!(group = e.group.as_deref().unwrap_or(""), "{}", e.message);
                continue;
            };
            let Some(conn) = Self::connection_of(fetched, &tunnel) else {
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
            });
        }
    }

    async fn run_health_checks<D: Dataplane>(&mut self, backend: &mut D, fetched: &Fetched) {
        let now = Instant::now();
        let mut keep = HashSet::new();
        for c in fetched.connections() {
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
                // A changed check starts afresh: give back a route the old one withdrew.
                if let Some(old) = self.health.insert(c.spec.connection_id.clone(), h)
                    && old.withdrawn
                    && let Ok((sip, _)) = old.endpoints
                {
                    let subnets = remote_subnets(c);
                    let _ = backend.set_route(sip, &subnets, false).await;
                }
            }
        }
        // Checks of connections that are gone or no longer have one.
        let gone: Vec<String> = self
            .health
            .keys()
            .filter(|k| !keep.contains(*k))
            .cloned()
            .collect();
        for id in gone {
            self.health.remove(&id);
        }

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
            let b: &D = backend;
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
            let Some(conn) = fetched
                .connections()
                .iter()
                .find(|c| c.spec.connection_id == id)
            else {
                continue;
            };
            let subnets = remote_subnets(conn);
            match transition {
                Transition::None => {}
                Transition::Up { restore } => {
                    let mut msg = format!("health check {sip} -> {dip}: success");
                    if restore {
                        match backend.set_route(sip, &subnets, false).await {
                            Ok(()) => {
                                msg.push_str(&format!("; route to {} restored", subnets.join(",")))
                            }
                            Err(e) => msg.push_str(&format!("; restoring the route failed: {e}")),
                        }
                    }
                    tracing::info!(connection = %id, "{msg}");
                    self.push_event(&id, "", msg);
                }
                Transition::Down { failures, withdraw } => {
                    let mut msg = format!(
                        "health check {sip} -> {dip}: failed ({failures} probes unanswered)"
                    );
                    if withdraw {
                        match backend.set_route(sip, &subnets, true).await {
                            Ok(()) => msg.push_str(&format!(
                                "; route to {} withdrawn (revoke_route)",
                                subnets.join(",")
                            )),
                            Err(e) => msg.push_str(&format!("; withdrawing the route failed: {e}")),
                        }
                    }
                    tracing::warn!(connection = %id, "{msg}");
                    self.push_event(&id, "", msg);
                }
            }
        }
    }

    fn note_transitions(&mut self, fetched: &Fetched, statuses: &HashMap<String, TunnelStatus>) {
        let mut seen = HashSet::new();
        for c in fetched.connections() {
            for t in &c.spec.tunnels {
                seen.insert(t.tunnel_id.clone());
                let now = statuses
                    .get(&t.tunnel_id)
                    .map_or(TunnelState::IkeSaNotEstablished, |s| s.state);
                let before = self.last_state.insert(t.tunnel_id.clone(), now);
                if before != Some(now) {
                    tracing::info!(connection = %c.spec.connection_id, tunnel = %t.tunnel_id, status = now.api_status(), "status");
                }
                if now == TunnelState::IpsecSaEstablished {
                    self.reasons.remove(&t.tunnel_id);
                }
            }
        }
        self.last_state.retain(|k, _| seen.contains(k));
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
                (None, None) if self.backend_name == "simulated" => {
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
            tunnels.push(TunnelReport {
                tunnel_id: t.tunnel_id.clone(),
                status: state.api_status().to_owned(),
                reason,
                ike_state: s.and_then(|s| s.ike_state.clone()).unwrap_or_default(),
                bytes_in: s.map_or(0, |s| s.bytes_in),
                bytes_out: s.map_or(0, |s| s.bytes_out),
                packets_in: s.map_or(0, |s| s.packets_in),
                packets_out: s.map_or(0, |s| s.packets_out),
            });
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

    async fn report(&mut self, fetched: &Fetched, statuses: &HashMap<String, TunnelStatus>) {
        let connections: Vec<ConnectionReport> = fetched
            .connections()
            .iter()
            .map(|c| self.connection_report(c, statuses))
            .collect();
        let mut events = std::mem::take(&mut self.events);
        if events.len() > MAX_EVENTS {
            let dropped = events.len() - MAX_EVENTS;
            events.drain(..dropped);
            tracing::warn!(
                dropped,
                "too many log events in one tick; the oldest were dropped"
            );
        }
        let measured_at = epoch_ms(SystemTime::now());
        let mut chunks: Vec<Vec<ConnectionReport>> = connections
            .chunks(REPORT_CHUNK)
            .map(<[ConnectionReport]>::to_vec)
            .collect();
        if chunks.is_empty() {
            chunks.push(Vec::new());
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            if chunk.is_empty() && (i > 0 || events.is_empty()) {
                continue;
            }
            let report = DataplaneReport {
                agent: self.agent_name.clone(),
                backend: self.backend_name.to_owned(),
                measured_at,
                connections: chunk,
                events: if i == 0 {
                    std::mem::take(&mut events)
                } else {
                    Vec::new()
                },
            };
            let body = match serde_json::to_string(&report) {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "encoding the report failed");
                    return;
                }
            };
            match self
                .client
                .vpngw(
                    "ReportDataplaneState",
                    &[("VpnGatewayId", &self.gateway_id), ("Report", &body)],
                )
                .await
            {
                Ok(answer) => {
                    let stale = answer
                        .get("Stale")
                        .and_then(|v| v.as_array())
                        .map_or(0, Vec::len);
                    if stale > 0 {
                        tracing::debug!(stale, "some reports were about an older configuration");
                    }
                }
                Err(e) => {
                    // Events of a failed report are kept for the next one.
                    if !report.events.is_empty() {
                        self.events.extend(report.events);
                    }
                    tracing::warn!(error = %e, "reporting to the control plane failed");
                }
            }
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
