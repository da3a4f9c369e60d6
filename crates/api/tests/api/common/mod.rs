//! An in-process API for tests: a real SQLite store in a temp dir, a real
//! master key, and requests signed with V1 exactly as a client signs them.
//! No sockets, no sleeps.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use vpngw_api::{Config, Secrets, Service};
use vpngw_identity::MasterKey;
use vpngw_store::sqlite::SqliteStore;

pub const KEY_ID: &str = "LTAItestkey0000000000000";
pub const SECRET: &str = "testsecret";

pub struct TestApi {
    pub service: Service,
    _dir: tempfile::TempDir,
}

/// A response: HTTP status and the parsed JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }

    /// The body without the fields that change every run, for snapshots.
    pub fn stable(&self) -> serde_json::Value {
        let mut b = self.body.clone();
        redact(&mut b);
        b
    }
}

fn redact(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let volatile = matches!(
                    k.as_str(),
                    "RequestId"
                        | "Recommend"
                        | "CreateTime"
                        | "EndTime"
                        | "OrderId"
                        | "Psk"
                        | "InternetIp"
                        | "DisasterRecoveryInternetIp"
                        | "LocalId"
                        | "RemoteId"
                ) || k.ends_with("Id")
                    && val.as_str().is_some_and(|s| {
                        s.contains('-')
                            && s.len() > 10
                            && !s.starts_with("cn-")
                            && !s.starts_with("rg-")
                            && !s.starts_with("vpc-")
                            && !s.starts_with("vsw-")
                    });
                if volatile && !val.is_null() && val != "" {
                    *val = Value::String(format!("[{k}]"));
                } else {
                    redact(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

impl TestApi {
    pub async fn new() -> TestApi {
        Self::with_config(Config {
            gateway_provision_delay_ms: 0,
            ..Config::default()
        })
        .await
    }

    pub async fn with_config(config: Config) -> TestApi {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
        let secrets = Secrets::new(MasterKey::generate());
        vpngw_api::bootstrap::ensure_root(
            &*store,
            &secrets,
            Some((KEY_ID.into(), SECRET.into())),
            0,
        )
        .await
        .unwrap();
        TestApi {
            service: Service::new(store, config, secrets),
            _dir: dir,
        }
    }

    /// Calls `action` of Vpc 2016-04-28 in cn-hangzhou (unless `params`
    /// names another RegionId), signed with the root key.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Answer {
        self.call_as(KEY_ID, SECRET, "2016-04-28", action, params)
            .await
    }

    pub async fn call_as(
        &self,
        key_id: &str,
        secret: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> Answer {
        self.signed(key_id, secret, version, action, params, true)
            .await
    }

    /// A call signed with `key_id`, with exactly `params` (no default
    /// `RegionId` unless `default_region`).
    pub async fn signed(
        &self,
        key_id: &str,
        secret: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        default_region: bool,
    ) -> Answer {
        let nonce = uuid_like();
        let t = time::OffsetDateTime::now_utc();
        let timestamp = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", key_id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
        ];
        if default_region && !params.iter().any(|(k, _)| *k == "RegionId") {
            pairs.push(("RegionId", "cn-hangzhou"));
        }
        pairs.extend_from_slice(params);
        let query = vpngw_protocol::sign::sign_v1_query("POST", &pairs, secret.as_bytes())
            .expect("signable parameters");
        let headers = http::HeaderMap::new();
        let raw = vpngw_protocol::RawRequest {
            method: &http::Method::POST,
            query: Some(&query),
            headers: &headers,
            body: b"",
        };
        let (encoded, _) = self.service.call(&raw).await;
        Answer {
            status: encoded.status,
            body: serde_json::from_slice(&encoded.body).expect("JSON body"),
        }
    }

    /// Calls and insists on success; returns the body.
    pub async fn ok(&self, action: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let a = self.call(action, params).await;
        assert_eq!(a.status, 200, "{action} failed: {}", a.body);
        a.body
    }

    /// Calls `action` of another product (its `version`) with the root key
    /// and insists on success.
    pub async fn ok_in(
        &self,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> serde_json::Value {
        let a = self.call_as(KEY_ID, SECRET, version, action, params).await;
        assert_eq!(a.status, 200, "{action} failed: {}", a.body);
        a.body
    }

    /// A gateway (active at once), a customer gateway and a connection between them.
    pub async fn connection(&self) -> (String, String, String) {
        let gw = self
            .ok(
                "CreateVpnGateway",
                &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
            )
            .await;
        let gw = gw["VpnGatewayId"].as_str().unwrap().to_owned();
        let ip = format!("47.{}.{}.{}", rand_octet(), rand_octet(), rand_octet());
        let cgw = self
            .ok("CreateCustomerGateway", &[("IpAddress", &ip)])
            .await;
        let cgw = cgw["CustomerGatewayId"].as_str().unwrap().to_owned();
        let vco = self
            .ok(
                "CreateVpnConnection",
                &[
                    ("VpnGatewayId", &gw),
                    ("CustomerGatewayId", &cgw),
                    ("LocalSubnet", "10.0.0.0/8"),
                    ("RemoteSubnet", "192.168.0.0/16"),
                    ("AutoConfigRoute", "false"),
                ],
            )
            .await;
        (gw, cgw, vco["VpnConnectionId"].as_str().unwrap().to_owned())
    }
}

/// RAM users and policies, made with the root key.
impl TestApi {
    /// A RAM user with one access key: `(key id, secret)`.
    pub async fn ram_user(&self, name: &str) -> (String, String) {
        let ram = |action: &'static str, p: Vec<(&'static str, String)>| async move {
            let pairs: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let a = self
                .call_as(KEY_ID, SECRET, "2015-05-01", action, &pairs)
                .await;
            assert_eq!(a.status, 200, "{action}: {}", a.body);
            a.body
        };
        ram("CreateUser", vec![("UserName", name.to_owned())]).await;
        let k = ram("CreateAccessKey", vec![("UserName", name.to_owned())]).await;
        (
            k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned(),
            k["AccessKey"]["AccessKeySecret"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }

    /// Creates the custom policy `name` with `statements` and attaches it to `user`.
    pub async fn grant(&self, user: &str, name: &str, statements: serde_json::Value) {
        let doc = serde_json::json!({"Version": "1", "Statement": statements}).to_string();
        for (action, p) in [
            (
                "CreatePolicy",
                vec![("PolicyName", name), ("PolicyDocument", doc.as_str())],
            ),
            (
                "AttachPolicyToUser",
                vec![
                    ("UserName", user),
                    ("PolicyType", "Custom"),
                    ("PolicyName", name),
                ],
            ),
        ] {
            let a = self.call_as(KEY_ID, SECRET, "2015-05-01", action, &p).await;
            assert_eq!(a.status, 200, "{action}: {}", a.body);
        }
    }

    /// Detaches the custom policy `name` from `user` and deletes it.
    pub async fn revoke(&self, user: &str, name: &str) {
        for (action, p) in [
            (
                "DetachPolicyFromUser",
                vec![
                    ("UserName", user),
                    ("PolicyType", "Custom"),
                    ("PolicyName", name),
                ],
            ),
            ("DeletePolicy", vec![("PolicyName", name)]),
        ] {
            let a = self.call_as(KEY_ID, SECRET, "2015-05-01", action, &p).await;
            assert_eq!(a.status, 200, "{action}: {}", a.body);
        }
    }

    /// Every stored record of the root account in cn-hangzhou (kind, id,
    /// version, document), to prove a refused call changed nothing.
    pub async fn state(&self) -> Vec<(String, String, i64, String)> {
        use vpngw_store::{Kind, ListQuery, Scope};
        let account = self.account().await;
        let mut out = Vec::new();
        for kind in [
            Kind::VpnGateway,
            Kind::CustomerGateway,
            Kind::VpnConnection,
            Kind::VcoRoute,
            Kind::VpnRoute,
            Kind::VpnPbrRoute,
            Kind::VpnDiagnosis,
            Kind::TransitRouter,
            Kind::TransitRouterAttachment,
            Kind::CenInstance,
        ] {
            let scope = Scope {
                account_id: account.clone(),
                region_id: if kind == Kind::CenInstance {
                    vpngw_model::cen::GLOBAL_REGION.into()
                } else {
                    "cn-hangzhou".into()
                },
            };
            let mut q = ListQuery::new(kind, scope, 0);
            q.limit = 10_000;
            let page = self.service.store().list(&q).await.unwrap();
            for r in page.records {
                out.push((kind.as_str().to_owned(), r.id, r.version, r.doc));
            }
        }
        out.sort();
        out
    }

    /// The root key's account id.
    pub async fn account(&self) -> String {
        let me = self
            .call_as(KEY_ID, SECRET, "2015-04-01", "GetCallerIdentity", &[])
            .await;
        me.body["AccountId"].as_str().unwrap().to_owned()
    }
}

fn uuid_like() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..32)
        .map(|_| format!("{:x}", rng.random_range(0..16u8)))
        .collect()
}

fn rand_octet() -> u8 {
    use rand::Rng;
    rand::rng().random_range(1..=254)
}
