//! How answers are printed: JSON in the server's key order, or the aliyun
//! CLI's table (`--output cols=… rows=…`).

use anyhow::bail;
use serde_json::Value;

use super::args::TableSpec;
use crate::text::printable;

/// Indents a JSON text two spaces per level, as `serde_json`'s pretty printer
/// does, but keeping the keys in the order the server sent them (as the
/// aliyun CLI prints answers). The text is valid JSON: the client parsed it.
pub fn pretty(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = raw.trim().chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                out.push(c);
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(close);
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// A path segment that matched nothing, and the keys that were there.
#[derive(Debug)]
pub struct Miss {
    segment: String,
    keys: String,
}

impl Miss {
    fn explain(&self, place: &str) -> String {
        format!(
            "{:?} matches nothing in {place} (keys there: {})",
            self.segment, self.keys
        )
    }
}

/// Follows `A.B[].C` from `value`; `[]` (or `[*]`) flattens a list. A
/// segment that matches in none of the values is a [`Miss`].
pub fn lookup<'a>(value: &'a Value, path: &str) -> Result<Vec<&'a Value>, Miss> {
    let mut current = vec![value];
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (name, flatten) = match seg.strip_suffix("[]").or_else(|| seg.strip_suffix("[*]")) {
            Some(n) => (n, true),
            None => (seg, false),
        };
        let mut next = Vec::new();
        let mut matched = current.is_empty();
        for v in &current {
            let v = if name.is_empty() {
                Some(*v)
            } else {
                v.get(name)
            };
            matched |= v.is_some();
            match (v, flatten) {
                (Some(Value::Array(items)), true) => next.extend(items.iter()),
                (Some(v), _) => next.push(v),
                (None, _) => {}
            }
        }
        if !matched {
            let mut keys: Vec<&str> = current
                .iter()
                .filter_map(|v| v.as_object())
                .flat_map(|o| o.keys().map(String::as_str))
                .collect();
            keys.sort_unstable();
            keys.dedup();
            return Err(Miss {
                segment: name.to_owned(),
                keys: if keys.is_empty() {
                    "none".to_owned()
                } else {
                    keys.join(", ")
                },
            });
        }
        current = next;
    }
    Ok(current)
}

/// A table cell: strings as they are but with control characters escaped
/// (a value can be anything a caller stored, #13), the rest as JSON.
fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => printable(s).into_owned(),
        Some(other) => other.to_string(),
    }
}

/// The aliyun CLI's table: header, dashes, one line per row, `|` between.
/// A `rows` or `cols` path that matches nothing is an error, not an empty
/// table or an empty column.
pub fn table(answer: &Value, spec: &TableSpec) -> anyhow::Result<String> {
    let rows: Vec<&Value> = match &spec.rows {
        Some(path) => match lookup(answer, path) {
            Ok(rows) => rows,
            Err(miss) => bail!("--output rows={path}: {}", miss.explain("the answer")),
        },
        None => vec![answer],
    };
    let mut header: Vec<String> = spec.cols.clone();
    if spec.num {
        header.insert(0, "Num".into());
    }
    let mut columns: Vec<Vec<String>> = Vec::with_capacity(spec.cols.len());
    for col in &spec.cols {
        let mut cells = Vec::with_capacity(rows.len());
        let mut first_error = None;
        let mut matched = rows.is_empty();
        for row in &rows {
            match lookup(row, col) {
                Ok(found) => {
                    matched = true;
                    cells.push(cell(found.first().copied()));
                }
                Err(why) => {
                    first_error.get_or_insert(why);
                    cells.push(String::new());
                }
            }
        }
        if let (false, Some(miss)) = (matched, first_error) {
            bail!("--output cols={col}: {}", miss.explain("any row"));
        }
        columns.push(cells);
    }
    let lines: Vec<Vec<String>> = (0..rows.len())
        .map(|n| {
            let mut line: Vec<String> = columns.iter().map(|c| c[n].clone()).collect();
            if spec.num {
                line.insert(0, n.to_string());
            }
            line
        })
        .collect();
    Ok(crate::table::render(&header, &lines, " | ", true))
}

/// When a table shows one page of a longer list: what it shows, for stderr
/// (stdout stays the table, for scripts).
pub fn partial_page_note(answer: &Value, spec: &TableSpec) -> Option<String> {
    let total = answer.get("TotalCount")?.as_u64()?;
    let rows = lookup(answer, spec.rows.as_deref()?).ok()?.len() as u64;
    if rows >= total {
        return None;
    }
    let page = answer
        .get("PageNumber")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    Some(format!(
        "(page {page}: {rows} of {total} rows; --pager merges every page)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_keeps_the_servers_key_order() {
        let raw = r#"{"Z":1,"A":{"b":[1,{"x":"a,b:{}[]\"q\\"}],"e":{},"f":[]},"RequestId":"r"}"#;
        let want = "{\n  \"Z\": 1,\n  \"A\": {\n    \"b\": [\n      1,\n      {\n        \"x\": \"a,b:{}[]\\\"q\\\\\"\n      }\n    ],\n    \"e\": {},\n    \"f\": []\n  },\n  \"RequestId\": \"r\"\n}";
        assert_eq!(pretty(raw), want);
        // Same layout as serde_json's pretty printer, apart from key order.
        let v: serde_json::Value = serde_json::from_str(raw).unwrap();
        let sorted = serde_json::to_string(&v).unwrap();
        assert_eq!(pretty(&sorted), serde_json::to_string_pretty(&v).unwrap());
    }

    fn answer() -> Value {
        serde_json::json!({
            "TotalCount": 3,
            "PageNumber": 1,
            "VpnGateways": {"VpnGateway": [
                {"VpnGatewayId": "vpn-1", "Status": "active", "Tags": {"Tag": []}},
                {"VpnGatewayId": "vpn-22", "Status": "init"}
            ]},
            "Empty": {"Item": []}
        })
    }

    #[test]
    fn tables_like_the_aliyun_cli() {
        let spec = TableSpec {
            cols: vec!["VpnGatewayId".into(), "Status".into()],
            rows: Some("VpnGateways.VpnGateway[]".into()),
            num: false,
        };
        assert_eq!(
            table(&answer(), &spec).unwrap(),
            "VpnGatewayId | Status\n------------ | ------\nvpn-1        | active\nvpn-22       | init\n"
        );
        assert_eq!(
            partial_page_note(&answer(), &spec).as_deref(),
            Some("(page 1: 2 of 3 rows; --pager merges every page)")
        );
        let one = TableSpec {
            cols: vec!["TotalCount".into()],
            rows: None,
            num: true,
        };
        assert_eq!(
            table(&answer(), &one).unwrap(),
            "Num | TotalCount\n--- | ----------\n0   | 3\n"
        );
        assert_eq!(partial_page_note(&answer(), &one), None);
    }

    #[test]
    fn paths_that_match_nothing_are_errors() {
        let spec = |cols: &[&str], rows: &str| TableSpec {
            cols: cols.iter().map(|s| s.to_string()).collect(),
            rows: Some(rows.into()),
            num: false,
        };
        let err = table(
            &answer(),
            &spec(&["VpnGatewayId"], "VpnGateway.VpnGateway[]"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("rows=VpnGateway.VpnGateway[]"), "{err}");
        assert!(
            err.contains("Empty, PageNumber, TotalCount, VpnGateways"),
            "{err}"
        );
        let err = table(
            &answer(),
            &spec(&["VpnGatewayId", "Nmae"], "VpnGateways.VpnGateway[]"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("cols=Nmae") && err.contains("Status"), "{err}");
        // An empty list is an empty table; a column present in some rows only is fine.
        assert!(table(&answer(), &spec(&["Anything"], "Empty.Item[]")).is_ok());
        assert!(table(&answer(), &spec(&["Tags.Tag"], "VpnGateways.VpnGateway[]")).is_ok());
    }

    #[test]
    fn table_cells_cannot_forge_rows() {
        let answer = serde_json::json!({"Items": [
            {"Name": "ok\nvpn-2        | deleted\u{1b}[8m"}
        ]});
        let spec = TableSpec {
            cols: vec!["Name".into()],
            rows: Some("Items[]".into()),
            num: false,
        };
        let text = table(&answer, &spec).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(
            text.contains("ok\\nvpn-2") && text.contains("\\x1b[8m"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'));
    }
}
