//! The BGP part: the gateway's BGP speaker (BIRD, [`BgpSpeaker`]) with one
//! session per tunnel that has BGP on.
//!
//! Desired section: the BGP settings of the connections' tunnels
//! (`GatewayState::connections`, `TunnelSpec::bgp`) and their `LocalSubnet`s,
//! which the gateway announces. It also follows which tunnels have an IPsec
//! SA (from the IPsec part, [`Links`]): a session runs only while its tunnel
//! is up, and its `LocalBgpIp` is put on the gateway namespace's `lo`.
//!
//! Report section: log lines when a session comes up or goes down (with
//! why). `BgpStatus` and the learned routes are tunnel fields, so the IPsec
//! part reports them from the [`BgpView`] this part publishes; it also
//! steers traffic by them.
//!
//! BIRD pushes nothing, so the part reads the sessions every
//! [`POLL`], and at once when a tunnel goes up or down or the configuration
//! changes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use tokio::sync::watch;
use vpngw_dataplane::bgp::process::BirdConfig;
use vpngw_dataplane::bgp::{BgpDesired, BgpSpeaker, BgpTimers, SessionState, md5};
use vpngw_model::dataplane::{DataplaneReport, ReportedEvent};

use super::desired::GatewayState;
use super::part::Part;
use super::routing::{BgpView, Links, bgp_desired};

/// How often the sessions are read when nothing else happens.
pub const POLL: Duration = Duration::from_secs(1);

/// How long a session may be starting (its tunnel up, BIRD connecting,
/// no error) before its log says it is down: a session comes up within a
/// second or two of its tunnel, and "down" lines for that are noise.
pub const STARTING_QUIET: Duration = Duration::from_secs(5);

/// How the part gets its speaker.
pub enum Speaker {
    /// The simulated data plane: no BGP daemon, no session ever comes up.
    Simulated,
    /// BIRD with this configuration, started when the first session is
    /// wanted (a gateway without BGP runs no `bird`).
    Bird(BirdConfig),
}

/// See the module documentation.
pub struct BgpPart {
    kind: Speaker,
    speaker: Option<BgpSpeaker>,
    netns: Option<String>,
    timers: BgpTimers,
    desired: Arc<GatewayState>,
    up: watch::Receiver<BTreeSet<String>>,
    view: watch::Sender<BgpView>,
    next_poll: Instant,
    /// `LocalBgpIp`s this part put on `lo`.
    addresses: BTreeSet<Ipv4Addr>,
    /// Last (established, reason) logged per tunnel.
    logged: BTreeMap<String, (bool, String)>,
    /// Since when each starting session ([`SessionState::starting`]) is.
    starting_since: BTreeMap<String, Instant>,
    /// Why the speaker could not be driven, once per distinct reason.
    trouble: Option<String>,
    /// The kernel's answer to the TCP-MD5 probe, asked once, when the first
    /// session with an `AuthKey` is wanted.
    md5: Option<Result<(), md5::Md5Unavailable>>,
}

impl BgpPart {
    pub fn new(kind: Speaker, netns: Option<String>, timers: BgpTimers, links: &Links) -> BgpPart {
        BgpPart {
            kind,
            speaker: None,
            netns,
            timers,
            desired: Arc::new(GatewayState::default()),
            up: links.up_rx.clone(),
            view: links.bgp_tx.clone(),
            next_poll: Instant::now(),
            addresses: BTreeSet::new(),
            logged: BTreeMap::new(),
            starting_since: BTreeMap::new(),
            trouble: None,
            md5: None,
        }
    }

    /// Puts the sessions' local addresses on the namespace's `lo` (BIRD
    /// sends from them, and libipsec needs a local address inside a
    /// child's local selector), and takes away those no longer used.
    async fn addresses(&mut self, wanted: BTreeSet<Ipv4Addr>) {
        let Some(ns) = self.netns.clone() else {
            return;
        };
        let ip = |verb: &'static str, a: Ipv4Addr| {
            let ns = ns.clone();
            async move {
                tokio::process::Command::new("ip")
                    .args(["-n", &ns, "addr", verb, &format!("{a}/32"), "dev", "lo"])
                    .output()
                    .await
            }
        };
        for a in wanted.difference(&self.addresses.clone()) {
            match ip("add", *a).await {
                Ok(out)
                    if out.status.success()
                        || String::from_utf8_lossy(&out.stderr).contains("File exists") =>
                {
                    self.addresses.insert(*a);
                }
                Ok(out) => {
                    tracing::warn!(address = %a, "adding LocalBgpIp to lo: {}", String::from_utf8_lossy(&out.stderr).trim())
                }
                Err(e) => tracing::warn!(address = %a, "adding LocalBgpIp to lo: {e}"),
            }
        }
        for a in self.addresses.clone().difference(&wanted) {
            let _ = ip("del", *a).await;
            self.addresses.remove(a);
        }
    }

    fn log(&mut self, out: &mut DataplaneReport, state: &SessionState, peer: &str) {
        if state.starting {
            let since = *self
                .starting_since
                .entry(state.tunnel_id.clone())
                .or_insert_with(Instant::now);
            if since.elapsed() < STARTING_QUIET {
                return;
            }
        } else {
            self.starting_since.remove(&state.tunnel_id);
        }
        let now = (state.established, state.reason.clone());
        if self.logged.get(&state.tunnel_id) == Some(&now) {
            return;
        }
        let first = !self.logged.contains_key(&state.tunnel_id);
        self.logged.insert(state.tunnel_id.clone(), now);
        // A session that never ran and waits for its tunnel says nothing.
        if first && state.state == "disabled" {
            return;
        }
        let Some(conn) = self.desired.connection_of_tunnel(&state.tunnel_id) else {
            return;
        };
        let message = if state.established {
            format!(
                "BGP session with {peer} established ({} routes learned)",
                state.learned.len()
            )
        } else {
            format!("BGP session with {peer} down: {}", state.reason)
        };
        if state.established {
            tracing::info!(tunnel = %state.tunnel_id, "{message}");
        } else {
            tracing::warn!(tunnel = %state.tunnel_id, "{message}");
        }
        let connection = conn.spec.connection_id.clone();
        out.events.push(ReportedEvent {
            tunnel_id: if state.tunnel_id == connection {
                String::new()
            } else {
                state.tunnel_id.clone()
            },
            vpn_connection_id: connection,
            time: SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .unwrap_or(0),
            message,
            ..ReportedEvent::default()
        });
    }
}

impl BgpPart {
    /// On a kernel without TCP-MD5 ([`md5::probe`]), a session with an
    /// `AuthKey` cannot run as configured: it is not given to BIRD (which
    /// would only fail with "Kernel MD5 auth failed") and reported down
    /// with the reason, never run without its key. Sessions without a key
    /// run as usual.
    fn without_md5(&mut self, desired: &mut BgpDesired, problems: &mut BTreeMap<String, String>) {
        if !matches!(self.kind, Speaker::Bird(_))
            || desired.sessions.iter().all(|s| s.auth_key.is_empty())
        {
            return;
        }
        let probed = self.md5.get_or_insert_with(|| {
            let probed = md5::probe();
            match &probed {
                Ok(()) => {
                    tracing::info!("TCP-MD5 probe: the kernel signs BGP segments (AuthKey usable)")
                }
                Err(e) => {
                    tracing::warn!("TCP-MD5 probe: {e}; BGP sessions with an AuthKey will not run")
                }
            }
            probed
        });
        let Err(why) = probed else { return };
        let why = format!(
            "AuthKey needs TCP-MD5 signatures, but {why}: the session is not started (remove the AuthKey on both sides, or run the gateway on a kernel with CONFIG_TCP_MD5SIG=y)"
        );
        desired.sessions.retain(|s| {
            if s.auth_key.is_empty() {
                return true;
            }
            problems.insert(s.tunnel_id.clone(), why.clone());
            false
        });
    }
}

#[async_trait(?Send)]
impl Part for BgpPart {
    fn name(&self) -> &'static str {
        "bgp"
    }

    async fn apply(&mut self, desired: &Arc<GatewayState>) {
        self.desired = desired.clone();
        self.next_poll = Instant::now();
    }

    async fn wait(&mut self) {
        let until = self.next_poll;
        tokio::select! {
            () = tokio::time::sleep_until(until.into()) => {}
            changed = self.up.changed() => {
                if changed.is_err() {
                    // The IPsec part is gone: poll on the timer alone.
                    std::future::pending::<()>().await;
                }
            }
        }
    }

    async fn step(&mut self, out: &mut DataplaneReport) {
        self.next_poll = Instant::now() + POLL;
        let up = self.up.borrow_and_update().clone();
        let (mut desired, mut problems) = bgp_desired(&self.desired, &up, self.timers);
        let peers: BTreeMap<String, String> = desired
            .sessions
            .iter()
            .map(|s| {
                (
                    s.tunnel_id.clone(),
                    format!("{} (AS {})", s.peer_ip, s.peer_asn),
                )
            })
            .collect();
        // Every session's LocalBgpIp stays on lo, one that cannot start
        // too: the tunnel's BGP child needs it to install.
        let local_ips = desired.sessions.iter().map(|s| s.local_ip).collect();
        self.without_md5(&mut desired, &mut problems);
        self.addresses(local_ips).await;
        if self.speaker.is_none()
            && !desired.sessions.is_empty()
            && let Speaker::Bird(config) = &self.kind
        {
            match BgpSpeaker::start(config.clone()).await {
                Ok(s) => {
                    tracing::info!(pid = s.pid().unwrap_or(0), log = %config.log_path().display(), "bird started");
                    self.speaker = Some(s);
                }
                Err(e) => tracing::warn!(error = %e, "starting bird failed; retrying"),
            }
        }
        let measured = match self.speaker.as_mut() {
            None if matches!(self.kind, Speaker::Bird(_)) => Err(
                vpngw_dataplane::bgp::BgpSpeakerError::Write("bird is not running".into()),
            ),
            None => Ok(desired
                .sessions
                .iter()
                .map(|s| SessionState {
                    tunnel_id: s.tunnel_id.clone(),
                    established: false,
                    reason: "simulated data plane: no BGP daemon runs".into(),
                    state: "simulated".into(),
                    learned: Vec::new(),
                    starting: false,
                })
                .collect()),
            Some(speaker) => match speaker.apply(&desired).await {
                Ok(_) => speaker.sessions().await,
                Err(e) => Err(e),
            },
        };
        let mut sessions = match measured {
            Ok(s) => {
                self.trouble = None;
                s
            }
            Err(e) => {
                let why = format!("the gateway's BGP daemon cannot be driven: {e}");
                if self.trouble.as_deref() != Some(why.as_str()) {
                    tracing::warn!("{why}");
                    self.trouble = Some(why.clone());
                }
                desired
                    .sessions
                    .iter()
                    .map(|s| SessionState {
                        tunnel_id: s.tunnel_id.clone(),
                        established: false,
                        reason: why.clone(),
                        state: "unknown".into(),
                        learned: Vec::new(),
                        starting: false,
                    })
                    .collect()
            }
        };
        for (tunnel, why) in problems {
            sessions.push(SessionState {
                tunnel_id: tunnel,
                established: false,
                reason: why,
                state: "not configured".into(),
                learned: Vec::new(),
                starting: false,
            });
        }
        for s in &sessions {
            let peer = peers.get(&s.tunnel_id).cloned().unwrap_or_default();
            self.log(out, s, &peer);
        }
        self.logged
            .retain(|t, _| sessions.iter().any(|s| &s.tunnel_id == t));
        self.starting_since
            .retain(|t, _| sessions.iter().any(|s| &s.tunnel_id == t));
        let view = BgpView {
            sessions: sessions
                .into_iter()
                .map(|s| (s.tunnel_id.clone(), s))
                .collect(),
        };
        self.view.send_if_modified(|current| {
            if *current == view {
                return false;
            }
            *current = view;
            true
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(established: bool, starting: bool, reason: &str) -> SessionState {
        SessionState {
            tunnel_id: "vco-1".into(),
            established,
            reason: reason.into(),
            state: if established { "Established" } else { "Active" }.into(),
            learned: Vec::new(),
            starting,
        }
    }

    fn logged(part: &mut BgpPart, s: &SessionState) -> Vec<String> {
        let mut out = DataplaneReport::default();
        part.log(&mut out, s, "169.254.1.2 (AS 65001)");
        out.events.into_iter().map(|e| e.message).collect()
    }

    #[test]
    fn a_starting_session_is_quiet_and_a_shut_one_says_why() {
        let links = Links::new();
        let mut part = BgpPart::new(Speaker::Simulated, None, BgpTimers::default(), &links);
        let mut state = GatewayState::default();
        state.connections.insert(
            "vco-1".into(),
            Arc::new(super::super::desired::tests::fetched("vco-1")),
        );
        part.desired = Arc::new(state);
        let connecting = session(false, true, "BGP state Active: connecting to 169.254.1.2");
        assert!(logged(&mut part, &connecting).is_empty());
        assert_eq!(
            logged(&mut part, &session(true, false, "")),
            ["BGP session with 169.254.1.2 (AS 65001) established (0 routes learned)"]
        );
        let shut = session(
            false,
            false,
            "BGP state Active: Received: Administrative shutdown",
        );
        assert_eq!(
            logged(&mut part, &shut),
            [
                "BGP session with 169.254.1.2 (AS 65001) down: BGP state Active: Received: Administrative shutdown"
            ]
        );
        // Starting for longer than STARTING_QUIET: said, once.
        part.starting_since
            .insert("vco-1".into(), Instant::now() - STARTING_QUIET);
        let said = logged(&mut part, &connecting);
        assert_eq!(said.len(), 1);
        assert!(
            said[0].contains("down: BGP state Active: connecting"),
            "{said:?}"
        );
        assert!(logged(&mut part, &connecting).is_empty());
    }
}
