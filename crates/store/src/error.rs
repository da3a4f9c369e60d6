use crate::record::Kind;

/// Why a store call failed. The API layer maps each variant to the cloud's
/// error for the operation at hand; `Internal` becomes `InternalError` and its
/// detail is logged, never sent.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("version conflict")]
    VersionConflict,
    #[error("linked resource {0} does not exist")]
    MissingLink(String),
    #[error("still referenced by {kind:?} {id}")]
    Referenced { kind: Kind, id: String },
    #[error("quota of {limit} reached")]
    QuotaExceeded { limit: u32 },
    #[error("client token reused with different parameters")]
    IdempotencyMismatch,
    #[error("already exists")]
    AlreadyExists,
    #[error("another record already has these values")]
    Duplicate,
    /// A RAM entity cannot be deleted while something depends on it.
    #[error("still in use: {0:?}")]
    InUse(crate::identity::Dependent),
    /// The replay window holds as many signature nonces as it may (of
    /// this access key, or in all): the request is refused, no nonce is
    /// forgotten (sqlite/nonces.rs).
    #[error("too many signature nonces in the replay window")]
    NonceLimit { per_key: bool },
    #[error("storage failure: {0}")]
    Internal(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Internal(format!("document encoding: {e}"))
    }
}
