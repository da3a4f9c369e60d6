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
}
