//! The VPC product's IPsec-VPN operations.

pub mod attachment;
pub mod connection;
pub mod connection_config;
pub mod customer_gateway;
pub mod diagnose;
pub mod gateway_info;
/// Public for the fuzz target (fuzz/harness/ike_json.rs).
pub mod ike_json;
pub mod ipsec_server;
pub mod logs;
mod records;
pub mod regions;
pub mod resource_group;
pub mod routes;
pub mod ssl_vpn;
pub mod tags;
pub mod tunnel;
pub mod views;
pub mod vpn_gateway;

use vpngw_protocol::ApiError;

/// Serializes a response view into the reply body: once, straight to the
/// JSON text, keys in the order `serde_json::Value` gives them
/// ([`vpngw_protocol::JsonAnswer`]).
pub(crate) fn reply<T: serde::Serialize + ?Sized>(view: &T) -> crate::actions::Reply {
    vpngw_protocol::JsonAnswer::new(view).map_err(|e| {
        tracing::error!(error = %e, "response encoding failed");
        ApiError::internal()
    })
}

/// `Tag.N.Key` / `Tag.N.Value` (or `Tags.N.…`) as (key, optional value) filters.
pub(crate) fn tag_filters(
    params: &vpngw_protocol::Params,
    name: &str,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let mut out = Vec::new();
    for tag in params.objects(name)? {
        let Some(key) = tag.get("Key").filter(|k| !k.is_empty()) else {
            continue;
        };
        let value = tag.get("Value").map(str::to_owned);
        out.push((key.to_owned(), value));
    }
    Ok(out)
}
