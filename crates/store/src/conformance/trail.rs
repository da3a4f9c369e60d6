//! Conformance of writes with their trail (`insert_with`, `update_with`,
//! `delete_cascade_with`): the log entries and the audit event are there
//! exactly when the change is, never for a refused write or a replay.

use crate::{
    AuditEvent, AuditQuery, Idempotency, InsertGuard, Inserted, Kind, LogEntry, LogQuery, Quota,
    Scope, Store, StoreError, Trail,
};

use super::record;

const ACCT: &str = "trail-acct";

fn entry(resource: &str, msg: &str) -> LogEntry {
    LogEntry {
        account_id: ACCT.into(),
        region_id: "cn-hangzhou".into(),
        resource_id: resource.into(),
        tunnel_id: None,
        time_ms: 1_000,
        source: "api".into(),
        message: msg.into(),
    }
}

fn trail(resource: &str, action: &str) -> Trail {
    Trail {
        logs: vec![
            entry(resource, &format!("{action} 1")),
            entry(resource, &format!("{action} 2")),
        ],
        audit: Some(AuditEvent {
            time_ms: 1_000,
            request_id: format!("req-{action}-{resource}"),
            account_id: ACCT.into(),
            principal: "root".into(),
            access_key_id: "LTAItrail".into(),
            source_ip: None,
            product: "Vpc".into(),
            action: action.into(),
            region_id: Some("cn-hangzhou".into()),
            resource_ids: vec![resource.into()],
            code: None,
        }),
    }
}

async fn logged(store: &dyn Store, resource: &str) -> Vec<String> {
    let page = store
        .list_logs(&LogQuery {
            scope: Scope {
                account_id: ACCT.into(),
                region_id: "cn-hangzhou".into(),
            },
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

async fn audited(store: &dyn Store, resource: &str) -> Vec<String> {
    store
        .audit_events(&AuditQuery {
            account_id: Some(ACCT.into()),
            resource_id: Some(resource.into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

pub(super) async fn trails(store: &dyn Store) {
    let gw = "vpn-trail";
    let guard = |token: &str| InsertGuard {
        quota: Some(Quota {
            limit: 2,
            per_parent: true,
        }),
        idempotency: Some(Idempotency {
            token: token.into(),
            fingerprint: "f".into(),
        }),
        unique: Vec::new(),
    };
    store
        .insert(
            record(Kind::VpnGateway, gw, ACCT, &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();

    // A created record comes with its trail, in order.
    let c1 = "vco-trail-1";
    assert_eq!(
        store
            .insert_with(
                record(Kind::VpnConnection, c1, ACCT, &[gw]),
                guard("t1"),
                trail(c1, "Create")
            )
            .await
            .unwrap(),
        Inserted::Created
    );
    assert_eq!(logged(store, c1).await, ["Create 1", "Create 2"]);
    assert_eq!(audited(store, c1).await, ["Create"]);

    // A replay writes nothing, its trail neither.
    let replay = "vco-trail-replay";
    assert_eq!(
        store
            .insert_with(
                record(Kind::VpnConnection, replay, ACCT, &[gw]),
                guard("t1"),
                trail(c1, "Replay")
            )
            .await
            .unwrap(),
        Inserted::Replayed { id: c1.into() }
    );
    assert_eq!(logged(store, c1).await, ["Create 1", "Create 2"]);
    assert_eq!(audited(store, c1).await, ["Create"]);

    // Refused inserts leave no trail: a missing link, an exceeded quota.
    let orphan = "vco-trail-orphan";
    assert!(matches!(
        store
            .insert_with(
                record(Kind::VpnConnection, orphan, ACCT, &["vpn-missing"]),
                InsertGuard::default(),
                trail(orphan, "Create")
            )
            .await,
        Err(StoreError::MissingLink(_))
    ));
    let c2 = "vco-trail-2";
    store
        .insert_with(
            record(Kind::VpnConnection, c2, ACCT, &[gw]),
            guard("t2"),
            trail(c2, "Create"),
        )
        .await
        .unwrap();
    let over = "vco-trail-3";
    assert!(matches!(
        store
            .insert_with(
                record(Kind::VpnConnection, over, ACCT, &[gw]),
                guard("t3"),
                trail(over, "Create")
            )
            .await,
        Err(StoreError::QuotaExceeded { limit: 2 })
    ));
    for id in [orphan, over] {
        assert!(logged(store, id).await.is_empty(), "{id}");
        assert!(audited(store, id).await.is_empty(), "{id}");
    }

    // Updates: a stale version is refused without a trail; a good one has it.
    let mut stale = record(Kind::VpnConnection, c1, ACCT, &[gw]);
    stale.version = 7;
    assert!(matches!(
        store.update_with(stale, trail(c1, "Stale")).await,
        Err(StoreError::VersionConflict)
    ));
    let updated = store
        .update_with(
            record(Kind::VpnConnection, c1, ACCT, &[gw]),
            trail(c1, "Modify"),
        )
        .await
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        logged(store, c1).await,
        ["Create 1", "Create 2", "Modify 1", "Modify 2"]
    );
    assert_eq!(audited(store, c1).await, ["Create", "Modify"]);

    // Deletes: refused while linked to, without a trail; then with it.
    let scope = record(Kind::VpnGateway, gw, ACCT, &[]).scope();
    assert!(matches!(
        store
            .delete_cascade_with(Kind::VpnGateway, &scope, gw, &[], trail(gw, "Delete"))
            .await,
        Err(StoreError::Referenced { .. })
    ));
    assert!(logged(store, gw).await.is_empty());
    assert!(audited(store, gw).await.is_empty());
    store
        .delete_cascade_with(Kind::VpnConnection, &scope, c1, &[], trail(c1, "Delete"))
        .await
        .unwrap();
    assert!(
        store
            .get(Kind::VpnConnection, &scope, c1)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(audited(store, c1).await, ["Create", "Modify", "Delete"]);
    assert_eq!(logged(store, c1).await.len(), 6);
}
