//! Reading and writing flattened RPC parameters, for the generated request
//! types: `Name`, `Name.N` (lists, 1-based), `Name.N.Field` (lists of
//! objects), `Name.Field` (objects), nested to any depth. Every error names
//! the parameter as the client spelled it (`Tags.2.Key`).
//!
//! A field is read under a prefix `at` (empty at the top level, then
//! `Tags.2`, `TunnelOptionsSpecification.1.TunnelIkeConfig`, …), so the
//! top-level fields of a request cost no allocation.

use std::borrow::Cow;

use vpngw_protocol::{ApiError, Params};

use crate::{Kind, Resource};

/// The full name of `field` under `at`.
pub fn name<'a>(at: &str, field: &'a str) -> Cow<'a, str> {
    if at.is_empty() {
        Cow::Borrowed(field)
    } else {
        Cow::Owned(format!("{at}.{field}"))
    }
}

/// A scalar value type of the wire.
pub trait Scalar: Sized {
    /// Parses one value; `None` makes it `InvalidParameter`.
    fn parse(value: &str) -> Option<Self>;
    /// The value as the SDKs write it.
    fn write(&self) -> String;
    /// Whether a required parameter with this value counts as missing.
    fn missing(value: &str) -> bool;
}

impl Scalar for String {
    fn parse(value: &str) -> Option<String> {
        Some(value.to_owned())
    }
    fn write(&self) -> String {
        self.clone()
    }
    fn missing(value: &str) -> bool {
        value.is_empty()
    }
}

impl Scalar for i64 {
    fn parse(value: &str) -> Option<i64> {
        value.parse().ok()
    }
    fn write(&self) -> String {
        self.to_string()
    }
    fn missing(_: &str) -> bool {
        false
    }
}

/// `true`/`false` in any case: the Tea SDKs send `true`, the legacy Python
/// SDK `True`.
impl Scalar for bool {
    fn parse(value: &str) -> Option<bool> {
        if value.eq_ignore_ascii_case("true") {
            Some(true)
        } else if value.eq_ignore_ascii_case("false") {
            Some(false)
        } else {
            None
        }
    }
    fn write(&self) -> String {
        self.to_string()
    }
    fn missing(_: &str) -> bool {
        false
    }
}

impl Scalar for f64 {
    fn parse(value: &str) -> Option<f64> {
        value.parse::<f64>().ok().filter(|v| v.is_finite())
    }
    fn write(&self) -> String {
        self.to_string()
    }
    fn missing(_: &str) -> bool {
        false
    }
}

/// A structure of the request (the request itself, or a nested object).
pub trait Fields: Sized {
    /// Reads the fields under `at`.
    fn parse(params: &Params, at: &str) -> Result<Self, ApiError>;
    /// Writes the fields under `at`.
    fn emit(&self, at: &str, out: &mut Vec<(String, String)>);
}

/// An optional scalar: absent is `None`; a value that does not parse
/// (an empty integer too) is `InvalidParameter`.
pub fn opt<T: Scalar>(params: &Params, at: &str, field: &str) -> Result<Option<T>, ApiError> {
    let full = name(at, field);
    match params.get(&full) {
        None => Ok(None),
        Some(v) => T::parse(v)
            .map(Some)
            .ok_or_else(|| ApiError::invalid_parameter(&full)),
    }
}

/// A required scalar: absent (or an empty string) is `MissingParameter`.
pub fn req<T: Scalar>(params: &Params, at: &str, field: &str) -> Result<T, ApiError> {
    let full = name(at, field);
    match params.get(&full) {
        Some(v) if !T::missing(v) => T::parse(v).ok_or_else(|| ApiError::invalid_parameter(&full)),
        Some(v) if T::parse(v).is_none() => Err(ApiError::invalid_parameter(&full)),
        _ => Err(ApiError::missing_parameter(&full)),
    }
}

/// A list index: a decimal in `1..=MAX_PARAMS` without leading zeros.
fn index(s: &str) -> Option<usize> {
    if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse()
        .ok()
        .filter(|n| (1..=vpngw_protocol::MAX_PARAMS).contains(n))
}

/// A list of scalars `Field.1 .. Field.N`, ordered by index as a number.
/// A bad index, a deeper name (`Field.1.X`) or a value that does not parse
/// is `InvalidParameter` naming it; a required empty list is
/// `MissingParameter`.
pub fn list<T: Scalar>(
    params: &Params,
    at: &str,
    field: &str,
    required: bool,
) -> Result<Vec<T>, ApiError> {
    let full = name(at, field);
    let mut items: Vec<(usize, T)> = Vec::new();
    for (rest, value, whole) in params.children(&full) {
        let i = index(rest).ok_or_else(|| ApiError::invalid_parameter(whole))?;
        let v = T::parse(value).ok_or_else(|| ApiError::invalid_parameter(whole))?;
        items.push((i, v));
    }
    if required && items.is_empty() {
        return Err(ApiError::missing_parameter(&full));
    }
    items.sort_by_key(|(i, _)| *i);
    Ok(items.into_iter().map(|(_, v)| v).collect())
}

/// A list of objects `Field.N.Sub…`, one per index, ordered by index.
pub fn objects<T: Fields>(
    params: &Params,
    at: &str,
    field: &str,
    required: bool,
) -> Result<Vec<T>, ApiError> {
    let full = name(at, field);
    let mut indices: Vec<usize> = Vec::new();
    for (rest, _, whole) in params.children(&full) {
        let (i, sub) = rest
            .split_once('.')
            .ok_or_else(|| ApiError::invalid_parameter(whole))?;
        let i = index(i).ok_or_else(|| ApiError::invalid_parameter(whole))?;
        if sub.is_empty() {
            return Err(ApiError::invalid_parameter(whole));
        }
        if !indices.contains(&i) {
            indices.push(i);
        }
    }
    if required && indices.is_empty() {
        return Err(ApiError::missing_parameter(&full));
    }
    indices.sort_unstable();
    indices
        .into_iter()
        .map(|i| T::parse(params, &format!("{full}.{i}")))
        .collect()
}

/// An object `Field.Sub…`: `None` when no parameter starts with `Field.`.
pub fn object<T: Fields>(
    params: &Params,
    at: &str,
    field: &str,
    required: bool,
) -> Result<Option<T>, ApiError> {
    let full = name(at, field);
    if params.children(&full).next().is_none() {
        if required {
            return Err(ApiError::missing_parameter(&full));
        }
        return Ok(None);
    }
    T::parse(params, &full).map(Some)
}

/// Writes one scalar.
pub fn put<T: Scalar>(out: &mut Vec<(String, String)>, at: &str, field: &str, value: &T) {
    out.push((name(at, field).into_owned(), value.write()));
}

/// Writes an optional scalar, if set.
pub fn put_opt<T: Scalar>(
    out: &mut Vec<(String, String)>,
    at: &str,
    field: &str,
    value: &Option<T>,
) {
    if let Some(v) = value {
        put(out, at, field, v);
    }
}

/// Writes a list of scalars as `Field.1 .. Field.N`.
pub fn put_list<T: Scalar>(out: &mut Vec<(String, String)>, at: &str, field: &str, items: &[T]) {
    let full = name(at, field);
    for (i, v) in items.iter().enumerate() {
        out.push((format!("{full}.{}", i + 1), v.write()));
    }
}

/// Writes a list of objects as `Field.N.Sub…`.
pub fn put_objects<T: Fields>(out: &mut Vec<(String, String)>, at: &str, field: &str, items: &[T]) {
    let full = name(at, field);
    for (i, v) in items.iter().enumerate() {
        v.emit(&format!("{full}.{}", i + 1), out);
    }
}

/// Writes an object as `Field.Sub…`, if set.
pub fn put_object<T: Fields>(
    out: &mut Vec<(String, String)>,
    at: &str,
    field: &str,
    value: &Option<T>,
) {
    if let Some(v) = value {
        v.emit(&name(at, field), out);
    }
}

/// Adds the ids of `value` (a comma-separated list is several ids, as the
/// Describe* filters take them) as resources of `kind`.
pub fn ids<'a>(out: &mut Vec<Resource<'a>>, kind: Kind, value: Option<&'a str>) {
    let Some(value) = value else { return };
    for id in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        let r = Resource { kind, id };
        if !out.contains(&r) {
            out.push(r);
        }
    }
}

/// `Some(value)` unless empty.
pub fn non_empty(value: &str) -> Option<&str> {
    (!value.is_empty()).then_some(value)
}

/// Prints a field's value in a `Debug` impl, or hides it if secret.
pub struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A string parameter, required (`String`) or optional (`Option<String>`),
/// as an optional non-empty text.
pub trait Text {
    fn text(&self) -> Option<&str>;
}

impl Text for String {
    fn text(&self) -> Option<&str> {
        non_empty(self)
    }
}

impl Text for Option<String> {
    fn text(&self) -> Option<&str> {
        self.as_deref().and_then(non_empty)
    }
}
