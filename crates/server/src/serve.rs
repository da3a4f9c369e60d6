//! `vpngw serve`: open the store, make sure the root account exists, listen.

use std::sync::{Arc, atomic::AtomicBool};

use anyhow::Context;
use vpngw_api::{Config, Quotas, Secrets, Service};
use vpngw_identity::{KeySource, MasterKey};
use vpngw_store::sqlite::SqliteStore;

use crate::{
    cli::ServeArgs,
    http::{AppState, router},
};

/// The master key file inside the data directory (unless `VPNGW_MASTER_KEY` is set).
const MASTER_KEY_FILE: &str = "master.key";

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let (master_key, source) = MasterKey::resolve(&args.data_dir.join(MASTER_KEY_FILE))
        .context("loading the master key")?;
    if let KeySource::File {
        path,
        created: true,
    } = &source
    {
        tracing::info!(path = %path.display(), "created a new master key; back it up with the data directory");
    }
    let store = SqliteStore::open(&args.data_dir).context("opening the database")?;
    let store: Arc<dyn vpngw_store::Store> = Arc::new(store);
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
    if let Some(generated) = vpngw_api::bootstrap::ensure_root(&*store, &secrets, given, now_ms)
        .await
        .map_err(|e| anyhow::anyhow!("creating the root account: {e}"))?
    {
        // Printed once, on first start only: the secret is stored sealed.
        println!(
            "vpngw: created the root account {}\n  AccessKeyId:     {}\n  AccessKeySecret: {}",
            generated.account_id, generated.access_key_id, generated.access_key_secret
        );
    }

    let config = Config {
        gateway_provision_delay_ms: args.gateway_provision_delay_ms,
        gateway_update_delay_ms: args.gateway_update_delay_ms,
        public_ip_pool: args.public_ip_pool,
        quotas: Quotas {
            vpn_gateways_per_region: args.quota_vpn_gateways,
            customer_gateways_per_region: args.quota_customer_gateways,
            connections_per_gateway: args.quota_connections_per_gateway,
        },
    };
    let ready = Arc::new(AtomicBool::new(false));
    let state = AppState {
        service: Service::new(store, config, secrets),
        ready: ready.clone(),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    tracing::info!(listen = %listener.local_addr()?, data_dir = %args.data_dir.display(), "vpngw serving");
    ready.store(true, std::sync::atomic::Ordering::Release);
    axum::serve(listener, router(state, args.max_body_bytes))
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

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VPNGW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}
