//! Conformance of `Store::reset`: back to a first start, in one step.
//!
//! Runs last (it empties the store). Everything an earlier check left is
//! gone too, which is part of the point: a reset does not need to know what
//! was written.

use super::{futures_join_all, ram_user, record, scope, target, user_key};
use crate::{
    AccountRecord, AuditEvent, AuditQuery, Idempotency, InsertGuard, Inserted, Kind, ListQuery,
    LogEntry, LogQuery, Store, StoreError,
    identity::{PolicyKind, PolicyRecord, PrincipalKind, RoleRecord, StsCredentialRecord},
};

const KEEP: &str = "7000000000000001";
const OTHER: &str = "7000000000000002";

fn token(t: &str) -> InsertGuard {
    InsertGuard {
        idempotency: Some(Idempotency {
            token: t.into(),
            fingerprint: "f".into(),
        }),
        ..InsertGuard::default()
    }
}

fn log_query(account: &str, resource: &str) -> LogQuery {
    LogQuery {
        scope: scope(account),
        resource_id: resource.into(),
        tunnel_id: None,
        from_ms: 0,
        to_ms: i64::MAX,
        offset: 0,
        limit: 100,
    }
}

fn audit(account: &str) -> AuditEvent {
    AuditEvent {
        time_ms: 5,
        request_id: format!("req-{account}"),
        account_id: account.into(),
        principal: "root".into(),
        access_key_id: format!("LTAIreset{account}"),
        source_ip: None,
        product: "Vpc".into(),
        action: "CreateVpnGateway".into(),
        region_id: Some("cn-hangzhou".into()),
        resource_ids: vec!["vpn-reset".into()],
        code: None,
    }
}

/// What one account writes: linked records, a client token, log entries, a
/// RAM user with a key, a role, a policy, an STS credential, an audit event.
async fn populate(store: &dyn Store, account: &str) {
    store
        .create_account(
            AccountRecord {
                id: account.into(),
                name: format!("reset-{account}"),
                created_ms: 1,
            },
            user_key(account, &format!("LTAIreset{account}"), "root"),
        )
        .await
        .unwrap();
    let gw = format!("vpn-reset{account}");
    let vco = format!("vco-reset{account}");
    store
        .insert(record(Kind::VpnGateway, &gw, account, &[]), token("tok"))
        .await
        .unwrap();
    store
        .insert(
            record(Kind::VpnConnection, &vco, account, &[&gw]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    store
        .append_log(vec![LogEntry {
            account_id: account.into(),
            region_id: "cn-hangzhou".into(),
            resource_id: vco.clone(),
            tunnel_id: None,
            time_ms: 3,
            source: "api".into(),
            message: "created".into(),
        }])
        .await
        .unwrap();
    store
        .create_user(ram_user(account, &format!("u{account}"), "alice"))
        .await
        .unwrap();
    store
        .create_user_access_key(
            user_key(account, &format!("LTAIalice{account}"), "alice"),
            2,
        )
        .await
        .unwrap();
    store
        .create_role(RoleRecord {
            account_id: account.into(),
            role_id: format!("3{account}"),
            name: "ops".into(),
            description: String::new(),
            trust_policy: "{}".into(),
            max_session_duration: 3600,
            created_ms: 1,
            updated_ms: 1,
        })
        .await
        .unwrap();
    store
        .create_policy(
            PolicyRecord {
                account_id: account.into(),
                name: "p".into(),
                description: String::new(),
                default_version: "v1".into(),
                attachment_count: 0,
                created_ms: 1,
                updated_ms: 1,
            },
            r#"{"Version":"1","Statement":[]}"#.into(),
            0,
        )
        .await
        .unwrap();
    store
        .attach_policy(
            account,
            target(PrincipalKind::User, "alice", PolicyKind::Custom, "p"),
            1,
            0,
        )
        .await
        .unwrap();
    store
        .create_sts_credential(StsCredentialRecord {
            access_key_id: format!("STS.reset{account}"),
            account_id: account.into(),
            secret: "sealed".into(),
            token_sha256: "00".into(),
            role_id: format!("3{account}"),
            role_name: "ops".into(),
            session_name: "s".into(),
            session_policy: None,
            created_ms: 1,
            expires_ms: i64::MAX,
        })
        .await
        .unwrap();
    store.append_audit(audit(account)).await.unwrap();
}

pub(super) async fn reset(store: &dyn Store) {
    populate(store, KEEP).await;
    populate(store, OTHER).await;
    // Read through any cache before the reset, so that a stale entry shows.
    let gw = format!("vpn-reset{KEEP}");
    assert!(
        store
            .get(Kind::VpnGateway, &scope(KEEP), &gw)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .access_key(&format!("LTAIalice{KEEP}"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .sts_credential(&format!("STS.reset{KEEP}"))
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .effective_policies(KEEP, PrincipalKind::User, "alice")
            .await
            .unwrap()
            .len(),
        1
    );

    store.reset(KEEP).await.unwrap();

    // The kept account and its root key, nothing else.
    let accounts = store.accounts().await.unwrap();
    assert_eq!(
        accounts.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        [KEEP]
    );
    assert!(
        store
            .access_key(&format!("LTAIreset{KEEP}"))
            .await
            .unwrap()
            .is_some()
    );
    for gone in [
        format!("LTAIreset{OTHER}"),
        format!("LTAIalice{KEEP}"),
        format!("LTAIalice{OTHER}"),
    ] {
        assert_eq!(store.access_key(&gone).await.unwrap(), None, "{gone}");
    }
    for account in [KEEP, OTHER] {
        for kind in [Kind::VpnGateway, Kind::VpnConnection, Kind::CustomerGateway] {
            let page = store
                .list(&ListQuery::new(kind, scope(account), 0))
                .await
                .unwrap();
            assert_eq!(
                (page.total, page.records.len()),
                (0, 0),
                "{kind:?} of {account}"
            );
        }
        assert!(
            store
                .get(
                    Kind::VpnGateway,
                    &scope(account),
                    &format!("vpn-reset{account}")
                )
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.get_user(account, "alice").await.unwrap().is_none());
        assert!(store.get_role(account, "ops").await.unwrap().is_none());
        assert!(store.get_policy(account, "p").await.unwrap().is_none());
        assert!(
            store
                .sts_credential(&format!("STS.reset{account}"))
                .await
                .unwrap()
                .is_none()
        );
        let logs = store
            .list_logs(&log_query(account, &format!("vco-reset{account}")))
            .await
            .unwrap();
        assert_eq!(logs.total, 0);
        // The audit log keeps what happened.
        let events = store
            .audit_events(&AuditQuery {
                account_id: Some(account.into()),
                ..AuditQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(events.len(), 1, "audit of {account}");
    }
    // Earlier checks' records are gone as well.
    let page = store
        .list(&ListQuery::new(
            Kind::CustomerGateway,
            scope("concurrent"),
            0,
        ))
        .await
        .unwrap();
    assert_eq!(page.total, 0);

    // What was there can be made again: ids, client tokens, names.
    assert_eq!(
        store
            .insert(record(Kind::VpnGateway, &gw, KEEP, &[]), token("tok"))
            .await
            .unwrap(),
        Inserted::Created
    );
    store
        .create_user(ram_user(KEEP, &format!("u{KEEP}"), "alice"))
        .await
        .unwrap();
    assert!(
        store
            .effective_policies(KEEP, PrincipalKind::User, "alice")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        store
            .create_account(
                AccountRecord {
                    id: KEEP.into(),
                    name: "again".into(),
                    created_ms: 1,
                },
                user_key(KEEP, "LTAIagain", "root"),
            )
            .await,
        Err(StoreError::AlreadyExists)
    ));

    // Writes racing a reset: each lands wholly before it (and is wiped) or
    // wholly after it (and stays), links included.
    let racing = (0..32).map(|i| async move {
        let gw = format!("vpn-race{i}");
        let created = store
            .insert(
                record(Kind::VpnGateway, &gw, KEEP, &[]),
                InsertGuard::default(),
            )
            .await;
        if created.is_ok() {
            let _ = store
                .insert(
                    record(Kind::VpnConnection, &format!("vco-race{i}"), KEEP, &[&gw]),
                    InsertGuard::default(),
                )
                .await;
        }
    });
    let (_, reset) = tokio::join!(futures_join_all(racing), store.reset(KEEP));
    reset.unwrap();
    let gateways = store
        .list(&ListQuery::new(Kind::VpnGateway, scope(KEEP), 0))
        .await
        .unwrap();
    let connections = store
        .list(&ListQuery::new(Kind::VpnConnection, scope(KEEP), 0))
        .await
        .unwrap();
    assert_eq!(gateways.total as usize, gateways.records.len());
    for c in &connections.records {
        let gw = c.id.replace("vco-", "vpn-");
        assert!(
            gateways.records.iter().any(|g| g.id == gw),
            "{} outlived its gateway",
            c.id
        );
    }
}
