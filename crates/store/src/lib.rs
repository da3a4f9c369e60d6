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

pub mod audit;
pub mod conformance;
mod decoded;
mod error;
mod event_log;
pub mod identity;
pub mod ram_rules;
mod record;
pub mod revisions;
pub mod sqlite;
mod trail;
mod typed;

pub use audit::{AuditEvent, AuditQuery, CountBy};
pub use error::StoreError;
pub use event_log::{LogEntry, LogPage, LogQuery};
pub use record::{
    AccessKeyRecord, AccountRecord, Idempotency, InsertGuard, Inserted, Kind, ListQuery, Page,
    Quota, Record, Scope,
};
pub use revisions::{GatewayBond, GatewayChanges, GatewayFeed};
pub use trail::Trail;
pub use typed::{Resource, StoreExt, Versioned, from_record, to_record};

use async_trait::async_trait;
use identity::{
    AttachTarget, Attachment, EffectivePolicy, GroupRecord, MarkerPage, Membership, PolicyRecord,
    PolicyVersionRecord, PrincipalKind, RoleRecord, StsCredentialRecord, UserRecord, UserUpdate,
};

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

    /// Deletes a record together with the records of the `cascade` kinds that
    /// link to it (a connection and the routes through it), in one
    /// transaction. A link from a record of any other kind, or to one of the
    /// cascaded records from outside, refuses the whole delete
    /// (`Referenced`) and nothing is deleted. Returns the ids cascaded.
    async fn delete_cascade(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
    ) -> Result<Vec<String>, StoreError>;

    /// One page of records, oldest first, with the total count.
    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError>;

    // ---- writes with their trail (trail.rs) --------------------------------
    // The change and its log entries and audit event commit in one
    // transaction: all of them or none.

    /// [`Store::insert`]; when it creates the record (not on a `ClientToken`
    /// replay, which writes nothing), `trail` is appended too.
    async fn insert_with(
        &self,
        record: Record,
        guard: InsertGuard,
        trail: Trail,
    ) -> Result<Inserted, StoreError>;

    /// [`Store::update`], and `trail` when it succeeds.
    async fn update_with(&self, record: Record, trail: Trail) -> Result<Record, StoreError>;

    /// [`Store::delete_cascade`], and `trail` when it succeeds.
    async fn delete_cascade_with(
        &self,
        kind: Kind,
        scope: &Scope,
        id: &str,
        cascade: &[Kind],
        trail: Trail,
    ) -> Result<Vec<String>, StoreError>;

    // ---- gateway revisions and measurements (revisions.rs) -----------------
    // Every write above of a record that belongs to a VPN gateway
    // (`Kind::gateway_bond`) moves the gateway's revision in its own
    // transaction; the measurements below do not.

    /// The gateway's revision now and what changed after `since`.
    async fn gateway_changes(
        &self,
        gateway_id: &str,
        since: i64,
    ) -> Result<GatewayChanges, StoreError>;

    /// Wakes those waiting for a gateway's revision, once a write that
    /// moved it has committed (on PostgreSQL, in any replica).
    fn gateway_feed(&self) -> &GatewayFeed;

    /// What the data plane measured, in one transaction (one durable
    /// commit): each update is checked against its own version, and a
    /// conflict or a missing record fails that update only (its slot in the
    /// answer says `VersionConflict` or `NotFound`); each update's log
    /// entries are appended only when it succeeds, `logs` in any case.
    /// These writes do not move any gateway's revision.
    async fn record_measurements(
        &self,
        updates: Vec<(Record, Vec<LogEntry>)>,
        logs: Vec<LogEntry>,
    ) -> Result<Vec<Result<Record, StoreError>>, StoreError>;

    // ---- event log -------------------------------------------------------

    /// Appends entries to the event log, in order, in one transaction. The
    /// log is append-only: nothing ever edits an entry.
    async fn append_log(&self, entries: Vec<LogEntry>) -> Result<(), StoreError>;

    /// One page of a connection's log entries, oldest first, with the total.
    async fn list_logs(&self, query: &LogQuery) -> Result<LogPage, StoreError>;

    // ---- audit and telemetry ----------------------------------------------

    /// Appends one audit event, durably (answers after the commit). The
    /// audit log is append-only.
    async fn append_audit(&self, event: AuditEvent) -> Result<(), StoreError>;

    /// Audit events matching `query`, oldest first.
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// How many records of `kind` there are per value of `by`, across every
    /// account and region (for the metrics endpoint), sorted by value.
    async fn count_by(
        &self,
        kind: Kind,
        by: CountBy,
        now_ms: i64,
    ) -> Result<Vec<(String, u64)>, StoreError>;

    // ---- identity --------------------------------------------------------

    async fn create_account(
        &self,
        account: AccountRecord,
        key: AccessKeyRecord,
    ) -> Result<(), StoreError>;

    async fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError>;

    /// Deletes every root key of `key.account_id` and adds `key` (a root
    /// key), in one transaction; returns the ids deleted. `NotFound` when
    /// the account does not exist.
    async fn replace_root_keys(&self, key: AccessKeyRecord) -> Result<Vec<String>, StoreError>;

    async fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Records a signature nonce; `false` if this key already used it within
    /// the replay window (the caller answers `SignatureNonceUsed`).
    /// `NonceLimit` when the embedded store keeps as many as it may.
    async fn use_nonce(
        &self,
        access_key_id: &str,
        nonce: &str,
        now_ms: i64,
    ) -> Result<bool, StoreError>;

    // ---- RAM: users and their access keys ---------------------------------
    // Every call names the account; nothing of another account is visible.
    // Missing entities are `NotFound`, or `MissingLink("user"|"group"|"role"|
    // "policy")` when a call names two; duplicates are `AlreadyExists`;
    // limits are `QuotaExceeded`; refused deletes are `InUse`.

    async fn create_user(&self, user: UserRecord) -> Result<(), StoreError>;

    async fn get_user(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<UserRecord>, StoreError>;

    /// Users oldest first, `limit` at a time after `marker`.
    async fn list_users(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<UserRecord>, StoreError>;

    /// Renaming also renames the principal of the user's access keys.
    async fn update_user(
        &self,
        account_id: &str,
        name: &str,
        update: UserUpdate,
    ) -> Result<UserRecord, StoreError>;

    /// Refused (`InUse`) while the user has access keys, attached policies
    /// or group memberships.
    async fn delete_user(&self, account_id: &str, name: &str) -> Result<(), StoreError>;

    /// A user's access key (`key.principal` is the user name); at most
    /// `max_per_user` per user (0: unlimited).
    async fn create_user_access_key(
        &self,
        key: AccessKeyRecord,
        max_per_user: u32,
    ) -> Result<(), StoreError>;

    async fn list_access_keys(
        &self,
        account_id: &str,
        principal: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError>;

    async fn set_access_key_status(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
        status: &str,
    ) -> Result<(), StoreError>;

    async fn delete_access_key(
        &self,
        account_id: &str,
        principal: &str,
        key_id: &str,
    ) -> Result<(), StoreError>;

    // ---- RAM: groups -----------------------------------------------------

    async fn create_group(&self, group: GroupRecord) -> Result<(), StoreError>;

    async fn get_group(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<GroupRecord>, StoreError>;

    /// Refused while the group has members or attached policies.
    async fn delete_group(&self, account_id: &str, name: &str) -> Result<(), StoreError>;

    /// At most `max_groups_per_user` groups per user (0: unlimited).
    async fn add_user_to_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
        joined_ms: i64,
        max_groups_per_user: u32,
    ) -> Result<(), StoreError>;

    /// `NotFound` when the user is not a member.
    async fn remove_user_from_group(
        &self,
        account_id: &str,
        group: &str,
        user: &str,
    ) -> Result<(), StoreError>;

    async fn list_groups_for_user(
        &self,
        account_id: &str,
        user: &str,
    ) -> Result<Vec<Membership>, StoreError>;

    // ---- RAM: roles ------------------------------------------------------

    async fn create_role(&self, role: RoleRecord) -> Result<(), StoreError>;

    async fn get_role(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<RoleRecord>, StoreError>;

    async fn list_roles(
        &self,
        account_id: &str,
        marker: Option<&str>,
        limit: u32,
    ) -> Result<MarkerPage<RoleRecord>, StoreError>;

    /// Refused while the role has attached policies.
    async fn delete_role(&self, account_id: &str, name: &str) -> Result<(), StoreError>;

    // ---- RAM: custom policies and attachments ----------------------------

    /// A new custom policy whose version `v1` (the default) is `document`;
    /// at most `max_policies` per account (0: unlimited).
    async fn create_policy(
        &self,
        policy: PolicyRecord,
        document: String,
        max_policies: u32,
    ) -> Result<(), StoreError>;

    /// The policy and its default version.
    async fn get_policy(
        &self,
        account_id: &str,
        name: &str,
    ) -> Result<Option<(PolicyRecord, PolicyVersionRecord)>, StoreError>;

    /// Every custom policy of the account, oldest first.
    async fn list_policies(&self, account_id: &str) -> Result<Vec<PolicyRecord>, StoreError>;

    /// Refused while attached or while versions other than the default
    /// exist, unless `cascade`: then attachments and versions go with it.
    async fn delete_policy(
        &self,
        account_id: &str,
        name: &str,
        cascade: bool,
    ) -> Result<(), StoreError>;

    /// Adds the next version (`v2`, `v3`, …), optionally as the default;
    /// at most `max_versions` versions (0: unlimited).
    async fn create_policy_version(
        &self,
        account_id: &str,
        name: &str,
        document: String,
        set_default: bool,
        now_ms: i64,
        max_versions: u32,
    ) -> Result<PolicyVersionRecord, StoreError>;

    /// Attaches a policy (a custom one must exist; system policies are the
    /// caller's to check). At most `max_per_principal` (0: unlimited).
    async fn attach_policy(
        &self,
        account_id: &str,
        target: AttachTarget,
        now_ms: i64,
        max_per_principal: u32,
    ) -> Result<(), StoreError>;

    /// `NotFound` when the policy is not attached.
    async fn detach_policy(&self, account_id: &str, target: AttachTarget)
    -> Result<(), StoreError>;

    /// The policies attached to one user, group or role.
    async fn list_attachments(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<Attachment>, StoreError>;

    /// What authorizes a user (its policies and its groups') or a role:
    /// each policy once, custom ones with their default document.
    async fn effective_policies(
        &self,
        account_id: &str,
        kind: PrincipalKind,
        principal: &str,
    ) -> Result<Vec<EffectivePolicy>, StoreError>;

    // ---- STS -------------------------------------------------------------

    /// Stores a temporary credential (and forgets long-expired ones).
    /// `MissingLink("role")` unless the role with `credential.role_id`
    /// exists: a session belongs to one role, not to a name. Deleting the
    /// role deletes its sessions in the same transaction.
    async fn create_sts_credential(
        &self,
        credential: StsCredentialRecord,
    ) -> Result<(), StoreError>;

    async fn sts_credential(
        &self,
        access_key_id: &str,
    ) -> Result<Option<StsCredentialRecord>, StoreError>;

    // ---- local mode --------------------------------------------------------

    /// Back to a first start (`vpngw serve --dev`'s ResetState): every
    /// resource, link, client token, log entry, RAM identity, STS credential
    /// and account goes, except `keep_account` and its root access keys.
    /// One transaction that excludes every other write and read of the
    /// tables it empties, so a concurrent request sees the state before or
    /// after it, never a mix. Kept: the audit log (append-only; it records
    /// the reset itself) and the signature nonces (replay protection is not
    /// state a client sees).
    async fn reset(&self, keep_account: &str) -> Result<(), StoreError>;
}

/// How long a nonce is remembered: the timestamp window is ±15 minutes, so a
/// nonce older than 30 minutes can no longer come with a valid timestamp.
pub const NONCE_WINDOW_MS: i64 = 30 * 60 * 1000;

/// How many signature nonces the embedded store keeps in memory (about 16
/// bytes each, up to twice that while its maps grow); past a bound a
/// correctly signed request is refused with [`StoreError::NonceLimit`]
/// rather than a nonce forgotten (which would let its request be replayed).
/// A nonce counts for one to two windows (sqlite/nonces.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NonceLimits {
    /// Nonces in all (at least 1).
    pub total: usize,
    /// Nonces of one access key; 0: no bound but `total`.
    pub per_key: usize,
}

impl Default for NonceLimits {
    fn default() -> Self {
        NonceLimits {
            total: 2_000_000,
            per_key: 500_000,
        }
    }
}
