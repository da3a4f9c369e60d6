//! What crosses the boundary between the control plane and a gateway's data
//! plane agent (`vpngw agent`), in plain data:
//!
//! - [`ConnectionSpec`]: the data-plane-relevant configuration of one IPsec
//!   connection, in the API's vocabulary. The agent builds it from the public
//!   API's answers (DescribeVpnConnections, DescribeVpnGateway,
//!   DescribeCustomerGateway); the control plane builds it from the stored
//!   resources. Both hash it with [`ConnectionSpec::digest`]: a report is
//!   about the current configuration exactly when the digests agree, so a
//!   report measured against an older configuration never overwrites the
//!   state of a newer one.
//! - [`DataplaneReport`]: the body of the vpngw-private
//!   `ReportDataplaneState` call (statuses, reasons, counters, health-check
//!   results and log events, per connection and tunnel).
//! - [`Measured`]: what the control plane keeps of the last accepted report,
//!   inside the connection's document.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The data-plane-relevant configuration of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSpec {
    /// `vco-…`.
    pub connection_id: String,
    /// `EffectImmediately`.
    pub effect_immediately: bool,
    /// `LocalSubnet`: comma-separated CIDR blocks as the API returns them.
    pub local_subnet: String,
    /// `RemoteSubnet`.
    pub remote_subnet: String,
    /// The health check, when enabled.
    pub health_check: Option<HealthCheckSpec>,
    /// One tunnel (single-tunnel connection; its id is the connection id) or
    /// two (dual-tunnel connection; the `tun-…` ids).
    pub tunnels: Vec<TunnelSpec>,
}

/// One tunnel of a [`ConnectionSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelSpec {
    /// The connection id (single tunnel) or the tunnel id.
    pub tunnel_id: String,
    /// The gateway's public address for this tunnel.
    pub local_addr: String,
    /// The customer gateway's `IpAddress`.
    pub remote_addr: String,
    pub enable_dpd: bool,
    pub enable_nat_traversal: bool,
    pub ike_version: String,
    pub ike_mode: String,
    pub ike_enc_alg: String,
    pub ike_auth_alg: String,
    pub ike_pfs: String,
    pub ike_lifetime_s: i64,
    pub local_id: String,
    pub remote_id: String,
    pub psk: String,
    pub ipsec_enc_alg: String,
    pub ipsec_auth_alg: String,
    pub ipsec_pfs: String,
    pub ipsec_lifetime_s: i64,
    /// The tunnel's BGP session, when BGP is on (single tunnel:
    /// `VpnBgpConfig.EnableBgp`, or its non-empty `Status` in a listed
    /// connection; dual tunnel: `EnableTunnelsBgp`). Absent
    /// from the digest's JSON when off, so that connections without BGP
    /// keep the digests they had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bgp: Option<BgpSpec>,
}

/// A tunnel's BGP session as the API describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpSpec {
    pub local_asn: i64,
    /// The customer gateway's ASN (0 when it has none).
    pub peer_asn: i64,
    pub tunnel_cidr: String,
    pub local_bgp_ip: String,
    pub peer_bgp_ip: String,
    /// `AuthKey` (single-tunnel connections only; the API has none per
    /// tunnel): TCP-MD5 when not empty.
    pub auth_key: String,
}

/// An enabled health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCheckSpec {
    /// Destination probed through the tunnel.
    pub dip: String,
    /// Source address of the probes (an address of the gateway's side).
    pub sip: String,
    pub interval_s: i64,
    pub retry: i64,
    /// `revoke_route`, `reserve_route` or `keep_route`.
    pub policy: String,
}

impl ConnectionSpec {
    /// SHA-256 (hex) of the canonical JSON form. The pre-shared key is part
    /// of it, so the digest only travels inside signed requests and is never
    /// stored.
    pub fn digest(&self) -> String {
        digest_of(self)
    }
}

/// SHA-256 (hex) of a spec's canonical JSON form.
fn digest_of(spec: &impl Serialize) -> String {
    let json = serde_json::to_vec(spec).unwrap_or_default();
    let hash = Sha256::digest(&json);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// The data-plane-relevant configuration of a gateway's IPsec server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpsecServerSpec {
    /// `iss-…`.
    pub ipsec_server_id: String,
    /// `ClientIpPool`.
    pub client_ip_pool: String,
    /// `LocalSubnet`, comma-separated as the API returns it.
    pub local_subnet: String,
    /// `EffectImmediately`.
    pub effect_immediately: bool,
    /// `MaxConnections`: the gateway's connection quota, shared with the
    /// SSL server.
    pub max_connections: i64,
    /// Phases 1 and 2 (with `Psk`), as a tunnel from the gateway's
    /// `InternetIp` to any client (`remote_addr` empty).
    pub phases: TunnelSpec,
}

impl IpsecServerSpec {
    /// As [`ConnectionSpec::digest`] (the PSK is part of it).
    pub fn digest(&self) -> String {
        digest_of(self)
    }
}

/// The spec of an IPsec server from one item of ListIpsecServers (which
/// carries the gateway's `InternetIp`, the `Psk` and `MaxConnections`).
pub fn ipsec_server_spec_from_api(
    server: &serde_json::Value,
) -> Result<IpsecServerSpec, SpecError> {
    let id = text(server, "IpsecServerId");
    if id.is_empty() {
        return Err(SpecError("IPsec server without IpsecServerId".into()));
    }
    let internet_ip = text(server, "InternetIp");
    if internet_ip.is_empty() {
        return Err(SpecError(format!(
            "{id}: the VPN gateway has no InternetIp"
        )));
    }
    let mut phases = TunnelSpec::blank(id.clone(), internet_ip, String::new());
    phases.read_phases(server, "IkeConfig", "IpsecConfig");
    phases.psk = text(server, "Psk");
    Ok(IpsecServerSpec {
        ipsec_server_id: id,
        client_ip_pool: text(server, "ClientIpPool"),
        local_subnet: text(server, "LocalSubnet"),
        effect_immediately: flag(server, "EffectImmediately", false),
        max_connections: int(server, "MaxConnections"),
        phases,
    })
}

/// Why [`spec_from_api`] could not read an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl std::fmt::Display for SpecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

fn field<'a>(v: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    v.get(name).filter(|x| !x.is_null())
}

fn text(v: &serde_json::Value, name: &str) -> String {
    match field(v, name) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Booleans arrive as JSON booleans or as `"true"`/`"false"` (tunnel fields).
fn flag(v: &serde_json::Value, name: &str, default: bool) -> bool {
    match field(v, name) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => match s.as_str() {
            "true" => true,
            "false" => false,
            _ => default,
        },
        _ => default,
    }
}

/// Integers arrive as numbers or as strings (tunnel lifetimes).
fn int(v: &serde_json::Value, name: &str) -> i64 {
    match field(v, name) {
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

fn empty() -> &'static serde_json::Value {
    static NULL: serde_json::Value = serde_json::Value::Null;
    &NULL
}

impl TunnelSpec {
    /// A tunnel with no phase settings read yet (DPD and NAT traversal on).
    fn blank(tunnel_id: String, local_addr: String, remote_addr: String) -> TunnelSpec {
        TunnelSpec {
            tunnel_id,
            local_addr,
            remote_addr,
            enable_dpd: true,
            enable_nat_traversal: true,
            ike_version: String::new(),
            ike_mode: String::new(),
            ike_enc_alg: String::new(),
            ike_auth_alg: String::new(),
            ike_pfs: String::new(),
            ike_lifetime_s: 0,
            local_id: String::new(),
            remote_id: String::new(),
            psk: String::new(),
            ipsec_enc_alg: String::new(),
            ipsec_auth_alg: String::new(),
            ipsec_pfs: String::new(),
            ipsec_lifetime_s: 0,
            bgp: None,
        }
    }

    /// Phase 1 and 2 from the objects `ike` and `ipsec` of `view`
    /// (`IkeConfig`/`IpsecConfig`, or a tunnel's `TunnelIkeConfig`/…).
    fn read_phases(&mut self, view: &serde_json::Value, ike: &str, ipsec: &str) {
        let ike = field(view, ike).unwrap_or(empty());
        self.ike_version = text(ike, "IkeVersion");
        self.ike_mode = text(ike, "IkeMode");
        self.ike_enc_alg = text(ike, "IkeEncAlg");
        self.ike_auth_alg = text(ike, "IkeAuthAlg");
        self.ike_pfs = text(ike, "IkePfs");
        self.ike_lifetime_s = int(ike, "IkeLifetime");
        self.local_id = text(ike, "LocalId");
        self.remote_id = text(ike, "RemoteId");
        self.psk = text(ike, "Psk");
        let ipsec = field(view, ipsec).unwrap_or(empty());
        self.ipsec_enc_alg = text(ipsec, "IpsecEncAlg");
        self.ipsec_auth_alg = text(ipsec, "IpsecAuthAlg");
        self.ipsec_pfs = text(ipsec, "IpsecPfs");
        self.ipsec_lifetime_s = int(ipsec, "IpsecLifetime");
    }
}

/// The spec of a connection from the public API's JSON answers: one item of
/// DescribeVpnConnections (or DescribeVpnConnection), the connection's
/// DescribeVpnGateway, and `customer_gateway_ip` resolving a
/// `CustomerGatewayId` (DescribeCustomerGateway's `IpAddress`). The agent
/// feeds it what it read over HTTP, the control plane the same views built
/// in process, so both sides compute the same [`ConnectionSpec::digest`].
pub fn spec_from_api(
    connection: &serde_json::Value,
    gateway: &serde_json::Value,
    customer_gateway_ip: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectionSpec, SpecError> {
    let id = text(connection, "VpnConnectionId");
    if id.is_empty() {
        return Err(SpecError("connection without VpnConnectionId".into()));
    }
    let cgw_ip = |cgw: &str| {
        customer_gateway_ip(cgw)
            .ok_or_else(|| SpecError(format!("{id}: customer gateway {cgw:?} not found")))
    };
    let bgp_of = |b: &serde_json::Value, auth_key: String| BgpSpec {
        local_asn: int(b, "LocalAsn"),
        peer_asn: int(b, "PeerAsn"),
        tunnel_cidr: text(b, "TunnelCidr"),
        local_bgp_ip: text(b, "LocalBgpIp"),
        peer_bgp_ip: text(b, "PeerBgpIp"),
        auth_key,
    };
    let options = field(connection, "TunnelOptionsSpecification")
        .and_then(|s| field(s, "TunnelOptions"))
        .and_then(|o| o.as_array())
        .filter(|o| !o.is_empty());
    let mut tunnels = Vec::new();
    match options {
        None => {
            let cgw = text(connection, "CustomerGatewayId");
            let local = text(gateway, "InternetIp");
            if local.is_empty() {
                return Err(SpecError(format!(
                    "{id}: the VPN gateway has no InternetIp"
                )));
            }
            let mut t = TunnelSpec::blank(id.clone(), local, cgw_ip(&cgw)?);
            t.enable_dpd = flag(connection, "EnableDpd", true);
            t.enable_nat_traversal = flag(connection, "EnableNatTraversal", true);
            t.read_phases(connection, "IkeConfig", "IpsecConfig");
            let bgp = field(connection, "VpnBgpConfig").unwrap_or(empty());
            // DescribeVpnConnections' items (which the agent reads) have no
            // `EnableBgp` (the SDK's list model lacks it); their `Status`
            // is empty exactly when BGP is off ([`bgp_status`]).
            let enabled = match bgp.get("EnableBgp") {
                Some(_) => flag(bgp, "EnableBgp", false),
                None => !text(bgp, "Status").is_empty(),
            };
            if enabled {
                t.bgp = Some(bgp_of(bgp, text(bgp, "AuthKey")));
            }
            tunnels.push(t);
        }
        Some(options) => {
            let mut options: Vec<&serde_json::Value> = options.iter().collect();
            options.sort_by_key(|o| int(o, "TunnelIndex"));
            for o in options {
                let tid = text(o, "TunnelId");
                if tid.is_empty() {
                    return Err(SpecError(format!("{id}: a tunnel without TunnelId")));
                }
                let local = text(o, "InternetIp");
                if local.is_empty() {
                    return Err(SpecError(format!("{id}: tunnel {tid} has no InternetIp")));
                }
                let mut t = TunnelSpec::blank(tid, local, cgw_ip(&text(o, "CustomerGatewayId"))?);
                t.enable_dpd = flag(o, "EnableDpd", true);
                t.enable_nat_traversal = flag(o, "EnableNatTraversal", true);
                t.read_phases(o, "TunnelIkeConfig", "TunnelIpsecConfig");
                if flag(connection, "EnableTunnelsBgp", false) {
                    let bgp = field(o, "TunnelBgpConfig").unwrap_or(empty());
                    t.bgp = Some(bgp_of(bgp, String::new()));
                }
                tunnels.push(t);
            }
        }
    }
    let health_check = field(connection, "VcoHealthCheck")
        .filter(|h| flag(h, "Enable", false))
        .map(|h| HealthCheckSpec {
            dip: text(h, "Dip"),
            sip: text(h, "Sip"),
            interval_s: int(h, "Interval"),
            retry: int(h, "Retry"),
            policy: text(h, "Policy"),
        });
    Ok(ConnectionSpec {
        connection_id: id,
        effect_immediately: flag(connection, "EffectImmediately", false),
        local_subnet: text(connection, "LocalSubnet"),
        remote_subnet: text(connection, "RemoteSubnet"),
        health_check,
        tunnels,
    })
}

/// `ReportDataplaneState`'s `Report` parameter (JSON).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct DataplaneReport {
    /// Who measured (free text: host name and pid of the agent).
    pub agent: String,
    /// Which backend measured: `strongswan` or `simulated`.
    pub backend: String,
    /// When the measurement was taken (agent clock, ms since the epoch).
    pub measured_at: i64,
    pub connections: Vec<ConnectionReport>,
    pub events: Vec<ReportedEvent>,
    /// The gateway's SSL server (none, or one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssl_vpn_servers: Vec<SslVpnServerReport>,
    /// The gateway's IPsec server (none, or one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ipsec_servers: Vec<IpsecServerReport>,
}

/// The measured state of an SSL server: who is connected (OpenVPN's
/// management interface), or why it does not run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SslVpnServerReport {
    pub ssl_vpn_server_id: String,
    /// `Connections`.
    pub connections: i64,
    pub clients: Vec<crate::ssl_vpn::SslClient>,
    /// Why OpenVPN does not run; empty when it does.
    pub reason: String,
}

/// The measured state of an IPsec server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpsecServerReport {
    pub ipsec_server_id: String,
    /// [`IpsecServerSpec::digest`] of the configuration that was applied.
    pub config_digest: String,
    /// `OnlineClientCount`.
    pub online_client_count: i64,
    pub clients: Vec<IpsecClientReport>,
    /// Why the server does not take clients (it could not be applied);
    /// empty when it does.
    pub reason: String,
}

/// One client connected to an IPsec server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpsecClientReport {
    /// The identity it authenticated with.
    pub identity: String,
    /// Where it dialled from.
    pub remote_addr: String,
    /// The address it got from `ClientIpPool`.
    pub virtual_ip: String,
}

/// The measured state of one connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ConnectionReport {
    pub vpn_connection_id: String,
    /// [`ConnectionSpec::digest`] of the configuration that was applied.
    pub config_digest: String,
    /// `ike_sa_not_established`, `ike_sa_established` or `ipsec_sa_established`.
    pub status: String,
    /// One line saying why the connection is not up (empty when it is).
    pub reason: String,
    pub tunnels: Vec<TunnelReport>,
    /// `success` or `failed`; empty when no health check is configured.
    pub health_check_status: String,
    /// The route through this connection is withdrawn (`revoke_route` after
    /// failed probes).
    pub route_withdrawn: bool,
}

/// The measured state of one tunnel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TunnelReport {
    pub tunnel_id: String,
    pub status: String,
    pub reason: String,
    /// charon's IKE SA state (`CONNECTING`, `ESTABLISHED`, …), if any.
    pub ike_state: String,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub packets_in: u64,
    pub packets_out: u64,
    /// The BGP session: `true` (Established), `false`, or empty when BGP is
    /// off for the tunnel.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bgp_status: String,
    /// Why the session is not Established (empty when it is or BGP is off).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub bgp_reason: String,
    /// The routes the session learned, while it is Established; `None`
    /// when BGP is off. Kept as route records (DescribeVpnRouteEntries with
    /// `RouteEntryType=bgp`), not in the connection's document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub learned_routes: Option<Vec<LearnedRoute>>,
}

/// A route a tunnel's BGP session learned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LearnedRoute {
    /// The prefix (`RouteDest`).
    pub route_dest: String,
    /// ASNs separated by spaces, nearest first (`AsPath`).
    pub as_path: String,
    /// `(asn,value)` communities separated by spaces (`Community`).
    pub community: String,
}

/// One log line for DescribeVpnConnectionLogs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ReportedEvent {
    /// The connection the line is about (empty for an IPsec server's).
    pub vpn_connection_id: String,
    /// The tunnel, for dual-tunnel connections.
    pub tunnel_id: String,
    /// ms since the epoch (agent clock).
    pub time: i64,
    pub message: String,
    /// The SSL server the line is about (DescribeVpnSslServerLogs); empty
    /// for a connection's.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ssl_vpn_server_id: String,
    /// The client certificate the line names, if any.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ssl_vpn_client_cert_id: String,
    /// The IPsec server the line is about (ListIpsecServerLogs).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub ipsec_server_id: String,
}

/// What the control plane keeps of the last accepted report of a connection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// `measured_at` of the report.
    pub measured_ms: i64,
    /// When the control plane accepted it (server clock).
    pub received_ms: i64,
    pub backend: String,
    pub agent: String,
    pub reason: String,
    pub health_check_status: String,
    pub route_withdrawn: bool,
    pub tunnels: Vec<TunnelReport>,
    /// [`learned_routes_digest`] of the learned routes written as route
    /// records (empty when there are none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub learned_routes_digest: String,
}

/// SHA-256 (hex) of a connection report's learned routes (every tunnel's,
/// in order); empty when no tunnel reports any.
pub fn learned_routes_digest(report: &ConnectionReport) -> String {
    let routes: Vec<(&str, &Vec<LearnedRoute>)> = report
        .tunnels
        .iter()
        .filter_map(|t| t.learned_routes.as_ref().map(|r| (t.tunnel_id.as_str(), r)))
        .filter(|(_, r)| !r.is_empty())
        .collect();
    if routes.is_empty() {
        return String::new();
    }
    let json = serde_json::to_vec(&routes).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Measured {
    /// Whether `report` says something different from what is stored
    /// (counters aside).
    pub fn differs_from(
        &self,
        report: &ConnectionReport,
        status: &str,
        stored_status: &str,
    ) -> bool {
        let same_tunnels = self.tunnels.len() == report.tunnels.len()
            && self.tunnels.iter().zip(&report.tunnels).all(|(a, b)| {
                a.tunnel_id == b.tunnel_id
                    && a.status == b.status
                    && a.reason == b.reason
                    && a.bgp_status == b.bgp_status
                    && a.bgp_reason == b.bgp_reason
            });
        status != stored_status
            || self.reason != report.reason
            || self.health_check_status != report.health_check_status
            || self.route_withdrawn != report.route_withdrawn
            || !same_tunnels
    }
}

/// `VcoHealthCheck.Status` of a connection: empty without an enabled health
/// check; otherwise what the data plane last measured (`success`/`failed`),
/// and `failed` while nothing has been measured (no probe was answered).
pub fn health_check_status(c: &crate::VpnConnection) -> &str {
    if !c.health_check.as_ref().is_some_and(|h| h.enable) {
        return "";
    }
    match c.measured.as_ref().map(|m| m.health_check_status.as_str()) {
        Some(s @ ("success" | "failed")) => s,
        _ => "failed",
    }
}

/// `BgpStatus` of a tunnel, or of the connection when `tunnel_id` is the
/// connection's id: empty while BGP is off for it; otherwise `true` when the
/// data plane last measured an Established session (for a dual-tunnel
/// connection's own `VpnBgpConfig`: on either tunnel), else `false` (also
/// while nothing has been measured).
pub fn bgp_status(c: &crate::VpnConnection, tunnel_id: &str) -> &'static str {
    let whole_connection = tunnel_id == c.id;
    let enabled = if c.tunnels.is_empty() || whole_connection {
        c.bgp.enable
    } else {
        c.enable_tunnels_bgp && c.tunnels.iter().any(|t| t.id == tunnel_id && t.bgp.enable)
    };
    if !enabled {
        return "";
    }
    let up = c.measured.as_ref().is_some_and(|m| {
        m.tunnels
            .iter()
            .any(|t| (whole_connection || t.tunnel_id == tunnel_id) && t.bgp_status == "true")
    });
    if up { "true" } else { "false" }
}

/// The three negotiation statuses, from worst to best.
pub const STATUSES: [&str; 3] = [
    "ike_sa_not_established",
    "ike_sa_established",
    "ipsec_sa_established",
];

/// Whether `s` is one of [`STATUSES`].
pub fn valid_status(s: &str) -> bool {
    STATUSES.contains(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> ConnectionSpec {
        ConnectionSpec {
            connection_id: "vco-1".into(),
            effect_immediately: true,
            local_subnet: "10.0.0.0/24".into(),
            remote_subnet: "10.1.0.0/24".into(),
            health_check: None,
            tunnels: vec![TunnelSpec {
                tunnel_id: "vco-1".into(),
                local_addr: "198.18.0.1".into(),
                remote_addr: "203.0.113.1".into(),
                enable_dpd: true,
                enable_nat_traversal: true,
                ike_version: "ikev1".into(),
                ike_mode: "main".into(),
                ike_enc_alg: "aes".into(),
                ike_auth_alg: "sha1".into(),
                ike_pfs: "group2".into(),
                ike_lifetime_s: 86400,
                local_id: "198.18.0.1".into(),
                remote_id: "203.0.113.1".into(),
                psk: "k".into(),
                ipsec_enc_alg: "aes".into(),
                ipsec_auth_alg: "sha1".into(),
                ipsec_pfs: "group2".into(),
                ipsec_lifetime_s: 86400,
                bgp: None,
            }],
        }
    }

    #[test]
    fn digest_tracks_every_field() {
        let a = spec();
        assert_eq!(a.digest(), spec().digest());
        assert_eq!(a.digest().len(), 64);
        let mut b = spec();
        b.tunnels[0].psk = "other".into();
        assert_ne!(a.digest(), b.digest());
        let mut c = spec();
        c.remote_subnet = "10.2.0.0/24".into();
        assert_ne!(a.digest(), c.digest());
    }

    #[test]
    fn spec_from_single_and_dual_answers() {
        let gw = serde_json::json!({"VpnGatewayId":"vpn-1","InternetIp":"198.18.0.1"});
        let single = serde_json::json!({
            "VpnConnectionId":"vco-1","CustomerGatewayId":"cgw-1","EffectImmediately":true,
            "LocalSubnet":"10.0.0.0/24","RemoteSubnet":"10.1.0.0/24","EnableDpd":true,
            "EnableNatTraversal":true,
            "IkeConfig":{"IkeVersion":"ikev1","IkeMode":"main","IkeEncAlg":"aes","IkeAuthAlg":"sha1",
              "IkePfs":"group2","IkeLifetime":86400,"LocalId":"198.18.0.1","RemoteId":"203.0.113.1","Psk":"k"},
            "IpsecConfig":{"IpsecEncAlg":"aes","IpsecAuthAlg":"sha1","IpsecPfs":"group2","IpsecLifetime":86400},
            "VcoHealthCheck":{"Enable":"false","Status":""}
        });
        let ips = |id: &str| (id == "cgw-1").then(|| "203.0.113.1".to_string());
        assert_eq!(spec_from_api(&single, &gw, &ips).unwrap(), spec());
        let no_cgw = |_: &str| None;
        assert!(spec_from_api(&single, &gw, &no_cgw).is_err());

        let dual = serde_json::json!({
            "VpnConnectionId":"vco-2","LocalSubnet":"10.0.0.0/24","RemoteSubnet":"10.1.0.0/24",
            "VcoHealthCheck":{"Enable":"true","Dip":"10.1.0.9","Sip":"10.0.0.9","Interval":3,"Retry":3,"Policy":"revoke_route"},
            "TunnelOptionsSpecification":{"TunnelOptions":[
              {"TunnelId":"tun-b","TunnelIndex":2,"CustomerGatewayId":"cgw-1","InternetIp":"198.18.0.2",
               "EnableDpd":"false","TunnelIkeConfig":{"IkeVersion":"ikev2","IkeLifetime":"3600","Psk":"p"}},
              {"TunnelId":"tun-a","TunnelIndex":1,"CustomerGatewayId":"cgw-1","InternetIp":"198.18.0.1",
               "EnableDpd":"true","TunnelIkeConfig":{"IkeVersion":"ikev2","IkeLifetime":"3600","Psk":"p"}}]}
        });
        let s = spec_from_api(&dual, &gw, &ips).unwrap();
        assert_eq!(s.tunnels.len(), 2);
        assert_eq!(s.tunnels[0].tunnel_id, "tun-a");
        assert_eq!(s.tunnels[1].local_addr, "198.18.0.2");
        assert!(!s.tunnels[1].enable_dpd);
        assert_eq!(s.tunnels[0].ike_lifetime_s, 3600);
        assert_eq!(s.health_check.unwrap().policy, "revoke_route");
    }

    #[test]
    fn report_is_pascal_case_and_lenient() {
        let r: DataplaneReport = serde_json::from_str(
            r#"{"MeasuredAt":5,"Connections":[{"VpnConnectionId":"vco-1","Status":"ipsec_sa_established"}]}"#,
        )
        .unwrap();
        assert_eq!(r.measured_at, 5);
        assert_eq!(r.connections[0].status, "ipsec_sa_established");
        assert!(r.events.is_empty());
        assert!(valid_status("ike_sa_established"));
        assert!(!valid_status("up"));
    }
}
