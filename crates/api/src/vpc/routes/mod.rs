//! Routes: an IPsec connection's own routes (`*VcoRouteEntry*`, [`vco`]),
//! and a VPN gateway's destination-based (`*VpnRouteEntry*`,
//! [`gateway`]) and policy-based (`*VpnPbrRouteEntry*`, [`pbr`]) routes.
//!
//! The cloud names routes by their fields, never by an ID; the stored key is
//! derived from the identifying fields (see `vpngw_model::routes`). A route
//! is filed under its VPN gateway (or connection) and links to its next-hop
//! connection, and a connection takes its routes with it when it is deleted
//! ([`CASCADE`]). Writes answer at once; with `gateway_update_delay_ms` set,
//! the gateway (or connection) then reports `updating` for that long and
//! overlapping writes get `VpnGateway.Configuring` / `VpnConnection.Configuring`,
//! as on the cloud.

pub mod auto;
pub mod gateway;
pub mod pbr;
pub mod vco;

use vpngw_model::{
    Lifecycle, VpnConnection, VpnGateway,
    routes::{self, OVERLAY_IPSEC, PRIORITY_RANGE, RouteEntryType, WEIGHTS},
    validate,
};
use vpngw_protocol::ApiError;
use vpngw_store::{
    Idempotency, InsertGuard, Inserted, Kind, Quota, Resource, StoreError, StoreExt, Versioned,
};

use super::{connection, given, vpn_gateway};
use crate::{
    Ctx,
    context::{internal, store_error},
    errors,
};

/// What a connection's deletion takes with it: every route that names it
/// (as next hop, or as the connection the route belongs to).
pub(crate) const CASCADE: &[Kind] = &[Kind::VcoRoute, Kind::VpnRoute, Kind::VpnPbrRoute];

/// Routes per VPN gateway, per table (destination-based, policy-based), and
/// per connection: the cloud's default quotas (VPN Gateway "Limits": 20
/// policy-based and 20 destination-based routes per gateway).
pub(crate) const ROUTES_PER_TABLE: u32 = 20;

/// A CIDR parameter (`RouteDest`, `RouteSource`), normalised.
pub(crate) fn cidr(name: &str, value: &str) -> Result<String, ApiError> {
    routes::route_cidr(value).ok_or_else(|| errors::illegal_subnet(name, value))
}

/// A weight parameter: 0 (standby) or 100 (active).
pub(crate) fn weight(name: &str, w: i64) -> Result<i64, ApiError> {
    if !WEIGHTS.contains(&w) {
        return Err(ApiError::invalid_parameter_because(
            name,
            "the weight of a route is 0 or 100.",
        ));
    }
    Ok(w)
}

/// A priority parameter of a policy-based route: 1–100.
pub(crate) fn priority(name: &str, p: i64) -> Result<i64, ApiError> {
    if !PRIORITY_RANGE.contains(&p) {
        return Err(ApiError::invalid_parameter_because(
            name,
            "the priority of a policy-based route is 1 to 100.",
        ));
    }
    Ok(p)
}

/// `OverlayMode`: only `Ipsec` exists, and it is the default.
pub(crate) fn overlay_mode(mode: &Option<String>) -> Result<String, ApiError> {
    match given(mode) {
        None | Some(OVERLAY_IPSEC) => Ok(OVERLAY_IPSEC.to_owned()),
        Some(_) => Err(ApiError::invalid_parameter("OverlayMode")),
    }
}

/// `Description`: 1–100 characters, not starting with `http://`/`https://`.
pub(crate) fn description(d: &Option<String>) -> Result<String, ApiError> {
    match given(d) {
        None => Ok(String::new()),
        Some(d) if d.chars().count() <= 100 && validate::description(d) => Ok(d.to_owned()),
        Some(_) => Err(errors::invalid_description()),
    }
}

/// `RouteEntryType` of the Describe calls: `custom` (default) or `bgp`.
pub(crate) fn entry_type(t: &Option<String>) -> Result<RouteEntryType, ApiError> {
    match given(t) {
        None => Ok(RouteEntryType::Custom),
        Some(t) => {
            RouteEntryType::parse(t).ok_or_else(|| ApiError::invalid_parameter("RouteEntryType"))
        }
    }
}

/// `DryRun=true`: every check passed, nothing is written.
pub(crate) fn refuse_dry_run(dry_run: Option<bool>) -> Result<(), ApiError> {
    if dry_run.unwrap_or(false) {
        return Err(errors::dry_run_passed());
    }
    Ok(())
}

/// A gateway that can take a route write now.
pub(crate) async fn active_gateway(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Versioned<VpnGateway>, ApiError> {
    let gateway = vpn_gateway::load(ctx, id).await?;
    vpn_gateway::require_active(&gateway.value, ctx.now_ms)?;
    Ok(gateway)
}

/// The next hop of a gateway route: a connection of that gateway. Anything
/// else is the connection NotFound (404).
pub(crate) async fn next_hop(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    id: &str,
) -> Result<VpnConnection, ApiError> {
    let conn = connection::load(ctx, id).await?;
    if gateway_of(&conn.value) != Some(gateway_id) {
        return Err(errors::vpn_connection_not_found());
    }
    Ok(conn.value)
}

/// The VPN gateway of a connection; `None` for a transit-router attachment.
pub(crate) fn gateway_of(conn: &VpnConnection) -> Option<&str> {
    conn.vpn_gateway_id.as_deref()
}

/// After a successful route write on a gateway: with an update delay
/// configured, the gateway reports `updating` for that long.
pub(crate) async fn gateway_task(ctx: &Ctx<'_>, gateway_id: &str) -> Result<(), ApiError> {
    mark_updating::<VpnGateway>(ctx, gateway_id, |g| &mut g.lifecycle).await
}

/// After a successful route write on a connection: the same, for the
/// connection's `State`.
pub(crate) async fn connection_task(ctx: &Ctx<'_>, id: &str) -> Result<(), ApiError> {
    mark_updating::<VpnConnection>(ctx, id, |c| &mut c.state).await
}

/// Puts the owner of a route table in `updating` for the configured update
/// delay (none by default). A writer that lost the race already put it
/// there, and an owner deleted meanwhile has nothing to report, so neither
/// is an error.
async fn mark_updating<R: Resource>(
    ctx: &Ctx<'_>,
    id: &str,
    lifecycle: fn(&mut R) -> &mut Lifecycle,
) -> Result<(), ApiError> {
    let delay = ctx.config().gateway_update_delay_ms;
    if delay <= 0 {
        return Ok(());
    }
    let stored = ctx.store().get_typed::<R>(&ctx.scope()?, id).await;
    let Some(Versioned { mut value, version }) = stored.map_err(internal)? else {
        return Ok(());
    };
    lifecycle(&mut value).interrupt("updating", ctx.now_ms, ctx.now_ms + delay);
    match ctx
        .store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
    {
        Ok(_) | Err(StoreError::VersionConflict) | Err(StoreError::NotFound) => Ok(()),
        Err(e) => Err(internal(e)),
    }
}

/// Files a new route under its owner's quota ([`ROUTES_PER_TABLE`]); its key
/// is unique, and a `ClientToken` replay (`idempotency`, from
/// [`Ctx::idempotency`]) answers the route stored first.
pub(crate) async fn insert_route<R: Resource>(
    ctx: &Ctx<'_>,
    route: &R,
    idempotency: Option<Idempotency>,
) -> Result<Inserted, StoreError> {
    let guard = InsertGuard {
        quota: Some(Quota {
            limit: ROUTES_PER_TABLE,
            per_parent: true,
        }),
        idempotency,
        unique: vec![("id", route.id().to_owned())],
    };
    ctx.store()
        .insert_typed(&ctx.caller.account_id, route, guard)
        .await
}

/// A stored route by its key; a missing one is the cloud's route NotFound.
pub(crate) async fn load_route<R: Resource>(
    ctx: &Ctx<'_>,
    id: &str,
) -> Result<Versioned<R>, ApiError> {
    ctx.store()
        .get_typed::<R>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::route_not_found)
}

/// Writes a changed route back (a concurrent change wins: conflict error).
pub(crate) async fn save_route<R: Resource>(
    ctx: &Ctx<'_>,
    route: &R,
    version: i64,
) -> Result<(), ApiError> {
    ctx.store()
        .update_typed(&ctx.caller.account_id, route, version)
        .await
        .map(|_| ())
        .map_err(|e| store_error(e, errors::route_not_found))
}

/// How a Delete/Modify call names a custom route: `RouteDest` and
/// `NextHop`, and the `Weight` the route must have now.
pub(crate) struct Named<'a> {
    pub dest: &'a str,
    pub hop: &'a str,
    pub weight: i64,
}

/// The custom route a Delete/Modify call names (`key` makes its stored key
/// of destination and next hop), which must have the request's `Weight`
/// now: any mismatch is the route NotFound, as on the cloud.
pub(crate) async fn find_custom<R: Resource>(
    ctx: &Ctx<'_>,
    named: Named<'_>,
    key: impl FnOnce(&str, &str) -> String,
    weight_of: fn(&R) -> i64,
) -> Result<Versioned<R>, ApiError> {
    let dest = cidr("RouteDest", named.dest)?;
    let weight = weight("Weight", named.weight)?;
    let route = load_route::<R>(ctx, &key(&dest, named.hop)).await?;
    if weight_of(&route.value) != weight {
        return Err(errors::route_not_found());
    }
    Ok(route)
}

pub(crate) async fn delete_route<R: Resource>(ctx: &Ctx<'_>, route: &R) -> Result<(), ApiError> {
    ctx.store()
        .delete(R::KIND, &ctx.scope()?, route.id())
        .await
        .map_err(|e| store_error(e, errors::route_not_found))
}

/// Maps the errors of a route insert.
pub(crate) fn insert_error(e: StoreError, dest: &str, quota: fn(u32) -> ApiError) -> ApiError {
    match e {
        StoreError::Duplicate | StoreError::AlreadyExists => errors::route_duplicated(dest),
        StoreError::QuotaExceeded { limit } => quota(limit),
        e => store_error(e, errors::route_not_found),
    }
}

/// The page number and size of a Describe call, with its `(offset, limit)`.
pub(crate) fn page(
    number: Option<i64>,
    size: Option<i64>,
) -> Result<(i64, i64, u64, u64), ApiError> {
    let (number, size) = crate::context::page(number, size, 50)?;
    let offset = u64::try_from((number - 1).saturating_mul(size)).unwrap_or(u64::MAX);
    let limit = u64::try_from(size).unwrap_or(10);
    Ok((number, size, offset, limit))
}

/// Non-empty strings only: BGP attributes are absent from custom routes.
pub(crate) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}
