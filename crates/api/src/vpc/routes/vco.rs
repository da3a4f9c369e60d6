//! Routes of one IPsec connection (a transit-router attachment, or a
//! connection in route mode): CreateVcoRouteEntry, DeleteVcoRouteEntry,
//! DescribeVcoRouteEntries, ModifyVcoRouteEntryWeight.
//!
//! The next hop of such a route is the connection itself; a route is named
//! by destination and next hop, and the calls carry its current weight.

use serde::Serialize;
use vpngw_model::{
    VcoRoute, VpnConnection,
    routes::{RouteEntryType, STATE_PUBLISHED},
};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    Done, cidr, connection_task, delete_route, description, entry_type, find_custom,
    gateway::route_counts, insert_error, insert_route, load_route, non_empty, overlay_mode, page,
    required_weight, save_route,
};
use crate::{
    Ctx,
    actions::Reply,
    context::internal,
    errors,
    vpc::{connection, reply, vpn_gateway},
};

/// Connection states in which a configuration task is still running. (An
/// attachment bound to no transit router settles in `init`.)
const BUSY: &[&str] = &["updating", "deleting", "attaching", "detaching"];

/// The connection named by `VpnConnectionId`, ready for a route write: not
/// busy itself (`VpnConnection.Configuring`) and, if it belongs to a VPN
/// gateway, that gateway active (`VpnGateway.Configuring`).
async fn writable(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VpnConnection>, ApiError> {
    let conn = connection::load(ctx, id).await?;
    if let Some(gateway_id) = super::gateway_of(&conn.value) {
        let gateway = vpn_gateway::load(ctx, gateway_id).await?;
        vpn_gateway::require_active(&gateway.value, ctx.now_ms)?;
    }
    if BUSY.contains(&conn.value.state.effective(ctx.now_ms)) {
        return Err(errors::connection_configuring());
    }
    Ok(conn)
}

/// `NextHop` of a connection's route: the connection itself.
fn next_hop<'a>(ctx: &Ctx<'a>, conn: &str) -> Result<&'a str, ApiError> {
    let hop = ctx.params.required("NextHop")?;
    if hop != conn {
        return Err(ApiError::invalid_parameter_because(
            "NextHop",
            "the next hop of an IPsec connection's route is the connection itself.",
        ));
    }
    Ok(hop)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    vpn_connection_id: String,
    route_dest: String,
    next_hop: String,
    weight: i64,
    overlay_mode: String,
    description: String,
    state: String,
    create_time: i64,
}

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let conn_id = ctx.params.required("VpnConnectionId")?;
    let dest = cidr(ctx, "RouteDest")?;
    if dest == "0.0.0.0/0" {
        // "You cannot create a destination-based route whose destination
        // CIDR block is 0.0.0.0/0" (CreateVcoRouteEntry usage notes).
        return Err(errors::illegal_subnet("RouteDest", &dest));
    }
    let weight = required_weight(ctx, "Weight")?;
    let overlay = overlay_mode(ctx)?;
    let description = description(ctx)?;
    let region = ctx.region()?;
    let conn = connection::load(ctx, conn_id).await?;
    let hop = next_hop(ctx, conn_id)?;
    writable(ctx, conn_id).await?;
    let route = VcoRoute {
        id: VcoRoute::key(conn_id, RouteEntryType::Custom, &dest, hop),
        region_id: region.id.to_owned(),
        vpn_connection_id: conn.value.id.clone(),
        route_dest: dest.clone(),
        next_hop: hop.to_owned(),
        weight,
        overlay_mode: overlay,
        description,
        route_entry_type: RouteEntryType::Custom,
        source: String::new(),
        as_path: String::new(),
        community: String::new(),
        state: STATE_PUBLISHED.to_owned(),
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
            connection_task(ctx, conn_id).await?;
            route
        }
        Inserted::Replayed { id } => load_route::<VcoRoute>(ctx, &id).await?.value,
    };
    reply(&Created {
        vpn_connection_id: route.vpn_connection_id,
        route_dest: route.route_dest,
        next_hop: route.next_hop,
        weight: route.weight,
        overlay_mode: route.overlay_mode,
        description: route.description,
        state: route.state,
        create_time: route.create_time_ms,
    })
}

/// The custom route named by the request, checked against its `Weight`.
async fn find(ctx: &Ctx<'_>, conn_id: &str) -> Result<Versioned<VcoRoute>, ApiError> {
    let key = |dest: &str, hop: &str| VcoRoute::key(conn_id, RouteEntryType::Custom, dest, hop);
    find_custom(ctx, key, |r: &VcoRoute| r.weight).await
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let conn_id = ctx.params.required("VpnConnectionId")?;
    overlay_mode(ctx)?;
    writable(ctx, conn_id).await?;
    let route = find(ctx, conn_id).await?;
    delete_route(ctx, &route.value).await?;
    connection_task(ctx, conn_id).await?;
    reply(&Done {})
}

pub async fn modify_weight(ctx: &Ctx<'_>) -> Reply {
    let conn_id = ctx.params.required("VpnConnectionId")?;
    let new_weight = required_weight(ctx, "NewWeight")?;
    overlay_mode(ctx)?;
    writable(ctx, conn_id).await?;
    let Versioned { mut value, version } = find(ctx, conn_id).await?;
    value.weight = new_weight;
    save_route(ctx, &value, version).await?;
    connection_task(ctx, conn_id).await?;
    reply(&Done {})
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RouteView {
    vpn_connection_id: String,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    next_hop_tunnel_id_list: Option<Vec<String>>,
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

/// Unlike the gateway's lists, these two lists are not wrapped.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Page {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vco_route_entries: Vec<RouteView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    vpn_route_counts: Option<Vec<RouteCount>>,
}

/// The tunnels a route of a dual-tunnel connection can leave by: those
/// whose phase 2 is up. Single-tunnel connections have no such list.
fn tunnel_ids(conn: &VpnConnection) -> Option<Vec<String>> {
    let up: Vec<String> = conn
        .tunnels
        .iter()
        .filter(|t| t.status == "ipsec_sa_established")
        .map(|t| t.id.clone())
        .collect();
    (!up.is_empty()).then_some(up)
}

/// The `bgp` routes of a gateway whose next hop is connection `conn_id`,
/// as the connection's own routes.
async fn learned_by(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    conn_id: &str,
    offset: u64,
    limit: u64,
) -> Result<(Vec<VcoRoute>, u64), ApiError> {
    let mut q = ListQuery::new(Kind::VpnRoute, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.fields.push(("route_entry_type", "bgp".to_owned()));
    q.fields.push(("next_hop", conn_id.to_owned()));
    q.offset = offset;
    q.limit = limit;
    let (routes, total) = ctx
        .store()
        .list_typed::<vpngw_model::VpnRoute>(&q)
        .await
        .map_err(internal)?;
    let routes = routes
        .into_iter()
        .map(|r| VcoRoute {
            id: r.id,
            region_id: r.region_id,
            vpn_connection_id: conn_id.to_owned(),
            route_dest: r.route_dest,
            next_hop: r.next_hop,
            weight: r.weight,
            overlay_mode: r.overlay_mode,
            description: r.description,
            route_entry_type: RouteEntryType::Bgp,
            source: r.source,
            as_path: r.as_path,
            community: r.community,
            state: if r.publish_vpc {
                STATE_PUBLISHED
            } else {
                "normal"
            }
            .to_owned(),
            create_time_ms: r.create_time_ms,
        })
        .collect();
    Ok((routes, total))
}

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let conn_id = ctx.params.required("VpnConnectionId")?;
    let entry_type = entry_type(ctx)?;
    let (number, size, offset, limit) = page(ctx)?;
    let conn = connection::load(ctx, conn_id).await?.value;
    let (routes, total) = match (entry_type, super::gateway_of(&conn)) {
        // What a gateway connection's BGP sessions learned is filed under
        // the gateway (DescribeVpnRouteEntries), with the connection as the
        // next hop.
        (RouteEntryType::Bgp, Some(gateway_id)) => {
            learned_by(ctx, gateway_id, conn_id, offset, limit).await?
        }
        _ => {
            let mut q = ListQuery::new(Kind::VcoRoute, ctx.scope()?, ctx.now_ms);
            q.parent_id = Some(conn_id.to_owned());
            q.fields
                .push(("route_entry_type", entry_type.as_str().to_owned()));
            q.offset = offset;
            q.limit = limit;
            ctx.store()
                .list_typed::<VcoRoute>(&q)
                .await
                .map_err(internal)?
        }
    };
    let tunnels = tunnel_ids(&conn);
    // Route statistics are reported for dual-tunnel connections only.
    let counts = if conn.tunnels.is_empty() {
        None
    } else {
        Some(
            route_counts(ctx, Kind::VcoRoute, conn_id)
                .await?
                .into_iter()
                .map(|(route_entry_type, source, route_count)| RouteCount {
                    route_entry_type,
                    source,
                    route_count,
                })
                .collect(),
        )
    };
    reply(&Page {
        total_count: total,
        page_number: number,
        page_size: size,
        vco_route_entries: routes
            .iter()
            .map(|r| RouteView {
                vpn_connection_id: r.vpn_connection_id.clone(),
                route_dest: r.route_dest.clone(),
                next_hop: r.next_hop.clone(),
                weight: r.weight,
                state: r.state.clone(),
                route_entry_type: r.route_entry_type.as_str(),
                create_time: r.create_time_ms,
                source: non_empty(&r.source),
                as_path: non_empty(&r.as_path),
                community: non_empty(&r.community),
                next_hop_tunnel_id_list: tunnels.clone(),
            })
            .collect(),
        vpn_route_counts: counts,
    })
}
