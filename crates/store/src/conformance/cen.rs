//! CEN's resources through the typed layer: a CEN instance is kept in the
//! global scope and its document (the transit routers it lists) guarded by
//! its version; a transit router's VPN attachment holds its router and the
//! attached connection, so neither can be deleted under it, on every
//! backend.

use vpngw_model::{
    CenInstance, Lifecycle, TransitRouter, TransitRouterVpnAttachment,
    cen::{GLOBAL_REGION, TransitRouterCidr},
};

use super::{record, scope};
use crate::{InsertGuard, Kind, Scope, Store, StoreError, StoreExt};

fn cen(id: &str) -> CenInstance {
    CenInstance {
        id: id.into(),
        name: "cen".into(),
        description: String::new(),
        protection_level: "REDUCED".into(),
        resource_group_id: "rg-default".into(),
        create_time_ms: 1,
        lifecycle: Lifecycle::transition("Creating", 10, "Active"),
        tags: Vec::new(),
        transit_routers: Vec::new(),
    }
}

fn router(id: &str, cen_id: &str) -> TransitRouter {
    TransitRouter {
        id: id.into(),
        region_id: "cn-hangzhou".into(),
        cen_id: cen_id.into(),
        name: "tr".into(),
        description: String::new(),
        support_multicast: false,
        resource_group_id: "rg-default".into(),
        create_time_ms: 2,
        lifecycle: Lifecycle::settled("Active"),
        tags: Vec::new(),
        cidrs: vec![TransitRouterCidr {
            id: "cidr-conf".into(),
            cidr: "192.168.0.0/16".parse().unwrap(),
            name: String::new(),
            description: String::new(),
            publish_cidr_route: true,
            allocated_to: Vec::new(),
        }],
    }
}

fn attachment(id: &str, tr: &str, vpn: &str) -> TransitRouterVpnAttachment {
    TransitRouterVpnAttachment {
        id: id.into(),
        region_id: "cn-hangzhou".into(),
        cen_id: "cen-conf".into(),
        transit_router_id: tr.into(),
        vpn_id: vpn.into(),
        vpn_owner_id: 1,
        name: String::new(),
        description: String::new(),
        auto_publish_route_enabled: false,
        charge_type: "POSTPAY".into(),
        order_type: "PayByCenOwner".into(),
        zones: vec!["cn-hangzhou-h".into()],
        address: Some("192.168.0.4".parse().unwrap()),
        resource_group_id: "rg-default".into(),
        create_time_ms: 3,
        lifecycle: Lifecycle::transition("Attaching", 10, "Attached"),
        tags: Vec::new(),
    }
}

pub(super) async fn cens_and_transit_routers(store: &dyn Store) {
    let account = "a-cen";
    let global = Scope {
        account_id: account.into(),
        region_id: GLOBAL_REGION.into(),
    };
    let regional = scope(account);
    let mut c = cen("cen-conf");
    store
        .insert_typed(account, &c, InsertGuard::default())
        .await
        .unwrap();
    let read = store
        .get_typed::<CenInstance>(&global, "cen-conf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.value, c);
    // Not in a region's scope.
    assert!(
        store
            .get_typed::<CenInstance>(&regional, "cen-conf")
            .await
            .unwrap()
            .is_none()
    );
    // A transit router is claimed in the CEN's document by a versioned
    // write: a second writer from the same read is refused.
    c.transit_routers
        .push(("cn-hangzhou".into(), "tr-conf".into()));
    store.update_typed(account, &c, read.version).await.unwrap();
    let mut late = read.value.clone();
    late.lifecycle = Lifecycle::settled("Deleting");
    assert!(matches!(
        store.update_typed(account, &late, read.version).await,
        Err(StoreError::VersionConflict)
    ));
    let tr = router("tr-conf", "cen-conf");
    store
        .insert_typed(account, &tr, InsertGuard::default())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_typed::<TransitRouter>(&regional, "tr-conf")
            .await
            .unwrap()
            .unwrap()
            .value,
        tr
    );
    // An attachment needs its router and its connection.
    let orphan = attachment("tr-attach-orphan", "tr-conf", "vco-missing");
    assert!(matches!(
        store
            .insert_typed(account, &orphan, InsertGuard::default())
            .await,
        Err(StoreError::MissingLink(id)) if id == "vco-missing"
    ));
    store
        .insert(
            record(Kind::VpnConnection, "vco-conf", account, &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    let a = attachment("tr-attach-conf", "tr-conf", "vco-conf");
    store
        .insert_typed(account, &a, InsertGuard::default())
        .await
        .unwrap();
    assert_eq!(
        store
            .get_typed::<TransitRouterVpnAttachment>(&regional, "tr-attach-conf")
            .await
            .unwrap()
            .unwrap()
            .value,
        a
    );
    // Neither the router nor the connection goes while attached.
    for (kind, id) in [
        (Kind::TransitRouter, "tr-conf"),
        (Kind::VpnConnection, "vco-conf"),
    ] {
        assert!(
            matches!(
                store.delete(kind, &regional, id).await,
                Err(StoreError::Referenced { .. })
            ),
            "{id} deleted while attached"
        );
    }
    store
        .delete(Kind::TransitRouterAttachment, &regional, "tr-attach-conf")
        .await
        .unwrap();
    store
        .delete(Kind::TransitRouter, &regional, "tr-conf")
        .await
        .unwrap();
    store
        .delete(Kind::VpnConnection, &regional, "vco-conf")
        .await
        .unwrap();
    store
        .delete(Kind::CenInstance, &global, "cen-conf")
        .await
        .unwrap();
}
