//! Per-resource gauges: one series per IPsec connection and per tunnel, so
//! that "tunnel X is down" is an alert (`vpngw_vpn_tunnel_up == 0`).
//!
//! They are read from the store at each scrape and written as text here,
//! not through the `metrics` recorder: the recorder keeps every series it
//! ever saw, and a deleted connection must disappear from `/metrics`, not
//! stay at 0 forever. So the number of series is bounded by the resources
//! that exist: one per connection, one per tunnel, one per enabled health
//! check and one per BGP session.
//!
//! Labels: `account`, `region`, `vpn_gateway` (absent for a transit-router
//! attachment, which has none), `vpn_connection`, and for tunnels `tunnel`
//! and `role`. A label is never empty.

use std::fmt::Write;

use vpngw_model::VpnConnection;
use vpngw_store::{Kind, ListQuery, Scope, Store, StoreExt};

/// The families written here: name, help. docs/operations.md lists them.
pub const FAMILIES: &[(&str, &str)] = &[
    (
        "vpngw_vpn_connection_up",
        "1 when the IPsec connection's negotiation Status is ipsec_sa_established, else 0 (a dual-tunnel connection: when one of its tunnels is)",
    ),
    (
        "vpngw_vpn_connection_measured",
        "1 when a data plane agent has reported on the connection, 0 while nothing measures it (its Status is then the default, not a measurement)",
    ),
    (
        "vpngw_vpn_connection_health_check_up",
        "1 when the connection's health check last succeeded, 0 when it failed or was never answered; only connections with a health check enabled",
    ),
    (
        "vpngw_vpn_connection_bgp_up",
        "1 when the BGP session of a single-tunnel connection is up (BgpStatus success), else 0; only connections with BGP enabled",
    ),
    (
        "vpngw_vpn_tunnel_up",
        "1 when the tunnel of a dual-tunnel connection has Status ipsec_sa_established, else 0",
    ),
    (
        "vpngw_vpn_tunnel_bgp_up",
        "1 when the BGP session of the tunnel is up (BgpStatus success), else 0; only tunnels with BGP enabled",
    ),
];

/// Describe* lists are read in pages of this many.
const PAGE: u64 = 500;

/// A label value for the text format (`\`, `"` and newlines escaped).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// Whether a BGP status reads as up. The cloud answers `success` for an
/// established session (`false` otherwise).
fn bgp_up(status: &str) -> bool {
    status == "success"
}

/// The lines of each family, in [`FAMILIES`] order.
#[derive(Default)]
struct Lines(Vec<Vec<String>>);

impl Lines {
    fn push(&mut self, family: &str, labels: &str, value: bool) {
        if self.0.is_empty() {
            self.0 = vec![Vec::new(); FAMILIES.len()];
        }
        if let Some(i) = FAMILIES.iter().position(|(n, _)| *n == family) {
            self.0[i].push(format!("{family}{labels} {}", u8::from(value)));
        }
    }
}

fn connection_lines(account: &str, c: &VpnConnection, out: &mut Lines) {
    let gateway = c.vpn_gateway_id.as_deref().unwrap_or_default();
    let base = [
        ("account", account),
        ("region", c.region_id.as_str()),
        ("vpn_gateway", gateway),
        ("vpn_connection", c.id.as_str()),
    ];
    let l = labels(&base);
    out.push(
        "vpngw_vpn_connection_up",
        &l,
        c.status == "ipsec_sa_established",
    );
    out.push("vpngw_vpn_connection_measured", &l, c.measured.is_some());
    let health = vpngw_model::dataplane::health_check_status(c);
    if !health.is_empty() {
        out.push(
            "vpngw_vpn_connection_health_check_up",
            &l,
            health == "success",
        );
    }
    if c.tunnels.is_empty() && c.bgp.enable {
        out.push(
            "vpngw_vpn_connection_bgp_up",
            &l,
            bgp_up(&crate::metrics::bgp_status(c, &c.id)),
        );
    }
    for t in &c.tunnels {
        let mut with_tunnel = base.to_vec();
        with_tunnel.push(("tunnel", t.id.as_str()));
        with_tunnel.push(("role", t.role.as_str()));
        let l = labels(&with_tunnel);
        out.push(
            "vpngw_vpn_tunnel_up",
            &l,
            t.status == "ipsec_sa_established",
        );
        if t.bgp.enable {
            out.push(
                "vpngw_vpn_tunnel_bgp_up",
                &l,
                bgp_up(&crate::metrics::bgp_status(c, &t.id)),
            );
        }
    }
}

/// Every connection of every account and region, as gauge families.
pub async fn render(store: &dyn Store, now_ms: i64) -> Result<String, vpngw_store::StoreError> {
    let mut lines = Lines::default();
    for account in store.accounts().await? {
        for region in vpngw_model::catalog::regions() {
            let scope = Scope {
                account_id: account.id.clone(),
                region_id: region.id.to_owned(),
            };
            let mut query = ListQuery::new(Kind::VpnConnection, scope, now_ms);
            query.limit = PAGE;
            loop {
                let (items, total) = store.list_typed::<VpnConnection>(&query).await?;
                for c in &items {
                    connection_lines(&account.id, c, &mut lines);
                }
                query.offset += items.len() as u64;
                if items.is_empty() || query.offset >= total {
                    break;
                }
            }
        }
    }
    let mut text = String::new();
    for (i, (name, help)) in FAMILIES.iter().enumerate() {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} gauge");
        for line in lines.0.get(i).into_iter().flatten() {
            text.push_str(line);
            text.push('\n');
        }
        text.push('\n');
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped_and_never_empty() {
        assert_eq!(
            labels(&[("a", "x\"y\\z"), ("b", ""), ("c", "1")]),
            "{a=\"x\\\"y\\\\z\",c=\"1\"}"
        );
    }
}
