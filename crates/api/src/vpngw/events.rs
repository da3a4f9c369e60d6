//! The log events of a report, appended to the connections' event log
//! (DescribeVpnConnectionLogs) with source `dataplane`.

use vpngw_model::dataplane::DataplaneReport;
use vpngw_protocol::ApiError;
use vpngw_store::LogEntry;

use crate::Ctx;

/// `source` of the entries the data plane writes.
pub const SOURCE_DATAPLANE: &str = "dataplane";

/// Longest message kept (charon's lines are short; this bounds a hostile one).
const MAX_MESSAGE: usize = 1000;

/// The event log entries of the report's events, for connections that
/// exist and are the gateway's (`unknown` ones are dropped: their connection
/// is gone or is another gateway's). They are written with the report's
/// measurements, in the same transaction.
pub(super) async fn entries(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    report: &DataplaneReport,
    unknown: &[String],
) -> Result<Vec<LogEntry>, ApiError> {
    let scope = ctx.scope()?;
    let mut known: Vec<String> = report
        .connections
        .iter()
        .map(|c| c.vpn_connection_id.clone())
        .filter(|id| !unknown.contains(id))
        .collect();
    // SSL and IPsec servers found to be this gateway's.
    let mut servers: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    for e in &report.events {
        if e.message.is_empty() || unknown.contains(&e.vpn_connection_id) {
            continue;
        }
        if !e.ssl_vpn_server_id.is_empty() {
            // An SSL server's line (DescribeVpnSslServerLogs), filed under
            // the server and the client certificate it names, when the
            // server is this gateway's. (The entries are made before the
            // servers' sections are judged: naming a server in the report
            // proves nothing, so look it up.)
            if !servers.contains(&e.ssl_vpn_server_id) {
                let owned = !unknown.contains(&e.ssl_vpn_server_id)
                    && crate::vpc::ssl_vpn::load(ctx, &e.ssl_vpn_server_id)
                        .await
                        .is_ok_and(|s| s.value.vpn_gateway_id == gateway_id);
                if !owned {
                    continue;
                }
                servers.push(e.ssl_vpn_server_id.clone());
            }
            entries.push(entry(
                &scope,
                &e.ssl_vpn_server_id,
                &e.ssl_vpn_client_cert_id,
                e,
                ctx.now_ms,
            ));
            continue;
        }
        if !e.ipsec_server_id.is_empty() {
            // An IPsec server's line (ListIpsecServerLogs), filed under the
            // server when it is this gateway's (the entries are made before
            // the servers' measurements are judged, so look it up).
            if !servers.contains(&e.ipsec_server_id) {
                let owned = !unknown.contains(&e.ipsec_server_id)
                    && crate::vpc::ipsec_server::load(ctx, &e.ipsec_server_id)
                        .await
                        .is_ok_and(|s| s.value.vpn_gateway_id == gateway_id);
                if !owned {
                    continue;
                }
                servers.push(e.ipsec_server_id.clone());
            }
            entries.push(entry(&scope, &e.ipsec_server_id, "", e, ctx.now_ms));
            continue;
        }
        // Events may name connections the report carries no status for:
        // check those belong to this gateway before logging for them.
        if !known.contains(&e.vpn_connection_id) {
            let owned = crate::vpc::connection::load(ctx, &e.vpn_connection_id)
                .await
                .is_ok_and(|c| belongs_to(&c.value, gateway_id));
            if !owned {
                continue;
            }
            known.push(e.vpn_connection_id.clone());
        }
        entries.push(entry(
            &scope,
            &e.vpn_connection_id,
            &e.tunnel_id,
            e,
            ctx.now_ms,
        ));
    }
    Ok(entries)
}

/// The log entry of event `e` about `resource_id` (and `part_id`: a tunnel,
/// a client certificate), its message bounded.
fn entry(
    scope: &vpngw_store::Scope,
    resource_id: &str,
    part_id: &str,
    e: &vpngw_model::dataplane::ReportedEvent,
    now_ms: i64,
) -> LogEntry {
    let mut message: String = e.message.chars().take(MAX_MESSAGE).collect();
    if message.len() < e.message.len() {
        message.push('…');
    }
    LogEntry {
        account_id: scope.account_id.clone(),
        region_id: scope.region_id.clone(),
        resource_id: resource_id.to_owned(),
        tunnel_id: (!part_id.is_empty()).then(|| part_id.to_owned()),
        time_ms: if e.time > 0 { e.time } else { now_ms },
        source: SOURCE_DATAPLANE.to_owned(),
        message,
    }
}

/// Whether the connection is `gateway_id`'s (transit-router attachments have
/// no gateway).
fn belongs_to(c: &vpngw_model::VpnConnection, gateway_id: &str) -> bool {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.get("vpn_gateway_id")?.as_str().map(|g| g == gateway_id))
        .unwrap_or(false)
}
