//! `vpngw vpc|ram|sts <Action> --Param value …`: the aliyun CLI's way of
//! calling any RPC operation, against vpngw.
//!
//! Parameters are passed through as given: `--RegionId cn-hangzhou`,
//! flattened lists (`--Tag.1.Key env`), JSON strings
//! (`--TunnelOptionsSpecification '[{…}]'`). Lower-case flags are the
//! CLI's own (`--endpoint`, `--region`, `--profile`, `--output`, …).
//! Answers are printed as pretty JSON, or as a table with
//! `--output cols=A,B rows=Path.To.List[]`. API errors print their Code,
//! Message and RequestId on stderr and exit with status 1.
//!
//! Credentials, first found wins: `--access-key-id`/`--access-key-secret`
//! (`--sts-token`), the `ALIBABA_CLOUD_ACCESS_KEY_ID` /
//! `ALIBABA_CLOUD_ACCESS_KEY_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN`
//! environment, then the profile (`--profile`, `ALIBABA_CLOUD_PROFILE`, or
//! the file's current one) in `~/.vpngw/config.json`, written by
//! `vpngw configure`.

use std::{
    io::{BufRead, Write},
    path::PathBuf,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, builder::PossibleValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::text::printable;

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

    /// The `vpngw` subcommand that calls it.
    fn command(self) -> &'static str {
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

/// Accepts any action name (the server says whether it exists), but offers
/// the served ones to shell completion.
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
    after_help = "Parameters are the API's, as `--Name value` (also `--Tag.1.Key k`, JSON strings as values).\n\
CLI flags: --endpoint URL, --region ID, --profile NAME, --access-key-id ID, --access-key-secret S,\n\
--sts-token T, --config-path FILE, --ca-file PEM (VPNGW_CA_FILE: the CA of an https:// endpoint),\n\
--output cols=A,B rows=Path.To.List[] [num=true]\n\
Example: vpngw vpc DescribeVpnConnection --RegionId cn-hangzhou --VpnConnectionId vco-…"
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

/// The CLI's own flags, as found among the parameters.
#[derive(Debug, Default, Clone)]
struct Flags {
    endpoint: Option<String>,
    region: Option<String>,
    profile: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    config_path: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    output: Option<TableSpec>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct TableSpec {
    cols: Vec<String>,
    rows: Option<String>,
    num: bool,
}

/// Splits `rest` into API parameters (in order) and CLI flags.
fn parse_rest(rest: &[String]) -> anyhow::Result<(Vec<(String, String)>, Flags)> {
    let mut params = Vec::new();
    let mut flags = Flags::default();
    let mut i = 0;
    while i < rest.len() {
        let token = &rest[i];
        i += 1;
        let Some(name) = token.strip_prefix("--") else {
            bail!("unexpected argument {token:?}: parameters are written --Name value");
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (name, None),
        };
        if name == "output" || name == "o" {
            let mut spec = TableSpec::default();
            let mut parts: Vec<String> = inline.into_iter().collect();
            while i < rest.len() && !rest[i].starts_with("--") {
                parts.push(rest[i].clone());
                i += 1;
            }
            for part in parts {
                match part.split_once('=') {
                    Some(("cols", v)) => {
                        spec.cols = v
                            .split(',')
                            .map(|s| s.trim().to_owned())
                            .filter(|s| !s.is_empty())
                            .collect()
                    }
                    Some(("rows", v)) => spec.rows = Some(v.to_owned()),
                    Some(("num", v)) => spec.num = v == "true",
                    _ => bail!(
                        "--output takes cols=A,B [rows=Path.To.List[]] [num=true], not {part:?}"
                    ),
                }
            }
            if spec.cols.is_empty() {
                bail!("--output needs cols=A,B");
            }
            flags.output = Some(spec);
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let Some(v) = rest.get(i) else {
                    bail!("--{name} needs a value");
                };
                i += 1;
                v.clone()
            }
        };
        let starts_upper = name.chars().next().is_some_and(|c| c.is_ascii_uppercase());
        if starts_upper {
            params.push((name.to_owned(), value));
            continue;
        }
        match name {
            "endpoint" => flags.endpoint = Some(value),
            "region" => flags.region = Some(value),
            "profile" | "p" => flags.profile = Some(value),
            "access-key-id" => flags.access_key_id = Some(value),
            "access-key-secret" => flags.access_key_secret = Some(value),
            "sts-token" => flags.sts_token = Some(value),
            "config-path" => flags.config_path = Some(PathBuf::from(value)),
            "ca-file" => flags.ca_file = Some(PathBuf::from(value)),
            _ => bail!(
                "unknown flag --{name}: API parameters start with a capital letter (--RegionId), \
                 CLI flags are --endpoint, --region, --profile, --access-key-id, \
                 --access-key-secret, --sts-token, --config-path, --ca-file, --output"
            ),
        }
    }
    Ok((params, flags))
}

// ---------------------------------------------------------------- profiles

/// `~/.vpngw/config.json`, in the aliyun CLI's shape (plus `endpoint`).
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub current: String,
    #[serde(default)]
    pub profiles: Vec<Profile>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    /// `AK` or `StsToken`.
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub access_key_id: String,
    #[serde(default)]
    pub access_key_secret: String,
    #[serde(default)]
    pub sts_token: String,
    #[serde(default)]
    pub region_id: String,
    #[serde(default)]
    pub endpoint: String,
    #[serde(default = "json_format")]
    pub output_format: String,
}

fn json_format() -> String {
    "json".into()
}

pub fn config_path(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p);
    }
    if let Some(p) = std::env::var_os("VPNGW_CLI_CONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set; pass --config-path")?;
    Ok(PathBuf::from(home).join(".vpngw").join("config.json"))
}

impl ConfigFile {
    pub fn load(path: &std::path::Path) -> anyhow::Result<ConfigFile> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text)
                .with_context(|| format!("reading the profiles in {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Writes the file readable by its owner only (it holds secrets).
    pub fn save(&self, path: &std::path::Path) -> anyhow::Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self)?;
        {
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options
                .open(&tmp)
                .with_context(|| format!("writing {}", tmp.display()))?;
            f.write_all(text.as_bytes())?;
            f.write_all(b"\n")?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    fn profile(&self, name: Option<&str>) -> Option<&Profile> {
        let name = name.unwrap_or(if self.current.is_empty() {
            "default"
        } else {
            &self.current
        });
        self.profiles.iter().find(|p| p.name == name)
    }
}

/// Where to call and as whom.
#[derive(Debug)]
struct Resolved {
    endpoint: String,
    region: String,
    access_key_id: String,
    access_key_secret: String,
    sts_token: Option<String>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `fallback`: the key to use when the flags, the environment and the
/// profile give none.
fn resolve(
    flags: &Flags,
    params: &[(String, String)],
    fallback: Option<(&str, &str)>,
) -> anyhow::Result<Resolved> {
    let path = config_path(flags.config_path.clone())?;
    let file = ConfigFile::load(&path)?;
    let profile_name = flags
        .profile
        .clone()
        .or_else(|| env("ALIBABA_CLOUD_PROFILE"));
    let profile = file.profile(profile_name.as_deref());
    if let (Some(name), None) = (&profile_name, profile) {
        bail!("no profile {name:?} in {}", path.display());
    }
    let (id, secret, token) = if let (Some(id), Some(secret)) =
        (&flags.access_key_id, &flags.access_key_secret)
    {
        (id.clone(), secret.clone(), flags.sts_token.clone())
    } else if let (Some(id), Some(secret)) = (
        env("ALIBABA_CLOUD_ACCESS_KEY_ID"),
        env("ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ) {
        (id, secret, env("ALIBABA_CLOUD_SECURITY_TOKEN"))
    } else if let Some(p) = profile.filter(|p| !p.access_key_id.is_empty()) {
        (
            p.access_key_id.clone(),
            p.access_key_secret.clone(),
            Some(p.sts_token.clone()).filter(|t| !t.is_empty()),
        )
    } else if let Some((id, secret)) = fallback {
        (id.to_owned(), secret.to_owned(), None)
    } else {
        bail!(
            "no credentials: set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, \
             or run `vpngw configure`"
        );
    };
    let region = flags
        .region
        .clone()
        .or_else(|| {
            params
                .iter()
                .find(|(k, _)| k == "RegionId")
                .map(|(_, v)| v.clone())
        })
        .or_else(|| env("ALIBABA_CLOUD_REGION_ID"))
        .or_else(|| {
            profile
                .map(|p| p.region_id.clone())
                .filter(|r| !r.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_REGION.to_owned());
    let endpoint = flags
        .endpoint
        .clone()
        .or_else(|| env("VPNGW_ENDPOINT"))
        .or_else(|| {
            profile
                .map(|p| p.endpoint.clone())
                .filter(|e| !e.is_empty())
        })
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    Ok(Resolved {
        endpoint,
        region,
        access_key_id: id,
        access_key_secret: secret,
        sts_token: token,
    })
}

// ---------------------------------------------------------------- calling

fn kind_name(kind: &vpngw_model::operations::ParamKind) -> String {
    use vpngw_model::operations::ParamKind as K;
    match kind {
        K::String => "string".into(),
        K::Integer => "integer".into(),
        K::Boolean => "boolean".into(),
        K::Json => "JSON string".into(),
        K::List(inner) => format!("list of {} (.N)", kind_name(inner)),
        K::ObjectList(_) => "list of objects (.N.Field)".into(),
        K::Object(_) => "object (.Field)".into(),
    }
}

/// `vpngw vpc <Action> --help`: the operation's parameters, from the
/// vendor's metadata vpngw is generated from.
fn action_help(product: CloudProduct, action: &str) -> String {
    let mut out = match product {
        CloudProduct::Vpngw => format!(
            "vpngw {} [CLI flags]\n\n\
             Empties a `vpngw serve --dev` server back to its first start (ResetState, \
             docs/local-mode.md).\nWithout credentials in the flags, the environment or a \
             profile: the well-known key of --dev.\n",
            product.command()
        ),
        _ => format!("vpngw {} {action} [--Param value ...]\n", product.command()),
    };
    let served = product.actions().contains(&action);
    if !served {
        out.push_str("(not an operation this vpngw serves; the server will say so)\n");
    }
    let op = (product == CloudProduct::Vpc)
        .then(|| vpngw_model::operations::operation(action))
        .flatten();
    match op {
        Some(op) => {
            out.push_str("\nParameters:\n");
            for p in op.params {
                out.push_str(&format!(
                    "  --{:<32} {}{}\n",
                    p.name,
                    kind_name(&p.kind),
                    if p.required { ", required" } else { "" }
                ));
                for f in p.kind.fields() {
                    let sep = if matches!(p.kind, vpngw_model::operations::ParamKind::Object(_)) {
                        "."
                    } else {
                        ".N."
                    };
                    out.push_str(&format!(
                        "    --{}{sep}{:<24} {}\n",
                        p.name,
                        f.name,
                        kind_name(&f.kind)
                    ));
                }
            }
        }
        None if product == CloudProduct::Vpngw => {}
        None => out.push_str("\nParameters: see the product's API reference.\n"),
    }
    out.push_str(
        "\nCLI flags: --endpoint URL, --region ID, --profile NAME, --access-key-id ID,\n\
         --access-key-secret S, --sts-token T, --config-path FILE, --ca-file PEM,\n\
         --output cols=A,B rows=Path.To.List[] [num=true]\n",
    );
    out
}

/// Runs one product command; returns the process exit code.
pub async fn run(product: CloudProduct, action: &str, rest: &[String]) -> anyhow::Result<i32> {
    let name = product.command();
    if action == "--help" || action == "-h" {
        let mut cli = <crate::cli::Cli as clap::CommandFactory>::command();
        if let Some(sub) = cli.find_subcommand_mut(name) {
            let mut sub = sub.clone().bin_name(format!("vpngw {name}"));
            sub.print_long_help()?;
        }
        return Ok(0);
    }
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{}", action_help(product, action));
        return Ok(0);
    }
    let (mut params, flags) = parse_rest(rest)?;
    // `vpngw reset` talks to a dev server, whose key is well known.
    let fallback = (product == CloudProduct::Vpngw).then_some((
        crate::config::DEV_ACCESS_KEY_ID,
        crate::config::DEV_ACCESS_KEY_SECRET,
    ));
    let r = resolve(&flags, &params, fallback)?;
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
        .or_else(|| env("VPNGW_CA_FILE").map(PathBuf::from))
    {
        client = client.ca_file(&ca).map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    match client
        .call_text(product.api().version(), action, &pairs)
        .await
    {
        Ok((answer, raw)) => {
            let text = match &flags.output {
                Some(spec) => table(&answer, spec)?,
                None => pretty(&raw) + "\n",
            };
            std::io::stdout().write_all(text.as_bytes())?;
            Ok(0)
        }
        Err(vpngw_client::ClientError::Api {
            status,
            code,
            message,
            request_id,
        }) => {
            // The message may quote what was sent: escaped, like tables.
            eprintln!(
                "ERROR: {}\nMessage: {}\nRequestId: {}\nHTTP status: {status}",
                printable(&code),
                printable(&message),
                printable(&request_id)
            );
            Ok(1)
        }
        Err(e) => {
            eprintln!("ERROR: {}", printable(&e.to_string()));
            Ok(1)
        }
    }
}

/// Indents a JSON text two spaces per level, as `serde_json`'s pretty printer
/// does, but keeping the keys in the order the server sent them (as the
/// aliyun CLI prints answers). The text is valid JSON: the client parsed it.
fn pretty(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Follows `A.B[].C` from `value`; `[]` (or `[*]`) flattens a list.
fn select<'a>(value: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![value];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, flatten) = match seg.strip_suffix("[]").or_else(|| seg.strip_suffix("[*]")) {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        for v in current {
            let v = if name.is_empty() {
                Some(v)
            } else {
                v.get(name)
            };
            match (v, flatten) {
                (Some(Value::Array(items)), true) => next.extend(items.iter()),
                (Some(v), _) => next.push(v),
                (None, _) => {}
            }
        }
        current = next;
    }
    current
}

/// A table cell: strings as they are but with control characters escaped
/// (a value can be anything a caller stored, #13), the rest as JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => printable(s).into_owned(),
        Some(other) => other.to_string(),
    }
}

/// The aliyun CLI's table: header, dashes, one line per row, `|` between.
fn table(answer: &Value, spec: &TableSpec) -> anyhow::Result<String> {
    let rows: Vec<&Value> = match &spec.rows {
        Some(path) => select(answer, path),
        None => vec![answer],
    };
    let mut header: Vec<String> = spec.cols.clone();
    if spec.num {
        header.insert(0, "Num".into());
    }
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (n, row) in rows.iter().enumerate() {
        let mut line: Vec<String> = spec
            .cols
            .iter()
            .map(|c| cell(select(row, c).first().copied()))
            .collect();
        if spec.num {
            line.insert(0, n.to_string());
        }
        lines.push(line);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let render = |cells: &[String]| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join(" | ")
            .trim_end()
            .to_owned()
    };
    let mut out = String::new();
    out.push_str(&render(&header));
    out.push('\n');
    let dashes: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&render(&dashes));
    out.push('\n');
    for l in &lines {
        out.push_str(&render(l));
        out.push('\n');
    }
    Ok(out)
}

// ---------------------------------------------------------------- configure

#[derive(Args, Debug)]
pub struct ConfigureArgs {
    #[command(subcommand)]
    pub command: Option<ConfigureCommand>,
    /// The profile to write.
    #[arg(long, short = 'p', default_value = "default", global = true)]
    pub profile: String,
    /// The profile file [default: ~/.vpngw/config.json, or VPNGW_CLI_CONFIG].
    #[arg(long, global = true)]
    pub config_path: Option<PathBuf>,
    /// `AK` (an access key) or `StsToken` (a temporary credential).
    #[arg(long, default_value = "AK")]
    pub mode: String,
}

#[derive(Subcommand, Debug)]
pub enum ConfigureCommand {
    /// Set a profile's fields without prompting.
    Set {
        #[arg(long)]
        access_key_id: Option<String>,
        #[arg(long)]
        access_key_secret: Option<String>,
        #[arg(long)]
        sts_token: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long)]
        mode: Option<String>,
    },
    /// List the profiles (secrets masked).
    List,
}

fn mask(s: &str) -> String {
    if s.is_empty() {
        return String::new();
    }
    let tail: String = s
        .chars()
        .rev()
        .take(3)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("***{tail}")
}

pub fn configure(args: ConfigureArgs) -> anyhow::Result<()> {
    let path = config_path(args.config_path.clone())?;
    let mut file = ConfigFile::load(&path)?;
    let existing = file
        .profiles
        .iter()
        .find(|p| p.name == args.profile)
        .cloned()
        .unwrap_or_else(|| Profile {
            name: args.profile.clone(),
            mode: "AK".into(),
            region_id: DEFAULT_REGION.into(),
            endpoint: DEFAULT_ENDPOINT.into(),
            output_format: json_format(),
            ..Profile::default()
        });
    let profile = match args.command {
        Some(ConfigureCommand::List) => {
            println!("Profile   | Credential         | Region       | Endpoint");
            println!("--------- | ------------------ | ------------ | --------");
            for p in &file.profiles {
                let current = if p.name == file.current { " *" } else { "" };
                println!(
                    "{:<9} | {:<18} | {:<12} | {}",
                    printable(&format!("{}{current}", p.name)),
                    printable(&format!("{}:{}", p.mode, mask(&p.access_key_id))),
                    printable(&p.region_id),
                    printable(&p.endpoint)
                );
            }
            return Ok(());
        }
        Some(ConfigureCommand::Set {
            access_key_id,
            access_key_secret,
            sts_token,
            region,
            endpoint,
            mode,
        }) => {
            let mut p = existing;
            let set = |field: &mut String, v: Option<String>| {
                if let Some(v) = v {
                    *field = v;
                }
            };
            set(&mut p.access_key_id, access_key_id);
            set(&mut p.access_key_secret, access_key_secret);
            set(&mut p.sts_token, sts_token);
            set(&mut p.region_id, region);
            set(&mut p.endpoint, endpoint);
            set(&mut p.mode, mode);
            p
        }
        None => {
            // aliyun-style prompts; Enter keeps the value in brackets.
            println!(
                "Configuring profile '{}' in {} mode...",
                args.profile, args.mode
            );
            let stdin = std::io::stdin();
            let mut lines = stdin.lock().lines();
            let mut ask = |label: &str, shown: String, current: &str| -> anyhow::Result<String> {
                print!("{label} [{shown}]: ");
                std::io::stdout().flush()?;
                let line = lines.next().transpose()?.unwrap_or_default();
                let line = line.trim();
                Ok(if line.is_empty() {
                    current.to_owned()
                } else {
                    line.to_owned()
                })
            };
            let mut p = existing;
            p.mode = args.mode.clone();
            p.access_key_id = ask("Access Key Id", mask(&p.access_key_id), &p.access_key_id)?;
            p.access_key_secret = ask(
                "Access Key Secret",
                mask(&p.access_key_secret),
                &p.access_key_secret,
            )?;
            if args.mode == "StsToken" {
                p.sts_token = ask("Sts Token", mask(&p.sts_token), &p.sts_token)?;
            }
            p.region_id = ask("Default Region Id", p.region_id.clone(), &p.region_id)?;
            p.endpoint = ask("Endpoint", p.endpoint.clone(), &p.endpoint)?;
            println!();
            p
        }
    };
    if !matches!(profile.mode.as_str(), "AK" | "StsToken") {
        bail!("mode is AK or StsToken, not {:?}", profile.mode);
    }
    let name = profile.name.clone();
    file.profiles.retain(|p| p.name != name);
    file.profiles.push(profile);
    file.current = name.clone();
    file.save(&path)?;
    println!("Saved profile [{name}] in {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parameters_and_flags() {
        let (params, flags) = parse_rest(&strings(&[
            "--RegionId",
            "cn-hangzhou",
            "--Tag.1.Key=env",
            "--TunnelOptionsSpecification",
            "[{\"Role\":\"master\"}]",
            "--endpoint",
            "http://127.0.0.1:9",
            "--output",
            "cols=A,B.C",
            "rows=X.Y[]",
            "num=true",
            "--PageSize",
            "5",
        ]))
        .unwrap();
        assert_eq!(
            params,
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("Tag.1.Key".into(), "env".into()),
                (
                    "TunnelOptionsSpecification".into(),
                    "[{\"Role\":\"master\"}]".into()
                ),
                ("PageSize".into(), "5".into()),
            ]
        );
        assert_eq!(flags.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(
            flags.output,
            Some(TableSpec {
                cols: vec!["A".into(), "B.C".into()],
                rows: Some("X.Y[]".into()),
                num: true
            })
        );
        assert!(parse_rest(&strings(&["--RegionId"])).is_err());
        assert!(parse_rest(&strings(&["RegionId", "x"])).is_err());
        assert!(parse_rest(&strings(&["--colour", "x"])).is_err());
    }

    #[test]
    fn help_lists_the_parameters() {
        let h = action_help(CloudProduct::Vpc, "CreateVpnConnection");
        assert!(h.contains("--VpnGatewayId"), "{h}");
        assert!(h.contains("JSON string"), "{h}");
        assert!(
            h.contains("--Tags.N.Key") || h.contains("--Tags.N.Key "),
            "{h}"
        );
        assert!(action_help(CloudProduct::Vpc, "NoSuchThing").contains("not an operation"));
    }

    #[test]
    fn pretty_keeps_the_servers_key_order() {
        let raw = r#"{"Z":1,"A":{"b":[1,{"x":"a,b:{}[]\"q\\"}],"e":{},"f":[]},"RequestId":"r"}"#;
        let want = "{\n  \"Z\": 1,\n  \"A\": {\n    \"b\": [\n      1,\n      {\n        \"x\": \"a,b:{}[]\\\"q\\\\\"\n      }\n    ],\n    \"e\": {},\n    \"f\": []\n  },\n  \"RequestId\": \"r\"\n}";
        assert_eq!(pretty(raw), want);
        // Same layout as serde_json's pretty printer, apart from key order.
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        let sorted = serde_json::to_string(&v).unwrap();
        assert_eq!(pretty(&sorted), serde_json::to_string_pretty(&v).unwrap());
    }

    #[test]
    fn tables_like_the_aliyun_cli() {
        let answer = serde_json::json!({
            "TotalCount": 2,
            "VpnGateways": {"VpnGateway": [
                {"VpnGatewayId": "vpn-1", "Status": "active", "Tags": {"Tag": []}},
                {"VpnGatewayId": "vpn-22", "Status": "init"}
            ]}
        });
        let spec = TableSpec {
            cols: vec!["VpnGatewayId".into(), "Status".into()],
            rows: Some("VpnGateways.VpnGateway[]".into()),
            num: false,
        };
        assert_eq!(
            table(&answer, &spec).unwrap(),
            "VpnGatewayId | Status\n------------ | ------\nvpn-1        | active\nvpn-22       | init\n"
        );
        let one = TableSpec {
            cols: vec!["TotalCount".into()],
            rows: None,
            num: true,
        };
        assert_eq!(
            table(&answer, &one).unwrap(),
            "Num | TotalCount\n--- | ----------\n0   | 2\n"
        );
    }

    #[test]
    fn table_cells_cannot_forge_rows() {
        let answer = serde_json::json!({"Items": [
            {"Name": "ok\nvpn-2        | deleted\u{1b}[8m"}
        ]});
        let spec = TableSpec {
            cols: vec!["Name".into()],
            rows: Some("Items[]".into()),
            num: false,
        };
        let text = table(&answer, &spec).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.contains("ok\\nvpn-2") && text.contains("\\x1b[8m"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
    }
}
