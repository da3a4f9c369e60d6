//! Who is calling: access key lookup, timestamp window, signature, nonce.
//!
//! Three kinds of caller: an account's root key, a RAM user's key, and an
//! STS temporary key (`STS.…`) that must come with its `SecurityToken`
//! (V1 parameter or V3 `x-acs-security-token` header). Token checks, in
//! order: absent → `MissingSecurityToken`; not one of ours →
//! `InvalidSecurityToken.Malformed`; another credential's →
//! `InvalidSecurityToken.MismatchWithAccessKey`; past its expiry →
//! `InvalidSecurityToken.Expired`. A long-term key sent with a token is
//! refused as a mismatch.
//!
//! What a caller learns before its signature is verified is only whether
//! the key id exists (as the cloud answers): the key's status and the
//! token checks are answered after the signature, so an unsigned caller
//! cannot tell a disabled key or an expired session from a wrong secret.

use std::time::SystemTime;

use sha2::{Digest, Sha256};
use vpngw_protocol::{ApiError, RpcRequest};

use crate::Inner;

/// What kind of identity a caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account itself (its root key).
    Root,
    /// A RAM user of the account.
    User { name: String },
    /// A role session from AssumeRole.
    Role {
        role_id: String,
        role_name: String,
        session_name: String,
        /// The session policy (`Policy` of AssumeRole), if one was given.
        session_policy: Option<String>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// `root`, the RAM user's name, or `role:session` for a role session.
    pub principal: String,
    pub access_key_id: String,
    pub identity: Identity,
}

impl Caller {
    pub fn is_root(&self) -> bool {
        self.identity == Identity::Root
    }
}

/// SHA-256 of a security token, hex: what the store keeps instead of it.
pub fn token_digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Equal without an early exit (the digests are of secrets).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Associated data binding a sealed STS secret to its credential.
pub fn sts_aad(key_id: &str) -> String {
    format!("sts:{key_id}")
}

pub async fn authenticate(
    inner: &Inner,
    req: &RpcRequest,
    now: SystemTime,
) -> Result<Caller, ApiError> {
    let key_id = req.access_key_id();
    if vpngw_identity::keys::is_sts_access_key_id(key_id) {
        return authenticate_sts(inner, req, now).await;
    }
    if req.security_token().is_some() {
        return Err(ApiError::security_token_mismatch());
    }
    let key = inner
        .store
        .access_key(key_id)
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(|| {
            ApiError::new(
                "InvalidAccessKeyId.NotFound",
                "Specified access key is not found.",
            )
        })?;
    vpngw_protocol::check_timestamp(req.timestamp(), now.into())?;
    let secret = inner.secrets.open_secret(&key.secret, &key_aad(&key.id))?;
    req.verify_signature(secret.expose().as_bytes())?;
    if key.status != "Active" {
        return Err(ApiError::new(
            "InvalidAccessKeyId.Inactive",
            "Specified access key is disabled.",
        ));
    }
    spend_nonce(inner, req, &key.id, now).await?;
    let identity = if key.principal == "root" {
        Identity::Root
    } else {
        Identity::User {
            name: key.principal.clone(),
        }
    };
    Ok(Caller {
        account_id: key.account_id,
        principal: key.principal,
        access_key_id: key.id,
        identity,
    })
}

async fn authenticate_sts(
    inner: &Inner,
    req: &RpcRequest,
    now: SystemTime,
) -> Result<Caller, ApiError> {
    let cred = inner
        .store
        .sts_credential(req.access_key_id())
        .await
        .map_err(crate::context::internal)?
        .ok_or_else(ApiError::access_key_not_found)?;
    vpngw_protocol::check_timestamp(req.timestamp(), now.into())?;
    let secret = inner
        .secrets
        .open_secret(&cred.secret, &sts_aad(&cred.access_key_id))?;
    req.verify_signature(secret.expose().as_bytes())?;
    let token = req
        .security_token()
        .ok_or_else(ApiError::missing_security_token)?;
    if !same(&token_digest(token), &cred.token_sha256) {
        return Err(if token.starts_with("CAIS") {
            ApiError::security_token_mismatch()
        } else {
            ApiError::security_token_malformed()
        });
    }
    if crate::context::epoch_ms(now) >= cred.expires_ms {
        return Err(ApiError::security_token_expired());
    }
    spend_nonce(inner, req, &cred.access_key_id, now).await?;
    Ok(Caller {
        account_id: cred.account_id,
        principal: format!("{}:{}", cred.role_name, cred.session_name),
        access_key_id: cred.access_key_id,
        identity: Identity::Role {
            role_id: cred.role_id,
            role_name: cred.role_name,
            session_name: cred.session_name,
            session_policy: cred.session_policy,
        },
    })
}

async fn spend_nonce(
    inner: &Inner,
    req: &RpcRequest,
    key_id: &str,
    now: SystemTime,
) -> Result<(), ApiError> {
    // Only a correctly signed request may spend a nonce, so nobody can burn
    // another caller's nonces.
    // Past the store's bound on nonces the request is refused, never a
    // nonce forgotten (that would let its request be replayed).
    let fresh = inner
        .store
        .use_nonce(key_id, req.signature_nonce(), crate::context::epoch_ms(now))
        .await
        .map_err(|e| match e {
            vpngw_store::StoreError::NonceLimit { per_key: true } => ApiError::throttling_user(),
            vpngw_store::StoreError::NonceLimit { per_key: false } => ApiError::new(
                "Throttling",
                "Request was denied due to request throttling.",
            ),
            e => crate::context::internal(e),
        })?;
    if !fresh {
        return Err(ApiError::new(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(())
}

/// Associated data binding a sealed secret to its access key row.
pub fn key_aad(key_id: &str) -> String {
    format!("accesskey:{key_id}")
}
