//! Roles and their trust policies.

use vpngw_identity::keys;
use vpngw_policy::PolicyDocument;
use vpngw_protocol::ApiError;
use vpngw_store::{StoreError, identity::RoleRecord};

use super::{
    errors, name_param, paging, role_char, store_error, text_param,
    views::{Empty, ListRolesReply, RoleList, RoleReply, RoleView},
};
use crate::{Ctx, actions::Reply, context::internal, vpc::reply};

fn role_name<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    name_param(ctx, "RoleName", 64, role_char)
}

/// A policy document the policy crate refused, as the API answers it.
pub(crate) fn malformed(e: &vpngw_policy::PolicyError) -> ApiError {
    ApiError::new(e.code(), e.api_message())
}

pub async fn create_role(ctx: &Ctx<'_>) -> Reply {
    let name = role_name(ctx)?;
    let trust = ctx.params.required("AssumeRolePolicyDocument")?;
    PolicyDocument::parse_trust(trust).map_err(|e| malformed(&e))?;
    let description = text_param(ctx, "Description", 1024)?.unwrap_or("");
    let max = ctx.params.i64("MaxSessionDuration")?.unwrap_or(3600);
    if !(3600..=43200).contains(&max) {
        return Err(errors::max_session_duration());
    }
    let role = RoleRecord {
        account_id: ctx.caller.account_id.clone(),
        role_id: keys::generate_role_id(),
        name: name.to_owned(),
        description: description.to_owned(),
        trust_policy: trust.to_owned(),
        max_session_duration: max,
        created_ms: ctx.now_ms,
        updated_ms: ctx.now_ms,
    };
    match ctx.store().create_role(role.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(errors::role_exists()),
        Err(e) => return Err(internal(e)),
    }
    reply(&RoleReply {
        role: RoleView::new(&role, false),
    })
}

pub async fn get_role(ctx: &Ctx<'_>) -> Reply {
    let name = role_name(ctx)?;
    let role = ctx
        .store()
        .get_role(&ctx.caller.account_id, name)
        .await
        .map_err(internal)?
        .ok_or_else(errors::role_not_found)?;
    reply(&RoleReply {
        role: RoleView::new(&role, true),
    })
}

pub async fn list_roles(ctx: &Ctx<'_>) -> Reply {
    let (marker, max) = paging(ctx)?;
    let page = ctx
        .store()
        .list_roles(&ctx.caller.account_id, marker, max)
        .await
        .map_err(internal)?;
    reply(&ListRolesReply {
        is_truncated: page.next_marker.is_some(),
        marker: page.next_marker,
        roles: RoleList {
            role: page.items.iter().map(|r| RoleView::new(r, true)).collect(),
        },
    })
}

pub async fn delete_role(ctx: &Ctx<'_>) -> Reply {
    let name = role_name(ctx)?;
    ctx.store()
        .delete_role(&ctx.caller.account_id, name)
        .await
        .map_err(|e| store_error(e, errors::role_not_found))?;
    reply(&Empty {})
}
