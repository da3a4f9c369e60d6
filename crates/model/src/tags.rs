//! Tags as the cloud keeps them: an ordered list of unique keys.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Sets `key` to `value`, keeping the position of an existing key.
pub fn upsert(tags: &mut Vec<Tag>, key: &str, value: &str) {
    match tags.iter_mut().find(|t| t.key == key) {
        Some(t) => t.value = value.to_owned(),
        None => tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        }),
    }
}
