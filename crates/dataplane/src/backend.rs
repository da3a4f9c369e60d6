//! The [`Dataplane`] trait: what the control loop (`vpngw agent`) needs from
//! the gateway it drives, and its two implementations.
//!
//! - [`StrongSwan`]: a real charon in the gateway's network namespace,
//!   driven over vici (diff-based [`Applier`]); SA state, counters and log
//!   events are measured; probes are real pings; the forwarding's
//!   promotions and `unreachable` rules are real.
//!   Restarts charon when it dies ([`ViciError::Closed`]).
//! - [`Simulated`]: no root, no network, fully deterministic. It accepts
//!   every configuration that renders and reports what honestly can be said
//!   without a data plane: nothing is negotiated, so every tunnel stays
//!   `ike_sa_not_established`, every probe fails, and tunnels that cannot be
//!   rendered (sm3/sm4, bad subnets, …) get their error as a log line — the
//!   same answers a control plane gives when no agent reports at all.
//!
//! The gateway's IPsec server (client-to-site) lives on the same charon but
//! is its own component ([`crate::ipsec_server::plane`]): its events are not
//! the tunnels' ([`StrongSwan`] leaves them out), and
//! [`StrongSwan::ipsec_server`] gives it its own way to charon.
//!
//! The loop: [`Dataplane::apply`] the desired state (with the route
//! children of the forwarding), [`Dataplane::ensure_up`], read
//! [`Dataplane::status`], run health-check probes ([`Dataplane::probe`]),
//! [`Dataplane::apply_forwarding`] and forward [`Dataplane::take_events`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::charon::{Charon, CharonConfig, CharonError, pid_alive, terminate_pid};
use crate::crypto::HostCrypto;
use crate::forwarding::Forwarding;
use crate::ipsec_server::{CharonServer, is_server_name};
use crate::model::GatewayDesired;
use crate::promotion::{self, Promoter, Promotion, Rule};
use crate::render::{RenderOptions, RenderedTunnel, render_gateway};
use crate::status::{DataplaneEvent, EventKind, TunnelStatus};
use crate::vici::{Applier, ApplyReport, EventSubscription, Vici, ViciError};

/// A data plane failure (the loop logs it and retries on its next tick).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// vici failed.
    #[error(transparent)]
    Vici(#[from] ViciError),
    /// charon could not be (re)started.
    #[error(transparent)]
    Charon(#[from] CharonError),
    /// A system command failed.
    #[error("{0}")]
    Command(String),
}

/// The gateway side, as the control loop sees it.
#[allow(async_fn_in_trait)]
pub trait Dataplane {
    /// `strongswan` or `simulated`.
    fn name(&self) -> &'static str;

    /// Converge the gateway to `desired` (load new and changed tunnels,
    /// unload removed ones).
    async fn apply(&mut self, desired: &GatewayDesired) -> Result<ApplyReport, BackendError>;

    /// (Re)start negotiation of loaded tunnels that should be up and have
    /// no IKE SA (new ones, after DPD cleared them, or the peer went away),
    /// each only if `may_initiate` says so (asked once per such tunnel: the
    /// agent's back-off against a peer that refuses it).
    async fn ensure_up(
        &mut self,
        may_initiate: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Vec<String>, BackendError>;

    /// When [`Dataplane::ensure_up`] has more to start without an event
    /// coming first (tunnels waiting for a place in a wave of starts), if
    /// it has.
    fn next_start_at(&self) -> Option<std::time::Instant> {
        None
    }

    /// Measured status of every tunnel of `desired`.
    async fn status(
        &mut self,
        desired: &GatewayDesired,
    ) -> Result<HashMap<String, TunnelStatus>, BackendError>;

    /// Log events since the last call.
    fn take_events(&mut self) -> Vec<DataplaneEvent>;

    /// Wait until an event arrives (true) or `timeout` passes (false): lets
    /// the loop react to SA changes at once instead of on its next tick.
    /// Cancel-safe: an event is never lost by dropping the wait.
    async fn wait_event(&mut self, timeout: Duration) -> bool;

    /// One health-check probe: ping `dest` from `source` through the
    /// gateway; true when answered within `timeout`.
    async fn probe(&self, source: IpAddr, dest: IpAddr, timeout: Duration) -> bool;

    /// Make the running SAs and the namespace's routing rules follow
    /// `forwarding` ([`crate::forwarding`]): rekey the child that must
    /// carry traffic where tunnels hold identical selectors, and keep the
    /// `unreachable` rules (with their exemptions) as it says. Its route
    /// children come with [`Dataplane::apply`] (`TunnelDesired::route_children`).
    async fn apply_forwarding(
        &mut self,
        forwarding: &Forwarding,
    ) -> Result<ForwardingReport, BackendError>;
}

/// What [`Dataplane::apply_forwarding`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForwardingReport {
    /// Children rekeyed to be the newest holder of a selector.
    pub promoted: Vec<Promotion>,
    /// `ip rule`s added and removed.
    pub rules_added: usize,
    pub rules_removed: usize,
}

// ---- simulated ---------------------------------------------------------------

/// The deterministic data plane: see the module documentation.
#[derive(Debug, Default)]
pub struct Simulated {
    options: RenderOptions,
    loaded: BTreeMap<String, RenderedTunnel>,
    events: Vec<DataplaneEvent>,
    forwarding: Forwarding,
}

impl Simulated {
    /// A simulated gateway rendering with `options`.
    pub fn new(options: RenderOptions) -> Self {
        Self {
            options,
            ..Self::default()
        }
    }

    /// The last forwarding applied.
    pub fn forwarding(&self) -> &Forwarding {
        &self.forwarding
    }
}

fn log_event(tunnel: &str, message: String) -> DataplaneEvent {
    DataplaneEvent {
        at: SystemTime::now(),
        tunnel_id: Some(tunnel.to_string()),
        kind: EventKind::Log,
        group: Some("CFG".into()),
        message,
    }
}

impl Dataplane for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn apply(&mut self, desired: &GatewayDesired) -> Result<ApplyReport, BackendError> {
        let rendered = render_gateway(desired, &self.options);
        let mut report = ApplyReport {
            errors: rendered.errors,
            ..ApplyReport::default()
        };
        let wanted: BTreeMap<String, RenderedTunnel> = rendered
            .tunnels
            .into_iter()
            .map(|t| (t.tunnel_id.clone(), t))
            .collect();
        let gone: Vec<String> = self
            .loaded
            .keys()
            .filter(|k| !wanted.contains_key(*k))
            .cloned()
            .collect();
        for name in gone {
            self.loaded.remove(&name);
            self.events.push(log_event(
                &name,
                format!("tunnel {name} removed from the simulated data plane"),
            ));
            report.unloaded.push(name);
        }
        for (name, tunnel) in wanted {
            if self.loaded.get(&name) == Some(&tunnel) {
                report.unchanged.push(name);
                continue;
            }
            self.events.push(log_event(
                &name,
                format!(
                    "tunnel {name} configured on the simulated data plane: nothing is negotiated without a real gateway, Status stays ike_sa_not_established"
                ),
            ));
            self.loaded.insert(name.clone(), tunnel);
            report.loaded.push(name);
        }
        for e in &report.errors {
            self.events.push(log_event(&e.tunnel_id, e.to_string()));
        }
        Ok(report)
    }

    async fn ensure_up(
        &mut self,
        _may_initiate: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Vec<String>, BackendError> {
        Ok(Vec::new())
    }

    async fn status(
        &mut self,
        desired: &GatewayDesired,
    ) -> Result<HashMap<String, TunnelStatus>, BackendError> {
        Ok(desired
            .tunnels()
            .map(|(_, t)| (t.tunnel_id.clone(), TunnelStatus::down(&t.tunnel_id)))
            .collect())
    }

    fn take_events(&mut self) -> Vec<DataplaneEvent> {
        std::mem::take(&mut self.events)
    }

    async fn wait_event(&mut self, timeout: Duration) -> bool {
        tokio::time::sleep(timeout).await;
        false
    }

    async fn probe(&self, _source: IpAddr, _dest: IpAddr, _timeout: Duration) -> bool {
        false
    }

    async fn apply_forwarding(
        &mut self,
        forwarding: &Forwarding,
    ) -> Result<ForwardingReport, BackendError> {
        // Nothing is installed, so nothing is promoted; the blocks are what
        // a real gateway would install.
        let before = promotion::rules(&self.forwarding);
        let after = promotion::rules(forwarding);
        self.forwarding = forwarding.clone();
        Ok(ForwardingReport {
            promoted: Vec::new(),
            rules_added: after.difference(&before).count(),
            rules_removed: before.difference(&after).count(),
        })
    }
}

/// Events of the tunnels (and of charon itself), not of the IPsec server.
fn of_a_tunnel(e: &DataplaneEvent) -> bool {
    !e.tunnel_id.as_deref().is_some_and(is_server_name)
}

// ---- strongSwan --------------------------------------------------------------

/// A real charon, in the gateway's namespace. See the module documentation.
#[derive(Debug)]
pub struct StrongSwan {
    config: CharonConfig,
    charon: Option<Charon>,
    applier: Applier,
    events: Option<EventSubscription>,
    pending: Vec<DataplaneEvent>,
    max_log_level: i64,
    restarts: u32,
    promoter: Promoter,
    /// The forwarding rules installed (`None`: unknown, e.g. left by a
    /// previous agent; they are cleared first).
    rules: Option<BTreeSet<Rule>>,
}

fn pid_file(config: &CharonConfig) -> PathBuf {
    config.state_dir.join("charon.pid")
}

/// Stop a charon a previous (crashed) agent left running with this state
/// directory: two charons cannot share the namespace's IKE ports.
fn stop_leftover(config: &CharonConfig) {
    let Ok(text) = std::fs::read_to_string(pid_file(config)) else {
        return;
    };
    let Ok(pid) = text.trim().parse::<i32>() else {
        return;
    };
    let is_charon = std::fs::read_to_string(format!("/proc/{pid}/cmdline"))
        .map(|c| c.contains("charon"))
        .unwrap_or(false);
    if pid_alive(pid) && is_charon {
        terminate_pid(pid, Duration::from_secs(3));
    }
    let _ = std::fs::remove_file(pid_file(config));
}

fn start_charon(config: &CharonConfig) -> Result<Charon, CharonError> {
    stop_leftover(config);
    let charon = tokio::task::block_in_place(|| Charon::start(config.clone()))?;
    if let Some(pid) = charon.pid() {
        let _ = std::fs::write(pid_file(config), pid.to_string());
    }
    Ok(charon)
}

impl StrongSwan {
    /// Start charon (stopping one a crashed predecessor left behind),
    /// connect over vici, ask it what it can negotiate (tunnels it cannot
    /// do are refused with the reason, see [`HostCrypto`]) and subscribe to
    /// its events. Log lines up to `max_log_level` (1: control, enough to say
    /// why a negotiation failed) become events.
    pub async fn start(
        config: CharonConfig,
        options: RenderOptions,
        max_log_level: i64,
    ) -> Result<StrongSwan, BackendError> {
        let charon = start_charon(&config)?;
        let vici = charon.vici().await?;
        let events = Vici::subscribe_events(charon.vici_socket(), max_log_level).await?;
        let mut backend = StrongSwan {
            config,
            charon: Some(charon),
            // The agent starts the tunnels, in waves and with its back-off.
            applier: Applier::new(vici, options)
                .started_by_caller(crate::vici::NEGOTIATING_AT_ONCE),
            events: Some(events),
            pending: Vec::new(),
            max_log_level,
            restarts: 0,
            promoter: Promoter::default(),
            rules: None,
        };
        backend.read_host_crypto().await;
        Ok(backend)
    }

    /// What the running charon can negotiate, as read at its (re)start;
    /// `None` if it could not be asked.
    pub fn host_crypto(&self) -> Option<&HostCrypto> {
        self.applier.options().host.as_deref()
    }

    /// Ask charon for its algorithms and plugins and render with them. If
    /// it cannot be asked, tunnels are loaded unchecked (and a log line says
    /// so): charon itself still refuses what it cannot do.
    async fn read_host_crypto(&mut self) {
        let host = match HostCrypto::query(self.applier.vici(), &self.config.load).await {
            Ok(h) => Some(Arc::new(h)),
            Err(e) => {
                self.pending.push(DataplaneEvent {
                    at: SystemTime::now(),
                    tunnel_id: None,
                    kind: EventKind::Log,
                    group: Some("DMN".into()),
                    message: format!(
                        "could not read charon's algorithms ({e}): tunnels are loaded without checking that this host can negotiate them"
                    ),
                });
                None
            }
        };
        let options = RenderOptions {
            host,
            ..self.applier.options().clone()
        };
        self.applier.set_options(options);
    }

    /// The gateway's IPsec server on this charon: its own vici connection
    /// and event subscription, rendering with this backend's options (what
    /// charon can negotiate).
    pub fn ipsec_server(&self) -> CharonServer {
        CharonServer::new(
            self.config.vici_socket(),
            self.applier.options().clone(),
            self.max_log_level,
        )
    }

    /// The charon configuration.
    pub fn config(&self) -> &CharonConfig {
        &self.config
    }

    /// How often charon had to be restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// charon's pid.
    pub fn charon_pid(&self) -> Option<u32> {
        self.charon.as_ref().and_then(Charon::pid)
    }

    /// After [`ViciError::Closed`]: restart charon if it is gone, reconnect
    /// the applier (which then reloads everything) and resubscribe.
    async fn recover(&mut self) -> Result<(), BackendError> {
        let running = self.charon.as_mut().is_some_and(Charon::is_running);
        if !running {
            if let Some(mut old) = self.charon.take() {
                old.stop();
            }
            self.charon = Some(start_charon(&self.config)?);
            self.restarts += 1;
            self.promoter.forget();
            self.pending.push(DataplaneEvent {
                at: SystemTime::now(),
                tunnel_id: None,
                kind: EventKind::Log,
                group: Some("DMN".into()),
                message: "charon stopped unexpectedly and was restarted; reloading every tunnel"
                    .into(),
            });
        }
        let socket = self.config.vici_socket();
        let vici = Vici::connect(&socket).await?;
        self.applier.reconnect(vici);
        self.read_host_crypto().await;
        self.events = Some(Vici::subscribe_events(&socket, self.max_log_level).await?);
        Ok(())
    }

    /// Runs `ip -batch -` in the namespace; `-force` goes on past lines
    /// that fail, whose messages are returned.
    async fn ip_batch(&self, lines: &[String]) -> Result<Vec<String>, BackendError> {
        use tokio::io::AsyncWriteExt;
        if lines.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.ip_command();
        c.args(["-force", "-batch", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = c
            .spawn()
            .map_err(|e| BackendError::Command(format!("ip -batch: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            let text = lines.join("\n") + "\n";
            stdin
                .write_all(text.as_bytes())
                .await
                .map_err(|e| BackendError::Command(format!("ip -batch: {e}")))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(|e| BackendError::Command(format!("ip -batch: {e}")))?;
        Ok(String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("Command failed"))
            .map(str::to_owned)
            .collect())
    }

    /// Deletes every rule at the forwarding's priorities (left by an agent
    /// that stopped or crashed).
    async fn clear_forwarding_rules(&self) -> Result<(), BackendError> {
        let shown = self.ip(&["-4", "rule", "show"]).await?;
        let lines: Vec<String> = shown
            .lines()
            .filter_map(|l| l.split(':').next()?.trim().parse::<u32>().ok())
            .filter(|p| {
                [
                    promotion::RULE_PRIORITY_CHARON,
                    promotion::RULE_PRIORITY_EXEMPT,
                    promotion::RULE_PRIORITY_BLOCK,
                ]
                .contains(p)
            })
            .map(|p| format!("-4 rule del priority {p}"))
            .collect();
        self.ip_batch(&lines).await.map(drop)
    }

    async fn checked<T>(&mut self, r: Result<T, ViciError>) -> Result<T, BackendError> {
        match r {
            Err(ViciError::Closed) | Err(ViciError::Connect { .. }) => {
                self.recover().await?;
                Err(BackendError::Vici(ViciError::Closed))
            }
            Err(e) => Err(e.into()),
            Ok(v) => Ok(v),
        }
    }

    fn ip_command(&self) -> tokio::process::Command {
        let mut c = tokio::process::Command::new("ip");
        if let Some(ns) = &self.config.netns {
            c.args(["netns", "exec", ns, "ip"]);
        }
        c
    }

    async fn ip(&self, args: &[&str]) -> Result<String, BackendError> {
        let out = self
            .ip_command()
            .args(args)
            .output()
            .await
            .map_err(|e| BackendError::Command(format!("ip {}: {e}", args.join(" "))))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(BackendError::Command(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

impl Dataplane for StrongSwan {
    fn name(&self) -> &'static str {
        "strongswan"
    }

    async fn apply(&mut self, desired: &GatewayDesired) -> Result<ApplyReport, BackendError> {
        let r = self.applier.apply(desired).await;
        self.checked(r).await
    }

    async fn ensure_up(
        &mut self,
        may_initiate: &mut (dyn FnMut(&str) -> bool + Send),
    ) -> Result<Vec<String>, BackendError> {
        let r = self.applier.ensure_initiated(may_initiate).await;
        self.checked(r).await
    }

    fn next_start_at(&self) -> Option<std::time::Instant> {
        self.applier.wave_place_free_at()
    }

    async fn status(
        &mut self,
        desired: &GatewayDesired,
    ) -> Result<HashMap<String, TunnelStatus>, BackendError> {
        let r = self.applier.status(desired).await;
        self.checked(r).await
    }

    fn take_events(&mut self) -> Vec<DataplaneEvent> {
        let mut out = std::mem::take(&mut self.pending);
        if let Some(sub) = self.events.as_mut() {
            out.extend(sub.drain().into_iter().filter(of_a_tunnel));
        }
        out
    }

    async fn wait_event(&mut self, timeout: Duration) -> bool {
        let Some(sub) = self.events.as_mut() else {
            tokio::time::sleep(timeout).await;
            return false;
        };
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, sub.next()).await {
                Ok(Some(e)) if of_a_tunnel(&e) => {
                    self.pending.push(e);
                    return true;
                }
                // The IPsec server's clients coming and going are not the
                // tunnels' business (its part has its own subscription).
                Ok(Some(_)) => {}
                // charon went away: the next call finds out and restarts it.
                Ok(None) => {
                    self.events = None;
                    return true;
                }
                Err(_) => return false,
            }
        }
    }

    async fn probe(&self, source: IpAddr, dest: IpAddr, timeout: Duration) -> bool {
        let wait = timeout.as_secs().max(1).to_string();
        let mut c = tokio::process::Command::new("ip");
        let (src, dst) = (source.to_string(), dest.to_string());
        let ping = ["ping", "-n", "-q", "-c", "1", "-W", &wait, "-I", &src, &dst];
        match &self.config.netns {
            Some(ns) => {
                c.args(["netns", "exec", ns]).args(ping);
            }
            None => {
                c = tokio::process::Command::new("ping");
                c.args(&ping[1..]);
            }
        }
        c.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        match tokio::time::timeout(timeout + Duration::from_secs(1), c.status()).await {
            Ok(Ok(s)) => s.success(),
            _ => false,
        }
    }

    async fn apply_forwarding(
        &mut self,
        forwarding: &Forwarding,
    ) -> Result<ForwardingReport, BackendError> {
        let mut report = ForwardingReport::default();
        let sas = self.applier.vici().list_sas().await;
        let sas = self.checked(sas).await?;
        let installed = promotion::installed_children(&sas);
        for p in self.promoter.plan(&installed, &forwarding.promotions) {
            let r = self.applier.vici().rekey_child(p.uniqueid).await;
            match self.checked(r).await {
                Ok(()) => report.promoted.push(p),
                // The child went away meanwhile: the next look decides again.
                Err(BackendError::Vici(ViciError::Failed { .. })) => self.promoter.forget(),
                Err(e) => return Err(e),
            }
        }

        if self.rules.is_none() {
            self.clear_forwarding_rules().await?;
            self.rules = Some(BTreeSet::new());
        }
        let want = promotion::rules(forwarding);
        let have = self.rules.clone().unwrap_or_default();
        // Add before deleting, exemptions before blocks (the set's order).
        let mut lines: Vec<String> = want
            .difference(&have)
            .map(|(prio, rule)| format!("-4 rule add priority {prio} {rule}"))
            .collect();
        report.rules_added = lines.len();
        let removed: Vec<String> = have
            .difference(&want)
            .map(|(prio, rule)| format!("-4 rule del priority {prio} {rule}"))
            .collect();
        report.rules_removed = removed.len();
        lines.extend(removed);
        let problems = self.ip_batch(&lines).await?;
        let real: Vec<&String> = problems
            .iter()
            .filter(|l| !l.contains("File exists") && !l.contains("No such file"))
            .collect();
        if !real.is_empty() {
            // Unknown state: read it again next time.
            self.rules = None;
            return Err(BackendError::Command(format!(
                "ip rule: {}",
                real.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )));
        }
        self.rules = Some(want);
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ConnectionDesired, IkeSettings, IpsecSettings, Secret, StartAction, TunnelDesired,
    };

    fn desired(enc: &str) -> GatewayDesired {
        GatewayDesired {
            gateway_id: "vpn-1".into(),
            local_addrs: vec!["198.18.0.1".parse().expect("ip")],
            connections: vec![ConnectionDesired {
                connection_id: "vco-1".into(),
                start_action: StartAction::Start,
                tunnels: vec![TunnelDesired {
                    tunnel_id: "vco-1".into(),
                    local_addr: "198.18.0.1".parse().expect("ip"),
                    remote_addr: "203.0.113.1".parse().expect("ip"),
                    ike: IkeSettings {
                        enc_alg: enc.into(),
                        psk: Secret::new("k"),
                        ..IkeSettings::default()
                    },
                    ipsec: IpsecSettings::default(),
                    local_subnets: vec!["10.0.0.0/24".into()],
                    remote_subnets: vec!["10.1.0.0/24".into()],
                    dpd: true,
                    nat_traversal: true,
                    bgp: None,
                    route_children: Vec::new(),
                }],
            }],
        }
    }

    #[tokio::test]
    async fn simulated_is_deterministic_and_honest() {
        let mut s = Simulated::new(RenderOptions::default());
        let d = desired("aes");
        let r = s.apply(&d).await.expect("apply");
        assert_eq!(r.loaded, vec!["vco-1".to_string()]);
        assert!(s.apply(&d).await.expect("apply").is_noop());
        let st = s.status(&d).await.expect("status");
        assert_eq!(st["vco-1"].state.api_status(), "ike_sa_not_established");
        let ev = s.take_events();
        assert_eq!(ev.len(), 1);
        assert!(ev[0].message.contains("simulated"));
        assert!(
            !s.probe(
                "10.0.0.1".parse().expect("ip"),
                "10.1.0.1".parse().expect("ip"),
                Duration::from_millis(1)
            )
            .await
        );

        // sm4: refused, with a log line saying why; the old tunnel goes.
        let r = s.apply(&desired("sm4")).await.expect("apply");
        assert_eq!(r.unloaded, vec!["vco-1".to_string()]);
        assert_eq!(r.errors.len(), 1);
        let ev = s.take_events();
        assert!(ev.iter().any(|e| e.message.contains("sm4")), "{ev:?}");

        let mut fw = crate::forwarding::Forwarding::default();
        fw.blocks.insert(crate::forwarding::Selector::new(
            "10.0.0.0/24".parse().expect("net"),
            "10.1.0.0/24".parse().expect("net"),
        ));
        let r = s.apply_forwarding(&fw).await.expect("forwarding");
        assert_eq!((r.rules_added, r.rules_removed), (2, 0));
        assert_eq!(s.forwarding(), &fw);
    }
}
