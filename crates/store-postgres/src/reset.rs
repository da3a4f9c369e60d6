//! `Store::reset` on PostgreSQL: one transaction that locks every table it
//! empties (and the accounts and keys it prunes) before touching any.
//!
//! Why no replica sees it half done: `LOCK TABLE … IN ACCESS EXCLUSIVE
//! MODE` waits for the transactions already using those tables and holds
//! back every later read and write of them until the reset commits, so a
//! request's statements all run before the reset or after it. TRUNCATE then
//! empties the tables in one statement (links and resources together, as
//! foreign keys require).
//!
//! Why it does not deadlock with writes: a write transaction holds the
//! tables it touched until it commits, so a reset that locked one table and
//! waits for the next could wait for a writer that is about to wait for the
//! locked one. PostgreSQL breaks such a cycle by failing one side, and under
//! steady writes a reset lost every attempt (CI: `InternalError` after five
//! deadlocks). So on a resettable store every write transaction first takes
//! [`RESET_LOCK`] shared ([`step_aside`]), and the reset takes it exclusive
//! before any table: it waits for the writes in flight to commit, and new
//! writes wait (holding nothing) until the reset commits. Single-statement
//! reads take no lock of ours; one that meets the reset only waits.
//!
//! The tables are listed from `pg_tables`, not by name: a table a later
//! schema step adds is emptied too unless it is added to [`KEPT`].

use deadpool_postgres::Transaction;

use crate::Error;

/// Tables a reset does not empty: the accounts and access keys (all but the
/// kept account's root keys are deleted row by row), the append-only audit
/// log, the nonces (replay protection is not state a client sees) and the
/// schema version.
const KEPT: &[&str] = &[
    "accounts",
    "access_keys",
    "audit_log",
    "nonces",
    "vpngw_schema",
];

/// The advisory lock (`pg_advisory_xact_lock`, one 64-bit key) a reset holds
/// exclusively and every write transaction of a resettable store shared.
const RESET_LOCK: i64 = 0x7670_6e67_7752_5354; // "vpngwRST"

/// A write transaction's first statement on a resettable store.
pub(crate) async fn step_aside(tx: &Transaction<'_>) -> Result<(), Error> {
    tx.execute("SELECT pg_advisory_xact_lock_shared($1)", &[&RESET_LOCK])
        .await?;
    Ok(())
}

/// The identifier quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) async fn reset(tx: &Transaction<'_>, keep_account: &str) -> Result<(), Error> {
    // `in_tx!` took the lock shared for this transaction too; upgrading waits
    // for everyone else's share (two resets at once: a deadlock, retried).
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&RESET_LOCK])
        .await?;
    let emptied: Vec<String> = tx
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY tablename",
            &[],
        )
        .await?
        .iter()
        .map(|r| r.get::<_, String>(0))
        .filter(|t| !KEPT.contains(&t.as_str()))
        .collect();
    let pruned = ["accounts", "access_keys"];
    let locked: Vec<String> = emptied
        .iter()
        .map(String::as_str)
        .chain(pruned)
        .map(quoted)
        .collect();
    tx.batch_execute(&format!(
        "LOCK TABLE {} IN ACCESS EXCLUSIVE MODE",
        locked.join(", ")
    ))
    .await?;
    if !emptied.is_empty() {
        let names: Vec<String> = emptied.iter().map(|t| quoted(t)).collect();
        tx.batch_execute(&format!("TRUNCATE {}", names.join(", ")))
            .await?;
    }
    tx.execute(
        "DELETE FROM access_keys WHERE NOT (account_id = $1 AND principal = 'root')",
        &[&keep_account],
    )
    .await?;
    tx.execute("DELETE FROM accounts WHERE id <> $1", &[&keep_account])
        .await?;
    // Every gateway went: every replica's watchers read again.
    crate::revisions::notify_everyone(tx).await
}
