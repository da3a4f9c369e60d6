//! DescribeAvailableResource and DescribeZones, answered from the catalogue.
//!
//! vpngw runs no ECS instances. What it says a zone offers is a small, fixed
//! list ([`INSTANCE_TYPES`], [`DISK_CATEGORIES`]), the same in every zone of
//! every region: enough for a client that keeps only the zones listing an
//! instance type and a disk category (Terraform's `data "alicloud_zones"`
//! does) to see every zone vpngw's vSwitches and VPN gateways can use.

use vpngw_model::catalog::Zone;
use vpngw_ops::ecs::{describe_available_resource as avail, describe_zones as zones_op};
use vpngw_protocol::ApiError;

use crate::{Ctx, vpc::given};

/// The smallest and largest size of a disk, in GiB.
type GiB = (i64, i64);

/// The instance types every zone lists (I/O optimized, VPC network).
pub const INSTANCE_TYPES: &[&str] = &["ecs.g7.large", "ecs.c7.large", "ecs.t6-c1m1.large"];
/// The disk categories every zone lists, with the sizes (GiB) a system disk
/// and a data disk of that category can have.
pub const DISK_CATEGORIES: &[(&str, GiB, GiB)] = &[
    ("cloud_efficiency", (20, 2048), (20, 32768)),
    ("cloud_ssd", (20, 2048), (20, 32768)),
    ("cloud_essd", (20, 2048), (20, 65536)),
];
/// What can be created in every zone (`AvailableResourceCreation`).
const RESOURCE_CREATION: &[&str] = &["VSwitch", "Instance", "Disk"];

/// `InstanceChargeType`, `SpotStrategy` and `IoOptimized` take one of the
/// values the API documents; anything else is `InvalidParameter`.
fn check_enum(name: &str, value: &Option<String>, allowed: &[&str]) -> Result<(), ApiError> {
    match given(value) {
        Some(v) if !allowed.contains(&v) => Err(ApiError::invalid_parameter(name)),
        _ => Ok(()),
    }
}

/// `InstanceChargeType` and `SpotStrategy`, which both operations take.
fn check_billing(charge: &Option<String>, spot: &Option<String>) -> Result<(), ApiError> {
    check_enum("InstanceChargeType", charge, &["PrePaid", "PostPaid"])?;
    check_enum(
        "SpotStrategy",
        spot,
        &["NoSpot", "SpotAsPriceGo", "SpotWithPriceLimit"],
    )
}

fn available(value: &str) -> avail::SupportedResource {
    avail::SupportedResource {
        value: value.to_owned(),
        status: "Available".to_owned(),
        status_category: "WithStock".to_owned(),
        ..Default::default()
    }
}

fn sized(value: &str, (min, max): (i64, i64)) -> avail::SupportedResource {
    avail::SupportedResource {
        min: Some(min),
        max: Some(max),
        unit: Some("GiB".to_owned()),
        ..available(value)
    }
}

/// What a zone offers of the resource `destination` asks about, filtered
/// by the request; empty when it offers nothing that matches.
fn offer(req: &avail::Request, zone: &Zone) -> Vec<avail::SupportedResource> {
    let wanted = |filter: &Option<String>, value: &str| given(filter).is_none_or(|f| f == value);
    let type_ok = INSTANCE_TYPES.iter().any(|t| wanted(&req.instance_type, t));
    let system_ok = DISK_CATEGORIES
        .iter()
        .any(|d| wanted(&req.system_disk_category, d.0));
    let data_ok = DISK_CATEGORIES
        .iter()
        .any(|d| wanted(&req.data_disk_category, d.0));
    // vpngw has no dedicated hosts, and offers I/O-optimized types only.
    if given(&req.dedicated_host_id).is_some()
        || given(&req.io_optimized) == Some("none")
        || !(type_ok && system_ok && data_ok)
    {
        return Vec::new();
    }
    match req.destination_resource.as_str() {
        "Zone" => vec![available(zone.id)],
        "IoOptimized" => vec![available("optimized")],
        "InstanceType" => INSTANCE_TYPES
            .iter()
            .filter(|t| wanted(&req.instance_type, t))
            .map(|t| available(t))
            .collect(),
        "Network" => vec![available("vpc")],
        "SystemDisk" => DISK_CATEGORIES
            .iter()
            .filter(|d| wanted(&req.system_disk_category, d.0))
            .map(|d| sized(d.0, d.1))
            .collect(),
        "DataDisk" => DISK_CATEGORIES
            .iter()
            .filter(|d| wanted(&req.data_disk_category, d.0))
            .map(|d| sized(d.0, d.2))
            .collect(),
        _ => Vec::new(), // ddh
    }
}

/// The `Type` of the answer's resources for a `DestinationResource`.
fn resource_type(destination: &str) -> Option<&'static str> {
    Some(match destination {
        "Zone" => "Zone",
        "IoOptimized" => "IoOptimized",
        "InstanceType" => "InstanceType",
        "Network" => "Network",
        "ddh" => "DedicatedHost",
        "SystemDisk" => "SystemDisk",
        "DataDisk" => "DataDisk",
        _ => return None,
    })
}

/// DescribeAvailableResource: the zones of the region (or the one `ZoneId`
/// names) that offer what the request asks for, each with what it offers.
pub async fn available_resource(
    ctx: &Ctx<'_>,
    req: avail::Request,
) -> Result<avail::Answer, ApiError> {
    let region = ctx.region()?;
    let kind = resource_type(&req.destination_resource)
        .ok_or_else(|| ApiError::invalid_parameter("DestinationResource"))?;
    check_billing(&req.instance_charge_type, &req.spot_strategy)?;
    check_enum("IoOptimized", &req.io_optimized, &["optimized", "none"])?;
    let zones = region
        .zones
        .iter()
        .filter(|z| given(&req.zone_id).is_none_or(|id| id == z.id));
    let available_zone = zones
        .filter_map(|zone| {
            let offered = offer(&req, zone);
            (!offered.is_empty()).then(|| avail::AvailableZone {
                region_id: region.id.to_owned(),
                zone_id: zone.id.to_owned(),
                status: "Available".to_owned(),
                status_category: "WithStock".to_owned(),
                available_resources: avail::AvailableResources {
                    available_resource: vec![avail::AvailableResource {
                        r#type: kind.to_owned(),
                        supported_resources: avail::SupportedResources {
                            supported_resource: offered,
                        },
                    }],
                },
            })
        })
        .collect();
    Ok(avail::Answer {
        available_zones: avail::AvailableZones { available_zone },
    })
}

/// DescribeZones: every zone of the region with what it offers. Names are
/// Chinese unless `AcceptLanguage` asks for `en-US` (this operation's
/// default is `zh-CN`); `Verbose=false` leaves out the per-resource detail
/// (`AvailableResources`), as the API documents.
pub async fn describe_zones(
    ctx: &Ctx<'_>,
    req: zones_op::Request,
) -> Result<zones_op::Answer, ApiError> {
    let region = ctx.region()?;
    check_billing(&req.instance_charge_type, &req.spot_strategy)?;
    let lang = match given(&req.accept_language) {
        None => "zh-CN",
        Some(l @ ("zh-CN" | "en-US")) => l,
        Some(_) => return Err(ApiError::invalid_parameter("AcceptLanguage")),
    };
    let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let disks: Vec<&str> = DISK_CATEGORIES.iter().map(|d| d.0).collect();
    let details = |zone_verbose: bool| {
        if !zone_verbose {
            return zones_op::AvailableResources::default();
        }
        zones_op::AvailableResources {
            resources_info: vec![zones_op::ResourcesInfo {
                io_optimized: true,
                instance_types: zones_op::InstanceTypes {
                    supported_instance_type: strings(INSTANCE_TYPES),
                },
                instance_type_families: zones_op::InstanceTypeFamilies {
                    supported_instance_type_family: strings(&["ecs.g7", "ecs.c7", "ecs.t6"]),
                },
                instance_generations: zones_op::InstanceGenerations {
                    supported_instance_generation: strings(&["ecs-5"]),
                },
                network_types: zones_op::NetworkTypes {
                    supported_network_category: strings(&["vpc"]),
                },
                system_disk_categories: zones_op::SystemDiskCategories {
                    supported_system_disk_category: strings(&disks),
                },
                data_disk_categories: zones_op::DataDiskCategories {
                    supported_data_disk_category: strings(&disks),
                },
            }],
        }
    };
    let verbose = req.verbose.unwrap_or(true);
    Ok(zones_op::Answer {
        zones: zones_op::Zones {
            zone: region
                .zones
                .iter()
                .map(|z| zones_op::Zone {
                    zone_id: z.id.to_owned(),
                    local_name: z.local_name_for(Some(lang)).to_owned(),
                    zone_type: "AvailabilityZone".to_owned(),
                    available_instance_types: zones_op::AvailableInstanceTypes {
                        instance_types: strings(INSTANCE_TYPES),
                    },
                    available_disk_categories: zones_op::AvailableDiskCategories {
                        disk_categories: strings(&disks),
                    },
                    available_volume_categories: zones_op::AvailableVolumeCategories {
                        volume_categories: strings(&disks),
                    },
                    available_resource_creation: zones_op::AvailableResourceCreation {
                        resource_types: strings(RESOURCE_CREATION),
                    },
                    available_resources: details(verbose),
                    ..Default::default()
                })
                .collect(),
        },
    })
}
