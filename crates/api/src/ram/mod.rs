//! RAM (`Version=2015-05-01`, `ram.aliyuncs.com`): users and their access
//! keys, groups, roles, custom policies with versions, and attachments.
//!
//! RAM has no generated operation table, so each handler validates its own
//! parameters with the cloud's RAM error codes ([`errors`]). Response shapes
//! follow the official SDK models (alibabacloud-ram20150501 1.3.0).
//! System policies (`vpngw_policy::SYSTEM_POLICIES`) exist in every account.

pub mod errors;
mod policies;
mod roles;
mod users;
pub(crate) mod views;

use vpngw_protocol::{ApiError, Params};
use vpngw_store::StoreError;

use crate::{
    Caller, Ctx,
    actions::{ActionDef, Product},
    auth::Identity,
};

/// Builds the action table of a product without typed declarations yet
/// (RAM, STS), whose RAM action prefix is given:
/// `product_actions!(Product::Ram, "ram:"; CreateUser => f, ...)`. The
/// handlers read their parameters themselves; the resources are the
/// product's `resources()`.
macro_rules! product_actions {
    ($product:expr, $prefix:literal; $($name:ident => $f:path),+ $(,)?) => {
        &[$($crate::actions::ActionDef {
            product: $product,
            name: stringify!($name),
            ram_action: concat!($prefix, stringify!($name)),
            declaration: None,
            run: {
                fn run<'a>(
                    call: &'a $crate::actions::Call<'a>,
                ) -> ::futures_util::future::BoxFuture<'a, $crate::actions::Reply> {
                    Box::pin(async move {
                        let ctx = $crate::operation::prepare_untyped(call).await?;
                        $f(&ctx).await
                    })
                }
                run
            },
        }),+]
    };
}
pub(crate) use product_actions;

pub(crate) static ACTIONS: &[ActionDef] = product_actions! {
    Product::Ram, "ram:";
    CreateUser => users::create_user,
    GetUser => users::get_user,
    ListUsers => users::list_users,
    UpdateUser => users::update_user,
    DeleteUser => users::delete_user,
    CreateAccessKey => users::create_access_key,
    ListAccessKeys => users::list_access_keys,
    UpdateAccessKey => users::update_access_key,
    DeleteAccessKey => users::delete_access_key,
    CreateGroup => users::create_group,
    GetGroup => users::get_group,
    DeleteGroup => users::delete_group,
    AddUserToGroup => users::add_user_to_group,
    RemoveUserFromGroup => users::remove_user_from_group,
    ListGroupsForUser => users::list_groups_for_user,
    CreateRole => roles::create_role,
    GetRole => roles::get_role,
    ListRoles => roles::list_roles,
    DeleteRole => roles::delete_role,
    CreatePolicy => policies::create_policy,
    GetPolicy => policies::get_policy,
    ListPolicies => policies::list_policies,
    DeletePolicy => policies::delete_policy,
    CreatePolicyVersion => policies::create_policy_version,
    AttachPolicyToUser => policies::attach_to_user,
    AttachPolicyToGroup => policies::attach_to_group,
    AttachPolicyToRole => policies::attach_to_role,
    DetachPolicyFromUser => policies::detach_from_user,
    DetachPolicyFromGroup => policies::detach_from_group,
    DetachPolicyFromRole => policies::detach_from_role,
    ListPoliciesForUser => policies::list_for_user,
    ListPoliciesForGroup => policies::list_for_group,
    ListPoliciesForRole => policies::list_for_role,
};

/// `acs:ram::<account>:<kind>/<name>`. The cloud documents RAM resources as
/// `acs:ram:*:<account>:user/<name>`; the request ARN has an empty region,
/// which both `acs:ram:*:…` and `acs:ram::…` in a policy match.
pub fn arn(account: &str, kind: &str, name: &str) -> String {
    format!("acs:ram::{account}:{kind}/{name}")
}

/// The resources a RAM call acts on, each checked by the authorizer.
pub(crate) fn resources(action: &str, params: &Params, caller: &Caller) -> Vec<String> {
    let acct = caller.account_id.as_str();
    let p = |n: &str| {
        params
            .get(n)
            .filter(|v| !v.is_empty())
            .unwrap_or("*")
            .to_owned()
    };
    let user = || {
        let name = params
            .get("UserName")
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .or_else(|| match &caller.identity {
                Identity::User { name } => Some(name.clone()),
                _ => None,
            })
            .unwrap_or_else(|| "*".into());
        arn(acct, "user", &name)
    };
    match action {
        "ListUsers" => vec![arn(acct, "user", "*")],
        "CreateUser"
        | "GetUser"
        | "UpdateUser"
        | "DeleteUser"
        | "CreateAccessKey"
        | "ListAccessKeys"
        | "UpdateAccessKey"
        | "DeleteAccessKey"
        | "ListGroupsForUser"
        | "ListPoliciesForUser" => vec![user()],
        "CreateGroup" | "GetGroup" | "DeleteGroup" | "ListPoliciesForGroup" => {
            vec![arn(acct, "group", &p("GroupName"))]
        }
        "AddUserToGroup" | "RemoveUserFromGroup" => {
            vec![arn(acct, "group", &p("GroupName")), user()]
        }
        "ListRoles" => vec![arn(acct, "role", "*")],
        "CreateRole" | "GetRole" | "DeleteRole" | "ListPoliciesForRole" => {
            vec![arn(acct, "role", &p("RoleName"))]
        }
        "ListPolicies" => vec![arn(acct, "policy", "*")],
        "AttachPolicyToUser" | "DetachPolicyFromUser" => {
            vec![arn(acct, "policy", &p("PolicyName")), user()]
        }
        "AttachPolicyToGroup" | "DetachPolicyFromGroup" => vec![
            arn(acct, "policy", &p("PolicyName")),
            arn(acct, "group", &p("GroupName")),
        ],
        "AttachPolicyToRole" | "DetachPolicyFromRole" => vec![
            arn(acct, "policy", &p("PolicyName")),
            arn(acct, "role", &p("RoleName")),
        ],
        _ => vec![arn(acct, "policy", &p("PolicyName"))],
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` (UTC), RAM's date format.
pub fn iso8601(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A required name parameter: present, 1..=`max` characters, each
/// allowed by `ok`; else the RAM codes `InvalidParameter.<Name>.Length` /
/// `.InvalidChars` (and `MissingParameter` when absent).
pub(crate) fn name_param<'a>(
    ctx: &Ctx<'a>,
    param: &'static str,
    max: usize,
    ok: fn(char) -> bool,
) -> Result<&'a str, ApiError> {
    let v = ctx
        .opt(param)
        .ok_or_else(|| ApiError::missing_parameter(param))?;
    check_name(v, param, max, ok)?;
    Ok(v)
}

pub(crate) fn check_name(
    v: &str,
    param: &'static str,
    max: usize,
    ok: fn(char) -> bool,
) -> Result<(), ApiError> {
    if v.chars().count() > max {
        return Err(errors::length(param));
    }
    if !v.chars().all(ok) {
        return Err(errors::invalid_chars(param));
    }
    Ok(())
}

/// User names: letters, digits, `.`, `_`, `-` (and `@` of older docs).
pub(crate) fn user_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')
}

/// Group and policy names: letters, digits, `-`.
pub(crate) fn group_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-'
}

/// Role names: letters, digits, `.`, `-`.
pub(crate) fn role_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-')
}

/// An optional free-text parameter of at most `max` characters.
pub(crate) fn text_param<'a>(
    ctx: &Ctx<'a>,
    param: &'static str,
    max: usize,
) -> Result<Option<&'a str>, ApiError> {
    match ctx.params.get(param) {
        Some(v) if v.chars().count() > max => Err(errors::length(param)),
        Some(v) => Ok(Some(v)),
        None => Ok(None),
    }
}

/// An optional display name: 1..=128 characters, no control characters.
pub(crate) fn display_name_param<'a>(
    ctx: &Ctx<'a>,
    param: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match ctx.params.get(param) {
        Some(v) if v.is_empty() || v.chars().count() > 128 => Err(errors::length(param)),
        Some(v) if v.chars().any(char::is_control) => Err(errors::invalid_chars(param)),
        Some(v) => Ok(Some(v)),
        None => Ok(None),
    }
}

/// An optional e-mail address (something@domain).
pub(crate) fn email_param<'a>(
    ctx: &Ctx<'a>,
    param: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match ctx.params.get(param) {
        Some(v) if !v.is_empty() => {
            let ok = v.len() <= 128
                && v.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && !v.chars().any(|c| c.is_whitespace() || c.is_control());
            if ok {
                Ok(Some(v))
            } else {
                Err(errors::format(param))
            }
        }
        other => Ok(other),
    }
}

/// An optional mobile phone number: `<country code>-<number>`, digits.
pub(crate) fn phone_param<'a>(
    ctx: &Ctx<'a>,
    param: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    match ctx.params.get(param) {
        Some(v) if !v.is_empty() => {
            let ok = v.split_once('-').is_some_and(|(cc, n)| {
                (1..=4).contains(&cc.len())
                    && (4..=20).contains(&n.len())
                    && cc.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit())
            });
            if ok {
                Ok(Some(v))
            } else {
                Err(errors::format(param))
            }
        }
        other => Ok(other),
    }
}

/// `Marker` and `MaxItems` (1..=1000, default 100).
pub(crate) fn paging<'a>(ctx: &Ctx<'a>) -> Result<(Option<&'a str>, u32), ApiError> {
    let max = ctx.params.i64("MaxItems")?.unwrap_or(100);
    if !(1..=1000).contains(&max) {
        return Err(ApiError::invalid_parameter("MaxItems"));
    }
    Ok((ctx.opt("Marker"), u32::try_from(max).unwrap_or(100)))
}

/// The store errors every RAM write can meet, with `not_found` for its
/// entity; the rest is an internal error.
pub(crate) fn store_error(e: StoreError, not_found: fn() -> ApiError) -> ApiError {
    match e {
        StoreError::NotFound => not_found(),
        StoreError::InUse(d) => errors::in_use(d),
        StoreError::MissingLink(what) => match what.as_str() {
            "user" => errors::user_not_found(),
            "group" => errors::group_not_found(),
            "role" => errors::role_not_found(),
            _ => errors::policy_not_found(),
        },
        other => crate::context::internal(other),
    }
}

/// The user a key operation is about: `UserName`, or the calling RAM user.
pub(crate) fn key_owner<'a>(ctx: &Ctx<'a>) -> Result<String, ApiError> {
    if let Some(name) = ctx.opt("UserName") {
        check_name(name, "UserName", 64, user_char)?;
        return Ok(name.to_owned());
    }
    match &ctx.caller.identity {
        Identity::User { name } => Ok(name.clone()),
        _ => Err(ApiError::missing_parameter("UserName")),
    }
}
