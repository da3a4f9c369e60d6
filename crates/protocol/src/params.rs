//! Flattened request parameters (protocol.md §2) and their typed accessors.
//!
//! All decoded names and values of a request live in one string buffer; the map itself is a
//! vector of offsets sorted by name. Parsing a request therefore costs one allocation for the
//! text and one for the index, whatever the number of parameters.

use std::cmp::Ordering;
use std::fmt;

use crate::encoding::{decode_str_into, percent_encode_into, split_pairs};
use crate::error::ApiError;

/// Most parameters one request may carry (query and body together). Real requests carry a few
/// dozen; the bound keeps the work per request small. Exceeding it is `InvalidParameter`.
pub const MAX_PARAMS: usize = 1000;

/// Longest parameter name, in bytes after decoding. Exceeding it is `InvalidParameter`.
pub const MAX_NAME_LEN: usize = 256;

/// Where a parameter came from. V3 signs only the query; V1 signs both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    Query,
    Body,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    name: Span,
    value: Span,
    origin: Origin,
}

/// Decoded request parameters, sorted by name (byte order). Names are unique.
#[derive(Clone, Default)]
pub struct Params {
    buf: String,
    entries: Vec<Entry>,
}

impl Params {
    /// Build from decoded pairs, with the same rules as request parsing (limits, no duplicates,
    /// no empty names).
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, ApiError>
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut b = ParamsBuilder::new(0);
        for (k, v) in pairs {
            b.add(k.as_ref(), v.as_ref(), Origin::Query)?;
        }
        b.finish()
    }

    /// Decode a form-urlencoded string (`a=1&b=x+y`) into parameters.
    pub fn from_form(form: &str) -> Result<Self, ApiError> {
        let mut b = ParamsBuilder::new(form.len());
        b.add_form(form, Origin::Query)?;
        b.finish()
    }

    /// Canonical form encoding, `pct(name)=pct(value)` joined by `&`, in name order.
    pub fn to_form(&self) -> String {
        let mut out = String::with_capacity(self.buf.len() + self.entries.len() * 2);
        for (name, value) in self.iter() {
            if !out.is_empty() {
                out.push('&');
            }
            percent_encode_into(&mut out, name);
            out.push('=');
            percent_encode_into(&mut out, value);
        }
        out
    }

    #[inline]
    fn name_of(&self, e: &Entry) -> &str {
        &self.buf[e.name.start..e.name.end]
    }

    #[inline]
    fn value_of(&self, e: &Entry) -> &str {
        &self.buf[e.value.start..e.value.end]
    }

    /// The value of `name`, if present (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .binary_search_by(|e| self.name_of(e).cmp(name))
            .ok()
            .map(|i| self.value_of(&self.entries[i]))
    }

    /// Whether `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The value of a mandatory parameter. Absent or empty is `MissingParameter`.
    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        match self.get(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(ApiError::missing_parameter(name)),
        }
    }

    /// A boolean: `true`/`false` in any case (Python clients send `True`/`False`).
    /// Anything else, including an empty value, is `InvalidParameter`.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_parameter(name)),
        }
    }

    /// A decimal integer (optional sign). Anything else is `InvalidParameter`.
    pub fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::invalid_parameter(name)),
        }
    }

    /// Entries named `name.<rest>`, in name order, as `(rest, value, full name)`.
    pub fn children<'s, 'n>(
        &'s self,
        name: &'n str,
    ) -> impl Iterator<Item = (&'s str, &'s str, &'s str)> + use<'s, 'n> {
        let start = self
            .entries
            .partition_point(|e| cmp_with_dot(self.name_of(e), name) == Ordering::Less);
        self.entries[start..]
            .iter()
            .map(|e| (self.name_of(e), self.value_of(e)))
            .take_while(move |(full, _)| {
                full.len() > name.len()
                    && full.as_bytes()[name.len()] == b'.'
                    && full.starts_with(name)
            })
            .map(move |(full, value)| (&full[name.len() + 1..], value, full))
    }

    /// A flattened list `Name.1 .. Name.N`, ordered by index as a number (10 after 9). Gaps
    /// are tolerated. An index that is not a decimal in `1..=MAX_PARAMS` without leading zeros,
    /// or an entry with a deeper path (`Name.1.Field`), is `InvalidParameter` naming it.
    pub fn list(&self, name: &str) -> Result<Vec<&str>, ApiError> {
        let mut items: Vec<(usize, &str)> = Vec::new();
        for (rest, value, full) in self.children(name) {
            let idx = parse_index(rest).ok_or_else(|| ApiError::invalid_parameter(full))?;
            items.push((idx, value));
        }
        items.sort_unstable_by_key(|&(i, _)| i);
        Ok(items.into_iter().map(|(_, v)| v).collect())
    }

    /// A flattened list of structures `Name.N.Field[.Sub…]`: one `Params` per index, in index
    /// order, keyed by the rest of the name (which may itself be nested, e.g.
    /// `TunnelIkeConfig.Psk`, so `objects()`/`object()` work again on the result).
    /// A scalar `Name.N`, an empty field or a bad index is `InvalidParameter` naming it.
    pub fn objects(&self, name: &str) -> Result<Vec<Params>, ApiError> {
        let mut items: Vec<(usize, &str, &str)> = Vec::new();
        for (rest, value, full) in self.children(name) {
            let (idx, field) = rest
                .split_once('.')
                .ok_or_else(|| ApiError::invalid_parameter(full))?;
            let idx = parse_index(idx).ok_or_else(|| ApiError::invalid_parameter(full))?;
            if field.is_empty() {
                return Err(ApiError::invalid_parameter(full));
            }
            items.push((idx, field, value));
        }
        // Stable: within one index the fields keep their (sorted) name order.
        items.sort_by_key(|&(i, _, _)| i);
        let mut out: Vec<Params> = Vec::new();
        let mut current: Option<usize> = None;
        for (idx, field, value) in items {
            if current != Some(idx) {
                current = Some(idx);
                out.push(Params::default());
            }
            if let Some(p) = out.last_mut() {
                p.push_sorted(field, value);
            }
        }
        Ok(out)
    }

    /// An object-shaped parameter `Name.Field[.Sub…]` (for example ModifyTunnelAttribute's
    /// `TunnelOptionsSpecification.TunnelIkeConfig.Psk`), keyed by the rest of the name.
    /// `None` when there is no such entry.
    pub fn object(&self, name: &str) -> Option<Params> {
        let mut p = Params::default();
        for (rest, value, _) in self.children(name) {
            if !rest.is_empty() {
                p.push_sorted(rest, value);
            }
        }
        (!p.is_empty()).then_some(p)
    }

    /// Append an entry known to sort after every present one.
    fn push_sorted(&mut self, name: &str, value: &str) {
        let n0 = self.buf.len();
        self.buf.push_str(name);
        let n1 = self.buf.len();
        self.buf.push_str(value);
        let v1 = self.buf.len();
        self.entries.push(Entry {
            name: Span { start: n0, end: n1 },
            value: Span { start: n1, end: v1 },
            origin: Origin::Query,
        });
    }

    /// All `(name, value)` pairs in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|e| (self.name_of(e), self.value_of(e)))
    }

    /// Pairs that came from the query string (V3 signs only these).
    pub(crate) fn iter_query(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .filter(|e| e.origin == Origin::Query)
            .map(|e| (self.name_of(e), self.value_of(e)))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no parameters.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total bytes of decoded names and values (a capacity hint for canonical strings).
    pub(crate) fn text_len(&self) -> usize {
        self.buf.len()
    }
}

impl fmt::Debug for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Params {}

/// Compare `s` with `prefix + "."` without allocating.
fn cmp_with_dot(s: &str, prefix: &str) -> Ordering {
    s.as_bytes()
        .iter()
        .cmp(prefix.as_bytes().iter().chain(std::iter::once(&b'.')))
}

/// A list index: decimal, no sign, no leading zero, `1..=MAX_PARAMS` (no request can carry
/// more elements than that).
fn parse_index(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.is_empty() || b.len() > 4 || b[0] == b'0' || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = b
        .iter()
        .fold(0usize, |acc, &d| acc * 10 + usize::from(d - b'0'));
    (n <= MAX_PARAMS).then_some(n)
}

/// Accumulates decoded pairs from the query and the body, then sorts and checks them.
pub(crate) struct ParamsBuilder {
    buf: String,
    entries: Vec<Entry>,
    scratch: Vec<u8>,
}

impl ParamsBuilder {
    pub(crate) fn new(text_hint: usize) -> Self {
        Self {
            buf: String::with_capacity(text_hint),
            entries: Vec::with_capacity(16),
            scratch: Vec::new(),
        }
    }

    /// Decode `raw` (form rules) onto the end of the buffer.
    fn push_decoded(&mut self, raw: &str) -> Result<Span, std::str::Utf8Error> {
        let start = self.buf.len();
        decode_str_into(&mut self.buf, raw, &mut self.scratch)?;
        Ok(Span {
            start,
            end: self.buf.len(),
        })
    }

    fn check_room(&self) -> Result<(), ApiError> {
        if self.entries.len() >= MAX_PARAMS {
            return Err(ApiError::new(
                "InvalidParameter",
                format!("The request carries more than {MAX_PARAMS} parameters."),
            ));
        }
        Ok(())
    }

    fn check_name(name: &str) -> Result<(), ApiError> {
        if name.is_empty() {
            return Err(ApiError::invalid_parameter_because(
                "",
                "a parameter name is empty.",
            ));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(ApiError::invalid_parameter_because(
                name,
                "parameter names are limited to 256 bytes.",
            ));
        }
        Ok(())
    }

    /// Add every pair of a form-urlencoded string.
    pub(crate) fn add_form(&mut self, input: &str, origin: Origin) -> Result<(), ApiError> {
        for (raw_name, raw_value) in split_pairs(input) {
            self.check_room()?;
            let name = self.push_decoded(raw_name).map_err(|_| {
                ApiError::invalid_parameter_because(raw_name, "the name is not UTF-8.")
            })?;
            Self::check_name(&self.buf[name.start..name.end])?;
            let value = self.push_decoded(raw_value).map_err(|_| {
                ApiError::invalid_parameter_because(
                    &self.buf[name.start..name.end],
                    "the value is not UTF-8.",
                )
            })?;
            self.entries.push(Entry {
                name,
                value,
                origin,
            });
        }
        Ok(())
    }

    /// Add one already-decoded pair.
    pub(crate) fn add(&mut self, name: &str, value: &str, origin: Origin) -> Result<(), ApiError> {
        self.check_room()?;
        Self::check_name(name)?;
        let n0 = self.buf.len();
        self.buf.push_str(name);
        let n1 = self.buf.len();
        self.buf.push_str(value);
        self.entries.push(Entry {
            name: Span { start: n0, end: n1 },
            value: Span {
                start: n1,
                end: self.buf.len(),
            },
            origin,
        });
        Ok(())
    }

    /// Sort by name and reject duplicates.
    ///
    /// A name given twice (twice in the query, or in the query and in the body) is
    /// `InvalidParameter`: no official client sends one, and accepting it would leave it open
    /// which value the signature and the handler see.
    pub(crate) fn finish(self) -> Result<Params, ApiError> {
        let Self {
            buf, mut entries, ..
        } = self;
        let name = |e: &Entry| &buf[e.name.start..e.name.end];
        // Stable sort: query and body usually arrive as two sorted runs, which it merges in
        // linear time.
        entries.sort_by(|a, b| name(a).cmp(name(b)));
        if let Some(w) = entries.windows(2).find(|w| name(&w[0]) == name(&w[1])) {
            return Err(ApiError::invalid_parameter_because(
                name(&w[0]),
                "it is given more than once.",
            ));
        }
        Ok(Params { buf, entries })
    }
}

/// Flatten a JSON value the way the clients do (protocol.md §2): objects become
/// `Name.Field`, arrays `Name.N` counting from 1, scalars their text (`true`, `86400`), and
/// `null` is left out. With an empty `prefix` a top-level object's keys are used as they are.
/// Handy for building requests in tests.
pub fn flatten_json(prefix: &str, value: &serde_json::Value, out: &mut Vec<(String, String)>) {
    use serde_json::Value;
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push((prefix.to_owned(), b.to_string())),
        Value::Number(n) => out.push((prefix.to_owned(), n.to_string())),
        Value::String(s) => out.push((prefix.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten_json(&join(&(i + 1).to_string()), item, out);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                flatten_json(&join(k), v, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied()).expect("valid pairs")
    }

    #[test]
    fn get_required_and_typed() {
        let ps = p(&[
            ("A", "1"),
            ("Empty", ""),
            ("T", "True"),
            ("F", "FALSE"),
            ("N", "-42"),
            ("Bad", "yes"),
        ]);
        assert_eq!(ps.get("A"), Some("1"));
        assert_eq!(ps.get("Z"), None);
        assert_eq!(ps.required("A"), Ok("1"));
        assert_eq!(
            ps.required("Empty").map_err(|e| e.code),
            Err("MissingParameter".into())
        );
        assert_eq!(
            ps.required("Z").map_err(|e| e.code),
            Err("MissingParameter".into())
        );
        assert_eq!(ps.bool("T"), Ok(Some(true)));
        assert_eq!(ps.bool("F"), Ok(Some(false)));
        assert_eq!(ps.bool("Z"), Ok(None));
        assert!(ps.bool("Bad").is_err_and(|e| e.message.contains("\"Bad\"")));
        assert!(ps.bool("Empty").is_err());
        assert_eq!(ps.i64("N"), Ok(Some(-42)));
        assert_eq!(ps.i64("A"), Ok(Some(1)));
        assert!(ps.i64("Bad").is_err_and(|e| e.code == "InvalidParameter"));
        assert_eq!(ps.len(), 6);
        assert!(!ps.is_empty());
        let names: Vec<_> = ps.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["A", "Bad", "Empty", "F", "N", "T"]);
    }

    #[test]
    fn list_sorts_numerically() {
        let mut pairs: Vec<(String, String)> = (1..=12)
            .map(|i| (format!("VpnConnectionId.{i}"), format!("v{i}")))
            .collect();
        pairs.push(("VpnConnectionIdx".into(), "other".into()));
        pairs.push(("VpnConnectionId".into(), "scalar".into()));
        let ps = Params::from_pairs(pairs).expect("valid");
        let got = ps.list("VpnConnectionId").expect("list");
        let want: Vec<String> = (1..=12).map(|i| format!("v{i}")).collect();
        assert_eq!(got, want);
        assert_eq!(ps.list("Nothing"), Ok(vec![]));
    }

    #[test]
    fn list_rejects_bad_indices() {
        for bad in [
            "0",
            "01",
            "x",
            "-1",
            "+1",
            "1001",
            "99999999999999999999",
            "",
        ] {
            let ps = p(&[(&format!("L.{bad}"), "v")]);
            let err = ps.list("L").expect_err(bad);
            assert_eq!(err.code, "InvalidParameter", "{bad}");
            assert!(err.message.contains(&format!("\"L.{bad}\"")), "{bad}");
        }
        assert!(p(&[("L.1.X", "v")]).list("L").is_err());
        assert_eq!(p(&[("L.1000", "v")]).list("L"), Ok(vec!["v"]));
    }

    #[test]
    fn objects_group_by_index() {
        let ps = p(&[
            ("Tags.2.Key", "owner"),
            ("Tags.1.Key", "env"),
            ("Tags.1.Value", "test"),
            ("Tags.10.Key", "ten"),
            ("Tags.2.Value", "ops team"),
            ("TagsX", "no"),
            ("T.1.TunnelIkeConfig.Psk", "secret"),
            ("T.1.TunnelIkeConfig.IkeMode", "main"),
            ("T.1.Role", "master"),
        ]);
        let tags = ps.objects("Tags").expect("objects");
        assert_eq!(tags.len(), 3);
        assert_eq!(tags[0], p(&[("Key", "env"), ("Value", "test")]));
        assert_eq!(tags[1], p(&[("Key", "owner"), ("Value", "ops team")]));
        assert_eq!(tags[2], p(&[("Key", "ten")]));
        let t = ps.objects("T").expect("objects");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].get("Role"), Some("master"));
        let ike = t[0].object("TunnelIkeConfig").expect("ike");
        assert_eq!(ike, p(&[("IkeMode", "main"), ("Psk", "secret")]));
        assert!(t[0].object("TunnelBgpConfig").is_none());
        assert_eq!(ps.objects("None"), Ok(vec![]));
    }

    #[test]
    fn objects_reject_bad_shapes() {
        for bad in ["L.1", "L.0.X", "L.1.", "L.a.X"] {
            let err = p(&[(bad, "v")]).objects("L").expect_err(bad);
            assert!(err.message.contains(&format!("\"{bad}\"")), "{bad}");
        }
    }

    #[test]
    fn object_shaped_parameter() {
        let ps = p(&[
            ("TunnelOptionsSpecification.TunnelIkeConfig.Psk", "k"),
            ("TunnelOptionsSpecification.EnableDpd", "true"),
            ("TunnelId", "tun-1"),
        ]);
        let o = ps.object("TunnelOptionsSpecification").expect("object");
        assert_eq!(o.bool("EnableDpd"), Ok(Some(true)));
        assert_eq!(
            o.object("TunnelIkeConfig")
                .and_then(|i| i.get("Psk").map(str::to_owned)),
            Some("k".into())
        );
        assert!(ps.object("Tunnel").is_none());
    }

    #[test]
    fn builder_limits_and_duplicates() {
        let dup = Params::from_form("A=1&B=2&A=3").expect_err("duplicate");
        assert_eq!(dup.code, "InvalidParameter");
        assert!(dup.message.contains("\"A\""));
        assert!(Params::from_form("=x").is_err());
        let long = "N".repeat(MAX_NAME_LEN + 1);
        assert!(Params::from_form(&format!("{long}=1")).is_err());
        assert!(Params::from_form(&format!("{}=1", &long[1..])).is_ok());
        let many: Vec<String> = (0..=MAX_PARAMS).map(|i| format!("P{i}=1")).collect();
        assert!(Params::from_form(&many.join("&")).is_err());
        assert!(Params::from_form(&many[1..].join("&")).is_ok());
        assert!(Params::from_form("A=%FF").is_err());
        assert!(Params::from_form("%FF=1").is_err());
    }

    #[test]
    fn form_round_trip() {
        let ps = Params::from_form("b=x+y%2B&a=%C3%A9&c=&d").expect("valid");
        assert_eq!(ps, p(&[("a", "é"), ("b", "x y+"), ("c", ""), ("d", "")]));
        assert_eq!(ps.to_form(), "a=%C3%A9&b=x%20y%2B&c=&d=");
        assert_eq!(Params::from_form(&ps.to_form()), Ok(ps));
    }

    #[test]
    fn flatten_like_clients() {
        let v = serde_json::json!({
            "RegionId": "cn-hangzhou",
            "Tags": [{"Key": "env", "Value": "test"}, {"Key": "owner"}],
            "EnableDpd": true,
            "Lifetime": 86400,
            "Unset": null,
        });
        let mut out = Vec::new();
        flatten_json("", &v, &mut out);
        let ps = Params::from_pairs(out).expect("valid");
        assert_eq!(
            ps,
            p(&[
                ("EnableDpd", "true"),
                ("Lifetime", "86400"),
                ("RegionId", "cn-hangzhou"),
                ("Tags.1.Key", "env"),
                ("Tags.1.Value", "test"),
                ("Tags.2.Key", "owner"),
            ])
        );
    }
}
