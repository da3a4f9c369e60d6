//! `vpngw serve`: open the store, make sure the root account exists, listen.

use std::sync::{Arc, atomic::AtomicBool};

use anyhow::Context;
use vpngw_api::{Secrets, Service};
use vpngw_identity::{KeySource, MasterKey};

use crate::{
    cli::ServeArgs,
    config::{LogFormat, Settings},
    http::{AppState, needs_tls, router},
    listen::{Listener, Security},
};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut args: Settings = crate::config::resolve(&args)?;
    init_logging(args.log_format, &args.log)?;
    // Removed when this function returns, i.e. when the server stops.
    let temporary_data_dir = crate::config::temporary_data_dir(&mut args)?;
    let tls_source = crate::tls::source(&args)?;
    // Before anything is written: a busy port changes nothing.
    let main_listener = bind(args.listen).await?;
    let http_listener = match args.listen_http {
        Some(addr) => Some(bind(addr).await?),
        None => None,
    };
    // Certificate files are checked before the data directory is touched;
    // a self-signed certificate is made in it once it is ours (below).
    let mut tls = match &tls_source {
        Some(files @ crate::tls::Source::Files { .. }) => Some(crate::tls::start(
            files.clone(),
            &args.data_dir,
            args.listen,
        )?),
        _ => None,
    };
    vpngw_store::sqlite::prepare_data_dir(&args.data_dir)
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
    if tls_source == Some(crate::tls::Source::SelfSigned) {
        tls = Some(crate::tls::start(
            crate::tls::Source::SelfSigned,
            &args.data_dir,
            args.listen,
        )?);
    }
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
    let mut listeners = vec![Listener {
        tcp: main_listener,
        security: match &tls {
            Some(tls) => Security::Tls(tls.acceptor.clone()),
            None => Security::Plain,
        },
    }];
    if let Some(tcp) = http_listener {
        listeners.push(Listener {
            tcp,
            security: Security::Plain,
        });
    }
    let endpoints: Vec<String> = listeners
        .iter()
        .filter_map(|l| Some(format!("{}://{}", l.scheme(), l.tcp.local_addr().ok()?)))
        .collect();
    if let Some(generated) = tls.as_ref().and_then(|t| t.generated.as_ref()) {
        // Printed at every start: clients must trust this CA.
        println!(
            "vpngw: HTTPS with a certificate of the local CA {ca}{new}\n  \
             trust it (docs/sdk.md): SSL_CERT_FILE={ca} (Python Tea SDKs, credentials, Go, aliyun CLI), \
             ALIBABA_CLOUD_CA_BUNDLE={ca} (aliyun-python-sdk-core), NODE_EXTRA_CA_CERTS={ca} (Node), \
             VPNGW_CA_FILE={ca} (vpngw agent, vpc, lab)",
            ca = generated.ca.display(),
            new = if generated.ca_created { " (new)" } else { "" },
        );
        tracing::info!(ca = %generated.ca.display(), created = generated.ca_created, "self-signed TLS");
    }
    if args.dev {
        print_dev_banner(&args, &endpoints, temporary_data_dir.is_some());
    }
    tracing::info!(listen = %endpoints.join(" "), data_dir = %args.data_dir.display(), %database, "vpngw serving");
    ready.store(true, std::sync::atomic::Ordering::Release);
    let app = router(state.clone(), args.max_body_bytes);
    crate::listen::serve(listeners, app, needs_tls(state), shutdown_signal()).await
}

/// What a test suite needs to know about a `--dev` server, on stdout.
fn print_dev_banner(args: &Settings, endpoints: &[String], temporary: bool) {
    let key = |v: &Option<String>| v.clone().unwrap_or_default();
    println!(
        "vpngw: dev mode (docs/local-mode.md)\n  \
         endpoint:        {endpoints}\n  \
         AccessKeyId:     {id}\n  \
         AccessKeySecret: {secret}\n  \
         data:            {dir}{temporary}\n  \
         delays:          gateway provisioning {provision} ms, updates {update} ms\n  \
         reset:           vpngw reset --endpoint {first} (Action=ResetState, Version={version})",
        endpoints = endpoints.join(" "),
        id = key(&args.root_access_key_id),
        secret = key(&args.root_access_key_secret),
        dir = args.data_dir.display(),
        temporary = if temporary { " (removed at exit)" } else { "" },
        provision = args.gateway_provision_delay_ms,
        update = args.gateway_update_delay_ms,
        first = endpoints.first().map(String::as_str).unwrap_or_default(),
        version = vpngw_api::actions::Product::Vpngw.version(),
    );
}

async fn bind(addr: std::net::SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))
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
    crate::logging::init(format == LogFormat::Json, filter);
    Ok(())
}
