//! The routes a connection's BGP sessions learned, as the agent reports them,
//! kept as the gateway's route records of type `bgp` (key
//! `<vpn-…>/bgp/<dest>/<vco-…>`, `Source` `VPN_BGP`), so that
//! DescribeVpnRouteEntries with `RouteEntryType=bgp` lists them, counts them
//! in `VpnRouteCounts`, pages them, and deleting the connection takes them
//! with it (their next hop is the connection). They cannot be changed through
//! the API: every write that names a route looks for `custom` ones.
//!
//! One record per prefix and connection: a prefix both tunnels of a
//! dual-tunnel connection learned is one route, with the attributes the
//! master's session gave (the session the gateway prefers).

use std::collections::BTreeMap;

use futures_util::StreamExt;
use vpngw_model::{
    VpnConnection, VpnRoute,
    dataplane::ConnectionReport,
    routes::{OVERLAY_IPSEC, RouteEntryType, route_cidr},
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Kind, ListQuery, StoreError, StoreExt};

use crate::{Ctx, context::internal};

/// Writes at a time: the store folds concurrent writes into one commit.
const CONCURRENT_WRITES: usize = 64;

/// `Source` of a route learned from the VPN peer.
pub const SOURCE_VPN_BGP: &str = "VPN_BGP";

/// Makes the connection's `bgp` route records what `report` says its
/// sessions learned: new prefixes inserted, changed attributes updated,
/// withdrawn prefixes deleted.
pub(super) async fn sync(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    publish: bool,
    conn: &VpnConnection,
    report: &ConnectionReport,
) -> Result<(), ApiError> {
    // Prefix -> (AS path, community), master's tunnel first.
    let mut wanted: BTreeMap<String, (String, String)> = BTreeMap::new();
    for t in &report.tunnels {
        for r in t.learned_routes.iter().flatten() {
            // Only what a route may be: a canonical IPv4 prefix.
            let Some(dest) = route_cidr(&r.route_dest) else {
                continue;
            };
            wanted
                .entry(dest)
                .or_insert_with(|| (r.as_path.clone(), r.community.clone()));
        }
    }
    let scope = ctx.scope()?;
    let mut q = ListQuery::new(Kind::VpnRoute, scope.clone(), ctx.now_ms);
    q.parent_id = Some(gateway_id.to_owned());
    q.fields.push(("route_entry_type", "bgp".to_owned()));
    q.fields.push(("next_hop", conn.id.clone()));
    q.limit = u64::MAX >> 1;
    let page = ctx.store().list(&q).await.map_err(internal)?;
    let mut stored: BTreeMap<String, (VpnRoute, i64)> = BTreeMap::new();
    for record in &page.records {
        let v = vpngw_store::from_record::<VpnRoute>(record).map_err(internal)?;
        stored.insert(v.value.route_dest.clone(), (v.value, v.version));
    }

    let account = ctx.caller.account_id.clone();
    let mut writes = Vec::new();
    for (dest, (as_path, community)) in &wanted {
        match stored.get(dest) {
            Some((old, _)) if &old.as_path == as_path && &old.community == community => {}
            Some((old, version)) => {
                let route = VpnRoute {
                    as_path: as_path.clone(),
                    community: community.clone(),
                    publish_vpc: publish,
                    ..old.clone()
                };
                writes.push(Write::Update(route, *version));
            }
            None => writes.push(Write::Insert(VpnRoute {
                id: VpnRoute::key(gateway_id, RouteEntryType::Bgp, dest, &conn.id),
                region_id: conn.region_id.clone(),
                vpn_gateway_id: gateway_id.to_owned(),
                route_dest: dest.clone(),
                next_hop: conn.id.clone(),
                weight: 100,
                overlay_mode: OVERLAY_IPSEC.to_owned(),
                description: String::new(),
                publish_vpc: publish,
                route_entry_type: RouteEntryType::Bgp,
                source: SOURCE_VPN_BGP.to_owned(),
                as_path: as_path.clone(),
                community: community.clone(),
                create_time_ms: ctx.now_ms,
            })),
        }
    }
    for (dest, (old, _)) in &stored {
        if !wanted.contains_key(dest) {
            writes.push(Write::Delete(old.id.clone()));
        }
    }
    let store = ctx.store();
    let results: Vec<Result<(), StoreError>> = futures_util::stream::iter(writes)
        .map(|w| {
            let (account, scope) = (&account, &scope);
            async move {
                match w {
                    Write::Insert(route) => {
                        let guard = InsertGuard {
                            quota: None,
                            idempotency: None,
                            unique: vec![("id", route.id.clone())],
                        };
                        match store.insert_typed(account, &route, guard).await {
                            // Another report wrote it first.
                            Ok(_) | Err(StoreError::Duplicate | StoreError::AlreadyExists) => {
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Write::Update(route, version) => {
                        match store.update_typed(account, &route, version).await {
                            Ok(_) | Err(StoreError::VersionConflict | StoreError::NotFound) => {
                                Ok(())
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Write::Delete(id) => match store.delete(Kind::VpnRoute, scope, &id).await {
                        Ok(()) | Err(StoreError::NotFound) => Ok(()),
                        Err(e) => Err(e),
                    },
                }
            }
        })
        .buffer_unordered(CONCURRENT_WRITES)
        .collect()
        .await;
    results
        .into_iter()
        .collect::<Result<(), _>>()
        .map_err(internal)
}

enum Write {
    Insert(VpnRoute),
    Update(VpnRoute, i64),
    Delete(String),
}
