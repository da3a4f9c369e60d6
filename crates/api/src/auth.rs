//! Who is calling: access key lookup, timestamp window, signature, nonce.

use std::time::SystemTime;

use vpngw_protocol::{ApiError, RpcRequest};

use crate::Inner;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// `root`, or the RAM user's name.
    pub principal: String,
    pub access_key_id: String,
}

impl Caller {
    pub fn is_root(&self) -> bool {
        self.principal == "root"
    }
}

pub async fn authenticate(
    inner: &Inner,
    req: &RpcRequest,
    now: SystemTime,
) -> Result<Caller, ApiError> {
    let key_id = req.access_key_id();
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
    if key.status != "Active" {
        return Err(ApiError::new(
            "InvalidAccessKeyId.Inactive",
            "Specified access key is disabled.",
        ));
    }
    vpngw_protocol::check_timestamp(req.timestamp(), now.into())?;
    let secret = inner.secrets.open_secret(&key.secret, &key_aad(&key.id))?;
    req.verify_signature(secret.expose().as_bytes())?;
    // Only a correctly signed request may spend a nonce, so nobody can burn
    // another caller's nonces.
    let fresh = inner
        .store
        .use_nonce(
            &key.id,
            req.signature_nonce(),
            crate::context::epoch_ms(now),
        )
        .await
        .map_err(crate::context::internal)?;
    if !fresh {
        return Err(ApiError::new(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    Ok(Caller {
        account_id: key.account_id,
        principal: key.principal,
        access_key_id: key.id,
    })
}

/// Associated data binding a sealed secret to its access key row.
pub fn key_aad(key_id: &str) -> String {
    format!("accesskey:{key_id}")
}
