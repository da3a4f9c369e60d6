//! Exponential back-off of IKE initiations, per tunnel (#13).
//!
//! A peer that refuses the gateway (wrong PSK, no matching proposal, not
//! answering) makes every initiation fail, and the tunnel is down again at
//! the agent's next look. Re-initiating at once would hammer the peer
//! several times a second, forever. Instead, each initiation that did not
//! bring the tunnel up multiplies the wait before the next one by
//! [`Policy::factor`], from [`Policy::first`] to at most [`Policy::cap`];
//! the tunnel coming up, or its configuration changing, starts afresh. A
//! tunnel just (re)loaded is started at once ([`Decision::Start`], not a
//! back-off step: charon loads tunnels without starting them, the agent
//! starts them in waves).
//!
//! The first waits are short (100 ms, 400 ms, 1.6 s, then 6.4 s, 25.6 s,
//! 60 s; #18): right after a change the peer is often being configured at
//! the same moment (a customer updating the device, the lab's mirror) and
//! refuses a first attempt or two only because it does not have its side
//! yet (`NO_PROPOSAL_CHOSEN`, or its old key), so the tunnel comes up a
//! moment after the peer is ready instead of after a 1 s or 2 s wait. A
//! peer that truly refuses is initiated as often as with 1 s doubling (7
//! times in the first minute, then once a minute), only sooner.
//!
//! The types here are pure (time is a parameter, nothing is logged): the
//! agent asks [`Backoffs::try_initiate`] before each initiation it would
//! make and logs the [`Step`] it gets back, tells [`Backoffs::observe`]
//! what it measured and [`Backoffs::reconfigured`] what it (re)loaded, and
//! wakes at [`Backoffs::next_end`] to initiate again a tunnel whose wait is
//! over. That is the whole contract, whichever loop drives it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long to wait after failed initiations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// The wait after the first failed initiation.
    pub first: Duration,
    /// Each further failure multiplies the wait by this (≥ 1).
    pub factor: u32,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for Policy {
    /// Tunnels: 100 ms, × 4, at most 60 s (see the module documentation).
    fn default() -> Self {
        Policy {
            first: Duration::from_millis(100),
            factor: 4,
            cap: Duration::from_secs(60),
        }
    }
}

impl Policy {
    /// The wait after `failures` failed initiations in a row (≥ 1):
    /// `first`, `factor × first`, `factor² × first`, … at most `cap`.
    pub fn delay(&self, failures: u32) -> Duration {
        let mut d = self.first;
        if self.factor <= 1 {
            return d.min(self.cap);
        }
        for _ in 1..failures {
            if d >= self.cap {
                break;
            }
            d = d.saturating_mul(self.factor);
        }
        d.min(self.cap)
    }
}

/// One tunnel's back-off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Initiations in a row that did not bring the tunnel up (the first
    /// start after a load is counted when the tunnel is next found down).
    failures: u32,
    /// (Re)loaded and not started yet: the next initiation is its start.
    loaded: bool,
    /// No initiation before this.
    not_before: Option<Instant>,
}

/// What [`Backoff::try_initiate`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Do not initiate yet.
    Wait,
    /// Initiate now: the tunnel's first start since it was (re)loaded.
    Start,
    /// Initiate now; the next initiation waits for the step's delay.
    Initiate(Step),
}

/// A back-off step: worth one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Failed initiations in a row, this one's predecessor included.
    pub failures: u32,
    /// How long the next initiation waits.
    pub next_in: Duration,
}

impl Backoff {
    /// Called when the tunnel is down and the agent would initiate it.
    pub fn try_initiate(&mut self, now: Instant, policy: &Policy) -> Decision {
        if std::mem::take(&mut self.loaded) {
            return Decision::Start;
        }
        if self.not_before.is_some_and(|t| now < t) {
            return Decision::Wait;
        }
        // The tunnel is down, so the previous initiation failed.
        self.failures = self.failures.saturating_add(1);
        let next_in = policy.delay(self.failures);
        self.not_before = Some(now + next_in);
        Decision::Initiate(Step {
            failures: self.failures,
            next_in,
        })
    }

    /// Failed initiations in a row.
    #[cfg(test)]
    fn failures(&self) -> u32 {
        self.failures
    }
}

/// The back-off of every tunnel of a gateway, by tunnel name (the default
/// [`Policy`]: 100 ms, × 4, up to 60 s).
#[derive(Debug, Default)]
pub struct Backoffs {
    policy: Policy,
    tunnels: HashMap<String, Backoff>,
}

impl Backoffs {
    /// Whether to initiate `tunnel` (found down) now; each initiation is a
    /// back-off step (the caller logs it).
    pub fn try_initiate(&mut self, tunnel: &str, now: Instant) -> Decision {
        let policy = self.policy;
        self.tunnels
            .entry(tunnel.to_owned())
            .or_default()
            .try_initiate(now, &policy)
    }

    /// The tunnel's configuration was (re)loaded: the back-off starts
    /// afresh, and the next initiation is its start ([`Decision::Start`]).
    pub fn reconfigured(&mut self, tunnel: &str) {
        self.tunnels.insert(
            tunnel.to_owned(),
            Backoff {
                loaded: true,
                ..Backoff::default()
            },
        );
    }

    /// What the status says: a tunnel that is up starts afresh.
    pub fn observe(&mut self, tunnel: &str, up: bool) {
        if up {
            self.tunnels.remove(tunnel);
        }
    }

    /// The next moment a back-off ends (after `now`): a tunnel still down
    /// then may be initiated again, so the agent looks at it then.
    pub fn next_end(&self, now: Instant) -> Option<Instant> {
        self.tunnels
            .values()
            .filter_map(|b| b.not_before)
            .filter(|t| *t > now)
            .min()
    }

    /// Forget tunnels that are no longer configured.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.tunnels.retain(|name, _| keep(name));
    }

    /// Failed initiations in a row of `tunnel`.
    #[cfg(test)]
    fn failures(&self, tunnel: &str) -> u32 {
        self.tunnels.get(tunnel).map_or(0, Backoff::failures)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn delays_grow_up_to_the_cap() {
        let p = Policy::default();
        let got: Vec<u128> = (1..=8).map(|n| p.delay(n).as_millis()).collect();
        assert_eq!(got, [100, 400, 1600, 6400, 25600, 60000, 60000, 60000]);
        assert_eq!(p.delay(u32::MAX), secs(60));
        assert_eq!(p.delay(0), Duration::from_millis(100));
        let doubling = Policy {
            first: secs(1),
            factor: 2,
            cap: secs(60),
        };
        let got: Vec<u64> = (1..=8).map(|n| doubling.delay(n).as_secs()).collect();
        assert_eq!(got, [1, 2, 4, 8, 16, 32, 60, 60]);
    }

    #[test]
    fn a_refusing_peer_is_tried_a_few_times_in_twenty_seconds() {
        // The agent looks every 300 ms; the tunnel is always down.
        let mut b = Backoffs::default();
        let t0 = Instant::now();
        let mut initiated = Vec::new();
        for tick in 0..=(20_000 / 300) {
            let now = t0 + Duration::from_millis(tick * 300);
            if let Decision::Initiate(step) = b.try_initiate("t", now) {
                initiated.push((now - t0, step));
            }
        }
        let at: Vec<u64> = initiated
            .iter()
            .map(|(t, _)| t.as_millis() as u64)
            .collect();
        assert_eq!(at, [0, 300, 900, 2700, 9300]);
        let waits: Vec<u128> = initiated
            .iter()
            .map(|(_, s)| s.next_in.as_millis())
            .collect();
        assert_eq!(waits, [100, 400, 1600, 6400, 25600]);
    }

    #[test]
    fn an_agent_woken_when_a_back_off_ends_initiates_on_the_schedule() {
        // The agent looks only when woken: at the start, then at each
        // `next_end`. A refusing peer is initiated at 0, 0.1, 0.5, 2.1,
        // 8.5 s in the first 20 s (as many as with 1 s doubling: 0, 1, 3,
        // 7, 15 s), then at 34.1 s.
        let mut b = Backoffs::default();
        let t0 = Instant::now();
        b.reconfigured("t");
        assert_eq!(b.try_initiate("t", t0), Decision::Start);
        assert_eq!(b.next_end(t0), None, "a start is not a back-off step");
        let mut now = t0;
        let mut initiated = Vec::new();
        while now - t0 < secs(60) {
            if let Decision::Initiate(step) = b.try_initiate("t", now) {
                initiated.push((now - t0).as_millis());
                assert_eq!(b.next_end(now), Some(now + step.next_in));
            }
            // Nothing else is due: without this wake the next look would
            // wait for the periodic reconcile.
            now = b
                .next_end(now)
                .expect("a back-off runs while the tunnel is down");
        }
        assert_eq!(initiated, [0, 100, 500, 2100, 8500, 34100]);
        b.observe("t", true);
        assert_eq!(
            b.next_end(now),
            None,
            "a tunnel that is up waits for nothing"
        );
    }

    #[test]
    fn coming_up_or_a_new_configuration_starts_afresh() {
        let mut b = Backoffs::default();
        let t0 = Instant::now();
        for i in 0..5 {
            let _ = b.try_initiate("t", t0 + secs(100 * i));
        }
        assert_eq!(b.failures("t"), 5);
        assert_eq!(b.try_initiate("t", t0 + secs(401)), Decision::Wait);
        b.observe("t", false);
        assert_eq!(b.try_initiate("t", t0 + secs(401)), Decision::Wait);
        b.observe("t", true);
        assert!(matches!(
            b.try_initiate("t", t0 + secs(401)),
            Decision::Initiate(Step { failures: 1, .. })
        ));
        let _ = b.try_initiate("t", t0 + secs(402));
        b.reconfigured("t");
        assert_eq!(b.failures("t"), 0);
        // Its start, then (found down) the back-off from the first step.
        assert_eq!(b.try_initiate("t", t0 + secs(402)), Decision::Start);
        assert!(matches!(
            b.try_initiate("t", t0 + secs(402)),
            Decision::Initiate(Step { failures: 1, .. })
        ));
        // Tunnels are independent.
        assert!(matches!(
            b.try_initiate("other", t0 + secs(402)),
            Decision::Initiate(Step { failures: 1, .. })
        ));
        b.retain(|t| t == "other");
        assert_eq!(b.failures("t"), 0);
        assert_eq!(b.failures("other"), 1);
    }

    proptest! {
        /// Whenever the agent looks, consecutive initiations are at least the
        /// announced delay apart, the delays never shrink and never pass the
        /// cap, and no more initiations happen than the schedule allows.
        #[test]
        fn initiations_respect_the_schedule(
            first_ms in 1u64..5_000,
            factor in 1u32..8,
            cap_ms in 1u64..120_000,
            looks in proptest::collection::vec(1u64..5_000, 1..400),
        ) {
            let policy = Policy {
                first: Duration::from_millis(first_ms),
                factor,
                cap: Duration::from_millis(cap_ms.max(first_ms)),
            };
            let mut b = Backoff::default();
            let t0 = Instant::now();
            let mut now = t0;
            let mut last: Option<(Instant, Duration)> = None;
            for gap in looks {
                now += Duration::from_millis(gap);
                if let Decision::Initiate(step) = b.try_initiate(now, &policy) {
                    prop_assert!(step.next_in <= policy.cap);
                    if let Some((at, wait)) = last {
                        prop_assert!(now - at >= wait);
                        prop_assert!(step.next_in >= wait);
                    }
                    last = Some((now, step.next_in));
                }
            }
            // Over the whole run, the initiations after the first are at
            // least first, factor × first, … apart (capped).
            let elapsed = now - t0;
            let mut allowed = 1u32;
            let mut budget = Duration::ZERO;
            while budget <= elapsed {
                budget += policy.delay(allowed);
                allowed += 1;
            }
            prop_assert!(b.failures() <= allowed);
        }
    }
}
