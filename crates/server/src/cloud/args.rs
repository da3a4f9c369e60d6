//! The words after `vpngw vpc <Action>`: API parameters (`--Name value`,
//! capitalised) and the CLI's own flags (lower case), as the aliyun CLI
//! spells them.

use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

/// The CLI's own flags, as found among the parameters.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub sts_token: Option<String>,
    pub config_path: Option<PathBuf>,
    /// The CA of an https:// endpoint (else VPNGW_CA_FILE, else the system's CAs).
    pub ca_file: Option<PathBuf>,
    pub output: Option<TableSpec>,
    pub waiter: Option<WaiterSpec>,
    pub pager: Option<PagerSpec>,
    /// Send parameters (and actions) the operation's schema does not know.
    pub force: bool,
    /// Print the request instead of sending it.
    pub dryrun: bool,
    /// Print nothing on success.
    pub quiet: bool,
}

/// `--output cols=A,B.C rows=Path.To.List[] num=true`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableSpec {
    pub cols: Vec<String>,
    pub rows: Option<String>,
    pub num: bool,
}

/// `--waiter expr=<JMESPath> to=<value> [timeout=180] [interval=5]`: call
/// again until the expression gives the value.
#[derive(Debug, Clone, PartialEq)]
pub struct WaiterSpec {
    pub expr: String,
    pub to: String,
    pub timeout: Duration,
    pub interval: Duration,
}

/// `--pager [path=List.Path] [PageNumber=…] [PageSize=…] [TotalCount=…]
/// [NextToken=…]`: every page, merged.
#[derive(Debug, Clone, PartialEq)]
pub struct PagerSpec {
    /// Where the list is in each answer; by default the first list found.
    pub path: Option<String>,
    pub page_number: String,
    pub page_size: String,
    pub total_count: String,
    pub next_token: String,
}

impl Default for PagerSpec {
    fn default() -> Self {
        PagerSpec {
            path: None,
            page_number: "PageNumber".into(),
            page_size: "PageSize".into(),
            total_count: "TotalCount".into(),
            next_token: "NextToken".into(),
        }
    }
}

/// The flags a user can write, for messages and "did you mean".
pub const FLAG_NAMES: &[&str] = &[
    "endpoint",
    "region",
    "profile",
    "access-key-id",
    "access-key-secret",
    "sts-token",
    "config-path",
    "ca-file",
    "output",
    "waiter",
    "pager",
    "force",
    "dryrun",
    "quiet",
];

/// One line per flag, for `--help`.
pub const FLAGS_HELP: &str = "\
CLI flags:
  --endpoint URL                 server (VPNGW_ENDPOINT, the profile's, http://127.0.0.1:8080)
  --region ID                    RegionId when the call names none
  --profile NAME                 profile of ~/.vpngw/config.json (--config-path FILE)
  --access-key-id ID --access-key-secret S [--sts-token T]   credentials, both or none
  --ca-file PEM                  the CA of an https:// endpoint (VPNGW_CA_FILE)
  --output cols=A,B.C [rows=Path.To.List[]] [num=true]       a table instead of JSON
  --waiter expr=<JMESPath> to=<value> [timeout=180] [interval=5]   call again until expr = value
  --pager [path=Path.To.List] [PageNumber=…] [PageSize=…] [TotalCount=…]   every page, merged
  --dryrun                       print the request, do not send it
  --quiet                        print nothing on success
  --force                        send parameters or actions this CLI does not know
";

/// `key=value` words following a multi-part flag, up to the next `--…`.
fn parts(rest: &[String], i: &mut usize, inline: Option<String>) -> Vec<(String, String)> {
    let mut words: Vec<String> = inline.into_iter().collect();
    while *i < rest.len() && !rest[*i].starts_with("--") {
        words.push(rest[*i].clone());
        *i += 1;
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (w, String::new()),
        })
        .collect()
}

fn seconds(flag: &str, key: &str, v: &str) -> anyhow::Result<Duration> {
    let s: f64 = v
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
        .with_context(|| format!("--{flag} {key}={v:?}: seconds, e.g. {key}=5"))?;
    Ok(Duration::from_secs_f64(s))
}

fn table_spec(words: Vec<(String, String)>) -> anyhow::Result<TableSpec> {
    let mut spec = TableSpec::default();
    for (k, v) in words {
        match k.as_str() {
            "cols" => {
                spec.cols = v
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            }
            "rows" => spec.rows = Some(v),
            "num" => spec.num = v == "true",
            _ => bail!("--output takes cols=A,B [rows=Path.To.List[]] [num=true], not {k:?}"),
        }
    }
    if spec.cols.is_empty() {
        bail!("--output needs cols=A,B");
    }
    Ok(spec)
}

fn waiter_spec(words: Vec<(String, String)>) -> anyhow::Result<WaiterSpec> {
    let (mut expr, mut to) = (None, None);
    let mut timeout = Duration::from_secs(180);
    let mut interval = Duration::from_secs(5);
    for (k, v) in words {
        match k.as_str() {
            "expr" => expr = Some(v),
            "to" => to = Some(v),
            "timeout" => timeout = seconds("waiter", "timeout", &v)?,
            "interval" => interval = seconds("waiter", "interval", &v)?,
            _ => bail!(
                "--waiter takes expr=<JMESPath> to=<value> [timeout=180] [interval=5], not {k:?}"
            ),
        }
    }
    let usage =
        "--waiter needs expr=<JMESPath> and to=<value>, e.g. --waiter expr=Status to=active";
    let expr = expr.filter(|e| !e.is_empty()).context(usage)?;
    jmespath::compile(&expr).with_context(|| format!("--waiter expr={expr:?} is not JMESPath"))?;
    Ok(WaiterSpec {
        expr,
        to: to.context(usage)?,
        timeout,
        interval,
    })
}

fn pager_spec(words: Vec<(String, String)>) -> anyhow::Result<PagerSpec> {
    let mut spec = PagerSpec::default();
    for (k, v) in words {
        let field = match k.as_str() {
            "path" => {
                spec.path = Some(v);
                continue;
            }
            "PageNumber" => &mut spec.page_number,
            "PageSize" => &mut spec.page_size,
            "TotalCount" => &mut spec.total_count,
            "NextToken" => &mut spec.next_token,
            _ => bail!(
                "--pager takes [path=Path.To.List] [PageNumber=…] [PageSize=…] [TotalCount=…] [NextToken=…], not {k:?}"
            ),
        };
        *field = v;
    }
    Ok(spec)
}

/// Splits `rest` into API parameters (in order) and CLI flags.
pub fn parse_rest(rest: &[String]) -> anyhow::Result<(Vec<(String, String)>, Flags)> {
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
        match name {
            "output" | "o" => {
                flags.output = Some(table_spec(parts(rest, &mut i, inline))?);
                continue;
            }
            "waiter" => {
                flags.waiter = Some(waiter_spec(parts(rest, &mut i, inline))?);
                continue;
            }
            "pager" => {
                flags.pager = Some(pager_spec(parts(rest, &mut i, inline))?);
                continue;
            }
            "force" | "dryrun" | "quiet" => {
                if inline.is_some() {
                    bail!("--{name} takes no value");
                }
                match name {
                    "force" => flags.force = true,
                    "dryrun" => flags.dryrun = true,
                    _ => flags.quiet = true,
                }
                continue;
            }
            _ => {}
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
            _ => {
                let hint = super::schema::did_you_mean(name, FLAG_NAMES.iter().copied())
                    .map(|s| format!("did you mean --{s}? "))
                    .unwrap_or_default();
                bail!(
                    "unknown flag --{name}: {hint}API parameters start with a capital letter \
                     (--RegionId); CLI flags are --{}",
                    FLAG_NAMES.join(", --")
                )
            }
        }
    }
    if flags.access_key_id.is_some() != flags.access_key_secret.is_some() {
        bail!("--access-key-id and --access-key-secret go together: give both, or neither");
    }
    if flags.sts_token.is_some() && flags.access_key_id.is_none() {
        bail!("--sts-token goes with --access-key-id and --access-key-secret");
    }
    if flags.waiter.is_some() && flags.pager.is_some() {
        bail!("--waiter and --pager do not go together");
    }
    Ok((params, flags))
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
            "--quiet",
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
        assert!(flags.quiet && !flags.force && !flags.dryrun);
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
        let typo = parse_rest(&strings(&["--endpont", "x"])).unwrap_err();
        assert!(
            typo.to_string().contains("did you mean --endpoint?"),
            "{typo}"
        );
    }

    #[test]
    fn waiter_and_pager() {
        let (_, flags) = parse_rest(&strings(&[
            "--waiter",
            "expr=VpnGateway.Status",
            "to=active",
            "interval=0.5",
            "--force",
        ]))
        .unwrap();
        let w = flags.waiter.unwrap();
        assert_eq!(
            (w.expr.as_str(), w.to.as_str()),
            ("VpnGateway.Status", "active")
        );
        assert_eq!(w.interval, Duration::from_millis(500));
        assert_eq!(w.timeout, Duration::from_secs(180));
        assert!(flags.force);
        assert!(parse_rest(&strings(&["--waiter", "to=active"])).is_err());
        assert!(parse_rest(&strings(&["--waiter", "expr=a[", "to=x"])).is_err());
        let (_, flags) = parse_rest(&strings(&["--pager", "--RegionId", "x"])).unwrap();
        assert_eq!(flags.pager, Some(PagerSpec::default()));
        let (_, flags) = parse_rest(&strings(&["--pager", "path=A.B", "PageSize=Max"])).unwrap();
        let p = flags.pager.unwrap();
        assert_eq!(
            (p.path.as_deref(), p.page_size.as_str()),
            (Some("A.B"), "Max")
        );
        assert!(parse_rest(&strings(&["--pager", "--waiter", "expr=a", "to=b"])).is_err());
    }

    #[test]
    fn credentials_go_in_pairs() {
        let err = parse_rest(&strings(&["--access-key-secret", "s"])).unwrap_err();
        assert!(err.to_string().contains("go together"), "{err}");
        assert!(parse_rest(&strings(&["--access-key-id", "i"])).is_err());
        assert!(parse_rest(&strings(&["--sts-token", "t"])).is_err());
        assert!(
            parse_rest(&strings(&[
                "--access-key-id",
                "i",
                "--access-key-secret",
                "s"
            ]))
            .is_ok()
        );
    }
}
