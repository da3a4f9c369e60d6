//! The backend's internal error: a domain outcome to hand back as it is, or
//! a database failure (which may call for running the transaction again).

use std::fmt;

use tokio_postgres::error::SqlState;
use vpngw_store::StoreError;

#[derive(Debug)]
pub enum Error {
    /// A refusal the trait defines (not found, conflict, quota, …).
    Store(StoreError),
    Db(tokio_postgres::Error),
    Pool(String),
}

impl Error {
    pub fn code(&self) -> Option<&SqlState> {
        match self {
            Error::Db(e) => e.code(),
            _ => None,
        }
    }

    /// A serialization failure or a deadlock: the transaction was rolled
    /// back and may simply run again.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.code(),
            Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        )
    }

    pub fn is_unique_violation(&self) -> bool {
        self.code() == Some(&SqlState::UNIQUE_VIOLATION)
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        self.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Store(e) => write!(f, "{e}"),
            Error::Db(e) => match e.as_db_error() {
                Some(db) => write!(
                    f,
                    "postgres {}: {} ({})",
                    db.severity(),
                    db.message(),
                    db.code().code()
                ),
                None => {
                    write!(f, "postgres: {e}")?;
                    let mut source = std::error::Error::source(e);
                    while let Some(s) = source {
                        write!(f, ": {s}")?;
                        source = s.source();
                    }
                    Ok(())
                }
            },
            Error::Pool(e) => write!(f, "postgres connection pool: {e}"),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Db(e)
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Error::Db(e),
            other => Error::Pool(other.to_string()),
        }
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::Store(e) => e,
            other => StoreError::Internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Store(StoreError::Internal(format!("document encoding: {e}")))
    }
}
