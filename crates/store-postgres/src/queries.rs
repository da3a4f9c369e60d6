//! The SQL behind resources, accounts, access keys and nonces. Writes take
//! the caller's transaction (see `in_tx!` in lib.rs); reads take any client.

use std::borrow::Cow;

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::{Row, types::ToSql};
use vpngw_model::Lifecycle;
use vpngw_store::{
    AccessKeyRecord, AccountRecord, InsertGuard, Inserted, Kind, ListQuery, NONCE_WINDOW_MS, Page,
    Record, Scope, StoreError,
};

use crate::Error;

pub(crate) type Param<'a> = &'a (dyn ToSql + Sync);

// ---- statement helpers (prepared once per connection) ----------------------

pub(crate) async fn rows<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Vec<Row>, Error> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

pub(crate) async fn opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Option<Row>, Error> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&stmt, params).await?)
}

pub(crate) async fn one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<Row, Error> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_one(&stmt, params).await?)
}

pub(crate) async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[Param<'_>],
) -> Result<u64, Error> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

/// PostgreSQL text cannot hold NUL; SQLite can, and requests may carry one
/// (`%00` in an id, a nonce or a token). Text from requests goes through
/// here: a NUL becomes U+FFFD, so a lookup finds nothing instead of failing,
/// and a stored value keeps every other character.
pub(crate) fn t(s: &str) -> Cow<'_, str> {
    if s.contains('\0') {
        Cow::Owned(s.replace('\0', "\u{fffd}"))
    } else {
        Cow::Borrowed(s)
    }
}

pub(crate) fn ts(v: &[String]) -> Vec<Cow<'_, str>> {
    v.iter().map(|s| t(s)).collect()
}

/// The placeholder of the next parameter.
fn next(params: &[Param<'_>]) -> String {
    format!("${}", params.len() + 1)
}

fn count(row: &Row) -> u64 {
    u64::try_from(row.get::<_, i64>(0)).unwrap_or(0)
}

/// An i64 for LIMIT/OFFSET.
pub(crate) fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Serializes a check-then-insert on `key` until the transaction ends, across
/// every process on the database.
pub(crate) async fn lock_key(tx: &Transaction<'_>, key: &str) -> Result<(), Error> {
    exec(
        tx,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&t(key)],
    )
    .await?;
    Ok(())
}

// ---- resources -------------------------------------------------------------

const RECORD_COLUMNS: &str = "kind, id, account_id, region_id, parent_id, resource_group_id, \
     status, pending_due_ms, pending_status, version, doc";

fn record_from_row(row: &Row) -> Result<Record, Error> {
    let kind: String = row.get(0);
    let status: Option<String> = row.get(6);
    let pending_due: Option<i64> = row.get(7);
    let pending_status: Option<String> = row.get(8);
    Ok(Record {
        kind: Kind::parse(&kind)
            .ok_or_else(|| StoreError::Internal(format!("unknown kind {kind} in the database")))?,
        id: row.get(1),
        account_id: row.get(2),
        region_id: row.get(3),
        parent_id: row.get(4),
        // Links are only needed for writes; reads leave them empty.
        links: Vec::new(),
        resource_group_id: row.get(5),
        status: status.map(|status| Lifecycle {
            status,
            pending: pending_due.zip(pending_status),
        }),
        version: row.get(9),
        doc: row.get(10),
    })
}

fn split_status(l: &Option<Lifecycle>) -> (Option<&str>, Option<i64>, Option<&str>) {
    match l {
        None => (None, None, None),
        Some(l) => (
            Some(l.status.as_str()),
            l.pending.as_ref().map(|p| p.0),
            l.pending.as_ref().map(|p| p.1.as_str()),
        ),
    }
}

/// Every link must name a resource in the same scope. The linked rows are
/// locked `FOR KEY SHARE` so that none can be deleted before this
/// transaction ends (a delete takes `FOR UPDATE` first).
async fn check_links(tx: &Transaction<'_>, rec: &Record) -> Result<(), Error> {
    if rec.links.is_empty() {
        return Ok(());
    }
    let links = ts(&rec.links);
    let found = rows(
        tx,
        "SELECT id FROM resources WHERE id = ANY($1) AND account_id = $2 AND region_id = $3 \
         FOR KEY SHARE",
        &[&links, &t(&rec.account_id), &t(&rec.region_id)],
    )
    .await?;
    let found: Vec<String> = found.iter().map(|r| r.get(0)).collect();
    for (link, stored) in rec.links.iter().zip(&links) {
        if !found.iter().any(|f| f == stored.as_ref()) {
            return Err(StoreError::MissingLink(link.clone()).into());
        }
    }
    Ok(())
}

/// Makes the stored links of `rec.id` equal `rec.links`.
async fn write_links(tx: &Transaction<'_>, rec: &Record, fresh: bool) -> Result<(), Error> {
    let links = ts(&rec.links);
    if !fresh {
        exec(
            tx,
            "DELETE FROM resource_links WHERE from_id = $1 AND NOT (to_id = ANY($2))",
            &[&rec.id, &links],
        )
        .await?;
    }
    if !links.is_empty() {
        let written = exec(
            tx,
            "INSERT INTO resource_links (from_id, to_id) SELECT $1, unnest($2::text[]) \
             ON CONFLICT DO NOTHING",
            &[&rec.id, &links],
        )
        .await;
        if let Err(e) = written {
            // A link target deleted between the check and here.
            if e.is_foreign_key_violation() {
                return Err(StoreError::MissingLink(rec.links[0].clone()).into());
            }
            return Err(e);
        }
    }
    Ok(())
}

/// A document field as a jsonb path: `attachment.attach_type` →
/// `{attachment,attach_type}`. Field names come from code, never from
/// requests, and travel as parameters anyway.
fn json_path(field: &str) -> Vec<String> {
    field.split('.').map(str::to_owned).collect()
}

pub async fn insert(
    tx: &Transaction<'_>,
    rec: &Record,
    guard: &InsertGuard,
) -> Result<Inserted, Error> {
    let (account, region, kind) = (t(&rec.account_id), t(&rec.region_id), rec.kind.as_str());
    // The token first: a concurrent request with the same token waits here
    // for this one's outcome, then replays it (or, if this one rolled back,
    // goes ahead itself).
    if let Some(idem) = &guard.idempotency {
        let token = t(&idem.token);
        let fingerprint = t(&idem.fingerprint);
        let reserved = opt(
            tx,
            "INSERT INTO client_tokens (account_id, kind, token, fingerprint, resource_id, created_ms) \
             VALUES ($1, $2, $3, $4, $5, (extract(epoch FROM now()) * 1000)::bigint) \
             ON CONFLICT DO NOTHING RETURNING 1",
            &[&account, &kind, &token, &fingerprint, &t(&rec.id)],
        )
        .await?;
        if reserved.is_none() {
            let seen = one(
                tx,
                "SELECT fingerprint, resource_id FROM client_tokens \
                 WHERE account_id = $1 AND kind = $2 AND token = $3",
                &[&account, &kind, &token],
            )
            .await?;
            let (seen_fingerprint, id): (String, String) = (seen.get(0), seen.get(1));
            return if seen_fingerprint == fingerprint {
                Ok(Inserted::Replayed { id })
            } else {
                Err(StoreError::IdempotencyMismatch.into())
            };
        }
    }
    check_links(tx, rec).await?;
    let scope_quota = guard.quota.as_ref().is_some_and(|q| !q.per_parent);
    if scope_quota || !guard.unique.is_empty() {
        lock_key(tx, &format!("resources/{kind}/{account}/{region}")).await?;
    }
    if !guard.unique.is_empty() {
        let mut sql = String::from(
            "SELECT 1 FROM resources WHERE account_id = $1 AND region_id = $2 AND kind = $3",
        );
        let paths: Vec<Vec<String>> = guard.unique.iter().map(|(f, _)| json_path(f)).collect();
        let values: Vec<Cow<'_, str>> = guard.unique.iter().map(|(_, v)| t(v)).collect();
        let mut params: Vec<Param<'_>> = vec![&account, &region, &kind];
        for (path, value) in paths.iter().zip(&values) {
            sql.push_str(&format!(
                " AND body #>> ${}::text[] = ${}",
                params.len() + 1,
                params.len() + 2
            ));
            params.push(path);
            params.push(value);
        }
        sql.push_str(" LIMIT 1");
        if opt(tx, &sql, &params).await?.is_some() {
            return Err(StoreError::Duplicate.into());
        }
    }
    if let Some(quota) = &guard.quota {
        let n = if quota.per_parent {
            // Concurrent inserts under one parent queue on its row.
            if let Some(parent) = &rec.parent_id {
                opt(
                    tx,
                    "SELECT 1 FROM resources WHERE id = $1 FOR NO KEY UPDATE",
                    &[&t(parent)],
                )
                .await?;
            }
            count(
                &one(
                    tx,
                    "SELECT COUNT(*) FROM resources WHERE parent_id = $1 AND kind = $2",
                    &[&rec.parent_id.as_deref().map(t), &kind],
                )
                .await?,
            )
        } else {
            count(
                &one(
                    tx,
                    "SELECT COUNT(*) FROM resources \
                     WHERE account_id = $1 AND region_id = $2 AND kind = $3",
                    &[&account, &region, &kind],
                )
                .await?,
            )
        };
        if n >= u64::from(quota.limit) {
            return Err(StoreError::QuotaExceeded { limit: quota.limit }.into());
        }
    }
    let (status, due, pending) = split_status(&rec.status);
    let inserted = opt(
        tx,
        "INSERT INTO resources (id, kind, account_id, region_id, parent_id, resource_group_id, \
         status, pending_due_ms, pending_status, version, doc) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO NOTHING RETURNING 1",
        &[
            &t(&rec.id),
            &kind,
            &account,
            &region,
            &rec.parent_id.as_deref().map(t),
            &t(&rec.resource_group_id),
            &status.map(t),
            &due,
            &pending.map(t),
            &rec.version,
            &t(&rec.doc),
        ],
    )
    .await?;
    if inserted.is_none() {
        return Err(StoreError::AlreadyExists.into());
    }
    write_links(tx, rec, true).await?;
    crate::revisions::record_write(tx, rec.kind, &rec.id, rec.parent_id.as_deref()).await?;
    Ok(Inserted::Created)
}

pub async fn get<C: GenericClient>(
    c: &C,
    kind: Kind,
    scope: &Scope,
    id: &str,
) -> Result<Option<Record>, Error> {
    let row = opt(
        c,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM resources \
             WHERE id = $1 AND kind = $2 AND account_id = $3 AND region_id = $4"
        ),
        &[
            &t(id),
            &kind.as_str(),
            &t(&scope.account_id),
            &t(&scope.region_id),
        ],
    )
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// [`update_record`], and the revisions of the record's gateways move.
pub async fn update(tx: &Transaction<'_>, rec: &Record) -> Result<Record, Error> {
    let rec = update_record(tx, rec).await?;
    crate::revisions::record_write(tx, rec.kind, &rec.id, rec.parent_id.as_deref()).await?;
    Ok(rec)
}

/// Replaces the record read at `rec.version` (no gateway revision moves:
/// for what the data plane measured).
pub async fn update_record(tx: &Transaction<'_>, rec: &Record) -> Result<Record, Error> {
    check_links(tx, rec).await?;
    let (status, due, pending) = split_status(&rec.status);
    // A concurrent writer of the same row waits for this one, then finds
    // the version moved on and changes nothing.
    let changed = exec(
        tx,
        "UPDATE resources SET parent_id = $1, resource_group_id = $2, status = $3, \
         pending_due_ms = $4, pending_status = $5, version = version + 1, doc = $6 \
         WHERE id = $7 AND kind = $8 AND account_id = $9 AND region_id = $10 AND version = $11",
        &[
            &rec.parent_id.as_deref().map(t),
            &t(&rec.resource_group_id),
            &status.map(t),
            &due,
            &pending.map(t),
            &t(&rec.doc),
            &t(&rec.id),
            &rec.kind.as_str(),
            &t(&rec.account_id),
            &t(&rec.region_id),
            &rec.version,
        ],
    )
    .await?;
    if changed == 0 {
        return Err(match get(tx, rec.kind, &rec.scope(), &rec.id).await? {
            Some(_) => StoreError::VersionConflict,
            None => StoreError::NotFound,
        }
        .into());
    }
    write_links(tx, rec, false).await?;
    let mut rec = rec.clone();
    rec.version += 1;
    Ok(rec)
}

/// Locks the record (so that nothing can link to it until the transaction
/// ends); `NotFound` if it is not in this scope.
async fn lock_for_delete(
    tx: &Transaction<'_>,
    kind: Kind,
    scope: &Scope,
    id: &str,
) -> Result<(), Error> {
    let found = opt(
        tx,
        "SELECT 1 FROM resources WHERE id = $1 AND kind = $2 AND account_id = $3 \
         AND region_id = $4 FOR UPDATE",
        &[
            &t(id),
            &kind.as_str(),
            &t(&scope.account_id),
            &t(&scope.region_id),
        ],
    )
    .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::NotFound.into()),
    }
}

/// The records linking to `id`, oldest first: (kind, id).
async fn linked_from(tx: &Transaction<'_>, id: &str) -> Result<Vec<(String, String)>, Error> {
    Ok(rows(
        tx,
        "SELECT r.kind, r.id FROM resource_links l JOIN resources r ON r.id = l.from_id \
         WHERE l.to_id = $1 ORDER BY r.seq",
        &[&t(id)],
    )
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

fn referenced(kind: &str, id: String) -> Error {
    StoreError::Referenced {
        kind: Kind::parse(kind).unwrap_or(Kind::VpnConnection),
        id,
    }
    .into()
}

pub async fn delete(
    tx: &Transaction<'_>,
    kind: Kind,
    scope: &Scope,
    id: &str,
) -> Result<(), Error> {
    lock_for_delete(tx, kind, scope, id).await?;
    if let Some((user_kind, user)) = linked_from(tx, id).await?.into_iter().next() {
        return Err(referenced(&user_kind, user));
    }
    let gateways = gateways_of_record(tx, id).await?;
    exec(tx, "DELETE FROM resources WHERE id = $1", &[&t(id)]).await?;
    crate::revisions::moved(tx, &gateways, &[(kind, id)]).await
}

/// The gateways the stored record `id` belongs to (before it is deleted).
async fn gateways_of_record(tx: &Transaction<'_>, id: &str) -> Result<Vec<String>, Error> {
    let Some(row) = opt(
        tx,
        "SELECT kind, parent_id FROM resources WHERE id = $1",
        &[&t(id)],
    )
    .await?
    else {
        return Ok(Vec::new());
    };
    let Some(kind) = Kind::parse(row.get::<_, &str>(0)) else {
        return Ok(Vec::new());
    };
    let parent: Option<String> = row.get(1);
    crate::revisions::gateways_of(tx, kind, id, parent.as_deref()).await
}

pub async fn delete_cascade(
    tx: &Transaction<'_>,
    kind: Kind,
    scope: &Scope,
    id: &str,
    cascade: &[Kind],
) -> Result<Vec<String>, Error> {
    lock_for_delete(tx, kind, scope, id).await?;
    let mut doomed: Vec<String> = Vec::new();
    for (user_kind, user) in linked_from(tx, id).await? {
        if !cascade.iter().any(|k| k.as_str() == user_kind) {
            return Err(referenced(&user_kind, user));
        }
        doomed.push(user);
    }
    if doomed.is_empty() {
        let gateways = gateways_of_record(tx, id).await?;
        exec(tx, "DELETE FROM resources WHERE id = $1", &[&t(id)]).await?;
        crate::revisions::moved(tx, &gateways, &[(kind, id)]).await?;
        return Ok(doomed);
    }
    // Nothing may link to the doomed records from now on either.
    rows(
        tx,
        "SELECT 1 FROM resources WHERE id = ANY($1) FOR UPDATE",
        &[&doomed],
    )
    .await?;
    // A cascaded record must not be what a third record still needs.
    for dependent in &doomed {
        for (user_kind, user) in linked_from(tx, dependent).await? {
            if user != id && !doomed.contains(&user) {
                return Err(referenced(&user_kind, user));
            }
        }
    }
    // The gateways of what goes, while it is still there to be asked.
    let mut gateways = gateways_of_record(tx, id).await?;
    let mut changed: Vec<(Kind, &str)> = vec![(kind, id)];
    for row in rows(
        tx,
        "SELECT kind, id FROM resources WHERE id = ANY($1)",
        &[&doomed],
    )
    .await?
    {
        if let Some(k) = Kind::parse(row.get::<_, &str>(0)) {
            let dependent: String = row.get(1);
            gateways.extend(gateways_of_record(tx, &dependent).await?);
            if let Some(d) = doomed.iter().find(|d| **d == dependent) {
                changed.push((k, d));
            }
        }
    }
    gateways.sort();
    gateways.dedup();
    // Links among the doomed records go first, so the order of the deletes
    // cannot trip the foreign keys.
    exec(
        tx,
        "DELETE FROM resource_links WHERE to_id = ANY($1)",
        &[&doomed],
    )
    .await?;
    exec(tx, "DELETE FROM resources WHERE id = ANY($1)", &[&doomed]).await?;
    exec(tx, "DELETE FROM resources WHERE id = $1", &[&t(id)]).await?;
    crate::revisions::moved(tx, &gateways, &changed).await?;
    Ok(doomed)
}

pub async fn list<C: GenericClient>(c: &C, q: &ListQuery) -> Result<Page, Error> {
    let (account, region, kind) = (
        t(&q.scope.account_id),
        t(&q.scope.region_id),
        q.kind.as_str(),
    );
    let ids = ts(&q.ids);
    let parent = q.parent_id.as_deref().map(t);
    let linked_to = q.linked_to.as_deref().map(t);
    let rg = q.resource_group_id.as_deref().map(t);
    let status = q.status.as_deref().map(t);
    let paths: Vec<Vec<String>> = q.fields.iter().map(|(f, _)| json_path(f)).collect();
    let values: Vec<Cow<'_, str>> = q.fields.iter().map(|(_, v)| t(v)).collect();
    let tags: Vec<serde_json::Value> = q
        .tags
        .iter()
        .map(|(k, v)| {
            let mut tag = serde_json::Map::new();
            tag.insert("key".into(), t(k).into_owned().into());
            if let Some(v) = v {
                tag.insert("value".into(), t(v).into_owned().into());
            }
            serde_json::Value::Array(vec![serde_json::Value::Object(tag)])
        })
        .collect();

    let mut filter = String::from("account_id = $1 AND region_id = $2 AND kind = $3");
    let mut params: Vec<Param<'_>> = vec![&account, &region, &kind];
    if !q.ids.is_empty() {
        filter.push_str(&format!(" AND id = ANY({})", next(&params)));
        params.push(&ids);
    }
    if let Some(parent) = &parent {
        filter.push_str(&format!(" AND parent_id = {}", next(&params)));
        params.push(parent);
    }
    if let Some(target) = &linked_to {
        filter.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM resource_links l WHERE l.from_id = resources.id \
             AND l.to_id = {})",
            next(&params)
        ));
        params.push(target);
    }
    if let Some(rg) = &rg {
        filter.push_str(&format!(" AND resource_group_id = {}", next(&params)));
        params.push(rg);
    }
    if let Some(status) = &status {
        let now = next(&params);
        params.push(&q.now_ms);
        filter.push_str(&format!(
            " AND (CASE WHEN pending_due_ms IS NOT NULL AND pending_due_ms <= {now} \
             THEN pending_status ELSE status END) = {}",
            next(&params)
        ));
        params.push(status);
    }
    for (path, value) in paths.iter().zip(&values) {
        let p = next(&params);
        params.push(path);
        filter.push_str(&format!(" AND body #>> {p}::text[] = {}", next(&params)));
        params.push(value);
    }
    for tag in &tags {
        // Some element of `tags` has this key (and value).
        filter.push_str(&format!(" AND body -> 'tags' @> {}::jsonb", next(&params)));
        params.push(tag);
    }
    let total = count(
        &one(
            c,
            &format!("SELECT COUNT(*) FROM resources WHERE {filter}"),
            &params,
        )
        .await?,
    );
    let (limit, offset) = (big(q.limit), big(q.offset));
    let mut page_params = params.clone();
    let limit_at = page_params.len() + 1;
    page_params.push(&limit);
    page_params.push(&offset);
    let records = rows(
        c,
        &format!(
            "SELECT {RECORD_COLUMNS} FROM resources WHERE {filter} ORDER BY seq \
             LIMIT ${limit_at} OFFSET ${}",
            limit_at + 1
        ),
        &page_params,
    )
    .await?
    .iter()
    .map(record_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    Ok(Page { records, total })
}

// ---- accounts and keys -----------------------------------------------------

pub async fn create_account(
    tx: &Transaction<'_>,
    account: &AccountRecord,
    key: &AccessKeyRecord,
) -> Result<(), Error> {
    let inserted = opt(
        tx,
        "INSERT INTO accounts (id, name, created_ms) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING 1",
        &[&t(&account.id), &t(&account.name), &account.created_ms],
    )
    .await?;
    if inserted.is_none() {
        return Err(StoreError::AlreadyExists.into());
    }
    insert_access_key(tx, key).await
}

pub async fn replace_root_keys(
    tx: &Transaction<'_>,
    key: &AccessKeyRecord,
) -> Result<Vec<String>, Error> {
    let account = opt(
        tx,
        "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE",
        &[&t(&key.account_id)],
    )
    .await?;
    if account.is_none() {
        return Err(StoreError::NotFound.into());
    }
    let replaced = tx
        .query(
            "DELETE FROM access_keys WHERE account_id = $1 AND principal = 'root' RETURNING id",
            &[&t(&key.account_id)],
        )
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    insert_access_key(tx, key).await?;
    Ok(replaced)
}

pub async fn insert_access_key(tx: &Transaction<'_>, key: &AccessKeyRecord) -> Result<(), Error> {
    let inserted = opt(
        tx,
        "INSERT INTO access_keys (id, account_id, principal, secret, status, created_ms) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING RETURNING 1",
        &[
            &t(&key.id),
            &t(&key.account_id),
            &t(&key.principal),
            &key.secret,
            &t(&key.status),
            &key.created_ms,
        ],
    )
    .await?;
    match inserted {
        Some(_) => Ok(()),
        None => Err(StoreError::AlreadyExists.into()),
    }
}

pub async fn accounts<C: GenericClient>(c: &C) -> Result<Vec<AccountRecord>, Error> {
    Ok(rows(
        c,
        "SELECT id, name, created_ms FROM accounts ORDER BY created_ms, id",
        &[],
    )
    .await?
    .iter()
    .map(|r| AccountRecord {
        id: r.get(0),
        name: r.get(1),
        created_ms: r.get(2),
    })
    .collect())
}

pub(crate) fn key_from_row(r: &Row) -> AccessKeyRecord {
    AccessKeyRecord {
        id: r.get(0),
        account_id: r.get(1),
        principal: r.get(2),
        secret: r.get(3),
        status: r.get(4),
        created_ms: r.get(5),
    }
}

pub async fn access_key<C: GenericClient>(
    c: &C,
    id: &str,
) -> Result<Option<AccessKeyRecord>, Error> {
    Ok(opt(
        c,
        "SELECT id, account_id, principal, secret, status, created_ms FROM access_keys \
         WHERE id = $1",
        &[&t(id)],
    )
    .await?
    .as_ref()
    .map(key_from_row))
}

// ---- nonces ----------------------------------------------------------------

/// Records a nonce unless this key used it within the window: a unique
/// (access_key_id, nonce) decides, so two replicas seeing the same nonce at
/// once cannot both accept it. An expired row is taken over.
pub async fn use_nonce<C: GenericClient>(
    c: &C,
    access_key_id: &str,
    nonce: &str,
    now_ms: i64,
) -> Result<bool, Error> {
    let accepted = opt(
        c,
        "INSERT INTO nonces (access_key_id, nonce, expires_ms) VALUES ($1, $2, $3) \
         ON CONFLICT (access_key_id, nonce) DO UPDATE SET expires_ms = EXCLUDED.expires_ms \
         WHERE nonces.expires_ms <= $4 RETURNING 1",
        &[
            &t(access_key_id),
            &t(nonce),
            &(now_ms + NONCE_WINDOW_MS),
            &now_ms,
        ],
    )
    .await?;
    Ok(accepted.is_some())
}

pub async fn purge_nonces<C: GenericClient>(c: &C, now_ms: i64) -> Result<(), Error> {
    exec(c, "DELETE FROM nonces WHERE expires_ms <= $1", &[&now_ms]).await?;
    Ok(())
}
