//! VPCs and vSwitches through the typed layer: their documents (CIDR blocks
//! included) round-trip, a vSwitch keeps its VPC, and a gateway placed in a
//! vSwitch keeps that vSwitch, so the cloud's `DependencyViolation` answers
//! come from the store's links on every backend. The VPC's version guards
//! its vSwitch blocks: two writers taking a block from the same read cannot
//! both succeed.

use vpngw_model::{Lifecycle, VSwitch, Vpc};

use super::{record, scope};
use crate::{InsertGuard, Kind, ListQuery, Store, StoreError, StoreExt};

fn vpc(id: &str) -> Vpc {
    Vpc {
        id: id.into(),
        region_id: "cn-hangzhou".into(),
        name: "net".into(),
        description: String::new(),
        cidr_block: "10.0.0.0/8".parse().unwrap(),
        user_cidrs: Vec::new(),
        vrouter_id: "vrt-conf".into(),
        route_table_id: "vtb-conf".into(),
        resource_group_id: "rg-default".into(),
        create_time_ms: 1,
        lifecycle: Lifecycle::transition("Pending", 10, "Available"),
        tags: Vec::new(),
        vswitch_blocks: Vec::new(),
    }
}

fn vswitch(id: &str, vpc_id: &str, zone: &str, cidr: &str) -> VSwitch {
    VSwitch {
        id: id.into(),
        region_id: "cn-hangzhou".into(),
        vpc_id: vpc_id.into(),
        zone_id: zone.into(),
        cidr_block: cidr.parse().unwrap(),
        name: String::new(),
        description: String::new(),
        resource_group_id: "rg-default".into(),
        create_time_ms: 2,
        lifecycle: Lifecycle::settled("Available"),
        tags: Vec::new(),
    }
}

pub(super) async fn vpcs_and_vswitches(store: &dyn Store) {
    let s = scope("a-vpc");
    let mut net = vpc("vpc-conf");
    store
        .insert_typed("a-vpc", &net, InsertGuard::default())
        .await
        .unwrap();
    // A vSwitch needs its VPC.
    let orphan = vswitch("vsw-orphan", "vpc-missing", "cn-hangzhou-b", "10.9.0.0/24");
    assert!(matches!(
        store
            .insert_typed("a-vpc", &orphan, InsertGuard::default())
            .await,
        Err(StoreError::MissingLink(id)) if id == "vpc-missing"
    ));
    let read = store
        .get_typed::<Vpc>(&s, "vpc-conf")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.value, net);
    // Two writers take a block from the same read: the second is refused.
    net.vswitch_blocks
        .push(("vsw-b".into(), "10.1.0.0/24".parse().unwrap()));
    store
        .update_typed("a-vpc", &net, read.version)
        .await
        .unwrap();
    let mut late = read.value.clone();
    late.vswitch_blocks
        .push(("vsw-x".into(), "10.1.0.0/25".parse().unwrap()));
    assert!(matches!(
        store.update_typed("a-vpc", &late, read.version).await,
        Err(StoreError::VersionConflict)
    ));
    let b = vswitch("vsw-b", "vpc-conf", "cn-hangzhou-b", "10.1.0.0/24");
    let k = vswitch("vsw-k", "vpc-conf", "cn-hangzhou-k", "10.2.0.0/24");
    for v in [&b, &k] {
        store
            .insert_typed("a-vpc", v, InsertGuard::default())
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .get_typed::<VSwitch>(&s, "vsw-b")
            .await
            .unwrap()
            .unwrap()
            .value,
        b
    );
    // Listed by VPC, and by zone.
    let mut q = ListQuery::new(Kind::VSwitch, s.clone(), 0);
    q.parent_id = Some("vpc-conf".into());
    q.limit = 50;
    let (all, total) = store.list_typed::<VSwitch>(&q).await.unwrap();
    assert_eq!((all.len(), total), (2, 2));
    q.fields = vec![("zone_id", "cn-hangzhou-k".into())];
    let (in_k, _) = store.list_typed::<VSwitch>(&q).await.unwrap();
    assert_eq!(in_k, vec![k.clone()]);
    // The VPC stays while it has vSwitches; a vSwitch while a gateway is in it.
    assert!(matches!(
        store.delete(Kind::Vpc, &s, "vpc-conf").await,
        Err(StoreError::Referenced {
            kind: Kind::VSwitch,
            ..
        })
    ));
    store
        .insert(
            record(
                Kind::VpnGateway,
                "vpn-in-vsw",
                "a-vpc",
                &["vsw-k", "vpc-conf"],
            ),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    assert!(matches!(
        store.delete(Kind::VSwitch, &s, "vsw-k").await,
        Err(StoreError::Referenced {
            kind: Kind::VpnGateway,
            ..
        })
    ));
    store
        .delete(Kind::VpnGateway, &s, "vpn-in-vsw")
        .await
        .unwrap();
    for id in ["vsw-b", "vsw-k"] {
        store.delete(Kind::VSwitch, &s, id).await.unwrap();
    }
    store.delete(Kind::Vpc, &s, "vpc-conf").await.unwrap();
    assert!(
        store
            .get(Kind::Vpc, &s, "vpc-conf")
            .await
            .unwrap()
            .is_none()
    );
}
