//! One `vpngw serve` per SQLite data directory: a second one on the same
//! directory exits with an error saying so, and the lock goes with the
//! process that held it, however it ended (SIGKILL here).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::support::Server;

/// Runs a second `vpngw serve` on `data_dir` and returns its exit status
/// and stderr; it must exit by itself within 30 s.
fn second_serve(data_dir: &std::path::Path) -> (std::process::ExitStatus, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vpngw"))
        .arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log", "warn"])
        .env("VPNGW_ROOT_ACCESS_KEY_ID", crate::support::KEY_ID)
        .env("VPNGW_ROOT_ACCESS_KEY_SECRET", crate::support::SECRET)
        .env_remove("VPNGW_CONFIG")
        .env_remove("VPNGW_MASTER_KEY")
        .env_remove("VPNGW_DATABASE_URL")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return (status, String::from_utf8_lossy(&out.stderr).into_owned());
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a second vpngw serve on a held data directory kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let (status, stderr) = second_serve(dir.path());
    assert!(!status.success(), "exited with {status}");
    assert!(
        stderr.contains("is in use by another vpngw process")
            && stderr.contains(&format!("(pid {} holds", server.child.id()))
            && stderr.contains("vpngw.lock"),
        "{stderr}"
    );
    // The first server is untouched and still answers.
    server
        .client()
        .vpc("DescribeRegions", &[])
        .await
        .expect("the first server still answers");

    // SIGKILL releases the lock with the process: a restart needs no cleanup.
    server.restart();
    server.client().vpc("DescribeRegions", &[]).await.unwrap();
}
