//! Schema migrations, applied in order and tracked with `PRAGMA user_version`.
//! Append only: never edit a shipped step.

use rusqlite::Connection;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, keys, resources and their links, client tokens.
    r#"
    CREATE TABLE accounts (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        created_ms  INTEGER NOT NULL
    );
    CREATE TABLE access_keys (
        id          TEXT PRIMARY KEY,
        account_id  TEXT NOT NULL REFERENCES accounts(id),
        principal   TEXT NOT NULL,
        secret      TEXT NOT NULL,
        status      TEXT NOT NULL,
        created_ms  INTEGER NOT NULL
    );
    CREATE TABLE resources (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        id                TEXT NOT NULL UNIQUE,
        kind              TEXT NOT NULL,
        account_id        TEXT NOT NULL,
        region_id         TEXT NOT NULL,
        parent_id         TEXT,
        resource_group_id TEXT NOT NULL,
        status            TEXT,
        pending_due_ms    INTEGER,
        pending_status    TEXT,
        version           INTEGER NOT NULL,
        doc               TEXT NOT NULL
    );
    CREATE INDEX resources_by_scope ON resources(account_id, region_id, kind, seq);
    CREATE INDEX resources_by_parent ON resources(parent_id, kind) WHERE parent_id IS NOT NULL;
    CREATE TABLE resource_links (
        from_id TEXT NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
        to_id   TEXT NOT NULL REFERENCES resources(id),
        PRIMARY KEY (from_id, to_id)
    ) WITHOUT ROWID;
    CREATE INDEX resource_links_by_target ON resource_links(to_id);
    CREATE TABLE client_tokens (
        account_id  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        token       TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        PRIMARY KEY (account_id, kind, token)
    ) WITHOUT ROWID;
    "#,
];

/// Brings the database to the newest schema.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (version, step) in (1i64..).zip(MIGRATIONS) {
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
    }
    Ok(())
}
