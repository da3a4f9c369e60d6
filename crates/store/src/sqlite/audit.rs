//! SQL of the audit log (table `audit_log`, schema step 4; triggers refuse
//! updates and deletes) and of the per-status counts behind the metrics.

use std::collections::BTreeMap;

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

/// The counts of schema step 6, kept by triggers: a few rows per kind, plus
/// the records whose transition is not yet due (normally a handful). A
/// scrape of /metrics no longer reads every record. Other fields than
/// `status` are counted by a scan ([`count_by_scan`]).
pub fn count_by(
    c: &Connection,
    kind: Kind,
    by: CountBy,
    now_ms: i64,
) -> Result<Vec<(String, u64)>, StoreError> {
    let mut counts: BTreeMap<String, i64> = BTreeMap::new();
    match by {
        CountBy::Status => {
            let mut stmt = c.prepare_cached(
                "SELECT status, n FROM resource_state_counts WHERE kind = ?1 AND n != 0",
            )?;
            for row in stmt.query_map(params![kind.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })? {
                let (status, n) = row?;
                *counts.entry(status).or_default() += n;
            }
            // Counted under their target, but still in their current status.
            let mut stmt = c.prepare_cached(
                "SELECT COALESCE(pending_status, ''), COALESCE(status, '') FROM resources \
                 WHERE kind = ?1 AND pending_due_ms IS NOT NULL AND pending_due_ms > ?2",
            )?;
            for row in stmt.query_map(params![kind.as_str(), now_ms], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })? {
                let (target, current) = row?;
                *counts.entry(target).or_default() -= 1;
                *counts.entry(current).or_default() += 1;
            }
        }
        CountBy::Field("status") => {
            let mut stmt = c.prepare_cached(
                "SELECT value, n FROM resource_status_field_counts WHERE kind = ?1 AND n != 0",
            )?;
            for row in stmt.query_map(params![kind.as_str()], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })? {
                let (value, n) = row?;
                *counts.entry(value).or_default() += n;
            }
        }
        CountBy::Field(_) => return count_by_scan(c, kind, by, now_ms),
    }
    Ok(counts
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| (v, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// `count_by` from the records themselves: what the counts must equal.
pub fn count_by_scan(
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use vpngw_model::Lifecycle;

    use super::*;
    use crate::{InsertGuard, Record, Scope};

    /// Inserts, updates and deletes at random; the kept counts must always
    /// equal a scan, at any `now` (transitions due or not).
    #[test]
    fn kept_counts_equal_a_scan() {
        let mut c = Connection::open_in_memory().unwrap();
        super::super::schema::migrate(&mut c).unwrap();
        let mut seed: u64 = 7;
        let mut rand = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let kinds = [Kind::VpnGateway, Kind::VpnConnection, Kind::CustomerGateway];
        let states = ["init", "active", "updating"];
        let fields = [r#""up""#, r#""down""#, "7", "null"];
        let mut live: Vec<(Kind, String, i64)> = Vec::new();
        let record = |rand: &mut dyn FnMut(u64) -> u64, kind: Kind, id: &str, version| {
            let status = match rand(4) {
                0 => None,
                1 => Some(Lifecycle::settled(states[rand(3) as usize])),
                _ => Some(Lifecycle::transition(
                    states[rand(3) as usize],
                    (rand(4) * 500) as i64,
                    states[rand(3) as usize],
                )),
            };
            let doc = match rand(5) {
                0 => format!(r#"{{"id":"{id}"}}"#),
                n => format!(r#"{{"id":"{id}","status":{}}}"#, fields[n as usize - 1]),
            };
            Record {
                kind,
                id: id.to_owned(),
                account_id: "a".into(),
                region_id: "cn-hangzhou".into(),
                parent_id: None,
                links: Vec::new(),
                resource_group_id: "rg".into(),
                status,
                version,
                doc,
            }
        };
        let scope = Scope {
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
        };
        for step in 0..1_500 {
            match rand(4) {
                0 | 1 => {
                    let kind = kinds[rand(3) as usize];
                    let id = format!("r-{step}");
                    let rec = record(&mut rand, kind, &id, 1);
                    super::super::queries::insert(&c, &rec, &InsertGuard::default()).unwrap();
                    live.push((kind, id, 1));
                }
                2 if !live.is_empty() => {
                    let i = rand(live.len() as u64) as usize;
                    let (kind, id, version) = live[i].clone();
                    let rec = record(&mut rand, kind, &id, version);
                    super::super::queries::update(&c, rec).unwrap();
                    live[i].2 += 1;
                }
                _ if !live.is_empty() => {
                    let (kind, id, _) = live.swap_remove(rand(live.len() as u64) as usize);
                    super::super::queries::delete(&c, kind, &scope, &id).unwrap();
                }
                _ => {}
            }
            if step % 50 == 0 {
                for kind in kinds {
                    for by in [CountBy::Status, CountBy::Field("status")] {
                        for now in [0, 499, 500, 1_000, 10_000] {
                            assert_eq!(
                                count_by(&c, kind, by, now).unwrap(),
                                count_by_scan(&c, kind, by, now).unwrap(),
                                "{kind:?} {by:?} at {now}, step {step}"
                            );
                        }
                    }
                }
            }
        }
        assert!(!live.is_empty());
    }
}
