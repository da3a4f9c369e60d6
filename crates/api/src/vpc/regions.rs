//! DescribeRegions and DescribeZones, from the built-in catalogue.

use vpngw_model::catalog;
use vpngw_ops::vpc::{describe_regions as regions_op, describe_zones as zones_op};
use vpngw_protocol::ApiError;

use super::given;
use crate::Ctx;

pub async fn describe_regions(
    _ctx: &Ctx<'_>,
    req: regions_op::Request,
) -> Result<regions_op::Answer, ApiError> {
    let lang = given(&req.accept_language);
    Ok(regions_op::Answer {
        regions: regions_op::Regions {
            region: catalog::regions()
                .iter()
                .map(|r| regions_op::Region {
                    region_id: r.id.to_owned(),
                    local_name: r.local_name_for(lang).to_owned(),
                    region_endpoint: r.endpoint.to_owned(),
                })
                .collect(),
        },
    })
}

pub async fn describe_zones(
    ctx: &Ctx<'_>,
    req: zones_op::Request,
) -> Result<zones_op::Answer, ApiError> {
    let region = ctx.region()?;
    let lang = given(&req.accept_language);
    Ok(zones_op::Answer {
        zones: zones_op::Zones {
            zone: region
                .zones
                .iter()
                .map(|z| zones_op::Zone {
                    zone_id: z.id.to_owned(),
                    local_name: z.local_name_for(lang).to_owned(),
                    zone_type: "AvailabilityZone".to_owned(),
                })
                .collect(),
        },
    })
}
