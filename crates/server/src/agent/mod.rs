//! `vpngw agent`: runs beside one gateway's data plane and keeps it in step
//! with the control plane.
//!
//! Three things run side by side:
//! - the source (`source.rs`) watches the gateway's desired state
//!   (`WatchGatewayState`: the control plane answers as soon as it changes;
//!   polling every `--interval-ms` only with a server that cannot) and
//!   publishes every new [`desired::GatewayState`];
//! - the loop ([`Agent::run`]) hands each new desired state to every part
//!   (`part.rs`: one per data-plane component; `ipsec.rs` drives charon's
//!   IPsec connections, `ipsec_server.rs` the IPsec server on the same
//!   charon), wakes a part when it has work (an SA went up or
//!   down, a probe or retry is due) and forwards what it measured;
//! - the reporter (`report.rs`) sends the control plane what changed
//!   (`ReportDataplaneState`), batched.
//!
//! The control plane keeps no agent session: restarting either side
//! converges again, and a connection deleted through the API disappears
//! from the desired state, so its part unloads it and its SAs are
//! terminated.

pub mod backoff;
pub mod bgp;
mod crypto_check;
pub mod desired;
pub mod health;
pub mod ipsec;
pub mod ipsec_server;
pub mod part;
pub mod report;
pub mod routing;
pub mod source;
pub mod ssl_vpn;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio::sync::{mpsc, watch};
use vpngw_client::Client;
use vpngw_dataplane::ipsec_server::SimulatedServer;
use vpngw_dataplane::{
    CharonConfig, Dataplane, DpdTiming, RenderOptions, Retransmit, Simulated, StrongSwan,
};
use vpngw_model::dataplane::DataplaneReport;

use bgp::{BgpPart, Speaker};
use ipsec::IpsecPart;
use ipsec_server::{IpsecServerPart, RemoteSessions};
use part::Part;
use report::Reporter;
use routing::Links;
use source::{Desired, Watcher};
use vpngw_dataplane::bgp::BgpTimers;
use vpngw_dataplane::bgp::process::BirdConfig;

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

    /// PEM file of the CA(s) to verify an https:// server with, instead of
    /// the system's (e.g. `<data-dir>/tls/ca.pem` of `serve --tls self-signed`).
    #[arg(long, env = "VPNGW_CA_FILE", value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

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

    /// Milliseconds between two reads of the desired state when the server
    /// cannot push it (a server without `WatchGatewayState`): polling is
    /// only the fallback; a server that can answers the agent's watch as
    /// soon as something changes.
    #[arg(long, default_value_t = 30_000)]
    pub interval_ms: u64,

    /// Milliseconds between two looks at the data plane when no event came
    /// (every tunnel's SAs read, lost ones initiated again as their back-off
    /// allows; the remote-access servers' clients counted).
    #[arg(long, default_value_t = 2000)]
    pub reconcile_ms: u64,

    /// DPD: seconds without traffic before a liveness check.
    #[arg(long, default_value_t = 10)]
    pub dpd_delay_s: u32,

    /// DPD (IKEv1): seconds without an answer before the SAs are cleared.
    #[arg(long, default_value_t = 30)]
    pub dpd_timeout_s: u32,

    /// openvpn binary (the gateway's SSL server).
    #[arg(long, default_value = "openvpn")]
    pub openvpn: PathBuf,

    /// IKE retransmission schedule (IKEv2 DPD gives up after it).
    #[arg(long, value_enum, default_value = "gateway")]
    pub retransmit: RetransmitSchedule,

    /// BIRD binary (the gateway's BGP speaker, started when a tunnel has
    /// BGP on).
    #[arg(long, default_value = vpngw_dataplane::bgp::DEFAULT_BIRD)]
    pub bird: PathBuf,

    /// BGP hold time in seconds (keepalives every third of it): how long a
    /// session whose tunnel is up but whose peer is silent stays up.
    #[arg(long, default_value_t = 30)]
    pub bgp_hold_s: u16,

    /// Log format: `text` or `json`.
    #[arg(long, env = "VPNGW_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
}

/// A client with the credentials of the environment, verifying an https://
/// `server` against `ca_file` when given (else the system's CAs).
pub fn client_from_env(
    server: &str,
    region: &str,
    ca_file: Option<&std::path::Path>,
) -> Result<Client, vpngw_client::ClientError> {
    let client = Client::from_env(server, region)?;
    match ca_file {
        Some(path) => client.ca_file(path),
        None => Ok(client),
    }
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let client = client_from_env(&args.server, &args.region, args.ca_file.as_deref())?
        .timeout(Duration::from_secs(20));
    let options = RenderOptions {
        dpd: DpdTiming {
            delay_s: args.dpd_delay_s,
            timeout_s: args.dpd_timeout_s,
        },
        ..RenderOptions::default()
    };
    let agent = Agent::new(client, &args);
    let reconcile = Duration::from_millis(args.reconcile_ms.max(100));
    let links = Links::new();
    let timers = BgpTimers {
        hold_s: args.bgp_hold_s.max(3),
        keepalive_s: (args.bgp_hold_s / 3).max(1),
    };
    match args.backend {
        Backend::Simulated => {
            let server = IpsecServerPart::new(
                SimulatedServer::new(options.clone()),
                RemoteSessions::default(),
                reconcile,
            );
            let ipsec = IpsecPart::new(Simulated::new(options), &args.gateway, reconcile, &links);
            let bgp = BgpPart::new(Speaker::Simulated, None, timers, &links);
            agent
                .run(
                    "simulated",
                    vec![Box::new(ipsec), Box::new(server), Box::new(bgp)],
                )
                .await
        }
        Backend::Strongswan => {
            let state_dir = args
                .state_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/var/lib/vpngw-agent").join(&args.gateway));
            // The IPsec server and the SSL server share the gateway's
            // connection quota.
            let sessions = RemoteSessions::default();
            let ssl = ssl_vpn::SslVpnPart::new(
                vpngw_dataplane::openvpn::SslServer::new(
                    &args.openvpn,
                    args.netns.clone(),
                    state_dir.join("openvpn"),
                ),
                sessions.clone(),
                reconcile,
            );
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
            let name = backend.name();
            let mut bird = BirdConfig::new(backend.config().state_dir.clone(), args.netns.clone());
            bird.bird_bin = args.bird.clone();
            let server = IpsecServerPart::new(backend.ipsec_server(), sessions, reconcile);
            let ipsec = IpsecPart::new(backend, &args.gateway, reconcile, &links);
            let bgp = BgpPart::new(Speaker::Bird(bird), args.netns.clone(), timers, &links);
            agent
                .run(
                    name,
                    vec![
                        Box::new(ipsec),
                        Box::new(server),
                        Box::new(bgp),
                        Box::new(ssl),
                    ],
                )
                .await
        }
    }
}

/// Logs on stderr, filtered by `VPNGW_LOG` (default `info`).
pub(crate) fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VPNGW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    crate::logging::init(format == "json", filter);
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

/// One gateway's agent: the source, the loop over the parts, the reporter.
pub struct Agent {
    client: Client,
    gateway_id: String,
    interval: Duration,
}

impl Agent {
    pub fn new(client: Client, args: &AgentArgs) -> Agent {
        Agent {
            client,
            gateway_id: args.gateway.clone(),
            interval: Duration::from_millis(args.interval_ms.max(100)),
        }
    }

    /// Runs until SIGINT/SIGTERM. `backend` names what measures in the
    /// reports (`strongswan`, `simulated`). Dropping the parts afterwards
    /// stops their daemons (charon deletes its SAs).
    pub async fn run(self, backend: &'static str, parts: Vec<Box<dyn Part>>) -> anyhow::Result<()> {
        let names: Vec<&str> = parts.iter().map(|p| p.name()).collect();
        tracing::info!(gateway = %self.gateway_id, backend, parts = ?names, server = %self.client.endpoint(), "agent running");
        let (desired_tx, desired_rx) = watch::channel::<Desired>(None);
        let (report_tx, report_rx) = mpsc::unbounded_channel();
        let source = Watcher::new(self.client.clone(), &self.gateway_id, self.interval);
        let reporter = Reporter::new(self.client.clone(), &self.gateway_id, backend);
        let drive = async {
            tokio::select! {
                () = drive(parts, desired_rx, report_tx) => {}
                () = source.run(desired_tx) => {}
            }
        };
        // The reporter ends once the loop has dropped its sender (after one
        // last send of what is due).
        tokio::join!(drive, reporter.run(report_rx));
        tracing::info!(gateway = %self.gateway_id, "agent stopping");
        Ok(())
    }
}

/// The loop: each new desired state goes to every part, then every part
/// steps; a part that wakes on its own steps alone. What a step measured
/// goes to the reporter.
async fn drive(
    mut parts: Vec<Box<dyn Part>>,
    mut desired: watch::Receiver<Desired>,
    reports: mpsc::UnboundedSender<DataplaneReport>,
) {
    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    // Nothing is done before the first desired state: a part must not
    // unload what it finds before it knows what is wanted.
    let mut known = false;
    enum Wake {
        Desired,
        Part(usize),
    }
    loop {
        let wake = tokio::select! {
            () = &mut shutdown => break,
            changed = desired.changed() => match changed {
                Ok(()) => Wake::Desired,
                Err(_) => break,
            },
            (_, i, _) = futures_util::future::select_all(parts.iter_mut().map(|p| p.wait())),
                if known && !parts.is_empty() => Wake::Part(i),
        };
        let woke: Vec<usize> = match wake {
            Wake::Part(i) => vec![i],
            Wake::Desired => {
                let Some(state) = desired.borrow_and_update().clone() else {
                    continue;
                };
                known = true;
                for part in parts.iter_mut() {
                    part.apply(&state).await;
                }
                (0..parts.len()).collect()
            }
        };
        for i in woke {
            let mut out = DataplaneReport::default();
            parts[i].step(&mut out).await;
            let empty =
                out.connections.is_empty() && out.events.is_empty() && out.ipsec_servers.is_empty();
            if !empty && reports.send(out).is_err() {
                return;
            }
        }
    }
}
