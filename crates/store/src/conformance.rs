//! The behaviour every [`Store`] implementation must show. Each backend's
//! tests call [`run_all`] on a fresh, empty store.

// Test support: failing loudly is the point.
#![allow(clippy::unwrap_used)]

use crate::{
    AccessKeyRecord, AccountRecord, Idempotency, InsertGuard, Inserted, Kind, ListQuery, Quota,
    Record, Scope, Store, StoreError,
};
use vpngw_model::Lifecycle;

mod audit;
mod cen;
mod event_log;
mod ipsec_server;
mod reset;
mod revisions;
mod ssl_vpn;
mod trail;
mod vpc;

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
    cascade_delete(store).await;
    quota_and_idempotency(store).await;
    list_filters(store).await;
    identity(store).await;
    ram_identities(store).await;
    event_log::event_log(store).await;
    audit::audit(store).await;
    audit::counts(store).await;
    nonces(store).await;
    concurrent_writes(store).await;
    trail::trails(store).await;
    ssl_vpn::servers_and_certs(store).await;
    ipsec_server::servers(store).await;
    vpc::vpcs_and_vswitches(store).await;
    cen::cens_and_transit_routers(store).await;
    revisions::revisions(store).await;
    revisions::feed(store).await;
    // Last: it empties the store.
    reset::reset(store).await;
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

async fn cascade_delete(store: &dyn Store) {
    let insert = |kind, id: &'static str, links: &'static [&'static str]| {
        store.insert(record(kind, id, "cascade", links), InsertGuard::default())
    };
    insert(Kind::VpnGateway, "vpn-cas", &[]).await.unwrap();
    insert(Kind::CustomerGateway, "cgw-cas", &[]).await.unwrap();
    insert(Kind::VpnConnection, "vco-cas", &["vpn-cas", "cgw-cas"])
        .await
        .unwrap();
    insert(Kind::VpnConnection, "vco-cas2", &["vpn-cas"])
        .await
        .unwrap();
    // Routes: filed under the gateway (or the connection), linking their next hop.
    insert(Kind::VpnRoute, "vpn-cas/dbr/a", &["vpn-cas", "vco-cas"])
        .await
        .unwrap();
    insert(Kind::VpnPbrRoute, "vpn-cas/pbr/a", &["vpn-cas", "vco-cas"])
        .await
        .unwrap();
    insert(Kind::VcoRoute, "vco-cas/custom/a", &["vco-cas"])
        .await
        .unwrap();
    insert(Kind::VpnRoute, "vpn-cas/dbr/b", &["vpn-cas", "vco-cas2"])
        .await
        .unwrap();
    let s = scope("cascade");
    let routes = [Kind::VcoRoute, Kind::VpnRoute, Kind::VpnPbrRoute];
    // Without cascading, the routes hold the connection.
    assert!(matches!(
        store.delete(Kind::VpnConnection, &s, "vco-cas").await,
        Err(StoreError::Referenced { .. })
    ));
    // A kind outside the cascade refuses it all, and nothing is deleted.
    assert!(matches!(
        store
            .delete_cascade(Kind::VpnGateway, &s, "vpn-cas", &routes)
            .await,
        Err(StoreError::Referenced {
            kind: Kind::VpnConnection,
            ..
        })
    ));
    assert!(
        store
            .get(Kind::VpnRoute, &s, "vpn-cas/dbr/a")
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .delete_cascade(Kind::VpnConnection, &s, "vco-none", &routes)
            .await,
        Err(StoreError::NotFound)
    ));
    let mut gone = store
        .delete_cascade(Kind::VpnConnection, &s, "vco-cas", &routes)
        .await
        .unwrap();
    gone.sort();
    assert_eq!(gone, ["vco-cas/custom/a", "vpn-cas/dbr/a", "vpn-cas/pbr/a"]);
    for (kind, id) in [
        (Kind::VpnConnection, "vco-cas"),
        (Kind::VpnRoute, "vpn-cas/dbr/a"),
        (Kind::VpnPbrRoute, "vpn-cas/pbr/a"),
        (Kind::VcoRoute, "vco-cas/custom/a"),
    ] {
        assert!(store.get(kind, &s, id).await.unwrap().is_none(), "{id}");
    }
    // The other connection's route and the gateway are untouched, and the
    // customer gateway is free again.
    assert!(
        store
            .get(Kind::VpnRoute, &s, "vpn-cas/dbr/b")
            .await
            .unwrap()
            .is_some()
    );
    let mut q = ListQuery::new(Kind::VpnRoute, s.clone(), 0);
    q.parent_id = Some("vpn-cas".into());
    assert_eq!(store.list(&q).await.unwrap().total, 1);
    store
        .delete(Kind::CustomerGateway, &s, "cgw-cas")
        .await
        .unwrap();
    // A cascaded record that a third record needs refuses the delete too.
    insert(Kind::VpnRoute, "vpn-cas/dbr/c", &["vpn-cas", "vco-cas2"])
        .await
        .unwrap();
    insert(Kind::VcoRoute, "x/custom/x", &["vpn-cas/dbr/c"])
        .await
        .unwrap();
    assert!(matches!(
        store
            .delete_cascade(Kind::VpnConnection, &s, "vco-cas2", &routes)
            .await,
        Err(StoreError::Referenced { kind: Kind::VcoRoute, id }) if id == "x/custom/x"
    ));
    store
        .delete(Kind::VcoRoute, &s, "x/custom/x")
        .await
        .unwrap();
    let gone = store
        .delete_cascade(Kind::VpnConnection, &s, "vco-cas2", &routes)
        .await
        .unwrap();
    assert_eq!(gone.len(), 2);
    store.delete(Kind::VpnGateway, &s, "vpn-cas").await.unwrap();
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
    // A lost root key is replaced: the old one stops at once.
    let new_key = AccessKeyRecord {
        id: "LTAInewroot".into(),
        created_ms: 2,
        ..key.clone()
    };
    assert_eq!(
        store.replace_root_keys(new_key.clone()).await.unwrap(),
        vec!["LTAIkey".to_owned()]
    );
    assert_eq!(store.access_key("LTAIkey").await.unwrap(), None);
    assert_eq!(
        store.access_key("LTAInewroot").await.unwrap(),
        Some(new_key)
    );
    let nobody = AccessKeyRecord {
        id: "LTAInobody".into(),
        account_id: "9999999999999999".into(),
        ..key
    };
    assert!(matches!(
        store.replace_root_keys(nobody).await,
        Err(StoreError::NotFound)
    ));
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

// ---- RAM identities, policies, attachments, STS -----------------------------

fn ram_user(account: &str, id: &str, name: &str) -> crate::identity::UserRecord {
    crate::identity::UserRecord {
        account_id: account.into(),
        user_id: id.into(),
        name: name.into(),
        display_name: name.into(),
        email: String::new(),
        mobile_phone: String::new(),
        comments: String::new(),
        created_ms: 1,
        updated_ms: 1,
    }
}

fn user_key(account: &str, id: &str, user: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        id: id.into(),
        account_id: account.into(),
        principal: user.into(),
        secret: "sealed".into(),
        status: "Active".into(),
        created_ms: 2,
    }
}

fn target(
    kind: crate::identity::PrincipalKind,
    principal: &str,
    policy_kind: crate::identity::PolicyKind,
    policy: &str,
) -> crate::identity::AttachTarget {
    crate::identity::AttachTarget {
        kind,
        principal: principal.into(),
        policy_kind,
        policy: policy.into(),
    }
}

async fn ram_identities(store: &dyn Store) {
    use crate::identity::{
        Dependent, GroupRecord, PolicyKind as PK, PolicyRecord, PrincipalKind as K, RoleRecord,
        StsCredentialRecord, UserUpdate,
    };
    let (a, b) = ("5000000000000001", "5000000000000002");
    for acct in [a, b] {
        let account = AccountRecord {
            id: acct.into(),
            name: format!("ram-{acct}"),
            created_ms: 1,
        };
        store
            .create_account(account, user_key(acct, &format!("LTAIroot{acct}"), "root"))
            .await
            .unwrap();
    }

    // Users: unique per account, invisible from another account.
    store.create_user(ram_user(a, "u1", "alice")).await.unwrap();
    assert!(matches!(
        store.create_user(ram_user(a, "u2", "alice")).await,
        Err(StoreError::AlreadyExists)
    ));
    store.create_user(ram_user(b, "u3", "alice")).await.unwrap();
    assert_eq!(
        store.get_user(a, "alice").await.unwrap().unwrap().user_id,
        "u1"
    );
    assert_eq!(
        store.get_user(b, "alice").await.unwrap().unwrap().user_id,
        "u3"
    );
    assert!(store.get_user(a, "nobody").await.unwrap().is_none());
    for i in 0..4 {
        store
            .create_user(ram_user(a, &format!("p{i}"), &format!("page{i}")))
            .await
            .unwrap();
    }
    let first = store.list_users(a, None, 3).await.unwrap();
    assert_eq!(first.items.len(), 3);
    let marker = first.next_marker.clone().unwrap();
    let rest = store.list_users(a, Some(&marker), 3).await.unwrap();
    assert_eq!(rest.items.len(), 2);
    assert!(rest.next_marker.is_none());
    assert_eq!(store.list_users(b, None, 100).await.unwrap().items.len(), 1);

    // Access keys: at most N per user, only the user's own account.
    store
        .create_user_access_key(user_key(a, "LTAIk1", "alice"), 2)
        .await
        .unwrap();
    store
        .create_user_access_key(user_key(a, "LTAIk2", "alice"), 2)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_user_access_key(user_key(a, "LTAIk3", "alice"), 2)
            .await,
        Err(StoreError::QuotaExceeded { limit: 2 })
    ));
    assert!(matches!(
        store
            .create_user_access_key(user_key(a, "LTAIk4", "ghost"), 2)
            .await,
        Err(StoreError::MissingLink(_))
    ));
    assert_eq!(store.list_access_keys(a, "alice").await.unwrap().len(), 2);
    assert!(store.list_access_keys(b, "alice").await.unwrap().is_empty());
    store
        .set_access_key_status(a, "alice", "LTAIk1", "Inactive")
        .await
        .unwrap();
    assert_eq!(
        store.access_key("LTAIk1").await.unwrap().unwrap().status,
        "Inactive"
    );
    assert!(matches!(
        store
            .set_access_key_status(b, "alice", "LTAIk1", "Active")
            .await,
        Err(StoreError::NotFound)
    ));

    // Renaming a user renames its keys' principal.
    let renamed = store
        .update_user(
            a,
            "alice",
            UserUpdate {
                name: Some("alice2".into()),
                comments: Some("hi".into()),
                updated_ms: 9,
                ..UserUpdate::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (renamed.name.as_str(), renamed.comments.as_str()),
        ("alice2", "hi")
    );
    assert_eq!(
        store.access_key("LTAIk2").await.unwrap().unwrap().principal,
        "alice2"
    );
    assert!(matches!(
        store
            .update_user(
                a,
                "alice2",
                UserUpdate {
                    name: Some("page0".into()),
                    ..UserUpdate::default()
                }
            )
            .await,
        Err(StoreError::AlreadyExists)
    ));

    // Groups and membership.
    let group = GroupRecord {
        account_id: a.into(),
        group_id: "g1".into(),
        name: "ops".into(),
        comments: String::new(),
        created_ms: 3,
        updated_ms: 3,
    };
    store.create_group(group.clone()).await.unwrap();
    assert!(matches!(
        store.create_group(group.clone()).await,
        Err(StoreError::AlreadyExists)
    ));
    store
        .add_user_to_group(a, "ops", "alice2", 4, 5)
        .await
        .unwrap();
    assert!(matches!(
        store.add_user_to_group(a, "ops", "alice2", 4, 5).await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(matches!(
        store.add_user_to_group(b, "ops", "alice", 4, 5).await,
        Err(StoreError::MissingLink(_))
    ));
    let groups = store.list_groups_for_user(a, "alice2").await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (groups[0].group.name.as_str(), groups[0].joined_ms),
        ("ops", 4)
    );

    // Roles.
    let role = RoleRecord {
        account_id: a.into(),
        role_id: "r1".into(),
        name: "admin".into(),
        description: String::new(),
        trust_policy: "{}".into(),
        max_session_duration: 3600,
        created_ms: 5,
        updated_ms: 5,
    };
    store.create_role(role.clone()).await.unwrap();
    assert!(matches!(
        store.create_role(role).await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(store.get_role(b, "admin").await.unwrap().is_none());
    assert_eq!(store.list_roles(a, None, 10).await.unwrap().items.len(), 1);

    // Custom policies and versions.
    let policy = PolicyRecord {
        account_id: a.into(),
        name: "vpn-read".into(),
        description: "d".into(),
        default_version: "v1".into(),
        attachment_count: 0,
        created_ms: 6,
        updated_ms: 6,
    };
    store
        .create_policy(policy.clone(), "doc1".into(), 0)
        .await
        .unwrap();
    assert!(matches!(
        store.create_policy(policy.clone(), "doc1".into(), 0).await,
        Err(StoreError::AlreadyExists)
    ));
    let v2 = store
        .create_policy_version(a, "vpn-read", "doc2".into(), false, 7, 3)
        .await
        .unwrap();
    assert_eq!((v2.version_id.as_str(), v2.is_default), ("v2", false));
    let (p, default) = store.get_policy(a, "vpn-read").await.unwrap().unwrap();
    assert_eq!(
        (p.default_version.as_str(), default.document.as_str()),
        ("v1", "doc1")
    );
    let v3 = store
        .create_policy_version(a, "vpn-read", "doc3".into(), true, 8, 3)
        .await
        .unwrap();
    assert_eq!(v3.version_id, "v3");
    let (_, default) = store.get_policy(a, "vpn-read").await.unwrap().unwrap();
    assert_eq!(default.document, "doc3");
    assert!(matches!(
        store
            .create_policy_version(a, "vpn-read", "doc4".into(), true, 9, 3)
            .await,
        Err(StoreError::QuotaExceeded { limit: 3 })
    ));
    assert!(store.get_policy(b, "vpn-read").await.unwrap().is_none());

    // Attachments; what applies to a user includes its groups' policies.
    store
        .attach_policy(a, target(K::User, "alice2", PK::Custom, "vpn-read"), 10, 0)
        .await
        .unwrap();
    assert!(matches!(
        store
            .attach_policy(a, target(K::User, "alice2", PK::Custom, "vpn-read"), 10, 0)
            .await,
        Err(StoreError::AlreadyExists)
    ));
    assert!(matches!(
        store
            .attach_policy(a, target(K::User, "alice2", PK::Custom, "nope"), 10, 0)
            .await,
        Err(StoreError::MissingLink(_))
    ));
    assert!(matches!(
        store
            .attach_policy(
                b,
                target(K::User, "ghost", PK::System, "AdministratorAccess"),
                10,
                0
            )
            .await,
        Err(StoreError::MissingLink(_))
    ));
    store
        .attach_policy(
            a,
            target(K::Group, "ops", PK::System, "AliyunVPCReadOnlyAccess"),
            11,
            0,
        )
        .await
        .unwrap();
    store
        .attach_policy(a, target(K::Role, "admin", PK::Custom, "vpn-read"), 12, 0)
        .await
        .unwrap();
    let eff = store
        .effective_policies(a, K::User, "alice2")
        .await
        .unwrap();
    assert_eq!(eff.len(), 2);
    assert!(
        eff.iter()
            .any(|p| p.policy_name == "vpn-read" && p.document.as_deref() == Some("doc3"))
    );
    assert!(
        eff.iter()
            .any(|p| p.policy_name == "AliyunVPCReadOnlyAccess"
                && p.policy_kind == PK::System
                && p.document.is_none())
    );
    assert!(
        store
            .effective_policies(b, K::User, "alice")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.list_attachments(a, K::User, "alice2").await.unwrap()[0].default_version,
        "v3"
    );
    let (p, _) = store.get_policy(a, "vpn-read").await.unwrap().unwrap();
    assert_eq!(p.attachment_count, 2);

    // Deletes are refused while something depends on the entity.
    assert!(matches!(
        store.delete_user(a, "alice2").await,
        Err(StoreError::InUse(Dependent::UserAccessKey))
    ));
    store
        .delete_access_key(a, "alice2", "LTAIk1")
        .await
        .unwrap();
    store
        .delete_access_key(a, "alice2", "LTAIk2")
        .await
        .unwrap();
    assert!(matches!(
        store.delete_access_key(a, "alice2", "LTAIk2").await,
        Err(StoreError::NotFound)
    ));
    assert!(store.access_key("LTAIk1").await.unwrap().is_none());
    assert!(matches!(
        store.delete_user(a, "alice2").await,
        Err(StoreError::InUse(Dependent::AttachedPolicy(K::User)))
    ));
    assert!(matches!(
        store.delete_policy(a, "vpn-read", false).await,
        Err(StoreError::InUse(Dependent::PolicyAttachment(K::User)))
    ));
    store
        .detach_policy(a, target(K::User, "alice2", PK::Custom, "vpn-read"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .detach_policy(a, target(K::User, "alice2", PK::Custom, "vpn-read"))
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_user(a, "alice2").await,
        Err(StoreError::InUse(Dependent::UserGroup))
    ));
    assert!(matches!(
        store.delete_group(a, "ops").await,
        Err(StoreError::InUse(Dependent::GroupUser))
    ));
    store
        .remove_user_from_group(a, "ops", "alice2")
        .await
        .unwrap();
    assert!(matches!(
        store.remove_user_from_group(a, "ops", "alice2").await,
        Err(StoreError::NotFound)
    ));
    store.delete_user(a, "alice2").await.unwrap();
    assert!(matches!(
        store.delete_user(a, "alice2").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.delete_group(a, "ops").await,
        Err(StoreError::InUse(Dependent::AttachedPolicy(K::Group)))
    ));
    assert!(matches!(
        store.delete_role(a, "admin").await,
        Err(StoreError::InUse(Dependent::AttachedPolicy(K::Role)))
    ));
    store
        .detach_policy(a, target(K::Role, "admin", PK::Custom, "vpn-read"))
        .await
        .unwrap();
    store.delete_role(a, "admin").await.unwrap();
    assert!(matches!(
        store.delete_policy(a, "vpn-read", false).await,
        Err(StoreError::InUse(Dependent::PolicyVersion))
    ));
    store.delete_policy(a, "vpn-read", true).await.unwrap();
    assert!(store.get_policy(a, "vpn-read").await.unwrap().is_none());
    assert!(store.list_policies(a).await.unwrap().is_empty());

    // STS credentials: sessions of one role (by id), gone with it.
    let sts_role = RoleRecord {
        account_id: a.into(),
        role_id: "r2".into(),
        name: "deployer".into(),
        description: String::new(),
        trust_policy: "{}".into(),
        max_session_duration: 3600,
        created_ms: 5,
        updated_ms: 5,
    };
    store.create_role(sts_role.clone()).await.unwrap();
    let cred = StsCredentialRecord {
        access_key_id: "STS.test".into(),
        account_id: a.into(),
        secret: "sealed".into(),
        token_sha256: "ab".into(),
        role_id: "r2".into(),
        role_name: "deployer".into(),
        session_name: "s".into(),
        session_policy: None,
        created_ms: 100,
        expires_ms: 200,
    };
    // The deleted role "admin" (r1) gets no more sessions.
    let of_deleted = StsCredentialRecord {
        access_key_id: "STS.orphan".into(),
        role_id: "r1".into(),
        role_name: "admin".into(),
        ..cred.clone()
    };
    assert!(matches!(
        store.create_sts_credential(of_deleted).await,
        Err(StoreError::MissingLink(l)) if l == "role"
    ));
    // Another account's role of that id is not this account's.
    let other_account = StsCredentialRecord {
        access_key_id: "STS.other".into(),
        account_id: b.into(),
        ..cred.clone()
    };
    assert!(matches!(
        store.create_sts_credential(other_account).await,
        Err(StoreError::MissingLink(_))
    ));
    store.create_sts_credential(cred.clone()).await.unwrap();
    assert_eq!(
        store.sts_credential("STS.test").await.unwrap(),
        Some(cred.clone())
    );
    assert!(!format!("{cred:?}").contains("sealed"));
    // A much later insert forgets long-expired credentials.
    let mut later = cred.clone();
    later.access_key_id = "STS.later".into();
    later.created_ms = 200 + crate::identity::STS_RETENTION_MS + 1;
    later.expires_ms = later.created_ms + 1000;
    store.create_sts_credential(later).await.unwrap();
    assert!(store.sts_credential("STS.test").await.unwrap().is_none());
    // Deleting the role deletes its sessions at once; a role re-created
    // under the same name has none of them.
    let mut again = cred.clone();
    again.access_key_id = "STS.again".into();
    store.create_sts_credential(again).await.unwrap();
    assert!(store.sts_credential("STS.again").await.unwrap().is_some());
    store.delete_role(a, "deployer").await.unwrap();
    assert!(store.sts_credential("STS.again").await.unwrap().is_none());
    assert!(store.sts_credential("STS.later").await.unwrap().is_none());
    store
        .create_role(RoleRecord {
            role_id: "r3".into(),
            ..sts_role
        })
        .await
        .unwrap();
    assert!(store.sts_credential("STS.again").await.unwrap().is_none());
}
