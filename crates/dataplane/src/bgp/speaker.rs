//! [`BgpSpeaker`]: the gateway's `bird`, as the agent drives it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use super::control::{Control, ControlError, Protocol, parse_protocols, parse_routes};
use super::process::{Bird, BirdConfig, BirdError};
use super::{BgpDesired, SessionError, protocol_name, render_bird_conf};
use crate::openvpn::process::write_file;

/// A BGP speaker failure (the caller retries on its next step).
#[derive(Debug, thiserror::Error)]
pub enum BgpSpeakerError {
    #[error(transparent)]
    Bird(#[from] BirdError),
    #[error(transparent)]
    Control(#[from] ControlError),
    #[error("writing bird.conf: {0}")]
    Write(String),
}

/// A route one session learned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnedPrefix {
    pub prefix: Ipv4Net,
    pub as_path: Vec<u32>,
    /// `(asn,value)` each.
    pub communities: Vec<String>,
}

/// What one session is doing, measured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub tunnel_id: String,
    /// The BGP session is Established.
    pub established: bool,
    /// Why it is not (empty when it is).
    pub reason: String,
    /// BIRD's BGP state (`Established`, `Connect`, `Active`, `Idle`, …) or
    /// `disabled`/`not configured`.
    pub state: String,
    /// What it learned (empty unless established).
    pub learned: Vec<LearnedPrefix>,
    /// Not established since its tunnel came up, and BIRD names no error:
    /// the session is being set up (`reason` says with whom), nothing
    /// went wrong yet.
    #[serde(default)]
    pub starting: bool,
}

/// TCP-MD5 counters of the gateway's network namespace
/// (`/proc/<pid>/net/netstat`, `TcpExt`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Md5Counters {
    /// Segments whose signature did not verify (the keys differ).
    pub failure: u64,
    /// Segments without a signature on a connection that expects one.
    pub not_found: u64,
    /// Signed segments on a connection that expects none.
    pub unexpected: u64,
}

impl Md5Counters {
    /// Parses `/proc/net/netstat` (a line of names, a line of values).
    pub fn parse(netstat: &str) -> Md5Counters {
        let mut out = Md5Counters::default();
        let lines: Vec<&str> = netstat.lines().collect();
        for pair in lines.chunks(2) {
            let [names, values] = pair else { continue };
            if !names.starts_with("TcpExt:") {
                continue;
            }
            for (name, value) in names.split_whitespace().zip(values.split_whitespace()) {
                let v = value.parse().unwrap_or(0);
                match name {
                    "TCPMD5Failure" => out.failure = v,
                    "TCPMD5NotFound" => out.not_found = v,
                    "TCPMD5Unexpected" => out.unexpected = v,
                    _ => {}
                }
            }
        }
        out
    }

    /// Why sessions that try to connect fail, from what grew since `before`.
    fn reason_since(&self, before: &Md5Counters) -> Option<&'static str> {
        if self.failure > before.failure {
            Some("TCP-MD5 signatures do not verify: AuthKey differs from the peer's key")
        } else if self.not_found > before.not_found {
            Some(
                "TCP-MD5: the peer does not sign its segments (AuthKey is set here, not on the peer)",
            )
        } else if self.unexpected > before.unexpected {
            Some("TCP-MD5: the peer signs its segments but AuthKey is not set here")
        } else {
            None
        }
    }
}

/// One session's state word: BIRD's BGP state, `disabled` when the agent
/// keeps it off, `down` when BIRD stopped it on an error of its own (a
/// protocol `down` with `Error: …`, e.g. "Kernel MD5 auth failed": not
/// disabled, its last error says why), `not configured` when it is not
/// in `bird.conf`.
fn bird_state(refused: bool, p: Option<&Protocol>, enabled: bool) -> String {
    match p {
        _ if refused => "not configured".to_owned(),
        None => "not configured".to_owned(),
        Some(p) if p.state == "down" && enabled && p.info.starts_with("Error:") => {
            "down".to_owned()
        }
        Some(p) if p.state == "down" => "disabled".to_owned(),
        Some(p) => p.bgp_state.clone().unwrap_or_else(|| p.info.clone()),
    }
}

/// The gateway's `bird`: see the module documentation.
#[derive(Debug)]
pub struct BgpSpeaker {
    config: BirdConfig,
    bird: Option<Bird>,
    control: Option<Control>,
    /// The configuration BIRD runs (`None` after a restart: unknown).
    applied: Option<String>,
    desired: Option<BgpDesired>,
    errors: Vec<SessionError>,
    /// MD5 counters at the last read, and the last reason they gave per
    /// session (kept while the session stays down).
    md5: Md5Counters,
    md5_reason: HashMap<String, &'static str>,
    /// Sessions established since their protocol was last enabled: one of
    /// them that is down again ended, it is not starting.
    was_up: HashSet<String>,
    restarts: u32,
}

impl BgpSpeaker {
    /// Starts `bird` (stopping a leftover) with no session yet.
    pub async fn start(config: BirdConfig) -> Result<BgpSpeaker, BgpSpeakerError> {
        fs::create_dir_all(&config.state_dir)
            .map_err(|e| BgpSpeakerError::Write(format!("{}: {e}", config.state_dir.display())))?;
        let mut speaker = BgpSpeaker {
            config,
            bird: None,
            control: None,
            applied: None,
            desired: None,
            errors: Vec::new(),
            md5: Md5Counters::default(),
            md5_reason: HashMap::new(),
            was_up: HashSet::new(),
            restarts: 0,
        };
        speaker.launch().await?;
        Ok(speaker)
    }

    async fn launch(&mut self) -> Result<(), BgpSpeakerError> {
        let empty = BgpDesired {
            router_id: Ipv4Addr::new(169, 254, 0, 1),
            sessions: Vec::new(),
            advertised: Vec::new(),
            timers: Default::default(),
        };
        let desired = self.desired.clone().unwrap_or(empty);
        let rendered = render_bird_conf(&desired, &self.config.log_path());
        write_file(&self.config.conf_path(), &rendered.text, true)
            .map_err(|e| BgpSpeakerError::Write(e.to_string()))?;
        let config = self.config.clone();
        let bird = tokio::task::block_in_place(|| Bird::start(config))?;
        self.control = Some(Control::connect(&self.config.socket_path()).await?);
        self.bird = Some(bird);
        self.applied = Some(rendered.text);
        self.errors = rendered.errors;
        self.md5 = self.read_md5();
        Ok(())
    }

    /// `bird`'s pid.
    pub fn pid(&self) -> Option<u32> {
        self.bird.as_ref().and_then(Bird::pid)
    }

    /// How often `bird` had to be restarted.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    pub fn config(&self) -> &BirdConfig {
        &self.config
    }

    /// Restarts `bird` when it died (with the last desired state).
    async fn ensure_running(&mut self) -> Result<(), BgpSpeakerError> {
        let running = self.bird.as_mut().is_some_and(Bird::is_running);
        if running && self.control.is_some() {
            return Ok(());
        }
        if running {
            self.control = Some(Control::connect(&self.config.socket_path()).await?);
            return Ok(());
        }
        if let Some(mut old) = self.bird.take() {
            old.stop();
        }
        self.control = None;
        self.restarts += 1;
        self.launch().await
    }

    async fn command(
        &mut self,
        command: &str,
    ) -> Result<Vec<super::control::Line>, BgpSpeakerError> {
        self.ensure_running().await?;
        let Some(control) = self.control.as_mut() else {
            return Err(ControlError::Closed.into());
        };
        match control.command(command).await {
            Ok(lines) => Ok(lines),
            Err(e) => {
                if !matches!(e, ControlError::Refused { .. }) {
                    self.control = None;
                }
                Err(e.into())
            }
        }
    }

    /// Converges BIRD to `desired`: when its configuration changed, write
    /// it and `configure` (unchanged sessions stay up). Returns the sessions
    /// that could not be configured.
    pub async fn apply(
        &mut self,
        desired: &BgpDesired,
    ) -> Result<&[SessionError], BgpSpeakerError> {
        self.desired = Some(desired.clone());
        self.ensure_running().await?;
        let rendered = render_bird_conf(desired, &self.config.log_path());
        self.errors = rendered.errors;
        if self.applied.as_deref() != Some(rendered.text.as_str()) {
            write_file(&self.config.conf_path(), &rendered.text, true)
                .map_err(|e| BgpSpeakerError::Write(e.to_string()))?;
            let conf = self.config.conf_path().display().to_string();
            self.command(&format!("configure \"{conf}\"")).await?;
            self.applied = Some(rendered.text);
        }
        Ok(&self.errors)
    }

    fn read_md5(&self) -> Md5Counters {
        let Some(pid) = self.pid() else {
            return Md5Counters::default();
        };
        fs::read_to_string(format!("/proc/{pid}/net/netstat"))
            .map(|t| Md5Counters::parse(&t))
            .unwrap_or_default()
    }

    /// Every desired session's state, with what it learned.
    pub async fn sessions(&mut self) -> Result<Vec<SessionState>, BgpSpeakerError> {
        let protocols = parse_protocols(&self.command("show protocols all").await?);
        let routes = parse_routes(&self.command("show route all").await?);
        let md5 = self.read_md5();
        let md5_now = md5.reason_since(&self.md5);
        self.md5 = md5;
        let mut learned: BTreeMap<&str, Vec<LearnedPrefix>> = BTreeMap::new();
        for r in &routes {
            learned
                .entry(r.protocol.as_str())
                .or_default()
                .push(LearnedPrefix {
                    prefix: r.prefix,
                    as_path: r.as_path.clone(),
                    communities: r.communities.clone(),
                });
        }
        let Some(desired) = &self.desired else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for s in &desired.sessions {
            let name = protocol_name(&s.tunnel_id);
            let error = self.errors.iter().find(|e| e.tunnel_id == s.tunnel_id);
            let p = protocols.iter().find(|p| p.name == name);
            let state = bird_state(error.is_some(), p, s.enabled);
            let established = state == "Established";
            if established || state == "disabled" {
                self.md5_reason.remove(&s.tunnel_id);
            } else if let Some(r) = md5_now {
                self.md5_reason.insert(s.tunnel_id.clone(), r);
            }
            if established {
                self.was_up.insert(s.tunnel_id.clone());
            } else if state == "disabled" {
                self.was_up.remove(&s.tunnel_id);
            }
            let peer = format!("{} (AS {})", s.peer_ip, s.peer_asn);
            let mut starting = false;
            let reason = if established {
                String::new()
            } else if let Some(e) = error {
                e.message.clone()
            } else if state == "disabled" {
                "the tunnel has no IPsec SA: the session waits for it".to_owned()
            } else if let Some(r) = self.md5_reason.get(&s.tunnel_id) {
                format!("BGP state {state}: {r}")
            } else if let Some(e) = p.and_then(|p| p.last_error.as_deref()) {
                format!("BGP state {state}: {e}")
            } else if self.was_up.contains(&s.tunnel_id) {
                // BIRD forgets the error when it restarts the protocol.
                format!(
                    "BGP state {state}: the session with {peer} ended (BIRD names no error); reconnecting"
                )
            } else {
                starting = true;
                format!("BGP state {state}: connecting to {peer}, no answer yet")
            };
            out.push(SessionState {
                tunnel_id: s.tunnel_id.clone(),
                established,
                reason,
                state,
                learned: if established {
                    learned.remove(name.as_str()).unwrap_or_default()
                } else {
                    Vec::new()
                },
                starting,
            });
        }
        Ok(out)
    }

    /// Stops `bird` (its sessions end with a Cease notification).
    pub fn stop(&mut self) {
        self.control = None;
        if let Some(mut b) = self.bird.take() {
            b.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protocol_bird_stopped_on_an_error_is_down_not_disabled() {
        use super::super::control::parse_answer;
        let answer = "2002-Name       Proto      Table      State  Since         Info\n\
                      1002-t_a       BGP        ---        down   1796691952    Error: Kernel MD5 auth failed\n\
                      1006-  BGP state:          Down\n\
                      \x20   Last error:       Error: Kernel MD5 auth failed\n\
                      1002-t_b       BGP        ---        down   1796691952    \n\
                      1006-  BGP state:          Down\n\
                      0000 \n";
        let p = parse_protocols(&parse_answer(answer));
        assert_eq!(bird_state(false, p.first(), true), "down");
        // Kept off by the agent: disabled, whatever BIRD last said.
        assert_eq!(bird_state(false, p.first(), false), "disabled");
        assert_eq!(bird_state(false, p.get(1), false), "disabled");
        assert_eq!(bird_state(true, p.first(), true), "not configured");
        assert_eq!(bird_state(false, None, true), "not configured");
    }

    #[test]
    fn md5_counters_and_what_they_mean() {
        let netstat = "TcpExt: SyncookiesSent TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure\nTcpExt: 0 1 0 24\nIpExt: InNoRoutes\nIpExt: 3\n";
        let c = Md5Counters::parse(netstat);
        assert_eq!(
            c,
            Md5Counters {
                failure: 24,
                not_found: 1,
                unexpected: 0
            }
        );
        assert_eq!(c.reason_since(&c), None);
        let before = Md5Counters { failure: 20, ..c };
        assert!(
            c.reason_since(&before)
                .is_some_and(|r| r.contains("AuthKey differs"))
        );
        let before = Md5Counters { not_found: 0, ..c };
        assert!(
            c.reason_since(&before)
                .is_some_and(|r| r.contains("does not sign"))
        );
    }
}
