//! The certificate authority of one SSL-VPN server, in code (rcgen): no
//! easy-rsa, no `openssl` commands, no files. Pure: every function takes the
//! time it should consider "now" and returns PEM text; the caller seals the
//! private keys before it stores them.
//!
//! - [`new_ca`]: a self-signed CA per server (`CN=<server id> CA`), allowed
//!   to sign certificates and CRLs.
//! - [`issue_server`]: the gateway's certificate (`CN=<server id>`,
//!   TLS server authentication), which OpenVPN presents and clients check
//!   with `remote-cert-tls server`.
//! - [`issue_client`]: a client certificate (`CN=<certificate id>`, TLS
//!   client authentication) with its serial number and end time.
//! - [`crl`]: the list of revoked serial numbers, signed by the CA, for
//!   OpenVPN's `crl-verify`.
//!
//! Keys are ECDSA P-256: OpenVPN 2.4+ and every maintained client accept
//! them, and generating one takes microseconds (RSA-2048 takes tens of
//! milliseconds, which would show in CreateSslVpnClientCert's latency).
//!
//! The CA is rebuilt for signing from its key and the server id alone: its
//! subject and key usages follow from the id ([`ca_params`]), so nothing
//! needs to parse the stored certificate.

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, RevokedCertParams, SerialNumber,
};
use time::OffsetDateTime;
use zeroize::Zeroizing;

/// How long the CA and the gateway's certificate are valid.
pub const CA_VALIDITY_DAYS: i64 = 20 * 365;
/// How far in the future a CRL says the next one will come. OpenVPN
/// refuses every client once a CRL's `nextUpdate` has passed, and the
/// control plane only issues a new CRL when a certificate is revoked, so
/// this is the CA's lifetime too.
pub const CRL_VALIDITY_DAYS: i64 = CA_VALIDITY_DAYS;
/// Certificates start to be valid this long before they are made, so that
/// a peer whose clock is a little behind accepts them.
const BACKDATE_S: i64 = 3600;
/// The serial number of the gateway's own certificate; client certificates
/// count from [`FIRST_CLIENT_SERIAL`].
pub const SERVER_SERIAL: u64 = 1;
pub const FIRST_CLIENT_SERIAL: u64 = 2;

/// What went wrong (only key generation or signing can fail, and only on
/// input the control plane never stores: a key that does not parse, a time
/// out of range).
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate authority: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("time out of range: {0} ms")]
    Time(i64),
}

/// A private key in PEM. `Debug` does not show it; it is wiped when dropped.
pub struct KeyPem(Zeroizing<String>);

impl KeyPem {
    /// The PEM text: to seal it, or to hand it to OpenVPN.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for KeyPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPem([REDACTED])")
    }
}

/// A certificate and its private key.
#[derive(Debug)]
pub struct Issued {
    pub cert_pem: String,
    pub key: KeyPem,
}

fn at(ms: i64) -> Result<OffsetDateTime, PkiError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| PkiError::Time(ms))
}

fn serial(n: u64) -> SerialNumber {
    // Big-endian without leading zero bytes; rcgen writes it as a positive
    // INTEGER.
    let bytes = n.to_be_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    SerialNumber::from_slice(&bytes[first..])
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "vpngw");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// The CA's parameters for `server_id`: everything but the validity, which
/// only the self-signed certificate needs.
pub fn ca_params(server_id: &str) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(&format!("{server_id} CA"));
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.key_identifier_method = KeyIdMethod::Sha256;
    p
}

fn issuer(server_id: &str, ca_key_pem: &str) -> Result<Issuer<'static, KeyPair>, PkiError> {
    let key = KeyPair::from_pem(ca_key_pem)?;
    Ok(Issuer::new(ca_params(server_id), key))
}

fn new_key() -> Result<(KeyPair, KeyPem), PkiError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let pem = KeyPem(Zeroizing::new(key.serialize_pem()));
    Ok((key, pem))
}

/// A new self-signed CA for `server_id`, valid from `now_ms`.
pub fn new_ca(server_id: &str, now_ms: i64) -> Result<Issued, PkiError> {
    let (key, pem) = new_key()?;
    let mut p = ca_params(server_id);
    p.not_before = at(now_ms - BACKDATE_S * 1000)?;
    p.not_after = at(now_ms)? + time::Duration::days(CA_VALIDITY_DAYS);
    let cert = p.self_signed(&key)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key: pem,
    })
}

fn leaf(
    common_name: &str,
    serial_number: u64,
    not_before_ms: i64,
    not_after_ms: i64,
    usage: ExtendedKeyUsagePurpose,
) -> Result<CertificateParams, PkiError> {
    let mut p = CertificateParams::default();
    p.distinguished_name = name(common_name);
    p.serial_number = Some(serial(serial_number));
    p.not_before = at(not_before_ms - BACKDATE_S * 1000)?;
    p.not_after = at(not_after_ms)?;
    // `remote-cert-tls` wants a key usage and the matching extended one.
    p.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyAgreement,
    ];
    p.extended_key_usages = vec![usage];
    p.use_authority_key_identifier_extension = true;
    Ok(p)
}

/// The gateway's certificate for `server_id`, signed by its CA.
pub fn issue_server(server_id: &str, ca_key_pem: &str, now_ms: i64) -> Result<Issued, PkiError> {
    let end = now_ms + CA_VALIDITY_DAYS * 24 * 3600 * 1000;
    let p = leaf(
        server_id,
        SERVER_SERIAL,
        now_ms,
        end,
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    sign(server_id, ca_key_pem, &p)
}

/// A client certificate `CN=<common_name>` with `serial_number`, valid
/// from `now_ms` to `end_ms`, signed by the CA of `server_id`.
pub fn issue_client(
    server_id: &str,
    ca_key_pem: &str,
    common_name: &str,
    serial_number: u64,
    now_ms: i64,
    end_ms: i64,
) -> Result<Issued, PkiError> {
    let p = leaf(
        common_name,
        serial_number,
        now_ms,
        end_ms,
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    sign(server_id, ca_key_pem, &p)
}

/// A new key, certified with `params` by the CA of `server_id`.
fn sign(server_id: &str, ca_key_pem: &str, params: &CertificateParams) -> Result<Issued, PkiError> {
    let ca = issuer(server_id, ca_key_pem)?;
    let (key, pem) = new_key()?;
    let cert = params.signed_by(&key, &ca)?;
    Ok(Issued {
        cert_pem: cert.pem(),
        key: pem,
    })
}

/// The CRL number `number` of the CA of `server_id`, revoking each
/// `(serial, revoked_ms)`, issued at `now_ms`.
pub fn crl(
    server_id: &str,
    ca_key_pem: &str,
    revoked: &[(u64, i64)],
    number: u64,
    now_ms: i64,
) -> Result<String, PkiError> {
    let ca = issuer(server_id, ca_key_pem)?;
    let this_update = at(now_ms - BACKDATE_S * 1000)?;
    let revoked_certs = revoked
        .iter()
        .map(|&(s, ms)| {
            Ok(RevokedCertParams {
                serial_number: serial(s),
                revocation_time: at(ms)?,
                reason_code: None,
                invalidity_date: None,
            })
        })
        .collect::<Result<Vec<_>, PkiError>>()?;
    let params = CertificateRevocationListParams {
        this_update,
        next_update: at(now_ms)? + time::Duration::days(CRL_VALIDITY_DAYS),
        crl_number: serial(number),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    Ok(params.signed_by(&ca)?.pem()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::prelude::*;

    const NOW: i64 = 1_765_000_000_000;

    fn der(pem_text: &str) -> Vec<u8> {
        x509_parser::pem::parse_x509_pem(pem_text.as_bytes())
            .expect("pem")
            .1
            .contents
    }

    #[test]
    fn a_server_pki_chains_and_revokes() {
        let ca = new_ca("vss-1", NOW).unwrap();
        let server = issue_server("vss-1", ca.key.expose(), NOW).unwrap();
        let end = NOW + 1000 * 3600 * 24 * 365;
        let client = issue_client("vss-1", ca.key.expose(), "vsc-7", 7, NOW, end).unwrap();

        let ca_der = der(&ca.cert_pem);
        let (_, ca_cert) = X509Certificate::from_der(&ca_der).unwrap();
        assert!(ca_cert.is_ca());
        assert_eq!(ca_cert.subject().to_string(), "O=vpngw, CN=vss-1 CA");

        for (pem_text, cn, serial_number, server_auth) in [
            (&server.cert_pem, "vss-1", SERVER_SERIAL, true),
            (&client.cert_pem, "vsc-7", 7, false),
        ] {
            let d = der(pem_text);
            let (_, c) = X509Certificate::from_der(&d).unwrap();
            assert_eq!(c.issuer(), ca_cert.subject());
            assert_eq!(c.subject().to_string(), format!("O=vpngw, CN={cn}"));
            assert_eq!(c.serial.to_u64_digits(), vec![serial_number]);
            c.verify_signature(Some(ca_cert.public_key())).unwrap();
            let eku = c.extended_key_usage().unwrap().unwrap().value;
            assert_eq!(
                (eku.server_auth, eku.client_auth),
                (server_auth, !server_auth)
            );
        }
        let d = der(&client.cert_pem);
        let (_, c) = X509Certificate::from_der(&d).unwrap();
        assert_eq!(c.validity().not_after.timestamp(), end / 1000);
        // Another CA's key does not make a certificate this CA verifies.
        let other = new_ca("vss-1", NOW).unwrap();
        let forged = issue_client("vss-1", other.key.expose(), "vsc-7", 7, NOW, end).unwrap();
        let fd = der(&forged.cert_pem);
        let (_, f) = X509Certificate::from_der(&fd).unwrap();
        assert!(f.verify_signature(Some(ca_cert.public_key())).is_err());

        let list = crl("vss-1", ca.key.expose(), &[(7, NOW), (9, NOW + 5)], 3, NOW).unwrap();
        let cd = x509_parser::pem::parse_x509_pem(list.as_bytes())
            .unwrap()
            .1
            .contents;
        let (_, parsed) = CertificateRevocationList::from_der(&cd).unwrap();
        assert_eq!(parsed.issuer(), ca_cert.subject());
        let serials: Vec<Vec<u64>> = parsed
            .iter_revoked_certificates()
            .map(|r| r.serial().to_u64_digits())
            .collect();
        assert_eq!(serials, vec![vec![7], vec![9]]);
        assert_eq!(
            parsed.crl_number().map(|n| n.to_u64_digits()),
            Some(vec![3])
        );
        let next = parsed.next_update().unwrap().timestamp();
        assert!(next > NOW / 1000 + 3600 * 24 * 365 * 10);
        assert!(crl("vss-1", ca.key.expose(), &[], 1, NOW).is_ok());
    }

    #[test]
    fn keys_stay_out_of_debug_output() {
        let ca = new_ca("vss-2", NOW).unwrap();
        let text = format!("{ca:?}");
        assert!(text.contains("REDACTED"));
        assert!(!text.contains("PRIVATE KEY"));
        assert!(ca.key.expose().contains("PRIVATE KEY"));
        assert!(matches!(
            issue_client("vss-2", "not a key", "vsc", 2, NOW, NOW + 1),
            Err(PkiError::Rcgen(_))
        ));
    }

    #[test]
    fn serials_are_minimal_big_endian() {
        assert_eq!(serial(1).to_bytes(), vec![1]);
        assert_eq!(serial(256).to_bytes(), vec![1, 0]);
        assert_eq!(serial(0).to_bytes(), vec![0]);
    }
}
