//! The single writer, with group commit.
//!
//! SQLite allows one writer at a time, and each durable commit costs an
//! fsync. All writes therefore go to one thread, which takes every job that
//! is waiting, runs each inside its own SAVEPOINT (so one failing job rolls
//! back alone), commits them together with one fsync, and only then answers
//! the callers. Throughput grows with concurrency; no caller is told "done"
//! before its write is on disk.

use std::sync::{Arc, mpsc};

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::{GatewayFeed, StoreError};

/// The most jobs folded into one transaction.
const MAX_BATCH: usize = 256;

type Deliver = Box<dyn FnOnce(Option<StoreError>) + Send>;
/// A write job: runs against the open transaction and returns whether it
/// succeeded plus how to hand its result over once the commit is known.
type Job = Box<dyn FnOnce(&Connection) -> (bool, Deliver) + Send>;

#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread; `feed` hears of every gateway whose
    /// revision a commit moved (revisions.rs).
    pub fn start(mut conn: Connection, feed: Arc<GatewayFeed>) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>();
        // Checkpoints leave the writer's COMMITs (checkpoint.rs).
        let checkpoints = super::checkpoint::start(&mut conn);
        std::thread::Builder::new()
            .name("vpngw-sqlite-writer".into())
            .spawn(move || {
                run(&conn, rx, &checkpoints, &feed);
                checkpoints.stop();
            })
            .expect("spawning the writer thread");
        Writer { jobs: tx }
    }

    /// Runs `f` in the next group commit and returns its result once durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let (op, started) = (super::timing::op_name::<F>(), std::time::Instant::now());
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let deliver: Deliver = Box::new(move |commit_error| {
                let _ = tx.send(match commit_error {
                    Some(e) => Err(e),
                    None => result,
                });
            });
            (ok, deliver)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Internal("writer stopped".into()))?;
        let result = rx
            .await
            .map_err(|_| StoreError::Internal("writer dropped the job".into()))?;
        // Includes waiting for the group commit: what the caller waits.
        super::timing::record(op, "write", started);
        result
    }
}

fn run(
    conn: &Connection,
    rx: mpsc::Receiver<Job>,
    checkpoints: &super::checkpoint::Shared,
    feed: &GatewayFeed,
) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut delivers = Vec::with_capacity(batch.len());
        // jobs / commits is how many writes share each fsync (BENCHMARKS.md).
        metrics::counter!("vpngw_store_write_jobs_total").increment(batch.len() as u64);
        metrics::counter!("vpngw_store_group_commits_total").increment(1);
        // Between two transactions: rewind a long WAL (checkpoint.rs).
        super::checkpoint::before_batch(conn, checkpoints);
        // A job that cannot even start is dropped: its caller's channel
        // closes and it gets an internal error.
        if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
            tracing::error!(error = %e, "cannot begin a write transaction");
            continue;
        }
        for job in batch {
            if let Err(e) = run_cached(conn, "SAVEPOINT job") {
                tracing::error!(error = %e, "cannot open a savepoint");
                continue;
            }
            let (ok, deliver) = job(conn);
            let end = if ok {
                run_cached(conn, "RELEASE job")
            } else {
                run_cached(conn, "ROLLBACK TO job").and_then(|()| run_cached(conn, "RELEASE job"))
            };
            if let Err(e) = end {
                tracing::error!(error = %e, "ending a savepoint failed");
            }
            delivers.push(deliver);
        }
        let commit_error = conn.execute_batch("COMMIT").err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            e.to_string()
        });
        // Durable now (or rolled back: then a spurious wake-up, harmless).
        let mut moved = super::revisions::take_moved();
        moved.sort();
        moved.dedup();
        for gateway in &moved {
            feed.notify(gateway);
        }
        finish(delivers, commit_error);
    }
}

/// One statement without results, prepared once: the savepoint statements
/// run twice per job, and parsing them each time showed in the profile.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

fn finish(delivers: Vec<Deliver>, commit_error: Option<String>) {
    if let Some(e) = &commit_error {
        tracing::error!(error = %e, "group commit failed");
    }
    for deliver in delivers {
        deliver(
            commit_error
                .as_ref()
                .map(|e| StoreError::Internal(e.clone())),
        );
    }
}
