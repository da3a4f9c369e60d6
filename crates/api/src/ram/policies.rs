//! Custom policies, their versions, and attachments to users, groups and
//! roles. System policies exist in every account and cannot be changed.

use vpngw_policy::{PolicyDocument, SYSTEM_POLICIES, system_policy};
use vpngw_protocol::ApiError;
use vpngw_store::{
    StoreError,
    identity::{AttachTarget, PolicyKind, PolicyRecord, PrincipalKind},
};

use super::{
    errors, group_char, iso8601, name_param, paging, role_char,
    roles::malformed,
    store_error, text_param, user_char,
    views::{
        AttachedPolicyView, CreatePolicyReply, CreatePolicyVersionReply, Empty, GetPolicyReply,
        ListAttachedReply, ListPoliciesReply, NewPolicyView, PolicyList, PolicyVersionView,
        PolicyView,
    },
};
use crate::{Ctx, actions::Reply, context::internal, vpc::reply};

/// Custom policies per account, versions per policy, and policies per
/// user, group or role (the cloud's default limits).
pub const MAX_POLICIES: u32 = 1500;
pub const MAX_VERSIONS: u32 = 5;
pub const MAX_ATTACHED: u32 = 25;

/// `CreateDate`/`UpdateDate` shown for system policies (they predate every account).
const SYSTEM_POLICY_DATE_MS: i64 = 1_430_208_000_000;

fn policy_name<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    name_param(ctx, "PolicyName", 128, group_char)
}

fn policy_type(ctx: &Ctx<'_>) -> Result<PolicyKind, ApiError> {
    PolicyKind::parse(ctx.params.required("PolicyType")?).ok_or_else(errors::policy_type)
}

fn document<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    let doc = ctx.params.required("PolicyDocument")?;
    PolicyDocument::parse(doc).map_err(|e| malformed(&e))?;
    Ok(doc)
}

pub async fn create_policy(ctx: &Ctx<'_>) -> Reply {
    let name = policy_name(ctx)?;
    let doc = document(ctx)?;
    let description = text_param(ctx, "Description", 1024)?.unwrap_or("");
    if system_policy(name).is_some() {
        return Err(errors::policy_exists());
    }
    let policy = PolicyRecord {
        account_id: ctx.caller.account_id.clone(),
        name: name.to_owned(),
        description: description.to_owned(),
        default_version: "v1".into(),
        attachment_count: 0,
        created_ms: ctx.now_ms,
        updated_ms: ctx.now_ms,
    };
    match ctx
        .store()
        .create_policy(policy, doc.to_owned(), MAX_POLICIES)
        .await
    {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(errors::policy_exists()),
        Err(StoreError::QuotaExceeded { .. }) => return Err(errors::policy_limit()),
        Err(e) => return Err(internal(e)),
    }
    reply(&CreatePolicyReply {
        policy: NewPolicyView {
            policy_name: name.to_owned(),
            policy_type: "Custom".into(),
            description: description.to_owned(),
            default_version: "v1".into(),
            create_date: iso8601(ctx.now_ms),
        },
    })
}

fn system_view(p: &vpngw_policy::SystemPolicy, with_document: bool) -> PolicyView {
    PolicyView {
        policy_name: p.name.to_owned(),
        policy_type: "System".into(),
        description: p.description.to_owned(),
        default_version: p.default_version.to_owned(),
        attachment_count: 0,
        create_date: iso8601(SYSTEM_POLICY_DATE_MS),
        update_date: iso8601(SYSTEM_POLICY_DATE_MS),
        policy_document: with_document.then(|| p.document.to_owned()),
    }
}

fn custom_view(p: &PolicyRecord, document: Option<String>) -> PolicyView {
    PolicyView {
        policy_name: p.name.clone(),
        policy_type: "Custom".into(),
        description: p.description.clone(),
        default_version: p.default_version.clone(),
        attachment_count: p.attachment_count,
        create_date: iso8601(p.created_ms),
        update_date: iso8601(p.updated_ms),
        policy_document: document,
    }
}

pub async fn get_policy(ctx: &Ctx<'_>) -> Reply {
    let name = policy_name(ctx)?;
    match policy_type(ctx)? {
        PolicyKind::System => {
            let p = system_policy(name).ok_or_else(errors::policy_not_found)?;
            reply(&GetPolicyReply {
                policy: system_view(p, true),
                default_policy_version: PolicyVersionView {
                    version_id: p.default_version.to_owned(),
                    is_default_version: true,
                    policy_document: p.document.to_owned(),
                    create_date: iso8601(SYSTEM_POLICY_DATE_MS),
                },
            })
        }
        PolicyKind::Custom => {
            let (p, v) = ctx
                .store()
                .get_policy(&ctx.caller.account_id, name)
                .await
                .map_err(internal)?
                .ok_or_else(errors::policy_not_found)?;
            reply(&GetPolicyReply {
                policy: custom_view(&p, Some(v.document.clone())),
                default_policy_version: PolicyVersionView {
                    version_id: v.version_id,
                    is_default_version: true,
                    policy_document: v.document,
                    create_date: iso8601(v.created_ms),
                },
            })
        }
    }
}

pub async fn list_policies(ctx: &Ctx<'_>) -> Reply {
    let (marker, max) = paging(ctx)?;
    let kind = match ctx.opt("PolicyType") {
        Some(t) => Some(PolicyKind::parse(t).ok_or_else(errors::policy_type)?),
        None => None,
    };
    let mut all: Vec<PolicyView> = Vec::new();
    if kind != Some(PolicyKind::Custom) {
        all.extend(SYSTEM_POLICIES.iter().map(|p| system_view(p, false)));
    }
    if kind != Some(PolicyKind::System) {
        let custom = ctx
            .store()
            .list_policies(&ctx.caller.account_id)
            .await
            .map_err(internal)?;
        all.extend(custom.iter().map(|p| custom_view(p, None)));
    }
    // The marker is the position of the next policy in this order.
    let start = match marker {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| ApiError::invalid_parameter("Marker"))?,
        None => 0,
    };
    let end = start.saturating_add(max as usize).min(all.len());
    let truncated = end < all.len();
    let page: Vec<PolicyView> = all.into_iter().skip(start).take(max as usize).collect();
    reply(&ListPoliciesReply {
        is_truncated: truncated,
        marker: truncated.then(|| end.to_string()),
        policies: PolicyList { policy: page },
    })
}

pub async fn delete_policy(ctx: &Ctx<'_>) -> Reply {
    let name = policy_name(ctx)?;
    let cascade = ctx.params.bool("CascadingDelete")?.unwrap_or(false);
    ctx.store()
        .delete_policy(&ctx.caller.account_id, name, cascade)
        .await
        .map_err(|e| store_error(e, errors::policy_not_found))?;
    reply(&Empty {})
}

pub async fn create_policy_version(ctx: &Ctx<'_>) -> Reply {
    let name = policy_name(ctx)?;
    let doc = document(ctx)?;
    let set_default = ctx.params.bool("SetAsDefault")?.unwrap_or(false);
    match ctx.opt("RotateStrategy").unwrap_or("None") {
        "None" | "DeleteOldestNonDefaultVersionWhenLimitExceeded" => {}
        _ => return Err(ApiError::invalid_parameter("RotateStrategy")),
    }
    let v = match ctx
        .store()
        .create_policy_version(
            &ctx.caller.account_id,
            name,
            doc.to_owned(),
            set_default,
            ctx.now_ms,
            MAX_VERSIONS,
        )
        .await
    {
        Ok(v) => v,
        Err(StoreError::QuotaExceeded { .. }) => return Err(errors::policy_version_limit()),
        Err(e) => return Err(store_error(e, errors::policy_not_found)),
    };
    reply(&CreatePolicyVersionReply {
        policy_version: PolicyVersionView {
            version_id: v.version_id,
            is_default_version: v.is_default,
            policy_document: v.document,
            create_date: iso8601(v.created_ms),
        },
    })
}

// ---- attachments -----------------------------------------------------------

fn principal_name<'a>(ctx: &Ctx<'a>, kind: PrincipalKind) -> Result<&'a str, ApiError> {
    match kind {
        PrincipalKind::User => name_param(ctx, "UserName", 64, user_char),
        PrincipalKind::Group => name_param(ctx, "GroupName", 64, group_char),
        PrincipalKind::Role => name_param(ctx, "RoleName", 64, role_char),
    }
}

fn target(ctx: &Ctx<'_>, kind: PrincipalKind) -> Result<AttachTarget, ApiError> {
    let policy_kind = policy_type(ctx)?;
    let policy = policy_name(ctx)?;
    let principal = principal_name(ctx, kind)?;
    if policy_kind == PolicyKind::System && system_policy(policy).is_none() {
        return Err(errors::policy_not_found());
    }
    Ok(AttachTarget {
        kind,
        principal: principal.to_owned(),
        policy_kind,
        policy: policy.to_owned(),
    })
}

fn attach_error(e: StoreError, kind: PrincipalKind) -> ApiError {
    match e {
        StoreError::AlreadyExists => errors::already_attached(kind),
        StoreError::QuotaExceeded { .. } => errors::attachment_limit(kind),
        StoreError::NotFound => errors::attachment_not_found(kind),
        other => store_error(other, errors::policy_not_found),
    }
}

async fn attach(ctx: &Ctx<'_>, kind: PrincipalKind) -> Reply {
    let t = target(ctx, kind)?;
    ctx.store()
        .attach_policy(&ctx.caller.account_id, t, ctx.now_ms, MAX_ATTACHED)
        .await
        .map_err(|e| attach_error(e, kind))?;
    reply(&Empty {})
}

async fn detach(ctx: &Ctx<'_>, kind: PrincipalKind) -> Reply {
    let t = target(ctx, kind)?;
    ctx.store()
        .detach_policy(&ctx.caller.account_id, t)
        .await
        .map_err(|e| attach_error(e, kind))?;
    reply(&Empty {})
}

async fn list_for(ctx: &Ctx<'_>, kind: PrincipalKind) -> Reply {
    let principal = principal_name(ctx, kind)?;
    let attached = ctx
        .store()
        .list_attachments(&ctx.caller.account_id, kind, principal)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => errors::principal_not_found(kind),
            other => internal(other),
        })?;
    let policy = attached
        .iter()
        .map(|a| {
            let (description, default_version) = match a.policy_kind {
                PolicyKind::System => system_policy(&a.policy_name)
                    .map(|p| (p.description.to_owned(), p.default_version.to_owned()))
                    .unwrap_or_default(),
                PolicyKind::Custom => (a.description.clone(), a.default_version.clone()),
            };
            AttachedPolicyView {
                policy_name: a.policy_name.clone(),
                policy_type: a.policy_kind.as_str().to_owned(),
                description,
                default_version,
                attach_date: iso8601(a.attached_ms),
            }
        })
        .collect();
    reply(&ListAttachedReply {
        policies: PolicyList { policy },
    })
}

pub async fn attach_to_user(ctx: &Ctx<'_>) -> Reply {
    attach(ctx, PrincipalKind::User).await
}
pub async fn attach_to_group(ctx: &Ctx<'_>) -> Reply {
    attach(ctx, PrincipalKind::Group).await
}
pub async fn attach_to_role(ctx: &Ctx<'_>) -> Reply {
    attach(ctx, PrincipalKind::Role).await
}
pub async fn detach_from_user(ctx: &Ctx<'_>) -> Reply {
    detach(ctx, PrincipalKind::User).await
}
pub async fn detach_from_group(ctx: &Ctx<'_>) -> Reply {
    detach(ctx, PrincipalKind::Group).await
}
pub async fn detach_from_role(ctx: &Ctx<'_>) -> Reply {
    detach(ctx, PrincipalKind::Role).await
}
pub async fn list_for_user(ctx: &Ctx<'_>) -> Reply {
    list_for(ctx, PrincipalKind::User).await
}
pub async fn list_for_group(ctx: &Ctx<'_>) -> Reply {
    list_for(ctx, PrincipalKind::Group).await
}
pub async fn list_for_role(ctx: &Ctx<'_>) -> Reply {
    list_for(ctx, PrincipalKind::Role).await
}
