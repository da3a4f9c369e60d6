//! Health checks (`HealthCheckConfig`): probe `Dip` from `Sip` through the
//! tunnel every `Interval` seconds; `Retry` consecutive unanswered probes
//! make the check `failed`, one answered probe makes it `success`.
//!
//! With `Policy=revoke_route`, a check that turns `failed` withdraws the
//! route to the connection's remote subnets on the gateway
//! ([`vpngw_dataplane::Dataplane::set_route`]: an `unreachable` rule ahead of
//! the tunnel routes, the probe path from `Sip` excepted), and a check that
//! turns `success` again restores it. That is this gateway's meaning of
//! "route": the path traffic from the gateway's side takes into the tunnel;
//! there is no VPC route table to edit.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use vpngw_model::dataplane::HealthCheckSpec;

/// How long one probe waits for its answer.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// The state of one connection's health check.
#[derive(Debug, Clone)]
pub struct HealthCheck {
    pub spec: HealthCheckSpec,
    /// Parsed `Sip`/`Dip`, or why they are unusable.
    pub endpoints: Result<(IpAddr, IpAddr), String>,
    pub next_due: Instant,
    pub failures: u32,
    /// `success` or `failed` (nothing is proven before the first answer).
    pub status: &'static str,
    /// Whether this check withdrew the route.
    pub withdrawn: bool,
}

/// What a probe result changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    None,
    /// Turned `success`; `restore` when the route must come back.
    Up {
        restore: bool,
    },
    /// Turned `failed` after `failures` probes; `withdraw` under revoke_route.
    Down {
        failures: u32,
        withdraw: bool,
    },
}

impl HealthCheck {
    pub fn new(spec: HealthCheckSpec, now: Instant) -> HealthCheck {
        let endpoints = match (spec.sip.parse::<IpAddr>(), spec.dip.parse::<IpAddr>()) {
            (Ok(s), Ok(d)) => Ok((s, d)),
            _ => Err(format!(
                "health check: Sip {:?} / Dip {:?} are not IP addresses",
                spec.sip, spec.dip
            )),
        };
        HealthCheck {
            spec,
            endpoints,
            next_due: now,
            failures: 0,
            status: "failed",
            withdrawn: false,
        }
    }

    pub fn interval(&self) -> Duration {
        Duration::from_secs(u64::try_from(self.spec.interval_s).unwrap_or(1).max(1))
    }

    fn retry(&self) -> u32 {
        u32::try_from(self.spec.retry).unwrap_or(1).max(1)
    }

    pub fn due(&self, now: Instant) -> bool {
        now >= self.next_due
    }

    /// Records one probe result.
    pub fn record(&mut self, answered: bool, now: Instant) -> Transition {
        self.next_due = now + self.interval();
        let revoke = self.spec.policy == "revoke_route";
        if answered {
            self.failures = 0;
            let was = self.status;
            self.status = "success";
            if was != "success" || self.withdrawn {
                let restore = self.withdrawn;
                self.withdrawn = false;
                return Transition::Up { restore };
            }
            return Transition::None;
        }
        self.failures = self.failures.saturating_add(1);
        if self.failures == self.retry() {
            self.status = "failed";
            let withdraw = revoke && !self.withdrawn;
            if withdraw {
                self.withdrawn = true;
            }
            return Transition::Down {
                failures: self.failures,
                withdraw,
            };
        }
        Transition::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(policy: &str) -> HealthCheckSpec {
        HealthCheckSpec {
            dip: "10.1.0.9".into(),
            sip: "10.0.0.9".into(),
            interval_s: 2,
            retry: 3,
            policy: policy.into(),
        }
    }

    #[test]
    fn retry_failures_then_success() {
        let t0 = Instant::now();
        let mut h = HealthCheck::new(spec("revoke_route"), t0);
        assert!(h.due(t0));
        assert_eq!(h.status, "failed");
        assert_eq!(h.record(true, t0), Transition::Up { restore: false });
        assert_eq!(h.status, "success");
        assert!(!h.due(t0 + Duration::from_secs(1)));
        assert!(h.due(t0 + Duration::from_secs(2)));
        assert_eq!(h.record(false, t0), Transition::None);
        assert_eq!(h.record(false, t0), Transition::None);
        assert_eq!(h.status, "success");
        assert_eq!(
            h.record(false, t0),
            Transition::Down {
                failures: 3,
                withdraw: true
            }
        );
        assert_eq!(h.status, "failed");
        assert_eq!(h.record(false, t0), Transition::None);
        assert_eq!(h.record(true, t0), Transition::Up { restore: true });
    }

    #[test]
    fn keep_route_never_withdraws() {
        let t0 = Instant::now();
        let mut h = HealthCheck::new(spec("keep_route"), t0);
        for _ in 0..2 {
            h.record(false, t0);
        }
        assert_eq!(
            h.record(false, t0),
            Transition::Down {
                failures: 3,
                withdraw: false
            }
        );
        let mut bad = spec("keep_route");
        bad.sip = "nope".into();
        assert!(HealthCheck::new(bad, t0).endpoints.is_err());
    }
}
