//! CreateVpnGateway, DescribeVpnGateway(s), ModifyVpnGatewayAttribute,
//! DeleteVpnGateway.

use std::net::Ipv4Addr;

use rand::Rng;
use vpngw_model::{
    GatewayType, Lifecycle, VpnGateway,
    ids::{IdKind, new_id},
    validate,
    vpc::free_host,
    vpn_gateway::{BANDWIDTHS, SSL_CONNECTIONS},
};
use vpngw_ops::vpc::{
    create_vpn_gateway as create_op, delete_vpn_gateway as delete_op,
    describe_vpn_gateway as describe_op, describe_vpn_gateways as list_op,
    modify_vpn_gateway_attribute as modify_op, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreExt, Versioned};

use super::{given, tag_filters_of, views};
use crate::{
    Ctx,
    context::{page, store_error},
    errors,
};

/// Pay-as-you-go gateways never expire; the cloud reports this far-future time.
const NO_EXPIRY_MS: i64 = 4_102_415_999_000;

/// Loads a gateway of the caller's, or answers the cloud's NotFound.
pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VpnGateway>, ApiError> {
    ctx.store()
        .get_typed::<VpnGateway>(&ctx.scope()?, id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(errors::vpn_gateway_not_found)
}

pub(crate) fn random_ip(pool: ipnet::Ipv4Net) -> String {
    let size = 1u64 << (32 - pool.prefix_len());
    // Skip the network and broadcast addresses of the pool.
    let offset = rand::rng().random_range(1..size.saturating_sub(1).max(2));
    let base = u32::from(pool.network()) as u64;
    Ipv4Addr::from((base + offset) as u32).to_string()
}

/// The answer of CreateVpnGateway.
fn created(id: String, name: String) -> create_op::Answer {
    create_op::Answer {
        vpn_gateway_id: id,
        name,
        order_id: order_id(),
    }
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    ctx.region()?;
    let bandwidth = req.bandwidth;
    if !BANDWIDTHS.contains(&bandwidth) {
        return Err(ApiError::invalid_parameter("Bandwidth"));
    }
    let name = given(&req.name).unwrap_or("");
    if !name.is_empty() && !validate::gateway_name(name) {
        return Err(errors::invalid_name());
    }
    let network_type = network_type(given(&req.network_type))?;
    let vpn_type = vpn_type(given(&req.vpn_type))?;
    let prepaid = match given(&req.instance_charge_type).unwrap_or("POSTPAY") {
        "PREPAY" => true,
        "POSTPAY" => false,
        _ => return Err(ApiError::invalid_parameter("InstanceChargeType")),
    };
    let period = req.period;
    if let Some(months) = period
        && !(prepaid && (1..=36).contains(&months))
    {
        return Err(ApiError::invalid_parameter("Period"));
    }
    let enable_ssl = req.enable_ssl.unwrap_or(false);
    let ssl_connections = match req.ssl_connections {
        Some(_) if !enable_ssl => return Err(errors::unnecessary_ssl_connection()),
        Some(n) => n,
        None => 5,
    };
    if !SSL_CONNECTIONS.contains(&ssl_connections) {
        return Err(ApiError::invalid_parameter("SslConnections"));
    }
    let mut gateway = build(
        ctx,
        NewGateway {
            vpc_id: &req.vpc_id,
            vswitch: given(&req.v_switch_id),
            dr_vswitch: given(&req.disaster_recovery_v_switch_id),
            network_type,
            enable_ssl,
            resource_group_id: req.resource_group_id.as_deref(),
        },
    )
    .await?;
    gateway.name = name.to_owned();
    gateway.vpn_type = vpn_type.to_owned();
    gateway.bandwidth_mbps = bandwidth;
    gateway.enable_ipsec = req.enable_ipsec.unwrap_or(true);
    gateway.ssl_connections = ssl_connections;
    if prepaid {
        gateway.charge_type = "Prepay".into();
    }
    if let Some(months) = period {
        gateway.end_time_ms = ctx.now_ms + months * 30 * 24 * 3600 * 1000;
    }
    insert(ctx, gateway, created).await
}

/// `NetworkType` of both creates: `public` (the default) or `private`.
pub(crate) fn network_type(given: Option<&str>) -> Result<&'static str, ApiError> {
    match given.unwrap_or("public") {
        "public" => Ok("public"),
        "private" => Ok("private"),
        _ => Err(ApiError::invalid_parameter("NetworkType")),
    }
}

/// `VpnType` of both creates: `Normal` (the default) or `NationalStandard`.
pub(crate) fn vpn_type(given: Option<&str>) -> Result<&'static str, ApiError> {
    match given.unwrap_or("Normal") {
        "Normal" => Ok("Normal"),
        "NationalStandard" => Ok("NationalStandard"),
        _ => Err(ApiError::invalid_parameter("VpnType")),
    }
}

/// What decides where a new gateway goes and which addresses it gets.
pub(crate) struct NewGateway<'a> {
    pub vpc_id: &'a str,
    pub vswitch: Option<&'a str>,
    pub dr_vswitch: Option<&'a str>,
    pub network_type: &'static str,
    pub enable_ssl: bool,
    pub resource_group_id: Option<&'a str>,
}

/// A new pay-as-you-go, traditional, IPsec-only gateway placed and
/// addressed as `new` says, provisioning; the caller sets what its
/// operation adds (name, type, bandwidth, charge) before [`insert`].
pub(crate) async fn build(ctx: &Ctx<'_>, new: NewGateway<'_>) -> Result<VpnGateway, ApiError> {
    let region = ctx.region()?;
    let NewGateway {
        vpc_id,
        vswitch,
        dr_vswitch,
        network_type,
        enable_ssl,
        resource_group_id,
    } = new;
    let placed = placement(ctx, vpc_id, vswitch, dr_vswitch).await?;
    let pool = ctx.config().public_ip_pool;
    // A private gateway in vSwitches vpngw knows takes its addresses from
    // them; a public one (or one in an external VPC) from the public pool.
    let (internet_ip, dr_ip) = if network_type == "private" {
        let taken = addresses_in_vpc(ctx, vpc_id).await?;
        let pick = |block: Option<ipnet::Ipv4Net>, taken: &[Ipv4Addr]| match block {
            Some(b) => free_host(&b, rand::rng().random::<u64>(), taken)
                .map(|a| a.to_string())
                .ok_or_else(vswitch_full),
            None => Ok(random_ip(pool)),
        };
        let first = pick(placed.blocks[0], &taken)?;
        let taken = [taken, first.parse().into_iter().collect()].concat();
        let second = pick(placed.blocks[1], &taken)?;
        (first, second)
    } else {
        (random_ip(pool), random_ip(pool))
    };
    // SSL clients dial `SslVpnInternetIp`: on a dual-tunnel gateway an
    // address of its own, as the cloud gives one; on a single-tunnel one the
    // gateway's `InternetIp` (docs/api-decisions.md, "SSL-VPN").
    let ssl_vpn_internet_ip = enable_ssl.then(|| match dr_vswitch {
        Some(_) => random_ip(pool),
        None => internet_ip.clone(),
    });
    Ok(VpnGateway {
        id: new_id(IdKind::VpnGateway, region.id_prefix),
        region_id: region.id.to_owned(),
        name: String::new(),
        description: String::new(),
        vpc_id: vpc_id.to_owned(),
        vswitch_id: vswitch.unwrap_or("").to_owned(),
        internet_ip,
        disaster_recovery_internet_ip: dr_vswitch.map(|_| dr_ip),
        disaster_recovery_vswitch_id: dr_vswitch.map(str::to_owned),
        ssl_vpn_internet_ip,
        bandwidth_mbps: 0,
        network_type: network_type.to_owned(),
        charge_type: "PostpayByFlow".into(),
        gateway_type: GatewayType::Traditional,
        enable_ipsec: true,
        enable_ssl,
        ssl_connections: 5,
        vpn_type: "Normal".into(),
        auto_propagate: false,
        enable_bgp: false,
        resource_group_id: super::resource_group::of_create(resource_group_id)?,
        create_time_ms: ctx.now_ms,
        end_time_ms: NO_EXPIRY_MS,
        lifecycle: Lifecycle::transition(
            "init",
            ctx.now_ms + ctx.config().gateway_provision_delay_ms,
            "active",
        ),
        tags: Vec::new(),
        placed_in: placed.links,
    })
}

/// Stores a new gateway under the region's quota and the request's
/// `ClientToken`, with the audit event of its answer (`answer(id, name)`):
/// a replayed token answers the gateway that token created.
pub(crate) async fn insert<A: serde::Serialize>(
    ctx: &Ctx<'_>,
    gateway: VpnGateway,
    answer: fn(String, String) -> A,
) -> Result<A, ApiError> {
    let limit = ctx.config().quotas.vpn_gateways_per_region;
    let guard = InsertGuard {
        quota: (limit > 0).then_some(Quota {
            limit,
            per_parent: false,
        }),
        idempotency: ctx.idempotency()?,
        unique: Vec::new(),
    };
    // The gateway and the audit event of this answer commit together.
    let answered = answer(gateway.id.clone(), gateway.name.clone());
    let trail = ctx.trail(Vec::new(), &super::reply(&answered)?);
    let inserted = ctx
        .store()
        .insert_typed_with(&ctx.caller.account_id, &gateway, guard, trail)
        .await
        .map_err(|e| store_error(e, errors::vpn_gateway_not_found))?;
    match inserted {
        Inserted::Created => {
            ctx.mark_audited();
            Ok(answered)
        }
        Inserted::Replayed { id } => {
            let existing = load(ctx, &id).await?;
            Ok(answer(id, existing.value.name))
        }
    }
}

/// Where a new gateway goes: the vSwitches vpngw knows must be in the given
/// VPC (and a dual-tunnel gateway's two in different zones), as the cloud
/// checks; the ids of the known VPC and vSwitches are returned, for the
/// gateway to hold them. Ids vpngw does not know are external VPCs, taken
/// as given unless `strict_vpc` is set (docs/api-decisions.md, "VPC and
/// vSwitch").
/// Where a new gateway goes: the known VPC and vSwitches it holds (store
/// links), and the blocks of its vSwitch and disaster-recovery vSwitch when
/// vpngw knows them.
struct Placement {
    links: Vec<String>,
    blocks: [Option<ipnet::Ipv4Net>; 2],
}

fn vswitch_full() -> ApiError {
    ApiError::new(
        "QuotaExceeded.PrivateIpAddress",
        "The vSwitch has no free private IP address.",
    )
}

/// The addresses the VPC's gateways already have.
async fn addresses_in_vpc(ctx: &Ctx<'_>, vpc_id: &str) -> Result<Vec<Ipv4Addr>, ApiError> {
    let mut q = ListQuery::new(Kind::VpnGateway, ctx.scope()?, ctx.now_ms);
    q.fields.push(("vpc_id", vpc_id.to_owned()));
    q.limit = 10_000;
    let (gateways, _) = ctx
        .store()
        .list_typed::<VpnGateway>(&q)
        .await
        .map_err(crate::context::internal)?;
    Ok(gateways
        .iter()
        .flat_map(|g| {
            [
                Some(&g.internet_ip),
                g.disaster_recovery_internet_ip.as_ref(),
            ]
        })
        .flatten()
        .filter_map(|a| a.parse().ok())
        .collect())
}

async fn placement(
    ctx: &Ctx<'_>,
    vpc_id: &str,
    vswitch: Option<&str>,
    dr_vswitch: Option<&str>,
) -> Result<Placement, ApiError> {
    let scope = ctx.scope()?;
    let store = ctx.store();
    let known_vpc = store
        .get_typed::<vpngw_model::Vpc>(&scope, vpc_id)
        .await
        .map_err(crate::context::internal)?;
    let mut placed = Vec::new();
    let mut zones = Vec::new();
    let mut blocks = [None, None];
    for (slot, id) in [vswitch, dr_vswitch].into_iter().enumerate() {
        let Some(id) = id else { continue };
        match store
            .get_typed::<vpngw_model::VSwitch>(&scope, id)
            .await
            .map_err(crate::context::internal)?
        {
            Some(s) if s.value.vpc_id != vpc_id => {
                return Err(ApiError::new(
                    "InvalidVSwitchId.Mismatch",
                    format!("The vSwitch {id} does not belong to the VPC {vpc_id}."),
                ));
            }
            Some(s) => {
                zones.push(s.value.zone_id);
                blocks[slot] = Some(s.value.cidr_block);
                placed.push(s.value.id);
            }
            None if known_vpc.is_some() || ctx.config().strict_vpc => {
                return Err(ApiError::new(
                    "InvalidVSwitchId.NotFound",
                    "Specified virtual switch does not exist.",
                ));
            }
            None => {}
        }
    }
    if zones.len() == 2 && zones[0] == zones[1] {
        return Err(ApiError::new(
            "InvalidParameter.DisasterRecoveryVSwitchId",
            "The two vSwitches of a dual-tunnel gateway must be in different zones.",
        ));
    }
    match known_vpc {
        Some(v) => placed.push(v.value.id),
        None if ctx.config().strict_vpc => {
            return Err(ApiError::new(
                "InvalidVpcId.NotFound",
                "Specified VPC does not exist.",
            ));
        }
        None => {}
    }
    Ok(Placement {
        links: placed,
        blocks,
    })
}

/// Orders are a billing concept vpngw does not have; the field is a number
/// of the cloud's shape so clients that read it keep working.
fn order_id() -> i64 {
    rand::rng().random_range(200_000_000_000_000..999_999_999_999_999)
}

/// A gateway as DescribeVpnGateway(s) answer it (and the agent reads it).
pub(crate) fn view(g: &VpnGateway, now_ms: i64) -> shapes::VpnGateway {
    shapes::VpnGateway {
        vpn_gateway_id: g.id.clone(),
        vpc_id: g.vpc_id.clone(),
        v_switch_id: g.vswitch_id.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        internet_ip: g.internet_ip.clone(),
        disaster_recovery_internet_ip: g.disaster_recovery_internet_ip.clone().unwrap_or_default(),
        disaster_recovery_v_switch_id: g.disaster_recovery_vswitch_id.clone().unwrap_or_default(),
        ssl_vpn_internet_ip: g.ssl_vpn_internet_ip.clone().unwrap_or_default(),
        create_time: g.create_time_ms,
        end_time: g.end_time_ms,
        spec: g.spec(),
        status: g.lifecycle.effective(now_ms).to_owned(),
        business_status: "Normal".into(),
        charge_type: g.charge_type.clone(),
        ipsec_vpn: views::on_off(g.enable_ipsec).into(),
        ssl_vpn: views::on_off(g.enable_ssl).into(),
        ssl_max_connections: g.ssl_connections,
        network_type: g.network_type.clone(),
        vpn_type: g.vpn_type.clone(),
        gateway_type: g.gateway_type.as_str().into(),
        enable_bgp: g.enable_bgp,
        auto_propagate: g.auto_propagate,
        resource_group_id: g.resource_group_id.clone(),
        // A legacy free-text field; the cloud sends an empty string.
        tag: String::new(),
        tags: views::tags(&g.tags),
        eni_instance_ids: shapes::EniInstanceIds::default(),
        // Reservations (pending renewals) are billing vpngw does not have.
        reservation_data: None,
    }
}

pub async fn describe(
    ctx: &Ctx<'_>,
    req: describe_op::Request,
) -> Result<describe_op::Answer, ApiError> {
    let gateway = load(ctx, &req.vpn_gateway_id).await?;
    Ok(view(&gateway.value, ctx.now_ms))
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: list_op::Request,
) -> Result<list_op::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::VpnGateway, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.vpn_gateway_id.as_deref());
    if let Some(vpc) = given(&req.vpc_id) {
        q.fields.push(("vpc_id", vpc.to_owned()));
    }
    q.status = given(&req.status).map(str::to_owned);
    q.resource_group_id = given(&req.resource_group_id).map(str::to_owned);
    q.tags = tag_filters_of(&req.tag);
    let wanted_type = given(&req.gateway_type)
        .map(|t| GatewayType::parse(t).ok_or_else(|| ApiError::invalid_parameter("GatewayType")))
        .transpose()?;
    let offset = (number - 1) * size;
    let (gateways, total) = match wanted_type {
        None => {
            q.offset = offset as u64;
            q.limit = size as u64;
            ctx.store()
                .list_typed::<VpnGateway>(&q)
                .await
                .map_err(crate::context::internal)?
        }
        // Gateways stored before the type existed have no field to filter
        // on in the store, and a region holds few gateways (its quota): the
        // type is filtered here, over all of them, then paged.
        Some(wanted) => {
            q.limit = 10_000;
            let (all, _) = ctx
                .store()
                .list_typed::<VpnGateway>(&q)
                .await
                .map_err(crate::context::internal)?;
            let matching: Vec<VpnGateway> = all
                .into_iter()
                .filter(|g| g.gateway_type == wanted)
                .collect();
            let total = matching.len();
            let page = matching
                .into_iter()
                .skip(offset as usize)
                .take(size as usize)
                .collect();
            (page, total as u64)
        }
    };
    Ok(list_op::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        vpn_gateways: list_op::VpnGateways {
            vpn_gateway: gateways.iter().map(|g| view(g, ctx.now_ms)).collect(),
        },
    })
}

/// An ID filter: one ID, or several separated by commas as some list calls accept.
pub(crate) fn id_list(value: Option<&str>) -> Vec<String> {
    value
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Refuses writes while the gateway provisions or updates.
pub(crate) fn require_active(g: &VpnGateway, now_ms: i64) -> Result<(), ApiError> {
    match g.lifecycle.effective(now_ms) {
        "active" => Ok(()),
        _ => Err(errors::gateway_configuring()),
    }
}

/// The attributes both modify operations change (ModifyVpnGatewayAttribute,
/// UpdateEnhancedVpnGateway), on an active gateway, which then updates for
/// `gateway_update_delay_ms`; the gateway as stored.
pub(crate) async fn change_attributes(
    ctx: &Ctx<'_>,
    id: &str,
    name: Option<String>,
    description: Option<String>,
    auto_propagate: Option<bool>,
) -> Result<VpnGateway, ApiError> {
    let Versioned { mut value, version } = load(ctx, id).await?;
    require_active(&value, ctx.now_ms)?;
    if let Some(name) = name {
        if !name.is_empty() && !validate::gateway_name(&name) {
            return Err(errors::invalid_name());
        }
        value.name = name;
    }
    if let Some(d) = description {
        if !d.is_empty() && !validate::description(&d) {
            return Err(errors::invalid_description());
        }
        value.description = d;
    }
    if let Some(ap) = auto_propagate {
        value.auto_propagate = ap;
    }
    value.lifecycle.settle(ctx.now_ms);
    let delay = ctx.config().gateway_update_delay_ms;
    if delay > 0 {
        value.lifecycle = Lifecycle::transition("updating", ctx.now_ms + delay, "active");
    }
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::vpn_gateway_not_found))?;
    Ok(value)
}

pub async fn modify(ctx: &Ctx<'_>, req: modify_op::Request) -> Result<modify_op::Answer, ApiError> {
    let value = change_attributes(
        ctx,
        &req.vpn_gateway_id,
        req.name,
        req.description,
        req.auto_propagate,
    )
    .await?;
    let g = value;
    Ok(modify_op::Answer {
        status: g.lifecycle.effective(ctx.now_ms).to_owned(),
        spec: g.spec(),
        vpn_gateway_id: g.id,
        vpc_id: g.vpc_id,
        v_switch_id: g.vswitch_id,
        name: g.name,
        description: g.description,
        internet_ip: g.internet_ip,
        intranet_ip: String::new(),
        disaster_recovery_internet_ip: g.disaster_recovery_internet_ip.unwrap_or_default(),
        disaster_recovery_v_switch_id: g.disaster_recovery_vswitch_id.unwrap_or_default(),
        ssl_vpn_internet_ip: g.ssl_vpn_internet_ip.unwrap_or_default(),
        create_time: g.create_time_ms,
        end_time: g.end_time_ms,
        business_status: "Normal".into(),
        enable_bgp: g.enable_bgp,
        auto_propagate: g.auto_propagate,
        resource_group_id: g.resource_group_id,
    })
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    remove(ctx, &req.vpn_gateway_id).await?;
    Ok(delete_op::Answer {})
}

/// Deletes a gateway that is not updating and that nothing uses (both
/// delete operations).
pub(crate) async fn remove(ctx: &Ctx<'_>, id: &str) -> Result<(), ApiError> {
    let gateway = load(ctx, id).await?;
    if gateway.value.lifecycle.effective(ctx.now_ms) == "updating" {
        return Err(errors::gateway_configuring());
    }
    ctx.store()
        .delete(Kind::VpnGateway, &ctx.scope()?, id)
        .await
        .map_err(|e| match e {
            vpngw_store::StoreError::Referenced {
                kind: Kind::SslVpnServer,
                ..
            } => errors::ssl_vpn_server_not_deleted(),
            vpngw_store::StoreError::Referenced { id: user, .. } => {
                errors::in_use_by_connection("VPN gateway", &user)
            }
            e => store_error(e, errors::vpn_gateway_not_found),
        })?;
    Ok(())
}
