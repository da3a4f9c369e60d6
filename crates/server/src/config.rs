//! `vpngw serve` settings: one TOML file, overridden by environment
//! variables, overridden by flags.
//!
//! Precedence, highest first: flag > environment variable > file > default.
//! clap already folds flag and environment into one optional value per
//! setting ([`crate::cli::ServeArgs`]); this module lays those values over
//! the file, and the file over the defaults. Unknown keys in the file are
//! errors, so a typo never silently falls back to a default.
//!
//! Adding a setting: a field here (with its default in `Default`), the same
//! field as an `Option` in `ServeArgs` (flag + `VPNGW_…` env), a row in the
//! README's configuration table and a line in `docs/vpngw.example.toml`.
//! The tests below fail until all four agree.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Every setting of `vpngw serve`, as resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The local mode for test suites (docs/local-mode.md): other defaults
    /// ([`Settings::dev_defaults`]) and the `ResetState` operation.
    pub dev: bool,
    /// Address to serve the API, `/metrics`, `/healthz` and the console on:
    /// HTTPS when TLS is configured (below), plain HTTP otherwise.
    pub listen: SocketAddr,
    /// With TLS: a second, plain-HTTP listener serving the same (e.g. for a
    /// local health check); `None`: HTTPS only.
    pub listen_http: Option<SocketAddr>,
    /// `self-signed`: generate a local CA and server certificate in the data
    /// dir; `off`: plain HTTP even if files are set; `None`: HTTPS if
    /// `tls_cert` and `tls_key` are set.
    pub tls: Option<TlsMode>,
    /// PEM certificate chain (leaf first) and private key; reloaded on
    /// SIGHUP and when either file changes.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Directory holding the database and (by default) the master key.
    /// Empty: a new temporary directory, removed when the server stops
    /// ([`temporary_data_dir`]).
    pub data_dir: PathBuf,
    /// PostgreSQL database (`postgres://user:password@host:5432/db`) shared
    /// by one or more replicas; `None`: SQLite in `data_dir`. Replicas on one
    /// database must share the master key (docs/postgresql.md).
    pub database_url: Option<String>,
    /// The master key file; `None`: `<data_dir>/master.key`.
    /// `VPNGW_MASTER_KEY` (the key itself) wins over any file.
    pub master_key_file: Option<PathBuf>,
    /// Root access key given to the root account on first start.
    pub root_access_key_id: Option<String>,
    pub root_access_key_secret: Option<String>,
    pub gateway_provision_delay_ms: i64,
    pub gateway_update_delay_ms: i64,
    pub public_ip_pool: ipnet::Ipv4Net,
    pub quota_vpcs: u32,
    pub quota_vpn_gateways: u32,
    pub quota_customer_gateways: u32,
    pub quota_connections_per_gateway: u32,
    pub max_body_bytes: usize,
    /// Open connections at most (and never more than the file descriptor
    /// limit leaves room for); over it, the connection that waited longest
    /// for its client is closed to make room (`listen.rs`).
    pub max_connections: usize,
    /// From accept, or a request's first byte, to its complete head.
    pub header_read_timeout_ms: u64,
    /// Keep-alive: from the end of an answer to the next request's first byte.
    pub idle_timeout_ms: u64,
    /// To read a whole request body.
    pub body_read_timeout_ms: u64,
    /// Signature nonces kept in the replay window (SQLite: in memory and in
    /// the data directory's journal); past it, signed requests are refused
    /// with `Throttling` until nonces expire.
    pub nonce_limit: usize,
    /// Of one access key; past it, `Throttling.User`. 0: only `nonce_limit`.
    pub nonce_limit_per_key: usize,
    /// Requests per second per account (token bucket); 0: no limit.
    pub rate_limit_per_account: u32,
    /// CreateVpnGateway refuses a `VpcId` / `VSwitchId` vpngw does not know
    /// (else such external VPCs are accepted as given).
    pub strict_vpc: bool,
    pub log_format: LogFormat,
    /// `tracing` filter directives, e.g. `info` or `vpngw=debug,info`.
    pub log: String,
    /// Serve Prometheus metrics at `/metrics`.
    pub metrics: bool,
    /// Serve the web console at `/console/`.
    pub console: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum TlsMode {
    /// Plain HTTP, whatever else is set.
    Off,
    /// A certificate from a CA generated in the data directory.
    SelfSigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            dev: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            listen_http: None,
            tls: None,
            tls_cert: None,
            tls_key: None,
            data_dir: PathBuf::from("./vpngw-data"),
            database_url: None,
            master_key_file: None,
            root_access_key_id: None,
            root_access_key_secret: None,
            gateway_provision_delay_ms: 2000,
            gateway_update_delay_ms: 0,
            public_ip_pool: ipnet::Ipv4Net::new(std::net::Ipv4Addr::new(198, 18, 0, 0), 15)
                .unwrap_or_default(),
            quota_vpcs: 10,
            quota_vpn_gateways: 100,
            quota_customer_gateways: 100,
            quota_connections_per_gateway: 10,
            max_body_bytes: 1 << 20,
            max_connections: 10_000,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 60_000,
            body_read_timeout_ms: 30_000,
            nonce_limit: vpngw_store::NonceLimits::default().total,
            nonce_limit_per_key: vpngw_store::NonceLimits::default().per_key,
            rate_limit_per_account: 0,
            strict_vpc: false,
            log_format: LogFormat::Text,
            log: "info".into(),
            metrics: true,
            console: true,
        }
    }
}

/// The root key of `vpngw serve --dev`: well known, printed at start and
/// documented (docs/local-mode.md), like LocalStack's `test`/`test`. A dev
/// server holds nothing worth a secret key.
pub const DEV_ACCESS_KEY_ID: &str = "LTAIvpngwDevLocalKey0000";
pub const DEV_ACCESS_KEY_SECRET: &str = "vpngwDevSecretNotForProduction";

impl Settings {
    /// What `--dev` changes before the file, the environment and the flags
    /// are laid over it: a temporary data directory, the well-known root
    /// key, no provisioning delays, and `ResetState` served.
    pub fn dev_defaults() -> Settings {
        Settings {
            dev: true,
            data_dir: PathBuf::new(),
            root_access_key_id: Some(DEV_ACCESS_KEY_ID.into()),
            root_access_key_secret: Some(DEV_ACCESS_KEY_SECRET.into()),
            gateway_provision_delay_ms: 0,
            gateway_update_delay_ms: 0,
            ..Settings::default()
        }
    }

    /// Reads a settings file. Unknown keys and ill-typed values are errors
    /// naming the file, line and key.
    pub fn from_file(path: &Path) -> anyhow::Result<Settings> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        Self::from_toml(&text).with_context(|| format!("in the config file {}", path.display()))
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Settings> {
        Ok(toml::from_str(text)?)
    }

    /// Lays `overrides` (the flags and environment variables that were
    /// given, as a serializable struct whose absent values are `None`) over
    /// these settings.
    pub fn overlay<T: Serialize>(self, overrides: &T) -> anyhow::Result<Settings> {
        let serde_json::Value::Object(mut base) = serde_json::to_value(&self)? else {
            anyhow::bail!("settings are not a map");
        };
        let serde_json::Value::Object(over) = serde_json::to_value(overrides)? else {
            anyhow::bail!("overrides are not a map");
        };
        for (key, value) in over {
            if value.is_null() {
                continue;
            }
            if !base.contains_key(&key) {
                anyhow::bail!("the flag for `{key}` has no setting of that name");
            }
            base.insert(key, value);
        }
        Ok(serde_json::from_value(serde_json::Value::Object(base))?)
    }

    /// The names of every setting, as written in the file.
    #[cfg(test)]
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// The bounds of the replay window's nonces.
    pub fn nonce_limits(&self) -> anyhow::Result<vpngw_store::NonceLimits> {
        anyhow::ensure!(
            self.nonce_limit > 0,
            "nonce_limit must be at least 1 (it bounds the memory of the replay window)"
        );
        Ok(vpngw_store::NonceLimits {
            total: self.nonce_limit,
            per_key: self.nonce_limit_per_key,
        })
    }

    /// The limits of the server's connections (`listen.rs`).
    pub fn connection_limits(&self) -> crate::listen::Limits {
        let ms = std::time::Duration::from_millis;
        crate::listen::Limits {
            max_connections: self.max_connections,
            header_read_timeout: ms(self.header_read_timeout_ms.max(1)),
            idle_timeout: ms(self.idle_timeout_ms.max(1)),
            body_read_timeout: ms(self.body_read_timeout_ms.max(1)),
        }
    }

    // `..Default` keeps a new API setting compiling before it is wired here.
    #[allow(clippy::needless_update)]
    pub fn api_config(&self) -> vpngw_api::Config {
        vpngw_api::Config {
            gateway_provision_delay_ms: self.gateway_provision_delay_ms,
            gateway_update_delay_ms: self.gateway_update_delay_ms,
            public_ip_pool: self.public_ip_pool,
            quotas: vpngw_api::Quotas {
                vpcs_per_region: self.quota_vpcs,
                vpn_gateways_per_region: self.quota_vpn_gateways,
                customer_gateways_per_region: self.quota_customer_gateways,
                connections_per_gateway: self.quota_connections_per_gateway,
            },
            rate_limit_per_account: self.rate_limit_per_account,
            strict_vpc: self.strict_vpc,
            reset_allowed: self.dev,
            ..vpngw_api::Config::default()
        }
    }
}

/// Resolves the settings of one `vpngw serve`: the defaults (those of
/// `--dev` when the flag, the environment or the file sets `dev`), then the
/// keys the file (`--config` / `VPNGW_CONFIG`) sets, then environment and
/// flags.
pub fn resolve(args: &crate::cli::ServeArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => {
            // Checked whole first: unknown keys and ill-typed values are errors.
            Settings::from_file(path)?;
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the config file {}", path.display()))?;
            text.parse::<toml::Table>()
                .with_context(|| format!("in the config file {}", path.display()))?
        }
        None => toml::Table::new(),
    };
    let dev = args
        .dev
        .or_else(|| file.get("dev").and_then(toml::Value::as_bool))
        .unwrap_or(false);
    let defaults = if dev {
        Settings::dev_defaults()
    } else {
        Settings::default()
    };
    defaults.overlay(&file)?.overlay(args)
}

/// A data directory for a server whose `data_dir` is empty (`--dev`'s
/// default): a new directory under the system's temporary directory
/// (`$TMPDIR`), set into `settings` and removed when the returned guard is
/// dropped, i.e. when the server stops.
pub fn temporary_data_dir(settings: &mut Settings) -> anyhow::Result<Option<tempfile::TempDir>> {
    if !settings.data_dir.as_os_str().is_empty() {
        return Ok(None);
    }
    let dir = tempfile::Builder::new()
        .prefix("vpngw-dev-")
        .tempdir()
        .context("creating a temporary data directory")?;
    settings.data_dir = dir.path().to_path_buf();
    Ok(Some(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn repo_file(rel: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(rel);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn serve_args(argv: &[&str]) -> crate::cli::ServeArgs {
        let mut full = vec!["vpngw", "serve"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            crate::cli::Command::Serve(a) => a,
            _ => panic!("not serve"),
        }
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Settings::from_toml("listen = \"127.0.0.1:1\"\nlisten_port = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen_port"), "{err}");
        assert!(Settings::from_toml("log_format = \"xml\"").is_err());
        assert!(Settings::from_toml("quota_vpn_gateways = -1").is_err());
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Settings::from_toml("").unwrap(), Settings::default());
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vpngw.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:9000\"\nquota_vpn_gateways = 7\nlog_format = \"json\"\n",
        )
        .unwrap();
        let file = file.to_str().unwrap();
        // The file over the defaults.
        let s = resolve(&serve_args(&["--config", file])).unwrap();
        assert_eq!(s.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(s.quota_vpn_gateways, 7);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.quota_customer_gateways, 100);
        // A flag over the file.
        let s = resolve(&serve_args(&[
            "--config",
            file,
            "--quota-vpn-gateways",
            "9",
            "--log-format",
            "text",
        ]))
        .unwrap();
        assert_eq!(s.quota_vpn_gateways, 9);
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.listen, "127.0.0.1:9000".parse().unwrap());
    }

    #[test]
    fn every_flag_is_a_setting() {
        // A flag without a setting of the same name fails the overlay.
        let all = serve_args(&[
            "--dev",
            "--listen",
            "127.0.0.1:1",
            "--listen-http",
            "127.0.0.1:2",
            "--tls",
            "self-signed",
            "--tls-cert",
            "/c",
            "--tls-key",
            "/k",
            "--data-dir",
            "/d",
            "--database-url",
            "postgres://vpngw@127.0.0.1/vpngw",
            "--master-key-file",
            "/k",
            "--root-access-key-id",
            "a",
            "--root-access-key-secret",
            "b",
            "--gateway-provision-delay-ms",
            "1",
            "--gateway-update-delay-ms",
            "1",
            "--public-ip-pool",
            "10.0.0.0/8",
            "--quota-vpcs",
            "1",
            "--quota-vpn-gateways",
            "1",
            "--quota-customer-gateways",
            "1",
            "--quota-connections-per-gateway",
            "1",
            "--max-body-bytes",
            "1",
            "--max-connections",
            "1",
            "--header-read-timeout-ms",
            "1",
            "--idle-timeout-ms",
            "1",
            "--body-read-timeout-ms",
            "1",
            "--nonce-limit",
            "1",
            "--nonce-limit-per-key",
            "1",
            "--rate-limit-per-account",
            "1",
            "--strict-vpc",
            "--log-format",
            "json",
            "--log",
            "debug",
            "--metrics",
            "false",
            "--console",
            "false",
        ]);
        let s = Settings::default().overlay(&all).unwrap();
        let defaults = serde_json::to_value(Settings::default()).unwrap();
        let given = serde_json::to_value(&s).unwrap();
        for key in Settings::keys() {
            assert_ne!(defaults[&key], given[&key], "flag for {key} not applied");
        }
    }

    #[test]
    fn dev_changes_the_defaults_not_what_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("vpngw.toml");
        // `--dev` alone: the dev defaults.
        let s = resolve(&serve_args(&["--dev"])).unwrap();
        assert_eq!(s, Settings::dev_defaults());
        assert!(s.api_config().reset_allowed && !Settings::default().api_config().reset_allowed);
        // The file and the flags still win over them.
        std::fs::write(&file, "gateway_provision_delay_ms = 5\n").unwrap();
        let s = resolve(&serve_args(&[
            "--dev",
            "--config",
            file.to_str().unwrap(),
            "--data-dir",
            "/d",
        ]))
        .unwrap();
        assert_eq!(s.gateway_provision_delay_ms, 5);
        assert_eq!(s.data_dir, PathBuf::from("/d"));
        assert_eq!(s.root_access_key_id.as_deref(), Some(DEV_ACCESS_KEY_ID));
        // `dev = true` in the file is the same as the flag; `--dev false` wins over it.
        std::fs::write(&file, "dev = true\n").unwrap();
        let s = resolve(&serve_args(&["--config", file.to_str().unwrap()])).unwrap();
        assert_eq!(s, Settings::dev_defaults());
        let s = resolve(&serve_args(&[
            "--config",
            file.to_str().unwrap(),
            "--dev",
            "false",
        ]))
        .unwrap();
        assert_eq!(s, Settings::default());
        // A temporary data directory only when none is set, gone with its guard.
        let mut s = Settings::dev_defaults();
        let guard = temporary_data_dir(&mut s).unwrap().unwrap();
        assert!(s.data_dir.is_dir());
        drop(guard);
        assert!(!s.data_dir.exists());
        let mut s = Settings::default();
        assert!(temporary_data_dir(&mut s).unwrap().is_none());
    }

    #[test]
    fn readme_documents_every_setting() {
        let readme = repo_file("README.md");
        for key in Settings::keys() {
            let flag = format!("`--{}`", key.replace('_', "-"));
            let env = format!("`VPNGW_{}`", key.to_uppercase());
            let key_cell = format!("`{key}`");
            let row = readme
                .lines()
                .find(|l| l.starts_with("| ") && l.contains(&key_cell))
                .unwrap_or_else(|| panic!("README has no configuration row for {key}"));
            assert!(row.contains(&flag), "README row for {key} lacks {flag}");
            assert!(row.contains(&env), "README row for {key} lacks {env}");
        }
    }

    #[test]
    fn example_file_is_valid_and_complete() {
        let text = repo_file("docs/vpngw.example.toml");
        let parsed = Settings::from_toml(&text).unwrap();
        assert_eq!(
            parsed,
            Settings::default(),
            "the example shows the defaults"
        );
        for key in Settings::keys() {
            assert!(
                text.lines().any(|l| {
                    let l = l.trim_start_matches(['#', ' ']);
                    l.starts_with(&format!("{key} ="))
                }),
                "docs/vpngw.example.toml lacks {key}"
            );
        }
    }
}
