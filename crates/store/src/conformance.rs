//! The behaviour every [`Store`] implementation must show. Each backend's
//! tests call [`run_all`] on a fresh, empty store.

// Test support: failing loudly is the point.
#![allow(clippy::unwrap_used)]

use crate::{
    AccessKeyRecord, AccountRecord, Idempotency, InsertGuard, Inserted, Kind, ListQuery, Quota,
    Record, Scope, Store, StoreError,
};
use vpngw_model::Lifecycle;

fn scope(account: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
    }
}

fn record(kind: Kind, id: &str, account: &str, links: &[&str]) -> Record {
    Record {
        kind,
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        parent_id: links.first().map(|s| s.to_string()),
        links: links.iter().map(|s| s.to_string()).collect(),
        resource_group_id: "rg-default".into(),
        status: None,
        version: 1,
        doc: format!(
            r#"{{"id":"{id}","vpc_id":"vpc-1","tags":[{{"key":"env","value":"{account}"}}]}}"#
        ),
    }
}

/// Runs every check; panics with a message on the first failure.
pub async fn run_all(store: &dyn Store) {
    crud_and_scope(store).await;
    optimistic_concurrency(store).await;
    links(store).await;
    quota_and_idempotency(store).await;
    list_filters(store).await;
    identity(store).await;
    nonces(store).await;
    concurrent_writes(store).await;
}

async fn crud_and_scope(store: &dyn Store) {
    let rec = record(Kind::CustomerGateway, "cgw-crud", "a1", &[]);
    assert_eq!(
        store
            .insert(rec.clone(), InsertGuard::default())
            .await
            .unwrap(),
        Inserted::Created
    );
    let got = store
        .get(Kind::CustomerGateway, &scope("a1"), "cgw-crud")
        .await
        .unwrap();
    assert_eq!(got.as_ref().map(|r| r.doc.as_str()), Some(rec.doc.as_str()));
    // Another account, another region or another kind sees nothing.
    assert!(
        store
            .get(Kind::CustomerGateway, &scope("a2"), "cgw-crud")
            .await
            .unwrap()
            .is_none()
    );
    let other_region = Scope {
        account_id: "a1".into(),
        region_id: "cn-beijing".into(),
    };
    assert!(
        store
            .get(Kind::CustomerGateway, &other_region, "cgw-crud")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(Kind::VpnGateway, &scope("a1"), "cgw-crud")
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store.insert(rec.clone(), InsertGuard::default()).await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(matches!(
        store
            .delete(Kind::CustomerGateway, &scope("a2"), "cgw-crud")
            .await,
        Err(StoreError::NotFound)
    ));
    store
        .delete(Kind::CustomerGateway, &scope("a1"), "cgw-crud")
        .await
        .unwrap();
    assert!(
        store
            .get(Kind::CustomerGateway, &scope("a1"), "cgw-crud")
            .await
            .unwrap()
            .is_none()
    );
}

async fn optimistic_concurrency(store: &dyn Store) {
    let mut rec = record(Kind::VpnGateway, "vpn-occ", "a1", &[]);
    rec.status = Some(Lifecycle::transition("init", 1_000, "active"));
    store
        .insert(rec.clone(), InsertGuard::default())
        .await
        .unwrap();
    let mut first = rec.clone();
    first.doc = r#"{"id":"vpn-occ","name":"first"}"#.into();
    let stored = store.update(first).await.unwrap();
    assert_eq!(stored.version, 2);
    // A writer that read version 1 loses.
    let mut stale = rec.clone();
    stale.doc = r#"{"id":"vpn-occ","name":"stale"}"#.into();
    assert!(matches!(
        store.update(stale).await,
        Err(StoreError::VersionConflict)
    ));
    let got = store
        .get(Kind::VpnGateway, &scope("a1"), "vpn-occ")
        .await
        .unwrap()
        .unwrap();
    assert!(got.doc.contains("first"));
    assert_eq!(got.version, 2);
    assert_eq!(got.status, rec.status);
    let mut missing = rec.clone();
    missing.id = "vpn-none".into();
    assert!(matches!(
        store.update(missing).await,
        Err(StoreError::NotFound)
    ));
}

async fn links(store: &dyn Store) {
    store
        .insert(
            record(Kind::VpnGateway, "vpn-l", "a1", &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    store
        .insert(
            record(Kind::CustomerGateway, "cgw-l", "a1", &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    store
        .insert(
            record(Kind::CustomerGateway, "cgw-other", "a2", &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    // A link into another account is as missing as a link to nothing.
    assert!(matches!(
        store.insert(record(Kind::VpnConnection, "vco-x", "a1", &["vpn-l", "cgw-other"]), InsertGuard::default()).await,
        Err(StoreError::MissingLink(id)) if id == "cgw-other"
    ));
    store
        .insert(
            record(Kind::VpnConnection, "vco-l", "a1", &["vpn-l", "cgw-l"]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.delete(Kind::CustomerGateway, &scope("a1"), "cgw-l").await,
        Err(StoreError::Referenced { kind: Kind::VpnConnection, id }) if id == "vco-l"
    ));
    assert!(matches!(
        store.delete(Kind::VpnGateway, &scope("a1"), "vpn-l").await,
        Err(StoreError::Referenced { .. })
    ));
    let mut q = ListQuery::new(Kind::VpnConnection, scope("a1"), 0);
    q.linked_to = Some("cgw-l".into());
    assert_eq!(store.list(&q).await.unwrap().total, 1);
    store
        .delete(Kind::VpnConnection, &scope("a1"), "vco-l")
        .await
        .unwrap();
    store
        .delete(Kind::CustomerGateway, &scope("a1"), "cgw-l")
        .await
        .unwrap();
    store
        .delete(Kind::VpnGateway, &scope("a1"), "vpn-l")
        .await
        .unwrap();
}

async fn quota_and_idempotency(store: &dyn Store) {
    let guard = |token: &str, fp: &str| InsertGuard {
        quota: Some(Quota {
            limit: 2,
            per_parent: false,
        }),
        idempotency: Some(Idempotency {
            token: token.into(),
            fingerprint: fp.into(),
        }),
        unique: Vec::new(),
    };
    let acct = "quota";
    assert_eq!(
        store
            .insert(
                record(Kind::CustomerGateway, "cgw-q1", acct, &[]),
                guard("t1", "f")
            )
            .await
            .unwrap(),
        Inserted::Created
    );
    // Same token, same parameters: the first result, nothing new.
    assert_eq!(
        store
            .insert(
                record(Kind::CustomerGateway, "cgw-q1b", acct, &[]),
                guard("t1", "f")
            )
            .await
            .unwrap(),
        Inserted::Replayed {
            id: "cgw-q1".into()
        }
    );
    assert!(matches!(
        store
            .insert(
                record(Kind::CustomerGateway, "cgw-q1c", acct, &[]),
                guard("t1", "g")
            )
            .await,
        Err(StoreError::IdempotencyMismatch)
    ));
    store
        .insert(
            record(Kind::CustomerGateway, "cgw-q2", acct, &[]),
            guard("t2", "f"),
        )
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert(
                record(Kind::CustomerGateway, "cgw-q3", acct, &[]),
                guard("t3", "f")
            )
            .await,
        Err(StoreError::QuotaExceeded { limit: 2 })
    ));
    let q = ListQuery::new(Kind::CustomerGateway, scope(acct), 0);
    assert_eq!(store.list(&q).await.unwrap().total, 2);
    // Unique fields are per scope and kind.
    let unique = |v: &str| InsertGuard {
        unique: vec![("vpc_id", v.into())],
        ..Default::default()
    };
    assert!(matches!(
        store
            .insert(
                record(Kind::CustomerGateway, "cgw-u1", acct, &[]),
                unique("vpc-1")
            )
            .await,
        Err(StoreError::Duplicate)
    ));
    store
        .insert(
            record(Kind::CustomerGateway, "cgw-u2", "unique-other", &[]),
            unique("vpc-1"),
        )
        .await
        .unwrap();
}

async fn list_filters(store: &dyn Store) {
    let acct = "lists";
    for i in 0..25 {
        let mut rec = record(Kind::VpnGateway, &format!("vpn-list{i:02}"), acct, &[]);
        rec.status = Some(if i % 2 == 0 {
            Lifecycle::transition("init", 1_000, "active")
        } else {
            Lifecycle::settled("active")
        });
        if i == 7 {
            rec.doc =
                r#"{"id":"vpn-list07","vpc_id":"vpc-7","tags":[{"key":"team","value":"blue"}]}"#
                    .into();
        }
        store.insert(rec, InsertGuard::default()).await.unwrap();
    }
    let base = ListQuery::new(Kind::VpnGateway, scope(acct), 500);
    let mut q = base.clone();
    q.limit = 10;
    q.offset = 20;
    let page = store.list(&q).await.unwrap();
    assert_eq!(page.total, 25);
    let ids: Vec<_> = page.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "vpn-list20",
            "vpn-list21",
            "vpn-list22",
            "vpn-list23",
            "vpn-list24"
        ]
    );
    let mut q = base.clone();
    q.status = Some("init".into());
    assert_eq!(store.list(&q).await.unwrap().total, 13);
    q.now_ms = 1_000;
    assert_eq!(store.list(&q).await.unwrap().total, 0);
    q.status = Some("active".into());
    assert_eq!(store.list(&q).await.unwrap().total, 25);
    let mut q = base.clone();
    q.ids = vec!["vpn-list03".into(), "vpn-list04".into(), "vpn-nope".into()];
    assert_eq!(store.list(&q).await.unwrap().total, 2);
    let mut q = base.clone();
    q.fields = vec![("vpc_id", "vpc-7".into())];
    assert_eq!(store.list(&q).await.unwrap().records[0].id, "vpn-list07");
    let mut q = base.clone();
    q.tags = vec![("team".into(), Some("blue".into()))];
    assert_eq!(store.list(&q).await.unwrap().total, 1);
    q.tags = vec![("env".into(), None)];
    assert_eq!(store.list(&q).await.unwrap().total, 24);
    q.tags = vec![("env".into(), Some("nope".into()))];
    assert_eq!(store.list(&q).await.unwrap().total, 0);
}

async fn identity(store: &dyn Store) {
    let account = AccountRecord {
        id: "1234567890123456".into(),
        name: "root".into(),
        created_ms: 1,
    };
    let key = AccessKeyRecord {
        id: "LTAIkey".into(),
        account_id: account.id.clone(),
        principal: "root".into(),
        secret: "sealed".into(),
        status: "Active".into(),
        created_ms: 1,
    };
    store
        .create_account(account.clone(), key.clone())
        .await
        .unwrap();
    assert_eq!(
        store.access_key("LTAIkey").await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(store.access_key("nope").await.unwrap(), None);
    assert!(store.accounts().await.unwrap().contains(&account));
    assert!(!format!("{key:?}").contains("sealed"));
}

async fn nonces(store: &dyn Store) {
    assert!(store.use_nonce("k", "n1", 1_000).await.unwrap());
    assert!(!store.use_nonce("k", "n1", 2_000).await.unwrap());
    assert!(store.use_nonce("k2", "n1", 2_000).await.unwrap());
    assert!(
        store
            .use_nonce("k", "n1", 1_000 + crate::NONCE_WINDOW_MS)
            .await
            .unwrap()
    );
}

async fn concurrent_writes(store: &dyn Store) {
    let acct = "concurrent";
    let inserts = (0..64).map(|i| {
        store.insert(
            record(Kind::CustomerGateway, &format!("cgw-c{i}"), acct, &[]),
            InsertGuard::default(),
        )
    });
    for r in futures_join_all(inserts).await {
        r.unwrap();
    }
    let q = ListQuery::new(Kind::CustomerGateway, scope(acct), 0);
    assert_eq!(store.list(&q).await.unwrap().total, 64);
    // 16 writers race on one record: exactly one wins each version.
    let base = store
        .get(Kind::CustomerGateway, &scope(acct), "cgw-c0")
        .await
        .unwrap()
        .unwrap();
    let updates = (0..16).map(|i| {
        let mut r = base.clone();
        r.doc = format!(r#"{{"writer":{i}}}"#);
        store.update(r)
    });
    let results = futures_join_all(updates).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::VersionConflict)))
    );
}

/// Polls all futures concurrently on the current task.
async fn futures_join_all<F: std::future::Future>(
    futs: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(|o| o.expect("all ready")).collect()
}
