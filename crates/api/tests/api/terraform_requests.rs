//! In-process checks of requests exactly as terraform-provider-alicloud sends
//! them (the black-box replays are tests/sdk/test_terraform.py): the spellings
//! its JSON-string parameters use, which differ from the documented ones.

use crate::common::TestApi;

async fn health_check(api: &TestApi, vco: &str) -> serde_json::Value {
    api.ok("DescribeVpnConnection", &[("VpnConnectionId", vco)])
        .await["VcoHealthCheck"]
        .clone()
}

/// alicloud_vpn_connection creates with lower-case `HealthCheckConfig` keys and
/// modifies with capitalised ones (`Enable`, `Dip`, …): both must take effect,
/// or an update is silently lost and every plan shows it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_health_check_keys_match_without_case() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            (
                "HealthCheckConfig",
                r#"{"dip":"10.0.0.1","enable":true,"interval":10,"retry":10,"sip":"192.168.0.1"}"#,
            ),
        ],
    )
    .await;
    let hc = health_check(&api, &vco).await;
    assert_eq!(
        (&hc["Enable"], &hc["Dip"], &hc["Interval"], &hc["Retry"]),
        (
            &serde_json::json!("true"),
            &serde_json::json!("10.0.0.1"),
            &serde_json::json!(10),
            &serde_json::json!(10)
        )
    );
    let modified = api
        .ok(
            "ModifyVpnConnectionAttribute",
            &[
                ("VpnConnectionId", &vco),
                ("LocalSubnet", "10.0.0.0/8"),
                ("RemoteSubnet", "192.168.0.0/16"),
                (
                    "HealthCheckConfig",
                    r#"{"Dip":"10.0.0.2","Enable":true,"Interval":5,"Retry":3,"Sip":"192.168.0.2"}"#,
                ),
            ],
        )
        .await;
    assert_eq!(modified["VcoHealthCheck"]["Interval"], 5);
    let hc = health_check(&api, &vco).await;
    assert_eq!(hc["Dip"], "10.0.0.2");
    assert_eq!(hc["Sip"], "192.168.0.2");
    assert_eq!(hc["Interval"], 5);
    assert_eq!(hc["Retry"], 3);
    assert_eq!(hc["Policy"], "revoke_route");
    // Switched off by `{"Enable": false}` alone: the rest stays.
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            ("HealthCheckConfig", r#"{"Enable":false}"#),
        ],
    )
    .await;
    let hc = health_check(&api, &vco).await;
    assert_eq!(
        (hc["Enable"].as_str(), hc["Interval"].as_i64()),
        (Some("false"), Some(5))
    );
}

/// Keeping the routes when probes fail is `reserve_route` (SDK, Terraform) or
/// `keep_route`; each is answered as sent, anything else is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_policy_is_revoke_route_reserve_route_or_keep_route() {
    let api = TestApi::new().await;
    let (_, _, vco) = api.connection().await;
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            (
                "HealthCheckConfig",
                r#"{"enable":true,"dip":"10.0.0.1","sip":"192.168.0.1","policy":"reserve_route"}"#,
            ),
        ],
    )
    .await;
    assert_eq!(health_check(&api, &vco).await["Policy"], "reserve_route");
    api.ok(
        "ModifyVpnConnectionAttribute",
        &[
            ("VpnConnectionId", &vco),
            ("HealthCheckConfig", r#"{"Policy":"keep_route"}"#),
        ],
    )
    .await;
    assert_eq!(health_check(&api, &vco).await["Policy"], "keep_route");
    let refused = api
        .call(
            "ModifyVpnConnectionAttribute",
            &[
                ("VpnConnectionId", &vco),
                ("HealthCheckConfig", r#"{"Policy":"drop_route","Retry":7}"#),
            ],
        )
        .await;
    assert_eq!((refused.status, refused.code()), (400, "InvalidParameter"));
    assert!(
        refused.body["Message"]
            .as_str()
            .unwrap()
            .contains("HealthCheckConfig.policy"),
        "{}",
        refused.body
    );
    let hc = health_check(&api, &vco).await;
    assert_eq!(
        (hc["Policy"].as_str(), hc["Retry"].as_i64()),
        (Some("keep_route"), Some(3))
    );
}
