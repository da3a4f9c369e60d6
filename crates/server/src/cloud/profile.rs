//! Profiles (`~/.vpngw/config.json`, the aliyun CLI's `config.json` shape plus
//! `endpoint`), where a call's credentials, region and endpoint come from,
//! and `vpngw configure` (prompts, `set`, `get`, `list`, `switch`, `delete`).

use std::{
    io::{Read, Write},
    path::PathBuf,
};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};

use super::{DEFAULT_ENDPOINT, DEFAULT_REGION, args::Flags};

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
pub struct Resolved {
    pub endpoint: String,
    pub region: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    pub sts_token: Option<String>,
}

pub(super) fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// `fallback`: the key to use when the flags, the environment and the
/// profile give none.
pub fn resolve(
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

#[derive(Args, Debug)]
pub struct ConfigureArgs {
    #[command(subcommand)]
    pub command: Option<ConfigureCommand>,
    /// The profile [default: the current one, else `default`].
    #[arg(long, short = 'p', global = true)]
    pub profile: Option<String>,
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
    /// Print a profile as JSON (secrets masked), or the values of the fields
    /// named (`vpngw configure get region_id`), as stored.
    Get {
        /// Fields of the profile: name, mode, access_key_id, access_key_secret,
        /// sts_token, region_id, endpoint, output_format.
        fields: Vec<String>,
    },
    /// List the profiles (secrets masked; `*` marks the current one).
    List,
    /// Make `--profile NAME` the current profile.
    Switch,
    /// Delete `--profile NAME` (the current one is then the first left).
    Delete,
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

impl Profile {
    fn new(name: &str) -> Profile {
        Profile {
            name: name.to_owned(),
            mode: "AK".into(),
            region_id: DEFAULT_REGION.into(),
            endpoint: DEFAULT_ENDPOINT.into(),
            output_format: json_format(),
            ..Profile::default()
        }
    }

    /// The profile as JSON with its secrets masked.
    fn masked(&self) -> serde_json::Value {
        let mut p = self.clone();
        p.access_key_secret = mask(&p.access_key_secret);
        p.sts_token = mask(&p.sts_token);
        serde_json::to_value(p).unwrap_or_default()
    }

    /// Refuses a profile that could not sign a call.
    fn check(&self) -> anyhow::Result<()> {
        if !matches!(self.mode.as_str(), "AK" | "StsToken") {
            bail!("mode is AK or StsToken, not {:?}", self.mode);
        }
        if self.access_key_id.trim().is_empty() || self.access_key_secret.trim().is_empty() {
            bail!(
                "profile {:?} needs an Access Key Id and an Access Key Secret; nothing was saved",
                self.name
            );
        }
        if self.mode == "StsToken" && self.sts_token.trim().is_empty() {
            bail!(
                "profile {:?} is in StsToken mode and needs an Sts Token; nothing was saved",
                self.name
            );
        }
        Ok(())
    }
}

/// aliyun-style prompts on stdin; Enter keeps the value in brackets. The
/// end of the input before every question is answered is an error (a
/// script piping too few lines, or `< /dev/null`), not a silent save.
fn prompt(mut p: Profile, mode: &str) -> anyhow::Result<Profile> {
    println!("Configuring profile '{}' in {mode} mode...", p.name);
    let ask = |label: &str, shown: String, current: &str| -> anyhow::Result<String> {
        print!("{label} [{shown}]: ");
        std::io::stdout().flush()?;
        let Some(line) = read_answer()? else {
            println!();
            bail!(
                "no answer for {label:?}: the input ended; nothing was saved \
                 (`vpngw configure set --access-key-id … --access-key-secret …` takes no input)"
            );
        };
        let line = line.trim();
        Ok(if line.is_empty() {
            current.to_owned()
        } else {
            line.to_owned()
        })
    };
    p.mode = mode.to_owned();
    p.access_key_id = ask("Access Key Id", mask(&p.access_key_id), &p.access_key_id)?;
    p.access_key_secret = ask(
        "Access Key Secret",
        mask(&p.access_key_secret),
        &p.access_key_secret,
    )?;
    if mode == "StsToken" {
        p.sts_token = ask("Sts Token", mask(&p.sts_token), &p.sts_token)?;
    }
    p.region_id = ask("Default Region Id", p.region_id.clone(), &p.region_id)?;
    p.endpoint = ask("Endpoint", p.endpoint.clone(), &p.endpoint)?;
    println!();
    Ok(p)
}

/// One line of stdin, read a byte at a time from a duplicate of the
/// descriptor (std's stdin reads ahead): a script that pipes the answers of
/// several `vpngw configure` in a row leaves each its own lines. `None` at
/// the end of the input.
fn read_answer() -> anyhow::Result<Option<String>> {
    use std::os::fd::AsFd;
    let mut input = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) if line.is_empty() => return Ok(None),
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(String::from_utf8_lossy(&line).into_owned()))
}

fn list(file: &ConfigFile) {
    let header: Vec<String> = ["Profile", "Credential", "Region", "Endpoint"]
        .map(String::from)
        .into();
    let rows: Vec<Vec<String>> = file
        .profiles
        .iter()
        .map(|p| {
            let current = if p.name == file.current { " *" } else { "" };
            // A profile's fields are whatever was typed: escaped (#13).
            [
                format!("{}{current}", p.name),
                format!("{}:{}", p.mode, mask(&p.access_key_id)),
                p.region_id.clone(),
                p.endpoint.clone(),
            ]
            .iter()
            .map(|f| crate::text::printable(f).into_owned())
            .collect()
        })
        .collect();
    print!("{}", crate::table::render(&header, &rows, " | ", true));
}

pub fn configure(args: ConfigureArgs) -> anyhow::Result<()> {
    let path = config_path(args.config_path.clone())?;
    let mut file = ConfigFile::load(&path)?;
    let name = args.profile.clone().unwrap_or_else(|| {
        if file.current.is_empty() {
            "default".to_owned()
        } else {
            file.current.clone()
        }
    });
    let stored = file.profiles.iter().find(|p| p.name == name).cloned();
    let must_exist = || {
        stored.clone().with_context(|| {
            let names: Vec<&str> = file.profiles.iter().map(|p| p.name.as_str()).collect();
            format!(
                "no profile {name:?} in {} (profiles: {})",
                path.display(),
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            )
        })
    };
    let profile = match args.command {
        Some(ConfigureCommand::List) => {
            list(&file);
            return Ok(());
        }
        Some(ConfigureCommand::Get { fields }) => {
            let p = must_exist()?;
            if fields.is_empty() {
                println!("{}", serde_json::to_string_pretty(&p.masked())?);
                return Ok(());
            }
            let all = serde_json::to_value(&p)?;
            for f in &fields {
                let Some(v) = all.get(f).and_then(|v| v.as_str()) else {
                    bail!(
                        "{f:?} is not a profile field (name, mode, access_key_id, access_key_secret, \
                         sts_token, region_id, endpoint, output_format)"
                    );
                };
                println!("{v}");
            }
            return Ok(());
        }
        Some(ConfigureCommand::Switch) => {
            must_exist()?;
            file.current = name.clone();
            file.save(&path)?;
            println!("Current profile is now [{name}] in {}", path.display());
            return Ok(());
        }
        Some(ConfigureCommand::Delete) => {
            must_exist()?;
            file.profiles.retain(|p| p.name != name);
            if file.current == name {
                file.current = file
                    .profiles
                    .first()
                    .map(|p| p.name.clone())
                    .unwrap_or_default();
            }
            file.save(&path)?;
            println!("Deleted profile [{name}] from {}", path.display());
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
            let mut p = stored.unwrap_or_else(|| Profile::new(&name));
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
        None => prompt(stored.unwrap_or_else(|| Profile::new(&name)), &args.mode)?,
    };
    profile.check()?;
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

    #[test]
    fn a_profile_without_a_key_is_refused() {
        let mut p = Profile::new("x");
        assert!(
            p.check()
                .unwrap_err()
                .to_string()
                .contains("nothing was saved")
        );
        p.access_key_id = "LTAI1".into();
        p.access_key_secret = "s".into();
        p.check().unwrap();
        p.mode = "StsToken".into();
        assert!(p.check().is_err());
        p.mode = "Ak".into();
        assert!(p.check().is_err());
    }

    #[test]
    fn masked_profiles_keep_no_secret() {
        let mut p = Profile::new("x");
        p.access_key_secret = "abcdefgh".into();
        p.sts_token = "tokentoken".into();
        let text = p.masked().to_string();
        assert!(
            !text.contains("abcdefgh") && !text.contains("tokentoken"),
            "{text}"
        );
        assert!(text.contains("***fgh"), "{text}");
    }
}
