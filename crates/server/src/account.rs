//! `vpngw account create --name NAME [--data-dir DIR]`: a new root account,
//! printed once as JSON `{"AccountId","AccessKeyId","AccessKeySecret"}`.
//!
//! Works while `vpngw serve` runs on the same data directory: SQLite in WAL
//! mode lets a second process write (the server's writer and this one wait
//! for each other through the busy timeout), and both use the same master
//! key (`VPNGW_MASTER_KEY`, or the key file), so the server can open the
//! secret sealed here. Only the sealed secret is stored. With
//! `--database-url` (or `VPNGW_DATABASE_URL`) the account goes into the
//! replicas' PostgreSQL database instead; they see it at once.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use vpngw_api::Secrets;
use vpngw_identity::MasterKey;
use vpngw_store::StoreError;

#[derive(Subcommand)]
pub enum AccountCommand {
    /// Create a root account and print its AccountId and root access key.
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The account's name (unique).
    #[arg(long)]
    pub name: String,

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

pub async fn run(cmd: AccountCommand) -> anyhow::Result<()> {
    match cmd {
        AccountCommand::Create(args) => create(args).await,
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    let name = args.name.trim();
    anyhow::ensure!(
        !name.is_empty() && name.len() <= 64,
        "--name must be 1 to 64 characters"
    );
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let key_path = args
        .master_key_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join("master.key"));
    let (master_key, _) = MasterKey::resolve(&key_path).context("loading the master key")?;
    let (store, _) = crate::database::open(args.database_url.as_deref(), &args.data_dir).await?;
    let secrets = Secrets::new(master_key);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let created = match vpngw_api::bootstrap::create_account(&*store, &secrets, name, now_ms).await
    {
        Ok(k) => k,
        Err(StoreError::AlreadyExists) => anyhow::bail!("an account named {name:?} exists already"),
        Err(e) => anyhow::bail!("creating the account: {e}"),
    };
    let out = serde_json::json!({
        "AccountId": created.account_id,
        "AccessKeyId": created.access_key_id,
        "AccessKeySecret": created.access_key_secret,
    });
    println!("{out}");
    Ok(())
}
