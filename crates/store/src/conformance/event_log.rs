//! Conformance of the event log: append order, scope, tunnel and time
//! filters, paging, and that entries survive the resource they describe.

use crate::{InsertGuard, Kind, LogEntry, LogQuery, Scope, Store};

fn entry(account: &str, resource: &str, tunnel: Option<&str>, time_ms: i64, msg: &str) -> LogEntry {
    LogEntry {
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        resource_id: resource.into(),
        tunnel_id: tunnel.map(str::to_owned),
        time_ms,
        source: "api".into(),
        message: msg.into(),
    }
}

fn query(account: &str, resource: &str) -> LogQuery {
    LogQuery {
        scope: Scope {
            account_id: account.into(),
            region_id: "cn-hangzhou".into(),
        },
        resource_id: resource.into(),
        tunnel_id: None,
        from_ms: 0,
        to_ms: i64::MAX,
        offset: 0,
        limit: 100,
    }
}

fn messages(page: &crate::LogPage) -> Vec<&str> {
    page.entries.iter().map(|e| e.message.as_str()).collect()
}

pub(super) async fn event_log(store: &dyn Store) {
    // Appends keep their order, also within one millisecond and across calls.
    store
        .append_log(vec![
            entry("a1", "vco-log", None, 1_000, "created"),
            entry("a1", "vco-log", Some("tun-1"), 1_000, "tun-1 configured"),
            entry("a1", "vco-log", Some("tun-2"), 1_000, "tun-2 configured"),
        ])
        .await
        .unwrap();
    store
        .append_log(vec![entry(
            "a1",
            "vco-log",
            Some("tun-1"),
            2_000,
            "tun-1 up",
        )])
        .await
        .unwrap();
    store
        .append_log(vec![entry(
            "a1",
            "vco-log",
            Some("tun-2"),
            1_500,
            "tun-2 late",
        )])
        .await
        .unwrap();
    // Nothing to append is fine.
    store.append_log(Vec::new()).await.unwrap();

    let all = store.list_logs(&query("a1", "vco-log")).await.unwrap();
    assert_eq!(all.total, 5);
    assert_eq!(
        messages(&all),
        [
            "created",
            "tun-1 configured",
            "tun-2 configured",
            "tun-2 late",
            "tun-1 up"
        ],
        "ordered by time, then by append order"
    );
    assert_eq!(
        all.entries[0],
        entry("a1", "vco-log", None, 1_000, "created")
    );

    // A tunnel sees its own entries and the connection-wide ones.
    let mut q = query("a1", "vco-log");
    q.tunnel_id = Some("tun-1".into());
    let t1 = store.list_logs(&q).await.unwrap();
    assert_eq!(messages(&t1), ["created", "tun-1 configured", "tun-1 up"]);
    assert_eq!(t1.total, 3);

    // Inclusive time bounds.
    let mut q = query("a1", "vco-log");
    q.from_ms = 1_500;
    q.to_ms = 2_000;
    assert_eq!(
        messages(&store.list_logs(&q).await.unwrap()),
        ["tun-2 late", "tun-1 up"]
    );
    q.from_ms = 2_001;
    q.to_ms = 3_000;
    let none = store.list_logs(&q).await.unwrap();
    assert!(none.entries.is_empty());
    assert_eq!(none.total, 0);

    // Paging: the total counts every match, the page only its slice.
    let mut q = query("a1", "vco-log");
    q.offset = 1;
    q.limit = 2;
    let page = store.list_logs(&q).await.unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(messages(&page), ["tun-1 configured", "tun-2 configured"]);
    q.offset = 10;
    assert!(store.list_logs(&q).await.unwrap().entries.is_empty());

    // Another account, region or resource sees nothing.
    assert_eq!(
        store
            .list_logs(&query("a2", "vco-log"))
            .await
            .unwrap()
            .total,
        0
    );
    let mut q = query("a1", "vco-log");
    q.scope.region_id = "cn-beijing".into();
    assert_eq!(store.list_logs(&q).await.unwrap().total, 0);
    assert_eq!(
        store
            .list_logs(&query("a1", "vco-other"))
            .await
            .unwrap()
            .total,
        0
    );

    // The log is independent of the resources table: entries outlive the
    // resource, and a resource may be deleted while it has entries.
    let rec = super::record(Kind::CustomerGateway, "cgw-logged", "a1", &[]);
    store.insert(rec, InsertGuard::default()).await.unwrap();
    store
        .append_log(vec![entry("a1", "cgw-logged", None, 5, "made")])
        .await
        .unwrap();
    store
        .delete(Kind::CustomerGateway, &super::scope("a1"), "cgw-logged")
        .await
        .unwrap();
    assert_eq!(
        messages(&store.list_logs(&query("a1", "cgw-logged")).await.unwrap()),
        ["made"]
    );

    // Concurrent appends all land.
    let writes =
        (0..20).map(|i| store.append_log(vec![entry("a1", "vco-busy", None, i, &format!("m{i}"))]));
    for r in super::futures_join_all(writes).await {
        r.unwrap();
    }
    assert_eq!(
        store
            .list_logs(&query("a1", "vco-busy"))
            .await
            .unwrap()
            .total,
        20
    );
}
