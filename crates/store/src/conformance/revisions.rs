//! Conformance of gateway revisions (`gateway_changes`, `gateway_feed`) and
//! of measurements (`record_measurements`): every write of what belongs to a
//! gateway moves its revision and names what changed, a measurement does
//! not, and a subscriber is woken once such a write has committed.

use std::time::Duration;

use crate::{InsertGuard, Kind, LogEntry, LogQuery, Record, Scope, Store, StoreError};

const ACCT: &str = "rev-acct";

fn scope() -> Scope {
    Scope {
        account_id: ACCT.into(),
        region_id: "cn-hangzhou".into(),
    }
}

fn record(kind: Kind, id: &str, parent: Option<&str>, links: &[&str]) -> Record {
    Record {
        kind,
        id: id.into(),
        account_id: ACCT.into(),
        region_id: "cn-hangzhou".into(),
        parent_id: parent.map(str::to_owned),
        links: links.iter().map(|s| s.to_string()).collect(),
        resource_group_id: "rg-default".into(),
        status: None,
        version: 1,
        doc: format!(r#"{{"id":"{id}"}}"#),
    }
}

async fn changes(store: &dyn Store, gateway: &str, since: i64) -> (i64, Option<Vec<String>>) {
    let c = store.gateway_changes(gateway, since).await.unwrap();
    (
        c.revision,
        c.changed.map(|v| v.into_iter().map(|(_, id)| id).collect()),
    )
}

fn entry(resource: &str, msg: &str) -> LogEntry {
    LogEntry {
        account_id: ACCT.into(),
        region_id: "cn-hangzhou".into(),
        resource_id: resource.into(),
        tunnel_id: None,
        time_ms: 1_000,
        source: "dataplane".into(),
        message: msg.into(),
    }
}

async fn logged(store: &dyn Store, resource: &str) -> Vec<String> {
    let page = store
        .list_logs(&LogQuery {
            scope: scope(),
            resource_id: resource.into(),
            tunnel_id: None,
            from_ms: 0,
            to_ms: i64::MAX,
            offset: 0,
            limit: 100,
        })
        .await
        .unwrap();
    page.entries.into_iter().map(|e| e.message).collect()
}

pub async fn revisions(store: &dyn Store) {
    let (gw, other, cgw, vco, route) =
        ("vpn-rev1", "vpn-rev2", "cgw-rev1", "vco-rev1", "vcor-rev1");
    assert_eq!(changes(store, gw, 0).await, (0, Some(vec![])));
    let add = |r: Record| async move { store.insert(r, InsertGuard::default()).await.unwrap() };
    add(record(Kind::VpnGateway, gw, None, &[])).await;
    add(record(Kind::VpnGateway, other, None, &[])).await;
    add(record(Kind::CustomerGateway, cgw, None, &[])).await;
    let (r1, changed) = changes(store, gw, 0).await;
    assert_eq!((r1, changed), (1, Some(vec![gw.to_owned()])));
    // A customer gateway used by nobody belongs to no gateway.
    assert_eq!(changes(store, other, 0).await.0, 1);

    add(record(Kind::VpnConnection, vco, Some(gw), &[gw, cgw])).await;
    add(record(Kind::VcoRoute, route, Some(vco), &[vco])).await;
    let (r3, changed) = changes(store, gw, r1).await;
    assert_eq!(r3, r1 + 2);
    assert_eq!(changed, Some(vec![vco.to_owned(), route.to_owned()]));
    assert_eq!(changes(store, gw, r3).await, (r3, Some(vec![])));
    assert_eq!(
        changes(store, other, 1).await,
        (1, Some(vec![])),
        "another gateway's connection"
    );

    // A shared customer gateway belongs to the gateways of its connections.
    let stored = store
        .get(Kind::CustomerGateway, &scope(), cgw)
        .await
        .unwrap()
        .unwrap();
    let mut renamed = record(Kind::CustomerGateway, cgw, None, &[]);
    renamed.version = stored.version;
    store.update(renamed).await.unwrap();
    let (r4, changed) = changes(store, gw, r3).await;
    assert_eq!((r4, changed), (r3 + 1, Some(vec![cgw.to_owned()])));
    assert_eq!(changes(store, other, 1).await.0, 1);

    // A measurement moves nothing; a failed one leaves the others.
    let stored = store
        .get(Kind::VpnConnection, &scope(), vco)
        .await
        .unwrap()
        .unwrap();
    let mut measured = record(Kind::VpnConnection, vco, Some(gw), &[gw, cgw]);
    measured.version = stored.version;
    measured.doc = r#"{"id":"vco-rev1","status":"ipsec_sa_established"}"#.into();
    let mut stale = record(Kind::VpnConnection, vco, Some(gw), &[gw, cgw]);
    stale.version = stored.version; // written by the first update first
    let gone = record(Kind::VpnConnection, "vco-rev-none", Some(gw), &[gw, cgw]);
    let outcomes = store
        .record_measurements(
            vec![
                (measured, vec![entry(vco, "up")]),
                (stale, vec![entry(vco, "not written")]),
                (gone, vec![entry("vco-rev-none", "not written")]),
            ],
            vec![entry(vco, "event")],
        )
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 3);
    assert_eq!(outcomes[0].as_ref().unwrap().version, stored.version + 1);
    assert!(matches!(outcomes[1], Err(StoreError::VersionConflict)));
    assert!(matches!(outcomes[2], Err(StoreError::NotFound)));
    assert_eq!(logged(store, vco).await, vec!["up", "event"]);
    assert!(logged(store, "vco-rev-none").await.is_empty());
    let read = store
        .get(Kind::VpnConnection, &scope(), vco)
        .await
        .unwrap()
        .unwrap();
    assert!(read.doc.contains("ipsec_sa_established"));
    assert_eq!(changes(store, gw, r4).await, (r4, Some(vec![])));

    // A revision from the future (a restored database) or before the
    // kept changes: everything must be read.
    assert_eq!(changes(store, gw, r4 + 10).await, (r4, None));

    // Deleting a connection with its route: one revision names both.
    let gone = store
        .delete_cascade(Kind::VpnConnection, &scope(), vco, &[Kind::VcoRoute])
        .await
        .unwrap();
    assert_eq!(gone, vec![route.to_owned()]);
    let (r5, changed) = changes(store, gw, r4).await;
    assert_eq!(r5, r4 + 1);
    let mut changed = changed.unwrap();
    changed.sort();
    assert_eq!(changed, vec![vco.to_owned(), route.to_owned()]);
    store
        .delete(Kind::CustomerGateway, &scope(), cgw)
        .await
        .unwrap();
    assert_eq!(changes(store, gw, r5).await.0, r5, "unused by then");
    store.delete(Kind::VpnGateway, &scope(), gw).await.unwrap();
    assert_eq!(
        changes(store, gw, r5).await,
        (r5 + 1, Some(vec![gw.to_owned()]))
    );

    // A VPC belongs to the gateways placed in it (they announce its
    // vSwitches' blocks); its vSwitches, which link to it too, to none.
    let (vpc, vsw, placed) = ("vpc-rev1", "vsw-rev1", "vpn-rev3");
    add(record(Kind::Vpc, vpc, None, &[])).await;
    add(record(Kind::VSwitch, vsw, Some(vpc), &[vpc])).await;
    add(record(Kind::VpnGateway, placed, None, &[vpc, vsw])).await;
    let r1 = changes(store, placed, 0).await.0;
    let stored = store.get(Kind::Vpc, &scope(), vpc).await.unwrap().unwrap();
    let mut claimed = record(Kind::Vpc, vpc, None, &[]);
    claimed.version = stored.version;
    store.update(claimed).await.unwrap();
    assert_eq!(
        changes(store, placed, r1).await,
        (r1 + 1, Some(vec![vpc.to_owned()]))
    );
    assert_eq!(changes(store, other, 1).await.0, 1);
}

pub async fn feed(store: &dyn Store) {
    let gw = "vpn-feed1";
    store
        .insert(
            record(Kind::VpnGateway, gw, None, &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    let feed = store.gateway_feed();
    let sub = feed.subscribe(gw);
    let woken = sub.notify().notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let before = store.gateway_changes(gw, 0).await.unwrap().revision;
    store
        .insert(
            record(Kind::VpnConnection, "vco-feed1", Some(gw), &[gw]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), woken)
        .await
        .expect("a committed change of the gateway wakes its subscribers");
    assert_eq!(
        store.gateway_changes(gw, 0).await.unwrap().revision,
        before + 1
    );
}
