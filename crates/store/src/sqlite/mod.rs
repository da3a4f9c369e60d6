//! The embedded default: SQLite in WAL mode with `synchronous=FULL`, one
//! group-committing writer thread and a pool of reader connections.

mod queries;
mod schema;
mod writer;

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};

use crate::{
    AccessKeyRecord, AccountRecord, InsertGuard, Inserted, Kind, ListQuery, NONCE_WINDOW_MS, Page,
    Record, Scope, Store, StoreError,
};
use writer::Writer;

/// The database file inside the data directory.
pub const DB_FILE: &str = "vpngw.db";

pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReaderPool>,
    /// Signature nonces seen in the replay window. SQLite serves one process,
    /// so memory is the right place: a nonce costs no fsync.
    nonces: Mutex<NonceCache>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database in `data_dir` and migrates it.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| StoreError::Internal(format!("creating {}: {e}", data_dir.display())))?;
        let path = data_dir.join(DB_FILE);
        let mut conn = open_connection(&path, false)?;
        schema::migrate(&mut conn)?;
        Ok(SqliteStore {
            writer: Writer::start(conn),
            readers: Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            nonces: Mutex::new(NonceCache::default()),
        })
    }

    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = f(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Internal(format!("reader task: {e}")))?
    }
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
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
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
            && idle.len() < 16
        {
            idle.push(conn);
        }
    }
}

fn poisoned<T>(_: std::sync::PoisonError<T>) -> StoreError {
    StoreError::Internal("lock poisoned".into())
}

#[derive(Default)]
struct NonceCache {
    seen: HashMap<(String, String), i64>,
    next_purge_ms: i64,
}

impl NonceCache {
    fn use_nonce(&mut self, key: &str, nonce: &str, now_ms: i64) -> bool {
        if now_ms >= self.next_purge_ms {
            self.seen.retain(|_, at| now_ms - *at < NONCE_WINDOW_MS);
            self.next_purge_ms = now_ms + 60_000;
        }
        match self.seen.get(&(key.to_owned(), nonce.to_owned())) {
            Some(at) if now_ms - *at < NONCE_WINDOW_MS => false,
            _ => {
                self.seen.insert((key.to_owned(), nonce.to_owned()), now_ms);
                true
            }
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert(&self, record: Record, guard: InsertGuard) -> Result<Inserted, StoreError> {
        self.writer
            .write(move |c| queries::insert(c, &record, &guard))
            .await
    }

    async fn get(&self, kind: Kind, scope: &Scope, id: &str) -> Result<Option<Record>, StoreError> {
        let (scope, id) = (scope.clone(), id.to_owned());
        self.read(move |c| queries::get(c, kind, &scope, &id)).await
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

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let query = query.clone();
        self.read(move |c| queries::list(c, &query)).await
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

    async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.read(move |c| queries::access_key(c, &id)).await
    }

    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        Ok(self
            .nonces
            .lock()
            .map_err(poisoned)?
            .use_nonce(access_key_id, nonce, now_ms))
    }
}
