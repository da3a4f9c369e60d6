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
    // 2: RAM users, groups, roles, custom policies and their versions,
    // policy attachments, and STS temporary credentials. Every row carries
    // its account; names are unique per account.
    r#"
    CREATE TABLE ram_users (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id    TEXT NOT NULL,
        user_id       TEXT NOT NULL UNIQUE,
        name          TEXT NOT NULL,
        display_name  TEXT NOT NULL,
        email         TEXT NOT NULL,
        mobile_phone  TEXT NOT NULL,
        comments      TEXT NOT NULL,
        created_ms    INTEGER NOT NULL,
        updated_ms    INTEGER NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE INDEX access_keys_by_principal ON access_keys(account_id, principal);
    CREATE TABLE ram_groups (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id  TEXT NOT NULL,
        group_id    TEXT NOT NULL UNIQUE,
        name        TEXT NOT NULL,
        comments    TEXT NOT NULL,
        created_ms  INTEGER NOT NULL,
        updated_ms  INTEGER NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_group_members (
        account_id  TEXT NOT NULL,
        group_id    TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        joined_ms   INTEGER NOT NULL,
        PRIMARY KEY (account_id, group_id, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX ram_group_members_by_user ON ram_group_members(account_id, user_id);
    CREATE TABLE ram_roles (
        seq                   INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id            TEXT NOT NULL,
        role_id               TEXT NOT NULL UNIQUE,
        name                  TEXT NOT NULL,
        description           TEXT NOT NULL,
        trust_policy          TEXT NOT NULL,
        max_session_duration  INTEGER NOT NULL,
        created_ms            INTEGER NOT NULL,
        updated_ms            INTEGER NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_policies (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id       TEXT NOT NULL,
        name             TEXT NOT NULL,
        description      TEXT NOT NULL,
        default_version  TEXT NOT NULL,
        next_version     INTEGER NOT NULL,
        created_ms       INTEGER NOT NULL,
        updated_ms       INTEGER NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_policy_versions (
        account_id   TEXT NOT NULL,
        policy_name  TEXT NOT NULL,
        version_id   TEXT NOT NULL,
        document     TEXT NOT NULL,
        created_ms   INTEGER NOT NULL,
        PRIMARY KEY (account_id, policy_name, version_id)
    ) WITHOUT ROWID;
    CREATE TABLE ram_attachments (
        account_id      TEXT NOT NULL,
        principal_type  TEXT NOT NULL,
        principal_id    TEXT NOT NULL,
        policy_type     TEXT NOT NULL,
        policy_name     TEXT NOT NULL,
        attached_ms     INTEGER NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id, policy_type, policy_name)
    ) WITHOUT ROWID;
    CREATE INDEX ram_attachments_by_policy ON ram_attachments(account_id, policy_type, policy_name);
    CREATE TABLE sts_credentials (
        access_key_id   TEXT PRIMARY KEY,
        account_id      TEXT NOT NULL,
        secret          TEXT NOT NULL,
        token_sha256    TEXT NOT NULL,
        role_id         TEXT NOT NULL,
        role_name       TEXT NOT NULL,
        session_name    TEXT NOT NULL,
        session_policy  TEXT,
        created_ms      INTEGER NOT NULL,
        expires_ms      INTEGER NOT NULL
    );
    CREATE INDEX sts_credentials_by_expiry ON sts_credentials(expires_ms);
    "#,
    // 3: the event log of connections and tunnels (DescribeVpnConnectionLogs).
    // Append-only: a trigger refuses any update of an entry.
    r#"
    CREATE TABLE event_log (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id   TEXT NOT NULL,
        region_id    TEXT NOT NULL,
        resource_id  TEXT NOT NULL,
        tunnel_id    TEXT,
        time_ms      INTEGER NOT NULL,
        source       TEXT NOT NULL,
        message      TEXT NOT NULL
    );
    CREATE INDEX event_log_by_resource ON event_log(account_id, region_id, resource_id, time_ms, seq);
    CREATE TRIGGER event_log_append_only BEFORE UPDATE ON event_log
    BEGIN
        SELECT RAISE(ABORT, 'event_log is append-only');
    END;
    "#,
    // 4: the audit log of writes through the API (append-only), newest
    // first by time for `vpngw audit`.
    r#"
    CREATE TABLE audit_log (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        time_ms        INTEGER NOT NULL,
        request_id     TEXT NOT NULL,
        account_id     TEXT NOT NULL,
        principal      TEXT NOT NULL,
        access_key_id  TEXT NOT NULL,
        source_ip      TEXT,
        product        TEXT NOT NULL,
        action         TEXT NOT NULL,
        region_id      TEXT,
        resource_ids   TEXT NOT NULL,
        code           TEXT
    );
    CREATE INDEX audit_log_by_time ON audit_log(time_ms, seq);
    CREATE INDEX audit_log_by_account ON audit_log(account_id, time_ms);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
    END;
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'audit_log is append-only');
    END;
    "#,
    // 5: what large accounts need (BENCHMARKS.md). An exact count of records
    // per scope and kind, kept by triggers in the writing transaction, so a
    // Describe*s list answers TotalCount without counting 100,000 rows; and
    // indexes for the unique checks of inserts (one connection per customer
    // gateway and VPN gateway, one customer gateway per IP address), which
    // read every document of the scope before.
    r#"
    CREATE TABLE resource_counts (
        account_id  TEXT NOT NULL,
        region_id   TEXT NOT NULL,
        kind        TEXT NOT NULL,
        n           INTEGER NOT NULL,
        PRIMARY KEY (account_id, region_id, kind)
    ) WITHOUT ROWID;
    INSERT INTO resource_counts (account_id, region_id, kind, n)
        SELECT account_id, region_id, kind, COUNT(*) FROM resources
        GROUP BY account_id, region_id, kind;
    CREATE TRIGGER resource_counts_insert AFTER INSERT ON resources
    BEGIN
        INSERT INTO resource_counts (account_id, region_id, kind, n)
        VALUES (NEW.account_id, NEW.region_id, NEW.kind, 1)
        ON CONFLICT (account_id, region_id, kind) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER resource_counts_delete AFTER DELETE ON resources
    BEGIN
        UPDATE resource_counts SET n = n - 1
        WHERE account_id = OLD.account_id AND region_id = OLD.region_id AND kind = OLD.kind;
    END;
    CREATE TRIGGER resource_counts_move AFTER UPDATE OF account_id, region_id, kind ON resources
    BEGIN
        UPDATE resource_counts SET n = n - 1
        WHERE account_id = OLD.account_id AND region_id = OLD.region_id AND kind = OLD.kind;
        INSERT INTO resource_counts (account_id, region_id, kind, n)
        VALUES (NEW.account_id, NEW.region_id, NEW.kind, 1)
        ON CONFLICT (account_id, region_id, kind) DO UPDATE SET n = n + 1;
    END;
    CREATE INDEX resources_by_gateways
        ON resources (account_id, region_id, kind, json_extract(doc, '$.customer_gateway_id'),
                      json_extract(doc, '$.vpn_gateway_id'));
    CREATE INDEX resources_by_ip_address
        ON resources (account_id, region_id, kind, json_extract(doc, '$.ip_address'));
    "#,
    // 6: the counts behind /metrics, kept by triggers in the writing
    // transaction, so that a scrape reads a few rows instead of every record
    // (sqlite/audit.rs, count_by). Records by lifecycle: settled ones under
    // their status (pending = 0), those with a transition under its target
    // (pending = 1; the few not yet due are looked up by the partial index
    // and moved back to their current status at read time). And records by
    // their document's top-level "status" (a connection's negotiation state).
    r#"
    CREATE TABLE resource_state_counts (
        kind     TEXT NOT NULL,
        pending  INTEGER NOT NULL,
        status   TEXT NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (kind, pending, status)
    ) WITHOUT ROWID;
    INSERT INTO resource_state_counts (kind, pending, status, n)
        SELECT kind, pending_due_ms IS NOT NULL,
               CASE WHEN pending_due_ms IS NOT NULL THEN COALESCE(pending_status, '')
                    ELSE COALESCE(status, '') END AS s,
               COUNT(*)
        FROM resources GROUP BY kind, pending_due_ms IS NOT NULL, s;
    CREATE TRIGGER resource_state_counts_insert AFTER INSERT ON resources
    BEGIN
        INSERT INTO resource_state_counts (kind, pending, status, n)
        VALUES (NEW.kind, NEW.pending_due_ms IS NOT NULL,
                CASE WHEN NEW.pending_due_ms IS NOT NULL THEN COALESCE(NEW.pending_status, '')
                     ELSE COALESCE(NEW.status, '') END, 1)
        ON CONFLICT (kind, pending, status) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER resource_state_counts_delete AFTER DELETE ON resources
    BEGIN
        UPDATE resource_state_counts SET n = n - 1
        WHERE kind = OLD.kind AND pending = (OLD.pending_due_ms IS NOT NULL)
          AND status = CASE WHEN OLD.pending_due_ms IS NOT NULL THEN COALESCE(OLD.pending_status, '')
                            ELSE COALESCE(OLD.status, '') END;
    END;
    CREATE TRIGGER resource_state_counts_update
    AFTER UPDATE OF kind, status, pending_due_ms, pending_status ON resources
    WHEN OLD.kind IS NOT NEW.kind
      OR (OLD.pending_due_ms IS NULL) IS NOT (NEW.pending_due_ms IS NULL)
      OR OLD.status IS NOT NEW.status
      OR OLD.pending_status IS NOT NEW.pending_status
    BEGIN
        UPDATE resource_state_counts SET n = n - 1
        WHERE kind = OLD.kind AND pending = (OLD.pending_due_ms IS NOT NULL)
          AND status = CASE WHEN OLD.pending_due_ms IS NOT NULL THEN COALESCE(OLD.pending_status, '')
                            ELSE COALESCE(OLD.status, '') END;
        INSERT INTO resource_state_counts (kind, pending, status, n)
        VALUES (NEW.kind, NEW.pending_due_ms IS NOT NULL,
                CASE WHEN NEW.pending_due_ms IS NOT NULL THEN COALESCE(NEW.pending_status, '')
                     ELSE COALESCE(NEW.status, '') END, 1)
        ON CONFLICT (kind, pending, status) DO UPDATE SET n = n + 1;
    END;
    CREATE INDEX resources_pending ON resources (kind, pending_due_ms)
        WHERE pending_due_ms IS NOT NULL;

    CREATE TABLE resource_status_field_counts (
        kind   TEXT NOT NULL,
        value  TEXT NOT NULL,
        n      INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    INSERT INTO resource_status_field_counts (kind, value, n)
        SELECT kind, COALESCE(json_extract(doc, '$.status') || '', '') AS v, COUNT(*)
        FROM resources GROUP BY kind, v;
    CREATE TRIGGER resource_status_field_counts_insert AFTER INSERT ON resources
    BEGIN
        INSERT INTO resource_status_field_counts (kind, value, n)
        VALUES (NEW.kind, COALESCE(json_extract(NEW.doc, '$.status') || '', ''), 1)
        ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
    END;
    CREATE TRIGGER resource_status_field_counts_delete AFTER DELETE ON resources
    BEGIN
        UPDATE resource_status_field_counts SET n = n - 1
        WHERE kind = OLD.kind AND value = COALESCE(json_extract(OLD.doc, '$.status') || '', '');
    END;
    CREATE TRIGGER resource_status_field_counts_update AFTER UPDATE OF kind, doc ON resources
    WHEN OLD.kind IS NOT NEW.kind
      OR json_extract(OLD.doc, '$.status') IS NOT json_extract(NEW.doc, '$.status')
    BEGIN
        UPDATE resource_status_field_counts SET n = n - 1
        WHERE kind = OLD.kind AND value = COALESCE(json_extract(OLD.doc, '$.status') || '', '');
        INSERT INTO resource_status_field_counts (kind, value, n)
        VALUES (NEW.kind, COALESCE(json_extract(NEW.doc, '$.status') || '', ''), 1)
        ON CONFLICT (kind, value) DO UPDATE SET n = n + 1;
    END;
    "#,
    // 7: the revision of each VPN gateway's desired state (revisions.rs,
    // WatchGatewayState), moved in the transaction of every write of a record
    // that belongs to the gateway, and what changed at each revision (the
    // last KEPT_CHANGES per gateway; `horizon`: changes at or below it are
    // forgotten, an agent that far behind reads everything).
    r#"
    CREATE TABLE gateway_revisions (
        gateway_id  TEXT PRIMARY KEY,
        revision    INTEGER NOT NULL,
        horizon     INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE gateway_changes (
        gateway_id   TEXT NOT NULL,
        revision     INTEGER NOT NULL,
        resource_id  TEXT NOT NULL,
        kind         TEXT NOT NULL,
        PRIMARY KEY (gateway_id, revision, resource_id)
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
