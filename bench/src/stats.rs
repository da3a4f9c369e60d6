//! Throughput and latency percentiles of one run.

use std::{collections::BTreeMap, fmt, time::Duration};

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    /// Requests answered with HTTP 2xx.
    pub ok: u64,
    /// Answers with another status, by error `Code` (or `HTTP <status>`).
    pub errors: BTreeMap<String, u64>,
    /// Requests that got no answer (connection refused or broken).
    pub transport_errors: u64,
    /// Wall time from the first request to the last answer.
    pub elapsed: Duration,
    /// Latency of every answered request, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// Bytes of the last successful answer body.
    pub body_bytes: usize,
}

impl RunStats {
    pub fn answered(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }

    pub fn error_count(&self) -> u64 {
        self.errors.values().sum::<u64>() + self.transport_errors
    }

    /// Answered requests per second.
    pub fn throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        self.answered() as f64 / secs
    }

    /// Successful requests per second.
    pub fn ok_throughput(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        self.ok as f64 / secs
    }

    /// The `p`-th percentile latency (0 < p ≤ 100), nearest rank.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.latencies_us.is_empty() {
            return Duration::ZERO;
        }
        let n = self.latencies_us.len();
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        let idx = rank.clamp(1, n) - 1;
        Duration::from_micros(u64::from(self.latencies_us[idx]))
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

impl fmt::Display for RunStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>9.0} req/s  p50 {} ms  p90 {} ms  p99 {} ms  p99.9 {} ms  max {} ms  ({} ok, {} errors, {:.1} s)",
            self.throughput(),
            ms(self.percentile(50.0)),
            ms(self.percentile(90.0)),
            ms(self.percentile(99.0)),
            ms(self.percentile(99.9)),
            ms(self.percentile(100.0)),
            self.ok,
            self.error_count(),
            self.elapsed.as_secs_f64(),
        )?;
        if !self.errors.is_empty() {
            write!(f, "  codes: {:?}", self.errors)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let s = RunStats {
            ok: 100,
            latencies_us: (1..=100).collect(),
            elapsed: Duration::from_secs(2),
            ..RunStats::default()
        };
        assert_eq!(s.percentile(50.0), Duration::from_micros(50));
        assert_eq!(s.percentile(99.0), Duration::from_micros(99));
        assert_eq!(s.percentile(100.0), Duration::from_micros(100));
        assert_eq!(s.throughput(), 50.0);
        assert_eq!(RunStats::default().percentile(99.0), Duration::ZERO);
    }
}
