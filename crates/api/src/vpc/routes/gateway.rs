//! Destination-based routes of a VPN gateway: CreateVpnRouteEntry,
//! DeleteVpnRouteEntry, DescribeVpnRouteEntries, ModifyVpnRouteEntryWeight,
//! and PublishVpnRouteEntry (which also serves policy-based routes).

use serde::Serialize;
use vpngw_model::{VpnPbrRoute, VpnRoute, routes::RouteEntryType};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    Done, active_gateway, cidr, delete_route, description, entry_type, find_custom, gateway_task,
    insert_error, insert_route, load_route, next_hop, non_empty, overlay_mode, page,
    required_weight, save_route,
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
    route_dest: String,
    next_hop: String,
    weight: i64,
    overlay_mode: String,
    description: String,
    state: &'static str,
    create_time: i64,
}

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let dest = cidr(ctx, "RouteDest")?;
    let hop = ctx.params.required("NextHop")?;
    let weight = required_weight(ctx, "Weight")?;
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
    if ctx.params.bool("DryRun")?.unwrap_or(false) {
        return Err(errors::dry_run_passed());
    }
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
    reply(&Created {
        state: route.state(),
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
async fn find(ctx: &Ctx<'_>, gateway_id: &str) -> Result<Versioned<VpnRoute>, ApiError> {
    let key = |dest: &str, hop: &str| VpnRoute::key(gateway_id, RouteEntryType::Custom, dest, hop);
    find_custom(ctx, key, |r: &VpnRoute| r.weight).await
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    overlay_mode(ctx)?;
    active_gateway(ctx, gateway_id).await?;
    let route = find(ctx, gateway_id).await?;
    delete_route(ctx, &route.value).await?;
    gateway_task(ctx, gateway_id).await?;
    reply(&Done {})
}

pub async fn modify_weight(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let new_weight = required_weight(ctx, "NewWeight")?;
    overlay_mode(ctx)?;
    active_gateway(ctx, gateway_id).await?;
    let Versioned { mut value, version } = find(ctx, gateway_id).await?;
    value.weight = new_weight;
    save_route(ctx, &value, version).await?;
    gateway_task(ctx, gateway_id).await?;
    reply(&Done {})
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteView {
    vpn_instance_id: String,
    route_dest: String,
    next_hop: String,
    weight: i64,
    state: String,
    route_entry_type: &'static str,
    create_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    as_path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    community: Option<String>,
}

impl RouteView {
    fn of(r: &VpnRoute) -> RouteView {
        RouteView {
            vpn_instance_id: r.vpn_gateway_id.clone(),
            route_dest: r.route_dest.clone(),
            next_hop: r.next_hop.clone(),
            weight: r.weight,
            state: r.state().to_owned(),
            route_entry_type: r.route_entry_type.as_str(),
            create_time: r.create_time_ms,
            source: non_empty(&r.source),
            as_path: non_empty(&r.as_path),
            community: non_empty(&r.community),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteCount {
    route_entry_type: &'static str,
    /// Where BGP routes were learned; absent for custom routes.
    #[serde(skip_serializing_if = "str::is_empty")]
    source: &'static str,
    route_count: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vpn_route_entries: Entries,
    vpn_route_counts: Counts,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entries {
    vpn_route_entry: Vec<RouteView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Counts {
    vpn_route_count: Vec<RouteCount>,
}

/// Routes of a gateway by type (and, for BGP, by where they were learned).
pub(crate) async fn route_counts(
    ctx: &Ctx<'_>,
    kind: Kind,
    parent: &str,
) -> Result<Vec<(&'static str, &'static str, u64)>, ApiError> {
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
            out.push((entry_type, source, total));
        }
    }
    Ok(out)
}

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let entry_type = entry_type(ctx)?;
    let (number, size, offset, limit) = page(ctx)?;
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
    reply(&Page {
        total_count: total,
        page_number: number,
        page_size: size,
        vpn_route_entries: Entries {
            vpn_route_entry: routes.iter().map(RouteView::of).collect(),
        },
        vpn_route_counts: Counts {
            vpn_route_count: counts
                .into_iter()
                .map(|(route_entry_type, source, route_count)| RouteCount {
                    route_entry_type,
                    source,
                    route_count,
                })
                .collect(),
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
pub async fn publish(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let dest = cidr(ctx, "RouteDest")?;
    let hop = ctx.params.required("NextHop")?;
    let publish = ctx
        .params
        .bool("PublishVpc")?
        .ok_or_else(|| ApiError::missing_parameter("PublishVpc"))?;
    let pbr = match ctx.params.required("RouteType")? {
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
    reply(&Done {})
}
