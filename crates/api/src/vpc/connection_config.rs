//! DownloadVpnConnectionConfig: the configuration the customer's device
//! needs, written from its side. What the connection calls local (the VPN
//! gateway, the VPC's subnets, `LocalId`) is the peer's remote, and the
//! other way round; algorithms, lifetimes and the PSK are shared. A
//! dual-tunnel connection has one entry per tunnel in `TunnelsConfig`, each
//! with its own gateway address, customer gateway and PSK.

use serde::Serialize;
use vpngw_model::{
    VpnConnection, VpnGateway,
    connection::{BgpConfig, IkeConfig, IpsecConfig},
};
use vpngw_protocol::ApiError;
use vpngw_store::StoreExt;

use super::{connection, customer_gateway, reply};
use crate::{Ctx, actions::Reply, context::internal};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PeerIke {
    ike_version: &'static str,
    ike_mode: &'static str,
    ike_enc_alg: &'static str,
    ike_auth_alg: &'static str,
    ike_pfs: &'static str,
    ike_lifetime: i64,
    /// The customer side's identity: the connection's `RemoteId`.
    local_id: String,
    /// The VPN gateway's identity: the connection's `LocalId`.
    remote_id: String,
    psk: String,
}

impl PeerIke {
    fn of(ike: &IkeConfig) -> PeerIke {
        PeerIke {
            ike_version: ike.version.as_str(),
            ike_mode: ike.mode.as_str(),
            ike_enc_alg: ike.enc_alg.as_str(),
            ike_auth_alg: ike.auth_alg.as_str(),
            ike_pfs: ike.pfs.as_str(),
            ike_lifetime: ike.lifetime_s,
            local_id: ike.remote_id.clone(),
            remote_id: ike.local_id.clone(),
            psk: ike.psk.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PeerIpsec {
    ipsec_enc_alg: &'static str,
    ipsec_auth_alg: &'static str,
    ipsec_pfs: &'static str,
    ipsec_lifetime: i64,
}

impl PeerIpsec {
    fn of(ipsec: &IpsecConfig) -> PeerIpsec {
        PeerIpsec {
            ipsec_enc_alg: ipsec.enc_alg.as_str(),
            ipsec_auth_alg: ipsec.auth_alg.as_str(),
            ipsec_pfs: ipsec.pfs.as_str(),
            ipsec_lifetime: ipsec.lifetime_s,
        }
    }
}

/// One BGP session from the customer's side (strings, as the SDK types them).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PeerBgp {
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_asn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_asn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnel_cidr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    local_bgp_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_bgp_ip: Option<String>,
}

impl PeerBgp {
    fn of(b: &BgpConfig, tunnel_id: Option<String>) -> PeerBgp {
        PeerBgp {
            tunnel_id,
            local_asn: b.peer_asn.map(|a| a.to_string()),
            peer_asn: b.local_asn.map(|a| a.to_string()),
            tunnel_cidr: b.tunnel_cidr.clone(),
            local_bgp_ip: b.peer_bgp_ip.clone(),
            peer_bgp_ip: b.local_bgp_ip.clone(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct BgpConfigs {
    bgp_config: Vec<PeerBgp>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TunnelConfig {
    tunnel_id: String,
    /// The customer gateway of this tunnel.
    local: String,
    /// The gateway-side address of this tunnel.
    remote: String,
    ike_config: PeerIke,
    ipsec_config: PeerIpsec,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TunnelsConfig {
    tunnel_config: Vec<TunnelConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PeerConfig {
    /// The on-premises subnets: the connection's `RemoteSubnet`.
    local_subnet: String,
    /// The VPC's subnets: the connection's `LocalSubnet`.
    remote_subnet: String,
    /// Single tunnel: the customer gateway's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    local: Option<String>,
    /// Single tunnel: the VPN gateway's address.
    #[serde(skip_serializing_if = "Option::is_none")]
    remote: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ike_config: Option<PeerIke>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ipsec_config: Option<PeerIpsec>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bgp_configs: Option<BgpConfigs>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tunnels_config: Option<TunnelsConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Downloaded {
    vpn_connection_config: PeerConfig,
}

async fn cgw_ip(ctx: &Ctx<'_>, id: &str) -> Result<String, ApiError> {
    Ok(customer_gateway::load(ctx, id).await?.value.ip_address)
}

/// The gateway-side address of a single-tunnel connection: its VPN
/// gateway's public IP (or an attachment's own address).
async fn gateway_ip(ctx: &Ctx<'_>, c: &VpnConnection) -> Result<String, ApiError> {
    if let Some(gid) = &c.vpn_gateway_id {
        let g = ctx
            .store()
            .get_typed::<VpnGateway>(&ctx.scope()?, gid)
            .await
            .map_err(internal)?;
        if let Some(g) = g {
            return Ok(g.value.internet_ip);
        }
    }
    // An attachment has no gateway; its own address is what the peer dials.
    Ok(c.ike.local_id.clone())
}

pub async fn download(ctx: &Ctx<'_>) -> Reply {
    let id = ctx.params.required("VpnConnectionId")?;
    let mut c = connection::load(ctx, id).await?.value;
    connection::unseal(ctx, &mut c)?;
    let config = if c.tunnels.is_empty() {
        let local = match &c.customer_gateway_id {
            Some(cgw) => cgw_ip(ctx, cgw).await?,
            None => c.ike.remote_id.clone(),
        };
        PeerConfig {
            local_subnet: c.remote_subnet.clone(),
            remote_subnet: c.local_subnet.clone(),
            local: Some(local),
            remote: Some(gateway_ip(ctx, &c).await?),
            ike_config: Some(PeerIke::of(&c.ike)),
            ipsec_config: Some(PeerIpsec::of(&c.ipsec)),
            bgp_configs: c.bgp.enable.then(|| BgpConfigs {
                bgp_config: vec![PeerBgp::of(&c.bgp, None)],
            }),
            tunnels_config: None,
        }
    } else {
        let mut tunnels = Vec::with_capacity(c.tunnels.len());
        for t in &c.tunnels {
            tunnels.push(TunnelConfig {
                tunnel_id: t.id.clone(),
                local: cgw_ip(ctx, &t.customer_gateway_id).await?,
                remote: t.internet_ip.clone(),
                ike_config: PeerIke::of(&t.ike),
                ipsec_config: PeerIpsec::of(&t.ipsec),
            });
        }
        PeerConfig {
            local_subnet: c.remote_subnet.clone(),
            remote_subnet: c.local_subnet.clone(),
            local: None,
            remote: None,
            ike_config: None,
            ipsec_config: None,
            bgp_configs: c.enable_tunnels_bgp.then(|| BgpConfigs {
                bgp_config: c
                    .tunnels
                    .iter()
                    .map(|t| PeerBgp::of(&t.bgp, Some(t.id.clone())))
                    .collect(),
            }),
            tunnels_config: Some(TunnelsConfig {
                tunnel_config: tunnels,
            }),
        }
    };
    reply(&Downloaded {
        vpn_connection_config: config,
    })
}
