//! The event log (schema step 3) and the audit log (step 4), both
//! append-only (triggers refuse edits), and the per-status counts behind
//! the metrics.

use std::borrow::Cow;

use deadpool_postgres::{GenericClient, Transaction};
use vpngw_store::{
    AuditEvent, AuditQuery, CountBy, Kind, LogEntry, LogPage, LogQuery, StoreError, Trail,
};

use crate::{
    Error,
    queries::{Param, big, exec, one, rows, t},
};

/// Appends entries in the caller's transaction, in order.
pub async fn append_log(tx: &Transaction<'_>, entries: &[LogEntry]) -> Result<(), Error> {
    for e in entries {
        exec(
            tx,
            "INSERT INTO event_log (account_id, region_id, resource_id, tunnel_id, time_ms, \
             source, message) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &t(&e.account_id),
                &t(&e.region_id),
                &t(&e.resource_id),
                &e.tunnel_id.as_deref().map(t),
                &e.time_ms,
                &t(&e.source),
                &t(&e.message),
            ],
        )
        .await?;
    }
    Ok(())
}

/// A write's trail (`vpngw_store::Trail`), in the write's transaction.
pub async fn append_trail(tx: &Transaction<'_>, trail: &Trail) -> Result<(), Error> {
    append_log(tx, &trail.logs).await?;
    if let Some(event) = &trail.audit {
        append_audit(tx, event).await?;
    }
    Ok(())
}

const LOG_FILTER: &str = "account_id = $1 AND region_id = $2 AND resource_id = $3 \
     AND time_ms >= $4 AND time_ms <= $5 \
     AND ($6::text IS NULL OR tunnel_id IS NULL OR tunnel_id = $6)";

pub async fn list_logs<C: GenericClient>(c: &C, q: &LogQuery) -> Result<LogPage, Error> {
    let (account, region, resource) = (
        t(&q.scope.account_id),
        t(&q.scope.region_id),
        t(&q.resource_id),
    );
    let tunnel = q.tunnel_id.as_deref().map(t);
    let filter: [Param<'_>; 6] = [&account, &region, &resource, &q.from_ms, &q.to_ms, &tunnel];
    let total: i64 = one(
        c,
        &format!("SELECT COUNT(*) FROM event_log WHERE {LOG_FILTER}"),
        &filter,
    )
    .await?
    .get(0);
    let (limit, offset) = (big(q.limit), big(q.offset));
    let mut params = filter.to_vec();
    params.push(&limit);
    params.push(&offset);
    let entries = rows(
        c,
        &format!(
            "SELECT account_id, region_id, resource_id, tunnel_id, time_ms, source, message \
             FROM event_log WHERE {LOG_FILTER} ORDER BY time_ms, seq LIMIT $7 OFFSET $8"
        ),
        &params,
    )
    .await?
    .iter()
    .map(|r| LogEntry {
        account_id: r.get(0),
        region_id: r.get(1),
        resource_id: r.get(2),
        tunnel_id: r.get(3),
        time_ms: r.get(4),
        source: r.get(5),
        message: r.get(6),
    })
    .collect();
    Ok(LogPage {
        entries,
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// jsonb cannot hold `\u0000`: ids from requests are stored without NULs.
fn id_array(ids: &[String]) -> serde_json::Value {
    serde_json::Value::Array(
        ids.iter()
            .map(|id| serde_json::Value::String(t(id).into_owned()))
            .collect(),
    )
}

/// One statement, so it commits (durably) on its own before answering.
pub async fn append_audit<C: GenericClient>(c: &C, e: &AuditEvent) -> Result<(), Error> {
    exec(
        c,
        "INSERT INTO audit_log (time_ms, request_id, account_id, principal, access_key_id, \
         source_ip, product, action, region_id, resource_ids, code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            &e.time_ms,
            &t(&e.request_id),
            &t(&e.account_id),
            &t(&e.principal),
            &t(&e.access_key_id),
            &e.source_ip.as_deref().map(t),
            &t(&e.product),
            &t(&e.action),
            &e.region_id.as_deref().map(t),
            &id_array(&e.resource_ids),
            &e.code.as_deref().map(t),
        ],
    )
    .await?;
    Ok(())
}

pub async fn audit_events<C: GenericClient>(
    c: &C,
    q: &AuditQuery,
) -> Result<Vec<AuditEvent>, Error> {
    let account = q.account_id.as_deref().map(t);
    let action = q.action.as_deref().map(t);
    let resource = q
        .resource_id
        .as_ref()
        .map(|id| id_array(std::slice::from_ref(id)));
    let limit: Option<i64> = (q.limit > 0).then(|| i64::from(q.limit));
    let mut filter = String::from("TRUE");
    let mut params: Vec<Param<'_>> = Vec::new();
    if let Some(a) = &account {
        params.push(a);
        filter.push_str(&format!(" AND account_id = ${}", params.len()));
    }
    if let Some(since) = &q.since_ms {
        params.push(since);
        filter.push_str(&format!(" AND time_ms >= ${}", params.len()));
    }
    if let Some(until) = &q.until_ms {
        params.push(until);
        filter.push_str(&format!(" AND time_ms < ${}", params.len()));
    }
    if let Some(a) = &action {
        params.push(a);
        filter.push_str(&format!(" AND action = ${}", params.len()));
    }
    if let Some(ids) = &resource {
        params.push(ids);
        filter.push_str(&format!(" AND resource_ids @> ${}::jsonb", params.len()));
    }
    match q.failed {
        Some(true) => filter.push_str(" AND code IS NOT NULL"),
        Some(false) => filter.push_str(" AND code IS NULL"),
        None => {}
    }
    params.push(&limit);
    // The newest `limit` (NULL: all), handed back oldest first.
    let sql = format!(
        "SELECT * FROM (SELECT seq, time_ms, request_id, account_id, principal, access_key_id, \
         source_ip, product, action, region_id, resource_ids, code FROM audit_log \
         WHERE {filter} ORDER BY time_ms DESC, seq DESC LIMIT ${}) newest ORDER BY time_ms, seq",
        params.len()
    );
    let found = rows(c, &sql, &params).await?;
    let mut out = Vec::with_capacity(found.len());
    for r in found {
        let ids: serde_json::Value = r.get(10);
        out.push(AuditEvent {
            time_ms: r.get(1),
            request_id: r.get(2),
            account_id: r.get(3),
            principal: r.get(4),
            access_key_id: r.get(5),
            source_ip: r.get(6),
            product: r.get(7),
            action: r.get(8),
            region_id: r.get(9),
            resource_ids: serde_json::from_value(ids)?,
            code: r.get(11),
        });
    }
    Ok(out)
}

pub async fn count_by<C: GenericClient>(
    c: &C,
    kind: Kind,
    by: CountBy,
    now_ms: i64,
) -> Result<Vec<(String, u64)>, Error> {
    let kind = kind.as_str();
    let found = match by {
        CountBy::Status => {
            rows(
                c,
                "SELECT COALESCE(CASE WHEN pending_due_ms IS NOT NULL AND pending_due_ms <= $1 \
                 THEN pending_status ELSE status END, '') COLLATE \"C\" AS v, COUNT(*) \
                 FROM resources WHERE kind = $2 GROUP BY v ORDER BY v",
                &[&now_ms, &kind],
            )
            .await?
        }
        CountBy::Field(field) => {
            if !field
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err(StoreError::Internal(format!("bad field name {field:?}")).into());
            }
            let field: Cow<'_, str> = Cow::Borrowed(field);
            rows(
                c,
                "SELECT COALESCE(body ->> $1, '') COLLATE \"C\" AS v, COUNT(*) \
                 FROM resources WHERE kind = $2 GROUP BY v ORDER BY v",
                &[&field, &kind],
            )
            .await?
        }
    };
    Ok(found
        .iter()
        .map(|r| {
            (
                r.get::<_, String>(0),
                u64::try_from(r.get::<_, i64>(1)).unwrap_or(0),
            )
        })
        .collect())
}
