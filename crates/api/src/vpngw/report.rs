//! `ReportDataplaneState`: a gateway's agent reports what its data plane
//! measured (per connection and tunnel: status, reason, counters,
//! health-check result, log events).
//!
//! Who may call it: root, or a RAM user/role whose policies allow
//! `vpngw:ReportDataplaneState` on the gateway
//! (`acs:vpc:{region}:{account}:vpngateway/{id}`); the request pipeline
//! checks that before the handler runs, as for every operation.
//!
//! The control plane stays stateless with respect to agents: it keeps no
//! session, only the last accepted measurement inside each connection's
//! document, written through the store with the version it read. A report
//! is accepted for a connection only when
//! - the connection exists and belongs to the reported gateway (else it is
//!   `Unknown`: deleted, or another gateway's),
//! - the report was measured against the connection's current
//!   configuration: the agent sends the digest of the configuration it
//!   applied, the server recomputes it from what it stores now (same
//!   function over the same typed answers, [`vpngw_model::dataplane::spec_from_api`])
//!   and a mismatch is `Stale` (the agent has not applied the newest
//!   configuration yet),
//! - and it is not older than the measurement already stored (`Stale`).
//!
//! Writes happen only when something visible changed (status, reasons,
//! health check, route) or when the stored counters are older than
//! [`COUNTER_REFRESH_MS`], so that idle agents reporting every second do
//! not make ModifyVpnConnectionAttribute race with them. Every connection
//! written and the report's log events commit together, in one transaction
//! (`Store::record_measurements`): one durable commit per report. They do not
//! move the gateway's revision (`WatchGatewayState`): a measurement is not
//! desired state.

use std::collections::HashMap;

use vpngw_model::{
    VpnConnection,
    dataplane::{
        ConnectionAnswer, ConnectionReport, DataplaneReport, GatewayAnswer, Measured, TunnelReport,
        customer_gateway_ids, learned_routes_digest, spec_from_api, valid_status,
    },
};
use vpngw_ops::vpngw::report_dataplane_state::{Answer, Request};
use vpngw_protocol::ApiError;
use vpngw_store::{LogEntry, StoreError, StoreExt, to_record};

use crate::{Ctx, context::internal, vpc};

/// Counters are rewritten at most this often when nothing else changed.
pub const COUNTER_REFRESH_MS: i64 = 30_000;

/// Largest number of connections in one report.
pub const MAX_CONNECTIONS_PER_REPORT: usize = 1000;

/// Optimistic-version retries per connection before giving up on it.
const WRITE_ATTEMPTS: usize = 5;

fn invalid_report(why: &str) -> ApiError {
    ApiError::invalid_parameter_because("Report", why)
}

/// The answer says, by id, which connections' (and the IPsec server's)
/// reports were `Accepted` (describe the current configuration: written or
/// unchanged), `Stale` (about an older configuration, or older than what is
/// stored) or `Unknown` (deleted, or another gateway's), and how many
/// connection documents were `Written`.
pub async fn report(ctx: &Ctx<'_>, request: Request) -> Result<Answer, ApiError> {
    let gateway_id = request.vpn_gateway_id.as_str();
    let report: DataplaneReport = serde_json::from_str(&request.report)
        .map_err(|_| invalid_report("not a valid JSON report"))?;
    if report.connections.len() > MAX_CONNECTIONS_PER_REPORT {
        return Err(invalid_report("too many connections in one report"));
    }
    for c in &report.connections {
        if c.vpn_connection_id.is_empty() || !valid_status(&c.status) {
            return Err(invalid_report(
                "every connection needs an id and a known Status",
            ));
        }
        if c.tunnels.iter().any(|t| !valid_status(&t.status)) {
            return Err(invalid_report("every tunnel needs a known Status"));
        }
        if !matches!(c.health_check_status.as_str(), "" | "success" | "failed") {
            return Err(invalid_report(
                "HealthCheckStatus is success, failed or empty",
            ));
        }
        if c.tunnels
            .iter()
            .any(|t| !matches!(t.bgp_status.as_str(), "" | "true" | "false"))
        {
            return Err(invalid_report("BgpStatus is true, false or empty"));
        }
    }
    let gateway = vpc::vpn_gateway::load(ctx, gateway_id).await?;
    let gateway_view = vpc::vpn_gateway::view(&gateway.value, ctx.now_ms);

    let mut cgw_ips: HashMap<String, Option<String>> = HashMap::new();
    let mut answer = Answer::default();
    // Judged, then written together: one transaction (one durable commit)
    // for every connection whose state changed and the report's log events.
    // A connection someone else wrote in between is judged again and written
    // in another round.
    let mut pending: Vec<&ConnectionReport> = report.connections.iter().collect();
    for attempt in 0..WRITE_ATTEMPTS {
        let mut writes = Vec::new();
        for c in pending.drain(..) {
            let judged = judge(
                ctx,
                gateway_id,
                gateway.value.auto_propagate,
                &gateway_view,
                &report,
                c,
                &mut cgw_ips,
            )
            .await?;
            match judged {
                Judged::Write(conn, version, logs) => writes.push((c, conn, version, logs)),
                Judged::Unchanged => answer.accepted.push(c.vpn_connection_id.clone()),
                Judged::Stale => answer.stale.push(c.vpn_connection_id.clone()),
                Judged::Unknown => answer.unknown.push(c.vpn_connection_id.clone()),
            }
        }
        // The report's events go with the first write.
        let logs = if attempt == 0 {
            super::events::entries(ctx, gateway_id, &report, &answer.unknown).await?
        } else {
            Vec::new()
        };
        if writes.is_empty() && logs.is_empty() {
            break;
        }
        let updates = writes
            .iter()
            .map(|(_, conn, version, logs)| {
                to_record(&**conn, &ctx.caller.account_id, *version).map(|r| (r, logs.clone()))
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map_err(internal)?;
        let outcomes = ctx
            .store()
            .record_measurements(updates, logs)
            .await
            .map_err(internal)?;
        for ((c, ..), outcome) in writes.into_iter().zip(outcomes) {
            match outcome {
                Ok(_) => {
                    answer.written += 1;
                    answer.accepted.push(c.vpn_connection_id.clone());
                }
                // Someone (a user's Modify, another report) wrote in
                // between: read again and judge the report against that.
                Err(StoreError::VersionConflict) => pending.push(c),
                Err(StoreError::NotFound) => answer.unknown.push(c.vpn_connection_id.clone()),
                Err(e) => return Err(internal(e)),
            }
        }
        if pending.is_empty() {
            break;
        }
    }
    if !pending.is_empty() {
        return Err(crate::errors::task_conflict());
    }
    // Written at least every COUNTER_REFRESH_MS while nothing changes (more
    // often if the clients' freshness window is shorter), which keeps a
    // live agent's clients fresh (`vpngw_model::measured`).
    let refresh_ms = COUNTER_REFRESH_MS.min(ctx.config().clients_fresh_ms / 3);
    for s in &report.ssl_vpn_servers {
        let known = crate::vpc::ssl_vpn::online::accept_report(
            ctx,
            gateway_id,
            report.measured_at,
            s,
            refresh_ms,
        )
        .await?;
        let id = s.ssl_vpn_server_id.clone();
        if known {
            answer.accepted.push(id);
        } else {
            answer.unknown.push(id);
        }
    }
    for s in &report.ipsec_servers {
        let known = crate::vpc::ipsec_server::accept_report(
            ctx,
            gateway_id,
            report.measured_at,
            s,
            refresh_ms,
        )
        .await?;
        let id = s.ipsec_server_id.clone();
        if known {
            answer.accepted.push(id);
        } else {
            answer.unknown.push(id);
        }
    }
    crate::telemetry::agent_report(
        answer.accepted.len(),
        answer.stale.len(),
        answer.unknown.len(),
    );
    Ok(answer)
}

/// Resolves the customer gateways a connection names (cached per report).
async fn resolve_cgws(
    ctx: &Ctx<'_>,
    view: &ConnectionAnswer,
    cache: &mut HashMap<String, Option<String>>,
) -> Result<(), ApiError> {
    for id in customer_gateway_ids(view) {
        if cache.contains_key(&id) {
            continue;
        }
        let ip = match vpc::customer_gateway::load(ctx, &id).await {
            Ok(c) => Some(c.value.ip_address),
            Err(e) if e.code.ends_with("NotFound") => None,
            Err(e) => return Err(e),
        };
        cache.insert(id, ip);
    }
    Ok(())
}

/// What a report says about one stored connection.
enum Judged {
    /// Write this (read at this version), with these log entries.
    Write(Box<VpnConnection>, i64, Vec<LogEntry>),
    /// Current, but nothing to write.
    Unchanged,
    Stale,
    Unknown,
}

#[allow(clippy::too_many_arguments)]
async fn judge(
    ctx: &Ctx<'_>,
    gateway_id: &str,
    publish: bool,
    gateway_view: &GatewayAnswer,
    report: &DataplaneReport,
    c: &ConnectionReport,
    cgw_ips: &mut HashMap<String, Option<String>>,
) -> Result<Judged, ApiError> {
    let scope = ctx.scope()?;
    let Some(stored) = ctx
        .store()
        .get_typed::<VpnConnection>(&scope, &c.vpn_connection_id)
        .await
        .map_err(internal)?
    else {
        return Ok(Judged::Unknown);
    };
    let version = stored.version;
    let mut conn = stored.value;
    // The connection as the agent reads it (DescribeVpnConnections' item).
    let view = vpc::connection::list_item(ctx, &conn)?;
    if view.vpn_gateway_id != gateway_id {
        return Ok(Judged::Unknown);
    }
    resolve_cgws(ctx, &view, cgw_ips).await?;
    let lookup = |id: &str| cgw_ips.get(id).cloned().flatten();
    let current = match spec_from_api(&view, gateway_view, &lookup) {
        Ok(spec) => spec.digest(),
        // A configuration the data plane cannot be given (a vanished
        // customer gateway): nothing the agent measured describes it.
        Err(_) => return Ok(Judged::Stale),
    };
    if current != c.config_digest {
        return Ok(Judged::Stale);
    }
    if conn
        .measured
        .as_ref()
        .is_some_and(|m| m.measured_ms > report.measured_at)
    {
        return Ok(Judged::Stale);
    }
    let routes_digest = learned_routes_digest(c);
    let routes_changed = conn
        .measured
        .as_ref()
        .map_or(!routes_digest.is_empty(), |m| {
            m.learned_routes_digest != routes_digest
        });
    let due = match &conn.measured {
        None => true,
        Some(m) => {
            m.differs_from(c, &c.status, &conn.status)
                || m.backend != report.backend
                || routes_changed
                || (counters_changed(m, c) && ctx.now_ms - m.received_ms >= COUNTER_REFRESH_MS)
        }
    };
    if !due {
        return Ok(Judged::Unchanged);
    }
    if routes_changed {
        // Route records of their own (idempotent: judged again after a
        // conflict, it syncs to the same routes).
        super::learned::sync(ctx, gateway_id, publish, &conn, c).await?;
    }
    // Status changes go to the connection's event log (DescribeVpnConnectionLogs).
    let mut changes = Vec::new();
    if conn.tunnels.is_empty() && conn.status != c.status {
        changes.push(vpc::logs::status_changed(
            &scope,
            &conn.id,
            None,
            report.measured_at,
            &conn.status,
            &c.status,
        ));
    }
    conn.status = c.status.clone();
    for t in &mut conn.tunnels {
        if let Some(r) = c.tunnels.iter().find(|r| r.tunnel_id == t.id) {
            if t.status != r.status {
                changes.push(vpc::logs::status_changed(
                    &scope,
                    &conn.id,
                    Some(&t.id),
                    report.measured_at,
                    &t.status,
                    &r.status,
                ));
            }
            t.status = r.status.clone();
        }
    }
    conn.measured = Some(Measured {
        measured_ms: report.measured_at,
        received_ms: ctx.now_ms,
        backend: report.backend.clone(),
        agent: report.agent.clone(),
        reason: c.reason.clone(),
        health_check_status: c.health_check_status.clone(),
        route_withdrawn: c.route_withdrawn,
        // The learned routes are route records, not part of the document.
        tunnels: c
            .tunnels
            .iter()
            .map(|t| TunnelReport {
                learned_routes: None,
                ..t.clone()
            })
            .collect(),
        learned_routes_digest: routes_digest,
    });
    Ok(Judged::Write(Box::new(conn), version, changes))
}

fn counters_changed(m: &Measured, c: &ConnectionReport) -> bool {
    m.tunnels.len() != c.tunnels.len()
        || m.tunnels.iter().zip(&c.tunnels).any(|(a, b)| {
            (a.bytes_in, a.bytes_out, a.packets_in, a.packets_out)
                != (b.bytes_in, b.bytes_out, b.packets_in, b.packets_out)
        })
}
