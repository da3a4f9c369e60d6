//! Reading a certificate chain and its private key from PEM files, with
//! every check that can fail said at start-up (or at a reload) and naming
//! the file: not PEM, no certificate or key in it, a key the certificate
//! was not issued for, a certificate outside its validity period.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use rustls::{crypto::CryptoProvider, sign::CertifiedKey};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// A certificate chain and key that belong together, ready to serve.
pub struct Loaded {
    pub key: Arc<CertifiedKey>,
    /// The leaf's subject and validity, for logs.
    pub summary: String,
    /// The leaf's last valid second (Unix time).
    pub not_after: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a PEM file ({detail})", path.display())]
    NotPem { path: PathBuf, detail: String },
    #[error("{} holds no {what} (expected a PEM block `-----BEGIN {label}-----`)", path.display())]
    Missing {
        path: PathBuf,
        what: &'static str,
        label: &'static str,
    },
    #[error("{}: the first certificate does not parse: {detail}", path.display())]
    BadCertificate { path: PathBuf, detail: String },
    #[error("{}: unusable private key: {detail}", path.display())]
    BadKey { path: PathBuf, detail: String },
    #[error("the private key in {} does not belong to the certificate in {}", key.display(), cert.display())]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("the certificate in {} expired on {not_after} (UTC)", path.display())]
    Expired { path: PathBuf, not_after: String },
    #[error("the certificate in {} is not valid before {not_before} (UTC)", path.display())]
    NotYetValid { path: PathBuf, not_before: String },
}

/// Reads and checks the pair; `now` is Unix seconds.
pub fn load_pair(
    cert_path: &Path,
    key_path: &Path,
    provider: &CryptoProvider,
    now: i64,
) -> Result<Loaded, LoadError> {
    let cert_pem = read(cert_path)?;
    let key_pem = read(key_path)?;
    let chain = certificates(cert_path, &cert_pem)?;
    let key = private_key(key_path, &key_pem)?;
    let (summary, not_before, not_after) = validity(cert_path, &chain[0])?;
    if now > not_after {
        return Err(LoadError::Expired {
            path: cert_path.to_owned(),
            not_after: utc(not_after),
        });
    }
    if now < not_before {
        return Err(LoadError::NotYetValid {
            path: cert_path.to_owned(),
            not_before: utc(not_before),
        });
    }
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| LoadError::BadKey {
            path: key_path.to_owned(),
            detail: e.to_string(),
        })?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(_) => {
            return Err(LoadError::Mismatch {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
            });
        }
    }
    Ok(Loaded {
        key: Arc::new(certified),
        summary,
        not_after,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, LoadError> {
    std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })
}

fn not_pem(path: &Path, e: rustls_pki_types::pem::Error) -> LoadError {
    LoadError::NotPem {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// Every certificate in the file, leaf first.
fn certificates(path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, LoadError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| not_pem(path, e))?;
    if chain.is_empty() {
        return Err(missing_or_not_pem(path, pem, "certificate", "CERTIFICATE"));
    }
    Ok(chain)
}

/// The first private key in the file (PKCS#8, PKCS#1 or SEC1).
fn private_key(path: &Path, pem: &[u8]) -> Result<PrivateKeyDer<'static>, LoadError> {
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => Ok(key),
        Err(rustls_pki_types::pem::Error::NoItemsFound) => {
            Err(missing_or_not_pem(path, pem, "private key", "PRIVATE KEY"))
        }
        Err(e) => Err(not_pem(path, e)),
    }
}

/// A file without the block asked for: "not PEM" when it has no PEM block
/// at all (a DER file, a typo'd path to some other file).
fn missing_or_not_pem(
    path: &Path,
    pem: &[u8],
    what: &'static str,
    label: &'static str,
) -> LoadError {
    if pem.windows(11).any(|w| w == b"-----BEGIN ") {
        LoadError::Missing {
            path: path.to_owned(),
            what,
            label,
        }
    } else {
        LoadError::NotPem {
            path: path.to_owned(),
            detail: "no `-----BEGIN …-----` line".into(),
        }
    }
}

/// The leaf's subject and validity period (Unix seconds).
fn validity(path: &Path, leaf: &CertificateDer<'_>) -> Result<(String, i64, i64), LoadError> {
    let (_, cert) =
        x509_parser::parse_x509_certificate(leaf).map_err(|e| LoadError::BadCertificate {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    let validity = cert.validity();
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    let summary = format!("{} (valid until {})", cert.subject(), utc(not_after));
    Ok((summary, not_before, not_after))
}

fn utc(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}
