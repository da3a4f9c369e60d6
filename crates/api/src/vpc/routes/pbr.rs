//! Policy-based routes of a VPN gateway: CreateVpnPbrRouteEntry,
//! DeleteVpnPbrRouteEntry, DescribeVpnPbrRouteEntries and the three
//! Modify calls (weight, priority, both).
//!
//! A policy-based route is named by source, destination and next hop; the
//! calls also carry the route's current `Weight` (and optionally `Priority`),
//! which must match it.

use vpngw_model::{VpnPbrRoute, routes::DEFAULT_PRIORITY};
use vpngw_ops::vpc::{
    create_vpn_pbr_route_entry as create_op, delete_vpn_pbr_route_entry as delete_op,
    describe_vpn_pbr_route_entries as list_op,
    modify_vpn_pbr_route_entry_attribute as attribute_op,
    modify_vpn_pbr_route_entry_priority as priority_op,
    modify_vpn_pbr_route_entry_weight as weight_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    ROUTES_PER_TABLE, active_gateway, cidr, delete_route, description, gateway_task, insert_error,
    insert_route, load_route, next_hop, overlay_mode, page, priority, refuse_dry_run, save_route,
    weight,
};
use crate::{Ctx, context::internal, errors, vpc::vpn_gateway};

/// The cloud keeps one active route per source and destination: a second
/// route of weight 100 for the same pair is refused (the standby has 0).
async fn check_single_active(ctx: &Ctx<'_>, route: &VpnPbrRoute) -> Result<(), ApiError> {
    if route.weight != 100 {
        return Ok(());
    }
    let mut q = ListQuery::new(Kind::VpnPbrRoute, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(route.vpn_gateway_id.clone());
    q.fields.push(("route_source", route.route_source.clone()));
    q.fields.push(("route_dest", route.route_dest.clone()));
    q.limit = u64::from(ROUTES_PER_TABLE) * 50;
    let (others, _) = ctx
        .store()
        .list_typed::<VpnPbrRoute>(&q)
        .await
        .map_err(internal)?;
    if others.iter().any(|o| o.id != route.id && o.weight == 100) {
        return Err(ApiError::invalid_parameter_because(
            "Weight",
            "another policy-based route with the same source and destination CIDR blocks already has weight 100; give the standby route weight 0.",
        ));
    }
    Ok(())
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let source = cidr("RouteSource", &req.route_source)?;
    let dest = cidr("RouteDest", &req.route_dest)?;
    let hop = req.next_hop.as_str();
    let weight = weight("Weight", req.weight)?;
    let priority = match req.priority {
        Some(p) => priority("Priority", p)?,
        None => DEFAULT_PRIORITY,
    };
    let publish = req.publish_vpc;
    let overlay = overlay_mode(&req.overlay_mode)?;
    let description = description(&req.description)?;
    let region = ctx.region()?;
    let gateway = vpn_gateway::load(ctx, gateway_id).await?;
    next_hop(ctx, gateway_id, hop).await?;
    vpn_gateway::require_active(&gateway.value, ctx.now_ms)?;
    let route = VpnPbrRoute {
        id: VpnPbrRoute::key(gateway_id, &source, &dest, hop),
        region_id: region.id.to_owned(),
        vpn_gateway_id: gateway_id.to_owned(),
        route_source: source,
        route_dest: dest.clone(),
        next_hop: hop.to_owned(),
        weight,
        priority,
        overlay_mode: overlay,
        description,
        publish_vpc: publish,
        create_time_ms: ctx.now_ms,
        auto_configured: false,
    };
    let idempotency = ctx.idempotency()?;
    // A ClientToken replay (or a duplicate) meets its own route here, which
    // the rule skips: the store answers those.
    check_single_active(ctx, &route).await?;
    refuse_dry_run(req.dry_run)?;
    let inserted = match insert_route(ctx, &route, idempotency).await {
        Ok(i) => i,
        Err(vpngw_store::StoreError::QuotaExceeded { limit }) => {
            let mut q = ListQuery::new(Kind::VpnPbrRoute, ctx.scope()?, ctx.now_ms);
            q.parent_id = Some(gateway_id.to_owned());
            q.limit = 0;
            let existing = ctx.store().list(&q).await.map_err(internal)?.total;
            return Err(errors::pbr_quota_exceeded(existing, 1, limit));
        }
        Err(e) => return Err(insert_error(e, &dest, |_| errors::quota_full())),
    };
    let route = match inserted {
        Inserted::Created => {
            gateway_task(ctx, gateway_id).await?;
            route
        }
        Inserted::Replayed { id } => load_route::<VpnPbrRoute>(ctx, &id).await?.value,
    };
    Ok(create_op::Answer {
        state: route.state().to_owned(),
        vpn_instance_id: route.vpn_gateway_id,
        route_source: route.route_source,
        route_dest: route.route_dest,
        next_hop: route.next_hop,
        weight: route.weight,
        priority: route.priority,
        overlay_mode: route.overlay_mode,
        description: route.description,
        create_time: route.create_time_ms,
    })
}

/// How a Delete/Modify call names a policy-based route: `RouteSource`,
/// `RouteDest` and `NextHop`, with the `Weight` and (if given) `Priority`
/// the route has now.
struct Named<'a> {
    gateway_id: &'a str,
    source: &'a str,
    dest: &'a str,
    hop: &'a str,
    weight: i64,
    priority: Option<i64>,
}

/// The [`Named`] of one request type (they differ only in their `New…`
/// fields and whether `Priority` is required).
macro_rules! named {
    ($req:expr) => {
        Named {
            gateway_id: &$req.vpn_gateway_id,
            source: &$req.route_source,
            dest: &$req.route_dest,
            hop: &$req.next_hop,
            weight: $req.weight,
            priority: $req.priority.into(),
        }
    };
}

/// The route a request names, checked against its current weight and
/// priority.
async fn find(ctx: &Ctx<'_>, named: &Named<'_>) -> Result<Versioned<VpnPbrRoute>, ApiError> {
    let source = cidr("RouteSource", named.source)?;
    let dest = cidr("RouteDest", named.dest)?;
    let weight = weight("Weight", named.weight)?;
    let priority = named
        .priority
        .map(|p| priority("Priority", p))
        .transpose()?;
    let key = VpnPbrRoute::key(named.gateway_id, &source, &dest, named.hop);
    let route = load_route::<VpnPbrRoute>(ctx, &key).await?;
    if route.value.weight != weight || priority.is_some_and(|p| p != route.value.priority) {
        return Err(errors::route_not_found());
    }
    Ok(route)
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    overlay_mode(&req.overlay_mode)?;
    let named = named!(req);
    active_gateway(ctx, named.gateway_id).await?;
    let route = find(ctx, &named).await?;
    delete_route(ctx, &route.value).await?;
    gateway_task(ctx, named.gateway_id).await?;
    Ok(delete_op::Answer {})
}

/// Applies a new weight and/or priority to the named route.
async fn modify(
    ctx: &Ctx<'_>,
    named: Named<'_>,
    new_weight: Option<i64>,
    new_priority: Option<i64>,
) -> Result<(), ApiError> {
    active_gateway(ctx, named.gateway_id).await?;
    let Versioned { mut value, version } = find(ctx, &named).await?;
    if let Some(w) = new_weight {
        value.weight = w;
        check_single_active(ctx, &value).await?;
    }
    if let Some(p) = new_priority {
        value.priority = p;
    }
    save_route(ctx, &value, version).await?;
    gateway_task(ctx, named.gateway_id).await
}

pub async fn modify_weight(
    ctx: &Ctx<'_>,
    req: weight_op::Request,
) -> Result<weight_op::Answer, ApiError> {
    let new_weight = weight("NewWeight", req.new_weight)?;
    overlay_mode(&req.overlay_mode)?;
    modify(ctx, named!(req), Some(new_weight), None).await?;
    Ok(weight_op::Answer {})
}

pub async fn modify_priority(
    ctx: &Ctx<'_>,
    req: priority_op::Request,
) -> Result<priority_op::Answer, ApiError> {
    let new_priority = priority("NewPriority", req.new_priority)?;
    modify(ctx, named!(req), None, Some(new_priority)).await?;
    Ok(priority_op::Answer {})
}

/// ModifyVpnPbrRouteEntryAttribute: `NewWeight`, `NewPriority` or both; the
/// current `Priority` is required here.
pub async fn modify_attribute(
    ctx: &Ctx<'_>,
    req: attribute_op::Request,
) -> Result<attribute_op::Answer, ApiError> {
    let new_weight = req.new_weight.map(|w| weight("NewWeight", w)).transpose()?;
    let new_priority = req
        .new_priority
        .map(|p| priority("NewPriority", p))
        .transpose()?;
    if new_weight.is_none() && new_priority.is_none() {
        return Err(ApiError::missing_parameter("NewWeight"));
    }
    modify(ctx, named!(req), new_weight, new_priority).await?;
    Ok(attribute_op::Answer {})
}

pub async fn describe(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let (number, size, offset, limit) = page(req.page_number, req.page_size)?;
    vpn_gateway::load(ctx, gateway_id).await?;
    let mut q = ListQuery::new(Kind::VpnPbrRoute, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.offset = offset;
    q.limit = limit;
    let (routes, total) = ctx
        .store()
        .list_typed::<VpnPbrRoute>(&q)
        .await
        .map_err(internal)?;
    Ok(list_op::Answer {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        page_number: number,
        page_size: size,
        vpn_pbr_route_entries: list_op::VpnPbrRouteEntries {
            vpn_pbr_route_entry: routes
                .iter()
                .map(|r| list_op::VpnPbrRouteEntry {
                    vpn_instance_id: r.vpn_gateway_id.clone(),
                    route_source: r.route_source.clone(),
                    route_dest: r.route_dest.clone(),
                    next_hop: r.next_hop.clone(),
                    weight: r.weight,
                    priority: r.priority,
                    state: r.state().to_owned(),
                    create_time: r.create_time_ms,
                    next_hop_tunnel_id: None,
                })
                .collect(),
        },
    })
}
