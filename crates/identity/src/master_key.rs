//! [`MasterKey`]: the 256-bit key that encrypts secrets at rest.
//!
//! Where it comes from, in order ([`MasterKey::resolve`]):
//! 1. The environment variable `VPNGW_MASTER_KEY`, if set and non-empty. Its value is the 32
//!    key bytes written either as 64 hexadecimal digits, or as base64 (standard or URL-safe
//!    alphabet, padding optional — 43 or 44 characters). Hex is recognised first (exactly 64
//!    hex digits); anything else must be base64 of exactly 32 bytes. Surrounding whitespace is
//!    ignored. Generate one with `openssl rand -base64 32` or `openssl rand -hex 32`.
//! 2. Otherwise a key file whose path the caller chooses — outside the database, e.g.
//!    `<data-dir>/master.key`. If absent it is created with a fresh random key, mode 0600,
//!    atomically (written to a temporary file, fsynced, then hard-linked into place, so a
//!    concurrent `vpngw account create` and a running server agree on one key). The file
//!    holds the key as base64 text plus a newline; hex is accepted when reading. A key file
//!    readable or writable by group or others is refused, as ssh does for private keys.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use zeroize::Zeroizing;

use crate::random::fill;
use crate::secret::Secret;

/// Environment variable holding the master key.
pub const MASTER_KEY_ENV: &str = "VPNGW_MASTER_KEY";
/// Key length in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// Why a master key could not be obtained.
#[derive(Debug)]
pub enum KeyError {
    /// The text is neither 64 hex digits nor base64 of 32 bytes. `origin` says where it came
    /// from (`VPNGW_MASTER_KEY` or the file path); the value itself is never included.
    Malformed {
        origin: String,
    },
    /// The key file is group- or world-accessible.
    InsecurePermissions {
        path: PathBuf,
        mode: u32,
    },
    /// The key file path exists but is not a regular file.
    NotAFile {
        path: PathBuf,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::Malformed { origin } => write!(
                f,
                "master key from {origin} is malformed: expected 32 bytes as 64 hex digits or base64"
            ),
            KeyError::InsecurePermissions { path, mode } => write!(
                f,
                "master key file {} has insecure permissions {:o}; run: chmod 600 {}",
                path.display(),
                mode & 0o777,
                path.display()
            ),
            KeyError::NotAFile { path } => {
                write!(
                    f,
                    "master key path {} is not a regular file",
                    path.display()
                )
            }
            KeyError::Io { path, source } => {
                write!(f, "master key file {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            KeyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where [`MasterKey::resolve`] found the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File { path: PathBuf, created: bool },
}

/// A 256-bit master key. Zeroed on drop; `Debug` is redacted.
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; MASTER_KEY_LEN]>,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([REDACTED])")
    }
}

impl MasterKey {
    /// A fresh random key from the OS CSPRNG.
    pub fn generate() -> MasterKey {
        let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        fill(bytes.as_mut());
        MasterKey { bytes }
    }

    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> MasterKey {
        MasterKey {
            bytes: Zeroizing::new(bytes),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8; MASTER_KEY_LEN] {
        &self.bytes
    }

    /// Decode 64 hex digits or base64 (standard / URL-safe, padded or not) of 32 bytes.
    pub fn from_encoded(text: &str) -> Option<MasterKey> {
        let t = text.trim();
        if t.len() == 2 * MASTER_KEY_LEN && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
            for (i, pair) in t.as_bytes().chunks_exact(2).enumerate() {
                bytes[i] = (hex_val(pair[0])? << 4) | hex_val(pair[1])?;
            }
            return Some(MasterKey { bytes });
        }
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            if let Ok(decoded) = engine.decode(t) {
                let decoded = Zeroizing::new(decoded);
                if decoded.len() == MASTER_KEY_LEN {
                    let mut bytes = Zeroizing::new([0u8; MASTER_KEY_LEN]);
                    bytes.copy_from_slice(&decoded);
                    return Some(MasterKey { bytes });
                }
            }
        }
        None
    }

    /// The key as padded standard base64 (the key-file format), wrapped as a [`Secret`].
    pub fn to_base64(&self) -> Secret {
        Secret::new(STANDARD.encode(self.bytes.as_ref()))
    }

    /// Read `VPNGW_MASTER_KEY`. `Ok(None)` when unset or empty.
    pub fn from_env() -> Result<Option<MasterKey>, KeyError> {
        match std::env::var(MASTER_KEY_ENV) {
            Ok(v) => {
                let v = Zeroizing::new(v);
                Self::from_env_value(Some(v.as_str()))
            }
            Err(_) => Ok(None),
        }
    }

    /// Like [`MasterKey::from_env`] but with the value passed in (for tests and callers that
    /// read their environment once).
    pub fn from_env_value(value: Option<&str>) -> Result<Option<MasterKey>, KeyError> {
        match value {
            None => Ok(None),
            Some(v) if v.trim().is_empty() => Ok(None),
            Some(v) => MasterKey::from_encoded(v)
                .map(Some)
                .ok_or_else(|| KeyError::Malformed {
                    origin: MASTER_KEY_ENV.to_string(),
                }),
        }
    }

    /// The environment variable if set, else the key file at `key_file` (created if absent).
    pub fn resolve(key_file: &Path) -> Result<(MasterKey, KeySource), KeyError> {
        let env = std::env::var(MASTER_KEY_ENV).ok().map(Zeroizing::new);
        Self::resolve_with(env.as_deref().map(String::as_str), key_file)
    }

    /// [`MasterKey::resolve`] with the environment value passed in.
    pub fn resolve_with(
        env_value: Option<&str>,
        key_file: &Path,
    ) -> Result<(MasterKey, KeySource), KeyError> {
        if let Some(k) = Self::from_env_value(env_value)? {
            return Ok((k, KeySource::Env));
        }
        let (k, created) = Self::load_or_create(key_file)?;
        Ok((
            k,
            KeySource::File {
                path: key_file.to_path_buf(),
                created,
            },
        ))
    }

    /// Load the key file, refusing insecure permissions.
    pub fn load(path: &Path) -> Result<MasterKey, KeyError> {
        let io_err = |source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs::metadata(path).map_err(io_err)?;
        if !meta.is_file() {
            return Err(KeyError::NotAFile {
                path: path.to_path_buf(),
            });
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(KeyError::InsecurePermissions {
                    path: path.to_path_buf(),
                    mode,
                });
            }
        }
        let text = Zeroizing::new(fs::read_to_string(path).map_err(io_err)?);
        MasterKey::from_encoded(&text).ok_or_else(|| KeyError::Malformed {
            origin: path.display().to_string(),
        })
    }

    /// Load the key file, or create it with a new random key (mode 0600) if it does not exist.
    /// Returns the key and whether it was created by this call.
    pub fn load_or_create(path: &Path) -> Result<(MasterKey, bool), KeyError> {
        match fs::symlink_metadata(path) {
            Ok(_) => return Ok((Self::load(path)?, false)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(KeyError::Io {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        }
        let key = MasterKey::generate();
        match write_new_key_file(path, &key) {
            Ok(()) => Ok((key, true)),
            // Someone else created it first: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok((Self::load(path)?, false)),
            Err(e) => Err(KeyError::Io {
                path: path.to_path_buf(),
                source: e,
            }),
        }
    }
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Write `key` to a private temporary file next to `path`, then hard-link it into place;
/// fails with `AlreadyExists` if `path` appeared meanwhile.
fn write_new_key_file(path: &Path, key: &MasterKey) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "master.key".to_string());
    let mut nonce = [0u8; 8];
    fill(&mut nonce);
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp)?;
        let text = key.to_base64();
        f.write_all(text.expose().as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        drop(f);
        fs::hard_link(&tmp, path)?;
        if let Ok(d) = fs::File::open(&dir) {
            // Persist the new directory entry; best effort (not all filesystems allow it).
            let _ = d.sync_all();
        }
        Ok(())
    })();
    let _ = fs::remove_file(&tmp);
    result
}

fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}
