//! Routes of one IPsec connection (a transit-router attachment, or a
//! connection in route mode): CreateVcoRouteEntry, DeleteVcoRouteEntry,
//! DescribeVcoRouteEntries, ModifyVcoRouteEntryWeight.
//!
//! The next hop of such a route is the connection itself; a route is named
//! by destination and next hop, and the calls carry its current weight.

use vpngw_model::{
    VcoRoute, VpnConnection,
    routes::{RouteEntryType, STATE_PUBLISHED},
};
use vpngw_ops::vpc::{
    create_vco_route_entry as create_op, delete_vco_route_entry as delete_op,
    describe_vco_route_entries as list_op, modify_vco_route_entry_weight as weight_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{
    Named, cidr, connection_task, delete_route, description, entry_type, find_custom,
    gateway::route_counts, insert_error, insert_route, load_route, non_empty, overlay_mode, page,
    refuse_dry_run, save_route, weight,
};
use crate::{
    Ctx,
    context::internal,
    errors,
    vpc::{connection, vpn_gateway},
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
fn next_hop<'a>(hop: &'a str, conn: &str) -> Result<&'a str, ApiError> {
    if hop != conn {
        return Err(ApiError::invalid_parameter_because(
            "NextHop",
            "the next hop of an IPsec connection's route is the connection itself.",
        ));
    }
    Ok(hop)
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    let conn_id = req.vpn_connection_id.as_str();
    let dest = cidr("RouteDest", &req.route_dest)?;
    if dest == "0.0.0.0/0" {
        // "You cannot create a destination-based route whose destination
        // CIDR block is 0.0.0.0/0" (CreateVcoRouteEntry usage notes).
        return Err(errors::illegal_subnet("RouteDest", &dest));
    }
    let weight = weight("Weight", req.weight)?;
    let overlay = overlay_mode(&req.overlay_mode)?;
    let description = description(&req.description)?;
    let region = ctx.region()?;
    let conn = connection::load(ctx, conn_id).await?;
    let hop = next_hop(&req.next_hop, conn_id)?;
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
    refuse_dry_run(req.dry_run)?;
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
    Ok(create_op::Answer {
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
async fn find(
    ctx: &Ctx<'_>,
    conn_id: &str,
    named: Named<'_>,
) -> Result<Versioned<VcoRoute>, ApiError> {
    let key = |dest: &str, hop: &str| VcoRoute::key(conn_id, RouteEntryType::Custom, dest, hop);
    find_custom(ctx, named, key, |r: &VcoRoute| r.weight).await
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    let conn_id = req.vpn_connection_id.as_str();
    overlay_mode(&req.overlay_mode)?;
    writable(ctx, conn_id).await?;
    let named = Named {
        dest: &req.route_dest,
        hop: &req.next_hop,
        weight: req.weight,
    };
    let route = find(ctx, conn_id, named).await?;
    delete_route(ctx, &route.value).await?;
    connection_task(ctx, conn_id).await?;
    Ok(delete_op::Answer {})
}

pub async fn modify_weight(
    ctx: &Ctx<'_>,
    req: weight_op::Request,
) -> Result<weight_op::Answer, ApiError> {
    let conn_id = req.vpn_connection_id.as_str();
    let new_weight = weight("NewWeight", req.new_weight)?;
    overlay_mode(&req.overlay_mode)?;
    writable(ctx, conn_id).await?;
    let named = Named {
        dest: &req.route_dest,
        hop: &req.next_hop,
        weight: req.weight,
    };
    let Versioned { mut value, version } = find(ctx, conn_id, named).await?;
    value.weight = new_weight;
    save_route(ctx, &value, version).await?;
    connection_task(ctx, conn_id).await?;
    Ok(weight_op::Answer {})
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

pub async fn describe(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let conn_id = req.vpn_connection_id.as_str();
    let entry_type = entry_type(&req.route_entry_type)?;
    let (number, size, offset, limit) = page(req.page_number, req.page_size)?;
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
    // (Unlike the gateway's lists, these two lists are not wrapped.)
    let counts = if conn.tunnels.is_empty() {
        None
    } else {
        Some(route_counts(ctx, Kind::VcoRoute, conn_id).await?)
    };
    Ok(list_op::Answer {
        total_count: i64::try_from(total).unwrap_or(i64::MAX),
        page_number: number,
        page_size: size,
        vco_route_entries: routes
            .iter()
            .map(|r| list_op::VcoRouteEntries {
                vpn_connection_id: r.vpn_connection_id.clone(),
                route_dest: r.route_dest.clone(),
                next_hop: r.next_hop.clone(),
                weight: r.weight,
                state: r.state.clone(),
                route_entry_type: r.route_entry_type.as_str().to_owned(),
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
