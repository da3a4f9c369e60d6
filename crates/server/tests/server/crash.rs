//! Durability under crashes: `vpngw serve` (SQLite) runs a concurrent
//! create/modify/delete load from several signed clients, is killed with
//! SIGKILL at a random moment, and is started again on the same data
//! directory. Then:
//! - every acknowledged write is there: acknowledged creates exist with the
//!   acknowledged fields, acknowledged modifications are visible,
//!   acknowledged deletes are gone;
//! - a write that was in flight at the kill is either wholly there or wholly
//!   absent (its `ClientToken` replay then tells which), and nothing else
//!   is there;
//! - no half-write is visible: the database passes `integrity_check` and
//!   `foreign_key_check`, every stored document parses, and every
//!   connection's links to its gateways exist.
//!
//! CI runs a few cycles (`VPNGW_CRASH_CYCLES`, default 3); the soak target
//! (`bench/crash-soak.sh`) runs hundreds.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use crate::support::Server;
use rand::{Rng, SeedableRng, rngs::StdRng};
use vpngw_client::{Client, ClientError};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What a client knows about one of its connections.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Conn {
    cgw: String,
    name: String,
    remote: String,
}

/// A write whose answer never came (the server died under it).
#[derive(Debug, Clone)]
enum InFlight {
    CreateCgw { token: String, ip: String },
    CreateConn { token: String, conn: Conn },
    Modify { id: String, old: Conn, new: Conn },
    DeleteConn { id: String, old: Conn },
    DeleteCgw { id: String, ip: String },
}

/// One client's resources, as acknowledged by the server. Clients never
/// touch each other's resources, so each model is exact.
#[derive(Debug, Default)]
struct Model {
    cgws: BTreeMap<String, String>,
    conns: BTreeMap<String, Conn>,
    in_flight: Option<InFlight>,
    acked: u64,
    /// Customer gateway addresses handed out: never one twice.
    next_ip: u64,
}

struct Ctx {
    client: Client,
    gateway: String,
    index: usize,
    cycle: u64,
}

fn free_cgws(m: &Model) -> Vec<String> {
    m.cgws
        .keys()
        .filter(|c| !m.conns.values().any(|v| &v.cgw == *c))
        .cloned()
        .collect()
}

fn is_transport(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::Transport(_) | ClientError::Timeout(_) | ClientError::Decode { .. }
    )
}

fn field(v: &serde_json::Value, name: &str) -> String {
    v[name]
        .as_str()
        .unwrap_or_else(|| panic!("no {name} in {v}"))
        .to_owned()
}

/// Runs random writes until the server stops answering. Returns when a
/// call fails for want of an answer, leaving that call in `in_flight`.
async fn run_client(ctx: Ctx, model: Arc<Mutex<Model>>, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    for seq in 0u64.. {
        let (op, params) = {
            let mut m = model.lock().unwrap();
            let free = free_cgws(&m);
            let conns: Vec<(String, Conn)> = m
                .conns
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let token = format!("crash-{}-{}-{seq}", ctx.index, ctx.cycle);
            let roll = rng.random_range(0..100);
            if free.is_empty() || (m.cgws.len() < 3 && roll < 30) {
                // 400,000 addresses per client in 10.64.0.0/10 (the cloud
                // refuses 100.64.0.0/10 for customer gateways).
                let n = ctx.index as u64 * 400_000 + m.next_ip;
                m.next_ip += 1;
                let ip = format!(
                    "10.{}.{}.{}",
                    64 + n / 62_500,
                    n / 250 % 250 + 1,
                    n % 250 + 1
                );
                let op = InFlight::CreateCgw {
                    token: token.clone(),
                    ip: ip.clone(),
                };
                (
                    op,
                    vec![
                        ("IpAddress".to_owned(), ip),
                        ("ClientToken".to_owned(), token),
                    ],
                )
            } else if conns.is_empty() || roll < 25 {
                let conn = Conn {
                    cgw: free[rng.random_range(0..free.len())].clone(),
                    name: format!("k{}-{}-{seq}", ctx.index, ctx.cycle),
                    remote: format!("172.{}.{}.0/24", 16 + rng.random_range(0..16), seq % 250),
                };
                let params = vec![
                    ("VpnGatewayId".to_owned(), ctx.gateway.clone()),
                    ("CustomerGatewayId".to_owned(), conn.cgw.clone()),
                    ("LocalSubnet".to_owned(), "10.0.0.0/8".to_owned()),
                    ("RemoteSubnet".to_owned(), conn.remote.clone()),
                    ("Name".to_owned(), conn.name.clone()),
                    ("ClientToken".to_owned(), token.clone()),
                    // The model tracks connections only: no routes made for them.
                    ("AutoConfigRoute".to_owned(), "false".to_owned()),
                ];
                (InFlight::CreateConn { token, conn }, params)
            } else if roll < 85 {
                let (id, old) = conns[rng.random_range(0..conns.len())].clone();
                let mut new = old.clone();
                let mut params = vec![("VpnConnectionId".to_owned(), id.clone())];
                if rng.random_bool(0.5) {
                    new.name = format!("m{}-{}-{seq}", ctx.index, ctx.cycle);
                    params.push(("Name".to_owned(), new.name.clone()));
                }
                if new == old || rng.random_bool(0.5) {
                    new.remote = format!("192.168.{}.0/24", seq % 250);
                    params.push(("RemoteSubnet".to_owned(), new.remote.clone()));
                }
                (InFlight::Modify { id, old, new }, params)
            } else if roll < 95 || free.is_empty() {
                let (id, old) = conns[rng.random_range(0..conns.len())].clone();
                let params = vec![("VpnConnectionId".to_owned(), id.clone())];
                (InFlight::DeleteConn { id, old }, params)
            } else {
                let id = free[rng.random_range(0..free.len())].clone();
                let ip = m.cgws[&id].clone();
                let params = vec![("CustomerGatewayId".to_owned(), id.clone())];
                (InFlight::DeleteCgw { id, ip }, params)
            }
        };
        let action = match &op {
            InFlight::CreateCgw { .. } => "CreateCustomerGateway",
            InFlight::CreateConn { .. } => "CreateVpnConnection",
            InFlight::Modify { .. } => "ModifyVpnConnectionAttribute",
            InFlight::DeleteConn { .. } => "DeleteVpnConnection",
            InFlight::DeleteCgw { .. } => "DeleteCustomerGateway",
        };
        let pairs: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        // Recorded before the call: if no answer comes, this is what may or
        // may not have happened.
        model.lock().unwrap().in_flight = Some(op.clone());
        let answer = ctx.client.vpc(action, &pairs).await;
        let mut m = model.lock().unwrap();
        match answer {
            Ok(body) => {
                m.in_flight = None;
                m.acked += 1;
                apply(&mut m, op, &body);
            }
            Err(e) if is_transport(&e) => return,
            Err(e) => panic!("{action} {params:?} answered an error: {e}"),
        }
    }
}

/// Applies an acknowledged write to the model.
fn apply(m: &mut Model, op: InFlight, body: &serde_json::Value) {
    match op {
        InFlight::CreateCgw { ip, .. } => {
            m.cgws.insert(field(body, "CustomerGatewayId"), ip);
        }
        InFlight::CreateConn { conn, .. } => {
            m.conns.insert(field(body, "VpnConnectionId"), conn);
        }
        InFlight::Modify { id, new, .. } => {
            assert_eq!(body["Name"], new.name.as_str(), "{body}");
            assert_eq!(body["RemoteSubnet"], new.remote.as_str(), "{body}");
            m.conns.insert(id, new);
        }
        InFlight::DeleteConn { id, .. } => {
            m.conns.remove(&id);
        }
        InFlight::DeleteCgw { id, .. } => {
            m.cgws.remove(&id);
        }
    }
}

/// Every item of a paged Describe*s list.
async fn list_all(
    client: &Client,
    action: &str,
    outer: &str,
    inner: &str,
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for page in 1.. {
        let page = page.to_string();
        let v = client
            .vpc(action, &[("PageSize", "50"), ("PageNumber", &page)])
            .await
            .unwrap();
        let items = v[outer][inner].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return out;
        }
        out.extend(items);
    }
    unreachable!()
}

/// The database itself, read beside the restarted server: intact, every
/// document parses, every connection's links exist.
fn check_database(data_dir: &std::path::Path) {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("vpngw.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok");
    let fk_violations: i64 = db
        .query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk_violations, 0, "foreign key violations");
    let mut stmt = db.prepare("SELECT id, kind, doc FROM resources").unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut links = db
        .prepare("SELECT COUNT(*) FROM resource_links l JOIN resources r ON r.id = l.to_id WHERE l.from_id = ?1 AND l.to_id = ?2")
        .unwrap();
    for (id, kind, doc) in rows {
        let v: serde_json::Value = serde_json::from_str(&doc)
            .unwrap_or_else(|e| panic!("{kind} {id}: document does not parse: {e}"));
        if kind == "vpn_connection" {
            serde_json::from_str::<vpngw_model::VpnConnection>(&doc)
                .unwrap_or_else(|e| panic!("connection {id}: {e}"));
            for link in ["vpn_gateway_id", "customer_gateway_id"] {
                let target = v[link]
                    .as_str()
                    .unwrap_or_else(|| panic!("{id} has no {link}"));
                let n: i64 = links.query_row([&id, target], |r| r.get(0)).unwrap();
                assert_eq!(n, 1, "connection {id} lacks its link to {target}");
            }
        }
    }
}

/// After a restart: compares the server with the models, resolves the
/// writes that were in flight (replaying creates by `ClientToken`), and
/// leaves the models exact again.
async fn verify(client: &Client, models: &[Arc<Mutex<Model>>], gateway: &str) -> (usize, usize) {
    let listed = list_all(
        client,
        "DescribeVpnConnections",
        "VpnConnections",
        "VpnConnection",
    )
    .await;
    let mut conns: BTreeMap<String, Conn> = listed
        .iter()
        .map(|c| {
            (
                field(c, "VpnConnectionId"),
                Conn {
                    cgw: field(c, "CustomerGatewayId"),
                    name: field(c, "Name"),
                    remote: field(c, "RemoteSubnet"),
                },
            )
        })
        .collect();
    let listed_cgws = list_all(
        client,
        "DescribeCustomerGateways",
        "CustomerGateways",
        "CustomerGateway",
    )
    .await;
    let mut cgws: BTreeMap<String, String> = listed_cgws
        .iter()
        .map(|c| (field(c, "CustomerGatewayId"), field(c, "IpAddress")))
        .collect();
    let (n_conns, n_cgws) = (conns.len(), cgws.len());
    for model in models {
        let in_flight = {
            let mut m = model.lock().unwrap();
            let in_flight = m.in_flight.take();
            // Settle the write in flight against what is there.
            match &in_flight {
                None | Some(InFlight::CreateCgw { .. }) | Some(InFlight::CreateConn { .. }) => {}
                Some(InFlight::Modify { id, old, new }) => {
                    let now = conns
                        .get(id)
                        .unwrap_or_else(|| panic!("modified {id} vanished"));
                    assert!(
                        now == old || now == new,
                        "{id}: {now:?} is neither {old:?} nor {new:?}"
                    );
                    m.conns.insert(id.clone(), now.clone());
                }
                Some(InFlight::DeleteConn { id, old }) => match conns.get(id) {
                    None => {
                        m.conns.remove(id);
                    }
                    Some(now) => assert_eq!(now, old, "{id} half deleted"),
                },
                Some(InFlight::DeleteCgw { id, ip }) => match cgws.get(id) {
                    None => {
                        m.cgws.remove(id);
                    }
                    Some(now) => assert_eq!(now, ip),
                },
            }
            // Everything acknowledged is there, exactly.
            for (id, want) in &m.conns {
                let got = conns
                    .remove(id)
                    .unwrap_or_else(|| panic!("acknowledged connection {id} is gone"));
                assert_eq!(&got, want, "connection {id}");
            }
            for (id, want) in &m.cgws {
                let got = cgws
                    .remove(id)
                    .unwrap_or_else(|| panic!("acknowledged customer gateway {id} is gone"));
                assert_eq!(&got, want, "customer gateway {id}");
            }
            in_flight
        };
        // An unacknowledged create may be there (whole) or not; its
        // ClientToken replay answers the one created, or creates it now.
        match in_flight {
            Some(InFlight::CreateConn { token, conn }) => {
                let found = conns
                    .iter()
                    .find(|(_, c)| c.name == conn.name)
                    .map(|(id, c)| (id.clone(), c.clone()));
                if let Some((id, c)) = &found {
                    assert_eq!(c, &conn, "in-flight create {id} is not whole");
                    conns.remove(id);
                }
                let body = client
                    .vpc(
                        "CreateVpnConnection",
                        &[
                            ("VpnGatewayId", gateway),
                            ("CustomerGatewayId", &conn.cgw),
                            ("LocalSubnet", "10.0.0.0/8"),
                            ("RemoteSubnet", &conn.remote),
                            ("Name", &conn.name),
                            ("ClientToken", &token),
                            ("AutoConfigRoute", "false"),
                        ],
                    )
                    .await
                    .unwrap();
                let id = field(&body, "VpnConnectionId");
                if let Some((found_id, _)) = found {
                    assert_eq!(id, found_id, "the replay answered another connection");
                }
                model.lock().unwrap().conns.insert(id, conn);
            }
            Some(InFlight::CreateCgw { token, ip }) => {
                let found = cgws
                    .iter()
                    .find(|(_, i)| **i == ip)
                    .map(|(id, _)| id.clone());
                if let Some(id) = &found {
                    cgws.remove(id);
                }
                let body = client
                    .vpc(
                        "CreateCustomerGateway",
                        &[("IpAddress", &ip), ("ClientToken", &token)],
                    )
                    .await
                    .unwrap();
                let id = field(&body, "CustomerGatewayId");
                if let Some(found) = found {
                    assert_eq!(id, found);
                }
                model.lock().unwrap().cgws.insert(id, ip);
            }
            _ => {}
        }
    }
    assert!(conns.is_empty(), "connections nobody created: {conns:?}");
    assert!(
        cgws.is_empty(),
        "customer gateways nobody created: {cgws:?}"
    );
    (n_conns, n_cgws)
}

/// A server under test with its clients' models.
struct Harness {
    dir: tempfile::TempDir,
    server: Server,
    gateway: String,
    models: Vec<Arc<Mutex<Model>>>,
    rng: StdRng,
}

impl Harness {
    async fn new(clients: usize, seed: u64) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let server = Server::start(
            dir.path(),
            &[
                "--quota-customer-gateways",
                "0",
                "--quota-connections-per-gateway",
                "0",
            ],
        );
        let gateway = field(
            &server
                .client()
                .vpc(
                    "CreateVpnGateway",
                    &[("VpcId", "vpc-crash"), ("Bandwidth", "10")],
                )
                .await
                .unwrap(),
            "VpnGatewayId",
        );
        Harness {
            dir,
            server,
            gateway,
            models: (0..clients)
                .map(|_| Arc::new(Mutex::new(Model::default())))
                .collect(),
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Runs the load for a random while and kills the server (SIGKILL).
    /// Returns how long the load ran.
    async fn load_and_kill(&mut self, cycle: u64) -> u64 {
        let mut tasks = Vec::new();
        for (index, model) in self.models.iter().enumerate() {
            let ctx = Ctx {
                client: self.server.client().timeout(Duration::from_secs(10)),
                gateway: self.gateway.clone(),
                index,
                cycle,
            };
            let seed = self.rng.random();
            tasks.push(tokio::spawn(run_client(ctx, model.clone(), seed)));
        }
        let run_ms = self.rng.random_range(150..900);
        tokio::time::sleep(Duration::from_millis(run_ms)).await;
        self.server.kill();
        for t in tasks {
            t.await.unwrap();
        }
        run_ms
    }

    /// Restarts the server and checks the database and every model.
    async fn restart_and_check(&mut self) -> (usize, usize) {
        self.server.restart();
        check_database(self.dir.path());
        verify(&self.server.client(), &self.models, &self.gateway).await
    }

    fn acked(&self) -> u64 {
        self.models.iter().map(|m| m.lock().unwrap().acked).sum()
    }

    /// Some stored connection, and a handle on the database.
    fn some_connection(&self) -> (String, rusqlite::Connection) {
        let db = rusqlite::Connection::open(self.dir.path().join("vpngw.db")).unwrap();
        let id = db
            .query_row(
                "SELECT id FROM resources WHERE kind = 'vpn_connection' ORDER BY seq LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        (id, db)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let cycles = env_or("VPNGW_CRASH_CYCLES", 3);
    let clients = env_or("VPNGW_CRASH_CLIENTS", 6) as usize;
    let seed = env_or("VPNGW_CRASH_SEED", rand::rng().random());
    println!("crash test: {cycles} cycles, {clients} clients, VPNGW_CRASH_SEED={seed}");
    let mut h = Harness::new(clients, seed).await;
    let started = Instant::now();
    for cycle in 0..cycles {
        let run_ms = h.load_and_kill(cycle).await;
        let (conns, cgws) = h.restart_and_check().await;
        println!(
            "cycle {cycle}: killed after {run_ms} ms; {} writes acknowledged so far; {conns} connections, {cgws} customer gateways verified",
            h.acked()
        );
    }
    assert!(
        h.acked() > cycles,
        "the load hardly ran ({} writes)",
        h.acked()
    );
    println!(
        "{cycles} cycles in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// The checks can fail: a lost acknowledged write, a connection without its
/// links and a document that does not parse are each caught.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_catch_lost_and_half_writes() {
    let mut h = Harness::new(3, 7).await;
    h.load_and_kill(0).await;
    h.restart_and_check().await;

    // A lost write: an acknowledged connection removed behind the server
    // (stopped after a verified restart, so nothing is in flight).
    h.server.kill();
    let (id, db) = h.some_connection();
    db.execute("DELETE FROM resources WHERE id = ?1", [&id])
        .unwrap();
    drop(db);
    h.server.restart();
    let (client, models, gateway) = (h.server.client(), h.models.clone(), h.gateway.clone());
    let lost = tokio::spawn(async move { verify(&client, &models, &gateway).await }).await;
    let message = panic_message(lost.unwrap_err());
    assert!(
        message.contains(&format!("acknowledged connection {id} is gone")),
        "{message}"
    );

    // A half-write: a connection without its link to its customer gateway.
    let (id, db) = h.some_connection();
    db.execute(
        "DELETE FROM resource_links WHERE from_id = ?1 AND to_id LIKE 'cgw-%'",
        [&id],
    )
    .unwrap();
    drop(db);
    let dir = h.dir.path().to_owned();
    let message = panic_message_sync(move || check_database(&dir));
    assert!(message.contains("lacks its link"), "{message}");

    // Malformed JSON cannot even be stored any more (the expression indexes
    // of schema step 5 parse every document)...
    let (id, db) = h.some_connection();
    assert!(
        db.execute(
            "UPDATE resources SET doc = '{\"id\": ' WHERE id = ?1",
            [&id]
        )
        .is_err()
    );
    // ...but a document that is not a connection's is caught.
    db.execute(
        "UPDATE resources SET doc = '{\"id\": 7}' WHERE id = ?1",
        [&id],
    )
    .unwrap();
    drop(db);
    let dir = h.dir.path().to_owned();
    let message = panic_message_sync(move || check_database(&dir));
    assert!(message.contains(&format!("connection {id}")), "{message}");
}

fn panic_message(e: tokio::task::JoinError) -> String {
    let payload = e.into_panic();
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

fn panic_message_sync(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("the check should fail");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}
