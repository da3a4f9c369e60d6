//! Authorization: the one check every operation passes after its
//! parameters and before its handler.
//!
//! * A root key may do everything in its own account (isolation comes from
//!   every store read being scoped to the caller's account).
//! * A RAM user is judged by the policies attached to it and to its groups;
//!   a role session by the role's policies intersected with its session
//!   policy. Deny by default; an explicit Deny wins.
//! * Each resource the call names is checked, with the context keys
//!   `acs:SourceIp` (the peer address), `acs:SecureTransport` (true when the
//!   request arrived over TLS), `acs:CurrentTime` and `acs:MFAPresent` (false).
//!
//! Resources of VPC and vpngw calls come from their typed requests
//! ([`crate::operation`]): `acs:vpc:{region}:{account}:{kind}/{id}` for every
//! parameter the operation's declaration says names a resource (lists and
//! nested fields too), plus `{kind}/*` for the operation's own kind when it
//! names no id of that kind (creates and lists). Operations of no kind
//! (DescribeRegions) use `acs:vpc:{region}:{account}:*`. RAM and STS calls
//! name their users, groups, roles and policies ([`crate::ram::resources`]).
//!
//! Answers: VPC (and other products) → 403 `Forbidden.RAM` with an
//! `AccessDeniedDetail`; but when the caller may perform the action on some
//! other resource and only the named resource is outside its grant (implicit
//! deny), 403 `Forbbiden.SubUser` — the VPC's documented code for "you may not
//! operate on the specified resource; ask the main account for permission".
//! RAM → 403 `NoPermission` naming resource and action; STS → 403
//! `NoPermission`. Denied calls change nothing: the handler never runs.

use std::net::IpAddr;

use vpngw_policy::{
    AccessDeniedDetail, Decision, DeniedPrincipal, PolicyDocument, RequestContext, evaluate,
    evaluate_session, statement_applies, system_policy,
};
use vpngw_protocol::ApiError;
use vpngw_store::identity::{PolicyKind, PrincipalKind};

use crate::{
    Caller, Ctx, Inner,
    actions::{ActionDef, Call, Product},
    auth::Identity,
};

/// What the pipeline knows about a request besides its content.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestInfo {
    /// The TCP peer's address, for `acs:SourceIp`.
    pub peer: Option<IpAddr>,
    /// The request arrived over TLS, for `acs:SecureTransport`.
    pub secure_transport: bool,
}

/// Adds the request's context keys.
pub(crate) fn context_keys(req: RequestContext, ctx: &Ctx<'_>) -> RequestContext {
    with_keys(
        req,
        RequestInfo {
            peer: ctx.peer,
            secure_transport: ctx.secure_transport,
        },
        ctx.now_ms,
    )
}

fn with_keys(req: RequestContext, info: RequestInfo, now_ms: i64) -> RequestContext {
    let mut req = req
        .with_secure_transport(info.secure_transport)
        .with_mfa_present(false)
        .with_current_time_unix(now_ms.div_euclid(1000));
    if let Some(ip) = info.peer {
        req = req.with_source_ip(ip);
    }
    req
}

/// Who was denied, for `AccessDeniedDetail`.
pub(crate) fn denied_principal(caller: &Caller) -> DeniedPrincipal {
    let (principal_type, display_name) = match &caller.identity {
        Identity::Root => ("Account", caller.account_id.clone()),
        Identity::User { name } => ("SubUser", name.clone()),
        Identity::Role {
            role_name,
            session_name,
            ..
        } => ("AssumedRoleUser", format!("{role_name}:{session_name}")),
    };
    DeniedPrincipal {
        principal_type: principal_type.to_owned(),
        owner_id: caller.account_id.clone(),
        display_name,
    }
}

/// The policies that apply to a RAM identity, parsed. A stored custom
/// document that no longer parses grants nothing (and is logged).
async fn identity_policies(
    inner: &Inner,
    account: &str,
    kind: PrincipalKind,
    name: &str,
) -> Result<Vec<PolicyDocument>, ApiError> {
    let found = inner
        .store
        .effective_policies(account, kind, name)
        .await
        .map_err(crate::context::internal)?;
    let mut docs = Vec::with_capacity(found.len());
    for p in found {
        match (p.policy_kind, p.document) {
            (PolicyKind::System, _) => {
                if let Some(sp) = system_policy(&p.policy_name) {
                    docs.push(sp.parse());
                }
            }
            (PolicyKind::Custom, Some(text)) => match PolicyDocument::parse(&text) {
                Ok(d) => docs.push(d),
                Err(e) => {
                    tracing::error!(policy = %p.policy_name, error = %e, "stored policy does not parse");
                }
            },
            (PolicyKind::Custom, None) => {}
        }
    }
    Ok(docs)
}

/// Does any Allow statement grant `action` on some resource (not
/// necessarily the requested one)?
fn allowed_somewhere(policies: &[&PolicyDocument], req: &RequestContext) -> bool {
    policies.iter().any(|doc| {
        doc.statements().iter().any(|s| {
            s.effect == vpngw_policy::Effect::Allow
                && s.resources.iter().any(|r| {
                    let mut probe = req.clone();
                    probe.resource = r.clone();
                    statement_applies(s, &probe)
                })
        })
    })
}

/// Checks the call on `resources` (ARNs); `Ok` lets the handler run.
pub(crate) async fn authorize(call: &Call<'_>, resources: &[String]) -> Result<(), ApiError> {
    check(
        call.inner,
        call.def,
        call.caller,
        resources,
        call.now_ms,
        call.info,
    )
    .await
}

/// Checks `action` of the caller of `def` on `resources`.
pub(crate) async fn check(
    inner: &Inner,
    def: &ActionDef,
    caller: &Caller,
    resources: &[String],
    now_ms: i64,
    info: RequestInfo,
) -> Result<(), ApiError> {
    if caller.is_root() {
        return Ok(());
    }
    if def.product == Product::Sts && crate::sts::needs_no_permission(def.name) {
        return Ok(());
    }
    let (policies, session) = match &caller.identity {
        Identity::Root => return Ok(()),
        Identity::User { name } => (
            identity_policies(inner, &caller.account_id, PrincipalKind::User, name).await?,
            None,
        ),
        Identity::Role {
            role_name,
            session_policy,
            ..
        } => (
            identity_policies(inner, &caller.account_id, PrincipalKind::Role, role_name).await?,
            session_policy
                .as_deref()
                .and_then(|p| PolicyDocument::parse(p).ok()),
        ),
    };
    let refs: Vec<&PolicyDocument> = policies.iter().collect();
    for resource in resources {
        let req = with_keys(
            RequestContext::new(def.ram_action, resource.clone()),
            info,
            now_ms,
        );
        let decision = match (&caller.identity, &session) {
            (Identity::Role { .. }, s) => evaluate_session(&refs, s.as_ref(), &req),
            _ => evaluate(&refs, &req),
        };
        if decision.is_allowed() {
            continue;
        }
        let detail = AccessDeniedDetail::from_decision(&decision, &req, &denied_principal(caller))
            .map(|d| d.to_json());
        let specific = !resource.ends_with("/*") && !resource.ends_with(":*") && resource != "*";
        let err = if def.product == Product::Ram {
            crate::ram::errors::no_permission(resource, def.ram_action)
        } else if def.product == Product::Sts {
            crate::sts::not_authorized()
        } else if matches!(decision, Decision::ImplicitDeny(_))
            && specific
            && allowed_somewhere(&refs, &req)
        {
            ApiError::new(
                "Forbbiden.SubUser",
                "User not authorized to operate on the specified resource as your account is created by another user.",
            )
        } else {
            ApiError::forbidden_ram(None)
        };
        return Err(match detail {
            Some(d) => err.with_access_denied_detail(d),
            None => err,
        });
    }
    Ok(())
}
