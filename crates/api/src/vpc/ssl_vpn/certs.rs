//! CreateSslVpnClientCert, DescribeSslVpnClientCert(s),
//! ModifySslVpnClientCert, DeleteSslVpnClientCert.
//!
//! A certificate's serial number is its server's next one: creating a
//! certificate writes the server (serial advanced) and then the certificate,
//! in turns per server (`rmw::serialized`), so two certificates never share
//! a serial. Deleting one revokes it first (the server's CRL is signed
//! again and stored) and then deletes it: if the second write fails the
//! certificate is already refused by OpenVPN, never the other way round.

use vpngw_model::{
    SslVpnClientCert, SslVpnServer,
    ids::{IdKind, new_id},
    ssl_vpn::{self, CLIENT_CERT_VALIDITY_MS, cert_status, client_config},
};
use vpngw_ops::vpc::{
    create_ssl_vpn_client_cert, delete_ssl_vpn_client_cert, describe_ssl_vpn_client_cert,
    describe_ssl_vpn_client_certs, modify_ssl_vpn_client_cert, shapes,
};
use vpngw_protocol::ApiError;
use vpngw_store::{InsertGuard, Inserted, Kind, ListQuery, StoreExt, Versioned};

use super::{given, internet_ip, load as load_server, pki};
use crate::{
    Ctx,
    context::{internal, page, store_error},
    errors, rmw,
    vpc::vpn_gateway::{self, id_list, require_active},
};

pub(crate) async fn load(ctx: &Ctx<'_>, id: &str) -> Result<Versioned<SslVpnClientCert>, ApiError> {
    ctx.store()
        .get_typed::<SslVpnClientCert>(&ctx.scope()?, id)
        .await
        .map_err(internal)?
        .ok_or_else(errors::ssl_vpn_client_cert_not_found)
}

fn check_name(name: &str) -> Result<(), ApiError> {
    ssl_vpn::check_name(name).map_err(|_| errors::invalid_name())
}

/// The answer of CreateSslVpnClientCert and ModifySslVpnClientCert.
fn created(c: &SslVpnClientCert) -> shapes::Shape3 {
    shapes::Shape3 {
        ssl_vpn_client_cert_id: c.id.clone(),
        name: c.name.clone(),
    }
}

/// Reserves the server's next serial and issues the certificate's key pair
/// with it. The server is written before the certificate exists.
async fn issue(
    ctx: &Ctx<'_>,
    server_id: &str,
    cert_id: &str,
    end_ms: i64,
) -> Result<(SslVpnServer, u64, String, String), ApiError> {
    rmw::serialized(ctx, server_id, || async {
        let Versioned { mut value, version } = load_server(ctx, server_id).await?;
        let (serial, cert_pem, sealed_key) =
            pki::issue_client(ctx.secrets(), &mut value, cert_id, ctx.now_ms, end_ms)?;
        ctx.store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
            .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
        Ok((value, serial, cert_pem, sealed_key))
    })
    .await
}

pub async fn create(
    ctx: &Ctx<'_>,
    req: create_ssl_vpn_client_cert::Request,
) -> Result<create_ssl_vpn_client_cert::Answer, ApiError> {
    let region = ctx.region()?;
    let name = req.name.unwrap_or_default();
    if !name.is_empty() {
        check_name(&name)?;
    }
    let server = load_server(ctx, &req.ssl_vpn_server_id).await?.value;
    let gateway = vpn_gateway::load(ctx, &server.vpn_gateway_id).await?;
    require_active(&gateway.value, ctx.now_ms)?;
    let idempotency = ctx.idempotency()?;
    let id = new_id(IdKind::SslVpnClientCert, region.id_prefix);
    let end_ms = ctx.now_ms + CLIENT_CERT_VALIDITY_MS;
    let (server, serial, cert_pem, key) = issue(ctx, &server.id, &id, end_ms).await?;
    let cert = SslVpnClientCert {
        id,
        region_id: region.id.to_owned(),
        ssl_vpn_server_id: server.id.clone(),
        name,
        resource_group_id: server.resource_group_id.clone(),
        create_time_ms: ctx.now_ms,
        end_time_ms: end_ms,
        serial,
        cert_pem,
        key,
    };
    let guard = InsertGuard {
        idempotency,
        ..InsertGuard::default()
    };
    let inserted = ctx
        .store()
        .insert_typed(&ctx.caller.account_id, &cert, guard)
        .await
        .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
    match inserted {
        Inserted::Created => Ok(created(&cert)),
        // The serial reserved for this call stays unused: harmless.
        Inserted::Replayed { id } => Ok(created(&load(ctx, &id).await?.value)),
    }
}

pub async fn describe(
    ctx: &Ctx<'_>,
    req: describe_ssl_vpn_client_cert::Request,
) -> Result<describe_ssl_vpn_client_cert::Answer, ApiError> {
    // Terraform's provider takes `InvalidInstanceId.NotFound` as "gone" here.
    let cert = load(ctx, &req.ssl_vpn_client_cert_id)
        .await
        .map_err(|e| {
            if e.code == errors::ssl_vpn_client_cert_not_found().code {
                errors::instance_not_found()
            } else {
                e
            }
        })?
        .value;
    let server = load_server(ctx, &cert.ssl_vpn_server_id).await?.value;
    let gateway = vpn_gateway::load(ctx, &server.vpn_gateway_id).await?.value;
    Ok(describe_ssl_vpn_client_cert::Answer {
        region_id: cert.region_id.clone(),
        ssl_vpn_client_cert_id: cert.id.clone(),
        name: cert.name.clone(),
        ssl_vpn_server_id: cert.ssl_vpn_server_id.clone(),
        ca_cert: server.pki.ca_cert_pem.clone(),
        client_cert: cert.cert_pem.clone(),
        client_key: pki::client_key(ctx.secrets(), &cert)?,
        client_config: client_config(&server, &internet_ip(&gateway)),
        create_time: cert.create_time_ms,
        end_time: cert.end_time_ms,
        status: cert_status(cert.end_time_ms, ctx.now_ms).to_owned(),
        resource_group_id: cert.resource_group_id,
    })
}

pub async fn describe_many(
    ctx: &Ctx<'_>,
    req: describe_ssl_vpn_client_certs::Request,
) -> Result<describe_ssl_vpn_client_certs::Answer, ApiError> {
    let (number, size) = page(req.page_number, req.page_size, 50)?;
    let mut q = ListQuery::new(Kind::SslVpnClientCert, ctx.scope()?, ctx.now_ms);
    q.ids = id_list(req.ssl_vpn_client_cert_id.as_deref());
    q.parent_id = given(req.ssl_vpn_server_id);
    q.resource_group_id = given(req.resource_group_id);
    if let Some(name) = given(req.name) {
        q.fields.push(("name", name));
    }
    q.offset = ((number - 1) * size) as u64;
    q.limit = size as u64;
    let (certs, total) = ctx
        .store()
        .list_typed::<SslVpnClientCert>(&q)
        .await
        .map_err(internal)?;
    Ok(describe_ssl_vpn_client_certs::Answer {
        total_count: total as i64,
        page_number: number,
        page_size: size,
        ssl_vpn_client_cert_keys: describe_ssl_vpn_client_certs::SslVpnClientCertKeys {
            ssl_vpn_client_cert_key: certs
                .into_iter()
                .map(|c| describe_ssl_vpn_client_certs::SslVpnClientCertKey {
                    status: cert_status(c.end_time_ms, ctx.now_ms).to_owned(),
                    region_id: c.region_id,
                    ssl_vpn_client_cert_id: c.id,
                    name: c.name,
                    ssl_vpn_server_id: c.ssl_vpn_server_id,
                    create_time: c.create_time_ms,
                    end_time: c.end_time_ms,
                    resource_group_id: c.resource_group_id,
                })
                .collect(),
        },
    })
}

pub async fn modify(
    ctx: &Ctx<'_>,
    req: modify_ssl_vpn_client_cert::Request,
) -> Result<modify_ssl_vpn_client_cert::Answer, ApiError> {
    let Versioned { mut value, version } = load(ctx, &req.ssl_vpn_client_cert_id).await?;
    if let Some(name) = req.name {
        if !name.is_empty() {
            check_name(&name)?;
        }
        value.name = name;
    }
    ctx.store()
        .update_typed(&ctx.caller.account_id, &value, version)
        .await
        .map_err(|e| store_error(e, errors::ssl_vpn_client_cert_not_found))?;
    Ok(created(&value))
}

pub async fn delete(
    ctx: &Ctx<'_>,
    req: delete_ssl_vpn_client_cert::Request,
) -> Result<delete_ssl_vpn_client_cert::Answer, ApiError> {
    let cert = load(ctx, &req.ssl_vpn_client_cert_id).await?.value;
    let server_id = cert.ssl_vpn_server_id.clone();
    {
        let server = load_server(ctx, &server_id).await?.value;
        let gateway = vpn_gateway::load(ctx, &server.vpn_gateway_id).await?;
        require_active(&gateway.value, ctx.now_ms)?;
    }
    // Revoke first: the new CRL and the name whose session is to end.
    rmw::serialized(ctx, &server_id, || async {
        let Versioned { mut value, version } = load_server(ctx, &server_id).await?;
        pki::revoke(ctx.secrets(), &mut value, &cert, ctx.now_ms)?;
        ctx.store()
            .update_typed(&ctx.caller.account_id, &value, version)
            .await
            .map_err(|e| store_error(e, errors::ssl_vpn_server_not_found))?;
        Ok(())
    })
    .await?;
    ctx.store()
        .delete(Kind::SslVpnClientCert, &ctx.scope()?, &cert.id)
        .await
        .map_err(|e| store_error(e, errors::ssl_vpn_client_cert_not_found))?;
    Ok(delete_ssl_vpn_client_cert::Answer {})
}
