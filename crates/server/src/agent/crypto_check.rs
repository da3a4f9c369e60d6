//! The agent's start-up check of its charon: did charon load every plugin
//! of its `load` list, and can it negotiate every algorithm the API accepts?
//!
//! The answer (vici `stats` and `get-algorithms`, read by
//! [`StrongSwan::start`] into a [`HostCrypto`]) is logged once here, naming
//! the Debian package of each missing plugin. Tunnels are then checked one by
//! one: one that needs a missing algorithm is refused before it is loaded,
//! and its error (algorithm, plugin, package) reaches DescribeVpnConnectionLogs
//! and the tunnel's reason like sm3/sm4 do — never a bare NO_PROPOSAL_CHOSEN.

use vpngw_dataplane::StrongSwan;
use vpngw_dataplane::crypto::PluginState;

/// Log what the charon of `backend` lacks (once, at start-up).
pub fn log_startup(backend: &StrongSwan) {
    let Some(host) = backend.host_crypto() else {
        tracing::warn!(
            "could not ask charon which algorithms it has: tunnels are loaded without that check"
        );
        return;
    };
    for (plugin, package) in host.failed_plugins() {
        match package {
            Some(package) => tracing::error!(
                plugin = %plugin,
                package,
                "charon did not load its {plugin} plugin: install the Debian package {package} on this host and restart the agent"
            ),
            None => tracing::warn!(plugin = %plugin, "charon did not load its {plugin} plugin"),
        }
    }
    let unavailable = host.unavailable();
    if unavailable.is_empty() {
        tracing::info!("charon can negotiate every algorithm the API accepts (but sm3/sm4)");
        return;
    }
    let values: Vec<String> = unavailable
        .iter()
        .map(|u| format!("{} ({})", u.value, u.algorithm))
        .collect();
    let (state, package) = host.crypto_plugin();
    let why = match state {
        PluginState::FailedToLoad => "failed to load",
        PluginState::NotConfigured => "is not in its load list (--charon-load)",
        PluginState::Loaded => "is loaded but does not offer them",
    };
    tracing::warn!(
        missing = %values.join(", "),
        package,
        "this gateway cannot negotiate {}: charon's openssl plugin (Debian package {package}) {why}; connections using them are refused, with that reason in DescribeVpnConnectionLogs",
        values.join(", ")
    );
}
