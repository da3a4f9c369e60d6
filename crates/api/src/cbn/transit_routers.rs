//! Transit routers (CreateTransitRouter … DeleteTransitRouter), their CIDR
//! blocks (CreateTransitRouterCidr … DeleteTransitRouterCidr, kept in the
//! router's document) and ListTransitRouterAvailableResource.
//!
//! A new router is inserted first, then claimed in its CEN instance's
//! document (one Enterprise Edition transit router per region and CEN
//! instance); a refused claim deletes it again.

use vpngw_model::{
    Lifecycle, TransitRouter, catalog,
    cen::{TrCidrError, TransitRouterCidr},
    ids::{IdKind, new_id},
};
use vpngw_ops::cbn::{
    create_transit_router, create_transit_router_cidr, delete_transit_router,
    delete_transit_router_cidr, list_transit_router_available_resource, list_transit_router_cidr,
    list_transit_routers, modify_transit_router_cidr, update_transit_router,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Scope, StoreError, StoreExt, Versioned};

use super::{
    cens::{self, ACTIVE},
    check_description, check_name, refuse_dry_run, settle_ms, tag_pairs, tags_match,
};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    ram::iso8601,
    vpc::{tag_filters_of, tags},
};

/// The one type vpngw's transit routers have.
const ENTERPRISE: &str = "Enterprise";

pub(crate) fn router_not_found() -> ApiError {
    ApiError::new(
        "ParameterInstanceId",
        "The specified TransitRouterId does not exist.",
    )
}

/// `IncorrectStatus.Status`: the router is still being created (Terraform
/// retries it).
pub(crate) fn router_not_active() -> ApiError {
    ApiError::new(
        "IncorrectStatus.Status",
        "The transit router is not in a status that allows the operation.",
    )
}

fn cidr_not_found() -> ApiError {
    ApiError::new(
        "OperationFailed.CidrNotExist",
        "The specified TransitRouterCidrId does not exist.",
    )
}

fn cidr_allocated() -> ApiError {
    ApiError::new(
        "OperationFailed.CidrBlockAllocated",
        "Addresses of the CIDR block are allocated to VPN attachments.",
    )
}

/// The scope of a router: the region its id names (the call's region when
/// it has one).
pub(crate) fn router_scope(ctx: &Ctx<'_>, id: &str) -> Result<Scope, ApiError> {
    let region = match ctx.region {
        Some(r) => r,
        None => catalog::region_of_id(id).ok_or_else(router_not_found)?,
    };
    Ok(Scope {
        account_id: ctx.caller.account_id.clone(),
        region_id: region.id.to_owned(),
    })
}

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<TransitRouter>, ApiError> {
    ctx.store()
        .get_typed::<TransitRouter>(&router_scope(ctx, id)?, id)
        .await
        .map_err(internal)?
        .ok_or_else(router_not_found)
}

/// Changes a router's document by a versioned write (retried on conflict).
pub(crate) async fn change(
    ctx: &Ctx<'_>,
    id: &str,
    change: impl Fn(&mut TransitRouter) -> Result<(), ApiError>,
) -> Result<TransitRouter, ApiError> {
    for _ in 0..crate::rmw::ATTEMPTS {
        let Versioned { mut value, version } = load(ctx, id).await?;
        value.lifecycle.settle(ctx.now_ms);
        change(&mut value)?;
        match ctx
            .store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
        {
            Ok(_) => return Ok(value),
            Err(StoreError::VersionConflict) => continue,
            Err(e) => return Err(store_error(e, router_not_found)),
        }
    }
    Err(crate::errors::task_conflict())
}

fn cidr_error(e: TrCidrError) -> ApiError {
    match e {
        TrCidrError::Malformed | TrCidrError::Unsupported => ApiError::invalid_parameter("Cidr"),
        TrCidrError::Overlaps(other) => ApiError::new(
            "InvalidCidr.Overlap",
            format!("The specified Cidr overlaps the CIDR block {other} of the transit router."),
        ),
        TrCidrError::Quota => ApiError::new(
            "QuotaExceeded.TransitRouterCidr",
            "A transit router has at most 5 CIDR blocks.",
        ),
    }
}

/// The blocks of CreateTransitRouter's `TransitRouterCidrList` (a JSON list
/// of `{Cidr, Name, Description, PublishCidrRoute}`).
fn cidr_list(json: Option<&str>, router: &mut TransitRouter) -> Result<(), ApiError> {
    let Some(json) = json.filter(|j| !j.is_empty()) else {
        return Ok(());
    };
    let bad = || ApiError::invalid_parameter("TransitRouterCidrList");
    let items: Vec<serde_json::Value> = serde_json::from_str(json).map_err(|_| bad())?;
    for item in items {
        let field = |k: &str| item.get(k).and_then(serde_json::Value::as_str);
        let cidr = field("Cidr").ok_or_else(bad)?;
        let block = router.cidr_block(cidr, None).map_err(cidr_error)?;
        check_name(field("Name"), "TransitRouterCidrList.Name")?;
        check_description(field("Description"), "TransitRouterCidrList.Description")?;
        router.cidrs.push(TransitRouterCidr {
            id: new_id(IdKind::TransitRouterCidr, ""),
            cidr: block,
            name: field("Name").unwrap_or_default().to_owned(),
            description: field("Description").unwrap_or_default().to_owned(),
            publish_cidr_route: item
                .get("PublishCidrRoute")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(true),
            allocated_to: Vec::new(),
        });
    }
    Ok(())
}

pub async fn create(
    ctx: &Ctx<'_>,
    req: create_transit_router::Request,
) -> Result<create_transit_router::Answer, ApiError> {
    let region = ctx.region()?;
    check_name(req.transit_router_name.as_deref(), "TransitRouterName")?;
    check_description(
        req.transit_router_description.as_deref(),
        "TransitRouterDescription",
    )?;
    let cen = cens::load(ctx, &req.cen_id).await?.value;
    if cen.lifecycle.effective(ctx.now_ms) != ACTIVE {
        return Err(router_not_active());
    }
    let mut router = TransitRouter {
        id: new_id(IdKind::TransitRouter, region.id_prefix),
        region_id: region.id.to_owned(),
        cen_id: cen.id.clone(),
        name: req.transit_router_name.unwrap_or_default(),
        description: req.transit_router_description.unwrap_or_default(),
        support_multicast: req.support_multicast.unwrap_or(false),
        resource_group_id: cen.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        lifecycle: Lifecycle::transition("Creating", settle_ms(ctx), ACTIVE),
        tags: tags::of_request(&req.tag)?,
        cidrs: Vec::new(),
    };
    cidr_list(req.transit_router_cidr_list.as_deref(), &mut router)?;
    refuse_dry_run(req.dry_run)?;
    let guard = InsertGuard {
        idempotency: ctx.idempotency()?,
        ..InsertGuard::default()
    };
    match ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &router, guard)
        .await
        .map_err(|e| store_error(e, router_not_found))?
    {
        Inserted::Replayed { id } => {
            return Ok(create_transit_router::Answer {
                transit_router_id: id,
            });
        }
        Inserted::Created => {}
    }
    // A router the instance still lists but that is gone (a DeleteTransitRouter
    // stopped between its two writes, e.g. by kill -9) no longer holds the region.
    let mut gone = Vec::new();
    for (_, id) in cen.transit_routers.iter().filter(|(r, _)| r == region.id) {
        let found = ctx
            .store()
            .get_typed::<TransitRouter>(&ctx.scope()?, id)
            .await
            .map_err(internal)?;
        if found.is_none() {
            gone.push(id.clone());
        }
    }
    let claimed = cens::change(ctx, &cen.id, |c| {
        if c.lifecycle.effective(ctx.now_ms) != ACTIVE {
            return Err(router_not_active());
        }
        c.transit_routers.retain(|(_, id)| !gone.contains(id));
        if c.transit_routers.iter().any(|(r, _)| r == region.id) {
            return Err(ApiError::new(
                "InvalidOperation.TransitRouterExist",
                "The CEN instance already has a transit router in this region.",
            ));
        }
        c.transit_routers
            .push((region.id.to_owned(), router.id.clone()));
        Ok(())
    })
    .await;
    if let Err(e) = claimed {
        let _ = ctx
            .store()
            .delete(Kind::TransitRouter, &ctx.scope()?, &router.id)
            .await;
        return Err(e);
    }
    Ok(create_transit_router::Answer {
        transit_router_id: router.id,
    })
}

/// ListTransitRouters: the routers of the region, filtered by `CenId`,
/// `TransitRouterId`, `TransitRouterName`, `Status`, `Type` and `Tag.N`;
/// pages of at most 50.
pub async fn list(
    ctx: &Ctx<'_>,
    req: list_transit_routers::Request,
) -> Result<list_transit_routers::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::TransitRouter, ctx.scope()?, ctx.now_ms);
    q.limit = super::LIST_ALL;
    if let Some(id) = req.transit_router_id.as_deref().filter(|i| !i.is_empty()) {
        q.ids = vec![id.to_owned()];
    }
    if let Some(cen) = req.cen_id.as_deref().filter(|c| !c.is_empty()) {
        q.fields.push(("cen_id", cen.to_owned()));
    }
    if let Some(name) = req.transit_router_name.as_deref().filter(|n| !n.is_empty()) {
        q.fields.push(("name", name.to_owned()));
    }
    let tag_filters = tag_filters_of(&req.tag);
    let (all, _) = ctx
        .store()
        .list_typed::<TransitRouter>(&q)
        .await
        .map_err(internal)?;
    let type_ok = req
        .r#type
        .as_deref()
        .is_none_or(|t| t.is_empty() || t == ENTERPRISE);
    let kept: Vec<&TransitRouter> = all
        .iter()
        .filter(|t| {
            type_ok
                && req
                    .status
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || s == t.lifecycle.effective(ctx.now_ms))
                && tags_match(&t.tags, &tag_filters)
        })
        .collect();
    let total = kept.len();
    let owner: i64 = ctx.caller.account_id.parse().unwrap_or_default();
    let transit_routers = kept
        .into_iter()
        .skip(((number - 1) * size) as usize)
        .take(size as usize)
        .map(|t| list_transit_routers::TransitRouters {
            ali_uid: owner,
            cen_id: t.cen_id.clone(),
            creation_time: iso8601(t.create_time_ms),
            region_id: t.region_id.clone(),
            status: t.lifecycle.effective(ctx.now_ms).to_owned(),
            support_multicast: t.support_multicast,
            tags: tag_pairs(&t.tags)
                .map(|(key, value)| list_transit_routers::Tags { key, value })
                .collect(),
            transit_router_cidr_list: t
                .cidrs
                .iter()
                .map(|c| list_transit_routers::TransitRouterCidrList {
                    cidr: c.cidr.to_string(),
                    description: c.description.clone(),
                    name: c.name.clone(),
                    publish_cidr_route: c.publish_cidr_route,
                    transit_router_cidr_id: c.id.clone(),
                })
                .collect(),
            transit_router_description: t.description.clone(),
            transit_router_id: t.id.clone(),
            transit_router_name: t.name.clone(),
            r#type: ENTERPRISE.into(),
        })
        .collect();
    Ok(list_transit_routers::Answer {
        page_number: number,
        page_size: size,
        total_count: total as i64,
        transit_routers,
    })
}

pub async fn update(
    ctx: &Ctx<'_>,
    req: update_transit_router::Request,
) -> Result<update_transit_router::Answer, ApiError> {
    check_name(req.transit_router_name.as_deref(), "TransitRouterName")?;
    check_description(
        req.transit_router_description.as_deref(),
        "TransitRouterDescription",
    )?;
    let tr = load(ctx, &req.transit_router_id).await?.value;
    if tr.lifecycle.effective(ctx.now_ms) != ACTIVE {
        return Err(router_not_active());
    }
    refuse_dry_run(req.dry_run)?;
    change(ctx, &req.transit_router_id, |t| {
        if let Some(n) = &req.transit_router_name {
            t.name = n.clone();
        }
        if let Some(d) = &req.transit_router_description {
            t.description = d.clone();
        }
        Ok(())
    })
    .await?;
    Ok(update_transit_router::Answer {})
}

/// DeleteTransitRouter: refused while a VPN attachment holds it
/// (`InvalidOperation.AttachedChildInstanceExist`, which Terraform
/// retries); its CIDR blocks go with it; then it leaves its CEN instance's
/// list.
pub async fn delete(
    ctx: &Ctx<'_>,
    req: delete_transit_router::Request,
) -> Result<delete_transit_router::Answer, ApiError> {
    let tr = load(ctx, &req.transit_router_id).await?.value;
    if tr.lifecycle.effective(ctx.now_ms) != ACTIVE {
        return Err(router_not_active());
    }
    refuse_dry_run(req.dry_run)?;
    ctx.store()
        .delete(Kind::TransitRouter, &router_scope(ctx, &tr.id)?, &tr.id)
        .await
        .map_err(|e| match e {
            StoreError::Referenced { .. } => ApiError::new(
                "InvalidOperation.AttachedChildInstanceExist",
                "The transit router still has attachments; delete them first.",
            ),
            e => store_error(e, router_not_found),
        })?;
    match cens::change(ctx, &tr.cen_id, |c| {
        c.transit_routers.retain(|(_, id)| id != &tr.id);
        Ok(())
    })
    .await
    {
        Ok(_) => {}
        // The CEN instance is gone already: nothing lists the router.
        Err(e) if e.code == "ParameterCenInstanceId" => {}
        Err(e) => return Err(e),
    }
    Ok(delete_transit_router::Answer {})
}

// ---------------------------------------------------------------- CIDR blocks

pub async fn create_cidr(
    ctx: &Ctx<'_>,
    req: create_transit_router_cidr::Request,
) -> Result<create_transit_router_cidr::Answer, ApiError> {
    check_name(req.name.as_deref(), "Name")?;
    check_description(req.description.as_deref(), "Description")?;
    let tr = load(ctx, &req.transit_router_id).await?.value;
    if tr.lifecycle.effective(ctx.now_ms) != ACTIVE {
        return Err(router_not_active());
    }
    tr.cidr_block(&req.cidr, None).map_err(cidr_error)?;
    refuse_dry_run(req.dry_run)?;
    let id = new_id(IdKind::TransitRouterCidr, "");
    change(ctx, &req.transit_router_id, |t| {
        let block = t.cidr_block(&req.cidr, None).map_err(cidr_error)?;
        t.cidrs.push(TransitRouterCidr {
            id: id.clone(),
            cidr: block,
            name: req.name.clone().unwrap_or_default(),
            description: req.description.clone().unwrap_or_default(),
            publish_cidr_route: req.publish_cidr_route.unwrap_or(true),
            allocated_to: Vec::new(),
        });
        Ok(())
    })
    .await?;
    Ok(create_transit_router_cidr::Answer {
        transit_router_cidr_id: id,
    })
}

/// ListTransitRouterCidr: the router's blocks (or the one named); a router
/// that does not exist has none.
pub async fn list_cidrs(
    ctx: &Ctx<'_>,
    req: list_transit_router_cidr::Request,
) -> Result<list_transit_router_cidr::Answer, ApiError> {
    refuse_dry_run(req.dry_run)?;
    let tr = ctx
        .store()
        .get_typed::<TransitRouter>(&ctx.scope()?, &req.transit_router_id)
        .await
        .map_err(internal)?;
    let want = req
        .transit_router_cidr_id
        .as_deref()
        .filter(|c| !c.is_empty());
    let cidr_lists = tr
        .map(|t| t.value)
        .into_iter()
        .flat_map(|t| {
            let tr_id = t.id.clone();
            t.cidrs.into_iter().map(move |c| (tr_id.clone(), c))
        })
        .filter(|(_, c)| want.is_none_or(|w| w == c.id))
        .map(|(tr_id, c)| list_transit_router_cidr::CidrLists {
            cidr: c.cidr.to_string(),
            description: c.description,
            family: "IPv4".into(),
            name: c.name,
            publish_cidr_route: c.publish_cidr_route,
            transit_router_cidr_id: c.id,
            transit_router_id: tr_id,
        })
        .collect();
    Ok(list_transit_router_cidr::Answer { cidr_lists })
}

pub async fn modify_cidr(
    ctx: &Ctx<'_>,
    req: modify_transit_router_cidr::Request,
) -> Result<modify_transit_router_cidr::Answer, ApiError> {
    check_name(req.name.as_deref(), "Name")?;
    check_description(req.description.as_deref(), "Description")?;
    let tr = load(ctx, &req.transit_router_id).await?.value;
    if !tr.cidrs.iter().any(|c| c.id == req.transit_router_cidr_id) {
        return Err(cidr_not_found());
    }
    refuse_dry_run(req.dry_run)?;
    change(ctx, &req.transit_router_id, |t| {
        let new_block = match req.cidr.as_deref().filter(|c| !c.is_empty()) {
            Some(c) => Some(
                t.cidr_block(c, Some(&req.transit_router_cidr_id))
                    .map_err(cidr_error)?,
            ),
            None => None,
        };
        let cidr = t
            .cidrs
            .iter_mut()
            .find(|c| c.id == req.transit_router_cidr_id)
            .ok_or_else(cidr_not_found)?;
        if let Some(b) = new_block
            && b != cidr.cidr
        {
            if !cidr.allocated_to.is_empty() {
                return Err(cidr_allocated());
            }
            cidr.cidr = b;
        }
        if let Some(n) = &req.name {
            cidr.name = n.clone();
        }
        if let Some(d) = &req.description {
            cidr.description = d.clone();
        }
        if let Some(p) = req.publish_cidr_route {
            cidr.publish_cidr_route = p;
        }
        Ok(())
    })
    .await?;
    Ok(modify_transit_router_cidr::Answer {})
}

/// DeleteTransitRouterCidr: refused while a VPN attachment holds an address
/// of the block (`OperationFailed.CidrBlockAllocated`, which Terraform
/// retries); an unknown block is `OperationFailed.CidrNotExist`.
pub async fn delete_cidr(
    ctx: &Ctx<'_>,
    req: delete_transit_router_cidr::Request,
) -> Result<delete_transit_router_cidr::Answer, ApiError> {
    let tr = load(ctx, &req.transit_router_id).await?.value;
    if !tr.cidrs.iter().any(|c| c.id == req.transit_router_cidr_id) {
        return Err(cidr_not_found());
    }
    refuse_dry_run(req.dry_run)?;
    change(ctx, &req.transit_router_id, |t| {
        let cidr = t
            .cidrs
            .iter()
            .find(|c| c.id == req.transit_router_cidr_id)
            .ok_or_else(cidr_not_found)?;
        if !cidr.allocated_to.is_empty() {
            return Err(cidr_allocated());
        }
        t.cidrs.retain(|c| c.id != req.transit_router_cidr_id);
        Ok(())
    })
    .await?;
    Ok(delete_transit_router_cidr::Answer {})
}

/// ListTransitRouterAvailableResource: every zone of the region's catalogue
/// is a master and a slave zone (vpngw's zones are alike).
pub async fn available_resource(
    ctx: &Ctx<'_>,
    req: list_transit_router_available_resource::Request,
) -> Result<list_transit_router_available_resource::Answer, ApiError> {
    let region = ctx.region()?;
    let zones: Vec<String> = region.zones.iter().map(|z| z.id.to_owned()).collect();
    Ok(list_transit_router_available_resource::Answer {
        available_zones: zones.clone(),
        master_zones: zones.clone(),
        slave_zones: zones,
        support_multicast: req.support_multicast.unwrap_or(false),
    })
}
