//! RAM and STS response shapes, field for field as the official SDK models
//! (alibabacloud-ram20150501 1.3.0, alibabacloud-sts20150401 1.2.0).

use serde::Serialize;
use vpngw_store::identity::{GroupRecord, RoleRecord, UserRecord};

use super::iso8601;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserView {
    pub user_id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: String,
    pub mobile_phone: String,
    pub comments: String,
    pub create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
}

impl UserView {
    pub fn new(u: &UserRecord, with_update: bool) -> UserView {
        UserView {
            user_id: u.user_id.clone(),
            user_name: u.name.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            mobile_phone: u.mobile_phone.clone(),
            comments: u.comments.clone(),
            create_date: iso8601(u.created_ms),
            update_date: with_update.then(|| iso8601(u.updated_ms)),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserReply {
    pub user: UserView,
}

#[derive(Serialize)]
pub struct UserList {
    #[serde(rename = "User")]
    pub user: Vec<UserView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersReply {
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub users: UserList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewAccessKey {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub create_date: String,
    pub status: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateAccessKeyReply {
    pub access_key: NewAccessKey,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessKeyView {
    pub access_key_id: String,
    pub create_date: String,
    pub status: String,
}

#[derive(Serialize)]
pub struct AccessKeyList {
    #[serde(rename = "AccessKey")]
    pub access_key: Vec<AccessKeyView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAccessKeysReply {
    pub access_keys: AccessKeyList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupView {
    pub group_id: String,
    pub group_name: String,
    pub comments: String,
    pub create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
}

impl GroupView {
    pub fn new(g: &GroupRecord, with_update: bool) -> GroupView {
        GroupView {
            group_id: g.group_id.clone(),
            group_name: g.name.clone(),
            comments: g.comments.clone(),
            create_date: iso8601(g.created_ms),
            update_date: with_update.then(|| iso8601(g.updated_ms)),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupReply {
    pub group: GroupView,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MemberGroupView {
    pub group_id: String,
    pub group_name: String,
    pub comments: String,
    pub join_date: String,
}

#[derive(Serialize)]
pub struct MemberGroupList {
    #[serde(rename = "Group")]
    pub group: Vec<MemberGroupView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListGroupsForUserReply {
    pub groups: MemberGroupList,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleView {
    pub role_id: String,
    pub role_name: String,
    pub arn: String,
    pub description: String,
    pub assume_role_policy_document: String,
    pub max_session_duration: i64,
    pub create_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub update_date: Option<String>,
}

impl RoleView {
    pub fn new(r: &RoleRecord, with_update: bool) -> RoleView {
        RoleView {
            role_id: r.role_id.clone(),
            role_name: r.name.clone(),
            arn: super::arn(&r.account_id, "role", &r.name),
            description: r.description.clone(),
            assume_role_policy_document: r.trust_policy.clone(),
            max_session_duration: r.max_session_duration,
            create_date: iso8601(r.created_ms),
            update_date: with_update.then(|| iso8601(r.updated_ms)),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleReply {
    pub role: RoleView,
}

#[derive(Serialize)]
pub struct RoleList {
    #[serde(rename = "Role")]
    pub role: Vec<RoleView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListRolesReply {
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub roles: RoleList,
}

/// CreatePolicy's `Policy`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct NewPolicyView {
    pub policy_name: String,
    pub policy_type: String,
    pub description: String,
    pub default_version: String,
    pub create_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePolicyReply {
    pub policy: NewPolicyView,
}

/// GetPolicy's and ListPolicies' `Policy` (`PolicyDocument` only in GetPolicy).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyView {
    pub policy_name: String,
    pub policy_type: String,
    pub description: String,
    pub default_version: String,
    pub attachment_count: i64,
    pub create_date: String,
    pub update_date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_document: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyVersionView {
    pub version_id: String,
    pub is_default_version: bool,
    pub policy_document: String,
    pub create_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetPolicyReply {
    pub policy: PolicyView,
    pub default_policy_version: PolicyVersionView,
}

#[derive(Serialize)]
pub struct PolicyList<T> {
    #[serde(rename = "Policy")]
    pub policy: Vec<T>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPoliciesReply {
    pub is_truncated: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub policies: PolicyList<PolicyView>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePolicyVersionReply {
    pub policy_version: PolicyVersionView,
}

/// ListPoliciesForUser/Group/Role's `Policy`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttachedPolicyView {
    pub policy_name: String,
    pub policy_type: String,
    pub description: String,
    pub default_version: String,
    pub attach_date: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListAttachedReply {
    pub policies: PolicyList<AttachedPolicyView>,
}

/// An answer with nothing but `RequestId` (added by the pipeline).
#[derive(Serialize)]
pub struct Empty {}
