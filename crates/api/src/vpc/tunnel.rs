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

use vpngw_model::{
    CustomerGateway, VpnConnection, VpnGateway,
    catalog::{self, Region},
    connection::{
        BgpConfig, IkeConfig, IpsecConfig, STATUS_NOT_ESTABLISHED, Tunnel, TunnelRole, generate_psk,
    },
    ids::{IdKind, new_id},
};
use vpngw_ops::vpc::modify_tunnel_attribute as modify_tunnel_op;
use vpngw_protocol::ApiError;
use vpngw_store::{Kind, ListQuery, Scope, StoreExt, Versioned};

use super::{
    customer_gateway,
    draft::{ConnectionDraft, TOS, TunnelDraft, tunnel_bandwidth},
    given, ike_json, logs, reply, views, vpn_gateway,
};
use crate::{
    Ctx,
    context::{internal, store_error},
    errors,
};

/// Whether a VPN gateway serves dual-tunnel connections: it was created
/// with `DisasterRecoveryVSwitchId` and so has a second public IP.
pub(crate) fn is_dual_gateway(g: &VpnGateway) -> bool {
    g.disaster_recovery_internet_ip.is_some()
}

/// Decides the mode of a CreateVpnConnection on `gateway`: `true` for a
/// dual-tunnel connection. Refuses the combinations the cloud refuses (see
/// docs/api-decisions.md, "Dual tunnel / diagnostics").
pub(crate) fn create_mode(draft: &ConnectionDraft, gateway: &VpnGateway) -> Result<bool, ApiError> {
    let tunnels = draft.has_tunnels();
    if tunnels && given(&draft.customer_gateway_id).is_some() {
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
        if draft.enable_tunnels_bgp.unwrap_or(false) {
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
    draft.refuse_single_tunnel_settings()?;
    Ok(true)
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
fn apply_options(t: &mut Tunnel, d: &TunnelDraft) -> Result<(), ApiError> {
    if let Some(v) = d.enable_dpd {
        t.enable_dpd = v;
    }
    if let Some(v) = d.enable_nat_traversal {
        t.enable_nat_traversal = v;
    }
    if let Some(v) = &d.remote_ca_certificate {
        t.remote_ca_certificate = (!v.is_empty()).then(|| v.clone());
    }
    if let Some(map) = &d.ike {
        ike_json::apply_ike(&mut t.ike, map, &d.name("TunnelIkeConfig"))?;
    }
    if let Some(map) = &d.ipsec {
        ike_json::apply_ipsec(&mut t.ipsec, map, &d.name("TunnelIpsecConfig"))?;
    }
    if let Some(map) = &d.bgp {
        // Tunnel BGP is switched on and off for both tunnels by
        // EnableTunnelsBgp; the requests' TunnelBgpConfig has no EnableBgp.
        let field = d.name("TunnelBgpConfig");
        ike_json::apply_bgp(&mut t.bgp, map, &field)?;
        if t.bgp
            .tunnel_cidr
            .as_deref()
            .is_some_and(reserved_tunnel_cidr)
        {
            return Err(ApiError::invalid_parameter_because(
                &format!("{field}.TunnelCidr"),
                "the cloud reserves 169.254.0.0/30 to 169.254.6.0/30 and 169.254.169.252/30.",
            ));
        }
    }
    Ok(())
}

/// The role of element `d`, the `i`th (0-based): its `Role`, else its
/// `TunnelIndex` (1 master, 2 slave: the attachment operations have no
/// `Role`), else by position.
fn role_of(d: &TunnelDraft, i: usize) -> Result<TunnelRole, ApiError> {
    match given(&d.role) {
        None => match d.index {
            Some(1) => Ok(TunnelRole::Master),
            Some(2) => Ok(TunnelRole::Slave),
            Some(_) => Err(ApiError::invalid_parameter(&d.name("TunnelIndex"))),
            None => Ok(if i == 0 {
                TunnelRole::Master
            } else {
                TunnelRole::Slave
            }),
        },
        Some(r) => TunnelRole::parse(r).ok_or_else(|| ApiError::invalid_parameter(&d.name("Role"))),
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
    draft: &ConnectionDraft,
    conn: &mut VpnConnection,
) -> Result<(), ApiError> {
    let elements = &draft.tunnels;
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
    for (d, role) in elements.iter().zip(roles) {
        let index = if role == TunnelRole::Master { 1 } else { 2 };
        let side = &sides[usize::try_from(index - 1).unwrap_or(0)];
        let cgw_id = given(&d.customer_gateway_id)
            .ok_or_else(|| ApiError::missing_parameter(&d.name("CustomerGatewayId")))?;
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
        apply_options(&mut t, d)?;
        t.bgp.peer_asn = cgw.asn;
        tunnels.push(t);
    }
    tunnels.sort_by_key(|t| t.index);
    conn.tunnels = tunnels;
    check_bgp(conn)?;
    apply_tunnel_bandwidth(draft, conn)?;
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
            return Err(ApiError::missing_parameter(&format!("{prefix}.TunnelCidr")));
        }
        if t.bgp.local_bgp_ip.is_none() {
            return Err(ApiError::missing_parameter(&format!("{prefix}.LocalBgpIp")));
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

/// `TunnelBandwidth` of a dual-tunnel write, when given.
fn apply_tunnel_bandwidth(
    draft: &ConnectionDraft,
    conn: &mut VpnConnection,
) -> Result<(), ApiError> {
    if let Some(v) = given(&draft.tunnel_bandwidth) {
        conn.tunnel_bandwidth = Some(tunnel_bandwidth(v)?);
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

/// Applies ModifyVpnConnectionAttribute's (or ModifyVpnAttachmentAttribute's)
/// `TunnelOptionsSpecification` and `EnableTunnelsBgp` onto an opened
/// dual-tunnel connection. Each element names its tunnel by `TunnelId`, or
/// by `Role` (Terraform sends only the role), or by `TunnelIndex`.
pub(crate) async fn apply_modify(
    ctx: &Ctx<'_>,
    draft: &ConnectionDraft,
    conn: &mut VpnConnection,
) -> Result<(), ApiError> {
    let elements = &draft.tunnels;
    if conn.tunnels.is_empty() {
        if !elements.is_empty() {
            return Err(ApiError::invalid_parameter_because(
                TOS,
                "the connection is a single-tunnel connection.",
            ));
        }
        if draft.enable_tunnels_bgp.unwrap_or(false) {
            return Err(ApiError::invalid_parameter_because(
                "EnableTunnelsBgp",
                "tunnel BGP applies to dual-tunnel connections only; use BgpConfig.",
            ));
        }
        return Ok(());
    }
    if elements.len() > 2 {
        return Err(ApiError::invalid_parameter_because(
            TOS,
            "a dual-tunnel connection has exactly two tunnels.",
        ));
    }
    if let Some(v) = draft.enable_tunnels_bgp {
        conn.enable_tunnels_bgp = v;
    }
    let mut seen = Vec::new();
    for d in elements {
        let pos = if let Some(id) = given(&d.tunnel_id) {
            let pos = conn
                .tunnels
                .iter()
                .position(|t| t.id == id)
                .ok_or_else(errors::tunnel_not_found)?;
            if let Some(r) = given(&d.role)
                && TunnelRole::parse(r) != Some(conn.tunnels[pos].role)
            {
                return Err(ApiError::invalid_parameter_because(
                    &d.name("Role"),
                    "a tunnel's role cannot be changed.",
                ));
            }
            pos
        } else if let Some(r) = given(&d.role) {
            let role =
                TunnelRole::parse(r).ok_or_else(|| ApiError::invalid_parameter(&d.name("Role")))?;
            conn.tunnels
                .iter()
                .position(|t| t.role == role)
                .ok_or_else(errors::tunnel_not_found)?
        } else if let Some(ix) = d.index {
            // ModifyVpnAttachmentAttribute names a tunnel by its index.
            conn.tunnels
                .iter()
                .position(|t| t.index == ix)
                .ok_or_else(errors::tunnel_not_found)?
        } else {
            return Err(ApiError::missing_parameter(&d.name("TunnelId")));
        };
        if seen.contains(&pos) {
            return Err(ApiError::invalid_parameter_because(
                &d.prefix,
                "the same tunnel is named twice.",
            ));
        }
        seen.push(pos);
        apply_tunnel_change(ctx, &mut conn.tunnels[pos], d).await?;
    }
    check_bgp(conn)?;
    apply_tunnel_bandwidth(draft, conn)?;
    mirror_master(conn);
    Ok(())
}

/// One tunnel's change: a new customer gateway (moving the default
/// `RemoteId` along), then the options.
async fn apply_tunnel_change(
    ctx: &Ctx<'_>,
    t: &mut Tunnel,
    d: &TunnelDraft,
) -> Result<(), ApiError> {
    if let Some(id) = given(&d.customer_gateway_id)
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
    apply_options(t, d)
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

pub async fn modify_tunnel_attribute(
    ctx: &Ctx<'_>,
    req: modify_tunnel_op::Request,
) -> Result<modify_tunnel_op::Answer, ApiError> {
    let connection_id = req.vpn_connection_id.as_str();
    let tunnel_id = req.tunnel_id.as_str();
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
    if let Some(d) = TunnelDraft::of_modify_tunnel(&req) {
        apply_tunnel_change(ctx, &mut conn.tunnels[pos], &d).await?;
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
    let answer = views::typed_tunnel!(
        modify_tunnel_op::Answer, after, opened.state.effective(ctx.now_ms);
        zone_no: after.zone_no.clone(),
        remote_ca_certificate: after.remote_ca_certificate.clone(),
        tunnel_bgp_config: modify_tunnel_op::TunnelBgpConfig {
            enable_bgp: after.bgp.enable,
            local_asn: after.bgp.local_asn,
            peer_asn: after.bgp.peer_asn,
            tunnel_cidr: after.bgp.tunnel_cidr.clone(),
            local_bgp_ip: after.bgp.local_bgp_ip.clone(),
            peer_bgp_ip: after.bgp.peer_bgp_ip.clone(),
        },
    );
    // The change, its log entry and its audit event commit together.
    ctx.store()
        .update_typed_with(
            &ctx.caller.account_id,
            &conn,
            version,
            ctx.trail(entries, &reply(&answer)?),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    ctx.mark_audited();
    Ok(answer)
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
