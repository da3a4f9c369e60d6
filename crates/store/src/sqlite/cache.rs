//! Read caches in front of the SQLite store, for what every request reads:
//! the caller's access key (or STS credential), a RAM identity's effective
//! policies, and records by id.
//!
//! # Why they are never stale
//!
//! Only this process changes the rows the caches hold: `vpngw serve` locks
//! its data directory ([`super::lock`]), and the commands that may run
//! beside it only add rows (`vpngw account create` adds an account and its
//! first key) or only read (`vpngw audit`). Nothing absent is cached, so an
//! added row is found on the next read.
//!
//! Inside the process every write goes through [`CachingWriter::write`].
//! While any write is in flight (sent to the writer thread and not yet
//! known to be committed or abandoned), the caches are neither read nor
//! filled: every read goes to SQLite, exactly as without caches. A read
//! fills a cache only if no write started or ended while it read, i.e. it
//! read the state that still holds; each start and end of a write bumps
//! an epoch that makes every cached entry stale at once. So a cache answer
//! is always what SQLite would answer at that moment, and a caller that
//! has seen its write acknowledged never reads what was there before.
//!
//! A caller that stops waiting for its write (its request was cancelled)
//! does not end the write: the job may still commit. An empty job sent
//! after it does, once the writer thread (which runs jobs in order) has
//! finished it.
//!
//! # Memory
//!
//! Each cache keeps at most a budget of bytes (documents and strings, plus
//! a fixed overhead per entry) and forgets its oldest entries first. Stale
//! entries count until they are replaced or forgotten.

use std::{
    borrow::Borrow,
    collections::{HashMap, VecDeque},
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard},
};

use rusqlite::Connection;

use super::writer::Writer;
use crate::{
    AccessKeyRecord, Kind, Record, Scope, StoreError,
    identity::{EffectivePolicy, PrincipalKind, StsCredentialRecord},
};

/// Bytes of records (JSON documents) kept at most.
pub const RECORD_BUDGET: usize = 16 << 20;
/// Bytes of access keys, STS credentials, and of effective policies, each.
pub const IDENTITY_BUDGET: usize = 4 << 20;
/// What an entry costs besides its strings: map and queue slots, headers.
const ENTRY_OVERHEAD: usize = 160;

/// The caches and the state of the writes.
pub struct ReadCache {
    state: Mutex<State>,
}

struct State {
    /// Bumped when a write starts and when it ends.
    epoch: u64,
    /// Writes in flight.
    writing: usize,
    records: Bounded<String, Record>,
    access_keys: Bounded<String, AccessKeyRecord>,
    sts_credentials: Bounded<String, StsCredentialRecord>,
    policies: Bounded<(String, PrincipalKind, String), Vec<EffectivePolicy>>,
}

/// Proof that a read began with no write in flight, at `epoch`.
#[derive(Debug, Clone, Copy)]
pub struct Ticket {
    epoch: u64,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache::with_budgets(RECORD_BUDGET, IDENTITY_BUDGET)
    }
}

impl ReadCache {
    pub fn with_budgets(records: usize, identity: usize) -> ReadCache {
        ReadCache {
            state: Mutex::new(State {
                epoch: 0,
                writing: 0,
                records: Bounded::new(records),
                access_keys: Bounded::new(identity),
                sts_credentials: Bounded::new(identity),
                policies: Bounded::new(identity),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half
        // changed in a way that matters: entries are whole values.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A cached value valid now, else the ticket to cache what is read
    /// (`None` while a write is in flight: read, but do not cache).
    fn lookup<K, Q, V>(
        &self,
        pick: fn(&mut State) -> &mut Bounded<K, V>,
        key: &Q,
        fits: impl FnOnce(&V) -> bool,
    ) -> Result<V, Option<Ticket>>
    where
        K: Borrow<Q> + Hash + Eq + Clone,
        Q: Hash + Eq + ?Sized,
        V: Clone + Weigh,
    {
        let mut state = self.lock();
        if state.writing > 0 {
            return Err(None);
        }
        let epoch = state.epoch;
        match pick(&mut state).get(key, epoch) {
            Some(v) if fits(v) => Ok(v.clone()),
            _ => Err(Some(Ticket { epoch })),
        }
    }

    /// Keeps `value`, read with `ticket`, unless a write started or ended
    /// since the ticket was taken.
    fn fill<K, V>(
        &self,
        pick: fn(&mut State) -> &mut Bounded<K, V>,
        ticket: Option<Ticket>,
        key: K,
        value: V,
    ) where
        K: Hash + Eq + Clone,
        V: Weigh,
    {
        let Some(ticket) = ticket else { return };
        let mut state = self.lock();
        if state.writing == 0 && state.epoch == ticket.epoch {
            pick(&mut state).insert(key, value, ticket.epoch);
        }
    }

    /// Cached or loaded, and cached if found: `load` reads SQLite (and
    /// records its own timing). A hit is not timed: recording a histogram
    /// costs more than the hit.
    fn through<K, Q, V, L>(
        &self,
        pick: fn(&mut State) -> &mut Bounded<K, V>,
        key: &Q,
        fits: impl FnOnce(&V) -> bool,
        load: L,
    ) -> Result<Option<V>, StoreError>
    where
        K: Borrow<Q> + Hash + Eq + Clone,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        V: Clone + Weigh,
        L: FnOnce() -> Result<Option<V>, StoreError>,
    {
        let ticket = match self.lookup(pick, key, fits) {
            Ok(hit) => return Ok(Some(hit)),
            Err(ticket) => ticket,
        };
        let found = load()?;
        if let Some(v) = &found {
            self.fill(pick, ticket, key.to_owned(), v.clone());
        }
        Ok(found)
    }

    /// A record by id, in `scope` and of `kind`.
    pub fn record(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        load: impl FnOnce() -> Result<Option<Record>, StoreError>,
    ) -> Result<Option<Record>, StoreError> {
        // Ids are unique across kinds and scopes: an entry of another kind
        // or scope means SQLite would find nothing either, but asking it
        // costs nothing that matters.
        self.through(
            |s| &mut s.records,
            id,
            |r| {
                r.kind == kind && r.account_id == scope.account_id && r.region_id == scope.region_id
            },
            load,
        )
    }

    pub fn access_key(
        &self,
        id: &str,
        load: impl FnOnce() -> Result<Option<AccessKeyRecord>, StoreError>,
    ) -> Result<Option<AccessKeyRecord>, StoreError> {
        self.through(|s| &mut s.access_keys, id, |_| true, load)
    }

    pub fn sts_credential(
        &self,
        access_key_id: &str,
        load: impl FnOnce() -> Result<Option<StsCredentialRecord>, StoreError>,
    ) -> Result<Option<StsCredentialRecord>, StoreError> {
        self.through(|s| &mut s.sts_credentials, access_key_id, |_| true, load)
    }

    /// The policies of a RAM identity; `load` may run on the blocking pool.
    /// An identity without policies (or without a row) is cached as empty:
    /// only this process writes the RAM tables.
    pub async fn effective_policies<L, Fut>(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
        load: L,
    ) -> Result<Vec<EffectivePolicy>, StoreError>
    where
        L: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<EffectivePolicy>, StoreError>>,
    {
        let key = (account_id.to_owned(), kind, principal.to_owned());
        let ticket = match self.lookup(|s| &mut s.policies, &key, |_| true) {
            Ok(hit) => return Ok(hit),
            Err(ticket) => ticket,
        };
        let found = load().await?;
        self.fill(|s| &mut s.policies, ticket, key, found.clone());
        Ok(found)
    }

    /// A write is about to be sent to the writer: caches off until it ends.
    fn begin_write(&self) {
        let mut state = self.lock();
        state.writing += 1;
        state.epoch += 1;
    }

    fn end_write(&self) {
        let mut state = self.lock();
        state.writing = state.writing.saturating_sub(1);
        state.epoch += 1;
    }

    #[cfg(test)]
    fn writing(&self) -> usize {
        self.lock().writing
    }
}

/// The writer, with the caches told about every write.
pub struct CachingWriter {
    writer: Writer,
    cache: Arc<ReadCache>,
}

impl CachingWriter {
    pub fn new(writer: Writer, cache: Arc<ReadCache>) -> CachingWriter {
        CachingWriter { writer, cache }
    }

    /// [`Writer::write`]: runs `f` in the next group commit and returns its
    /// result once durable. The caches are off from now until then.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let mut in_flight = InFlight::begin(&self.cache, &self.writer);
        let result = self.writer.write(f).await;
        // Committed, failed, or dropped by the writer: over either way.
        in_flight.pending = None;
        result
    }
}

/// One write in flight; its end is recorded when this is dropped.
struct InFlight {
    cache: Arc<ReadCache>,
    /// Still `Some` if the caller stopped waiting before the writer answered.
    pending: Option<Writer>,
}

impl InFlight {
    fn begin(cache: &Arc<ReadCache>, writer: &Writer) -> InFlight {
        cache.begin_write();
        InFlight {
            cache: cache.clone(),
            pending: Some(writer.clone()),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let Some(writer) = self.pending.take() else {
            self.cache.end_write();
            return;
        };
        // The job may still be waiting for its commit. The writer runs jobs
        // in order, so it is over once an empty job sent now is.
        let cache = self.cache.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    barrier(&writer).await;
                    cache.end_write();
                });
            }
            // Without a runtime nobody can wait: the caches stay off (still
            // correct, only slower).
            Err(_) => tracing::warn!("a cancelled write outside a runtime: read caches stay off"),
        }
    }
}

/// Returns once every job sent to `writer` before it is over.
async fn barrier(writer: &Writer) {
    let _ = writer.write(|_| Ok(())).await;
}

/// What an entry costs, roughly, in bytes.
pub trait Weigh {
    fn weight(&self) -> usize;
}

fn opt_len(s: &Option<String>) -> usize {
    s.as_ref().map_or(0, String::len)
}

impl Weigh for Record {
    fn weight(&self) -> usize {
        let status = self.status.as_ref().map_or(0, |l| {
            l.status.len() + l.pending.as_ref().map_or(0, |p| p.1.len())
        });
        // The id twice: once as the key.
        2 * self.id.len()
            + self.account_id.len()
            + self.region_id.len()
            + opt_len(&self.parent_id)
            + self.links.iter().map(String::len).sum::<usize>()
            + self.resource_group_id.len()
            + status
            + self.doc.len()
    }
}

impl Weigh for AccessKeyRecord {
    fn weight(&self) -> usize {
        2 * self.id.len()
            + self.account_id.len()
            + self.principal.len()
            + self.secret.len()
            + self.status.len()
    }
}

impl Weigh for StsCredentialRecord {
    fn weight(&self) -> usize {
        2 * self.access_key_id.len()
            + self.account_id.len()
            + self.secret.len()
            + self.token_sha256.len()
            + self.role_id.len()
            + self.role_name.len()
            + self.session_name.len()
            + opt_len(&self.session_policy)
    }
}

impl Weigh for Vec<EffectivePolicy> {
    fn weight(&self) -> usize {
        self.iter()
            .map(|p| p.policy_name.len() + opt_len(&p.document) + ENTRY_OVERHEAD / 2)
            .sum()
    }
}

/// A map that keeps at most `budget` bytes of entries, forgetting the
/// oldest first. Every key in `map` is in `order` exactly once.
struct Bounded<K, V> {
    map: HashMap<K, Entry<V>>,
    order: VecDeque<K>,
    bytes: usize,
    budget: usize,
}

struct Entry<V> {
    value: V,
    epoch: u64,
    bytes: usize,
}

impl<K: Hash + Eq + Clone, V: Weigh> Bounded<K, V> {
    fn new(budget: usize) -> Self {
        Bounded {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            budget,
        }
    }

    /// The value cached at `epoch` (an older one is stale).
    fn get<Q>(&self, key: &Q, epoch: u64) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.map
            .get(key)
            .filter(|e| e.epoch == epoch)
            .map(|e| &e.value)
    }

    fn insert(&mut self, key: K, value: V, epoch: u64) {
        let bytes = value.weight() + ENTRY_OVERHEAD;
        if bytes > self.budget {
            return;
        }
        let entry = Entry {
            value,
            epoch,
            bytes,
        };
        match self.map.get_mut(&key) {
            Some(old) => {
                self.bytes = self.bytes - old.bytes + bytes;
                *old = entry;
            }
            None => {
                self.bytes += bytes;
                self.map.insert(key.clone(), entry);
                self.order.push_back(key);
            }
        }
        while self.bytes > self.budget {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.map.remove(&oldest) {
                self.bytes -= gone.bytes;
            }
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> AccessKeyRecord {
        AccessKeyRecord {
            id: id.into(),
            account_id: "1".into(),
            principal: "root".into(),
            secret: "sealed".into(),
            status: "Active".into(),
            created_ms: 0,
        }
    }

    #[test]
    fn bounded_keeps_its_budget_and_forgets_the_oldest() {
        let one = key("k0").weight() + ENTRY_OVERHEAD;
        let mut b: Bounded<String, AccessKeyRecord> = Bounded::new(one * 3);
        for i in 0..10 {
            b.insert(format!("k{i}"), key(&format!("k{i}")), 0);
            assert!(b.bytes <= b.budget);
            assert_eq!(b.map.len(), b.order.len());
        }
        assert_eq!(b.len(), 3);
        assert!(b.get("k9", 0).is_some() && b.get("k6", 0).is_none());
        // Replacing keeps one slot per key.
        b.insert("k9".into(), key("k9"), 1);
        assert_eq!((b.len(), b.order.len()), (3, 3));
        assert!(
            b.get("k9", 0).is_none(),
            "an entry of another epoch is stale"
        );
        assert!(b.get("k9", 1).is_some());
    }

    #[test]
    fn nothing_is_cached_across_a_write() {
        let cache = ReadCache::default();
        let hits = |c: &ReadCache| c.access_key("k", || panic!("expected a hit"));
        // A miss fills the cache; the next read is a hit.
        assert!(
            cache
                .access_key("k", || Ok(Some(key("k"))))
                .unwrap()
                .is_some()
        );
        assert_eq!(hits(&cache).unwrap().unwrap().id, "k");
        // While a write is in flight, every read goes to SQLite and nothing
        // is kept.
        cache.begin_write();
        let mut loads = 0;
        for _ in 0..2 {
            cache
                .access_key("k", || {
                    loads += 1;
                    Ok(Some(key("k")))
                })
                .unwrap();
        }
        assert_eq!(loads, 2);
        cache.end_write();
        // The entry from before the write is stale.
        let mut loaded = false;
        cache
            .access_key("k", || {
                loaded = true;
                Ok(Some(key("k")))
            })
            .unwrap();
        assert!(loaded);
        assert!(hits(&cache).is_ok());
        // Absent rows are not cached.
        assert!(cache.access_key("none", || Ok(None)).unwrap().is_none());
        let mut asked = false;
        cache
            .access_key("none", || {
                asked = true;
                Ok(None)
            })
            .unwrap();
        assert!(asked);
    }

    #[test]
    fn a_read_that_overlaps_a_write_is_not_cached() {
        let cache = ReadCache::default();
        // The write starts and commits while the read is in SQLite.
        cache
            .access_key("k", || {
                cache.begin_write();
                cache.end_write();
                Ok(Some(key("k")))
            })
            .unwrap();
        let mut loaded = false;
        cache
            .access_key("k", || {
                loaded = true;
                Ok(Some(key("k")))
            })
            .unwrap();
        assert!(loaded, "a value read across a write was cached");
    }

    #[test]
    fn records_answer_only_their_kind_and_scope() {
        let cache = ReadCache::default();
        let scope = Scope {
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
        };
        let rec = Record {
            kind: Kind::VpnGateway,
            id: "vpn-1".into(),
            account_id: "1".into(),
            region_id: "cn-hangzhou".into(),
            parent_id: None,
            links: Vec::new(),
            resource_group_id: String::new(),
            status: None,
            version: 1,
            doc: "{}".into(),
        };
        let r = rec.clone();
        cache
            .record(Kind::VpnGateway, &scope, "vpn-1", move || Ok(Some(r)))
            .unwrap();
        let hit = cache
            .record(Kind::VpnGateway, &scope, "vpn-1", || {
                panic!("expected a hit")
            })
            .unwrap();
        assert_eq!(hit, Some(rec));
        let other = Scope {
            account_id: "2".into(),
            region_id: "cn-hangzhou".into(),
        };
        let mut asked = 0;
        for (kind, scope) in [(Kind::VpnGateway, &other), (Kind::VpnConnection, &scope)] {
            let found = cache
                .record(kind, scope, "vpn-1", || {
                    asked += 1;
                    Ok(None)
                })
                .unwrap();
            assert_eq!(found, None);
        }
        assert_eq!(asked, 2, "another scope or kind is answered by SQLite");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_write_ends_when_the_writer_is_done_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let conn = super::super::open_connection(&dir.path().join("t.db"), false).unwrap();
        let cache = Arc::new(ReadCache::default());
        let writer = CachingWriter::new(Writer::start(conn, Arc::default()), cache.clone());
        let (release, wait) = std::sync::mpsc::channel::<()>();
        // A write whose job blocks the writer thread until released; its
        // caller polls it once (the job is sent) and stops waiting.
        let mut write = Box::pin(writer.write(move |_| {
            let _ = wait.recv();
            Ok(())
        }));
        std::future::poll_fn(|cx| {
            assert!(write.as_mut().poll(cx).is_pending());
            std::task::Poll::Ready(())
        })
        .await;
        drop(write);
        assert_eq!(cache.writing(), 1, "the job may still commit: caches off");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(cache.writing(), 1, "ended before the job did");
        release.send(()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while cache.writing() != 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "the write never ended"
            );
            tokio::task::yield_now().await;
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // A completed write ends at once.
        writer.write(|_| Ok(())).await.unwrap();
        assert_eq!(cache.writing(), 0);
    }
}
