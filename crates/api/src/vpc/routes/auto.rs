//! `AutoConfigRoute`: the routes the cloud creates for an IPsec connection
//! of a VPN gateway (CreateVpnConnection, where it defaults to `true`, and
//! ModifyVpnConnectionAttribute). docs/api-decisions.md ("AutoConfigRoute")
//! says which routes and why.
//!
//! One policy-based route per `LocalSubnet` block and `RemoteSubnet` block
//! ([`vpngw_model::routes::auto_config_pairs`]): source the local block,
//! destination the remote block, next hop the connection, the default
//! priority, published to the VPC. It is active (`Weight` 100) unless
//! another route of the gateway is already active for the same source and
//! destination (the cloud keeps one active route per pair): then it is that
//! route's standby (0). The routes are ordinary routes afterwards (listed,
//! modified, deleted like any other); the ones made here are marked, so
//! that when the connection's subnets change they are replaced, while
//! routes the user made stay.
//!
//! They are written after the connection, each as one insert under the
//! gateway's route quota: a full table leaves the remaining ones out (logged),
//! it does not undo the connection.

use vpngw_model::{
    VpnConnection, VpnPbrRoute,
    routes::{DEFAULT_PRIORITY, OVERLAY_IPSEC, auto_config_pairs},
};
use vpngw_protocol::ApiError;
use vpngw_store::{Kind, ListQuery, StoreError, StoreExt};

use super::{ROUTES_PER_TABLE, insert_route};
use crate::{Ctx, context::internal};

/// Makes the connection's automatic routes match its subnets, when its
/// `AutoConfigRoute` is on. Answers how many routes were created.
pub(crate) async fn configure(ctx: &Ctx<'_>, conn: &VpnConnection) -> Result<usize, ApiError> {
    // A transit-router attachment has no gateway route table.
    let (Some(gateway_id), true) = (&conn.vpn_gateway_id, conn.auto_config_route) else {
        return Ok(0);
    };
    let wanted = auto_config_pairs(&conn.local_subnet, &conn.remote_subnet);
    let mut q = ListQuery::new(Kind::VpnPbrRoute, ctx.scope()?, ctx.now_ms);
    q.parent_id = Some(gateway_id.clone());
    q.limit = u64::from(ROUTES_PER_TABLE) * 50;
    let (existing, _) = ctx
        .store()
        .list_typed::<VpnPbrRoute>(&q)
        .await
        .map_err(internal)?;
    let pair = |r: &VpnPbrRoute| (r.route_source.clone(), r.route_dest.clone());
    // Routes made for subnets the connection no longer has.
    for stale in existing
        .iter()
        .filter(|r| r.auto_configured && r.next_hop == conn.id && !wanted.contains(&pair(r)))
    {
        match ctx
            .store()
            .delete(Kind::VpnPbrRoute, &ctx.scope()?, &stale.id)
            .await
        {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(internal(e)),
        }
    }
    let mut created = 0;
    for (source, dest) in wanted {
        let id = VpnPbrRoute::key(gateway_id, &source, &dest, &conn.id);
        if existing.iter().any(|r| r.id == id) {
            continue;
        }
        let active_elsewhere = existing
            .iter()
            .any(|r| r.route_source == source && r.route_dest == dest && r.weight == 100);
        let route = VpnPbrRoute {
            id,
            region_id: conn.region_id.clone(),
            vpn_gateway_id: gateway_id.clone(),
            route_source: source,
            route_dest: dest,
            next_hop: conn.id.clone(),
            weight: if active_elsewhere { 0 } else { 100 },
            priority: DEFAULT_PRIORITY,
            overlay_mode: OVERLAY_IPSEC.to_owned(),
            description: String::new(),
            publish_vpc: true,
            create_time_ms: ctx.now_ms,
            auto_configured: true,
        };
        match insert_route(ctx, &route, None).await {
            Ok(_) => created += 1,
            // Made meanwhile by a concurrent call: it exists, as wanted.
            Err(StoreError::Duplicate | StoreError::AlreadyExists) => {}
            // The connection (or its gateway) was deleted meanwhile: its
            // routes would have gone with it.
            Err(StoreError::MissingLink(_)) => return Ok(created),
            Err(StoreError::QuotaExceeded { limit }) => {
                tracing::warn!(
                    connection = %conn.id,
                    gateway = %gateway_id,
                    "AutoConfigRoute: the gateway's policy-based route table is full ({limit}); route {} -> {} not created",
                    route.route_source,
                    route.route_dest
                );
            }
            Err(e) => return Err(internal(e)),
        }
    }
    Ok(created)
}
