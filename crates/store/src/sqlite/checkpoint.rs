//! WAL checkpoints, off the writer thread.
//!
//! Every commit appends the pages it changed to the WAL; a checkpoint copies
//! them back into the database file (and fsyncs it) so that the WAL can
//! start over. SQLite's automatic checkpoint runs inside the COMMIT that
//! takes the WAL past 1,000 pages, on the writer thread: every caller of that
//! group commit waited for it (14% of the writer's time at concurrency 64).
//! Instead:
//!
//! - the writer's connection has no automatic checkpoint; its WAL hook
//!   tells [`Shared`] how many frames the WAL holds after each commit;
//! - past [`START_FRAMES`], a background thread with its own connection
//!   runs PASSIVE checkpoints, which copy pages while the writer keeps
//!   committing;
//! - the WAL only starts over when the writer begins a transaction with
//!   every frame copied, which a background pass under steady load never
//!   achieves (the writer appends while it copies). So once the WAL is past
//!   [`RESTART_FRAMES`] and a pass has left at most [`TAIL_FRAMES`] behind,
//!   the writer copies that tail itself between two group commits ([`before_batch`]),
//!   and its next transaction rewinds the WAL. Past [`HARD_FRAMES`] it does so
//!   whatever the background thread managed, so the WAL stays bounded even
//!   if that thread falls behind.
//!
//! Durability does not change: a checkpoint only copies committed pages,
//! and SQLite syncs the WAL before and the database file after copying.

use std::{
    path::PathBuf,
    sync::{
        Arc, Condvar, Mutex,
        atomic::{AtomicBool, AtomicU32, Ordering},
    },
    time::Duration,
};

use rusqlite::Connection;

/// WAL frames (pages) past which the background thread checkpoints. A
/// longer WAL copies each page once for more commits: under the create
/// benchmark 1,000 frames held 53% distinct pages, 1,840 only 40%.
pub const START_FRAMES: u32 = 4_000;
/// WAL frames past which the writer copies the tail and rewinds the WAL
/// (32 MiB).
pub const RESTART_FRAMES: u32 = 8_000;
/// The most frames a background pass may leave for the writer to copy.
pub const TAIL_FRAMES: u32 = 1_000;
/// WAL frames past which the writer checkpoints whatever is left (96 MiB).
pub const HARD_FRAMES: u32 = 24_000;

/// What the writer, its WAL hook and the background thread share.
#[derive(Default)]
pub struct Shared {
    /// Frames in the WAL after the last commit (the WAL hook's count).
    frames: AtomicU32,
    /// Frames already copied into the database file by the last checkpoint.
    backfilled: AtomicU32,
    /// `frames` when the writer last checkpointed without rewinding the WAL
    /// (a reader still used it): it tries again only after more commits.
    writer_tried_at: AtomicU32,
    /// The background thread is copying (the writer's checkpoint would
    /// find the checkpoint lock taken).
    busy: AtomicBool,
    /// Set when the background thread should look (or stop).
    wake: Mutex<bool>,
    bell: Condvar,
    stop: AtomicBool,
}

impl Shared {
    /// Called by the WAL hook after each commit, on the writer thread:
    /// an atomic store, and a notification when the WAL needs a pass.
    fn committed(&self, frames: u32) {
        let before = self.frames.swap(frames, Ordering::Relaxed);
        if frames < before {
            // The WAL started over.
            self.backfilled.store(0, Ordering::Relaxed);
            self.writer_tried_at.store(0, Ordering::Relaxed);
        }
        if frames >= START_FRAMES && before / START_FRAMES != frames / START_FRAMES {
            self.ring();
        }
    }

    fn ring(&self) {
        if let Ok(mut wake) = self.wake.lock() {
            *wake = true;
            self.bell.notify_one();
        }
    }

    /// Stops the background thread (the writer is done).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
        self.ring();
    }
}

/// Turns off the writer connection's automatic checkpoint (the hook
/// replaces it) and starts the background thread on `path`.
pub fn start(conn: &mut Connection) -> Arc<Shared> {
    let shared = Arc::new(Shared::default());
    let hook = shared.clone();
    let installed = conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
        hook.committed(u32::try_from(pages).unwrap_or(0));
        Ok(())
    }));
    if let Err(e) = installed {
        // Keeps SQLite's automatic checkpoint: slower, still correct.
        tracing::warn!(error = %e, "cannot install the WAL hook; checkpoints stay in COMMIT");
        return shared;
    }
    // An in-memory database has no path, and no WAL to keep small.
    if let Some(path) = conn.path().filter(|p| !p.is_empty()).map(PathBuf::from) {
        let background = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("vpngw-sqlite-checkpoint".into())
            .spawn(move || run(&path, &background));
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "no checkpoint thread; the writer checkpoints");
        }
    }
    shared
}

fn run(path: &std::path::Path, shared: &Shared) {
    let conn = match super::open_connection(path, false) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "checkpoint connection; the writer checkpoints");
            return;
        }
    };
    loop {
        {
            let Ok(mut wake) = shared.wake.lock() else {
                return;
            };
            if !*wake {
                // A timeout too: a WAL past the start gets a pass every
                // second even without a ring.
                wake = match shared.bell.wait_timeout(wake, Duration::from_secs(1)) {
                    Ok((w, _)) => w,
                    Err(_) => return,
                };
            }
            *wake = false;
        }
        if shared.stop.load(Ordering::Relaxed) {
            return;
        }
        // Passes back to back while the WAL is long enough for the writer to
        // rewind it but the tail left for the writer to copy is not short:
        // each pass copies what the writer appended during the previous one.
        loop {
            let frames = shared.frames.load(Ordering::Relaxed);
            let before = shared.backfilled.load(Ordering::Relaxed);
            if frames < START_FRAMES || before >= frames || shared.stop.load(Ordering::Relaxed) {
                break;
            }
            shared.busy.store(true, Ordering::Relaxed);
            checkpoint(&conn, shared, "background");
            shared.busy.store(false, Ordering::Relaxed);
            let (frames, after) = (
                shared.frames.load(Ordering::Relaxed),
                shared.backfilled.load(Ordering::Relaxed),
            );
            // Done for now, or a reader holds the rest back.
            if frames < RESTART_FRAMES
                || frames.saturating_sub(after) <= TAIL_FRAMES / 4
                || after <= before
            {
                break;
            }
        }
    }
}

/// One PASSIVE checkpoint on `conn`; returns whether every frame is copied.
fn checkpoint(conn: &Connection, shared: &Shared, by: &'static str) -> bool {
    let started = std::time::Instant::now();
    let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
    });
    metrics::counter!("vpngw_store_checkpoints_total", "by" => by).increment(1);
    metrics::histogram!(
        "vpngw_store_operation_duration_seconds",
        "op" => "checkpoint",
        "mode" => by
    )
    .record(started.elapsed().as_secs_f64());
    match result {
        Ok((log, copied)) if log >= 0 && copied >= 0 => {
            let copied = u32::try_from(copied).unwrap_or(0);
            // More than the WAL now holds: counted before it started over.
            if copied <= shared.frames.load(Ordering::Relaxed) {
                shared.backfilled.fetch_max(copied, Ordering::Relaxed);
            }
            metrics::gauge!("vpngw_store_wal_frames").set(log as f64);
            copied as i64 >= log
        }
        Ok(_) => false,
        Err(e) => {
            tracing::warn!(error = %e, by, "WAL checkpoint failed");
            false
        }
    }
}

/// Run by the writer between two group commits (no transaction open): when
/// the WAL is long and mostly copied, copy the rest so that the next
/// transaction rewinds it; when it is far too long (the background thread
/// fell behind), wait for the background pass and copy whatever is left.
pub fn before_batch(conn: &Connection, shared: &Shared) {
    let frames = shared.frames.load(Ordering::Relaxed);
    if frames < RESTART_FRAMES {
        return;
    }
    if frames >= HARD_FRAMES {
        // Two checkpoints cannot run at once: let the background one end.
        while shared.busy.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(1));
        }
    } else {
        let tail = frames.saturating_sub(shared.backfilled.load(Ordering::Relaxed));
        let tried = shared.writer_tried_at.load(Ordering::Relaxed);
        let due = tail <= TAIL_FRAMES
            && (tried == 0 || frames >= tried.saturating_add(TAIL_FRAMES / 4))
            && !shared.busy.load(Ordering::Relaxed);
        if !due {
            return;
        }
    }
    if !checkpoint(conn, shared, "writer") {
        // A reader still needed the WAL's last frames, or the background
        // thread had just started a pass: try again after more commits.
        shared.writer_tried_at.store(frames, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn frames_in_wal(conn: &Connection) -> i64 {
        // A PASSIVE checkpoint that copies nothing new reports the WAL's size.
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
            .unwrap()
    }

    #[test]
    fn the_wal_stays_bounded_under_steady_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = super::super::open_connection(&path, false).unwrap();
        // Fast commits for the test; the checkpoint logic does not care.
        conn.pragma_update(None, "synchronous", "OFF").unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let shared = start(&mut conn);
        // About 3 pages per commit, 20,000 commits: 60,000 frames written.
        for _ in 0..20_000 {
            before_batch(&conn, &shared);
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            conn.execute("INSERT INTO t VALUES (zeroblob(9000))", [])
                .unwrap();
            conn.execute_batch("COMMIT").unwrap();
            // At most a few commits past the hard bound.
            assert!(
                shared.frames.load(Ordering::Relaxed) <= HARD_FRAMES + 64,
                "the WAL grew to {} frames",
                shared.frames.load(Ordering::Relaxed)
            );
        }
        shared.stop();
        let checker = super::super::open_connection(&path, false).unwrap();
        assert!(frames_in_wal(&checker) <= i64::from(HARD_FRAMES) + 64);
        let rows: i64 = checker
            .query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 20_000);
    }

    #[test]
    fn the_writer_connection_no_longer_checkpoints_in_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut conn = super::super::open_connection(&path, false).unwrap();
        conn.pragma_update(None, "synchronous", "OFF").unwrap();
        conn.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        let shared = start(&mut conn);
        // Stop the background thread first: only COMMIT could checkpoint.
        shared.stop();
        std::thread::sleep(Duration::from_millis(50));
        for _ in 0..600 {
            conn.execute("INSERT INTO t VALUES (zeroblob(9000))", [])
                .unwrap();
        }
        // SQLite's automatic checkpoint would have rewound the WAL at 1,000.
        assert!(shared.frames.load(Ordering::Relaxed) > 1_000);
    }
}
