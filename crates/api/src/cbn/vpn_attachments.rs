//! The transit router's attachments of IPsec-VPN connections
//! (CreateTransitRouterVpnAttachment … DeleteTransitRouterVpnAttachment).
//!
//! Creating one takes three writes, each undone if a later one is refused:
//! an address of the router's CIDR blocks (the router's document), the
//! attachment record (which holds the router and the connection), then the
//! connection's binding (`TransitRouterId`/`TransitRouterName` on its
//! DescribeVpnConnection, the check that no other router has it). Deleting
//! undoes them in the opposite order.

use vpngw_model::{
    Lifecycle, TransitRouterVpnAttachment, VpnConnection, catalog,
    ids::{IdKind, new_id},
};
use vpngw_ops::cbn::{
    create_transit_router_vpn_attachment as create_op,
    delete_transit_router_vpn_attachment as delete_op,
    list_transit_router_vpn_attachments as list_op,
    update_transit_router_vpn_attachment_attribute as update_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Scope, StoreError, StoreExt, Versioned};

use super::{
    cens::{self, ACTIVE},
    check_description, check_name, refuse_dry_run, settle_ms, tag_pairs, tags_match,
    transit_routers::{self, router_not_active},
};
use crate::{
    Ctx,
    context::{internal, store_error},
    errors,
    ram::iso8601,
    vpc::{tag_filters_of, tags},
};

const ATTACHED: &str = "Attached";
const ORDER_TYPES: [&str; 2] = ["PayByCenOwner", "PayByResourceOwner"];
const PREFIX: &str = "tr-attach-";

fn attachment_not_found() -> ApiError {
    ApiError::new(
        "InvalidTransitRouterAttachmentId.NotFound",
        "The specified TransitRouterAttachmentId does not exist.",
    )
}

/// The scope of an attachment: the call's region, else the one its id names
/// (`tr-attach-<region code>…`).
fn scope_of(ctx: &Ctx<'_>, id: &str) -> Result<Scope, ApiError> {
    let region = match ctx.region {
        Some(r) => r,
        None => id
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.get(..3))
            .and_then(catalog::region_by_id_prefix)
            .ok_or_else(attachment_not_found)?,
    };
    Ok(Scope {
        account_id: ctx.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    })
}

async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<TransitRouterVpnAttachment>, ApiError> {
    ctx.store()
        .get_typed::<TransitRouterVpnAttachment>(&scope_of(ctx, id)?, id)
        .await
        .map_err(internal)?
        .ok_or_else(attachment_not_found)
}

/// Binds (`Some`) or unbinds (`None`) the connection, by a versioned write of
/// its record in `scope`.
async fn bind(
    ctx: &Ctx<'_>,
    scope: &Scope,
    vpn_id: &str,
    to: Option<(&str, &str, &str)>,
) -> Result<(), ApiError> {
    for _ in 0..crate::rmw::ATTEMPTS {
        let Versioned { mut value, version } = ctx
            .store()
            .get_typed::<VpnConnection>(scope, vpn_id)
            .await
            .map_err(internal)?
            .ok_or_else(errors::vpn_connection_not_found)?;
        let Some(a) = value.attachment.as_mut() else {
            return Err(not_attachable());
        };
        match to {
            Some((cen, tr, name)) => {
                if a.transit_router_id.is_some() {
                    return Err(ApiError::new(
                        "IncorrectStatus.VpnConnection",
                        "The IPsec-VPN connection is already attached to a transit router.",
                    ));
                }
                a.attach_instance_id = Some(cen.to_owned());
                a.transit_router_id = Some(tr.to_owned());
                a.transit_router_name = Some(name.to_owned());
            }
            None => {
                a.attach_instance_id = None;
                a.transit_router_id = None;
                a.transit_router_name = None;
            }
        }
        match ctx
            .store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::VersionConflict) => continue,
            Err(e) => return Err(store_error(e, errors::vpn_connection_not_found)),
        }
    }
    Err(errors::task_conflict())
}

/// A connection of a VPN gateway cannot be attached: only those made with
/// CreateVpnAttachment can.
fn not_attachable() -> ApiError {
    ApiError::invalid_parameter_because(
        "VpnId",
        "only an IPsec-VPN connection made with CreateVpnAttachment (not bound to a VPN gateway) can be attached to a transit router",
    )
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    check_name(
        req.transit_router_attachment_name.as_deref(),
        "TransitRouterAttachmentName",
    )?;
    check_description(
        req.transit_router_attachment_description.as_deref(),
        "TransitRouterAttachmentDescription",
    )?;
    if let Some(c) = req.charge_type.as_deref()
        && c != "POSTPAY"
    {
        return Err(ApiError::invalid_parameter("ChargeType"));
    }
    let owner: i64 = ctx.caller.account_id.parse().unwrap_or_default();
    if req.vpn_owner_id.is_some_and(|o| o != owner) {
        return Err(ApiError::invalid_parameter_because(
            "VpnOwnerId",
            "vpngw attaches only the caller's own connections",
        ));
    }
    // The router: named, or the CEN instance's in the region.
    let tr_id = match (
        req.transit_router_id.as_deref().filter(|t| !t.is_empty()),
        req.cen_id.as_deref().filter(|c| !c.is_empty()),
    ) {
        (Some(tr), _) => tr.to_owned(),
        (None, Some(cen)) => {
            let region = ctx.region()?;
            let cen = cens::load(ctx, cen).await?.value;
            cen.transit_routers
                .iter()
                .find(|(r, _)| r == region.id)
                .map(|(_, id)| id.clone())
                .ok_or_else(transit_routers::router_not_found)?
        }
        (None, None) => return Err(ApiError::missing_parameter("TransitRouterId")),
    };
    let tr = transit_routers::load(ctx, &tr_id).await?.value;
    if req
        .cen_id
        .as_deref()
        .is_some_and(|c| !c.is_empty() && c != tr.cen_id)
    {
        return Err(ApiError::invalid_parameter_because(
            "CenId",
            "the transit router belongs to another CEN instance",
        ));
    }
    if tr.lifecycle.effective(ctx.now_ms) != ACTIVE {
        return Err(router_not_active());
    }
    let region = catalog::region(&tr.region_id).ok_or_else(ApiError::internal)?;
    let scope = Scope {
        account_id: ctx.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    };
    let mut zones = Vec::new();
    for z in &req.zone {
        let zone = z.zone_id.as_deref().unwrap_or("");
        if region.zone(zone).is_none() {
            return Err(ApiError::invalid_parameter("Zone.ZoneId"));
        }
        zones.push(zone.to_owned());
    }
    let conn = ctx
        .store()
        .get_typed::<VpnConnection>(&scope, &req.vpn_id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::vpn_connection_not_found)?
        .value;
    match &conn.attachment {
        None => return Err(not_attachable()),
        Some(a) if a.transit_router_id.is_some() => {
            return Err(ApiError::new(
                "IncorrectStatus.VpnConnection",
                "The IPsec-VPN connection is already attached to a transit router.",
            ));
        }
        Some(_) => {}
    }
    let tags = tags::of_request(&req.tag)?;
    refuse_dry_run(req.dry_run)?;
    let id = new_id(IdKind::TransitRouterAttachment, region.id_prefix);
    // 1. An address of the router's blocks (none yet: Terraform retries
    //    `OperationFailed.AllocateCidrFailed` until a block exists).
    let allocated = transit_routers::change(ctx, &tr.id, |t| {
        t.allocate(&id).map(|_| ()).ok_or_else(|| {
            ApiError::new(
                "OperationFailed.AllocateCidrFailed",
                "No address of the transit router's CIDR blocks is free: add a CIDR block first.",
            )
        })
    })
    .await?;
    let address = allocated
        .cidrs
        .iter()
        .flat_map(|c| c.allocated_to.iter())
        .find(|(a, _)| a == &id)
        .map(|(_, addr)| *addr);
    let attachment = TransitRouterVpnAttachment {
        id: id.clone(),
        region_id: region.id.to_owned(),
        cen_id: tr.cen_id.clone(),
        transit_router_id: tr.id.clone(),
        vpn_id: conn.id.clone(),
        vpn_owner_id: owner,
        name: req.transit_router_attachment_name.unwrap_or_default(),
        description: req
            .transit_router_attachment_description
            .unwrap_or_default(),
        auto_publish_route_enabled: req.auto_publish_route_enabled.unwrap_or(false),
        charge_type: "POSTPAY".into(),
        order_type: "PayByCenOwner".into(),
        zones,
        address,
        resource_group_id: tr.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        lifecycle: Lifecycle::transition("Attaching", settle_ms(ctx), ATTACHED),
        tags,
    };
    let release = || async {
        let _ = transit_routers::change(ctx, &tr.id, |t| {
            t.release(&id);
            Ok(())
        })
        .await;
    };
    // 2. The record, holding the router and the connection.
    let guard = InsertGuard {
        idempotency: ctx.idempotency()?,
        ..InsertGuard::default()
    };
    match ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &attachment, guard)
        .await
    {
        Ok(Inserted::Created) => {}
        Ok(Inserted::Replayed { id: earlier }) => {
            release().await;
            return Ok(create_op::Answer {
                transit_router_attachment_id: earlier,
            });
        }
        Err(e) => {
            release().await;
            return Err(store_error(e, errors::vpn_connection_not_found));
        }
    }
    // 3. The connection's binding.
    if let Err(e) = bind(ctx, &scope, &conn.id, Some((&tr.cen_id, &tr.id, &tr.name))).await {
        let _ = ctx
            .store()
            .delete(Kind::TransitRouterAttachment, &scope, &id)
            .await;
        release().await;
        return Err(e);
    }
    Ok(create_op::Answer {
        transit_router_attachment_id: id,
    })
}

/// ListTransitRouterVpnAttachments: the region's attachments, filtered by
/// `TransitRouterAttachmentId`, `TransitRouterId`, `CenId` and `Tag.N`;
/// `MaxResults` 1–100 (default 20), `NextToken` the offset of the next page.
pub async fn list(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let max = req.max_results.unwrap_or(20);
    if !(1..=100).contains(&max) {
        return Err(ApiError::invalid_parameter("MaxResults"));
    }
    let offset: usize = match req.next_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => t
            .parse()
            .map_err(|_| ApiError::invalid_parameter("NextToken"))?,
    };
    let mut q = ListQuery::new(Kind::TransitRouterAttachment, ctx.scope()?, ctx.now_ms);
    q.limit = super::LIST_ALL;
    if let Some(id) = req
        .transit_router_attachment_id
        .as_deref()
        .filter(|i| !i.is_empty())
    {
        q.ids = vec![id.to_owned()];
    }
    if let Some(tr) = req.transit_router_id.as_deref().filter(|t| !t.is_empty()) {
        q.fields.push(("transit_router_id", tr.to_owned()));
    }
    if let Some(cen) = req.cen_id.as_deref().filter(|c| !c.is_empty()) {
        q.fields.push(("cen_id", cen.to_owned()));
    }
    let tag_filters = tag_filters_of(&req.tag);
    let (all, _) = ctx
        .store()
        .list_typed::<TransitRouterVpnAttachment>(&q)
        .await
        .map_err(internal)?;
    let kept: Vec<&TransitRouterVpnAttachment> = all
        .iter()
        .filter(|a| tags_match(&a.tags, &tag_filters))
        .collect();
    let total = kept.len();
    let page: Vec<list_op::TransitRouterAttachments> = kept
        .into_iter()
        .skip(offset)
        .take(max as usize)
        .map(|a| list_op::TransitRouterAttachments {
            auto_publish_route_enabled: a.auto_publish_route_enabled,
            cen_id: a.cen_id.clone(),
            charge_type: a.charge_type.clone(),
            creation_time: iso8601(a.create_time_ms),
            order_type: a.order_type.clone(),
            resource_type: "VPN".into(),
            status: a.lifecycle.effective(ctx.now_ms).to_owned(),
            tags: tag_pairs(&a.tags)
                .map(|(key, value)| list_op::Tags { key, value })
                .collect(),
            transit_router_attachment_description: a.description.clone(),
            transit_router_attachment_id: a.id.clone(),
            transit_router_attachment_name: a.name.clone(),
            transit_router_id: a.transit_router_id.clone(),
            vpn_id: a.vpn_id.clone(),
            vpn_owner_id: a.vpn_owner_id,
            vpn_region_id: a.region_id.clone(),
            zones: a
                .zones
                .iter()
                .map(|z| list_op::Zones { zone_id: z.clone() })
                .collect(),
        })
        .collect();
    let next = offset + page.len();
    Ok(list_op::Answer {
        max_results: max,
        next_token: if next < total {
            next.to_string()
        } else {
            String::new()
        },
        total_count: total as i64,
        transit_router_attachments: page,
    })
}

pub async fn update(ctx: &Ctx<'_>, req: update_op::Request) -> Result<update_op::Answer, ApiError> {
    check_name(
        req.transit_router_attachment_name.as_deref(),
        "TransitRouterAttachmentName",
    )?;
    check_description(
        req.transit_router_attachment_description.as_deref(),
        "TransitRouterAttachmentDescription",
    )?;
    if let Some(o) = req.order_type.as_deref()
        && !ORDER_TYPES.contains(&o)
    {
        return Err(ApiError::invalid_parameter("OrderType"));
    }
    let id = req.transit_router_attachment_id.as_str();
    for _ in 0..crate::rmw::ATTEMPTS {
        let Versioned { mut value, version } = load(ctx, id).await?;
        if value.lifecycle.effective(ctx.now_ms) != ATTACHED {
            return Err(router_not_active());
        }
        refuse_dry_run(req.dry_run)?;
        value.lifecycle.settle(ctx.now_ms);
        if let Some(n) = &req.transit_router_attachment_name {
            value.name = n.clone();
        }
        if let Some(d) = &req.transit_router_attachment_description {
            value.description = d.clone();
        }
        if let Some(a) = req.auto_publish_route_enabled {
            value.auto_publish_route_enabled = a;
        }
        if let Some(o) = &req.order_type {
            value.order_type = o.clone();
        }
        match ctx
            .store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
        {
            Ok(_) => return Ok(update_op::Answer {}),
            Err(StoreError::VersionConflict) => continue,
            Err(e) => return Err(store_error(e, attachment_not_found)),
        }
    }
    Err(errors::task_conflict())
}

/// DeleteTransitRouterVpnAttachment: the record goes, then the connection is
/// unbound and the address given back. An unknown id is 404
/// `InvalidTransitRouterAttachmentId.NotFound` (Terraform's delete treats
/// NotFound as done).
pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let id = req.transit_router_attachment_id.as_str();
    let a = load(ctx, id).await?.value;
    if a.lifecycle.effective(ctx.now_ms) != ATTACHED {
        return Err(router_not_active());
    }
    refuse_dry_run(req.dry_run)?;
    let scope = scope_of(ctx, id)?;
    ctx.store()
        .delete(Kind::TransitRouterAttachment, &scope, id)
        .await
        .map_err(|e| store_error(e, attachment_not_found))?;
    match bind(ctx, &scope, &a.vpn_id, None).await {
        Ok(()) => {}
        Err(e) if e.code == "InvalidVpnConnectionInstanceId.NotFound" => {}
        Err(e) => return Err(e),
    }
    match transit_routers::change(ctx, &a.transit_router_id, |t| {
        t.release(id);
        Ok(())
    })
    .await
    {
        Ok(_) => {}
        Err(e) if e.code == "ParameterInstanceId" => {}
        Err(e) => return Err(e),
    }
    Ok(delete_op::Answer {})
}
