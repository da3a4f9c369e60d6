//! Storage: a domain-level [`Store`] trait and its embedded SQLite
//! implementation.
//!
//! The trait speaks in resources, scopes and guards, not SQL: a resource is
//! stored as a [`Record`] (its JSON document plus the few columns the store
//! must understand to enforce invariants and answer list queries). The
//! invariants that must hold under concurrency live here, inside one
//! transaction each, so that a second replica (PostgreSQL, later) cannot
//! break them either:
//! - references: a record's `links` must exist in the same account and
//!   region, and a record that others link to cannot be deleted;
//! - optimistic concurrency: every update names the version it read;
//! - quotas and `ClientToken` idempotency are checked with the insert.

pub mod conformance;
mod error;
mod record;
pub mod sqlite;
mod typed;

pub use error::StoreError;
pub use record::{
    AccessKeyRecord, AccountRecord, Idempotency, InsertGuard, Inserted, Kind, ListQuery, Page,
    Quota, Record, Scope,
};
pub use typed::{Resource, StoreExt, Versioned, from_record, to_record};

use async_trait::async_trait;

/// Everything vpngw persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // ---- resources -------------------------------------------------------

    /// Inserts a new record, checking links, quota and idempotency atomically.
    async fn insert(&self, record: Record, guard: InsertGuard) -> Result<Inserted, StoreError>;

    /// The record with this id, if it exists in this scope.
    async fn get(&self, kind: Kind, scope: &Scope, id: &str) -> Result<Option<Record>, StoreError>;

    /// Replaces a record whose stored version equals `record.version`;
    /// returns the record with its new version.
    async fn update(&self, record: Record) -> Result<Record, StoreError>;

    /// Deletes a record no other record links to.
    async fn delete(&self, kind: Kind, scope: &Scope, id: &str) -> Result<(), StoreError>;

    /// One page of records, oldest first, with the total count.
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError>;

    // ---- identity --------------------------------------------------------

    async fn create_account(
        &self,
        account: AccountRecord,
        key: AccessKeyRecord,
    ) -> Result<(), StoreError>;

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;

    async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Records a signature nonce; `false` if this key already used it within
    /// the replay window (the caller answers `SignatureNonceUsed`).
    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;
}

/// How long a nonce is remembered: the timestamp window is ±15 minutes, so a
/// nonce older than 30 minutes can no longer come with a valid timestamp.
pub const NONCE_WINDOW_MS: i64 = 30 * 60 * 1000;
