//! CEN bookkeeping that spans two records stays usable after a crash
//! between its writes.

use vpngw_store::{Kind, Scope};

use crate::common::{KEY_ID, SECRET, TestApi};

const CBN: &str = "2017-09-12";

async fn cbn_ok(api: &TestApi, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
    let a = api.call_as(KEY_ID, SECRET, CBN, action, params).await;
    assert_eq!(a.status, 200, "{action}: {}", a.body);
    a.body
}

/// DeleteTransitRouter removes the router, then its entry in the CEN
/// instance. Killed in between, the instance lists a router that is gone;
/// that entry must not keep the region from getting a router again.
#[tokio::test]
async fn a_router_gone_but_still_listed_does_not_hold_its_region() {
    let api = TestApi::new().await;
    let cen = cbn_ok(&api, "CreateCen", &[("Name", "c")]).await["CenId"]
        .as_str()
        .unwrap()
        .to_owned();
    let create = [("CenId", cen.as_str()), ("RegionId", "cn-hangzhou")];
    let first = cbn_ok(&api, "CreateTransitRouter", &create).await["TransitRouterId"]
        .as_str()
        .unwrap()
        .to_owned();

    // The first of DeleteTransitRouter's two writes, and no second.
    let store = api.service.store();
    let scope = Scope {
        account_id: api.account().await,
        region_id: "cn-hangzhou".into(),
    };
    store
        .delete(Kind::TransitRouter, &scope, &first)
        .await
        .unwrap();

    let second = cbn_ok(&api, "CreateTransitRouter", &create).await["TransitRouterId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);
    // The region is held again: by the live router.
    let again = api
        .call_as(KEY_ID, SECRET, CBN, "CreateTransitRouter", &create)
        .await;
    assert_eq!(
        (again.status, again.code()),
        (400, "InvalidOperation.TransitRouterExist")
    );
}
