//! `ResetState`: back to a first start, between the test cases of a suite
//! that runs against `vpngw serve --dev` (docs/local-mode.md).
//!
//! Served only when the server allows it (`Config::reset_allowed`, set by
//! `--dev`): on any other server it is `UnsupportedOperation`, so a
//! production server cannot be emptied by a key that leaked. Only the root
//! key of the server's first account may call it (`Forbidden.RAM` for RAM
//! identities, whatever their policies, and for other accounts, whose
//! roots would empty an account not theirs). Everything else is gone
//! afterwards: resources, RAM users, groups, roles and policies, STS
//! credentials, other accounts (`Store::reset`, which makes it one step that
//! concurrent requests see wholly or not at all). The first account and its
//! root key stay, so the suite goes on with the key it has.

use vpngw_ops::vpngw::reset_state::{Answer, Request};
use vpngw_protocol::ApiError;

use crate::{Ctx, context::internal};

pub async fn reset(ctx: &Ctx<'_>, _request: Request) -> Result<Answer, ApiError> {
    if !ctx.config().reset_allowed {
        return Err(ApiError::new(
            "UnsupportedOperation",
            "ResetState is served by `vpngw serve --dev` only (docs/local-mode.md).",
        ));
    }
    let first = ctx
        .store()
        .accounts()
        .await
        .map_err(internal)?
        .into_iter()
        .min_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
    let allowed =
        ctx.caller.is_root() && first.is_some_and(|first| first.id == ctx.caller.account_id);
    if !allowed {
        return Err(ApiError::forbidden_ram(None));
    }
    ctx.store()
        .reset(&ctx.caller.account_id)
        .await
        .map_err(internal)?;
    tracing::info!(account = %ctx.caller.account_id, "state reset");
    Ok(Answer::default())
}
