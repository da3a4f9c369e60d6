//! The `AccessDeniedDetail` object returned with 403 `NoPermission` / `Forbidden.RAM`.
//!
//! Shape taken from the Tea SDK models (e.g. alibabacloud adb DescribePerformanceViewAttribute
//! response docs), whose example is:
//! `{"PolicyType": "AccountLevelIdentityBasedPolicy", "AuthPrincipalOwnerId": "1***7",
//!   "EncodedDiagnosticMessage": "AQIBIAAAAOPd…", "AuthPrincipalType": "SubUser",
//!   "AuthPrincipalDisplayName": "2***9", "NoPermissionType": "ImplicitDeny",
//!   "AuthAction": "adb:DescribeExcessivePrimaryKeys"}`.
//! `NoPermissionType` is `ImplicitDeny` or `ExplicitDeny`; principal types are `SubUser`,
//! `AssumedRoleUser`, `Federated` (RAM DecodeDiagnosticMessage API reference).
//!
//! `EncodedDiagnosticMessage` is opaque to clients. Ours is base64 of a small JSON document
//! (the fields DecodeDiagnosticMessage returns), so a future DecodeDiagnosticMessage can use
//! [`decode_diagnostic_message`]. It names only what the caller already sent plus the
//! denying statement index — no other account data.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::eval::{Decision, RequestContext};

/// Who was denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeniedPrincipal {
    /// `SubUser`, `AssumedRoleUser` or `Federated`.
    pub principal_type: String,
    /// The account (UID) that owns the principal.
    pub owner_id: String,
    /// User name, or `role-name:session-name` for a role session.
    pub display_name: String,
}

/// The detail object; serialise with [`AccessDeniedDetail::to_json`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDeniedDetail {
    pub policy_type: String,
    pub auth_principal_owner_id: String,
    pub encoded_diagnostic_message: String,
    pub auth_principal_type: String,
    pub auth_principal_display_name: String,
    pub no_permission_type: String,
    pub auth_action: String,
}

impl AccessDeniedDetail {
    /// Build the detail for a denied decision; `None` when the decision allows.
    pub fn from_decision(
        decision: &Decision,
        request: &RequestContext,
        principal: &DeniedPrincipal,
    ) -> Option<AccessDeniedDetail> {
        let no_permission_type = decision.no_permission_type()?;
        let policy_type = decision.policy_type()?.as_str();
        let mut diag = Map::new();
        diag.insert("AuthAction".into(), json!(request.action));
        diag.insert("AuthResource".into(), json!(request.resource));
        diag.insert(
            "ExplicitDeny".into(),
            json!(matches!(decision, Decision::ExplicitDeny(_))),
        );
        diag.insert("NoPermissionPolicyType".into(), json!(policy_type));
        diag.insert(
            "AuthPrincipal".into(),
            json!({
                "AuthPrincipalType": principal.principal_type,
                "AuthPrincipalOwnerId": principal.owner_id,
                "AuthPrincipalDisplayName": principal.display_name,
            }),
        );
        if let Decision::ExplicitDeny(d) = decision {
            diag.insert("PolicyIndex".into(), json!(d.policy_index));
            diag.insert("StatementIndex".into(), json!(d.statement_index));
            if let Some(sid) = &d.sid {
                diag.insert("Sid".into(), json!(sid));
            }
        }
        let encoded = STANDARD.encode(Value::Object(diag).to_string());
        Some(AccessDeniedDetail {
            policy_type: policy_type.to_string(),
            auth_principal_owner_id: principal.owner_id.clone(),
            encoded_diagnostic_message: encoded,
            auth_principal_type: principal.principal_type.clone(),
            auth_principal_display_name: principal.display_name.clone(),
            no_permission_type: no_permission_type.to_string(),
            auth_action: request.action.clone(),
        })
    }

    /// JSON object with the cloud's PascalCase field names.
    pub fn to_json(&self) -> Value {
        json!({
            "PolicyType": self.policy_type,
            "AuthPrincipalOwnerId": self.auth_principal_owner_id,
            "EncodedDiagnosticMessage": self.encoded_diagnostic_message,
            "AuthPrincipalType": self.auth_principal_type,
            "AuthPrincipalDisplayName": self.auth_principal_display_name,
            "NoPermissionType": self.no_permission_type,
            "AuthAction": self.auth_action,
        })
    }
}

/// Decode an `EncodedDiagnosticMessage` produced by [`AccessDeniedDetail::from_decision`].
pub fn decode_diagnostic_message(encoded: &str) -> Option<Value> {
    let bytes = STANDARD.decode(encoded.trim()).ok()?;
    serde_json::from_slice(&bytes).ok()
}
