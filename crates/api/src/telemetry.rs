//! Metrics the API records through the `metrics` facade. Nothing is
//! recorded unless the process installed a recorder (the server's
//! Prometheus exporter); tests and embedders pay nothing.
//!
//! The names, in one place so `/metrics` stays stable:
//! - `vpngw_requests_total{action,code}` and
//!   `vpngw_request_duration_seconds{action}`: recorded by the
//!   server around [`crate::Service::call`] (see [`request`]);
//! - `vpngw_agent_reports_total`, `vpngw_agent_report_connections_total{result}`
//!   (`accepted` = the data plane runs the current configuration, `stale` =
//!   not converged yet, `unknown`), `vpngw_agent_last_report_timestamp_seconds`:
//!   the data plane agents' convergence ([`agent_report`]);
//! - `vpngw_audit_failures_total`.

use std::time::Duration;

/// One answered API request. `action` is empty when the request could not be
/// parsed; `code` is `None` on success (recorded as `OK`).
pub fn request(action: &str, code: Option<&str>, elapsed: Duration) {
    // Unknown actions would let any caller mint label values.
    let action = if action.is_empty() || crate::actions::all().all(|d| d.name != action) {
        "other"
    } else {
        action
    };
    metrics::counter!(
        "vpngw_requests_total",
        "action" => action.to_owned(),
        "code" => code.unwrap_or("OK").to_owned()
    )
    .increment(1);
    metrics::histogram!(
        "vpngw_request_duration_seconds",
        "action" => action.to_owned()
    )
    .record(elapsed.as_secs_f64());
}

/// A data plane agent's report: of its connections, how many ran the
/// current configuration (`accepted`), an older one (`stale`: not converged
/// yet) or belonged to nothing known (`unknown`).
pub fn agent_report(accepted: usize, stale: usize, unknown: usize) {
    metrics::counter!("vpngw_agent_reports_total").increment(1);
    for (result, n) in [
        ("accepted", accepted),
        ("stale", stale),
        ("unknown", unknown),
    ] {
        metrics::counter!("vpngw_agent_report_connections_total", "result" => result)
            .increment(n as u64);
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    metrics::gauge!("vpngw_agent_last_report_timestamp_seconds").set(now);
}

pub(crate) fn audit_failure() {
    metrics::counter!("vpngw_audit_failures_total").increment(1);
}
