//! The event log of IPsec connections: an append-only record of what
//! happened to a connection and its tunnels (configuration changes made
//! through the API, state changes and negotiation events reported by the
//! data plane). DescribeVpnConnectionLogs reads it back.
//!
//! Entries are never edited. They outlive the connection they describe (a
//! deleted connection's history stays), and carry their scope so another
//! account or region never sees them.

use crate::Scope;

/// One line of a connection's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub account_id: String,
    pub region_id: String,
    /// The connection (`vco-…`) the entry is about.
    pub resource_id: String,
    /// The tunnel (`tun-…`) of a dual-tunnel connection, or `None` for an
    /// entry about the connection as a whole.
    pub tunnel_id: Option<String>,
    /// When it happened, ms since the epoch.
    pub time_ms: i64,
    /// Who wrote it: `api` (configuration), `dataplane` (negotiation).
    pub source: String,
    /// The text, never a secret.
    pub message: String,
}

/// Entries of one connection in a time window, oldest first.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub scope: Scope,
    pub resource_id: String,
    /// Only this tunnel's entries, plus the entries about the whole
    /// connection (which concern every tunnel).
    pub tunnel_id: Option<String>,
    /// Inclusive bounds, ms since the epoch.
    pub from_ms: i64,
    pub to_ms: i64,
    pub offset: u64,
    pub limit: u64,
}

/// A page of log entries and how many match in all.
#[derive(Debug, Clone)]
pub struct LogPage {
    pub entries: Vec<LogEntry>,
    pub total: u64,
}
