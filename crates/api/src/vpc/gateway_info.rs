//! What a caller asks before creating a VPN gateway: CheckVpnBgpEnabled and
//! DescribeVpnGatewayAvailableZones, answered from the built-in catalogue.

use serde::Serialize;
use vpngw_protocol::ApiError;

use super::reply;
use crate::{Ctx, actions::Reply};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BgpEnabled {
    bgp_enabled: bool,
}

/// BGP works the same in every region vpngw serves (the data plane carries
/// it on any gateway), so the answer is `true` wherever the region exists.
pub async fn check_bgp_enabled(ctx: &Ctx<'_>) -> Reply {
    ctx.region()?;
    if let Some(token) = ctx.opt("ClientToken")
        && (token.len() > 64 || !token.is_ascii())
    {
        return Err(ApiError::invalid_parameter("ClientToken"));
    }
    reply(&BgpEnabled { bgp_enabled: true })
}

/// The bandwidths (`Spec`) a VPN gateway can have.
const SPECS: &[&str] = &["5M", "10M", "20M", "50M", "100M", "200M", "500M", "1000M"];

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneView {
    zone_id: &'static str,
    zone_name: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Zones {
    region_id: &'static str,
    available_zone_id_list: Vec<ZoneView>,
}

/// Every zone of the region, for every specification: vpngw places a
/// gateway's tunnels in any two of them. Names are English unless
/// `AcceptLanguage` asks for `zh-CN` (this operation's default is `en-US`).
pub async fn available_zones(ctx: &Ctx<'_>) -> Reply {
    let region = ctx.region()?;
    let spec = ctx.params.required("Spec")?;
    if !SPECS.iter().any(|s| s.eq_ignore_ascii_case(spec)) {
        return Err(ApiError::invalid_parameter("Spec"));
    }
    if let Some(t) = ctx.opt("GatewayType")
        && !matches!(t, "Traditional" | "Enhanced.SiteToSite")
    {
        return Err(ApiError::invalid_parameter("GatewayType"));
    }
    let lang = match ctx.opt("AcceptLanguage") {
        None => "en-US",
        Some(l @ ("zh-CN" | "en-US")) => l,
        Some(_) => return Err(ApiError::invalid_parameter("AcceptLanguage")),
    };
    reply(&Zones {
        region_id: region.id,
        available_zone_id_list: region
            .zones
            .iter()
            .map(|z| ZoneView {
                zone_id: z.id,
                zone_name: z.local_name_for(Some(lang)),
            })
            .collect(),
    })
}
