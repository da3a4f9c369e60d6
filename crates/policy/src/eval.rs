//! Policy evaluation.
//!
//! Rules (RAM "How RAM evaluates policies", help.aliyun.com/en/ram/policy-evaluation-process,
//! and "Permission policy elements"):
//! 1. Deny by default: with no matching Allow the result is an *implicit* deny.
//! 2. An explicit Deny in any applicable policy overrides every Allow.
//! 3. The order of policies, statements and list entries does not matter ("Order
//!    independence ... each action is evaluated individually regardless of its position").
//! 4. STS sessions: the effective permissions are the *intersection* of the role's policies
//!    and the session policy passed to AssumeRole ("The effective permissions of an STS token
//!    equal the intersection of two permission sets — not the union", OSS error page
//!    0003-00000301). See [`evaluate_session`].
//!
//! Matching:
//! * Actions are matched ASCII case-insensitively: "The value of the Action/NotAction element
//!   is generally case-insensitive" (Permission policy elements).
//! * Resources are matched case-sensitively over the whole ARN string with `*`/`?`. RAM does
//!   not document resource case rules; ARNs of VPN resources are lower case, and the
//!   case-sensitive choice can only narrow a grant, never widen it. A `*` may span `:` and
//!   `/`, so `acs:vpc:*:*:vpnconnection/*` matches any connection ARN and `*` matches
//!   everything. For list/create actions the caller passes the documented wildcard ARN form
//!   (e.g. `acs:vpc:cn-hangzhou:123:vpngateway/*`), which a policy naming one gateway does not
//!   match, while `acs:vpc:*:*:vpngateway/*` does.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::condition::ContextKeys;
use crate::document::{ActionBlock, Effect, PolicyDocument, PrincipalType, Principals, Statement};
use crate::values::format_iso8601;
use crate::wildcard::{wildcard_match, wildcard_match_ignore_ascii_case};

/// `acs:SourceIp` — the client IP (IP address operators).
pub const KEY_SOURCE_IP: &str = "acs:SourceIp";
/// `acs:SecureTransport` — `true` when the request came over HTTPS (Bool).
pub const KEY_SECURE_TRANSPORT: &str = "acs:SecureTransport";
/// `acs:CurrentTime` — time the server received the request, ISO 8601 (Date operators).
pub const KEY_CURRENT_TIME: &str = "acs:CurrentTime";
/// `acs:MFAPresent` — `true` when the caller signed in with MFA (Bool).
pub const KEY_MFA_PRESENT: &str = "acs:MFAPresent";

/// The identity making a request, as seen by a trust policy's `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerPrincipal {
    pub principal_type: PrincipalType,
    /// Every name under which the caller may be listed; any may match a pattern.
    pub identifiers: Vec<String>,
}

impl CallerPrincipal {
    /// An Alibaba Cloud (root) account.
    pub fn account(account_id: &str) -> Self {
        CallerPrincipal {
            principal_type: PrincipalType::Ram,
            identifiers: vec![
                format!("acs:ram::{account_id}:root"),
                account_id.to_string(),
            ],
        }
    }

    /// A RAM user. `acs:ram::<account>:root` in a trust policy trusts every RAM identity of
    /// that account, so the account's root form is among the identifiers.
    pub fn ram_user(account_id: &str, user_name: &str) -> Self {
        CallerPrincipal {
            principal_type: PrincipalType::Ram,
            identifiers: vec![
                format!("acs:ram::{account_id}:root"),
                format!("acs:ram::{account_id}:user/{user_name}"),
                account_id.to_string(),
            ],
        }
    }

    /// A role session (temporary credentials from AssumeRole).
    pub fn assumed_role(account_id: &str, role_name: &str, session_name: &str) -> Self {
        CallerPrincipal {
            principal_type: PrincipalType::Ram,
            identifiers: vec![
                format!("acs:ram::{account_id}:root"),
                format!("acs:ram::{account_id}:role/{role_name}"),
                format!("acs:ram::{account_id}:assumed-role/{role_name}/{session_name}"),
                account_id.to_string(),
            ],
        }
    }

    /// A cloud service such as `ecs.aliyuncs.com`.
    pub fn service(name: &str) -> Self {
        CallerPrincipal {
            principal_type: PrincipalType::Service,
            identifiers: vec![name.to_string()],
        }
    }
}

/// What is being asked: action, resource ARN, context keys (and, for trust policies, who).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// e.g. `vpc:DescribeVpnConnection`.
    pub action: String,
    /// e.g. `acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/vco-123`, or `*`.
    pub resource: String,
    pub context: ContextKeys,
    /// Only consulted by [`evaluate_trust`].
    pub principal: Option<CallerPrincipal>,
}

impl RequestContext {
    pub fn new(action: impl Into<String>, resource: impl Into<String>) -> Self {
        RequestContext {
            action: action.into(),
            resource: resource.into(),
            context: ContextKeys::new(),
            principal: None,
        }
    }

    pub fn with_source_ip(mut self, ip: impl ToString) -> Self {
        self.context.set(KEY_SOURCE_IP, ip.to_string());
        self
    }

    pub fn with_secure_transport(mut self, https: bool) -> Self {
        self.context.set(KEY_SECURE_TRANSPORT, https.to_string());
        self
    }

    pub fn with_mfa_present(mut self, mfa: bool) -> Self {
        self.context.set(KEY_MFA_PRESENT, mfa.to_string());
        self
    }

    /// Set `acs:CurrentTime` from Unix seconds.
    pub fn with_current_time_unix(mut self, unix_secs: i64) -> Self {
        self.context
            .set(KEY_CURRENT_TIME, format_iso8601(unix_secs));
        self
    }

    /// Set `acs:CurrentTime` from a [`SystemTime`].
    pub fn with_current_time(self, t: SystemTime) -> Self {
        let secs = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        };
        self.with_current_time_unix(secs)
    }

    /// Any other key, e.g. `vpc:tag/env` or `acs:ResourceTag/team`.
    pub fn with_key(mut self, key: &str, value: impl Into<String>) -> Self {
        self.context.push(key, value);
        self
    }

    pub fn with_principal(mut self, principal: CallerPrincipal) -> Self {
        self.principal = Some(principal);
        self
    }
}

/// The kind of policy that produced a denial; the strings are the `PolicyType` /
/// `NoPermissionPolicyType` values of `AccessDeniedDetail` and DecodeDiagnosticMessage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    AccountLevelIdentityBasedPolicy,
    SessionPolicy,
    AssumeRolePolicy,
}

impl PolicyType {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::AccountLevelIdentityBasedPolicy => "AccountLevelIdentityBasedPolicy",
            PolicyType::SessionPolicy => "SessionPolicy",
            PolicyType::AssumeRolePolicy => "AssumeRolePolicy",
        }
    }
}

/// Which statement denied a request explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyInfo {
    pub policy_type: PolicyType,
    /// Index into the slice of policies passed to the evaluator.
    pub policy_index: usize,
    /// Index of the statement inside that policy.
    pub statement_index: usize,
    pub sid: Option<String>,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A Deny statement matched (reported: the first one in argument order).
    ExplicitDeny(DenyInfo),
    /// No Allow statement matched; names the policy set that lacked the Allow.
    ImplicitDeny(PolicyType),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `ExplicitDeny` / `ImplicitDeny` (the `NoPermissionType` of AccessDeniedDetail).
    pub fn no_permission_type(&self) -> Option<&'static str> {
        match self {
            Decision::Allow => None,
            Decision::ExplicitDeny(_) => Some("ExplicitDeny"),
            Decision::ImplicitDeny(_) => Some("ImplicitDeny"),
        }
    }

    pub fn policy_type(&self) -> Option<PolicyType> {
        match self {
            Decision::Allow => None,
            Decision::ExplicitDeny(d) => Some(d.policy_type),
            Decision::ImplicitDeny(t) => Some(*t),
        }
    }

    /// Order-insensitive summary used by tests: 0 = allow, 1 = explicit, 2 = implicit.
    pub fn kind(&self) -> u8 {
        match self {
            Decision::Allow => 0,
            Decision::ExplicitDeny(_) => 1,
            Decision::ImplicitDeny(_) => 2,
        }
    }
}

fn action_matches(block: &ActionBlock, action: &str) -> bool {
    match block {
        ActionBlock::Action(pats) => pats
            .iter()
            .any(|p| wildcard_match_ignore_ascii_case(p, action)),
        ActionBlock::NotAction(pats) => !pats
            .iter()
            .any(|p| wildcard_match_ignore_ascii_case(p, action)),
    }
}

fn resource_matches(stmt: &Statement, resource: &str) -> bool {
    stmt.resources.iter().any(|p| wildcard_match(p, resource))
}

fn principal_matches(stmt: &Statement, caller: Option<&CallerPrincipal>) -> bool {
    match (&stmt.principals, caller) {
        (Some(Principals::Any), _) => true,
        (Some(Principals::Typed(entries)), Some(c)) => entries.iter().any(|(t, pats)| {
            *t == c.principal_type
                && pats.iter().any(|p| {
                    c.identifiers
                        .iter()
                        .any(|id| wildcard_match_ignore_ascii_case(p, id))
                })
        }),
        _ => false,
    }
}

/// Does the statement apply to the request? (Effect not considered.)
pub fn statement_applies(stmt: &Statement, req: &RequestContext) -> bool {
    action_matches(&stmt.actions, &req.action)
        && resource_matches(stmt, &req.resource)
        && stmt.conditions.iter().all(|c| c.evaluate(&req.context))
}

fn evaluate_with(
    policies: &[&PolicyDocument],
    policy_type: PolicyType,
    applies: impl Fn(&Statement) -> bool,
) -> Decision {
    let mut allowed = false;
    for (pi, doc) in policies.iter().enumerate() {
        for (si, stmt) in doc.statements().iter().enumerate() {
            if !applies(stmt) {
                continue;
            }
            match stmt.effect {
                Effect::Deny => {
                    return Decision::ExplicitDeny(DenyInfo {
                        policy_type,
                        policy_index: pi,
                        statement_index: si,
                        sid: stmt.sid.clone(),
                    });
                }
                Effect::Allow => allowed = true,
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny(policy_type)
    }
}

/// Evaluate identity-based permission policies (those attached to a user, its groups, or a
/// role). Deny by default; any matching Deny wins; otherwise any matching Allow allows.
pub fn evaluate(policies: &[&PolicyDocument], request: &RequestContext) -> Decision {
    evaluate_as(
        policies,
        request,
        PolicyType::AccountLevelIdentityBasedPolicy,
    )
}

/// [`evaluate`] with an explicit [`PolicyType`] for the reported denial.
pub fn evaluate_as(
    policies: &[&PolicyDocument],
    request: &RequestContext,
    policy_type: PolicyType,
) -> Decision {
    evaluate_with(policies, policy_type, |s| statement_applies(s, request))
}

/// Evaluate a role session: allowed only if the role's policies allow *and* the session
/// policy (the `Policy` parameter of AssumeRole), when present, allows. An explicit Deny in
/// either set wins. Without a session policy this is [`evaluate`].
pub fn evaluate_session(
    role_policies: &[&PolicyDocument],
    session_policy: Option<&PolicyDocument>,
    request: &RequestContext,
) -> Decision {
    let identity = evaluate(role_policies, request);
    let Some(session) = session_policy else {
        return identity;
    };
    let session = evaluate_as(&[session], request, PolicyType::SessionPolicy);
    match (identity, session) {
        (d @ Decision::ExplicitDeny(_), _) => d,
        (_, d @ Decision::ExplicitDeny(_)) => d,
        (Decision::Allow, Decision::Allow) => Decision::Allow,
        (d @ Decision::ImplicitDeny(_), _) => d,
        (_, d) => d,
    }
}

/// Evaluate a role's trust policy for AssumeRole: the request's `principal` must be named
/// by an Allow statement whose action matches (normally `sts:AssumeRole`) and whose
/// conditions hold; resources are not consulted.
pub fn evaluate_trust(trust_policy: &PolicyDocument, request: &RequestContext) -> Decision {
    let caller = request.principal.as_ref();
    evaluate_with(&[trust_policy], PolicyType::AssumeRolePolicy, |s| {
        action_matches(&s.actions, &request.action)
            && principal_matches(s, caller)
            && s.conditions.iter().all(|c| c.evaluate(&request.context))
    })
}
