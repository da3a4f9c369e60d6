//! RAM identities, policies, attachments and STS credentials (schema step 2).
//!
//! Each write's checks and changes run in one transaction. What SQLite gets
//! from its single writer, this gets from row locks taken before checking:
//! - a user, group or role row is locked `FOR UPDATE` by whatever counts or
//!   adds its dependents (access keys, memberships, attachments) and by its
//!   own delete, so "delete while a key is being added" cannot interleave;
//! - a group or custom policy that something is joined or attached to is
//!   locked `FOR SHARE`, which its delete (`FOR UPDATE`) waits for;
//! - policy versions are numbered under the policy row's `FOR UPDATE`, and
//!   the per-account policy count under an advisory lock.

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::Row;
use vpngw_store::{
    AccessKeyRecord, StoreError,
    identity::{
        AttachTarget, Attachment, Dependent, EffectivePolicy, GroupRecord, MarkerPage, Membership,
        PolicyKind, PolicyRecord, PolicyVersionRecord, PrincipalKind, RoleRecord,
        StsCredentialRecord, UserRecord, UserUpdate,
    },
    ram_rules::{self, By, Dialect, Rows, check_quota},
};

use crate::{
    Error,
    queries::{exec, lock_key, one, opt, rows, t},
};

async fn exists<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[crate::queries::Param<'_>],
) -> Result<bool, Error> {
    Ok(one(c, &format!("SELECT EXISTS ({sql})"), params)
        .await?
        .get::<_, bool>(0))
}

/// Maps a unique violation to `AlreadyExists`.
fn unique<T>(r: Result<T, Error>) -> Result<T, Error> {
    r.map_err(|e| {
        if e.is_unique_violation() {
            StoreError::AlreadyExists.into()
        } else {
            e
        }
    })
}

fn count(row: &Row) -> i64 {
    row.get(0)
}

/// The number of `rows` of the entity (`ram_rules`: account, then id or name).
async fn count_rows<C: GenericClient>(
    c: &C,
    rows: &Rows,
    account: &str,
    entity: &str,
) -> Result<i64, Error> {
    let sql = rows.count_sql(Dialect::Postgres);
    Ok(count(&one(c, &sql, &[&t(account), &t(entity)]).await?))
}

/// Deletes a user, group or role by the rules of `ram_rules`: its row is
/// locked first, so nothing can be added to it while the blockers are
/// checked; refused while anything blocks it, and what belongs to it goes
/// along.
pub async fn delete_principal(
    tx: &Transaction<'_>,
    kind: PrincipalKind,
    account: &str,
    name: &str,
) -> Result<(), Error> {
    let Some(id) = principal_id(tx, account, kind, name, Lock::Update).await? else {
        return Err(StoreError::NotFound.into());
    };
    let rules = ram_rules::principal_delete(kind);
    let entity = |rows: &Rows| match rows.by {
        By::Id => id.as_str(),
        By::Name => name,
    };
    for (rows, dependent) in rules.blockers {
        if count_rows(tx, rows, account, entity(rows)).await? > 0 {
            return Err(StoreError::InUse(*dependent).into());
        }
    }
    for rows in std::iter::once(&rules.row).chain(rules.cascade) {
        let sql = rows.delete_sql(Dialect::Postgres);
        exec(tx, &sql, &[&t(account), &t(entity(rows))]).await?;
    }
    Ok(())
}

/// How a lookup of a principal's id locks its row.
#[derive(Clone, Copy)]
enum Lock {
    None,
    Share,
    Update,
}

impl Lock {
    fn sql(self) -> &'static str {
        match self {
            Lock::None => "",
            Lock::Share => " FOR SHARE",
            Lock::Update => " FOR UPDATE",
        }
    }
}

// ---- users ----------------------------------------------------------------

const USER_COLUMNS: &str = "account_id, user_id, name, display_name, email, mobile_phone, \
                            comments, created_ms, updated_ms";

fn user_from_row(r: &Row) -> UserRecord {
    UserRecord {
        account_id: r.get(0),
        user_id: r.get(1),
        name: r.get(2),
        display_name: r.get(3),
        email: r.get(4),
        mobile_phone: r.get(5),
        comments: r.get(6),
        created_ms: r.get(7),
        updated_ms: r.get(8),
    }
}

pub async fn create_user(tx: &Transaction<'_>, u: &UserRecord) -> Result<(), Error> {
    let inserted = opt(
        tx,
        &format!(
            "INSERT INTO ram_users ({USER_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) \
             ON CONFLICT DO NOTHING RETURNING 1"
        ),
        &[
            &t(&u.account_id),
            &t(&u.user_id),
            &t(&u.name),
            &t(&u.display_name),
            &t(&u.email),
            &t(&u.mobile_phone),
            &t(&u.comments),
            &u.created_ms,
            &u.updated_ms,
        ],
    )
    .await?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::AlreadyExists.into()),
    }
}

async fn user_row<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
    lock: Lock,
) -> Result<Option<UserRecord>, Error> {
    Ok(opt(
        c,
        &format!(
            "SELECT {USER_COLUMNS} FROM ram_users WHERE account_id = $1 AND name = $2{}",
            lock.sql()
        ),
        &[&t(account), &t(name)],
    )
    .await?
    .as_ref()
    .map(user_from_row))
}

pub async fn get_user<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
) -> Result<Option<UserRecord>, Error> {
    user_row(c, account, name, Lock::None).await
}

async fn user_id<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
    lock: Lock,
) -> Result<Option<String>, Error> {
    Ok(opt(
        c,
        &format!(
            "SELECT user_id FROM ram_users WHERE account_id = $1 AND name = $2{}",
            lock.sql()
        ),
        &[&t(account), &t(name)],
    )
    .await?
    .map(|r| r.get(0)))
}

/// Markers are the internal sequence number of the last item returned.
fn parse_marker(marker: Option<&str>) -> i64 {
    marker.and_then(|m| m.parse::<i64>().ok()).unwrap_or(0)
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

pub async fn list_users<C: GenericClient>(
    c: &C,
    account: &str,
    marker: Option<&str>,
    limit: u32,
) -> Result<MarkerPage<UserRecord>, Error> {
    let found = rows(
        c,
        &format!(
            "SELECT {USER_COLUMNS}, seq FROM ram_users WHERE account_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ),
        &[&t(account), &parse_marker(marker), &(i64::from(limit) + 1)],
    )
    .await?;
    Ok(page(
        found
            .iter()
            .map(|r| (user_from_row(r), r.get::<_, i64>(9)))
            .collect(),
        limit,
    ))
}

pub async fn update_user(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    up: &UserUpdate,
) -> Result<UserRecord, Error> {
    let Some(mut user) = user_row(tx, account, name, Lock::Update).await? else {
        return Err(StoreError::NotFound.into());
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
        exec(
            tx,
            "UPDATE access_keys SET principal = $1 WHERE account_id = $2 AND principal = $3",
            &[&t(new_name), &t(account), &t(name)],
        )
        .await?;
    }
    unique(
        exec(
            tx,
            "UPDATE ram_users SET name = $1, display_name = $2, email = $3, mobile_phone = $4, \
             comments = $5, updated_ms = $6 WHERE account_id = $7 AND user_id = $8",
            &[
                &t(&user.name),
                &t(&user.display_name),
                &t(&user.email),
                &t(&user.mobile_phone),
                &t(&user.comments),
                &user.updated_ms,
                &t(account),
                &user.user_id,
            ],
        )
        .await,
    )?;
    Ok(user)
}

// ---- access keys of users --------------------------------------------------

pub async fn create_user_access_key(
    tx: &Transaction<'_>,
    key: &AccessKeyRecord,
    max_per_user: u32,
) -> Result<(), Error> {
    if user_id(tx, &key.account_id, &key.principal, Lock::Update)
        .await?
        .is_none()
    {
        return Err(StoreError::MissingLink("user".into()).into());
    }
    let keys = count_rows(
        tx,
        &ram_rules::ACCESS_KEYS_OF_USER,
        &key.account_id,
        &key.principal,
    )
    .await?;
    check_quota(keys, max_per_user)?;
    crate::queries::insert_access_key(tx, key).await
}

pub async fn list_access_keys<C: GenericClient>(
    c: &C,
    account: &str,
    principal: &str,
) -> Result<Vec<AccessKeyRecord>, Error> {
    Ok(rows(
        c,
        "SELECT id, account_id, principal, secret, status, created_ms FROM access_keys \
         WHERE account_id = $1 AND principal = $2 ORDER BY created_ms, id COLLATE \"C\"",
        &[&t(account), &t(principal)],
    )
    .await?
    .iter()
    .map(crate::queries::key_from_row)
    .collect())
}

pub async fn set_access_key_status(
    tx: &Transaction<'_>,
    account: &str,
    principal: &str,
    key_id: &str,
    status: &str,
) -> Result<(), Error> {
    let n = exec(
        tx,
        "UPDATE access_keys SET status = $1 WHERE id = $2 AND account_id = $3 AND principal = $4",
        &[&t(status), &t(key_id), &t(account), &t(principal)],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

pub async fn delete_access_key(
    tx: &Transaction<'_>,
    account: &str,
    principal: &str,
    key_id: &str,
) -> Result<(), Error> {
    let n = exec(
        tx,
        "DELETE FROM access_keys WHERE id = $1 AND account_id = $2 AND principal = $3",
        &[&t(key_id), &t(account), &t(principal)],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

// ---- groups ----------------------------------------------------------------

const GROUP_COLUMNS: &str = "account_id, group_id, name, comments, created_ms, updated_ms";

fn group_from_row(r: &Row) -> GroupRecord {
    GroupRecord {
        account_id: r.get(0),
        group_id: r.get(1),
        name: r.get(2),
        comments: r.get(3),
        created_ms: r.get(4),
        updated_ms: r.get(5),
    }
}

pub async fn create_group(tx: &Transaction<'_>, g: &GroupRecord) -> Result<(), Error> {
    let inserted = opt(
        tx,
        &format!(
            "INSERT INTO ram_groups ({GROUP_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6) \
             ON CONFLICT DO NOTHING RETURNING 1"
        ),
        &[
            &t(&g.account_id),
            &t(&g.group_id),
            &t(&g.name),
            &t(&g.comments),
            &g.created_ms,
            &g.updated_ms,
        ],
    )
    .await?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::AlreadyExists.into()),
    }
}

pub async fn get_group<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
) -> Result<Option<GroupRecord>, Error> {
    Ok(opt(
        c,
        &format!("SELECT {GROUP_COLUMNS} FROM ram_groups WHERE account_id = $1 AND name = $2"),
        &[&t(account), &t(name)],
    )
    .await?
    .as_ref()
    .map(group_from_row))
}

async fn group_id<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
    lock: Lock,
) -> Result<Option<String>, Error> {
    Ok(opt(
        c,
        &format!(
            "SELECT group_id FROM ram_groups WHERE account_id = $1 AND name = $2{}",
            lock.sql()
        ),
        &[&t(account), &t(name)],
    )
    .await?
    .map(|r| r.get(0)))
}

pub async fn add_user_to_group(
    tx: &Transaction<'_>,
    account: &str,
    group: &str,
    user: &str,
    joined_ms: i64,
    max_groups_per_user: u32,
) -> Result<(), Error> {
    let Some(uid) = user_id(tx, account, user, Lock::Update).await? else {
        return Err(StoreError::MissingLink("user".into()).into());
    };
    let Some(gid) = group_id(tx, account, group, Lock::Share).await? else {
        return Err(StoreError::MissingLink("group".into()).into());
    };
    if exists(
        tx,
        "SELECT 1 FROM ram_group_members WHERE account_id = $1 AND group_id = $2 AND user_id = $3",
        &[&t(account), &gid, &uid],
    )
    .await?
    {
        return Err(StoreError::AlreadyExists.into());
    }
    let groups = count_rows(tx, &ram_rules::GROUPS_OF_USER, account, &uid).await?;
    check_quota(groups, max_groups_per_user)?;
    unique(
        exec(
            tx,
            "INSERT INTO ram_group_members (account_id, group_id, user_id, joined_ms) \
             VALUES ($1, $2, $3, $4)",
            &[&t(account), &gid, &uid, &joined_ms],
        )
        .await,
    )?;
    Ok(())
}

pub async fn remove_user_from_group(
    tx: &Transaction<'_>,
    account: &str,
    group: &str,
    user: &str,
) -> Result<(), Error> {
    let Some(uid) = user_id(tx, account, user, Lock::None).await? else {
        return Err(StoreError::MissingLink("user".into()).into());
    };
    let Some(gid) = group_id(tx, account, group, Lock::None).await? else {
        return Err(StoreError::MissingLink("group".into()).into());
    };
    let n = exec(
        tx,
        "DELETE FROM ram_group_members WHERE account_id = $1 AND group_id = $2 AND user_id = $3",
        &[&t(account), &gid, &uid],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

pub async fn list_groups_for_user<C: GenericClient>(
    c: &C,
    account: &str,
    user: &str,
) -> Result<Vec<Membership>, Error> {
    let Some(uid) = user_id(c, account, user, Lock::None).await? else {
        return Err(StoreError::NotFound.into());
    };
    Ok(rows(
        c,
        "SELECT g.account_id, g.group_id, g.name, g.comments, g.created_ms, g.updated_ms, \
         m.joined_ms FROM ram_group_members m JOIN ram_groups g \
         ON g.account_id = m.account_id AND g.group_id = m.group_id \
         WHERE m.account_id = $1 AND m.user_id = $2 ORDER BY m.joined_ms, g.name COLLATE \"C\"",
        &[&t(account), &uid],
    )
    .await?
    .iter()
    .map(|r| Membership {
        group: group_from_row(r),
        joined_ms: r.get(6),
    })
    .collect())
}

// ---- roles -----------------------------------------------------------------

const ROLE_COLUMNS: &str = "account_id, role_id, name, description, trust_policy, \
                            max_session_duration, created_ms, updated_ms";

fn role_from_row(r: &Row) -> RoleRecord {
    RoleRecord {
        account_id: r.get(0),
        role_id: r.get(1),
        name: r.get(2),
        description: r.get(3),
        trust_policy: r.get(4),
        max_session_duration: r.get(5),
        created_ms: r.get(6),
        updated_ms: r.get(7),
    }
}

pub async fn create_role(tx: &Transaction<'_>, role: &RoleRecord) -> Result<(), Error> {
    let inserted = opt(
        tx,
        &format!(
            "INSERT INTO ram_roles ({ROLE_COLUMNS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) \
             ON CONFLICT DO NOTHING RETURNING 1"
        ),
        &[
            &t(&role.account_id),
            &t(&role.role_id),
            &t(&role.name),
            &t(&role.description),
            &t(&role.trust_policy),
            &role.max_session_duration,
            &role.created_ms,
            &role.updated_ms,
        ],
    )
    .await?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::AlreadyExists.into()),
    }
}

pub async fn get_role<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
) -> Result<Option<RoleRecord>, Error> {
    Ok(opt(
        c,
        &format!("SELECT {ROLE_COLUMNS} FROM ram_roles WHERE account_id = $1 AND name = $2"),
        &[&t(account), &t(name)],
    )
    .await?
    .as_ref()
    .map(role_from_row))
}

pub async fn list_roles<C: GenericClient>(
    c: &C,
    account: &str,
    marker: Option<&str>,
    limit: u32,
) -> Result<MarkerPage<RoleRecord>, Error> {
    let found = rows(
        c,
        &format!(
            "SELECT {ROLE_COLUMNS}, seq FROM ram_roles WHERE account_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3"
        ),
        &[&t(account), &parse_marker(marker), &(i64::from(limit) + 1)],
    )
    .await?;
    Ok(page(
        found
            .iter()
            .map(|r| (role_from_row(r), r.get::<_, i64>(8)))
            .collect(),
        limit,
    ))
}

async fn role_id<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
    lock: Lock,
) -> Result<Option<String>, Error> {
    Ok(opt(
        c,
        &format!(
            "SELECT role_id FROM ram_roles WHERE account_id = $1 AND name = $2{}",
            lock.sql()
        ),
        &[&t(account), &t(name)],
    )
    .await?
    .map(|r| r.get(0)))
}

// ---- custom policies -------------------------------------------------------

const POLICY_SELECT: &str = "SELECT p.account_id, p.name, p.description, p.default_version, \
     (SELECT COUNT(*) FROM ram_attachments a WHERE a.account_id = p.account_id \
      AND a.policy_type = 'Custom' AND a.policy_name = p.name), \
     p.created_ms, p.updated_ms FROM ram_policies p";

fn policy_from_row(r: &Row) -> PolicyRecord {
    PolicyRecord {
        account_id: r.get(0),
        name: r.get(1),
        description: r.get(2),
        default_version: r.get(3),
        attachment_count: r.get(4),
        created_ms: r.get(5),
        updated_ms: r.get(6),
    }
}

/// Whether the custom policy exists, locking its row as asked.
async fn policy_exists(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    lock: Lock,
) -> Result<bool, Error> {
    exists(
        tx,
        &format!(
            "SELECT 1 FROM ram_policies WHERE account_id = $1 AND name = $2{}",
            lock.sql()
        ),
        &[&t(account), &t(name)],
    )
    .await
}

pub async fn create_policy(
    tx: &Transaction<'_>,
    policy: &PolicyRecord,
    document: &str,
    max_policies: u32,
) -> Result<(), Error> {
    let account = t(&policy.account_id);
    if max_policies > 0 {
        lock_key(tx, &format!("ram_policies/{account}")).await?;
        let n = count(
            &one(
                tx,
                "SELECT COUNT(*) FROM ram_policies WHERE account_id = $1",
                &[&account],
            )
            .await?,
        );
        check_quota(n, max_policies)?;
    }
    let inserted = opt(
        tx,
        "INSERT INTO ram_policies (account_id, name, description, default_version, next_version, \
         created_ms, updated_ms) VALUES ($1, $2, $3, 'v1', 2, $4, $5) \
         ON CONFLICT DO NOTHING RETURNING 1",
        &[
            &account,
            &t(&policy.name),
            &t(&policy.description),
            &policy.created_ms,
            &policy.updated_ms,
        ],
    )
    .await?;
    if inserted.is_none() {
        return Err(StoreError::AlreadyExists.into());
    }
    exec(
        tx,
        "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, document, created_ms) \
         VALUES ($1, $2, 'v1', $3, $4)",
        &[&account, &t(&policy.name), &t(document), &policy.created_ms],
    )
    .await?;
    Ok(())
}

pub async fn get_policy<C: GenericClient>(
    c: &C,
    account: &str,
    name: &str,
) -> Result<Option<(PolicyRecord, PolicyVersionRecord)>, Error> {
    let Some(policy) = opt(
        c,
        &format!("{POLICY_SELECT} WHERE p.account_id = $1 AND p.name = $2"),
        &[&t(account), &t(name)],
    )
    .await?
    .as_ref()
    .map(policy_from_row) else {
        return Ok(None);
    };
    let v = one(
        c,
        "SELECT version_id, document, created_ms FROM ram_policy_versions \
         WHERE account_id = $1 AND policy_name = $2 AND version_id = $3",
        &[&t(account), &t(name), &policy.default_version],
    )
    .await?;
    let version = PolicyVersionRecord {
        version_id: v.get(0),
        document: v.get(1),
        is_default: true,
        created_ms: v.get(2),
    };
    Ok(Some((policy, version)))
}

pub async fn list_policies<C: GenericClient>(
    c: &C,
    account: &str,
) -> Result<Vec<PolicyRecord>, Error> {
    Ok(rows(
        c,
        &format!("{POLICY_SELECT} WHERE p.account_id = $1 ORDER BY p.seq"),
        &[&t(account)],
    )
    .await?
    .iter()
    .map(policy_from_row)
    .collect())
}

pub async fn delete_policy(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    cascade: bool,
) -> Result<(), Error> {
    let (account, name) = (t(account), t(name));
    if !policy_exists(tx, &account, &name, Lock::Update).await? {
        return Err(StoreError::NotFound.into());
    }
    if cascade {
        exec(
            tx,
            "DELETE FROM ram_attachments WHERE account_id = $1 AND policy_type = 'Custom' \
             AND policy_name = $2",
            &[&account, &name],
        )
        .await?;
    } else {
        let attached: Option<String> = opt(
            tx,
            "SELECT principal_type FROM ram_attachments WHERE account_id = $1 \
             AND policy_type = 'Custom' AND policy_name = $2 \
             ORDER BY CASE principal_type WHEN 'User' THEN 0 WHEN 'Group' THEN 1 ELSE 2 END \
             LIMIT 1",
            &[&account, &name],
        )
        .await?
        .map(|r| r.get(0));
        if let Some(kind) = attached {
            let kind = match kind.as_str() {
                "User" => PrincipalKind::User,
                "Group" => PrincipalKind::Group,
                _ => PrincipalKind::Role,
            };
            return Err(StoreError::InUse(Dependent::PolicyAttachment(kind)).into());
        }
        let versions = count(
            &one(
                tx,
                "SELECT COUNT(*) FROM ram_policy_versions WHERE account_id = $1 \
                 AND policy_name = $2",
                &[&account, &name],
            )
            .await?,
        );
        if versions > 1 {
            return Err(StoreError::InUse(Dependent::PolicyVersion).into());
        }
    }
    exec(
        tx,
        "DELETE FROM ram_policy_versions WHERE account_id = $1 AND policy_name = $2",
        &[&account, &name],
    )
    .await?;
    exec(
        tx,
        "DELETE FROM ram_policies WHERE account_id = $1 AND name = $2",
        &[&account, &name],
    )
    .await?;
    Ok(())
}

pub async fn create_policy_version(
    tx: &Transaction<'_>,
    account: &str,
    name: &str,
    document: &str,
    set_default: bool,
    now_ms: i64,
    max_versions: u32,
) -> Result<PolicyVersionRecord, Error> {
    let (account, name) = (t(account), t(name));
    // The policy row's lock numbers versions one at a time.
    let Some(next) = opt(
        tx,
        "SELECT next_version FROM ram_policies WHERE account_id = $1 AND name = $2 FOR UPDATE",
        &[&account, &name],
    )
    .await?
    .map(|r| r.get::<_, i64>(0)) else {
        return Err(StoreError::NotFound.into());
    };
    let versions = count_rows(tx, &ram_rules::VERSIONS_OF_POLICY, &account, &name).await?;
    check_quota(versions, max_versions)?;
    let version_id = format!("v{next}");
    exec(
        tx,
        "INSERT INTO ram_policy_versions (account_id, policy_name, version_id, document, created_ms) \
         VALUES ($1, $2, $3, $4, $5)",
        &[&account, &name, &version_id, &t(document), &now_ms],
    )
    .await?;
    if set_default {
        exec(
            tx,
            "UPDATE ram_policies SET next_version = next_version + 1, default_version = $1, \
             updated_ms = $2 WHERE account_id = $3 AND name = $4",
            &[&version_id, &now_ms, &account, &name],
        )
        .await?;
    } else {
        exec(
            tx,
            "UPDATE ram_policies SET next_version = next_version + 1, updated_ms = $1 \
             WHERE account_id = $2 AND name = $3",
            &[&now_ms, &account, &name],
        )
        .await?;
    }
    Ok(PolicyVersionRecord {
        version_id,
        document: document.to_owned(),
        is_default: set_default,
        created_ms: now_ms,
    })
}

// ---- attachments -----------------------------------------------------------

async fn principal_id<C: GenericClient>(
    c: &C,
    account: &str,
    kind: PrincipalKind,
    name: &str,
    lock: Lock,
) -> Result<Option<String>, Error> {
    match kind {
        PrincipalKind::User => user_id(c, account, name, lock).await,
        PrincipalKind::Group => group_id(c, account, name, lock).await,
        PrincipalKind::Role => role_id(c, account, name, lock).await,
    }
}

fn principal_missing(kind: PrincipalKind) -> Error {
    StoreError::MissingLink(kind.as_str().to_ascii_lowercase()).into()
}

pub async fn attach_policy(
    tx: &Transaction<'_>,
    account: &str,
    target: &AttachTarget,
    now_ms: i64,
    max_per_principal: u32,
) -> Result<(), Error> {
    let account = t(account);
    let policy = t(&target.policy);
    let Some(pid) =
        principal_id(tx, &account, target.kind, &target.principal, Lock::Update).await?
    else {
        return Err(principal_missing(target.kind));
    };
    if target.policy_kind == PolicyKind::Custom
        && !policy_exists(tx, &account, &policy, Lock::Share).await?
    {
        return Err(StoreError::MissingLink("policy".into()).into());
    }
    if exists(
        tx,
        "SELECT 1 FROM ram_attachments WHERE account_id = $1 AND principal_type = $2 \
         AND principal_id = $3 AND policy_type = $4 AND policy_name = $5",
        &[
            &account,
            &target.kind.as_str(),
            &pid,
            &target.policy_kind.as_str(),
            &policy,
        ],
    )
    .await?
    {
        return Err(StoreError::AlreadyExists.into());
    }
    let attached = count_rows(tx, &ram_rules::attachments(target.kind), &account, &pid).await?;
    check_quota(attached, max_per_principal)?;
    unique(
        exec(
            tx,
            "INSERT INTO ram_attachments (account_id, principal_type, principal_id, policy_type, \
             policy_name, attached_ms) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &account,
                &target.kind.as_str(),
                &pid,
                &target.policy_kind.as_str(),
                &policy,
                &now_ms,
            ],
        )
        .await,
    )?;
    Ok(())
}

pub async fn detach_policy(
    tx: &Transaction<'_>,
    account: &str,
    target: &AttachTarget,
) -> Result<(), Error> {
    let account = t(account);
    let Some(pid) = principal_id(tx, &account, target.kind, &target.principal, Lock::None).await?
    else {
        return Err(principal_missing(target.kind));
    };
    let n = exec(
        tx,
        "DELETE FROM ram_attachments WHERE account_id = $1 AND principal_type = $2 \
         AND principal_id = $3 AND policy_type = $4 AND policy_name = $5",
        &[
            &account,
            &target.kind.as_str(),
            &pid,
            &target.policy_kind.as_str(),
            &t(&target.policy),
        ],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

pub async fn list_attachments<C: GenericClient>(
    c: &C,
    account: &str,
    kind: PrincipalKind,
    principal: &str,
) -> Result<Vec<Attachment>, Error> {
    let Some(pid) = principal_id(c, account, kind, principal, Lock::None).await? else {
        return Err(StoreError::NotFound.into());
    };
    Ok(rows(
        c,
        "SELECT a.policy_type, a.policy_name, a.attached_ms, \
         COALESCE(p.description, ''), COALESCE(p.default_version, '') \
         FROM ram_attachments a LEFT JOIN ram_policies p \
         ON a.policy_type = 'Custom' AND p.account_id = a.account_id AND p.name = a.policy_name \
         WHERE a.account_id = $1 AND a.principal_type = $2 AND a.principal_id = $3 \
         ORDER BY a.attached_ms, a.policy_name COLLATE \"C\"",
        &[&t(account), &kind.as_str(), &pid],
    )
    .await?
    .iter()
    .map(|r| {
        let policy_type: String = r.get(0);
        Attachment {
            policy_kind: PolicyKind::parse(&policy_type).unwrap_or(PolicyKind::Custom),
            policy_name: r.get(1),
            attached_ms: r.get(2),
            description: r.get(3),
            default_version: r.get(4),
        }
    })
    .collect())
}

/// The policies that apply to a user (its own and its groups') or a role,
/// with each custom policy's default document. An unknown principal has none.
pub async fn effective_policies<C: GenericClient>(
    c: &C,
    account: &str,
    kind: PrincipalKind,
    principal: &str,
) -> Result<Vec<EffectivePolicy>, Error> {
    let account = t(account);
    let Some(pid) = principal_id(c, &account, kind, principal, Lock::None).await? else {
        return Ok(Vec::new());
    };
    let mut principals = vec![(kind, pid.clone())];
    if kind == PrincipalKind::User {
        for r in rows(
            c,
            "SELECT group_id FROM ram_group_members WHERE account_id = $1 AND user_id = $2",
            &[&account, &pid],
        )
        .await?
        {
            principals.push((PrincipalKind::Group, r.get(0)));
        }
    }
    let mut out: Vec<EffectivePolicy> = Vec::new();
    for (k, id) in principals {
        let found = rows(
            c,
            "SELECT a.policy_type, a.policy_name, v.document FROM ram_attachments a \
             LEFT JOIN ram_policies p ON a.policy_type = 'Custom' \
               AND p.account_id = a.account_id AND p.name = a.policy_name \
             LEFT JOIN ram_policy_versions v ON v.account_id = p.account_id \
               AND v.policy_name = p.name AND v.version_id = p.default_version \
             WHERE a.account_id = $1 AND a.principal_type = $2 AND a.principal_id = $3",
            &[&account, &k.as_str(), &id],
        )
        .await?;
        for r in found {
            let policy_type: String = r.get(0);
            let p = EffectivePolicy {
                policy_kind: PolicyKind::parse(&policy_type).unwrap_or(PolicyKind::Custom),
                policy_name: r.get(1),
                document: r.get(2),
            };
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    Ok(out)
}

// ---- STS -------------------------------------------------------------------

pub async fn create_sts_credential(
    tx: &Transaction<'_>,
    rec: &StsCredentialRecord,
) -> Result<(), Error> {
    // The role must still be the one the session was granted for; the
    // share lock holds a concurrent DeleteRole (which locks the row for
    // update) until this commits, and its delete then takes this session
    // with it (#13).
    if !exists(
        tx,
        "SELECT 1 FROM ram_roles WHERE account_id = $1 AND role_id = $2 FOR SHARE",
        &[&t(&rec.account_id), &t(&rec.role_id)],
    )
    .await?
    {
        return Err(StoreError::MissingLink("role".into()).into());
    }
    exec(
        tx,
        "DELETE FROM sts_credentials WHERE expires_ms < $1",
        &[&(rec.created_ms - vpngw_store::identity::STS_RETENTION_MS)],
    )
    .await?;
    let inserted = opt(
        tx,
        "INSERT INTO sts_credentials (access_key_id, account_id, secret, token_sha256, role_id, \
         role_name, session_name, session_policy, created_ms, expires_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING RETURNING 1",
        &[
            &t(&rec.access_key_id),
            &t(&rec.account_id),
            &rec.secret,
            &rec.token_sha256,
            &t(&rec.role_id),
            &t(&rec.role_name),
            &t(&rec.session_name),
            &rec.session_policy.as_deref().map(t),
            &rec.created_ms,
            &rec.expires_ms,
        ],
    )
    .await?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::AlreadyExists.into()),
    }
}

pub async fn sts_credential<C: GenericClient>(
    c: &C,
    id: &str,
) -> Result<Option<StsCredentialRecord>, Error> {
    Ok(opt(
        c,
        "SELECT access_key_id, account_id, secret, token_sha256, role_id, role_name, \
         session_name, session_policy, created_ms, expires_ms FROM sts_credentials \
         WHERE access_key_id = $1",
        &[&t(id)],
    )
    .await?
    .map(|r| StsCredentialRecord {
        access_key_id: r.get(0),
        account_id: r.get(1),
        secret: r.get(2),
        token_sha256: r.get(3),
        role_id: r.get(4),
        role_name: r.get(5),
        session_name: r.get(6),
        session_policy: r.get(7),
        created_ms: r.get(8),
        expires_ms: r.get(9),
    }))
}
