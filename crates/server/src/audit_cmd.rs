//! `vpngw audit`: the audit log of writes, read from the data directory's
//! SQLite (works while the server runs: readers do not block its writer) or
//! from the server's PostgreSQL database.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;
use vpngw_store::{AuditEvent, AuditQuery};

use crate::text::printable;

#[derive(Args, Debug)]
pub struct AuditArgs {
    /// Data directory of the server [default: the config file's, else ./vpngw-data].
    #[arg(long, env = "VPNGW_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// PostgreSQL database of the server, instead of the data directory's SQLite.
    #[arg(long, env = "VPNGW_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The server's config file, to find its data directory or database.
    #[arg(long, env = "VPNGW_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// From: RFC 3339 (2026-11-25T10:00:00Z), epoch milliseconds, or an age (15m, 2h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Until (exclusive), same forms as --since.
    #[arg(long)]
    pub until: Option<String>,
    /// Only this action, e.g. CreateVpnConnection.
    #[arg(long)]
    pub action: Option<String>,
    /// Only this account id.
    #[arg(long)]
    pub account: Option<String>,
    /// Only writes that named this resource id (or RAM name).
    #[arg(long)]
    pub resource: Option<String>,
    /// Only failed writes.
    #[arg(long)]
    pub failed: bool,
    /// The newest this many (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// `table` or `json` (one JSON object per line).
    #[arg(long, default_value = "table")]
    pub output: String,
}

/// `15m`, `2h`, `7d`, `30s` ago; epoch ms; or RFC 3339.
fn parse_time(s: &str, now_ms: i64) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    let units = [
        ('s', 1_000i64),
        ('m', 60_000),
        ('h', 3_600_000),
        ('d', 86_400_000),
    ];
    for (suffix, unit) in units {
        if let Some(n) = s.strip_suffix(suffix).and_then(|n| n.parse::<i64>().ok()) {
            return Ok(now_ms - n * unit);
        }
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| format!("{s:?} is not a time (RFC 3339, epoch ms, or 15m/2h/7d)"))?;
    Ok((t.unix_timestamp_nanos() / 1_000_000) as i64)
}

pub(crate) fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

pub async fn run(args: AuditArgs) -> anyhow::Result<()> {
    let file = match &args.config {
        Some(c) => crate::config::Settings::from_file(c)?,
        None => crate::config::Settings::default(),
    };
    let data_dir = args.data_dir.clone().unwrap_or(file.data_dir);
    let database_url = args.database_url.clone().or(file.database_url);
    let sqlite = database_url.as_deref().is_none_or(|u| u.trim().is_empty());
    if sqlite && !data_dir.join(vpngw_store::sqlite::DB_FILE).exists() {
        bail!("no vpngw database in {}", data_dir.display());
    }
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let query = AuditQuery {
        account_id: args.account.clone(),
        since_ms: args
            .since
            .as_deref()
            .map(|s| parse_time(s, now_ms))
            .transpose()?,
        until_ms: args
            .until
            .as_deref()
            .map(|s| parse_time(s, now_ms))
            .transpose()?,
        action: args.action.clone(),
        resource_id: args.resource.clone(),
        failed: args.failed.then_some(true),
        limit: args.limit,
    };
    let (store, _) = crate::database::open(database_url.as_deref(), &data_dir).await?;
    let events = store
        .audit_events(&query)
        .await
        .map_err(|e| anyhow::anyhow!("reading the audit log: {e}"))?;
    match args.output.as_str() {
        "json" => {
            for e in &events {
                println!("{}", serde_json::to_string(&json(e))?);
            }
        }
        "table" => print!("{}", table(&events)),
        other => bail!("--output is table or json, not {other:?}"),
    }
    Ok(())
}

/// A resource id's type: what comes before its first `-` (`vpn`, `cgw`,
/// `vco`), or the whole of a RAM name.
fn id_type(id: &str) -> &str {
    id.split_once('-').map_or(id, |(t, _)| t)
}

/// The events as aligned columns (widths from the data, whatever a
/// principal's or an address's length); each event's resources grouped by
/// type.
fn table(events: &[AuditEvent]) -> String {
    let header: Vec<String> = [
        "TIME",
        "ACCOUNT",
        "PRINCIPAL (KEY)",
        "SOURCE IP",
        "REGION",
        "ACTION",
        "RESOURCES",
        "RESULT",
    ]
    .map(String::from)
    .into();
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let mut ids: Vec<&str> = e.resource_ids.iter().map(String::as_str).collect();
            ids.sort_by(|a, b| id_type(a).cmp(id_type(b)).then(a.cmp(b)));
            [
                rfc3339(e.time_ms),
                e.account_id.clone(),
                format!("{} ({})", e.principal, e.access_key_id),
                e.source_ip.clone().unwrap_or_else(|| "-".into()),
                e.region_id.clone().unwrap_or_else(|| "-".into()),
                format!("{}:{}", e.product, e.action),
                if ids.is_empty() {
                    "-".into()
                } else {
                    ids.join(",")
                },
                e.code.clone().unwrap_or_else(|| "OK".into()),
            ]
            .iter()
            // Every field may carry what a caller sent (ids, names, the
            // action): control characters are escaped, so that no entry can
            // print as another or hide one (#13).
            .map(|c| printable(c).into_owned())
            .collect()
        })
        .collect();
    crate::table::render(&header, &rows, "  ", false)
}

fn json(e: &AuditEvent) -> serde_json::Value {
    let mut v = serde_json::to_value(e).unwrap_or_default();
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("Time".into(), rfc3339(e.time_ms).into());
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = 1_000_000_000;
        assert_eq!(parse_time("15m", now).unwrap(), now - 900_000);
        assert_eq!(parse_time("2d", now).unwrap(), now - 2 * 86_400_000);
        assert_eq!(parse_time("12345", now).unwrap(), 12345);
        assert_eq!(parse_time("1970-01-01T00:00:01Z", now).unwrap(), 1000);
        assert!(parse_time("yesterday", now).is_err());
        assert_eq!(rfc3339(1000), "1970-01-01T00:00:01Z");
    }
}
