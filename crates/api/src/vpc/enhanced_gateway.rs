//! CreateEnhancedVpnGateway, UpdateEnhancedVpnGateway,
//! DeleteEnhancedVpnGateway: the enhanced VPN gateway, a site-to-cloud
//! gateway that serves only dual-tunnel IPsec connections. It is a VPN
//! gateway like any other (DescribeVpnGateway(s), connections, routes, tags
//! and the agent treat it the same) with `GatewayType`
//! `Enhanced.SiteToSite`, two vSwitches always, and neither SSL-VPN nor an
//! IPsec server (docs/api-decisions.md, "Enhanced VPN gateways").

use vpngw_model::{GatewayType, VpnGateway, validate};
use vpngw_ops::vpc::{
    create_enhanced_vpn_gateway as create_op, delete_enhanced_vpn_gateway as delete_op,
    update_enhanced_vpn_gateway as update_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::Versioned;

use super::{
    given, views,
    vpn_gateway::{self, NewGateway},
};
use crate::{Ctx, errors};

fn created(id: String, name: String) -> create_op::Answer {
    create_op::Answer {
        vpn_gateway_id: id,
        name,
    }
}

pub async fn create(ctx: &Ctx<'_>, req: create_op::Request) -> Result<create_op::Answer, ApiError> {
    ctx.region()?;
    if GatewayType::parse(&req.gateway_type) != Some(GatewayType::EnhancedSiteToSite) {
        return Err(ApiError::invalid_parameter("GatewayType"));
    }
    let name = given(&req.name);
    if let Some(n) = name
        && !validate::gateway_name(n)
    {
        return Err(errors::invalid_name());
    }
    let network_type = vpn_gateway::network_type(given(&req.network_type))?;
    let vpn_type = vpn_gateway::vpn_type(given(&req.vpn_type))?;
    // Dual tunnel only: both vSwitches, in two zones when vpngw knows them.
    let vswitch =
        given(&req.v_switch_id).ok_or_else(|| ApiError::missing_parameter("VSwitchId"))?;
    let dr_vswitch = given(&req.disaster_recovery_v_switch_id)
        .ok_or_else(|| ApiError::missing_parameter("DisasterRecoveryVSwitchId"))?;
    let mut gateway = vpn_gateway::build(
        ctx,
        NewGateway {
            vpc_id: &req.vpc_id,
            vswitch: Some(vswitch),
            dr_vswitch: Some(dr_vswitch),
            network_type,
            enable_ssl: false,
            resource_group_id: req.resource_group_id.as_deref(),
        },
    )
    .await?;
    gateway.gateway_type = GatewayType::EnhancedSiteToSite;
    // "The default value is the ID of the enhanced VPN gateway."
    gateway.name = name.map_or_else(|| gateway.id.clone(), str::to_owned);
    gateway.vpn_type = vpn_type.to_owned();
    vpn_gateway::insert(ctx, gateway, created).await
}

/// An enhanced gateway of the caller's; a traditional one is not found
/// under these operations, as it is not an enhanced gateway.
async fn load_enhanced(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<VpnGateway>, ApiError> {
    let gateway = vpn_gateway::load(ctx, id).await?;
    if gateway.value.gateway_type != GatewayType::EnhancedSiteToSite {
        return Err(errors::vpn_gateway_not_found());
    }
    Ok(gateway)
}

pub async fn update(ctx: &Ctx<'_>, req: update_op::Request) -> Result<update_op::Answer, ApiError> {
    load_enhanced(ctx, &req.vpn_gateway_id).await?;
    let g = vpn_gateway::change_attributes(
        ctx,
        &req.vpn_gateway_id,
        req.name,
        req.description,
        req.auto_propagate,
    )
    .await?;
    Ok(update_op::Answer {
        status: g.lifecycle.effective(ctx.now_ms).to_owned(),
        gateway_type: g.gateway_type.as_str().to_owned(),
        network_type: g.network_type.clone(),
        vpn_type: g.vpn_type.clone(),
        create_time: g.create_time_ms,
        enable_bgp: g.enable_bgp,
        auto_propagate: g.auto_propagate,
        // vpngw's gateways have no elastic network interfaces of their own.
        eni_instance_ids: update_op::EniInstanceIds::default(),
        // A legacy free-text field; the cloud sends an empty string.
        tag: String::new(),
        tags: views::tags(&g.tags),
        disaster_recovery_v_switch_id: g.disaster_recovery_vswitch_id.unwrap_or_default(),
        resource_group_id: g.resource_group_id,
        v_switch_id: g.vswitch_id,
        vpc_id: g.vpc_id,
        name: g.name,
        description: g.description,
        vpn_gateway_id: g.id,
    })
}

pub async fn delete(ctx: &Ctx<'_>, req: delete_op::Request) -> Result<delete_op::Answer, ApiError> {
    load_enhanced(ctx, &req.vpn_gateway_id).await?;
    vpn_gateway::remove(ctx, &req.vpn_gateway_id).await?;
    Ok(delete_op::Answer {})
}
