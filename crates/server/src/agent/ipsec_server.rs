//! The IPsec server part: the gateway's IPsec server (client-to-site) on
//! charon, or a simulated one, through [`ServerPlane`].
//!
//! Desired section: `GatewayState::ipsec_server` (ListIpsecServers). Report
//! section: one `IpsecServerReport` (OnlineClientCount, the clients and
//! their virtual IPs, why it is not running) and the server's log lines
//! (`ReportedEvent::ipsec_server_id`: ListIpsecServerLogs).
//!
//! [`Part::step`] converges the server, reads its clients, ends the newest
//! sessions when the gateway's remote-access servers together exceed
//! `MaxConnections` ([`RemoteSessions`]), and turns charon's events about
//! the server into log lines (plus one plain line saying why a client was
//! refused).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use vpngw_dataplane::ipsec_server::{OnlineClient, ServerApplied, ServerPlane};
use vpngw_dataplane::{DataplaneEvent, EventKind, TunnelErrorKind, failure_reason};
use vpngw_model::dataplane::{
    DataplaneReport, IpsecClientReport, IpsecServerReport, ReportedEvent,
};
use vpngw_model::vpn_gateway::{RemoteAccess, RemoteSession, over_quota};

use super::desired::{FetchedIpsecServer, GatewayState};
use super::ipsec::{NOISY_GROUPS, NOISY_MESSAGES, SETTLE, epoch_ms};
use super::part::Part;

/// The client sessions of the gateway's remote-access servers (the IPsec
/// server, the SSL server), which share one connection quota. Each
/// remote-access part publishes its own; the parts run one after another
/// in the agent's loop, so a plain `RefCell` is enough.
#[derive(Clone, Default)]
pub struct RemoteSessions(Rc<RefCell<BTreeMap<RemoteAccess, Vec<RemoteSession>>>>);

impl RemoteSessions {
    /// `server`'s sessions now.
    pub fn publish(&self, server: RemoteAccess, sessions: Vec<RemoteSession>) {
        self.0.borrow_mut().insert(server, sessions);
    }

    /// The sessions of every server.
    pub fn count(&self) -> usize {
        self.0.borrow().values().map(Vec::len).sum()
    }

    /// `server`'s sessions that are over `max_connections` with every
    /// server's counted: the newest of all go, whichever server they are on.
    pub fn over_quota(&self, server: RemoteAccess, max_connections: i64) -> Vec<RemoteSession> {
        let all: Vec<RemoteSession> = self.0.borrow().values().flatten().cloned().collect();
        over_quota(max_connections, &all)
            .into_iter()
            .filter(|s| s.server == server)
            .cloned()
            .collect()
    }
}

/// The gateway's IPsec server. See the module documentation.
pub struct IpsecServerPart<S: ServerPlane> {
    plane: S,
    sessions: RemoteSessions,
    /// How often clients are read without an event.
    interval: Duration,
    next_check: Instant,
    /// The desired server (`None`: none), or why it cannot be read.
    wanted: Option<Result<FetchedIpsecServer, String>>,
    /// `wanted` is what the plane holds.
    converged: bool,
    /// Why the server is not taking clients (empty when it is).
    problem: String,
    /// The last refusal reason logged, per client identity (one plain line
    /// per new reason, not one per retry).
    refusals: BTreeMap<String, String>,
    /// Log lines for the next report.
    events: Vec<ReportedEvent>,
    /// Online clients at the last step (to log changes once).
    online: usize,
}

impl<S: ServerPlane> IpsecServerPart<S> {
    pub fn new(plane: S, sessions: RemoteSessions, interval: Duration) -> Self {
        IpsecServerPart {
            plane,
            sessions,
            interval,
            next_check: Instant::now(),
            wanted: None,
            converged: false,
            problem: String::new(),
            refusals: BTreeMap::new(),
            events: Vec::new(),
            online: 0,
        }
    }

    fn server_id(&self) -> Option<&str> {
        match &self.wanted {
            Some(Ok(f)) => Some(&f.spec.ipsec_server_id),
            _ => None,
        }
    }

    fn log(&mut self, server: &str, time: SystemTime, message: String) {
        tracing::info!(ipsec_server = %server, "{message}");
        self.events.push(ReportedEvent {
            ipsec_server_id: server.to_owned(),
            time: epoch_ms(time),
            message,
            ..ReportedEvent::default()
        });
    }

    async fn converge(&mut self) {
        if self.converged {
            return;
        }
        let desired = match &self.wanted {
            Some(Ok(f)) => f.desired.as_ref().ok().cloned(),
            // Unreadable: keep what runs, say why.
            Some(Err(why)) => {
                self.problem = format!("the IPsec server's configuration cannot be read: {why}");
                tracing::warn!("{}; keeping the server as it runs", self.problem);
                self.converged = true;
                return;
            }
            None => None,
        };
        match self.plane.apply(desired.as_ref()).await {
            Ok(applied) => {
                self.converged = true;
                self.note_applied(applied);
            }
            Err(e) => {
                tracing::warn!(error = %e, "applying the IPsec server failed; retrying on the next step");
                self.problem = format!("gateway data plane unavailable: {e}");
            }
        }
    }

    fn note_applied(&mut self, applied: ServerApplied) {
        let now = SystemTime::now();
        for id in applied.removed {
            self.log(
                &id,
                now,
                format!("IPsec server {id} removed: its clients were disconnected"),
            );
        }
        let problem = match (&self.wanted, &applied.error) {
            (Some(Ok(f)), _) if f.desired.is_err() => f.desired.clone().err().unwrap_or_default(),
            (_, Some(TunnelErrorKind::Render(e))) => e.to_string(),
            (_, Some(TunnelErrorKind::Rejected { command, message })) => {
                format!("the gateway rejected {command}: {message}")
            }
            _ => String::new(),
        };
        let id = self.server_id().map(str::to_owned);
        if let Some(id) = &id {
            if !problem.is_empty() && problem != self.problem {
                self.log(id, now, format!("configuration not applied: {problem}"));
            }
            if let Some(loaded) = &applied.loaded {
                let mut line = format!("IPsec server {loaded} configured");
                if applied.sessions_ended {
                    line.push_str(": the sessions negotiated with the old settings were ended");
                }
                self.log(id, now, line);
            }
        }
        self.problem = problem;
    }

    fn collect_events(&mut self, events: Vec<DataplaneEvent>) {
        let Some(id) = self.server_id().map(str::to_owned) else {
            return;
        };
        for e in events {
            if e.tunnel_id.as_deref() != Some(id.as_str()) {
                continue;
            }
            if e.kind == EventKind::Log {
                if let Some(reason) = failure_reason(&e.message) {
                    // Who was refused: charon names the client's identity
                    // in the line ("… for '<server>' - '<client>' …").
                    let who = e.message.rsplit('\'').nth(1).unwrap_or("").to_owned();
                    if self
                        .refusals
                        .insert(who.clone(), reason.to_owned())
                        .as_deref()
                        != Some(reason)
                    {
                        let line = if who.is_empty() {
                            format!("client not connected: {reason}")
                        } else {
                            format!("client '{who}' not connected: {reason}")
                        };
                        self.log(&id, e.at, line);
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
            self.log(&id, e.at, e.message);
        }
    }

    /// Ends the newest sessions over the shared quota.
    async fn enforce_quota(&mut self, clients: &mut Vec<OnlineClient>, max_connections: i64) {
        self.sessions.publish(
            RemoteAccess::Ipsec,
            clients
                .iter()
                .map(|c| RemoteSession {
                    server: RemoteAccess::Ipsec,
                    session: c.ike_sa.to_string(),
                    connected_for_s: c.connected_for_s,
                })
                .collect(),
        );
        let Some(id) = self.server_id().map(str::to_owned) else {
            return;
        };
        for cut in self
            .sessions
            .over_quota(RemoteAccess::Ipsec, max_connections)
        {
            let Some(pos) = clients
                .iter()
                .position(|c| c.ike_sa.to_string() == cut.session)
            else {
                continue;
            };
            if let Err(e) = self.plane.disconnect(clients[pos].ike_sa).await {
                tracing::warn!(error = %e, "ending a session over the connection quota failed");
                continue;
            }
            let c = clients.remove(pos);
            self.log(
                &id,
                SystemTime::now(),
                format!(
                    "client '{}' ({}, {}) disconnected: MaxConnections {max_connections} reached (shared with SSL-VPN)",
                    c.identity,
                    c.remote_addr,
                    c.virtual_ips.join(",")
                ),
            );
        }
    }

    fn report(&self, clients: &[OnlineClient]) -> Option<IpsecServerReport> {
        let Some(Ok(f)) = &self.wanted else {
            return None;
        };
        Some(IpsecServerReport {
            ipsec_server_id: f.spec.ipsec_server_id.clone(),
            config_digest: f.digest.clone(),
            online_client_count: clients.len() as i64,
            clients: clients
                .iter()
                .map(|c| IpsecClientReport {
                    identity: c.identity.clone(),
                    remote_addr: c.remote_addr.clone(),
                    virtual_ip: c.virtual_ips.join(","),
                })
                .collect(),
            reason: self.problem.clone(),
        })
    }
}

#[async_trait(?Send)]
impl<S: ServerPlane> Part for IpsecServerPart<S> {
    fn name(&self) -> &'static str {
        "ipsec-server"
    }

    async fn apply(&mut self, desired: &Arc<GatewayState>) {
        let wanted = if desired.gone {
            None
        } else {
            desired.ipsec_server.clone()
        };
        let digest = |w: &Option<Result<FetchedIpsecServer, String>>| match w {
            None => None,
            Some(Ok(f)) => Some(Ok(f.digest.clone())),
            Some(Err(why)) => Some(Err(why.clone())),
        };
        if digest(&wanted) != digest(&self.wanted) {
            self.wanted = wanted;
            self.converged = false;
            self.refusals.clear();
        }
        self.next_check = Instant::now();
    }

    async fn wait(&mut self) {
        let now = Instant::now();
        if self.next_check > now {
            if self
                .plane
                .wait_event(self.next_check.saturating_duration_since(now))
                .await
            {
                // A client's IKE SA, then its CHILD SA.
                tokio::time::sleep(SETTLE).await;
            }
        } else {
            tokio::task::yield_now().await;
        }
    }

    async fn step(&mut self, out: &mut DataplaneReport) {
        self.next_check = Instant::now() + self.interval;
        self.converge().await;
        let mut clients = match self.plane.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "reading the IPsec server's clients failed");
                self.problem = format!("gateway data plane unavailable: {e}");
                self.converged = false;
                Vec::new()
            }
        };
        let events = self.plane.take_events();
        self.collect_events(events);
        if let Some(Ok(f)) = &self.wanted {
            let max = f.spec.max_connections;
            self.enforce_quota(&mut clients, max).await;
        } else {
            self.sessions.publish(RemoteAccess::Ipsec, Vec::new());
        }
        if clients.len() != self.online {
            tracing::info!(online = clients.len(), "IPsec server clients");
            self.online = clients.len();
        }
        out.ipsec_servers.extend(self.report(&clients));
        out.events.append(&mut self.events);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::desired::desired_ipsec_server;
    use vpngw_dataplane::RenderOptions;
    use vpngw_dataplane::ipsec_server::SimulatedServer;
    use vpngw_model::dataplane::{IpsecServerAnswer, ipsec_server_spec_from_api};

    /// A ListIpsecServers item's JSON as its type (as the agent reads it).
    fn typed(item: &serde_json::Value) -> IpsecServerAnswer {
        serde_json::from_value(item.clone()).expect("a ListIpsecServers item")
    }

    /// A ListIpsecServers item as the SDK models it.
    fn list_item(enc: &str) -> serde_json::Value {
        serde_json::json!({
            "IpsecServerId": "iss-1",
            "IpsecServerName": "rw",
            "VpnGatewayId": "vpn-1",
            "RegionId": "cn-hangzhou",
            "InternetIp": "198.18.0.7",
            "ClientIpPool": "10.10.0.0/24",
            "LocalSubnet": "10.0.0.0/24,192.168.0.0/16",
            "EffectImmediately": false,
            "Psk": "s3cret",
            "PskEnabled": true,
            "MaxConnections": 5,
            "OnlineClientCount": 0,
            "MultiFactorAuthEnabled": false,
            "IkeConfig": {"IkeVersion": "ikev2", "IkeMode": "main", "IkeEncAlg": enc,
                          "IkeAuthAlg": "sha1", "IkePfs": "group2", "IkeLifetime": 86400,
                          "LocalId": "198.18.0.7", "RemoteId": ""},
            "IpsecConfig": {"IpsecEncAlg": "aes", "IpsecAuthAlg": "sha1", "IpsecPfs": "group2",
                            "IpsecLifetime": 86400}
        })
    }

    fn state(item: Option<serde_json::Value>) -> Arc<GatewayState> {
        Arc::new(GatewayState {
            ipsec_server: item.map(|i| FetchedIpsecServer::from_view(&typed(&i))),
            ..GatewayState::default()
        })
    }

    #[test]
    fn a_list_item_becomes_the_data_planes_server() {
        let spec = ipsec_server_spec_from_api(&typed(&list_item("aes"))).expect("spec");
        assert_eq!(spec.max_connections, 5);
        let d = desired_ipsec_server(&spec).expect("desired");
        assert_eq!(d.server_id, "iss-1");
        assert_eq!(d.local_addr.to_string(), "198.18.0.7");
        assert_eq!(d.client_ip_pool, "10.10.0.0/24");
        assert_eq!(d.local_subnets, ["10.0.0.0/24", "192.168.0.0/16"]);
        assert_eq!(d.ike.psk.expose(), "s3cret");
        assert_eq!(d.ike.version.as_api_str(), "ikev2");
        // Another key is another configuration.
        let mut other = list_item("aes");
        other["Psk"] = "other".into();
        let other = ipsec_server_spec_from_api(&typed(&other)).expect("spec");
        assert_ne!(other.digest(), spec.digest());
        assert!(ipsec_server_spec_from_api(&IpsecServerAnswer::default()).is_err());
    }

    #[tokio::test]
    async fn reports_the_server_and_its_problems() {
        let mut part = IpsecServerPart::new(
            SimulatedServer::new(RenderOptions::default()),
            RemoteSessions::default(),
            Duration::from_secs(1),
        );
        part.apply(&state(Some(list_item("aes")))).await;
        let mut out = DataplaneReport::default();
        part.step(&mut out).await;
        assert_eq!(out.ipsec_servers.len(), 1);
        let r = &out.ipsec_servers[0];
        assert_eq!(r.ipsec_server_id, "iss-1");
        assert_eq!(r.online_client_count, 0);
        assert!(r.reason.is_empty(), "{r:?}");
        assert!(!r.config_digest.is_empty());
        assert!(
            out.events
                .iter()
                .all(|e| e.ipsec_server_id == "iss-1" && e.vpn_connection_id.is_empty())
        );
        assert!(
            out.events.iter().any(|e| e.message.contains("simulated")),
            "{out:?}"
        );

        // sm4: not applied, with the reason, reported and logged once.
        part.apply(&state(Some(list_item("sm4")))).await;
        let mut out = DataplaneReport::default();
        part.step(&mut out).await;
        let r = &out.ipsec_servers[0];
        assert!(r.reason.contains("sm4"), "{r:?}");
        assert!(out.events.iter().any(
            |e| e.message.starts_with("configuration not applied") && e.message.contains("sm4")
        ));
        let mut again = DataplaneReport::default();
        part.step(&mut again).await;
        assert!(again.events.is_empty(), "{again:?}");

        // Unreadable (the agent may not list IPsec servers): what runs stays.
        part.apply(&state(Some(list_item("aes")))).await;
        part.step(&mut DataplaneReport::default()).await;
        part.apply(&Arc::new(GatewayState {
            ipsec_server: Some(Err("ListIpsecServers refused: NoPermission".into())),
            ..GatewayState::default()
        }))
        .await;
        let mut out = DataplaneReport::default();
        part.step(&mut out).await;
        assert!(
            !out.events.iter().any(|e| e.message.contains("removed")),
            "{out:?}"
        );

        // Deleted: nothing more to report.
        part.apply(&state(None)).await;
        let mut out = DataplaneReport::default();
        part.step(&mut out).await;
        assert!(out.ipsec_servers.is_empty());
    }

    #[test]
    fn the_quota_counts_both_servers() {
        let sessions = RemoteSessions::default();
        let s = |server, name: &str, age| RemoteSession {
            server,
            session: name.into(),
            connected_for_s: age,
        };
        sessions.publish(
            RemoteAccess::Ssl,
            vec![
                s(RemoteAccess::Ssl, "a", 30),
                s(RemoteAccess::Ssl, "b", 20),
                s(RemoteAccess::Ssl, "c", 10),
            ],
        );
        sessions.publish(
            RemoteAccess::Ipsec,
            vec![
                s(RemoteAccess::Ipsec, "1", 9),
                s(RemoteAccess::Ipsec, "2", 8),
                s(RemoteAccess::Ipsec, "3", 1),
            ],
        );
        let cut = sessions.over_quota(RemoteAccess::Ipsec, 5);
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].session, "3");
        assert!(sessions.over_quota(RemoteAccess::Ssl, 5).is_empty());
    }
}
