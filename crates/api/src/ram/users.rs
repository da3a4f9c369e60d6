//! Users, their access keys, and groups.

use vpngw_identity::keys;
use vpngw_protocol::ApiError;
use vpngw_store::{
    AccessKeyRecord, StoreError,
    identity::{GroupRecord, UserRecord, UserUpdate},
};

use super::{
    check_name, display_name_param, email_param, errors, group_char, key_owner, name_param, paging,
    phone_param, store_error, text_param, user_char,
    views::{
        AccessKeyList, AccessKeyView, CreateAccessKeyReply, Empty, GroupReply, GroupView,
        ListAccessKeysReply, ListGroupsForUserReply, ListUsersReply, MemberGroupList,
        MemberGroupView, NewAccessKey, UserList, UserReply, UserView,
    },
};
use crate::{Ctx, actions::Reply, context::internal, vpc::reply};

/// Access keys per RAM user (the cloud's limit).
pub const MAX_KEYS_PER_USER: u32 = 2;
/// Groups one user may join (the cloud's limit).
pub const MAX_GROUPS_PER_USER: u32 = 5;

fn user_name<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    name_param(ctx, "UserName", 64, user_char)
}

async fn load_user(ctx: &Ctx<'_>, name: &str) -> Result<UserRecord, ApiError> {
    ctx.store()
        .get_user(&ctx.caller.account_id, name)
        .await
        .map_err(internal)?
        .ok_or_else(errors::user_not_found)
}

pub async fn create_user(ctx: &Ctx<'_>) -> Reply {
    let name = user_name(ctx)?;
    let display_name = display_name_param(ctx, "DisplayName")?.unwrap_or(name);
    let comments = text_param(ctx, "Comments", 128)?.unwrap_or("");
    let email = email_param(ctx, "Email")?.unwrap_or("");
    let phone = phone_param(ctx, "MobilePhone")?.unwrap_or("");
    let user = UserRecord {
        account_id: ctx.caller.account_id.clone(),
        user_id: keys::generate_user_id(),
        name: name.to_owned(),
        display_name: display_name.to_owned(),
        email: email.to_owned(),
        mobile_phone: phone.to_owned(),
        comments: comments.to_owned(),
        created_ms: ctx.now_ms,
        updated_ms: ctx.now_ms,
    };
    match ctx.store().create_user(user.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(errors::user_exists()),
        Err(e) => return Err(internal(e)),
    }
    reply(&UserReply {
        user: UserView::new(&user, false),
    })
}

pub async fn get_user(ctx: &Ctx<'_>) -> Reply {
    let user = load_user(ctx, user_name(ctx)?).await?;
    reply(&UserReply {
        user: UserView::new(&user, true),
    })
}

pub async fn list_users(ctx: &Ctx<'_>) -> Reply {
    let (marker, max) = paging(ctx)?;
    let page = ctx
        .store()
        .list_users(&ctx.caller.account_id, marker, max)
        .await
        .map_err(internal)?;
    reply(&ListUsersReply {
        is_truncated: page.next_marker.is_some(),
        marker: page.next_marker,
        users: UserList {
            user: page.items.iter().map(|u| UserView::new(u, true)).collect(),
        },
    })
}

pub async fn update_user(ctx: &Ctx<'_>) -> Reply {
    let name = user_name(ctx)?;
    let new_name = match ctx.opt("NewUserName") {
        Some(n) => {
            check_name(n, "NewUserName", 64, user_char)?;
            Some(n.to_owned())
        }
        None => None,
    };
    let update = UserUpdate {
        name: new_name,
        display_name: display_name_param(ctx, "NewDisplayName")?.map(str::to_owned),
        email: email_param(ctx, "NewEmail")?.map(str::to_owned),
        mobile_phone: phone_param(ctx, "NewMobilePhone")?.map(str::to_owned),
        comments: text_param(ctx, "NewComments", 128)?.map(str::to_owned),
        updated_ms: ctx.now_ms,
    };
    let user = match ctx
        .store()
        .update_user(&ctx.caller.account_id, name, update)
        .await
    {
        Ok(u) => u,
        Err(StoreError::AlreadyExists) => return Err(errors::user_exists()),
        Err(e) => return Err(store_error(e, errors::user_not_found)),
    };
    reply(&UserReply {
        user: UserView::new(&user, true),
    })
}

pub async fn delete_user(ctx: &Ctx<'_>) -> Reply {
    let name = user_name(ctx)?;
    ctx.store()
        .delete_user(&ctx.caller.account_id, name)
        .await
        .map_err(|e| store_error(e, errors::user_not_found))?;
    reply(&Empty {})
}

// ---- access keys -----------------------------------------------------------

pub async fn create_access_key(ctx: &Ctx<'_>) -> Reply {
    let owner = key_owner(ctx)?;
    load_user(ctx, &owner).await?;
    let id = keys::generate_access_key_id();
    let secret = keys::generate_access_key_secret();
    let key = AccessKeyRecord {
        id: id.clone(),
        account_id: ctx.caller.account_id.clone(),
        principal: owner,
        secret: ctx
            .secrets()
            .seal(secret.expose(), &crate::auth::key_aad(&id)),
        status: "Active".into(),
        created_ms: ctx.now_ms,
    };
    match ctx
        .store()
        .create_user_access_key(key, MAX_KEYS_PER_USER)
        .await
    {
        Ok(()) => {}
        Err(StoreError::QuotaExceeded { .. }) => return Err(errors::access_key_limit()),
        Err(e) => return Err(store_error(e, errors::user_not_found)),
    }
    reply(&CreateAccessKeyReply {
        access_key: NewAccessKey {
            access_key_id: id,
            access_key_secret: secret.expose().to_owned(),
            create_date: super::iso8601(ctx.now_ms),
            status: "Active".into(),
        },
    })
}

pub async fn list_access_keys(ctx: &Ctx<'_>) -> Reply {
    let owner = key_owner(ctx)?;
    load_user(ctx, &owner).await?;
    let keys = ctx
        .store()
        .list_access_keys(&ctx.caller.account_id, &owner)
        .await
        .map_err(internal)?;
    reply(&ListAccessKeysReply {
        access_keys: AccessKeyList {
            access_key: keys
                .iter()
                .map(|k| AccessKeyView {
                    access_key_id: k.id.clone(),
                    create_date: super::iso8601(k.created_ms),
                    status: k.status.clone(),
                })
                .collect(),
        },
    })
}

pub async fn update_access_key(ctx: &Ctx<'_>) -> Reply {
    let owner = key_owner(ctx)?;
    let key_id = ctx.params.required("UserAccessKeyId")?;
    let status = ctx.params.required("Status")?;
    if !matches!(status, "Active" | "Inactive") {
        return Err(ApiError::invalid_parameter("Status"));
    }
    load_user(ctx, &owner).await?;
    ctx.store()
        .set_access_key_status(&ctx.caller.account_id, &owner, key_id, status)
        .await
        .map_err(|e| store_error(e, errors::access_key_not_found))?;
    reply(&Empty {})
}

pub async fn delete_access_key(ctx: &Ctx<'_>) -> Reply {
    let owner = key_owner(ctx)?;
    let key_id = ctx.params.required("UserAccessKeyId")?;
    load_user(ctx, &owner).await?;
    ctx.store()
        .delete_access_key(&ctx.caller.account_id, &owner, key_id)
        .await
        .map_err(|e| store_error(e, errors::access_key_not_found))?;
    reply(&Empty {})
}

// ---- groups ----------------------------------------------------------------

fn group_name<'a>(ctx: &Ctx<'a>) -> Result<&'a str, ApiError> {
    name_param(ctx, "GroupName", 64, group_char)
}

pub async fn create_group(ctx: &Ctx<'_>) -> Reply {
    let name = group_name(ctx)?;
    let comments = text_param(ctx, "Comments", 128)?.unwrap_or("");
    let group = GroupRecord {
        account_id: ctx.caller.account_id.clone(),
        group_id: format!("g-{}", keys::generate_numeric_id(16)),
        name: name.to_owned(),
        comments: comments.to_owned(),
        created_ms: ctx.now_ms,
        updated_ms: ctx.now_ms,
    };
    match ctx.store().create_group(group.clone()).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(errors::group_exists()),
        Err(e) => return Err(internal(e)),
    }
    reply(&GroupReply {
        group: GroupView::new(&group, false),
    })
}

pub async fn get_group(ctx: &Ctx<'_>) -> Reply {
    let name = group_name(ctx)?;
    let group = ctx
        .store()
        .get_group(&ctx.caller.account_id, name)
        .await
        .map_err(internal)?
        .ok_or_else(errors::group_not_found)?;
    reply(&GroupReply {
        group: GroupView::new(&group, true),
    })
}

pub async fn delete_group(ctx: &Ctx<'_>) -> Reply {
    let name = group_name(ctx)?;
    ctx.store()
        .delete_group(&ctx.caller.account_id, name)
        .await
        .map_err(|e| store_error(e, errors::group_not_found))?;
    reply(&Empty {})
}

pub async fn add_user_to_group(ctx: &Ctx<'_>) -> Reply {
    let group = group_name(ctx)?;
    let user = user_name(ctx)?;
    match ctx
        .store()
        .add_user_to_group(
            &ctx.caller.account_id,
            group,
            user,
            ctx.now_ms,
            MAX_GROUPS_PER_USER,
        )
        .await
    {
        Ok(()) => reply(&Empty {}),
        Err(StoreError::AlreadyExists) => Err(errors::already_member()),
        Err(StoreError::QuotaExceeded { .. }) => Err(errors::groups_per_user_limit()),
        Err(e) => Err(store_error(e, errors::group_not_found)),
    }
}

pub async fn remove_user_from_group(ctx: &Ctx<'_>) -> Reply {
    let group = group_name(ctx)?;
    let user = user_name(ctx)?;
    ctx.store()
        .remove_user_from_group(&ctx.caller.account_id, group, user)
        .await
        .map_err(|e| store_error(e, errors::not_member))?;
    reply(&Empty {})
}

pub async fn list_groups_for_user(ctx: &Ctx<'_>) -> Reply {
    let user = user_name(ctx)?;
    let groups = ctx
        .store()
        .list_groups_for_user(&ctx.caller.account_id, user)
        .await
        .map_err(|e| store_error(e, errors::user_not_found))?;
    reply(&ListGroupsForUserReply {
        groups: MemberGroupList {
            group: groups
                .iter()
                .map(|m| MemberGroupView {
                    group_id: m.group.group_id.clone(),
                    group_name: m.group.name.clone(),
                    comments: m.group.comments.clone(),
                    join_date: super::iso8601(m.joined_ms),
                })
                .collect(),
        },
    })
}
