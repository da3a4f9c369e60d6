//! `WatchGatewayState`: a gateway's agent learns of a change of its desired
//! state as soon as it commits, instead of polling.
//!
//! A long poll with a revision. The agent sends the `Revision` it has (none
//! at first); the server answers at once when the gateway's revision
//! (`Store::gateway_changes`, moved by every write of what belongs to the
//! gateway, `Kind::gateway_bond`) is another, else when it moves, else after
//! `WaitSeconds` (at most [`MAX_WAIT_S`]) with `Changed: false`. The answer
//! carries the new `Revision` and:
//! - with `Full: true` (no revision given, or one the server no longer has
//!   the changes since): the gateway, every one of its connections and the
//!   addresses of their customer gateways;
//! - with `Full: false`: the gateway, the connections that changed since the
//!   revision given (also those whose customer gateway changed), the ids of
//!   those deleted, and the addresses of their customer gateways.
//!
//! With either, `VcoRoutesChanged` when a VCO route may have changed (always
//! with `Full`), and with `Full: false` the connections whose VCO routes
//! changed (`VcoRouteConnectionIds`), so that the agent reads only theirs.
//! The other routes and the remote-access servers are not in the answer: a
//! change of them moves the revision, and the agent reads them through the
//! public calls after an answer with `Changed`.
//!
//! Items are the public answers (DescribeVpnGateway, DescribeVpnConnections
//! items with their pre-shared keys, DescribeCustomerGateway's `IpAddress`),
//! so that the agent computes the configuration digest it reports exactly
//! as from those calls. A deleted gateway is its NotFound error.
//!
//! Who may call it: root, or a RAM identity allowed `vpngw:WatchGatewayState`
//! on the gateway (`acs:vpc:{region}:{account}:vpngateway/{id}`). Not audited:
//! a read.
//!
//! The server stops waiting when it shuts down (`Service::close`), so a
//! graceful stop is not held up by agents; any HTTP timeout on a request in
//! progress must leave a long poll [`MAX_WAIT_S`] plus a margin.

use std::collections::BTreeMap;
use std::time::Duration;

use vpngw_model::{
    VpnConnection,
    dataplane::{CustomerGatewayAddress, WatchAnswer as Answer},
};
use vpngw_protocol::ApiError;
use vpngw_store::{GatewayChanges, Kind, ListQuery, StoreExt};

use crate::{
    Ctx,
    actions::Reply,
    context::internal,
    vpc::{self, reply},
};

/// The longest a `WatchGatewayState` request is held open, in seconds. An
/// HTTP server timeout that would cut a request in progress must be longer;
/// an agent's client timeout is this plus a margin.
pub const MAX_WAIT_S: i64 = 25;

/// `WaitSeconds` when not given.
pub const DEFAULT_WAIT_S: i64 = 20;

fn invalid(name: &str) -> ApiError {
    ApiError::invalid_parameter(name)
}

pub async fn watch(ctx: &Ctx<'_>) -> Reply {
    let gateway_id = ctx.params.required("VpnGatewayId")?;
    let since: Option<i64> = match ctx.opt("Revision") {
        None => None,
        Some(r) => Some(
            r.parse::<i64>()
                .ok()
                .filter(|r| *r >= 0)
                .ok_or_else(|| invalid("Revision"))?,
        ),
    };
    let wait_s = ctx.params.i64("WaitSeconds")?.unwrap_or(DEFAULT_WAIT_S);
    if !(0..=MAX_WAIT_S).contains(&wait_s) {
        return Err(invalid("WaitSeconds"));
    }
    // The caller's gateway, or its NotFound.
    vpc::vpn_gateway::load(ctx, gateway_id).await?;
    let store = ctx.store();
    let subscription = store.gateway_feed().subscribe(gateway_id);
    let mut closing = ctx.inner.closing.subscribe();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait_s.unsigned_abs());
    loop {
        // Waiting starts before the read, so that a change committed in
        // between wakes it.
        let woken = subscription.notify().notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        let changes = store
            .gateway_changes(gateway_id, since.unwrap_or(0))
            .await
            .map_err(internal)?;
        let unchanged = since.is_some_and(|s| s == changes.revision) && changes.changed.is_some();
        if !unchanged {
            return changed(ctx, gateway_id, since.is_none(), changes).await;
        }
        tokio::select! {
            () = &mut woken => {}
            () = tokio::time::sleep_until(deadline) => break,
            _ = closing.wait_for(|c| *c) => break,
        }
    }
    reply(&Answer {
        revision: since.unwrap_or(0).to_string(),
        ..Answer::default()
    })
}

/// The answer for a revision that moved (or a first read).
async fn changed(ctx: &Ctx<'_>, gateway_id: &str, first: bool, changes: GatewayChanges) -> Reply {
    // Read after the revision: whatever changed since is read now, or again
    // next time.
    let gateway = vpc::vpn_gateway::load(ctx, gateway_id).await?;
    let scope = ctx.scope()?;
    let mut answer = Answer {
        revision: changes.revision.to_string(),
        changed: true,
        full: first || changes.changed.is_none(),
        vco_routes_changed: first || changes.changed.is_none(),
        vpn_gateway: Some(vpc::vpn_gateway::view(&gateway.value, ctx.now_ms)),
        v_switch_cidr_blocks: vswitch_blocks(ctx, &gateway.value.vpc_id).await?,
        ..Answer::default()
    };
    let of_gateway = |q: &mut ListQuery| {
        q.parent_id = Some(gateway_id.to_owned());
        q.limit = u64::MAX;
    };
    let mut connections: BTreeMap<String, VpnConnection> = BTreeMap::new();
    match changes.changed.filter(|_| !first) {
        None => {
            // Every connection, in one snapshot.
            let mut q = ListQuery::new(Kind::VpnConnection, scope.clone(), ctx.now_ms);
            of_gateway(&mut q);
            let (all, _) = store_list(ctx, &q).await?;
            connections.extend(all.into_iter().map(|c| (c.id.clone(), c)));
        }
        Some(changed) => {
            for (kind, id) in changed {
                match kind {
                    Kind::VpnConnection => {
                        match ctx
                            .store()
                            .get_typed::<VpnConnection>(&scope, &id)
                            .await
                            .map_err(internal)?
                        {
                            Some(c) if c.value.vpn_gateway_id.as_deref() == Some(gateway_id) => {
                                connections.insert(id, c.value);
                            }
                            _ => answer.deleted_vpn_connection_ids.push(id),
                        }
                    }
                    // The connections using a changed customer gateway.
                    Kind::CustomerGateway => {
                        let mut q = ListQuery::new(Kind::VpnConnection, scope.clone(), ctx.now_ms);
                        of_gateway(&mut q);
                        q.linked_to = Some(id);
                        let (using, _) = store_list(ctx, &q).await?;
                        connections.extend(using.into_iter().map(|c| (c.id.clone(), c)));
                    }
                    Kind::VcoRoute => {
                        answer.vco_routes_changed = true;
                        // A VCO route is filed under its connection
                        // (`VcoRoute::key`), so a deleted one still names it.
                        let connection = id.split('/').next().unwrap_or_default();
                        if !answer
                            .vco_route_connection_ids
                            .iter()
                            .any(|c| c == connection)
                        {
                            answer.vco_route_connection_ids.push(connection.to_owned());
                        }
                    }
                    // The gateway is in every answer; the other routes and
                    // the servers are read by the agent.
                    _ => {}
                }
            }
        }
    }
    let mut cgws: BTreeMap<String, String> = BTreeMap::new();
    for c in connections.values() {
        let view = vpc::connection::list_item(ctx, c)?;
        let used = c
            .customer_gateway_id
            .iter()
            .chain(c.tunnels.iter().map(|t| &t.customer_gateway_id));
        for id in used {
            if !cgws.contains_key(id)
                && let Ok(cgw) = vpc::customer_gateway::load(ctx, id).await
            {
                cgws.insert(id.clone(), cgw.value.ip_address);
            }
        }
        answer.vpn_connections.push(view);
    }
    answer.customer_gateways = cgws
        .into_iter()
        .map(|(customer_gateway_id, ip_address)| CustomerGatewayAddress {
            customer_gateway_id,
            ip_address,
        })
        .collect();
    reply(&answer)
}

/// See [`Answer::v_switch_cidr_blocks`](vpngw_model::dataplane::WatchAnswer::v_switch_cidr_blocks). A vSwitch written moves the
/// revisions of the gateways in its VPC (the VPC's document keeps the
/// blocks, and a VPC belongs to the gateways placed in it).
async fn vswitch_blocks(ctx: &Ctx<'_>, vpc_id: &str) -> Result<Vec<String>, ApiError> {
    let vpc = ctx
        .store()
        .get_typed::<vpngw_model::Vpc>(&ctx.scope()?, vpc_id)
        .await
        .map_err(internal)?;
    Ok(vpc
        .map(|v| {
            v.value
                .vswitch_blocks
                .iter()
                .map(|(_, block)| block.to_string())
                .collect()
        })
        .unwrap_or_default())
}

async fn store_list(ctx: &Ctx<'_>, q: &ListQuery) -> Result<(Vec<VpnConnection>, u64), ApiError> {
    ctx.store()
        .list_typed::<VpnConnection>(q)
        .await
        .map_err(internal)
}
