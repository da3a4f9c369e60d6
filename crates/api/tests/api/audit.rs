//! The audit log as the pipeline writes it: writes (successful or refused)
//! of authenticated callers, with who, what and the result; no reads, no
//! unauthenticated requests, and unit checks of the resource-id rules.

#![allow(clippy::unwrap_used)]

use crate::common::TestApi;
use vpngw_store::AuditQuery;

async fn events(api: &TestApi) -> Vec<vpngw_store::AuditEvent> {
    api.service
        .store()
        .audit_events(&AuditQuery::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn writes_are_audited_with_who_what_and_result() {
    let api = TestApi::new().await;
    let (gw, cgw, vco) = api.connection().await;
    api.ok(
        "DescribeVpnConnection",
        &[("VpnConnectionId", vco.as_str())],
    )
    .await;
    let refused = api
        .call(
            "DeleteCustomerGateway",
            &[("CustomerGatewayId", cgw.as_str())],
        )
        .await;
    assert_ne!(refused.status, 200);
    // A wrong signature never reaches the audit log.
    let bad = api
        .call_as(
            crate::common::KEY_ID,
            "wrong",
            "2016-04-28",
            "DeleteVpnGateway",
            &[("VpnGatewayId", gw.as_str())],
        )
        .await;
    assert_eq!(bad.code(), "SignatureDoesNotMatch");

    let all = events(&api).await;
    let actions: Vec<&str> = all.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "CreateVpnGateway",
            "CreateCustomerGateway",
            "CreateVpnConnection",
            "DeleteCustomerGateway"
        ],
        "reads and unauthenticated requests are not audited"
    );
    let create = &all[0];
    assert_eq!(create.principal, "root");
    assert_eq!(create.access_key_id, crate::common::KEY_ID);
    assert_eq!(create.product, "Vpc");
    assert_eq!(create.region_id.as_deref(), Some("cn-hangzhou"));
    assert!(create.resource_ids.contains(&gw), "{create:?}");
    assert!(create.resource_ids.contains(&"vpc-test".to_owned()));
    assert_eq!(create.code, None);
    assert!(!create.request_id.is_empty());
    let connection = &all[2];
    assert!(connection.resource_ids.contains(&vco));
    assert!(connection.resource_ids.contains(&gw) && connection.resource_ids.contains(&cgw));
    let delete = &all[3];
    assert_eq!(delete.code.as_deref(), Some(refused.code()));
    assert_eq!(delete.resource_ids, vec![cgw.clone()]);
}

#[test]
fn which_actions_are_writes() {
    let names: Vec<(&str, bool)> = vpngw_api::actions::all()
        .map(|d| (d.name, vpngw_api::audit::is_write(d)))
        .collect();
    let is = |n: &str| names.iter().find(|(a, _)| *a == n).map(|(_, w)| *w);
    assert_eq!(is("CreateVpnConnection"), Some(true));
    assert_eq!(is("ModifyVpnConnectionAttribute"), Some(true));
    assert_eq!(is("DeleteVpnGateway"), Some(true));
    assert_eq!(is("DescribeVpnGateways"), Some(false));
    assert_eq!(is("DescribeRegions"), Some(false));
    assert_eq!(is("ReportDataplaneState"), Some(false));
}
