//! `--pager`: every page of a list, merged, as the aliyun CLI does. The
//! call is repeated with `PageNumber` 1, 2, … (and the largest `PageSize`
//! the cloud allows for Describe* lists, 50, unless given) until
//! `TotalCount` items are collected or a page comes back short; an answer
//! with a `NextToken` instead is followed token by token. The output is the
//! merged list at its path (`{"VpnGateways": {"VpnGateway": [ … ]}}`).

use serde_json::{Map, Value};

use super::{Call, Failed, args::PagerSpec};

/// Describe* lists take at most 50 per page.
const PAGE_SIZE: usize = 50;
/// A server that never stops answering full pages is not followed forever.
const MAX_PAGES: usize = 10_000;

/// The dotted path of the first list in `v` (depth first, in key order).
fn first_list(v: &Value, prefix: &str) -> Option<String> {
    let Value::Object(map) = v else {
        return None;
    };
    for (k, child) in map {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match child {
            Value::Array(_) => return Some(path),
            Value::Object(_) => {
                if let Some(p) = first_list(child, &path) {
                    return Some(p);
                }
            }
            _ => {}
        }
    }
    None
}

fn list_at<'a>(v: &'a Value, path: &str) -> Option<&'a Vec<Value>> {
    path.split('.')
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_array)
}

/// `{"A": {"B": items}}` for path `A.B`.
fn nest(path: &str, items: Vec<Value>) -> Value {
    path.rsplit('.').fold(Value::Array(items), |inner, k| {
        let mut m = Map::new();
        m.insert(k.to_owned(), inner);
        Value::Object(m)
    })
}

pub async fn all_pages(call: &Call, spec: &PagerSpec) -> Result<(Value, String), Failed> {
    let given_size = call
        .params
        .iter()
        .find(|(k, _)| *k == spec.page_size)
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let size = given_size.unwrap_or(PAGE_SIZE);
    let mut items: Vec<Value> = Vec::new();
    let mut path = spec.path.clone();
    let mut token: Option<String> = None;
    for page in 1..=MAX_PAGES {
        let mut extra = vec![(spec.page_size.clone(), size.to_string())];
        match &token {
            Some(t) => extra.push((spec.next_token.clone(), t.clone())),
            None => extra.push((spec.page_number.clone(), page.to_string())),
        }
        let (answer, _) = call.send(&extra).await?;
        let p = match &path {
            Some(p) => p.clone(),
            None => first_list(&answer, "").ok_or_else(|| {
                Failed::Usage(anyhow::anyhow!(
                    "--pager: the answer has no list to merge; name it with path=…"
                ))
            })?,
        };
        let Some(list) = list_at(&answer, &p) else {
            return Err(Failed::Usage(anyhow::anyhow!(
                "--pager path={p}: no list there in the answer"
            )));
        };
        items.extend(list.iter().cloned());
        let got = list.len();
        path = Some(p);
        token = answer
            .get(&spec.next_token)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        let total = answer.get(&spec.total_count).and_then(Value::as_u64);
        let done = match (&token, total) {
            (Some(_), _) => got == 0,
            (None, Some(total)) => items.len() as u64 >= total || got < size,
            (None, None) => true,
        };
        if done {
            break;
        }
    }
    let merged = nest(path.as_deref().unwrap_or("Items"), items);
    let raw = serde_json::to_string(&merged).unwrap_or_default();
    Ok((merged, raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_rebuilds_the_list() {
        let answer = serde_json::json!({"TotalCount": 3, "PageNumber": 1,
            "VpnGateways": {"VpnGateway": [{"VpnGatewayId": "vpn-1"}]}, "RequestId": "r"});
        let path = first_list(&answer, "").unwrap();
        assert_eq!(path, "VpnGateways.VpnGateway");
        assert_eq!(list_at(&answer, &path).unwrap().len(), 1);
        assert_eq!(
            nest(&path, vec![serde_json::json!(1)]),
            serde_json::json!({"VpnGateways": {"VpnGateway": [1]}})
        );
        assert_eq!(first_list(&serde_json::json!({"A": 1}), ""), None);
    }
}
