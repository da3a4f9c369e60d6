//! Gateway revisions in SQLite ([`crate::revisions`], schema step 7).
//!
//! The write functions of `queries.rs` call [`record_write`] (or
//! [`gateways_of`] before a delete and [`moved`] after it) inside their
//! transaction. The gateways moved are remembered on the writer thread
//! ([`take_moved`]), which wakes their subscribers once its COMMIT is
//! durable; a job rolled back after moving one only causes a spurious
//! wake-up.

use std::cell::RefCell;

use rusqlite::{Connection, OptionalExtension, params};

use crate::revisions::{GatewayBond, GatewayChanges, KEPT_CHANGES};
use crate::{Kind, StoreError};

thread_local! {
    /// Gateways whose revision moved in the writer's open transaction.
    static MOVED: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// How many parents up a record's gateway may be (a route of a connection
/// of a gateway is two).
const MAX_DEPTH: usize = 4;
/// Changes beyond [`KEPT_CHANGES`] are pruned every this many revisions.
const PRUNE_EVERY: i64 = 64;

/// The gateways whose revision moved since the last call (writer thread).
pub fn take_moved() -> Vec<String> {
    MOVED.with(|m| std::mem::take(&mut *m.borrow_mut()))
}

/// The gateway `parent` is or is under, if any.
fn gateway_at_or_above(c: &Connection, parent: Option<&str>) -> Result<Option<String>, StoreError> {
    let mut next = parent.map(str::to_owned);
    for _ in 0..MAX_DEPTH {
        let Some(id) = next else {
            return Ok(None);
        };
        let row: Option<(String, Option<String>)> = c
            .prepare_cached("SELECT kind, parent_id FROM resources WHERE id = ?1")?
            .query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None => return Ok(None),
            Some((kind, _)) if kind == Kind::VpnGateway.as_str() => return Ok(Some(id)),
            Some((_, up)) => next = up,
        }
    }
    Ok(None)
}

/// The gateways a record of `kind` with `id` and `parent_id` belongs to
/// ([`Kind::gateway_bond`]), sorted.
pub fn gateways_of(
    c: &Connection,
    kind: Kind,
    id: &str,
    parent_id: Option<&str>,
) -> Result<Vec<String>, StoreError> {
    let mut out = match kind.gateway_bond() {
        GatewayBond::None => Vec::new(),
        GatewayBond::Gateway => vec![id.to_owned()],
        GatewayBond::Parent => gateway_at_or_above(c, parent_id)?.into_iter().collect(),
        GatewayBond::Linked => {
            // The records linking to it that belong to a gateway: a gateway
            // itself, or a record whose parent chain leads to one.
            let linking: Vec<(String, String, Option<String>)> = c
                .prepare_cached(
                    "SELECT DISTINCT r.id, r.kind, r.parent_id FROM resource_links l \
                     JOIN resources r ON r.id = l.from_id WHERE l.to_id = ?1",
                )?
                .query_map(params![id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<Result<_, _>>()?;
            let mut gateways = Vec::new();
            for (from, kind, parent) in linking {
                match Kind::parse(&kind).map(Kind::gateway_bond) {
                    Some(GatewayBond::Gateway) => gateways.push(from),
                    Some(GatewayBond::Parent) => {
                        gateways.extend(gateway_at_or_above(c, parent.as_deref())?);
                    }
                    _ => {}
                }
            }
            gateways
        }
    };
    out.sort();
    out.dedup();
    Ok(out)
}

/// Moves each of `gateways`' revisions by one and records `changed` at it.
pub fn moved(
    c: &Connection,
    gateways: &[String],
    changed: &[(Kind, &str)],
) -> Result<(), StoreError> {
    for gateway in gateways {
        let revision: i64 = c
            .prepare_cached(
                "INSERT INTO gateway_revisions (gateway_id, revision, horizon) VALUES (?1, 1, 0) \
                 ON CONFLICT (gateway_id) DO UPDATE SET revision = revision + 1 \
                 RETURNING revision",
            )?
            .query_row(params![gateway], |r| r.get(0))?;
        let mut insert = c.prepare_cached(
            "INSERT OR IGNORE INTO gateway_changes (gateway_id, revision, resource_id, kind) \
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (kind, id) in changed {
            insert.execute(params![gateway, revision, id, kind.as_str()])?;
        }
        if revision % PRUNE_EVERY == 0 && revision > KEPT_CHANGES {
            let horizon = revision - KEPT_CHANGES;
            c.prepare_cached(
                "DELETE FROM gateway_changes WHERE gateway_id = ?1 AND revision <= ?2",
            )?
            .execute(params![gateway, horizon])?;
            c.prepare_cached("UPDATE gateway_revisions SET horizon = ?2 WHERE gateway_id = ?1")?
                .execute(params![gateway, horizon])?;
        }
        MOVED.with(|m| m.borrow_mut().push(gateway.clone()));
    }
    Ok(())
}

/// A write of the record `id`: moves the revisions of its gateways.
pub fn record_write(
    c: &Connection,
    kind: Kind,
    id: &str,
    parent_id: Option<&str>,
) -> Result<(), StoreError> {
    let gateways = gateways_of(c, kind, id, parent_id)?;
    moved(c, &gateways, &[(kind, id)])
}

/// [`crate::Store::gateway_changes`], on a reader connection: the revision
/// and the changes come from one snapshot.
pub fn changes(c: &Connection, gateway_id: &str, since: i64) -> Result<GatewayChanges, StoreError> {
    let snapshot = c.unchecked_transaction()?;
    let (revision, horizon): (i64, i64) = c
        .prepare_cached("SELECT revision, horizon FROM gateway_revisions WHERE gateway_id = ?1")?
        .query_row(params![gateway_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or((0, 0));
    let changed = if since < horizon || since > revision {
        None
    } else {
        let mut stmt = c.prepare_cached(
            "SELECT kind, resource_id FROM gateway_changes \
             WHERE gateway_id = ?1 AND revision > ?2 GROUP BY resource_id ORDER BY MIN(revision)",
        )?;
        let rows = stmt.query_map(params![gateway_id, since], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, id) = row?;
            if let Some(kind) = Kind::parse(&kind) {
                out.push((kind, id));
            }
        }
        Some(out)
    };
    snapshot.commit()?;
    Ok(GatewayChanges { revision, changed })
}
