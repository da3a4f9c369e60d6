//! DescribeVpnConnection's answers, remembered.
//!
//! The answer is a function of the stored connection and of its state as
//! of now (`Lifecycle::effective`, the only way the clock enters
//! `vpc::connection::answer`); the secrets in it are opened with this
//! service's master key, which never changes. So an answer written once is
//! reused while the document read now is byte for byte the one it was
//! written from and the effective state is the same: decoding the document,
//! opening the secrets, building the view and serializing it were most of
//! the handler's time. Like the secrets memo, it holds opened PSKs in
//! memory.
//!
//! This is a memo of a pure function, not a cache of the store: every call
//! still reads the connection, and nothing stale can come out.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use vpngw_model::{Lifecycle, VpnConnection};
use vpngw_ops::vpc::describe_vpn_connection::Answer;
use vpngw_protocol::ApiError;
use vpngw_store::Record;

use crate::operation::Encoded;

/// DescribeVpnConnection's answer, encoded.
type Reply = Result<Encoded<Answer>, ApiError>;

/// Answers kept at most; past that the memo starts over.
const LIMIT: usize = 1024;

#[derive(Default)]
pub(crate) struct AnswerMemo {
    connections: Mutex<HashMap<String, Remembered>>,
}

struct Remembered {
    /// The stored document the answer was written from.
    doc: String,
    /// Its lifecycle, and the state it was in as of the answer.
    lifecycle: Lifecycle,
    state: String,
    answer: Encoded<Answer>,
}

impl AnswerMemo {
    /// The answer for the connection stored as `record`, as of `now_ms`:
    /// remembered, or made by `make` from the decoded connection (`make`
    /// must depend on nothing but the connection, its effective state and
    /// the master key) and remembered.
    pub fn connection(
        &self,
        record: &Record,
        now_ms: i64,
        make: impl FnOnce(&VpnConnection) -> Reply,
    ) -> Reply {
        {
            let memo = self
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(r) = memo.get(&record.id)
                && r.doc == record.doc
                && r.lifecycle.effective(now_ms) == r.state
            {
                return Ok(r.answer.clone());
            }
        }
        let connection = vpngw_store::from_record::<VpnConnection>(record)
            .map_err(crate::context::internal)?
            .value;
        let answer = make(&connection)?;
        let mut memo = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if memo.len() >= LIMIT && !memo.contains_key(&record.id) {
            memo.clear();
        }
        let state = connection.state.effective(now_ms).to_owned();
        memo.insert(
            record.id.clone(),
            Remembered {
                doc: record.doc.clone(),
                lifecycle: connection.state,
                state,
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

    fn record(c: &VpnConnection) -> Record {
        vpngw_store::to_record(c, "1", 1).unwrap()
    }

    #[test]
    fn an_answer_is_reused_only_for_the_same_document_and_state() {
        let memo = AnswerMemo::default();
        let made = Cell::new(0);
        let answer = |c: &VpnConnection, now_ms: i64| {
            let answer = memo
                .connection(&record(c), now_ms, |c| {
                    made.set(made.get() + 1);
                    Encoded::of(&Answer {
                        name: c.name.clone(),
                        state: c.state.effective(now_ms).to_owned(),
                        ..Answer::default()
                    })
                })
                .unwrap()
                .into_json()
                .to_json_with(&[]);
            let v: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            format!("{} {}", v["Name"], v["State"])
        };
        let mut c = connection();
        assert_eq!(answer(&c, 50), r#""one" "updating""#);
        assert_eq!(answer(&c, 60), r#""one" "updating""#);
        assert_eq!(made.get(), 1);
        // The clock moves the state on: written again.
        assert_eq!(answer(&c, 100), r#""one" "active""#);
        assert_eq!(made.get(), 2);
        // Any change to the connection: written again.
        c.name = "two".into();
        assert_eq!(answer(&c, 100), r#""two" "active""#);
        c.ike.psk = "resealed".into();
        answer(&c, 100);
        assert_eq!(made.get(), 4);
        answer(&c, 101);
        assert_eq!(made.get(), 4);
        // A failure is not remembered.
        let mut other = connection();
        other.id = "vco-other".into();
        let failed = memo.connection(&record(&other), 0, |_| {
            Err(vpngw_protocol::ApiError::internal())
        });
        assert!(failed.is_err());
        assert_eq!(memo.len(), 1);
    }

    #[test]
    fn the_memo_stays_bounded() {
        let memo = AnswerMemo::default();
        let mut c = connection();
        for i in 0..(LIMIT + 5) {
            c.id = format!("vco-{i}");
            memo.connection(&record(&c), 0, |_| Encoded::of(&Answer::default()))
                .unwrap();
        }
        assert!(memo.len() <= LIMIT);
    }
}
