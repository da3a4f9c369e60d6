//! Condition operators and their evaluation.
//!
//! Operators (RAM "Conditional operators" page, alibabacloud.com/help/en/ram/conditional-operator,
//! and the operator list in help.aliyun.com/document_detail/207746):
//! String: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase,
//! StringLike, StringNotLike (case-sensitive except the IgnoreCase pair; Like supports `*`/`?`).
//! Number: NumericEquals, NumericNotEquals, NumericLessThan, NumericLessThanEquals,
//! NumericGreaterThan, NumericGreaterThanEquals.
//! Date: DateEquals, DateNotEquals, DateLessThan, DateLessThanEquals, DateGreaterThan,
//! DateGreaterThanEquals (ISO 8601). Boolean: Bool. IP: IpAddress, NotIpAddress.
//! Operator names are exact (case-sensitive); `…IfExists` / `ForAnyValue:` qualifiers are not
//! in the RAM list and are refused as "Invalid condition operator".
//!
//! Combination rules: several operators in a block, and several keys under one operator, are
//! AND-ed; several values for one key are OR-ed (for the negated operators the values are
//! NOR-ed: the key must match none of them). When the request carries several values for a
//! key, the condition holds if any request value matches.
//!
//! Missing keys: RAM documents no special rule, so we follow the convention of the IAM-style
//! grammar RAM mirrors (AWS IAM "Condition operators": "If the key ... is not present in the
//! request context, the values do not match and the condition is false. If the policy
//! condition requires that the key is *not matched*, such as StringNotLike ... the condition
//! is true"). So a positive operator on an absent key is false and a negated one
//! (StringNotEquals, StringNotEqualsIgnoreCase, StringNotLike, NumericNotEquals,
//! DateNotEquals, NotIpAddress) is true. A request value that cannot be read for the
//! operator (e.g. a malformed IP) never matches.
//!
//! Condition key *names* are matched ASCII case-insensitively (`acs:SourceIP` finds
//! `acs:SourceIp`): RAM is silent, IAM documents key names as case-insensitive, and the
//! lenient choice cannot widen what a value comparison allows.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::error::{PolicyError, PolicyErrorKind as K};
use crate::values::{Instant, IpNet, parse_bool, parse_ip, parse_iso8601, parse_number};
use crate::wildcard::wildcard_match;

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
}

const ALL: [Operator; 21] = [
    Operator::StringEquals,
    Operator::StringNotEquals,
    Operator::StringEqualsIgnoreCase,
    Operator::StringNotEqualsIgnoreCase,
    Operator::StringLike,
    Operator::StringNotLike,
    Operator::NumericEquals,
    Operator::NumericNotEquals,
    Operator::NumericLessThan,
    Operator::NumericLessThanEquals,
    Operator::NumericGreaterThan,
    Operator::NumericGreaterThanEquals,
    Operator::DateEquals,
    Operator::DateNotEquals,
    Operator::DateLessThan,
    Operator::DateLessThanEquals,
    Operator::DateGreaterThan,
    Operator::DateGreaterThanEquals,
    Operator::Bool,
    Operator::IpAddress,
    Operator::NotIpAddress,
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Str,
    Num,
    Date,
    Bool,
    Ip,
}

impl Operator {
    /// Every supported operator.
    pub fn all() -> &'static [Operator] {
        &ALL
    }

    /// Parse an operator name (exact spelling).
    pub fn parse(name: &str) -> Option<Operator> {
        ALL.iter().copied().find(|op| op.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        use Operator::*;
        match self {
            StringEquals => "StringEquals",
            StringNotEquals => "StringNotEquals",
            StringEqualsIgnoreCase => "StringEqualsIgnoreCase",
            StringNotEqualsIgnoreCase => "StringNotEqualsIgnoreCase",
            StringLike => "StringLike",
            StringNotLike => "StringNotLike",
            NumericEquals => "NumericEquals",
            NumericNotEquals => "NumericNotEquals",
            NumericLessThan => "NumericLessThan",
            NumericLessThanEquals => "NumericLessThanEquals",
            NumericGreaterThan => "NumericGreaterThan",
            NumericGreaterThanEquals => "NumericGreaterThanEquals",
            DateEquals => "DateEquals",
            DateNotEquals => "DateNotEquals",
            DateLessThan => "DateLessThan",
            DateLessThanEquals => "DateLessThanEquals",
            DateGreaterThan => "DateGreaterThan",
            DateGreaterThanEquals => "DateGreaterThanEquals",
            Bool => "Bool",
            IpAddress => "IpAddress",
            NotIpAddress => "NotIpAddress",
        }
    }

    /// Negated operators hold when *no* value matches (and when the key is absent).
    pub fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
        )
    }

    fn family(self) -> Family {
        use Operator::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::Str,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Num,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            IpAddress | NotIpAddress => Family::Ip,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Values {
    Str(Vec<String>),
    Num(Vec<f64>),
    Date(Vec<Instant>),
    Bool(bool),
    Ip(Vec<IpNet>),
}

/// One `operator: { key: values }` entry of a Condition block.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    operator: Operator,
    key: String,
    key_folded: String,
    raw: Vec<String>,
    values: Values,
}

impl Condition {
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The condition key as written in the policy.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The condition values as written in the policy (JSON scalars rendered as text).
    pub fn raw_values(&self) -> &[String] {
        &self.raw
    }

    pub(crate) fn parse(
        op: Operator,
        key: &str,
        v: &Value,
        path: &str,
    ) -> Result<Condition, PolicyError> {
        // "Invalid condition key format ... Use the format <ram-code>:<condition-key>".
        let key_ok = match key.split_once(':') {
            Some((a, b)) => !a.is_empty() && !b.is_empty() && !key.chars().any(char::is_whitespace),
            None => false,
        };
        if !key_ok {
            return Err(PolicyError::new(
                K::InvalidConditionKeyFormat,
                path,
                format!(
                    "The condition key \"{key}\" is invalid; use the format <ram-code>:<condition-key>."
                ),
            ));
        }
        let raw = scalar_list(v, path)?;
        let bad = |i: usize, what: &str| {
            let p = if matches!(v, Value::Array(_)) {
                format!("{path}[{i}]")
            } else {
                path.to_string()
            };
            PolicyError::new(
                K::InvalidConditionValue,
                p,
                format!(
                    "The value \"{}\" is not a valid {what} for {}.",
                    raw[i],
                    op.as_str()
                ),
            )
        };
        let values = match op.family() {
            Family::Str => Values::Str(raw.clone()),
            Family::Num => Values::Num(
                (0..raw.len())
                    .map(|i| parse_number(&raw[i]).ok_or_else(|| bad(i, "number")))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Date => Values::Date(
                (0..raw.len())
                    .map(|i| parse_iso8601(&raw[i]).ok_or_else(|| bad(i, "ISO 8601 date-time")))
                    .collect::<Result<_, _>>()?,
            ),
            Family::Ip => Values::Ip(
                (0..raw.len())
                    .map(|i| {
                        IpNet::parse(&raw[i]).ok_or_else(|| bad(i, "IP address or CIDR block"))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Family::Bool => {
                // "Invalid condition multiple Boolean: Ensure the condition key contains only
                // one Boolean value."
                if raw.len() > 1 {
                    return Err(PolicyError::new(
                        K::InvalidConditionMultipleBoolean,
                        path,
                        "A Bool condition key takes a single value, true or false.",
                    ));
                }
                Values::Bool(parse_bool(&raw[0]).ok_or_else(|| bad(0, "boolean (true or false)"))?)
            }
        };
        Ok(Condition {
            operator: op,
            key: key.to_string(),
            key_folded: key.to_ascii_lowercase(),
            raw,
            values,
        })
    }

    /// Evaluate against the request's context keys.
    pub fn evaluate(&self, ctx: &ContextKeys) -> bool {
        let negated = self.operator.is_negated();
        let request = match ctx.get(&self.key_folded) {
            Some(v) if !v.is_empty() => v,
            _ => return negated,
        };
        let any = request.iter().any(|r| self.matches_one(r));
        any != negated
    }

    /// Does one request value match any policy value under the *positive* form of the operator?
    fn matches_one(&self, r: &str) -> bool {
        use Operator::*;
        match &self.values {
            Values::Str(vals) => match self.operator {
                StringEquals | StringNotEquals => vals.iter().any(|p| p == r),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                    let r = r.to_lowercase();
                    vals.iter().any(|p| p.to_lowercase() == r)
                }
                _ => vals.iter().any(|p| wildcard_match(p, r)),
            },
            Values::Num(vals) => {
                let Some(x) = parse_number(r) else {
                    return false;
                };
                vals.iter().any(|&p| match self.operator {
                    NumericEquals | NumericNotEquals => x == p,
                    NumericLessThan => x < p,
                    NumericLessThanEquals => x <= p,
                    NumericGreaterThan => x > p,
                    _ => x >= p,
                })
            }
            Values::Date(vals) => {
                let Some(x) = parse_iso8601(r) else {
                    return false;
                };
                vals.iter().any(|&p| match self.operator {
                    DateEquals | DateNotEquals => x == p,
                    DateLessThan => x < p,
                    DateLessThanEquals => x <= p,
                    DateGreaterThan => x > p,
                    _ => x >= p,
                })
            }
            Values::Bool(b) => parse_bool(r) == Some(*b),
            Values::Ip(nets) => match parse_ip(r) {
                Some(ip) => nets.iter().any(|n| n.contains(ip)),
                None => false,
            },
        }
    }
}

/// A scalar or a non-empty list of scalars, rendered as strings.
fn scalar_list(v: &Value, path: &str) -> Result<Vec<String>, PolicyError> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                return Err(PolicyError::new(
                    K::DataTypeMismatch,
                    path,
                    "A condition key must have at least one value.",
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    scalar(item).ok_or_else(|| {
                        PolicyError::new(
                            K::DataTypeMismatch,
                            format!("{path}[{i}]"),
                            "Condition values must be strings, numbers or booleans.",
                        )
                    })
                })
                .collect()
        }
        other => scalar(other).map(|s| vec![s]).ok_or_else(|| {
            PolicyError::new(
                K::DataTypeMismatch,
                path,
                "A condition value must be a string, number, boolean or a list of them.",
            )
        }),
    }
}

/// Request context keys (`acs:SourceIp`, `acs:CurrentTime`, `vpc:tag/...`, ...), each with one
/// or more values. Key names are folded to ASCII lower case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextKeys {
    map: BTreeMap<String, Vec<String>>,
}

impl ContextKeys {
    pub fn new() -> Self {
        Self::default()
    }

    /// Set a key to a single value (replacing earlier values).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.map
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    /// Set a key to several values (any of them may satisfy a condition).
    pub fn set_all<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.map.insert(
            key.to_ascii_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
        self
    }

    /// Add one more value to a key.
    pub fn push(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.map
            .entry(key.to_ascii_lowercase())
            .or_default()
            .push(value.into());
        self
    }

    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.map.remove(&key.to_ascii_lowercase());
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.map.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.map.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}
