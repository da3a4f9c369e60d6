//! Customer gateways: the on-premises side of an IPsec connection.

use serde::{Deserialize, Serialize};

use crate::tags::Tag;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerGateway {
    pub id: String,
    pub region_id: String,
    pub name: String,
    pub description: String,
    pub ip_address: String,
    /// Taken as a string by CreateCustomerGateway, reported as an integer.
    pub asn: Option<i64>,
    /// BGP MD5 authentication key (a secret).
    pub auth_key: Option<String>,
    pub resource_group_id: String,
    pub create_time_ms: i64,
    pub tags: Vec<Tag>,
}

/// ASNs the cloud accepts for a customer gateway: 1–4294967295, with the
/// cloud's own 45104 reserved.
pub fn valid_asn(asn: i64) -> bool {
    (1..=4_294_967_295).contains(&asn) && asn != 45104
}
