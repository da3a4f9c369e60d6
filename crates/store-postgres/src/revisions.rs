//! Gateway revisions on PostgreSQL ([`vpngw_store::revisions`], schema step
//! 5), shared by every replica.
//!
//! A write moves its gateways' revisions with `INSERT … ON CONFLICT DO
//! UPDATE … RETURNING` on the gateway's row, which stays locked until the
//! transaction ends: two writes of one gateway get revisions in the order
//! they commit, so a reader that sees revision N sees every change up to N.
//! Gateways are moved in sorted order (no deadlock between two writes that
//! move the same two). The same transaction sends `NOTIFY` with the
//! gateway's id; PostgreSQL delivers it on commit to every replica's
//! listener ([`listen`]), which wakes that replica's subscribers.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{GenericClient, Transaction};
use tokio_postgres::{AsyncMessage, NoTls};
use vpngw_store::Kind;
use vpngw_store::revisions::{GatewayBond, GatewayChanges, GatewayFeed, KEPT_CHANGES};

use crate::Error;
use crate::queries::{exec, one, opt, rows, t};

/// The `LISTEN`/`NOTIFY` channel (payload: the gateway's id).
pub const CHANNEL: &str = "vpngw_gateway_revisions";
/// The payload that wakes every watcher (after a reset).
const EVERYONE: &str = "*";
/// How many parents up a record's gateway may be.
const MAX_DEPTH: usize = 4;
/// Changes beyond [`KEPT_CHANGES`] are pruned every this many revisions.
const PRUNE_EVERY: i64 = 64;

/// The gateway `parent` is or is under, if any.
async fn gateway_at_or_above(
    tx: &Transaction<'_>,
    parent: Option<&str>,
) -> Result<Option<String>, Error> {
    let mut next = parent.map(str::to_owned);
    for _ in 0..MAX_DEPTH {
        let Some(id) = next else {
            return Ok(None);
        };
        let Some(row) = opt(
            tx,
            "SELECT kind, parent_id FROM resources WHERE id = $1",
            &[&t(&id)],
        )
        .await?
        else {
            return Ok(None);
        };
        let kind: String = row.get(0);
        if kind == Kind::VpnGateway.as_str() {
            return Ok(Some(id));
        }
        next = row.get(1);
    }
    Ok(None)
}

/// The gateways a record belongs to ([`Kind::gateway_bond`]), sorted.
pub async fn gateways_of(
    tx: &Transaction<'_>,
    kind: Kind,
    id: &str,
    parent_id: Option<&str>,
) -> Result<Vec<String>, Error> {
    let mut out = match kind.gateway_bond() {
        GatewayBond::None => Vec::new(),
        GatewayBond::Gateway => vec![id.to_owned()],
        GatewayBond::Parent => gateway_at_or_above(tx, parent_id)
            .await?
            .into_iter()
            .collect(),
        GatewayBond::Linked => {
            // The records linking to it that belong to a gateway: a gateway
            // itself, or a record whose parent chain leads to one.
            let linking = rows(
                tx,
                "SELECT DISTINCT r.id, r.kind, r.parent_id FROM resource_links l \
                 JOIN resources r ON r.id = l.from_id WHERE l.to_id = $1",
                &[&t(id)],
            )
            .await?;
            let mut gateways = Vec::new();
            for row in linking {
                let (from, kind, parent): (String, String, Option<String>) =
                    (row.get(0), row.get(1), row.get(2));
                match Kind::parse(&kind).map(Kind::gateway_bond) {
                    Some(GatewayBond::Gateway) => gateways.push(from),
                    Some(GatewayBond::Parent) => {
                        gateways.extend(gateway_at_or_above(tx, parent.as_deref()).await?);
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

/// Moves each of `gateways`' revisions by one, records `changed` at it and
/// notifies every replica on commit. `gateways` must be sorted.
pub async fn moved(
    tx: &Transaction<'_>,
    gateways: &[String],
    changed: &[(Kind, &str)],
) -> Result<(), Error> {
    for gateway in gateways {
        let revision: i64 = one(
            tx,
            "INSERT INTO gateway_revisions (gateway_id, revision, horizon) VALUES ($1, 1, 0) \
             ON CONFLICT (gateway_id) DO UPDATE SET revision = gateway_revisions.revision + 1 \
             RETURNING revision",
            &[&t(gateway)],
        )
        .await?
        .get(0);
        for (kind, id) in changed {
            exec(
                tx,
                "INSERT INTO gateway_changes (gateway_id, revision, resource_id, kind) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&t(gateway), &revision, &t(id), &kind.as_str()],
            )
            .await?;
        }
        if revision % PRUNE_EVERY == 0 && revision > KEPT_CHANGES {
            let horizon = revision - KEPT_CHANGES;
            exec(
                tx,
                "DELETE FROM gateway_changes WHERE gateway_id = $1 AND revision <= $2",
                &[&t(gateway), &horizon],
            )
            .await?;
            exec(
                tx,
                "UPDATE gateway_revisions SET horizon = $2 WHERE gateway_id = $1",
                &[&t(gateway), &horizon],
            )
            .await?;
        }
        exec(tx, "SELECT pg_notify($1, $2)", &[&CHANNEL, &t(gateway)]).await?;
    }
    Ok(())
}

/// Wakes every watcher of every replica on commit (the gateways' revisions
/// were emptied: a reset).
pub async fn notify_everyone(tx: &Transaction<'_>) -> Result<(), Error> {
    exec(tx, "SELECT pg_notify($1, $2)", &[&CHANNEL, &EVERYONE])
        .await
        .map(drop)
}

/// A write of the record `id`: moves the revisions of its gateways.
pub async fn record_write(
    tx: &Transaction<'_>,
    kind: Kind,
    id: &str,
    parent_id: Option<&str>,
) -> Result<(), Error> {
    let gateways = gateways_of(tx, kind, id, parent_id).await?;
    moved(tx, &gateways, &[(kind, id)]).await
}

/// [`vpngw_store::Store::gateway_changes`]: the revision first, then the
/// changes after `since` (which may include a few after the revision read,
/// committed in between: those are read again next time, harmlessly).
pub async fn changes<C: GenericClient>(
    c: &C,
    gateway_id: &str,
    since: i64,
) -> Result<GatewayChanges, Error> {
    let (revision, horizon): (i64, i64) = opt(
        c,
        "SELECT revision, horizon FROM gateway_revisions WHERE gateway_id = $1",
        &[&t(gateway_id)],
    )
    .await?
    .map_or((0, 0), |r| (r.get(0), r.get(1)));
    if since < horizon || since > revision {
        return Ok(GatewayChanges {
            revision,
            changed: None,
        });
    }
    let changed = rows(
        c,
        "SELECT kind, resource_id FROM gateway_changes WHERE gateway_id = $1 AND revision > $2 \
         GROUP BY kind, resource_id ORDER BY MIN(revision)",
        &[&t(gateway_id), &since],
    )
    .await?
    .iter()
    .filter_map(|r| Kind::parse(r.get::<_, &str>(0)).map(|k| (k, r.get(1))))
    .collect();
    Ok(GatewayChanges {
        revision,
        changed: Some(changed),
    })
}

/// Listens for the gateways' notifications on a connection of its own, for
/// as long as the returned task runs, reconnecting when it breaks. Every
/// (re)connection wakes every subscriber: what was notified while nobody
/// listened is unknown.
pub fn listen(
    config: tokio_postgres::Config,
    feed: Arc<GatewayFeed>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match listen_once(&config, &feed).await {
                Ok(()) => {
                    tracing::warn!("the PostgreSQL listener's connection closed; reconnecting")
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the PostgreSQL listener failed; reconnecting")
                }
            }
            feed.notify_all();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    })
}

async fn listen_once(config: &tokio_postgres::Config, feed: &GatewayFeed) -> Result<(), Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let drive = async {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) if n.payload() == EVERYONE => {
                    feed.notify_all()
                }
                Some(Ok(AsyncMessage::Notification(n))) => feed.notify(n.payload()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(Error::from(e)),
                None => return Ok(()),
            }
        }
    };
    let subscribe = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        feed.notify_all();
        std::future::pending::<Result<(), Error>>().await
    };
    tokio::select! {
        r = drive => r,
        r = subscribe => r,
    }
}
