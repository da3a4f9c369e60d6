//! The store conformance suite and the cross-replica guarantees, against a
//! real PostgreSQL named by `VPNGW_TEST_DATABASE_URL` (each test gets a fresh
//! schema, dropped afterwards). Without that variable every test prints why
//! it is skipped and passes; `.ci/run` and `scripts/test` set it.
//!
//! "Replicas" here are two `PgStore`s with their own pools on one database,
//! exactly what two `vpngw serve` processes have.

#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicU32, Ordering};

use vpngw_store::{
    AccessKeyRecord, AccountRecord, AuditEvent, AuditQuery, Idempotency, InsertGuard, Inserted,
    Kind, ListQuery, Quota, Record, Scope, Store, StoreError,
};
use vpngw_store_postgres::{PgOptions, PgStore};

const URL_VAR: &str = "VPNGW_TEST_DATABASE_URL";

/// A fresh schema on the test database, dropped when this goes out of scope.
struct TestDb {
    url: String,
    schema: String,
}

impl TestDb {
    /// `None` (after saying so) when no test database is configured.
    fn new(test: &str) -> Option<TestDb> {
        let Ok(url) = std::env::var(URL_VAR) else {
            println!(
                "skipping {test}: {URL_VAR} is not set \
                 (e.g. postgres://vpngw:vpngw@127.0.0.1:5432/vpngw_test; scripts/test sets it up)"
            );
            return None;
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let schema = format!(
            "vpngw_t{}_{}_{}",
            std::process::id(),
            nanos,
            N.fetch_add(1, Ordering::Relaxed)
        );
        Some(TestDb { url, schema })
    }

    async fn store(&self) -> PgStore {
        PgStore::connect_with(
            &self.url,
            PgOptions {
                schema: Some(self.schema.clone()),
                // Small pools: tests run in parallel against one server (max_connections 100).
                max_connections: 4,
                // The conformance suite resets the store, racing writes.
                resettable: true,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("connecting to {URL_VAR}: {e}"))
    }

    /// A raw connection for checks behind the store's back.
    async fn raw(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .batch_execute(&format!("SET search_path = {}", self.schema))
            .await
            .unwrap();
        client
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::env::var_os("VPNGW_TEST_KEEP").is_some() {
            println!("kept schema {}", self.schema);
            return;
        }
        let (url, schema) = (self.url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .await;
                }
            });
        })
        .join();
    }
}

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
        doc: format!(r#"{{"id":"{id}","ip_address":"203.0.113.9"}}"#),
    }
}

/// Runs `n` tasks, alternating between the two stores; task `i` gets
/// `(store, i)`.
async fn race<T, F, Fut>(a: &PgStore, b: &PgStore, n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(PgStore, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let store = if i % 2 == 0 { a.clone() } else { b.clone() };
            tokio::spawn(f(store, i))
        })
        .collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_conformance_suite() {
    let Some(db) = TestDb::new("postgres_passes_the_conformance_suite") else {
        return;
    };
    let store = db.store().await;
    vpngw_store::conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn writes_commit_durably_and_only_nonces_may_not() {
    let Some(db) = TestDb::new("writes_commit_durably_and_only_nonces_may_not") else {
        return;
    };
    let store = db.store().await;
    assert_eq!(
        store
            .session_setting(false, "synchronous_commit")
            .await
            .unwrap(),
        "on"
    );
    assert_eq!(
        store
            .session_setting(true, "synchronous_commit")
            .await
            .unwrap(),
        "off"
    );
    // Both pools see the test's schema.
    assert_eq!(
        store.session_setting(true, "search_path").await.unwrap(),
        db.schema
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_starting_together_migrate_once() {
    let Some(db) = TestDb::new("replicas_starting_together_migrate_once") else {
        return;
    };
    let (a, b, c) = tokio::join!(db.store(), db.store(), db.store());
    a.insert(
        record(Kind::CustomerGateway, "cgw-m", "m", &[]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    assert!(
        c.get(Kind::CustomerGateway, &scope("m"), "cgw-m")
            .await
            .unwrap()
            .is_some()
    );
    drop(b);
    let raw = db.raw().await;
    let versions: i64 = raw
        .query_one("SELECT COUNT(*) FROM vpngw_schema", &[])
        .await
        .unwrap()
        .get(0);
    let distinct: i64 = raw
        .query_one("SELECT COUNT(DISTINCT version) FROM vpngw_schema", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(versions, distinct);
    assert!(versions >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_on_one_replica_is_read_on_the_other_at_once() {
    let Some(db) = TestDb::new("a_write_on_one_replica_is_read_on_the_other_at_once") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    let s = scope("rw");
    a.insert(
        record(Kind::VpnGateway, "vpn-rw", "rw", &[]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    let seen = b
        .get(Kind::VpnGateway, &s, "vpn-rw")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.version, 1);
    let mut changed = seen.clone();
    changed.doc = r#"{"id":"vpn-rw","name":"from-b"}"#.into();
    b.update(changed).await.unwrap();
    let seen = a
        .get(Kind::VpnGateway, &s, "vpn-rw")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.version, 2);
    assert!(seen.doc.contains("from-b"));
    // A writer on A that read version 1 loses to B's write.
    let mut stale = record(Kind::VpnGateway, "vpn-rw", "rw", &[]);
    stale.doc = r#"{"id":"vpn-rw","name":"stale"}"#.into();
    assert!(matches!(
        a.update(stale).await,
        Err(StoreError::VersionConflict)
    ));
    // Links made on one replica hold deletes on the other.
    b.insert(
        record(Kind::VpnConnection, "vco-rw", "rw", &["vpn-rw"]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    assert!(matches!(
        a.delete(Kind::VpnGateway, &s, "vpn-rw").await,
        Err(StoreError::Referenced { kind: Kind::VpnConnection, id }) if id == "vco-rw"
    ));
    let mut q = ListQuery::new(Kind::VpnConnection, s.clone(), 0);
    q.parent_id = Some("vpn-rw".into());
    assert_eq!(a.list(&q).await.unwrap().total, 1);
    a.delete(Kind::VpnConnection, &s, "vco-rw").await.unwrap();
    assert!(
        b.get(Kind::VpnConnection, &s, "vco-rw")
            .await
            .unwrap()
            .is_none()
    );
    b.delete(Kind::VpnGateway, &s, "vpn-rw").await.unwrap();
    assert_eq!(a.list(&q).await.unwrap().total, 0);
    // Accounts and keys too.
    let account = AccountRecord {
        id: "7000000000000001".into(),
        name: "rw-root".into(),
        created_ms: 1,
    };
    let key = AccessKeyRecord {
        id: "LTAIrw".into(),
        account_id: account.id.clone(),
        principal: "root".into(),
        secret: "sealed".into(),
        status: "Active".into(),
        created_ms: 1,
    };
    a.create_account(account.clone(), key.clone())
        .await
        .unwrap();
    assert_eq!(b.access_key("LTAIrw").await.unwrap(), Some(key.clone()));
    assert!(matches!(
        b.create_account(account, key).await,
        Err(StoreError::AlreadyExists)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_nonce_is_accepted_once_across_replicas() {
    let Some(db) = TestDb::new("a_nonce_is_accepted_once_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    assert!(a.use_nonce("LTAIk", "n-1", 1_000).await.unwrap());
    assert!(!b.use_nonce("LTAIk", "n-1", 1_001).await.unwrap());
    assert!(!a.use_nonce("LTAIk", "n-1", 1_002).await.unwrap());
    // Another key may use the same nonce.
    assert!(b.use_nonce("LTAIother", "n-1", 1_003).await.unwrap());
    // After the window, the nonce is free again (on either replica).
    assert!(
        b.use_nonce("LTAIk", "n-1", 1_000 + vpngw_store::NONCE_WINDOW_MS)
            .await
            .unwrap()
    );
    // 40 concurrent uses of one nonce, split across the replicas: one wins.
    let accepted = race(&a, &b, 40, |s, _| async move {
        s.use_nonce("LTAIk", "n-race", 5_000).await.unwrap()
    })
    .await;
    assert_eq!(accepted.iter().filter(|ok| **ok).count(), 1);
    // Nonces and ids carrying NUL (PostgreSQL text cannot) are handled, not errors.
    assert!(a.use_nonce("LTAIk", "nul\0nonce", 6_000).await.unwrap());
    assert!(!b.use_nonce("LTAIk", "nul\0nonce", 6_001).await.unwrap());
    assert!(a.access_key("LTAI\0").await.unwrap().is_none());
    assert!(
        a.get(Kind::VpnGateway, &scope("x"), "vpn-\0")
            .await
            .unwrap()
            .is_none()
    );
    // Expired nonces are purged (in the background, about once a minute).
    let raw = db.raw().await;
    let far = 100 * vpngw_store::NONCE_WINDOW_MS;
    a.use_nonce("LTAIk", "late", far).await.unwrap();
    let mut left = i64::MAX;
    for _ in 0..100 {
        left = raw
            .query_one(
                "SELECT COUNT(*) FROM nonces WHERE expires_ms <= $1",
                &[&far],
            )
            .await
            .unwrap()
            .get(0);
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(left, 0, "expired nonces were not purged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_tokens_replay_across_replicas() {
    let Some(db) = TestDb::new("client_tokens_replay_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    let guard = |token: &str, fingerprint: &str| InsertGuard {
        idempotency: Some(Idempotency {
            token: token.into(),
            fingerprint: fingerprint.into(),
        }),
        ..Default::default()
    };
    assert_eq!(
        a.insert(
            record(Kind::CustomerGateway, "cgw-t1", "tok", &[]),
            guard("t", "f")
        )
        .await
        .unwrap(),
        Inserted::Created
    );
    assert_eq!(
        b.insert(
            record(Kind::CustomerGateway, "cgw-t2", "tok", &[]),
            guard("t", "f")
        )
        .await
        .unwrap(),
        Inserted::Replayed {
            id: "cgw-t1".into()
        }
    );
    assert!(matches!(
        b.insert(
            record(Kind::CustomerGateway, "cgw-t3", "tok", &[]),
            guard("t", "g")
        )
        .await,
        Err(StoreError::IdempotencyMismatch)
    ));
    // 32 concurrent requests with one new token: one creates, all others
    // replay that one's id, and only one record exists.
    let results = race(&a, &b, 32, move |s, i| async move {
        s.insert(
            record(Kind::CustomerGateway, &format!("cgw-r{i}"), "tok", &[]),
            InsertGuard {
                idempotency: Some(Idempotency {
                    token: "race".into(),
                    fingerprint: "f".into(),
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap()
    })
    .await;
    let created: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| **r == Inserted::Created)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(created.len(), 1, "{results:?}");
    let winner = format!("cgw-r{}", created[0]);
    assert!(results.iter().all(|r| match r {
        Inserted::Created => true,
        Inserted::Replayed { id } => *id == winner,
    }));
    let mut q = ListQuery::new(Kind::CustomerGateway, scope("tok"), 0);
    q.limit = 100;
    assert_eq!(a.list(&q).await.unwrap().total, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quotas_hold_across_replicas() {
    let Some(db) = TestDb::new("quotas_hold_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    // Per scope: 5 of 48 concurrent creates succeed.
    let results = race(&a, &b, 48, |s, i| async move {
        s.insert(
            record(Kind::VpnGateway, &format!("vpn-q{i}"), "quota", &[]),
            InsertGuard {
                quota: Some(Quota {
                    limit: 5,
                    per_parent: false,
                }),
                ..Default::default()
            },
        )
        .await
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::QuotaExceeded { limit: 5 })))
    );
    let q = ListQuery::new(Kind::VpnGateway, scope("quota"), 0);
    assert_eq!(b.list(&q).await.unwrap().total, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn per_parent_quotas_and_unique_fields_hold_across_replicas() {
    let Some(db) = TestDb::new("per_parent_quotas_and_unique_fields_hold_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    a.insert(
        record(Kind::VpnGateway, "vpn-p", "pp", &[]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    let results = race(&a, &b, 32, |s, i| async move {
        s.insert(
            record(Kind::VpnConnection, &format!("vco-p{i}"), "pp", &["vpn-p"]),
            InsertGuard {
                quota: Some(Quota {
                    limit: 3,
                    per_parent: true,
                }),
                ..Default::default()
            },
        )
        .await
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        3,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::QuotaExceeded { limit: 3 })))
    );
    let mut q = ListQuery::new(Kind::VpnConnection, scope("pp"), 0);
    q.parent_id = Some("vpn-p".into());
    assert_eq!(a.list(&q).await.unwrap().total, 3);

    // One customer gateway per IP address, whoever asks first.
    let results = race(&a, &b, 24, |s, i| async move {
        s.insert(
            record(Kind::CustomerGateway, &format!("cgw-u{i}"), "pp", &[]),
            InsertGuard {
                unique: vec![("ip_address", "203.0.113.9".into())],
                ..Default::default()
            },
        )
        .await
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::Duplicate)))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn versions_and_links_hold_across_replicas() {
    let Some(db) = TestDb::new("versions_and_links_hold_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    let s = scope("ver");
    a.insert(
        record(Kind::VpnGateway, "vpn-v", "ver", &[]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    // 32 writers that all read version 1: exactly one wins.
    let results = race(&a, &b, 32, |s, i| async move {
        let mut r = record(Kind::VpnGateway, "vpn-v", "ver", &[]);
        r.doc = format!(r#"{{"writer":{i}}}"#);
        s.update(r).await
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter(|r| r.is_err())
            .all(|r| matches!(r, Err(StoreError::VersionConflict)))
    );
    // Read-modify-write loops on both replicas lose no update.
    let bumps = race(&a, &b, 16, |s, _| async move {
        let scope = scope("ver");
        loop {
            let cur = s
                .get(Kind::VpnGateway, &scope, "vpn-v")
                .await
                .unwrap()
                .unwrap();
            let n: u64 = serde_json::from_str::<serde_json::Value>(&cur.doc).unwrap()["n"]
                .as_u64()
                .unwrap_or(0);
            let mut next = cur.clone();
            next.doc = format!(r#"{{"n":{}}}"#, n + 1);
            match s.update(next).await {
                Ok(_) => return,
                Err(StoreError::VersionConflict) => continue,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await;
    assert_eq!(bumps.len(), 16);
    let end = b.get(Kind::VpnGateway, &s, "vpn-v").await.unwrap().unwrap();
    let n = serde_json::from_str::<serde_json::Value>(&end.doc).unwrap()["n"].as_u64();
    assert_eq!(n, Some(16), "lost updates: {}", end.doc);

    // A link on one replica and a delete of its target on the other never
    // both succeed.
    for round in 0..10 {
        let gw = format!("vpn-l{round}");
        a.insert(
            record(Kind::VpnGateway, &gw, "ver", &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
        let (linker, deleter) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let child = record(Kind::VpnConnection, &format!("vco-l{round}"), "ver", &[&gw]);
        let (linked, deleted) = tokio::join!(
            linker.insert(child, InsertGuard::default()),
            deleter.delete(Kind::VpnGateway, &s, &gw)
        );
        match (&linked, &deleted) {
            (Ok(_), Err(StoreError::Referenced { .. })) => {}
            (Err(StoreError::MissingLink(_)), Ok(())) => {}
            other => panic!("round {round}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ram_limits_hold_across_replicas() {
    let Some(db) = TestDb::new("ram_limits_hold_across_replicas") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    let acct = "8000000000000001";
    a.create_account(
        AccountRecord {
            id: acct.into(),
            name: "ram".into(),
            created_ms: 1,
        },
        AccessKeyRecord {
            id: "LTAIramroot".into(),
            account_id: acct.into(),
            principal: "root".into(),
            secret: "s".into(),
            status: "Active".into(),
            created_ms: 1,
        },
    )
    .await
    .unwrap();
    a.create_user(vpngw_store::identity::UserRecord {
        account_id: acct.into(),
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
    let results = race(&a, &b, 16, |s, i| async move {
        s.create_user_access_key(
            AccessKeyRecord {
                id: format!("LTAIuser{i}"),
                account_id: "8000000000000001".into(),
                principal: "alice".into(),
                secret: "s".into(),
                status: "Active".into(),
                created_ms: 2,
            },
            2,
        )
        .await
    })
    .await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        2,
        "{results:?}"
    );
    assert_eq!(b.list_access_keys(acct, "alice").await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_logs_are_append_only_and_nul_safe() {
    let Some(db) = TestDb::new("the_logs_are_append_only_and_nul_safe") else {
        return;
    };
    let store = db.store().await;
    let event = AuditEvent {
        time_ms: 1,
        request_id: "req".into(),
        account_id: "acct".into(),
        principal: "root".into(),
        access_key_id: "LTAI\0x".into(),
        source_ip: None,
        product: "Vpc".into(),
        action: "DeleteVpnGateway".into(),
        region_id: Some("cn-hangzhou".into()),
        resource_ids: vec!["vpn-\0bad".into()],
        code: Some("InvalidVpnGatewayInstanceId.NotFound".into()),
    };
    store.append_audit(event).await.unwrap();
    store
        .append_log(vec![vpngw_store::LogEntry {
            account_id: "acct".into(),
            region_id: "cn-hangzhou".into(),
            resource_id: "vco-\0".into(),
            tunnel_id: None,
            time_ms: 1,
            source: "api".into(),
            message: "created \0".into(),
        }])
        .await
        .unwrap();
    let got = store
        .audit_events(&AuditQuery {
            account_id: Some("acct".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].resource_ids, ["vpn-\u{fffd}bad"]);
    let raw = db.raw().await;
    for sql in [
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "UPDATE event_log SET message = 'forged'",
    ] {
        let err = raw.batch_execute(sql).await.unwrap_err();
        let msg = err
            .as_db_error()
            .map(|e| e.message().to_owned())
            .unwrap_or_default();
        assert!(msg.contains("append-only"), "{sql}: {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_change_on_one_replica_wakes_the_watchers_of_the_other() {
    let Some(db) = TestDb::new("a_change_on_one_replica_wakes_the_watchers_of_the_other") else {
        return;
    };
    let (a, b) = (db.store().await, db.store().await);
    a.insert(
        record(Kind::VpnGateway, "vpn-feed", "feed", &[]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    let feed = b.gateway_feed();
    let sub = feed.subscribe("vpn-feed");
    let woken = sub.notify().notified();
    tokio::pin!(woken);
    woken.as_mut().enable();
    let since = b.gateway_changes("vpn-feed", 0).await.unwrap().revision;
    // B's listener may still be connecting: it wakes everyone once it
    // listens, so this cannot be missed either way.
    a.insert(
        record(Kind::VpnConnection, "vco-feed", "feed", &["vpn-feed"]),
        InsertGuard::default(),
    )
    .await
    .unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), woken)
        .await
        .expect("B's watcher woken by A's commit");
    let seen = b.gateway_changes("vpn-feed", since).await.unwrap();
    assert_eq!(seen.revision, since + 1);
    assert_eq!(
        seen.changed,
        Some(vec![(Kind::VpnConnection, "vco-feed".to_owned())])
    );
}
