//! `vpngw-policy`: the Alibaba Cloud RAM policy language — parsing, validation and
//! evaluation. Pure: no IO, no clock (callers put `acs:CurrentTime` in the request context).
//!
//! ```
//! use vpngw_policy::{PolicyDocument, RequestContext, evaluate, Decision};
//! let doc = PolicyDocument::parse(r#"{"Version":"1","Statement":[
//!   {"Effect":"Allow","Action":"vpc:Describe*","Resource":"*"}]}"#).unwrap();
//! let req = RequestContext::new("vpc:DescribeVpnConnections",
//!     "acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/*");
//! assert_eq!(evaluate(&[&doc], &req), Decision::Allow);
//! ```
//!
//! Every behavioural decision is documented, with its source, in the module that makes it:
//! grammar and limits in [`document`], operators and missing keys in [`condition`],
//! evaluation and case rules in [`eval`], wildcard semantics in [`wildcard`], system
//! policies in [`system`], the 403 detail object in [`detail`], error codes in [`error`].

pub mod condition;
pub mod detail;
pub mod document;
pub mod error;
pub mod eval;
pub mod system;
pub mod values;
pub mod wildcard;

pub use condition::{Condition, ContextKeys, Operator};
pub use detail::{AccessDeniedDetail, DeniedPrincipal, decode_diagnostic_message};
pub use document::{
    ActionBlock, Effect, MAX_POLICY_DOCUMENT_CHARS, PolicyDocument, PolicyKind, PrincipalType,
    Principals, Statement,
};
pub use error::{PolicyError, PolicyErrorKind};
pub use eval::{
    CallerPrincipal, Decision, DenyInfo, KEY_CURRENT_TIME, KEY_MFA_PRESENT, KEY_SECURE_TRANSPORT,
    KEY_SOURCE_IP, PolicyType, RequestContext, evaluate, evaluate_as, evaluate_session,
    evaluate_trust, statement_applies,
};
pub use system::{SYSTEM_POLICIES, SystemPolicy, system_policy};
pub use wildcard::{wildcard_match, wildcard_match_ignore_ascii_case};

/// Build the ARN of a VPC resource: `acs:vpc:{region}:{account}:{kind}/{id}`, with `kind` one
/// of `vpngateway`, `customergateway`, `vpnconnection` (VPN Gateway "RAM authorization" page,
/// resource types `acs:vpc:{#regionId}:{#accountId}:vpngateway/{#VpnGatewayId}` etc.).
/// Pass `id = "*"` for the list/create form.
pub fn vpc_arn(region: &str, account_id: &str, kind: &str, id: &str) -> String {
    format!("acs:vpc:{region}:{account_id}:{kind}/{id}")
}
