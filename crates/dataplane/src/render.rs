//! [`GatewayDesired`] → charon configuration (`swanctl.conf` text and the
//! equivalent vici `load-conn` / `load-shared` messages).
//!
//! Algorithm mapping (API value → strongSwan), measured with strongSwan 5.9.8:
//!
//! | API | strongSwan |
//! |---|---|
//! | aes, aes192, aes256, des, 3des | aes128, aes192, aes256, des, 3des |
//! | md5, sha1, sha256, sha384, sha512 | md5, sha1, sha256, sha384, sha512 |
//! | group1, group2, group5, group14, group24 | modp768, modp1024, modp1536, modp2048, modp2048s256 |
//! | IpsecPfs `disabled` | ESP proposal without a DH group |
//! | sm3, sm4 | refused: [`RenderError::UnsupportedAlgorithm`] |
//!
//! With [`RenderOptions::host`] (what the running charon can negotiate), a
//! tunnel needing an algorithm the host lacks (des, 3des and md5 without
//! charon's openssl plugin) is refused too:
//! [`RenderError::AlgorithmUnavailable`].
//!
//! Every problem is reported per tunnel ([`TunnelError`]); the other tunnels
//! of the gateway still render. Nothing here panics on input.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use crate::conf::{Section, Value, conf_value};
use crate::crypto::{HostCrypto, PluginState};
use crate::forwarding::Selector;
use crate::model::{
    ConnectionDesired, GatewayDesired, IkeMode, IkeSettings, IkeVersion, Secret, StartAction,
    TunnelBgp, TunnelDesired,
};

/// Dead peer detection timing.
///
/// Alibaba Cloud documents DPD as "on by default; the SAs are deleted when the
/// peer does not answer within a set time" without publishing the numbers.
/// The default here (10 s interval, 30 s timeout) follows common cloud practice
/// (AWS: 10 s / 30 s). `dpd_timeout` only applies to IKEv1; IKEv2 declares the
/// peer dead after charon's retransmission schedule (see
/// [`crate::charon::Retransmit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DpdTiming {
    /// `dpd_delay`: seconds without traffic before a liveness check.
    pub delay_s: u32,
    /// `dpd_timeout` (IKEv1): seconds without an answer before clearing.
    pub timeout_s: u32,
}

impl Default for DpdTiming {
    fn default() -> Self {
        Self {
            delay_s: 10,
            timeout_s: 30,
        }
    }
}

/// Knobs that are properties of the deployment, not of the API resources.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderOptions {
    /// DPD timing used when a tunnel has `dpd: true`.
    pub dpd: DpdTiming,
    /// Force UDP encapsulation of ESP (`encap = yes`). Required with
    /// `kernel-libipsec` (userspace ESP travels in UDP 4500), so the
    /// `nat_traversal` flag cannot turn it off there. When false, charon
    /// detects NAT by itself (its default) for every tunnel.
    pub force_encap: bool,
    /// Whether the kernel backend raises acquires for trap policies.
    /// `kernel-libipsec` does not (packets hitting a trap policy are dropped
    /// with "could not find an outbound IPsec SA"), so with `false`
    /// [`StartAction::Trap`] (`EffectImmediately=false`) is rendered as
    /// `start`: the tunnel is negotiated at once instead of on first
    /// traffic.
    pub traps_supported: bool,
    /// What the charon that will run the tunnels can negotiate (read from it
    /// at start-up); `None`: assume every algorithm of the vocabulary.
    pub host: Option<Arc<HostCrypto>>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            dpd: DpdTiming::default(),
            force_encap: true,
            traps_supported: false,
            host: None,
        }
    }
}

/// Why a tunnel could not be rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A value the API accepts but strongSwan 5.9 cannot negotiate (sm3, sm4).
    #[error("{field}={value}: algorithm not supported by this gateway (strongSwan has no {value})")]
    UnsupportedAlgorithm {
        /// API field name, e.g. `IkeConfig.IkeEncAlg`.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// A value of the vocabulary that this host's charon cannot negotiate:
    /// the plugin providing it is missing (des, 3des, md5 without `openssl`).
    #[error(
        "{field}={value}: this gateway cannot negotiate {value}: its charon has no {algorithm}; that comes with charon's {plugin} plugin (Debian package {package}), {state}"
    )]
    AlgorithmUnavailable {
        /// API field name, e.g. `IkeConfig.IkeEncAlg`.
        field: &'static str,
        /// The value given.
        value: String,
        /// The algorithm charon lacks (`get-algorithms` name, e.g. `3DES_CBC`).
        algorithm: &'static str,
        /// The plugin that provides it.
        plugin: &'static str,
        /// The Debian package of that plugin.
        package: &'static str,
        /// Whether the plugin failed to load, is not configured, or is loaded.
        state: PluginState,
    },
    /// A value outside the API vocabulary.
    #[error("{field}={value:?}: unknown value")]
    UnknownValue {
        /// API field name.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// The tunnel id cannot be a charon connection name.
    #[error(
        "tunnel id {0:?} is not usable as a connection name (only A-Z a-z 0-9 _ -, at most 64)"
    )]
    InvalidName(String),
    /// The same tunnel id appears twice on the gateway.
    #[error("tunnel id {0:?} is used more than once on this gateway")]
    DuplicateTunnel(String),
    /// A subnet is not a CIDR.
    #[error("{field}: {value:?} is not an IP prefix")]
    InvalidSubnet {
        /// `LocalSubnet` or `RemoteSubnet`.
        field: &'static str,
        /// The value given.
        value: String,
    },
    /// No subnets on one side.
    #[error("{0} is empty")]
    MissingSubnets(&'static str),
    /// No pre-shared key.
    #[error("IkeConfig.Psk is empty")]
    EmptyPsk,
    /// The tunnel's local address is not one of the gateway's addresses.
    #[error("local address {0} is not an address of this gateway")]
    ForeignLocalAddr(IpAddr),
    /// Another tunnel already uses this pair of public addresses; charon
    /// would reuse that IKE SA and the peer would refuse the second child.
    #[error("tunnel {other} already connects {local} to {remote}; one tunnel per address pair")]
    AddressPairInUse {
        /// Local public address.
        local: IpAddr,
        /// Remote public address.
        remote: IpAddr,
        /// The tunnel that has it.
        other: String,
    },
    /// Local and remote address families differ.
    #[error("local address {0} and remote address {1} are of different families")]
    AddressFamilyMismatch(IpAddr, IpAddr),
}

/// A per-tunnel failure, ready to become a log line and an
/// `ike_sa_not_established` status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelError {
    /// The connection.
    pub connection_id: String,
    /// The tunnel.
    pub tunnel_id: String,
    /// What went wrong.
    pub kind: TunnelErrorKind,
}

/// What went wrong with a tunnel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TunnelErrorKind {
    /// The desired configuration cannot be expressed for strongSwan.
    Render(RenderError),
    /// charon refused a command for this tunnel.
    Rejected {
        /// The vici command (`load-conn`, `load-shared`, ...).
        command: &'static str,
        /// charon's `errmsg` or the transport error.
        message: String,
    },
}

impl fmt::Display for TunnelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "connection {} tunnel {}: ",
            self.connection_id, self.tunnel_id
        )?;
        match &self.kind {
            TunnelErrorKind::Render(e) => write!(f, "{e}"),
            TunnelErrorKind::Rejected { command, message } => {
                write!(f, "charon rejected {command}: {message}")
            }
        }
    }
}

impl std::error::Error for TunnelError {}

/// The pre-shared key of one tunnel, as loaded into charon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedSecret {
    /// Unique key id in charon (`ike-<tunnel>`), used to unload it.
    pub id: String,
    /// The identities the key belongs to (local and remote id).
    pub owners: Vec<String>,
    /// The key.
    pub psk: Secret,
}

impl RenderedSecret {
    /// The vici `load-shared` message. Contains the secret in clear: do not
    /// log it.
    pub fn to_vici(&self) -> Section {
        Section::new()
            .kv("id", self.id.clone())
            .kv("type", "IKE")
            .kv("data", self.psk.expose())
            .list("owners", self.owners.clone())
    }
}

/// One tunnel rendered for charon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedTunnel {
    /// The connection it belongs to.
    pub connection_id: String,
    /// The tunnel id (also the charon connection and child name).
    pub tunnel_id: String,
    /// Effective start action of its children (see
    /// [`RenderOptions::traps_supported`]).
    pub start_action: StartAction,
    /// Child names: one, or one per subnet pair for IKEv1; the BGP
    /// session's (`<tunnel>-bgp`); the route children's (`<tunnel>-r…`).
    pub children: Vec<String>,
    /// The body of `connections.<tunnel_id>` (the `load-conn` payload).
    pub conn: Section,
    /// Its pre-shared key.
    pub secret: RenderedSecret,
}

impl RenderedTunnel {
    /// The charon connection name.
    pub fn name(&self) -> &str {
        &self.tunnel_id
    }

    /// The vici `load-conn` message (`{ <name> = { ... } }`).
    pub fn to_vici(&self) -> Section {
        Section::new().section(self.tunnel_id.clone(), self.conn.clone())
    }

    /// [`Self::conn`] with each child passed through `f` (`None`: left out).
    fn map_children(&self, f: impl Fn(&str, &Value) -> Option<Value>) -> Section {
        let mut core = Section::new();
        for (key, value) in self.conn.entries() {
            match value {
                Value::Section(children) if key == "children" => {
                    let mut kept = Section::new();
                    for (name, child) in children.entries() {
                        if let Some(child) = f(name, child) {
                            kept.push(name.clone(), child);
                        }
                    }
                    core.push(key.clone(), Value::Section(kept));
                }
                _ => core.push(key.clone(), value.clone()),
            }
        }
        core
    }

    /// [`Self::conn`] without the route children: when only those differ,
    /// the tunnel is reloaded without renegotiating it.
    pub fn without_route_children(&self) -> Section {
        self.map_children(|name, child| {
            (!is_route_child_name(&self.tunnel_id, name)).then(|| child.clone())
        })
    }

    /// [`RenderedTunnel::to_vici`] without `start_action = start`: charon
    /// loads the tunnel and waits to be told to initiate it.
    pub fn to_vici_unstarted(&self) -> Section {
        let conn = self.map_children(|_, child| {
            let Value::Section(settings) = child else {
                return Some(child.clone());
            };
            let mut kept = Section::new();
            for (k, v) in settings.entries() {
                if !(k == "start_action" && matches!(v, Value::Str(s) if s == "start")) {
                    kept.push(k.clone(), v.clone());
                }
            }
            Some(Value::Section(kept))
        });
        Section::new().section(self.tunnel_id.clone(), conn)
    }
}

/// A whole gateway rendered for charon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    /// The gateway.
    pub gateway_id: String,
    /// Tunnels that rendered.
    pub tunnels: Vec<RenderedTunnel>,
    /// Tunnels that did not, with the reason.
    pub errors: Vec<TunnelError>,
}

impl Rendered {
    /// `swanctl.conf` text with `connections` and `secrets` (contains the
    /// PSKs in clear).
    pub fn to_swanctl_conf(&self) -> String {
        let mut out = format!("# vpngw gateway {}\n", self.gateway_id);
        for e in &self.errors {
            out.push_str(&format!("# not rendered: {e}\n"));
        }
        let mut conns = Section::new();
        for t in &self.tunnels {
            conns = conns.section(t.tunnel_id.clone(), t.conn.clone());
        }
        Section::new()
            .section("connections", conns)
            .write_conf(&mut out, 0);
        out.push_str("secrets {\n");
        for t in &self.tunnels {
            out.push_str(&format!("    {} {{\n", t.secret.id));
            for (i, owner) in t.secret.owners.iter().enumerate() {
                out.push_str(&format!("        id-{} = {}\n", i + 1, conf_value(owner)));
            }
            out.push_str(&format!(
                "        secret = {}\n",
                conf_secret(t.secret.psk.expose())
            ));
            out.push_str("    }\n");
        }
        out.push_str("}\n");
        out
    }
}

/// A PSK for `swanctl.conf`: quoted, except that values swanctl would decode
/// (`0x...` hex, `0s...` base64) are written as hex so they stay literal.
pub(crate) fn conf_secret(psk: &str) -> String {
    let lower = psk.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("0s") {
        let mut hex = String::from("0x");
        for b in psk.as_bytes() {
            hex.push_str(&format!("{b:02x}"));
        }
        hex
    } else {
        let q = conf_value(psk);
        if q.starts_with('"') {
            q
        } else {
            format!("\"{q}\"")
        }
    }
}

fn norm(v: &str) -> String {
    v.trim().to_ascii_lowercase()
}

/// API encryption algorithm → strongSwan keyword.
pub fn map_enc(field: &'static str, value: &str) -> Result<&'static str, RenderError> {
    match norm(value).as_str() {
        "aes" => Ok("aes128"),
        "aes192" => Ok("aes192"),
        "aes256" => Ok("aes256"),
        "des" => Ok("des"),
        "3des" => Ok("3des"),
        "sm4" => Err(RenderError::UnsupportedAlgorithm {
            field,
            value: value.trim().to_string(),
        }),
        _ => Err(RenderError::UnknownValue {
            field,
            value: value.to_string(),
        }),
    }
}

/// API integrity algorithm → strongSwan keyword.
pub fn map_auth(field: &'static str, value: &str) -> Result<&'static str, RenderError> {
    match norm(value).as_str() {
        "md5" => Ok("md5"),
        "sha1" => Ok("sha1"),
        "sha256" => Ok("sha256"),
        "sha384" => Ok("sha384"),
        "sha512" => Ok("sha512"),
        "sm3" => Err(RenderError::UnsupportedAlgorithm {
            field,
            value: value.trim().to_string(),
        }),
        _ => Err(RenderError::UnknownValue {
            field,
            value: value.to_string(),
        }),
    }
}

/// API DH group → strongSwan keyword.
pub fn map_dh(field: &'static str, value: &str) -> Result<&'static str, RenderError> {
    match norm(value).as_str() {
        "group1" => Ok("modp768"),
        "group2" => Ok("modp1024"),
        "group5" => Ok("modp1536"),
        "group14" => Ok("modp2048"),
        "group24" => Ok("modp2048s256"),
        _ => Err(RenderError::UnknownValue {
            field,
            value: value.to_string(),
        }),
    }
}

/// The IKE proposal, e.g. `aes128-sha1-modp1024`.
pub fn ike_proposal(ike: &IkeSettings) -> Result<String, RenderError> {
    let enc = map_enc("IkeConfig.IkeEncAlg", &ike.enc_alg)?;
    let auth = map_auth("IkeConfig.IkeAuthAlg", &ike.auth_alg)?;
    let dh = map_dh("IkeConfig.IkePfs", &ike.pfs)?;
    Ok(format!("{enc}-{auth}-{dh}"))
}

/// The ESP proposal, e.g. `aes128-sha1-modp1024` or `aes128-sha1` when PFS
/// is disabled.
pub fn esp_proposal(ipsec: &crate::model::IpsecSettings) -> Result<String, RenderError> {
    let enc = map_enc("IpsecConfig.IpsecEncAlg", &ipsec.enc_alg)?;
    let auth = map_auth("IpsecConfig.IpsecAuthAlg", &ipsec.auth_alg)?;
    if norm(&ipsec.pfs) == "disabled" {
        Ok(format!("{enc}-{auth}"))
    } else {
        let dh = map_dh("IpsecConfig.IpsecPfs", &ipsec.pfs)?;
        Ok(format!("{enc}-{auth}-{dh}"))
    }
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn parse_prefix(s: &str) -> Option<String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip: IpAddr = addr.trim().parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = match len {
        Some(l) => l.trim().parse().ok()?,
        None => max,
    };
    (len <= max).then(|| format!("{ip}/{len}"))
}

pub(crate) fn subnets(field: &'static str, values: &[String]) -> Result<Vec<String>, RenderError> {
    let mut out = Vec::new();
    for raw in values.iter().flat_map(|v| v.split(',')) {
        let v = raw.trim();
        if v.is_empty() {
            continue;
        }
        let p = parse_prefix(v).ok_or_else(|| RenderError::InvalidSubnet {
            field,
            value: v.to_string(),
        })?;
        if !out.contains(&p) {
            out.push(p);
        }
    }
    if out.is_empty() {
        return Err(RenderError::MissingSubnets(field));
    }
    Ok(out)
}

fn split_lifetime(l: u64) -> (u64, u64) {
    let rekey = l * 9 / 10;
    (rekey, l - rekey)
}

/// charon's `version` for an IKE version.
pub(crate) fn ike_version(v: IkeVersion) -> &'static str {
    match v {
        IkeVersion::Ikev1 => "1",
        IkeVersion::Ikev2 => "2",
    }
}

/// Phase 1 onto a connection section: the IKE proposal, aggressive mode,
/// MOBIKE off (the peer's address is what identifies a tunnel), UDP
/// encapsulation, the IKE SA lifetime and dead peer detection.
pub(crate) fn phase1(
    mut conn: Section,
    ike: &IkeSettings,
    proposal: String,
    dpd: bool,
    options: &RenderOptions,
) -> Section {
    conn = conn.list("proposals", [proposal]);
    if ike.version == IkeVersion::Ikev1 && ike.mode == IkeMode::Aggressive {
        conn = conn.kv("aggressive", "yes");
    }
    if ike.version == IkeVersion::Ikev2 {
        conn = conn.kv("mobike", "no");
    }
    if options.force_encap {
        conn = conn.kv("encap", "yes");
    }
    if ike.lifetime_s > 0 {
        let (rekey, over) = split_lifetime(ike.lifetime_s);
        conn = conn
            .kv("rekey_time", format!("{rekey}s"))
            .kv("over_time", format!("{over}s"));
    }
    if dpd {
        conn = conn.kv("dpd_delay", format!("{}s", options.dpd.delay_s));
        if ike.version == IkeVersion::Ikev1 {
            conn = conn.kv("dpd_timeout", format!("{}s", options.dpd.timeout_s));
        }
    }
    conn
}

/// Phase 2 onto a child section: the ESP proposal, the IPsec SA lifetime
/// and what dead peer detection does to it.
pub(crate) fn phase2(
    mut child: Section,
    ipsec: &crate::model::IpsecSettings,
    esp: String,
    dpd: bool,
) -> Section {
    child = child.list("esp_proposals", [esp]);
    if ipsec.lifetime_s > 0 {
        let (rekey, _) = split_lifetime(ipsec.lifetime_s);
        child = child
            .kv("life_time", format!("{}s", ipsec.lifetime_s))
            .kv("rekey_time", format!("{rekey}s"));
    }
    if dpd {
        child = child.kv("dpd_action", "clear");
    }
    child
}

/// Render one tunnel (no gateway-level checks).
pub fn render_tunnel(
    connection: &ConnectionDesired,
    tunnel: &TunnelDesired,
    options: &RenderOptions,
) -> Result<RenderedTunnel, RenderError> {
    let name = tunnel.tunnel_id.as_str();
    if !valid_name(name) {
        return Err(RenderError::InvalidName(name.to_string()));
    }
    if tunnel.local_addr.is_ipv4() != tunnel.remote_addr.is_ipv4() {
        return Err(RenderError::AddressFamilyMismatch(
            tunnel.local_addr,
            tunnel.remote_addr,
        ));
    }
    let ike = &tunnel.ike;
    let proposal = ike_proposal(ike)?;
    let esp = esp_proposal(&tunnel.ipsec)?;
    if let Some(host) = &options.host {
        host.check_tunnel(ike, &tunnel.ipsec)?;
    }
    let local_ts = subnets("LocalSubnet", &tunnel.local_subnets)?;
    let remote_ts = subnets("RemoteSubnet", &tunnel.remote_subnets)?;
    if ike.psk.is_empty() {
        return Err(RenderError::EmptyPsk);
    }
    let local_id = tunnel.effective_local_id();
    let remote_id = tunnel.effective_remote_id();
    let start_action = match connection.start_action {
        StartAction::Trap if !options.traps_supported => StartAction::Start,
        other => other,
    };

    let conn = Section::new()
        .kv("version", ike_version(ike.version))
        .list("local_addrs", [tunnel.local_addr.to_string()])
        .list("remote_addrs", [tunnel.remote_addr.to_string()]);
    let conn = phase1(conn, ike, proposal, tunnel.dpd, options)
        .section(
            "local",
            Section::new().kv("auth", "psk").kv("id", local_id.clone()),
        )
        .section(
            "remote",
            Section::new().kv("auth", "psk").kv("id", remote_id.clone()),
        );

    // IKEv1 negotiates one pair of traffic selectors per IPsec SA, so each
    // (local, remote) pair becomes its own child; IKEv2 carries them all.
    let pairs: Vec<(Vec<String>, Vec<String>)> =
        if ike.version == IkeVersion::Ikev1 && local_ts.len() * remote_ts.len() > 1 {
            local_ts
                .iter()
                .flat_map(|l| {
                    remote_ts
                        .iter()
                        .map(move |r| (vec![l.clone()], vec![r.clone()]))
                })
                .collect()
        } else {
            vec![(local_ts, remote_ts)]
        };
    let child = |local: Vec<String>, remote: Vec<String>, start: StartAction| {
        let child = Section::new()
            .list("local_ts", local)
            .list("remote_ts", remote);
        let child = phase2(child, &tunnel.ipsec, esp.clone(), tunnel.dpd);
        match start {
            StartAction::Start => child.kv("start_action", "start"),
            StartAction::Trap => child.kv("start_action", "trap"),
            StartAction::None => child,
        }
    };
    let mut children = Section::new();
    let mut child_names = Vec::new();
    for (i, (l, r)) in pairs.into_iter().enumerate() {
        let child_name = if i == 0 {
            name.to_string()
        } else {
            format!("{name}-{}", i + 1)
        };
        children = children.section(child_name.clone(), child(l, r, start_action));
        child_names.push(child_name);
    }
    if let Some(bgp) = &tunnel.bgp {
        let child_name = format!("{name}-bgp");
        let session = child(
            vec![format!("{}/32", bgp.local_ip)],
            vec![format!("{}/32", bgp.peer_ip)],
            start_action,
        );
        children = children.section(child_name.clone(), session);
        child_names.push(child_name);
    }
    // Route children start on their own (start_action): loading them into
    // an established tunnel negotiates them there, and dropping one from
    // the configuration closes its SA (measured: docs/dataplane-routing.md).
    let route_start = match start_action {
        StartAction::None => StartAction::None,
        _ => StartAction::Start,
    };
    let mut route_selectors = tunnel.route_children.clone();
    route_selectors.sort();
    route_selectors.dedup();
    for sel in &route_selectors {
        let child_name = route_child_name(name, sel);
        children = children.section(
            child_name.clone(),
            child(
                vec![sel.local.to_string()],
                vec![sel.remote.to_string()],
                route_start,
            ),
        );
        child_names.push(child_name);
    }
    let conn = conn.section("children", children);

    Ok(RenderedTunnel {
        connection_id: connection.connection_id.clone(),
        tunnel_id: name.to_string(),
        start_action,
        children: child_names,
        conn,
        secret: RenderedSecret {
            id: format!("ike-{name}"),
            owners: vec![local_id, remote_id],
            psk: ike.psk.clone(),
        },
    })
}

/// The name of a tunnel's child for one route selector: `<tunnel>-r` and
/// eight hex digits of a hash of the selector (stable across runs, so that
/// an unchanged route keeps its child).
pub fn route_child_name(tunnel: &str, selector: &Selector) -> String {
    // FNV-1a, 32 bits.
    let mut h: u32 = 0x811c_9dc5;
    for b in selector.to_string().bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    format!("{tunnel}-r{h:08x}")
}

/// Whether `child` is one of `tunnel`'s route children ([`route_child_name`]);
/// its other children are `<tunnel>`, `<tunnel>-<n>` and `<tunnel>-bgp`.
pub(crate) fn is_route_child_name(tunnel: &str, child: &str) -> bool {
    child
        .strip_prefix(tunnel)
        .and_then(|rest| rest.strip_prefix("-r"))
        .is_some_and(|hash| hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether `child` is `tunnel`'s BGP session child (`<tunnel>-bgp`).
pub(crate) fn is_bgp_child_name(tunnel: &str, child: &str) -> bool {
    child.strip_prefix(tunnel) == Some("-bgp")
}

/// Render a whole gateway. Tunnels that fail are listed in
/// [`Rendered::errors`]; the others render normally.
pub fn render_gateway(desired: &GatewayDesired, options: &RenderOptions) -> Rendered {
    let mut tunnels = Vec::new();
    let mut errors = Vec::new();
    let mut names = BTreeSet::new();
    let mut pairs: HashMap<(IpAddr, IpAddr), String> = HashMap::new();
    for (conn, tunnel) in desired.tunnels() {
        let fail = |e: RenderError| TunnelError {
            connection_id: conn.connection_id.clone(),
            tunnel_id: tunnel.tunnel_id.clone(),
            kind: TunnelErrorKind::Render(e),
        };
        if !names.insert(tunnel.tunnel_id.clone()) {
            errors.push(fail(RenderError::DuplicateTunnel(tunnel.tunnel_id.clone())));
            continue;
        }
        if !desired.local_addrs.is_empty() && !desired.local_addrs.contains(&tunnel.local_addr) {
            errors.push(fail(RenderError::ForeignLocalAddr(tunnel.local_addr)));
            continue;
        }
        match render_tunnel(conn, tunnel, options) {
            Ok(r) => {
                let key = (tunnel.local_addr, tunnel.remote_addr);
                if let Some(other) = pairs.get(&key) {
                    errors.push(fail(RenderError::AddressPairInUse {
                        local: key.0,
                        remote: key.1,
                        other: other.clone(),
                    }));
                    continue;
                }
                pairs.insert(key, tunnel.tunnel_id.clone());
                tunnels.push(r);
            }
            Err(e) => errors.push(fail(e)),
        }
    }
    Rendered {
        gateway_id: desired.gateway_id.clone(),
        tunnels,
        errors,
    }
}

/// The customer-gateway side of a connection: the same tunnels seen from the
/// peer (addresses, ids and subnets swapped; algorithms, lifetimes, PSK, DPD
/// and NAT-T identical; ids resolved so that an empty `LocalId`/`RemoteId`
/// still matches). Used by the lab and by `DownloadVpnConnectionConfig`.
///
/// The peer only responds (`StartAction::None`): the gateway side initiates,
/// which avoids both sides negotiating at once. Set `start_action` on the
/// result to change that.
pub fn mirror(connection: &ConnectionDesired) -> GatewayDesired {
    let mut local_addrs: Vec<IpAddr> = Vec::new();
    let tunnels = connection
        .tunnels
        .iter()
        .map(|t| {
            if !local_addrs.contains(&t.remote_addr) {
                local_addrs.push(t.remote_addr);
            }
            TunnelDesired {
                tunnel_id: t.tunnel_id.clone(),
                local_addr: t.remote_addr,
                remote_addr: t.local_addr,
                ike: IkeSettings {
                    local_id: t.effective_remote_id(),
                    remote_id: t.effective_local_id(),
                    ..t.ike.clone()
                },
                ipsec: t.ipsec.clone(),
                local_subnets: t.remote_subnets.clone(),
                remote_subnets: t.local_subnets.clone(),
                dpd: t.dpd,
                nat_traversal: t.nat_traversal,
                bgp: t.bgp.map(|b| TunnelBgp {
                    local_ip: b.peer_ip,
                    peer_ip: b.local_ip,
                }),
                route_children: Vec::new(),
            }
        })
        .collect();
    GatewayDesired {
        gateway_id: format!("{}-customer", connection.connection_id),
        local_addrs,
        connections: vec![ConnectionDesired {
            connection_id: connection.connection_id.clone(),
            start_action: StartAction::None,
            tunnels,
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IpsecSettings, Secret};

    fn gw_addr() -> IpAddr {
        "198.18.255.1".parse().expect("ip")
    }

    fn tunnel(id: &str, ike: IkeSettings, ipsec: IpsecSettings) -> TunnelDesired {
        TunnelDesired {
            tunnel_id: id.into(),
            local_addr: gw_addr(),
            remote_addr: "198.18.1.2".parse().expect("ip"),
            ike,
            ipsec,
            local_subnets: vec!["10.0.0.0/24".into()],
            remote_subnets: vec!["10.1.0.0/24".into()],
            dpd: true,
            nat_traversal: true,
            bgp: None,
            route_children: Vec::new(),
        }
    }

    fn psk() -> Secret {
        Secret::new("s3cret-psk")
    }

    fn gateway(connections: Vec<ConnectionDesired>) -> GatewayDesired {
        GatewayDesired {
            gateway_id: "vpn-test".into(),
            local_addrs: vec![gw_addr(), "198.18.255.2".parse().expect("ip")],
            connections,
        }
    }

    fn single(t: TunnelDesired) -> GatewayDesired {
        gateway(vec![ConnectionDesired {
            connection_id: "vco-1".into(),
            start_action: StartAction::Start,
            tunnels: vec![t],
        }])
    }

    fn conf(g: &GatewayDesired) -> String {
        let r = render_gateway(g, &RenderOptions::default());
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        r.to_swanctl_conf()
    }

    fn defaults() -> IkeSettings {
        IkeSettings {
            psk: psk(),
            ..IkeSettings::default()
        }
    }

    #[test]
    fn ikev1_main_defaults() {
        let g = single(tunnel("vco-1", defaults(), IpsecSettings::default()));
        insta::assert_snapshot!(conf(&g));
    }

    #[test]
    fn ikev2_aes256_sha256_group14() {
        let ike = IkeSettings {
            version: IkeVersion::Ikev2,
            enc_alg: "aes256".into(),
            auth_alg: "sha256".into(),
            pfs: "group14".into(),
            lifetime_s: 28800,
            ..defaults()
        };
        let ipsec = IpsecSettings {
            enc_alg: "aes256".into(),
            auth_alg: "sha256".into(),
            pfs: "group14".into(),
            lifetime_s: 3600,
        };
        insta::assert_snapshot!(conf(&single(tunnel("vco-2", ike, ipsec))));
    }

    #[test]
    fn ikev1_aggressive_with_ids() {
        let ike = IkeSettings {
            mode: IkeMode::Aggressive,
            enc_alg: "3des".into(),
            auth_alg: "md5".into(),
            pfs: "group5".into(),
            local_id: "gw.example.test".into(),
            remote_id: "branch@example.test".into(),
            ..defaults()
        };
        let mut t = tunnel("vco-3", ike, IpsecSettings::default());
        t.dpd = false;
        let mut g = single(t);
        g.connections[0].start_action = StartAction::Trap;
        insta::assert_snapshot!(conf(&g));
        // With libipsec (no acquires) a trap becomes an immediate start.
        assert!(conf(&g).contains("start_action = start"));
        let r = render_gateway(&g, &RenderOptions::default());
        let loaded = r.tunnels[0].to_vici_unstarted().to_conf();
        assert!(!loaded.contains("start_action"), "{loaded}");
        assert!(loaded.contains("esp_proposals"), "{loaded}");
        let with_traps = RenderOptions {
            traps_supported: true,
            ..RenderOptions::default()
        };
        let r = render_gateway(&g, &with_traps);
        assert_eq!(r.tunnels[0].start_action, StartAction::Trap);
        assert!(r.to_swanctl_conf().contains("start_action = trap"));
    }

    #[test]
    fn pfs_disabled() {
        let ipsec = IpsecSettings {
            enc_alg: "aes192".into(),
            auth_alg: "sha512".into(),
            pfs: "disabled".into(),
            lifetime_s: 0,
        };
        let ike = IkeSettings {
            pfs: "group24".into(),
            lifetime_s: 0,
            ..defaults()
        };
        let mut g = single(tunnel("vco-4", ike, ipsec));
        g.connections[0].start_action = StartAction::None;
        insta::assert_snapshot!(conf(&g));
    }

    #[test]
    fn route_children_are_all_that_without_route_children_drops() {
        let mut t = tunnel("vco-r", defaults(), IpsecSettings::default());
        t.bgp = Some(TunnelBgp {
            local_ip: "169.254.10.1".parse().expect("ip"),
            peer_ip: "169.254.10.2".parse().expect("ip"),
        });
        let plain = render_gateway(&single(t.clone()), &RenderOptions::default());
        t.route_children = vec![Selector::new(
            "10.0.0.0/24".parse().expect("net"),
            "192.168.50.0/24".parse().expect("net"),
        )];
        let routed = render_gateway(&single(t), &RenderOptions::default());
        let (plain, routed) = (&plain.tunnels[0], &routed.tunnels[0]);
        assert_ne!(plain.conn, routed.conn);
        assert_eq!(
            plain.without_route_children(),
            routed.without_route_children()
        );
        assert_eq!(plain.without_route_children(), plain.conn);
        assert!(is_route_child_name(
            "vco-r",
            routed.children.last().expect("route child")
        ));
        assert!(!is_route_child_name("vco-r", "vco-r-bgp"));
        assert!(is_bgp_child_name("vco-r", "vco-r-bgp"));
        assert!(!is_bgp_child_name("vco-r", "vco-r-2"));
        assert!(!is_bgp_child_name("vco-r", "vco-rr-bgp"));
        assert!(!is_route_child_name("vco-r", "vco-r-2"));
    }

    #[test]
    fn two_tunnels() {
        let ike = IkeSettings {
            version: IkeVersion::Ikev2,
            ..defaults()
        };
        let t1 = tunnel("tun-1", ike.clone(), IpsecSettings::default());
        let mut t2 = tunnel("tun-2", ike, IpsecSettings::default());
        t2.local_addr = "198.18.255.2".parse().expect("ip");
        t2.ike.psk = Secret::new("other-psk");
        let g = gateway(vec![ConnectionDesired {
            connection_id: "vco-5".into(),
            start_action: StartAction::Start,
            tunnels: vec![t1, t2],
        }]);
        insta::assert_snapshot!(conf(&g));
    }

    #[test]
    fn mirror_of_defaults() {
        let g = single(tunnel("vco-1", defaults(), IpsecSettings::default()));
        let m = mirror(&g.connections[0]);
        assert_eq!(
            m.local_addrs,
            vec!["198.18.1.2".parse::<IpAddr>().expect("ip")]
        );
        let t = &m.connections[0].tunnels[0];
        assert_eq!(t.ike.local_id, "198.18.1.2");
        assert_eq!(t.ike.remote_id, "198.18.255.1");
        assert_eq!(t.local_subnets, vec!["10.1.0.0/24"]);
        insta::assert_snapshot!(conf(&m));
        // Mirroring twice gives back the gateway side (ids resolved).
        let back = mirror(&m.connections[0]);
        let bt = &back.connections[0].tunnels[0];
        assert_eq!(bt.local_addr, gw_addr());
        assert_eq!(bt.remote_subnets, vec!["10.1.0.0/24"]);
    }

    #[test]
    fn ikev1_multiple_subnets_become_one_child_per_pair() {
        let mut t = tunnel("vco-6", defaults(), IpsecSettings::default());
        t.local_subnets = vec!["10.0.0.0/24, 10.0.1.0/24".into()];
        t.remote_subnets = vec!["10.1.0.0/24".into(), "192.0.2.7".into()];
        let r = render_gateway(&single(t.clone()), &RenderOptions::default());
        assert_eq!(
            r.tunnels[0].children,
            vec!["vco-6", "vco-6-2", "vco-6-3", "vco-6-4"]
        );
        let children = r.tunnels[0].conn.get_section("children").expect("children");
        let c4 = children.get_section("vco-6-4").expect("child 4");
        assert_eq!(c4.get_list("local_ts"), vec!["10.0.1.0/24"]);
        assert_eq!(c4.get_list("remote_ts"), vec!["192.0.2.7/32"]);

        t.ike.version = IkeVersion::Ikev2;
        let r = render_gateway(&single(t), &RenderOptions::default());
        assert_eq!(r.tunnels[0].children, vec!["vco-6"]);
    }

    #[test]
    fn unsupported_and_unknown_values_are_typed_errors_per_tunnel() {
        let sm4 = IkeSettings {
            enc_alg: "sm4".into(),
            ..defaults()
        };
        let sm3 = IpsecSettings {
            auth_alg: "sm3".into(),
            ..IpsecSettings::default()
        };
        let bad_group = IkeSettings {
            pfs: "group99".into(),
            ..defaults()
        };
        let mut bad_subnet = tunnel("t-subnet", defaults(), IpsecSettings::default());
        bad_subnet.remote_subnets = vec!["10.1.0.0/33".into()];
        bad_subnet.remote_addr = "198.18.9.2".parse().expect("ip");
        let mut no_psk = tunnel("t-nopsk", defaults(), IpsecSettings::default());
        no_psk.ike.psk = Secret::default();
        no_psk.remote_addr = "198.18.10.2".parse().expect("ip");
        let mut foreign = tunnel("t-foreign", defaults(), IpsecSettings::default());
        foreign.local_addr = "198.18.200.1".parse().expect("ip");
        let mut sm4_t = tunnel("t-sm4", sm4, IpsecSettings::default());
        sm4_t.remote_addr = "198.18.3.2".parse().expect("ip");
        let mut sm3_t = tunnel("t-sm3", defaults(), sm3);
        sm3_t.remote_addr = "198.18.4.2".parse().expect("ip");
        let mut group_t = tunnel("t-group", bad_group, IpsecSettings::default());
        group_t.remote_addr = "198.18.5.2".parse().expect("ip");
        let good = tunnel("t-good", defaults(), IpsecSettings::default());
        let mut same_pair = tunnel("t-pair", defaults(), IpsecSettings::default());
        same_pair.ike.version = IkeVersion::Ikev2;
        let dup = tunnel("t-good", defaults(), IpsecSettings::default());
        let mut bad_name = tunnel("t.bad name", defaults(), IpsecSettings::default());
        bad_name.remote_addr = "198.18.6.2".parse().expect("ip");

        let g = gateway(vec![ConnectionDesired {
            connection_id: "vco-x".into(),
            start_action: StartAction::Start,
            tunnels: vec![
                sm4_t, sm3_t, group_t, bad_subnet, no_psk, foreign, good, same_pair, dup, bad_name,
            ],
        }]);
        let r = render_gateway(&g, &RenderOptions::default());
        assert_eq!(r.tunnels.len(), 1);
        assert_eq!(r.tunnels[0].tunnel_id, "t-good");
        let kinds: Vec<(String, RenderError)> = r
            .errors
            .iter()
            .map(|e| match &e.kind {
                TunnelErrorKind::Render(k) => (e.tunnel_id.clone(), k.clone()),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            kinds[0],
            (
                "t-sm4".into(),
                RenderError::UnsupportedAlgorithm {
                    field: "IkeConfig.IkeEncAlg",
                    value: "sm4".into()
                }
            )
        );
        assert_eq!(
            kinds[1].1,
            RenderError::UnsupportedAlgorithm {
                field: "IpsecConfig.IpsecAuthAlg",
                value: "sm3".into()
            }
        );
        assert!(matches!(
            kinds[2].1,
            RenderError::UnknownValue {
                field: "IkeConfig.IkePfs",
                ..
            }
        ));
        assert!(matches!(
            kinds[3].1,
            RenderError::InvalidSubnet {
                field: "RemoteSubnet",
                ..
            }
        ));
        assert_eq!(kinds[4].1, RenderError::EmptyPsk);
        assert!(matches!(kinds[5].1, RenderError::ForeignLocalAddr(_)));
        assert!(
            matches!(kinds[6].1, RenderError::AddressPairInUse { ref other, .. } if other == "t-good")
        );
        assert_eq!(kinds[7].1, RenderError::DuplicateTunnel("t-good".into()));
        assert!(matches!(kinds[8].1, RenderError::InvalidName(_)));
        // Log lines name the connection, the tunnel and the API field.
        assert_eq!(
            r.errors[0].to_string(),
            "connection vco-x tunnel t-sm4: IkeConfig.IkeEncAlg=sm4: algorithm not supported by this gateway (strongSwan has no sm4)"
        );
        // The rendered text says what was left out.
        assert!(
            r.to_swanctl_conf()
                .contains("# not rendered: connection vco-x tunnel t-sm4")
        );
    }

    #[test]
    fn secrets_stay_out_of_debug_and_survive_swanctl_decoding() {
        let mut t = tunnel("vco-7", defaults(), IpsecSettings::default());
        t.ike.psk = Secret::new("0xdeadbeef");
        let r = render_gateway(&single(t.clone()), &RenderOptions::default());
        assert!(!format!("{r:?}").contains("deadbeef"));
        // Written as hex so swanctl does not decode it as hex itself.
        assert!(
            r.to_swanctl_conf()
                .contains("secret = 0x30786465616462656566")
        );
        t.ike.psk = Secret::new("quote\"d psk");
        let r = render_gateway(&single(t), &RenderOptions::default());
        assert!(r.to_swanctl_conf().contains("secret = \"quote\\\"d psk\""));
        assert_eq!(
            r.tunnels[0].secret.to_vici().get_str("data"),
            Some("quote\"d psk")
        );
    }

    #[test]
    fn vici_encoding_round_trips() {
        let r = render_gateway(
            &single(tunnel("vco-8", defaults(), IpsecSettings::default())),
            &RenderOptions::default(),
        );
        let msg = r.tunnels[0].to_vici();
        let bytes = serde_vici::to_vec(&msg).expect("encode");
        let back: Section = serde_vici::from_slice(&bytes).expect("decode");
        assert_eq!(back, msg);
    }

    #[test]
    fn algorithm_mapping_table() {
        for (api, ss) in [
            ("aes", "aes128"),
            ("aes192", "aes192"),
            ("aes256", "aes256"),
            ("des", "des"),
            ("3des", "3des"),
            ("AES", "aes128"),
        ] {
            assert_eq!(map_enc("f", api), Ok(ss));
        }
        for a in ["md5", "sha1", "sha256", "sha384", "sha512"] {
            assert_eq!(map_auth("f", a), Ok(a));
        }
        for (api, ss) in [
            ("group1", "modp768"),
            ("group2", "modp1024"),
            ("group5", "modp1536"),
            ("group14", "modp2048"),
            ("group24", "modp2048s256"),
        ] {
            assert_eq!(map_dh("f", api), Ok(ss));
        }
        assert!(map_dh("f", "disabled").is_err());
        assert_eq!(
            esp_proposal(&IpsecSettings {
                pfs: "disabled".into(),
                ..IpsecSettings::default()
            }),
            Ok("aes128-sha1".to_string())
        );
    }
}
