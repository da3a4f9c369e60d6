//! A small signed RPC client: V1 (HMAC-SHA1) signatures, form-encoded POST,
//! JSON answers, over HTTP or HTTPS. Used by `vpngw agent`, `vpngw lab` and
//! `vpngw vpc|ram|sts` to talk to a vpngw server exactly like any other
//! client does.
//!
//! An `https://` endpoint is always verified: against the system's trusted
//! CAs, or only against the CA certificates of a file given with
//! [`Client::ca_file`] (e.g. the CA of `vpngw serve --tls self-signed`).
//! There is no way to skip verification.
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

use std::{path::Path, sync::Arc, time::Duration};

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
    /// The server's certificate was refused (or the TLS handshake failed): permanent until the
    /// client is told which CA to trust, so callers do not retry it.
    #[error("{0}")]
    Tls(String),
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

/// A JSON answer as its type.
fn typed<T: serde::de::DeserializeOwned>(
    action: &str,
    answer: serde_json::Value,
) -> Result<T, ClientError> {
    serde_json::from_value(answer).map_err(|e| ClientError::Decode {
        status: 200,
        detail: format!("{action}: {e}"),
    })
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

/// How calls reach the server.
#[derive(Clone)]
enum Transport {
    Http,
    /// TLS, verified against the roots of the connector.
    Https(tokio_rustls::TlsConnector),
}

/// A signed client for one endpoint, account key and region.
#[derive(Clone)]
pub struct Client {
    transport: Transport,
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
            .field("endpoint", &self.endpoint())
            .field("access_key_id", &self.access_key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// `http://host:port` or `https://host:port` (`host:port` alone is HTTP);
/// the port defaults to the scheme's.
fn parse_endpoint(server: &str) -> Result<(bool, String, u16), ClientError> {
    let (https, rest) = match server.split_once("://") {
        Some(("https", rest)) => (true, rest),
        Some(("http", rest)) => (false, rest),
        Some((scheme, _)) => {
            return Err(ClientError::Config(format!(
                "{server:?}: the scheme is http or https, not {scheme}"
            )));
        }
        None => (false, server),
    };
    let default_port = if https { 443 } else { 80 };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() {
        return Err(ClientError::Config(format!("no host in {server:?}")));
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => match p.parse::<u16>() {
            Ok(port) => (h.to_string(), port),
            Err(_) => return Err(ClientError::Config(format!("bad port in {server:?}"))),
        },
        _ => (authority.to_string(), default_port),
    };
    Ok((https, host.trim_matches(['[', ']']).to_string(), port))
}

/// The TLS settings of every HTTPS call: verified against `roots`, HTTP/1.1.
fn connector(roots: rustls::RootCertStore) -> Result<tokio_rustls::TlsConnector, ClientError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// The system's trusted CAs (an empty set when none are found: every
/// HTTPS call then fails verification, saying so).
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let _ = roots.add_parsable_certificates(found.certs);
    roots
}

/// The CA certificates of a PEM file.
fn file_roots(path: &Path) -> Result<rustls::RootCertStore, ClientError> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    let bad = |detail: String| ClientError::Config(format!("CA file {}: {detail}", path.display()));
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| bad(format!("unusable certificate ({e})")))?;
    }
    Ok(roots)
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
    /// A client for `server` (`http://host:port` or `https://host:port`;
    /// HTTPS trusts the system's CAs until [`Client::ca_file`] says otherwise).
    pub fn new(
        server: &str,
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        region: impl Into<String>,
    ) -> Result<Client, ClientError> {
        let (https, host, port) = parse_endpoint(server)?;
        let transport = if https {
            Transport::Https(connector(system_roots())?)
        } else {
            Transport::Http
        };
        let access_key_id = access_key_id.into();
        let secret = access_key_secret.into();
        if access_key_id.is_empty() || secret.is_empty() {
            return Err(ClientError::Config("empty access key".into()));
        }
        Ok(Client {
            transport,
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

    /// Verify an HTTPS server against the CA certificates in the PEM file at
    /// `path` only (not the system's). No effect on an `http://` endpoint.
    pub fn ca_file(mut self, path: &Path) -> Result<Client, ClientError> {
        let roots = file_roots(path)?;
        if let Transport::Https(_) = self.transport {
            self.transport = Transport::Https(connector(roots)?);
        }
        Ok(self)
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

    /// `http://host:port` or `https://host:port`.
    pub fn endpoint(&self) -> String {
        let scheme = match self.transport {
            Transport::Http => "http",
            Transport::Https(_) => "https",
        };
        if self.host.contains(':') {
            format!("{scheme}://[{}]:{}", self.host, self.port)
        } else {
            format!("{scheme}://{}:{}", self.host, self.port)
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

    /// [`Client::vpc`], its answer read into `T` (an answer type of
    /// `vpngw_ops`, which names and types every key as the SDK models do);
    /// an answer that does not fit is [`ClientError::Decode`].
    pub async fn vpc_typed<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        typed(action, self.vpc(action, params).await?)
    }

    /// [`Client::vpngw`], its answer read into `T`.
    pub async fn vpngw_typed<T: serde::de::DeserializeOwned>(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        typed(action, self.vpngw(action, params).await?)
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
        let (mut sender, driver) = match &self.transport {
            Transport::Http => handshake(stream).await?,
            Transport::Https(connector) => {
                let name = rustls_pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| ClientError::Config(format!("{}: {e}", self.endpoint())))?;
                let tls = connector.connect(name, stream).await.map_err(|e| {
                    ClientError::Tls(format!(
                        "TLS with {}: {e} (to trust the server's CA, give its certificate \
                         file: --ca-file, VPNGW_CA_FILE)",
                        self.endpoint()
                    ))
                })?;
                handshake(tls).await?
            }
        };
        let default_port = match self.transport {
            Transport::Http => 80,
            Transport::Https(_) => 443,
        };
        let authority = if self.port == default_port {
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

/// HTTP/1.1 over `io`; the connection is driven by a task the caller
/// aborts when done.
async fn handshake<I>(
    io: I,
) -> Result<
    (
        hyper::client::conn::http1::SendRequest<Full<Bytes>>,
        tokio::task::JoinHandle<()>,
    ),
    ClientError,
>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ClientError::Transport(e.to_string()))?;
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok((sender, driver))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(
            parse_endpoint("http://127.0.0.1:8080").unwrap(),
            (false, "127.0.0.1".into(), 8080)
        );
        assert_eq!(
            parse_endpoint("localhost").unwrap(),
            (false, "localhost".into(), 80)
        );
        assert_eq!(
            parse_endpoint("http://[::1]:9/").unwrap(),
            (false, "::1".into(), 9)
        );
        assert_eq!(
            parse_endpoint("https://localhost").unwrap(),
            (true, "localhost".into(), 443)
        );
        assert_eq!(
            parse_endpoint("https://127.0.0.1:8443/").unwrap(),
            (true, "127.0.0.1".into(), 8443)
        );
        assert!(parse_endpoint("ftp://x").is_err());
        assert!(parse_endpoint("http://h:notaport").is_err());
    }

    #[test]
    fn a_ca_file_must_hold_pem_certificates() {
        let dir = std::env::temp_dir().join(format!("vpngw-client-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let client = || Client::new("https://localhost:1", "id", "secret", "cn-hangzhou").unwrap();
        let missing = dir.join("missing.pem");
        let e = client().ca_file(&missing).unwrap_err().to_string();
        assert!(e.contains("missing.pem"), "{e}");
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, b"hello").unwrap();
        let e = client().ca_file(&not_pem).unwrap_err().to_string();
        assert!(
            e.contains("not.pem") && e.contains("no PEM certificate"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
