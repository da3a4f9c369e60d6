//! `/metrics`: Prometheus text format.
//!
//! Counters and histograms are recorded where things happen (the HTTP edge
//! for requests, the store for its operations, the API for agent reports,
//! see `vpngw_api::telemetry`); counters whose labels are known start at 0.
//! Gauges of resources by status are read from the store at each scrape, so
//! they are right even after a restart and across replicas; so are the
//! per-connection and per-tunnel gauges ([`resources`]). `process_*` come
//! from `metrics-process`, `vpngw_build_info` is set once. Families are
//! written sorted by name ([`exposition`]); docs/operations.md documents
//! every one (a test holds the two together).

pub mod exposition;
pub mod resources;

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
};

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use vpngw_store::{CountBy, Kind};

use crate::http::AppState;

/// Latency buckets (seconds): 100 µs … 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The gauges refreshed at scrape time: name, help, kind, grouping, label.
const GAUGES: &[(&str, &str, Kind, CountBy, &str)] = &[
    (
        "vpngw_vpn_connections",
        "IPsec connections by negotiation Status (as last measured by the data plane)",
        Kind::VpnConnection,
        CountBy::Field("status"),
        "status",
    ),
    (
        "vpngw_vpn_connections_by_state",
        "IPsec connections by configuration State",
        Kind::VpnConnection,
        CountBy::Status,
        "state",
    ),
    (
        "vpngw_vpn_gateways",
        "VPN gateways by Status",
        Kind::VpnGateway,
        CountBy::Status,
        "status",
    ),
];

/// A gauge's name, label name and label value.
type GaugeSeries = (&'static str, &'static str, String);

#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    process: Arc<metrics_process::Collector>,
    /// Gauge label values seen before: set to 0 when they disappear.
    seen: Arc<Mutex<BTreeSet<GaugeSeries>>>,
}

impl Metrics {
    /// Installs the process-wide recorder. Once per process.
    pub fn install() -> anyhow::Result<Metrics> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)?
            .install_recorder()?;
        for (name, help, ..) in GAUGES {
            metrics::describe_gauge!(*name, *help);
        }
        metrics::describe_counter!(
            "vpngw_requests_total",
            "API requests answered, by action and error code (OK on success)"
        );
        metrics::describe_histogram!(
            "vpngw_request_duration_seconds",
            metrics::Unit::Seconds,
            "time to answer an API request"
        );
        metrics::describe_histogram!(
            "vpngw_store_operation_duration_seconds",
            metrics::Unit::Seconds,
            "time of a store operation, by operation"
        );
        metrics::describe_counter!(
            "vpngw_store_write_jobs_total",
            "durable writes done by the SQLite writer"
        );
        metrics::describe_counter!(
            "vpngw_store_group_commits_total",
            "SQLite commits (one fsync each) of the group-committing writer; jobs / commits = writes per fsync"
        );
        metrics::describe_counter!(
            "vpngw_store_checkpoints_total",
            "SQLite WAL checkpoints, by who ran them: the background thread, or the writer between two commits to rewind a long WAL"
        );
        metrics::describe_gauge!(
            "vpngw_store_wal_frames",
            "pages in the SQLite WAL at the last checkpoint"
        );
        metrics::describe_counter!(
            "vpngw_agent_report_connections_total",
            "connections in data plane agent reports: accepted (converged), stale (not yet converged), unknown"
        );
        metrics::describe_counter!(
            "vpngw_agent_reports_total",
            "data plane agent reports received"
        );
        metrics::describe_gauge!(
            "vpngw_agent_last_report_timestamp_seconds",
            "when the last data plane agent report arrived"
        );
        metrics::describe_gauge!(
            "vpngw_customer_gateways",
            "customer gateways (all accounts and regions)"
        );
        metrics::describe_counter!(
            "vpngw_audit_failures_total",
            "audit events that could not be written (the write they describe was answered anyway)"
        );
        metrics::describe_gauge!(
            "vpngw_build_info",
            "always 1; the version of this vpngw in the label"
        );
        metrics::gauge!("vpngw_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Counters whose label values are known exist from the start, at 0,
        // so that rate() and alerts see them before the first event.
        metrics::counter!("vpngw_agent_reports_total").absolute(0);
        for result in ["accepted", "stale", "unknown"] {
            metrics::counter!("vpngw_agent_report_connections_total", "result" => result)
                .absolute(0);
        }
        metrics::counter!("vpngw_audit_failures_total").absolute(0);
        let process = metrics_process::Collector::default();
        process.describe();
        Ok(Metrics {
            handle,
            process: Arc::new(process),
            seen: Arc::default(),
        })
    }

    async fn refresh_gauges(&self, store: &dyn vpngw_store::Store) {
        let now_ms = now_ms();
        let mut current = BTreeSet::new();
        let mut values = Vec::new();
        for (name, _, kind, by, label) in GAUGES {
            match store.count_by(*kind, *by, now_ms).await {
                Ok(counts) => {
                    for (value, n) in counts {
                        // A record without the field: never an empty label.
                        let value = if value.is_empty() {
                            "unknown".to_owned()
                        } else {
                            value
                        };
                        current.insert((*name, *label, value.clone()));
                        values.push((*name, *label, value, n));
                    }
                }
                Err(e) => tracing::warn!(error = %e, metric = name, "counting for /metrics"),
            }
        }
        match store
            .count_by(Kind::CustomerGateway, CountBy::Status, now_ms)
            .await
        {
            Ok(counts) => metrics::gauge!("vpngw_customer_gateways")
                .set(counts.iter().map(|(_, n)| *n as f64).sum::<f64>()),
            Err(e) => tracing::warn!(error = %e, "counting customer gateways for /metrics"),
        }
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        for (name, label, value) in seen.difference(&current) {
            metrics::gauge!(*name, *label => value.clone()).set(0.0);
        }
        for (name, label, value, n) in values {
            metrics::gauge!(name, label => value).set(n as f64);
        }
        seen.extend(current);
    }
}

pub async fn scrape(State(state): State<AppState>) -> Response {
    let Some(m) = &state.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let store = &**state.service.store();
    m.refresh_gauges(store).await;
    m.process.collect();
    m.handle.run_upkeep();
    let mut text = m.handle.render();
    match resources::render(store, now_ms()).await {
        Ok(per_resource) => text.push_str(&per_resource),
        Err(e) => tracing::warn!(error = %e, "listing connections for /metrics"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        exposition::sorted(&text),
    )
        .into_response()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `BgpStatus` of a connection (`id` = its own id) or of one of its tunnels,
/// as DescribeVpnConnection answers it: nothing measures BGP sessions yet,
/// so an enabled session reads `false`.
pub fn bgp_status(c: &vpngw_model::VpnConnection, id: &str) -> String {
    let enabled = if id == c.id {
        c.bgp.enable
    } else {
        c.tunnels.iter().any(|t| t.id == id && t.bgp.enable)
    };
    if enabled { "false" } else { "" }.to_owned()
}
