//! Read-modify-write of one record under concurrency.
//!
//! Every update names the version it read (optimistic concurrency, enforced
//! by the store in its transaction), so two writers racing on one record can
//! never lose an update: the loser's write is refused (`VersionConflict`,
//! answered `VpnTask.CONFLICT`). On its own that makes 64 simultaneous
//! modifications of one connection end with one success and 63 conflicts.
//!
//! [`serialized`] makes most of them succeed instead:
//! - writers in this process take turns per record (a striped async lock
//!   held from the read to the durable write), so they do not conflict at
//!   all;
//! - a conflict that still happens (a write from another replica, or from a
//!   path that does not take the lock, such as a data-plane report) re-runs
//!   the whole read-modify-write, at most [`ATTEMPTS`] times with a short
//!   random pause, before the conflict is answered.
//!
//! Correctness never rests on the lock: the version check does that. The
//! lock only turns conflicts into waiting.

use std::{future::Future, time::Duration};

use rand::Rng;
use vpngw_protocol::ApiError;

use crate::Ctx;

/// Tries of one read-modify-write before `VpnTask.CONFLICT` is answered.
pub const ATTEMPTS: u32 = 5;

const STRIPES: usize = 256;

/// Striped locks: a record's id picks its stripe, so unrelated records
/// rarely wait for each other and memory stays constant.
pub struct RecordLocks {
    stripes: Vec<tokio::sync::Mutex<()>>,
}

impl Default for RecordLocks {
    fn default() -> Self {
        RecordLocks {
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }
}

impl RecordLocks {
    fn stripe(&self, account: &str, id: &str) -> &tokio::sync::Mutex<()> {
        // FNV-1a: stable, fast, and the ids are not attacker-chosen in a way
        // that matters (a collision only makes two records take turns).
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in account.bytes().chain([0]).chain(id.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        &self.stripes[(h % STRIPES as u64) as usize]
    }
}

fn is_conflict(e: &ApiError) -> bool {
    e.code == crate::errors::task_conflict().code
}

/// Runs `attempt` (a whole read-modify-write of record `id`) with the
/// record's lock held, again on a version conflict (see the module docs).
pub async fn serialized<T, F, Fut>(ctx: &Ctx<'_>, id: &str, mut attempt: F) -> Result<T, ApiError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let lock = ctx.inner.record_locks.stripe(&ctx.caller.account_id, id);
    let mut tries = 0;
    loop {
        tries += 1;
        let result = {
            let _turn = lock.lock().await;
            attempt().await
        };
        match result {
            Err(e) if is_conflict(&e) && tries < ATTEMPTS => {
                let pause = rand::rng().random_range(1..=4u64) * u64::from(tries);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripes_depend_on_account_and_id() {
        let l = RecordLocks::default();
        let a = l.stripe("acct", "vco-1") as *const _;
        assert_eq!(a, l.stripe("acct", "vco-1") as *const _);
        let spread: std::collections::HashSet<_> = (0..1000)
            .map(|i| l.stripe("acct", &format!("vco-{i}")) as *const _ as usize)
            .collect();
        assert!(spread.len() > 200, "{}", spread.len());
    }
}
