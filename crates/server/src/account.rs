//! `vpngw account create --name NAME [--data-dir DIR]`: a new root account,
//! printed once as JSON `{"AccountId","AccessKeyId","AccessKeySecret"}`.
//! `vpngw account list`: the accounts and their root key ids.
//! `vpngw account root-key [--account ID] --rotate`: a lost root key
//! replaced by a new one, printed once in the same JSON, recorded in the
//! audit log; offline (the data directory's lock, as `serve` holds it).
//!
//! Works while `vpngw serve` runs on the same data directory: SQLite in WAL
//! mode lets a second process write (the server's writer and this one wait
//! for each other through the busy timeout), and both use the same master
//! key (`VPNGW_MASTER_KEY`, or the key file), so the server can open the
//! secret sealed here. Only the sealed secret is stored. With
//! `--database-url` (or `VPNGW_DATABASE_URL`) the account goes into the
//! replicas' PostgreSQL database instead; they see it at once.

use std::{path::PathBuf, sync::Arc};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use vpngw_api::Secrets;
use vpngw_identity::MasterKey;
use vpngw_store::{AuditEvent, Store, StoreError};

use crate::text::printable;
use vpngw_identity::MASTER_KEY_ENV;

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create a root account and print its AccountId and root access key.
    Create(CreateArgs),
    /// List the accounts and their root key ids (never a secret).
    List(StoreArgs),
    /// Show an account's root key ids; with --rotate, replace them with a
    /// new key, printed once (to recover a lost root key). Offline: with
    /// SQLite the server must be stopped. Recorded in the audit log.
    RootKey(RootKeyArgs),
}

/// Where the accounts are: the data directory (SQLite and the master key
/// file) or the server's PostgreSQL database.
#[derive(Args)]
pub struct StoreArgs {
    /// Directory holding the database and the master key file.
    #[arg(long, env = "VPNGW_DATA_DIR", default_value = "./vpngw-data")]
    pub data_dir: PathBuf,

    /// Master key file [default: <data-dir>/master.key]; VPNGW_MASTER_KEY (the key itself) wins.
    #[arg(long, env = "VPNGW_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,

    /// The server's PostgreSQL database (`postgres://…`), instead of the data directory's SQLite.
    #[arg(long, env = "VPNGW_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(Args)]
pub struct CreateArgs {
    /// The account's name (unique).
    #[arg(long)]
    pub name: String,

    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args)]
pub struct RootKeyArgs {
    /// The account (its id); may be left out when there is only one.
    #[arg(long)]
    pub account: Option<String>,

    /// Replace the root key(s) with a new one, printed once as JSON.
    #[arg(long)]
    pub rotate: bool,

    #[command(flatten)]
    pub store: StoreArgs,
}

pub async fn run(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Create(args) => create(args).await,
        AccountCommand::List(args) => list(args).await,
        AccountCommand::RootKey(args) => root_key(args).await,
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl StoreArgs {
    fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    fn sqlite(&self) -> bool {
        crate::database::is_sqlite(self.database_url.as_deref())
    }

    /// The store and the sealer of its secrets. `create_key`: a missing
    /// master key file may be created (a new data directory); otherwise it
    /// must exist, since everything sealed needs the one it was sealed with.
    async fn open(&self, create_key: bool) -> anyhow::Result<(Arc<dyn Store>, Secrets)> {
        let key_path = self.master_key_path();
        if !create_key && std::env::var_os(MASTER_KEY_ENV).is_none() && !key_path.exists() {
            bail!(
                "no master key: {} does not exist and VPNGW_MASTER_KEY is not set",
                key_path.display()
            );
        }
        if self.sqlite()
            && !create_key
            && !self.data_dir.join(vpngw_store::sqlite::DB_FILE).exists()
        {
            bail!("no vpngw database in {}", self.data_dir.display());
        }
        vpngw_store::sqlite::prepare_data_dir(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let (master_key, _) = MasterKey::resolve(&key_path).context("loading the master key")?;
        let (store, _) =
            crate::database::open(self.database_url.as_deref(), &self.data_dir).await?;
        Ok((store, Secrets::new(master_key)))
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let name = args.name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 64,
        "--name must be 1 to 64 characters"
    );
    let (store, secrets) = args.store.open(true).await?;
    let created =
        match vpngw_api::bootstrap::create_account(&*store, &secrets, name, now_ms()).await {
            Ok(k) => k,
            Err(StoreError::AlreadyExists) => {
                bail!("an account named {name:?} exists already")
            }
            Err(e) => bail!("creating the account: {e}"),
        };
    print_key(&created);
    Ok(())
}

/// `{"AccountId","AccessKeyId","AccessKeySecret"}` on one line.
fn print_key(k: &vpngw_api::bootstrap::GeneratedKey) {
    let out = serde_json::json!({
        "AccountId": k.account_id,
        "AccessKeyId": k.access_key_id,
        "AccessKeySecret": k.access_key_secret,
    });
    println!("{out}");
}

async fn list(args: StoreArgs) -> anyhow::Result<()> {
    let (store, _) = args.open(false).await?;
    let accounts = store
        .accounts()
        .await
        .map_err(|e| anyhow::anyhow!("reading the accounts: {e}"))?;
    println!(
        "{:<18} {:<24} {:<22} ROOT KEYS",
        "ACCOUNT", "NAME", "CREATED"
    );
    for a in accounts {
        let keys = root_keys(&*store, &a.id).await?;
        println!(
            "{:<18} {:<24} {:<22} {}",
            printable(&a.id),
            printable(&a.name),
            crate::audit_cmd::rfc3339(a.created_ms),
            keys.join(",")
        );
    }
    Ok(())
}

/// `id (status)` of each root key of `account`.
async fn root_keys(store: &dyn Store, account: &str) -> anyhow::Result<Vec<String>> {
    Ok(store
        .list_access_keys(account, "root")
        .await
        .map_err(|e| anyhow::anyhow!("reading the root keys: {e}"))?
        .into_iter()
        .map(|k| format!("{} ({})", printable(&k.id), printable(&k.status)))
        .collect())
}

async fn root_key(args: RootKeyArgs) -> anyhow::Result<()> {
    // The running server caches access keys and assumes that only it
    // changes them (store/src/sqlite/cache.rs): replacing one beside it
    // would leave the old key working there. Hold the data directory as
    // the server does, so that neither runs while the other does.
    let _lock = if args.rotate && args.store.sqlite() {
        Some(
            vpngw_store::sqlite::lock_data_dir(&args.store.data_dir).context(
                "`vpngw account root-key --rotate` works on a stopped server's data directory",
            )?,
        )
    } else {
        None
    };
    let (store, secrets) = args.store.open(false).await?;
    let accounts = store
        .accounts()
        .await
        .map_err(|e| anyhow::anyhow!("reading the accounts: {e}"))?;
    let account = match (&args.account, accounts.as_slice()) {
        (Some(id), _) => accounts
            .iter()
            .find(|a| &a.id == id)
            .with_context(|| format!("no account {id:?} (see `vpngw account list`)"))?,
        (None, [only]) => only,
        (None, []) => bail!("no account yet: `vpngw serve` creates the first one"),
        (None, _) => bail!(
            "there are {} accounts: name one with --account (see `vpngw account list`)",
            accounts.len()
        ),
    };
    if !args.rotate {
        println!("{}", root_keys(&*store, &account.id).await?.join("\n"));
        eprintln!(
            "Secrets are stored sealed and cannot be shown; `--rotate` issues a new root key."
        );
        return Ok(());
    }
    let now = now_ms();
    let (key, replaced) =
        vpngw_api::bootstrap::rotate_root_key(&*store, &secrets, &account.id, now)
            .await
            .map_err(|e| anyhow::anyhow!("replacing the root key: {e}"))?;
    let mut resource_ids = replaced.clone();
    resource_ids.push(key.access_key_id.clone());
    let event = AuditEvent {
        time_ms: now,
        request_id: vpngw_protocol::new_request_id(),
        account_id: account.id.clone(),
        principal: LOCAL_PRINCIPAL.into(),
        access_key_id: key.access_key_id.clone(),
        source_ip: None,
        product: "Vpngw".into(),
        action: "RotateRootAccessKey".into(),
        region_id: None,
        resource_ids,
        code: None,
    };
    if let Err(e) = store.append_audit(event).await {
        // The key is replaced either way: say that the record is missing.
        eprintln!("vpngw: the new key is in place, but recording it in the audit log failed: {e}");
    }
    print_key(&key);
    eprintln!(
        "The root key(s) {} of account {} no longer work; the new key is shown this once.",
        if replaced.is_empty() {
            "-".to_owned()
        } else {
            replaced.join(", ")
        },
        account.id
    );
    Ok(())
}

/// Who the audit log names for what `vpngw account` does on the machine.
const LOCAL_PRINCIPAL: &str = "vpngw account (local)";
