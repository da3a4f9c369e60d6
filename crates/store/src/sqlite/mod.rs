//! The embedded default: SQLite in WAL mode with `synchronous=FULL`, one
//! group-committing writer thread and a pool of reader connections.

mod audit;
mod cache;
mod checkpoint;
mod event_log;
mod identity;
mod lock;
mod nonces;
mod queries;
mod reset;
mod revisions;
mod schema;
mod timing;
mod trail;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};

use crate::identity::{
    AttachTarget, Attachment, EffectivePolicy, GroupRecord, MarkerPage, Membership, PolicyRecord,
    PolicyVersionRecord, PrincipalKind, RoleRecord, StsCredentialRecord, UserRecord, UserUpdate,
};
use crate::{
    AccessKeyRecord, AccountRecord, InsertGuard, Inserted, Kind, ListQuery, Page, Record, Scope,
    Store, StoreError,
};
use nonces::{NonceCache, Nonces};
use writer::Writer;

pub use lock::{DataDirLock, LOCK_FILE, LockError, lock_data_dir, prepare_data_dir};
pub use nonces::JOURNAL_DIR as NONCE_JOURNAL_DIR;

/// The database file inside the data directory.
pub const DB_FILE: &str = "vpngw.db";

pub struct SqliteStore {
    /// Every write goes through it, so that the read caches know of it.
    writer: cache::CachingWriter,
    readers: Arc<ReaderPool>,
    /// Signature nonces seen in the replay window (nonces.rs).
    nonces: Arc<Nonces>,
    data_dir: PathBuf,
    /// What every request reads: access keys, STS credentials, effective
    /// policies, records by id (cache.rs says why they are never stale).
    cache: Arc<cache::ReadCache>,
    /// Wakes the watchers of a gateway after the writer commits a change
    /// of it (revisions.rs).
    feed: Arc<crate::GatewayFeed>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        prepare_data_dir(data_dir)
            .map_err(|e| StoreError::Internal(format!("creating {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        owner_only(&path)?;
        let mut conn = open_connection(&path, false)?;
        schema::migrate(&mut conn)?;
        let cache = Arc::new(cache::ReadCache::default());
        let feed = Arc::new(crate::GatewayFeed::default());
        Ok(SqliteStore {
            writer: cache::CachingWriter::new(Writer::start(conn, feed.clone()), cache.clone()),
            feed,
            readers: Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            nonces: Nonces::new(NonceCache::new(crate::NonceLimits::default())),
            data_dir: data_dir.to_owned(),
            cache,
        })
    }

    /// For the process that serves this data directory (and holds its
    /// lock): signature nonces bounded by `limits` and kept in a journal
    /// (`<data dir>/nonces/`), so that a request accepted before a restart
    /// is refused after it. Reloads the journal's window.
    pub fn keep_nonces(mut self, limits: crate::NonceLimits) -> Result<SqliteStore, StoreError> {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        let cache = NonceCache::open_journal(&self.data_dir, limits, now_ms)?;
        self.nonces = Nonces::new(cache);
        Ok(self)
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        let (op, started) = (timing::op_name::<F>(), std::time::Instant::now());
        let result = tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task: {e}")))?;
        timing::record(op, "read", started);
        result
    }

    /// A read of one row by its key, run on the calling thread. It takes
    /// microseconds, less than handing it to the blocking pool and waking a
    /// thread for it: the hand-offs were most of DescribeVpnConnection's
    /// CPU time (BENCHMARKS.md, "Profile"). Scans and lists still go
    /// through [`Self::read`].
    fn read_now<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError>,
    {
        let (op, started) = (timing::op_name::<F>(), std::time::Instant::now());
        let conn = self.readers.take()?;
        let result = f(&conn);
        self.readers.give_back(conn);
        timing::record(op, "read", started);
        result
    }
}

/// The database and its WAL and shared-memory files are the owner's only
/// (0600): they hold sealed secrets and the audit log. SQLite gives the
/// `-wal` and `-shm` files the database file's mode, so a new database is
/// created empty with 0600 before SQLite opens it; files of an older data
/// directory are tightened.
fn owner_only(db: &Path) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let internal = |e: std::io::Error| StoreError::Internal(format!("{}: {e}", db.display()));
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(db)
            .map_err(internal)?;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", db.display()));
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                        .map_err(internal)?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

fn open_connection(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    // WAL lets readers run beside the writer; FULL makes every commit
    // durable before it is acknowledged.
    if !read_only {
        let _mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        // Each job of a group commit runs in a savepoint, whose sub-journal
        // would otherwise be a temporary file written page by page.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    // Every statement vpngw runs is prepared once per connection.
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    fn take(&self) -> Result<Connection, StoreError> {
        let pooled = self.idle.lock().map_err(poisoned)?.pop();
        match pooled {
            Some(c) => Ok(c),
            None => open_connection(&self.path, true),
        }
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < 64
        {
            idle.push(conn);
        }
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> StoreError {
    StoreError::Internal("lock poisoned".into())
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert(&self, record: Record, guard: InsertGuard) -> Result<Inserted, StoreError> {
        self.writer
            .write(move |c| queries::insert(c, &record, &guard))
            .await
    }

    async fn get(&self, kind: Kind, scope: &Scope, id: &str) -> Result<Option<Record>, StoreError> {
        self.cache.record(kind, scope, id, || {
            self.read_now(|c| queries::get(c, kind, scope, id))
        })
    }

    async fn update(&self, record: Record) -> Result<Record, StoreError> {
        self.writer.write(move |c| queries::update(c, record)).await
    }

    async fn delete(&self, kind: Kind, scope: &Scope, id: &str) -> Result<(), StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.writer
            .write(move |c| queries::delete(c, kind, &scope, &id))
            .await
    }

    async fn delete_cascade(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
    ) -> Result<Vec<String>, StoreError> {
        let (scope, id, cascade) = (scope.clone(), id.to_owned(), cascade.to_vec());
        self.writer
            .write(move |c| queries::delete_cascade(c, kind, &scope, &id, &cascade))
            .await
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let query = query.clone();
        self.read(move |c| queries::list(c, &query)).await
    }

    async fn insert_with(
        &self,
        record: Record,
        guard: InsertGuard,
        trail: crate::Trail,
    ) -> Result<Inserted, StoreError> {
        self.writer
            .write(move |c| {
                let inserted = queries::insert(c, &record, &guard)?;
                if inserted == Inserted::Created {
                    trail::append(c, &trail)?;
                }
                Ok(inserted)
            })
            .await
    }

    async fn update_with(&self, record: Record, trail: crate::Trail) -> Result<Record, StoreError> {
        self.writer
            .write(move |c| {
                let updated = queries::update(c, record)?;
                trail::append(c, &trail)?;
                Ok(updated)
            })
            .await
    }

    async fn delete_cascade_with(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
        trail: crate::Trail,
    ) -> Result<Vec<String>, StoreError> {
        let (scope, id, cascade) = (scope.clone(), id.to_owned(), cascade.to_vec());
        self.writer
            .write(move |c| {
                let gone = queries::delete_cascade(c, kind, &scope, &id, &cascade)?;
                trail::append(c, &trail)?;
                Ok(gone)
            })
            .await
    }

    async fn gateway_changes(
        &self,
        gateway_id: &str,
        since: i64,
    ) -> Result<crate::GatewayChanges, StoreError> {
        self.read_now(|c| revisions::changes(c, gateway_id, since))
    }

    fn gateway_feed(&self) -> &crate::GatewayFeed {
        &self.feed
    }

    async fn record_measurements(
        &self,
        updates: Vec<(Record, Vec<crate::LogEntry>)>,
        logs: Vec<crate::LogEntry>,
    ) -> Result<Vec<Result<Record, StoreError>>, StoreError> {
        self.writer
            .write(move |c| {
                let mut outcomes = Vec::with_capacity(updates.len());
                for (record, entries) in updates {
                    // Each update in its own savepoint: one that fails
                    // leaves the others.
                    c.execute_batch("SAVEPOINT measurement")?;
                    let outcome = queries::update_record(c, record).and_then(|r| {
                        event_log::append(c, &entries)?;
                        Ok(r)
                    });
                    if outcome.is_err() {
                        c.execute_batch("ROLLBACK TO measurement")?;
                    }
                    c.execute_batch("RELEASE measurement")?;
                    outcomes.push(outcome);
                }
                event_log::append(c, &logs)?;
                Ok(outcomes)
            })
            .await
    }

    async fn append_log(&self, entries: Vec<crate::LogEntry>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.writer
            .write(move |c| event_log::append(c, &entries))
            .await
    }

    async fn list_logs(&self, query: &crate::LogQuery) -> Result<crate::LogPage, StoreError> {
        let query = query.clone();
        self.read(move |c| event_log::list(c, &query)).await
    }

    async fn append_audit(&self, event: crate::AuditEvent) -> Result<(), StoreError> {
        self.writer.write(move |c| audit::append(c, &event)).await
    }

    async fn audit_events(
        &self,
        query: &crate::AuditQuery,
    ) -> Result<Vec<crate::AuditEvent>, StoreError> {
        let query = query.clone();
        self.read(move |c| audit::query(c, &query)).await
    }

    async fn count_by(
        &self,
        kind: Kind,
        by: crate::CountBy,
        now_ms: i64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.read(move |c| audit::count_by(c, kind, by, now_ms))
            .await
    }

    async fn create_account(
        &self,
        account: AccountRecord,
        key: AccessKeyRecord,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |c| queries::create_account(c, &account, &key))
            .await
    }

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.read(queries::accounts).await
    }

    async fn replace_root_keys(&self, key: AccessKeyRecord) -> Result<Vec<String>, StoreError> {
        self.writer
            .write(move |c| queries::replace_root_keys(c, &key))
            .await
    }

    async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        self.cache
            .access_key(id, || self.read_now(|c| queries::access_key(c, id)))
    }

    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        self.nonces.use_nonce(access_key_id, nonce, now_ms)
    }

    // ---- RAM and STS (queries in identity.rs) -----------------------------

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_user(c, &user))
            .await
    }

    async fn get_user(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.read(move |c| identity::get_user(c, &a, &n)).await
    }

    async fn list_users(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<UserRecord>, StoreError> {
        let (a, m) = (account_id.to_owned(), marker.map(str::to_owned));
        self.read(move |c| identity::list_users(c, &a, m.as_deref(), limit))
            .await
    }

    async fn update_user(
        &self,
        account_id: &str,
        name: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| identity::update_user(c, &a, &n, &update))
            .await
    }

    async fn delete_user(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| identity::delete_principal(c, PrincipalKind::User, &a, &n))
            .await
    }

    async fn create_user_access_key(
        &self,
        key: AccessKeyRecord,
        max_per_user: u32,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_user_access_key(c, &key, max_per_user))
            .await
    }

    async fn list_access_keys(
        &self,
        account_id: &str,
        principal: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let (a, p) = (account_id.to_owned(), principal.to_owned());
        self.read(move |c| identity::list_access_keys(c, &a, &p))
            .await
    }

    async fn set_access_key_status(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
        status: &str,
    ) -> Result<(), StoreError> {
        let (a, p, k, s) = (
            account_id.to_owned(),
            principal.to_owned(),
            key_id.to_owned(),
            status.to_owned(),
        );
        self.writer
            .write(move |c| identity::set_access_key_status(c, &a, &p, &k, &s))
            .await
    }

    async fn delete_access_key(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
    ) -> Result<(), StoreError> {
        let (a, p, k) = (
            account_id.to_owned(),
            principal.to_owned(),
            key_id.to_owned(),
        );
        self.writer
            .write(move |c| identity::delete_access_key(c, &a, &p, &k))
            .await
    }

    async fn create_group(&self, group: GroupRecord) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_group(c, &group))
            .await
    }

    async fn get_group(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<GroupRecord>, StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.read(move |c| identity::get_group(c, &a, &n)).await
    }

    async fn delete_group(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| identity::delete_principal(c, PrincipalKind::Group, &a, &n))
            .await
    }

    async fn add_user_to_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
        joined_ms: i64,
        max_groups_per_user: u32,
    ) -> Result<(), StoreError> {
        let (a, g, u) = (account_id.to_owned(), group.to_owned(), user.to_owned());
        self.writer
            .write(move |c| {
                identity::add_user_to_group(c, &a, &g, &u, joined_ms, max_groups_per_user)
            })
            .await
    }

    async fn remove_user_from_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
    ) -> Result<(), StoreError> {
        let (a, g, u) = (account_id.to_owned(), group.to_owned(), user.to_owned());
        self.writer
            .write(move |c| identity::remove_user_from_group(c, &a, &g, &u))
            .await
    }

    async fn list_groups_for_user(
        &self,
        account_id: &str,
        user: &str,
    ) -> Result<Vec<Membership>, StoreError> {
        let (a, u) = (account_id.to_owned(), user.to_owned());
        self.read(move |c| identity::list_groups_for_user(c, &a, &u))
            .await
    }

    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_role(c, &role))
            .await
    }

    async fn get_role(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<RoleRecord>, StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.read(move |c| identity::get_role(c, &a, &n)).await
    }

    async fn list_roles(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<RoleRecord>, StoreError> {
        let (a, m) = (account_id.to_owned(), marker.map(str::to_owned));
        self.read(move |c| identity::list_roles(c, &a, m.as_deref(), limit))
            .await
    }

    async fn delete_role(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| identity::delete_principal(c, PrincipalKind::Role, &a, &n))
            .await
    }

    async fn create_policy(
        &self,
        policy: PolicyRecord,
        document: String,
        max_policies: u32,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_policy(c, &policy, &document, max_policies))
            .await
    }

    async fn get_policy(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<(PolicyRecord, PolicyVersionRecord)>, StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.read(move |c| identity::get_policy(c, &a, &n)).await
    }

    async fn list_policies(&self, account_id: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        let a = account_id.to_owned();
        self.read(move |c| identity::list_policies(c, &a)).await
    }

    async fn delete_policy(
        &self,
        account_id: &str,
        name: &str,
        cascade: bool,
    ) -> Result<(), StoreError> {
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| identity::delete_policy(c, &a, &n, cascade))
            .await
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
        let (a, n) = (account_id.to_owned(), name.to_owned());
        self.writer
            .write(move |c| {
                identity::create_policy_version(
                    c,
                    &a,
                    &n,
                    &document,
                    set_default,
                    now_ms,
                    max_versions,
                )
            })
            .await
    }

    async fn attach_policy(
        &self,
        account_id: &str,
        target: AttachTarget,
        now_ms: i64,
        max_per_principal: u32,
    ) -> Result<(), StoreError> {
        let a = account_id.to_owned();
        self.writer
            .write(move |c| identity::attach_policy(c, &a, &target, now_ms, max_per_principal))
            .await
    }

    async fn detach_policy(
        &self,
        account_id: &str,
        target: AttachTarget,
    ) -> Result<(), StoreError> {
        let a = account_id.to_owned();
        self.writer
            .write(move |c| identity::detach_policy(c, &a, &target))
            .await
    }

    async fn list_attachments(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<Attachment>, StoreError> {
        let (a, p) = (account_id.to_owned(), principal.to_owned());
        self.read(move |c| identity::list_attachments(c, &a, kind, &p))
            .await
    }

    async fn effective_policies(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<EffectivePolicy>, StoreError> {
        self.cache
            .effective_policies(account_id, kind, principal, || {
                let (a, p) = (account_id.to_owned(), principal.to_owned());
                self.read(move |c| identity::effective_policies(c, &a, kind, &p))
            })
            .await
    }

    async fn create_sts_credential(
        &self,
        credential: StsCredentialRecord,
    ) -> Result<(), StoreError> {
        self.writer
            .write(move |c| identity::create_sts_credential(c, &credential))
            .await
    }

    async fn sts_credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<StsCredentialRecord>, StoreError> {
        self.cache.sts_credential(access_key_id, || {
            self.read_now(|c| identity::sts_credential(c, access_key_id))
        })
    }

    async fn reset(&self, keep_account: &str) -> Result<(), StoreError> {
        let keep = keep_account.to_owned();
        self.writer.write(move |c| reset::reset(c, &keep)).await?;
        // Every gateway went: their watchers read again (and find them gone).
        self.feed.notify_all();
        Ok(())
    }
}
