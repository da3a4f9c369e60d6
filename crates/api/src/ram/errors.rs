//! RAM's own errors, with the cloud's codes, messages and statuses. Sources:
//! the RAM API reference error tables (AlibabaCloudDocs/ram, e.g. DeleteUser:
//! `DeleteConflict.User.AccessKey` 409 "The user CAN NOT has any access key
//! while deleting the user."). Conflicts and limits are 409 there, which the
//! generic status rule (400) does not give, so they set it.

use vpngw_protocol::ApiError;
use vpngw_store::identity::{Dependent, PrincipalKind};

fn conflict(code: &'static str, message: &str) -> ApiError {
    ApiError::new(code, message).with_status(409)
}

pub fn user_not_found() -> ApiError {
    ApiError::new("EntityNotExist.User", "The user does not exist.")
}

pub fn group_not_found() -> ApiError {
    ApiError::new("EntityNotExist.Group", "The group does not exist.")
}

pub fn role_not_found() -> ApiError {
    ApiError::new("EntityNotExist.Role", "The role does not exist.")
}

pub fn policy_not_found() -> ApiError {
    ApiError::new("EntityNotExist.Policy", "The policy does not exist.")
}

pub fn access_key_not_found() -> ApiError {
    ApiError::new(
        "EntityNotExist.User.AccessKey",
        "The user access key does not exist.",
    )
}

pub fn not_member() -> ApiError {
    ApiError::new(
        "EntityNotExist.User.Group",
        "The user has not joined the group.",
    )
}

/// A detach of a policy that is not attached.
pub fn attachment_not_found(kind: PrincipalKind) -> ApiError {
    match kind {
        PrincipalKind::User => ApiError::new(
            "EntityNotExist.User.Policy",
            "The indicate policy of the user does not exist.",
        ),
        PrincipalKind::Group => ApiError::new(
            "EntityNotExist.Group.Policy",
            "The indicate policy attached to the group does not exist.",
        ),
        PrincipalKind::Role => ApiError::new(
            "EntityNotExist.Role.Policy",
            "The indicate policy attached to the role does not exist.",
        ),
    }
}

pub fn principal_not_found(kind: PrincipalKind) -> ApiError {
    match kind {
        PrincipalKind::User => user_not_found(),
        PrincipalKind::Group => group_not_found(),
        PrincipalKind::Role => role_not_found(),
    }
}

pub fn user_exists() -> ApiError {
    conflict("EntityAlreadyExists.User", "The user does already EXIST.")
}

pub fn group_exists() -> ApiError {
    conflict("EntityAlreadyExists.Group", "The group does already EXIST.")
}

pub fn role_exists() -> ApiError {
    conflict("EntityAlreadyExists.Role", "The role does already EXIST.")
}

pub fn policy_exists() -> ApiError {
    conflict(
        "EntityAlreadyExists.Policy",
        "The policy does already EXIST.",
    )
}

pub fn already_member() -> ApiError {
    conflict(
        "EntityAlreadyExists.User.Group",
        "The user has already joined the group.",
    )
}

pub fn already_attached(kind: PrincipalKind) -> ApiError {
    match kind {
        PrincipalKind::User => conflict(
            "EntityAlreadyExists.User.Policy",
            "The user has already been attached this policy.",
        ),
        PrincipalKind::Group => conflict(
            "EntityAlreadyExists.Group.Policy",
            "The group has already been attached this policy.",
        ),
        PrincipalKind::Role => conflict(
            "EntityAlreadyExists.Role.Policy",
            "The role has already been attached this policy.",
        ),
    }
}

pub fn in_use(d: Dependent) -> ApiError {
    match d {
        Dependent::UserAccessKey => conflict(
            "DeleteConflict.User.AccessKey",
            "The user CAN NOT has any access key while deleting the user.",
        ),
        Dependent::AttachedPolicy(PrincipalKind::User) => conflict(
            "DeleteConflict.User.Policy",
            "The user CAN NOT has any attached policy while deleting the user.",
        ),
        Dependent::UserGroup => conflict(
            "DeleteConflict.User.Group",
            "The user CAN NOT be in any group while deleting the user.",
        ),
        Dependent::AttachedPolicy(PrincipalKind::Group) => conflict(
            "DeleteConflict.Group.Policy",
            "The entity CAN NOT has any attached policy while deleting the group.",
        ),
        Dependent::GroupUser => conflict(
            "DeleteConflict.Group.User",
            "The group CAN NOT has any user member while deleting the group.",
        ),
        Dependent::AttachedPolicy(PrincipalKind::Role) => conflict(
            "DeleteConflict.Role.Policy",
            "The role CAN NOT has any attached policy while deleting the role.",
        ),
        Dependent::PolicyAttachment(PrincipalKind::User) => conflict(
            "DeleteConflict.Policy.User",
            "The policy CAN NOT been attached to any user while deleting the policy.",
        ),
        Dependent::PolicyAttachment(PrincipalKind::Group) => conflict(
            "DeleteConflict.Policy.Group",
            "The policy CAN NOT been attached to any group while deleting the policy.",
        ),
        Dependent::PolicyAttachment(PrincipalKind::Role) => conflict(
            "DeleteConflict.Policy.Role",
            "The policy CAN NOT been attached to any role while deleting the policy.",
        ),
        Dependent::PolicyVersion => conflict(
            "DeleteConflict.Policy.Version",
            "The policy CAN NOT has any version except the defaul version.",
        ),
    }
}

pub fn access_key_limit() -> ApiError {
    conflict(
        "LimitExceeded.User.AccessKey",
        "The access key count of the user access keys beyond the current limits.",
    )
}

pub fn groups_per_user_limit() -> ApiError {
    conflict(
        "LimitExceeded.User.Group",
        "The count of groups the target user joined beyond the current limits.",
    )
}

pub fn policy_version_limit() -> ApiError {
    conflict(
        "LimitExceeded.Policy.Version",
        "The count of policy version beyond the current limits.",
    )
}

pub fn policy_limit() -> ApiError {
    conflict(
        "LimitExceeded.Policy",
        "The count of policy beyond the current limits.",
    )
}

pub fn attachment_limit(kind: PrincipalKind) -> ApiError {
    match kind {
        PrincipalKind::User => conflict(
            "LimitExceeded.User.Policy",
            "The policy count of the user attached policies beyond the current limits.",
        ),
        PrincipalKind::Group => conflict(
            "LimitExceeded.Group.Policy",
            "The policy count of the group beyond the current limits.",
        ),
        PrincipalKind::Role => conflict(
            "LimitExceeded.Role.Policy",
            "The count of policies attached to the role beyond the current limits.",
        ),
    }
}

/// `InvalidParameter.<Name>.Length`: empty or too long.
pub fn length(name: &'static str) -> ApiError {
    ApiError::new(
        format!("InvalidParameter.{name}.Length"),
        format!("The parameter - \"{name}\" beyond the length limit."),
    )
}

/// `InvalidParameter.<Name>.InvalidChars`.
pub fn invalid_chars(name: &'static str) -> ApiError {
    ApiError::new(
        format!("InvalidParameter.{name}.InvalidChars"),
        format!("The parameter - \"{name}\" contains invalid chars."),
    )
}

/// `InvalidParameter.<Name>.Format` (emails, phone numbers).
pub fn format(name: &'static str) -> ApiError {
    ApiError::new(
        format!("InvalidParameter.{name}.Format"),
        format!("The format of the parameter - \"{name}\" is incorrect."),
    )
}

pub fn policy_type() -> ApiError {
    ApiError::new(
        "InvalidParameter.PolicyType",
        "The parameter - \"PolicyType\" is incorrect.",
    )
}

pub fn max_session_duration() -> ApiError {
    ApiError::new(
        "InvalidParameter.MaxSessionDuration",
        "The parameter - \"MaxSessionDuration\" MUST be in the range of 3600 and 43200.",
    )
}

/// A RAM identity without the permission: 403 `NoPermission` naming the
/// resource and action, as RAM answers ("You are not authorized to do this
/// action. Resource: acs:ram:*:<uid>:role/* Action: ram:GetRole").
pub fn no_permission(resource: &str, action: &str) -> ApiError {
    ApiError::new(
        "NoPermission",
        format!("You are not authorized to do this action. Resource: {resource} Action: {action}"),
    )
    .with_status(403)
}
