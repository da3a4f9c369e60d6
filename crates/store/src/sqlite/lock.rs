//! One serving process per SQLite data directory.
//!
//! The SQLite store keeps state that only works in one process: signature
//! nonces live in memory and in a journal only this process writes (a
//! second process would accept a replayed request), and the read caches (`cache.rs`) are only coherent if this
//! process makes every change to the rows they hold. `vpngw serve`
//! therefore holds an exclusive lock on
//! `<data dir>/vpngw.lock` for as long as it runs. The lock is the
//! operating system's (`flock`), so it goes away with the process however
//! it ends (SIGKILL included): there is never a stale lock to clean up.
//!
//! Short-lived commands that only add rows (`vpngw account create`) or only
//! read (`vpngw audit`) do not take it and may run beside the server.

use std::{
    fs::{File, OpenOptions, TryLockError},
    io::{Read, Seek, Write},
    path::{Path, PathBuf},
};

/// The lock file inside the data directory.
pub const LOCK_FILE: &str = "vpngw.lock";

/// Held while this process serves the data directory; dropping it releases
/// the lock.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
    path: PathBuf,
}

impl DataDirLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the data directory {dir} is in use by another vpngw process ({holder} holds {lock}); \
         one SQLite data directory serves one process: stop the other one, or give this one \
         another --data-dir (several replicas need PostgreSQL, --database-url)"
    )]
    Held {
        dir: String,
        lock: String,
        /// `pid N` when the holder wrote its pid, else `it`.
        holder: String,
    },
    #[error("cannot lock {lock}: {error}")]
    Io { lock: String, error: std::io::Error },
}

/// Creates the data directory (and its parents) readable by its owner
/// only (0700), or takes the group's and others' access away from an
/// existing one: it holds the database (sealed secrets, the audit log) and
/// usually the master key (#13).
pub fn prepare_data_dir(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)?;
        let mode = std::fs::metadata(data_dir)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(data_dir, std::fs::Permissions::from_mode(0o700))?;
            tracing::warn!(
                dir = %data_dir.display(),
                was = format!("{:o}", mode & 0o777),
                "the data directory was open to other users; it is now 0700"
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(data_dir)
}

/// Takes the exclusive lock on `data_dir` (created if needed) without
/// waiting: [`LockError::Held`] when another process has it.
pub fn lock_data_dir(data_dir: &Path) -> Result<DataDirLock, LockError> {
    let path = data_dir.join(LOCK_FILE);
    let io = |error: std::io::Error| LockError::Io {
        lock: path.display().to_string(),
        error,
    };
    prepare_data_dir(data_dir).map_err(io)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let holder = match text.trim().parse::<u32>() {
                Ok(pid) => format!("pid {pid}"),
                Err(_) => "it".to_owned(),
            };
            return Err(LockError::Held {
                dir: data_dir.display().to_string(),
                lock: path.display().to_string(),
                holder,
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    // For the message a second process prints; the lock is what counts.
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    write!(file, "{}", std::process::id()).map_err(io)?;
    Ok(DataDirLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_until_the_first_goes() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock_data_dir(dir.path()).unwrap();
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        // flock locks belong to the open file: a second open in the same
        // process is refused like another process would be.
        let err = lock_data_dir(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, LockError::Held { .. }), "{text}");
        assert!(text.contains("in use by another vpngw process"), "{text}");
        assert!(
            text.contains(&format!("(pid {} holds", std::process::id())),
            "{text}"
        );
        drop(first);
        let again = lock_data_dir(dir.path()).unwrap();
        drop(again);
    }
}
