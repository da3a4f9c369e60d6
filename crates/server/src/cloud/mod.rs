//! `vpngw vpc|ram|sts <Action> --Param value …`: the aliyun CLI's way of
//! calling any RPC operation, against vpngw.
//!
//! Parameters are the API's own: `--RegionId cn-hangzhou`, flattened lists
//! (`--Tags.1.Key env`), JSON strings (`--IkeConfig '{…}'`). Before a call
//! is sent, the action and its parameters are checked against the operation
//! declarations ([`schema`]): a typo is an error with a "did you mean", not
//! a parameter the server silently ignores (`--force` sends it anyway).
//! Lower-case flags are the CLI's own ([`args`]): where to call and as whom
//! ([`profile`]), `--output` tables ([`output`]), `--waiter` (call again
//! until a JMESPath expression gives a value), `--pager` (every page,
//! merged), `--dryrun` and `--quiet`. API errors print their Code, Message
//! and RequestId on stderr and exit with status 1.

mod args;
mod output;
mod pager;
pub mod profile;
mod schema;
mod waiter;

use std::io::Write;

use clap::{Args, builder::PossibleValue};
use serde_json::Value;

use crate::text::printable;

pub use profile::{ConfigureArgs, configure};

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:8080";
const DEFAULT_REGION: &str = "cn-hangzhou";

/// The products the CLI knows, as `vpngw <product>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudProduct {
    Vpc,
    Ram,
    Sts,
    /// vpngw's own product; the CLI calls its `ResetState` as `vpngw reset`.
    Vpngw,
}

impl CloudProduct {
    fn api(self) -> vpngw_api::actions::Product {
        match self {
            CloudProduct::Vpc => vpngw_api::actions::Product::Vpc,
            CloudProduct::Ram => vpngw_api::actions::Product::Ram,
            CloudProduct::Sts => vpngw_api::actions::Product::Sts,
            CloudProduct::Vpngw => vpngw_api::actions::Product::Vpngw,
        }
    }

    /// The word after `vpngw`.
    pub fn command(self) -> &'static str {
        match self {
            CloudProduct::Vpc => "vpc",
            CloudProduct::Ram => "ram",
            CloudProduct::Sts => "sts",
            CloudProduct::Vpngw => "reset",
        }
    }

    /// The operations vpngw serves for this product (for help and completion).
    pub fn actions(self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = vpngw_api::actions::all()
            .filter(|d| d.product == self.api())
            .map(|d| d.name)
            .collect();
        names.sort_unstable();
        names
    }
}

/// Accepts any action name ([`schema::check_action`] says whether it
/// exists), but offers the served ones to shell completion.
#[derive(Clone)]
struct ActionParser(CloudProduct);

impl clap::builder::TypedValueParser for ActionParser {
    type Value = String;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .map(str::to_owned)
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidUtf8))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.actions().into_iter().map(PossibleValue::new),
        ))
    }
}

#[derive(Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "Parameters are the API's, as `--Name value` (also `--Tags.1.Key k`, JSON strings as values);\n\
`vpngw vpc <Action> --help` lists an operation's parameters and the CLI's flags\n\
(--output, --waiter, --pager, --dryrun, --quiet, --force, credentials and endpoint).\n\
Example: vpngw vpc DescribeVpnGateway --VpnGatewayId vpn-… --waiter expr=Status to=active"
)]
pub struct CallArgs {
    /// The API operation, e.g. DescribeVpnGateways.
    #[arg(value_parser = ActionParser(CloudProduct::Vpc), allow_hyphen_values = true)]
    pub action: String,
    /// `--Param value` pairs and CLI flags.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rest: Vec<String>,
}

#[derive(Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "See `vpngw vpc --help` for parameters and flags."
)]
pub struct RamCallArgs {
    /// The API operation, e.g. CreateUser.
    #[arg(value_parser = ActionParser(CloudProduct::Ram), allow_hyphen_values = true)]
    pub action: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rest: Vec<String>,
}

#[derive(Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "See `vpngw vpc --help` for parameters and flags."
)]
pub struct StsCallArgs {
    /// The API operation, e.g. AssumeRole.
    #[arg(value_parser = ActionParser(CloudProduct::Sts), allow_hyphen_values = true)]
    pub action: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rest: Vec<String>,
}

#[derive(Args, Debug)]
#[command(
    disable_help_flag = true,
    after_help = "Empties a `vpngw serve --dev` server back to its first start (ResetState; docs/local-mode.md).\n\
CLI flags as for `vpngw vpc` (--endpoint URL, --profile NAME, --access-key-id ID, --access-key-secret S, …).\n\
Without credentials in the flags, the environment or a profile, the well-known key of `--dev`."
)]
pub struct ResetArgs {
    /// CLI flags.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub rest: Vec<String>,
}

/// One signed call, ready to be sent (again: waiters and pagers repeat it).
pub struct Call {
    product: CloudProduct,
    action: String,
    params: Vec<(String, String)>,
    client: vpngw_client::Client,
}

impl Call {
    /// Sends the call with `extra` parameters replacing same-named ones.
    async fn send(
        &self,
        extra: &[(String, String)],
    ) -> Result<(Value, String), vpngw_client::ClientError> {
        let pairs: Vec<(&str, &str)> = self
            .params
            .iter()
            .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
            .chain(extra)
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.client
            .call_text(self.product.api().version(), &self.action, &pairs)
            .await
    }
}

/// Why a command's calls ended without an answer to print.
pub enum Failed {
    /// The server answered an error (printed as the API's error, exit 1).
    Api(vpngw_client::ClientError),
    /// The command itself failed (a waiter that timed out, a pager path
    /// that matches nothing).
    Usage(anyhow::Error),
}

impl From<vpngw_client::ClientError> for Failed {
    fn from(e: vpngw_client::ClientError) -> Failed {
        Failed::Api(e)
    }
}

/// `--dryrun`: what would be sent, signature fields left out.
fn dry_run(call: &Call, endpoint: &str) -> String {
    let mut out = String::from("Skip invoke in dry-run mode, request is:\n");
    out.push_str("------------------------------------\n");
    out.push_str(&format!("POST {endpoint}/\n"));
    out.push_str(&format!("Action={}\n", call.action));
    out.push_str(&format!("Version={}\n", call.product.api().version()));
    if !call.params.iter().any(|(k, _)| k == "RegionId") {
        out.push_str(&format!("RegionId={}\n", call.client.region()));
    }
    for (k, v) in &call.params {
        let v = if k == "SecurityToken" { "***" } else { v };
        out.push_str(&format!("{k}={v}\n"));
    }
    out
}

fn print_api_error(e: &vpngw_client::ClientError) {
    match e {
        vpngw_client::ClientError::Api {
            status,
            code,
            message,
            request_id,
        } => {
            // The message may quote what was sent: escaped, like tables (#13).
            eprintln!(
                "ERROR: {}\nMessage: {}\nRequestId: {}\nHTTP status: {status}",
                printable(code),
                printable(message),
                printable(request_id)
            )
        }
        e => eprintln!("ERROR: {}", printable(&e.to_string())),
    }
}

/// Runs one product command; returns the process exit code.
pub async fn run(product: CloudProduct, action: &str, rest: &[String]) -> anyhow::Result<i32> {
    if action == "--help" || action == "-h" {
        let mut cli = <crate::cli::Cli as clap::CommandFactory>::command();
        if let Some(sub) = cli.find_subcommand_mut(product.command()) {
            let mut sub = sub.clone().bin_name(format!("vpngw {}", product.command()));
            sub.print_long_help()?;
        }
        return Ok(0);
    }
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", schema::action_help(product, action));
        return Ok(0);
    }
    let (mut params, flags) = args::parse_rest(rest)?;
    if !flags.force {
        schema::check_action(product, action)?;
        schema::check_params(product, action, &params)?;
    }
    // `vpngw reset` talks to a dev server, whose key is well known.
    let fallback = (product == CloudProduct::Vpngw).then_some((
        crate::config::DEV_ACCESS_KEY_ID,
        crate::config::DEV_ACCESS_KEY_SECRET,
    ));
    let r = profile::resolve(&flags, &params, fallback)?;
    if let Some(token) = &r.sts_token {
        params.push(("SecurityToken".into(), token.clone()));
    }
    let mut client = vpngw_client::Client::new(
        &r.endpoint,
        &r.access_key_id,
        &r.access_key_secret,
        &r.region,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    // An https:// endpoint is verified against this CA file, else the system's CAs.
    if let Some(ca) = flags
        .ca_file
        .clone()
        .or_else(|| profile::env("VPNGW_CA_FILE").map(std::path::PathBuf::from))
    {
        client = client.ca_file(&ca).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let call = Call {
        product,
        action: action.to_owned(),
        params,
        client,
    };
    if flags.dryrun {
        print!("{}", dry_run(&call, &r.endpoint));
        return Ok(0);
    }
    let answer = match (&flags.waiter, &flags.pager) {
        (Some(w), _) => waiter::wait(&call, w).await,
        (None, Some(p)) => pager::all_pages(&call, p).await,
        (None, None) => call.send(&[]).await.map_err(Into::into),
    };
    let (answer, raw) = match answer {
        Ok(a) => a,
        Err(Failed::Api(e)) => {
            print_api_error(&e);
            return Ok(1);
        }
        Err(Failed::Usage(e)) => return Err(e),
    };
    if flags.quiet {
        return Ok(0);
    }
    let text = match &flags.output {
        Some(spec) => {
            let t = output::table(&answer, spec)?;
            if flags.pager.is_none()
                && let Some(note) = output::partial_page_note(&answer, spec)
            {
                eprintln!("{note}");
            }
            t
        }
        None => output::pretty(&raw) + "\n",
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(0)
}
