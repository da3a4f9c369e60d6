//! Concurrent writes to one connection: no lost update, and every call is
//! answered with success or the cloud's conflict error (`VpnTask.CONFLICT`).
//! Real SQLite store, real pipeline, a multi-threaded runtime.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, sync::Arc};

use crate::common::{KEY_ID, TestApi};
use vpngw_store::{Kind, Scope};

async fn scope_of(api: &TestApi) -> Scope {
    let key = api
        .service
        .store()
        .access_key(KEY_ID)
        .await
        .unwrap()
        .unwrap();
    Scope {
        account_id: key.account_id,
        region_id: "cn-hangzhou".into(),
    }
}

async fn version(api: &TestApi, scope: &Scope, id: &str) -> i64 {
    api.service
        .store()
        .get(Kind::VpnConnection, scope, id)
        .await
        .unwrap()
        .unwrap()
        .version
}

/// Calls 0..n: even ones rename the connection, odd ones change its remote
/// subnet, all at once. Returns each call's (status, code, body).
async fn modify_all_at_once(
    api: &Arc<TestApi>,
    id: &str,
    n: usize,
) -> Vec<(u16, String, serde_json::Value)> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (api, id) = (api.clone(), id.to_owned());
        tasks.push(tokio::spawn(async move {
            let (name, subnet) = (format!("name-{i}"), format!("10.{i}.0.0/16"));
            let change = if i % 2 == 0 {
                ("Name", name.as_str())
            } else {
                ("RemoteSubnet", subnet.as_str())
            };
            let a = api
                .call(
                    "ModifyVpnConnectionAttribute",
                    &[("VpnConnectionId", &id), change],
                )
                .await;
            (a.status, a.code().to_owned(), a.body)
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_modifies_of_one_connection_lose_nothing() {
    let api = Arc::new(TestApi::new().await);
    let (_, _, id) = api.connection().await;
    let scope = scope_of(&api).await;
    let before = version(&api, &scope, &id).await;

    let answers = modify_all_at_once(&api, &id, 64).await;

    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for (status, code, body) in &answers {
        match status {
            200 => *outcomes.entry("ok".into()).or_default() += 1,
            400 if code == "VpnTask.CONFLICT" => *outcomes.entry(code.clone()).or_default() += 1,
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    let successes = outcomes.get("ok").copied().unwrap_or(0);
    // In one process the calls take turns: all of them succeed.
    assert_eq!(successes, 64, "{outcomes:?}");

    // Every success is one version step: none was written over a stale read.
    let after = version(&api, &scope, &id).await;
    assert_eq!(after - before, successes as i64);

    // The final state is the last rename and the last subnet change, each
    // of which some successful call made; each answer shows its own change.
    let last = api
        .ok("DescribeVpnConnection", &[("VpnConnectionId", &id)])
        .await;
    let names: Vec<_> = answers.iter().map(|(_, _, b)| b["Name"].clone()).collect();
    let subnets: Vec<_> = answers
        .iter()
        .map(|(_, _, b)| b["RemoteSubnet"].clone())
        .collect();
    assert!(names.contains(&last["Name"]), "{last}");
    assert!(subnets.contains(&last["RemoteSubnet"]), "{last}");
    for (i, (_, _, body)) in answers.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(body["Name"], format!("name-{i}"));
        } else {
            assert_eq!(body["RemoteSubnet"], format!("10.{i}.0.0/16"));
        }
    }
    // A serial history: the connection's log has one line per success,
    // "<field> <from> -> <to>", each computed from the state its write
    // replaced. Without lost updates these lines chain into one path from
    // the initial value through every change (lines carry the request's
    // start time, so the chain is followed by value, not by line order).
    let mut lines: Vec<String> = Vec::new();
    for page in 1.. {
        let logs = api
            .ok(
                "DescribeVpnConnectionLogs",
                &[
                    ("VpnConnectionId", &id),
                    ("MinutePeriod", "10"),
                    ("PageSize", "50"),
                    ("PageNumber", &page.to_string()),
                ],
            )
            .await;
        let got: Vec<String> = logs["Data"]["Logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        if got.is_empty() {
            break;
        }
        lines.extend(got);
    }
    for (field, initial, last) in [
        ("Name", "(empty)", &last["Name"]),
        ("RemoteSubnet", "192.168.0.0/16", &last["RemoteSubnet"]),
    ] {
        let prefix = format!("connection modified: {field} ");
        let mut next: BTreeMap<String, String> = BTreeMap::new();
        for line in &lines {
            let Some(at) = line.find(&prefix) else {
                continue;
            };
            let (from, to) = line[at + prefix.len()..].split_once(" -> ").unwrap();
            let earlier = next.insert(from.to_owned(), to.to_owned());
            assert!(earlier.is_none(), "two changes from {from}: {lines:#?}");
        }
        assert_eq!(next.len(), 32, "{field}: {lines:#?}");
        let mut current = initial.to_owned();
        for _ in 0..32 {
            current = next
                .remove(&current)
                .unwrap_or_else(|| panic!("{field}: no change from {current}: {lines:#?}"));
        }
        assert_eq!(&current, last.as_str().unwrap(), "{field}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_racing_writer_outside_the_api_is_retried_not_lost() {
    let api = Arc::new(TestApi::new().await);
    let (_, _, id) = api.connection().await;
    let scope = scope_of(&api).await;
    let before = version(&api, &scope, &id).await;

    // Another writer (a data-plane report, another replica) rewrites the
    // record as fast as it can, with no lock of ours.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let racer = {
        let (api, scope, id, stop) = (api.clone(), scope.clone(), id.clone(), stop.clone());
        tokio::spawn(async move {
            let mut writes = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let store = api.service.store();
                let rec = store
                    .get(Kind::VpnConnection, &scope, &id)
                    .await
                    .unwrap()
                    .unwrap();
                if store.update(rec).await.is_ok() {
                    writes += 1;
                }
                tokio::task::yield_now().await;
            }
            writes
        })
    };
    let answers = modify_all_at_once(&api, &id, 32).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let racer_writes = racer.await.unwrap();

    let mut successes = 0i64;
    for (status, code, body) in &answers {
        match status {
            200 => successes += 1,
            400 if code == "VpnTask.CONFLICT" => {}
            _ => panic!("unexpected answer {status}: {body}"),
        }
    }
    assert!(racer_writes > 0);
    // Retries make most calls succeed despite the racer.
    assert!(successes >= 16, "only {successes} of 32 succeeded");
    // And nothing was lost: every successful write is one version step.
    let after = version(&api, &scope, &id).await;
    assert_eq!(after - before, successes + racer_writes);
}
