//! IPsec server (`iss-…`): the VPN gateway's client-to-site IKE server.
//! Laptops and phones dial the gateway's public address with a pre-shared
//! key, get an address from `ClientIpPool` and reach `LocalSubnet`.
//!
//! The rules, from the SDK models' documentation of CreateIpsecServer /
//! UpdateIpsecServer / ListIpsecServers and the vendor metadata:
//! - `ClientIpPool` and `LocalSubnet` follow the SSL server's rules (the
//!   IPsec server is part of the gateway's SSL-VPN feature and shares its
//!   connections): one pool of /16–/29 outside the reserved blocks, 1–5
//!   local blocks of /8–/32, and the two may not overlap ([`ssl_vpn`]).
//!   Neither may overlap what the gateway's other remote-access server
//!   already uses ([`UsedBlock`], [`check_against`]).
//! - `IkeConfig` / `IpsecConfig` are the connection's phase settings
//!   ([`IkeConfig`], [`IpsecConfig`]), with the server's defaults
//!   ([`ike_defaults`]: IKEv2, main, aes, sha1, group2, 86400 s; `LocalId`
//!   the gateway's public address, `RemoteId` empty: any client).
//! - `Psk`: 1–100 characters (the connection's rule, [`valid_psk`]); 16
//!   random characters when none is given. `PskEnabled`: `true` is the only
//!   documented value.
//! - `IpSecServerName`: 1–100 characters, not starting with a URL scheme.
//! - `MaxConnections` is the gateway's `SslConnections`, shared with the SSL
//!   server ([`crate::vpn_gateway::over_quota`]).
//! - `MultiFactorAuthEnabled` / `IDaaSInstanceId` are answered but no
//!   operation sets them; they are stored ([`MultiFactorAuth`]) and echoed
//!   (docs/api-decisions.md, "IPsec server").

use ipnet::Ipv4Net;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::connection::{IkeConfig, IkeVersion, IpsecConfig, valid_psk};
use crate::dataplane::{IpsecClientReport, IpsecServerReport};
use crate::measured::{Measured, Measurement};
use crate::ssl_vpn::{self, ClientIpPool, LocalSubnets, MultiFactorAuth};
use crate::validate::{self, blocks_overlap};

/// An IPsec server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpsecServer {
    pub id: String,
    pub region_id: String,
    pub vpn_gateway_id: String,
    /// `IpsecServerName`; empty when none was given.
    pub name: String,
    pub client_ip_pool: ClientIpPool,
    pub local_subnet: LocalSubnets,
    pub effect_immediately: bool,
    /// Phase 1. `ike.psk` is the server's `Psk` (sealed at rest by the API
    /// layer, like a connection's).
    pub ike: IkeConfig,
    pub ipsec: IpsecConfig,
    pub psk_enabled: bool,
    /// Stored and echoed; nothing sets it (see the module documentation).
    pub mfa: MultiFactorAuth,
    /// The gateway's, always (the cloud keeps them together).
    pub resource_group_id: String,
    pub create_time_ms: i64,
    /// `OnlineClientCount` as last measured by the data plane.
    pub online_client_count: i64,
    /// The clients connected at that measurement, with their virtual IPs.
    #[serde(default)]
    pub clients: Vec<IpsecClientReport>,
    /// When they were measured and accepted: they stand only while that is
    /// recent ([`IpsecServer::online`]), as the SSL server's clients do.
    #[serde(flatten)]
    pub measured: Measured,
}

impl IpsecServer {
    /// Takes a report measured at `measured_at_ms` (agent clock) that
    /// arrives at `now_ms` if it is the newest and says something new: who
    /// is online changed, or the stored measurement was accepted
    /// `refresh_ms` ago ([`Measured::judge`]).
    pub fn record(
        &mut self,
        measured_at_ms: i64,
        report: &IpsecServerReport,
        now_ms: i64,
        refresh_ms: i64,
    ) -> Measurement {
        let changed = self.online_client_count != report.online_client_count
            || self.clients != report.clients;
        let judged = self
            .measured
            .judge(measured_at_ms, changed, now_ms, refresh_ms);
        if judged == Measurement::Changed {
            self.online_client_count = report.online_client_count;
            self.clients = report.clients.clone();
        }
        judged
    }

    /// The clients and `OnlineClientCount` as the agent last reported them,
    /// or none when no report came for `fresh_ms` (the agent is gone: its
    /// clients cannot be online any more).
    pub fn online(&self, now_ms: i64, fresh_ms: i64) -> (&[IpsecClientReport], i64) {
        if self.measured.fresh(now_ms, fresh_ms) {
            (&self.clients, self.online_client_count)
        } else {
            (&[], 0)
        }
    }
}

/// Length of the key CreateIpsecServer makes when `Psk` is not given.
pub const GENERATED_PSK_LEN: usize = 16;

/// A pre-shared key of [`GENERATED_PSK_LEN`] random letters and digits: the
/// cloud's when `Psk` is not given (ListIpsecServers shows it).
pub fn generated_psk() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..GENERATED_PSK_LEN)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// Phase 1 of a new server when `IkeConfig` leaves a field out: IKEv2, main
/// mode, aes, sha1, group2, 86400 s, `LocalId` the gateway's public
/// address, `RemoteId` empty (any client identity).
pub fn ike_defaults(local_id: String, psk: String) -> IkeConfig {
    IkeConfig {
        version: IkeVersion::V2,
        ..IkeConfig::defaults(local_id, String::new(), psk)
    }
}

/// Phase 2 of a new server: aes, sha1, group2, 86400 s (the connection's).
pub fn ipsec_defaults() -> IpsecConfig {
    IpsecConfig::default()
}

/// A block the gateway already uses, which an IPsec server's blocks may
/// not overlap: the SSL server's `ClientIpPool` and `LocalSubnet`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsedBlock {
    /// The resource that uses it (`vss-…`).
    pub owner: String,
    /// Its parameter there (`ClientIpPool`, `LocalSubnet`).
    pub param: &'static str,
    pub net: Ipv4Net,
}

/// Why an IPsec server's parameters are refused. The API layer gives each
/// its cloud error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleError {
    /// `ClientIpPool` or `LocalSubnet` broke a rule shared with the SSL
    /// server (including their overlap with each other).
    Subnets(ssl_vpn::RuleError),
    /// `param` (`ClientIpPool` or `LocalSubnet`) has `block`, which
    /// overlaps a block in use on the gateway.
    Conflict {
        param: &'static str,
        block: Ipv4Net,
        used: UsedBlock,
    },
    /// `IpSecServerName` / `IpsecServerName`.
    Name,
    /// `Psk`.
    Psk,
    /// `PskEnabled=false`.
    PskDisabled,
}

impl From<ssl_vpn::RuleError> for RuleError {
    fn from(e: ssl_vpn::RuleError) -> Self {
        RuleError::Subnets(e)
    }
}

/// `IpSecServerName`: 1–100 characters, not starting with `http://` or `https://`.
pub fn check_name(name: &str) -> Result<(), RuleError> {
    validate::loose_name(name)
        .then_some(())
        .ok_or(RuleError::Name)
}

/// `Psk`: the connection's rule (1–100 printable ASCII characters, no spaces).
pub fn check_psk(psk: &str) -> Result<(), RuleError> {
    valid_psk(psk).then_some(()).ok_or(RuleError::Psk)
}

/// `PskEnabled`: `true` is the only value the cloud documents (there is no
/// other way to authenticate clients).
pub fn check_psk_enabled(enabled: bool) -> Result<(), RuleError> {
    enabled.then_some(()).ok_or(RuleError::PskDisabled)
}

/// `ClientIpPool` and `LocalSubnet` by the SSL server's rules, including
/// that they may not overlap each other.
pub fn parse_subnets(pool: &str, local: &str) -> Result<(ClientIpPool, LocalSubnets), RuleError> {
    let pool = ClientIpPool::parse(pool)?;
    let local = LocalSubnets::parse(local)?;
    ssl_vpn::overlap(&pool, &local)?;
    Ok((pool, local))
}

/// The pool and the local blocks against the blocks the gateway already
/// uses: the pool may overlap none of them (two servers handing out the
/// same addresses, or clients given addresses of the networks they are to
/// reach), and no local block may overlap another server's pool.
pub fn check_against(
    pool: &ClientIpPool,
    local: &LocalSubnets,
    used: &[UsedBlock],
) -> Result<(), RuleError> {
    for u in used {
        if blocks_overlap(&pool.net(), &u.net) {
            return Err(RuleError::Conflict {
                param: "ClientIpPool",
                block: pool.net(),
                used: u.clone(),
            });
        }
        if u.param != "ClientIpPool" {
            continue;
        }
        if let Some(block) = local.nets().iter().find(|n| blocks_overlap(n, &u.net)) {
            return Err(RuleError::Conflict {
                param: "LocalSubnet",
                block: *block,
                used: u.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{AuthAlg, DhGroup, EncAlg, IkeMode};
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn ssl_blocks() -> Vec<UsedBlock> {
        vec![
            UsedBlock {
                owner: "vss-1".into(),
                param: "ClientIpPool",
                net: "10.200.0.0/24".parse().unwrap(),
            },
            UsedBlock {
                owner: "vss-1".into(),
                param: "LocalSubnet",
                net: "192.168.0.0/16".parse().unwrap(),
            },
        ]
    }

    #[test]
    fn defaults_are_the_servers_not_the_connections() {
        let ike = ike_defaults("198.18.0.1".into(), "k".into());
        assert_eq!(ike.version, IkeVersion::V2);
        assert_eq!(
            (ike.mode, ike.enc_alg, ike.auth_alg, ike.pfs, ike.lifetime_s),
            (
                IkeMode::Main,
                EncAlg::Aes,
                AuthAlg::Sha1,
                DhGroup::Group2,
                86400
            )
        );
        assert_eq!(ike.local_id, "198.18.0.1");
        assert!(ike.remote_id.is_empty());
        assert_eq!(ipsec_defaults(), IpsecConfig::default());
    }

    #[test]
    fn subnets_follow_the_ssl_servers_rules() {
        let (pool, local) = parse_subnets("10.10.0.0/24", "10.0.0.0/24, 172.16.0.0/16").unwrap();
        assert_eq!(pool.to_string(), "10.10.0.0/24");
        assert_eq!(local.to_string(), "10.0.0.0/24,172.16.0.0/16");
        assert_eq!(
            parse_subnets("10.10.0.0/30", "10.0.0.0/24"),
            Err(RuleError::Subnets(ssl_vpn::RuleError::PoolMask))
        );
        assert_eq!(
            parse_subnets("10.0.0.0/24", "10.0.0.0/16"),
            Err(RuleError::Subnets(ssl_vpn::RuleError::Overlap(
                "10.0.0.0/16".into()
            )))
        );
        assert!(matches!(
            parse_subnets("10.10.0.0/24", "127.0.0.0/8"),
            Err(RuleError::Subnets(ssl_vpn::RuleError::LocalSubnetReserved(
                _
            )))
        ));
    }

    #[test]
    fn blocks_in_use_on_the_gateway_are_refused() {
        let local = LocalSubnets::parse("10.0.0.0/24").unwrap();
        let pool = ClientIpPool::parse("10.200.0.0/25").unwrap();
        let err = check_against(&pool, &local, &ssl_blocks()).unwrap_err();
        assert!(matches!(
            err,
            RuleError::Conflict { param: "ClientIpPool", ref used, .. } if used.param == "ClientIpPool"
        ));
        // The pool inside the SSL server's local networks.
        let pool = ClientIpPool::parse("192.168.7.0/24").unwrap();
        assert!(matches!(
            check_against(&pool, &local, &ssl_blocks()),
            Err(RuleError::Conflict { param: "ClientIpPool", ref used, .. }) if used.param == "LocalSubnet"
        ));
        // A local block in the SSL server's pool.
        let pool = ClientIpPool::parse("10.10.0.0/24").unwrap();
        let into_pool = LocalSubnets::parse("10.0.0.0/24,10.200.0.128/25").unwrap();
        assert_eq!(
            check_against(&pool, &into_pool, &ssl_blocks()),
            Err(RuleError::Conflict {
                param: "LocalSubnet",
                block: "10.200.0.128/25".parse().unwrap(),
                used: ssl_blocks()[0].clone(),
            })
        );
        // Sharing local networks with the SSL server is fine.
        let shared = LocalSubnets::parse("192.168.1.0/24").unwrap();
        assert_eq!(check_against(&pool, &shared, &ssl_blocks()), Ok(()));
        assert_eq!(check_against(&pool, &local, &[]), Ok(()));
    }

    #[test]
    fn names_keys_and_the_only_psk_mode() {
        assert_eq!(check_name("road-warriors"), Ok(()));
        assert_eq!(check_name(""), Err(RuleError::Name));
        assert_eq!(check_name("https://x"), Err(RuleError::Name));
        assert_eq!(check_name(&"x".repeat(101)), Err(RuleError::Name));
        assert_eq!(check_psk("s3cret+/="), Ok(()));
        assert_eq!(check_psk("with space"), Err(RuleError::Psk));
        assert_eq!(check_psk(&"k".repeat(101)), Err(RuleError::Psk));
        assert_eq!(check_psk_enabled(true), Ok(()));
        assert_eq!(check_psk_enabled(false), Err(RuleError::PskDisabled));
    }

    #[test]
    fn documents_round_trip() {
        let (pool, local) = parse_subnets("10.10.0.0/24", "10.0.0.0/24").unwrap();
        let s = IpsecServer {
            id: "iss-1".into(),
            region_id: "cn-hangzhou".into(),
            vpn_gateway_id: "vpn-1".into(),
            name: "rw".into(),
            client_ip_pool: pool,
            local_subnet: local,
            effect_immediately: false,
            ike: ike_defaults("198.18.0.1".into(), "sealed".into()),
            ipsec: ipsec_defaults(),
            psk_enabled: true,
            mfa: MultiFactorAuth::default(),
            resource_group_id: "rg-1".into(),
            create_time_ms: 1,
            online_client_count: 0,
            clients: Vec::new(),
            measured: Measured::default(),
        };
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["client_ip_pool"], "10.10.0.0/24");
        assert_eq!(json["ike"]["version"], "ikev2");
        let back: IpsecServer = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn generated_keys_follow_the_psk_rule_and_differ() {
        let a = generated_psk();
        assert_eq!(a.len(), GENERATED_PSK_LEN);
        assert_eq!(check_psk(&a), Ok(()));
        assert_ne!(a, generated_psk());
    }

    #[test]
    fn reports_are_taken_when_newest_and_new() {
        let (pool, local) = parse_subnets("10.10.0.0/24", "10.0.0.0/24").unwrap();
        let mut s = IpsecServer {
            id: "iss-1".into(),
            region_id: "cn-hangzhou".into(),
            vpn_gateway_id: "vpn-1".into(),
            name: String::new(),
            client_ip_pool: pool,
            local_subnet: local,
            effect_immediately: false,
            ike: ike_defaults("198.18.0.1".into(), "k".into()),
            ipsec: ipsec_defaults(),
            psk_enabled: true,
            mfa: MultiFactorAuth::default(),
            resource_group_id: "rg-1".into(),
            create_time_ms: 1,
            online_client_count: 0,
            clients: Vec::new(),
            measured: Measured::default(),
        };
        let one = IpsecServerReport {
            ipsec_server_id: "iss-1".into(),
            online_client_count: 1,
            clients: vec![IpsecClientReport {
                identity: "rw1@lab".into(),
                remote_addr: "100.100.0.2".into(),
                virtual_ip: "10.10.0.1".into(),
            }],
            ..IpsecServerReport::default()
        };
        assert_eq!(s.record(1_000, &one, 1_000, 30_000), Measurement::Changed);
        assert_eq!(
            (s.online_client_count, s.measured.measured_at_ms),
            (1, 1_000)
        );
        assert_eq!(s.clients, one.clients);
        // The same again soon: nothing to write; later: refreshed.
        assert_eq!(s.record(2_000, &one, 2_000, 30_000), Measurement::Unchanged);
        assert_eq!(s.record(31_000, &one, 31_000, 30_000), Measurement::Changed);
        // Online while the last accepted report is fresh; nobody once it is not.
        assert_eq!(s.online(121_000, 90_000), (one.clients.as_slice(), 1));
        assert_eq!(s.online(121_001, 90_000), (&[][..], 0));
        // An older report never wins over a newer one.
        let none = IpsecServerReport {
            ipsec_server_id: "iss-1".into(),
            ..IpsecServerReport::default()
        };
        assert_eq!(s.record(500, &none, 32_000, 30_000), Measurement::Older);
        assert_eq!(s.online_client_count, 1);
        assert_eq!(
            s.record(32_000, &none, 32_000, 30_000),
            Measurement::Changed
        );
        assert_eq!((s.online_client_count, s.clients.len()), (0, 0));
    }

    proptest! {
        /// A conflict is reported exactly when the pool shares an address
        /// with a used block (or a local block with a used pool).
        #[test]
        fn conflicts_match_address_ranges(
            (p, plen) in (any::<u32>(), 16u8..=29),
            (l, llen) in (any::<u32>(), 8u8..=32),
            (u, ulen) in (any::<u32>(), 8u8..=32),
            used_is_pool in any::<bool>(),
        ) {
            let net = |a: u32, len: u8| Ipv4Net::new(Ipv4Addr::from(a), len).unwrap().trunc();
            let (pool_net, local_net, used_net) = (net(p, plen), net(l, llen), net(u, ulen));
            let (Ok(pool), Ok(local)) = (
                ClientIpPool::parse(&pool_net.to_string()),
                LocalSubnets::parse(&local_net.to_string()),
            ) else {
                return Ok(());
            };
            let used = [UsedBlock {
                owner: "vss-x".into(),
                param: if used_is_pool { "ClientIpPool" } else { "LocalSubnet" },
                net: used_net,
            }];
            let disjoint = |a: Ipv4Net, b: Ipv4Net| {
                u32::from(a.broadcast()) < u32::from(b.network())
                    || u32::from(b.broadcast()) < u32::from(a.network())
            };
            let expect_ok = disjoint(pool_net, used_net) && (!used_is_pool || disjoint(local_net, used_net));
            prop_assert_eq!(check_against(&pool, &local, &used).is_ok(), expect_ok);
        }
    }
}
