//! IPsec server records: one server per gateway, held by the gateway, and
//! part of the gateway's desired state (its revision moves with the server).

use super::{record, scope};
use crate::{InsertGuard, Kind, ListQuery, Quota, Store, StoreError};

/// The guard CreateIpsecServer writes with: one server per gateway.
fn one_per_gateway() -> InsertGuard {
    InsertGuard {
        quota: Some(Quota {
            limit: 1,
            per_parent: true,
        }),
        ..Default::default()
    }
}

pub(super) async fn servers(store: &dyn Store) {
    let acct = "ipsecserver";
    let s = scope(acct);
    store
        .insert(
            record(Kind::VpnGateway, "vpn-iss", acct, &[]),
            InsertGuard::default(),
        )
        .await
        .unwrap();
    // A server needs its gateway.
    assert!(matches!(
        store
            .insert(
                record(Kind::IpsecServer, "iss-x", acct, &["vpn-none"]),
                one_per_gateway()
            )
            .await,
        Err(StoreError::MissingLink(_))
    ));
    let before = store.gateway_changes("vpn-iss", 0).await.unwrap().revision;
    store
        .insert(
            record(Kind::IpsecServer, "iss-1", acct, &["vpn-iss"]),
            one_per_gateway(),
        )
        .await
        .unwrap();
    // The agent is told: the server is the gateway's desired state.
    let after = store.gateway_changes("vpn-iss", before).await.unwrap();
    assert!(after.revision > before);
    assert_eq!(
        after.changed.unwrap(),
        [(Kind::IpsecServer, "iss-1".to_owned())]
    );
    assert!(matches!(
        store
            .insert(
                record(Kind::IpsecServer, "iss-2", acct, &["vpn-iss"]),
                one_per_gateway()
            )
            .await,
        Err(StoreError::QuotaExceeded { limit: 1 })
    ));
    let mut q = ListQuery::new(Kind::IpsecServer, s.clone(), 0);
    q.parent_id = Some("vpn-iss".into());
    assert_eq!(store.list(&q).await.unwrap().total, 1);
    // The gateway cannot go while its server exists.
    assert!(matches!(
        store.delete(Kind::VpnGateway, &s, "vpn-iss").await,
        Err(StoreError::Referenced {
            kind: Kind::IpsecServer,
            ..
        })
    ));
    store.delete(Kind::IpsecServer, &s, "iss-1").await.unwrap();
    assert_eq!(store.list(&q).await.unwrap().total, 0);
    store.delete(Kind::VpnGateway, &s, "vpn-iss").await.unwrap();
}
