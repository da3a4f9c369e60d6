//! STS (`Version=2015-04-01`, `sts.aliyuncs.com`): AssumeRole and
//! GetCallerIdentity.
//!
//! AssumeRole checks, in order: the caller is not a root key (`NoPermission`
//! "Roles may not be assumed by root accounts.", the cloud's answer), the
//! caller's own policies allow `sts:AssumeRole` on the role (checked by the
//! authorizer before this handler), `RoleArn`, `RoleSessionName`,
//! `DurationSeconds`, `Policy`, that the role exists, and that its trust
//! policy names the caller. The session's permissions are the role's policies
//! intersected with `Policy` (`vpngw_policy::evaluate_session`).

use serde::Serialize;
use vpngw_identity::keys;
use vpngw_policy::{
    AccessDeniedDetail, CallerPrincipal, PolicyDocument, RequestContext, evaluate_trust,
};
use vpngw_protocol::ApiError;
use vpngw_store::identity::StsCredentialRecord;

use crate::{
    Ctx,
    actions::{ActionDef, Product, Reply},
    auth::{Identity, sts_aad, token_digest},
    context::internal,
    ram::{iso8601, product_actions},
    vpc::reply,
};

pub(crate) static ACTIONS: &[ActionDef] = product_actions! {
    Product::Sts, "sts:";
    AssumeRole => assume_role,
    GetCallerIdentity => get_caller_identity,
};

/// The longest `Policy` accepted (AssumeRole reference: 1 to 2,048 characters).
const MAX_SESSION_POLICY: usize = 2048;

fn no_permission(message: &str) -> ApiError {
    ApiError::new("NoPermission", message).with_status(403)
}

/// The STS answer for a caller that may not do what it asked.
pub(crate) fn not_authorized() -> ApiError {
    no_permission("You are not authorized to do this action. You should be authorized by RAM.")
}

/// `acs:ram::<account>:role/<name>` → (account, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("acs:ram::")?;
    let (account, role) = rest.split_once(":role/")?;
    let ok_account = !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit());
    let ok_role = !role.is_empty()
        && role.len() <= 64
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
    (ok_account && ok_role).then_some((account, role))
}

fn session_name_ok(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUser {
    arn: String,
    assumed_role_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AssumeRoleReply {
    credentials: Credentials,
    assumed_role_user: AssumedRoleUser,
}

pub async fn assume_role(ctx: &Ctx<'_>) -> Reply {
    let caller = ctx.caller;
    let principal = match &caller.identity {
        Identity::Root => return Err(no_permission("Roles may not be assumed by root accounts.")),
        Identity::User { name } => CallerPrincipal::ram_user(&caller.account_id, name),
        Identity::Role {
            role_name,
            session_name,
            ..
        } => CallerPrincipal::assumed_role(&caller.account_id, role_name, session_name),
    };
    let arn = ctx.params.required("RoleArn")?;
    let (account, role_name) = parse_role_arn(arn).ok_or_else(|| {
        ApiError::new(
            "InvalidParameter.RoleArn",
            "The parameter RoleArn is wrongly formed.",
        )
    })?;
    let session = ctx.params.required("RoleSessionName")?;
    if !session_name_ok(session) {
        return Err(ApiError::new(
            "InvalidParameter.RoleSessionName",
            "The parameter RoleSessionName is wrongly formed.",
        ));
    }
    let duration = ctx.params.i64("DurationSeconds")?;
    let session_policy = match ctx.opt("Policy") {
        Some(p) if p.chars().count() > MAX_SESSION_POLICY => {
            return Err(ApiError::new(
                "InvalidParameter.PolicySize",
                format!("The size of Policy must be smaller than {MAX_SESSION_POLICY} bytes."),
            ));
        }
        Some(p) => {
            PolicyDocument::parse(p).map_err(|_| {
                ApiError::new(
                    "InvalidParameter.PolicyGrammar",
                    "The parameter Policy has not passed grammar check.",
                )
            })?;
            Some(p.to_owned())
        }
        None => None,
    };
    // Another account's role: a missing role and a refusing trust policy
    // answer alike, so the existence of the other account's roles is not
    // revealed.
    let cross_account = account != caller.account_id;
    let role = ctx
        .store()
        .get_role(account, role_name)
        .await
        .map_err(internal)?;
    let Some(role) = role else {
        return Err(if cross_account {
            not_authorized()
        } else {
            ApiError::new("EntityNotExist.Role", "The specified Role not exists.")
        });
    };
    let min = ctx.config().sts_min_duration_seconds.clamp(1, 900);
    let max = role.max_session_duration;
    let duration = duration.unwrap_or(3600.min(max));
    if !(min..=max).contains(&duration) {
        let message = if max == 3600 && min == 900 {
            "The Min/Max value of DurationSeconds is 15min/1hr.".to_owned()
        } else {
            format!("The Min/Max value of DurationSeconds is {min}s/{max}s.")
        };
        return Err(ApiError::new("InvalidParameter.DurationSeconds", message));
    }
    let trust = PolicyDocument::parse_trust(&role.trust_policy).map_err(|e| {
        tracing::error!(error = %e, role = %role.name, "stored trust policy does not parse");
        ApiError::internal()
    })?;
    let request = crate::authz::context_keys(
        RequestContext::new("sts:AssumeRole", arn).with_principal(principal),
        ctx,
    );
    let decision = evaluate_trust(&trust, &request);
    if !decision.is_allowed() {
        let mut err = not_authorized();
        if !cross_account
            && let Some(detail) = AccessDeniedDetail::from_decision(
                &decision,
                &request,
                &crate::authz::denied_principal(caller),
            )
        {
            err = err.with_access_denied_detail(detail.to_json());
        }
        return Err(err);
    }

    let id = keys::generate_sts_access_key_id();
    let secret = keys::generate_sts_access_key_secret();
    let token = keys::generate_security_token();
    let expires_ms = ctx.now_ms + duration * 1000;
    let record = StsCredentialRecord {
        access_key_id: id.clone(),
        account_id: role.account_id.clone(),
        secret: ctx.secrets().seal(secret.expose(), &sts_aad(&id)),
        token_sha256: token_digest(token.expose()),
        role_id: role.role_id.clone(),
        role_name: role.name.clone(),
        session_name: session.to_owned(),
        session_policy,
        created_ms: ctx.now_ms,
        expires_ms,
    };
    // The role may have been deleted since it was read: no session then.
    ctx.store()
        .create_sts_credential(record)
        .await
        .map_err(|e| match e {
            vpngw_store::StoreError::MissingLink(_) if cross_account => not_authorized(),
            vpngw_store::StoreError::MissingLink(_) => {
                ApiError::new("EntityNotExist.Role", "The specified Role not exists.")
            }
            e => internal(e),
        })?;
    reply(&AssumeRoleReply {
        credentials: Credentials {
            access_key_id: id,
            access_key_secret: secret.expose().to_owned(),
            security_token: token.expose().to_owned(),
            expiration: iso8601(expires_ms),
        },
        assumed_role_user: AssumedRoleUser {
            arn: format!(
                "acs:ram::{}:role/{}/{}",
                role.account_id, role.name, session
            ),
            assumed_role_id: format!("{}:{}", role.role_id, session),
        },
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CallerIdentityReply {
    account_id: String,
    arn: String,
    identity_type: String,
    principal_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_id: Option<String>,
}

pub async fn get_caller_identity(ctx: &Ctx<'_>) -> Reply {
    let c = ctx.caller;
    let acct = c.account_id.clone();
    let view = match &c.identity {
        Identity::Root => CallerIdentityReply {
            arn: format!("acs:ram::{acct}:root"),
            identity_type: "Account".into(),
            principal_id: acct.clone(),
            user_id: Some(acct.clone()),
            role_id: None,
            account_id: acct,
        },
        Identity::User { name } => {
            let user = ctx
                .store()
                .get_user(&acct, name)
                .await
                .map_err(internal)?
                .ok_or_else(ApiError::access_key_not_found)?;
            CallerIdentityReply {
                arn: format!("acs:ram::{acct}:user/{name}"),
                identity_type: "RAMUser".into(),
                principal_id: user.user_id.clone(),
                user_id: Some(user.user_id),
                role_id: None,
                account_id: acct,
            }
        }
        Identity::Role {
            role_id,
            role_name,
            session_name,
            ..
        } => CallerIdentityReply {
            arn: format!("acs:ram::{acct}:assumed-role/{role_name}/{session_name}"),
            identity_type: "AssumedRoleUser".into(),
            principal_id: format!("{role_id}:{session_name}"),
            user_id: None,
            role_id: Some(role_id.clone()),
            account_id: acct,
        },
    };
    reply(&view)
}

/// The resources an STS call acts on (the role of AssumeRole).
pub(crate) fn resources(action: &str, params: &vpngw_protocol::Params) -> Vec<String> {
    match action {
        "AssumeRole" => vec![params.get("RoleArn").unwrap_or("*").to_owned()],
        _ => vec!["*".to_owned()],
    }
}

/// Allowed to every authenticated identity without a policy.
pub(crate) fn needs_no_permission(action: &str) -> bool {
    action == "GetCallerIdentity"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns() {
        assert_eq!(
            parse_role_arn("acs:ram::1234567890123456:role/ops-admin"),
            Some(("1234567890123456", "ops-admin"))
        );
        for bad in [
            "acs:ram:cn-hangzhou:123:role/x",
            "acs:ram::abc:role/x",
            "acs:ram::123:user/x",
            "acs:ram::123:role/",
            "acs:ram::123:role/a b",
            "",
        ] {
            assert_eq!(parse_role_arn(bad), None, "{bad}");
        }
        assert!(session_name_ok("alice@x.y-z_1"));
        assert!(!session_name_ok("a"));
        assert!(!session_name_ok("a b"));
    }
}
