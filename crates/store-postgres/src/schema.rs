//! Schema migrations, applied in order and recorded in `vpngw_schema`.
//! Append only: never edit a shipped step. Step N mirrors step N of the
//! SQLite backend (crates/store/src/sqlite/schema.rs), so a colleague who
//! adds a table there adds the same step here.
//!
//! Replicas may start together: migrating takes a transaction-scoped
//! advisory lock first, and every step of one start commits together.

use deadpool_postgres::Client;

use crate::Error;

/// Key of the advisory lock held while migrating (any constant unlikely to
/// be used by another application on the same database).
const MIGRATION_LOCK: i64 = 0x7670_6e67_775f_6d67; // "vpngw_mg"

const MIGRATIONS: &[&str] = &[
    // 1: accounts, keys, resources and their links, client tokens, and (unlike
    // SQLite, which keeps them in memory) the signature nonces every replica
    // must share.
    r#"
    CREATE TABLE accounts (
        id          text PRIMARY KEY,
        name        text NOT NULL UNIQUE,
        created_ms  bigint NOT NULL
    );
    CREATE TABLE access_keys (
        id          text PRIMARY KEY,
        account_id  text NOT NULL REFERENCES accounts(id),
        principal   text NOT NULL,
        secret      text NOT NULL,
        status      text NOT NULL,
        created_ms  bigint NOT NULL
    );
    CREATE TABLE resources (
        seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        id                text PRIMARY KEY,
        kind              text NOT NULL,
        account_id        text NOT NULL,
        region_id         text NOT NULL,
        parent_id         text,
        resource_group_id text NOT NULL,
        status            text,
        pending_due_ms    bigint,
        pending_status    text,
        version           bigint NOT NULL,
        -- The document exactly as written (what readers get back) and its
        -- jsonb form for filters. jsonb cannot hold \u0000, which JSON text
        -- can: the filter copy turns it into U+FFFD.
        doc               text NOT NULL,
        body              jsonb GENERATED ALWAYS AS (replace(doc, '\u0000', '\ufffd')::jsonb) STORED
    );
    CREATE INDEX resources_by_scope ON resources (account_id, region_id, kind, seq);
    CREATE INDEX resources_by_parent ON resources (parent_id, kind) WHERE parent_id IS NOT NULL;
    CREATE INDEX resources_by_kind ON resources (kind);
    CREATE INDEX resources_tags ON resources USING gin ((body -> 'tags') jsonb_path_ops);
    CREATE TABLE resource_links (
        from_id text NOT NULL REFERENCES resources(id) ON DELETE CASCADE,
        to_id   text NOT NULL REFERENCES resources(id) ON DELETE RESTRICT,
        PRIMARY KEY (from_id, to_id)
    );
    CREATE INDEX resource_links_by_target ON resource_links (to_id);
    CREATE TABLE client_tokens (
        account_id  text NOT NULL,
        kind        text NOT NULL,
        token       text NOT NULL,
        fingerprint text NOT NULL,
        resource_id text NOT NULL,
        created_ms  bigint NOT NULL,
        PRIMARY KEY (account_id, kind, token)
    );
    CREATE TABLE nonces (
        access_key_id text NOT NULL,
        nonce         text NOT NULL,
        expires_ms    bigint NOT NULL,
        PRIMARY KEY (access_key_id, nonce)
    );
    CREATE INDEX nonces_by_expiry ON nonces (expires_ms);
    "#,
    // 2: RAM users, groups, roles, custom policies and their versions,
    // policy attachments, and STS temporary credentials. Every row carries
    // its account; names are unique per account.
    r#"
    CREATE TABLE ram_users (
        seq           bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        account_id    text NOT NULL,
        user_id       text NOT NULL UNIQUE,
        name          text NOT NULL,
        display_name  text NOT NULL,
        email         text NOT NULL,
        mobile_phone  text NOT NULL,
        comments      text NOT NULL,
        created_ms    bigint NOT NULL,
        updated_ms    bigint NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE INDEX access_keys_by_principal ON access_keys (account_id, principal);
    CREATE TABLE ram_groups (
        seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        account_id  text NOT NULL,
        group_id    text NOT NULL UNIQUE,
        name        text NOT NULL,
        comments    text NOT NULL,
        created_ms  bigint NOT NULL,
        updated_ms  bigint NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_group_members (
        account_id  text NOT NULL,
        group_id    text NOT NULL,
        user_id     text NOT NULL,
        joined_ms   bigint NOT NULL,
        PRIMARY KEY (account_id, group_id, user_id)
    );
    CREATE INDEX ram_group_members_by_user ON ram_group_members (account_id, user_id);
    CREATE TABLE ram_roles (
        seq                   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        account_id            text NOT NULL,
        role_id               text NOT NULL UNIQUE,
        name                  text NOT NULL,
        description           text NOT NULL,
        trust_policy          text NOT NULL,
        max_session_duration  bigint NOT NULL,
        created_ms            bigint NOT NULL,
        updated_ms            bigint NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_policies (
        seq              bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        account_id       text NOT NULL,
        name             text NOT NULL,
        description      text NOT NULL,
        default_version  text NOT NULL,
        next_version     bigint NOT NULL,
        created_ms       bigint NOT NULL,
        updated_ms       bigint NOT NULL,
        UNIQUE (account_id, name)
    );
    CREATE TABLE ram_policy_versions (
        account_id   text NOT NULL,
        policy_name  text NOT NULL,
        version_id   text NOT NULL,
        document     text NOT NULL,
        created_ms   bigint NOT NULL,
        PRIMARY KEY (account_id, policy_name, version_id)
    );
    CREATE TABLE ram_attachments (
        account_id      text NOT NULL,
        principal_type  text NOT NULL,
        principal_id    text NOT NULL,
        policy_type     text NOT NULL,
        policy_name     text NOT NULL,
        attached_ms     bigint NOT NULL,
        PRIMARY KEY (account_id, principal_type, principal_id, policy_type, policy_name)
    );
    CREATE INDEX ram_attachments_by_policy ON ram_attachments (account_id, policy_type, policy_name);
    CREATE TABLE sts_credentials (
        access_key_id   text PRIMARY KEY,
        account_id      text NOT NULL,
        secret          text NOT NULL,
        token_sha256    text NOT NULL,
        role_id         text NOT NULL,
        role_name       text NOT NULL,
        session_name    text NOT NULL,
        session_policy  text,
        created_ms      bigint NOT NULL,
        expires_ms      bigint NOT NULL
    );
    CREATE INDEX sts_credentials_by_expiry ON sts_credentials (expires_ms);
    "#,
    // 3: the event log of connections and tunnels (DescribeVpnConnectionLogs).
    // Append-only: a trigger refuses any update of an entry.
    r#"
    CREATE TABLE event_log (
        seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id   text NOT NULL,
        region_id    text NOT NULL,
        resource_id  text NOT NULL,
        tunnel_id    text,
        time_ms      bigint NOT NULL,
        source       text NOT NULL,
        message      text NOT NULL
    );
    CREATE INDEX event_log_by_resource ON event_log (account_id, region_id, resource_id, time_ms, seq);
    CREATE FUNCTION vpngw_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
    END;
    $$;
    CREATE TRIGGER event_log_append_only BEFORE UPDATE ON event_log
        FOR EACH ROW EXECUTE FUNCTION vpngw_append_only();
    "#,
    // 4: the audit log of writes through the API (append-only: no update,
    // no delete), newest first by time for `vpngw audit`.
    r#"
    CREATE TABLE audit_log (
        seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        time_ms        bigint NOT NULL,
        request_id     text NOT NULL,
        account_id     text NOT NULL,
        principal      text NOT NULL,
        access_key_id  text NOT NULL,
        source_ip      text,
        product        text NOT NULL,
        action         text NOT NULL,
        region_id      text,
        resource_ids   jsonb NOT NULL,
        code           text
    );
    CREATE INDEX audit_log_by_time ON audit_log (time_ms, seq);
    CREATE INDEX audit_log_by_account ON audit_log (account_id, time_ms);
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
        FOR EACH ROW EXECUTE FUNCTION vpngw_append_only();
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION vpngw_append_only();
    "#,
    // 5 (SQLite's 7): the revision of each VPN gateway's desired state
    // (revisions.rs, WatchGatewayState) and what changed at each revision.
    r#"
    CREATE TABLE gateway_revisions (
        gateway_id  text PRIMARY KEY,
        revision    bigint NOT NULL,
        horizon     bigint NOT NULL
    );
    CREATE TABLE gateway_changes (
        gateway_id   text NOT NULL,
        revision     bigint NOT NULL,
        resource_id  text NOT NULL,
        kind         text NOT NULL,
        PRIMARY KEY (gateway_id, revision, resource_id)
    );
    "#,
];

/// Brings the database (or `schema`) to the newest schema.
pub async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), Error> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    // No "already exists, skipping" notices in the server's log.
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    if let Some(schema) = schema {
        // Validated by the caller: lower-case letters, digits and _.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS vpngw_schema (
            version     integer PRIMARY KEY,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let current: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM vpngw_schema", &[])
        .await?
        .get(0);
    if usize::try_from(current).unwrap_or(0) > MIGRATIONS.len() {
        return Err(Error::Store(vpngw_store::StoreError::Internal(format!(
            "the database schema is at version {current}, newer than this vpngw knows ({}): \
             upgrade every replica",
            MIGRATIONS.len()
        ))));
    }
    for (version, step) in (1i32..).zip(MIGRATIONS) {
        if version <= current {
            continue;
        }
        tx.batch_execute(step).await?;
        tx.execute(
            "INSERT INTO vpngw_schema (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tracing::info!(version, "applied a PostgreSQL schema migration");
    }
    tx.commit().await?;
    Ok(())
}
