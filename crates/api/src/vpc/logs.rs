//! The event log of connections: what the API writes into it (creations,
//! changes and deletions of connections and tunnels) and
//! DescribeVpnConnectionLogs, which reads it back. The data plane appends
//! its negotiation events to the same log (`Store::append_log`).
//!
//! Messages never contain a secret: a changed PSK or BGP key is logged as
//! "changed", never with its value.

use std::fmt::Display;

use vpngw_model::{
    VpnConnection,
    connection::{BgpConfig, IkeConfig, IpsecConfig, Tunnel},
};
use vpngw_ops::vpc::describe_vpn_connection_logs as logs_op;
use vpngw_protocol::ApiError;
use vpngw_store::{LogEntry, LogQuery, Scope};

use super::given;
use crate::{
    Ctx,
    context::{internal, page},
    errors,
};

/// `source` of the entries the API writes.
pub const SOURCE_API: &str = "api";

/// An entry about `connection_id` (and `tunnel_id`) at the request's time.
pub(crate) fn entry(
    ctx: &Ctx<'_>,
    scope: &Scope,
    connection_id: &str,
    tunnel_id: Option<&str>,
    message: String,
) -> LogEntry {
    LogEntry {
        account_id: scope.account_id.clone(),
        region_id: scope.region_id.clone(),
        resource_id: connection_id.to_owned(),
        tunnel_id: tunnel_id.map(str::to_owned),
        time_ms: ctx.now_ms,
        source: SOURCE_API.to_owned(),
        message,
    }
}

fn ike_summary(ike: &IkeConfig) -> String {
    format!(
        "{} {} mode, {}/{}/{}, lifetime {} s, LocalId {}, RemoteId {}",
        ike.version,
        ike.mode,
        ike.enc_alg,
        ike.auth_alg,
        ike.pfs,
        ike.lifetime_s,
        ike.local_id,
        ike.remote_id
    )
}

fn ipsec_summary(ipsec: &IpsecConfig) -> String {
    format!(
        "{}/{}/{}, lifetime {} s",
        ipsec.enc_alg, ipsec.auth_alg, ipsec.pfs, ipsec.lifetime_s
    )
}

/// The entries of a new connection: one for the connection, one per tunnel.
pub(crate) fn created(
    ctx: &Ctx<'_>,
    scope: &Scope,
    c: &VpnConnection,
    peer_ip: Option<&str>,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    let gateway = c.vpn_gateway_id.as_deref().unwrap_or("-");
    if c.tunnels.is_empty() {
        out.push(entry(
            ctx,
            scope,
            &c.id,
            None,
            format!(
                "connection created on {gateway} to {} ({}): LocalSubnet {}, RemoteSubnet {}; IKE {}; IPsec {}; DPD {}, NAT traversal {}",
                c.customer_gateway_id.as_deref().unwrap_or("-"),
                peer_ip.unwrap_or("-"),
                c.local_subnet,
                c.remote_subnet,
                ike_summary(&c.ike),
                ipsec_summary(&c.ipsec),
                on_off(c.enable_dpd),
                on_off(c.enable_nat_traversal),
            ),
        ));
        return out;
    }
    out.push(entry(
        ctx,
        scope,
        &c.id,
        None,
        format!(
            "dual-tunnel connection created on {gateway}: LocalSubnet {}, RemoteSubnet {}, tunnel BGP {}",
            c.local_subnet,
            c.remote_subnet,
            on_off(c.enable_tunnels_bgp)
        ),
    ));
    for t in &c.tunnels {
        out.push(entry(
            ctx,
            scope,
            &c.id,
            Some(&t.id),
            format!(
                "tunnel created: {} (index {}) {} <-> {} in {}; IKE {}; IPsec {}; DPD {}, NAT traversal {}",
                t.role,
                t.index,
                t.internet_ip,
                t.customer_gateway_id,
                t.zone_no,
                ike_summary(&t.ike),
                ipsec_summary(&t.ipsec),
                on_off(t.enable_dpd),
                on_off(t.enable_nat_traversal),
            ),
        ));
    }
    out
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// A value as a log line shows it: `(empty)` for an empty string.
fn shown(v: &impl Display) -> String {
    let s = v.to_string();
    if s.is_empty() {
        "(empty)".to_owned()
    } else {
        s
    }
}

fn diff<T: PartialEq + Display>(out: &mut Vec<String>, what: &str, a: &T, b: &T) {
    if a != b {
        out.push(format!("{what} {} -> {}", shown(a), shown(b)));
    }
}

fn diff_opt<T: PartialEq + Display>(
    out: &mut Vec<String>,
    what: &str,
    a: &Option<T>,
    b: &Option<T>,
) {
    if a != b {
        let show = |v: &Option<T>| v.as_ref().map_or("(none)".to_owned(), |x| x.to_string());
        out.push(format!("{what} {} -> {}", show(a), show(b)));
    }
}

fn diff_secret(out: &mut Vec<String>, what: &str, a: &str, b: &str) {
    if a != b {
        out.push(format!("{what} changed"));
    }
}

fn diff_ike(out: &mut Vec<String>, prefix: &str, a: &IkeConfig, b: &IkeConfig) {
    diff(out, &format!("{prefix}IkeVersion"), &a.version, &b.version);
    diff(out, &format!("{prefix}IkeMode"), &a.mode, &b.mode);
    diff(out, &format!("{prefix}IkeEncAlg"), &a.enc_alg, &b.enc_alg);
    diff(
        out,
        &format!("{prefix}IkeAuthAlg"),
        &a.auth_alg,
        &b.auth_alg,
    );
    diff(out, &format!("{prefix}IkePfs"), &a.pfs, &b.pfs);
    diff(
        out,
        &format!("{prefix}IkeLifetime"),
        &a.lifetime_s,
        &b.lifetime_s,
    );
    diff(out, &format!("{prefix}LocalId"), &a.local_id, &b.local_id);
    diff(
        out,
        &format!("{prefix}RemoteId"),
        &a.remote_id,
        &b.remote_id,
    );
    diff_secret(out, &format!("{prefix}Psk"), &a.psk, &b.psk);
}

fn diff_ipsec(out: &mut Vec<String>, prefix: &str, a: &IpsecConfig, b: &IpsecConfig) {
    diff(out, &format!("{prefix}IpsecEncAlg"), &a.enc_alg, &b.enc_alg);
    diff(
        out,
        &format!("{prefix}IpsecAuthAlg"),
        &a.auth_alg,
        &b.auth_alg,
    );
    diff(out, &format!("{prefix}IpsecPfs"), &a.pfs, &b.pfs);
    diff(
        out,
        &format!("{prefix}IpsecLifetime"),
        &a.lifetime_s,
        &b.lifetime_s,
    );
}

fn diff_bgp(out: &mut Vec<String>, prefix: &str, a: &BgpConfig, b: &BgpConfig) {
    diff(out, &format!("{prefix}EnableBgp"), &a.enable, &b.enable);
    diff_opt(
        out,
        &format!("{prefix}LocalAsn"),
        &a.local_asn,
        &b.local_asn,
    );
    diff_opt(out, &format!("{prefix}PeerAsn"), &a.peer_asn, &b.peer_asn);
    diff_opt(
        out,
        &format!("{prefix}TunnelCidr"),
        &a.tunnel_cidr,
        &b.tunnel_cidr,
    );
    diff_opt(
        out,
        &format!("{prefix}LocalBgpIp"),
        &a.local_bgp_ip,
        &b.local_bgp_ip,
    );
    diff_secret(
        out,
        &format!("{prefix}AuthKey"),
        a.auth_key.as_deref().unwrap_or(""),
        b.auth_key.as_deref().unwrap_or(""),
    );
}

fn joined(changes: Vec<String>) -> String {
    if changes.is_empty() {
        "no change".to_owned()
    } else {
        changes.join(", ")
    }
}

/// "tunnel modified: …" for a tunnel before and after a change (both opened).
pub(crate) fn tunnel_change(a: &Tunnel, b: &Tunnel) -> String {
    let mut out = Vec::new();
    diff(
        &mut out,
        "CustomerGatewayId",
        &a.customer_gateway_id,
        &b.customer_gateway_id,
    );
    diff(&mut out, "EnableDpd", &a.enable_dpd, &b.enable_dpd);
    diff(
        &mut out,
        "EnableNatTraversal",
        &a.enable_nat_traversal,
        &b.enable_nat_traversal,
    );
    if a.remote_ca_certificate != b.remote_ca_certificate {
        out.push("RemoteCaCertificate changed".to_owned());
    }
    diff_ike(&mut out, "", &a.ike, &b.ike);
    diff_ipsec(&mut out, "", &a.ipsec, &b.ipsec);
    diff_bgp(&mut out, "", &a.bgp, &b.bgp);
    format!("tunnel modified: {}", joined(out))
}

/// The entries of a modified connection (both versions opened): one for the
/// connection's own fields, one per changed tunnel.
pub(crate) fn modified(
    ctx: &Ctx<'_>,
    scope: &Scope,
    a: &VpnConnection,
    b: &VpnConnection,
) -> Vec<LogEntry> {
    let mut out = Vec::new();
    diff(&mut out, "Name", &a.name, &b.name);
    diff(&mut out, "LocalSubnet", &a.local_subnet, &b.local_subnet);
    diff(&mut out, "RemoteSubnet", &a.remote_subnet, &b.remote_subnet);
    diff(
        &mut out,
        "EffectImmediately",
        &a.effect_immediately,
        &b.effect_immediately,
    );
    diff(
        &mut out,
        "AutoConfigRoute",
        &a.auto_config_route,
        &b.auto_config_route,
    );
    if b.tunnels.is_empty() {
        diff(&mut out, "EnableDpd", &a.enable_dpd, &b.enable_dpd);
        diff(
            &mut out,
            "EnableNatTraversal",
            &a.enable_nat_traversal,
            &b.enable_nat_traversal,
        );
        if a.remote_ca_certificate != b.remote_ca_certificate {
            out.push("RemoteCaCertificate changed".to_owned());
        }
        diff_ike(&mut out, "IkeConfig.", &a.ike, &b.ike);
        diff_ipsec(&mut out, "IpsecConfig.", &a.ipsec, &b.ipsec);
        diff_bgp(&mut out, "BgpConfig.", &a.bgp, &b.bgp);
        if a.health_check != b.health_check {
            out.push(match &b.health_check {
                Some(h) if h.enable => format!(
                    "HealthCheckConfig: probe {} from {} every {} s, {} retries, {}",
                    h.dip, h.sip, h.interval_s, h.retry, h.policy
                ),
                _ => "HealthCheckConfig: off".to_owned(),
            });
        }
    } else {
        diff(
            &mut out,
            "EnableTunnelsBgp",
            &a.enable_tunnels_bgp,
            &b.enable_tunnels_bgp,
        );
    }
    let mut entries = vec![entry(
        ctx,
        scope,
        &b.id,
        None,
        format!("connection modified: {}", joined(out)),
    )];
    for tb in &b.tunnels {
        if let Some(ta) = a.tunnels.iter().find(|t| t.id == tb.id)
            && ta != tb
        {
            entries.push(entry(
                ctx,
                scope,
                &b.id,
                Some(&tb.id),
                tunnel_change(ta, tb),
            ));
        }
    }
    entries
}

/// The entry of a negotiation status change measured by the data plane.
pub fn status_changed(
    scope: &Scope,
    connection_id: &str,
    tunnel_id: Option<&str>,
    time_ms: i64,
    from: &str,
    to: &str,
) -> LogEntry {
    LogEntry {
        account_id: scope.account_id.clone(),
        region_id: scope.region_id.clone(),
        resource_id: connection_id.to_owned(),
        tunnel_id: tunnel_id.map(str::to_owned),
        time_ms,
        source: "dataplane".to_owned(),
        message: format!("status changed: {from} -> {to}"),
    }
}

// ---- DescribeVpnConnectionLogs --------------------------------------------------

/// The longest `MinutePeriod`, in minutes.
const MAX_MINUTE_PERIOD: i64 = 10;

/// `[from_ms, to_ms]` from `From`/`To` (Unix seconds) and `MinutePeriod`
/// (minutes), as the SDK documents them: `From` needs `To` or
/// `MinutePeriod`, `To` needs `From` or `MinutePeriod`, and without either
/// `MinutePeriod` alone means the last minutes (DescribeVpnSslServerLogs
/// takes the same three).
pub(crate) fn window(
    now_ms: i64,
    from: Option<i64>,
    to: Option<i64>,
    period: Option<i64>,
) -> Result<(i64, i64), ApiError> {
    if let Some(m) = period
        && !(1..=MAX_MINUTE_PERIOD).contains(&m)
    {
        return Err(ApiError::invalid_parameter("MinutePeriod"));
    }
    for (name, v) in [("From", from), ("To", to)] {
        if v.is_some_and(|s| !(0..=i64::MAX / 1000).contains(&s)) {
            return Err(ApiError::invalid_parameter(name));
        }
    }
    let span = period.map(|m| m * 60_000);
    let (start, end) = match (from, to, span) {
        (Some(f), Some(t), _) => (f * 1000, t * 1000 + 999),
        (Some(f), None, Some(s)) => (f * 1000, f * 1000 + s),
        (None, Some(t), Some(s)) => (t * 1000 + 999 - s, t * 1000 + 999),
        (None, None, Some(s)) => (now_ms - s, now_ms),
        (Some(_), None, None) => return Err(ApiError::missing_parameter("To")),
        (None, Some(_), None) => return Err(ApiError::missing_parameter("From")),
        (None, None, None) => return Err(ApiError::missing_parameter("MinutePeriod")),
    };
    if end < start {
        return Err(ApiError::invalid_parameter_because(
            "To",
            "it is before From.",
        ));
    }
    Ok((start, end))
}

/// A log line: UTC time, the tunnel or connection, the source, the text.
pub(crate) fn render(e: &LogEntry) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.time_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03} {} [{}] {}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond(),
        e.tunnel_id.as_deref().unwrap_or(&e.resource_id),
        e.source,
        e.message
    )
}

/// Page `number` (of `size` lines) of the log lines filed under
/// `resource_id` (and `tunnel_id`, when given) in the window `from..=to`
/// (epoch ms), rendered as the Describe*Logs operations answer them.
pub(crate) async fn lines(
    ctx: &Ctx<'_>,
    resource_id: &str,
    tunnel_id: Option<String>,
    (from_ms, to_ms): (i64, i64),
    (number, size): (i64, i64),
) -> Result<Vec<String>, ApiError> {
    let page = ctx
        .store()
        .list_logs(&LogQuery {
            scope: ctx.scope()?,
            resource_id: resource_id.to_owned(),
            tunnel_id,
            from_ms,
            to_ms,
            offset: u64::try_from((number - 1).saturating_mul(size)).unwrap_or(u64::MAX),
            limit: u64::try_from(size).unwrap_or(10),
        })
        .await
        .map_err(internal)?;
    Ok(page.entries.iter().map(render).collect())
}

pub async fn describe_logs(
    ctx: &Ctx<'_>,
    req: logs_op::Request,
) -> Result<logs_op::Answer, ApiError> {
    let conn = super::connection::load(ctx, &req.vpn_connection_id)
        .await?
        .value;
    let tunnel_id = match given(&req.tunnel_id) {
        None => None,
        Some(t) if conn.tunnels.iter().any(|x| x.id == t) => Some(t.to_owned()),
        Some(_) => return Err(errors::tunnel_not_found()),
    };
    let (from_ms, to_ms) = window(ctx.now_ms, req.from, req.to, req.minute_period)?;
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let logs = lines(ctx, &conn.id, tunnel_id, (from_ms, to_ms), (number, size)).await?;
    Ok(logs_op::Answer {
        count: i64::try_from(logs.len()).unwrap_or(i64::MAX),
        // The log is kept in full: what is there is all there is.
        is_completed: true,
        page_number: number,
        page_size: size,
        data: logs_op::Data { logs },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_utc_and_name_the_tunnel() {
        let e = LogEntry {
            account_id: "a".into(),
            region_id: "cn-hangzhou".into(),
            resource_id: "vco-1".into(),
            tunnel_id: Some("tun-1".into()),
            time_ms: 1_671_003_744_123,
            source: "dataplane".into(),
            message: "IKE SA established".into(),
        };
        assert_eq!(
            render(&e),
            "2022-12-14 07:42:24.123 tun-1 [dataplane] IKE SA established"
        );
    }
}
