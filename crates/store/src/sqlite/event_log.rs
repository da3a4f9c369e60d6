//! SQL of the event log (table `event_log`, schema step 3). Rows are only
//! ever inserted: a trigger refuses updates.

use rusqlite::{Connection, params};

use crate::{LogEntry, LogPage, LogQuery, StoreError};

/// Appends entries in the caller's transaction, in order.
pub fn append(c: &Connection, entries: &[LogEntry]) -> Result<(), StoreError> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO event_log (account_id, region_id, resource_id, tunnel_id, time_ms, source, message) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for e in entries {
        stmt.execute(params![
            e.account_id,
            e.region_id,
            e.resource_id,
            e.tunnel_id,
            e.time_ms,
            e.source,
            e.message
        ])?;
    }
    Ok(())
}

const FILTER: &str = "account_id = ?1 AND region_id = ?2 AND resource_id = ?3 \
     AND time_ms >= ?4 AND time_ms <= ?5 \
     AND (?6 IS NULL OR tunnel_id IS NULL OR tunnel_id = ?6)";

pub fn list(c: &Connection, q: &LogQuery) -> Result<LogPage, StoreError> {
    let total: i64 = c
        .prepare_cached(&format!("SELECT COUNT(*) FROM event_log WHERE {FILTER}"))?
        .query_row(
            params![
                q.scope.account_id,
                q.scope.region_id,
                q.resource_id,
                q.from_ms,
                q.to_ms,
                q.tunnel_id
            ],
            |r| r.get(0),
        )?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT account_id, region_id, resource_id, tunnel_id, time_ms, source, message \
         FROM event_log WHERE {FILTER} ORDER BY time_ms, seq LIMIT ?7 OFFSET ?8"
    ))?;
    let entries = stmt
        .query_map(
            params![
                q.scope.account_id,
                q.scope.region_id,
                q.resource_id,
                q.from_ms,
                q.to_ms,
                q.tunnel_id,
                i64::try_from(q.limit).unwrap_or(i64::MAX),
                i64::try_from(q.offset).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok(LogEntry {
                    account_id: r.get(0)?,
                    region_id: r.get(1)?,
                    resource_id: r.get(2)?,
                    tunnel_id: r.get(3)?,
                    time_ms: r.get(4)?,
                    source: r.get(5)?,
                    message: r.get(6)?,
                })
            },
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(LogPage {
        entries,
        total: u64::try_from(total).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn entries_cannot_be_edited() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut c).unwrap();
        let e = LogEntry {
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
            resource_id: "vco-1".into(),
            tunnel_id: None,
            time_ms: 1,
            source: "api".into(),
            message: "created".into(),
        };
        append(&c, std::slice::from_ref(&e)).unwrap();
        let edit = c.execute("UPDATE event_log SET message = 'forged'", []);
        assert!(
            edit.unwrap_err().to_string().contains("append-only"),
            "an update must be refused"
        );
        let q = LogQuery {
            scope: crate::Scope {
                account_id: "a".into(),
                region_id: "cn-hangzhou".into(),
            },
            resource_id: "vco-1".into(),
            tunnel_id: None,
            from_ms: 0,
            to_ms: 10,
            offset: 0,
            limit: 10,
        };
        assert_eq!(list(&c, &q).unwrap().entries, vec![e]);
    }
}
