//! What a caller asks before creating a VPN gateway: CheckVpnBgpEnabled and
//! DescribeVpnGatewayAvailableZones, answered from the built-in catalogue.

use vpngw_ops::vpc::{
    check_vpn_bgp_enabled as bgp_op, describe_vpn_gateway_available_zones as zones_op,
};
use vpngw_protocol::ApiError;

use super::given;
use crate::Ctx;

/// BGP works the same in every region vpngw serves (the data plane carries
/// it on any gateway), so the answer is `true` wherever the region exists.
pub async fn check_bgp_enabled(
    ctx: &Ctx<'_>,
    req: bgp_op::Request,
) -> Result<bgp_op::Answer, ApiError> {
    ctx.region()?;
    if let Some(token) = given(&req.client_token)
        && (token.len() > 64 || !token.is_ascii())
    {
        return Err(ApiError::invalid_parameter("ClientToken"));
    }
    Ok(bgp_op::Answer { bgp_enabled: true })
}

/// The bandwidths (`Spec`) a VPN gateway can have.
const SPECS: &[&str] = &["5M", "10M", "20M", "50M", "100M", "200M", "500M", "1000M"];

/// Every zone of the region, for every specification: vpngw places a
/// gateway's tunnels in any two of them. Names are English unless
/// `AcceptLanguage` asks for `zh-CN` (this operation's default is `en-US`).
pub async fn available_zones(
    ctx: &Ctx<'_>,
    req: zones_op::Request,
) -> Result<zones_op::Answer, ApiError> {
    let region = ctx.region()?;
    if !SPECS.iter().any(|s| s.eq_ignore_ascii_case(&req.spec)) {
        return Err(ApiError::invalid_parameter("Spec"));
    }
    if let Some(t) = given(&req.gateway_type)
        && !matches!(t, "Traditional" | "Enhanced.SiteToSite")
    {
        return Err(ApiError::invalid_parameter("GatewayType"));
    }
    let lang = match given(&req.accept_language) {
        None => "en-US",
        Some(l @ ("zh-CN" | "en-US")) => l,
        Some(_) => return Err(ApiError::invalid_parameter("AcceptLanguage")),
    };
    Ok(zones_op::Answer {
        region_id: region.id.to_owned(),
        available_zone_id_list: region
            .zones
            .iter()
            .map(|z| zones_op::AvailableZoneIdList {
                zone_id: z.id.to_owned(),
                zone_name: z.local_name_for(Some(lang)).to_owned(),
            })
            .collect(),
    })
}
