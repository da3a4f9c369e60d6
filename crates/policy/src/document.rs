//! Policy documents: the data model and the strict parser.
//!
//! Grammar (RAM "Policy structure and syntax", alibabacloud.com/help/document_detail/93739,
//! and "Permission policy elements", document_detail/93738):
//!
//! ```text
//! policy          = { "Version": "1", "Statement": [ statement, ... ] }
//! statement       = { "Effect": "Allow"|"Deny",
//!                     ("Action"|"NotAction"): "*" | string | [string, ...],
//!                     "Resource": "*" | string | [string, ...],
//!                     "Condition"?: { operator: { key: value | [value, ...] } } }
//! ```
//!
//! Decisions, each with its source:
//! * `Statement` must be a JSON array: the grammar only has `"Statement" : [ <statement>, ... ]`
//!   and the structure table says "A list of one or more permission statements". A single
//!   object is refused (Data type mismatch), as is an empty list.
//! * `NotAction` is accepted (current "Permission policy elements" page: "Action/NotAction
//!   ... you must specify either Action or NotAction"); both at once is refused.
//! * `NotResource` is refused: it appears only in an old Japanese copy of the grammar; the
//!   current structure table lists `Resource` as the only, required, resource element.
//! * `Principal` is only valid in trust (resource-based) policies ("This element is used only
//!   in resource-based policies, such as a RAM role trust policy"); see [`PolicyKind`].
//! * `Sid` (optional string) is accepted: Alibaba's own KMS key-policy examples use it.
//! * Element names are case-sensitive (the grammar quotes them as literal strings). The
//!   `Effect` *value* is accepted in any ASCII case (ROS samples send `"ALLOW"`).
//! * Every multi-valued element also accepts a single string ("\"Action\": [<s>] and
//!   \"Action\": <s> are equivalent" — syntax conventions).
//! * Size: 1 to 6,144 characters (CreatePolicy / CreatePolicyVersion parameter tables;
//!   error `InvalidParameter.PolicyDocument.Length` "must not exceed 6144 characters").
//!   Counted in Unicode scalar values.

use serde_json::Value;

use crate::condition::{Condition, Operator};
use crate::error::{PolicyError, PolicyErrorKind as K};

/// Maximum length of a custom policy document, in characters.
pub const MAX_POLICY_DOCUMENT_CHARS: usize = 6144;

/// Which flavour of document is being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Identity-based permission policy (CreatePolicy, AttachPolicyTo*, STS session policy).
    Permission,
    /// Role trust policy (CreateRole `AssumeRolePolicyDocument`): `Principal` instead of
    /// `Resource` (a `Resource` element is tolerated and ignored).
    Trust,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// The action block of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionBlock {
    /// The statement covers the listed action patterns.
    Action(Vec<String>),
    /// The statement covers every action except the listed patterns.
    NotAction(Vec<String>),
}

/// Principal types of a trust policy (RAM role trust policy examples use `RAM`, `Service`
/// and `Federated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalType {
    Ram,
    Service,
    Federated,
}

impl PrincipalType {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalType::Ram => "RAM",
            PrincipalType::Service => "Service",
            PrincipalType::Federated => "Federated",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "RAM" => Some(PrincipalType::Ram),
            "Service" => Some(PrincipalType::Service),
            "Federated" => Some(PrincipalType::Federated),
            _ => None,
        }
    }
}

/// The `Principal` element of a trust-policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `"Principal": "*"`.
    Any,
    /// `"Principal": { "RAM": [...], "Service": [...] }`.
    Typed(Vec<(PrincipalType, Vec<String>)>),
}

/// One statement of a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub actions: ActionBlock,
    /// Resource patterns. Empty for trust policies.
    pub resources: Vec<String>,
    /// Only in trust policies.
    pub principals: Option<Principals>,
    /// All conditions of the statement, flattened to one entry per (operator, key).
    /// They are AND-ed; the values inside one entry are OR-ed.
    pub conditions: Vec<Condition>,
}

/// A parsed, validated policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    kind: PolicyKind,
    statements: Vec<Statement>,
}

impl PolicyDocument {
    /// Parse and validate an identity-based permission policy.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        Self::parse_kind(text, PolicyKind::Permission)
    }

    /// Parse and validate a role trust policy (`AssumeRolePolicyDocument`).
    pub fn parse_trust(text: &str) -> Result<PolicyDocument, PolicyError> {
        Self::parse_kind(text, PolicyKind::Trust)
    }

    /// Parse a document of the given kind. Never panics, whatever the input.
    pub fn parse_kind(text: &str, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let chars = text.chars().count();
        if chars == 0 || chars > MAX_POLICY_DOCUMENT_CHARS {
            return Err(PolicyError::new(
                K::Length,
                "",
                format!(
                    "The maximum length of the policy document is exceeded. It must not exceed {MAX_POLICY_DOCUMENT_CHARS} characters."
                ),
            ));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            PolicyError::new(
                K::JsonSyntax,
                "",
                format!(
                    "The policy document is not valid JSON (line {}, column {}).",
                    e.line(),
                    e.column()
                ),
            )
        })?;
        Self::from_value(&value, kind)
    }

    /// Validate an already-decoded JSON value.
    pub fn from_value(value: &Value, kind: PolicyKind) -> Result<PolicyDocument, PolicyError> {
        let obj = value.as_object().ok_or_else(|| {
            PolicyError::new(
                K::DataTypeMismatch,
                "",
                "The policy document must be a JSON object.",
            )
        })?;
        for key in obj.keys() {
            if key != "Version" && key != "Statement" {
                return Err(PolicyError::new(
                    K::InvalidPolicyElement,
                    key.as_str(),
                    format!("Unknown element \"{key}\"; a policy has only Version and Statement."),
                ));
            }
        }
        match obj.get("Version") {
            None => {
                return Err(PolicyError::new(
                    K::MissingVersion,
                    "Version",
                    "Add a Version element with the value \"1\" to the policy.",
                ));
            }
            Some(Value::String(v)) if v == "1" => {}
            Some(Value::String(v)) => {
                return Err(PolicyError::new(
                    K::InvalidVersion,
                    "Version",
                    format!(
                        "The policy version \"{v}\" is invalid; the only valid value is \"1\"."
                    ),
                ));
            }
            Some(_) => {
                return Err(PolicyError::new(
                    K::DataTypeMismatch,
                    "Version",
                    "Version must be the string \"1\".",
                ));
            }
        }
        let list = match obj.get("Statement") {
            None => {
                return Err(PolicyError::new(
                    K::MissingStatement,
                    "Statement",
                    "Add a Statement element to the policy.",
                ));
            }
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(PolicyError::new(
                    K::DataTypeMismatch,
                    "Statement",
                    "Statement must be a JSON array of statement objects.",
                ));
            }
        };
        if list.is_empty() {
            return Err(PolicyError::new(
                K::MissingStatement,
                "Statement",
                "Statement must contain at least one statement.",
            ));
        }
        let statements = list
            .iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, &format!("Statement[{i}]"), kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyDocument { kind, statements })
    }

    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// Build a document from statements (tests, generated policies). No validation.
    pub fn from_statements(kind: PolicyKind, statements: Vec<Statement>) -> PolicyDocument {
        PolicyDocument { kind, statements }
    }
}

impl std::str::FromStr for PolicyDocument {
    type Err = PolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PolicyDocument::parse(s)
    }
}

fn parse_statement(v: &Value, path: &str, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let obj = v.as_object().ok_or_else(|| {
        PolicyError::new(
            K::DataTypeMismatch,
            path,
            "Each statement must be a JSON object.",
        )
    })?;
    for key in obj.keys() {
        let known = match key.as_str() {
            "Sid" | "Effect" | "Action" | "NotAction" | "Condition" => true,
            "Resource" => true,
            "Principal" => kind == PolicyKind::Trust,
            _ => false,
        };
        if !known {
            let hint = match key.as_str() {
                "NotResource" => "NotResource is not supported by RAM; use Resource.".to_string(),
                "Principal" => {
                    "Principal is only valid in a trust policy, not in a permission policy."
                        .to_string()
                }
                _ => format!("Unknown statement element \"{key}\"."),
            };
            return Err(PolicyError::new(
                K::InvalidPolicyElement,
                format!("{path}.{key}"),
                hint,
            ));
        }
    }

    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(PolicyError::new(
                K::DataTypeMismatch,
                format!("{path}.Sid"),
                "Sid must be a string.",
            ));
        }
    };

    let effect = match obj.get("Effect") {
        None => {
            return Err(PolicyError::new(
                K::MissingEffect,
                format!("{path}.Effect"),
                "Add an Effect element to the policy statement.",
            ));
        }
        Some(Value::String(e)) if e.eq_ignore_ascii_case("allow") => Effect::Allow,
        Some(Value::String(e)) if e.eq_ignore_ascii_case("deny") => Effect::Deny,
        Some(Value::String(e)) => {
            return Err(PolicyError::new(
                K::InvalidEffect,
                format!("{path}.Effect"),
                format!("The effect \"{e}\" is invalid; use Allow or Deny."),
            ));
        }
        Some(_) => {
            return Err(PolicyError::new(
                K::DataTypeMismatch,
                format!("{path}.Effect"),
                "Effect must be the string Allow or Deny.",
            ));
        }
    };

    let actions = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(PolicyError::new(
                K::ActionAndNotAction,
                format!("{path}.NotAction"),
                "A policy statement can contain either Action or NotAction, not both.",
            ));
        }
        (None, None) => {
            return Err(PolicyError::new(
                K::MissingAction,
                format!("{path}.Action"),
                "Add an Action or NotAction element to the policy statement.",
            ));
        }
        (Some(a), None) => ActionBlock::Action(parse_actions(a, &format!("{path}.Action"))?),
        (None, Some(a)) => ActionBlock::NotAction(parse_actions(a, &format!("{path}.NotAction"))?),
    };

    let resources = match (kind, obj.get("Resource")) {
        (PolicyKind::Permission, None) => {
            return Err(PolicyError::new(
                K::MissingResource,
                format!("{path}.Resource"),
                "Add a Resource element to the policy statement.",
            ));
        }
        (PolicyKind::Permission, Some(r)) => parse_resources(r, &format!("{path}.Resource"))?,
        (PolicyKind::Trust, Some(r)) => {
            // Tolerated for compatibility; trust evaluation does not look at resources.
            parse_resources(r, &format!("{path}.Resource"))?;
            Vec::new()
        }
        (PolicyKind::Trust, None) => Vec::new(),
    };

    let principals = match (kind, obj.get("Principal")) {
        (PolicyKind::Trust, Some(p)) => Some(parse_principals(p, &format!("{path}.Principal"))?),
        (PolicyKind::Trust, None) => {
            return Err(PolicyError::new(
                K::MissingPrincipal,
                format!("{path}.Principal"),
                "Add a Principal element to the trust policy statement.",
            ));
        }
        (PolicyKind::Permission, _) => None,
    };

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &format!("{path}.Condition"))?,
    };

    Ok(Statement {
        sid,
        effect,
        actions,
        resources,
        principals,
        conditions,
    })
}

/// A string or a non-empty list of strings.
fn string_list(
    v: &Value,
    path: &str,
    what: &str,
    empty_kind: K,
) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => {
            if items.is_empty() {
                return Err(PolicyError::new(
                    empty_kind,
                    path,
                    format!("{what} must not be an empty list."),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err(PolicyError::new(
                        K::DataTypeMismatch,
                        format!("{path}[{i}]"),
                        format!("Each {what} entry must be a string."),
                    )),
                })
                .collect()
        }
        _ => Err(PolicyError::new(
            K::DataTypeMismatch,
            path,
            format!("{what} must be a string or a list of strings."),
        )),
    }
}

fn parse_actions(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let list = string_list(v, path, "Action", K::MissingAction)?;
    for (i, a) in list.iter().enumerate() {
        if !valid_action(a) {
            let p = if matches!(v, Value::Array(_)) {
                format!("{path}[{i}]")
            } else {
                path.to_string()
            };
            return Err(PolicyError::new(
                K::InvalidActionFormat,
                p,
                format!("The action \"{a}\" is invalid; use the format <ram-code>:<action-name>."),
            ));
        }
    }
    Ok(list)
}

/// `*`, or `<ram-code>:<action-name>` with both parts non-empty, one colon, no whitespace.
fn valid_action(a: &str) -> bool {
    if a == "*" {
        return true;
    }
    match a.split_once(':') {
        Some((svc, name)) => {
            !svc.is_empty()
                && !name.is_empty()
                && !name.contains(':')
                && !a.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

fn parse_resources(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    let list = string_list(v, path, "Resource", K::MissingResource)?;
    for (i, r) in list.iter().enumerate() {
        // "Invalid ARN prefix ... Ensure the ARN starts with the acs prefix."
        if r != "*" && !r.starts_with("acs:") {
            let p = if matches!(v, Value::Array(_)) {
                format!("{path}[{i}]")
            } else {
                path.to_string()
            };
            return Err(PolicyError::new(
                K::InvalidArnPrefix,
                p,
                format!(
                    "The resource \"{r}\" is invalid; an ARN must start with \"acs:\" (or be \"*\")."
                ),
            ));
        }
    }
    Ok(list)
}

fn parse_principals(v: &Value, path: &str) -> Result<Principals, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals::Any),
        Value::Object(map) => {
            if map.is_empty() {
                return Err(PolicyError::new(
                    K::InvalidPrincipal,
                    path,
                    "Principal must name at least one principal.",
                ));
            }
            let mut out = Vec::new();
            for (k, vals) in map {
                let t = PrincipalType::parse(k).ok_or_else(|| {
                    PolicyError::new(
                        K::InvalidPrincipal,
                        format!("{path}.{k}"),
                        format!("Unknown principal type \"{k}\"; use RAM, Service or Federated."),
                    )
                })?;
                let list = string_list(
                    vals,
                    &format!("{path}.{k}"),
                    "Principal",
                    K::InvalidPrincipal,
                )?;
                out.push((t, list));
            }
            Ok(Principals::Typed(out))
        }
        _ => Err(PolicyError::new(
            K::DataTypeMismatch,
            path,
            "Principal must be \"*\" or an object such as {\"RAM\": [\"acs:ram::<account-id>:root\"]}.",
        )),
    }
}

fn parse_conditions(v: &Value, path: &str) -> Result<Vec<Condition>, PolicyError> {
    let ops = v.as_object().ok_or_else(|| {
        PolicyError::new(
            K::DataTypeMismatch,
            path,
            "Condition must be an object of {operator: {key: value}}.",
        )
    })?;
    let mut out = Vec::new();
    for (op_name, block) in ops {
        let op_path = format!("{path}.{op_name}");
        let op = Operator::parse(op_name).ok_or_else(|| {
            PolicyError::new(
                K::InvalidConditionOperator,
                op_path.clone(),
                format!("The condition operator \"{op_name}\" is invalid."),
            )
        })?;
        let keys = block.as_object().ok_or_else(|| {
            PolicyError::new(
                K::DataTypeMismatch,
                op_path.clone(),
                "A condition operator must map to an object of {key: value}.",
            )
        })?;
        if keys.is_empty() {
            return Err(PolicyError::new(
                K::DataTypeMismatch,
                op_path,
                "A condition operator must name at least one condition key.",
            ));
        }
        for (key, values) in keys {
            let key_path = format!("{op_path}.{key}");
            out.push(Condition::parse(op, key, values, &key_path)?);
        }
    }
    Ok(out)
}
