//! The audit log: one entry per write made through the API (who, what,
//! when, with which result), appended durably and never edited; and the
//! counts the metrics endpoint reads (how many resources are in each status).

use serde::{Deserialize, Serialize};

/// One write through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AuditEvent {
    /// When it was answered, ms since the epoch.
    pub time_ms: i64,
    pub request_id: String,
    /// Who: the account, the principal (`root`, a RAM user's name, or
    /// `role/session` for STS credentials) and the access key used.
    pub account_id: String,
    pub principal: String,
    pub access_key_id: String,
    /// The caller's address, when the server knows it.
    pub source_ip: Option<String>,
    /// What: the product (`Vpc`, `Ram`, `Sts`, `Vpngw`) and the action.
    pub product: String,
    pub action: String,
    pub region_id: Option<String>,
    /// The ids (or RAM names) the request named or created.
    pub resource_ids: Vec<String>,
    /// The result: `None` for success, else the error code.
    pub code: Option<String>,
}

/// Which audit events to return. `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub account_id: Option<String>,
    /// Inclusive lower bound, ms since the epoch.
    pub since_ms: Option<i64>,
    /// Exclusive upper bound, ms since the epoch.
    pub until_ms: Option<i64>,
    pub action: Option<String>,
    /// Events that name this id among their `resource_ids`.
    pub resource_id: Option<String>,
    /// Only failed (`Some(true)`) or successful (`Some(false)`) writes.
    pub failed: Option<bool>,
    /// At most this many, the newest ones (0: no limit); returned oldest first.
    pub limit: u32,
}

/// What [`crate::Store::count_by`] groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    /// The lifecycle status as of `now_ms` (a due pending transition applied).
    Status,
    /// A top-level string field of the JSON document (a connection's
    /// negotiation `status`); records without it count under `""`.
    Field(&'static str),
}
