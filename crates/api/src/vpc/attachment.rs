//! IPsec-VPN connections attached to transit routers: CreateVpnAttachment,
//! DescribeVpnAttachments, ModifyVpnAttachmentAttribute, DeleteVpnAttachment,
//! DescribeVpnCrossAccountAuthorizations.
//!
//! An attachment is a `vco-` connection without a VPN gateway: the same
//! record kind as a gateway's connections (so DescribeVpnConnection(s),
//! tags and routes see it), with `vpn_gateway_id: None` and an
//! `attachment` section for what a gateway would otherwise provide (its own
//! address and zone) and for the transit-router binding.

use serde::Serialize;
use serde_json::Value;
use vpngw_model::{
    Lifecycle, VpnConnection,
    connection::{Attachment, IkeConfig, generate_psk},
    ids::{IdKind, new_id},
    validate,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    connection, customer_gateway, ike_json, reply, resource_group, tags,
    tunnel::{self, TunnelSide, TypedTunnel},
    views::{IkeConfigView, IpsecConfigView, TagView, VcoHealthCheckView, VpnBgpConfigView},
    vpn_gateway::{id_list, random_ip},
};
use crate::{
    Ctx,
    actions::Reply,
    context::{internal, store_error},
    errors,
};

/// The only `AttachType` of attachments made here: for a CEN transit router.
pub const ATTACH_TYPE_CEN: &str = "CEN";
/// An attachment bound to no transit router (vpngw has no CEN to bind it
/// to): what Terraform accepts as settled next to `attached`.
pub const STATE_UNBOUND: &str = "init";

/// The fields DescribeVpnConnection(s) add for an attachment, as the seed shows them.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachmentFieldsView {
    pub attach_type: String,
    pub attach_instance_id: String,
    pub spec: String,
    pub zone_no: String,
    pub internet_ip: String,
    pub transit_router_id: String,
    pub transit_router_name: String,
    pub cross_account_authorized: bool,
}

/// `Spec` of an attachment: the bandwidth of its `TunnelBandwidth` class
/// (Standard 1 Gbit/s, Large 3 Gbit/s), in the `1000M` form.
pub fn spec(tunnel_bandwidth: Option<&str>) -> &'static str {
    match tunnel_bandwidth {
        Some(b) if b.eq_ignore_ascii_case("large") => "3000M",
        _ => "1000M",
    }
}

impl AttachmentFieldsView {
    pub fn of(a: &Attachment, tunnel_bandwidth: Option<&str>) -> AttachmentFieldsView {
        AttachmentFieldsView {
            attach_type: a.attach_type.clone(),
            attach_instance_id: a.attach_instance_id.clone().unwrap_or_default(),
            spec: spec(tunnel_bandwidth).to_owned(),
            zone_no: a.zone_no.clone(),
            internet_ip: a.internet_ip.clone(),
            transit_router_id: a.transit_router_id.clone().unwrap_or_default(),
            transit_router_name: a.transit_router_name.clone().unwrap_or_default(),
            cross_account_authorized: a.cross_account_authorized,
        }
    }
}

/// An attachment of the caller's, or the connection NotFound. A connection
/// of a VPN gateway named here is refused: it has its own operations.
async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VpnConnection>, ApiError> {
    let c = connection::load(ctx, id).await?;
    if !c.value.is_attachment() {
        return Err(ApiError::invalid_parameter_because(
            "VpnConnectionId",
            "the IPsec-VPN connection belongs to a VPN gateway; use the VpnConnection operations",
        ));
    }
    Ok(c)
}

fn subnets(ctx: &Ctx<'_>, name: &str) -> Result<Option<String>, ApiError> {
    match ctx.params.get(name) {
        None => Ok(None),
        Some(v) => validate::subnet_list(v)
            .map(|nets| Some(validate::join_subnets(&nets)))
            .map_err(|_| errors::illegal_subnet(name, v)),
    }
}

fn network_type(v: &str) -> Result<String, ApiError> {
    match v {
        "public" | "private" => Ok(v.to_owned()),
        _ => Err(ApiError::invalid_parameter("NetworkType")),
    }
}

/// `TunnelBandwidth`: `Standard` or `Large`, in any case (Terraform reads it
/// back case-insensitively); stored in the documented spelling.
fn tunnel_bandwidth(v: &str) -> Result<String, ApiError> {
    if v.eq_ignore_ascii_case("standard") {
        Ok("Standard".into())
    } else if v.eq_ignore_ascii_case("large") {
        Ok("Large".into())
    } else {
        Err(ApiError::invalid_parameter("TunnelBandwidth"))
    }
}

/// A dual-tunnel attachment is configured per tunnel: the single-tunnel
/// settings are refused as for connections (including `RemoteCaCert`, this
/// operation's name for the CA certificate), and so is a top-level
/// customer gateway.
fn refuse_single_tunnel_settings(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    tunnel::refuse_single_tunnel_settings(ctx)?;
    if ctx.opt("RemoteCaCert").is_some() {
        return Err(ApiError::invalid_parameter_because(
            "RemoteCaCert",
            "a dual-tunnel attachment is configured per tunnel in TunnelOptionsSpecification.",
        ));
    }
    Ok(())
}

/// The JSON-string parameters, as for connections (`HealthCheckConfig` keys
/// match without regard to case, see `ike_json::apply_health_check`).
fn apply_json_params(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    if let Some(text) = ctx.opt("IkeConfig") {
        let map = ike_json::object("IkeConfig", text)?;
        ike_json::apply_ike(&mut c.ike, &map, "IkeConfig")?;
    }
    if let Some(text) = ctx.opt("IpsecConfig") {
        let map = ike_json::object("IpsecConfig", text)?;
        ike_json::apply_ipsec(&mut c.ipsec, &map, "IpsecConfig")?;
    }
    if let Some(text) = ctx.opt("BgpConfig") {
        let map = ike_json::object("BgpConfig", text)?;
        ike_json::apply_bgp(&mut c.bgp, &map, "BgpConfig")?;
    }
    if let Some(text) = ctx.opt("HealthCheckConfig") {
        let map = ike_json::object("HealthCheckConfig", text)?;
        c.health_check =
            ike_json::apply_health_check(c.health_check.take(), &map, "HealthCheckConfig")?;
    }
    Ok(())
}

/// The flags and plain attributes both Create and Modify take.
fn apply_attributes(ctx: &Ctx<'_>, c: &mut VpnConnection) -> Result<(), ApiError> {
    let p = ctx.params;
    if let Some(v) = p.bool("EnableDpd")? {
        c.enable_dpd = v;
    }
    if let Some(v) = p.bool("EnableNatTraversal")? {
        c.enable_nat_traversal = v;
    }
    if let Some(v) = p.bool("EffectImmediately")? {
        c.effect_immediately = v;
    }
    if let Some(v) = p.bool("AutoConfigRoute")? {
        c.auto_config_route = v;
    }
    // CreateVpnAttachment names it `RemoteCaCert`, unlike CreateVpnConnection.
    if let Some(v) = p.get("RemoteCaCert") {
        c.remote_ca_certificate = (!v.is_empty()).then(|| v.to_owned());
    }
    if let Some(name) = p.get("Name") {
        if !name.is_empty() && !validate::loose_name(name) {
            return Err(errors::invalid_name());
        }
        c.name = name.to_owned();
    }
    if let Some(s) = subnets(ctx, "LocalSubnet")? {
        c.local_subnet = s;
    }
    if let Some(s) = subnets(ctx, "RemoteSubnet")? {
        c.remote_subnet = s;
    }
    if let (Some(v), Some(a)) = (ctx.opt("NetworkType"), c.attachment.as_mut()) {
        a.network_type = network_type(v)?;
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    code: &'static str,
    message: &'static str,
    success: bool,
    vpn_connection_id: String,
    name: String,
    create_time: i64,
}

/// CreateVpnAttachment: an IPsec-VPN connection with no VPN gateway, its
/// own address(es) and zone(s), ready to be bound to a transit router.
/// Single-tunnel (`CustomerGatewayId` and the JSON-string settings) or
/// dual-tunnel (`TunnelOptionsSpecification`, two tunnels named by
/// `TunnelIndex`, each on its own address in its own zone).
pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let region = ctx.region()?;
    let dual = tunnel::has_tunnel_options(ctx.params);
    let cgw = if dual {
        if ctx.opt("CustomerGatewayId").is_some() {
            return Err(ApiError::invalid_parameter_because(
                "CustomerGatewayId",
                "a dual-tunnel attachment names its customer gateways per tunnel \
                 (TunnelOptionsSpecification.N.CustomerGatewayId), not at the top level.",
            ));
        }
        refuse_single_tunnel_settings(ctx)?;
        None
    } else {
        if ctx.params.bool("EnableTunnelsBgp")?.unwrap_or(false) {
            return Err(ApiError::invalid_parameter_because(
                "EnableTunnelsBgp",
                "tunnel BGP applies to dual-tunnel attachments only; use BgpConfig.",
            ));
        }
        Some(customer_gateway::load(ctx, ctx.params.required("CustomerGatewayId")?).await?)
    };
    let local_subnet =
        subnets(ctx, "LocalSubnet")?.ok_or_else(|| ApiError::missing_parameter("LocalSubnet"))?;
    let remote_subnet =
        subnets(ctx, "RemoteSubnet")?.ok_or_else(|| ApiError::missing_parameter("RemoteSubnet"))?;
    let net = network_type(ctx.opt("NetworkType").unwrap_or("public"))?;
    let id = new_id(IdKind::VpnConnection, region.id_prefix);
    let pool = ctx.config().public_ip_pool;
    // The attachment's own side: one address and zone per tunnel.
    let (zone_1, zone_2) = tunnel::zones_for(region, &id);
    let sides = [
        TunnelSide {
            internet_ip: random_ip(pool),
            zone_no: zone_1,
        },
        TunnelSide {
            internet_ip: random_ip(pool),
            zone_no: zone_2,
        },
    ];
    let internet_ip = sides[0].internet_ip.clone();
    let mut conn = VpnConnection::single_tunnel(
        id,
        region.id.to_owned(),
        cgw.as_ref().map(|c| c.value.id.clone()).unwrap_or_default(),
        IkeConfig::defaults(
            internet_ip.clone(),
            cgw.as_ref()
                .map(|c| c.value.ip_address.clone())
                .unwrap_or_default(),
            generate_psk(),
        ),
        ctx.now_ms,
    );
    conn.local_subnet = local_subnet;
    conn.remote_subnet = remote_subnet;
    // Only CreateVpnAttachment takes TunnelBandwidth.
    conn.tunnel_bandwidth = Some(tunnel_bandwidth(
        ctx.opt("TunnelBandwidth").unwrap_or("Standard"),
    )?);
    conn.resource_group_id = resource_group::of_create(ctx.opt("ResourceGroupId"))?;
    conn.tags = tags::parse(ctx.params, "Tags")?;
    conn.state = Lifecycle::settled(STATE_UNBOUND);
    conn.attachment = Some(Attachment {
        attach_type: ATTACH_TYPE_CEN.into(),
        network_type: net,
        internet_ip,
        zone_no: sides[0].zone_no.clone(),
        attach_instance_id: None,
        transit_router_id: None,
        transit_router_name: None,
        cross_account_authorized: false,
    });
    apply_attributes(ctx, &mut conn)?;
    match &cgw {
        Some(cgw) => {
            apply_json_params(ctx, &mut conn)?;
            conn.bgp.peer_asn = cgw.value.asn;
        }
        None => {
            conn.customer_gateway_id = None;
            conn.enable_tunnels_bgp = ctx.params.bool("EnableTunnelsBgp")?.unwrap_or(false);
            tunnel::build_tunnels(ctx, &sides, &mut conn).await?;
        }
    }
    if ctx.params.bool("DryRun")?.unwrap_or(false) {
        return Err(errors::dry_run_passed());
    }
    connection::seal(ctx, &mut conn);
    let guard = InsertGuard {
        quota: None,
        idempotency: ctx.idempotency()?,
        unique: Vec::new(),
    };
    let inserted = ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &conn, guard)
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    let created = match inserted {
        Inserted::Created => conn,
        Inserted::Replayed { id } => connection::load(ctx, &id).await?.value,
    };
    reply(&Created {
        code: "200",
        message: "successful",
        success: true,
        vpn_connection_id: created.id,
        name: created.name,
        create_time: created.create_time_ms,
    })
}

/// One item of DescribeVpnAttachments (a summary; `Tags` is a plain list here).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentItem {
    instance_id: String,
    name: String,
    description: String,
    attach_type: String,
    transit_router_id: String,
    transit_router_name: String,
    cross_account_authorized: bool,
    tunnel_bandwidth: String,
    /// System tags; vpngw sets none.
    tag: &'static str,
    tags: Vec<TagView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AttachmentPage {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vpn_attachments: Vec<AttachmentItem>,
}

/// DescribeVpnAttachments: the caller's attachments (`AttachType` CEN, the
/// only value), optionally one `VpnConnectionId`, paged.
pub async fn describe_many(ctx: &Ctx<'_>) -> Reply {
    if let Some(t) = ctx.opt("AttachType")
        && t != ATTACH_TYPE_CEN
    {
        return Err(ApiError::invalid_parameter("AttachType"));
    }
    let (number, size) = ctx.page(50)?;
    let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(ctx.opt("VpnConnectionId"));
    q.fields
        .push(("attachment.attach_type", ATTACH_TYPE_CEN.to_owned()));
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (conns, total) = ctx
        .store()
        .list_typed::<VpnConnection>(&q)
        .await
        .map_err(internal)?;
    let items = conns
        .into_iter()
        .filter_map(|c| {
            let a = c.attachment?;
            Some(AttachmentItem {
                instance_id: c.id,
                name: c.name,
                description: String::new(),
                attach_type: a.attach_type,
                transit_router_id: a.transit_router_id.unwrap_or_default(),
                transit_router_name: a.transit_router_name.unwrap_or_default(),
                cross_account_authorized: a.cross_account_authorized,
                tunnel_bandwidth: c.tunnel_bandwidth.unwrap_or_default(),
                tag: "",
                tags: c
                    .tags
                    .into_iter()
                    .map(|t| TagView {
                        key: t.key,
                        value: t.value,
                    })
                    .collect(),
            })
        })
        .collect();
    reply(&AttachmentPage {
        total_count: total,
        page_number: number,
        page_size: size,
        vpn_attachments: items,
    })
}

/// ModifyVpnAttachmentAttribute's `TunnelOptionsSpecification`: a plain list
/// of the tunnels with their real types, each with its `TunnelIndex` and
/// without `ZoneNo` (the SDK model's shape); empty for a single-tunnel
/// attachment.
fn typed_tunnels(c: &VpnConnection, now_ms: i64) -> Result<Vec<Value>, ApiError> {
    let state = c.state.effective(now_ms);
    c.tunnels
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(TypedTunnel::of(t, state, false))
                .map_err(|_| ApiError::internal())?;
            if let Value::Object(map) = &mut v {
                map.insert("TunnelIndex".into(), Value::from(t.index));
                // Not in this operation's model (ModifyVpnConnectionAttribute has them).
                map.remove("ZoneNo");
                map.remove("RemoteCaCertificate");
            }
            Ok(v)
        })
        .collect()
}

/// ModifyVpnAttachmentAttribute's answer: the attachment as now configured
/// (single-tunnel: an empty `TunnelOptionsSpecification`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    vpn_connection_id: String,
    vpn_gateway_id: String,
    customer_gateway_id: String,
    name: String,
    description: String,
    local_subnet: String,
    remote_subnet: String,
    create_time: i64,
    effect_immediately: bool,
    enable_dpd: bool,
    enable_nat_traversal: bool,
    enable_tunnels_bgp: bool,
    network_type: String,
    attach_type: String,
    attach_instance_id: String,
    spec: String,
    status: String,
    resource_group_id: String,
    ike_config: IkeConfigView,
    ipsec_config: IpsecConfigView,
    vpn_bgp_config: VpnBgpConfigView,
    vco_health_check: VcoHealthCheckView,
    tunnel_options_specification: Vec<Value>,
}

/// ModifyVpnAttachmentAttribute: what CreateVpnAttachment set, and the
/// customer gateway. A RemoteId that was the old customer gateway's address
/// follows the new one.
pub async fn modify(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    let Versioned {
        value: mut conn,
        version,
    } = load(ctx, id).await?;
    if !conn.tunnels.is_empty() {
        refuse_single_tunnel_settings(ctx)?;
        if ctx.opt("CustomerGatewayId").is_some() {
            return Err(ApiError::invalid_parameter_because(
                "CustomerGatewayId",
                "a dual-tunnel attachment changes its customer gateways per tunnel \
                 (TunnelOptionsSpecification.N.CustomerGatewayId).",
            ));
        }
    }
    connection::unseal(ctx, &mut conn)?;
    if let Some(cgw_id) = ctx.opt("CustomerGatewayId")
        && conn.customer_gateway_id.as_deref() != Some(cgw_id)
    {
        let new = customer_gateway::load(ctx, cgw_id).await?;
        if let Some(old_id) = &conn.customer_gateway_id
            && let Ok(old) = customer_gateway::load(ctx, old_id).await
            && conn.ike.remote_id == old.value.ip_address
        {
            conn.ike.remote_id = new.value.ip_address.clone();
        }
        conn.customer_gateway_id = Some(new.value.id.clone());
        conn.bgp.peer_asn = new.value.asn;
    }
    apply_attributes(ctx, &mut conn)?;
    apply_json_params(ctx, &mut conn)?;
    // TunnelOptionsSpecification (tunnels named by TunnelId or TunnelIndex)
    // and EnableTunnelsBgp; refused on a single-tunnel attachment.
    tunnel::apply_modify(ctx, &mut conn).await?;
    let opened = conn.clone();
    connection::seal(ctx, &mut conn);
    ctx.store()
        .update_typed(&ctx.caller.account_id, &conn, version)
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    let a = opened.attachment.clone().unwrap_or_else(|| Attachment {
        attach_type: ATTACH_TYPE_CEN.into(),
        network_type: "public".into(),
        internet_ip: String::new(),
        zone_no: String::new(),
        attach_instance_id: None,
        transit_router_id: None,
        transit_router_name: None,
        cross_account_authorized: false,
    });
    let tunnels = typed_tunnels(&opened, ctx.now_ms)?;
    let health_status = if opened.health_check.as_ref().is_some_and(|h| h.enable) {
        "failed"
    } else {
        ""
    };
    reply(&Modified {
        ike_config: IkeConfigView::of(&opened.ike, opened.ike.psk.clone()),
        ipsec_config: IpsecConfigView::of(&opened.ipsec),
        vpn_bgp_config: VpnBgpConfigView::of(
            &opened.bgp,
            opened.bgp.auth_key.clone(),
            vpngw_model::dataplane::bgp_status(&opened, &opened.id),
        ),
        vco_health_check: VcoHealthCheckView::of(opened.health_check.as_ref(), health_status),
        spec: spec(opened.tunnel_bandwidth.as_deref()).to_owned(),
        vpn_connection_id: opened.id,
        vpn_gateway_id: String::new(),
        customer_gateway_id: opened.customer_gateway_id.unwrap_or_default(),
        name: opened.name,
        description: String::new(),
        local_subnet: opened.local_subnet,
        remote_subnet: opened.remote_subnet,
        create_time: opened.create_time_ms,
        effect_immediately: opened.effect_immediately,
        enable_dpd: opened.enable_dpd,
        enable_nat_traversal: opened.enable_nat_traversal,
        enable_tunnels_bgp: opened.enable_tunnels_bgp,
        network_type: a.network_type,
        attach_type: a.attach_type,
        attach_instance_id: a.attach_instance_id.unwrap_or_default(),
        status: opened.status,
        resource_group_id: opened.resource_group_id,
        tunnel_options_specification: tunnels,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Deleted {
    code: &'static str,
    message: &'static str,
    success: bool,
}

/// DeleteVpnAttachment. An attachment bound to a transit router would have
/// to be detached first; vpngw binds none, so every attachment can go.
pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    let conn = load(ctx, id).await?;
    if conn
        .value
        .attachment
        .as_ref()
        .is_some_and(|a| a.transit_router_id.is_some())
    {
        return Err(ApiError::invalid_parameter_because(
            "VpnConnectionId",
            "the IPsec-VPN connection is still attached to a transit router",
        ));
    }
    ctx.store()
        // Its routes go with it (routes::CASCADE).
        .delete_cascade(
            Kind::VpnConnection,
            &ctx.scope()?,
            id,
            super::routes::CASCADE,
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    reply(&Deleted {
        code: "200",
        message: "successful",
        success: true,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AuthorizationPage {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    cross_account_authorizations: Vec<Value>,
}

/// DescribeVpnCrossAccountAuthorizations: who else may bind this
/// connection to their transit router. vpngw has no cross-account binding,
/// so the list of an existing connection is always empty.
pub async fn describe_cross_account_authorizations(ctx: &Ctx<'_>) -> Reply {
    let (number, size) = ctx.page(50)?;
    connection::load(ctx, ctx.params.required("VpnConnectionId")?).await?;
    reply(&AuthorizationPage {
        total_count: 0,
        page_number: number,
        page_size: size,
        cross_account_authorizations: Vec::new(),
    })
}
