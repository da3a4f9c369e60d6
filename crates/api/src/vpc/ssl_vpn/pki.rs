//! An SSL server's certificate authority as the API keeps it: made with
//! `vpngw_pki`, private keys sealed before they reach the store (bound to the
//! record and the key's role, so a sealed key copied elsewhere does not
//! open), the CRL signed again whenever a certificate is revoked.
//!
//! Private keys are opened only for the two answers that must carry one:
//! DescribeSslVpnClientCert (the client's key, to its owner) and the agent's
//! DescribeSslVpnServerPki (the gateway's key). Nothing here logs a key:
//! `KeyPem` and `Secret` print as redacted.

use vpngw_identity::Secret;
use vpngw_model::ssl_vpn::{ServerPki, SslVpnClientCert, SslVpnServer};
use vpngw_pki::{FIRST_CLIENT_SERIAL, PkiError};
use vpngw_protocol::ApiError;

use crate::secrets::Secrets;

fn ca_key_aad(server_id: &str) -> String {
    format!("sslvpnserver:{server_id}:cakey")
}

fn server_key_aad(server_id: &str) -> String {
    format!("sslvpnserver:{server_id}:serverkey")
}

fn client_key_aad(cert_id: &str) -> String {
    format!("sslvpnclientcert:{cert_id}:key")
}

fn failed(e: PkiError) -> ApiError {
    // Only a stored key that does not parse or a clock out of range gets
    // here: the operator's problem. The error names no key material.
    tracing::error!(error = %e, "SSL-VPN certificate authority failed");
    ApiError::internal()
}

/// A new CA, the gateway's certificate and an empty CRL for `server_id`.
pub fn new_server(secrets: &Secrets, server_id: &str, now_ms: i64) -> Result<ServerPki, ApiError> {
    let ca = vpngw_pki::new_ca(server_id, now_ms).map_err(failed)?;
    let server = vpngw_pki::issue_server(server_id, ca.key.expose(), now_ms).map_err(failed)?;
    let crl_number = 1;
    let crl_pem =
        vpngw_pki::crl(server_id, ca.key.expose(), &[], crl_number, now_ms).map_err(failed)?;
    Ok(ServerPki {
        ca_cert_pem: ca.cert_pem,
        ca_key: secrets.seal(ca.key.expose(), &ca_key_aad(server_id)),
        server_cert_pem: server.cert_pem,
        server_key: secrets.seal(server.key.expose(), &server_key_aad(server_id)),
        next_serial: FIRST_CLIENT_SERIAL,
        revoked: Vec::new(),
        crl_number,
        crl_pem,
    })
}

fn ca_key(secrets: &Secrets, server: &SslVpnServer) -> Result<Secret, ApiError> {
    secrets.open_secret(&server.pki.ca_key, &ca_key_aad(&server.id))
}

/// A client certificate `cert_id` of `server`, valid until `end_ms`: its
/// serial is the server's next one (the caller stores the server with
/// `next_serial` advanced), its certificate and its sealed key.
pub fn issue_client(
    secrets: &Secrets,
    server: &mut SslVpnServer,
    cert_id: &str,
    now_ms: i64,
    end_ms: i64,
) -> Result<(u64, String, String), ApiError> {
    let serial = server.pki.next_serial;
    let ca = ca_key(secrets, server)?;
    let issued = vpngw_pki::issue_client(&server.id, ca.expose(), cert_id, serial, now_ms, end_ms)
        .map_err(failed)?;
    server.pki.next_serial = serial + 1;
    let sealed = secrets.seal(issued.key.expose(), &client_key_aad(cert_id));
    Ok((serial, issued.cert_pem, sealed))
}

/// Revokes `cert` on `server`: its serial joins the CRL, which is signed
/// again. The caller stores the server.
pub fn revoke(
    secrets: &Secrets,
    server: &mut SslVpnServer,
    cert: &SslVpnClientCert,
    now_ms: i64,
) -> Result<(), ApiError> {
    let number = server.pki.revoke(cert, now_ms);
    let revoked: Vec<(u64, i64)> = server
        .pki
        .revoked
        .iter()
        .map(|r| (r.serial, r.revoked_ms))
        .collect();
    let ca = ca_key(secrets, server)?;
    server.pki.crl_pem =
        vpngw_pki::crl(&server.id, ca.expose(), &revoked, number, now_ms).map_err(failed)?;
    Ok(())
}

/// The client's private key, for DescribeSslVpnClientCert.
pub fn client_key(secrets: &Secrets, cert: &SslVpnClientCert) -> Result<String, ApiError> {
    secrets.open(&cert.key, &client_key_aad(&cert.id))
}

/// The gateway's private key, for the agent that runs its OpenVPN.
pub fn server_key(secrets: &Secrets, server: &SslVpnServer) -> Result<String, ApiError> {
    secrets.open(&server.pki.server_key, &server_key_aad(&server.id))
}
