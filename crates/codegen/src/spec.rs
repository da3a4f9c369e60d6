//! Reading the spec files into one model per product.
//!
//! - `spec/<p>-meta.json`: the vendor's request metadata (every operation:
//!   methods, top-level parameters with position, type and required).
//! - `spec/<p>-sdk.json`: the official SDK's models: request and response
//!   classes per operation, every class as `{wire key: type}`. Nested request
//!   structures (the fields of `Array`/`Struct`/`RepeatList` parameters) and
//!   the element types of lists come from here, answers entirely.
//! - `spec/vpc-ipsec-api.json` (Vpc only): cross-checked against both for the
//!   operations it covers; adds the documented errors, the errors Terraform
//!   special-cases, which string parameters hold JSON, and the `required` of
//!   nested fields the metadata does not describe.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use crate::Result;

pub struct Product {
    pub code: String,
    pub version: String,
    pub meta_commit: Option<String>,
    pub common_errors: Vec<DocError>,
    /// Every operation of the metadata, sorted by name.
    pub operations: Vec<Operation>,
    /// Operations the SDK has but the pinned metadata does not (newer),
    /// sorted: known by name only.
    pub sdk_only: Vec<String>,
    pub models: BTreeMap<String, Vec<(String, SdkType)>>,
}

pub struct Operation {
    pub name: String,
    pub methods: Vec<String>,
    pub params: Vec<Param>,
    pub errors: Vec<DocError>,
    pub client_handled: Vec<(String, &'static str)>,
    /// The SDK's response body class, when the SDK has the operation.
    pub response: Option<String>,
}

#[derive(Clone)]
pub struct Param {
    pub name: String,
    pub position: &'static str,
    pub kind: Kind,
    pub required: bool,
}

#[derive(Clone)]
pub enum Kind {
    /// `String`, `Integer`, `Boolean` or `Json`.
    Scalar(&'static str),
    List(&'static str),
    /// Fields and the SDK class they come from.
    ObjectList(Vec<Param>, String),
    Object(Vec<Param>, String),
}

#[derive(Clone)]
pub struct DocError {
    pub status: u16,
    pub code: String,
    pub message: String,
}

/// A type of the SDK facts: a scalar, a model class, or a list.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SdkType {
    String,
    Integer,
    Boolean,
    Number,
    Model(String),
    List(Box<SdkType>),
}

pub fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

pub fn get<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a Value> {
    v.get(key).ok_or_else(|| format!("{ctx}: missing `{key}`"))
}

pub fn get_str<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a str> {
    get(v, key, ctx)?
        .as_str()
        .ok_or_else(|| format!("{ctx}: `{key}` is not a string"))
}

fn get_bool(v: &Value, key: &str, ctx: &str) -> Result<bool> {
    get(v, key, ctx)?
        .as_bool()
        .ok_or_else(|| format!("{ctx}: `{key}` is not a boolean"))
}

pub fn get_array<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a [Value]> {
    get(v, key, ctx)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{ctx}: `{key}` is not an array"))
}

pub fn get_object<'a>(
    v: &'a Value,
    key: &str,
    ctx: &str,
) -> Result<&'a serde_json::Map<String, Value>> {
    get(v, key, ctx)?
        .as_object()
        .ok_or_else(|| format!("{ctx}: `{key}` is not an object"))
}

fn sdk_type(v: &Value, ctx: &str) -> Result<SdkType> {
    match v {
        Value::String(s) => Ok(match s.as_str() {
            "string" => SdkType::String,
            "integer" => SdkType::Integer,
            "boolean" => SdkType::Boolean,
            "number" => SdkType::Number,
            model if model.starts_with(|c: char| c.is_ascii_uppercase()) => {
                SdkType::Model(model.to_owned())
            }
            other => return Err(format!("{ctx}: unknown SDK type {other:?}")),
        }),
        Value::Array(items) if items.len() == 1 => {
            Ok(SdkType::List(Box::new(sdk_type(&items[0], ctx)?)))
        }
        other => Err(format!("{ctx}: bad SDK type {other}")),
    }
}

/// The SDK facts of a product.
struct Sdk {
    operations: serde_json::Map<String, Value>,
    models: BTreeMap<String, Vec<(String, SdkType)>>,
}

fn read_sdk(v: &Value) -> Result<Sdk> {
    let mut models = BTreeMap::new();
    for (name, fields) in get_object(v, "models", "sdk")? {
        let fields = fields
            .as_object()
            .ok_or_else(|| format!("sdk model {name} is not an object"))?;
        let mut out = Vec::new();
        for (key, t) in fields {
            out.push((key.clone(), sdk_type(t, &format!("{name}.{key}"))?));
        }
        models.insert(name.clone(), out);
    }
    Ok(Sdk {
        operations: get_object(v, "operations", "sdk")?.clone(),
        models,
    })
}

/// The API reference's knowledge (Vpc only).
struct Reference<'a> {
    operations: &'a serde_json::Map<String, Value>,
    json_params: Vec<&'a str>,
    known_errors: HashMap<String, DocError>,
    common_errors: Vec<DocError>,
}

/// An HTTP status given as a number or a numeric string; `None` for null.
fn status(v: &Value, ctx: &str) -> Result<Option<u16>> {
    match v.get("http") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    }
    .map(Some)
    .ok_or_else(|| format!("{ctx}: bad `http` status"))
}

/// A code is usable only if it is a single token (the reference's common
/// error list also holds prose such as `A / B (404)`).
fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
}

/// A documented error entry: one with both a status and a message.
fn documented(e: &Value, ctx: &str) -> Result<Option<DocError>> {
    let code = get_str(e, "code", ctx)?;
    let message = e.get("message").and_then(Value::as_str);
    Ok(match (status(e, ctx)?, message) {
        (Some(status), Some(message)) => Some(DocError {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }),
        _ => None,
    })
}

fn read_reference(api: &Value) -> Result<Reference<'_>> {
    let operations = get_object(api, "operations", "reference")?;
    let protocol = get(api, "protocol", "reference")?;
    let json_params = get_array(protocol, "json_string_params", "reference")?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|s| s.split_whitespace().next())
        .collect();
    // Status and message of every documented code, to complete entries
    // that give only the code (those harvested from terraform).
    let mut known: HashMap<String, DocError> = HashMap::new();
    let mut common_errors = Vec::new();
    for (name, op) in operations {
        for e in get_array(op, "errors", name)? {
            if let Some(doc) = documented(e, name)? {
                known.entry(doc.code.clone()).or_insert(doc);
            }
        }
    }
    for e in get_array(api, "common_errors", "reference")? {
        if let Some(doc) = documented(e, "common_errors")?.filter(|d| is_code(&d.code)) {
            known.entry(doc.code.clone()).or_insert_with(|| doc.clone());
            common_errors.push(doc);
        }
    }
    Ok(Reference {
        operations,
        json_params,
        known_errors: known,
        common_errors,
    })
}

type OpErrors = (Vec<DocError>, Vec<(String, &'static str)>);

fn op_errors(entries: &[Value], known: &HashMap<String, DocError>, ctx: &str) -> Result<OpErrors> {
    let mut errors = Vec::new();
    let mut client_handled = Vec::new();
    let mut seen = Vec::new();
    for e in entries {
        let code = get_str(e, "code", ctx)?;
        if seen.contains(&code) {
            return Err(format!("{ctx}: error code {code} listed twice"));
        }
        seen.push(code);
        let fallback = known.get(code);
        let status = status(e, ctx)?.or(fallback.map(|d| d.status));
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .or(fallback.map(|d| d.message.as_str()));
        if let (Some(status), Some(message)) = (status, message) {
            errors.push(DocError {
                status,
                code: code.to_owned(),
                message: message.to_owned(),
            });
        }
        if let Some(note) = e.get("terraform").and_then(Value::as_str) {
            let handling = if note.contains("retried") {
                "Retry"
            } else if note.contains("already-deleted") || note.contains("resource gone") {
                "Gone"
            } else {
                return Err(format!("{ctx}: unknown terraform note {note:?} on {code}"));
            };
            client_handled.push((code.to_owned(), handling));
        }
    }
    Ok((errors, client_handled))
}

/// Request parameters the SDK's request model has and the pinned metadata
/// lacks (newer than it), by operation: declared one by one in
/// `spec/declarations.json` (`sdk_params`), so that a parameter the SDK
/// sends is never dropped unnoticed. Scalars only.
pub type SdkParams = HashMap<String, Vec<String>>;

/// `sdk_params` of the declarations (absent: none).
pub fn sdk_params(declarations: &Value) -> Result<SdkParams> {
    let mut out = SdkParams::new();
    let Some(v) = declarations.get("sdk_params") else {
        return Ok(out);
    };
    let ops = v
        .as_object()
        .ok_or("declarations: `sdk_params` is not an object")?;
    for (op, names) in ops.iter().filter(|(k, _)| !k.starts_with('_')) {
        let names = names
            .as_array()
            .ok_or(format!("sdk_params.{op}: not a list"))?
            .iter()
            .map(|n| {
                n.as_str()
                    .map(str::to_owned)
                    .ok_or(format!("sdk_params.{op}: not a name"))
            })
            .collect::<Result<Vec<_>>>()?;
        out.insert(op.clone(), names);
    }
    Ok(out)
}

/// The parameter `name` of the SDK's request model `fields`, declared in
/// `sdk_params`: optional, in the query, of the model's scalar type.
fn sdk_only_param(
    fields: Option<&Vec<(String, SdkType)>>,
    meta_params: &[Param],
    name: &str,
    ctx: &str,
) -> Result<Param> {
    if meta_params.iter().any(|p| p.name == name) {
        return Err(format!(
            "{ctx}: declared in sdk_params but the metadata has it"
        ));
    }
    let t = fields
        .and_then(|f| f.iter().find(|(k, _)| k == name))
        .map(|(_, t)| t)
        .ok_or(format!(
            "{ctx}: declared in sdk_params but the SDK model lacks it"
        ))?;
    Ok(Param {
        name: name.to_owned(),
        position: "Query",
        kind: Kind::Scalar(scalar(t, ctx)?),
        required: false,
    })
}

pub fn build(
    meta: &Value,
    sdk: &Value,
    api: Option<&Value>,
    sdk_params: &SdkParams,
) -> Result<Product> {
    let product = get(meta, "product", "metadata")?;
    let sdk = read_sdk(sdk)?;
    let reference = api.map(read_reference).transpose()?;
    let apis = get_object(meta, "apis", "metadata")?;
    if let Some(r) = &reference
        && let Some(extra) = r.operations.keys().find(|n| !apis.contains_key(*n))
    {
        return Err(format!(
            "the API reference describes {extra}, which the metadata does not define"
        ));
    }
    let json_params: &[&str] = reference.as_ref().map_or(&[], |r| &r.json_params);
    let mut operations = Vec::new();
    for (name, m) in apis {
        let ctx = name.as_str();
        let methods = get_str(m, "method", ctx)?
            .split('|')
            .map(|s| s.trim().to_ascii_uppercase())
            .collect();
        let sdk_op = sdk.operations.get(name);
        let request_model = match sdk_op.and_then(|o| o.get("request")) {
            Some(Value::String(model)) => Some(
                sdk.models
                    .get(model)
                    .ok_or_else(|| format!("{ctx}: SDK model {model} missing"))?,
            ),
            _ => None,
        };
        let response = sdk_op
            .and_then(|o| o.get("response"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let api_op = reference.as_ref().and_then(|r| r.operations.get(name));
        let api_params = match api_op {
            Some(a) => Some(get_array(a, "request", ctx)?),
            None => None,
        };
        let mut params = Vec::new();
        for p in get_array(m, "parameters", ctx)? {
            let pname = get_str(p, "name", ctx)?;
            let pctx = format!("{ctx}.{pname}");
            let api_p = match api_params {
                Some(list) => Some(
                    list.iter()
                        .find(|a| a.get("name").and_then(Value::as_str) == Some(pname))
                        .ok_or_else(|| format!("{pctx}: missing from the API reference"))?,
                ),
                None => None,
            };
            let sdk_t = request_model.and_then(|fields| {
                fields
                    .iter()
                    .find(|(k, _)| k == pname)
                    .map(|(_, t)| t.clone())
            });
            params.push(top_param(p, api_p, sdk_t, &sdk, json_params, &pctx)?);
        }
        if let Some(list) = api_params
            && list.len() != params.len()
        {
            let names: Vec<_> = params.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "{ctx}: the API reference lists other parameters than the metadata ({names:?})"
            ));
        }
        if let Some(names) = sdk_params.get(name) {
            for n in names {
                let p = sdk_only_param(request_model, &params, n, &format!("{ctx}.{n}"))?;
                params.push(p);
            }
            params.sort_by(|a, b| a.name.cmp(&b.name));
        }
        let (errors, client_handled) = match (api_op, &reference) {
            (Some(a), Some(r)) => op_errors(get_array(a, "errors", ctx)?, &r.known_errors, ctx)?,
            _ => (Vec::new(), Vec::new()),
        };
        operations.push(Operation {
            name: name.clone(),
            methods,
            params,
            errors,
            client_handled,
            response,
        });
    }
    operations.sort_by(|a, b| a.name.cmp(&b.name));
    let mut sdk_only: Vec<String> = sdk
        .operations
        .keys()
        .filter(|n| !apis.contains_key(*n))
        .cloned()
        .collect();
    sdk_only.sort();
    let meta_commit = meta
        .get("_source")
        .and_then(|s| s.get("commit"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Product {
        code: get_str(product, "code", "metadata product")?.to_owned(),
        version: get_str(product, "version", "metadata product")?.to_owned(),
        meta_commit,
        common_errors: reference.map(|r| r.common_errors).unwrap_or_default(),
        operations,
        sdk_only,
        models: sdk.models,
    })
}

fn position(p: &Value, inherited: Option<&'static str>, ctx: &str) -> Result<&'static str> {
    match p.get("position").and_then(Value::as_str) {
        Some("Query") => Ok("Query"),
        Some("Body") => Ok("Body"),
        Some("Host") => Ok("Host"),
        None => inherited.ok_or_else(|| format!("{ctx}: no position")),
        Some(other) => Err(format!("{ctx}: unsupported position {other}")),
    }
}

fn scalar(t: &SdkType, ctx: &str) -> Result<&'static str> {
    Ok(match t {
        SdkType::String => "String",
        SdkType::Integer => "Integer",
        SdkType::Boolean => "Boolean",
        SdkType::Number => "Number",
        other => {
            return Err(format!(
                "{ctx}: no scalar request parameter of type {other:?}"
            ));
        }
    })
}

/// A top-level parameter: name, position, type and `required` from the
/// metadata; the structure of lists and objects from the SDK's request
/// model; cross-checked with the API reference when it has the operation.
fn top_param(
    m: &Value,
    api: Option<&Value>,
    sdk_t: Option<SdkType>,
    sdk: &Sdk,
    json_params: &[&str],
    ctx: &str,
) -> Result<Param> {
    let name = get_str(m, "name", ctx)?;
    let required = get_bool(m, "required", ctx)?;
    let position = position(m, None, ctx)?;
    let meta_type = get_str(m, "type", ctx)?;
    if let Some(a) = api {
        let a_type = a.get("meta_type").and_then(Value::as_str);
        let same_type = a_type.is_none_or(|t| t == meta_type);
        let same_position = a
            .get("position")
            .and_then(Value::as_str)
            .is_none_or(|p| p == position);
        if !same_type || !same_position || get_bool(a, "required", ctx)? != required {
            return Err(format!(
                "{ctx}: spec files disagree: metadata {m}, reference {a}"
            ));
        }
    }
    let meta_fields = m.get("sub_parameters").and_then(Value::as_array);
    let api_fields = api
        .and_then(|a| a.get("children"))
        .and_then(Value::as_array);
    let kind = match (meta_type, &sdk_t) {
        ("String", _) if json_params.contains(&name) => Kind::Scalar("Json"),
        ("String", _) => Kind::Scalar("String"),
        ("Integer" | "Long", _) => Kind::Scalar("Integer"),
        ("Float" | "Double", _) => Kind::Scalar("Number"),
        ("Boolean", _) => Kind::Scalar("Boolean"),
        ("Json", _) => Kind::Scalar("Json"),
        ("RepeatList" | "Array", Some(SdkType::List(item))) => match item.as_ref() {
            SdkType::Model(model) => Kind::ObjectList(
                fields(sdk, model, meta_fields, api_fields, position, ctx)?,
                model.clone(),
            ),
            t => Kind::List(scalar(t, ctx)?),
        },
        ("Struct", Some(SdkType::Model(model))) => Kind::Object(
            fields(sdk, model, meta_fields, api_fields, position, ctx)?,
            model.clone(),
        ),
        // The SDK lacks the operation or parameter: the metadata alone.
        ("RepeatList" | "Array", None) => match meta_fields {
            Some(list) => Kind::ObjectList(meta_only_fields(list, position, ctx)?, String::new()),
            None => Kind::List("String"),
        },
        ("Struct", None) => Kind::Object(
            meta_only_fields(meta_fields.map_or(&[][..], Vec::as_slice), position, ctx)?,
            String::new(),
        ),
        (t, s) => return Err(format!("{ctx}: metadata type {t} with SDK type {s:?}")),
    };
    Ok(Param {
        name: name.to_owned(),
        position,
        kind,
        required,
    })
}

/// The fields of an SDK model, `required` as the metadata's
/// `sub_parameters` (or else the API reference's `children`) say.
fn fields(
    sdk: &Sdk,
    model: &str,
    meta: Option<&Vec<Value>>,
    api: Option<&Vec<Value>>,
    position: &'static str,
    ctx: &str,
) -> Result<Vec<Param>> {
    let list = sdk
        .models
        .get(model)
        .ok_or_else(|| format!("{ctx}: SDK model {model} missing"))?;
    let find = |v: Option<&Vec<Value>>, key: &str| -> Option<Value> {
        v.and_then(|items| {
            items
                .iter()
                .find(|p| p.get("name").and_then(Value::as_str) == Some(key))
                .cloned()
        })
    };
    if let Some(meta) = meta {
        for p in meta {
            let n = p.get("name").and_then(Value::as_str).unwrap_or("?");
            if !list.iter().any(|(k, _)| k == n) {
                return Err(format!(
                    "{ctx}.{n}: in the metadata, not in SDK model {model}"
                ));
            }
        }
    }
    if let Some(api) = api {
        let mut a: Vec<&str> = api
            .iter()
            .filter_map(|p| p.get("name").and_then(Value::as_str))
            .collect();
        let mut s: Vec<&str> = list.iter().map(|(k, _)| k.as_str()).collect();
        a.sort_unstable();
        s.sort_unstable();
        if a != s {
            return Err(format!(
                "{ctx}: the API reference's fields {a:?} differ from SDK model {model}'s {s:?}"
            ));
        }
    }
    let mut out = Vec::new();
    for (key, t) in list {
        let fctx = format!("{ctx}.{key}");
        let m = find(meta, key);
        let a = find(api, key);
        let required = match (&m, &a) {
            (Some(m), _) => get_bool(m, "required", &fctx)?,
            (None, Some(a)) => get_bool(a, "required", &fctx)?,
            (None, None) => false,
        };
        let sub_meta = m
            .as_ref()
            .and_then(|m| m.get("sub_parameters"))
            .and_then(Value::as_array);
        let sub_api = a
            .as_ref()
            .and_then(|a| a.get("children"))
            .and_then(Value::as_array);
        let kind = match t {
            SdkType::Model(sub) => Kind::Object(
                fields(sdk, sub, sub_meta, sub_api, position, &fctx)?,
                sub.clone(),
            ),
            SdkType::List(item) => match item.as_ref() {
                SdkType::Model(sub) => Kind::ObjectList(
                    fields(sdk, sub, sub_meta, sub_api, position, &fctx)?,
                    sub.clone(),
                ),
                t => Kind::List(scalar(t, &fctx)?),
            },
            t => Kind::Scalar(scalar(t, &fctx)?),
        };
        out.push(Param {
            name: key.clone(),
            position,
            kind,
            required,
        });
    }
    Ok(out)
}

fn meta_only_fields(list: &[Value], position: &'static str, ctx: &str) -> Result<Vec<Param>> {
    list.iter()
        .map(|p| {
            let name = get_str(p, "name", ctx)?;
            let fctx = format!("{ctx}.{name}");
            let kind = match get_str(p, "type", &fctx)? {
                "String" => Kind::Scalar("String"),
                "Integer" | "Long" => Kind::Scalar("Integer"),
                "Float" | "Double" => Kind::Scalar("Number"),
                "Boolean" => Kind::Scalar("Boolean"),
                "RepeatList" => Kind::List("String"),
                other => return Err(format!("{fctx}: unsupported nested type {other}")),
            };
            Ok(Param {
                name: name.to_owned(),
                position: self::position(p, Some(position), &fctx)?,
                kind,
                required: get_bool(p, "required", &fctx)?,
            })
        })
        .collect()
}
