//! Generator of `crates/model/src/operations.rs`, the operation table of
//! vpngw-model.
//!
//! The vendor's pinned request metadata (`spec/upstream-meta-subset.json`)
//! gives each operation's methods and parameters (name, position, type,
//! required). `spec/vpc-ipsec-api.json` is cross-checked against it (any
//! disagreement aborts generation) and adds what the metadata lacks: the
//! fields of `Array`/`Struct` parameters, which string parameters hold JSON,
//! and each operation's documented errors.
//!
//! The output is written directly in rustfmt's style, so it needs no
//! formatter and is byte-for-byte reproducible.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Vendor request metadata, relative to the workspace root.
pub const META_SPEC: &str = "spec/upstream-meta-subset.json";
/// Request/response/error reference, relative to the workspace root.
pub const API_SPEC: &str = "spec/vpc-ipsec-api.json";
/// The generated file, relative to the workspace root.
pub const OUTPUT: &str = "crates/model/src/operations.rs";

/// Hand-written types and functions copied verbatim into the output.
const PREAMBLE: &str = include_str!("../templates/operations_preamble.rs");

pub type Result<T> = std::result::Result<T, String>;

/// The workspace this generator was built in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads the spec files under `root` and returns the text of [`OUTPUT`].
pub fn generate_in(root: &Path) -> Result<String> {
    let meta = read_json(&root.join(META_SPEC))?;
    let api = read_json(&root.join(API_SPEC))?;
    generate(&meta, &api)
}

/// Returns the text of [`OUTPUT`] for the parsed spec files.
pub fn generate(meta: &Value, api: &Value) -> Result<String> {
    Ok(render(&Model::build(meta, api)?))
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))
}

// ---------------------------------------------------------------------------
// Intermediate model

struct Model {
    product: String,
    version: String,
    meta_commit: String,
    common_errors: Vec<DocError>,
    operations: Vec<Operation>,
}

struct Operation {
    name: String,
    methods: Vec<String>,
    params: Vec<Param>,
    errors: Vec<DocError>,
    client_handled: Vec<(String, &'static str)>,
}

struct Param {
    name: String,
    position: &'static str,
    kind: Kind,
    required: bool,
}

enum Kind {
    /// `String`, `Integer`, `Boolean` or `Json`.
    Scalar(&'static str),
    List(&'static str),
    ObjectList(Vec<Param>),
    Object(Vec<Param>),
}

#[derive(Clone)]
struct DocError {
    status: u16,
    code: String,
    message: String,
}

fn get<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a Value> {
    v.get(key).ok_or_else(|| format!("{ctx}: missing `{key}`"))
}

fn get_str<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a str> {
    get(v, key, ctx)?
        .as_str()
        .ok_or_else(|| format!("{ctx}: `{key}` is not a string"))
}

fn get_bool(v: &Value, key: &str, ctx: &str) -> Result<bool> {
    get(v, key, ctx)?
        .as_bool()
        .ok_or_else(|| format!("{ctx}: `{key}` is not a boolean"))
}

fn get_array<'a>(v: &'a Value, key: &str, ctx: &str) -> Result<&'a [Value]> {
    get(v, key, ctx)?
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{ctx}: `{key}` is not an array"))
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

impl Model {
    fn build(meta: &Value, api: &Value) -> Result<Model> {
        let product = get(meta, "product", "metadata")?;
        let meta_apis = get(meta, "apis", "metadata")?
            .as_object()
            .ok_or("metadata: `apis` is not an object")?;
        let api_ops = get(api, "operations", "reference")?
            .as_object()
            .ok_or("reference: `operations` is not an object")?;
        let mut meta_names: Vec<&String> = meta_apis.keys().collect();
        let mut api_names: Vec<&String> = api_ops.keys().collect();
        meta_names.sort();
        api_names.sort();
        if meta_names != api_names {
            return Err(format!(
                "the spec files list different operations:\n  metadata:  {meta_names:?}\n  reference: {api_names:?}"
            ));
        }

        let protocol = get(api, "protocol", "reference")?;
        let json_params: Vec<&str> = get_array(protocol, "json_string_params", "reference")?
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|s| s.split_whitespace().next())
            .collect();

        // Status and message of every documented code, to complete entries
        // that give only the code (those harvested from terraform).
        let mut known: HashMap<String, DocError> = HashMap::new();
        let mut common_errors = Vec::new();
        for (name, op) in api_ops {
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

        let mut operations = Vec::new();
        for name in meta_names {
            let m = &meta_apis[name];
            let a = &api_ops[name];
            let ctx = name.as_str();
            let methods = get_str(m, "method", ctx)?
                .split('|')
                .map(|s| s.trim().to_ascii_uppercase())
                .collect();
            let params = convert_params(
                Some(get_array(m, "parameters", ctx)?),
                get_array(a, "request", ctx)?,
                None,
                &json_params,
                ctx,
            )?;
            let (errors, client_handled) = op_errors(get_array(a, "errors", ctx)?, &known, ctx)?;
            operations.push(Operation {
                name: name.clone(),
                methods,
                params,
                errors,
                client_handled,
            });
        }

        Ok(Model {
            product: get_str(product, "code", "metadata product")?.to_owned(),
            version: get_str(product, "version", "metadata product")?.to_owned(),
            meta_commit: get_str(get(meta, "_source", "metadata")?, "commit", "metadata")?
                .to_owned(),
            common_errors,
            operations,
        })
    }
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

/// Converts one level of parameters. `meta` is the metadata's list (absent
/// for fields it does not describe); `api` is the reference's list, which
/// must agree with it name for name.
fn convert_params(
    meta: Option<&[Value]>,
    api: &[Value],
    parent_position: Option<&'static str>,
    json_params: &[&str],
    ctx: &str,
) -> Result<Vec<Param>> {
    if let Some(meta) = meta {
        let names = |list: &[Value]| -> Vec<String> {
            list.iter()
                .map(|p| {
                    p.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                        .to_owned()
                })
                .collect()
        };
        if names(meta) != names(api) {
            return Err(format!(
                "{ctx}: parameters differ between the spec files:\n  metadata:  {:?}\n  reference: {:?}",
                names(meta),
                names(api)
            ));
        }
    }
    api.iter()
        .enumerate()
        .map(|(i, a)| {
            let m = meta.and_then(|meta| meta.get(i));
            convert_param(m, a, parent_position, json_params, ctx)
        })
        .collect()
}

fn convert_param(
    meta: Option<&Value>,
    api: &Value,
    parent_position: Option<&'static str>,
    json_params: &[&str],
    ctx: &str,
) -> Result<Param> {
    let name = get_str(api, "name", ctx)?;
    let ctx = &format!("{ctx}.{name}");
    let required = get_bool(api, "required", ctx)?;
    // The metadata's type names; the reference spells nested ones in
    // lower case (`string`, `object`, `array<string>`).
    let api_type = match api.get("meta_type").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None => match get_str(api, "type", ctx)? {
            "object" => "Struct".to_owned(),
            t if t.starts_with("array<") => "RepeatList".to_owned(),
            t => capitalize(t),
        },
    };
    let api_position = api.get("position").and_then(Value::as_str);
    let (ty, position) = match meta {
        Some(m) => {
            let ty = get_str(m, "type", ctx)?;
            let position = m.get("position").and_then(Value::as_str);
            let same_type = ty == api_type || (ty == "Array" && api_type == "RepeatList");
            let same_position = api_position.is_none() || position == api_position;
            if !same_type || !same_position || get_bool(m, "required", ctx)? != required {
                return Err(format!(
                    "{ctx}: spec files disagree: metadata {m}, reference {api}"
                ));
            }
            (ty.to_owned(), position)
        }
        None => (api_type, api_position),
    };
    let position = match position {
        Some("Query") => "Query",
        Some("Body") => "Body",
        Some("Host") => "Host",
        None => parent_position.ok_or_else(|| format!("{ctx}: no position"))?,
        Some(other) => return Err(format!("{ctx}: unsupported position {other}")),
    };

    let fields = |ctx: &str| -> Result<Vec<Param>> {
        let api_fields = get_array(api, "children", ctx)?;
        let meta_fields = match meta.and_then(|m| m.get("sub_parameters")) {
            Some(v) => Some(
                v.as_array()
                    .map(Vec::as_slice)
                    .ok_or("bad sub_parameters")?,
            ),
            None => None,
        };
        convert_params(meta_fields, api_fields, Some(position), &[], ctx)
    };
    let kind = match ty.as_str() {
        "String" if json_params.contains(&name) => Kind::Scalar("Json"),
        "String" => Kind::Scalar("String"),
        "Integer" => Kind::Scalar("Integer"),
        "Boolean" => Kind::Scalar("Boolean"),
        "Struct" => Kind::Object(fields(ctx)?),
        "RepeatList" | "Array" => match get_str(api, "type", ctx)? {
            "array<object>" => Kind::ObjectList(fields(ctx)?),
            "array<string>" => Kind::List("String"),
            "array<integer>" => Kind::List("Integer"),
            "array<boolean>" => Kind::List("Boolean"),
            other => return Err(format!("{ctx}: unsupported list type {other}")),
        },
        other => return Err(format!("{ctx}: unsupported metadata type {other}")),
    };
    Ok(Param {
        name: name.to_owned(),
        position,
        kind,
        required,
    })
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

// ---------------------------------------------------------------------------
// Rendering, in rustfmt's layout (every struct literal here is wider than
// rustfmt's `struct_lit_width`, so each field goes on its own line).

struct Writer {
    out: String,
    indent: usize,
}

impl Writer {
    fn line(&mut self, text: &str) {
        if !text.is_empty() {
            self.out.extend(std::iter::repeat_n("    ", self.indent));
            self.out.push_str(text);
        }
        self.out.push('\n');
    }

    /// Writes the slice literal `{head}&[...]{tail}`. `item(w, open, close)`
    /// writes one element as `{open}Type {`, its fields, `}{close}`; rustfmt
    /// hugs a lone element with the brackets.
    fn list<T>(
        &mut self,
        head: &str,
        tail: &str,
        items: &[T],
        item: fn(&mut Self, &T, &str, &str),
    ) {
        match items {
            [] => self.line(&format!("{head}&[]{tail}")),
            [only] => item(self, only, &format!("{head}&["), &format!("]{tail}")),
            _ => {
                self.line(&format!("{head}&["));
                self.indent += 1;
                for it in items {
                    item(self, it, "", ",");
                }
                self.indent -= 1;
                self.line(&format!("]{tail}"));
            }
        }
    }

    /// Writes `{open}{ty} {`, the `fields` one per line, `}{close}`.
    fn literal(&mut self, open: &str, ty: &str, close: &str, fields: impl FnOnce(&mut Self)) {
        self.line(&format!("{open}{ty} {{"));
        self.indent += 1;
        fields(self);
        self.indent -= 1;
        self.line(&format!("}}{close}"));
    }

    fn param(&mut self, p: &Param, open: &str, close: &str) {
        self.literal(open, "Param", close, |w| {
            w.line(&format!("name: {:?},", p.name));
            w.line(&format!("position: Position::{},", p.position));
            match &p.kind {
                Kind::Scalar(s) => w.line(&format!("kind: ParamKind::{s},")),
                Kind::List(s) => w.line(&format!("kind: ParamKind::List(&ParamKind::{s}),")),
                Kind::ObjectList(f) => w.list("kind: ParamKind::ObjectList(", "),", f, Self::param),
                Kind::Object(f) => w.list("kind: ParamKind::Object(", "),", f, Self::param),
            }
            w.line(&format!("required: {},", p.required));
        });
    }

    fn error(&mut self, e: &DocError, open: &str, close: &str) {
        self.literal(open, "DocumentedError", close, |w| {
            w.line(&format!("status: {},", e.status));
            w.line(&format!("code: {:?},", e.code));
            w.line(&format!("message: {:?},", e.message));
        });
    }

    fn client_handled(
        &mut self,
        (code, handling): &(String, &'static str),
        open: &str,
        close: &str,
    ) {
        self.literal(open, "ClientHandledError", close, |w| {
            w.line(&format!("code: {code:?},"));
            w.line(&format!("handling: ClientHandling::{handling},"));
        });
    }

    fn operation(&mut self, op: &Operation, open: &str, close: &str) {
        self.literal(open, "Operation", close, |w| {
            w.line(&format!("name: {:?},", op.name));
            let methods: Vec<String> = op.methods.iter().map(|m| format!("{m:?}")).collect();
            w.line(&format!("http_methods: &[{}],", methods.join(", ")));
            w.list("params: ", ",", &op.params, Self::param);
            w.list("errors: ", ",", &op.errors, Self::error);
            w.list(
                "client_handled: ",
                ",",
                &op.client_handled,
                Self::client_handled,
            );
        });
    }
}

fn render(model: &Model) -> String {
    let mut w = Writer {
        out: String::new(),
        indent: 0,
    };
    w.line(&format!(
        "// @generated by vpngw-codegen from {META_SPEC} and {API_SPEC}; do not edit."
    ));
    w.line("// Regenerate with `cargo run -p vpngw-codegen`.");
    w.line("");
    w.line(&format!(
        "//! The {} {} operations vpngw serves: methods, request parameters and",
        model.product, model.version
    ));
    w.line("//! documented errors, from the vendor's request metadata (aliyun-openapi-meta");
    w.line(&format!("//! commit {}).", model.meta_commit));
    w.out.push_str(PREAMBLE);
    w.line("");
    w.line("/// API product code.");
    w.line(&format!("pub const PRODUCT: &str = {:?};", model.product));
    w.line("/// API version.");
    w.line(&format!("pub const VERSION: &str = {:?};", model.version));
    w.line("");
    w.line("/// Gateway-level errors any operation may return.");
    w.list(
        "pub static COMMON_ERRORS: &[DocumentedError] = ",
        ";",
        &model.common_errors,
        Writer::error,
    );
    w.line("");
    w.line("/// Every operation, sorted by name.");
    w.list(
        "pub static OPERATIONS: &[Operation] = ",
        ";",
        &model.operations,
        Writer::operation,
    );
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn specs() -> (Value, Value) {
        let root = workspace_root();
        let meta = read_json(&root.join(META_SPEC)).expect("metadata");
        let api = read_json(&root.join(API_SPEC)).expect("reference");
        (meta, api)
    }

    #[test]
    fn generates_from_the_pinned_specs() {
        let (meta, api) = specs();
        let text = generate(&meta, &api).expect("generation");
        assert!(text.starts_with("// @generated by vpngw-codegen"));
        assert_eq!(text.matches("    Operation {\n").count(), 50);
    }

    #[test]
    fn rejects_disagreeing_specs() {
        let (meta, mut api) = specs();
        api["operations"]["CreateVpnGateway"]["request"][1]["required"] = Value::Bool(false);
        let err = generate(&meta, &api).expect_err("mismatch must fail");
        assert!(err.contains("CreateVpnGateway.Bandwidth"), "{err}");
    }

    #[test]
    fn rejects_unknown_types() {
        let (mut meta, api) = specs();
        meta["apis"]["CreateVpnGateway"]["parameters"][0]["type"] = "Double".into();
        assert!(generate(&meta, &api).is_err());
    }
}
