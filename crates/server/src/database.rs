//! Which store a command opens: SQLite in the data directory (the default),
//! or PostgreSQL when `--database-url postgres://…` / `VPNGW_DATABASE_URL`
//! is given (the cargo feature `postgres`, on by default).
//!
//! Several `vpngw serve` replicas may share one PostgreSQL database; they
//! must then share the master key too (`VPNGW_MASTER_KEY`, or the same key
//! file), since secrets are sealed with it. See docs/postgresql.md.

use std::{path::Path, sync::Arc};

use anyhow::Context;
use vpngw_store::{Store, sqlite::SqliteStore};

/// Whether the settings name SQLite in the data directory (no database URL).
pub fn is_sqlite(database_url: Option<&str>) -> bool {
    database_url.map(str::trim).is_none_or(str::is_empty)
}

/// Opens the store the settings name and says, for the log, which one it
/// is (never with a password).
pub async fn open(
    database_url: Option<&str>,
    data_dir: &Path,
) -> anyhow::Result<(Arc<dyn Store>, String)> {
    open_with(database_url, data_dir, None, false).await
}

/// [`open`] for `vpngw serve`: with SQLite, signature nonces are bounded
/// by `nonce_limits` and journaled in the data directory (the caller holds
/// its lock). PostgreSQL keeps them in its `nonces` table. `resettable`
/// (`--dev`, which serves `ResetState`) makes PostgreSQL's writes step aside
/// for a reset (`PgOptions::resettable`); SQLite's one writer needs nothing.
pub async fn open_serving(
    database_url: Option<&str>,
    data_dir: &Path,
    nonce_limits: vpngw_store::NonceLimits,
    resettable: bool,
) -> anyhow::Result<(Arc<dyn Store>, String)> {
    open_with(database_url, data_dir, Some(nonce_limits), resettable).await
}

async fn open_with(
    database_url: Option<&str>,
    data_dir: &Path,
    nonce_limits: Option<vpngw_store::NonceLimits>,
    resettable: bool,
) -> anyhow::Result<(Arc<dyn Store>, String)> {
    match database_url.map(str::trim).filter(|u| !u.is_empty()) {
        None => {
            let mut store = SqliteStore::open(data_dir).context("opening the database")?;
            if let Some(limits) = nonce_limits {
                store = store
                    .keep_nonces(limits)
                    .context("opening the nonce journal")?;
            }
            let shown = format!(
                "sqlite:{}",
                data_dir.join(vpngw_store::sqlite::DB_FILE).display()
            );
            Ok((Arc::new(store), shown))
        }
        Some(url) => {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "the database URL must start with postgres:// (or be empty for SQLite in the data directory)"
            );
            let shown = redacted(url);
            Ok((open_postgres(url, &shown, resettable).await?, shown))
        }
    }
}

#[cfg(feature = "postgres")]
async fn open_postgres(url: &str, shown: &str, resettable: bool) -> anyhow::Result<Arc<dyn Store>> {
    let options = vpngw_store_postgres::PgOptions {
        resettable,
        ..Default::default()
    };
    let store = vpngw_store_postgres::PgStore::connect_with(url, options)
        .await
        .map_err(|e| anyhow::anyhow!("opening the PostgreSQL database {shown}: {e}"))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "postgres"))]
async fn open_postgres(
    _url: &str,
    shown: &str,
    _resettable: bool,
) -> anyhow::Result<Arc<dyn Store>> {
    anyhow::bail!(
        "{shown}: this vpngw was built without PostgreSQL support (cargo feature `postgres`)"
    )
}

/// The URL with its password replaced by `***`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(u, _)| u);
            let password = if userinfo.contains(':') { ":***" } else { "" };
            // `password=` may also come as a query parameter.
            let tail = redact_query_password(tail);
            format!("{scheme}://{user}{password}@{host}{tail}")
        }
        None => format!("{scheme}://{authority}{}", redact_query_password(tail)),
    }
}

fn redact_query_password(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            redacted("postgres://vpngw:s3cret@db:5432/vpngw"),
            "postgres://vpngw:***@db:5432/vpngw"
        );
        assert_eq!(
            redacted("postgresql://u:p@w@h/db?sslmode=disable&password=x"),
            "postgresql://u:***@h/db?sslmode=disable&password=***"
        );
        assert_eq!(redacted("postgres://h/db"), "postgres://h/db");
        assert_eq!(redacted("postgres://u@h"), "postgres://u@h");
    }

    #[tokio::test]
    async fn other_schemes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = super::open(Some("mysql://x"), dir.path())
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("postgres://"), "{err}");
        // Empty means SQLite in the data directory.
        let (_, shown) = super::open(Some(" "), dir.path()).await.unwrap();
        assert!(shown.starts_with("sqlite:"), "{shown}");
    }
}
