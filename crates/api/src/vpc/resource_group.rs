//! Resource groups: the `ResourceGroupId` rule of the Create* operations,
//! MoveVpnResourceGroup and MoveResourceGroup.
//!
//! vpngw has no Resource Manager to ask whether a group exists, so it
//! accepts any syntactically valid group id (`rg-` and lowercase letters
//! and digits, as the cloud hands them out) and keeps it as given.

use serde_json::Value;
use vpngw_protocol::ApiError;
use vpngw_store::{Kind, ListQuery};

use vpngw_ops::vpc::{move_resource_group as move_op, move_vpn_resource_group as move_vpn_op};

use super::records::{self, ResourceType};
use crate::{Ctx, context::internal, errors};

/// The group of resources created without `ResourceGroupId`.
pub const DEFAULT: &str = "rg-default";

/// Whether `s` has the shape of a resource group id: `rg-` and 1–64
/// lowercase letters or digits (`rg-acfmzs372yg…`).
pub fn valid_id(s: &str) -> bool {
    s.strip_prefix("rg-").is_some_and(|rest| {
        (1..=64).contains(&rest.len())
            && rest
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// `ResourceGroupId` of a create: the given group, checked, or the default.
pub(crate) fn of_create(given: Option<&str>) -> Result<String, ApiError> {
    match given.filter(|g| !g.is_empty()) {
        None => Ok(DEFAULT.to_owned()),
        Some(rg) if valid_id(rg) => Ok(rg.to_owned()),
        Some(_) => Err(errors::invalid_resource_group_id()),
    }
}

/// The resource's own NotFound error for a move.
fn not_found(rtype: ResourceType) -> ApiError {
    match rtype {
        ResourceType::VpnGateway => errors::vpn_gateway_not_found(),
        ResourceType::CustomerGateway => errors::customer_gateway_not_found(),
        ResourceType::VpnConnection | ResourceType::VpnAttachment => {
            errors::vpn_connection_not_found()
        }
        ResourceType::Vpc => super::vpcs::vpc_not_found(),
        ResourceType::VSwitch => super::vpcs::vswitch_not_found(),
    }
}

fn set_group(doc: &mut Value, group: &str) -> Result<bool, ApiError> {
    if doc.get("resource_group_id").and_then(Value::as_str) == Some(group) {
        return Ok(false);
    }
    if let Value::Object(map) = doc {
        map.insert("resource_group_id".into(), Value::String(group.to_owned()));
    }
    Ok(true)
}

/// Moves one resource (`id`, named by the parameter `id_param`) to
/// `group`. A VPN gateway takes its connections along, as the cloud
/// documents; a gateway's connection cannot move on its own.
async fn move_to(
    ctx: &Ctx<'_>,
    rtype: ResourceType,
    id: &str,
    id_param: &str,
    group: &str,
) -> Result<(), ApiError> {
    if !valid_id(group) {
        return Err(errors::invalid_resource_group_id());
    }
    let doc = records::doc(ctx, rtype.kind(), id)
        .await?
        .ok_or_else(|| not_found(rtype))?;
    match rtype.of_doc(&doc) {
        ResourceType::VpnConnection => {
            return Err(ApiError::invalid_parameter_because(
                id_param,
                "an IPsec-VPN connection of a VPN gateway belongs to the gateway's resource group; move the gateway",
            ));
        }
        ResourceType::VpnAttachment if rtype == ResourceType::VpnConnection => {
            // Named the other way, but the same resource.
        }
        _ => {}
    }
    records::rewrite(ctx, rtype.kind(), id, &mut |doc| set_group(doc, group))
        .await?
        .ok_or_else(|| not_found(rtype))?;
    if rtype == ResourceType::VpnGateway {
        let mut q = ListQuery::new(Kind::VpnConnection, ctx.scope()?, ctx.now_ms);
        q.parent_id = Some(id.to_owned());
        q.limit = 1000;
        let page = ctx.store().list(&q).await.map_err(internal)?;
        for record in page.records {
            // A connection deleted meanwhile has nothing left to move.
            records::rewrite(ctx, Kind::VpnConnection, &record.id, &mut |doc| {
                set_group(doc, group)
            })
            .await?;
        }
    }
    Ok(())
}

/// MoveVpnResourceGroup: `InstanceId`, `ResourceType` (VpnGateway,
/// CustomerGateway, VpnAttachment; any case), `NewResourceGroupId`. VPCs and
/// vSwitches are not VPN resources: MoveResourceGroup moves them.
pub async fn move_vpn_resource_group(
    ctx: &Ctx<'_>,
    req: move_vpn_op::Request,
) -> Result<move_vpn_op::Answer, ApiError> {
    let rtype = ResourceType::parse(&req.resource_type)?;
    if matches!(rtype, ResourceType::Vpc | ResourceType::VSwitch) {
        return Err(errors::invalid_resource_type());
    }
    let group = &req.new_resource_group_id;
    move_to(ctx, rtype, &req.instance_id, "InstanceId", group).await?;
    Ok(move_vpn_op::Answer {})
}

/// MoveResourceGroup: the VPC-wide form (`ResourceId`), for the same types
/// and VPCs (`VPC`, what the provider's alicloud_vpc sends) and vSwitches.
pub async fn move_resource_group(
    ctx: &Ctx<'_>,
    req: move_op::Request,
) -> Result<move_op::Answer, ApiError> {
    let rtype = ResourceType::parse(&req.resource_type)?;
    let group = &req.new_resource_group_id;
    move_to(ctx, rtype, &req.resource_id, "ResourceId", group).await?;
    Ok(move_op::Answer {})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_ids() {
        assert!(valid_id("rg-acfmzs372ygabcd"));
        assert!(valid_id(DEFAULT));
        assert!(!valid_id("rg-"));
        assert!(!valid_id("rg-ABC"));
        assert!(!valid_id("acfm"));
        assert!(!valid_id("rg-a b"));
        assert!(!valid_id(&format!("rg-{}", "a".repeat(65))));
    }
}
