//! The reporter: what the parts measured goes to the control plane
//! (`ReportDataplaneState`), and only what the control plane does not know
//! yet.
//!
//! Parts offer their measurements as often as they like; the reporter keeps
//! the latest per connection and sends those that differ from what the
//! control plane last accepted (status, reasons, health check, route), plus
//! counters that changed once the accepted ones are [`COUNTER_REFRESH`] old.
//! Whatever is waiting goes out in one call (up to [`REPORT_CHUNK`]
//! connections each), so a burst of changes is one batch; while a call is in
//! flight, the next batch gathers. A failed call is retried with back-off,
//! its events kept. A report the server calls `Stale` (measured against
//! another configuration than the one it stores) is offered again after
//! [`STALE_RETRY`]; an `Unknown` connection (deleted) is forgotten. The
//! IPsec server's report goes the same way (with the first chunk), sent
//! whenever it differs from what was accepted.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;
use vpngw_client::Client;
use vpngw_model::dataplane::{
    ConnectionReport, DataplaneReport, IpsecServerReport, ReportedEvent, SslVpnServerReport,
};
use vpngw_ops::vpngw::report_dataplane_state;

/// Largest number of connections per ReportDataplaneState call.
pub const REPORT_CHUNK: usize = 200;
/// Largest number of log events per call.
const MAX_EVENTS: usize = 200;
/// Log events kept while the control plane cannot be reached.
const MAX_QUEUED_EVENTS: usize = 10 * MAX_EVENTS;
/// Counters alone are sent again this often (the server keeps them no
/// fresher than `vpngw_api::vpngw::COUNTER_REFRESH_MS`).
pub const COUNTER_REFRESH: Duration = Duration::from_secs(30);
/// A report the server found stale is offered again after this long.
pub const STALE_RETRY: Duration = Duration::from_secs(2);
/// Back-off after a failed call: from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// A connection no part mentioned for this long is forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// What is known of one connection's reports.
struct Entry {
    /// The latest measurement offered.
    latest: ConnectionReport,
    offered: Instant,
    /// What the control plane accepted last, and when.
    accepted: Option<(ConnectionReport, Instant)>,
    /// Not sent before this (after a `Stale` answer).
    hold_until: Option<Instant>,
}

impl Entry {
    fn due(&self, now: Instant) -> bool {
        if self.hold_until.is_some_and(|t| now < t) {
            return false;
        }
        match &self.accepted {
            None => true,
            Some((accepted, at)) => {
                !same_but_counters(accepted, &self.latest)
                    || (now.duration_since(*at) >= COUNTER_REFRESH
                        && !same_counters(accepted, &self.latest))
            }
        }
    }

    /// When this entry becomes due without a new offer.
    fn next_due(&self) -> Option<Instant> {
        if let Some(t) = self.hold_until {
            return Some(t);
        }
        match &self.accepted {
            None => Some(Instant::now()),
            Some((accepted, at)) if !same_counters(accepted, &self.latest) => {
                Some(*at + COUNTER_REFRESH)
            }
            Some(_) => None,
        }
    }
}

fn same_but_counters(a: &ConnectionReport, b: &ConnectionReport) -> bool {
    a.vpn_connection_id == b.vpn_connection_id
        && a.config_digest == b.config_digest
        && a.status == b.status
        && a.reason == b.reason
        && a.health_check_status == b.health_check_status
        && a.route_withdrawn == b.route_withdrawn
        && a.tunnels.len() == b.tunnels.len()
        && a.tunnels.iter().zip(&b.tunnels).all(|(x, y)| {
            x.tunnel_id == y.tunnel_id
                && x.status == y.status
                && x.reason == y.reason
                && x.ike_state == y.ike_state
                && x.bgp_status == y.bgp_status
                && x.bgp_reason == y.bgp_reason
                && x.learned_routes == y.learned_routes
        })
}

fn same_counters(a: &ConnectionReport, b: &ConnectionReport) -> bool {
    a.tunnels.len() == b.tunnels.len()
        && a.tunnels.iter().zip(&b.tunnels).all(|(x, y)| {
            (x.bytes_in, x.bytes_out, x.packets_in, x.packets_out)
                == (y.bytes_in, y.bytes_out, y.packets_in, y.packets_out)
        })
}

/// Who is connected to the SSL server (and why it does not run), without
/// the byte counters.
fn same_ssl_but_counters(a: &SslVpnServerReport, b: &SslVpnServerReport) -> bool {
    let who = |r: &SslVpnServerReport| -> Vec<(String, String, i64, String, i64)> {
        r.clients
            .iter()
            .map(|c| {
                (
                    c.common_name.clone(),
                    c.ip.clone(),
                    c.port,
                    c.private_ip.clone(),
                    c.connected_time,
                )
            })
            .collect()
    };
    a.ssl_vpn_server_id == b.ssl_vpn_server_id
        && a.connections == b.connections
        && a.reason == b.reason
        && who(a) == who(b)
}

/// The SSL server's measurement: the latest, and what was accepted when.
#[derive(Default)]
struct SslEntry {
    latest: Option<SslVpnServerReport>,
    accepted: Option<(SslVpnServerReport, Instant)>,
}

impl SslEntry {
    /// Sent again after [`COUNTER_REFRESH`] when its counters changed, or
    /// unchanged while clients are connected: the control plane shows the
    /// clients only while reports keep coming (they expire when the agent
    /// is gone).
    fn refresh(accepted: &SslVpnServerReport, latest: &SslVpnServerReport) -> bool {
        accepted != latest || !latest.clients.is_empty()
    }

    fn due(&self, now: Instant) -> Option<&SslVpnServerReport> {
        let latest = self.latest.as_ref()?;
        match &self.accepted {
            None => Some(latest),
            Some((a, _)) if !same_ssl_but_counters(a, latest) => Some(latest),
            Some((a, at))
                if Self::refresh(a, latest) && now.duration_since(*at) >= COUNTER_REFRESH =>
            {
                Some(latest)
            }
            Some(_) => None,
        }
    }

    fn next_due(&self) -> Option<Instant> {
        let latest = self.latest.as_ref()?;
        match &self.accepted {
            None => Some(Instant::now()),
            Some((a, _)) if !same_ssl_but_counters(a, latest) => Some(Instant::now()),
            Some((a, at)) if Self::refresh(a, latest) => Some(*at + COUNTER_REFRESH),
            Some(_) => None,
        }
    }
}

fn epoch_ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sends the parts' measurements. See the module documentation.
pub struct Reporter {
    client: Client,
    gateway_id: String,
    agent: String,
    backend: &'static str,
    entries: BTreeMap<String, Entry>,
    ssl: SslEntry,
    /// The IPsec server's latest report and what the control plane
    /// accepted of it (sent again when they differ).
    servers: BTreeMap<String, ServerEntry>,
    events: Vec<ReportedEvent>,
    /// After a failed call: not before this, and the next back-off.
    retry_at: Option<Instant>,
    retry_delay: Duration,
}

/// What is known of an IPsec server's reports: whatever changed is sent,
/// and while clients are connected the same report again every
/// [`COUNTER_REFRESH`], since the control plane counts them only while
/// reports keep coming (`vpngw_model::measured`), as the SSL server's.
struct ServerEntry {
    latest: IpsecServerReport,
    offered: Instant,
    /// What the control plane accepted, and when.
    accepted: Option<(IpsecServerReport, Instant)>,
    hold_until: Option<Instant>,
}

impl ServerEntry {
    /// When the latest report is to be sent: `now` (or when the hold ends)
    /// if it is not what was accepted, a refresh period after the
    /// acceptance if clients are online, never otherwise.
    fn due_at(&self, now: Instant) -> Option<Instant> {
        match &self.accepted {
            Some((a, at)) if *a == self.latest => {
                (self.latest.online_client_count > 0).then_some(*at + COUNTER_REFRESH)
            }
            _ => Some(self.hold_until.unwrap_or(now)),
        }
    }

    fn due(&self, now: Instant) -> bool {
        self.due_at(now).is_some_and(|t| now >= t)
    }

    fn next_due(&self) -> Option<Instant> {
        self.due_at(Instant::now())
    }
}

/// What one call did with the connections it carried.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdicts {
    accepted: Vec<String>,
    stale: Vec<String>,
    unknown: Vec<String>,
}

impl Reporter {
    pub fn new(client: Client, gateway_id: &str, backend: &'static str) -> Reporter {
        Reporter {
            client,
            gateway_id: gateway_id.to_owned(),
            agent: format!(
                "vpngw-agent pid {} on {}",
                std::process::id(),
                std::fs::read_to_string("/proc/sys/kernel/hostname")
                    .unwrap_or_default()
                    .trim()
            ),
            backend,
            entries: BTreeMap::new(),
            ssl: SslEntry::default(),
            servers: BTreeMap::new(),
            events: Vec::new(),
            retry_at: None,
            retry_delay: RETRY_FIRST,
        }
    }

    /// Takes what a part measured.
    pub fn offer(&mut self, report: DataplaneReport) {
        let now = Instant::now();
        for c in report.connections {
            match self.entries.get_mut(&c.vpn_connection_id) {
                Some(e) => {
                    if e.latest.config_digest != c.config_digest {
                        e.hold_until = None;
                    }
                    e.latest = c;
                    e.offered = now;
                }
                None => {
                    self.entries.insert(
                        c.vpn_connection_id.clone(),
                        Entry {
                            latest: c,
                            offered: now,
                            accepted: None,
                            hold_until: None,
                        },
                    );
                }
            }
        }
        if let Some(ssl) = report.ssl_vpn_servers.into_iter().next() {
            self.ssl.latest = Some(ssl);
        }
        for r in report.ipsec_servers {
            match self.servers.get_mut(&r.ipsec_server_id) {
                Some(e) => {
                    if e.latest.config_digest != r.config_digest {
                        e.hold_until = None;
                    }
                    e.latest = r;
                    e.offered = now;
                }
                None => {
                    self.servers.insert(
                        r.ipsec_server_id.clone(),
                        ServerEntry {
                            latest: r,
                            offered: now,
                            accepted: None,
                            hold_until: None,
                        },
                    );
                }
            }
        }
        self.events.extend(report.events);
        if self.events.len() > MAX_QUEUED_EVENTS {
            let dropped = self.events.len() - MAX_QUEUED_EVENTS;
            self.events.drain(..dropped);
            tracing::warn!(
                dropped,
                "too many log events waiting; the oldest were dropped"
            );
        }
        self.entries
            .retain(|_, e| now.duration_since(e.offered) < FORGET_AFTER);
        self.servers
            .retain(|_, e| now.duration_since(e.offered) < FORGET_AFTER);
    }

    /// When something becomes due without a new offer.
    fn next_due(&self) -> Option<Instant> {
        let mut next = self
            .entries
            .values()
            .filter_map(Entry::next_due)
            .chain(self.ssl.next_due())
            .chain(self.servers.values().filter_map(ServerEntry::next_due))
            .min();
        if !self.events.is_empty() {
            next = Some(Instant::now());
        }
        match (next, self.retry_at) {
            (Some(n), Some(r)) => Some(n.max(r)),
            (n, _) => n,
        }
    }

    /// Runs until `offers` closes (then sends what is due once more).
    pub async fn run(mut self, mut offers: mpsc::UnboundedReceiver<DataplaneReport>) {
        loop {
            let wake = self.next_due();
            tokio::select! {
                offer = offers.recv() => match offer {
                    Some(r) => self.offer(r),
                    None => {
                        self.retry_at = None;
                        let _ = tokio::time::timeout(Duration::from_secs(2), self.flush()).await;
                        return;
                    }
                },
                () = sleep_until(wake) => {}
            }
            // Everything offered meanwhile goes in the same batch.
            while let Ok(r) = offers.try_recv() {
                self.offer(r);
            }
            if self.retry_at.is_none_or(|t| Instant::now() >= t) {
                self.flush().await;
            }
        }
    }

    /// Sends what is due, in chunks.
    async fn flush(&mut self) {
        let now = Instant::now();
        let due: Vec<ConnectionReport> = self
            .entries
            .values()
            .filter(|e| e.due(now))
            .map(|e| e.latest.clone())
            .collect();
        let mut ssl = self.ssl.due(now).cloned();
        let mut servers: Vec<IpsecServerReport> = self
            .servers
            .values()
            .filter(|e| e.due(now))
            .map(|e| e.latest.clone())
            .collect();
        if due.is_empty() && self.events.is_empty() && ssl.is_none() && servers.is_empty() {
            return;
        }
        let mut chunks: Vec<&[ConnectionReport]> = due.chunks(REPORT_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let take = self.events.len().min(MAX_EVENTS);
            let events = self.events[..take].to_vec();
            // The control plane files an SSL server's log lines only with a
            // measurement of that server (it checks the server is this
            // gateway's): lines that come while nothing else changed carry
            // the latest one again.
            if ssl.is_none() && events.iter().any(|e| !e.ssl_vpn_server_id.is_empty()) {
                ssl = self.ssl.latest.clone();
            }
            let report = DataplaneReport {
                agent: self.agent.clone(),
                backend: self.backend.to_owned(),
                measured_at: epoch_ms(SystemTime::now()),
                connections: chunk.to_vec(),
                events,
                ssl_vpn_servers: ssl.take().into_iter().collect(),
                // With the first chunk.
                ipsec_servers: std::mem::take(&mut servers),
            };
            match self.send(&report).await {
                Ok(verdicts) => {
                    self.events.drain(..take);
                    self.retry_at = None;
                    self.retry_delay = RETRY_FIRST;
                    self.settle(&report, verdicts);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = self.retry_delay.as_millis() as u64, "reporting to the control plane failed");
                    self.retry_at = Some(Instant::now() + self.retry_delay);
                    self.retry_delay = (self.retry_delay * 2).min(RETRY_MAX);
                    return;
                }
            }
        }
    }

    async fn send(&self, report: &DataplaneReport) -> Result<Verdicts, String> {
        let body = serde_json::to_string(report).map_err(|e| e.to_string())?;
        let answer: report_dataplane_state::Answer = self
            .client
            .vpngw_typed(
                "ReportDataplaneState",
                &[("VpnGatewayId", &self.gateway_id), ("Report", &body)],
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok(Verdicts {
            accepted: answer.accepted,
            stale: answer.stale,
            unknown: answer.unknown,
        })
    }

    fn settle(&mut self, report: &DataplaneReport, verdicts: Verdicts) {
        let now = Instant::now();
        let sent: HashMap<&str, &ConnectionReport> = report
            .connections
            .iter()
            .map(|c| (c.vpn_connection_id.as_str(), c))
            .collect();
        for id in &verdicts.accepted {
            if let (Some(e), Some(c)) = (self.entries.get_mut(id), sent.get(id.as_str())) {
                e.accepted = Some(((*c).clone(), now));
                e.hold_until = None;
            }
            if let (Some(e), Some(r)) = (
                self.servers.get_mut(id),
                report
                    .ipsec_servers
                    .iter()
                    .find(|r| &r.ipsec_server_id == id),
            ) {
                e.accepted = Some((r.clone(), now));
                e.hold_until = None;
            }
        }
        if !verdicts.stale.is_empty() {
            tracing::debug!(
                stale = verdicts.stale.len(),
                "some reports were about another configuration"
            );
        }
        for id in &verdicts.stale {
            if let Some(e) = self.entries.get_mut(id) {
                e.accepted = None;
                e.hold_until = Some(now + STALE_RETRY);
            }
            if let Some(e) = self.servers.get_mut(id) {
                e.accepted = None;
                e.hold_until = Some(now + STALE_RETRY);
            }
        }
        if let Some(sent) = report.ssl_vpn_servers.first() {
            if verdicts.accepted.contains(&sent.ssl_vpn_server_id) {
                self.ssl.accepted = Some((sent.clone(), now));
            } else if verdicts.unknown.contains(&sent.ssl_vpn_server_id) {
                // Deleted: its part stops reporting it.
                self.ssl = SslEntry::default();
            }
        }
        for id in &verdicts.unknown {
            self.entries.remove(id);
            self.servers.remove(id);
        }
        // A server report the control plane said nothing about (it does not
        // know IPsec servers) is offered again later, not at once.
        for r in &report.ipsec_servers {
            let id = &r.ipsec_server_id;
            let answered = [&verdicts.accepted, &verdicts.stale, &verdicts.unknown]
                .iter()
                .any(|ids| ids.contains(id));
            if let (false, Some(e)) = (answered, self.servers.get_mut(id)) {
                e.hold_until = Some(now + STALE_RETRY);
            }
        }
    }
}

async fn sleep_until(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vpngw_model::dataplane::TunnelReport;

    fn report(status: &str, bytes: u64) -> ConnectionReport {
        ConnectionReport {
            vpn_connection_id: "vco-1".into(),
            config_digest: "d1".into(),
            status: status.into(),
            reason: String::new(),
            tunnels: vec![TunnelReport {
                tunnel_id: "vco-1".into(),
                status: status.into(),
                bytes_in: bytes,
                ..TunnelReport::default()
            }],
            health_check_status: String::new(),
            route_withdrawn: false,
        }
    }

    #[test]
    fn only_what_changed_is_due() {
        let now = Instant::now();
        let mut e = Entry {
            latest: report("ike_sa_not_established", 0),
            offered: now,
            accepted: None,
            hold_until: None,
        };
        assert!(e.due(now), "never accepted");
        e.accepted = Some((e.latest.clone(), now));
        assert!(!e.due(now));
        assert_eq!(e.next_due(), None);
        // Counters alone wait for the refresh.
        e.latest = report("ike_sa_not_established", 10);
        assert!(!e.due(now));
        assert!(e.due(now + COUNTER_REFRESH));
        assert_eq!(e.next_due(), Some(now + COUNTER_REFRESH));
        // A status change is due at once.
        e.latest = report("ipsec_sa_established", 10);
        assert!(e.due(now));
        // Held after a Stale answer.
        e.hold_until = Some(now + STALE_RETRY);
        assert!(!e.due(now));
        assert!(e.due(now + STALE_RETRY));
    }

    fn server(online: i64) -> IpsecServerReport {
        IpsecServerReport {
            ipsec_server_id: "iss-1".into(),
            config_digest: "d1".into(),
            online_client_count: online,
            ..IpsecServerReport::default()
        }
    }

    #[test]
    fn an_ipsec_server_report_is_sent_when_it_changes_and_held_when_unanswered() {
        let client = Client::new("http://127.0.0.1:9", "id", "secret", "cn-hangzhou").unwrap();
        let mut r = Reporter::new(client, "vpn-1", "simulated");
        r.offer(DataplaneReport {
            ipsec_servers: vec![server(0)],
            ..DataplaneReport::default()
        });
        let now = Instant::now();
        assert!(r.servers["iss-1"].due(now));
        let sent = DataplaneReport {
            ipsec_servers: vec![server(0)],
            ..DataplaneReport::default()
        };
        // A control plane that does not know IPsec servers says nothing of
        // it: offered again after a pause, not in a tight loop.
        r.settle(&sent, Verdicts::default());
        assert!(!r.servers["iss-1"].due(Instant::now()));
        assert!(r.next_due().is_some_and(|t| t > Instant::now()));
        // Accepted with nobody online: nothing more until it changes.
        r.settle(
            &sent,
            Verdicts {
                accepted: vec!["iss-1".into()],
                ..Verdicts::default()
            },
        );
        assert!(!r.servers["iss-1"].due(Instant::now()));
        assert_eq!(r.next_due(), None);
        r.offer(DataplaneReport {
            ipsec_servers: vec![server(2)],
            ..DataplaneReport::default()
        });
        assert!(r.servers["iss-1"].due(Instant::now()));
        // Accepted with clients online: the same report goes again every
        // refresh, so that the control plane keeps counting them.
        let busy = DataplaneReport {
            ipsec_servers: vec![server(2)],
            ..DataplaneReport::default()
        };
        r.settle(
            &busy,
            Verdicts {
                accepted: vec!["iss-1".into()],
                ..Verdicts::default()
            },
        );
        let at = Instant::now();
        assert!(!r.servers["iss-1"].due(at));
        assert!(r.servers["iss-1"].due(at + COUNTER_REFRESH));
        assert!(r.next_due().is_some_and(|t| t <= at + COUNTER_REFRESH));
        // Deleted on the control plane: forgotten.
        r.settle(
            &sent,
            Verdicts {
                unknown: vec!["iss-1".into()],
                ..Verdicts::default()
            },
        );
        assert!(r.servers.is_empty());
    }

    #[test]
    fn an_ssl_server_with_clients_is_reported_again_unchanged() {
        let now = Instant::now();
        let idle = SslVpnServerReport {
            ssl_vpn_server_id: "vss-1".into(),
            ..SslVpnServerReport::default()
        };
        let mut e = SslEntry {
            latest: Some(idle.clone()),
            accepted: Some((idle.clone(), now)),
        };
        // Nobody connected, nothing changed: nothing to send, ever.
        assert!(e.due(now + COUNTER_REFRESH).is_none());
        assert_eq!(e.next_due(), None);
        // A client connected: the same report goes again every refresh, so
        // that the control plane keeps showing it (and stops when we stop).
        let busy = SslVpnServerReport {
            connections: 1,
            clients: vec![vpngw_model::ssl_vpn::SslClient {
                common_name: "vsc-1".into(),
                ..Default::default()
            }],
            ..idle
        };
        e.latest = Some(busy.clone());
        e.accepted = Some((busy, now));
        assert!(e.due(now).is_none());
        assert!(e.due(now + COUNTER_REFRESH).is_some());
        assert_eq!(e.next_due(), Some(now + COUNTER_REFRESH));
    }
}
