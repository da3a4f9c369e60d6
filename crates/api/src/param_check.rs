//! Checks every request against its operation's description (generated from
//! the vendor's metadata) before a handler runs: required parameters are
//! present, integers and booleans parse, and `RegionId` names a real region.

use vpngw_model::{
    catalog::{self, Region},
    operations::{self, ParamKind},
};
use vpngw_protocol::{ApiError, Params};

use crate::{actions::ActionDef, errors};

pub fn check(def: &ActionDef, params: &Params) -> Result<Option<&'static Region>, ApiError> {
    // Only VPC operations have a generated description; RAM and STS
    // handlers check their own parameters.
    let described = def.product == crate::actions::Product::Vpc;
    if let Some(op) = operations::operation(def.name).filter(|_| described) {
        for p in op.params {
            match p.kind {
                ParamKind::Integer => {
                    params.i64(p.name)?;
                }
                ParamKind::Boolean => {
                    params.bool(p.name)?;
                }
                _ => {}
            }
            if p.required && !has_value(params, p.name, &p.kind) {
                return Err(ApiError::missing_parameter(p.name));
            }
        }
    }
    match params.get("RegionId").filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(id) => catalog::region(id)
            .map(Some)
            .ok_or_else(errors::region_not_found),
    }
}

/// Whether a parameter is given: a non-empty scalar, or any element of a
/// flattened list or object.
fn has_value(params: &Params, name: &str, kind: &ParamKind) -> bool {
    match kind {
        ParamKind::List(_) | ParamKind::ObjectList(_) | ParamKind::Object(_) => {
            let prefix = format!("{name}.");
            params.iter().any(|(n, _)| n.starts_with(&prefix))
        }
        _ => params.get(name).is_some_and(|v| !v.is_empty()),
    }
}
