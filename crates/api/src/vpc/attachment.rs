//! IPsec-VPN connections attached to transit routers: CreateVpnAttachment,
//! DescribeVpnAttachments, ModifyVpnAttachmentAttribute, DeleteVpnAttachment,
//! DescribeVpnCrossAccountAuthorizations.
//!
//! An attachment is a `vco-` connection without a VPN gateway: the same
//! record kind as a gateway's connections (so DescribeVpnConnection(s),
//! tags and routes see it), with `vpn_gateway_id: None` and an
//! `attachment` section for what a gateway would otherwise provide (its own
//! address and zone) and for the transit-router binding.

use vpngw_model::{
    Lifecycle, VpnConnection,
    connection::{Attachment, IkeConfig, generate_psk},
    ids::{IdKind, new_id},
};
use vpngw_ops::vpc::{
    create_vpn_attachment as create_op, delete_vpn_attachment as delete_op,
    describe_vpn_attachments as list_op,
    describe_vpn_cross_account_authorizations as authorizations_op,
    modify_vpn_attachment_attribute as modify_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    connection, customer_gateway,
    draft::{ConnectionDraft, network_type, subnets, tunnel_bandwidth},
    given, resource_group, tags,
    tunnel::{self, TunnelSide},
    views::{self, connection_fields, health_check, typed_tunnel},
    vpn_gateway::{id_list, random_ip},
};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    errors,
};

/// The only `AttachType` of attachments made here: for a CEN transit router.
pub const ATTACH_TYPE_CEN: &str = "CEN";
/// An attachment bound to no transit router (vpngw has no CEN to bind it
/// to): what Terraform accepts as settled next to `attached`.
pub const STATE_UNBOUND: &str = "init";

/// `Spec` of an attachment: the bandwidth of its `TunnelBandwidth` class
/// (Standard 1 Gbit/s, Large 3 Gbit/s), in the `1000M` form.
pub fn spec(tunnel_bandwidth: Option<&str>) -> &'static str {
    match tunnel_bandwidth {
        Some(b) if b.eq_ignore_ascii_case("large") => "3000M",
        _ => "1000M",
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

/// A dual-tunnel attachment is configured per tunnel: the single-tunnel
/// settings are refused as for connections (`RemoteCaCert` is this
/// operation's name for the CA certificate), and so is a top-level customer
/// gateway.
fn refuse_single_tunnel_settings(draft: &ConnectionDraft, why: &str) -> Result<(), ApiError> {
    draft.refuse_single_tunnel_settings()?;
    if given(&draft.customer_gateway_id).is_some() {
        return Err(ApiError::invalid_parameter_because(
            "CustomerGatewayId",
            why,
        ));
    }
    Ok(())
}

fn created(c: &VpnConnection) -> create_op::Answer {
    create_op::Answer {
        code: "200".into(),
        message: "successful".into(),
        success: true,
        vpn_connection_id: c.id.clone(),
        name: c.name.clone(),
        create_time: c.create_time_ms,
    }
}

/// CreateVpnAttachment: an IPsec-VPN connection with no VPN gateway, its
/// own address(es) and zone(s), ready to be bound to a transit router.
/// Single-tunnel (`CustomerGatewayId` and the JSON-string settings) or
/// dual-tunnel (`TunnelOptionsSpecification`, two tunnels named by
/// `TunnelIndex`, each on its own address in its own zone).
pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let region = ctx.region()?;
    let draft = ConnectionDraft::of_create_attachment(ctx, &req)?;
    let dual = draft.has_tunnels();
    let cgw = if dual {
        // The top-level customer gateway is refused first, as before the
        // single-tunnel settings.
        if given(&draft.customer_gateway_id).is_some() {
            return Err(ApiError::invalid_parameter_because(
                "CustomerGatewayId",
                "a dual-tunnel attachment names its customer gateways per tunnel \
                 (TunnelOptionsSpecification.N.CustomerGatewayId), not at the top level.",
            ));
        }
        draft.refuse_single_tunnel_settings()?;
        None
    } else {
        if draft.enable_tunnels_bgp.unwrap_or(false) {
            return Err(ApiError::invalid_parameter_because(
                "EnableTunnelsBgp",
                "tunnel BGP applies to dual-tunnel attachments only; use BgpConfig.",
            ));
        }
        let id = given(&req.customer_gateway_id)
            .ok_or_else(|| ApiError::missing_parameter("CustomerGatewayId"))?;
        Some(customer_gateway::load(ctx, id).await?)
    };
    let local_subnet = subnets("LocalSubnet", Some(&req.local_subnet))?
        .ok_or_else(|| ApiError::missing_parameter("LocalSubnet"))?;
    let remote_subnet = subnets("RemoteSubnet", Some(&req.remote_subnet))?
        .ok_or_else(|| ApiError::missing_parameter("RemoteSubnet"))?;
    let net = network_type(given(&req.network_type).unwrap_or("public"))?;
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
        given(&req.tunnel_bandwidth).unwrap_or("Standard"),
    )?);
    conn.resource_group_id = resource_group::of_create(req.resource_group_id.as_deref())?;
    conn.tags = tags::of_request(&req.tags)?;
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
    draft.apply_attributes(&mut conn)?;
    match &cgw {
        Some(cgw) => {
            draft.apply_json(&mut conn)?;
            conn.bgp.peer_asn = cgw.value.asn;
        }
        None => {
            conn.customer_gateway_id = None;
            conn.enable_tunnels_bgp = draft.enable_tunnels_bgp.unwrap_or(false);
            tunnel::build_tunnels(ctx, &sides, &draft, &mut conn).await?;
        }
    }
    if req.dry_run.unwrap_or(false) {
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
    match inserted {
        Inserted::Created => Ok(created(&conn)),
        Inserted::Replayed { id } => Ok(created(&connection::load(ctx, &id).await?.value)),
    }
}

/// DescribeVpnAttachments: the caller's attachments (`AttachType` CEN, the
/// only value), optionally one `VpnConnectionId`, paged.
pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: list_op::Request,
) -> Result<list_op::Answer, ApiError> {
    if let Some(t) = given(&req.attach_type)
        && t != ATTACH_TYPE_CEN
    {
        return Err(ApiError::invalid_parameter("AttachType"));
    }
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(given(&req.vpn_connection_id));
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
            Some(list_op::VpnAttachments {
                instance_id: c.id,
                name: c.name,
                description: String::new(),
                attach_type: a.attach_type,
                transit_router_id: a.transit_router_id.unwrap_or_default(),
                transit_router_name: a.transit_router_name.unwrap_or_default(),
                cross_account_authorized: a.cross_account_authorized,
                tunnel_bandwidth: c.tunnel_bandwidth.unwrap_or_default(),
                // System tags; vpngw sets none. `Tags` is a plain list here.
                tag: String::new(),
                tags: views::tags(&c.tags).tag,
            })
        })
        .collect();
    Ok(list_op::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        vpn_attachments: items,
    })
}

/// ModifyVpnAttachmentAttribute: what CreateVpnAttachment set, and the
/// customer gateway. A RemoteId that was the old customer gateway's address
/// follows the new one.
pub async fn modify(ctx: &Ctx<'_>, req: modify_op::Request) -> Result<modify_op::Answer, ApiError> {
    let draft = ConnectionDraft::of_modify_attachment(ctx, &req)?;
    let Versioned {
        value: mut conn,
        version,
    } = load(ctx, &req.vpn_connection_id).await?;
    if !conn.tunnels.is_empty() {
        refuse_single_tunnel_settings(
            &draft,
            "a dual-tunnel attachment changes its customer gateways per tunnel \
             (TunnelOptionsSpecification.N.CustomerGatewayId).",
        )?;
    }
    connection::unseal(ctx, &mut conn)?;
    if let Some(cgw_id) = given(&draft.customer_gateway_id)
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
    draft.apply_attributes(&mut conn)?;
    draft.apply_json(&mut conn)?;
    // TunnelOptionsSpecification (tunnels named by TunnelId or TunnelIndex)
    // and EnableTunnelsBgp; refused on a single-tunnel attachment.
    tunnel::apply_modify(ctx, &draft, &mut conn).await?;
    let opened = conn.clone();
    connection::seal(ctx, &mut conn);
    ctx.store()
        .update_typed(&ctx.caller.account_id, &conn, version)
        .await
        .map_err(|e| store_error(e, errors::vpn_connection_not_found))?;
    Ok(modified(&opened, ctx.now_ms))
}

/// ModifyVpnAttachmentAttribute's answer: the opened attachment as now
/// configured; its tunnels (none for a single-tunnel attachment) a plain
/// list with their real types.
fn modified(c: &VpnConnection, now_ms: i64) -> modify_op::Answer {
    let state = c.state.effective(now_ms);
    let a = c.attachment.as_ref();
    connection_fields!(
        modify_op::Answer, c;
        customer_gateway_id: c.customer_gateway_id.clone().unwrap_or_default(),
        description: String::new(),
        network_type: a.map_or("public", |a| a.network_type.as_str()).to_owned(),
        attach_type: a
            .map_or(ATTACH_TYPE_CEN, |a| a.attach_type.as_str())
            .to_owned(),
        attach_instance_id: a
            .and_then(|a| a.attach_instance_id.clone())
            .unwrap_or_default(),
        spec: spec(c.tunnel_bandwidth.as_deref()).to_owned(),
        status: c.status.clone(),
        ike_config: views::ike(&c.ike, c.ike.psk.clone()),
        vpn_bgp_config: views::modified_bgp(c),
        vco_health_check: health_check!(
            modify_op::VcoHealthCheck, c.health_check.as_ref();
            policy: c.health_check.as_ref().map(|h| h.policy.as_str().to_owned()),
        ),
        tunnel_options_specification: c
            .tunnels
            .iter()
            .map(|t| {
                typed_tunnel!(
                    modify_op::TunnelOptionsSpecification, t, state;
                    tunnel_index: t.index,
                    tunnel_bgp_config: views::tunnel_bgp(&t.bgp),
                )
            })
            .collect(),
    )
}

/// DeleteVpnAttachment. An attachment bound to a transit router would have
/// to be detached first; vpngw binds none, so every attachment can go.
pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let id = req.vpn_connection_id.as_str();
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
    Ok(delete_op::Answer {
        code: "200".into(),
        message: "successful".into(),
        success: true,
    })
}

/// DescribeVpnCrossAccountAuthorizations: who else may bind this
/// connection to their transit router. vpngw has no cross-account binding,
/// so the list of an existing connection is always empty.
pub async fn describe_cross_account_authorizations(
    ctx: &Ctx<'_>,
    req: authorizations_op::Request,
) -> Result<authorizations_op::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    connection::load(ctx, &req.vpn_connection_id).await?;
    Ok(authorizations_op::Answer {
        total_count: 0,
        page_number: number,
        page_size: size,
        cross_account_authorizations: Vec::new(),
    })
}
