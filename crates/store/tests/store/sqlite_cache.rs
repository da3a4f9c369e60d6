//! The SQLite store's read caches (src/sqlite/cache.rs) never answer what
//! SQLite would not: each test reads first (so the value is cached), then
//! changes it, then reads again; and readers running beside a writer never
//! see a record go back in time.

#![allow(clippy::unwrap_used)]

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicI64, Ordering},
};

use vpngw_store::{
    AccessKeyRecord, AccountRecord, InsertGuard, Kind, Record, Scope, Store,
    identity::{AttachTarget, PolicyKind, PrincipalKind, UserRecord},
    sqlite::SqliteStore,
};

fn scope() -> Scope {
    Scope {
        account_id: "a".into(),
        region_id: "cn-hangzhou".into(),
    }
}

fn record(id: &str, n: i64) -> Record {
    Record {
        kind: Kind::CustomerGateway,
        id: id.into(),
        account_id: "a".into(),
        region_id: "cn-hangzhou".into(),
        parent_id: None,
        links: vec![],
        resource_group_id: "rg".into(),
        status: None,
        version: 1,
        doc: format!("{{\"n\":{n}}}"),
    }
}

fn n_of(r: &Record) -> i64 {
    let v: serde_json::Value = serde_json::from_str(&r.doc).unwrap();
    v["n"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_read_after_a_write_are_the_written_ones() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let s = scope();
    store
        .insert(record("cgw-1", 0), InsertGuard::default())
        .await
        .unwrap();
    let mut current = store
        .get(Kind::CustomerGateway, &s, "cgw-1")
        .await
        .unwrap()
        .unwrap();
    for n in 1..=20 {
        // Read twice (the second read is the cache's), then update.
        for _ in 0..2 {
            let seen = store
                .get(Kind::CustomerGateway, &s, "cgw-1")
                .await
                .unwrap()
                .unwrap();
            assert_eq!(seen, current);
        }
        let mut next = current.clone();
        next.doc = format!("{{\"n\":{n}}}");
        current = store.update(next).await.unwrap();
        assert_eq!(current.version, n + 1);
    }
    let seen = store
        .get(Kind::CustomerGateway, &s, "cgw-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((seen.version, n_of(&seen)), (21, 20));
    // Another scope or kind never gets it, cached or not.
    let other = Scope {
        account_id: "b".into(),
        region_id: "cn-hangzhou".into(),
    };
    assert!(
        store
            .get(Kind::CustomerGateway, &other, "cgw-1")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get(Kind::VpnGateway, &s, "cgw-1")
            .await
            .unwrap()
            .is_none()
    );
    store
        .delete(Kind::CustomerGateway, &s, "cgw-1")
        .await
        .unwrap();
    assert!(
        store
            .get(Kind::CustomerGateway, &s, "cgw-1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cascaded_deletes_leave_nothing_cached() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let s = scope();
    let mut gw = record("vpn-1", 0);
    gw.kind = Kind::VpnGateway;
    store.insert(gw, InsertGuard::default()).await.unwrap();
    let mut child = record("vco-1", 0);
    child.kind = Kind::VpnConnection;
    child.parent_id = Some("vpn-1".into());
    child.links = vec!["vpn-1".into()];
    store.insert(child, InsertGuard::default()).await.unwrap();
    for _ in 0..2 {
        assert!(
            store
                .get(Kind::VpnConnection, &s, "vco-1")
                .await
                .unwrap()
                .is_some()
        );
    }
    let gone = store
        .delete_cascade(Kind::VpnGateway, &s, "vpn-1", &[Kind::VpnConnection])
        .await
        .unwrap();
    assert_eq!(gone, vec!["vco-1".to_owned()]);
    assert!(
        store
            .get(Kind::VpnConnection, &s, "vco-1")
            .await
            .unwrap()
            .is_none()
    );
}

/// Readers beside a writer: a read that starts after an update was
/// acknowledged sees it (or a later one), and no reader ever sees a version
/// older than one it saw before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_beside_a_writer_never_go_back_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    store
        .insert(record("cgw-hot", 0), InsertGuard::default())
        .await
        .unwrap();
    let acknowledged = Arc::new(AtomicI64::new(1));
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..4 {
        let (store, acknowledged, done) = (store.clone(), acknowledged.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let s = scope();
            let (mut last, mut reads) = (0, 0u64);
            while !done.load(Ordering::Acquire) {
                let floor = acknowledged.load(Ordering::Acquire);
                let r = store
                    .get(Kind::CustomerGateway, &s, "cgw-hot")
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    r.version >= floor,
                    "read version {} after {floor} was acknowledged",
                    r.version
                );
                assert!(r.version >= last, "went back from {last} to {}", r.version);
                assert_eq!(n_of(&r), r.version - 1, "document and version disagree");
                last = r.version;
                reads += 1;
                if reads % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            reads
        }));
    }
    let s = scope();
    let mut current = store
        .get(Kind::CustomerGateway, &s, "cgw-hot")
        .await
        .unwrap()
        .unwrap();
    for n in 1..=200 {
        let mut next = current.clone();
        next.doc = format!("{{\"n\":{n}}}");
        current = store.update(next).await.unwrap();
        acknowledged.store(current.version, Ordering::Release);
        if n % 10 == 0 {
            // Quiet moments, so that the cache fills between writes.
            tokio::task::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(2)))
                .await
                .unwrap();
        }
    }
    done.store(true, Ordering::Release);
    let mut total = 0;
    for r in readers {
        total += r.await.unwrap();
    }
    assert!(total > 0);
    let last = store
        .get(Kind::CustomerGateway, &s, "cgw-hot")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.version, 201);
}

fn key(id: &str, principal: &str) -> AccessKeyRecord {
    AccessKeyRecord {
        id: id.into(),
        account_id: "5000000000000001".into(),
        principal: principal.into(),
        secret: "sealed".into(),
        status: "Active".into(),
        created_ms: 1,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_changes_are_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let a = "5000000000000001";
    store
        .create_account(
            AccountRecord {
                id: a.into(),
                name: "cache".into(),
                created_ms: 1,
            },
            key("LTAIroot", "root"),
        )
        .await
        .unwrap();
    // An unknown key is not remembered as unknown.
    assert!(store.access_key("LTAIuser").await.unwrap().is_none());
    store
        .create_user(UserRecord {
            account_id: a.into(),
            user_id: "u1".into(),
            name: "alice".into(),
            display_name: "alice".into(),
            email: String::new(),
            mobile_phone: String::new(),
            comments: String::new(),
            created_ms: 1,
            updated_ms: 1,
        })
        .await
        .unwrap();
    store
        .create_user_access_key(key("LTAIuser", "alice"), 2)
        .await
        .unwrap();
    for _ in 0..2 {
        let k = store.access_key("LTAIuser").await.unwrap().unwrap();
        assert_eq!(k.status, "Active");
    }
    store
        .set_access_key_status(a, "alice", "LTAIuser", "Inactive")
        .await
        .unwrap();
    assert_eq!(
        store.access_key("LTAIuser").await.unwrap().unwrap().status,
        "Inactive"
    );
    store
        .delete_access_key(a, "alice", "LTAIuser")
        .await
        .unwrap();
    assert!(store.access_key("LTAIuser").await.unwrap().is_none());

    // Policies: attached and detached, seen by the next read.
    assert!(policies(&store, a).await.is_empty());
    assert!(policies(&store, a).await.is_empty());
    let target = AttachTarget {
        kind: PrincipalKind::User,
        principal: "alice".into(),
        policy_kind: PolicyKind::System,
        policy: "AliyunVPCReadOnlyAccess".into(),
    };
    store.attach_policy(a, target.clone(), 2, 10).await.unwrap();
    assert_eq!(policies(&store, a).await, ["AliyunVPCReadOnlyAccess"]);
    assert_eq!(policies(&store, a).await, ["AliyunVPCReadOnlyAccess"]);
    store.detach_policy(a, target).await.unwrap();
    assert!(policies(&store, a).await.is_empty());
}

async fn policies(store: &SqliteStore, account: &str) -> Vec<String> {
    store
        .effective_policies(account, PrincipalKind::User, "alice")
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.policy_name)
        .collect()
}
