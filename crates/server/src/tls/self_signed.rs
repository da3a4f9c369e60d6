//! `--tls self-signed`: a local certificate authority kept in the data
//! directory, and a server certificate it signs for this machine's
//! loopback names, so that clients can verify the server once they trust
//! the CA (docs/sdk.md shows how, per SDK).
//!
//! The CA (`tls/ca.pem`, key `tls/ca.key`) is made once and reused at every
//! start, so that a client configured to trust it keeps working across
//! restarts. The server certificate (`tls/server.pem`, `tls/server.key`) is
//! issued anew at each start: there is nothing to renew. Private keys are
//! written 0600 in a 0700 directory.

use std::{
    io::Write,
    net::IpAddr,
    path::{Path, PathBuf},
};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

/// How long the CA is valid.
const CA_DAYS: i64 = 3650;
/// How long a server certificate is valid (within what clients accept
/// from a CA they were told to trust: 397 days).
const SERVER_DAYS: i64 = 397;

/// Where the generated files are.
pub struct Generated {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The CA was made by this start (not found in the data directory).
    pub ca_created: bool,
}

/// The names every generated server certificate carries, plus `extra`
/// (the address `--listen` names, when it is a specific one).
pub fn server_names(extra: &[IpAddr]) -> anyhow::Result<Vec<SanType>> {
    let mut names = vec![
        SanType::DnsName("localhost".try_into()?),
        SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
        SanType::IpAddress(IpAddr::from(std::net::Ipv6Addr::LOCALHOST)),
    ];
    for ip in extra {
        let san = SanType::IpAddress(*ip);
        if !names.contains(&san) {
            names.push(san);
        }
    }
    Ok(names)
}

/// Makes (or reuses) the CA under `data_dir/tls` and issues a server
/// certificate for `names`.
pub fn ensure(data_dir: &Path, names: Vec<SanType>) -> anyhow::Result<Generated> {
    let dir = data_dir.join("tls");
    create_private_dir(&dir)?;
    let ca = dir.join("ca.pem");
    let ca_key = dir.join("ca.key");
    let ca_created = !(ca.exists() && ca_key.exists());
    let (ca_pem, ca_key_pair) = if ca_created {
        let key = KeyPair::generate().context("generating the CA key")?;
        let cert = ca_params()
            .self_signed(&key)
            .context("signing the CA certificate")?;
        write_file(&ca_key, key.serialize_pem().as_bytes(), 0o600)?;
        write_file(&ca, cert.pem().as_bytes(), 0o644)?;
        (cert.pem(), key)
    } else {
        let pem =
            std::fs::read_to_string(&ca).with_context(|| format!("reading {}", ca.display()))?;
        let key_pem = std::fs::read_to_string(&ca_key)
            .with_context(|| format!("reading {}", ca_key.display()))?;
        let key = KeyPair::from_pem(&key_pem)
            .with_context(|| format!("{} is not a usable private key", ca_key.display()))?;
        (pem, key)
    };
    let issuer = Issuer::from_ca_cert_pem(&ca_pem, ca_key_pair)
        .with_context(|| format!("{} is not a usable CA certificate", ca.display()))?;

    let server_key = KeyPair::generate().context("generating the server key")?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "vpngw (localhost)");
    params.subject_alt_names = names;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let (not_before, not_after) = validity(SERVER_DAYS);
    params.not_before = not_before;
    params.not_after = not_after;
    let server = params
        .signed_by(&server_key, &issuer)
        .context("signing the server certificate")?;
    let cert = dir.join("server.pem");
    let key = dir.join("server.key");
    write_file(&key, server_key.serialize_pem().as_bytes(), 0o600)?;
    // The chain the server presents: its certificate, then the CA's.
    write_file(
        &cert,
        format!("{}{}", server.pem(), ca_pem).as_bytes(),
        0o644,
    )?;
    Ok(Generated {
        ca,
        cert,
        key,
        ca_created,
    })
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    params.distinguished_name.push(
        DnType::CommonName,
        if host.is_empty() {
            "vpngw local CA".to_owned()
        } else {
            format!("vpngw local CA ({host})")
        },
    );
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let (not_before, not_after) = validity(CA_DAYS);
    params.not_before = not_before;
    params.not_after = not_after;
    params
}

/// From an hour ago (clocks of clients differ a little) for `days`.
fn validity(days: i64) -> (time::OffsetDateTime, time::OffsetDateTime) {
    let now = time::OffsetDateTime::now_utc();
    (
        now - time::Duration::hours(1),
        now + time::Duration::days(days),
    )
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

/// Writes `path` whole or not at all (a temporary file renamed over it),
/// with `mode` from its creation on.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
