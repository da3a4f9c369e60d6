//! When the data plane last measured a remote-access server's clients (the
//! SSL server's `Connections`, the IPsec server's `OnlineClientCount`), and
//! whether that measurement still stands.
//!
//! The agent reports its servers' clients; the control plane stores a
//! report when it says something new, and at least every refresh period
//! while nothing changes, so that a live agent keeps the stored clients
//! fresh. When the agent stops reporting (killed, its host gone) nobody can
//! be connected through it any more: the clients stand only while the last
//! accepted report is younger than the freshness window, in the control
//! plane's own clock (docs/api-decisions.md, "SSL-VPN" and "IPsec server").

use serde::{Deserialize, Serialize};

/// The two clocks of a server's last accepted measurement. Flattened into
/// the server's document (`measured_at_ms`, `reported_at_ms`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measured {
    /// When the data plane measured (agent clock, ms); 0: never. Orders
    /// reports: an older one never replaces a newer one.
    #[serde(default)]
    pub measured_at_ms: i64,
    /// When the control plane accepted it (its own clock, ms): the clients
    /// stand only while this is recent ([`Measured::fresh`]).
    #[serde(default)]
    pub reported_at_ms: i64,
}

/// What a data-plane report of a server does to the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measurement {
    /// Older than what is stored: ignored.
    Older,
    /// Nothing visible changed and the stored one is recent: no write.
    Unchanged,
    /// To be applied to the server and written.
    Changed,
}

impl Measured {
    /// Judges a report measured at `measured_at_ms` (agent clock) that
    /// arrives at `now_ms` (control plane clock) and `changed` what is
    /// visible: taken (and the clocks moved) when it is the newest and
    /// either changed something or the stored one is `refresh_ms` old (so
    /// that an idle agent reporting every second does not rewrite the
    /// document each time).
    pub fn judge(
        &mut self,
        measured_at_ms: i64,
        changed: bool,
        now_ms: i64,
        refresh_ms: i64,
    ) -> Measurement {
        if measured_at_ms < self.measured_at_ms {
            return Measurement::Older;
        }
        if !changed && now_ms.saturating_sub(self.reported_at_ms) < refresh_ms {
            return Measurement::Unchanged;
        }
        self.measured_at_ms = measured_at_ms;
        self.reported_at_ms = now_ms;
        Measurement::Changed
    }

    /// The last accepted measurement still stands at `now_ms`: it is at most
    /// `fresh_ms` old.
    pub fn fresh(&self, now_ms: i64, fresh_ms: i64) -> bool {
        now_ms.saturating_sub(self.reported_at_ms) <= fresh_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_and_new_reports_are_taken_and_stand_while_fresh() {
        let mut m = Measured::default();
        assert!(!m.fresh(100_000, 90_000), "never reported");
        assert_eq!(m.judge(1_000, true, 10_000, 30_000), Measurement::Changed);
        assert_eq!(
            m,
            Measured {
                measured_at_ms: 1_000,
                reported_at_ms: 10_000
            }
        );
        // The same again soon: nothing to write; a refresh period later: written.
        assert_eq!(
            m.judge(2_000, false, 11_000, 30_000),
            Measurement::Unchanged
        );
        assert_eq!(m.judge(3_000, false, 40_000, 30_000), Measurement::Changed);
        assert_eq!(m.reported_at_ms, 40_000);
        // An older measurement never wins, changed or not.
        assert_eq!(m.judge(2_500, true, 41_000, 30_000), Measurement::Older);
        assert_eq!(m.measured_at_ms, 3_000);
        // Standing while the last accepted report is young, by the control plane's clock.
        assert!(m.fresh(130_000, 90_000));
        assert!(!m.fresh(130_001, 90_000));
    }
}
