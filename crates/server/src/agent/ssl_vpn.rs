//! The SSL-VPN part of the agent: the gateway's OpenVPN server
//! ([`vpngw_dataplane::openvpn::SslServer`], in the gateway's namespace).
//!
//! Its section of the desired state is the gateway's SSL server as
//! DescribeSslVpnServers shows it plus what DescribeSslVpnServerPki (vpngw's
//! product) hands the agent: the CA, the gateway's certificate and key, the
//! CRL and the revoked certificates. A change of the server's settings
//! restarts OpenVPN (every client reconnects, as on the cloud); a new CRL is
//! written in place and only the revoked clients' sessions are ended.
//!
//! [`Part::step`] converges the server, reads the connected clients from
//! the management interface (`Connections`, DescribeSslVpnClients), admits
//! or refuses the clients waiting at connect (OpenVPN's
//! `management-client-auth`: a client is refused with `AUTH_FAILED` when
//! the gateway's remote-access servers together hold `SslConnections`
//! sessions, and a stock client stops rather than retrying), ends the
//! newest sessions when they exceed it anyway ([`RemoteSessions`], shared
//! with the IPsec server part, which learns of SSL sessions only after the
//! fact; OpenVPN's own `max-clients` counts only its clients) and turns
//! OpenVPN's log lines into the server's log (DescribeVpnSslServerLogs),
//! each filed under the certificate it names. [`Part::wait`] wakes as soon
//! as a client waits to be admitted.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use vpngw_dataplane::openvpn::management::{AdmissionRequest, ConnectedClient, LogLine};
use vpngw_dataplane::openvpn::{SslServer, SslServerDesired};
use vpngw_model::dataplane::{DataplaneReport, ReportedEvent, SslVpnServerReport};
use vpngw_model::ssl_vpn::SslClient;
use vpngw_model::vpn_gateway::{RemoteAccess, RemoteSession};

use super::desired::{FetchedSslServer, GatewayState};
use super::ipsec_server::RemoteSessions;
use super::part::Part;

/// Log lines OpenVPN writes at `verb 3` that say nothing to the API's user.
const NOISY: &[&str] = &[
    "MANAGEMENT:",
    "Data Channel: cipher",
    "Data Channel MTU",
    "Outgoing Data Channel",
    "Incoming Data Channel",
    "TLS: tls_multi_process",
];

/// The gateway's SSL server. See the module documentation.
pub struct SslVpnPart {
    server: SslServer,
    sessions: RemoteSessions,
    /// How often clients are read without a change.
    interval: Duration,
    next_check: Instant,
    /// The desired server (`None`: none), or why it cannot be read.
    wanted: Option<Result<FetchedSslServer, String>>,
    /// `wanted` is what OpenVPN runs.
    converged: bool,
    /// Why the server does not take clients (empty when it does).
    problem: String,
    /// Clients admitted but not yet in OpenVPN's status (counted against
    /// the quota meanwhile), by client id, with when.
    admitted: HashMap<String, Instant>,
}

/// How long an admitted client counts before it shows in the status (it
/// failed in between otherwise).
const ADMITTED_GRACE: Duration = Duration::from_secs(10);

impl SslVpnPart {
    pub fn new(server: SslServer, sessions: RemoteSessions, interval: Duration) -> Self {
        SslVpnPart {
            server,
            sessions,
            interval,
            next_check: Instant::now(),
            wanted: None,
            converged: false,
            problem: String::new(),
            admitted: HashMap::new(),
        }
    }

    fn server_id(&self) -> Option<String> {
        match &self.wanted {
            Some(Ok(f)) => Some(f.server_id.clone()),
            _ => None,
        }
    }

    async fn converge(&mut self) {
        let desired: Option<SslServerDesired> = match &self.wanted {
            Some(Ok(f)) => match &f.desired {
                Ok(d) => Some(d.clone()),
                Err(why) => {
                    self.problem = why.clone();
                    None
                }
            },
            Some(Err(why)) => {
                self.problem = why.clone();
                None
            }
            None => None,
        };
        match self.server.apply(desired.as_ref()).await {
            Ok(applied) => {
                if desired.is_some() {
                    self.problem.clear();
                }
                if applied.restarted || applied.stopped || !applied.disconnected.is_empty() {
                    tracing::info!(?applied, "SSL server applied");
                }
                self.converged = true;
            }
            Err(e) => {
                self.problem = format!("OpenVPN could not be started: {e}");
                tracing::warn!(error = %e, "SSL server not applied");
                self.converged = false;
            }
        }
    }
}

impl SslVpnPart {
    /// Publishes the SSL sessions and ends those over the quota the
    /// gateway's remote-access servers share (the newest of all go,
    /// whichever server they are on); returns the clients still connected
    /// and a log line for each one ended.
    async fn enforce_quota(
        &mut self,
        server_id: &str,
        mut clients: Vec<ConnectedClient>,
    ) -> (Vec<ConnectedClient>, Vec<ReportedEvent>) {
        let now = epoch_s(SystemTime::now());
        self.sessions
            .publish(RemoteAccess::Ssl, sessions_of(&clients, now));
        let max = match &self.wanted {
            Some(Ok(FetchedSslServer { desired: Ok(d), .. })) => i64::from(d.max_clients),
            _ => return (clients, Vec::new()),
        };
        let mut events = Vec::new();
        for cut in self.sessions.over_quota(RemoteAccess::Ssl, max) {
            let Some(pos) = clients.iter().position(|c| c.client_id == cut.session) else {
                continue;
            };
            match self.server.disconnect(&cut.session).await {
                Ok(_) => {
                    let c = clients.remove(pos);
                    events.push(ReportedEvent {
                        time: now.saturating_mul(1000),
                        message: format!(
                            "{}/{}:{} disconnected: SslConnections {max} reached (shared with the IPsec server)",
                            c.common_name, c.real_address, c.real_port
                        ),
                        ssl_vpn_server_id: server_id.to_owned(),
                        ssl_vpn_client_cert_id: c.common_name,
                        ..ReportedEvent::default()
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "ending a session over the connection quota failed");
                }
            }
        }
        (clients, events)
    }
}

impl SslVpnPart {
    /// Answers the clients waiting at connect: a new session is admitted
    /// while the gateway's remote-access servers hold fewer than
    /// `SslConnections` sessions (those just admitted included), refused
    /// otherwise; a session renewing its keys is counted already. Returns a
    /// log line per refusal.
    async fn answer_admissions(
        &mut self,
        server_id: &str,
        connected: &[ConnectedClient],
    ) -> Vec<ReportedEvent> {
        let requests = match self.server.take_admissions().await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "reading the clients waiting to connect failed");
                return Vec::new();
            }
        };
        let now = Instant::now();
        self.admitted.retain(|id, at| {
            now.duration_since(*at) < ADMITTED_GRACE
                && !connected.iter().any(|c| c.client_id == *id)
        });
        let max = match &self.wanted {
            Some(Ok(FetchedSslServer { desired: Ok(d), .. })) => i64::from(d.max_clients),
            _ => 0,
        };
        let mut events = Vec::new();
        for r in requests {
            let taken = self.sessions.count() + self.admitted.len();
            let free = vpngw_model::vpn_gateway::free_connections(max, taken);
            let answered = if r.reauth || free > 0 {
                self.server.admit(&r).await.map(|()| {
                    if !r.reauth {
                        self.admitted.insert(r.client_id.clone(), now);
                    }
                })
            } else {
                let reason = format!("SslConnections {max} reached (shared with the IPsec server)");
                events.push(refusal(server_id, &r, &reason));
                self.server.refuse(&r, &reason).await
            };
            if let Err(e) = answered {
                tracing::warn!(error = %e, "answering a client waiting to connect failed");
            }
        }
        events
    }
}

/// The log line of a client refused at connect.
fn refusal(server_id: &str, r: &AdmissionRequest, reason: &str) -> ReportedEvent {
    ReportedEvent {
        time: epoch_s(SystemTime::now()).saturating_mul(1000),
        message: format!(
            "{}/{}:{} refused at connect: {reason}",
            r.common_name, r.address, r.port
        ),
        ssl_vpn_server_id: server_id.to_owned(),
        ssl_vpn_client_cert_id: r.common_name.clone(),
        ..ReportedEvent::default()
    }
}

fn epoch_s(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The SSL clients as sessions of the shared quota, at `now` (seconds since
/// the epoch).
fn sessions_of(clients: &[ConnectedClient], now: i64) -> Vec<RemoteSession> {
    clients
        .iter()
        .map(|c| RemoteSession {
            server: RemoteAccess::Ssl,
            session: c.client_id.clone(),
            connected_for_s: u64::try_from(now.saturating_sub(c.connected_since)).unwrap_or(0),
        })
        .collect()
}

/// What DescribeSslVpnClients shows of a connected client.
fn client_of(c: ConnectedClient) -> SslClient {
    SslClient {
        common_name: c.common_name,
        ip: c.real_address,
        port: c.real_port.parse().unwrap_or(0),
        private_ip: c.virtual_address,
        connected_time: c.connected_since.saturating_mul(1000),
        receive_bytes: i64::try_from(c.bytes_received).unwrap_or(i64::MAX),
        send_bytes: i64::try_from(c.bytes_sent).unwrap_or(i64::MAX),
    }
}

/// A log line of the server, filed under the certificate it names.
fn event_of(server_id: &str, line: LogLine) -> Option<ReportedEvent> {
    if line.message.is_empty() || NOISY.iter().any(|n| line.message.contains(n)) {
        return None;
    }
    let cert = line
        .common_name()
        .filter(|cn| cn.starts_with("vsc-"))
        .unwrap_or("")
        .to_owned();
    Some(ReportedEvent {
        time: line.time.saturating_mul(1000),
        message: line.message,
        ssl_vpn_server_id: server_id.to_owned(),
        ssl_vpn_client_cert_id: cert,
        ..ReportedEvent::default()
    })
}

#[async_trait(?Send)]
impl Part for SslVpnPart {
    fn name(&self) -> &'static str {
        "openvpn"
    }

    async fn apply(&mut self, desired: &Arc<GatewayState>) {
        let wanted = if desired.gone {
            None
        } else {
            desired.ssl_server.clone()
        };
        let same = match (&self.wanted, &wanted) {
            (Some(Ok(a)), Some(Ok(b))) => a.digest == b.digest,
            (a, b) => a.is_none() && b.is_none(),
        };
        if !same {
            self.wanted = wanted;
            self.converged = false;
            self.next_check = Instant::now();
        }
    }

    async fn wait(&mut self) {
        let timer = tokio::time::sleep_until(self.next_check.into());
        tokio::select! {
            () = timer => {}
            // A client waits at connect: answer it now (an error, e.g.
            // OpenVPN gone, leaves the timer to it).
            Ok(()) = self.server.admission_waiting() => {}
        }
    }

    async fn step(&mut self, out: &mut DataplaneReport) {
        self.next_check = Instant::now() + self.interval;
        if !self.converged {
            self.converge().await;
        }
        let Some(id) = self.server_id() else {
            // No server: its log lines have nobody to go to.
            let _ = self.server.take_log().await;
            self.sessions.publish(RemoteAccess::Ssl, Vec::new());
            return;
        };
        let clients = match self.server.clients().await {
            Ok(c) => c,
            Err(e) => {
                // OpenVPN died or hung: start it again at the next step.
                self.problem = format!("OpenVPN does not answer: {e}");
                self.converged = false;
                Vec::new()
            }
        };
        let (clients, mut ended) = self.enforce_quota(&id, clients).await;
        let mut refused = self.answer_admissions(&id, &clients).await;
        for line in self.server.take_log().await {
            if let Some(e) = event_of(&id, line) {
                out.events.push(e);
            }
        }
        out.events.append(&mut ended);
        out.events.append(&mut refused);
        let clients: Vec<SslClient> = clients.into_iter().map(client_of).collect();
        out.ssl_vpn_servers.push(SslVpnServerReport {
            ssl_vpn_server_id: id,
            connections: i64::try_from(clients.len()).unwrap_or(i64::MAX),
            clients,
            reason: self.problem.clone(),
        });
    }
}

impl Drop for SslVpnPart {
    fn drop(&mut self) {
        self.server.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_filed_under_their_certificate() {
        let line = LogLine {
            time: 1_700_000_000,
            flags: "I".into(),
            message:
                "vsc-abc/198.18.0.2:40000 Peer Connection Initiated with [AF_INET]198.18.0.2:40000"
                    .into(),
        };
        let e = event_of("vss-1", line).expect("kept");
        assert_eq!(e.ssl_vpn_server_id, "vss-1");
        assert_eq!(e.ssl_vpn_client_cert_id, "vsc-abc");
        assert_eq!(e.time, 1_700_000_000_000);
        let noise = LogLine {
            time: 1,
            flags: "I".into(),
            message: "MANAGEMENT: Client connected from /x".into(),
        };
        assert!(event_of("vss-1", noise).is_none());
    }

    #[test]
    fn the_newest_sessions_of_either_server_go_over_the_shared_quota() {
        let client = |id: &str, since: i64| ConnectedClient {
            common_name: format!("vsc-{id}"),
            real_address: "198.18.0.2".into(),
            real_port: "40000".into(),
            virtual_address: "10.200.0.6".into(),
            bytes_received: 0,
            bytes_sent: 0,
            connected_since: since,
            client_id: id.into(),
        };
        let now = 1_700_000_100;
        let ssl = sessions_of(&[client("1", now - 100), client("2", now - 10)], now);
        assert_eq!(ssl[0].connected_for_s, 100);
        let board = RemoteSessions::default();
        board.publish(RemoteAccess::Ssl, ssl);
        board.publish(
            RemoteAccess::Ipsec,
            vec![RemoteSession {
                server: RemoteAccess::Ipsec,
                session: "7".into(),
                connected_for_s: 50,
            }],
        );
        // Three sessions, two allowed: the SSL client of 10 s goes.
        let cut = board.over_quota(RemoteAccess::Ssl, 2);
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].session, "2");
        assert!(board.over_quota(RemoteAccess::Ipsec, 2).is_empty());
        assert!(board.over_quota(RemoteAccess::Ssl, 3).is_empty());
    }

    #[test]
    fn clients_as_the_api_shows_them() {
        let c = client_of(ConnectedClient {
            common_name: "vsc-1".into(),
            real_address: "198.18.0.2".into(),
            real_port: "40000".into(),
            virtual_address: "10.200.0.6".into(),
            bytes_received: 10,
            bytes_sent: 20,
            connected_since: 1_700_000_000,
            client_id: "0".into(),
        });
        assert_eq!((c.port, c.connected_time), (40000, 1_700_000_000_000));
        assert_eq!((c.receive_bytes, c.send_bytes), (10, 20));
    }
}
