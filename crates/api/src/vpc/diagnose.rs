//! DiagnoseVpnConnections, DiagnoseVpnGateway and
//! GetVpnGatewayDiagnoseResult: a real check of the stored configuration of
//! connections (and of what the data plane last measured), not a canned
//! answer.
//!
//! One checker ([`check`]) looks at a connection side by side (the
//! connection itself, or each tunnel of a dual-tunnel connection) and
//! returns findings: the gateway is not active, the customer gateway's
//! address cannot be a peer, the subnets overlap, an algorithm the data
//! plane (strongSwan) cannot negotiate (`sm3`, `sm4`), no PSK, inconsistent
//! BGP (ASNs, /30 and addresses), health-check addresses outside the
//! subnets, a missing CA certificate on a ShangMi gateway. Each finding
//! belongs to one of the cloud's diagnosis items (`VcoConfigConsistency`,
//! `VcoUserInternetIpConnectivity`, `RouteEntryConflict`, …).
//!
//! DiagnoseVpnConnections answers the findings at once, one entry each
//! (a side without findings gets one `Normal` entry). DiagnoseVpnGateway
//! runs the check on one connection, stores the result under a diagnose id
//! and GetVpnGatewayDiagnoseResult reads it back.

use std::{collections::HashMap, net::Ipv4Addr};

use ipnet::Ipv4Net;
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use vpngw_model::{
    CustomerGateway, VpnConnection, VpnGateway,
    connection::{
        AuthAlg, BgpConfig, DhGroup, EncAlg, IkeConfig, IkeMode, IkeVersion, IpsecConfig, IpsecPfs,
    },
    validate,
};
use vpngw_ops::vpc::{
    diagnose_vpn_connections as connections_op, diagnose_vpn_gateway as gateway_op,
    get_vpn_gateway_diagnose_result as result_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, LogQuery, Resource, StoreExt};

use super::{connection, given, vpn_gateway};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    errors,
};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Severity {
    Normal,
    Warning,
    Error,
}

impl Severity {
    /// DiagnoseVpnConnections' `Severity`.
    fn connection_word(self) -> &'static str {
        match self {
            Severity::Normal => "Normal",
            Severity::Warning => "Warn",
            Severity::Error => "Critical",
        }
    }

    /// GetVpnGatewayDiagnoseResult's `DiagnoseResultLevel`.
    fn level(self) -> &'static str {
        match self {
            Severity::Normal => "normal",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// The cloud's diagnosis items a finding belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    VcoConfigConsistency,
    VcoUserInternetIpConnectivity,
    RouteEntryConflict,
    VcoPrivateConnectivity,
}

impl Item {
    fn name(self) -> &'static str {
        match self {
            Item::VcoConfigConsistency => "VcoConfigConsistency",
            Item::VcoUserInternetIpConnectivity => "VcoUserInternetIpConnectivity",
            Item::RouteEntryConflict => "RouteEntryConflict",
            Item::VcoPrivateConnectivity => "VcoPrivateConnectivity",
        }
    }
}

/// One problem found.
#[derive(Debug, Clone)]
struct Finding {
    item: Item,
    /// `FailedReasonCode`.
    code: &'static str,
    severity: Severity,
    /// The tunnel of a dual-tunnel connection, if the finding is about one.
    tunnel_id: Option<String>,
    /// `FailedReason`.
    reason: String,
    /// `MismatchLocalParam`: the setting at fault, `Name=value`.
    local_param: String,
}

/// One side of a connection: the connection itself, or one tunnel.
struct Side<'a> {
    tunnel_id: Option<&'a str>,
    /// The gateway-side public IP.
    local_ip: &'a str,
    customer_gateway_id: Option<&'a str>,
    ike: &'a IkeConfig,
    ipsec: &'a IpsecConfig,
    bgp: &'a BgpConfig,
    bgp_enabled: bool,
    remote_ca_certificate: Option<&'a str>,
    /// Negotiation status as last measured.
    status: &'a str,
}

fn sides<'a>(c: &'a VpnConnection, gateway: Option<&'a VpnGateway>) -> Vec<Side<'a>> {
    if c.tunnels.is_empty() {
        let local_ip = gateway.map_or(c.ike.local_id.as_str(), |g| g.internet_ip.as_str());
        return vec![Side {
            tunnel_id: None,
            local_ip,
            customer_gateway_id: c.customer_gateway_id.as_deref(),
            ike: &c.ike,
            ipsec: &c.ipsec,
            bgp: &c.bgp,
            bgp_enabled: c.bgp.enable,
            remote_ca_certificate: c.remote_ca_certificate.as_deref(),
            status: &c.status,
        }];
    }
    c.tunnels
        .iter()
        .map(|t| Side {
            tunnel_id: Some(&t.id),
            local_ip: &t.internet_ip,
            customer_gateway_id: Some(&t.customer_gateway_id),
            ike: &t.ike,
            ipsec: &t.ipsec,
            bgp: &t.bgp,
            bgp_enabled: c.enable_tunnels_bgp,
            remote_ca_certificate: t.remote_ca_certificate.as_deref(),
            status: &t.status,
        })
        .collect()
}

/// What [`check`] looks at.
struct Subject<'a> {
    gateway: Option<&'a VpnGateway>,
    /// The connection, opened (plaintext PSKs).
    conn: &'a VpnConnection,
    customer_gateways: &'a HashMap<String, CustomerGateway>,
    /// The other connections of the same gateway.
    siblings: &'a [VpnConnection],
    now_ms: i64,
}

fn nets(list: &str) -> Vec<Ipv4Net> {
    validate::subnet_list(list).unwrap_or_default()
}

fn overlaps(a: &[Ipv4Net], b: &[Ipv4Net]) -> Option<(Ipv4Net, Ipv4Net)> {
    a.iter()
        .flat_map(|x| b.iter().map(move |y| (*x, *y)))
        .find(|(x, y)| x.contains(y) || y.contains(x))
}

fn inside(ip: &str, subnets: &[Ipv4Net]) -> bool {
    ip.parse::<Ipv4Addr>()
        .is_ok_and(|a| subnets.iter().any(|n| n.contains(&a)))
}

/// Addresses that can never be an IPsec peer on the internet.
fn unusable_peer(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_link_local()
        || o[0] == 0
        || o[0] >= 240
}

/// Addresses only reachable inside a private network (RFC 1918, shared
/// address space, benchmarking and documentation ranges).
fn private_peer(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    ip.is_private()
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (o[1] == 18 || o[1] == 19))
        || ip.is_documentation()
}

impl<'a> Subject<'a> {
    fn finding(
        &self,
        out: &mut Vec<Finding>,
        side: &Side<'_>,
        (item, code, severity): (Item, &'static str, Severity),
        reason: String,
        local_param: String,
    ) {
        out.push(Finding {
            item,
            code,
            severity,
            tunnel_id: side.tunnel_id.map(str::to_owned),
            reason,
            local_param,
        });
    }
}

const CONFIG: Item = Item::VcoConfigConsistency;
const INTERNET: Item = Item::VcoUserInternetIpConnectivity;
const ROUTES: Item = Item::RouteEntryConflict;

/// Every finding about a connection's stored configuration.
fn check(s: &Subject<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let c = s.conn;
    let all_sides = sides(c, s.gateway);
    let first = all_sides.first();
    // The gateway and the connection's own state.
    if let (Some(g), Some(side)) = (s.gateway, first) {
        let state = g.lifecycle.effective(s.now_ms);
        if state != "active" {
            s.finding(
                &mut out,
                side,
                (CONFIG, "VpnGatewayNotActive", Severity::Error),
                format!(
                    "The VPN gateway {} is {state}, not active: its configuration is not in force.",
                    g.id
                ),
                format!("Status={state}"),
            );
        }
    }
    let local = nets(&c.local_subnet);
    let remote = nets(&c.remote_subnet);
    if let (Some((a, b)), Some(side)) = (overlaps(&local, &remote), first) {
        s.finding(
            &mut out,
            side,
            (ROUTES, "SubnetOverlap", Severity::Error),
            format!("LocalSubnet {a} and RemoteSubnet {b} overlap: traffic between them cannot be routed through the tunnel."),
            format!("LocalSubnet={}", c.local_subnet),
        );
    }
    for other in s.siblings.iter().filter(|o| o.id != c.id) {
        if let (Some((a, b)), Some(side)) = (overlaps(&remote, &nets(&other.remote_subnet)), first)
        {
            s.finding(
                &mut out,
                side,
                (ROUTES, "RouteConflict", Severity::Warning),
                format!(
                    "RemoteSubnet {a} overlaps {b} of connection {} on the same gateway: only one of them receives the traffic.",
                    other.id
                ),
                format!("RemoteSubnet={}", c.remote_subnet),
            );
        }
    }
    if let (Some(hc), Some(side)) = (c.health_check.as_ref().filter(|h| h.enable), first) {
        if !inside(&hc.sip, &local) {
            s.finding(
                &mut out,
                side,
                (CONFIG, "HealthCheckSourceOutsideSubnet", Severity::Error),
                format!("The health check's source {} is not inside LocalSubnet {}: its probes cannot enter the tunnel.", hc.sip, c.local_subnet),
                format!("HealthCheckConfig.sip={}", hc.sip),
            );
        }
        if !inside(&hc.dip, &remote) {
            s.finding(
                &mut out,
                side,
                (CONFIG, "HealthCheckDestinationOutsideSubnet", Severity::Error),
                format!("The health check's destination {} is not inside RemoteSubnet {}: its probes cannot enter the tunnel.", hc.dip, c.remote_subnet),
                format!("HealthCheckConfig.dip={}", hc.dip),
            );
        }
    }
    for side in &all_sides {
        check_side(s, side, &mut out);
    }
    if let [a, b] = all_sides.as_slice()
        && a.customer_gateway_id == b.customer_gateway_id
    {
        s.finding(
            &mut out,
            b,
            (CONFIG, "TunnelsShareCustomerGateway", Severity::Warning),
            "Both tunnels end at the same customer gateway: the on-premises side has no redundancy.".to_owned(),
            format!("CustomerGatewayId={}", b.customer_gateway_id.unwrap_or("")),
        );
    }
    out
}

fn check_side(s: &Subject<'_>, side: &Side<'_>, out: &mut Vec<Finding>) {
    let cgw = side
        .customer_gateway_id
        .and_then(|id| s.customer_gateways.get(id));
    match (side.customer_gateway_id, cgw) {
        (Some(id), None) => s.finding(
            out,
            side,
            (INTERNET, "CustomerGatewayNotFound", Severity::Error),
            format!("The customer gateway {id} does not exist."),
            format!("CustomerGatewayId={id}"),
        ),
        (_, Some(cgw)) => check_peer_ip(s, side, cgw, out),
        (None, None) => {}
    }
    check_algorithms(s, side, out);
    if side.ike.psk.is_empty() {
        s.finding(
            out,
            side,
            (CONFIG, "PskMissing", Severity::Error),
            "No pre-shared key is configured: IKE authentication cannot succeed.".to_owned(),
            "Psk=".to_owned(),
        );
    } else if side.ike.psk.len() < 8 {
        s.finding(
            out,
            side,
            (CONFIG, "PskWeak", Severity::Warning),
            "The pre-shared key is shorter than 8 characters and easy to guess.".to_owned(),
            format!("Psk length={}", side.ike.psk.len()),
        );
    }
    if side.bgp_enabled {
        check_bgp(s, side, cgw, out);
    }
    if let Some(g) = s.gateway
        && g.vpn_type == "NationalStandard"
        && side.remote_ca_certificate.is_none()
    {
        s.finding(
            out,
            side,
            (CONFIG, "RemoteCaCertificateMissing", Severity::Error),
            "A ShangMi (NationalStandard) gateway authenticates the peer with its CA certificate, and none is configured.".to_owned(),
            "RemoteCaCertificate=".to_owned(),
        );
    }
}

fn check_peer_ip(s: &Subject<'_>, side: &Side<'_>, cgw: &CustomerGateway, out: &mut Vec<Finding>) {
    let param = format!("CustomerGateway.IpAddress={}", cgw.ip_address);
    match cgw.ip_address.parse::<Ipv4Addr>() {
        Err(_) => s.finding(
            out,
            side,
            (INTERNET, "CustomerGatewayIpInvalid", Severity::Error),
            format!("The customer gateway address {} is not an IPv4 address.", cgw.ip_address),
            param,
        ),
        Ok(ip) if unusable_peer(ip) => s.finding(
            out,
            side,
            (INTERNET, "CustomerGatewayIpInvalid", Severity::Error),
            format!("The customer gateway address {ip} cannot be an IPsec peer (reserved, loopback, link-local or multicast)."),
            param,
        ),
        Ok(ip) if ip.to_string() == side.local_ip => s.finding(
            out,
            side,
            (INTERNET, "CustomerGatewayIpConflict", Severity::Error),
            format!("The customer gateway address {ip} is the VPN gateway's own address."),
            param,
        ),
        Ok(ip)
            if private_peer(ip)
                && s.gateway.is_none_or(|g| g.network_type == "public") =>
        {
            s.finding(
                out,
                side,
                (INTERNET, "CustomerGatewayIpNotPublic", Severity::Warning),
                format!("The customer gateway address {ip} is not a public address: the gateway reaches it only inside a private network."),
                param,
            )
        }
        Ok(_) => {}
    }
}

fn check_algorithms(s: &Subject<'_>, side: &Side<'_>, out: &mut Vec<Finding>) {
    let ike = side.ike;
    let ipsec = side.ipsec;
    let enc = [("IkeEncAlg", ike.enc_alg), ("IpsecEncAlg", ipsec.enc_alg)];
    let auth = [
        ("IkeAuthAlg", ike.auth_alg),
        ("IpsecAuthAlg", ipsec.auth_alg),
    ];
    for (name, alg) in enc {
        if alg == EncAlg::Sm4 {
            unsupported(s, side, out, name, alg.as_str());
        } else if alg == EncAlg::Des {
            weak(s, side, out, name, alg.as_str());
        }
    }
    for (name, alg) in auth {
        if alg == AuthAlg::Sm3 {
            unsupported(s, side, out, name, alg.as_str());
        } else if alg == AuthAlg::Md5 {
            weak(s, side, out, name, alg.as_str());
        }
    }
    if ike.pfs == DhGroup::Group1 {
        weak(s, side, out, "IkePfs", ike.pfs.as_str());
    }
    if ipsec.pfs == IpsecPfs::Group1 {
        weak(s, side, out, "IpsecPfs", ipsec.pfs.as_str());
    }
    if ike.version == IkeVersion::V1 && ike.mode == IkeMode::Aggressive {
        s.finding(
            out,
            side,
            (CONFIG, "AggressiveMode", Severity::Warning),
            "IKEv1 aggressive mode sends the PSK hash unprotected; use main mode or IKEv2 where the peer allows.".to_owned(),
            "IkeMode=aggressive".to_owned(),
        );
    }
    for (name, lifetime) in [
        ("IkeLifetime", ike.lifetime_s),
        ("IpsecLifetime", ipsec.lifetime_s),
    ] {
        if lifetime == 0 {
            s.finding(
                out,
                side,
                (CONFIG, "LifetimeZero", Severity::Warning),
                format!("{name} is 0: the SAs are never rekeyed."),
                format!("{name}=0"),
            );
        }
    }
}

fn unsupported(s: &Subject<'_>, side: &Side<'_>, out: &mut Vec<Finding>, name: &str, value: &str) {
    s.finding(
        out,
        side,
        (CONFIG, "UnsupportedAlgorithm", Severity::Error),
        format!("{name}={value} is a ShangMi algorithm the data plane (strongSwan) cannot negotiate: the tunnel cannot come up."),
        format!("{name}={value}"),
    );
}

fn weak(s: &Subject<'_>, side: &Side<'_>, out: &mut Vec<Finding>, name: &str, value: &str) {
    s.finding(
        out,
        side,
        (CONFIG, "WeakAlgorithm", Severity::Warning),
        format!("{name}={value} is considered broken; prefer aes256, sha256 and group14."),
        format!("{name}={value}"),
    );
}

fn check_bgp(
    s: &Subject<'_>,
    side: &Side<'_>,
    cgw: Option<&CustomerGateway>,
    out: &mut Vec<Finding>,
) {
    let b = side.bgp;
    let local_asn = b.local_asn;
    let peer_asn = b.peer_asn.or_else(|| cgw.and_then(|c| c.asn));
    if peer_asn.is_none() {
        s.finding(
            out,
            side,
            (CONFIG, "BgpPeerAsnMissing", Severity::Error),
            "BGP is enabled but the customer gateway has no ASN: the session has no peer AS."
                .to_owned(),
            "CustomerGateway.Asn=".to_owned(),
        );
    }
    if local_asn.is_some() && local_asn == peer_asn {
        s.finding(
            out,
            side,
            (CONFIG, "BgpSameAsn", Severity::Warning),
            format!("Both ends use ASN {}: the session is internal BGP, and routes learned from one tunnel are not passed on.", local_asn.unwrap_or_default()),
            format!("LocalAsn={}", local_asn.unwrap_or_default()),
        );
    }
    let cidr = b
        .tunnel_cidr
        .as_deref()
        .and_then(|c| c.parse::<Ipv4Net>().ok());
    match (&cidr, &b.local_bgp_ip) {
        (None, _) => s.finding(
            out,
            side,
            (CONFIG, "BgpTunnelCidrMissing", Severity::Error),
            "BGP is enabled without a tunnel CIDR block (a /30 inside 169.254.0.0/16).".to_owned(),
            "TunnelCidr=".to_owned(),
        ),
        (Some(net), Some(ip)) if !inside(ip, std::slice::from_ref(net)) => s.finding(
            out,
            side,
            (CONFIG, "BgpLocalIpOutsideCidr", Severity::Error),
            format!("LocalBgpIp {ip} is not a host of TunnelCidr {net}."),
            format!("LocalBgpIp={ip}"),
        ),
        (Some(_), None) => s.finding(
            out,
            side,
            (CONFIG, "BgpLocalIpMissing", Severity::Error),
            "BGP is enabled without LocalBgpIp.".to_owned(),
            "LocalBgpIp=".to_owned(),
        ),
        _ => {}
    }
    if let Some(net) = cidr {
        let mut used_by = Vec::new();
        for other in s
            .siblings
            .iter()
            .filter(|o| o.id != s.conn.id)
            .chain(std::iter::once(s.conn))
        {
            for (id, ob) in other_bgp(other) {
                if Some(id) != side.tunnel_id.or(Some(s.conn.id.as_str()))
                    && ob
                        .tunnel_cidr
                        .as_deref()
                        .and_then(|c| c.parse::<Ipv4Net>().ok())
                        == Some(net)
                {
                    used_by.push(id.to_owned());
                }
            }
        }
        if !used_by.is_empty() {
            s.finding(
                out,
                side,
                (CONFIG, "BgpTunnelCidrConflict", Severity::Error),
                format!("TunnelCidr {net} is also used by {} on the same gateway; each BGP session needs its own /30.", used_by.join(", ")),
                format!("TunnelCidr={net}"),
            );
        }
    }
}

/// The BGP settings of a connection's sides that have BGP on, by side id
/// (the tunnel id, or the connection id for a single tunnel).
fn other_bgp(c: &VpnConnection) -> Vec<(&str, &BgpConfig)> {
    if c.tunnels.is_empty() {
        if c.bgp.enable {
            vec![(c.id.as_str(), &c.bgp)]
        } else {
            Vec::new()
        }
    } else if c.enable_tunnels_bgp {
        c.tunnels.iter().map(|t| (t.id.as_str(), &t.bgp)).collect()
    } else {
        Vec::new()
    }
}

// ---- loading what a check needs ------------------------------------------------

/// A connection, opened, with its gateway, customer gateways and siblings.
struct Loaded {
    conn: VpnConnection,
    gateway: Option<VpnGateway>,
    customer_gateways: HashMap<String, CustomerGateway>,
    siblings: Vec<VpnConnection>,
}

async fn load_subject(ctx: &Ctx<'_>, mut conn: VpnConnection) -> Result<Loaded, ApiError> {
    connection::unseal(ctx, &mut conn)?;
    let scope = ctx.scope()?;
    let gateway = match &conn.vpn_gateway_id {
        Some(id) => ctx
            .store()
            .get_typed::<VpnGateway>(&scope, id)
            .await
            .map_err(internal)?
            .map(|v| v.value),
        None => None,
    };
    let mut customer_gateways = HashMap::new();
    let ids = conn
        .customer_gateway_id
        .iter()
        .chain(conn.tunnels.iter().map(|t| &t.customer_gateway_id));
    for id in ids {
        if let Some(cgw) = ctx
            .store()
            .get_typed::<CustomerGateway>(&scope, id)
            .await
            .map_err(internal)?
        {
            customer_gateways.insert(id.clone(), cgw.value);
        }
    }
    let siblings = match &conn.vpn_gateway_id {
        Some(gid) => gateway_connections(ctx, gid).await?,
        None => Vec::new(),
    };
    Ok(Loaded {
        conn,
        gateway,
        customer_gateways,
        siblings,
    })
}

/// Every connection of a gateway (secrets still sealed: checks of siblings
/// never read them).
async fn gateway_connections(
    ctx: &Ctx<'_>,
    gateway_id: &str,
) -> Result<Vec<VpnConnection>, ApiError> {
    let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.limit = 10_000;
    Ok(ctx
        .store()
        .list_typed::<VpnConnection>(&q)
        .await
        .map_err(internal)?
        .0)
}

fn run(l: &Loaded, now_ms: i64) -> Vec<Finding> {
    check(&Subject {
        gateway: l.gateway.as_ref(),
        conn: &l.conn,
        customer_gateways: &l.customer_gateways,
        siblings: &l.siblings,
        now_ms,
    })
}

// ---- DiagnoseVpnConnections ------------------------------------------------------

/// The newest log line about a side, and when it was written.
async fn last_log(
    ctx: &Ctx<'_>,
    connection_id: &str,
    tunnel_id: Option<&str>,
) -> Result<Option<(i64, String)>, ApiError> {
    let mut q = LogQuery {
        scope: ctx.scope()?,
        resource_id: connection_id.to_owned(),
        tunnel_id: tunnel_id.map(str::to_owned),
        from_ms: 0,
        to_ms: i64::MAX,
        offset: 0,
        limit: 1,
    };
    let total = ctx.store().list_logs(&q).await.map_err(internal)?.total;
    if total == 0 {
        return Ok(None);
    }
    q.offset = total - 1;
    let page = ctx.store().list_logs(&q).await.map_err(internal)?;
    Ok(page
        .entries
        .into_iter()
        .next()
        .map(|e| (e.time_ms, format!("[{}] {}", e.source, e.message))))
}

/// The connections DiagnoseVpnConnections looks at, with the tunnels asked
/// for (`None`: every side).
async fn select_connections(
    ctx: &Ctx<'_>,
    req: &connections_op::Request,
) -> Result<Vec<(VpnConnection, Option<Vec<String>>)>, ApiError> {
    let ids = &req.vpn_connection_ids;
    let tunnel_ids = &req.tunnel_ids;
    let gateway_id = given(&req.vpn_gateway_id);
    if ids.is_empty() && tunnel_ids.is_empty() && gateway_id.is_none() {
        return Err(ApiError::missing_parameter("VpnConnectionIds"));
    }
    if let Some(g) = gateway_id {
        vpn_gateway::load(ctx, g).await?;
    }
    let mut out: Vec<(VpnConnection, Option<Vec<String>>)> = Vec::new();
    for id in ids {
        let c = connection::load(ctx, id).await?.value;
        if gateway_id.is_some_and(|g| c.vpn_gateway_id.as_deref() != Some(g)) {
            return Err(errors::vpn_connection_not_found());
        }
        if !out.iter().any(|(o, _)| o.id == c.id) {
            out.push((c, None));
        }
    }
    if !tunnel_ids.is_empty() {
        let pool = match gateway_id {
            Some(g) => gateway_connections(ctx, g).await?,
            None => {
                let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
                q.limit = 10_000;
                ctx.store()
                    .list_typed::<VpnConnection>(&q)
                    .await
                    .map_err(internal)?
                    .0
            }
        };
        for tid in tunnel_ids {
            let c = pool
                .iter()
                .find(|c| c.tunnels.iter().any(|t| t.id == *tid))
                .ok_or_else(errors::tunnel_not_found)?;
            match out.iter_mut().find(|(o, _)| o.id == c.id) {
                // Asked for as a whole already.
                Some((_, None)) => {}
                Some((_, Some(list))) => list.push(tid.clone()),
                None => out.push((c.clone(), Some(vec![tid.clone()]))),
            }
        }
        // A tunnel is part of its connection: the caller must be allowed
        // the connection it names this way, as if it had named it.
        let wholes: Vec<vpngw_ops::Resource<'_>> = out
            .iter()
            .map(|(c, _)| vpngw_ops::Resource {
                kind: vpngw_ops::Kind::VpnConnection,
                id: &c.id,
            })
            .collect();
        ctx.authorize(&wholes).await?;
    }
    if ids.is_empty()
        && tunnel_ids.is_empty()
        && let Some(g) = gateway_id
    {
        out = gateway_connections(ctx, g)
            .await?
            .into_iter()
            .map(|c| (c, None))
            .collect();
    }
    Ok(out)
}

pub async fn diagnose_connections(
    ctx: &Ctx<'_>,
    req: connections_op::Request,
) -> Result<connections_op::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let selected = select_connections(ctx, &req).await?;
    let mut entries = Vec::new();
    for (conn, only) in selected {
        let loaded = load_subject(ctx, conn).await?;
        let mut findings = run(&loaded, ctx.now_ms);
        let c = &loaded.conn;
        // The data plane's view: a side that is not up.
        for side in sides(c, loaded.gateway.as_ref()) {
            if side.status != "ipsec_sa_established" {
                findings.push(Finding {
                    item: Item::VcoConfigConsistency,
                    code: "NegotiationNotEstablished",
                    severity: Severity::Warning,
                    tunnel_id: side.tunnel_id.map(str::to_owned),
                    reason: format!(
                        "The IPsec negotiation has not succeeded: status {}.",
                        side.status
                    ),
                    local_param: String::new(),
                });
            }
        }
        let side_ids: Vec<Option<String>> = if c.tunnels.is_empty() {
            vec![None]
        } else {
            c.tunnels.iter().map(|t| Some(t.id.clone())).collect()
        };
        for side_id in side_ids {
            if let (Some(only), Some(t)) = (&only, &side_id)
                && !only.contains(t)
            {
                continue;
            }
            let (log_time, source_log) = last_log(ctx, &c.id, side_id.as_deref())
                .await?
                .unwrap_or((c.create_time_ms, String::new()));
            let mut mine: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.tunnel_id.is_none() || f.tunnel_id == side_id)
                .collect();
            mine.sort_by_key(|f| std::cmp::Reverse(f.severity));
            if mine.is_empty() {
                entries.push(connections_op::VpnConnections {
                    vpn_connection_id: c.id.clone(),
                    tunnel_id: side_id.clone(),
                    severity: Severity::Normal.connection_word().to_owned(),
                    failed_reason_code: String::new(),
                    failed_reason: String::new(),
                    failed_time: log_time,
                    mismatch_local_param: String::new(),
                    mismatch_remote_param: String::new(),
                    source_log,
                });
                continue;
            }
            for f in mine {
                entries.push(connections_op::VpnConnections {
                    vpn_connection_id: c.id.clone(),
                    tunnel_id: side_id.clone(),
                    severity: f.severity.connection_word().to_owned(),
                    failed_reason_code: f.code.to_owned(),
                    failed_reason: f.reason.clone(),
                    failed_time: log_time,
                    mismatch_local_param: f.local_param.clone(),
                    // What the peer has is unknown to vpngw (the data plane
                    // reports failures, not the peer's proposal).
                    mismatch_remote_param: String::new(),
                    source_log: source_log.clone(),
                });
            }
        }
    }
    let total = entries.len();
    let start = usize::try_from((number - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let page: Vec<_> = entries
        .into_iter()
        .skip(start)
        .take(usize::try_from(size).unwrap_or(10))
        .collect();
    Ok(connections_op::Answer {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        page_number: number,
        page_size: size,
        vpn_connections: page,
    })
}

// ---- DiagnoseVpnGateway / GetVpnGatewayDiagnoseResult ---------------------------

/// One item of a stored diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiagnosisItem {
    pub name: String,
    /// JSON text, as the cloud's `DiagnoseResultDescription`.
    pub description: String,
    pub level: String,
}

/// A finished diagnosis of one connection of a gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayDiagnosis {
    pub id: String,
    pub region_id: String,
    pub vpn_gateway_id: String,
    pub resource_type: String,
    pub resource_id: String,
    pub begin_ms: i64,
    pub finish_ms: i64,
    pub items: Vec<DiagnosisItem>,
    pub resource_group_id: String,
}

impl Resource for GatewayDiagnosis {
    const KIND: Kind = Kind::VpnDiagnosis;
    fn id(&self) -> &str {
        &self.id
    }
    fn region_id(&self) -> &str {
        &self.region_id
    }
    fn resource_group_id(&self) -> &str {
        &self.resource_group_id
    }
    /// Listed by gateway ...
    fn parent_id(&self) -> Option<&str> {
        Some(&self.vpn_gateway_id)
    }
    /// ... but never holding it: a diagnosis does not keep a gateway from
    /// being deleted.
    fn links(&self) -> Vec<String> {
        Vec::new()
    }
}

fn diagnose_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("vpndgn-{tail}")
}

fn problems(findings: &[&Finding]) -> serde_json::Value {
    findings
        .iter()
        .map(|f| {
            json!({
                "code": f.code,
                "level": f.severity.level(),
                "tunnelId": f.tunnel_id,
                "param": f.local_param,
                "message": f.reason,
            })
        })
        .collect()
}

fn item(name: &str, findings: &[&Finding], mut description: serde_json::Value) -> DiagnosisItem {
    let level = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Normal);
    if let serde_json::Value::Object(map) = &mut description {
        map.insert("problems".into(), problems(findings));
    }
    DiagnosisItem {
        name: name.to_owned(),
        description: description.to_string(),
        level: level.level().to_owned(),
    }
}

/// `IPsecExtendInfo`: `{"PrivateSourceIp": "…", "PrivateDestinationIp": "…"}`.
fn extend_info(given: Option<&str>) -> Result<Option<(Ipv4Addr, Ipv4Addr)>, ApiError> {
    const NAME: &str = "IPsecExtendInfo";
    let Some(text) = given else {
        return Ok(None);
    };
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|_| ApiError::invalid_parameter(NAME))?;
    let addr = |key: &str| -> Result<Ipv4Addr, ApiError> {
        v.get(key)
            .and_then(|x| x.as_str())
            .ok_or_else(|| ApiError::missing_parameter(&format!("{NAME}.{key}")))?
            .parse()
            .map_err(|_| ApiError::invalid_parameter(&format!("{NAME}.{key}")))
    };
    Ok(Some((
        addr("PrivateSourceIp")?,
        addr("PrivateDestinationIp")?,
    )))
}

fn items_for(
    l: &Loaded,
    findings: &[Finding],
    quota: u32,
    private: Option<(Ipv4Addr, Ipv4Addr)>,
) -> Vec<DiagnosisItem> {
    let of = |i: Item| -> Vec<&Finding> { findings.iter().filter(|f| f.item == i).collect() };
    let c = &l.conn;
    let mut items = Vec::new();
    let config = of(Item::VcoConfigConsistency);
    let summary: Vec<serde_json::Value> = sides(c, l.gateway.as_ref())
        .iter()
        .map(|s| {
            json!({
                "tunnelId": s.tunnel_id,
                "localIp": s.local_ip,
                "customerGatewayId": s.customer_gateway_id,
                "ike": format!("{} {} {}/{}/{} {}s", s.ike.version, s.ike.mode, s.ike.enc_alg, s.ike.auth_alg, s.ike.pfs, s.ike.lifetime_s),
                "ipsec": format!("{}/{}/{} {}s", s.ipsec.enc_alg, s.ipsec.auth_alg, s.ipsec.pfs, s.ipsec.lifetime_s),
                "bgp": s.bgp_enabled,
            })
        })
        .collect();
    items.push(item(
        Item::VcoConfigConsistency.name(),
        &config,
        json!({
            // The peer's configuration is not visible to vpngw.
            "vcoLackConf": true,
            "vcoConf": {
                "localSubnet": c.local_subnet,
                "remoteSubnet": c.remote_subnet,
                "sides": summary,
            },
            "vcoDiffConf": [],
        }),
    ));
    let targets: Vec<String> = sides(c, l.gateway.as_ref())
        .iter()
        .filter_map(|s| s.customer_gateway_id)
        .filter_map(|id| l.customer_gateways.get(id))
        .map(|g| g.ip_address.clone())
        .collect();
    items.push(item(
        Item::VcoUserInternetIpConnectivity.name(),
        &of(Item::VcoUserInternetIpConnectivity),
        json!({ "targetIp": targets.join(",") }),
    ));
    items.push(item(
        Item::RouteEntryConflict.name(),
        &of(Item::RouteEntryConflict),
        json!({ "localSubnet": c.local_subnet, "remoteSubnet": c.remote_subnet }),
    ));
    let used = l.siblings.len();
    let quota_level = if quota == 0 {
        Severity::Normal
    } else if used >= quota as usize {
        Severity::Error
    } else if used * 5 >= quota as usize * 4 {
        Severity::Warning
    } else {
        Severity::Normal
    };
    items.push(DiagnosisItem {
        name: "VpnIPsecQuota".into(),
        description: json!({
            "quotaName": "vpn_quota_ipsec_connections_per_gateway",
            // 0: no limit configured.
            "quantity": quota,
            "used": used,
        })
        .to_string(),
        level: quota_level.level().to_owned(),
    });
    if let Some((src, dst)) = private {
        let mut found = Vec::new();
        let local = nets(&c.local_subnet);
        let remote = nets(&c.remote_subnet);
        if !local.iter().any(|n| n.contains(&src)) {
            found.push(Finding {
                item: Item::VcoPrivateConnectivity,
                code: "SourceOutsideLocalSubnet",
                severity: Severity::Error,
                tunnel_id: None,
                reason: format!(
                    "{src} is not inside LocalSubnet {}: its traffic does not enter the tunnel.",
                    c.local_subnet
                ),
                local_param: format!("LocalSubnet={}", c.local_subnet),
            });
        }
        if !remote.iter().any(|n| n.contains(&dst)) {
            found.push(Finding {
                item: Item::VcoPrivateConnectivity,
                code: "DestinationOutsideRemoteSubnet",
                severity: Severity::Error,
                tunnel_id: None,
                reason: format!(
                    "{dst} is not inside RemoteSubnet {}: traffic to it does not enter the tunnel.",
                    c.remote_subnet
                ),
                local_param: format!("RemoteSubnet={}", c.remote_subnet),
            });
        }
        for s in sides(c, l.gateway.as_ref()) {
            if s.status != "ipsec_sa_established" {
                found.push(Finding {
                    item: Item::VcoPrivateConnectivity,
                    code: "NegotiationNotEstablished",
                    severity: if c.tunnels.is_empty() {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                    tunnel_id: s.tunnel_id.map(str::to_owned),
                    reason: format!(
                        "The tunnel is not up (status {}): nothing passes through it.",
                        s.status
                    ),
                    local_param: String::new(),
                });
            }
        }
        let refs: Vec<&Finding> = found.iter().collect();
        items.push(item(
            Item::VcoPrivateConnectivity.name(),
            &refs,
            json!({ "srcIp": src.to_string(), "targetIp": dst.to_string() }),
        ));
    }
    items
}

pub async fn diagnose_gateway(
    ctx: &Ctx<'_>,
    req: gateway_op::Request,
) -> Result<gateway_op::Answer, ApiError> {
    let region = ctx.region()?;
    let gateway = vpn_gateway::load(ctx, &req.vpn_gateway_id).await?.value;
    if !req.resource_type.eq_ignore_ascii_case("IPsec") {
        return Err(ApiError::invalid_parameter("ResourceType"));
    }
    let conn = connection::load(ctx, &req.resource_id).await?.value;
    if conn.vpn_gateway_id.as_deref() != Some(gateway.id.as_str()) {
        return Err(ApiError::invalid_parameter_because(
            "ResourceId",
            "the IPsec-VPN connection does not belong to the VPN gateway.",
        ));
    }
    let private = extend_info(given(&req.i_psec_extend_info))?;
    let loaded = load_subject(ctx, conn).await?;
    let findings = run(&loaded, ctx.now_ms);
    let items = items_for(
        &loaded,
        &findings,
        ctx.config().quotas.connections_per_gateway,
        private,
    );
    let diagnosis = GatewayDiagnosis {
        id: diagnose_id(),
        region_id: region.id.to_owned(),
        vpn_gateway_id: gateway.id.clone(),
        resource_type: "IPsec".into(),
        resource_id: loaded.conn.id.clone(),
        begin_ms: ctx.now_ms,
        finish_ms: ctx.now_ms,
        items,
        resource_group_id: gateway.resource_group_id.clone(),
    };
    let guard = InsertGuard {
        quota: None,
        idempotency: ctx.idempotency()?,
        unique: Vec::new(),
    };
    let inserted = ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &diagnosis, guard)
        .await
        .map_err(|e| store_error(e, errors::diagnose_not_found))?;
    let id = match inserted {
        Inserted::Created => diagnosis.id,
        Inserted::Replayed { id } => id,
    };
    Ok(gateway_op::Answer { diagnose_id: id })
}

/// `YYYY-MM-DDThh:mm:ssZ`, as the cloud writes these times.
fn utc(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

pub async fn get_result(
    ctx: &Ctx<'_>,
    req: result_op::Request,
) -> Result<result_op::Answer, ApiError> {
    let scope = ctx.scope()?;
    let gateway_id = given(&req.vpn_gateway_id);
    let diagnosis = match given(&req.diagnose_id) {
        Some(id) => {
            let d = ctx
                .store()
                .get_typed::<GatewayDiagnosis>(&scope, id)
                .await
                .map_err(internal)?
                .ok_or_else(errors::diagnose_not_found)?
                .value;
            if gateway_id.is_some_and(|g| g != d.vpn_gateway_id) {
                return Err(errors::diagnose_not_found());
            }
            d
        }
        None => {
            let gid = gateway_id.ok_or_else(|| ApiError::missing_parameter("DiagnoseId"))?;
            vpn_gateway::load(ctx, gid).await?;
            let mut q = ListQuery::new(Kind::VpnDiagnosis, scope, ctx.now_ms);
            q.parent_id = Some(gid.to_owned());
            q.limit = 1;
            let (_, total) = ctx
                .store()
                .list_typed::<GatewayDiagnosis>(&q)
                .await
                .map_err(internal)?;
            q.offset = total.saturating_sub(1);
            ctx.store()
                .list_typed::<GatewayDiagnosis>(&q)
                .await
                .map_err(internal)?
                .0
                .pop()
                .ok_or_else(errors::diagnose_not_found)?
        }
    };
    let n = i64::try_from(diagnosis.items.len()).unwrap_or(i64::MAX);
    Ok(result_op::Answer {
        begin_time: utc(diagnosis.begin_ms),
        finish_time: utc(diagnosis.finish_ms),
        total_count: n,
        finished_count: n,
        diagnose_result: diagnosis
            .items
            .into_iter()
            .map(|i| result_op::DiagnoseResult {
                diagnose_name: i.name,
                diagnose_result_description: i.description,
                diagnose_result_level: i.level,
            })
            .collect(),
        diagnose_id: diagnosis.id,
        vpn_gateway_id: diagnosis.vpn_gateway_id,
        resource_type: diagnosis.resource_type,
        resource_instance_id: diagnosis.resource_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_address_classes() {
        let ip = |s: &str| s.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED);
        assert!(unusable_peer(ip("169.254.1.1")));
        assert!(unusable_peer(ip("0.1.2.3")));
        assert!(unusable_peer(ip("250.0.0.1")));
        assert!(!unusable_peer(ip("47.100.1.2")));
        assert!(private_peer(ip("10.1.1.1")));
        assert!(private_peer(ip("100.64.0.9")));
        assert!(private_peer(ip("198.19.3.4")));
        assert!(!private_peer(ip("47.100.1.2")));
    }

    #[test]
    fn overlap_is_containment_either_way() {
        let a = nets("10.0.0.0/8");
        let b = nets("192.168.0.0/16,10.1.0.0/16");
        assert!(overlaps(&a, &b).is_some());
        assert!(overlaps(&a, &nets("172.16.0.0/12")).is_none());
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(utc(1_671_003_744_123), "2022-12-14T07:42:24Z");
    }
}
