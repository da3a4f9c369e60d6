//! The web console: static files embedded in the binary, served at
//! `/console/`. The page signs its API calls itself (ACS3-HMAC-SHA256 with
//! WebCrypto) and talks to the ordinary RPC endpoint, so the server has no
//! console API, no cookies and no sessions to protect.
//!
//! One helper is served beside the files: `POST /console/swanctl.conf`
//! turns a connection the page has already read (DescribeVpnConnection,
//! its DescribeVpnGateway and its customer gateways' addresses, all signed
//! calls of the caller) into the peer's strongSwan configuration, with the
//! data plane's own renderer (`mirror` + `render_gateway`, the same code
//! the agent and `vpngw lab` run). It reads no state and needs no key: it
//! only renders what it is sent.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::Path,
    http::{StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

/// The page's files: name, content type, text.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("console/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("console/app.js"),
    ),
    (
        "api.js",
        "text/javascript; charset=utf-8",
        include_str!("console/api.js"),
    ),
    (
        "ui.js",
        "text/javascript; charset=utf-8",
        include_str!("console/ui.js"),
    ),
    (
        "topology.js",
        "text/javascript; charset=utf-8",
        include_str!("console/topology.js"),
    ),
    (
        "pages.js",
        "text/javascript; charset=utf-8",
        include_str!("console/pages.js"),
    ),
    (
        "forms.js",
        "text/javascript; charset=utf-8",
        include_str!("console/forms.js"),
    ),
    (
        "page-kit.js",
        "text/javascript; charset=utf-8",
        include_str!("console/page-kit.js"),
    ),
    (
        "remote-access.js",
        "text/javascript; charset=utf-8",
        include_str!("console/remote-access.js"),
    ),
];

/// Only same-origin scripts and styles, no framing: the page holds an access key.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { asset("index.html") }))
        .route("/console/swanctl.conf", post(swanctl_conf))
        .route(
            "/console/{file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

fn asset(name: &str) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(n, ..)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, *content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        *body,
    )
        .into_response()
}

/// What the page sends to have a connection's peer side rendered.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PeerRequest {
    /// DescribeVpnConnection's answer (read as DescribeVpnConnections'
    /// item, which has every key the data plane needs).
    pub connection: vpngw_model::dataplane::ConnectionAnswer,
    /// DescribeVpnGateway's answer for the connection's gateway.
    pub gateway: vpngw_model::dataplane::GatewayAnswer,
    /// `CustomerGatewayId` → `IpAddress` of the connection's customer gateways.
    #[serde(default)]
    pub customer_gateways: HashMap<String, String>,
}

/// The customer's side of a connection as a `swanctl.conf`, or why it
/// cannot be rendered.
pub fn peer_swanctl_conf(req: &PeerRequest) -> Result<String, String> {
    let fetched = crate::agent::desired::FetchedConnection::from_view(
        &req.connection,
        &req.gateway,
        &|id| req.customer_gateways.get(id).cloned(),
    )?;
    let desired = fetched.desired?;
    let peer = vpngw_dataplane::mirror(&desired);
    let rendered = vpngw_dataplane::render_gateway(&peer, &Default::default());
    Ok(rendered.to_swanctl_conf())
}

async fn swanctl_conf(Json(req): Json<PeerRequest>) -> Response {
    let headers = [
        (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    match peer_swanctl_conf(&req) {
        Ok(text) => (StatusCode::OK, headers, text).into_response(),
        Err(why) => (StatusCode::UNPROCESSABLE_ENTITY, headers, why).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peer_side_of_a_connection() {
        let req = PeerRequest {
            connection: serde_json::from_value(serde_json::json!({
                "VpnConnectionId": "vco-test1", "VpnGatewayId": "vpn-test1",
                "CustomerGatewayId": "cgw-test1", "LocalSubnet": "10.0.0.0/16",
                "RemoteSubnet": "192.168.0.0/24", "EffectImmediately": true,
                "EnableDpd": true, "EnableNatTraversal": true,
                "IkeConfig": {"IkeVersion": "ikev2", "IkeMode": "main", "IkeEncAlg": "aes",
                    "IkeAuthAlg": "sha1", "IkePfs": "group2", "IkeLifetime": 86400,
                    "LocalId": "198.18.0.10", "RemoteId": "203.0.113.5", "Psk": "peer-psk-1"},
                "IpsecConfig": {"IpsecEncAlg": "aes", "IpsecAuthAlg": "sha1", "IpsecPfs": "group2",
                    "IpsecLifetime": 86400}
            }))
            .unwrap(),
            gateway: serde_json::from_value(
                serde_json::json!({"VpnGatewayId": "vpn-test1", "InternetIp": "198.18.0.10"}),
            )
            .unwrap(),
            customer_gateways: [("cgw-test1".to_owned(), "203.0.113.5".to_owned())].into(),
        };
        let conf = match peer_swanctl_conf(&req) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        // The customer's side: its own address local, the gateway remote, subnets swapped.
        assert!(conf.contains("local_addrs = 203.0.113.5"), "{conf}");
        assert!(conf.contains("remote_addrs = 198.18.0.10"), "{conf}");
        assert!(conf.contains("local_ts = 192.168.0.0/24"), "{conf}");
        assert!(conf.contains("remote_ts = 10.0.0.0/16"), "{conf}");
        assert!(conf.contains("secret = \"peer-psk-1\""), "{conf}");
        assert!(!conf.contains("not rendered"), "{conf}");
        let mut bad = req;
        bad.connection.vpn_connection_id = String::new();
        assert!(peer_swanctl_conf(&bad).is_err());
    }

    #[test]
    fn every_asset_is_served_with_the_csp() {
        for (name, ..) in ASSETS {
            let r = asset(name);
            assert_eq!(r.status(), StatusCode::OK, "{name}");
            assert!(r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        }
        assert_eq!(asset("../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }
}
