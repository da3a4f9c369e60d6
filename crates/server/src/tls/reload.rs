//! Reloading the certificate without a restart: on SIGHUP, and when either
//! file changes.
//!
//! Handshakes read the current certificate from [`CurrentCert`]; a reload
//! swaps it, so connections already open keep theirs and the next
//! handshake gets the new one — nothing is dropped. A pair that fails its
//! checks (say, the key written before the certificate) is logged and
//! the certificate in use stays; the next change is tried again.
//!
//! Changes are found by looking at both files' metadata (size, mtime,
//! inode, following symlinks) once a second rather than with inotify: the
//! usual ways certificates are renewed replace a symlink (certbot's `live/`,
//! Kubernetes' secret volumes' `..data`) or rename a new file over the old,
//! which a watch on the file itself misses and a watch on the directories
//! has to re-arm for; two `stat`s a second see all of them.

use std::{
    path::PathBuf,
    sync::{Arc, RwLock},
    time::Duration,
};

use rustls::{
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};

/// The certificate the next handshake uses.
#[derive(Debug)]
pub struct CurrentCert(RwLock<Arc<CertifiedKey>>);

impl CurrentCert {
    pub fn new(key: Arc<CertifiedKey>) -> CurrentCert {
        CurrentCert(RwLock::new(key))
    }

    fn get(&self) -> Arc<CertifiedKey> {
        match self.0.read() {
            Ok(key) => key.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn set(&self, key: Arc<CertifiedKey>) {
        match self.0.write() {
            Ok(mut current) => *current = key,
            Err(poisoned) => *poisoned.into_inner() = key,
        }
    }
}

impl ResolvesServerCert for CurrentCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// How often the files are looked at.
const POLL: Duration = Duration::from_secs(1);

/// What identifies a version of a file without reading it.
#[derive(Debug, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    inode: (u64, u64),
}

fn stamp(path: &std::path::Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        len: meta.len(),
        modified: meta.modified().ok(),
        #[cfg(unix)]
        inode: {
            use std::os::unix::fs::MetadataExt;
            (meta.dev(), meta.ino())
        },
    })
}

/// Keeps `current` in step with the files `cert` and `key` until the
/// process ends.
pub fn spawn(current: Arc<CurrentCert>, cert: PathBuf, key: PathBuf) {
    // Installed before this returns: from now on SIGHUP reloads instead
    // of ending the process.
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    tokio::spawn(async move {
        let stamps = || (stamp(&cert), stamp(&key));
        let mut seen = stamps();
        loop {
            #[cfg(unix)]
            let signalled = async {
                match hangup.as_mut() {
                    Some(s) => s.recv().await.is_some(),
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let signalled = std::future::pending::<bool>();
            let why = tokio::select! {
                true = signalled => "SIGHUP",
                () = tokio::time::sleep(POLL) => {
                    let now = stamps();
                    if now == seen {
                        continue;
                    }
                    seen = now;
                    "the files changed"
                }
            };
            reload(&current, &cert, &key, why);
        }
    });
}

fn reload(current: &CurrentCert, cert: &std::path::Path, key: &std::path::Path, why: &str) {
    match super::load_files(cert, key) {
        Ok(loaded) => {
            current.set(loaded.key);
            tracing::info!(certificate = %loaded.summary, reason = why, "reloaded the TLS certificate");
        }
        Err(e) => tracing::error!(
            error = %e,
            reason = why,
            "the TLS certificate was not reloaded; still serving the previous one"
        ),
    }
}
