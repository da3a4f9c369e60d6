//! Time-driven status changes.
//!
//! The cloud provisions asynchronously: a new VPN gateway reports `init` and
//! later `active`; a modified one reports `updating` for a while. vpngw keeps
//! that as data instead of timers: a resource stores its status and, while a
//! change is in flight, the status it reaches and when. Reads resolve it
//! against the clock, so a restart, a second replica or a slow background task
//! can never leave a resource stuck, and list filters can ask SQL the same
//! question (`effective_status`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// The status now, unless `pending` has come due.
    pub status: String,
    /// `(due_ms, next_status)`: at `due_ms` (epoch milliseconds) the status becomes `next_status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<(i64, String)>,
}

impl Lifecycle {
    pub fn settled(status: &str) -> Self {
        Lifecycle {
            status: status.to_owned(),
            pending: None,
        }
    }

    /// `status` now, becoming `next` at `due_ms`.
    pub fn transition(status: &str, due_ms: i64, next: &str) -> Self {
        Lifecycle {
            status: status.to_owned(),
            pending: Some((due_ms, next.to_owned())),
        }
    }

    /// The status as of `now_ms`.
    pub fn effective(&self, now_ms: i64) -> &str {
        match &self.pending {
            Some((due, next)) if *due <= now_ms => next,
            _ => &self.status,
        }
    }

    /// Folds a due transition into the stored status.
    pub fn settle(&mut self, now_ms: i64) {
        if let Some((due, next)) = &self.pending
            && *due <= now_ms
        {
            self.status = next.clone();
            self.pending = None;
        }
    }

    /// Reports `status` until `due_ms` (or longer, if a change in flight
    /// ends later), then what this lifecycle was heading for anyway: the
    /// pending status of a change in flight, else the current one. Two
    /// overlapping writes therefore never leave a resource stuck in
    /// `status`, which restarting from the settled status alone would.
    pub fn interrupt(&mut self, status: &str, now_ms: i64, due_ms: i64) {
        self.settle(now_ms);
        let (due_ms, next) = match self.pending.take() {
            Some((due, next)) => (due.max(due_ms), next),
            None => (due_ms, std::mem::take(&mut self.status)),
        };
        *self = Lifecycle::transition(status, due_ms, &next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_against_the_clock() {
        let mut l = Lifecycle::transition("init", 1_000, "active");
        assert_eq!(l.effective(999), "init");
        assert_eq!(l.effective(1_000), "active");
        l.settle(500);
        assert_eq!(l.status, "init");
        l.settle(1_000);
        assert_eq!(l, Lifecycle::settled("active"));
    }

    #[test]
    fn an_interruption_keeps_where_a_change_in_flight_leads() {
        let mut l = Lifecycle::settled("active");
        l.interrupt("updating", 0, 100);
        assert_eq!(l, Lifecycle::transition("updating", 100, "active"));
        // A second write while the first is in flight: still back to active, at the later time.
        l.interrupt("updating", 50, 150);
        assert_eq!(l, Lifecycle::transition("updating", 150, "active"));
        l.interrupt("updating", 60, 120);
        assert_eq!(l, Lifecycle::transition("updating", 150, "active"));
        // After it settled, from the settled status.
        l.interrupt("updating", 200, 300);
        assert_eq!(l, Lifecycle::transition("updating", 300, "active"));
        let mut attaching = Lifecycle::transition("attaching", 500, "attached");
        attaching.interrupt("updating", 400, 450);
        assert_eq!(
            attaching,
            Lifecycle::transition("updating", 500, "attached")
        );
    }
}
