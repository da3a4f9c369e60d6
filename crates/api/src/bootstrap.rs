//! First start: the root account and its access key.

use vpngw_store::{AccessKeyRecord, AccountRecord, Store, StoreError};

use crate::Secrets;

/// A root key the operator should be told about (it was generated).
pub struct GeneratedKey {
    pub account_id: String,
    pub access_key_id: String,
    pub access_key_secret: String,
}

/// Creates the root account if the store has no account yet. With `given`
/// the root gets that key; without, a fresh one is generated and returned
/// so the caller can print it once.
pub async fn ensure_root(
    store: &dyn Store,
    secrets: &Secrets,
    given: Option<(String, String)>,
    now_ms: i64,
) -> Result<Option<GeneratedKey>, StoreError> {
    if !store.accounts().await?.is_empty() {
        return Ok(None);
    }
    let generated = given.is_none();
    let (key_id, secret) = given.unwrap_or_else(|| (new_access_key_id(), new_secret()));
    let account = AccountRecord {
        id: new_account_id(),
        name: "root".into(),
        created_ms: now_ms,
    };
    let key = AccessKeyRecord {
        id: key_id.clone(),
        account_id: account.id.clone(),
        principal: "root".into(),
        secret: secrets.seal(&secret, &crate::auth::key_aad(&key_id)),
        status: "Active".into(),
        created_ms: now_ms,
    };
    let account_id = account.id.clone();
    store.create_account(account, key).await?;
    Ok(generated.then_some(GeneratedKey {
        account_id,
        access_key_id: key_id,
        access_key_secret: secret,
    }))
}

/// Creates another root account named `name` with a fresh root key
/// (`vpngw account create`); returns its id and key. Names are unique:
/// an existing name is `StoreError::AlreadyExists`.
pub async fn create_account(
    store: &dyn Store,
    secrets: &Secrets,
    name: &str,
    now_ms: i64,
) -> Result<GeneratedKey, StoreError> {
    let key_id = new_access_key_id();
    let secret = new_secret();
    let account = AccountRecord {
        id: new_account_id(),
        name: name.to_owned(),
        created_ms: now_ms,
    };
    let key = AccessKeyRecord {
        id: key_id.clone(),
        account_id: account.id.clone(),
        principal: "root".into(),
        secret: secrets.seal(&secret, &crate::auth::key_aad(&key_id)),
        status: "Active".into(),
        created_ms: now_ms,
    };
    let account_id = account.id.clone();
    store.create_account(account, key).await?;
    Ok(GeneratedKey {
        account_id,
        access_key_id: key_id,
        access_key_secret: secret,
    })
}

/// Whether `id`/`secret` is a root key of the store (to tell the operator
/// that `VPNGW_ROOT_ACCESS_KEY_*` no longer match the data directory).
pub async fn is_root_key(store: &dyn Store, secrets: &Secrets, id: &str, secret: &str) -> bool {
    match store.access_key(id).await {
        Ok(Some(key)) if key.principal == "root" => secrets
            .open_secret(&key.secret, &crate::auth::key_aad(&key.id))
            .is_ok_and(|s| s.expose() == secret),
        _ => false,
    }
}

/// Replaces every root key of `account_id` with a fresh one (`vpngw
/// account root-key --rotate`, for a lost key). Returns the new key and
/// the ids of the keys it replaced.
pub async fn rotate_root_key(
    store: &dyn Store,
    secrets: &Secrets,
    account_id: &str,
    now_ms: i64,
) -> Result<(GeneratedKey, Vec<String>), StoreError> {
    let key_id = new_access_key_id();
    let secret = new_secret();
    let key = AccessKeyRecord {
        id: key_id.clone(),
        account_id: account_id.to_owned(),
        principal: "root".into(),
        secret: secrets.seal(&secret, &crate::auth::key_aad(&key_id)),
        status: "Active".into(),
        created_ms: now_ms,
    };
    let replaced = store.replace_root_keys(key).await?;
    Ok((
        GeneratedKey {
            account_id: account_id.to_owned(),
            access_key_id: key_id,
            access_key_secret: secret,
        },
        replaced,
    ))
}

/// `LTAI` and 20 alphanumerics, as the cloud's long-term keys.
pub fn new_access_key_id() -> String {
    vpngw_identity::keys::generate_access_key_id()
}

/// 30 alphanumerics, as the cloud's secrets.
pub fn new_secret() -> String {
    vpngw_identity::keys::generate_access_key_secret()
        .expose()
        .to_owned()
}

/// 16 digits, as the cloud's account IDs.
pub fn new_account_id() -> String {
    vpngw_identity::keys::generate_account_id()
}
