use vpngw_store::{InsertGuard, Kind, Record, Scope, Store, sqlite::SqliteStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    vpngw_store::conformance::run_all(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let scope = Scope {
        account_id: "a".into(),
        region_id: "cn-hangzhou".into(),
    };
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        let rec = Record {
            kind: Kind::CustomerGateway,
            id: "cgw-durable".into(),
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
            parent_id: None,
            links: vec![],
            resource_group_id: "rg".into(),
            status: None,
            version: 1,
            doc: "{}".into(),
        };
        store.insert(rec, InsertGuard::default()).await.unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(
        store
            .get(Kind::CustomerGateway, &scope, "cgw-durable")
            .await
            .unwrap()
            .is_some()
    );
}

/// Pages read from the end of the list (the second half) and totals kept by
/// triggers (schema step 5) give exactly what counting and skipping give.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_total_matches_the_ordered_list() {
    use vpngw_store::ListQuery;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    let rec = |kind: Kind, id: String, account: &str| Record {
        kind,
        id,
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        parent_id: None,
        links: vec![],
        resource_group_id: "rg".into(),
        status: None,
        version: 1,
        doc: "{}".into(),
    };
    let mut ids = Vec::new();
    for i in 0..101 {
        let id = format!("vpn-page{i:03}");
        store
            .insert(
                rec(Kind::VpnGateway, id.clone(), "pages"),
                InsertGuard::default(),
            )
            .await
            .unwrap();
        ids.push(id);
        // Other kinds and accounts in between, which no page may show.
        store
            .insert(
                rec(Kind::CustomerGateway, format!("cgw-page{i:03}"), "pages"),
                InsertGuard::default(),
            )
            .await
            .unwrap();
        store
            .insert(
                rec(Kind::VpnGateway, format!("vpn-other{i:03}"), "other"),
                InsertGuard::default(),
            )
            .await
            .unwrap();
    }
    let scope = Scope {
        account_id: "pages".into(),
        region_id: "cn-hangzhou".into(),
    };
    // Deletes and updates keep the totals exact.
    for gone in ["vpn-page000", "vpn-page050", "vpn-page100"] {
        store.delete(Kind::VpnGateway, &scope, gone).await.unwrap();
        ids.retain(|i| i != gone);
    }
    let mut kept = store
        .get(Kind::VpnGateway, &scope, "vpn-page001")
        .await
        .unwrap()
        .unwrap();
    kept.doc = r#"{"changed":true}"#.into();
    store.update(kept).await.unwrap();
    for limit in [1u64, 7, 10, 50, 98, 200] {
        for offset in (0..=ids.len() as u64 + limit).step_by(limit as usize) {
            let mut q = ListQuery::new(Kind::VpnGateway, scope.clone(), 0);
            q.limit = limit;
            q.offset = offset;
            let page = store.list(&q).await.unwrap();
            assert_eq!(page.total, ids.len() as u64);
            let got: Vec<_> = page.records.iter().map(|r| r.id.clone()).collect();
            let want: Vec<_> = ids
                .iter()
                .skip(offset as usize)
                .take(limit as usize)
                .cloned()
                .collect();
            assert_eq!(got, want, "limit {limit} offset {offset}");
            // The same with a filter (counted, not from the triggers).
            q.resource_group_id = Some("rg".into());
            let filtered = store.list(&q).await.unwrap();
            assert_eq!(filtered.total, ids.len() as u64);
            assert_eq!(
                filtered
                    .records
                    .iter()
                    .map(|r| r.id.clone())
                    .collect::<Vec<_>>(),
                want
            );
        }
    }
    let empty = ListQuery::new(Kind::VpnConnection, scope, 0);
    assert_eq!(store.list(&empty).await.unwrap().total, 0);
}
