//! `Store::reset` on SQLite: one writer job empties every table but the
//! ones named in [`KEPT`].
//!
//! Why it is never seen half done: the job runs in the writer's
//! transaction like any write, so readers (WAL snapshots) see the database
//! before or after its commit, and writes queued behind it run on the
//! emptied tables. The read caches are off while it is in flight and
//! every entry made before it is stale afterwards (`cache.rs`), so a record
//! or key read before the reset cannot be answered from memory after it.
//!
//! The tables are listed from `sqlite_master`, not by name: a table a later
//! schema step adds is emptied too unless it is added to [`KEPT`].

use rusqlite::{Connection, params};

use crate::StoreError;

/// Tables a reset does not empty: the accounts and access keys (all but the
/// kept account's root keys are deleted row by row) and the append-only
/// audit log.
const KEPT: &[&str] = &["accounts", "access_keys", "audit_log"];

/// Emptied before the others: links point at resources.
const FIRST: &[&str] = &["resource_links", "resources"];

pub fn reset(c: &Connection, keep_account: &str) -> Result<(), StoreError> {
    let mut tables: Vec<String> = c
        .prepare_cached(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    tables.retain(|t| !KEPT.contains(&t.as_str()));
    tables.sort_by_key(|t| {
        (
            !FIRST.contains(&t.as_str()),
            FIRST.iter().position(|f| f == t),
        )
    });
    for table in &tables {
        // Names come from sqlite_master; quoted all the same.
        c.execute(
            &format!("DELETE FROM \"{}\"", table.replace('"', "\"\"")),
            [],
        )?;
    }
    c.execute(
        "DELETE FROM access_keys WHERE NOT (account_id = ?1 AND principal = 'root')",
        params![keep_account],
    )?;
    c.execute("DELETE FROM accounts WHERE id <> ?1", params![keep_account])?;
    Ok(())
}
