//! Destination-based routes of a VPN gateway: CreateVpnRouteEntry,
//! DeleteVpnRouteEntry, DescribeVpnRouteEntries, ModifyVpnRouteEntryWeight,
//! and PublishVpnRouteEntry (which also serves policy-based routes).

use vpngw_model::{VpnPbrRoute, VpnRoute, routes::RouteEntryType};
use vpngw_ops::vpc::{
    create_vpn_route_entry as create_op, delete_vpn_route_entry as delete_op,
    describe_vpn_route_entries as list_op, modify_vpn_route_entry_weight as weight_op,
    publish_vpn_route_entry as publish_op, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    Named, active_gateway, cidr, delete_route, description, entry_type, find_custom, gateway_task,
    insert_error, insert_route, load_route, next_hop, non_empty, overlay_mode, page,
    refuse_dry_run, save_route, weight,
};
use crate::{Ctx, context::internal, errors, vpc::vpn_gateway};

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let dest = cidr("RouteDest", &req.route_dest)?;
    let hop = req.next_hop.as_str();
    let weight = weight("Weight", req.weight)?;
    let publish = req.publish_vpc;
    let overlay = overlay_mode(&req.overlay_mode)?;
    let description = description(&req.description)?;
    let region = ctx.region()?;
    let gateway = vpn_gateway::load(ctx, gateway_id).await?;
    next_hop(ctx, gateway_id, hop).await?;
    vpn_gateway::require_active(&gateway.value, ctx.now_ms)?;
    let route = VpnRoute {
        id: VpnRoute::key(gateway_id, RouteEntryType::Custom, &dest, hop),
        region_id: region.id.to_owned(),
        vpn_gateway_id: gateway_id.to_owned(),
        route_dest: dest.clone(),
        next_hop: hop.to_owned(),
        weight,
        overlay_mode: overlay,
        description,
        publish_vpc: publish,
        route_entry_type: RouteEntryType::Custom,
        source: String::new(),
        as_path: String::new(),
        community: String::new(),
        create_time_ms: ctx.now_ms,
    };
    refuse_dry_run(req.dry_run)?;
    let inserted = insert_route(ctx, &route, ctx.idempotency()?)
        .await
        .map_err(|e| insert_error(e, &dest, |_| errors::quota_full()))?;
    let route = match inserted {
        Inserted::Created => {
            gateway_task(ctx, gateway_id).await?;
            route
        }
        Inserted::Replayed { id } => load_route::<VpnRoute>(ctx, &id).await?.value,
    };
    Ok(create_op::Answer {
        state: route.state().to_owned(),
        vpn_instance_id: route.vpn_gateway_id,
        route_dest: route.route_dest,
        next_hop: route.next_hop,
        weight: route.weight,
        overlay_mode: route.overlay_mode,
        description: route.description,
        create_time: route.create_time_ms,
    })
}

/// The custom route named by `VpnGatewayId`, `RouteDest` and `NextHop`,
/// whose weight must be `Weight`.
async fn find(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    named: Named<'_>,
) -> Result<Versioned<VpnRoute>, ApiError> {
    let key = |dest: &str, hop: &str| VpnRoute::key(gateway_id, RouteEntryType::Custom, dest, hop);
    find_custom(ctx, named, key, |r: &VpnRoute| r.weight).await
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    overlay_mode(&req.overlay_mode)?;
    active_gateway(ctx, gateway_id).await?;
    let named = Named {
        dest: &req.route_dest,
        hop: &req.next_hop,
        weight: req.weight,
    };
    let route = find(ctx, gateway_id, named).await?;
    delete_route(ctx, &route.value).await?;
    gateway_task(ctx, gateway_id).await?;
    Ok(delete_op::Answer {})
}

pub async fn modify_weight(
    ctx: &Ctx<'_>,
    req: weight_op::Request,
) -> Result<weight_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let new_weight = weight("NewWeight", req.new_weight)?;
    overlay_mode(&req.overlay_mode)?;
    active_gateway(ctx, gateway_id).await?;
    let named = Named {
        dest: &req.route_dest,
        hop: &req.next_hop,
        weight: req.weight,
    };
    let Versioned { mut value, version } = find(ctx, gateway_id, named).await?;
    value.weight = new_weight;
    save_route(ctx, &value, version).await?;
    gateway_task(ctx, gateway_id).await?;
    Ok(weight_op::Answer {})
}

fn view(r: &VpnRoute) -> list_op::VpnRouteEntry {
    list_op::VpnRouteEntry {
        vpn_instance_id: r.vpn_gateway_id.clone(),
        route_dest: r.route_dest.clone(),
        next_hop: r.next_hop.clone(),
        weight: r.weight,
        state: r.state().to_owned(),
        route_entry_type: r.route_entry_type.as_str().to_owned(),
        create_time: r.create_time_ms,
        source: non_empty(&r.source),
        as_path: non_empty(&r.as_path),
        community: non_empty(&r.community),
        next_hop_tunnel_id: None,
    }
}

/// Routes of a gateway (or connection) by type (and, for BGP, by where
/// they were learned); the source is absent for custom routes.
pub(crate) async fn route_counts(
    ctx: &Ctx<'_>,
    kind: Kind,
    parent: &str,
) -> Result<Vec<shapes::VpnRouteCounts>, ApiError> {
    let groups: [(&'static str, &'static str); 3] =
        [("custom", ""), ("bgp", "VPN_BGP"), ("bgp", "CLOUD")];
    let mut out = Vec::new();
    for (entry_type, source) in groups {
        let mut q = ListQuery::new(kind, ctx.scope()?, ctx.now_ms);
        q.parent_id = Some(parent.to_owned());
        q.fields.push(("route_entry_type", entry_type.to_owned()));
        if !source.is_empty() {
            q.fields.push(("source", source.to_owned()));
        }
        q.limit = 0;
        let total = ctx.store().list(&q).await.map_err(internal)?.total;
        if total > 0 {
            out.push(shapes::VpnRouteCounts {
                route_entry_type: entry_type.to_owned(),
                source: non_empty(source),
                route_count: i64::try_from(total).unwrap_or(i64::MAX),
            });
        }
    }
    Ok(out)
}

pub async fn describe(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let entry_type = entry_type(&req.route_entry_type)?;
    let (number, size, offset, limit) = page(req.page_number, req.page_size)?;
    vpn_gateway::load(ctx, gateway_id).await?;
    let mut q = ListQuery::new(Kind::VpnRoute, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.fields
        .push(("route_entry_type", entry_type.as_str().to_owned()));
    q.offset = offset;
    q.limit = limit;
    let (routes, total) = ctx
        .store()
        .list_typed::<VpnRoute>(&q)
        .await
        .map_err(internal)?;
    let counts = route_counts(ctx, Kind::VpnRoute, gateway_id).await?;
    Ok(list_op::Answer {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        page_number: number,
        page_size: size,
        vpn_route_entries: list_op::VpnRouteEntries {
            vpn_route_entry: routes.iter().map(view).collect(),
        },
        vpn_route_counts: list_op::VpnRouteCounts {
            vpn_route_count: counts,
        },
    })
}

/// Every route of a gateway's table to `dest` (through `hop`, if given).
async fn by_dest<R: vpngw_store::Resource>(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    dest: &str,
    hop: Option<&str>,
) -> Result<Vec<Versioned<R>>, ApiError> {
    let mut q = ListQuery::new(R::KIND, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.fields.push(("route_dest", dest.to_owned()));
    if let Some(hop) = hop {
        q.fields.push(("next_hop", hop.to_owned()));
    }
    if R::KIND == Kind::VpnRoute {
        q.fields.push(("route_entry_type", "custom".to_owned()));
    }
    q.limit = u64::MAX >> 1;
    let page = ctx.store().list(&q).await.map_err(internal)?;
    page.records
        .iter()
        .map(|r| vpngw_store::from_record::<R>(r).map_err(internal))
        .collect()
}

/// PublishVpnRouteEntry: advertises (`PublishVpc=true`) or withdraws a
/// destination-based (`RouteType=dbr`) or policy-based (`pbr`) route. A
/// policy-based route is named by destination and next hop only, so every
/// source matches. Withdrawing a route also withdraws the published route
/// with the same destination in the other table, as the cloud documents.
pub async fn publish(
    ctx: &Ctx<'_>,
    req: publish_op::Request,
) -> Result<publish_op::Answer, ApiError> {
    let gateway_id = req.vpn_gateway_id.as_str();
    let dest = cidr("RouteDest", &req.route_dest)?;
    let hop = req.next_hop.as_str();
    let publish = req.publish_vpc;
    let pbr = match req.route_type.as_str() {
        "pbr" => true,
        "dbr" => false,
        _ => return Err(ApiError::invalid_parameter("RouteType")),
    };
    active_gateway(ctx, gateway_id).await?;
    let (mut dbr, mut pbrs) = if pbr {
        let named = by_dest::<VpnPbrRoute>(ctx, gateway_id, &dest, Some(hop)).await?;
        if named.is_empty() {
            return Err(errors::route_not_found());
        }
        let others = if publish {
            Vec::new()
        } else {
            by_dest::<VpnRoute>(ctx, gateway_id, &dest, None).await?
        };
        (others, named)
    } else {
        let named = load_route::<VpnRoute>(
            ctx,
            &VpnRoute::key(gateway_id, RouteEntryType::Custom, &dest, hop),
        )
        .await?;
        let others = if publish {
            Vec::new()
        } else {
            by_dest::<VpnPbrRoute>(ctx, gateway_id, &dest, None).await?
        };
        (vec![named], others)
    };
    for Versioned { value, version } in &mut dbr {
        if value.publish_vpc != publish {
            value.publish_vpc = publish;
            save_route(ctx, value, *version).await?;
        }
    }
    for Versioned { value, version } in &mut pbrs {
        if value.publish_vpc != publish {
            value.publish_vpc = publish;
            save_route(ctx, value, *version).await?;
        }
    }
    gateway_task(ctx, gateway_id).await?;
    Ok(publish_op::Answer {})
}
