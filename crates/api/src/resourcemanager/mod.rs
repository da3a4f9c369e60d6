//! Resource Manager (`Version` 2020-03-31): only the two reads of
//! Terraform's `data "alicloud_resource_manager_resource_groups"`,
//! ListResourceGroups and GetResourceGroup (its `enable_details`), so that
//! the provider's examples that take `…resource_groups.default.ids.0` run
//! against vpngw unmodified. Every other Resource Manager operation is
//! `UnsupportedOperation`.
//!
//! vpngw keeps no resource groups of its own (docs/api-decisions.md,
//! "Resource Manager: the default resource group"): every account has one,
//! its default group `rg-default`, which resources created without a group
//! are in. Signed, authenticated and authorized like every call (RAM actions
//! `resourcemanager:ListResourceGroups` / `resourcemanager:GetResourceGroup`).

pub(crate) mod resource_groups;

use crate::actions::ActionDef;

/// The Resource Manager operations vpngw serves.
pub(crate) static OPERATIONS: &[ActionDef] = crate::operations! {
    resourcemanager;
    ListResourceGroups => resource_groups::list,
    GetResourceGroup => resource_groups::get,
};
