//! SA state as charon reports it (`list-sas`), mapped to the API's
//! `Status` values, and push events (`ike-updown`, `child-updown`, `log`)
//! turned into log events for `DescribeVpnConnectionLogs`.

use std::collections::HashMap;
use std::time::SystemTime;

use serde::Serialize;

use crate::conf::{Section, Value};
use crate::model::GatewayDesired;

/// One CHILD (IPsec) SA.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChildSaInfo {
    /// Child config name.
    pub name: String,
    /// charon's unique id.
    pub uniqueid: u64,
    /// `INSTALLED`, `REKEYING`, `CREATED`, ...
    pub state: String,
    /// Bytes received.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Negotiated ESP algorithms, e.g. `AES_CBC-128/HMAC_SHA1_96/MODP_1024`.
    pub algorithms: String,
    /// Local traffic selectors.
    pub local_ts: Vec<String>,
    /// Remote traffic selectors.
    pub remote_ts: Vec<String>,
}

/// One IKE SA with its children.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IkeSaInfo {
    /// Connection (tunnel) name.
    pub name: String,
    /// charon's unique id.
    pub uniqueid: u64,
    /// IKE version (1 or 2).
    pub version: u8,
    /// `ESTABLISHED`, `CONNECTING`, `REKEYING`, `DELETING`, ...
    pub state: String,
    /// Local public address.
    pub local_host: String,
    /// Remote public address.
    pub remote_host: String,
    /// The peer's identity.
    pub remote_id: String,
    /// Virtual IPs this side got from the peer (a road-warrior client's
    /// address from the server's pool).
    pub local_vips: Vec<String>,
    /// Virtual IPs handed to the peer (road-warrior clients of an IPsec
    /// server get one from the server's pool).
    pub remote_vips: Vec<String>,
    /// Seconds since establishment.
    pub established_s: Option<u64>,
    /// Negotiated IKE algorithms.
    pub algorithms: String,
    /// CHILD SAs.
    pub children: Vec<ChildSaInfo>,
}

impl IkeSaInfo {
    /// True once the IKE SA is usable (`ESTABLISHED`, or rekeying one).
    pub fn is_established(&self) -> bool {
        matches!(self.state.as_str(), "ESTABLISHED" | "REKEYING" | "REKEYED")
    }
}

impl ChildSaInfo {
    /// True when the IPsec SA carries traffic.
    pub fn is_installed(&self) -> bool {
        matches!(self.state.as_str(), "INSTALLED" | "REKEYING" | "REKEYED")
    }
}

fn algorithms(s: &Section, keys: &[&str]) -> String {
    keys.iter()
        .filter_map(|k| s.get_str(k))
        .map(|v| {
            if let Some(size) = s.get_str("encr-keysize").filter(|_| v.starts_with("AES")) {
                format!("{v}-{size}")
            } else {
                v.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn parse_child(s: &Section) -> ChildSaInfo {
    ChildSaInfo {
        name: s.get_str("name").unwrap_or_default().to_string(),
        uniqueid: s.get_u64("uniqueid").unwrap_or_default(),
        state: s.get_str("state").unwrap_or_default().to_string(),
        bytes_in: s.get_u64("bytes-in").unwrap_or_default(),
        bytes_out: s.get_u64("bytes-out").unwrap_or_default(),
        packets_in: s.get_u64("packets-in").unwrap_or_default(),
        packets_out: s.get_u64("packets-out").unwrap_or_default(),
        algorithms: algorithms(s, &["encr-alg", "integ-alg", "dh-group"]),
        local_ts: s.get_list("local-ts"),
        remote_ts: s.get_list("remote-ts"),
    }
}

fn parse_ike(name: &str, s: &Section) -> IkeSaInfo {
    IkeSaInfo {
        name: name.to_string(),
        uniqueid: s.get_u64("uniqueid").unwrap_or_default(),
        version: s
            .get_u64("version")
            .and_then(|v| u8::try_from(v).ok())
            .unwrap_or_default(),
        state: s.get_str("state").unwrap_or_default().to_string(),
        local_host: s.get_str("local-host").unwrap_or_default().to_string(),
        remote_host: s.get_str("remote-host").unwrap_or_default().to_string(),
        remote_id: s.get_str("remote-id").unwrap_or_default().to_string(),
        local_vips: s.get_list("local-vips"),
        remote_vips: s.get_list("remote-vips"),
        established_s: s.get_u64("established"),
        algorithms: algorithms(s, &["encr-alg", "integ-alg", "prf-alg", "dh-group"]),
        children: s
            .get_section("child-sas")
            .map(|c| c.sections().map(|(_, cs)| parse_child(cs)).collect())
            .unwrap_or_default(),
    }
}

/// Parse one `list-sa` event (or any section of `<name> = { IKE SA }`
/// entries, as in `ike-updown`).
pub fn parse_ike_sas(event: &Section) -> Vec<IkeSaInfo> {
    event
        .sections()
        .map(|(name, s)| parse_ike(name, s))
        .collect()
}

/// The API's negotiation status of a tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TunnelState {
    /// No IKE SA up.
    IkeSaNotEstablished,
    /// IKE SA up, no IPsec SA installed (the API also calls this
    /// `ipsec_sa_not_established`).
    IkeSaEstablished,
    /// IPsec SA installed.
    IpsecSaEstablished,
}

impl TunnelState {
    /// `ike_sa_not_established`, `ike_sa_established` or
    /// `ipsec_sa_established`.
    pub fn api_status(self) -> &'static str {
        match self {
            TunnelState::IkeSaNotEstablished => "ike_sa_not_established",
            TunnelState::IkeSaEstablished => "ike_sa_established",
            TunnelState::IpsecSaEstablished => "ipsec_sa_established",
        }
    }
}

/// Status of one tunnel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TunnelStatus {
    /// The tunnel.
    pub tunnel_id: String,
    /// Overall state.
    pub state: TunnelState,
    /// IKE SA established.
    pub ike_established: bool,
    /// At least one IPsec SA installed.
    pub ipsec_established: bool,
    /// Raw IKE SA state (`CONNECTING`, ...) when an IKE SA exists.
    pub ike_state: Option<String>,
    /// Installed IPsec SAs.
    pub children_installed: usize,
    /// Bytes received over installed IPsec SAs.
    pub bytes_in: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Packets received.
    pub packets_in: u64,
    /// Packets sent.
    pub packets_out: u64,
    /// Seconds since the IKE SA was established.
    pub established_s: Option<u64>,
}

impl TunnelStatus {
    /// A tunnel charon knows nothing about.
    pub fn down(tunnel_id: impl Into<String>) -> Self {
        Self {
            tunnel_id: tunnel_id.into(),
            state: TunnelState::IkeSaNotEstablished,
            ike_established: false,
            ipsec_established: false,
            ike_state: None,
            children_installed: 0,
            bytes_in: 0,
            bytes_out: 0,
            packets_in: 0,
            packets_out: 0,
            established_s: None,
        }
    }

    /// `ike_sa_established` / `ike_sa_not_established`.
    pub fn ike_status(&self) -> &'static str {
        if self.ike_established {
            "ike_sa_established"
        } else {
            "ike_sa_not_established"
        }
    }

    /// `ipsec_sa_established` / `ipsec_sa_not_established`.
    pub fn ipsec_status(&self) -> &'static str {
        if self.ipsec_established {
            "ipsec_sa_established"
        } else {
            "ipsec_sa_not_established"
        }
    }
}

fn rank(sa: &IkeSaInfo) -> (bool, bool, usize) {
    let installed = sa.children.iter().filter(|c| c.is_installed()).count();
    (installed > 0, sa.is_established(), installed)
}

/// Status of the tunnel named `tunnel_id` among `sas`. When charon holds
/// several IKE SAs for it (during rekeying or after a simultaneous
/// initiation) the best one counts.
pub fn tunnel_status(tunnel_id: &str, sas: &[IkeSaInfo]) -> TunnelStatus {
    let Some(best) = sas
        .iter()
        .filter(|s| s.name == tunnel_id)
        .max_by_key(|s| rank(s))
    else {
        return TunnelStatus::down(tunnel_id);
    };
    let installed: Vec<&ChildSaInfo> = best.children.iter().filter(|c| c.is_installed()).collect();
    let ike_established = best.is_established();
    let ipsec_established = ike_established && !installed.is_empty();
    TunnelStatus {
        tunnel_id: tunnel_id.to_string(),
        state: if ipsec_established {
            TunnelState::IpsecSaEstablished
        } else if ike_established {
            TunnelState::IkeSaEstablished
        } else {
            TunnelState::IkeSaNotEstablished
        },
        ike_established,
        ipsec_established,
        ike_state: Some(best.state.clone()),
        children_installed: installed.len(),
        bytes_in: installed.iter().map(|c| c.bytes_in).sum(),
        bytes_out: installed.iter().map(|c| c.bytes_out).sum(),
        packets_in: installed.iter().map(|c| c.packets_in).sum(),
        packets_out: installed.iter().map(|c| c.packets_out).sum(),
        established_s: best.established_s,
    }
}

/// Status of every tunnel of `desired`, keyed by tunnel id.
pub fn gateway_status(
    desired: &GatewayDesired,
    sas: &[IkeSaInfo],
) -> HashMap<String, TunnelStatus> {
    desired
        .tunnels()
        .map(|(_, t)| (t.tunnel_id.clone(), tunnel_status(&t.tunnel_id, sas)))
        .collect()
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// IKE SA established.
    IkeUp,
    /// IKE SA gone.
    IkeDown,
    /// IPsec SA installed.
    ChildUp,
    /// IPsec SA gone.
    ChildDown,
    /// A charon log line about a tunnel (negotiation progress, errors).
    Log,
}

/// One log event, for `DescribeVpnConnectionLogs`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DataplaneEvent {
    /// When the agent received it.
    pub at: SystemTime,
    /// The tunnel (charon connection name), when known.
    pub tunnel_id: Option<String>,
    /// What happened.
    pub kind: EventKind,
    /// charon's log group for [`EventKind::Log`] (`IKE`, `CFG`, `NET`,
    /// `ENC`, ...), to filter packet-level noise.
    pub group: Option<String>,
    /// Human-readable line.
    pub message: String,
}

/// Turn an `ike-updown` / `child-updown` event into log events.
pub fn updown_events(event_name: &str, event: &Section, at: SystemTime) -> Vec<DataplaneEvent> {
    let up = event.get_str("up") == Some("yes");
    let child = event_name == "child-updown";
    let mut out = Vec::new();
    for sa in parse_ike_sas(event) {
        if child {
            for c in &sa.children {
                out.push(DataplaneEvent {
                    at,
                    tunnel_id: Some(sa.name.clone()),
                    kind: if up {
                        EventKind::ChildUp
                    } else {
                        EventKind::ChildDown
                    },
                    group: None,
                    message: format!(
                        "IPsec SA {} {} ({} <-> {}, {})",
                        c.name,
                        if up { "established" } else { "deleted" },
                        c.local_ts.join(","),
                        c.remote_ts.join(","),
                        c.algorithms
                    ),
                });
            }
        } else {
            // A road-warrior client of an IPsec server: who, and its address.
            let client = if sa.remote_vips.is_empty() {
                String::new()
            } else {
                format!(
                    " '{}', virtual IP {}",
                    sa.remote_id,
                    sa.remote_vips.join(",")
                )
            };
            out.push(DataplaneEvent {
                at,
                tunnel_id: Some(sa.name.clone()),
                kind: if up {
                    EventKind::IkeUp
                } else {
                    EventKind::IkeDown
                },
                group: None,
                message: format!(
                    "IKE SA {} {} ({} <-> {}{client}, IKEv{}, {})",
                    sa.name,
                    if up { "established" } else { "deleted" },
                    sa.local_host,
                    sa.remote_host,
                    sa.version,
                    sa.algorithms
                ),
            });
        }
    }
    out
}

/// Turn a `log` event into a log event when it concerns a tunnel and is at
/// most `max_level` (0: audit, 1: control, 2: details).
pub fn log_event(event: &Section, max_level: i64, at: SystemTime) -> Option<DataplaneEvent> {
    let level: i64 = event.get_str("level")?.trim().parse().ok()?;
    if level > max_level {
        return None;
    }
    let tunnel = event.get_str("ikesa-name")?.to_string();
    let msg = match event.get("msg") {
        Some(Value::Str(s)) => s.clone(),
        _ => return None,
    };
    Some(DataplaneEvent {
        at,
        tunnel_id: Some(tunnel),
        kind: EventKind::Log,
        group: event.get_str("group").map(str::to_string),
        message: msg,
    })
}

/// A short, user-facing reason for a charon log line that explains a
/// failed negotiation, or `None` for ordinary progress lines. Used to turn
/// the verbose log into a one-line `Status` explanation.
pub fn failure_reason(message: &str) -> Option<&'static str> {
    let m = message;
    if m.contains("AUTHENTICATION_FAILED")
        || m.contains("verification of") && m.contains("failed")
        || m.contains("MAC mismatched")
    {
        Some("authentication failed: pre-shared key or identity mismatch")
    } else if m.contains("decryption failed") || m.contains("could not decrypt payloads") {
        Some("pre-shared key mismatch: the peer's IKEv1 message could not be decrypted")
    } else if m.contains("no shared key found") {
        Some("no pre-shared key for these identities")
    } else if m.contains("NO_PROPOSAL_CHOSEN")
        || m.contains("no acceptable proposal")
        || m.contains("no matching proposal")
    {
        Some("no matching proposal: encryption, integrity or DH group differ")
    } else if m.contains("TS_UNACCEPTABLE")
        || m.contains("traffic selectors") && m.contains("unacceptable")
    {
        Some("traffic selectors unacceptable: local/remote subnets differ")
    } else if m.contains("no matching peer config found") || m.contains("no peer config found") {
        Some("no matching configuration for the peer's address or identity")
    } else if m.contains("peer not responding") || m.contains("giving up after") {
        Some("peer not responding")
    } else if m.contains("no virtual IP found") {
        Some("no address left in ClientIpPool")
    } else if m.contains("DPD") && m.contains("timed out") {
        Some("dead peer detection: peer stopped answering")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(name: &str, state: &str) -> Section {
        Section::new()
            .kv("name", name)
            .kv("uniqueid", "3")
            .kv("state", state)
            .kv("encr-alg", "AES_CBC")
            .kv("encr-keysize", "128")
            .kv("integ-alg", "HMAC_SHA1_96")
            .kv("bytes-in", "420")
            .kv("packets-in", "5")
            .kv("bytes-out", "840")
            .kv("packets-out", "10")
            .list("local-ts", ["10.0.0.0/24"])
            .list("remote-ts", ["10.1.0.0/24"])
    }

    fn ike(name: &str, state: &str, children: Section) -> Section {
        Section::new().section(
            name,
            Section::new()
                .kv("uniqueid", "1")
                .kv("version", "1")
                .kv("state", state)
                .kv("local-host", "198.18.255.1")
                .kv("remote-host", "198.18.1.2")
                .kv("established", "7")
                .section("child-sas", children),
        )
    }

    #[test]
    fn maps_states() {
        assert_eq!(
            tunnel_status("t1", &[]).state,
            TunnelState::IkeSaNotEstablished
        );

        let connecting = parse_ike_sas(&ike("t1", "CONNECTING", Section::new()));
        let s = tunnel_status("t1", &connecting);
        assert_eq!(s.state, TunnelState::IkeSaNotEstablished);
        assert_eq!(s.ike_state.as_deref(), Some("CONNECTING"));

        let ike_only = parse_ike_sas(&ike("t1", "ESTABLISHED", Section::new()));
        let s = tunnel_status("t1", &ike_only);
        assert_eq!(s.state.api_status(), "ike_sa_established");
        assert_eq!(s.ipsec_status(), "ipsec_sa_not_established");
        assert_eq!(s.ike_status(), "ike_sa_established");

        let up = parse_ike_sas(&ike(
            "t1",
            "ESTABLISHED",
            Section::new().section("t1-3", child("t1", "INSTALLED")),
        ));
        let s = tunnel_status("t1", &up);
        assert_eq!(s.state.api_status(), "ipsec_sa_established");
        assert_eq!(
            (s.bytes_in, s.bytes_out, s.packets_in, s.packets_out),
            (420, 840, 5, 10)
        );
        assert_eq!(up[0].children[0].algorithms, "AES_CBC-128/HMAC_SHA1_96");
        assert_eq!(s.established_s, Some(7));
        // Another tunnel's SA does not count.
        assert_eq!(
            tunnel_status("t2", &up).state,
            TunnelState::IkeSaNotEstablished
        );
    }

    #[test]
    fn best_of_duplicate_sas_wins() {
        let mut sas = parse_ike_sas(&ike("t1", "CONNECTING", Section::new()));
        sas.extend(parse_ike_sas(&ike(
            "t1",
            "ESTABLISHED",
            Section::new().section("t1-1", child("t1", "INSTALLED")),
        )));
        assert_eq!(
            tunnel_status("t1", &sas).state,
            TunnelState::IpsecSaEstablished
        );
    }

    #[test]
    fn updown_and_log_events() {
        let at = SystemTime::UNIX_EPOCH;
        let mut ev = ike("t1", "ESTABLISHED", Section::new());
        ev.push("up", Value::Str("yes".into()));
        let out = updown_events("ike-updown", &ev, at);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, EventKind::IkeUp);
        assert_eq!(out[0].tunnel_id.as_deref(), Some("t1"));

        let ev = ike(
            "t1",
            "ESTABLISHED",
            Section::new().section("t1-1", child("t1", "DELETING")),
        );
        let out = updown_events("child-updown", &ev, at);
        assert_eq!(out[0].kind, EventKind::ChildDown);
        assert!(out[0].message.contains("10.0.0.0/24"));

        let log = Section::new()
            .kv("group", "IKE")
            .kv("level", "1")
            .kv("ikesa-name", "t1")
            .kv("msg", "received AUTHENTICATION_FAILED notify error");
        let e = log_event(&log, 1, at).expect("event");
        assert_eq!(e.kind, EventKind::Log);
        assert!(log_event(&log, 0, at).is_none());
        let no_sa = Section::new().kv("level", "1").kv("msg", "x");
        assert!(log_event(&no_sa, 1, at).is_none());
    }

    #[test]
    fn failure_reasons() {
        assert_eq!(
            failure_reason("received AUTHENTICATION_FAILED notify error"),
            Some("authentication failed: pre-shared key or identity mismatch")
        );
        assert!(
            failure_reason("invalid HASH_V1 payload length, decryption failed?")
                .is_some_and(|r| r.contains("pre-shared key mismatch"))
        );
        assert_eq!(
            failure_reason("establishing IKE_SA failed, peer not responding"),
            Some("peer not responding")
        );
        assert!(failure_reason("received NO_PROPOSAL_CHOSEN notify error").is_some());
        // What an IPsec server logs when a client's key is wrong.
        assert_eq!(
            failure_reason(
                "tried 1 shared key for '198.18.255.1' - 'rw1@example.test', but MAC mismatched"
            ),
            Some("authentication failed: pre-shared key or identity mismatch")
        );
        assert_eq!(
            failure_reason("no virtual IP found for %any requested by 'rw1'"),
            Some("no address left in ClientIpPool")
        );
        assert_eq!(failure_reason("sending packet: from a to b"), None);
    }
}
