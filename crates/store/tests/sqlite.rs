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
