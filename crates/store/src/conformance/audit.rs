//! Conformance of the audit log (order, filters, limit, round trip of every
//! field) and of the per-status counts behind the metrics.

use vpngw_model::Lifecycle;

use crate::{AuditEvent, AuditQuery, CountBy, InsertGuard, Kind, Record, Store};

fn event(
    account: &str,
    action: &str,
    time_ms: i64,
    ids: &[&str],
    code: Option<&str>,
) -> AuditEvent {
    AuditEvent {
        time_ms,
        request_id: format!("req-{action}-{time_ms}"),
        account_id: account.into(),
        principal: "alice".into(),
        access_key_id: "LTAIaudit".into(),
        source_ip: Some("127.0.0.1".into()),
        product: "Vpc".into(),
        action: action.into(),
        region_id: Some("cn-hangzhou".into()),
        resource_ids: ids.iter().map(|s| s.to_string()).collect(),
        code: code.map(str::to_owned),
    }
}

fn actions(events: &[AuditEvent]) -> Vec<(&str, i64)> {
    events
        .iter()
        .map(|e| (e.action.as_str(), e.time_ms))
        .collect()
}

pub(super) async fn audit(store: &dyn Store) {
    let acct = "audit-acct";
    let first = event(acct, "CreateVpnGateway", 1_000, &["vpn-a1"], None);
    store.append_audit(first.clone()).await.unwrap();
    store
        .append_audit(event(
            acct,
            "CreateCustomerGateway",
            2_000,
            &["cgw-a1"],
            None,
        ))
        .await
        .unwrap();
    store
        .append_audit(event(
            acct,
            "DeleteVpnGateway",
            3_000,
            &["vpn-a1"],
            Some("DependencyViolation.VpnConnection"),
        ))
        .await
        .unwrap();
    store
        .append_audit(event(
            "audit-other",
            "CreateVpnGateway",
            2_500,
            &["vpn-b1"],
            None,
        ))
        .await
        .unwrap();
    store
        .append_audit(AuditEvent {
            source_ip: None,
            region_id: None,
            resource_ids: Vec::new(),
            ..event(acct, "CreateUser", 4_000, &[], None)
        })
        .await
        .unwrap();

    let mine = |q: AuditQuery| AuditQuery {
        account_id: Some(acct.into()),
        ..q
    };
    // Oldest first; every field round-trips.
    let all = store
        .audit_events(&mine(AuditQuery::default()))
        .await
        .unwrap();
    assert_eq!(
        actions(&all),
        [
            ("CreateVpnGateway", 1_000),
            ("CreateCustomerGateway", 2_000),
            ("DeleteVpnGateway", 3_000),
            ("CreateUser", 4_000)
        ]
    );
    assert_eq!(all[0], first);
    assert_eq!(all[3].source_ip, None);
    assert!(all[3].resource_ids.is_empty());
    // Another account's events are filtered out, and visible without a filter.
    let everyone = store.audit_events(&AuditQuery::default()).await.unwrap();
    assert!(everyone.iter().any(|e| e.account_id == "audit-other"));
    // Time window: since inclusive, until exclusive.
    let window = store
        .audit_events(&mine(AuditQuery {
            since_ms: Some(2_000),
            until_ms: Some(4_000),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        actions(&window),
        [
            ("CreateCustomerGateway", 2_000),
            ("DeleteVpnGateway", 3_000)
        ]
    );
    // By action, by resource, by result.
    let by_action = store
        .audit_events(&mine(AuditQuery {
            action: Some("DeleteVpnGateway".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        by_action[0].code.as_deref(),
        Some("DependencyViolation.VpnConnection")
    );
    let by_resource = store
        .audit_events(&mine(AuditQuery {
            resource_id: Some("vpn-a1".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        actions(&by_resource),
        [("CreateVpnGateway", 1_000), ("DeleteVpnGateway", 3_000)]
    );
    let failed = store
        .audit_events(&mine(AuditQuery {
            failed: Some(true),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(actions(&failed), [("DeleteVpnGateway", 3_000)]);
    let ok = store
        .audit_events(&mine(AuditQuery {
            failed: Some(false),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(ok.len(), 3);
    // A limit keeps the newest, still oldest first.
    let newest = store
        .audit_events(&mine(AuditQuery {
            limit: 2,
            ..Default::default()
        }))
        .await
        .unwrap();
    assert_eq!(
        actions(&newest),
        [("DeleteVpnGateway", 3_000), ("CreateUser", 4_000)]
    );
    // An id that merely contains another is not a match.
    let none = store
        .audit_events(&mine(AuditQuery {
            resource_id: Some("vpn-a".into()),
            ..Default::default()
        }))
        .await
        .unwrap();
    assert!(none.is_empty());
}

fn counted(counts: &[(String, u64)], value: &str) -> u64 {
    counts
        .iter()
        .find(|(v, _)| v == value)
        .map(|(_, n)| *n)
        .unwrap_or(0)
}

pub(super) async fn counts(store: &dyn Store) {
    let rec = |id: &str, account: &str, status: Lifecycle, negotiation: &str| Record {
        kind: Kind::VpnGateway,
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-shanghai".into(),
        parent_id: None,
        links: Vec::new(),
        resource_group_id: "rg-default".into(),
        status: Some(status),
        version: 1,
        doc: format!(r#"{{"id":"{id}","status":"{negotiation}"}}"#),
    };
    let now = 10_000;
    for r in [
        rec(
            "vpn-cnt1",
            "cnt-a",
            Lifecycle::settled("cnt_active"),
            "cnt_up",
        ),
        rec(
            "vpn-cnt2",
            "cnt-b",
            Lifecycle::settled("cnt_active"),
            "cnt_down",
        ),
        // Due: counts as its next status.
        rec(
            "vpn-cnt3",
            "cnt-a",
            Lifecycle::transition("cnt_init", now - 1, "cnt_active"),
            "cnt_up",
        ),
        // Not yet due.
        rec(
            "vpn-cnt4",
            "cnt-a",
            Lifecycle::transition("cnt_init", now + 1, "cnt_active"),
            "cnt_up",
        ),
    ] {
        store.insert(r, InsertGuard::default()).await.unwrap();
    }
    let by_status = store
        .count_by(Kind::VpnGateway, CountBy::Status, now)
        .await
        .unwrap();
    assert_eq!(counted(&by_status, "cnt_active"), 3, "{by_status:?}");
    assert_eq!(counted(&by_status, "cnt_init"), 1, "{by_status:?}");
    let by_field = store
        .count_by(Kind::VpnGateway, CountBy::Field("status"), now)
        .await
        .unwrap();
    assert_eq!(counted(&by_field, "cnt_up"), 3, "{by_field:?}");
    assert_eq!(counted(&by_field, "cnt_down"), 1, "{by_field:?}");
    // Other kinds are not counted.
    let cgw = store
        .count_by(Kind::CustomerGateway, CountBy::Field("status"), now)
        .await
        .unwrap();
    assert_eq!(counted(&cgw, "cnt_up"), 0);
    // Updates and deletes move records between the counts.
    store
        .update(rec(
            "vpn-cnt2",
            "cnt-b",
            Lifecycle::settled("cnt_init"),
            "cnt_up",
        ))
        .await
        .unwrap();
    let scope = crate::Scope {
        account_id: "cnt-a".into(),
        region_id: "cn-shanghai".into(),
    };
    store
        .delete(Kind::VpnGateway, &scope, "vpn-cnt1")
        .await
        .unwrap();
    let by_status = store
        .count_by(Kind::VpnGateway, CountBy::Status, now)
        .await
        .unwrap();
    assert_eq!(counted(&by_status, "cnt_active"), 1, "{by_status:?}");
    assert_eq!(counted(&by_status, "cnt_init"), 2, "{by_status:?}");
    let by_field = store
        .count_by(Kind::VpnGateway, CountBy::Field("status"), now)
        .await
        .unwrap();
    assert_eq!(counted(&by_field, "cnt_up"), 3, "{by_field:?}");
    assert_eq!(counted(&by_field, "cnt_down"), 0, "{by_field:?}");
    // Values without records are left out.
    assert!(by_field.iter().all(|(_, n)| *n > 0), "{by_field:?}");
}
