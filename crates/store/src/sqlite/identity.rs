//! The SQL behind RAM identities, policies, attachments and STS credentials
//! (tables of migration step 2). Writes run inside the writer's transaction,
//! so each function's checks and changes are atomic.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    AccessKeyRecord, StoreError,
    identity::{
        AttachTarget, Attachment, Dependent, EffectivePolicy, GroupRecord, MarkerPage, Membership,
        PolicyKind, PolicyRecord, PolicyVersionRecord, PrincipalKind, RoleRecord,
        StsCredentialRecord, UserRecord, UserUpdate,
    },
    ram_rules::{self, By, Dialect, Rows, check_quota},
};

fn is_constraint(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

/// Maps a UNIQUE violation to `AlreadyExists`.
fn unique<T>(r: rusqlite::Result<T>) -> Result<T, StoreError> {
    r.map_err(|e| {
        if is_constraint(&e) {
            StoreError::AlreadyExists
        } else {
            e.into()
        }
    })
}

fn exists(c: &Connection, sql: &str, args: impl rusqlite::Params) -> Result<bool, StoreError> {
    Ok(c.query_row(sql, args, |_| Ok(())).optional()?.is_some())
}

/// The number of `rows` of the entity (`ram_rules`: account, then id or name).
fn count(c: &Connection, rows: &Rows, account: &str, entity: &str) -> Result<i64, StoreError> {
    Ok(c.query_row(
        &rows.count_sql(Dialect::Sqlite),
        params![account, entity],
        |r| r.get(0),
    )?)
}

/// Deletes a user, group or role by the rules of `ram_rules`: refused while
/// anything blocks it, and what belongs to it goes along.
pub fn delete_principal(
    c: &Connection,
    kind: PrincipalKind,
    account: &str,
    name: &str,
) -> Result<(), StoreError> {
    let Some(id) = principal_id(c, account, kind, name)? else {
        return Err(StoreError::NotFound);
    };
    let rules = ram_rules::principal_delete(kind);
    let entity = |rows: &Rows| match rows.by {
        By::Id => id.as_str(),
        By::Name => name,
    };
    for (rows, dependent) in rules.blockers {
        if count(c, rows, account, entity(rows))? > 0 {
            return Err(StoreError::InUse(*dependent));
        }
    }
    for rows in std::iter::once(&rules.row).chain(rules.cascade) {
        c.execute(
            &rows.delete_sql(Dialect::Sqlite),
            params![account, entity(rows)],
        )?;
    }
    Ok(())
}

// ---- users ----------------------------------------------------------------

const USER_COLUMNS: &str = "account_id, user_id, name, display_name, email, mobile_phone, \
                            comments, created_ms, updated_ms";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        account_id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        display_name: r.get(3)?,
        email: r.get(4)?,
        mobile_phone: r.get(5)?,
        comments: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
    })
}

pub fn create_user(c: &Connection, u: &UserRecord) -> Result<(), StoreError> {
    unique(c.execute(
        &format!("INSERT INTO ram_users ({USER_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![
            u.account_id,
            u.user_id,
            u.name,
            u.display_name,
            u.email,
            u.mobile_phone,
            u.comments,
            u.created_ms,
            u.updated_ms
        ],
    ))?;
    Ok(())
}

pub fn get_user(
    c: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<UserRecord>, StoreError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {USER_COLUMNS} FROM ram_users WHERE account_id = ?1 AND name = ?2"
    ))?
    .query_row(params![account, name], user_from_row)
    .optional()?)
}

fn user_id(c: &Connection, account: &str, name: &str) -> Result<Option<String>, StoreError> {
    Ok(c.query_row(
        "SELECT user_id FROM ram_users WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

/// Markers are the internal sequence number of the last item returned.
fn parse_marker(marker: Option<&str>) -> i64 {
    marker.and_then(|m| m.parse::<i64>().ok()).unwrap_or(0)
}

pub fn list_users(
    c: &Connection,
    account: &str,
    marker: Option<&str>,
    limit: u32,
) -> Result<MarkerPage<UserRecord>, StoreError> {
    let after = parse_marker(marker);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {USER_COLUMNS}, seq FROM ram_users WHERE account_id = ?1 AND seq > ?2 \
         ORDER BY seq LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![account, after, i64::from(limit) + 1], |r| {
            Ok((user_from_row(r)?, r.get::<_, i64>(9)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(rows, limit))
}

fn page<T>(mut rows: Vec<(T, i64)>, limit: u32) -> MarkerPage<T> {
    let limit = limit as usize;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_marker = if more {
        rows.last().map(|(_, seq)| seq.to_string())
    } else {
        None
    };
    MarkerPage {
        items: rows.into_iter().map(|(v, _)| v).collect(),
        next_marker,
    }
}

pub fn update_user(
    c: &Connection,
    account: &str,
    name: &str,
    up: &UserUpdate,
) -> Result<UserRecord, StoreError> {
    let Some(mut user) = get_user(c, account, name)? else {
        return Err(StoreError::NotFound);
    };
    if let Some(v) = &up.display_name {
        user.display_name = v.clone();
    }
    if let Some(v) = &up.email {
        user.email = v.clone();
    }
    if let Some(v) = &up.mobile_phone {
        user.mobile_phone = v.clone();
    }
    if let Some(v) = &up.comments {
        user.comments = v.clone();
    }
    user.updated_ms = up.updated_ms;
    if let Some(new_name) = up.name.as_ref().filter(|n| n.as_str() != name) {
        user.name = new_name.clone();
        // The user's keys carry its name as their principal.
        c.execute(
            "UPDATE access_keys SET principal = ?1 WHERE account_id = ?2 AND principal = ?3",
            params![new_name, account, name],
        )?;
    }
    unique(c.execute(
        "UPDATE ram_users SET name = ?1, display_name = ?2, email = ?3, mobile_phone = ?4, \
         comments = ?5, updated_ms = ?6 WHERE account_id = ?7 AND user_id = ?8",
        params![
            user.name,
            user.display_name,
            user.email,
            user.mobile_phone,
            user.comments,
            user.updated_ms,
            account,
            user.user_id
        ],
    ))?;
    Ok(user)
}

// ---- access keys of users --------------------------------------------------

fn key_from_row(r: &Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        id: r.get(0)?,
        account_id: r.get(1)?,
        principal: r.get(2)?,
        secret: r.get(3)?,
        status: r.get(4)?,
        created_ms: r.get(5)?,
    })
}

pub fn create_user_access_key(
    c: &Connection,
    key: &AccessKeyRecord,
    max_per_user: u32,
) -> Result<(), StoreError> {
    if user_id(c, &key.account_id, &key.principal)?.is_none() {
        return Err(StoreError::MissingLink("user".into()));
    }
    check_quota(
        count(
            c,
            &ram_rules::ACCESS_KEYS_OF_USER,
            &key.account_id,
            &key.principal,
        )?,
        max_per_user,
    )?;
    super::queries::insert_access_key(c, key)
}

pub fn list_access_keys(
    c: &Connection,
    account: &str,
    principal: &str,
) -> Result<Vec<AccessKeyRecord>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id, account_id, principal, secret, status, created_ms FROM access_keys \
         WHERE account_id = ?1 AND principal = ?2 ORDER BY created_ms, id",
    )?;
    let rows = stmt
        .query_map(params![account, principal], key_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn set_access_key_status(
    c: &Connection,
    account: &str,
    principal: &str,
    key_id: &str,
    status: &str,
) -> Result<(), StoreError> {
    let n = c.execute(
        "UPDATE access_keys SET status = ?1 WHERE id = ?2 AND account_id = ?3 AND principal = ?4",
        params![status, key_id, account, principal],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn delete_access_key(
    c: &Connection,
    account: &str,
    principal: &str,
    key_id: &str,
) -> Result<(), StoreError> {
    let n = c.execute(
        "DELETE FROM access_keys WHERE id = ?1 AND account_id = ?2 AND principal = ?3",
        params![key_id, account, principal],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

// ---- groups ----------------------------------------------------------------

const GROUP_COLUMNS: &str = "account_id, group_id, name, comments, created_ms, updated_ms";

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<GroupRecord> {
    Ok(GroupRecord {
        account_id: r.get(0)?,
        group_id: r.get(1)?,
        name: r.get(2)?,
        comments: r.get(3)?,
        created_ms: r.get(4)?,
        updated_ms: r.get(5)?,
    })
}

pub fn create_group(c: &Connection, g: &GroupRecord) -> Result<(), StoreError> {
    unique(c.execute(
        &format!("INSERT INTO ram_groups ({GROUP_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6)"),
        params![
            g.account_id,
            g.group_id,
            g.name,
            g.comments,
            g.created_ms,
            g.updated_ms
        ],
    ))?;
    Ok(())
}

pub fn get_group(
    c: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<GroupRecord>, StoreError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {GROUP_COLUMNS} FROM ram_groups WHERE account_id = ?1 AND name = ?2"
    ))?
    .query_row(params![account, name], group_from_row)
    .optional()?)
}

fn group_id(c: &Connection, account: &str, name: &str) -> Result<Option<String>, StoreError> {
    Ok(c.query_row(
        "SELECT group_id FROM ram_groups WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

pub fn add_user_to_group(
    c: &Connection,
    account: &str,
    group: &str,
    user: &str,
    joined_ms: i64,
    max_groups_per_user: u32,
) -> Result<(), StoreError> {
    let Some(uid) = user_id(c, account, user)? else {
        return Err(StoreError::MissingLink("user".into()));
    };
    let Some(gid) = group_id(c, account, group)? else {
        return Err(StoreError::MissingLink("group".into()));
    };
    if exists(
        c,
        "SELECT 1 FROM ram_group_members WHERE account_id = ?1 AND group_id = ?2 AND user_id = ?3",
        params![account, gid, uid],
    )? {
        return Err(StoreError::AlreadyExists);
    }
    check_quota(
        count(c, &ram_rules::GROUPS_OF_USER, account, &uid)?,
        max_groups_per_user,
    )?;
    unique(c.execute(
        "INSERT INTO ram_group_members (account_id, group_id, user_id, joined_ms) \
         VALUES (?1, ?2, ?3, ?4)",
        params![account, gid, uid, joined_ms],
    ))?;
    Ok(())
}

pub fn remove_user_from_group(
    c: &Connection,
    account: &str,
    group: &str,
    user: &str,
) -> Result<(), StoreError> {
    let Some(uid) = user_id(c, account, user)? else {
        return Err(StoreError::MissingLink("user".into()));
    };
    let Some(gid) = group_id(c, account, group)? else {
        return Err(StoreError::MissingLink("group".into()));
    };
    let n = c.execute(
        "DELETE FROM ram_group_members WHERE account_id = ?1 AND group_id = ?2 AND user_id = ?3",
        params![account, gid, uid],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn list_groups_for_user(
    c: &Connection,
    account: &str,
    user: &str,
) -> Result<Vec<Membership>, StoreError> {
    let Some(uid) = user_id(c, account, user)? else {
        return Err(StoreError::NotFound);
    };
    let mut stmt = c.prepare_cached(
        "SELECT g.account_id, g.group_id, g.name, g.comments, g.created_ms, g.updated_ms, \
         m.joined_ms FROM ram_group_members m JOIN ram_groups g \
         ON g.account_id = m.account_id AND g.group_id = m.group_id \
         WHERE m.account_id = ?1 AND m.user_id = ?2 ORDER BY m.joined_ms, g.name",
    )?;
    let rows = stmt
        .query_map(params![account, uid], |r| {
            Ok(Membership {
                group: group_from_row(r)?,
                joined_ms: r.get(6)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

// ---- roles -----------------------------------------------------------------

const ROLE_COLUMNS: &str = "account_id, role_id, name, description, trust_policy, \
                            max_session_duration, created_ms, updated_ms";

fn role_from_row(r: &Row<'_>) -> rusqlite::Result<RoleRecord> {
    Ok(RoleRecord {
        account_id: r.get(0)?,
        role_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        trust_policy: r.get(4)?,
        max_session_duration: r.get(5)?,
        created_ms: r.get(6)?,
        updated_ms: r.get(7)?,
    })
}

pub fn create_role(c: &Connection, role: &RoleRecord) -> Result<(), StoreError> {
    unique(c.execute(
        &format!("INSERT INTO ram_roles ({ROLE_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8)"),
        params![
            role.account_id,
            role.role_id,
            role.name,
            role.description,
            role.trust_policy,
            role.max_session_duration,
            role.created_ms,
            role.updated_ms
        ],
    ))?;
    Ok(())
}

pub fn get_role(
    c: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<RoleRecord>, StoreError> {
    Ok(c.prepare_cached(&format!(
        "SELECT {ROLE_COLUMNS} FROM ram_roles WHERE account_id = ?1 AND name = ?2"
    ))?
    .query_row(params![account, name], role_from_row)
    .optional()?)
}

pub fn list_roles(
    c: &Connection,
    account: &str,
    marker: Option<&str>,
    limit: u32,
) -> Result<MarkerPage<RoleRecord>, StoreError> {
    let after = parse_marker(marker);
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ROLE_COLUMNS}, seq FROM ram_roles WHERE account_id = ?1 AND seq > ?2 \
         ORDER BY seq LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![account, after, i64::from(limit) + 1], |r| {
            Ok((role_from_row(r)?, r.get::<_, i64>(8)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page(rows, limit))
}

fn role_id(c: &Connection, account: &str, name: &str) -> Result<Option<String>, StoreError> {
    Ok(c.query_row(
        "SELECT role_id FROM ram_roles WHERE account_id = ?1 AND name = ?2",
        params![account, name],
        |r| r.get(0),
    )
    .optional()?)
}

// ---- custom policies -------------------------------------------------------

const POLICY_SELECT: &str = "SELECT p.account_id, p.name, p.description, p.default_version, \
     (SELECT COUNT(*) FROM ram_attachments a WHERE a.account_id = p.account_id \
      AND a.policy_type = 'Custom' AND a.policy_name = p.name), \
     p.created_ms, p.updated_ms FROM ram_policies p";

fn policy_from_row(r: &Row<'_>) -> rusqlite::Result<PolicyRecord> {
    Ok(PolicyRecord {
        account_id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        default_version: r.get(3)?,
        attachment_count: r.get(4)?,
        created_ms: r.get(5)?,
        updated_ms: r.get(6)?,
    })
}

pub fn create_policy(
    c: &Connection,
    policy: &PolicyRecord,
    document: &str,
    max_policies: u32,
) -> Result<(), StoreError> {
    if max_policies > 0 {
        let policies: i64 = c.query_row(
            "SELECT COUNT(*) FROM ram_policies WHERE account_id = ?1",
            params![policy.account_id],
            |r| r.get(0),
        )?;
        check_quota(policies, max_policies)?;
    }
    unique(c.execute(
        "INSERT INTO ram_policies (account_id, name, description, default_version, next_version, \
         created_ms, updated_ms) VALUES (?1, ?2, ?3, 'v1', 2, ?4, ?5)",
        params![
            policy.account_id,
            policy.name,
            policy.description,
            policy.created_ms,
            policy.updated_ms
        ],
    ))?;
    c.execute(
        "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, document, created_ms) \
         VALUES (?1, ?2, 'v1', ?3, ?4)",
        params![policy.account_id, policy.name, document, policy.created_ms],
    )?;
    Ok(())
}

pub fn get_policy(
    c: &Connection,
    account: &str,
    name: &str,
) -> Result<Option<(PolicyRecord, PolicyVersionRecord)>, StoreError> {
    let Some(policy) = c
        .prepare_cached(&format!(
            "{POLICY_SELECT} WHERE p.account_id = ?1 AND p.name = ?2"
        ))?
        .query_row(params![account, name], policy_from_row)
        .optional()?
    else {
        return Ok(None);
    };
    let version = c.query_row(
        "SELECT version_id, document, created_ms FROM ram_policy_versions \
         WHERE account_id = ?1 AND policy_name = ?2 AND version_id = ?3",
        params![account, name, policy.default_version],
        |r| {
            Ok(PolicyVersionRecord {
                version_id: r.get(0)?,
                document: r.get(1)?,
                is_default: true,
                created_ms: r.get(2)?,
            })
        },
    )?;
    Ok(Some((policy, version)))
}

pub fn list_policies(c: &Connection, account: &str) -> Result<Vec<PolicyRecord>, StoreError> {
    let mut stmt = c.prepare_cached(&format!(
        "{POLICY_SELECT} WHERE p.account_id = ?1 ORDER BY p.seq"
    ))?;
    let rows = stmt
        .query_map(params![account], policy_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn delete_policy(
    c: &Connection,
    account: &str,
    name: &str,
    cascade: bool,
) -> Result<(), StoreError> {
    if !exists(
        c,
        "SELECT 1 FROM ram_policies WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )? {
        return Err(StoreError::NotFound);
    }
    if cascade {
        c.execute(
            "DELETE FROM ram_attachments WHERE account_id = ?1 AND policy_type = 'Custom' \
             AND policy_name = ?2",
            params![account, name],
        )?;
    } else {
        let attached: Option<String> = c
            .query_row(
                "SELECT principal_type FROM ram_attachments WHERE account_id = ?1 \
                 AND policy_type = 'Custom' AND policy_name = ?2 \
                 ORDER BY CASE principal_type WHEN 'User' THEN 0 WHEN 'Group' THEN 1 ELSE 2 END \
                 LIMIT 1",
                params![account, name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(kind) = attached {
            let kind = match kind.as_str() {
                "User" => PrincipalKind::User,
                "Group" => PrincipalKind::Group,
                _ => PrincipalKind::Role,
            };
            return Err(StoreError::InUse(Dependent::PolicyAttachment(kind)));
        }
        let versions: i64 = c.query_row(
            "SELECT COUNT(*) FROM ram_policy_versions WHERE account_id = ?1 AND policy_name = ?2",
            params![account, name],
            |r| r.get(0),
        )?;
        if versions > 1 {
            return Err(StoreError::InUse(Dependent::PolicyVersion));
        }
    }
    c.execute(
        "DELETE FROM ram_policy_versions WHERE account_id = ?1 AND policy_name = ?2",
        params![account, name],
    )?;
    c.execute(
        "DELETE FROM ram_policies WHERE account_id = ?1 AND name = ?2",
        params![account, name],
    )?;
    Ok(())
}

pub fn create_policy_version(
    c: &Connection,
    account: &str,
    name: &str,
    document: &str,
    set_default: bool,
    now_ms: i64,
    max_versions: u32,
) -> Result<PolicyVersionRecord, StoreError> {
    let Some(next) = c
        .query_row(
            "SELECT next_version FROM ram_policies WHERE account_id = ?1 AND name = ?2",
            params![account, name],
            |r| r.get::<_, i64>(0),
        )
        .optional()?
    else {
        return Err(StoreError::NotFound);
    };
    check_quota(
        count(c, &ram_rules::VERSIONS_OF_POLICY, account, name)?,
        max_versions,
    )?;
    let version_id = format!("v{next}");
    c.execute(
        "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, document, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account, name, version_id, document, now_ms],
    )?;
    if set_default {
        c.execute(
            "UPDATE ram_policies SET next_version = next_version + 1, default_version = ?1, \
             updated_ms = ?2 WHERE account_id = ?3 AND name = ?4",
            params![version_id, now_ms, account, name],
        )?;
    } else {
        c.execute(
            "UPDATE ram_policies SET next_version = next_version + 1, updated_ms = ?1 \
             WHERE account_id = ?2 AND name = ?3",
            params![now_ms, account, name],
        )?;
    }
    Ok(PolicyVersionRecord {
        version_id,
        document: document.to_owned(),
        is_default: set_default,
        created_ms: now_ms,
    })
}

// ---- attachments -----------------------------------------------------------

fn principal_id(
    c: &Connection,
    account: &str,
    kind: PrincipalKind,
    name: &str,
) -> Result<Option<String>, StoreError> {
    match kind {
        PrincipalKind::User => user_id(c, account, name),
        PrincipalKind::Group => group_id(c, account, name),
        PrincipalKind::Role => role_id(c, account, name),
    }
}

fn principal_missing(kind: PrincipalKind) -> StoreError {
    StoreError::MissingLink(kind.as_str().to_ascii_lowercase())
}

pub fn attach_policy(
    c: &Connection,
    account: &str,
    t: &AttachTarget,
    now_ms: i64,
    max_per_principal: u32,
) -> Result<(), StoreError> {
    let (kind, principal, policy_kind, policy) = (
        t.kind,
        t.principal.as_str(),
        t.policy_kind,
        t.policy.as_str(),
    );
    let Some(pid) = principal_id(c, account, kind, principal)? else {
        return Err(principal_missing(kind));
    };
    if policy_kind == PolicyKind::Custom
        && !exists(
            c,
            "SELECT 1 FROM ram_policies WHERE account_id = ?1 AND name = ?2",
            params![account, policy],
        )?
    {
        return Err(StoreError::MissingLink("policy".into()));
    }
    if exists(
        c,
        "SELECT 1 FROM ram_attachments WHERE account_id = ?1 AND principal_type = ?2 \
         AND principal_id = ?3 AND policy_type = ?4 AND policy_name = ?5",
        params![account, kind.as_str(), pid, policy_kind.as_str(), policy],
    )? {
        return Err(StoreError::AlreadyExists);
    }
    check_quota(
        count(c, &ram_rules::attachments(kind), account, &pid)?,
        max_per_principal,
    )?;
    c.execute(
        "INSERT INTO ram_attachments (account_id, principal_type, principal_id, policy_type, \
         policy_name, attached_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            account,
            kind.as_str(),
            pid,
            policy_kind.as_str(),
            policy,
            now_ms
        ],
    )?;
    Ok(())
}

pub fn detach_policy(c: &Connection, account: &str, t: &AttachTarget) -> Result<(), StoreError> {
    let (kind, principal, policy_kind, policy) = (
        t.kind,
        t.principal.as_str(),
        t.policy_kind,
        t.policy.as_str(),
    );
    let Some(pid) = principal_id(c, account, kind, principal)? else {
        return Err(principal_missing(kind));
    };
    let n = c.execute(
        "DELETE FROM ram_attachments WHERE account_id = ?1 AND principal_type = ?2 \
         AND principal_id = ?3 AND policy_type = ?4 AND policy_name = ?5",
        params![account, kind.as_str(), pid, policy_kind.as_str(), policy],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn list_attachments(
    c: &Connection,
    account: &str,
    kind: PrincipalKind,
    principal: &str,
) -> Result<Vec<Attachment>, StoreError> {
    let Some(pid) = principal_id(c, account, kind, principal)? else {
        return Err(StoreError::NotFound);
    };
    let mut stmt = c.prepare_cached(
        "SELECT a.policy_type, a.policy_name, a.attached_ms, \
         COALESCE(p.description, ''), COALESCE(p.default_version, '') \
         FROM ram_attachments a LEFT JOIN ram_policies p \
         ON a.policy_type = 'Custom' AND p.account_id = a.account_id AND p.name = a.policy_name \
         WHERE a.account_id = ?1 AND a.principal_type = ?2 AND a.principal_id = ?3 \
         ORDER BY a.attached_ms, a.policy_name",
    )?;
    let rows = stmt
        .query_map(params![account, kind.as_str(), pid], |r| {
            let t: String = r.get(0)?;
            Ok(Attachment {
                policy_kind: PolicyKind::parse(&t).unwrap_or(PolicyKind::Custom),
                policy_name: r.get(1)?,
                attached_ms: r.get(2)?,
                description: r.get(3)?,
                default_version: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The policies that apply to a user (its own and its groups') or a role,
/// with each custom policy's default document. An unknown principal has none.
pub fn effective_policies(
    c: &Connection,
    account: &str,
    kind: PrincipalKind,
    principal: &str,
) -> Result<Vec<EffectivePolicy>, StoreError> {
    let Some(pid) = principal_id(c, account, kind, principal)? else {
        return Ok(Vec::new());
    };
    let mut principals = vec![(kind, pid.clone())];
    if kind == PrincipalKind::User {
        let mut stmt = c.prepare_cached(
            "SELECT group_id FROM ram_group_members WHERE account_id = ?1 AND user_id = ?2",
        )?;
        for gid in stmt.query_map(params![account, pid], |r| r.get::<_, String>(0))? {
            principals.push((PrincipalKind::Group, gid?));
        }
    }
    let mut out: Vec<EffectivePolicy> = Vec::new();
    let mut stmt = c.prepare_cached(
        "SELECT a.policy_type, a.policy_name, v.document FROM ram_attachments a \
         LEFT JOIN ram_policies p ON a.policy_type = 'Custom' AND p.account_id = a.account_id \
           AND p.name = a.policy_name \
         LEFT JOIN ram_policy_versions v ON v.account_id = p.account_id \
           AND v.policy_name = p.name AND v.version_id = p.default_version \
         WHERE a.account_id = ?1 AND a.principal_type = ?2 AND a.principal_id = ?3",
    )?;
    for (k, id) in principals {
        let rows = stmt.query_map(params![account, k.as_str(), id], |r| {
            let t: String = r.get(0)?;
            Ok(EffectivePolicy {
                policy_kind: PolicyKind::parse(&t).unwrap_or(PolicyKind::Custom),
                policy_name: r.get(1)?,
                document: r.get(2)?,
            })
        })?;
        for p in rows {
            let p = p?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

// ---- STS -------------------------------------------------------------------

pub fn create_sts_credential(c: &Connection, rec: &StsCredentialRecord) -> Result<(), StoreError> {
    // The role must still be the one the session was granted for: a role
    // deleted (and perhaps re-created) since AssumeRole read it gets no
    // session (#13).
    if !exists(
        c,
        "SELECT 1 FROM ram_roles WHERE account_id = ?1 AND role_id = ?2",
        params![rec.account_id, rec.role_id],
    )? {
        return Err(StoreError::MissingLink("role".into()));
    }
    c.execute(
        "DELETE FROM sts_credentials WHERE expires_ms < ?1",
        params![rec.created_ms - crate::identity::STS_RETENTION_MS],
    )?;
    unique(c.execute(
        "INSERT INTO sts_credentials (access_key_id, account_id, secret, token_sha256, role_id, \
         role_name, session_name, session_policy, created_ms, expires_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            rec.access_key_id,
            rec.account_id,
            rec.secret,
            rec.token_sha256,
            rec.role_id,
            rec.role_name,
            rec.session_name,
            rec.session_policy,
            rec.created_ms,
            rec.expires_ms
        ],
    ))?;
    Ok(())
}

pub fn sts_credential(c: &Connection, id: &str) -> Result<Option<StsCredentialRecord>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT access_key_id, account_id, secret, token_sha256, role_id, role_name, \
         session_name, session_policy, created_ms, expires_ms FROM sts_credentials \
         WHERE access_key_id = ?1",
    )?
    .query_row(params![id], |r| {
        Ok(StsCredentialRecord {
            access_key_id: r.get(0)?,
            account_id: r.get(1)?,
            secret: r.get(2)?,
            token_sha256: r.get(3)?,
            role_id: r.get(4)?,
            role_name: r.get(5)?,
            session_name: r.get(6)?,
            session_policy: r.get(7)?,
            created_ms: r.get(8)?,
            expires_ms: r.get(9)?,
        })
    })
    .optional()?)
}
