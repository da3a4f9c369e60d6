//! What the running charon can negotiate, asked over vici (`get-algorithms`,
//! and `stats` for the plugins it loaded).
//!
//! The API accepts des, 3des and md5, but charon only has them through its
//! `openssl` plugin (Debian package `libstrongswan-standard-plugins`). On a
//! host without it, a tunnel using them would fail against its peer with a
//! bare NO_PROPOSAL_CHOSEN; with a [`HostCrypto`] in
//! [`RenderOptions::host`](crate::RenderOptions::host) it is refused before it
//! is loaded, with a [`RenderError::AlgorithmUnavailable`] that names the
//! algorithm, the plugin and the package (the same per-tunnel path as sm3/sm4).

use std::collections::BTreeSet;
use std::fmt;

use crate::charon::plugin_package;
use crate::conf::{Section, Value};
use crate::model::{IkeSettings, IpsecSettings};
use crate::render::{RenderError, map_auth, map_dh, map_enc};
use crate::vici::{Vici, ViciError};

/// The plugin that provides every algorithm of the API's vocabulary (and the
/// only one for des, 3des and md5).
pub const CRYPTO_PLUGIN: &str = "openssl";

/// strongSwan proposal keyword → the `get-algorithms` entry it needs
/// (type, name). The names are strongSwan's (5.9: `dh`; 6.x calls that
/// section `ke`, read as `dh`).
const ALGORITHMS: &[(&str, &str, &str)] = &[
    ("aes128", "encryption", "AES_CBC"),
    ("aes192", "encryption", "AES_CBC"),
    ("aes256", "encryption", "AES_CBC"),
    ("des", "encryption", "DES_CBC"),
    ("3des", "encryption", "3DES_CBC"),
    ("md5", "integrity", "HMAC_MD5_96"),
    ("sha1", "integrity", "HMAC_SHA1_96"),
    ("sha256", "integrity", "HMAC_SHA2_256_128"),
    ("sha384", "integrity", "HMAC_SHA2_384_192"),
    ("sha512", "integrity", "HMAC_SHA2_512_256"),
    ("modp768", "dh", "MODP_768"),
    ("modp1024", "dh", "MODP_1024"),
    ("modp1536", "dh", "MODP_1536"),
    ("modp2048", "dh", "MODP_2048"),
    ("modp2048s256", "dh", "MODP_2048_256"),
];

/// IKE derives its PRF from the integrity keyword as well.
const IKE_PRF: &[(&str, &str)] = &[
    ("md5", "PRF_HMAC_MD5"),
    ("sha1", "PRF_HMAC_SHA1"),
    ("sha256", "PRF_HMAC_SHA2_256"),
    ("sha384", "PRF_HMAC_SHA2_384"),
    ("sha512", "PRF_HMAC_SHA2_512"),
];

/// The API values whose availability depends on the host (sm3/sm4 never
/// work and are refused by rendering alone), by field family.
const VOCABULARY: &[(&str, &[&str])] = &[
    ("EncAlg", &["aes", "aes192", "aes256", "des", "3des"]),
    ("AuthAlg", &["md5", "sha1", "sha256", "sha384", "sha512"]),
    ("Pfs", &["group1", "group2", "group5", "group14", "group24"]),
];

/// Where [`CRYPTO_PLUGIN`] stands on this host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginState {
    /// In charon's `load` list but not loaded: its package is missing.
    FailedToLoad,
    /// Not in charon's `load` list.
    NotConfigured,
    /// Loaded, yet the algorithm is not offered.
    Loaded,
}

impl fmt::Display for PluginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PluginState::FailedToLoad => {
                "which failed to load: install that package on the gateway host and restart vpngw agent"
            }
            PluginState::NotConfigured => {
                "which is not in charon's load list (vpngw agent --charon-load)"
            }
            PluginState::Loaded => "which is loaded but does not offer it",
        })
    }
}

/// The algorithms and plugins of one running charon.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostCrypto {
    /// (`get-algorithms` type, name), e.g. (`encryption`, `AES_CBC`).
    algorithms: BTreeSet<(String, String)>,
    /// Plugins charon reports loaded.
    loaded: BTreeSet<String>,
    /// The configured `load` list (without `!`).
    configured: Vec<String>,
}

/// An API value this host cannot negotiate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// Field family: `EncAlg`, `AuthAlg` or `Pfs` (of IkeConfig/IpsecConfig).
    pub family: &'static str,
    /// The API value, e.g. `3des`.
    pub value: &'static str,
    /// What charon lacks, e.g. `3DES_CBC`.
    pub algorithm: &'static str,
}

impl HostCrypto {
    /// Ask a running charon (configured with `load`).
    pub async fn query(vici: &Vici, load: &[String]) -> Result<HostCrypto, ViciError> {
        let algorithms = vici.get_algorithms().await?;
        let stats = vici.stats().await?;
        Ok(HostCrypto::from_replies(&algorithms, &stats, load))
    }

    /// From the answers to `get-algorithms` and `stats`.
    pub fn from_replies(algorithms: &Section, stats: &Section, load: &[String]) -> HostCrypto {
        let mut set = BTreeSet::new();
        for (kind, entries) in algorithms.sections() {
            let kind = if kind == "ke" { "dh" } else { kind };
            for (name, value) in entries.entries() {
                if matches!(value, Value::Str(_)) {
                    set.insert((kind.to_string(), name.clone()));
                }
            }
        }
        HostCrypto {
            algorithms: set,
            loaded: stats.get_list("plugins").into_iter().collect(),
            configured: load
                .iter()
                .map(|p| p.trim_end_matches('!').to_string())
                .collect(),
        }
    }

    /// Plugins of the `load` list that charon did not load, with the Debian
    /// package that ships each (when vpngw knows it).
    pub fn failed_plugins(&self) -> Vec<(String, Option<&'static str>)> {
        self.configured
            .iter()
            .filter(|p| !self.loaded.contains(*p))
            .map(|p| (p.clone(), plugin_package(p)))
            .collect()
    }

    fn lacks(&self, keyword: &str, ike: bool) -> Option<&'static str> {
        let needed = ALGORITHMS
            .iter()
            .filter(|(k, _, _)| *k == keyword)
            .map(|(_, kind, name)| (*kind, *name))
            .chain(
                IKE_PRF
                    .iter()
                    .filter(|(k, _)| ike && *k == keyword)
                    .map(|(_, name)| ("prf", *name)),
            );
        for (kind, name) in needed {
            if !self
                .algorithms
                .contains(&(kind.to_string(), name.to_string()))
            {
                return Some(name);
            }
        }
        None
    }

    fn plugin_state(&self) -> PluginState {
        if self.loaded.contains(CRYPTO_PLUGIN) {
            PluginState::Loaded
        } else if self.configured.iter().any(|p| p == CRYPTO_PLUGIN) {
            PluginState::FailedToLoad
        } else {
            PluginState::NotConfigured
        }
    }

    fn require(
        &self,
        field: &'static str,
        value: &str,
        keyword: &str,
        ike: bool,
    ) -> Result<(), RenderError> {
        match self.lacks(keyword, ike) {
            None => Ok(()),
            Some(algorithm) => Err(RenderError::AlgorithmUnavailable {
                field,
                value: value.trim().to_string(),
                algorithm,
                plugin: CRYPTO_PLUGIN,
                package: plugin_package(CRYPTO_PLUGIN).unwrap_or("?"),
                state: self.plugin_state(),
            }),
        }
    }

    /// Whether this charon can negotiate a tunnel with these settings: the
    /// first algorithm it lacks, as the error of that tunnel.
    pub fn check_tunnel(
        &self,
        ike: &IkeSettings,
        ipsec: &IpsecSettings,
    ) -> Result<(), RenderError> {
        let f = "IkeConfig.IkeEncAlg";
        self.require(f, &ike.enc_alg, map_enc(f, &ike.enc_alg)?, true)?;
        let f = "IkeConfig.IkeAuthAlg";
        self.require(f, &ike.auth_alg, map_auth(f, &ike.auth_alg)?, true)?;
        let f = "IkeConfig.IkePfs";
        self.require(f, &ike.pfs, map_dh(f, &ike.pfs)?, true)?;
        let f = "IpsecConfig.IpsecEncAlg";
        self.require(f, &ipsec.enc_alg, map_enc(f, &ipsec.enc_alg)?, false)?;
        let f = "IpsecConfig.IpsecAuthAlg";
        self.require(f, &ipsec.auth_alg, map_auth(f, &ipsec.auth_alg)?, false)?;
        if !ipsec.pfs.trim().eq_ignore_ascii_case("disabled") {
            let f = "IpsecConfig.IpsecPfs";
            self.require(f, &ipsec.pfs, map_dh(f, &ipsec.pfs)?, false)?;
        }
        Ok(())
    }

    /// The API values this host cannot negotiate (for IKE; ESP needs no
    /// more), for a start-up summary.
    pub fn unavailable(&self) -> Vec<Unavailable> {
        let mut out = Vec::new();
        for (family, values) in VOCABULARY {
            for value in *values {
                let keyword = match *family {
                    "EncAlg" => map_enc("", value),
                    "AuthAlg" => map_auth("", value),
                    _ => map_dh("", value),
                };
                if let Some(algorithm) = keyword.ok().and_then(|k| self.lacks(k, true)) {
                    out.push(Unavailable {
                        family,
                        value,
                        algorithm,
                    });
                }
            }
        }
        out
    }

    /// Why [`HostCrypto::unavailable`] is not empty: the state of
    /// [`CRYPTO_PLUGIN`] and its package.
    pub fn crypto_plugin(&self) -> (PluginState, &'static str) {
        (
            self.plugin_state(),
            plugin_package(CRYPTO_PLUGIN).unwrap_or("?"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charon::default_load;

    /// `get-algorithms` of charon 5.9.8 without the openssl plugin (as read
    /// from one: aes, hmac, sha1, sha2 and gmp only).
    fn without_openssl() -> Section {
        let names = |kind: &str, names: &[&str], plugin: &str| {
            let mut s = Section::new();
            for n in names {
                s = s.kv(*n, plugin);
            }
            (kind.to_string(), s)
        };
        let mut reply = Section::new();
        for (kind, s) in [
            names("encryption", &["AES_CBC", "AES_ECB"], "aes"),
            names(
                "integrity",
                &[
                    "HMAC_SHA1_96",
                    "HMAC_SHA2_256_128",
                    "HMAC_SHA2_384_192",
                    "HMAC_SHA2_512_256",
                ],
                "hmac",
            ),
            names(
                "prf",
                &[
                    "PRF_HMAC_SHA1",
                    "PRF_HMAC_SHA2_256",
                    "PRF_HMAC_SHA2_384",
                    "PRF_HMAC_SHA2_512",
                ],
                "hmac",
            ),
            names(
                "dh",
                &[
                    "MODP_768",
                    "MODP_1024",
                    "MODP_1536",
                    "MODP_2048",
                    "MODP_2048_256",
                ],
                "gmp",
            ),
        ] {
            reply = reply.section(kind, s);
        }
        reply
    }

    fn stats(loaded: &[&str]) -> Section {
        Section::new().list("plugins", loaded.iter().map(|p| p.to_string()))
    }

    fn loaded_without(missing: &str) -> Vec<String> {
        default_load()
            .into_iter()
            .map(|p| p.trim_end_matches('!').to_string())
            .filter(|p| p != missing)
            .collect()
    }

    #[test]
    fn a_missing_openssl_plugin_is_named_with_its_package() {
        let loaded = loaded_without("openssl");
        let loaded: Vec<&str> = loaded.iter().map(String::as_str).collect();
        let host = HostCrypto::from_replies(&without_openssl(), &stats(&loaded), &default_load());
        assert_eq!(
            host.failed_plugins(),
            vec![(
                "openssl".to_string(),
                Some("libstrongswan-standard-plugins")
            )]
        );
        let values: Vec<&str> = host.unavailable().iter().map(|u| u.value).collect();
        assert_eq!(values, ["des", "3des", "md5"]);

        let ike = IkeSettings {
            enc_alg: "3des".into(),
            ..IkeSettings::default()
        };
        let err = host
            .check_tunnel(&ike, &IpsecSettings::default())
            .expect_err("3des");
        assert_eq!(
            err,
            RenderError::AlgorithmUnavailable {
                field: "IkeConfig.IkeEncAlg",
                value: "3des".into(),
                algorithm: "3DES_CBC",
                plugin: "openssl",
                package: "libstrongswan-standard-plugins",
                state: PluginState::FailedToLoad,
            }
        );
        let text = err.to_string();
        assert!(
            text.contains("3des") && text.contains("libstrongswan-standard-plugins"),
            "{text}"
        );

        // md5 in ESP only; the API defaults (aes/sha1/group2) pass.
        let ipsec = IpsecSettings {
            auth_alg: "md5".into(),
            ..IpsecSettings::default()
        };
        let err = host
            .check_tunnel(&IkeSettings::default(), &ipsec)
            .expect_err("md5");
        assert!(matches!(
            err,
            RenderError::AlgorithmUnavailable {
                field: "IpsecConfig.IpsecAuthAlg",
                algorithm: "HMAC_MD5_96",
                ..
            }
        ));
        host.check_tunnel(&IkeSettings::default(), &IpsecSettings::default())
            .expect("defaults");
    }

    #[test]
    fn a_plugin_left_out_of_the_load_list_is_told_apart() {
        let load = loaded_without("openssl");
        let loaded: Vec<&str> = load.iter().map(String::as_str).collect();
        let host = HostCrypto::from_replies(&without_openssl(), &stats(&loaded), &load);
        assert!(host.failed_plugins().is_empty());
        let ipsec = IpsecSettings {
            enc_alg: "des".into(),
            ..IpsecSettings::default()
        };
        let err = host
            .check_tunnel(&IkeSettings::default(), &ipsec)
            .expect_err("des");
        assert!(
            err.to_string().contains("not in charon's load list"),
            "{err}"
        );
    }

    #[test]
    fn ke_section_of_strongswan_6_counts_as_dh() {
        let reply = Section::new().section("ke", Section::new().kv("MODP_2048", "gmp"));
        let host = HostCrypto::from_replies(&reply, &stats(&[]), &[]);
        assert!(host.lacks("modp2048", false).is_none());
        assert_eq!(host.lacks("modp1024", false), Some("MODP_1024"));
    }
}
