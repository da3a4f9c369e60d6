//! A small signed RPC client: V1 (HMAC-SHA1) signatures, form-encoded POST,
//! JSON answers, over plain HTTP. Used by `vpngw agent` and `vpngw lab` to
//! talk to a vpngw server exactly like any other client does.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vpngw_client::ClientError> {
//! let client = vpngw_client::Client::from_env("http://127.0.0.1:8080", "cn-hangzhou")?;
//! let gw = client.vpc("DescribeVpnGateway", &[("VpnGatewayId", "vpn-…")]).await?;
//! println!("{}", gw["InternetIp"]);
//! # Ok(()) }
//! ```
//!
//! Each call opens its own connection (the server is local and calls are
//! few); a call that does not answer within [`Client::timeout`] fails with
//! [`ClientError::Timeout`].

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

/// `Version` of the VPC product.
pub const VPC_VERSION: &str = "2016-04-28";
/// `Version` of vpngw's own product (`ReportDataplaneState`).
pub const VPNGW_VERSION: &str = "2025-01-01";

/// Environment variables holding the credentials, as the official SDKs read them.
pub const ENV_ACCESS_KEY_ID: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
/// See [`ENV_ACCESS_KEY_ID`].
pub const ENV_ACCESS_KEY_SECRET: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/// What went wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Bad endpoint or missing credentials.
    #[error("{0}")]
    Config(String),
    /// The server could not be reached or the connection broke.
    #[error("transport: {0}")]
    Transport(String),
    /// No answer in time.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The server answered with an error.
    #[error("{code}: {message} (HTTP {status}, RequestId {request_id})")]
    Api {
        /// HTTP status.
        status: u16,
        /// The error code, e.g. `InvalidVpnGatewayInstanceId.NotFound`.
        code: String,
        /// The message.
        message: String,
        /// The request id.
        request_id: String,
    },
    /// The answer was not JSON.
    #[error("undecodable answer (HTTP {status}): {detail}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        detail: String,
    },
}

impl ClientError {
    /// The API error code, if the server answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True for the cloud's `….NotFound` codes.
    pub fn is_not_found(&self) -> bool {
        self.code().is_some_and(|c| c.ends_with(".NotFound"))
    }
}

/// A signed client for one endpoint, account key and region.
#[derive(Clone)]
pub struct Client {
    host: String,
    port: u16,
    access_key_id: String,
    secret: String,
    region: String,
    timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &format!("http://{}:{}", self.host, self.port))
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

fn parse_endpoint(server: &str) -> Result<(String, u16), ClientError> {
    let rest = server.strip_prefix("http://").unwrap_or(server);
    if rest.starts_with("https://") || server.starts_with("https://") {
        return Err(ClientError::Config(
            "https endpoints are not supported by this client; use http:// to a local server"
                .into(),
        ));
    }
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(ClientError::Config(format!("no host in {server:?}")));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h.to_string(), port),
            Err(_) => return Err(ClientError::Config(format!("bad port in {server:?}"))),
        },
        _ => (authority.to_string(), 80),
    };
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

/// `YYYY-MM-DDThh:mm:ssZ` (what the official clients send).
fn timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl Client {
    /// A client for `server` (`http://host:port`).
    pub fn new(
        server: &str,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        region: impl Into<String>,
    ) -> Result<Client, ClientError> {
        let (host, port) = parse_endpoint(server)?;
        let access_key_id = access_key_id.into();
        let secret = access_key_secret.into();
        if access_key_id.is_empty() || secret.is_empty() {
            return Err(ClientError::Config("empty access key".into()));
        }
        Ok(Client {
            host,
            port,
            access_key_id,
            secret,
            region: region.into(),
            timeout: Duration::from_secs(30),
        })
    }

    /// A client with the credentials of [`ENV_ACCESS_KEY_ID`] and
    /// [`ENV_ACCESS_KEY_SECRET`].
    pub fn from_env(server: &str, region: impl Into<String>) -> Result<Client, ClientError> {
        let id = std::env::var(ENV_ACCESS_KEY_ID).unwrap_or_default();
        let secret = std::env::var(ENV_ACCESS_KEY_SECRET).unwrap_or_default();
        if id.is_empty() || secret.is_empty() {
            return Err(ClientError::Config(format!(
                "set {ENV_ACCESS_KEY_ID} and {ENV_ACCESS_KEY_SECRET}"
            )));
        }
        Client::new(server, id, secret, region)
    }

    /// Per-call timeout (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The region sent as `RegionId` when a call does not name one.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// `http://host:port`.
    pub fn endpoint(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }

    /// A VPC operation.
    pub async fn vpc(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, ClientError> {
        self.call(VPC_VERSION, action, params).await
    }

    /// A vpngw operation.
    pub async fn vpngw(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, ClientError> {
        self.call(VPNGW_VERSION, action, params).await
    }

    /// Any operation: signs `params` plus the common parameters (V1,
    /// HMAC-SHA1, JSON) and POSTs them as a form.
    pub async fn call(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, ClientError> {
        Ok(self.call_text(version, action, params).await?.0)
    }

    /// [`Client::call`], also returning the answer's text as received (for
    /// printing it with the server's key order).
    pub async fn call_text(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<(serde_json::Value, String), ClientError> {
        let nonce = uuid::Uuid::new_v4().to_string();
        let ts = timestamp();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", &self.access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &ts),
        ];
        if !params.iter().any(|(k, _)| *k == "RegionId") {
            pairs.push(("RegionId", &self.region));
        }
        pairs.extend_from_slice(params);
        let body = vpngw_protocol::sign::sign_v1_query("POST", &pairs, self.secret.as_bytes())
            .map_err(|e| ClientError::Config(format!("cannot sign: {}", e.message)))?;
        match tokio::time::timeout(self.timeout, self.post(body)).await {
            Ok(r) => r,
            Err(_) => Err(ClientError::Timeout(self.timeout)),
        }
    }

    async fn post(&self, body: String) -> Result<(serde_json::Value, String), ClientError> {
        let transport = |e: &dyn std::fmt::Display| ClientError::Transport(e.to_string());
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| {
                ClientError::Transport(format!("connecting to {}: {e}", self.endpoint()))
            })?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| transport(&e))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let authority = if self.port == 80 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        };
        let request = http::Request::post("/")
            .header(http::header::HOST, authority)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| transport(&e))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| transport(&e))?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(&e))?
            .to_bytes();
        driver.abort();
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode {
                status,
                detail: format!(
                    "{e}: {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                ),
            })?;
        if status >= 400 {
            let s = |k: &str| {
                value
                    .get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            return Err(ClientError::Api {
                status,
                code: s("Code"),
                message: s("Message"),
                request_id: s("RequestId"),
            });
        }
        Ok((value, String::from_utf8_lossy(&bytes).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8080").unwrap(),
            ("127.0.0.1".into(), 8080)
        );
        assert_eq!(
            parse_endpoint("localhost").unwrap(),
            ("localhost".into(), 80)
        );
        assert_eq!(
            parse_endpoint("http://[::1]:9/").unwrap(),
            ("::1".into(), 9)
        );
        assert!(parse_endpoint("https://x").is_err());
        assert!(parse_endpoint("http://h:notaport").is_err());
    }

    #[test]
    fn timestamp_shape() {
        let t = timestamp();
        assert_eq!(t.len(), 20);
        assert!(t.ends_with('Z'));
        assert_eq!(&t[10..11], "T");
    }

    #[tokio::test]
    async fn unreachable_server_is_a_transport_error() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let c = Client::new(
            &format!("http://127.0.0.1:{port}"),
            "id",
            "secret",
            "cn-hangzhou",
        )
        .unwrap();
        let e = c.vpc("DescribeRegions", &[]).await.unwrap_err();
        assert!(matches!(e, ClientError::Transport(_)), "{e}");
    }
}
