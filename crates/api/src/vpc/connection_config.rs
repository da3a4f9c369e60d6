//! DownloadVpnConnectionConfig: the configuration the customer's device
//! needs, written from its side. What the connection calls local (the VPN
//! gateway, the VPC's subnets, `LocalId`) is the peer's remote, and the
//! other way round; algorithms, lifetimes and the PSK are shared. A
//! dual-tunnel connection has one entry per tunnel in `TunnelsConfig`, each
//! with its own gateway address, customer gateway and PSK.

use vpngw_model::{
    VpnConnection, VpnGateway,
    connection::{BgpConfig, IkeConfig, IpsecConfig},
};
use vpngw_ops::vpc::{download_vpn_connection_config as download_op, shapes};
use vpngw_protocol::ApiError;
use vpngw_store::StoreExt;

use super::{connection, customer_gateway};
use crate::{Ctx, context::internal};

/// Phase 1 from the customer's side: its identity (`LocalId`) is the
/// connection's `RemoteId`, the VPN gateway's (`RemoteId`) the
/// connection's `LocalId`.
fn peer_ike(ike: &IkeConfig) -> shapes::IkeConfig {
    shapes::IkeConfig {
        ike_version: ike.version.as_str().to_owned(),
        ike_mode: ike.mode.as_str().to_owned(),
        ike_enc_alg: ike.enc_alg.as_str().to_owned(),
        ike_auth_alg: ike.auth_alg.as_str().to_owned(),
        ike_pfs: ike.pfs.as_str().to_owned(),
        ike_lifetime: ike.lifetime_s,
        local_id: ike.remote_id.clone(),
        remote_id: ike.local_id.clone(),
        psk: ike.psk.clone(),
    }
}

fn peer_ipsec(ipsec: &IpsecConfig) -> shapes::IpsecConfig {
    shapes::IpsecConfig {
        ipsec_enc_alg: ipsec.enc_alg.as_str().to_owned(),
        ipsec_auth_alg: ipsec.auth_alg.as_str().to_owned(),
        ipsec_pfs: ipsec.pfs.as_str().to_owned(),
        ipsec_lifetime: ipsec.lifetime_s,
    }
}

/// One BGP session from the customer's side (strings, as the SDK types them).
fn peer_bgp(b: &BgpConfig, tunnel_id: Option<String>) -> download_op::BgpConfig {
    download_op::BgpConfig {
        tunnel_id,
        local_asn: b.peer_asn.map(|a| a.to_string()),
        peer_asn: b.local_asn.map(|a| a.to_string()),
        tunnel_cidr: b.tunnel_cidr.clone(),
        local_bgp_ip: b.peer_bgp_ip.clone(),
        peer_bgp_ip: b.local_bgp_ip.clone(),
    }
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

/// The on-premises subnets are the customer's `LocalSubnet` (the
/// connection's `RemoteSubnet`), the VPC's its `RemoteSubnet`; `Local` and
/// `Remote` (single tunnel) are the customer gateway's and the VPN
/// gateway's addresses.
pub async fn download(
    ctx: &Ctx<'_>,
    req: download_op::Request,
) -> Result<download_op::Answer, ApiError> {
    let mut c = connection::load(ctx, &req.vpn_connection_id).await?.value;
    connection::unseal(ctx, &mut c)?;
    let config = if c.tunnels.is_empty() {
        let local = match &c.customer_gateway_id {
            Some(cgw) => cgw_ip(ctx, cgw).await?,
            None => c.ike.remote_id.clone(),
        };
        download_op::VpnConnectionConfig {
            local_subnet: c.remote_subnet.clone(),
            remote_subnet: c.local_subnet.clone(),
            local: Some(local),
            remote: Some(gateway_ip(ctx, &c).await?),
            ike_config: Some(peer_ike(&c.ike)),
            ipsec_config: Some(peer_ipsec(&c.ipsec)),
            bgp_configs: c.bgp.enable.then(|| download_op::BgpConfigs {
                bgp_config: vec![peer_bgp(&c.bgp, None)],
            }),
            tunnels_config: None,
        }
    } else {
        let mut tunnels = Vec::with_capacity(c.tunnels.len());
        for t in &c.tunnels {
            tunnels.push(download_op::TunnelConfig {
                tunnel_id: t.id.clone(),
                local: cgw_ip(ctx, &t.customer_gateway_id).await?,
                remote: t.internet_ip.clone(),
                ike_config: peer_ike(&t.ike),
                ipsec_config: peer_ipsec(&t.ipsec),
            });
        }
        download_op::VpnConnectionConfig {
            local_subnet: c.remote_subnet.clone(),
            remote_subnet: c.local_subnet.clone(),
            local: None,
            remote: None,
            ike_config: None,
            ipsec_config: None,
            bgp_configs: c.enable_tunnels_bgp.then(|| download_op::BgpConfigs {
                bgp_config: c
                    .tunnels
                    .iter()
                    .map(|t| peer_bgp(&t.bgp, Some(t.id.clone())))
                    .collect(),
            }),
            tunnels_config: Some(download_op::TunnelsConfig {
                tunnel_config: tunnels,
            }),
        }
    };
    Ok(download_op::Answer {
        vpn_connection_config: config,
    })
}
