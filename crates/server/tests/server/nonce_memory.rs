//! The replay window's memory is bounded (#13): under a load loop of
//! correctly signed requests (loopback, bounded in time) the server's RSS
//! stops growing once `nonce_limit` nonces are kept, and the requests past
//! the bound are refused with `Throttling` instead of a nonce being
//! forgotten. Without the bound every request added a nonce for 30 minutes
//! (547,000 requests in 20 s took RSS from 24 to 63 MB).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use crate::support::Server;

const LIMIT: u64 = 30_000;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    throttled: AtomicU64,
}

/// `clients` loops of signed DescribeRegions until `n` answers in all or
/// `for_at_most` passes.
async fn load(server: &Server, clients: usize, n: u64, for_at_most: Duration) -> Arc<Tally> {
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + for_at_most;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let (client, tally, stop) = (server.client(), tally.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    match client.vpc("DescribeRegions", &[]).await {
                        Ok(_) => tally.ok.fetch_add(1, Ordering::Relaxed),
                        Err(vpngw_client::ClientError::Api { code, .. }) => {
                            assert_eq!(code, "Throttling", "unexpected refusal");
                            tally.throttled.fetch_add(1, Ordering::Relaxed)
                        }
                        Err(e) => panic!("{e}"),
                    };
                    let done =
                        tally.ok.load(Ordering::Relaxed) + tally.throttled.load(Ordering::Relaxed);
                    if done >= n {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_stays_bounded_under_a_load_loop() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with_env(
        dir.path(),
        &[],
        &[
            ("VPNGW_NONCE_LIMIT", &LIMIT.to_string()),
            ("VPNGW_NONCE_LIMIT_PER_KEY", "0"),
        ],
    );
    let pid = server.child.id();
    // Up to the bound and a little past it, so that the maps have grown
    // to what they hold at the bound.
    let warm = load(&server, 32, LIMIT + 10_000, Duration::from_secs(60)).await;
    let baseline = rss_kib(pid);
    let sampler = {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(baseline));
        let (s, p) = (stop.clone(), peak.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        (stop, peak, handle)
    };
    let started = Instant::now();
    let tally = load(&server, 32, 150_000, Duration::from_secs(40)).await;
    let took = started.elapsed();
    sampler.0.store(true, Ordering::Relaxed);
    sampler.2.join().unwrap();
    let peak = sampler.1.load(Ordering::Relaxed);
    let (ok, throttled) = (
        tally.ok.load(Ordering::Relaxed),
        tally.throttled.load(Ordering::Relaxed),
    );
    eprintln!(
        "warm-up: {} ok, {} throttled; then {ok} ok, {throttled} throttled in {:.1} s; \
         RSS {baseline} KiB -> peak {peak} KiB",
        warm.ok.load(Ordering::Relaxed),
        warm.throttled.load(Ordering::Relaxed),
        took.as_secs_f64()
    );
    assert!(
        ok + throttled >= 50_000,
        "too few requests to tell: {ok} + {throttled}"
    );
    // Every request past the bound is refused; none is let through by
    // forgetting a nonce (the warm-up filled the window).
    assert_eq!(ok, 0, "{ok} requests admitted past the nonce bound");
    // The RSS figures above are printed, not asserted: on a busy CI machine
    // the allocator's and the connections' buffers alone moved the peak by
    // 3 MB while no nonce was admitted. That no nonce is kept past the bound
    // is what `ok == 0` proves; memory belongs in a benchmark (BENCHMARKS.md).
}
