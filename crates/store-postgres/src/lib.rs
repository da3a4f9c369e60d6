//! PostgreSQL implementation of [`vpngw_store::Store`], for one or more
//! `vpngw serve` replicas sharing one database.
//!
//! Every write runs in one READ COMMITTED transaction and commits durably
//! (`synchronous_commit = on` is forced on the main pool) before it is
//! acknowledged. The invariants the trait promises hold across processes
//! because they are enforced by the database, never by process memory:
//!
//! - links are foreign keys (`resource_links.to_id … ON DELETE RESTRICT`);
//!   an insert or update takes `FOR KEY SHARE` on the records it links to,
//!   and a delete takes `FOR UPDATE` on its record before it looks for
//!   users, so a link and a delete cannot cross;
//! - optimistic versions are a conditional `UPDATE … WHERE version = $read`;
//! - `ClientToken`s are reserved first, with `INSERT … ON CONFLICT DO
//!   NOTHING` on the primary key (account, kind, token): a concurrent
//!   request with the same token waits for the first one's outcome and then
//!   replays it;
//! - quotas and unique field combinations are a count (or a lookup) and an
//!   insert serialized by a lock: per-parent quotas lock the parent's row
//!   (`SELECT … FOR NO KEY UPDATE`), per-scope quotas and unique checks take
//!   a transaction-scoped advisory lock on (kind, account, region). Locks
//!   rather than SERIALIZABLE: 64 concurrent creates under one quota then
//!   queue instead of aborting and retrying each other (a deadlock or
//!   serialization failure, should one still happen, is retried);
//! - signature nonces live in the `nonces` table with a unique
//!   (access_key_id, nonce) and an expiry, purged about once a minute per
//!   process; see [`NONCE_POOL_OPTIONS`] for why their commits may be
//!   asynchronous.
//!
//! The schema is migrated on connect (see `schema.rs`), under an advisory
//! lock so that replicas starting together apply each step once.

mod error;
mod identity;
mod logs;
mod queries;
mod reset;
mod revisions;
mod schema;

use std::{
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use vpngw_store::identity::{
    AttachTarget, Attachment, EffectivePolicy, GroupRecord, MarkerPage, Membership, PolicyRecord,
    PolicyVersionRecord, PrincipalKind, RoleRecord, StsCredentialRecord, UserRecord, UserUpdate,
};
use vpngw_store::{
    AccessKeyRecord, AccountRecord, AuditEvent, AuditQuery, CountBy, InsertGuard, Inserted, Kind,
    ListQuery, LogEntry, LogPage, LogQuery, Page, Record, Scope, Store, StoreError, Trail,
};

pub(crate) use error::Error;

/// Session options of the nonce pool. Its connections only ever touch the
/// `nonces` table, so relaxing `synchronous_commit` there relaxes nothing
/// else. It is safe because a nonce lost in a database crash (at most the
/// last ~3 × `wal_writer_delay`, 600 ms by default, of asynchronous commits)
/// can only let a request be replayed if it was captured and replayed within
/// those milliseconds *and* it wrote nothing: any durable commit made after
/// the nonce (the request's own write, or anyone else's) flushes the WAL
/// past the nonce's commit record. That is strictly stronger than the
/// embedded SQLite backend, which keeps nonces in memory and forgets them
/// all on a restart. The main pool forces `synchronous_commit = on`.
pub const NONCE_POOL_OPTIONS: &str = "-c synchronous_commit=off";

const MAIN_POOL_OPTIONS: &str = "-c synchronous_commit=on";

/// How a [`PgStore`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The schema holding vpngw's tables, created if missing. `None`: the
    /// connection's own `search_path` (normally `public`, or whatever the
    /// URL's `options=-csearch_path=…` says).
    pub schema: Option<String>,
    /// Most connections of the main pool; the nonce pool opens at most half
    /// as many (at least 2).
    pub max_connections: usize,
    /// Whether `Store::reset` may be called (`vpngw serve --dev`): then every
    /// write transaction first takes the reset's advisory lock in shared mode
    /// (one more statement), so that a reset waits for the writes in flight
    /// and holds back new ones instead of deadlocking with them (reset.rs).
    pub resettable: bool,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: None,
            max_connections: 16,
            resettable: false,
        }
    }
}

/// A [`Store`] on PostgreSQL. Cheap to share (`Arc` inside); every method
/// takes a pooled connection for the duration of one statement or one
/// transaction.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    nonce_pool: Pool,
    /// When (epoch ms, by the callers' clock) this process next purges
    /// expired nonces.
    next_nonce_purge_ms: Arc<AtomicI64>,
    /// Wakes this replica's watchers of a gateway when any replica commits
    /// a change of it (revisions.rs).
    feed: Arc<vpngw_store::GatewayFeed>,
    /// The `LISTEN` connection's task, stopped with the last clone.
    _listener: Arc<AbortOnDrop>,
    /// [`PgOptions::resettable`].
    resettable: bool,
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Attempts of a transaction that hit a serialization failure or deadlock.
const MAX_ATTEMPTS: u32 = 5;

/// Runs `$body`, an expression awaiting a `Result<T, Error>` that uses
/// `$tx: &deadpool_postgres::Transaction`, in one READ COMMITTED
/// transaction: commits on `Ok`, rolls back on `Err`, and runs the whole
/// transaction again on a serialization failure or a deadlock.
macro_rules! in_tx {
    ($store:expr, $op:literal, |$tx:ident| $body:expr) => {{
        let started = std::time::Instant::now();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result: Result<_, $crate::Error> = async {
                let mut client = $store.pool.get().await?;
                let tx = client.transaction().await?;
                if $store.resettable {
                    reset::step_aside(&tx).await?;
                }
                let outcome = {
                    let $tx = &tx;
                    $body.await
                };
                match outcome {
                    Ok(value) => {
                        tx.commit().await?;
                        Ok(value)
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
            .await;
            match result {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    tracing::debug!(error = %e, attempt, "retrying a transaction");
                    tokio::time::sleep(Duration::from_millis(u64::from(attempt) * 5)).await;
                }
                other => {
                    record_duration($op, "write", started);
                    break other.map_err(StoreError::from);
                }
            }
        }
    }};
}

/// Runs `$body`, an expression awaiting a `Result<T, Error>` that uses
/// `$c: &deadpool_postgres::Client`, on a pooled connection outside any
/// transaction (one statement, or reads that need no common snapshot).
macro_rules! read {
    ($store:expr, $op:literal, |$c:ident| $body:expr) => {
        read!($store, $op, "read", |$c| $body)
    };
    ($store:expr, $op:literal, $mode:literal, |$c:ident| $body:expr) => {{
        let started = std::time::Instant::now();
        let result: Result<_, StoreError> = async {
            let $c = $store.client().await?;
            let $c = &$c;
            Ok($body.await?)
        }
        .await;
        record_duration($op, $mode, started);
        result
    }};
}

/// `vpngw_store_operation_duration_seconds{op,mode}`, as the SQLite backend
/// records it (a no-op unless the process installed a metrics recorder).
fn record_duration(op: &'static str, mode: &'static str, started: std::time::Instant) {
    metrics::histogram!(
        "vpngw_store_operation_duration_seconds",
        "op" => op,
        "mode" => mode
    )
    .record(started.elapsed().as_secs_f64());
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?…`, or the
    /// key=value form), migrates the schema and returns the store.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        Self::connect_with(url, PgOptions::default()).await
    }

    pub async fn connect_with(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Internal(format!("the database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("vpngw");
        }
        let mut session = config.get_options().unwrap_or("").to_owned();
        if let Some(schema) = &options.schema {
            if schema.is_empty()
                || !schema
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(StoreError::Internal(format!(
                    "schema name {schema:?}: use lower-case letters, digits and _"
                )));
            }
            session.push_str(&format!(" -c search_path={schema}"));
        }
        let pool = |extra: &str, size: usize| {
            let mut c = config.clone();
            c.options(format!("{session} {extra}").trim().to_owned());
            let manager = Manager::from_config(
                c,
                NoTls,
                ManagerConfig {
                    recycling_method: RecyclingMethod::Fast,
                },
            );
            Pool::builder(manager)
                .max_size(size)
                .build()
                .map_err(|e| StoreError::Internal(format!("building the connection pool: {e}")))
        };
        let max = options.max_connections.max(2);
        let feed = Arc::new(vpngw_store::GatewayFeed::default());
        let main = pool(MAIN_POOL_OPTIONS, max)?;
        let mut client = main.get().await.map_err(Error::from)?;
        schema::migrate(&mut client, options.schema.as_deref()).await?;
        let store = PgStore {
            pool: main,
            nonce_pool: pool(NONCE_POOL_OPTIONS, (max / 2).max(2))?,
            next_nonce_purge_ms: Arc::new(AtomicI64::new(0)),
            _listener: Arc::new(AbortOnDrop(revisions::listen(config, feed.clone()))),
            feed,
            resettable: options.resettable,
        };
        Ok(store)
    }

    /// A session setting (`SHOW name`) as the main pool's connections have
    /// it, or the nonce pool's. For tests of the durability settings.
    #[doc(hidden)]
    pub async fn session_setting(
        &self,
        nonce_pool: bool,
        name: &str,
    ) -> Result<String, StoreError> {
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(StoreError::Internal(format!("setting name {name:?}")));
        }
        let pool = if nonce_pool {
            &self.nonce_pool
        } else {
            &self.pool
        };
        let client = pool.get().await.map_err(Error::from)?;
        let row = client
            .query_one(&format!("SHOW {name}"), &[])
            .await
            .map_err(Error::from)?;
        Ok(row.get(0))
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        Ok(self.pool.get().await.map_err(Error::from)?)
    }

    /// Deletes expired nonces in the background, at most once a minute per
    /// process (every replica does it; the deletes are idempotent).
    fn maybe_purge_nonces(&self, now_ms: i64) {
        let due = self.next_nonce_purge_ms.load(Ordering::Relaxed);
        if now_ms < due
            || self
                .next_nonce_purge_ms
                .compare_exchange(due, now_ms + 60_000, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let pool = self.nonce_pool.clone();
        tokio::spawn(async move {
            let result = async {
                let client = pool.get().await?;
                queries::purge_nonces(&client, now_ms).await
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "purging expired nonces failed");
            }
        });
    }
}

#[async_trait]
impl Store for PgStore {
    async fn insert(&self, record: Record, guard: InsertGuard) -> Result<Inserted, StoreError> {
        in_tx!(self, "insert", |tx| queries::insert(tx, &record, &guard))
    }

    async fn get(&self, kind: Kind, scope: &Scope, id: &str) -> Result<Option<Record>, StoreError> {
        read!(self, "get", |c| queries::get(c, kind, scope, id))
    }

    async fn update(&self, record: Record) -> Result<Record, StoreError> {
        in_tx!(self, "update", |tx| queries::update(tx, &record))
    }

    async fn delete(&self, kind: Kind, scope: &Scope, id: &str) -> Result<(), StoreError> {
        in_tx!(self, "delete", |tx| queries::delete(tx, kind, scope, id))
    }

    async fn delete_cascade(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
    ) -> Result<Vec<String>, StoreError> {
        in_tx!(self, "delete_cascade", |tx| queries::delete_cascade(
            tx, kind, scope, id, cascade
        ))
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        read!(self, "list", |c| queries::list(c, query))
    }

    async fn insert_with(
        &self,
        record: Record,
        guard: InsertGuard,
        trail: Trail,
    ) -> Result<Inserted, StoreError> {
        in_tx!(self, "insert", |tx| async {
            let inserted = queries::insert(tx, &record, &guard).await?;
            if inserted == Inserted::Created {
                logs::append_trail(tx, &trail).await?;
            }
            Ok::<_, Error>(inserted)
        })
    }

    async fn update_with(&self, record: Record, trail: Trail) -> Result<Record, StoreError> {
        in_tx!(self, "update", |tx| async {
            let updated = queries::update(tx, &record).await?;
            logs::append_trail(tx, &trail).await?;
            Ok::<_, Error>(updated)
        })
    }

    async fn delete_cascade_with(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
        trail: Trail,
    ) -> Result<Vec<String>, StoreError> {
        in_tx!(self, "delete_cascade", |tx| async {
            let gone = queries::delete_cascade(tx, kind, scope, id, cascade).await?;
            logs::append_trail(tx, &trail).await?;
            Ok::<_, Error>(gone)
        })
    }

    async fn gateway_changes(
        &self,
        gateway_id: &str,
        since: i64,
    ) -> Result<vpngw_store::GatewayChanges, StoreError> {
        read!(self, "gateway_changes", |c| revisions::changes(
            c, gateway_id, since
        ))
    }

    fn gateway_feed(&self) -> &vpngw_store::GatewayFeed {
        &self.feed
    }

    async fn record_measurements(
        &self,
        updates: Vec<(Record, Vec<LogEntry>)>,
        logs: Vec<LogEntry>,
    ) -> Result<Vec<Result<Record, StoreError>>, StoreError> {
        in_tx!(self, "record_measurements", |tx| async {
            let mut outcomes = Vec::with_capacity(updates.len());
            for (record, entries) in &updates {
                // Each update in its own savepoint: one that fails leaves
                // the others.
                tx.batch_execute("SAVEPOINT measurement").await?;
                let outcome = async {
                    let updated = queries::update_record(tx, record).await?;
                    logs::append_log(tx, entries).await?;
                    Ok::<_, Error>(updated)
                }
                .await;
                match outcome {
                    Ok(r) => {
                        tx.batch_execute("RELEASE SAVEPOINT measurement").await?;
                        outcomes.push(Ok(r));
                    }
                    // A database failure (a deadlock) fails the whole
                    // transaction, which then runs again.
                    Err(Error::Store(e)) => {
                        tx.batch_execute("ROLLBACK TO SAVEPOINT measurement")
                            .await?;
                        outcomes.push(Err(e));
                    }
                    Err(e) => return Err(e),
                }
            }
            logs::append_log(tx, &logs).await?;
            Ok::<_, Error>(outcomes)
        })
    }

    async fn append_log(&self, entries: Vec<LogEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        in_tx!(self, "append_log", |tx| logs::append_log(tx, &entries))
    }

    async fn list_logs(&self, query: &LogQuery) -> Result<LogPage, StoreError> {
        read!(self, "list_logs", |c| logs::list_logs(c, query))
    }

    async fn append_audit(&self, event: AuditEvent) -> Result<(), StoreError> {
        read!(self, "append_audit", "write", |c| logs::append_audit(
            c, &event
        ))
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        read!(self, "audit_events", |c| logs::audit_events(c, query))
    }

    async fn count_by(
        &self,
        kind: Kind,
        by: CountBy,
        now_ms: i64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        read!(self, "count_by", |c| logs::count_by(c, kind, by, now_ms))
    }

    async fn create_account(
        &self,
        account: AccountRecord,
        key: AccessKeyRecord,
    ) -> Result<(), StoreError> {
        in_tx!(self, "create_account", |tx| queries::create_account(
            tx, &account, &key
        ))
    }

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        read!(self, "accounts", |c| queries::accounts(c))
    }

    async fn replace_root_keys(&self, key: AccessKeyRecord) -> Result<Vec<String>, StoreError> {
        in_tx!(self, "replace_root_keys", |tx| queries::replace_root_keys(
            tx, &key
        ))
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        read!(self, "access_key", |c| queries::access_key(c, id))
    }

    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.maybe_purge_nonces(now_ms);
        let started = std::time::Instant::now();
        let result: Result<bool, Error> = async {
            let c = self.nonce_pool.get().await?;
            queries::use_nonce(&c, access_key_id, nonce, now_ms).await
        }
        .await;
        record_duration("use_nonce", "write", started);
        Ok(result?)
    }

    // ---- RAM and STS (identity.rs) -----------------------------------------

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        in_tx!(self, "create_user", |tx| identity::create_user(tx, &user))
    }

    async fn get_user(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        read!(self, "get_user", |c| identity::get_user(
            c, account_id, name
        ))
    }

    async fn list_users(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<UserRecord>, StoreError> {
        read!(self, "list_users", |c| identity::list_users(
            c, account_id, marker, limit
        ))
    }

    async fn update_user(
        &self,
        account_id: &str,
        name: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError> {
        in_tx!(self, "update_user", |tx| identity::update_user(
            tx, account_id, name, &update
        ))
    }

    async fn delete_user(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        in_tx!(self, "delete_user", |tx| identity::delete_principal(
            tx,
            PrincipalKind::User,
            account_id,
            name
        ))
    }

    async fn create_user_access_key(
        &self,
        key: AccessKeyRecord,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        in_tx!(self, "create_user_access_key", |tx| {
            identity::create_user_access_key(tx, &key, max_per_user)
        })
    }

    async fn list_access_keys(
        &self,
        account_id: &str,
        principal: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        read!(self, "list_access_keys", |c| identity::list_access_keys(
            c, account_id, principal
        ))
    }

    async fn set_access_key_status(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        in_tx!(self, "set_access_key_status", |tx| {
            identity::set_access_key_status(tx, account_id, principal, key_id, status)
        })
    }

    async fn delete_access_key(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
    ) -> Result<(), StoreError> {
        in_tx!(self, "delete_access_key", |tx| identity::delete_access_key(
            tx, account_id, principal, key_id
        ))
    }

    async fn create_group(&self, group: GroupRecord) -> Result<(), StoreError> {
        in_tx!(self, "create_group", |tx| identity::create_group(
            tx, &group
        ))
    }

    async fn get_group(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        read!(self, "get_group", |c| identity::get_group(
            c, account_id, name
        ))
    }

    async fn delete_group(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        in_tx!(self, "delete_group", |tx| identity::delete_principal(
            tx,
            PrincipalKind::Group,
            account_id,
            name
        ))
    }

    async fn add_user_to_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
        joined_ms: i64,
        max_groups_per_user: u32,
    ) -> Result<(), StoreError> {
        in_tx!(self, "add_user_to_group", |tx| identity::add_user_to_group(
            tx,
            account_id,
            group,
            user,
            joined_ms,
            max_groups_per_user
        ))
    }

    async fn remove_user_from_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
    ) -> Result<(), StoreError> {
        in_tx!(self, "remove_user_from_group", |tx| {
            identity::remove_user_from_group(tx, account_id, group, user)
        })
    }

    async fn list_groups_for_user(
        &self,
        account_id: &str,
        user: &str,
    ) -> Result<Vec<Membership>, StoreError> {
        read!(self, "list_groups_for_user", |c| {
            identity::list_groups_for_user(c, account_id, user)
        })
    }

    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        in_tx!(self, "create_role", |tx| identity::create_role(tx, &role))
    }

    async fn get_role(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<RoleRecord>, StoreError> {
        read!(self, "get_role", |c| identity::get_role(
            c, account_id, name
        ))
    }

    async fn list_roles(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<RoleRecord>, StoreError> {
        read!(self, "list_roles", |c| identity::list_roles(
            c, account_id, marker, limit
        ))
    }

    async fn delete_role(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        in_tx!(self, "delete_role", |tx| identity::delete_principal(
            tx,
            PrincipalKind::Role,
            account_id,
            name
        ))
    }

    async fn create_policy(
        &self,
        policy: PolicyRecord,
        document: String,
        max_policies: u32,
    ) -> Result<(), StoreError> {
        in_tx!(self, "create_policy", |tx| identity::create_policy(
            tx,
            &policy,
            &document,
            max_policies
        ))
    }

    async fn get_policy(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<(PolicyRecord, PolicyVersionRecord)>, StoreError> {
        read!(self, "get_policy", |c| identity::get_policy(
            c, account_id, name
        ))
    }

    async fn list_policies(&self, account_id: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        read!(self, "list_policies", |c| identity::list_policies(
            c, account_id
        ))
    }

    async fn delete_policy(
        &self,
        account_id: &str,
        name: &str,
        cascade: bool,
    ) -> Result<(), StoreError> {
        in_tx!(self, "delete_policy", |tx| identity::delete_policy(
            tx, account_id, name, cascade
        ))
    }

    async fn create_policy_version(
        &self,
        account_id: &str,
        name: &str,
        document: String,
        set_default: bool,
        now_ms: i64,
        max_versions: u32,
    ) -> Result<PolicyVersionRecord, StoreError> {
        in_tx!(self, "create_policy_version", |tx| {
            identity::create_policy_version(
                tx,
                account_id,
                name,
                &document,
                set_default,
                now_ms,
                max_versions,
            )
        })
    }

    async fn attach_policy(
        &self,
        account_id: &str,
        target: AttachTarget,
        now_ms: i64,
        max_per_principal: u32,
    ) -> Result<(), StoreError> {
        in_tx!(self, "attach_policy", |tx| identity::attach_policy(
            tx,
            account_id,
            &target,
            now_ms,
            max_per_principal
        ))
    }

    async fn detach_policy(
        &self,
        account_id: &str,
        target: AttachTarget,
    ) -> Result<(), StoreError> {
        in_tx!(self, "detach_policy", |tx| identity::detach_policy(
            tx, account_id, &target
        ))
    }

    async fn list_attachments(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<Attachment>, StoreError> {
        read!(self, "list_attachments", |c| identity::list_attachments(
            c, account_id, kind, principal
        ))
    }

    async fn effective_policies(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<EffectivePolicy>, StoreError> {
        read!(
            self,
            "effective_policies",
            |c| identity::effective_policies(c, account_id, kind, principal)
        )
    }

    async fn create_sts_credential(
        &self,
        credential: StsCredentialRecord,
    ) -> Result<(), StoreError> {
        in_tx!(self, "create_sts_credential", |tx| {
            identity::create_sts_credential(tx, &credential)
        })
    }

    async fn sts_credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<StsCredentialRecord>, StoreError> {
        read!(self, "sts_credential", |c| identity::sts_credential(
            c,
            access_key_id
        ))
    }

    async fn reset(&self, keep_account: &str) -> Result<(), StoreError> {
        if !self.resettable {
            return Err(StoreError::Internal(
                "this PostgreSQL store was not opened resettable (PgOptions::resettable)".into(),
            ));
        }
        in_tx!(self, "reset", |tx| reset::reset(tx, keep_account))
    }
}
