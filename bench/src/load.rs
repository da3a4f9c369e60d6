//! The load generator: `concurrency` workers, each with its own keep-alive
//! HTTP/1.1 connection to 127.0.0.1, send signed POST requests until the
//! request budget or the time budget is spent.
//!
//! Every request is signed afresh (V1, HMAC-SHA1, a new `SignatureNonce`
//! and the current `Timestamp`), also against the bare server and moto, so
//! the client does the same work whatever it talks to. Signing happens
//! before the clock starts: a latency is the time from sending the request
//! to having read the whole answer.

use std::{
    collections::BTreeMap,
    net::{Ipv4Addr, SocketAddr},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;

use crate::stats::RunStats;

/// Signs requests with one access key (V1, as the legacy and tea-0.3 SDKs do).
#[derive(Clone)]
pub struct Signer {
    pub access_key_id: String,
    pub secret: String,
    /// Sent as `RegionId` unless the parameters name one.
    pub region: Option<String>,
}

/// `YYYY-MM-DDThh:mm:ssZ`, what the official clients send.
pub fn timestamp() -> String {
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

impl Signer {
    /// The signed form body of one request; `params` holds `Action`,
    /// `Version` and the operation's parameters.
    pub fn sign(&self, params: &[(String, String)]) -> anyhow::Result<String> {
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let ts = timestamp();
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Format", "JSON"),
            ("AccessKeyId", &self.access_key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &ts),
        ];
        if let Some(region) = &self.region
            && !params.iter().any(|(k, _)| k == "RegionId")
        {
            pairs.push(("RegionId", region));
        }
        pairs.extend(params.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        vpngw_protocol::sign::sign_v1_query("POST", &pairs, self.secret.as_bytes())
            .map_err(|e| anyhow::anyhow!("cannot sign: {} {}", e.code, e.message))
    }
}

/// Builds the parameters of request number `n` (0-based, across workers).
pub type MakeParams = Arc<dyn Fn(u64) -> Vec<(String, String)> + Send + Sync>;

/// `[("Action", action), ("Version", version), extra…]` as owned pairs.
pub fn params(action: &str, version: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = vec![
        ("Action".to_owned(), action.to_owned()),
        ("Version".to_owned(), version.to_owned()),
    ];
    out.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    out
}

/// TLS to 127.0.0.1, verified against the CA certificates in `ca` (PEM).
pub fn tls_connector(ca: &std::path::Path) -> anyhow::Result<tokio_rustls::TlsConnector> {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 (over TLS when given a
/// connector), opened again when the server closed it (moto's development
/// server closes after every answer).
pub struct Conn {
    port: u16,
    tls: Option<tokio_rustls::TlsConnector>,
    sender: Option<hyper::client::conn::http1::SendRequest<Full<Bytes>>>,
    authority: HeaderValue,
    extra_headers: Vec<(HeaderName, HeaderValue)>,
}

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

async fn open(port: u16, tls: Option<&tokio_rustls::TlsConnector>) -> anyhow::Result<Sender> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    match tls {
        None => handshake(stream).await,
        Some(connector) => {
            let name = rustls_pki_types::ServerName::IpAddress(Ipv4Addr::LOCALHOST.into());
            handshake(connector.connect(name, stream).await?).await
        }
    }
}

async fn handshake<I>(io: I) -> anyhow::Result<Sender>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

impl Conn {
    pub async fn connect(
        port: u16,
        tls: Option<tokio_rustls::TlsConnector>,
        extra_headers: Vec<(HeaderName, HeaderValue)>,
    ) -> anyhow::Result<Conn> {
        Ok(Conn {
            port,
            sender: Some(open(port, tls.as_ref()).await?),
            tls,
            authority: HeaderValue::from_str(&format!("127.0.0.1:{port}"))?,
            extra_headers,
        })
    }

    /// POSTs a form body to `/`; the status and the whole answer body.
    pub async fn post(&mut self, body: String) -> anyhow::Result<(u16, Bytes)> {
        let reusable = match self.sender.as_mut() {
            Some(s) => s.ready().await.is_ok(),
            None => false,
        };
        let mut sender = match self.sender.take() {
            Some(s) if reusable => s,
            _ => open(self.port, self.tls.as_ref()).await?,
        };
        let mut request = http::Request::post("/")
            .header(http::header::HOST, self.authority.clone())
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(Full::new(Bytes::from(body)))?;
        for (name, value) in &self.extra_headers {
            request.headers_mut().insert(name.clone(), value.clone());
        }
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        self.sender = Some(sender);
        Ok((status, bytes))
    }
}

/// One signed call on a fresh connection (for setup); the status and the
/// JSON answer.
pub async fn call(
    port: u16,
    signer: &Signer,
    params: &[(String, String)],
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut conn = Conn::connect(port, None, Vec::new()).await?;
    let (status, body) = conn.post(signer.sign(params)?).await?;
    let value = serde_json::from_slice(&body)
        .with_context(|| format!("answer is not JSON: {}", String::from_utf8_lossy(&body)))?;
    Ok((status, value))
}

/// [`call`] that insists on HTTP 200.
pub async fn ok(
    port: u16,
    signer: &Signer,
    params: &[(String, String)],
) -> anyhow::Result<serde_json::Value> {
    let (status, value) = call(port, signer, params).await?;
    anyhow::ensure!(status == 200, "{params:?} answered {status}: {value}");
    Ok(value)
}

/// The bounds and shape of one run.
#[derive(Clone)]
pub struct Spec {
    pub port: u16,
    pub concurrency: usize,
    /// Stop after this many requests…
    pub max_requests: u64,
    /// …or after this long, whichever comes first.
    pub max_duration: Duration,
    /// Headers added to every request (moto's `Authorization`).
    pub extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// HTTPS with this connector; `None`: plain HTTP.
    pub tls: Option<tokio_rustls::TlsConnector>,
}

struct WorkerStats {
    ok: u64,
    errors: BTreeMap<String, u64>,
    transport_errors: u64,
    latencies_us: Vec<u32>,
    body_bytes: usize,
}

/// Runs the load; `make(n)` gives the parameters of request `n`.
pub async fn run(spec: &Spec, signer: &Signer, make: MakeParams) -> RunStats {
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + spec.max_duration;
    let mut workers = Vec::with_capacity(spec.concurrency);
    for _ in 0..spec.concurrency.max(1) {
        let (next, make, signer, spec) = (next.clone(), make.clone(), signer.clone(), spec.clone());
        workers.push(tokio::spawn(async move {
            worker(&spec, &signer, &make, &next, deadline).await
        }));
    }
    let mut stats = RunStats::default();
    for w in workers {
        let Ok(w) = w.await else {
            stats.transport_errors += 1;
            continue;
        };
        stats.ok += w.ok;
        for (code, n) in w.errors {
            *stats.errors.entry(code).or_default() += n;
        }
        stats.transport_errors += w.transport_errors;
        stats.latencies_us.extend(w.latencies_us);
        stats.body_bytes = stats.body_bytes.max(w.body_bytes);
    }
    stats.elapsed = start.elapsed();
    stats.latencies_us.sort_unstable();
    stats
}

async fn worker(
    spec: &Spec,
    signer: &Signer,
    make: &MakeParams,
    next: &AtomicU64,
    deadline: Instant,
) -> WorkerStats {
    let mut out = WorkerStats {
        ok: 0,
        errors: BTreeMap::new(),
        transport_errors: 0,
        latencies_us: Vec::with_capacity(4096),
        body_bytes: 0,
    };
    let mut conn: Option<Conn> = None;
    loop {
        if Instant::now() >= deadline {
            break;
        }
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= spec.max_requests {
            break;
        }
        let body = match signer.sign(&make(n)) {
            Ok(b) => b,
            Err(_) => {
                out.transport_errors += 1;
                continue;
            }
        };
        if conn.is_none() {
            match Conn::connect(spec.port, spec.tls.clone(), spec.extra_headers.clone()).await {
                Ok(c) => conn = Some(c),
                Err(_) => {
                    out.transport_errors += 1;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        let sent = Instant::now();
        match c.post(body).await {
            Ok((status, bytes)) => {
                let us = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX);
                out.latencies_us.push(us);
                if (200..300).contains(&status) {
                    out.ok += 1;
                    out.body_bytes = bytes.len();
                } else {
                    let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                        .ok()
                        .and_then(|v| v["Code"].as_str().map(str::to_owned))
                        .unwrap_or_else(|| format!("HTTP {status}"));
                    *out.errors.entry(code).or_default() += 1;
                }
            }
            Err(_) => {
                out.transport_errors += 1;
                conn = None;
            }
        }
    }
    out
}
