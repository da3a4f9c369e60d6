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
use vpngw_ops::vpc;

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

/// One item of DescribeVpnConnections, as the SDK models it: what the
/// agent reads (and `WatchGatewayState` carries), and what the control
/// plane builds in process ([`spec_from_api`]).
pub type ConnectionAnswer = vpc::describe_vpn_connections::VpnConnection;

/// DescribeVpnGateway's answer (also `WatchGatewayState`'s `VpnGateway`).
pub type GatewayAnswer = vpc::shapes::VpnGateway;

/// One item of ListIpsecServers.
pub type IpsecServerAnswer = vpc::list_ipsec_servers::IpsecServers;

/// `WatchGatewayState`'s answer (vpngw-private): `api::vpngw::watch` builds
/// it, the agent reads it; its items are the public answers' types.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WatchAnswer {
    /// What to send as `Revision` next time (opaque to the agent).
    pub revision: String,
    /// False: the wait ended without a change; nothing else is set.
    pub changed: bool,
    /// True: `VpnConnections` is every connection of the gateway.
    pub full: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpn_gateway: Option<GatewayAnswer>,
    pub vpn_connections: Vec<ConnectionAnswer>,
    pub deleted_vpn_connection_ids: Vec<String>,
    pub customer_gateways: Vec<CustomerGatewayAddress>,
    /// Some connection's VCO routes changed (or, with `Full`, may have):
    /// the agent reads them again (DescribeVcoRouteEntries).
    pub vco_routes_changed: bool,
    /// With `Full: false`, the connections whose VCO routes changed.
    pub vco_route_connection_ids: Vec<String>,
    /// The blocks of the vSwitches of the gateway's VPC (its system
    /// routes), which the gateway announces over BGP; none when vpngw does
    /// not know the VPC.
    pub v_switch_cidr_blocks: Vec<String>,
}

/// A customer gateway's address in a [`WatchAnswer`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CustomerGatewayAddress {
    pub customer_gateway_id: String,
    pub ip_address: String,
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

/// A tunnel's boolean, which DescribeVpnConnection(s) send as a string
/// (`"true"`/`"false"`); anything else is `default`.
fn flag(s: &str, default: bool) -> bool {
    match s {
        "true" => true,
        "false" => false,
        _ => default,
    }
}

/// A tunnel's number, which DescribeVpnConnection(s) send as a string; 0
/// when it is none.
fn int(s: &str) -> i64 {
    s.trim().parse().unwrap_or(0)
}

/// Phase 1 of a tunnel, from any of the answers' IKE shapes (the same
/// fields, the lifetime a number or a string).
struct Ike<'a> {
    version: &'a str,
    mode: &'a str,
    enc_alg: &'a str,
    auth_alg: &'a str,
    pfs: &'a str,
    lifetime_s: i64,
    local_id: &'a str,
    remote_id: &'a str,
    psk: &'a str,
}

/// Phase 2 of a tunnel, from any of the answers' IPsec shapes.
struct Ipsec<'a> {
    enc_alg: &'a str,
    auth_alg: &'a str,
    pfs: &'a str,
    lifetime_s: i64,
}

/// An [`Ike`] of an answer's IKE object `$c`, its lifetime `$lifetime` (in
/// seconds) and PSK `$psk`.
macro_rules! ike {
    ($c:expr, $lifetime:expr, $psk:expr) => {{
        let c = $c;
        Ike {
            version: &c.ike_version,
            mode: &c.ike_mode,
            enc_alg: &c.ike_enc_alg,
            auth_alg: &c.ike_auth_alg,
            pfs: &c.ike_pfs,
            lifetime_s: $lifetime,
            local_id: &c.local_id,
            remote_id: &c.remote_id,
            psk: $psk,
        }
    }};
}

/// An [`Ipsec`] of an answer's IPsec object `$c` and its lifetime.
macro_rules! ipsec {
    ($c:expr, $lifetime:expr) => {{
        let c = $c;
        Ipsec {
            enc_alg: &c.ipsec_enc_alg,
            auth_alg: &c.ipsec_auth_alg,
            pfs: &c.ipsec_pfs,
            lifetime_s: $lifetime,
        }
    }};
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

    fn read_ike(&mut self, ike: Ike<'_>) {
        self.ike_version = ike.version.to_owned();
        self.ike_mode = ike.mode.to_owned();
        self.ike_enc_alg = ike.enc_alg.to_owned();
        self.ike_auth_alg = ike.auth_alg.to_owned();
        self.ike_pfs = ike.pfs.to_owned();
        self.ike_lifetime_s = ike.lifetime_s;
        self.local_id = ike.local_id.to_owned();
        self.remote_id = ike.remote_id.to_owned();
        self.psk = ike.psk.to_owned();
    }

    fn read_ipsec(&mut self, ipsec: Ipsec<'_>) {
        self.ipsec_enc_alg = ipsec.enc_alg.to_owned();
        self.ipsec_auth_alg = ipsec.auth_alg.to_owned();
        self.ipsec_pfs = ipsec.pfs.to_owned();
        self.ipsec_lifetime_s = ipsec.lifetime_s;
    }
}

/// The spec of an IPsec server from one item of ListIpsecServers (which
/// carries the gateway's `InternetIp`, the `Psk` and `MaxConnections`).
pub fn ipsec_server_spec_from_api(
    server: &IpsecServerAnswer,
) -> Result<IpsecServerSpec, SpecError> {
    let id = server.ipsec_server_id.clone();
    if id.is_empty() {
        return Err(SpecError("IPsec server without IpsecServerId".into()));
    }
    if server.internet_ip.is_empty() {
        return Err(SpecError(format!(
            "{id}: the VPN gateway has no InternetIp"
        )));
    }
    let mut phases = TunnelSpec::blank(id.clone(), server.internet_ip.clone(), String::new());
    let ike = &server.ike_config;
    phases.read_ike(ike!(ike, ike.ike_lifetime, &server.psk));
    phases.read_ipsec(ipsec!(
        &server.ipsec_config,
        server.ipsec_config.ipsec_lifetime
    ));
    Ok(IpsecServerSpec {
        ipsec_server_id: id,
        client_ip_pool: server.client_ip_pool.clone(),
        local_subnet: server.local_subnet.clone(),
        effect_immediately: server.effect_immediately,
        max_connections: server.max_connections,
        phases,
    })
}

/// The customer gateways a connection's answer names (one, or one per
/// tunnel), empty ones left out.
pub fn customer_gateway_ids(connection: &ConnectionAnswer) -> Vec<String> {
    let tunnels = connection
        .tunnel_options_specification
        .iter()
        .flat_map(|s| &s.tunnel_options)
        .map(|o| &o.customer_gateway_id);
    connection
        .customer_gateway_id
        .iter()
        .chain(tunnels)
        .filter(|id| !id.is_empty())
        .cloned()
        .collect()
}

/// The spec of a connection from the public API's answers: one item of
/// DescribeVpnConnections, the connection's DescribeVpnGateway, and
/// `customer_gateway_ip` resolving a `CustomerGatewayId`
/// (DescribeCustomerGateway's `IpAddress`). The agent feeds it what it read
/// over HTTP (deserialized into the same types), the control plane the
/// answers built in process, so both sides compute the same
/// [`ConnectionSpec::digest`].
pub fn spec_from_api(
    connection: &ConnectionAnswer,
    gateway: &GatewayAnswer,
    customer_gateway_ip: &dyn Fn(&str) -> Option<String>,
) -> Result<ConnectionSpec, SpecError> {
    let id = connection.vpn_connection_id.clone();
    if id.is_empty() {
        return Err(SpecError("connection without VpnConnectionId".into()));
    }
    let cgw_ip = |cgw: &str| {
        customer_gateway_ip(cgw)
            .ok_or_else(|| SpecError(format!("{id}: customer gateway {cgw:?} not found")))
    };
    let options = connection
        .tunnel_options_specification
        .as_ref()
        .map(|s| &s.tunnel_options)
        .filter(|o| !o.is_empty());
    let mut tunnels = Vec::new();
    match options {
        None => {
            let cgw = connection.customer_gateway_id.as_deref().unwrap_or("");
            let local = &gateway.internet_ip;
            if local.is_empty() {
                return Err(SpecError(format!(
                    "{id}: the VPN gateway has no InternetIp"
                )));
            }
            let mut t = TunnelSpec::blank(id.clone(), local.clone(), cgw_ip(cgw)?);
            t.enable_dpd = connection.enable_dpd;
            t.enable_nat_traversal = connection.enable_nat_traversal;
            let ike = &connection.ike_config;
            t.read_ike(ike!(ike, ike.ike_lifetime, &ike.psk));
            let ipsec = &connection.ipsec_config;
            t.read_ipsec(ipsec!(ipsec, ipsec.ipsec_lifetime));
            // DescribeVpnConnections' items have no `EnableBgp` (the SDK's
            // list model lacks it); their `Status` is empty exactly when
            // BGP is off ([`bgp_status`]).
            let bgp = &connection.vpn_bgp_config;
            if !bgp.status.is_empty() {
                t.bgp = Some(BgpSpec {
                    local_asn: bgp.local_asn.unwrap_or(0),
                    peer_asn: bgp.peer_asn.unwrap_or(0),
                    tunnel_cidr: bgp.tunnel_cidr.clone().unwrap_or_default(),
                    local_bgp_ip: bgp.local_bgp_ip.clone().unwrap_or_default(),
                    peer_bgp_ip: bgp.peer_bgp_ip.clone().unwrap_or_default(),
                    auth_key: bgp.auth_key.clone().unwrap_or_default(),
                });
            }
            tunnels.push(t);
        }
        Some(options) => {
            let mut options: Vec<_> = options.iter().collect();
            options.sort_by_key(|o| o.tunnel_index);
            for o in options {
                let tid = o.tunnel_id.clone();
                if tid.is_empty() {
                    return Err(SpecError(format!("{id}: a tunnel without TunnelId")));
                }
                if o.internet_ip.is_empty() {
                    return Err(SpecError(format!("{id}: tunnel {tid} has no InternetIp")));
                }
                let remote = cgw_ip(&o.customer_gateway_id)?;
                let mut t = TunnelSpec::blank(tid, o.internet_ip.clone(), remote);
                t.enable_dpd = flag(&o.enable_dpd, true);
                t.enable_nat_traversal = flag(&o.enable_nat_traversal, true);
                let ike = &o.tunnel_ike_config;
                t.read_ike(ike!(ike, int(&ike.ike_lifetime), &ike.psk));
                let ipsec = &o.tunnel_ipsec_config;
                t.read_ipsec(ipsec!(ipsec, int(&ipsec.ipsec_lifetime)));
                if connection.enable_tunnels_bgp {
                    let bgp = &o.tunnel_bgp_config;
                    let number = |n: &Option<String>| n.as_deref().map_or(0, int);
                    t.bgp = Some(BgpSpec {
                        local_asn: number(&bgp.local_asn),
                        peer_asn: number(&bgp.peer_asn),
                        tunnel_cidr: bgp.tunnel_cidr.clone().unwrap_or_default(),
                        local_bgp_ip: bgp.local_bgp_ip.clone().unwrap_or_default(),
                        peer_bgp_ip: bgp.peer_bgp_ip.clone().unwrap_or_default(),
                        auth_key: String::new(),
                    });
                }
                tunnels.push(t);
            }
        }
    }
    let h = &connection.vco_health_check;
    let health_check = flag(&h.enable, false).then(|| HealthCheckSpec {
        dip: h.dip.clone().unwrap_or_default(),
        sip: h.sip.clone().unwrap_or_default(),
        interval_s: h.interval.unwrap_or(0),
        retry: h.retry.unwrap_or(0),
        policy: h.policy.clone().unwrap_or_default(),
    });
    Ok(ConnectionSpec {
        connection_id: id,
        effect_immediately: connection.effect_immediately,
        local_subnet: connection.local_subnet.clone(),
        remote_subnet: connection.remote_subnet.clone(),
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

    /// A typed answer from its JSON (as the agent reads it off the wire).
    fn answer<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).expect("the answer's JSON fits its type")
    }

    fn dual_answer() -> ConnectionAnswer {
        answer(serde_json::json!({
            "VpnConnectionId":"vco-2","LocalSubnet":"10.0.0.0/24","RemoteSubnet":"10.1.0.0/24",
            "EnableTunnelsBgp":true,
            "VcoHealthCheck":{"Enable":"true","Dip":"10.1.0.9","Sip":"10.0.0.9","Interval":3,"Retry":3,"Policy":"revoke_route"},
            "TunnelOptionsSpecification":{"TunnelOptions":[
              {"TunnelId":"tun-b","TunnelIndex":2,"CustomerGatewayId":"cgw-1","InternetIp":"198.18.0.2",
               "EnableDpd":"false","TunnelIkeConfig":{"IkeVersion":"ikev2","IkeLifetime":"3600","Psk":"p"},
               "TunnelBgpConfig":{"LocalAsn":"45104","PeerAsn":"65001","TunnelCidr":"169.254.11.0/30",
                 "LocalBgpIp":"169.254.11.1","BgpStatus":"false"}},
              {"TunnelId":"tun-a","TunnelIndex":1,"CustomerGatewayId":"cgw-1","InternetIp":"198.18.0.1",
               "EnableDpd":"true","TunnelIkeConfig":{"IkeVersion":"ikev2","IkeLifetime":"3600","Psk":"p"},
               "TunnelIpsecConfig":{"IpsecLifetime":"86400"}}]}
        }))
    }

    #[test]
    fn spec_from_single_and_dual_answers() {
        let gw: GatewayAnswer =
            answer(serde_json::json!({"VpnGatewayId":"vpn-1","InternetIp":"198.18.0.1"}));
        let mut single: ConnectionAnswer = answer(serde_json::json!({
            "VpnConnectionId":"vco-1","CustomerGatewayId":"cgw-1","EffectImmediately":true,
            "LocalSubnet":"10.0.0.0/24","RemoteSubnet":"10.1.0.0/24","EnableDpd":true,
            "EnableNatTraversal":true,
            "IkeConfig":{"IkeVersion":"ikev1","IkeMode":"main","IkeEncAlg":"aes","IkeAuthAlg":"sha1",
              "IkePfs":"group2","IkeLifetime":86400,"LocalId":"198.18.0.1","RemoteId":"203.0.113.1","Psk":"k"},
            "IpsecConfig":{"IpsecEncAlg":"aes","IpsecAuthAlg":"sha1","IpsecPfs":"group2","IpsecLifetime":86400},
            "VcoHealthCheck":{"Enable":"false","Status":""},
            "VpnBgpConfig":{"Status":"","LocalAsn":45104}
        }));
        let ips = |id: &str| (id == "cgw-1").then(|| "203.0.113.1".to_string());
        assert_eq!(spec_from_api(&single, &gw, &ips).unwrap(), spec());
        let no_cgw = |_: &str| None;
        assert!(spec_from_api(&single, &gw, &no_cgw).is_err());
        // A listed connection's BGP is on exactly when its Status is set.
        single.vpn_bgp_config.status = "false".into();
        single.vpn_bgp_config.auth_key = Some("md5".into());
        let bgp = spec_from_api(&single, &gw, &ips).unwrap().tunnels[0]
            .bgp
            .clone()
            .expect("BGP on");
        assert_eq!((bgp.local_asn, bgp.auth_key.as_str()), (45104, "md5"));
        assert_eq!(customer_gateway_ids(&single), ["cgw-1"]);

        let dual = dual_answer();
        let s = spec_from_api(&dual, &gw, &ips).unwrap();
        assert_eq!(s.tunnels.len(), 2);
        assert_eq!(s.tunnels[0].tunnel_id, "tun-a");
        assert_eq!(s.tunnels[1].local_addr, "198.18.0.2");
        assert!(!s.tunnels[1].enable_dpd);
        assert!(s.tunnels[0].enable_nat_traversal, "absent: on");
        assert_eq!(s.tunnels[0].ike_lifetime_s, 3600);
        assert_eq!(s.tunnels[0].ipsec_lifetime_s, 86400);
        let bgp = s.tunnels[1].bgp.as_ref().expect("tunnel BGP on");
        assert_eq!((bgp.local_asn, bgp.peer_asn), (45104, 65001));
        assert_eq!(s.tunnels[0].bgp.as_ref().map(|b| b.local_asn), Some(0));
        assert_eq!(s.health_check.unwrap().policy, "revoke_route");
        assert_eq!(customer_gateway_ids(&dual), ["cgw-1", "cgw-1"]);
    }

    /// What the control plane builds and what the agent reads back over the
    /// wire are the same typed answer, so both sides compute the same spec
    /// and digest; the wire keys are the SDK model's.
    #[test]
    fn a_typed_answer_round_trips() {
        let dual = dual_answer();
        let text = serde_json::to_string(&dual).unwrap();
        for key in [
            "\"TunnelIndex\":2",
            "\"EnableDpd\":\"false\"",
            "\"IkeLifetime\":\"3600\"",
            "\"LocalAsn\":\"45104\"",
        ] {
            assert!(text.contains(key), "{key} in {text}");
        }
        let back: ConnectionAnswer = serde_json::from_str(&text).unwrap();
        assert_eq!(back, dual);
        let gw: GatewayAnswer =
            answer(serde_json::json!({"VpnGatewayId":"vpn-1","InternetIp":"198.18.0.1"}));
        let gw_back: GatewayAnswer =
            serde_json::from_str(&serde_json::to_string(&gw).unwrap()).unwrap();
        assert_eq!(gw_back, gw);
        let ips = |_: &str| Some("203.0.113.1".to_string());
        assert_eq!(
            spec_from_api(&back, &gw_back, &ips).unwrap().digest(),
            spec_from_api(&dual, &gw, &ips).unwrap().digest()
        );
        // A number where the model has a string is not this answer.
        let mut wrong = serde_json::to_value(&dual).unwrap();
        wrong["TunnelOptionsSpecification"]["TunnelOptions"][0]["EnableDpd"] = false.into();
        assert!(serde_json::from_value::<ConnectionAnswer>(wrong).is_err());
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
