//! SSL-VPN records: one server per gateway, held by the gateway; client
//! certificates held by their server and deleted with it.

use super::{record, scope};
use crate::{InsertGuard, Kind, ListQuery, Quota, Store, StoreError};

/// The guard CreateSslVpnServer writes with: one server per gateway.
fn one_per_gateway() -> InsertGuard {
    InsertGuard {
        quota: Some(Quota {
            limit: 1,
            per_parent: true,
        }),
        ..Default::default()
    }
}

pub(super) async fn servers_and_certs(store: &dyn Store) {
    let acct = "sslvpn";
    let s = scope(acct);
    let plain = InsertGuard::default;
    store
        .insert(record(Kind::VpnGateway, "vpn-ssl", acct, &[]), plain())
        .await
        .unwrap();
    store
        .insert(record(Kind::VpnGateway, "vpn-ssl2", acct, &[]), plain())
        .await
        .unwrap();
    // A server needs its gateway.
    assert!(matches!(
        store
            .insert(
                record(Kind::SslVpnServer, "vss-x", acct, &["vpn-none"]),
                one_per_gateway()
            )
            .await,
        Err(StoreError::MissingLink(_))
    ));
    store
        .insert(
            record(Kind::SslVpnServer, "vss-1", acct, &["vpn-ssl"]),
            one_per_gateway(),
        )
        .await
        .unwrap();
    // A second server on the same gateway is over the quota; another
    // gateway may have its own.
    assert!(matches!(
        store
            .insert(
                record(Kind::SslVpnServer, "vss-2", acct, &["vpn-ssl"]),
                one_per_gateway()
            )
            .await,
        Err(StoreError::QuotaExceeded { limit: 1 })
    ));
    store
        .insert(
            record(Kind::SslVpnServer, "vss-3", acct, &["vpn-ssl2"]),
            one_per_gateway(),
        )
        .await
        .unwrap();
    for cert in ["vsc-1", "vsc-2"] {
        store
            .insert(
                record(Kind::SslVpnClientCert, cert, acct, &["vss-1"]),
                plain(),
            )
            .await
            .unwrap();
    }
    // The gateway cannot go while its server exists, nor the server by a
    // plain delete while it has certificates.
    assert!(matches!(
        store.delete(Kind::VpnGateway, &s, "vpn-ssl").await,
        Err(StoreError::Referenced {
            kind: Kind::SslVpnServer,
            ..
        })
    ));
    assert!(matches!(
        store.delete(Kind::SslVpnServer, &s, "vss-1").await,
        Err(StoreError::Referenced {
            kind: Kind::SslVpnClientCert,
            ..
        })
    ));
    let mut q = ListQuery::new(Kind::SslVpnClientCert, s.clone(), 0);
    q.parent_id = Some("vss-1".into());
    assert_eq!(store.list(&q).await.unwrap().total, 2);
    // DeleteSslVpnServer: the certificates go with it, in one transaction.
    let mut gone = store
        .delete_cascade(Kind::SslVpnServer, &s, "vss-1", &[Kind::SslVpnClientCert])
        .await
        .unwrap();
    gone.sort();
    assert_eq!(gone, ["vsc-1", "vsc-2"]);
    assert_eq!(store.list(&q).await.unwrap().total, 0);
    // The gateway is free again and may get a new server.
    store
        .insert(
            record(Kind::SslVpnServer, "vss-4", acct, &["vpn-ssl"]),
            one_per_gateway(),
        )
        .await
        .unwrap();
    store.delete(Kind::SslVpnServer, &s, "vss-4").await.unwrap();
    store.delete(Kind::VpnGateway, &s, "vpn-ssl").await.unwrap();
}
