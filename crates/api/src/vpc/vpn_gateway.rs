//! CreateVpnGateway, DescribeVpnGateway(s), ModifyVpnGatewayAttribute,
//! DeleteVpnGateway.

use std::net::Ipv4Addr;

use rand::Rng;
use serde::Serialize;
use vpngw_model::{
    Lifecycle, VpnGateway,
    ids::{IdKind, new_id},
    validate,
    vpc::free_host,
    vpn_gateway::{BANDWIDTHS, SSL_CONNECTIONS},
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, Quota, StoreExt, Versioned};

use super::{reply, tag_filters, views::VpnGatewayView};
use crate::{Ctx, actions::Reply, context::store_error, errors};

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

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created {
    vpn_gateway_id: String,
    name: String,
    order_id: i64,
}

pub async fn create(ctx: &Ctx<'_>) -> Reply {
    let p = ctx.params;
    let region = ctx.region()?;
    let vpc_id = p.required("VpcId")?;
    let bandwidth = p.i64("Bandwidth")?.unwrap_or(0);
    if !BANDWIDTHS.contains(&bandwidth) {
        return Err(ApiError::invalid_parameter("Bandwidth"));
    }
    let name = ctx.opt("Name").unwrap_or("");
    if !name.is_empty() && !validate::gateway_name(name) {
        return Err(errors::invalid_name());
    }
    let network_type = ctx.opt("NetworkType").unwrap_or("public");
    if !matches!(network_type, "public" | "private") {
        return Err(ApiError::invalid_parameter("NetworkType"));
    }
    let vpn_type = ctx.opt("VpnType").unwrap_or("Normal");
    if !matches!(vpn_type, "Normal" | "NationalStandard") {
        return Err(ApiError::invalid_parameter("VpnType"));
    }
    let prepaid = match ctx.opt("InstanceChargeType").unwrap_or("POSTPAY") {
        "PREPAY" => true,
        "POSTPAY" => false,
        _ => return Err(ApiError::invalid_parameter("InstanceChargeType")),
    };
    let period = p.i64("Period")?;
    if let Some(months) = period
        && !(prepaid && (1..=36).contains(&months))
    {
        return Err(ApiError::invalid_parameter("Period"));
    }
    let enable_ssl = p.bool("EnableSsl")?.unwrap_or(false);
    let ssl_connections = match p.i64("SslConnections")? {
        Some(_) if !enable_ssl => return Err(errors::unnecessary_ssl_connection()),
        Some(n) => n,
        None => 5,
    };
    if !SSL_CONNECTIONS.contains(&ssl_connections) {
        return Err(ApiError::invalid_parameter("SslConnections"));
    }
    let dr_vswitch = ctx.opt("DisasterRecoveryVSwitchId").map(str::to_owned);
    let placed = placement(ctx, vpc_id, ctx.opt("VSwitchId"), dr_vswitch.as_deref()).await?;
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
    let placed_in = placed.links;
    // SSL clients dial `SslVpnInternetIp`: on a dual-tunnel gateway an
    // address of its own, as the cloud gives one; on a single-tunnel one the
    // gateway's `InternetIp` (docs/api-decisions.md, "SSL-VPN").
    let ssl_vpn_internet_ip = enable_ssl.then(|| match &dr_vswitch {
        Some(_) => random_ip(pool),
        None => internet_ip.clone(),
    });
    let id = new_id(IdKind::VpnGateway, region.id_prefix);
    let gateway = VpnGateway {
        id: id.clone(),
        region_id: region.id.to_owned(),
        name: name.to_owned(),
        description: String::new(),
        vpc_id: vpc_id.to_owned(),
        vswitch_id: ctx.opt("VSwitchId").unwrap_or("").to_owned(),
        internet_ip,
        disaster_recovery_internet_ip: dr_vswitch.as_ref().map(|_| dr_ip),
        disaster_recovery_vswitch_id: dr_vswitch,
        ssl_vpn_internet_ip,
        bandwidth_mbps: bandwidth,
        network_type: network_type.to_owned(),
        charge_type: if prepaid { "Prepay" } else { "PostpayByFlow" }.into(),
        enable_ipsec: p.bool("EnableIpsec")?.unwrap_or(true),
        enable_ssl,
        ssl_connections,
        vpn_type: vpn_type.to_owned(),
        auto_propagate: false,
        enable_bgp: false,
        resource_group_id: super::resource_group::from_create(ctx)?,
        create_time_ms: ctx.now_ms,
        end_time_ms: match period {
            Some(months) => ctx.now_ms + months * 30 * 24 * 3600 * 1000,
            None => NO_EXPIRY_MS,
        },
        lifecycle: Lifecycle::transition(
            "init",
            ctx.now_ms + ctx.config().gateway_provision_delay_ms,
            "active",
        ),
        tags: Vec::new(),
        placed_in,
    };
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
    let answer = reply(&Created {
        vpn_gateway_id: id,
        name: gateway.name.clone(),
        order_id: order_id(),
    })?;
    let inserted = ctx
        .store()
        .insert_typed_with(
            &ctx.caller.account_id,
            &gateway,
            guard,
            ctx.trail(Vec::new(), &answer),
        )
        .await
        .map_err(|e| store_error(e, errors::vpn_gateway_not_found))?;
    match inserted {
        Inserted::Created => Ok(ctx.audited(answer)),
        Inserted::Replayed { id } => {
            let existing = load(ctx, &id).await?;
            reply(&Created {
                vpn_gateway_id: id,
                name: existing.value.name,
                order_id: order_id(),
            })
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

pub async fn describe(ctx: &Ctx<'_>) -> Reply {
    let gateway = load(ctx, ctx.params.required("VpnGatewayId")?).await?;
    reply(&VpnGatewayView::of(&gateway.value, ctx.now_ms))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GatewayPage {
    total_count: u64,
    page_number: i64,
    page_size: i64,
    vpn_gateways: GatewayList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GatewayList {
    vpn_gateway: Vec<VpnGatewayView>,
}

pub async fn describe_many(ctx: &Ctx<'_>) -> Reply {
    let (number, size) = ctx.page(50)?;
    let mut q = ListQuery::new(Kind::VpnGateway, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(ctx.opt("VpnGatewayId"));
    if let Some(vpc) = ctx.opt("VpcId") {
        q.fields.push(("vpc_id", vpc.to_owned()));
    }
    q.status = ctx.opt("Status").map(str::to_owned);
    q.resource_group_id = ctx.opt("ResourceGroupId").map(str::to_owned);
    q.tags = tag_filters(ctx.params, "Tag")?;
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (gateways, total) = ctx
        .store()
        .list_typed::<VpnGateway>(&q)
        .await
        .map_err(crate::context::internal)?;
    reply(&GatewayPage {
        total_count: total,
        page_number: number,
        page_size: size,
        vpn_gateways: GatewayList {
            vpn_gateway: gateways
                .iter()
                .map(|g| VpnGatewayView::of(g, ctx.now_ms))
                .collect(),
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

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Modified {
    vpn_gateway_id: String,
    vpc_id: String,
    #[serde(rename = "VSwitchId")]
    vswitch_id: String,
    name: String,
    description: String,
    internet_ip: String,
    intranet_ip: String,
    disaster_recovery_internet_ip: String,
    #[serde(rename = "DisasterRecoveryVSwitchId")]
    disaster_recovery_vswitch_id: String,
    ssl_vpn_internet_ip: String,
    create_time: i64,
    end_time: i64,
    spec: String,
    status: String,
    business_status: &'static str,
    enable_bgp: bool,
    auto_propagate: bool,
    resource_group_id: String,
}

pub async fn modify(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnGatewayId")?;
    let Versioned { mut value, version } = load(ctx, id).await?;
    require_active(&value, ctx.now_ms)?;
    if let Some(name) = ctx.params.get("Name") {
        if !name.is_empty() && !validate::gateway_name(name) {
            return Err(errors::invalid_name());
        }
        value.name = name.to_owned();
    }
    if let Some(d) = ctx.params.get("Description") {
        if !d.is_empty() && !validate::description(d) {
            return Err(errors::invalid_description());
        }
        value.description = d.to_owned();
    }
    if let Some(ap) = ctx.params.bool("AutoPropagate")? {
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
    let g = value;
    reply(&Modified {
        status: g.lifecycle.effective(ctx.now_ms).to_owned(),
        spec: g.spec(),
        vpn_gateway_id: g.id,
        vpc_id: g.vpc_id,
        vswitch_id: g.vswitch_id,
        name: g.name,
        description: g.description,
        internet_ip: g.internet_ip,
        intranet_ip: String::new(),
        disaster_recovery_internet_ip: g.disaster_recovery_internet_ip.unwrap_or_default(),
        disaster_recovery_vswitch_id: g.disaster_recovery_vswitch_id.unwrap_or_default(),
        ssl_vpn_internet_ip: g.ssl_vpn_internet_ip.unwrap_or_default(),
        create_time: g.create_time_ms,
        end_time: g.end_time_ms,
        business_status: "Normal",
        enable_bgp: g.enable_bgp,
        auto_propagate: g.auto_propagate,
        resource_group_id: g.resource_group_id,
    })
}

pub async fn delete(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnGatewayId")?;
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
    reply(&serde_json::json!({}))
}
