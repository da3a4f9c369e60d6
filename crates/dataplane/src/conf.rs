//! A small, ordered tree of strongSwan settings.
//!
//! One [`Section`] is both what we send to charon over vici (it implements
//! `Serialize`/`Deserialize` in the shape `serde_vici` expects: sections are
//! maps, lists are sequences of strings, values are strings) and what we print
//! as `swanctl.conf` text. Responses and events from charon are read into the
//! same type, so no fragile per-message serde structs are needed.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value inside a [`Section`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// A single key/value string.
    Str(String),
    /// A list of strings (printed comma-separated in `swanctl.conf`).
    List(Vec<String>),
    /// A nested section.
    Section(Section),
}

/// An ordered list of `key = value` entries and nested sections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Section {
    entries: Vec<(String, Value)>,
}

impl Section {
    /// An empty section.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builder: append `key = value`.
    #[must_use]
    pub fn kv(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(key, Value::Str(value.into()));
        self
    }

    /// Builder: append `key = a, b, c`.
    #[must_use]
    pub fn list<I, S>(mut self, key: impl Into<String>, items: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push(
            key,
            Value::List(items.into_iter().map(Into::into).collect()),
        );
        self
    }

    /// Builder: append a nested section.
    #[must_use]
    pub fn section(mut self, key: impl Into<String>, section: Section) -> Self {
        self.push(key, Value::Section(section));
        self
    }

    /// Append an entry.
    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.entries.push((key.into(), value));
    }

    /// All entries in order.
    pub fn entries(&self) -> &[(String, Value)] {
        &self.entries
    }

    /// The first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string value of `key`, if it is a plain value.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` parsed as a number (charon sends numbers as text).
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        self.get_str(key).and_then(|s| s.trim().parse().ok())
    }

    /// The list value of `key` (a plain value is returned as a one-item list).
    pub fn get_list(&self, key: &str) -> Vec<String> {
        match self.get(key) {
            Some(Value::List(items)) => items.clone(),
            Some(Value::Str(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// The nested section `key`.
    pub fn get_section(&self, key: &str) -> Option<&Section> {
        match self.get(key) {
            Some(Value::Section(s)) => Some(s),
            _ => None,
        }
    }

    /// Nested sections with their names, in order.
    pub fn sections(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.entries.iter().filter_map(|(k, v)| match v {
            Value::Section(s) => Some((k.as_str(), s)),
            _ => None,
        })
    }

    /// Print in the `swanctl.conf` / `strongswan.conf` syntax, indenting by
    /// four spaces per level starting at `level`.
    pub fn write_conf(&self, out: &mut String, level: usize) {
        let pad = "    ".repeat(level);
        for (key, value) in &self.entries {
            match value {
                Value::Str(s) => {
                    out.push_str(&format!("{pad}{key} = {}\n", conf_value(s)));
                }
                Value::List(items) => {
                    let joined: Vec<String> = items.iter().map(|s| conf_value(s)).collect();
                    out.push_str(&format!("{pad}{key} = {}\n", joined.join(",")));
                }
                Value::Section(s) => {
                    out.push_str(&format!("{pad}{key} {{\n"));
                    s.write_conf(out, level + 1);
                    out.push_str(&format!("{pad}}}\n"));
                }
            }
        }
    }

    /// The whole section as `swanctl.conf` text.
    pub fn to_conf(&self) -> String {
        let mut out = String::new();
        self.write_conf(&mut out, 0);
        out
    }
}

/// Quote a value for the strongSwan settings syntax when it would not
/// survive unquoted (spaces, separators, comment or brace characters).
pub(crate) fn conf_value(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '@' | '%' | '*')
        });
    if plain {
        s.to_string()
    } else {
        let mut q = String::with_capacity(s.len() + 2);
        q.push('"');
        for c in s.chars() {
            match c {
                '"' => q.push_str("\\\""),
                '\\' => q.push_str("\\\\"),
                '\n' => q.push_str("\\n"),
                '\t' => q.push_str("\\t"),
                c => q.push(c),
            }
        }
        q.push('"');
        q
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Str(s) => serializer.serialize_str(s),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Value::Section(s) => s.serialize(serializer),
        }
    }
}

impl Serialize for Section {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a vici value, list or section")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            match item {
                Value::Str(s) => items.push(s),
                Value::List(inner) => items.extend(inner),
                Value::Section(_) => {}
            }
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        SectionVisitor.visit_map(map).map(Value::Section)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct SectionVisitor;

impl<'de> Visitor<'de> for SectionVisitor {
    type Value = Section;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a vici section")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Section, A::Error> {
        let mut section = Section::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            section.push(k, v);
        }
        Ok(section)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Section, E> {
        Ok(Section::new())
    }
}

impl<'de> Deserialize<'de> for Section {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(SectionVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_nested_sections_and_lists() {
        let s = Section::new().section(
            "connections",
            Section::new().section(
                "a",
                Section::new()
                    .kv("version", "1")
                    .list("proposals", ["aes128-sha1-modp1024"])
                    .list("local_ts", ["10.0.0.0/24", "10.0.1.0/24"])
                    .kv("id", "with space"),
            ),
        );
        assert_eq!(
            s.to_conf(),
            "connections {\n    a {\n        version = 1\n        proposals = aes128-sha1-modp1024\n        local_ts = 10.0.0.0/24,10.0.1.0/24\n        id = \"with space\"\n    }\n}\n"
        );
    }

    #[test]
    fn quotes_awkward_values() {
        assert_eq!(conf_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(conf_value(""), "\"\"");
        assert_eq!(conf_value("198.18.0.1"), "198.18.0.1");
    }

    #[test]
    fn accessors() {
        let s = Section::new()
            .kv("n", "42")
            .list("l", ["x", "y"])
            .section("sub", Section::new().kv("k", "v"));
        assert_eq!(s.get_u64("n"), Some(42));
        assert_eq!(s.get_list("l"), vec!["x", "y"]);
        assert_eq!(s.get_list("n"), vec!["42"]);
        assert_eq!(s.get_section("sub").and_then(|x| x.get_str("k")), Some("v"));
        assert_eq!(s.sections().count(), 1);
        assert!(s.get("missing").is_none());
    }
}
