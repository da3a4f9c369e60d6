//! DescribeRegions and DescribeZones, from the built-in catalogue.

use serde::Serialize;
use vpngw_model::catalog;

use super::reply;
use crate::{Ctx, actions::Reply};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionView {
    region_id: &'static str,
    local_name: &'static str,
    region_endpoint: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Regions {
    regions: RegionList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RegionList {
    region: Vec<RegionView>,
}

pub async fn describe_regions(ctx: &Ctx<'_>) -> Reply {
    let lang = ctx.opt("AcceptLanguage");
    reply(&Regions {
        regions: RegionList {
            region: catalog::regions()
                .iter()
                .map(|r| RegionView {
                    region_id: r.id,
                    local_name: r.local_name_for(lang),
                    region_endpoint: r.endpoint,
                })
                .collect(),
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneView {
    zone_id: &'static str,
    local_name: &'static str,
    zone_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Zones {
    zones: ZoneList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ZoneList {
    zone: Vec<ZoneView>,
}

pub async fn describe_zones(ctx: &Ctx<'_>) -> Reply {
    let region = ctx.region()?;
    let lang = ctx.opt("AcceptLanguage");
    reply(&Zones {
        zones: ZoneList {
            zone: region
                .zones
                .iter()
                .map(|z| ZoneView {
                    zone_id: z.id,
                    local_name: z.local_name_for(lang),
                    zone_type: "AvailabilityZone",
                })
                .collect(),
        },
    })
}
