//! ECS (`Version` 2014-05-26): only the two zone reads Terraform's
//! `data "alicloud_zones"` makes before it lists a zone, DescribeAvailableResource
//! (`DestinationResource=Zone`) and DescribeZones, so that the provider's
//! documented examples run against vpngw unmodified. Every other ECS
//! operation is `UnsupportedOperation`.
//!
//! Signed, authenticated and authorized like every call (RAM actions
//! `ecs:DescribeAvailableResource`, `ecs:DescribeZones`, on
//! `acs:ecs:<region>:<account>:*`). The answers come from vpngw's region and
//! zone catalogue and the small offer of [`zones`] (docs/api-decisions.md,
//! "ECS: the zones of `data \"alicloud_zones\"`").

mod zones;

use crate::actions::ActionDef;

/// The ECS operations vpngw serves.
pub(crate) static OPERATIONS: &[ActionDef] = crate::operations! {
    ecs;
    DescribeAvailableResource => zones::available_resource,
    DescribeZones => zones::describe_zones,
};
