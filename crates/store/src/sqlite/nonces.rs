//! Signature nonces seen in the replay window: in memory for speed, in a
//! journal on disk so that a restart forgets none, and bounded (#13).
//!
//! # Memory
//!
//! Each (access key, nonce) pair is kept as a 64-bit keyed digest
//! (SipHash-1-3 under a random key kept in the journal) with its first use:
//! 16 bytes a nonce, no allocation per request. Two pairs share a digest
//! with a chance of about n/2^64 per request (n nonces in the window); such
//! a request would be refused as a replay, never let through.
//!
//! Expiry is exact (a nonce is refused for [`NONCE_WINDOW_MS`] after its
//! first use, then free again) without scanning the map: nonces go into
//! `current`, which becomes `previous` once it is a window old, when the
//! old `previous` (all of it past the window) is dropped in one piece.
//! Each generation is split in [`SHARDS`] maps, so that a map growing
//! (which copies it, under the nonce lock) holds every request up for a
//! fraction of the time.
//!
//! # Bounds
//!
//! At most [`NonceLimits::total`] nonces are kept, and at most
//! [`NonceLimits::per_key`] of one access key (counted by generation, so a
//! nonce counts until its generation is dropped: between one and two
//! windows). A correctly signed request that would go past a bound is
//! refused ([`StoreError::NonceLimit`], answered as the cloud's throttling)
//! and its nonce is not kept; no nonce is ever forgotten early, which would
//! let its request be replayed.
//!
//! # Journal
//!
//! With [`NonceCache::open_journal`], each generation is also a file,
//! `<data dir>/nonces/gen-<start ms>.log`: a header (magic, the digest key,
//! the start) and 24-byte record slots (digest, key digest, first use).
//! A fresh nonce gets the next slot under the nonce lock, and its request
//! writes the record there itself (`pwrite(2)`, into the page cache) before
//! it goes on, so a restart, even after SIGKILL, reloads every nonce of the
//! window. The file is grown ([`GROW_RECORDS`] slots at a time, sparse)
//! ahead of the slots, so that a record's write never changes the file's
//! size; a slot never written (its request failed or was killed before its
//! write) reads as zeros and is skipped. The files are synced
//! (`fdatasync`) every second, at rotation and at shutdown: after a power
//! failure the nonces of the last second before it could be lost. Files
//! are dropped with their generation.
//!
//! Measured (BENCHMARKS.md, #13): this costs a signed
//! DescribeVpnConnection less server CPU than gathering the records of
//! concurrent requests into one `write(2)`, which took a yield to the
//! scheduler per request and an appending write that grows the file.

use std::{
    collections::HashMap,
    fs::{File, OpenOptions},
    hash::{BuildHasherDefault, Hasher},
    io::{Read, Write},
    os::unix::fs::FileExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use siphasher::sip::SipHasher13;

use crate::{NONCE_WINDOW_MS, NonceLimits, StoreError};

/// Maps per generation.
const SHARDS: usize = 64;
/// The journal directory inside the data directory.
pub const JOURNAL_DIR: &str = "nonces";
const MAGIC: &[u8; 8] = b"VPNGWNC1";
const HEADER_LEN: u64 = 32;
const RECORD_LEN: usize = 24;
/// Record slots a journal file is grown by at once (384 KiB, sparse).
const GROW_RECORDS: u64 = 16_384;
/// How often the journal is synced to disk.
const SYNC_EVERY: Duration = Duration::from_secs(1);

type Map<V> = HashMap<u64, V, BuildHasherDefault<Digest>>;

struct Generation {
    maps: [Map<i64>; SHARDS],
    len: usize,
    /// Nonces of each key (by key digest).
    per_key: Map<u32>,
    start_ms: i64,
}

impl Generation {
    fn new(start_ms: i64) -> Generation {
        Generation {
            maps: std::array::from_fn(|_| Map::default()),
            len: 0,
            per_key: Map::default(),
            start_ms,
        }
    }

    fn insert(&mut self, shard: usize, digest: u64, key: u64, at_ms: i64) {
        if self.maps[shard].insert(digest, at_ms).is_none() {
            self.len += 1;
            *self.per_key.entry(key).or_default() += 1;
        }
    }
}

/// A journal record to write: where, and what.
#[derive(Debug, Clone)]
pub struct Slot {
    file: Arc<File>,
    offset: u64,
    record: [u8; RECORD_LEN],
}

impl PartialEq for Slot {
    fn eq(&self, other: &Slot) -> bool {
        Arc::ptr_eq(&self.file, &other.file)
            && self.offset == other.offset
            && self.record == other.record
    }
}

impl Eq for Slot {}

impl Slot {
    /// Writes the record into its slot (the page cache: it survives the
    /// process, SIGKILL included).
    fn write(&self) -> std::io::Result<()> {
        self.file.write_all_at(&self.record, self.offset)
    }
}

/// What [`NonceCache::use_nonce`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spent {
    /// New: recorded in memory; with a journal, `slot` is the record its
    /// request must write before it goes on.
    Fresh { slot: Option<Slot> },
    /// Used within the window.
    Used,
    /// Over a bound: not recorded.
    OverLimit { per_key: bool },
}

/// A generation's journal file and its record slots.
struct JournalFile {
    file: Arc<File>,
    /// The next free slot.
    next: u64,
    /// Slots the file's length holds.
    slots: u64,
}

impl JournalFile {
    /// The next slot's offset, growing the file first if it is full. A
    /// failure changes nothing.
    fn take_slot(&mut self) -> std::io::Result<u64> {
        if self.next >= self.slots {
            let slots = self.next + GROW_RECORDS;
            self.file.set_len(HEADER_LEN + slots * RECORD_LEN as u64)?;
            self.slots = slots;
        }
        let offset = HEADER_LEN + self.next * RECORD_LEN as u64;
        self.next += 1;
        Ok(offset)
    }
}

struct Journal {
    dir: PathBuf,
    current: JournalFile,
    previous: Option<Arc<File>>,
}

pub struct NonceCache {
    key: (u64, u64),
    limits: NonceLimits,
    current: Generation,
    previous: Generation,
    journal: Option<Journal>,
}

impl NonceCache {
    /// Memory only (commands beside the server, tests), unbounded by default.
    pub fn new(limits: NonceLimits) -> NonceCache {
        NonceCache {
            key: random_key(),
            limits,
            current: Generation::new(i64::MIN),
            previous: Generation::new(i64::MIN),
            journal: None,
        }
    }

    /// Reloads the window from `<data_dir>/nonces/` (created 0700 if
    /// missing) and journals every new nonce there.
    pub fn open_journal(
        data_dir: &Path,
        limits: NonceLimits,
        now_ms: i64,
    ) -> Result<NonceCache, StoreError> {
        let dir = data_dir.join(JOURNAL_DIR);
        let io = |e: std::io::Error| StoreError::Internal(format!("{}: {e}", dir.display()));
        create_private_dir(&dir).map_err(io)?;
        let mut files = generation_files(&dir).map_err(io)?;
        // Oldest first; only the two newest can still hold live nonces.
        files.sort_by_key(|(start, _)| *start);
        let keep = files.len().saturating_sub(2);
        for (_, path) in files.drain(..keep) {
            let _ = std::fs::remove_file(path);
        }
        let mut cache = NonceCache::new(limits);
        let mut loaded: Vec<(i64, PathBuf, Loaded)> = Vec::new();
        for (start, path) in files {
            match read_generation(&path) {
                Ok(Some(generation)) => {
                    cache.key = generation.key;
                    loaded.push((start, path, generation));
                }
                // Not ours, or a header torn by a crash: a file without a
                // whole header has no records.
                Ok(None) => {
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(io(e)),
            }
        }
        // The newest file is `current` if it is less than a window old.
        let newest_is_current = loaded
            .last()
            .is_some_and(|(start, ..)| now_ms.saturating_sub(*start) < NONCE_WINDOW_MS);
        let mut previous_file = None;
        let mut current_file = None;
        let count = loaded.len();
        for (i, (start, path, contents)) in loaded.into_iter().enumerate() {
            let is_current = newest_is_current && i + 1 == count;
            let generation = if is_current {
                &mut cache.current
            } else {
                // With a new current, the newest file becomes previous and
                // any older one is past the window.
                if !newest_is_current && i + 1 < count {
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                &mut cache.previous
            };
            generation.start_ms = start;
            for (digest, key, at) in contents.records {
                if now_ms.saturating_sub(at) < NONCE_WINDOW_MS {
                    generation.insert(shard_of(digest), digest, key, at);
                }
            }
            let file = Arc::new(open_journal_file(&path).map_err(io)?);
            if is_current {
                current_file = Some(JournalFile {
                    file,
                    next: contents.next,
                    slots: contents.slots,
                });
            } else {
                previous_file = Some(file);
            }
        }
        let current = match current_file {
            Some(f) => f,
            None => {
                cache.current.start_ms = now_ms;
                new_journal_file(&dir, cache.key, now_ms).map_err(io)?
            }
        };
        cache.journal = Some(Journal {
            dir,
            current,
            previous: previous_file,
        });
        Ok(cache)
    }

    /// Records the nonce unless it was used in the last window or a bound
    /// is reached. With a journal, the caller then writes [`Spent::Fresh`]'s
    /// slot ([`Nonces::use_nonce`]).
    pub fn use_nonce(&mut self, key: &str, nonce: &str, now_ms: i64) -> Result<Spent, StoreError> {
        if now_ms.saturating_sub(self.current.start_ms) >= NONCE_WINDOW_MS {
            self.rotate(now_ms)?;
        }
        let digest = self.digest(key, nonce);
        let shard = shard_of(digest);
        // One probe of `current` (first used since the rotation, so within
        // the window, unless the clock went back past it).
        let live = |at: &i64| now_ms - *at < NONCE_WINDOW_MS;
        if self.current.maps[shard].get(&digest).is_some_and(live)
            || self.previous.maps[shard].get(&digest).is_some_and(live)
        {
            return Ok(Spent::Used);
        }
        let key_digest = self.key_digest(key);
        if self.limits.per_key > 0 {
            let of_key = |g: &Generation| g.per_key.get(&key_digest).copied().unwrap_or(0);
            let used = of_key(&self.current) as usize + of_key(&self.previous) as usize;
            if used >= self.limits.per_key {
                return Ok(Spent::OverLimit { per_key: true });
            }
        }
        if self.current.len + self.previous.len >= self.limits.total.max(1) {
            return Ok(Spent::OverLimit { per_key: false });
        }
        let slot = match &mut self.journal {
            None => None,
            Some(journal) => {
                // Before the nonce is kept: a file that cannot grow fails
                // the request and changes nothing.
                let offset = journal
                    .current
                    .take_slot()
                    .map_err(|e| StoreError::Internal(format!("nonce journal: {e}")))?;
                let mut record = [0u8; RECORD_LEN];
                record[..8].copy_from_slice(&digest.to_le_bytes());
                record[8..16].copy_from_slice(&key_digest.to_le_bytes());
                record[16..].copy_from_slice(&now_ms.to_le_bytes());
                Some(Slot {
                    file: journal.current.file.clone(),
                    offset,
                    record,
                })
            }
        };
        self.current.insert(shard, digest, key_digest, now_ms);
        Ok(Spent::Fresh { slot })
    }

    /// `current` becomes `previous`; the old `previous` (all of it first
    /// used at least a window ago) is dropped, with its file. Once a
    /// window, under the lock: the rotated generation's file is synced. A
    /// failure changes nothing (the request that found it fails; the next
    /// one tries again).
    fn rotate(&mut self, now_ms: i64) -> Result<(), StoreError> {
        if let Some(journal) = &mut self.journal {
            let io = |e: std::io::Error| StoreError::Internal(format!("nonce journal: {e}"));
            let new_file = new_journal_file(&journal.dir, self.key, now_ms).map_err(io)?;
            journal.current.file.sync_data().map_err(io)?;
            let old_start = self.previous.start_ms;
            if old_start != i64::MIN && old_start != now_ms {
                let _ = std::fs::remove_file(generation_path(&journal.dir, old_start));
            }
            let rotated = std::mem::replace(&mut journal.current, new_file);
            journal.previous = Some(rotated.file);
        }
        self.previous = std::mem::replace(&mut self.current, Generation::new(now_ms));
        Ok(())
    }

    fn digest(&self, key: &str, nonce: &str) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key.0, self.key.1);
        h.write(key.as_bytes());
        h.write_u8(0xff);
        h.write(nonce.as_bytes());
        h.finish()
    }

    fn key_digest(&self, key: &str) -> u64 {
        let mut h = SipHasher13::new_with_keys(self.key.1, self.key.0);
        h.write(key.as_bytes());
        h.finish()
    }

    /// The journal's files, to sync.
    fn files(&self) -> Vec<Arc<File>> {
        self.journal
            .iter()
            .flat_map(|j| std::iter::once(j.current.file.clone()).chain(j.previous.clone()))
            .collect()
    }

    /// Nonces kept now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.current.len + self.previous.len
    }
}

/// The shard of a digest: its top bits after a multiplication, so that
/// within a shard the map still sees the digest's own bits unchanged.
fn shard_of(digest: u64) -> usize {
    (digest.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 58) as usize % SHARDS
}

/// The nonces and, when journaling, the syncing of their files.
pub struct Nonces {
    cache: Mutex<NonceCache>,
}

impl Nonces {
    pub fn new(cache: NonceCache) -> Arc<Nonces> {
        let journaling = cache.journal.is_some();
        let nonces = Arc::new(Nonces {
            cache: Mutex::new(cache),
        });
        if journaling {
            let weak = Arc::downgrade(&nonces);
            let _ = std::thread::Builder::new()
                .name("vpngw-nonce-sync".into())
                .spawn(move || sync_loop(weak));
        }
        nonces
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, NonceCache>, StoreError> {
        self.cache
            .lock()
            .map_err(|_| StoreError::Internal("nonce lock poisoned".into()))
    }

    /// Records a nonce (written to the journal before this returns);
    /// `Ok(false)` for a replay, `Err(NonceLimit)` past a bound.
    ///
    /// The record is written after the nonce lock is let go: requests
    /// write their own slots side by side, in no order, and none waits for
    /// another. A failed write fails the request; its nonce stays spent in
    /// memory (never answered, so nothing to replay) and its slot reads as
    /// zeros after a restart.
    pub fn use_nonce(&self, key: &str, nonce: &str, now_ms: i64) -> Result<bool, StoreError> {
        let spent = self.lock()?.use_nonce(key, nonce, now_ms)?;
        match spent {
            Spent::Used => Ok(false),
            Spent::OverLimit { per_key } => Err(StoreError::NonceLimit { per_key }),
            Spent::Fresh { slot: None } => Ok(true),
            Spent::Fresh { slot: Some(slot) } => {
                slot.write()
                    .map_err(|e| StoreError::Internal(format!("writing the nonce journal: {e}")))?;
                Ok(true)
            }
        }
    }

    /// Syncs the journal's files (every second, and at shutdown).
    fn sync(&self) {
        let files = match self.lock() {
            Ok(c) => c.files(),
            Err(_) => Vec::new(),
        };
        for f in files {
            if let Err(e) = f.sync_data() {
                tracing::warn!(error = %e, "syncing the nonce journal failed");
            }
        }
    }

    /// Nonces kept now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.lock().map(|c| c.len()).unwrap_or(0)
    }
}

impl Drop for Nonces {
    fn drop(&mut self) {
        self.sync();
    }
}

fn sync_loop(nonces: Weak<Nonces>) {
    loop {
        std::thread::sleep(SYNC_EVERY);
        match nonces.upgrade() {
            Some(n) => n.sync(),
            None => return,
        }
    }
}

fn random_key() -> (u64, u64) {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: still keyed per process (std's hasher keys
        // come from the same source, or from the address space layout).
        use std::hash::{BuildHasher, RandomState};
        let s = RandomState::new();
        return (s.hash_one(1u8), s.hash_one(2u8));
    }
    let (a, b) = bytes.split_at(8);
    (
        u64::from_le_bytes(a.try_into().unwrap_or_default()),
        u64::from_le_bytes(b.try_into().unwrap_or_default()),
    )
}

fn generation_path(dir: &Path, start_ms: i64) -> PathBuf {
    dir.join(format!("gen-{start_ms}.log"))
}

/// `(start, path)` of every generation file.
fn generation_files(dir: &Path) -> std::io::Result<Vec<(i64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let start = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("gen-")?.strip_suffix(".log")?.parse().ok());
        if let Some(start) = start {
            out.push((start, path));
        }
    }
    Ok(out)
}

/// A journal record: the nonce's digest, its key's digest, its first use.
type Record = (u64, u64, i64);
/// The digest key of a journal.
type DigestKey = (u64, u64);

/// What a generation file holds.
struct Loaded {
    key: DigestKey,
    records: Vec<Record>,
    /// The slot after the last record written.
    next: u64,
    /// Whole slots in the file.
    slots: u64,
}

/// The digest key and the records of a generation file; `None` if it does
/// not start with a whole header of ours.
fn read_generation(path: &Path) -> std::io::Result<Option<Loaded>> {
    let mut bytes = Vec::new();
    File::open(path)?.read_to_end(&mut bytes)?;
    let header = HEADER_LEN as usize;
    if bytes.len() < header || &bytes[..8] != MAGIC {
        return Ok(None);
    }
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap_or_default());
    let key = (word(&bytes[8..16]), word(&bytes[16..24]));
    let mut records = Vec::new();
    let mut next = 0;
    let mut slots = 0;
    // Slots never written (grown ahead, or their request failed or was
    // killed first) are zeros, and skipped. A record torn by a crash was
    // never acknowledged (its write had not returned): a short tail is
    // ignored, a torn slot reads as a record first used long ago (its
    // first-use bytes come last), which the window drops.
    for (i, r) in bytes[header..].chunks_exact(RECORD_LEN).enumerate() {
        slots = i as u64 + 1;
        if r.iter().all(|b| *b == 0) {
            continue;
        }
        records.push((word(&r[..8]), word(&r[8..16]), word(&r[16..24]) as i64));
        next = i as u64 + 1;
    }
    Ok(Some(Loaded {
        key,
        records,
        next,
        slots,
    }))
}

/// A new generation file: its header, synced, and its name, synced.
fn new_journal_file(dir: &Path, key: (u64, u64), start_ms: i64) -> std::io::Result<JournalFile> {
    let path = generation_path(dir, start_ms);
    let mut header = Vec::with_capacity(HEADER_LEN as usize);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&key.0.to_le_bytes());
    header.extend_from_slice(&key.1.to_le_bytes());
    header.extend_from_slice(&start_ms.to_le_bytes());
    let mut file = open_journal_file(&path)?;
    if file.metadata()?.len() == 0 {
        file.write_all(&header)?;
        file.sync_data()?;
        // The new name is durable too.
        File::open(dir)?.sync_all()?;
        return Ok(JournalFile {
            file: Arc::new(file),
            next: 0,
            slots: 0,
        });
    }
    // Created by an earlier start within the same millisecond: keep what
    // it holds.
    drop(file);
    let loaded = read_generation(&path)?
        .ok_or_else(|| std::io::Error::other(format!("{}: not a nonce journal", path.display())))?;
    Ok(JournalFile {
        file: Arc::new(open_journal_file(&path)?),
        next: loaded.next,
        slots: loaded.slots,
    })
}

fn open_journal_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// The map's hash of a digest: the digest itself (already a keyed hash).
#[derive(Default)]
pub struct Digest(u64);

impl Hasher for Digest {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else still hashes.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: i64 = NONCE_WINDOW_MS;

    fn unbounded() -> NonceCache {
        NonceCache::new(NonceLimits {
            total: usize::MAX,
            per_key: 0,
        })
    }

    impl NonceCache {
        fn use_nonce_ok(&mut self, key: &str, nonce: &str, now_ms: i64) -> Spent {
            self.use_nonce(key, nonce, now_ms).unwrap()
        }
    }

    fn fresh(s: Spent) -> bool {
        matches!(s, Spent::Fresh { .. })
    }

    #[test]
    fn a_nonce_is_refused_for_exactly_one_window() {
        let mut c = unbounded();
        let t0 = 1_700_000_000_000;
        assert!(fresh(c.use_nonce_ok("k", "n", t0)));
        assert_eq!(c.use_nonce_ok("k", "n", t0 + 1), Spent::Used);
        // Another key, or another nonce, is another pair; so is a pair
        // whose parts only concatenate alike.
        assert!(fresh(c.use_nonce_ok("k2", "n", t0 + 1)));
        assert!(fresh(c.use_nonce_ok("k", "n2", t0 + 1)));
        assert!(fresh(c.use_nonce_ok("kn", "", t0 + 1)));
        assert!(fresh(c.use_nonce_ok("", "kn", t0 + 1)));
        // Across a rotation: still refused until the window is over.
        assert!(fresh(c.use_nonce_ok("other", "x", t0 + W - 1)));
        assert_eq!(c.use_nonce_ok("other", "x", t0 + W + 5), Spent::Used);
        assert_eq!(c.use_nonce_ok("k", "n", t0 + W - 1), Spent::Used);
        assert!(fresh(c.use_nonce_ok("k", "n", t0 + W)));
        assert_eq!(c.use_nonce_ok("k", "n", t0 + W + 1), Spent::Used);
    }

    #[test]
    fn nonces_spread_over_the_shards() {
        let mut c = unbounded();
        for i in 0..6400 {
            assert!(fresh(c.use_nonce_ok("k", &i.to_string(), 1)));
        }
        for i in 0..6400 {
            assert_eq!(c.use_nonce_ok("k", &i.to_string(), 2), Spent::Used);
        }
        assert_eq!(c.len(), 6400);
        assert!(c.current.maps.iter().all(|m| (50..200).contains(&m.len())));
    }

    #[test]
    fn old_nonces_are_dropped() {
        let mut c = unbounded();
        let t0 = 1_700_000_000_000;
        for i in 0..1000 {
            assert!(fresh(c.use_nonce_ok("k", &i.to_string(), t0 + i)));
        }
        assert_eq!(c.len(), 1000);
        // Two windows on, the first thousand are gone.
        assert!(fresh(c.use_nonce_ok("k", "late", t0 + 2 * W + 1000)));
        assert!(fresh(c.use_nonce_ok("k", "later", t0 + 3 * W + 1000)));
        assert_eq!(c.len(), 2);
        assert!(fresh(c.use_nonce_ok("k", "0", t0 + 3 * W + 1001)));
    }

    #[test]
    fn bounds_refuse_rather_than_forget() {
        let mut c = NonceCache::new(NonceLimits {
            total: 100,
            per_key: 30,
        });
        let t0 = 1_700_000_000_000;
        for i in 0..30 {
            assert!(fresh(c.use_nonce_ok("greedy", &i.to_string(), t0)));
        }
        // One key past its share: refused, others go on.
        assert_eq!(
            c.use_nonce_ok("greedy", "30", t0),
            Spent::OverLimit { per_key: true }
        );
        // A replay is still a replay, not a throttle.
        assert_eq!(c.use_nonce_ok("greedy", "0", t0), Spent::Used);
        for k in 0..70 {
            assert!(fresh(c.use_nonce_ok(&format!("k{k}"), "n", t0)));
        }
        // The whole cache full: refused for everyone, nothing forgotten.
        assert_eq!(
            c.use_nonce_ok("late", "n", t0),
            Spent::OverLimit { per_key: false }
        );
        assert_eq!(c.len(), 100);
        assert_eq!(c.use_nonce_ok("greedy", "1", t0 + 1), Spent::Used);
        // Past the window the nonces are no longer replays, but they count
        // until their generation is dropped (at the next rotation).
        assert_eq!(
            c.use_nonce_ok("greedy", "0", t0 + W),
            Spent::OverLimit { per_key: true }
        );
        assert_eq!(
            c.use_nonce_ok("late", "n", t0 + W),
            Spent::OverLimit { per_key: false }
        );
        assert!(fresh(c.use_nonce_ok("late", "n", t0 + 2 * W)));
        assert!(fresh(c.use_nonce_ok("greedy", "30", t0 + 2 * W)));
    }

    #[test]
    fn the_journal_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let limits = NonceLimits::default();
        let t0 = 1_700_000_000_000;
        {
            let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0).unwrap());
            for i in 0..500 {
                assert!(n.use_nonce("k", &i.to_string(), t0 + i).unwrap());
            }
            // No sync, no drop: what a SIGKILL leaves (the page cache).
            std::mem::forget(n);
        }
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 1000).unwrap());
        assert_eq!(n.len(), 500);
        for i in 0..500 {
            assert!(!n.use_nonce("k", &i.to_string(), t0 + 1000).unwrap(), "{i}");
        }
        assert!(n.use_nonce("k", "new", t0 + 1000).unwrap());
        drop(n);
        // Across a rotation and a restart: the old generation is still
        // there until it is two windows old.
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + W + 10).unwrap());
        assert!(!n.use_nonce("k", "new", t0 + W + 10).unwrap());
        assert!(n.use_nonce("k", "0", t0 + W + 10).unwrap());
        assert!(n.use_nonce("k", "newer", t0 + W + 11).unwrap());
        drop(n);
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + W + 20).unwrap());
        assert!(!n.use_nonce("k", "newer", t0 + W + 20).unwrap());
        assert!(!n.use_nonce("k", "0", t0 + W + 20).unwrap());
        drop(n);
        let files = generation_files(&dir.path().join(JOURNAL_DIR)).unwrap();
        assert_eq!(files.len(), 2, "{files:?}");
        // Much later everything is past the window, and the files go.
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 3 * W).unwrap());
        assert_eq!(n.len(), 0);
        assert!(n.use_nonce("k", "newer", t0 + 3 * W).unwrap());
        drop(n);
        let starts: Vec<i64> = generation_files(&dir.path().join(JOURNAL_DIR))
            .unwrap()
            .into_iter()
            .map(|(start, _)| start)
            .collect();
        assert!(!starts.contains(&t0) && starts.len() == 2, "{starts:?}");
        // Owner only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join(JOURNAL_DIR)), 0o700);
            for (_, f) in generation_files(&dir.path().join(JOURNAL_DIR)).unwrap() {
                assert_eq!(mode(&f), 0o600);
            }
        }
    }

    fn journal_path(dir: &Path) -> PathBuf {
        let mut files = generation_files(&dir.join(JOURNAL_DIR)).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0).1
    }

    fn slot_offset(i: u64) -> u64 {
        HEADER_LEN + i * RECORD_LEN as u64
    }

    #[test]
    fn a_torn_record_is_ignored_and_written_over_never() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000_000;
        let limits = NonceLimits::default();
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0).unwrap());
        assert!(n.use_nonce("k", "a", t0).unwrap());
        drop(n);
        // A SIGKILL in the middle of the next record's write: its first 20
        // bytes (digests and the low half of the first use) made it.
        let path = journal_path(dir.path());
        let file = OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&[0xa5; 20], slot_offset(1)).unwrap();
        // And an old journal's short tail (appended past the slots).
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(&[1, 2, 3])
            .unwrap();
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 1).unwrap());
        assert_eq!(n.len(), 1);
        assert!(!n.use_nonce("k", "a", t0 + 1).unwrap());
        assert!(n.use_nonce("k", "b", t0 + 1).unwrap());
        drop(n);
        // "b" went after the torn slot.
        let loaded = read_generation(&path).unwrap().unwrap();
        assert_eq!(loaded.next, 3);
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 2).unwrap());
        assert_eq!(n.len(), 2);
        assert!(!n.use_nonce("k", "a", t0 + 2).unwrap());
        assert!(!n.use_nonce("k", "b", t0 + 2).unwrap());
    }

    #[test]
    fn a_slot_never_written_leaves_the_others_and_is_not_reused() {
        // Requests write their slots side by side: one killed (or failed)
        // between taking its slot and writing it leaves zeros between
        // records that were written, and acknowledged.
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000_000;
        let limits = NonceLimits::default();
        let mut cache = NonceCache::open_journal(dir.path(), limits, t0).unwrap();
        let mut slots = Vec::new();
        for nonce in ["a", "b", "c"] {
            match cache.use_nonce("k", nonce, t0).unwrap() {
                Spent::Fresh { slot: Some(slot) } => slots.push(slot),
                other => panic!("{other:?}"),
            }
        }
        // "c" and "a" written (in that order), "b" never.
        slots[2].write().unwrap();
        slots[0].write().unwrap();
        std::mem::forget(cache);
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 1).unwrap());
        assert_eq!(n.len(), 2);
        assert!(!n.use_nonce("k", "a", t0 + 1).unwrap());
        assert!(!n.use_nonce("k", "c", t0 + 1).unwrap());
        assert!(n.use_nonce("k", "b", t0 + 1).unwrap());
        drop(n);
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 2).unwrap());
        assert_eq!(n.len(), 3);
        for nonce in ["a", "b", "c"] {
            assert!(!n.use_nonce("k", nonce, t0 + 2).unwrap(), "{nonce}");
        }
    }

    #[test]
    fn the_file_grows_ahead_of_its_slots() {
        let dir = tempfile::tempdir().unwrap();
        let t0 = 1_700_000_000_000;
        let limits = NonceLimits::default();
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0).unwrap());
        let count = GROW_RECORDS + 10;
        for i in 0..count {
            assert!(n.use_nonce("k", &i.to_string(), t0).unwrap());
        }
        let path = journal_path(dir.path());
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            slot_offset(2 * GROW_RECORDS)
        );
        std::mem::forget(n);
        let n = Nonces::new(NonceCache::open_journal(dir.path(), limits, t0 + 1).unwrap());
        assert_eq!(n.len(), count as usize);
        assert!(!n.use_nonce("k", &(count - 1).to_string(), t0 + 1).unwrap());
        assert!(n.use_nonce("k", "one more", t0 + 1).unwrap());
    }
}
