//! SQL of the audit log (table `audit_log`, schema step 4; triggers refuse
//! updates and deletes) and of the per-status counts behind the metrics.

use rusqlite::{Connection, params, types::Value};

use crate::{AuditEvent, AuditQuery, CountBy, Kind, StoreError};

pub fn append(c: &Connection, e: &AuditEvent) -> Result<(), StoreError> {
    let ids = serde_json::to_string(&e.resource_ids)
        .map_err(|e| StoreError::Internal(format!("encoding resource ids: {e}")))?;
    c.prepare_cached(
        "INSERT INTO audit_log (time_ms, request_id, account_id, principal, access_key_id, \
         source_ip, product, action, region_id, resource_ids, code) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        e.time_ms,
        e.request_id,
        e.account_id,
        e.principal,
        e.access_key_id,
        e.source_ip,
        e.product,
        e.action,
        e.region_id,
        ids,
        e.code
    ])?;
    Ok(())
}

pub fn query(c: &Connection, q: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
    let mut filter = String::from("1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(a) = &q.account_id {
        filter.push_str(" AND account_id = ?");
        args.push(a.clone().into());
    }
    if let Some(t) = q.since_ms {
        filter.push_str(" AND time_ms >= ?");
        args.push(t.into());
    }
    if let Some(t) = q.until_ms {
        filter.push_str(" AND time_ms < ?");
        args.push(t.into());
    }
    if let Some(a) = &q.action {
        filter.push_str(" AND action = ?");
        args.push(a.clone().into());
    }
    if let Some(id) = &q.resource_id {
        filter.push_str(" AND EXISTS (SELECT 1 FROM json_each(resource_ids) WHERE value = ?)");
        args.push(id.clone().into());
    }
    match q.failed {
        Some(true) => filter.push_str(" AND code IS NOT NULL"),
        Some(false) => filter.push_str(" AND code IS NULL"),
        None => {}
    }
    let limit = if q.limit == 0 { -1 } else { i64::from(q.limit) };
    args.push(limit.into());
    // The newest `limit`, handed back oldest first.
    let sql = format!(
        "SELECT * FROM (SELECT seq, time_ms, request_id, account_id, principal, access_key_id, \
         source_ip, product, action, region_id, resource_ids, code FROM audit_log \
         WHERE {filter} ORDER BY time_ms DESC, seq DESC LIMIT ?) ORDER BY time_ms, seq"
    );
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        let ids: String = r.get(10)?;
        Ok((
            AuditEvent {
                time_ms: r.get(1)?,
                request_id: r.get(2)?,
                account_id: r.get(3)?,
                principal: r.get(4)?,
                access_key_id: r.get(5)?,
                source_ip: r.get(6)?,
                product: r.get(7)?,
                action: r.get(8)?,
                region_id: r.get(9)?,
                resource_ids: Vec::new(),
                code: r.get(11)?,
            },
            ids,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (mut event, ids) = row?;
        event.resource_ids = serde_json::from_str(&ids)
            .map_err(|e| StoreError::Internal(format!("decoding resource ids: {e}")))?;
        out.push(event);
    }
    Ok(out)
}

pub fn count_by(
    c: &Connection,
    kind: Kind,
    by: CountBy,
    now_ms: i64,
) -> Result<Vec<(String, u64)>, StoreError> {
    let (value, args): (String, Vec<Value>) = match by {
        CountBy::Status => (
            "COALESCE(CASE WHEN pending_due_ms IS NOT NULL AND pending_due_ms <= ? \
             THEN pending_status ELSE status END, '')"
                .to_owned(),
            vec![now_ms.into()],
        ),
        CountBy::Field(field) => {
            if !field
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
            {
                return Err(StoreError::Internal(format!("bad field name {field:?}")));
            }
            (
                format!("COALESCE(json_extract(doc, '$.{field}') || '', '')"),
                Vec::new(),
            )
        }
    };
    let mut args = args;
    args.push(kind.as_str().to_owned().into());
    let mut stmt = c.prepare(&format!(
        "SELECT {value} AS v, COUNT(*) FROM resources WHERE kind = ? GROUP BY v ORDER BY v"
    ))?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (v, n) = row?;
        out.push((v, u64::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}
