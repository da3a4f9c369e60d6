//! CreateCen, DescribeCens, ModifyCenAttribute, DeleteCen: the CEN instance,
//! global (kept in the store's `GLOBAL_REGION` scope), `Creating` then
//! `Active`. Its document lists its transit routers, claimed by versioned
//! writes, so DeleteCen (which marks it `Deleting` by one) and
//! CreateTransitRouter never race past each other.

use vpngw_model::{
    CenInstance, Lifecycle, TransitRouter,
    cen::GLOBAL_REGION,
    ids::{IdKind, new_id},
};
use vpngw_ops::cbn::{create_cen, delete_cen, describe_cens, modify_cen_attribute};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, Scope, StoreError, StoreExt, Versioned};

use super::{check_description, check_name, settle_ms, tag_pairs, tags_match};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    ram::iso8601,
    vpc::{tag_filters_of, tags},
};

pub(crate) const ACTIVE: &str = "Active";
const DELETING: &str = "Deleting";
const PROTECTION_LEVELS: [&str; 2] = ["REDUCED", "FULL"];

pub(crate) fn cen_not_found() -> ApiError {
    ApiError::new(
        "ParameterCenInstanceId",
        "The specified CenId does not exist.",
    )
}

/// The scope of the caller's CEN instances.
pub(crate) fn global_scope(ctx: &Ctx<'_>) -> Scope {
    Scope {
        account_id: ctx.caller.account_id.clone(),
        region_id: GLOBAL_REGION.to_owned(),
    }
}

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<CenInstance>, ApiError> {
    ctx.store()
        .get_typed::<CenInstance>(&global_scope(ctx), id)
        .await
        .map_err(internal)?
        .ok_or_else(cen_not_found)
}

/// Changes a CEN instance's document by a versioned write, re-reading and
/// retrying when another writer got there first; `change` may refuse.
pub(crate) async fn change(
    ctx: &Ctx<'_>,
    id: &str,
    change: impl Fn(&mut CenInstance) -> Result<(), ApiError>,
) -> Result<CenInstance, ApiError> {
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
            Err(e) => return Err(store_error(e, cen_not_found)),
        }
    }
    Err(crate::errors::task_conflict())
}

fn check_protection_level(level: Option<&str>) -> Result<(), ApiError> {
    match level {
        Some(l) if !PROTECTION_LEVELS.contains(&l) => {
            Err(ApiError::invalid_parameter("ProtectionLevel"))
        }
        _ => Ok(()),
    }
}

pub async fn create(
    ctx: &Ctx<'_>,
    req: create_cen::Request,
) -> Result<create_cen::Answer, ApiError> {
    check_name(req.name.as_deref(), "Name")?;
    check_description(req.description.as_deref(), "Description")?;
    check_protection_level(req.protection_level.as_deref())?;
    let cen = CenInstance {
        id: new_id(IdKind::Cen, ""),
        name: req.name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        protection_level: req.protection_level.unwrap_or_else(|| "REDUCED".into()),
        resource_group_id: crate::resourcemanager::resource_groups::DEFAULT_GROUP_ID.to_owned(),
        create_time_ms: ctx.now_ms,
        lifecycle: Lifecycle::transition("Creating", settle_ms(ctx), ACTIVE),
        tags: tags::of_request(&req.tag)?,
        transit_routers: Vec::new(),
    };
    let guard = InsertGuard {
        idempotency: ctx.idempotency()?,
        ..InsertGuard::default()
    };
    let id = match ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &cen, guard)
        .await
        .map_err(|e| store_error(e, cen_not_found))?
    {
        Inserted::Created => cen.id,
        Inserted::Replayed { id } => id,
    };
    Ok(create_cen::Answer { cen_id: id })
}

/// DescribeCens: `Filter.N.Key` `CenId`, `Name`, `Status` or
/// `ProtectionLevel` with its `Value.N` (any of them), `ResourceGroupId`,
/// `Tag.N`; pages of at most 50.
pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: describe_cens::Request,
) -> Result<describe_cens::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut filters: Vec<(&str, &[String])> = Vec::new();
    for f in &req.filter {
        let key = f.key.as_deref().unwrap_or("");
        if !["CenId", "Name", "Status", "ProtectionLevel"].contains(&key) {
            return Err(ApiError::invalid_parameter("Filter.Key"));
        }
        filters.push((key, &f.value));
    }
    let tag_filters = tag_filters_of(&req.tag);
    let mut q = vpngw_store::ListQuery::new(Kind::CenInstance, global_scope(ctx), ctx.now_ms);
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    q.limit = super::LIST_ALL;
    let (all, _) = ctx
        .store()
        .list_typed::<CenInstance>(&q)
        .await
        .map_err(internal)?;
    let kept: Vec<&CenInstance> = all
        .iter()
        .filter(|c| {
            let status = c.lifecycle.effective(ctx.now_ms);
            filters.iter().all(|(key, values)| {
                let have = match *key {
                    "CenId" => c.id.as_str(),
                    "Name" => c.name.as_str(),
                    "Status" => status,
                    _ => c.protection_level.as_str(),
                };
                values.is_empty() || values.iter().any(|v| v == have)
            }) && tags_match(&c.tags, &tag_filters)
        })
        .collect();
    let total = kept.len();
    let cen = kept
        .into_iter()
        .skip(((number - 1) * size) as usize)
        .take(size as usize)
        .map(|c| describe_cens::Cen {
            cen_bandwidth_package_ids: Default::default(),
            cen_id: c.id.clone(),
            creation_time: iso8601(c.create_time_ms),
            description: c.description.clone(),
            ipv6_level: "DISABLED".into(),
            name: c.name.clone(),
            protection_level: c.protection_level.clone(),
            resource_group_id: c.resource_group_id.clone(),
            status: c.lifecycle.effective(ctx.now_ms).to_owned(),
            tags: describe_cens::Tags {
                tag: tag_pairs(&c.tags)
                    .map(|(key, value)| describe_cens::Tag { key, value })
                    .collect(),
            },
        })
        .collect();
    Ok(describe_cens::Answer {
        cens: describe_cens::Cens { cen },
        page_number: number,
        page_size: size,
        total_count: total as i64,
    })
}

pub async fn modify(
    ctx: &Ctx<'_>,
    req: modify_cen_attribute::Request,
) -> Result<modify_cen_attribute::Answer, ApiError> {
    check_name(req.name.as_deref(), "Name")?;
    check_description(req.description.as_deref(), "Description")?;
    check_protection_level(req.protection_level.as_deref())?;
    change(ctx, &req.cen_id, |c| {
        if c.lifecycle.effective(ctx.now_ms) != ACTIVE {
            return Err(status_forbids());
        }
        if let Some(n) = &req.name {
            c.name = n.clone();
        }
        if let Some(d) = &req.description {
            c.description = d.clone();
        }
        if let Some(p) = &req.protection_level {
            c.protection_level = p.clone();
        }
        Ok(())
    })
    .await?;
    Ok(modify_cen_attribute::Answer {})
}

/// `InvalidOperation.CenInstanceStatus`: the instance is still being created
/// or already being deleted (Terraform retries it).
fn status_forbids() -> ApiError {
    ApiError::new(
        "InvalidOperation.CenInstanceStatus",
        "The operation is not allowed in the current status of the CEN instance.",
    )
}

/// DeleteCen: refused while a transit router of the instance exists
/// (`InvalidOperation.AttachedChildInstanceExist`); otherwise marked
/// `Deleting` by a versioned write (no transit router can be claimed after
/// it), then deleted.
pub async fn delete(
    ctx: &Ctx<'_>,
    req: delete_cen::Request,
) -> Result<delete_cen::Answer, ApiError> {
    let cen = load(ctx, &req.cen_id).await?.value;
    // Transit routers listed whose record is gone (a deletion interrupted
    // between its two writes) no longer count.
    let mut live = Vec::new();
    for (region, id) in &cen.transit_routers {
        let scope = Scope {
            account_id: ctx.caller.account_id.clone(),
            region_id: region.clone(),
        };
        if ctx
            .store()
            .get_typed::<TransitRouter>(&scope, id)
            .await
            .map_err(internal)?
            .is_some()
        {
            live.push(id.clone());
        }
    }
    change(ctx, &req.cen_id, |c| {
        if c.transit_routers.iter().any(|(_, id)| live.contains(id)) {
            return Err(ApiError::new(
                "InvalidOperation.AttachedChildInstanceExist",
                "The CEN instance still has transit routers; delete them first.",
            ));
        }
        if c.lifecycle.effective(ctx.now_ms) != ACTIVE {
            return Err(status_forbids());
        }
        c.lifecycle = Lifecycle::settled(DELETING);
        Ok(())
    })
    .await?;
    ctx.store()
        .delete(Kind::CenInstance, &global_scope(ctx), &req.cen_id)
        .await
        .map_err(|e| store_error(e, cen_not_found))?;
    Ok(delete_cen::Answer {})
}
