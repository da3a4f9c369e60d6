//! `spec/declarations.json`: what vpngw adds to the vendor's facts to
//! declare the operations it serves (see its `_about`).

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::Result;
use crate::spec::{get, get_array, get_object, get_str};

pub struct Declarations {
    pub kinds: Vec<KindDecl>,
    /// Role of a parameter by its name.
    pub params: HashMap<String, Role>,
    /// Role of a parameter of one operation, by its path without indices.
    pub operations: HashMap<String, HashMap<String, Role>>,
    pub tables: Vec<TableDecl>,
    /// Per product code: families in order, each with its operations.
    pub families: BTreeMap<String, Vec<(String, Vec<String>)>>,
    /// Per operation: answer paths sent only when they have a value.
    pub optional: HashMap<String, Vec<String>>,
    pub secrets: Vec<String>,
}

pub struct KindDecl {
    pub name: String,
    /// The RAM service of its ARNs (`vpc` unless the declaration says).
    pub service: String,
    pub arn: String,
    pub prefix: String,
    pub words: Vec<String>,
    /// The store's name of the kind, when vpngw keeps such resources.
    pub store: Option<String>,
    pub not_found: Option<(String, String)>,
}

pub struct TableDecl {
    pub name: String,
    pub values: Vec<(String, String)>,
    /// `None`: `InvalidParameter` naming the parameter.
    pub unknown: Option<(String, String)>,
}

#[derive(Clone, Debug)]
pub enum Role {
    Kind(String),
    KindFrom { param: String, table: String },
    PartOf(String),
    Not,
}

fn pair(v: &Value, ctx: &str) -> Result<(String, String)> {
    match v.as_array().map(Vec::as_slice) {
        Some([Value::String(a), Value::String(b)]) => Ok((a.clone(), b.clone())),
        _ => Err(format!("{ctx}: expected [code, message]")),
    }
}

impl Declarations {
    pub fn parse(v: &Value) -> Result<Declarations> {
        let mut kinds = Vec::new();
        for (name, k) in get_object(v, "kinds", "declarations")? {
            let ctx = format!("kinds.{name}");
            kinds.push(KindDecl {
                name: name.clone(),
                service: k
                    .get("service")
                    .and_then(Value::as_str)
                    .unwrap_or("vpc")
                    .to_owned(),
                arn: get_str(k, "arn", &ctx)?.to_owned(),
                prefix: get_str(k, "prefix", &ctx)?.to_owned(),
                words: get_array(k, "words", &ctx)?
                    .iter()
                    .map(|w| {
                        w.as_str()
                            .map(str::to_owned)
                            .ok_or(format!("{ctx}: bad word"))
                    })
                    .collect::<Result<_>>()?,
                store: k.get("store").and_then(Value::as_str).map(str::to_owned),
                not_found: k.get("not_found").map(|n| pair(n, &ctx)).transpose()?,
            });
            if k.get("store").is_some() != k.get("not_found").is_some() {
                return Err(format!(
                    "{ctx}: a stored kind has a NotFound error, and only it"
                ));
            }
        }
        let mut tables = Vec::new();
        for (name, t) in get_object(v, "type_tables", "declarations")? {
            let ctx = format!("type_tables.{name}");
            let mut values = Vec::new();
            for (value, kind) in get_object(t, "values", &ctx)? {
                let kind = kind.as_str().ok_or(format!("{ctx}.{value}: not a kind"))?;
                values.push((value.clone(), kind.to_owned()));
            }
            let unknown = match get(t, "unknown", &ctx)? {
                Value::String(s) if s == "InvalidParameter" => None,
                other => Some(pair(other, &ctx)?),
            };
            tables.push(TableDecl {
                name: name.clone(),
                values,
                unknown,
            });
        }
        let mut params = HashMap::new();
        for (name, r) in get_object(v, "params", "declarations")? {
            params.insert(name.clone(), role(r, &format!("params.{name}"))?);
        }
        let mut operations = HashMap::new();
        for (op, over) in get_object(v, "operations", "declarations")? {
            let mut m = HashMap::new();
            for (path, r) in over
                .as_object()
                .ok_or(format!("operations.{op}: not an object"))?
            {
                m.insert(path.clone(), role(r, &format!("operations.{op}.{path}"))?);
            }
            operations.insert(op.clone(), m);
        }
        let mut families = BTreeMap::new();
        for (product, fams) in get_object(v, "families", "declarations")? {
            let mut list = Vec::new();
            for (family, ops) in fams
                .as_object()
                .ok_or(format!("families.{product}: not an object"))?
            {
                let ops = ops
                    .as_array()
                    .ok_or(format!("families.{product}.{family}: not a list"))?
                    .iter()
                    .map(|o| {
                        o.as_str()
                            .map(str::to_owned)
                            .ok_or("bad operation".to_owned())
                    })
                    .collect::<Result<Vec<_>>>()?;
                list.push((family.clone(), ops));
            }
            families.insert(product.clone(), list);
        }
        let mut optional = HashMap::new();
        for (op, paths) in get_object(v, "optional", "declarations")? {
            let paths = paths
                .as_array()
                .ok_or(format!("optional.{op}: not a list"))?
                .iter()
                .map(|p| p.as_str().map(str::to_owned).ok_or("bad path".to_owned()))
                .collect::<Result<Vec<_>>>()?;
            optional.insert(op.clone(), paths);
        }
        let secrets = get_array(v, "secrets", "declarations")?
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or("bad secret".to_owned()))
            .collect::<Result<_>>()?;
        let d = Declarations {
            kinds,
            params,
            operations,
            tables,
            families,
            optional,
            secrets,
        };
        d.check_names()?;
        Ok(d)
    }

    fn check_names(&self) -> Result<()> {
        let known = |k: &str| self.kinds.iter().any(|d| d.name == k);
        let all_roles = self
            .params
            .values()
            .chain(self.operations.values().flat_map(HashMap::values));
        for r in all_roles {
            match r {
                Role::Kind(k) | Role::PartOf(k) if !known(k) => {
                    return Err(format!("declarations: unknown kind {k}"));
                }
                Role::KindFrom { table, .. } if !self.tables.iter().any(|t| &t.name == table) => {
                    return Err(format!("declarations: unknown type table {table}"));
                }
                _ => {}
            }
        }
        for t in &self.tables {
            if let Some((_, k)) = t.values.iter().find(|(_, k)| !known(k)) {
                return Err(format!("type table {}: unknown kind {k}", t.name));
            }
        }
        Ok(())
    }

    /// The role of the parameter at `path` (names without indices) of `op`.
    pub fn role(&self, op: &str, path: &str, leaf: &str) -> Option<&Role> {
        self.operations
            .get(op)
            .and_then(|m| m.get(path))
            .or_else(|| self.params.get(leaf))
    }

    /// The kind whose words the operation's name contains (the longest).
    pub fn own_kind(&self, op: &str) -> Option<&str> {
        self.kinds
            .iter()
            .flat_map(|k| k.words.iter().map(move |w| (k, w)))
            .filter(|(_, w)| op.contains(w.as_str()))
            .max_by_key(|(_, w)| w.len())
            .map(|(k, _)| k.name.as_str())
    }
}

fn role(v: &Value, ctx: &str) -> Result<Role> {
    Ok(match v {
        Value::String(kind) => Role::Kind(kind.clone()),
        Value::Object(m) if m.contains_key("kind_from") => Role::KindFrom {
            param: get_str(v, "kind_from", ctx)?.to_owned(),
            table: get_str(v, "table", ctx)?.to_owned(),
        },
        Value::Object(m) if m.contains_key("part_of") => {
            Role::PartOf(get_str(v, "part_of", ctx)?.to_owned())
        }
        Value::Object(m) if m.contains_key("not") => Role::Not,
        other => return Err(format!("{ctx}: unknown role {other}")),
    })
}

/// Whether a parameter name looks like it names a resource.
pub fn looks_like_id(name: &str) -> bool {
    name.ends_with("Id") || name.ends_with("Ids") || name == "NextHop"
}
