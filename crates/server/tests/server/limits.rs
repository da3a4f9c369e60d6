//! Overload and size limits, end to end over HTTP against the real binary:
//! the per-account rate (`Throttling.User`), the body size
//! (`RequestBodyTooLarge`) and the parameter count (`InvalidParameter`),
//! each answered with the cloud's JSON error body.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::Server;

fn error_body(body: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("error body is not JSON ({e}): {body:?}"));
    for field in ["RequestId", "HostId", "Code", "Message", "Recommend"] {
        assert!(v[field].is_string(), "no {field} in {v}");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_over_its_rate_is_throttled_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rate-limit-per-account", "5"]);
    let client = server.client();
    let mut ok = 0;
    let mut throttled = Vec::new();
    for _ in 0..20 {
        match client.vpc("DescribeRegions", &[]).await {
            Ok(_) => ok += 1,
            Err(vpngw_client::ClientError::Api {
                status,
                code,
                message,
                request_id,
            }) => {
                assert_eq!((status, code.as_str()), (400, "Throttling.User"));
                assert_eq!(message, "Request was denied due to user flow control.");
                assert_eq!(request_id.len(), 36);
                throttled.push(code);
            }
            Err(e) => panic!("{e}"),
        }
    }
    // A burst of one second's worth (5), then about 5 per second more
    // while the 20 calls last.
    assert!((5..=12).contains(&ok), "{ok} admitted");
    assert!(throttled.len() >= 8, "{} throttled", throttled.len());
    // The bucket refills.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.vpc("DescribeRegions", &[]).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_rate_limit_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = server.client();
    for _ in 0..50 {
        client.vpc("DescribeRegions", &[]).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_over_the_limit_is_a_cloud_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--max-body-bytes", "2048"]);
    let form = format!(
        "Action=DescribeRegions&Version=2016-04-28&Pad={}",
        "x".repeat(4096)
    );

    // Declared too large: refused before the body is read.
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    );
    let (status, body) = server.raw(&request).unwrap();
    assert_eq!(status, 413, "{body}");
    let v = error_body(&body);
    assert_eq!(v["Code"], "RequestBodyTooLarge");
    assert!(v["Message"].as_str().unwrap().contains("2048"), "{v}");

    // Chunked, no length declared: refused once it grows past the limit.
    let mut chunked = String::from(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for piece in form.as_bytes().chunks(1000) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            piece.len(),
            String::from_utf8_lossy(piece)
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let (status, body) = server.raw(&chunked).unwrap();
    assert_eq!(status, 413, "{body}");
    assert_eq!(error_body(&body)["Code"], "RequestBodyTooLarge");

    // Under the limit the request reaches the pipeline (and is refused
    // there for its missing signature, not for its size).
    let small = "Action=DescribeRegions&Version=2016-04-28";
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{small}",
        small.len()
    );
    let (status, body) = server.raw(&request).unwrap();
    assert_ne!(error_body(&body)["Code"], "RequestBodyTooLarge");
    assert_eq!(status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_a_thousand_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let client = server.client();
    // The client adds 9 parameters (Action, Version, Format, AccessKeyId,
    // SignatureMethod, SignatureVersion, SignatureNonce, Timestamp,
    // RegionId) and the signature one more: 990 of ours make 1000.
    let names: Vec<String> = (0..991).map(|i| format!("Extra{i}")).collect();
    let params: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    client
        .vpc("DescribeRegions", &params[..990])
        .await
        .expect("1000 parameters are accepted");
    match client.vpc("DescribeRegions", &params).await {
        Err(vpngw_client::ClientError::Api {
            status,
            code,
            message,
            ..
        }) => {
            assert_eq!((status, code.as_str()), (400, "InvalidParameter"));
            assert!(message.contains("1000"), "{message}");
        }
        other => panic!("1001 parameters: {other:?}"),
    }
}
