//! `vpngw serve`: bind, open the store, make sure the root account exists,
//! serve connections (`listen.rs`) until SIGINT/SIGTERM.

use std::sync::{Arc, atomic::AtomicBool};

use anyhow::Context;
use vpngw_api::{Secrets, Service};
use vpngw_identity::{KeySource, MasterKey};

use crate::{
    cli::ServeArgs,
    config::{LogFormat, Settings},
    http::{AppState, BodyLimits, needs_tls, router},
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
    // read caches assume no other writer, the nonce journal has one
    // owner): a second `serve` on this data directory is refused. The lock lives as
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
    let (store, database) = crate::database::open_serving(
        args.database_url.as_deref(),
        &args.data_dir,
        args.nonce_limits()?,
        args.dev,
    )
    .await?;
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
    let root = match vpngw_api::bootstrap::ensure_root(&*store, &secrets, given.clone(), now_ms)
        .await
    {
        // Another replica on the same database created it a moment ago.
        Err(vpngw_store::StoreError::AlreadyExists) if !store.accounts().await?.is_empty() => None,
        other => other.map_err(|e| anyhow::anyhow!("creating the root account: {e}"))?,
    };
    match (&root, &given) {
        (Some(generated), _) => {
            print_root_key_banner(generated, console_url(&args, tls.is_some()).as_deref())
        }
        (None, Some((id, secret))) => {
            warn_if_root_key_differs(&*store, &secrets, id, secret).await;
        }
        (None, None) => {}
    }

    let config = args.api_config();
    let ready = Arc::new(AtomicBool::new(false));
    let metrics = if args.metrics {
        Some(crate::metrics::Metrics::install()?)
    } else {
        None
    };
    let service = Service::new(store, config, secrets);
    let closing = service.clone();
    let state = AppState {
        service,
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
    let fd_limit = crate::listen::raise_fd_limit();
    tracing::info!(
        listen = %endpoints.join(" "),
        data_dir = %args.data_dir.display(),
        %database,
        max_connections = crate::listen::effective_cap(&args.connection_limits(), fd_limit),
        "vpngw serving"
    );
    ready.store(true, std::sync::atomic::Ordering::Release);
    let limits = args.connection_limits();
    let app = router(
        state.clone(),
        BodyLimits {
            max_bytes: args.max_body_bytes,
            read_timeout: limits.body_read_timeout,
        },
    );
    let signal = Arc::new(std::sync::OnceLock::new());
    let stopping = {
        let signal = signal.clone();
        async move {
            let _ = signal.set(shutdown_signal().await);
            // Long polls (WatchGatewayState) answer now instead of holding
            // the stop for up to their wait.
            closing.close();
        }
    };
    crate::listen::serve(listeners, app, needs_tls(state), limits, fd_limit, stopping).await?;
    // One line when it stops.
    tracing::info!(
        signal = signal.get().copied().unwrap_or("none"),
        "vpngw stopped"
    );
    Ok(())
}

/// Where the console is, as a browser on this machine reaches it.
fn console_url(args: &Settings, tls: bool) -> Option<String> {
    if !args.console {
        return None;
    }
    let mut addr = args.listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let scheme = if tls { "https" } else { "http" };
    Some(format!("{scheme}://{addr}/console/"))
}

/// The first start's root key, on stdout: the only time it is shown.
fn print_root_key_banner(k: &vpngw_api::bootstrap::GeneratedKey, console: Option<&str>) {
    let mut text = format!(
        "vpngw: created the root account {account}. Its access key is shown this once \
         (only its sealed form is stored):\n\
         \x20 AccessKeyId:     {id}\n\
         \x20 AccessKeySecret: {secret}\n\
         For the official SDKs, CLIs and Terraform:\n\
         \x20 export ALIBABA_CLOUD_ACCESS_KEY_ID={id}\n\
         \x20 export ALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}\n",
        account = k.account_id,
        id = k.access_key_id,
        secret = k.access_key_secret,
    );
    if let Some(url) = console {
        text.push_str(&format!("Console: {url}\n"));
    }
    text.push_str(
        "Lost it? Stop the server and run `vpngw account root-key --rotate` on this data directory.",
    );
    println!("{text}");
}

/// `VPNGW_ROOT_ACCESS_KEY_*` only matter on first start: say so when they
/// no longer match the root key the data directory has.
async fn warn_if_root_key_differs(
    store: &dyn vpngw_store::Store,
    secrets: &Secrets,
    id: &str,
    secret: &str,
) {
    if !vpngw_api::bootstrap::is_root_key(store, secrets, id, secret).await {
        tracing::warn!(
            access_key_id = id,
            "VPNGW_ROOT_ACCESS_KEY_ID/_SECRET differ from the root key this data directory \
             already has; they are only used on first start and are ignored. \
             To issue a new root key: stop the server, `vpngw account root-key --rotate`"
        );
    }
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

/// Resolves on SIGINT or SIGTERM, naming it.
async fn shutdown_signal() -> &'static str {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => "SIGINT",
        _ = term => "SIGTERM",
    }
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("the log filter {filter:?}"))?;
    crate::logging::init(format == LogFormat::Json, filter);
    Ok(())
}
