//! Errors raised when a policy document is refused.
//!
//! Error kinds follow the checks listed on the RAM "Validate policies" page
//! (help.aliyun.com/en/ram/permission-policy-check): Data type mismatch, Invalid action
//! format, Invalid ARN prefix, Invalid condition key format, Invalid condition multiple
//! Boolean, Invalid condition operator, Invalid effect, Invalid policy element, Invalid
//! version, JSON syntax error, Missing action, Missing effect, Missing resource, Missing
//! statement. The API answers every kind except [`PolicyErrorKind::Length`] with HTTP 400
//! `MalformedPolicyDocument` (the code RAM returns, e.g. "Add an Action or NotAction
//! element to the policy statement." as seen in aliyun/terraform-provider-alicloud#9949);
//! an over-long document is `InvalidParameter.PolicyDocument.Length` ("The maximum length
//! of the policy document is exceeded. It must not exceed 6144 characters.", CreatePolicy /
//! CreatePolicyVersion error-code tables).

use std::fmt;

/// Why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyErrorKind {
    /// Empty or longer than [`crate::MAX_POLICY_DOCUMENT_CHARS`].
    Length,
    /// Not valid JSON.
    JsonSyntax,
    /// A JSON value of the wrong type (e.g. a number where a string is required).
    DataTypeMismatch,
    /// `Version` is not `"1"`.
    InvalidVersion,
    /// An element that RAM does not know in this position (e.g. `NotResource`, `Principal`
    /// in a permission policy, `Resource` in a trust policy, a typo such as `Actions`).
    InvalidPolicyElement,
    /// `Version` or `Statement` absent, or `Statement` empty.
    MissingStatement,
    MissingVersion,
    MissingEffect,
    InvalidEffect,
    /// Neither `Action` nor `NotAction`, or an empty list.
    MissingAction,
    /// Both `Action` and `NotAction` in one statement.
    ActionAndNotAction,
    InvalidActionFormat,
    MissingResource,
    InvalidArnPrefix,
    InvalidConditionOperator,
    InvalidConditionKeyFormat,
    InvalidConditionMultipleBoolean,
    /// A condition value that cannot be read for its operator (bad date, IP, number, bool).
    InvalidConditionValue,
    MissingPrincipal,
    InvalidPrincipal,
}

impl PolicyErrorKind {
    /// The stable, human-readable name of the check (matches the RAM console wording).
    pub fn as_str(self) -> &'static str {
        use PolicyErrorKind::*;
        match self {
            Length => "Invalid length",
            JsonSyntax => "JSON syntax error",
            DataTypeMismatch => "Data type mismatch",
            InvalidVersion => "Invalid version",
            InvalidPolicyElement => "Invalid policy element",
            MissingStatement => "Missing statement",
            MissingVersion => "Missing version",
            MissingEffect => "Missing effect",
            InvalidEffect => "Invalid effect",
            MissingAction => "Missing action",
            ActionAndNotAction => "Invalid policy element",
            InvalidActionFormat => "Invalid action format",
            MissingResource => "Missing resource",
            InvalidArnPrefix => "Invalid ARN prefix",
            InvalidConditionOperator => "Invalid condition operator",
            InvalidConditionKeyFormat => "Invalid condition key format",
            InvalidConditionMultipleBoolean => "Invalid condition multiple Boolean",
            InvalidConditionValue => "Invalid condition value",
            MissingPrincipal => "Missing principal",
            InvalidPrincipal => "Invalid principal",
        }
    }
}

/// A refused policy document: what is wrong, where (a JSON path such as
/// `Statement[1].Condition.IpAddress.acs:SourceIp[0]`), and a sentence for the API message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub kind: PolicyErrorKind,
    pub path: String,
    pub message: String,
}

impl PolicyError {
    pub(crate) fn new(
        kind: PolicyErrorKind,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        PolicyError {
            kind,
            path: path.into(),
            message: message.into(),
        }
    }

    /// The Alibaba Cloud error code the API should answer with (HTTP 400).
    pub fn code(&self) -> &'static str {
        match self.kind {
            PolicyErrorKind::Length => "InvalidParameter.PolicyDocument.Length",
            _ => "MalformedPolicyDocument",
        }
    }

    /// The message the API should answer with.
    pub fn api_message(&self) -> String {
        match self.kind {
            PolicyErrorKind::Length => self.message.clone(),
            _ if self.path.is_empty() => {
                format!("The policy document is invalid. {}", self.message)
            }
            _ => format!(
                "The policy document is invalid. {} (at {})",
                self.message, self.path
            ),
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.kind.as_str(), self.message)
        } else {
            write!(
                f,
                "{} at {}: {}",
                self.kind.as_str(),
                self.path,
                self.message
            )
        }
    }
}

impl std::error::Error for PolicyError {}
