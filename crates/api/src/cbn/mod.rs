//! Cloud Enterprise Network (`Cbn` 2017-09-12): the CEN instance, the
//! Enterprise Edition transit router with its CIDR blocks, the zones a
//! transit router offers, and the transit router's attachments of IPsec-VPN
//! connections — what Terraform's `alicloud_vpn_gateway_vco_route` example
//! builds before it routes over an attached connection. Every other CEN
//! operation is `UnsupportedOperation`.
//!
//! Authorized as `cen:*` actions on `acs:cen:*:{account}:ceninstance/{id}`,
//! `…:transitrouter/{id}` and `…:transitrouterattachment/{id}` (CEN's ARNs
//! have no region); the attached connection as its VPC ARN
//! (docs/api-decisions.md, "CEN and transit routers").

mod cens;
mod transit_routers;
mod vpn_attachments;

use vpngw_model::{Tag, validate};
use vpngw_protocol::ApiError;

use crate::actions::ActionDef;

/// The CEN operations vpngw serves.
pub(crate) static OPERATIONS: &[ActionDef] = crate::operations! {
    cbn;
    CreateCen => cens::create,
    DescribeCens => cens::describe_many,
    ModifyCenAttribute => cens::modify,
    DeleteCen => cens::delete,
    CreateTransitRouter => transit_routers::create,
    ListTransitRouters => transit_routers::list,
    UpdateTransitRouter => transit_routers::update,
    DeleteTransitRouter => transit_routers::delete,
    CreateTransitRouterCidr => transit_routers::create_cidr,
    ListTransitRouterCidr => transit_routers::list_cidrs,
    ModifyTransitRouterCidr => transit_routers::modify_cidr,
    DeleteTransitRouterCidr => transit_routers::delete_cidr,
    ListTransitRouterAvailableResource => transit_routers::available_resource,
    CreateTransitRouterVpnAttachment => vpn_attachments::create,
    ListTransitRouterVpnAttachments => vpn_attachments::list,
    UpdateTransitRouterVpnAttachmentAttribute => vpn_attachments::update,
    DeleteTransitRouterVpnAttachment => vpn_attachments::delete,
};

/// `DryRun=true`: the checks passed, nothing is done.
fn refuse_dry_run(flag: Option<bool>) -> Result<(), ApiError> {
    if flag == Some(true) {
        return Err(ApiError::new(
            "DryRunOperation",
            "Request validation has been passed with DryRun flag set.",
        ));
    }
    Ok(())
}

/// A name of CEN's (1–128 characters, not starting with a URL scheme; empty
/// is no name), else `InvalidParameter` naming the parameter.
fn check_name(name: Option<&str>, param: &str) -> Result<(), ApiError> {
    match name {
        Some(n)
            if !n.is_empty()
                && (n.chars().count() > 128
                    || n.to_ascii_lowercase().starts_with("http://")
                    || n.to_ascii_lowercase().starts_with("https://")) =>
        {
            Err(ApiError::invalid_parameter(param))
        }
        _ => Ok(()),
    }
}

/// A description (1–256 characters, not starting with a URL scheme).
fn check_description(d: Option<&str>, param: &str) -> Result<(), ApiError> {
    match d {
        Some(d) if !d.is_empty() && !validate::description(d) => {
            Err(ApiError::invalid_parameter(param))
        }
        _ => Ok(()),
    }
}

/// Tags as `(key, value)` pairs for an answer's tag type.
fn tag_pairs(tags: &[Tag]) -> impl Iterator<Item = (String, String)> + '_ {
    tags.iter().map(|t| (t.key.clone(), t.value.clone()))
}

/// Whether a record carries every tag filter (key, and value when given).
fn tags_match(tags: &[Tag], filters: &[(String, Option<String>)]) -> bool {
    filters.iter().all(|(k, v)| {
        tags.iter()
            .any(|t| &t.key == k && v.as_ref().is_none_or(|v| &t.value == v))
    })
}

/// The provisioning status a change reports before it settles: none in
/// `--dev` (zero delays), else the gateway provisioning delay.
fn settle_ms(ctx: &crate::Ctx<'_>) -> i64 {
    ctx.now_ms + ctx.config().gateway_provision_delay_ms
}

/// The records a filtered list reads before paging (the filters the store
/// cannot apply — status, tags of CEN's list shape — run on them).
const LIST_ALL: u64 = 10_000;
