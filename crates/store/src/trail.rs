//! What a resource write leaves behind: the event log entries and the
//! audit event that describe it.
//!
//! They are written in the write's own transaction ([`crate::Store::insert_with`],
//! [`crate::Store::update_with`], [`crate::Store::delete_cascade_with`]):
//! committed together with the change, or not at all. A request then waits
//! for one durable commit instead of one per table, and no entry can claim
//! a change that did not commit, nor a committed change lack its entries.

use crate::{AuditEvent, LogEntry};

/// Entries appended, in order, when a write succeeds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trail {
    /// Event log entries (connections and tunnels), in order.
    pub logs: Vec<LogEntry>,
    /// The audit event of the request that makes the write.
    pub audit: Option<AuditEvent>,
}

impl Trail {
    pub fn is_empty(&self) -> bool {
        self.logs.is_empty() && self.audit.is_none()
    }
}
