//! VPCs and vSwitches (CreateVpc … DeleteVSwitch) and the VPC's system
//! route table as DescribeRouteTableList shows it: the network the
//! provider's `alicloud_vpc` / `alicloud_vswitch` create before a VPN
//! gateway (docs/api-decisions.md, "VPC and vSwitch").
//!
//! A vSwitch is inserted first (ClientToken idempotency is the insert's),
//! then its block is claimed in its VPC's document by a versioned write
//! that checks the VPC's rules (`Vpc::vswitch_cidr`); a refused claim
//! deletes the vSwitch again. So two racing CreateVSwitch calls never both
//! keep overlapping blocks.

use std::collections::HashMap;

use ipnet::Ipv4Net;
use vpngw_model::{
    Lifecycle, VSwitch, Vpc, catalog,
    ids::{IdKind, new_id},
    validate,
    vpc::{DEFAULT_VPC_CIDR, VSwitchCidrError, VpcCidrError, available_ip_count, vpc_cidr},
};
use vpngw_ops::vpc::{
    create_v_switch, create_vpc, delete_v_switch, delete_vpc, describe_route_table_list,
    describe_v_switch_attributes, describe_v_switches, describe_vpc_attribute, describe_vpcs,
    modify_v_switch_attribute, modify_vpc_attribute, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreError, StoreExt, Versioned};

use super::{tag_filters_of, tags, views, vpn_gateway::id_list};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    ram::iso8601,
};

// ---------------------------------------------------------------- errors

pub(crate) fn vpc_not_found() -> ApiError {
    ApiError::new("InvalidVpcId.NotFound", "Specified VPC does not exist.")
}

pub(crate) fn vswitch_not_found() -> ApiError {
    ApiError::new(
        "InvalidVSwitchId.NotFound",
        "Specified virtual switch does not exist.",
    )
}

fn cidr_malformed() -> ApiError {
    ApiError::new(
        "InvalidCidrBlock.Malformed",
        "Specified CIDR block is not valid.",
    )
}

fn dry_run() -> ApiError {
    ApiError::new(
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )
}

fn incorrect_vpc_status() -> ApiError {
    ApiError::new(
        "IncorrectVpcStatus",
        "The status of the specified VPC does not support this operation.",
    )
}

/// Names of VPCs and vSwitches: 1–128 characters, not starting with a
/// URL scheme (the CreateVpc/CreateVSwitch references).
fn check_name(name: Option<&str>, code: &'static str) -> Result<(), ApiError> {
    let valid = |n: &str| n.is_empty() || (validate::loose_name(n) && n.chars().count() <= 128);
    match name {
        Some(n) if !valid(n) => Err(ApiError::new(code, "The specified name is not valid.")),
        _ => Ok(()),
    }
}

fn check_description(d: Option<&str>) -> Result<(), ApiError> {
    match d {
        Some(d) if !d.is_empty() && !validate::description(d) => Err(ApiError::new(
            "InvalidDescription.Malformed",
            "The specified description is not valid.",
        )),
        _ => Ok(()),
    }
}

fn refuse_dry_run(flag: Option<bool>) -> Result<(), ApiError> {
    if flag == Some(true) {
        return Err(dry_run());
    }
    Ok(())
}

// ---------------------------------------------------------------- loading

pub(crate) async fn load_vpc(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<Vpc>, ApiError> {
    ctx.store()
        .get_typed::<Vpc>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(vpc_not_found)
}

pub(crate) async fn load_vswitch(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VSwitch>, ApiError> {
    ctx.store()
        .get_typed::<VSwitch>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(vswitch_not_found)
}

/// Changes a VPC's document by a versioned write, re-reading and retrying
/// when another writer got there first; `change` may refuse.
async fn change_vpc(
    ctx: &Ctx<'_>,
    id: &str,
    change: impl Fn(&mut Vpc) -> Result<(), ApiError>,
) -> Result<Vpc, ApiError> {
    for _ in 0..crate::rmw::ATTEMPTS {
        let Versioned { mut value, version } = load_vpc(ctx, id).await?;
        change(&mut value)?;
        match ctx
            .store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
        {
            Ok(_) => return Ok(value),
            Err(StoreError::VersionConflict) => continue,
            Err(e) => return Err(store_error(e, vpc_not_found)),
        }
    }
    Err(crate::errors::task_conflict())
}

fn owner_id(ctx: &Ctx<'_>) -> i64 {
    ctx.caller.account_id.parse().unwrap_or_default()
}

// ---------------------------------------------------------------- VPCs

pub async fn create(
    ctx: &Ctx<'_>,
    req: create_vpc::Request,
) -> Result<create_vpc::Answer, ApiError> {
    let region = ctx.region()?;
    let cidr = vpc_cidr(req.cidr_block.as_deref().unwrap_or(DEFAULT_VPC_CIDR))
        .map_err(|_: VpcCidrError| cidr_malformed())?;
    let user_cidrs = match req.user_cidr.as_deref().filter(|u| !u.is_empty()) {
        None => Vec::new(),
        Some(list) => {
            let blocks: Vec<Ipv4Net> = list
                .split(',')
                .map(|b| vpc_cidr(b).map_err(|_| ApiError::invalid_parameter("UserCidr")))
                .collect::<Result<_, _>>()?;
            if blocks.len() > 3 {
                return Err(ApiError::invalid_parameter("UserCidr"));
            }
            blocks
        }
    };
    if req.ipv4_ipam_pool_id.is_some() || req.ipv6_ipam_pool_id.is_some() {
        return Err(ApiError::new(
            "UnsupportedFeature.Ipam",
            "vpngw has no IP address manager: give CidrBlock instead.",
        ));
    }
    check_name(req.vpc_name.as_deref(), "InvalidVpcName.Malformed")?;
    check_description(req.description.as_deref())?;
    let tags = tags::of_request(&req.tag)?;
    let resource_group_id = super::resource_group::of_create(req.resource_group_id.as_deref())?;
    refuse_dry_run(req.dry_run)?;
    let vpc = Vpc {
        id: new_id(IdKind::Vpc, region.id_prefix),
        region_id: region.id.to_owned(),
        name: req.vpc_name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        cidr_block: cidr,
        user_cidrs,
        vrouter_id: new_id(IdKind::VRouter, region.id_prefix),
        route_table_id: new_id(IdKind::RouteTable, region.id_prefix),
        resource_group_id,
        create_time_ms: ctx.now_ms,
        lifecycle: Lifecycle::transition(
            "Pending",
            ctx.now_ms + ctx.config().gateway_provision_delay_ms,
            "Available",
        ),
        tags,
        vswitch_blocks: Vec::new(),
    };
    let limit = ctx.config().quotas.vpcs_per_region;
    let guard = InsertGuard {
        quota: (limit > 0).then_some(Quota {
            limit,
            per_parent: false,
        }),
        idempotency: ctx.idempotency()?,
        ..InsertGuard::default()
    };
    let vpc = match ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &vpc, guard)
        .await
        .map_err(|e| match e {
            StoreError::QuotaExceeded { .. } => {
                ApiError::new("QuotaExceeded.Vpc", "VPC quota exceeded.")
            }
            e => store_error(e, vpc_not_found),
        })? {
        Inserted::Created => vpc,
        Inserted::Replayed { id } => load_vpc(ctx, &id).await?.value,
    };
    Ok(create_vpc::Answer {
        vpc_id: vpc.id,
        v_router_id: vpc.vrouter_id,
        route_table_id: vpc.route_table_id,
        resource_group_id: vpc.resource_group_id,
    })
}

fn cidrs(blocks: &[Ipv4Net]) -> Vec<String> {
    blocks.iter().map(ToString::to_string).collect()
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: describe_vpcs::Request,
) -> Result<describe_vpcs::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    refuse_dry_run(req.dry_run)?;
    let mut q = ListQuery::new(Kind::Vpc, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.vpc_id.as_deref());
    if q.ids.len() > 20 {
        return Err(ApiError::invalid_parameter("VpcId"));
    }
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    q.tags = tag_filters_of(&req.tag);
    if let Some(name) = req.vpc_name.filter(|n| !n.is_empty()) {
        q.fields.push(("name", name));
    }
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    // vpngw makes no default VPC: asking for the default one finds none.
    let (vpcs, total) = if req.is_default == Some(true) {
        (Vec::new(), 0)
    } else {
        ctx.store().list_typed::<Vpc>(&q).await.map_err(internal)?
    };
    let owner = owner_id(ctx);
    Ok(describe_vpcs::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        vpcs: describe_vpcs::Vpcs {
            vpc: vpcs
                .iter()
                .map(|v| describe_vpcs::Vpc {
                    cidr_block: v.cidr_block.to_string(),
                    creation_time: iso8601(v.create_time_ms),
                    description: v.description.clone(),
                    dns_hostname_status: "DISABLED".into(),
                    cen_status: "Detached".into(),
                    owner_id: owner,
                    region_id: v.region_id.clone(),
                    resource_group_id: v.resource_group_id.clone(),
                    router_table_ids: describe_vpcs::RouterTableIds {
                        router_table_ids: vec![v.route_table_id.clone()],
                    },
                    status: v.lifecycle.effective(ctx.now_ms).to_owned(),
                    tags: views::tags(&v.tags),
                    user_cidrs: shapes::UserCidrs {
                        user_cidr: cidrs(&v.user_cidrs),
                    },
                    v_router_id: v.vrouter_id.clone(),
                    v_switch_ids: shapes::VSwitchIds {
                        v_switch_id: v.vswitch_ids(),
                    },
                    vpc_id: v.id.clone(),
                    vpc_name: v.name.clone(),
                    ..Default::default()
                })
                .collect(),
        },
    })
}

pub async fn describe(
    ctx: &Ctx<'_>,
    req: describe_vpc_attribute::Request,
) -> Result<describe_vpc_attribute::Answer, ApiError> {
    refuse_dry_run(req.dry_run)?;
    let v = load_vpc(ctx, &req.vpc_id).await?.value;
    Ok(describe_vpc_attribute::Answer {
        cidr_block: v.cidr_block.to_string(),
        creation_time: iso8601(v.create_time_ms),
        description: v.description.clone(),
        dns_hostname_status: "DISABLED".into(),
        owner_id: owner_id(ctx),
        region_id: v.region_id.clone(),
        resource_group_id: v.resource_group_id.clone(),
        status: v.lifecycle.effective(ctx.now_ms).to_owned(),
        tags: views::tags(&v.tags),
        user_cidrs: shapes::UserCidrs {
            user_cidr: cidrs(&v.user_cidrs),
        },
        v_router_id: v.vrouter_id.clone(),
        v_switch_ids: shapes::VSwitchIds {
            v_switch_id: v.vswitch_ids(),
        },
        vpc_id: v.id.clone(),
        vpc_name: v.name.clone(),
        ..Default::default()
    })
}

pub async fn modify(
    ctx: &Ctx<'_>,
    req: modify_vpc_attribute::Request,
) -> Result<modify_vpc_attribute::Answer, ApiError> {
    check_name(req.vpc_name.as_deref(), "InvalidVpcName.Malformed")?;
    check_description(req.description.as_deref())?;
    let cidr = match req.cidr_block.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(vpc_cidr(c).map_err(|_| cidr_malformed())?),
        None => None,
    };
    if req.enable_i_pv6 == Some(true) || req.ipv6_cidr_block.is_some() {
        return Err(ApiError::new(
            "UnsupportedFeature.Ipv6",
            "vpngw's VPCs are IPv4 only.",
        ));
    }
    change_vpc(ctx, &req.vpc_id, |v| {
        if let Some(name) = &req.vpc_name {
            v.name = name.clone();
        }
        if let Some(d) = &req.description {
            v.description = d.clone();
        }
        if let Some(cidr) = cidr {
            // The new block must still hold every vSwitch.
            if v.vswitch_blocks.iter().any(|(_, b)| !cidr.contains(b)) {
                return Err(ApiError::new(
                    "InvalidCidrBlock.InUse",
                    "The new CIDR block does not contain the vSwitches of the VPC.",
                ));
            }
            v.cidr_block = cidr;
        }
        Ok(())
    })
    .await?;
    Ok(modify_vpc_attribute::Answer {})
}

pub async fn delete(
    ctx: &Ctx<'_>,
    req: delete_vpc::Request,
) -> Result<delete_vpc::Answer, ApiError> {
    let v = load_vpc(ctx, &req.vpc_id).await?.value;
    if v.lifecycle.effective(ctx.now_ms) != "Available" {
        return Err(incorrect_vpc_status());
    }
    refuse_dry_run(req.dry_run)?;
    ctx.store()
        .delete(Kind::Vpc, &ctx.scope()?, &v.id)
        .await
        .map_err(|e| match e {
            StoreError::Referenced {
                kind: Kind::VSwitch,
                ..
            } => ApiError::new(
                "DependencyViolation.VSwitch",
                "Specified VPC has vSwitches; delete them first.",
            ),
            StoreError::Referenced { kind, id } => ApiError::new(
                "DependencyViolation",
                format!("Specified VPC is used by {} {id}.", kind.as_str()),
            ),
            e => store_error(e, vpc_not_found),
        })?;
    Ok(delete_vpc::Answer {})
}

// ---------------------------------------------------------------- vSwitches

fn vswitch_cidr_error(e: VSwitchCidrError) -> ApiError {
    match e {
        VSwitchCidrError::Malformed | VSwitchCidrError::Prefix => cidr_malformed(),
        VSwitchCidrError::OutsideVpc => ApiError::new(
            "InvalidCidrBlock.Mismatch",
            "Specified CIDR block is not in the CIDR block of the VPC.",
        ),
        VSwitchCidrError::Overlaps(other) => ApiError::new(
            "InvalidCidrBlock.Overlapped",
            format!("Specified CIDR block overlapped with the vSwitch {other}."),
        ),
        VSwitchCidrError::Quota => {
            ApiError::new("QuotaExceeded.VSwitch", "Virtual switch quota exceeded.")
        }
    }
}

pub async fn create_vswitch(
    ctx: &Ctx<'_>,
    req: create_v_switch::Request,
) -> Result<create_v_switch::Answer, ApiError> {
    let region = ctx.region()?;
    let vpc = load_vpc(ctx, &req.vpc_id).await?.value;
    if catalog::zone(region.id, &req.zone_id).is_none() {
        return Err(ApiError::new(
            "InvalidZoneId.NotFound",
            "Specified zone does not exist in the region.",
        ));
    }
    if vpc.lifecycle.effective(ctx.now_ms) != "Available" {
        return Err(incorrect_vpc_status());
    }
    let block = vpc
        .vswitch_cidr(&req.cidr_block)
        .map_err(vswitch_cidr_error)?;
    check_name(req.v_switch_name.as_deref(), "InvalidVSwitchName.Malformed")?;
    check_description(req.description.as_deref())?;
    if req.ipv6_cidr_block.is_some() || req.vpc_ipv6_cidr_block.is_some() {
        return Err(ApiError::new(
            "UnsupportedFeature.Ipv6",
            "vpngw's vSwitches are IPv4 only.",
        ));
    }
    let vswitch = VSwitch {
        id: new_id(IdKind::VSwitch, region.id_prefix),
        region_id: region.id.to_owned(),
        vpc_id: vpc.id.clone(),
        zone_id: req.zone_id.clone(),
        cidr_block: block,
        name: req.v_switch_name.unwrap_or_default(),
        description: req.description.unwrap_or_default(),
        resource_group_id: vpc.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        lifecycle: Lifecycle::transition(
            "Pending",
            ctx.now_ms + ctx.config().gateway_provision_delay_ms,
            "Available",
        ),
        tags: tags::of_request(&req.tag)?,
    };
    let guard = InsertGuard {
        idempotency: ctx.idempotency()?,
        ..InsertGuard::default()
    };
    match ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &vswitch, guard)
        .await
        .map_err(|e| store_error(e, vpc_not_found))?
    {
        Inserted::Replayed { id } => return Ok(create_v_switch::Answer { v_switch_id: id }),
        Inserted::Created => {}
    }
    // Claim the block in the VPC; a writer that claimed an overlapping one
    // first wins, and this vSwitch goes again.
    let claimed = change_vpc(ctx, &vpc.id, |v| {
        let block = v
            .vswitch_cidr(&vswitch.cidr_block.to_string())
            .map_err(vswitch_cidr_error)?;
        v.vswitch_blocks.push((vswitch.id.clone(), block));
        Ok(())
    })
    .await;
    if let Err(e) = claimed {
        let _ = ctx
            .store()
            .delete(Kind::VSwitch, &ctx.scope()?, &vswitch.id)
            .await;
        return Err(e);
    }
    Ok(create_v_switch::Answer {
        v_switch_id: vswitch.id,
    })
}

fn vswitch_view(ctx: &Ctx<'_>, s: &VSwitch, route_table_id: &str) -> shapes::VSwitch {
    shapes::VSwitch {
        available_ip_address_count: available_ip_count(&s.cidr_block, 0) as i64,
        cidr_block: s.cidr_block.to_string(),
        creation_time: iso8601(s.create_time_ms),
        description: s.description.clone(),
        owner_id: owner_id(ctx),
        resource_group_id: s.resource_group_id.clone(),
        route_table: shapes::RouteTable {
            route_table_id: route_table_id.to_owned(),
            route_table_type: "System".into(),
        },
        share_type: "Sharing".into(),
        status: s.lifecycle.effective(ctx.now_ms).to_owned(),
        tags: views::tags(&s.tags),
        v_switch_id: s.id.clone(),
        v_switch_name: s.name.clone(),
        vpc_id: s.vpc_id.clone(),
        zone_id: s.zone_id.clone(),
        ..Default::default()
    }
}

pub async fn describe_vswitches(
    ctx: &Ctx<'_>,
    req: describe_v_switches::Request,
) -> Result<describe_v_switches::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    refuse_dry_run(req.dry_run)?;
    let mut q = ListQuery::new(Kind::VSwitch, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.v_switch_id.as_deref());
    q.parent_id = req.vpc_id.filter(|v| !v.is_empty());
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    q.tags = tag_filters_of(&req.tag);
    if let Some(zone) = req.zone_id.filter(|z| !z.is_empty()) {
        q.fields.push(("zone_id", zone));
    }
    if let Some(name) = req.v_switch_name.filter(|n| !n.is_empty()) {
        q.fields.push(("name", name));
    }
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (found, total) = if req.is_default == Some(true) {
        (Vec::new(), 0)
    } else {
        ctx.store()
            .list_typed::<VSwitch>(&q)
            .await
            .map_err(internal)?
    };
    // Each vSwitch is in its VPC's system route table.
    let mut tables: HashMap<String, String> = HashMap::new();
    let table_filter = req.route_table_id.as_deref().filter(|t| !t.is_empty());
    let mut items = Vec::with_capacity(found.len());
    for s in &found {
        if !tables.contains_key(&s.vpc_id) {
            let table = load_vpc(ctx, &s.vpc_id).await?.value.route_table_id;
            tables.insert(s.vpc_id.clone(), table);
        }
        let table = &tables[&s.vpc_id];
        if let Some(wanted) = table_filter {
            if wanted != table {
                continue;
            }
            // The route table is a part of its VPC: authorize the VPC.
            ctx.authorize(&[vpngw_ops::Resource {
                kind: vpngw_ops::Kind::Vpc,
                id: &s.vpc_id,
            }])
            .await?;
        }
        items.push(vswitch_view(ctx, s, table));
    }
    Ok(describe_v_switches::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        v_switches: describe_v_switches::VSwitches { v_switch: items },
    })
}

pub async fn describe_vswitch(
    ctx: &Ctx<'_>,
    req: describe_v_switch_attributes::Request,
) -> Result<describe_v_switch_attributes::Answer, ApiError> {
    refuse_dry_run(req.dry_run)?;
    let s = load_vswitch(ctx, &req.v_switch_id).await?.value;
    let table = load_vpc(ctx, &s.vpc_id).await?.value.route_table_id;
    Ok(vswitch_view(ctx, &s, &table))
}

pub async fn modify_vswitch(
    ctx: &Ctx<'_>,
    req: modify_v_switch_attribute::Request,
) -> Result<modify_v_switch_attribute::Answer, ApiError> {
    check_name(req.v_switch_name.as_deref(), "InvalidVSwitchName.Malformed")?;
    check_description(req.description.as_deref())?;
    if req.enable_i_pv6 == Some(true) || req.ipv6_cidr_block.is_some() {
        return Err(ApiError::new(
            "UnsupportedFeature.Ipv6",
            "vpngw's vSwitches are IPv4 only.",
        ));
    }
    let Versioned { mut value, version } = load_vswitch(ctx, &req.v_switch_id).await?;
    if let Some(name) = req.v_switch_name {
        value.name = name;
    }
    if let Some(d) = req.description {
        value.description = d;
    }
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, vswitch_not_found))?;
    Ok(modify_v_switch_attribute::Answer {})
}

pub async fn delete_vswitch(
    ctx: &Ctx<'_>,
    req: delete_v_switch::Request,
) -> Result<delete_v_switch::Answer, ApiError> {
    let s = load_vswitch(ctx, &req.v_switch_id).await?.value;
    refuse_dry_run(req.dry_run)?;
    ctx.store()
        .delete(Kind::VSwitch, &ctx.scope()?, &s.id)
        .await
        .map_err(|e| match e {
            StoreError::Referenced { kind, id } => ApiError::new(
                "DependencyViolation",
                format!("Specified vSwitch is used by {} {id}.", kind.as_str()),
            ),
            e => store_error(e, vswitch_not_found),
        })?;
    // Its block is free again.
    change_vpc(ctx, &s.vpc_id, |v| {
        v.vswitch_blocks.retain(|(id, _)| *id != s.id);
        Ok(())
    })
    .await?;
    Ok(delete_v_switch::Answer {})
}

// ---------------------------------------------------------------- route tables

/// Every VPC's system route table (vpngw has no custom route tables),
/// filtered and paged in memory: a region holds few VPCs.
pub async fn describe_route_tables(
    ctx: &Ctx<'_>,
    req: describe_route_table_list::Request,
) -> Result<describe_route_table_list::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::Vpc, ctx.scope()?, ctx.now_ms);
    q.ids = req
        .vpc_id
        .iter()
        .filter(|v| !v.is_empty())
        .cloned()
        .collect();
    q.resource_group_id = req.resource_group_id.filter(|g| !g.is_empty());
    q.tags = tag_filters_of(&req.tag);
    q.limit = 10_000;
    let (vpcs, _) = ctx.store().list_typed::<Vpc>(&q).await.map_err(internal)?;
    let given = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    let (table, router, name) = (
        given(&req.route_table_id),
        given(&req.router_id),
        given(&req.route_table_name),
    );
    let type_ok = given(&req.route_table_type).is_none_or(|t| t == "System")
        && given(&req.router_type).is_none_or(|t| t == "VRouter");
    let matching: Vec<&Vpc> = vpcs
        .iter()
        .filter(|_| type_ok)
        .filter(|v| table.as_ref().is_none_or(|t| *t == v.route_table_id))
        .filter(|v| router.as_ref().is_none_or(|r| *r == v.vrouter_id))
        .filter(|_| name.is_none())
        .collect();
    // A route table or router named is a part of its VPC: the VPC is what
    // the caller must be allowed.
    if table.is_some() || router.is_some() {
        let wholes: Vec<vpngw_ops::Resource<'_>> = matching
            .iter()
            .map(|v| vpngw_ops::Resource {
                kind: vpngw_ops::Kind::Vpc,
                id: &v.id,
            })
            .collect();
        ctx.authorize(&wholes).await?;
    }
    let total = matching.len();
    let items = matching
        .into_iter()
        .skip(((number - 1) * size) as usize)
        .take(size as usize)
        .map(|v| describe_route_table_list::RouterTableListType {
            associate_type: "VSwitch".into(),
            creation_time: iso8601(v.create_time_ms),
            owner_id: owner_id(ctx),
            resource_group_id: v.resource_group_id.clone(),
            route_propagation_enable: true,
            route_table_id: v.route_table_id.clone(),
            route_table_type: "System".into(),
            router_id: v.vrouter_id.clone(),
            router_type: "VRouter".into(),
            status: "Available".into(),
            v_switch_ids: shapes::VSwitchIds {
                v_switch_id: v.vswitch_ids(),
            },
            vpc_id: v.id.clone(),
            ..Default::default()
        })
        .collect();
    Ok(describe_route_table_list::Answer {
        page_number: number,
        page_size: size,
        total_count: total as i64,
        router_table_list: describe_route_table_list::RouterTableList {
            router_table_list_type: items,
        },
    })
}
