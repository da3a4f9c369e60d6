//! DescribeVpnConnection's answers, remembered.
//!
//! The answer is a function of the stored connection and of its state as
//! of now (`Lifecycle::effective`, the only way the clock enters
//! `VpnConnectionView::of`); the secrets in it are opened with this
//! service's master key, which never changes. So an answer written once is
//! reused while the connection read now equals (`==`, field for field) the
//! one it was written from and its effective state is the same: opening the
//! secrets, building the view and serializing it were a third of the
//! handler's time. Like the secrets memo, it holds opened PSKs in memory.
//!
//! This is a memo of a pure function, not a cache of the store: every call
//! still reads the connection, and nothing stale can come out.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use vpngw_model::VpnConnection;
use vpngw_protocol::JsonAnswer;

use crate::actions::Reply;

/// Answers kept at most; past that the memo starts over.
const LIMIT: usize = 1024;

#[derive(Default)]
pub(crate) struct AnswerMemo {
    connections: Mutex<HashMap<String, Remembered>>,
}

struct Remembered {
    connection: VpnConnection,
    state: String,
    answer: JsonAnswer,
}

impl AnswerMemo {
    /// The answer for connection `c` as of `now_ms`: remembered, or made by
    /// `make` (which must depend on nothing but `c`, its effective state and
    /// the master key) and remembered.
    pub fn connection(
        &self,
        c: &VpnConnection,
        now_ms: i64,
        make: impl FnOnce() -> Reply,
    ) -> Reply {
        let state = c.state.effective(now_ms);
        {
            let memo = self
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = memo.get(&c.id)
                && r.state == state
                && r.connection == *c
            {
                return Ok(r.answer.clone());
            }
        }
        let answer = make()?;
        let mut memo = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if memo.len() >= LIMIT && !memo.contains_key(&c.id) {
            memo.clear();
        }
        memo.insert(
            c.id.clone(),
            Remembered {
                connection: c.clone(),
                state: state.to_owned(),
                answer: answer.clone(),
            },
        );
        Ok(answer)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use vpngw_model::{
        Lifecycle,
        connection::{BgpConfig, IkeConfig, IpsecConfig},
    };

    use super::*;

    fn connection() -> VpnConnection {
        VpnConnection {
            id: "vco-memo".into(),
            region_id: "cn-hangzhou".into(),
            vpn_gateway_id: Some("vpn-1".into()),
            customer_gateway_id: Some("cgw-1".into()),
            name: "one".into(),
            local_subnet: "10.0.0.0/8".into(),
            remote_subnet: "192.168.0.0/16".into(),
            effect_immediately: false,
            enable_dpd: true,
            enable_nat_traversal: true,
            auto_config_route: true,
            remote_ca_certificate: None,
            ike: IkeConfig::defaults("1.1.1.1".into(), "2.2.2.2".into(), "sealed".into()),
            ipsec: IpsecConfig::default(),
            bgp: BgpConfig::default(),
            health_check: None,
            tunnels: Vec::new(),
            enable_tunnels_bgp: false,
            tunnel_bandwidth: None,
            resource_group_id: "rg-1".into(),
            create_time_ms: 1,
            tags: Vec::new(),
            state: Lifecycle::transition("updating", 100, "active"),
            status: "ike_sa_not_established".into(),
            measured: None,
            attachment: None,
        }
    }

    #[test]
    fn an_answer_is_reused_only_for_the_same_connection_and_state() {
        let memo = AnswerMemo::default();
        let made = Cell::new(0);
        let answer = |c: &VpnConnection, now_ms: i64| {
            memo.connection(c, now_ms, || {
                made.set(made.get() + 1);
                crate::vpc::reply(&serde_json::json!({
                    "Name": c.name,
                    "State": c.state.effective(now_ms),
                }))
            })
            .unwrap()
            .to_json_with(&[])
        };
        let mut c = connection();
        assert_eq!(answer(&c, 50), br#"{"Name":"one","State":"updating"}"#);
        assert_eq!(answer(&c, 60), br#"{"Name":"one","State":"updating"}"#);
        assert_eq!(made.get(), 1);
        // The clock moves the state on: written again.
        assert_eq!(answer(&c, 100), br#"{"Name":"one","State":"active"}"#);
        assert_eq!(made.get(), 2);
        // Any change to the connection: written again.
        c.name = "two".into();
        assert_eq!(answer(&c, 100), br#"{"Name":"two","State":"active"}"#);
        c.ike.psk = "resealed".into();
        answer(&c, 100);
        assert_eq!(made.get(), 4);
        answer(&c, 101);
        assert_eq!(made.get(), 4);
        // A failure is not remembered.
        let mut other = connection();
        other.id = "vco-other".into();
        let failed = memo.connection(&other, 0, || Err(vpngw_protocol::ApiError::internal()));
        assert!(failed.is_err());
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let memo = AnswerMemo::default();
        let mut c = connection();
        for i in 0..(LIMIT + 5) {
            c.id = format!("vco-{i}");
            memo.connection(&c, 0, || crate::vpc::reply(&serde_json::json!({})))
                .unwrap();
        }
        assert!(memo.len() <= LIMIT);
    }
}
