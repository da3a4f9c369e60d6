//! The gateway's BGP speaker: BIRD 2 (Debian `bird2`), one `bird` per
//! gateway namespace beside charon, one BGP protocol per tunnel with BGP on.
//! `docs/dataplane-routing.md` has the measurements behind the choice
//! (BIRD against FRR) and these settings.
//!
//! - [`BgpDesired`]: the sessions (one per tunnel: `LocalBgpIp`, the peer's
//!   address in `TunnelCidr`, `LocalAsn`/`PeerAsn`, `AuthKey`) and what the
//!   gateway advertises, in plain data; [`render_bird_conf`] turns it into
//!   `bird.conf`.
//! - [`process`]: the `bird` process (foreground, our child, in the
//!   namespace; a crashed run's leftover stopped first).
//! - [`control`]: BIRD's control socket (its line protocol spoken
//!   directly): protocol states, routes, `configure`.
//! - [`BgpSpeaker`] (`speaker.rs`): what the agent drives — apply the
//!   desired state (rewrite the file and `configure` only when it changed;
//!   BIRD keeps unchanged sessions up), read every session's state, why it
//!   is down, and the routes it learned.
//!
//! Why these BIRD settings:
//! - no `kernel` protocol: BIRD never touches the kernel's routing tables.
//!   Packets into the tunnels are steered by traffic selectors
//!   ([`crate::forwarding`]), so the learned routes are read from BIRD and
//!   turned into those, not installed as kernel routes;
//! - `multihop 2`: the peer's address is not on a connected network, it is
//!   behind kernel-libipsec's TUN device (a /32 route into table 220);
//! - `disabled` while the tunnel has no IPsec SA: a BGP session cannot run
//!   without its tunnel (routers reset eBGP sessions when their interface
//!   goes down; here the tunnel is the interface), and enabling the
//!   protocol when the tunnel comes up starts the session at once instead
//!   of after BIRD's connect back-off;
//! - `connect delay time 1`, `connect retry time 1`, `error wait time 1,4`:
//!   sessions come up within a second of their tunnel (BIRD's defaults are
//!   5 s, 120 s and 60–300 s);
//! - `password`: TCP-MD5 (`CONFIG_TCP_MD5SIG` is on in the kernels here);
//! - import everything, export only what the gateway advertises (a static
//!   protocol of blackhole routes that never leave BIRD): learned routes are
//!   never passed on to other peers.

pub mod control;
pub mod md5;
pub mod process;
mod speaker;

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::path::Path;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::model::Secret;

pub use speaker::{BgpSpeaker, BgpSpeakerError, LearnedPrefix, SessionState};

/// Debian's BIRD 2.
pub const DEFAULT_BIRD: &str = "/usr/sbin/bird";

/// The cloud's own ASN, `LocalAsn` when none is given.
pub const DEFAULT_LOCAL_ASN: u32 = 45104;

/// BGP timers (seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpTimers {
    /// Hold time: a session that hears nothing for this long is down.
    pub hold_s: u16,
    /// Keepalive interval (a third of the hold time by convention).
    pub keepalive_s: u16,
}

impl Default for BgpTimers {
    /// 30 s / 10 s. The cloud does not publish its timers; BIRD's default
    /// hold time (240 s) would keep a silent peer's routes for minutes.
    fn default() -> Self {
        Self {
            hold_s: 30,
            keepalive_s: 10,
        }
    }
}

/// One BGP session: the BGP configuration of one tunnel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionDesired {
    /// The tunnel (the connection id for single-tunnel connections).
    pub tunnel_id: String,
    /// Its connection.
    pub connection_id: String,
    /// `LocalBgpIp`.
    pub local_ip: Ipv4Addr,
    /// The peer's address in `TunnelCidr` (`PeerBgpIp`).
    pub peer_ip: Ipv4Addr,
    /// `LocalAsn`.
    pub local_asn: u32,
    /// `PeerAsn` (the customer gateway's `Asn`).
    pub peer_asn: u32,
    /// `AuthKey`: TCP-MD5 when not empty.
    pub auth_key: Secret,
    /// Whether the session should run now (its tunnel has an IPsec SA).
    pub enabled: bool,
    /// Advertised prefixes this peer is not sent: the routes that lead to
    /// it (a route is never announced to the peer it points to).
    pub withheld: Vec<Ipv4Net>,
}

/// What BIRD must do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BgpDesired {
    /// BIRD's router id (an IPv4 address of the gateway).
    pub router_id: Ipv4Addr,
    /// One per tunnel with BGP on.
    pub sessions: Vec<SessionDesired>,
    /// Prefixes the gateway announces to every peer (the VPC side).
    pub advertised: Vec<Ipv4Net>,
    pub timers: BgpTimers,
}

/// A session BIRD cannot be given, with the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionError {
    pub tunnel_id: String,
    pub message: String,
}

/// `bird.conf` and the sessions left out of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedBird {
    /// The file (contains the MD5 keys: write it private).
    pub text: String,
    pub errors: Vec<SessionError>,
}

/// The BIRD protocol name of a tunnel's session: `t_` and the tunnel id
/// with `-` as `_` (BIRD names are letters, digits and `_`).
pub fn protocol_name(tunnel_id: &str) -> String {
    let mut name = String::from("t_");
    name.extend(tunnel_id.chars().map(|c| {
        if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        }
    }));
    name
}

/// Name of the static protocol holding what the gateway advertises.
const ADVERTISED: &str = "vpngw_advertised";

fn session_problem(s: &SessionDesired) -> Option<String> {
    let key = s.auth_key.expose();
    if key.chars().any(|c| c == '"' || c.is_control()) {
        return Some(
            "AuthKey contains a double quote or a control character, which the BGP daemon (BIRD) cannot take: the session is not configured".into(),
        );
    }
    if s.local_asn == 0 || s.peer_asn == 0 {
        return Some(format!(
            "ASN {} / {} is not usable (1-4294967295): the session is not configured",
            s.local_asn, s.peer_asn
        ));
    }
    if s.local_ip == s.peer_ip {
        return Some(format!(
            "LocalBgpIp and the peer's BGP address are both {}: the session is not configured",
            s.local_ip
        ));
    }
    None
}

/// `bird.conf` for `desired`, logging to `log`. Sessions BIRD cannot take
/// (see [`SessionError`]) are left out, the others render.
pub fn render_bird_conf(desired: &BgpDesired, log: &Path) -> RenderedBird {
    let mut text = String::from("# generated by vpngw-dataplane: the gateway's BGP sessions\n");
    let _ = writeln!(text, "router id {};", desired.router_id);
    // One word per time: the control socket's answers are parsed.
    text.push_str("timeformat protocol \"%s\";\ntimeformat route \"%s\";\n");
    let log = log.display().to_string().replace('"', "");
    let _ = writeln!(
        text,
        "log \"{log}\" 4194304 \"{log}.old\" {{ info, remote, warning, error, auth, fatal, bug }};"
    );
    text.push_str("protocol device { scan time 10; }\n");
    let _ = writeln!(text, "protocol static {ADVERTISED} {{\n  ipv4;");
    let mut advertised = desired.advertised.clone();
    advertised.sort();
    advertised.dedup();
    for p in advertised {
        let _ = writeln!(text, "  route {} blackhole;", p.trunc());
    }
    text.push_str("}\n");
    let _ = writeln!(
        text,
        "filter vpngw_export {{ if proto = \"{ADVERTISED}\" then accept; reject; }}"
    );
    let mut errors = Vec::new();
    let mut sessions: Vec<&SessionDesired> = desired.sessions.iter().collect();
    sessions.sort_by(|a, b| a.tunnel_id.cmp(&b.tunnel_id));
    let t = desired.timers;
    for s in sessions {
        if let Some(message) = session_problem(s) {
            errors.push(SessionError {
                tunnel_id: s.tunnel_id.clone(),
                message,
            });
            continue;
        }
        let _ = writeln!(text, "protocol bgp {} {{", protocol_name(&s.tunnel_id));
        if !s.enabled {
            text.push_str("  disabled;\n");
        }
        let _ = writeln!(
            text,
            "  description \"tunnel {} of {}\";",
            s.tunnel_id.replace('"', ""),
            s.connection_id.replace('"', "")
        );
        let _ = writeln!(text, "  local {} as {};", s.local_ip, s.local_asn);
        let _ = writeln!(text, "  neighbor {} as {};", s.peer_ip, s.peer_asn);
        text.push_str("  multihop 2;\n");
        if !s.auth_key.is_empty() {
            let _ = writeln!(text, "  password \"{}\";", s.auth_key.expose());
        }
        let _ = writeln!(
            text,
            "  hold time {}; keepalive time {};",
            t.hold_s.max(3),
            t.keepalive_s.max(1)
        );
        text.push_str("  connect delay time 1; connect retry time 1; error wait time 1,4;\n");
        text.push_str("  debug { states, events };\n");
        let mut withheld: Vec<Ipv4Net> = s.withheld.iter().map(|p| p.trunc()).collect();
        withheld.sort();
        withheld.dedup();
        if withheld.is_empty() {
            text.push_str("  ipv4 { import all; export filter vpngw_export; };\n}\n");
        } else {
            let list: Vec<String> = withheld.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                text,
                "  ipv4 {{ import all; export filter {{ if net ~ [ {} ] then reject; if proto = \"{ADVERTISED}\" then accept; reject; }}; }};\n}}",
                list.join(", ")
            );
        }
    }
    RenderedBird { text, errors }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(tunnel: &str, third: u8) -> SessionDesired {
        SessionDesired {
            tunnel_id: tunnel.into(),
            connection_id: "vco-1".into(),
            local_ip: Ipv4Addr::new(169, 254, third, 1),
            peer_ip: Ipv4Addr::new(169, 254, third, 2),
            local_asn: DEFAULT_LOCAL_ASN,
            peer_asn: 65001,
            auth_key: Secret::new("s3cret"),
            enabled: true,
            withheld: Vec::new(),
        }
    }

    fn desired() -> BgpDesired {
        let mut down = session("tun-b2", 20);
        down.enabled = false;
        down.auth_key = Secret::default();
        BgpDesired {
            router_id: Ipv4Addr::new(169, 254, 10, 1),
            sessions: vec![down, session("tun-a1", 10)],
            advertised: vec![
                "10.0.1.0/24".parse().expect("net"),
                "10.0.0.0/24".parse().expect("net"),
                "10.0.0.0/24".parse().expect("net"),
            ],
            timers: BgpTimers::default(),
        }
    }

    #[test]
    fn renders_one_protocol_per_tunnel() {
        let r = render_bird_conf(&desired(), Path::new("/var/lib/vpngw-agent/vpn-1/bird.log"));
        assert!(r.errors.is_empty());
        insta::assert_snapshot!(r.text);
    }

    #[test]
    fn sessions_bird_cannot_take_are_reported_not_rendered() {
        let mut d = desired();
        d.sessions[1].auth_key = Secret::new("has\"quote");
        d.sessions[0].peer_asn = 0;
        let r = render_bird_conf(&d, Path::new("/tmp/bird.log"));
        assert_eq!(r.errors.len(), 2);
        assert!(
            r.errors
                .iter()
                .any(|e| e.tunnel_id == "tun-a1" && e.message.contains("AuthKey"))
        );
        assert!(!r.text.contains("has\"quote"));
        assert!(!r.text.contains("protocol bgp"));
        // The reason never quotes the key.
        assert!(r.errors.iter().all(|e| !e.message.contains("has\"quote")));
    }

    /// BIRD itself parses what is rendered (`bird -p`), keys with the
    /// characters it takes included.
    #[test]
    fn bird_accepts_the_configuration() {
        let bird = Path::new(DEFAULT_BIRD);
        assert!(
            bird.exists(),
            "{DEFAULT_BIRD} is missing: install bird2 (scripts/packages.txt)"
        );
        let mut d = desired();
        d.sessions[1].auth_key = Secret::new("a'b\\c#{}$%^&*() é");
        d.sessions[1].withheld = vec!["10.0.1.0/24".parse().expect("net")];
        let dir = std::env::temp_dir().join(format!("vpngw-bird-parse-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let conf = dir.join("bird.conf");
        let r = render_bird_conf(&d, &dir.join("bird.log"));
        assert!(r.errors.is_empty());
        std::fs::write(&conf, &r.text).expect("write");
        let out = std::process::Command::new(bird)
            .arg("-p")
            .arg("-c")
            .arg(&conf)
            .output()
            .expect("bird -p");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            out.status.success(),
            "bird refused:\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            r.text
        );
    }

    #[test]
    fn routes_are_not_announced_to_the_peer_they_lead_to() {
        let mut d = desired();
        d.sessions[1].withheld = vec![
            "10.0.1.0/24".parse().expect("net"),
            "10.0.0.0/24".parse().expect("net"),
        ];
        let text = render_bird_conf(&d, Path::new("/tmp/bird.log")).text;
        let a1 = &text[text.find("protocol bgp t_tun_a1").expect("a1")..];
        let b2 = &text[text.find("protocol bgp t_tun_b2").expect("b2")..];
        assert!(a1.contains(
            "export filter { if net ~ [ 10.0.0.0/24, 10.0.1.0/24 ] then reject; if proto = \"vpngw_advertised\" then accept; reject; };"
        ));
        assert!(b2[..b2.find("}\n").expect("end")].contains("export filter vpngw_export;"));
    }

    #[test]
    fn protocol_names_are_bird_symbols() {
        assert_eq!(protocol_name("tun-bp1xyz"), "t_tun_bp1xyz");
        assert_eq!(protocol_name("vco-ABC"), "t_vco_abc");
    }

    #[test]
    fn keys_stay_out_of_debug() {
        assert!(!format!("{:?}", desired()).contains("s3cret"));
    }
}
