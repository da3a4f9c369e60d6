//! `Store::reset` on PostgreSQL: one transaction that locks every table it
//! empties (and the accounts and keys it prunes) before touching any.
//!
//! Why no replica sees it half done: `LOCK TABLE … IN ACCESS EXCLUSIVE
//! MODE` waits for the transactions already using those tables and holds
//! back every later read and write of them until the reset commits, so a
//! request's statements all run before the reset or after it. A deadlock
//! with a request that already held one of the tables is retried by
//! `in_tx!` like any other. TRUNCATE then empties the tables in one
//! statement (links and resources together, as foreign keys require).
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

/// The identifier quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) async fn reset(tx: &Transaction<'_>, keep_account: &str) -> Result<(), Error> {
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
