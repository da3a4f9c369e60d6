//! Dual-tunnel IPsec connections: `TunnelOptionsSpecification` on
//! CreateVpnConnection and ModifyVpnConnectionAttribute (a flattened list,
//! `TunnelOptionsSpecification.N.*`), and ModifyTunnelAttribute (one
//! object, `TunnelOptionsSpecification.*`).
//!
//! A dual-tunnel connection has exactly two tunnels, a `master` (index 1,
//! on the gateway's `InternetIp`) and a `slave` (index 2, on its
//! `DisasterRecoveryInternetIp`), each with its own customer gateway,
//! IKE/IPsec/BGP settings, DPD, NAT traversal and CA certificate. Each
//! tunnel's PSK is sealed like a single-tunnel connection's, bound to the
//! connection and the tunnel.
//!
//! The connection's top-level single-tunnel fields (`IkeConfig`,
//! `EnableDpd`, …) mirror the master tunnel, so clients that read only
//! those still see the settings in force.

use serde::Serialize;
use serde_json::{Map, Value};
use vpngw_model::{
    CustomerGateway, VpnConnection, VpnGateway,
    catalog::{self, Region},
    connection::{
        BgpConfig, IkeConfig, IpsecConfig, STATUS_NOT_ESTABLISHED, Tunnel, TunnelRole, generate_psk,
    },
    ids::{IdKind, new_id},
};
use vpngw_protocol::{ApiError, Params};
use vpngw_store::{Kind, ListQuery, Scope, StoreExt, Versioned};

use super::{customer_gateway, ike_json, logs, reply, vpn_gateway};
use crate::{
    Ctx,
    actions::Reply,
    context::{internal, store_error},
    errors,
};

pub(crate) const TOS: &str = "TunnelOptionsSpecification";

/// The JSON-string parameters of single-tunnel connections. A dual-tunnel
/// connection takes these settings per tunnel; an empty object (`{}`, which
/// Terraform always sends) is accepted and means nothing.
const SINGLE_TUNNEL_JSON: &[&str] = &["IkeConfig", "IpsecConfig", "BgpConfig", "HealthCheckConfig"];

/// Whether a VPN gateway serves dual-tunnel connections: it was created
/// with `DisasterRecoveryVSwitchId` and so has a second public IP.
pub(crate) fn is_dual_gateway(g: &VpnGateway) -> bool {
    g.disaster_recovery_internet_ip.is_some()
}

/// Whether the request carries any `TunnelOptionsSpecification` entry.
pub(crate) fn has_tunnel_options(params: &Params) -> bool {
    let prefix = format!("{TOS}.");
    params.iter().any(|(n, _)| n.starts_with(&prefix))
}

/// Decides the mode of a CreateVpnConnection on `gateway`: `true` for a
/// dual-tunnel connection. Refuses the combinations the cloud refuses (see
/// docs/api-decisions.md, "Dual tunnel / diagnostics").
pub(crate) fn create_mode(ctx: &Ctx<'_>, gateway: &VpnGateway) -> Result<bool, ApiError> {
    let tunnels = has_tunnel_options(ctx.params);
    if tunnels && ctx.opt("CustomerGatewayId").is_some() {
        return Err(ApiError::invalid_parameter_because(
            "CustomerGatewayId",
            "a dual-tunnel connection names its customer gateways per tunnel \
             (TunnelOptionsSpecification.N.CustomerGatewayId), not at the top level.",
        ));
    }
    if !is_dual_gateway(gateway) {
        if tunnels {
            return Err(ApiError::invalid_parameter_because(
                TOS,
                "the VPN gateway has no second public IP (it was created without \
                 DisasterRecoveryVSwitchId) and serves single-tunnel connections only.",
            ));
        }
        if ctx.params.bool("EnableTunnelsBgp")?.unwrap_or(false) {
            return Err(ApiError::invalid_parameter_because(
                "EnableTunnelsBgp",
                "tunnel BGP applies to dual-tunnel connections only; use BgpConfig.",
            ));
        }
        return Ok(false);
    }
    if !tunnels {
        return Err(ApiError::missing_parameter(TOS));
    }
    refuse_single_tunnel_settings(ctx)?;
    Ok(true)
}

/// A dual-tunnel connection refuses non-empty single-tunnel settings: they
/// would silently do nothing.
pub(crate) fn refuse_single_tunnel_settings(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    for name in SINGLE_TUNNEL_JSON {
        if let Some(text) = ctx.opt(name) {
            // Malformed JSON is reported by the JSON parser, as for single tunnels.
            let map = ike_json::object(name, text)?;
            if !map.is_empty() {
                return Err(ApiError::invalid_parameter_because(
                    name,
                    "a dual-tunnel connection is configured per tunnel in TunnelOptionsSpecification.",
                ));
            }
        }
    }
    if ctx.opt("RemoteCaCertificate").is_some() {
        return Err(ApiError::invalid_parameter_because(
            "RemoteCaCertificate",
            "a dual-tunnel connection takes it per tunnel \
             (TunnelOptionsSpecification.N.RemoteCaCertificate).",
        ));
    }
    Ok(())
}

/// The gateway side of the two tunnels: public IP and zone, master first.
#[derive(Debug, Clone)]
pub(crate) struct TunnelSide {
    pub internet_ip: String,
    pub zone_no: String,
}

/// Two different zones of the region for a gateway's two tunnels, chosen
/// from the gateway's id so that every connection of one gateway reports the
/// same pair. A region with a single zone gives it to both.
pub(crate) fn zones_for(region: &Region, gateway_id: &str) -> (String, String) {
    let n = region.zones.len();
    if n == 0 {
        return (String::new(), String::new());
    }
    let seed = gateway_id.bytes().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(b))
    });
    let first = seed % n;
    let second = if n > 1 { (first + 1) % n } else { first };
    (
        region.zones[first].id.to_owned(),
        region.zones[second].id.to_owned(),
    )
}

/// The master and slave sides of a dual-tunnel gateway.
pub(crate) fn gateway_sides(region: &Region, g: &VpnGateway) -> Result<[TunnelSide; 2], ApiError> {
    let slave_ip = g
        .disaster_recovery_internet_ip
        .clone()
        .ok_or_else(ApiError::internal)?;
    let (z1, z2) = zones_for(region, &g.id);
    Ok([
        TunnelSide {
            internet_ip: g.internet_ip.clone(),
            zone_no: z1,
        },
        TunnelSide {
            internet_ip: slave_ip,
            zone_no: z2,
        },
    ])
}

fn name(prefix: &str, field: &str) -> String {
    format!("{prefix}.{field}")
}

fn bool_field(p: &Params, prefix: &str, field: &str) -> Result<Option<bool>, ApiError> {
    match p.get(field) {
        None => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid_parameter(&name(prefix, field))),
    }
}

/// A flattened sub-object (`TunnelIkeConfig.*`) as the JSON map the
/// single-tunnel parsers read; values stay strings, which they accept.
fn sub_map(p: &Params, field: &str) -> Option<Map<String, Value>> {
    p.object(field).map(|o| {
        o.iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect()
    })
}

/// TunnelCidr blocks the cloud reserves for itself.
fn reserved_tunnel_cidr(cidr: &str) -> bool {
    let Ok(net) = cidr.parse::<ipnet::Ipv4Net>() else {
        return false;
    };
    let o = net.network().octets();
    (o[0], o[1]) == (169, 254) && ((o[2] <= 6 && o[3] == 0) || (o[2] == 169 && o[3] == 252))
}

/// Applies one tunnel's options (without `Role`, `TunnelId` and
/// `CustomerGatewayId`, which the callers handle) onto `t`.
fn apply_options(t: &mut Tunnel, p: &Params, prefix: &str) -> Result<(), ApiError> {
    if let Some(v) = bool_field(p, prefix, "EnableDpd")? {
        t.enable_dpd = v;
    }
    if let Some(v) = bool_field(p, prefix, "EnableNatTraversal")? {
        t.enable_nat_traversal = v;
    }
    if let Some(v) = p.get("RemoteCaCertificate") {
        t.remote_ca_certificate = (!v.is_empty()).then(|| v.to_owned());
    }
    if let Some(map) = sub_map(p, "TunnelIkeConfig") {
        ike_json::apply_ike(&mut t.ike, &map, &name(prefix, "TunnelIkeConfig"))?;
    }
    if let Some(map) = sub_map(p, "TunnelIpsecConfig") {
        ike_json::apply_ipsec(&mut t.ipsec, &map, &name(prefix, "TunnelIpsecConfig"))?;
    }
    if let Some(mut map) = sub_map(p, "TunnelBgpConfig") {
        // Tunnel BGP is switched on and off for both tunnels by EnableTunnelsBgp.
        map.remove("EnableBgp");
        map.remove("AuthKey");
        let field = name(prefix, "TunnelBgpConfig");
        ike_json::apply_bgp(&mut t.bgp, &map, &field)?;
        if t.bgp
            .tunnel_cidr
            .as_deref()
            .is_some_and(reserved_tunnel_cidr)
        {
            return Err(ApiError::invalid_parameter_because(
                &name(&field, "TunnelCidr"),
                "the cloud reserves 169.254.0.0/30 to 169.254.6.0/30 and 169.254.169.252/30.",
            ));
        }
    }
    Ok(())
}

/// The role of element `i` (0-based): its `Role`, else its `TunnelIndex`
/// (1 master, 2 slave: the attachment operations have no `Role`), else by
/// position.
fn role_of(p: &Params, i: usize) -> Result<TunnelRole, ApiError> {
    let prefix = format!("{TOS}.{}", i + 1);
    match p.get("Role").filter(|r| !r.is_empty()) {
        None => match p.get("TunnelIndex").filter(|v| !v.is_empty()) {
            Some("1") => Ok(TunnelRole::Master),
            Some("2") => Ok(TunnelRole::Slave),
            Some(_) => Err(ApiError::invalid_parameter(&name(&prefix, "TunnelIndex"))),
            None => Ok(if i == 0 {
                TunnelRole::Master
            } else {
                TunnelRole::Slave
            }),
        },
        Some(r) => {
            TunnelRole::parse(r).ok_or_else(|| ApiError::invalid_parameter(&name(&prefix, "Role")))
        }
    }
}

async fn load_cgw(ctx: &Ctx<'_>, id: &str) -> Result<CustomerGateway, ApiError> {
    Ok(customer_gateway::load(ctx, id).await?.value)
}

/// Builds the two tunnels of a new dual-tunnel connection from the request
/// and mirrors the master's settings onto the connection's top level.
/// `conn.enable_tunnels_bgp` must already hold the request's value.
pub(crate) async fn build_tunnels(
    ctx: &Ctx<'_>,
    sides: &[TunnelSide; 2],
    conn: &mut VpnConnection,
) -> Result<(), ApiError> {
    let elements = ctx.params.objects(TOS)?;
    if elements.len() != 2 {
        return Err(ApiError::invalid_parameter_because(
            TOS,
            "a dual-tunnel connection has exactly two tunnels, one master and one slave.",
        ));
    }
    let roles = [role_of(&elements[0], 0)?, role_of(&elements[1], 1)?];
    if roles[0] == roles[1] {
        return Err(ApiError::invalid_parameter_because(
            &format!("{TOS}.2.Role"),
            "a dual-tunnel connection has one master and one slave tunnel.",
        ));
    }
    let mut tunnels = Vec::with_capacity(2);
    for (i, p) in elements.iter().enumerate() {
        let prefix = format!("{TOS}.{}", i + 1);
        let role = roles[i];
        let index = if role == TunnelRole::Master { 1 } else { 2 };
        let side = &sides[usize::try_from(index - 1).unwrap_or(0)];
        let cgw_field = name(&prefix, "CustomerGatewayId");
        let cgw_id = p
            .get("CustomerGatewayId")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(&cgw_field))?;
        let cgw = load_cgw(ctx, cgw_id).await?;
        let mut t = Tunnel {
            id: new_id(IdKind::Tunnel, ""),
            index,
            role,
            customer_gateway_id: cgw.id.clone(),
            enable_dpd: true,
            enable_nat_traversal: true,
            remote_ca_certificate: None,
            ike: IkeConfig::defaults(
                side.internet_ip.clone(),
                cgw.ip_address.clone(),
                generate_psk(),
            ),
            ipsec: IpsecConfig::default(),
            bgp: BgpConfig::default(),
            zone_no: side.zone_no.clone(),
            internet_ip: side.internet_ip.clone(),
            status: STATUS_NOT_ESTABLISHED.to_owned(),
        };
        t.bgp.enable = conn.enable_tunnels_bgp;
        apply_options(&mut t, p, &prefix)?;
        t.bgp.peer_asn = cgw.asn;
        tunnels.push(t);
    }
    tunnels.sort_by_key(|t| t.index);
    conn.tunnels = tunnels;
    check_bgp(conn)?;
    apply_tunnel_bandwidth(ctx, conn)?;
    mirror_master(conn);
    Ok(())
}

/// With tunnel BGP on, each tunnel needs its /30 and its address in it, and
/// the two tunnels' blocks differ.
fn check_bgp(conn: &mut VpnConnection) -> Result<(), ApiError> {
    for t in &mut conn.tunnels {
        t.bgp.enable = conn.enable_tunnels_bgp;
        // The documented default, also while BGP is off: Describe shows it,
        // and Terraform sends back what it read (an absent LocalAsn would
        // come back as 0, which no tunnel may have).
        t.bgp.local_asn.get_or_insert(45104);
    }
    if !conn.enable_tunnels_bgp {
        return Ok(());
    }
    for t in &conn.tunnels {
        let prefix = format!("{TOS}.{}.TunnelBgpConfig", t.index);
        if t.bgp.tunnel_cidr.is_none() {
            return Err(ApiError::missing_parameter(&name(&prefix, "TunnelCidr")));
        }
        if t.bgp.local_bgp_ip.is_none() {
            return Err(ApiError::missing_parameter(&name(&prefix, "LocalBgpIp")));
        }
    }
    if let [a, b] = conn.tunnels.as_slice()
        && a.bgp.tunnel_cidr == b.bgp.tunnel_cidr
    {
        return Err(ApiError::invalid_parameter_because(
            &format!("{TOS}.2.TunnelBgpConfig.TunnelCidr"),
            "the two tunnels of a connection need different BGP CIDR blocks.",
        ));
    }
    Ok(())
}

/// `TunnelBandwidth` (`Standard`, 1 Gbit/s per tunnel, or `Large`, 3 Gbit/s),
/// in any case. The SDK's CreateVpnConnection has no such parameter (only
/// CreateVpnAttachment does); a raw request may still send it.
fn apply_tunnel_bandwidth(ctx: &Ctx<'_>, conn: &mut VpnConnection) -> Result<(), ApiError> {
    if let Some(v) = ctx.opt("TunnelBandwidth") {
        let class = ["Standard", "Large"]
            .into_iter()
            .find(|c| c.eq_ignore_ascii_case(v))
            .ok_or_else(|| ApiError::invalid_parameter("TunnelBandwidth"))?;
        conn.tunnel_bandwidth = Some(class.to_owned());
    }
    Ok(())
}

/// Copies the master tunnel's settings onto the single-tunnel fields.
pub(crate) fn mirror_master(conn: &mut VpnConnection) {
    let Some(master) = conn
        .tunnels
        .iter()
        .find(|t| t.role == TunnelRole::Master)
        .cloned()
    else {
        return;
    };
    conn.enable_dpd = master.enable_dpd;
    conn.enable_nat_traversal = master.enable_nat_traversal;
    conn.remote_ca_certificate = master.remote_ca_certificate;
    conn.ike = master.ike;
    conn.ipsec = master.ipsec;
    conn.bgp = master.bgp;
    conn.tunnel_bandwidth
        .get_or_insert_with(|| "Standard".into());
}

/// Another connection of the same gateway that uses one of `conn`'s
/// customer gateways in the same role: both tunnels would be the same pair
/// of addresses, which the cloud refuses and strongSwan cannot tell apart.
pub(crate) async fn clashing_connection(
    ctx: &Ctx<'_>,
    scope: &Scope,
    gateway_id: &str,
    conn: &VpnConnection,
) -> Result<Option<String>, ApiError> {
    for t in &conn.tunnels {
        let mut q = ListQuery::new(Kind::VpnConnection, scope.clone(), ctx.now_ms);
        q.parent_id = Some(gateway_id.to_owned());
        q.linked_to = Some(t.customer_gateway_id.clone());
        q.limit = 1000;
        let (others, _) = ctx
            .store()
            .list_typed::<VpnConnection>(&q)
            .await
            .map_err(internal)?;
        let clash = others.iter().filter(|o| o.id != conn.id).find(|o| {
            o.tunnels
                .iter()
                .any(|ot| ot.role == t.role && ot.customer_gateway_id == t.customer_gateway_id)
        });
        if let Some(o) = clash {
            return Ok(Some(o.id.clone()));
        }
    }
    Ok(None)
}

/// Applies ModifyVpnConnectionAttribute's `TunnelOptionsSpecification` and
/// `EnableTunnelsBgp` onto an opened dual-tunnel connection. Each element
/// names its tunnel by `TunnelId`, or by `Role` (Terraform sends only the
/// role).
pub(crate) async fn apply_modify(
    ctx: &Ctx<'_>,
    conn: &mut VpnConnection,
) -> Result<Vec<String>, ApiError> {
    let mut changed = Vec::new();
    let elements = ctx.params.objects(TOS)?;
    if conn.tunnels.is_empty() {
        if !elements.is_empty() {
            return Err(ApiError::invalid_parameter_because(
                TOS,
                "the connection is a single-tunnel connection.",
            ));
        }
        if ctx.params.bool("EnableTunnelsBgp")?.unwrap_or(false) {
            return Err(ApiError::invalid_parameter_because(
                "EnableTunnelsBgp",
                "tunnel BGP applies to dual-tunnel connections only; use BgpConfig.",
            ));
        }
        return Ok(changed);
    }
    if elements.len() > 2 {
        return Err(ApiError::invalid_parameter_because(
            TOS,
            "a dual-tunnel connection has exactly two tunnels.",
        ));
    }
    if let Some(v) = ctx.params.bool("EnableTunnelsBgp")? {
        conn.enable_tunnels_bgp = v;
    }
    let mut seen = Vec::new();
    for (i, p) in elements.iter().enumerate() {
        let prefix = format!("{TOS}.{}", i + 1);
        let pos = if let Some(id) = p.get("TunnelId").filter(|v| !v.is_empty()) {
            let pos = conn
                .tunnels
                .iter()
                .position(|t| t.id == id)
                .ok_or_else(errors::tunnel_not_found)?;
            if let Some(r) = p.get("Role").filter(|r| !r.is_empty())
                && TunnelRole::parse(r) != Some(conn.tunnels[pos].role)
            {
                return Err(ApiError::invalid_parameter_because(
                    &name(&prefix, "Role"),
                    "a tunnel's role cannot be changed.",
                ));
            }
            pos
        } else if let Some(r) = p.get("Role").filter(|r| !r.is_empty()) {
            let role = TunnelRole::parse(r)
                .ok_or_else(|| ApiError::invalid_parameter(&name(&prefix, "Role")))?;
            conn.tunnels
                .iter()
                .position(|t| t.role == role)
                .ok_or_else(errors::tunnel_not_found)?
        } else if let Some(ix) = p.get("TunnelIndex").filter(|v| !v.is_empty()) {
            // ModifyVpnAttachmentAttribute names a tunnel by its index.
            conn.tunnels
                .iter()
                .position(|t| t.index.to_string() == ix)
                .ok_or_else(errors::tunnel_not_found)?
        } else {
            return Err(ApiError::missing_parameter(&name(&prefix, "TunnelId")));
        };
        if seen.contains(&pos) {
            return Err(ApiError::invalid_parameter_because(
                &prefix,
                "the same tunnel is named twice.",
            ));
        }
        seen.push(pos);
        let t = &mut conn.tunnels[pos];
        apply_tunnel_change(ctx, t, p, &prefix).await?;
        changed.push(t.id.clone());
    }
    check_bgp(conn)?;
    apply_tunnel_bandwidth(ctx, conn)?;
    mirror_master(conn);
    Ok(changed)
}

/// One tunnel's change: a new customer gateway (moving the default
/// `RemoteId` along), then the options.
async fn apply_tunnel_change(
    ctx: &Ctx<'_>,
    t: &mut Tunnel,
    p: &Params,
    prefix: &str,
) -> Result<(), ApiError> {
    if let Some(id) = p.get("CustomerGatewayId").filter(|v| !v.is_empty())
        && id != t.customer_gateway_id
    {
        let old = load_cgw(ctx, &t.customer_gateway_id).await.ok();
        let cgw = load_cgw(ctx, id).await?;
        if old.is_some_and(|o| o.ip_address == t.ike.remote_id) {
            t.ike.remote_id = cgw.ip_address.clone();
        }
        t.customer_gateway_id = cgw.id.clone();
        t.bgp.peer_asn = cgw.asn;
    }
    apply_options(t, p, prefix)
}

// ---- secrets -------------------------------------------------------------------

fn psk_aad(connection_id: &str, tunnel_id: &str) -> String {
    format!("vpnconnection:{connection_id}:tunnel:{tunnel_id}:psk")
}

/// Seals the tunnels' PSKs of a connection about to be stored.
pub(crate) fn seal_tunnels(ctx: &Ctx<'_>, c: &mut VpnConnection) {
    for t in &mut c.tunnels {
        t.ike.psk = ctx.secrets().seal(&t.ike.psk, &psk_aad(&c.id, &t.id));
    }
}

/// The tunnels' PSKs of a stored connection, opened, in tunnel order.
pub(crate) fn opened_psks(ctx: &Ctx<'_>, c: &VpnConnection) -> Result<Vec<String>, ApiError> {
    c.tunnels
        .iter()
        .map(|t| ctx.secrets().open(&t.ike.psk, &psk_aad(&c.id, &t.id)))
        .collect()
}

/// Opens the tunnels' PSKs of a stored connection in place.
pub(crate) fn unseal_tunnels(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    for t in &mut c.tunnels {
        t.ike.psk = ctx.secrets().open(&t.ike.psk, &psk_aad(&c.id, &t.id))?;
    }
    Ok(())
}

// ---- responses with real types (Modify*) -----------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TypedIkeConfig {
    ike_version: &'static str,
    ike_mode: &'static str,
    ike_enc_alg: &'static str,
    ike_auth_alg: &'static str,
    ike_pfs: &'static str,
    ike_lifetime: i64,
    local_id: String,
    remote_id: String,
    psk: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TypedIpsecConfig {
    ipsec_enc_alg: &'static str,
    ipsec_auth_alg: &'static str,
    ipsec_pfs: &'static str,
    ipsec_lifetime: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TypedBgpConfig {
    /// ModifyTunnelAttribute only.
    #[serde(skip_serializing_if = "Option::is_none")]
    enable_bgp: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_asn: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_asn: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_bgp_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_bgp_ip: Option<String>,
}

/// A tunnel as ModifyVpnConnectionAttribute and ModifyTunnelAttribute answer
/// it: integers and booleans with their real types (unlike Describe*).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TypedTunnel {
    tunnel_id: String,
    role: &'static str,
    customer_gateway_id: String,
    enable_dpd: bool,
    enable_nat_traversal: bool,
    internet_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    remote_ca_certificate: Option<String>,
    state: String,
    zone_no: String,
    tunnel_ike_config: TypedIkeConfig,
    tunnel_ipsec_config: TypedIpsecConfig,
    tunnel_bgp_config: TypedBgpConfig,
}

impl TypedTunnel {
    /// `t` opened (plaintext PSK); `with_enable_bgp` adds
    /// `TunnelBgpConfig.EnableBgp` (ModifyTunnelAttribute's shape).
    pub(crate) fn of(t: &Tunnel, state: &str, with_enable_bgp: bool) -> TypedTunnel {
        TypedTunnel {
            tunnel_id: t.id.clone(),
            role: t.role.as_str(),
            customer_gateway_id: t.customer_gateway_id.clone(),
            enable_dpd: t.enable_dpd,
            enable_nat_traversal: t.enable_nat_traversal,
            internet_ip: t.internet_ip.clone(),
            remote_ca_certificate: t.remote_ca_certificate.clone(),
            state: state.to_owned(),
            zone_no: t.zone_no.clone(),
            tunnel_ike_config: TypedIkeConfig {
                ike_version: t.ike.version.as_str(),
                ike_mode: t.ike.mode.as_str(),
                ike_enc_alg: t.ike.enc_alg.as_str(),
                ike_auth_alg: t.ike.auth_alg.as_str(),
                ike_pfs: t.ike.pfs.as_str(),
                ike_lifetime: t.ike.lifetime_s,
                local_id: t.ike.local_id.clone(),
                remote_id: t.ike.remote_id.clone(),
                psk: t.ike.psk.clone(),
            },
            tunnel_ipsec_config: TypedIpsecConfig {
                ipsec_enc_alg: t.ipsec.enc_alg.as_str(),
                ipsec_auth_alg: t.ipsec.auth_alg.as_str(),
                ipsec_pfs: t.ipsec.pfs.as_str(),
                ipsec_lifetime: t.ipsec.lifetime_s,
            },
            tunnel_bgp_config: TypedBgpConfig {
                enable_bgp: with_enable_bgp.then_some(t.bgp.enable),
                local_asn: t.bgp.local_asn,
                peer_asn: t.bgp.peer_asn,
                tunnel_cidr: t.bgp.tunnel_cidr.clone(),
                local_bgp_ip: t.bgp.local_bgp_ip.clone(),
                peer_bgp_ip: t.bgp.peer_bgp_ip.clone(),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TypedTunnels {
    tunnel_options: Vec<TypedTunnel>,
}

/// ModifyVpnConnectionAttribute's `TunnelOptionsSpecification` of an opened
/// connection; `None` for single-tunnel connections.
pub(crate) fn typed_tunnels(c: &VpnConnection, now_ms: i64) -> Option<TypedTunnels> {
    let state = c.state.effective(now_ms);
    (!c.tunnels.is_empty()).then(|| TypedTunnels {
        tunnel_options: c
            .tunnels
            .iter()
            .map(|t| TypedTunnel::of(t, state, false))
            .collect(),
    })
}

// ---- ModifyTunnelAttribute ------------------------------------------------------

/// The scope of a request whose `RegionId` is optional (ModifyTunnelAttribute):
/// the region named, or the one encoded in the connection's id.
fn scope_for(ctx: &Ctx<'_>, connection_id: &str) -> Result<Scope, ApiError> {
    let region = match ctx.region {
        Some(r) => r,
        None => connection_id
            .strip_prefix("vco-")
            .and_then(|rest| rest.get(..3))
            .and_then(catalog::region_by_id_prefix)
            .ok_or_else(errors::vpn_connection_not_found)?,
    };
    Ok(Scope {
        account_id: ctx.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    })
}

pub async fn modify_tunnel_attribute(ctx: &Ctx<'_>) -> Reply {
    let connection_id = ctx.params.required("VpnConnectionId")?;
    let tunnel_id = ctx.params.required("TunnelId")?;
    let scope = scope_for(ctx, connection_id)?;
    let Versioned { value, version } = ctx
        .store()
        .get_typed::<VpnConnection>(&scope, connection_id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::vpn_connection_not_found)?;
    let pos = value
        .tunnels
        .iter()
        .position(|t| t.id == tunnel_id)
        .ok_or_else(errors::tunnel_not_found)?;
    let gateway_id = value.vpn_gateway_id.clone();
    if let Some(gid) = &gateway_id {
        let gateway = ctx
            .store()
            .get_typed::<VpnGateway>(&scope, gid)
            .await
            .map_err(internal)?
            .ok_or_else(errors::vpn_gateway_not_found)?;
        vpn_gateway::require_active(&gateway.value, ctx.now_ms)?;
    }
    let mut conn = value;
    super::connection::unseal(ctx, &mut conn)?;
    let before = conn.tunnels[pos].clone();
    if let Some(p) = ctx.params.object(TOS) {
        if let Some(r) = p.get("Role").filter(|r| !r.is_empty())
            && TunnelRole::parse(r) != Some(before.role)
        {
            return Err(ApiError::invalid_parameter_because(
                &name(TOS, "Role"),
                "a tunnel's role cannot be changed.",
            ));
        }
        apply_tunnel_change(ctx, &mut conn.tunnels[pos], &p, TOS).await?;
    }
    check_bgp(&mut conn)?;
    mirror_master(&mut conn);
    if let Some(gid) = &gateway_id
        && conn.tunnels[pos].customer_gateway_id != before.customer_gateway_id
        && clashing_connection(ctx, &scope, gid, &conn)
            .await?
            .is_some()
    {
        return Err(errors::connection_already_exists());
    }
    let opened = conn.clone();
    super::connection::seal(ctx, &mut conn);
    let after = &opened.tunnels[pos];
    let entries = vec![logs::entry(
        ctx,
        &scope,
        &opened.id,
        Some(&after.id),
        logs::tunnel_change(&before, after),
    )];
    let answer = reply(&TypedTunnel::of(
        after,
        opened.state.effective(ctx.now_ms),
        true,
    ))?;
    // The change, its log entry and its audit event commit together.
    ctx.store()
        .update_typed_with(
            &ctx.caller.account_id,
            &conn,
            version,
            ctx.trail(entries, &answer),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    Ok(ctx.audited(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_zones_per_gateway_stable_and_distinct() {
        let hz = catalog::region("cn-hangzhou").unwrap();
        for id in ["vpn-bp1aaa", "vpn-bp1bbb", "vpn-bp1ccc", "vpn-bp1ddd"] {
            let (a, b) = zones_for(hz, id);
            assert_ne!(a, b, "{id}");
            assert!(hz.zone(&a).is_some() && hz.zone(&b).is_some());
            assert_eq!(
                zones_for(hz, id),
                (a, b),
                "the same gateway, the same zones"
            );
        }
        let nanjing = catalog::region("cn-nanjing").unwrap();
        let (a, b) = zones_for(nanjing, "vpn-gc7x");
        assert_eq!(a, b, "a single-zone region gives its zone to both tunnels");
    }

    #[test]
    fn reserved_tunnel_blocks() {
        for r in ["169.254.0.0/30", "169.254.6.0/30", "169.254.169.252/30"] {
            assert!(reserved_tunnel_cidr(r), "{r}");
        }
        for ok in ["169.254.7.0/30", "169.254.0.4/30", "169.254.10.0/30"] {
            assert!(!reserved_tunnel_cidr(ok), "{ok}");
        }
    }
}
