//! criterion microbenchmarks of the request hot path (`cargo bench -p
//! vpngw-bench`): parameter decoding, V1 signature verification, response
//! encoding, the sealed-secret open, and the whole in-process pipeline of
//! one DescribeVpnConnection. Figures and commands: BENCHMARKS.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{hint::black_box, sync::Arc};

use criterion::{Criterion, criterion_group, criterion_main};
use vpngw_protocol::{Format, Params, RawRequest, encode_success, parse};

const KEY_ID: &str = "LTAImicrobench0000000001";
const SECRET: &str = "micro-secret";

/// A signed V1 form body, as a client would send it.
fn signed_form(action: &str, extra: &[(&str, &str)]) -> String {
    let mut pairs = vec![
        ("Action", action),
        ("Version", "2016-04-28"),
        ("Format", "JSON"),
        ("AccessKeyId", KEY_ID),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "3f5c1a7e9b2d4c6e8f0a1b2c3d4e5f60"),
        ("Timestamp", "2026-11-25T12:00:00Z"),
        ("RegionId", "cn-hangzhou"),
    ];
    pairs.extend_from_slice(extra);
    vpngw_protocol::sign::sign_v1_query("POST", &pairs, SECRET.as_bytes()).unwrap()
}

fn create_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("VpnGatewayId", "vpn-bp1q8bgx4xnkm2ogj0000"),
        ("CustomerGatewayId", "cgw-bp1pvpl9r9adju6l50000"),
        ("LocalSubnet", "10.0.0.0/8,172.16.0.0/12"),
        ("RemoteSubnet", "192.168.0.0/16"),
        ("Name", "bench-connection"),
        ("EffectImmediately", "false"),
        (
            "IkeConfig",
            r#"{"IkeVersion":"ikev2","IkeMode":"main","IkeEncAlg":"aes256","IkeAuthAlg":"sha256","IkePfs":"group14","IkeLifetime":86400}"#,
        ),
        (
            "IpsecConfig",
            r#"{"IpsecEncAlg":"aes256","IpsecAuthAlg":"sha256","IpsecPfs":"group14","IpsecLifetime":3600}"#,
        ),
        ("ClientToken", "0c593ea1-3bea-11e9-b96b-88e9fe637760"),
    ]
}

fn form_request<'a>(headers: &'a http::HeaderMap, body: &'a [u8]) -> RawRequest<'a> {
    RawRequest {
        method: &http::Method::POST,
        query: None,
        headers,
        body,
    }
}

fn form_headers() -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h
}

fn decoding(c: &mut Criterion) {
    let form = signed_form("CreateVpnConnection", &create_params());
    let headers = form_headers();
    c.bench_function(
        "params: Params::from_form, CreateVpnConnection (19 pairs)",
        |b| b.iter(|| Params::from_form(black_box(&form)).unwrap()),
    );
    c.bench_function("params: parse (request), CreateVpnConnection", |b| {
        b.iter(|| parse(&form_request(&headers, black_box(form.as_bytes()))).unwrap())
    });
    let tunnels: String = (1..=2)
        .flat_map(|i| {
            [
                format!("TunnelOptionsSpecification.{i}.CustomerGatewayId=cgw-{i}"),
                format!("TunnelOptionsSpecification.{i}.Role=master"),
                format!("TunnelOptionsSpecification.{i}.TunnelIkeConfig.Psk=psk{i}"),
                format!("TunnelOptionsSpecification.{i}.TunnelIkeConfig.IkeLifetime=86400"),
                format!("TunnelOptionsSpecification.{i}.TunnelIpsecConfig.IpsecPfs=group2"),
            ]
        })
        .collect::<Vec<_>>()
        .join("&");
    let p = Params::from_form(&tunnels).unwrap();
    c.bench_function(
        "params: objects(TunnelOptionsSpecification), 2 x 5 fields",
        |b| b.iter(|| black_box(&p).objects("TunnelOptionsSpecification").unwrap()),
    );
}

fn signature(c: &mut Criterion) {
    let headers = form_headers();
    let describe = signed_form("DescribeVpnConnection", &[("VpnConnectionId", "vco-bp1")]);
    let req = parse(&form_request(&headers, describe.as_bytes())).unwrap();
    c.bench_function("signature: V1 verify, DescribeVpnConnection", |b| {
        b.iter(|| black_box(&req).verify_signature(SECRET.as_bytes()).unwrap())
    });
    let create = signed_form("CreateVpnConnection", &create_params());
    let req = parse(&form_request(&headers, create.as_bytes())).unwrap();
    c.bench_function("signature: V1 verify, CreateVpnConnection", |b| {
        b.iter(|| black_box(&req).verify_signature(SECRET.as_bytes()).unwrap())
    });
    c.bench_function("signature: V1 string to sign, CreateVpnConnection", |b| {
        b.iter(|| black_box(&req).string_to_sign())
    });
}

/// A DescribeVpnConnection answer as the API produces it.
fn describe_answer(rt: &tokio::runtime::Runtime, api: &Api) -> serde_json::Value {
    let (encoded, _) =
        rt.block_on(api.call("DescribeVpnConnection", &[("VpnConnectionId", &api.vco)]));
    let mut v: serde_json::Value = serde_json::from_slice(&encoded.body).unwrap();
    assert!(v["VpnConnectionId"].is_string(), "{v}");
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("RequestId");
    }
    v
}

fn encoding(c: &mut Criterion) {
    let rt = runtime();
    let api = rt.block_on(Api::new());
    let answer = describe_answer(&rt, &api);
    c.bench_function("encode: DescribeVpnConnection answer, JSON", |b| {
        b.iter(|| encode_success(Format::Json, "DescribeVpnConnection", black_box(&answer)))
    });
    c.bench_function("encode: DescribeVpnConnection answer, XML", |b| {
        b.iter(|| encode_success(Format::Xml, "DescribeVpnConnection", black_box(&answer)))
    });
    // From the typed answer, as handlers return it: the old way (a Value,
    // then RequestId, then text) and the way `vpc::reply` does it now.
    let view = describe_view(&rt, &api);
    let rid = "5F0E3C4A-94B5-4F4B-8B5D-6E5A1B2C3D4E";
    c.bench_function(
        "encode: DescribeVpnConnection view, via serde_json::Value",
        |b| {
            b.iter(|| {
                let mut v = serde_json::to_value(black_box(&view)).unwrap();
                if let serde_json::Value::Object(m) = &mut v {
                    m.insert("RequestId".into(), rid.into());
                }
                encode_success(Format::Json, "DescribeVpnConnection", &v)
            })
        },
    );
    c.bench_function("encode: DescribeVpnConnection view, JsonAnswer", |b| {
        b.iter(|| {
            vpngw_protocol::JsonAnswer::new(black_box(&view))
                .unwrap()
                .to_json_with(&[("RequestId", rid)])
        })
    });
}

/// DescribeVpnConnection's typed answer, as its handler returns it.
fn describe_view(
    rt: &tokio::runtime::Runtime,
    api: &Api,
) -> vpngw_ops::vpc::describe_vpn_connection::Answer {
    serde_json::from_value(describe_answer(rt, api)).unwrap()
}

fn secrets(c: &mut Criterion) {
    let key = vpngw_identity::MasterKey::generate();
    let sealer = vpngw_identity::SecretBox::new(key.clone());
    let sealed = sealer.seal_str(
        "a-40-character-access-key-secret-0123456",
        b"accesskey:LTAI1",
    );
    c.bench_function("secret: SecretBox::open_str (XChaCha20-Poly1305)", |b| {
        b.iter(|| {
            sealer
                .open_str(black_box(&sealed), b"accesskey:LTAI1")
                .unwrap()
        })
    });
    let secrets = vpngw_api::Secrets::new(key);
    let sealed = secrets.seal(
        "a-40-character-access-key-secret-0123456",
        "accesskey:LTAI1",
    );
    c.bench_function("secret: Secrets::open_secret (memoized)", |b| {
        b.iter(|| {
            secrets
                .open_secret(black_box(&sealed), "accesskey:LTAI1")
                .unwrap()
        })
    });
}

fn pipeline(c: &mut Criterion) {
    let rt = runtime();
    let api = rt.block_on(Api::new());
    c.bench_function(
        "pipeline: DescribeVpnConnection in process (sign, parse, auth, SQLite, encode)",
        |b| {
            b.iter(|| {
                rt.block_on(api.call("DescribeVpnConnection", &[("VpnConnectionId", &api.vco)]))
            })
        },
    );
    // What the server spends: requests signed beforehand (each with its own
    // nonce), only `Service::call` measured.
    c.bench_function(
        "pipeline: DescribeVpnConnection in process, server side (parse, auth, SQLite, encode)",
        |b| {
            b.iter_batched(
                || api.signed("DescribeVpnConnection", &[("VpnConnectionId", &api.vco)]),
                |body| {
                    let headers = form_headers();
                    rt.block_on(api.service.call(&form_request(&headers, body.as_bytes())))
                },
                criterion::BatchSize::SmallInput,
            )
        },
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The API in process on a temporary SQLite store, with one connection.
struct Api {
    service: vpngw_api::Service,
    vco: String,
    _dir: tempfile::TempDir,
}

impl Api {
    async fn new() -> Api {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(vpngw_store::sqlite::SqliteStore::open(dir.path()).unwrap());
        let secrets = vpngw_api::Secrets::new(vpngw_identity::MasterKey::generate());
        vpngw_api::bootstrap::ensure_root(
            &*store,
            &secrets,
            Some((KEY_ID.into(), SECRET.into())),
            0,
        )
        .await
        .unwrap();
        let config = vpngw_api::Config {
            gateway_provision_delay_ms: 0,
            ..vpngw_api::Config::default()
        };
        let mut api = Api {
            service: vpngw_api::Service::new(store, config, secrets),
            vco: String::new(),
            _dir: dir,
        };
        let gw = api
            .ok(
                "CreateVpnGateway",
                &[("VpcId", "vpc-bench"), ("Bandwidth", "10")],
            )
            .await;
        let cgw = api
            .ok("CreateCustomerGateway", &[("IpAddress", "172.24.1.1")])
            .await;
        let vco = api
            .ok(
                "CreateVpnConnection",
                &[
                    ("VpnGatewayId", gw["VpnGatewayId"].as_str().unwrap()),
                    (
                        "CustomerGatewayId",
                        cgw["CustomerGatewayId"].as_str().unwrap(),
                    ),
                    ("LocalSubnet", "10.0.0.0/8"),
                    ("RemoteSubnet", "192.168.0.0/16"),
                ],
            )
            .await;
        api.vco = vco["VpnConnectionId"].as_str().unwrap().to_owned();
        api
    }

    /// A signed form body for `action`, with a fresh nonce.
    fn signed(&self, action: &str, params: &[(&str, &str)]) -> String {
        let signer = vpngw_bench::load::Signer {
            access_key_id: KEY_ID.into(),
            secret: SECRET.into(),
            region: Some("cn-hangzhou".into()),
        };
        signer
            .sign(&vpngw_bench::load::params(action, "2016-04-28", params))
            .unwrap()
    }

    async fn call(
        &self,
        action: &str,
        params: &[(&str, &str)],
    ) -> (vpngw_protocol::Encoded, vpngw_api::Outcome) {
        let body = self.signed(action, params);
        let headers = form_headers();
        self.service
            .call(&form_request(&headers, body.as_bytes()))
            .await
    }

    async fn ok(&self, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let (encoded, _) = self.call(action, params).await;
        let v: serde_json::Value = serde_json::from_slice(&encoded.body).unwrap();
        assert_eq!(encoded.status, 200, "{action}: {v}");
        v
    }
}

criterion_group!(benches, decoding, signature, encoding, secrets, pipeline);
criterion_main!(benches);
