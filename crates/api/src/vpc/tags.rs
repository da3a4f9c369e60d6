//! TagResources, UnTagResources, ListTagResources for VPN gateways,
//! customer gateways, connections and attachments, and the tag rules that
//! `Tags.N` on the Create* operations share.
//!
//! Tags live in each resource's document (`tags: [{key, value}]`); writes go
//! through [`records::rewrite`], one module for every kind.

use serde_json::Value;
use vpngw_model::{Tag, tags::upsert};
use vpngw_ops::vpc::{
    list_tag_resources as list_op, tag_resources as tag_op, un_tag_resources as untag_op,
};
use vpngw_protocol::ApiError;
use vpngw_store::{ListQuery, StoreError};

use super::{
    given,
    records::{self, ResourceType},
};
use crate::{Ctx, context::internal, errors};

/// Tags one resource may carry, and tags one request may name.
pub const MAX_TAGS: usize = 20;
/// Resources one request may name.
pub const MAX_RESOURCES: usize = 50;
/// Longest tag key and value, in characters.
pub const MAX_LEN: usize = 128;

/// The cloud's rule for keys and values: no reserved prefix (`aliyun`,
/// `acs:`, whatever the case) and no URL scheme inside.
fn reserved(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("aliyun")
        || lower.starts_with("acs:")
        || lower.contains("http://")
        || lower.contains("https://")
}

pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.chars().count() > MAX_LEN || reserved(key) {
        return Err(errors::invalid_tag_key());
    }
    Ok(())
}

pub(crate) fn check_value(value: &str) -> Result<(), ApiError> {
    if value.chars().count() > MAX_LEN || reserved(value) {
        return Err(errors::invalid_tag_value());
    }
    Ok(())
}

/// The tags of a typed request (`Tags.N.Key`/`Tags.N.Value`, `Tag.N.…`),
/// checked: at most 20, valid keys and values, no key twice. A missing
/// value is the empty string.
pub(crate) fn of_request<T: vpngw_ops::KeyValue>(items: &[T]) -> Result<Vec<Tag>, ApiError> {
    checked(items.iter().map(|t| (t.key(), t.value())).collect())
}

fn checked(items: Vec<(Option<&str>, Option<&str>)>) -> Result<Vec<Tag>, ApiError> {
    if items.len() > MAX_TAGS {
        return Err(errors::too_many_tags());
    }
    let mut tags: Vec<Tag> = Vec::with_capacity(items.len());
    for (key, value) in items {
        let key = key.unwrap_or("");
        let value = value.unwrap_or("");
        check_key(key)?;
        check_value(value)?;
        if tags.iter().any(|t| t.key == key) {
            return Err(errors::duplicate_tag_key());
        }
        tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(tags)
}

/// `ResourceId.N`: at most 50 entries; empty ones dropped, duplicates folded.
fn resource_ids(given: Vec<String>) -> Result<Vec<String>, ApiError> {
    if given.len() > MAX_RESOURCES {
        return Err(errors::too_many_resource_ids());
    }
    let mut ids: Vec<String> = Vec::new();
    for id in given {
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// The resource type and the ids a tag operation names: at least one id.
fn named(rtype: &str, ids: Vec<String>) -> Result<(ResourceType, Vec<String>), ApiError> {
    let rtype = ResourceType::parse(rtype)?;
    let ids = resource_ids(ids)?;
    if ids.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId"));
    }
    Ok((rtype, ids))
}

/// The tags of a stored document.
fn doc_tags(doc: &Value) -> Result<Vec<Tag>, ApiError> {
    match doc.get("tags") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| internal(StoreError::from(e))),
    }
}

fn set_doc_tags(doc: &mut Value, tags: &[Tag]) -> Result<(), ApiError> {
    let v = serde_json::to_value(tags).map_err(|e| internal(StoreError::from(e)))?;
    if let Value::Object(map) = doc {
        map.insert("tags".into(), v);
    }
    Ok(())
}

/// The current tags of each resource, in request order; any id that is not
/// a resource of this type in the caller's scope is `InvalidResourceId.NotFound`.
async fn load_all(
    ctx: &Ctx<'_>,
    rtype: ResourceType,
    ids: &[String],
) -> Result<Vec<Vec<Tag>>, ApiError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        // A `vco-` record takes either connection spelling: it is the same
        // resource whichever way the client thinks of it.
        let doc = records::doc(ctx, rtype.kind(), id)
            .await?
            .ok_or_else(errors::resource_id_not_found)?;
        out.push(doc_tags(&doc)?);
    }
    Ok(out)
}

/// Rewrites one resource's tags with `edit`; `edit` may refuse.
async fn retag(
    ctx: &Ctx<'_>,
    rtype: ResourceType,
    id: &str,
    mut edit: impl FnMut(&mut Vec<Tag>) -> Result<(), ApiError> + Send,
) -> Result<(), ApiError> {
    let mut apply = |doc: &mut Value| -> Result<bool, ApiError> {
        let before = doc_tags(doc)?;
        let mut after = before.clone();
        edit(&mut after)?;
        if after == before {
            return Ok(false);
        }
        set_doc_tags(doc, &after)?;
        Ok(true)
    };
    records::rewrite(ctx, rtype.kind(), id, &mut apply)
        .await?
        .ok_or_else(errors::resource_id_not_found)
}

/// Adds `new` to `tags`: an existing key takes the new value, and the
/// result may not exceed 20 tags.
fn merge(tags: &mut Vec<Tag>, new: &[Tag]) -> Result<(), ApiError> {
    for t in new {
        upsert(tags, &t.key, &t.value);
    }
    if tags.len() > MAX_TAGS {
        return Err(errors::tag_quota_exceeded());
    }
    Ok(())
}

/// TagResources: adds or overwrites tags on up to 50 resources. Every
/// resource and the resulting tag count are checked before anything is
/// written, so a refused request changes nothing.
pub async fn tag(ctx: &Ctx<'_>, req: tag_op::Request) -> Result<tag_op::Answer, ApiError> {
    let (rtype, ids) = named(&req.resource_type, req.resource_id)?;
    let new = of_request(&req.tag)?;
    if new.is_empty() {
        return Err(ApiError::missing_parameter("Tag"));
    }
    for mut current in load_all(ctx, rtype, &ids).await? {
        merge(&mut current, &new)?;
    }
    for id in &ids {
        retag(ctx, rtype, id, |tags| merge(tags, &new)).await?;
    }
    Ok(tag_op::Answer {})
}

/// UnTagResources: removes the keys named by `TagKey.N` (or every tag with
/// `All=true`) from up to 50 resources. Keys a resource does not have are
/// ignored; naming no key without `All` removes nothing.
pub async fn untag(ctx: &Ctx<'_>, req: untag_op::Request) -> Result<untag_op::Answer, ApiError> {
    let (rtype, ids) = named(&req.resource_type, req.resource_id)?;
    let keys = req.tag_key;
    if keys.len() > MAX_TAGS {
        return Err(errors::too_many_tags());
    }
    for k in &keys {
        if k.chars().count() > MAX_LEN {
            return Err(errors::invalid_tag_key());
        }
    }
    let all = req.all.unwrap_or(false);
    load_all(ctx, rtype, &ids).await?;
    for id in &ids {
        retag(ctx, rtype, id, |tags| {
            if all && keys.is_empty() {
                tags.clear();
            } else {
                tags.retain(|t| !keys.contains(&t.key));
            }
            Ok(())
        })
        .await?;
    }
    Ok(untag_op::Answer {})
}

/// `NextToken`: the position of the next entry, as 32 hex digits.
pub(crate) fn encode_token(offset: usize) -> String {
    format!("{offset:032x}")
}

pub(crate) fn decode_token(token: &str) -> Result<usize, ApiError> {
    if token.len() != 32 {
        return Err(ApiError::invalid_parameter("NextToken"));
    }
    u128::from_str_radix(token, 16)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ApiError::invalid_parameter("NextToken"))
}

/// How many records one store page reads while collecting tags.
const SCAN_PAGE: u64 = 500;

/// ListTagResources: one entry per (resource, tag), resources in creation
/// order and tags in the order they were added. With `Tag.N` filters only
/// resources carrying all of them are listed, and only their tags with
/// those keys; with `ResourceId.N` alone, every tag of those resources.
/// Paged by `MaxResults` (1–50, default 50) and `NextToken`.
pub async fn list(ctx: &Ctx<'_>, req: list_op::Request) -> Result<list_op::Answer, ApiError> {
    let rtype = ResourceType::parse(&req.resource_type)?;
    let ids = resource_ids(req.resource_id)?;
    if req.tag.len() > MAX_TAGS {
        return Err(errors::too_many_tags());
    }
    let mut filters: Vec<(String, Option<String>)> = Vec::new();
    for item in req.tag {
        let key = item.key.unwrap_or_default();
        check_key(&key)?;
        if let Some(v) = &item.value {
            check_value(v)?;
        }
        filters.push((key, item.value));
    }
    if ids.is_empty() && filters.is_empty() {
        return Err(ApiError::missing_parameter("ResourceId"));
    }
    let max = req.max_results.unwrap_or(50);
    if !(1..=50).contains(&max) {
        return Err(ApiError::invalid_parameter("MaxResults"));
    }
    let max = usize::try_from(max).unwrap_or(50);
    let start = match given(&req.next_token) {
        Some(t) => decode_token(t)?,
        None => 0,
    };

    let mut q = ListQuery::new(rtype.kind(), ctx.scope()?, ctx.now_ms);
    q.ids = ids;
    q.tags = filters.clone();
    q.limit = SCAN_PAGE;
    let mut entries: Vec<list_op::TagResource> = Vec::new();
    loop {
        let page = ctx.store().list(&q).await.map_err(internal)?;
        let n = page.records.len() as u64;
        for record in &page.records {
            let doc: Value =
                serde_json::from_str(&record.doc).map_err(|e| internal(StoreError::from(e)))?;
            if !rtype.matches(&doc) {
                continue;
            }
            for t in doc_tags(&doc)? {
                if !filters.is_empty() && !filters.iter().any(|(k, _)| *k == t.key) {
                    continue;
                }
                entries.push(list_op::TagResource {
                    resource_id: record.id.clone(),
                    resource_type: rtype.upper().to_owned(),
                    tag_key: t.key,
                    tag_value: t.value,
                });
            }
        }
        if n < SCAN_PAGE {
            break;
        }
        q.offset += n;
    }
    if start > entries.len() {
        return Err(ApiError::invalid_parameter("NextToken"));
    }
    let end = entries.len().min(start.saturating_add(max));
    let next_token = if end < entries.len() {
        encode_token(end)
    } else {
        String::new()
    };
    Ok(list_op::Answer {
        next_token,
        tag_resources: list_op::TagResources {
            tag_resource: entries.drain(start..end).collect(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_prefixes_and_urls() {
        assert!(reserved("aliyun-x"));
        assert!(reserved("Aliyun"));
        assert!(reserved("acs:x"));
        assert!(reserved("see https://x"));
        assert!(!reserved("acs"));
        assert!(!reserved("my-aliyun"));
        assert!(check_key("").is_err());
        assert!(check_key(&"k".repeat(128)).is_ok());
        assert!(check_key(&"k".repeat(129)).is_err());
        assert!(check_value("").is_ok());
        assert!(check_value(&"é".repeat(128)).is_ok());
    }

    #[test]
    fn tokens_round_trip() {
        assert_eq!(decode_token(&encode_token(0)).unwrap(), 0);
        assert_eq!(decode_token(&encode_token(1234)).unwrap(), 1234);
        assert!(decode_token("abc").is_err());
        assert!(decode_token(&"z".repeat(32)).is_err());
    }
}
