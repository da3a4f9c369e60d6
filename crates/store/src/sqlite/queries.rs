//! The SQL behind each store operation. Every function runs inside the
//! caller's transaction (writes) or on a reader connection (reads).

use rusqlite::{Connection, OptionalExtension, Row, params, types::Value};
use vpngw_model::Lifecycle;

use crate::{
    AccessKeyRecord, AccountRecord, InsertGuard, Inserted, Kind, ListQuery, Page, Record, Scope,
    StoreError,
};

const RECORD_COLUMNS: &str = "kind, id, account_id, region_id, parent_id, resource_group_id, \
     status, pending_due_ms, pending_status, version, doc";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<Record> {
    let kind: String = row.get(0)?;
    let id: String = row.get(1)?;
    let status: Option<String> = row.get(6)?;
    let pending_due: Option<i64> = row.get(7)?;
    let pending_status: Option<String> = row.get(8)?;
    Ok(Record {
        kind: Kind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                format!("unknown kind {kind}").into(),
            )
        })?,
        id,
        account_id: row.get(2)?,
        region_id: row.get(3)?,
        parent_id: row.get(4)?,
        // Links are only needed for writes; reads leave them empty.
        links: Vec::new(),
        resource_group_id: row.get(5)?,
        status: status.map(|status| Lifecycle {
            status,
            pending: pending_due.zip(pending_status),
        }),
        version: row.get(9)?,
        doc: row.get(10)?,
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

/// Every link must name a resource in the same scope.
fn check_links(c: &Connection, rec: &Record) -> Result<(), StoreError> {
    for link in &rec.links {
        let found = c
            .prepare_cached(
                "SELECT 1 FROM resources WHERE id = ?1 AND account_id = ?2 AND region_id = ?3",
            )?
            .query_row(params![link, rec.account_id, rec.region_id], |_| Ok(()))
            .optional()?;
        if found.is_none() {
            return Err(StoreError::MissingLink(link.clone()));
        }
    }
    Ok(())
}

/// `fresh`: the record was just inserted, so it has no links to replace.
fn write_links(c: &Connection, rec: &Record, fresh: bool) -> Result<(), StoreError> {
    if !fresh {
        c.prepare_cached("DELETE FROM resource_links WHERE from_id = ?1")?
            .execute(params![rec.id])?;
    }
    let mut stmt =
        c.prepare_cached("INSERT OR IGNORE INTO resource_links (from_id, to_id) VALUES (?1, ?2)")?;
    for link in &rec.links {
        stmt.execute(params![rec.id, link])?;
    }
    Ok(())
}

/// ` AND <doc field> = ?`. Field names come from code, never from requests;
/// a dotted name (`attachment.attach_type`) reaches into a nested object.
/// The expression is the one the indexes of schema step 5 are built on.
fn json_field_equals(field: &str) -> String {
    if field == "id" {
        // The document's id is the id column, which is indexed.
        return " AND id = ?".to_owned();
    }
    debug_assert!(
        field
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    );
    format!(" AND json_extract(doc, '$.{field}') = ?")
}

pub fn insert(c: &Connection, rec: &Record, guard: &InsertGuard) -> Result<Inserted, StoreError> {
    if let Some(idem) = &guard.idempotency {
        let seen: Option<(String, String)> = c
            .query_row(
                "SELECT fingerprint, resource_id FROM client_tokens \
                 WHERE account_id = ?1 AND kind = ?2 AND token = ?3",
                params![rec.account_id, rec.kind.as_str(), idem.token],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if let Some((fingerprint, id)) = seen {
            return if fingerprint == idem.fingerprint {
                Ok(Inserted::Replayed { id })
            } else {
                Err(StoreError::IdempotencyMismatch)
            };
        }
    }
    check_links(c, rec)?;
    if !guard.unique.is_empty() {
        let mut sql = String::from(
            "SELECT 1 FROM resources WHERE account_id = ? AND region_id = ? AND kind = ?",
        );
        let mut args: Vec<Value> = vec![
            rec.account_id.clone().into(),
            rec.region_id.clone().into(),
            rec.kind.as_str().to_owned().into(),
        ];
        for (field, value) in &guard.unique {
            sql.push_str(&json_field_equals(field));
            args.push(value.clone().into());
        }
        sql.push_str(" LIMIT 1");
        let taken = c
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(args.iter()), |_| Ok(()))
            .optional()?;
        if taken.is_some() {
            return Err(StoreError::Duplicate);
        }
    }
    if let Some(quota) = &guard.quota {
        let count: i64 = if quota.per_parent {
            c.query_row(
                "SELECT COUNT(*) FROM resources WHERE parent_id = ?1 AND kind = ?2",
                params![rec.parent_id, rec.kind.as_str()],
                |r| r.get(0),
            )?
        } else {
            c.query_row(
                "SELECT COUNT(*) FROM resources \
                 WHERE account_id = ?1 AND region_id = ?2 AND kind = ?3",
                params![rec.account_id, rec.region_id, rec.kind.as_str()],
                |r| r.get(0),
            )?
        };
        if count >= i64::from(quota.limit) {
            return Err(StoreError::QuotaExceeded { limit: quota.limit });
        }
    }
    let (status, due, pending) = split_status(&rec.status);
    let inserted = c
        .prepare_cached(
            "INSERT INTO resources (id, kind, account_id, region_id, parent_id, resource_group_id, \
             status, pending_due_ms, pending_status, version, doc) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?
        .execute(params![
            rec.id,
            rec.kind.as_str(),
            rec.account_id,
            rec.region_id,
            rec.parent_id,
            rec.resource_group_id,
            status,
            due,
            pending,
            rec.version,
            rec.doc
        ]);
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            return Err(StoreError::AlreadyExists);
        }
        other => other?,
    };
    write_links(c, rec, true)?;
    super::revisions::record_write(c, rec.kind, &rec.id, rec.parent_id.as_deref())?;
    if let Some(idem) = &guard.idempotency {
        c.prepare_cached(
            "INSERT INTO client_tokens (account_id, kind, token, fingerprint, resource_id, created_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, CAST(strftime('%s','now') AS INTEGER) * 1000)",
        )?
        .execute(params![
            rec.account_id,
            rec.kind.as_str(),
            idem.token,
            idem.fingerprint,
            rec.id
        ])?;
    }
    Ok(Inserted::Created)
}

pub fn get(
    c: &Connection,
    kind: Kind,
    scope: &Scope,
    id: &str,
) -> Result<Option<Record>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM resources \
         WHERE id = ?1 AND kind = ?2 AND account_id = ?3 AND region_id = ?4"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row(
            params![id, kind.as_str(), scope.account_id, scope.region_id],
            record_from_row,
        )
        .optional()?)
}

/// [`update_record`], and the revisions of the record's gateways move.
pub fn update(c: &Connection, rec: Record) -> Result<Record, StoreError> {
    let rec = update_record(c, rec)?;
    super::revisions::record_write(c, rec.kind, &rec.id, rec.parent_id.as_deref())?;
    Ok(rec)
}

/// Replaces the record read at `rec.version` (no gateway revision moves:
/// for what the data plane measured).
pub fn update_record(c: &Connection, mut rec: Record) -> Result<Record, StoreError> {
    check_links(c, &rec)?;
    let (status, due, pending) = split_status(&rec.status);
    let changed = c
        .prepare_cached(
            "UPDATE resources SET parent_id = ?1, resource_group_id = ?2, status = ?3, \
             pending_due_ms = ?4, pending_status = ?5, version = version + 1, doc = ?6 \
             WHERE id = ?7 AND kind = ?8 AND account_id = ?9 AND region_id = ?10 AND version = ?11",
        )?
        .execute(params![
            rec.parent_id,
            rec.resource_group_id,
            status,
            due,
            pending,
            rec.doc,
            rec.id,
            rec.kind.as_str(),
            rec.account_id,
            rec.region_id,
            rec.version
        ])?;
    if changed == 0 {
        return Err(match get(c, rec.kind, &rec.scope(), &rec.id)? {
            Some(_) => StoreError::VersionConflict,
            None => StoreError::NotFound,
        });
    }
    write_links(c, &rec, false)?;
    rec.version += 1;
    Ok(rec)
}

pub fn delete(c: &Connection, kind: Kind, scope: &Scope, id: &str) -> Result<(), StoreError> {
    let Some(rec) = get(c, kind, scope, id)? else {
        return Err(StoreError::NotFound);
    };
    let user: Option<(String, String)> = c
        .query_row(
            "SELECT r.kind, r.id FROM resource_links l JOIN resources r ON r.id = l.from_id \
             WHERE l.to_id = ?1 ORDER BY r.seq LIMIT 1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if let Some((kind, id)) = user {
        return Err(StoreError::Referenced {
            kind: Kind::parse(&kind).unwrap_or(Kind::VpnConnection),
            id,
        });
    }
    let gateways = super::revisions::gateways_of(c, kind, id, rec.parent_id.as_deref())?;
    c.execute("DELETE FROM resources WHERE id = ?1", params![id])?;
    super::revisions::moved(c, &gateways, &[(kind, id)])
}

/// The records linking to `id`, oldest first: (kind, id).
fn linked_from(c: &Connection, id: &str) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT r.kind, r.id FROM resource_links l JOIN resources r ON r.id = l.from_id \
         WHERE l.to_id = ?1 ORDER BY r.seq",
    )?;
    let rows = stmt.query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn delete_cascade(
    c: &Connection,
    kind: Kind,
    scope: &Scope,
    id: &str,
    cascade: &[Kind],
) -> Result<Vec<String>, StoreError> {
    let Some(rec) = get(c, kind, scope, id)? else {
        return Err(StoreError::NotFound);
    };
    let referenced = |kind: &str, id: String| StoreError::Referenced {
        kind: Kind::parse(kind).unwrap_or(Kind::VpnConnection),
        id,
    };
    let mut doomed: Vec<String> = Vec::new();
    for (user_kind, user) in linked_from(c, id)? {
        if !cascade.iter().any(|k| k.as_str() == user_kind) {
            return Err(referenced(&user_kind, user));
        }
        doomed.push(user);
    }
    // A cascaded record must not be what a third record still needs.
    for dependent in &doomed {
        for (user_kind, user) in linked_from(c, dependent)? {
            if user != id && !doomed.contains(&user) {
                return Err(referenced(&user_kind, user));
            }
        }
    }
    // The gateways of what goes, while it is still there to be asked.
    let mut gateways = super::revisions::gateways_of(c, kind, id, rec.parent_id.as_deref())?;
    let mut changed: Vec<(Kind, &str)> = vec![(kind, id)];
    for dependent in &doomed {
        if let Some((dependent_kind, parent)) = kind_and_parent(c, dependent)? {
            gateways.extend(super::revisions::gateways_of(
                c,
                dependent_kind,
                dependent,
                parent.as_deref(),
            )?);
            changed.push((dependent_kind, dependent));
        }
    }
    gateways.sort();
    gateways.dedup();
    // Links among the doomed records go first, so the order of the deletes
    // cannot trip the foreign keys.
    let mut unlink = c.prepare_cached("DELETE FROM resource_links WHERE to_id = ?1")?;
    let mut delete = c.prepare_cached("DELETE FROM resources WHERE id = ?1")?;
    for dependent in &doomed {
        unlink.execute(params![dependent])?;
    }
    for dependent in &doomed {
        delete.execute(params![dependent])?;
    }
    delete.execute(params![id])?;
    drop((unlink, delete));
    super::revisions::moved(c, &gateways, &changed)?;
    Ok(doomed)
}

/// The kind and parent of the record `id`, if it exists.
fn kind_and_parent(c: &Connection, id: &str) -> Result<Option<(Kind, Option<String>)>, StoreError> {
    let row: Option<(String, Option<String>)> = c
        .prepare_cached("SELECT kind, parent_id FROM resources WHERE id = ?1")?
        .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(k, p)| Kind::parse(&k).map(|k| (k, p))))
}

pub fn list(c: &Connection, q: &ListQuery) -> Result<Page, StoreError> {
    let mut filter = String::from("account_id = ? AND region_id = ? AND kind = ?");
    let mut args: Vec<Value> = vec![
        q.scope.account_id.clone().into(),
        q.scope.region_id.clone().into(),
        q.kind.as_str().to_owned().into(),
    ];
    if !q.ids.is_empty() {
        filter.push_str(" AND id IN (");
        filter.push_str(&vec!["?"; q.ids.len()].join(","));
        filter.push(')');
        args.extend(q.ids.iter().cloned().map(Value::from));
    }
    if let Some(parent) = &q.parent_id {
        filter.push_str(" AND parent_id = ?");
        args.push(parent.clone().into());
    }
    if let Some(target) = &q.linked_to {
        filter.push_str(
            " AND EXISTS (SELECT 1 FROM resource_links l WHERE l.from_id = resources.id AND l.to_id = ?)",
        );
        args.push(target.clone().into());
    }
    if let Some(rg) = &q.resource_group_id {
        filter.push_str(" AND resource_group_id = ?");
        args.push(rg.clone().into());
    }
    if let Some(status) = &q.status {
        filter.push_str(
            " AND (CASE WHEN pending_due_ms IS NOT NULL AND pending_due_ms <= ? \
             THEN pending_status ELSE status END) = ?",
        );
        args.push(q.now_ms.into());
        args.push(status.clone().into());
    }
    for (field, value) in &q.fields {
        filter.push_str(&json_field_equals(field));
        args.push(value.clone().into());
    }
    for (key, value) in &q.tags {
        filter.push_str(
            " AND EXISTS (SELECT 1 FROM json_each(doc, '$.tags') t \
             WHERE json_extract(t.value, '$.key') = ?",
        );
        args.push(key.clone().into());
        if let Some(v) = value {
            filter.push_str(" AND json_extract(t.value, '$.value') = ?");
            args.push(v.clone().into());
        }
        filter.push(')');
    }
    // The count and the page come from one snapshot (a read transaction),
    // so a page found from the end of the list lines up with the count.
    let snapshot = c.unchecked_transaction()?;
    let only_scope = q.ids.is_empty()
        && q.parent_id.is_none()
        && q.linked_to.is_none()
        && q.resource_group_id.is_none()
        && q.status.is_none()
        && q.fields.is_empty()
        && q.tags.is_empty();
    let total: i64 = if only_scope {
        // Kept by triggers (schema step 5): no scan of the scope.
        c.prepare_cached(
            "SELECT n FROM resource_counts WHERE account_id = ?1 AND region_id = ?2 AND kind = ?3",
        )?
        .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
        .optional()?
        .unwrap_or(0)
    } else {
        c.prepare_cached(&format!("SELECT COUNT(*) FROM resources WHERE {filter}"))?
            .query_row(rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
    };
    let limit = i64::try_from(q.limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
    if offset >= total || limit == 0 {
        return Ok(Page {
            records: Vec::new(),
            total: u64::try_from(total).unwrap_or(0),
        });
    }
    // OFFSET steps over every row it skips: a page in the second half of
    // the list is read from the end instead (the last page of 100,000
    // skips nothing), then put back in order.
    let end = offset.saturating_add(limit).min(total);
    let from_end = offset > total / 2;
    let (order, page_limit, page_offset) = if from_end {
        ("DESC", end - offset, total - end)
    } else {
        ("ASC", limit, offset)
    };
    let mut page_args = args;
    page_args.push(page_limit.into());
    page_args.push(page_offset.into());
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM resources WHERE {filter} ORDER BY seq {order} LIMIT ? OFFSET ?"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut records = stmt
        .query_map(
            rusqlite::params_from_iter(page_args.iter()),
            record_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    drop(stmt);
    snapshot.commit()?;
    if from_end {
        records.reverse();
    }
    Ok(Page {
        records,
        total: u64::try_from(total).unwrap_or(0),
    })
}

pub fn create_account(
    c: &Connection,
    account: &AccountRecord,
    key: &AccessKeyRecord,
) -> Result<(), StoreError> {
    let inserted = c.execute(
        "INSERT INTO accounts (id, name, created_ms) VALUES (?1, ?2, ?3)",
        params![account.id, account.name, account.created_ms],
    );
    if let Err(rusqlite::Error::SqliteFailure(e, _)) = &inserted
        && e.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return Err(StoreError::AlreadyExists);
    }
    inserted?;
    insert_access_key(c, key)
}

pub fn insert_access_key(c: &Connection, key: &AccessKeyRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO access_keys (id, account_id, principal, secret, status, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            key.id,
            key.account_id,
            key.principal,
            key.secret,
            key.status,
            key.created_ms
        ],
    )?;
    Ok(())
}

pub fn replace_root_keys(c: &Connection, key: &AccessKeyRecord) -> Result<Vec<String>, StoreError> {
    let exists: Option<i64> = c
        .query_row(
            "SELECT 1 FROM accounts WHERE id = ?1",
            params![key.account_id],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let mut stmt = c.prepare_cached(
        "DELETE FROM access_keys WHERE account_id = ?1 AND principal = 'root' RETURNING id",
    )?;
    let replaced = stmt
        .query_map(params![key.account_id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    insert_access_key(c, key)?;
    Ok(replaced)
}

pub fn accounts(c: &Connection) -> Result<Vec<AccountRecord>, StoreError> {
    let mut stmt =
        c.prepare_cached("SELECT id, name, created_ms FROM accounts ORDER BY created_ms")?;
    let rows = stmt.query_map([], |r| {
        Ok(AccountRecord {
            id: r.get(0)?,
            name: r.get(1)?,
            created_ms: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub fn access_key(c: &Connection, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT id, account_id, principal, secret, status, created_ms FROM access_keys WHERE id = ?1",
    )?
    .query_row(params![id], |r| {
        Ok(AccessKeyRecord {
            id: r.get(0)?,
            account_id: r.get(1)?,
            principal: r.get(2)?,
            secret: r.get(3)?,
            status: r.get(4)?,
            created_ms: r.get(5)?,
        })
    })
    .optional()?)
}
