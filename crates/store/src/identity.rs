//! The shapes of RAM identities and STS credentials that cross the
//! [`crate::Store`] boundary: users, groups and their members, roles,
//! custom policies with versions, policy attachments, and temporary
//! credentials. Every one belongs to one account and is only reachable with
//! that account's id.
//!
//! Names are unique per account (the API answers `EntityAlreadyExists.*`);
//! deletions that would leave dangling references are refused with
//! [`crate::StoreError::InUse`], checked inside the same transaction as the
//! delete so that a concurrent attach cannot slip in between.

use serde::{Deserialize, Serialize};

/// A RAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub account_id: String,
    pub user_id: String,
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub mobile_phone: String,
    pub comments: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// The fields UpdateUser may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserUpdate {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub mobile_phone: Option<String>,
    pub comments: Option<String>,
    pub updated_ms: i64,
}

/// A RAM user group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    pub account_id: String,
    pub group_id: String,
    pub name: String,
    pub comments: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A group a user belongs to, with the time the user joined it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub group: GroupRecord,
    pub joined_ms: i64,
}

/// A RAM role and its trust policy (`AssumeRolePolicyDocument`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    pub account_id: String,
    pub role_id: String,
    pub name: String,
    pub description: String,
    pub trust_policy: String,
    pub max_session_duration: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A custom policy. System policies are not stored: they exist in every
/// account and come from `vpngw-policy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    pub account_id: String,
    pub name: String,
    pub description: String,
    /// `v1`, `v2`, …
    pub default_version: String,
    /// Users, groups and roles it is attached to (computed on read).
    pub attachment_count: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One version of a custom policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersionRecord {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_ms: i64,
}

/// Who a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    User,
    Group,
    Role,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "User",
            PrincipalKind::Group => "Group",
            PrincipalKind::Role => "Role",
        }
    }
}

/// `System` or `Custom`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    System,
    Custom,
}

impl PolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::System => "System",
            PolicyKind::Custom => "Custom",
        }
    }

    pub fn parse(s: &str) -> Option<PolicyKind> {
        match s {
            "System" => Some(PolicyKind::System),
            "Custom" => Some(PolicyKind::Custom),
            _ => None,
        }
    }
}

/// A policy attached to a user, group or role (named by its name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub policy_kind: PolicyKind,
    pub policy_name: String,
    pub attached_ms: i64,
    /// The custom policy's description and default version; empty for
    /// system policies (the API fills those in).
    pub description: String,
    pub default_version: String,
}

/// One policy attachment: the principal (by name) and the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachTarget {
    pub kind: PrincipalKind,
    pub principal: String,
    pub policy_kind: PolicyKind,
    pub policy: String,
}

/// A policy that applies to a caller: its name, kind and, for custom
/// policies, the default version's document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectivePolicy {
    pub policy_kind: PolicyKind,
    pub policy_name: String,
    /// `None` for system policies.
    pub document: Option<String>,
}

/// Why a delete or a write was refused: what still depends on the entity,
/// or which limit was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependent {
    /// The user still has access keys.
    UserAccessKey,
    /// The user, group or role still has policies attached.
    AttachedPolicy(PrincipalKind),
    /// The user is still a member of a group.
    UserGroup,
    /// The group still has members.
    GroupUser,
    /// The policy is still attached to a user, group or role.
    PolicyAttachment(PrincipalKind),
    /// The policy still has versions besides the default one.
    PolicyVersion,
}

/// Expired STS credentials are kept this long, so that using one is
/// answered `InvalidSecurityToken.Expired` rather than "not found"; a later
/// AssumeRole purges them.
pub const STS_RETENTION_MS: i64 = 24 * 3600 * 1000;

/// A temporary credential issued by AssumeRole. `secret` is sealed by the
/// API layer; the token is only kept as its SHA-256 (hex), as nobody ever
/// needs it back.
#[derive(Clone, PartialEq, Eq)]
pub struct StsCredentialRecord {
    pub access_key_id: String,
    pub account_id: String,
    pub secret: String,
    pub token_sha256: String,
    pub role_id: String,
    pub role_name: String,
    pub session_name: String,
    /// The `Policy` parameter of AssumeRole, if one was given.
    pub session_policy: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

impl std::fmt::Debug for StsCredentialRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsCredentialRecord")
            .field("access_key_id", &self.access_key_id)
            .field("account_id", &self.account_id)
            .field("secret", &"[REDACTED]")
            .field("token_sha256", &"[REDACTED]")
            .field("role_name", &self.role_name)
            .field("session_name", &self.session_name)
            .field("expires_ms", &self.expires_ms)
            .finish()
    }
}

/// One page of a marker-paged list (`Marker` / `IsTruncated`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerPage<T> {
    pub items: Vec<T>,
    /// Set when more items follow: pass it back as the next `Marker`.
    pub next_marker: Option<String>,
}
