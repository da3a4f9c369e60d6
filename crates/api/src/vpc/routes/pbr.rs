//! Policy-based routes of a VPN gateway: CreateVpnPbrRouteEntry,
//! DeleteVpnPbrRouteEntry, DescribeVpnPbrRouteEntries and the three
//! Modify calls (weight, priority, both).
//!
//! A policy-based route is named by source, destination and next hop; the
//! calls also carry the route's current `Weight` (and optionally `Priority`),
//! which must match it.

use serde::Serialize;
use vpngw_model::{VpnPbrRoute, routes::DEFAULT_PRIORITY};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    Done, ROUTES_PER_TABLE, active_gateway, cidr, delete_route, description, gateway_task,
    insert_error, insert_route, load_route, next_hop, overlay_mode, page, priority,
    required_weight, save_route, weight,
};
use crate::{
    Ctx,
    actions::Reply,
    context::internal,
    errors,
    vpc::{reply, vpn_gateway},
};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    vpn_instance_id: String,
    route_source: String,
    route_dest: String,
    next_hop: String,
    weight: i64,
    priority: i64,
    overlay_mode: String,
    description: String,
    state: &'static str,
    create_time: i64,
}

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

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let source = cidr(ctx, "RouteSource")?;
    let dest = cidr(ctx, "RouteDest")?;
    let hop = ctx.params.required("NextHop")?;
    let weight = required_weight(ctx, "Weight")?;
    let priority = priority(ctx, "Priority")?.unwrap_or(DEFAULT_PRIORITY);
    let publish = ctx
        .params
        .bool("PublishVpc")?
        .ok_or_else(|| ApiError::missing_parameter("PublishVpc"))?;
    let overlay = overlay_mode(ctx)?;
    let description = description(ctx)?;
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
    };
    let idempotency = ctx.idempotency()?;
    // A ClientToken replay (or a duplicate) meets its own route here, which
    // the rule skips: the store answers those.
    check_single_active(ctx, &route).await?;
    if ctx.params.bool("DryRun")?.unwrap_or(false) {
        return Err(errors::dry_run_passed());
    }
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
    reply(&Created {
        state: route.state(),
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

/// The route named by the request: `RouteSource`, `RouteDest` and
/// `NextHop`, with `Weight` and (if given) `Priority` as it has them now.
async fn find(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    priority_required: bool,
) -> Result<Versioned<VpnPbrRoute>, ApiError> {
    let source = cidr(ctx, "RouteSource")?;
    let dest = cidr(ctx, "RouteDest")?;
    let hop = ctx.params.required("NextHop")?;
    let weight = required_weight(ctx, "Weight")?;
    let priority = priority(ctx, "Priority")?;
    if priority_required && priority.is_none() {
        return Err(ApiError::missing_parameter("Priority"));
    }
    let route =
        load_route::<VpnPbrRoute>(ctx, &VpnPbrRoute::key(gateway_id, &source, &dest, hop)).await?;
    if route.value.weight != weight || priority.is_some_and(|p| p != route.value.priority) {
        return Err(errors::route_not_found());
    }
    Ok(route)
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    overlay_mode(ctx)?;
    active_gateway(ctx, gateway_id).await?;
    let route = find(ctx, gateway_id, false).await?;
    delete_route(ctx, &route.value).await?;
    gateway_task(ctx, gateway_id).await?;
    reply(&Done {})
}

/// Applies a new weight and/or priority to the named route.
async fn modify(
    ctx: &Ctx<'_>,
    new_weight: Option<i64>,
    new_priority: Option<i64>,
    priority_required: bool,
) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    overlay_mode(ctx)?;
    active_gateway(ctx, gateway_id).await?;
    let Versioned { mut value, version } = find(ctx, gateway_id, priority_required).await?;
    if let Some(w) = new_weight {
        value.weight = w;
        check_single_active(ctx, &value).await?;
    }
    if let Some(p) = new_priority {
        value.priority = p;
    }
    save_route(ctx, &value, version).await?;
    gateway_task(ctx, gateway_id).await?;
    reply(&Done {})
}

pub async fn modify_weight(ctx: &Ctx<'_>) -> Reply {
    let new_weight = required_weight(ctx, "NewWeight")?;
    modify(ctx, Some(new_weight), None, false).await
}

pub async fn modify_priority(ctx: &Ctx<'_>) -> Reply {
    let new_priority =
        priority(ctx, "NewPriority")?.ok_or_else(|| ApiError::missing_parameter("NewPriority"))?;
    modify(ctx, None, Some(new_priority), false).await
}

/// ModifyVpnPbrRouteEntryAttribute: `NewWeight`, `NewPriority` or both; the
/// current `Priority` is required here.
pub async fn modify_attribute(ctx: &Ctx<'_>) -> Reply {
    let new_weight = weight(ctx, "NewWeight")?;
    let new_priority = priority(ctx, "NewPriority")?;
    if new_weight.is_none() && new_priority.is_none() {
        return Err(ApiError::missing_parameter("NewWeight"));
    }
    modify(ctx, new_weight, new_priority, true).await
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteView {
    vpn_instance_id: String,
    route_source: String,
    route_dest: String,
    next_hop: String,
    weight: i64,
    priority: i64,
    state: &'static str,
    create_time: i64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vpn_pbr_route_entries: Entries,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entries {
    vpn_pbr_route_entry: Vec<RouteView>,
}

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let (number, size, offset, limit) = page(ctx)?;
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
    reply(&Page {
        total_count: total,
        page_number: number,
        page_size: size,
        vpn_pbr_route_entries: Entries {
            vpn_pbr_route_entry: routes
                .iter()
                .map(|r| RouteView {
                    vpn_instance_id: r.vpn_gateway_id.clone(),
                    route_source: r.route_source.clone(),
                    route_dest: r.route_dest.clone(),
                    next_hop: r.next_hop.clone(),
                    weight: r.weight,
                    priority: r.priority,
                    state: r.state(),
                    create_time: r.create_time_ms,
                })
                .collect(),
        },
    })
}
