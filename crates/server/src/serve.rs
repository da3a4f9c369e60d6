//! `vpngw serve`: open the store, make sure the root account exists, listen.

use std::sync::{Arc, atomic::AtomicBool};

use anyhow::Context;
use vpngw_api::{Secrets, Service};
use vpngw_identity::{KeySource, MasterKey};

use crate::{
    cli::ServeArgs,
    config::{LogFormat, Settings},
    http::{AppState, router},
};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let args: Settings = crate::config::resolve(&args)?;
    init_logging(args.log_format, &args.log)?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    // Before anything is created in it. SQLite serves one process (the
    // nonces are in memory, the read caches assume no other writer): a
    // second `serve` on this data directory is refused. The lock lives as
    // long as this function, i.e. until the server stops.
    let _data_dir_lock = if crate::database::is_sqlite(args.database_url.as_deref()) {
        Some(vpngw_store::sqlite::lock_data_dir(&args.data_dir)?)
    } else {
        None
    };
    let (master_key, source) =
        MasterKey::resolve(&args.master_key_path()).context("loading the master key")?;
    if let KeySource::File {
        path,
        created: true,
    } = &source
    {
        tracing::info!(path = %path.display(), "created a new master key; back it up with the data directory");
    }
    let (store, database) =
        crate::database::open(args.database_url.as_deref(), &args.data_dir).await?;
    let secrets = Secrets::new(master_key);

    let given = match (
        args.root_access_key_id.clone(),
        args.root_access_key_secret.clone(),
    ) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Some((id, secret)),
        (None, None) => None,
        _ => anyhow::bail!(
            "set both VPNGW_ROOT_ACCESS_KEY_ID and VPNGW_ROOT_ACCESS_KEY_SECRET, or neither"
        ),
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let root = match vpngw_api::bootstrap::ensure_root(&*store, &secrets, given, now_ms).await {
        // Another replica on the same database created it a moment ago.
        Err(vpngw_store::StoreError::AlreadyExists) if !store.accounts().await?.is_empty() => None,
        other => other.map_err(|e| anyhow::anyhow!("creating the root account: {e}"))?,
    };
    if let Some(generated) = root {
        // Printed once, on first start only: the secret is stored sealed.
        println!(
            "vpngw: created the root account {}\n  AccessKeyId:     {}\n  AccessKeySecret: {}",
            generated.account_id, generated.access_key_id, generated.access_key_secret
        );
    }

    let config = args.api_config();
    let ready = Arc::new(AtomicBool::new(false));
    let metrics = if args.metrics {
        Some(crate::metrics::Metrics::install()?)
    } else {
        None
    };
    let state = AppState {
        service: Service::new(store, config, secrets),
        ready: ready.clone(),
        metrics,
        console: args.console,
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %args.data_dir.display(), %database, "vpngw serving");
    ready.store(true, std::sync::atomic::Ordering::Release);
    axum::serve(
        listener,
        // The peer address feeds `acs:SourceIp` in RAM policy conditions.
        router(state, args.max_body_bytes)
            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("the log filter {filter:?}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        // One JSON object per line; the request span's fields (RequestId,
        // Action) are flattened into every line logged inside it.
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}
