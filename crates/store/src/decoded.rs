//! Decoded documents, remembered: `get_typed` of a record whose document
//! was decoded before clones the decoded value instead of parsing the JSON
//! again (the parse was 8% of DescribeVpnConnection's CPU).
//!
//! This is a memo of a pure function, not a cache of the store: an entry
//! is used only if the document just read is byte for byte the one it was
//! decoded from (and the type is the same), so it can never answer
//! anything but what parsing the document would. It works the same for
//! every backend; the store is still read on every call.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::{Arc, LazyLock, Mutex},
};

use serde::de::DeserializeOwned;

use crate::StoreError;

/// Entries kept at most; past that the memo starts over.
const LIMIT: usize = 2048;

struct Decoded {
    type_id: TypeId,
    doc: Box<str>,
    value: Arc<dyn Any + Send + Sync>,
}

/// Decoded documents by record id.
static MEMO: LazyLock<Mutex<HashMap<String, Decoded>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// `serde_json::from_str(doc)`, remembered by record `id`.
pub fn decode<R>(id: &str, doc: &str) -> Result<R, StoreError>
where
    R: DeserializeOwned + Clone + Send + Sync + 'static,
{
    if let Ok(memo) = MEMO.lock()
        && let Some(d) = memo.get(id)
        && d.type_id == TypeId::of::<R>()
        && *d.doc == *doc
        && let Some(value) = d.value.downcast_ref::<R>()
    {
        return Ok(value.clone());
    }
    let value: R = serde_json::from_str(doc)?;
    if let Ok(mut memo) = MEMO.lock() {
        if memo.len() >= LIMIT && !memo.contains_key(id) {
            memo.clear();
        }
        memo.insert(
            id.to_owned(),
            Decoded {
                type_id: TypeId::of::<R>(),
                doc: doc.into(),
                value: Arc::new(value.clone()),
            },
        );
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
    struct A {
        n: i64,
    }

    #[derive(Debug, Clone, PartialEq, serde::Deserialize)]
    struct B {
        n: String,
    }

    #[test]
    fn only_the_same_document_and_type_are_answered_from_memory() {
        let id = "memo-test-1";
        assert_eq!(decode::<A>(id, r#"{"n":1}"#).unwrap(), A { n: 1 });
        assert_eq!(decode::<A>(id, r#"{"n":1}"#).unwrap(), A { n: 1 });
        // Another document under the same id is parsed.
        assert_eq!(decode::<A>(id, r#"{"n":2}"#).unwrap(), A { n: 2 });
        // Another type over the same document is parsed (and may fail).
        assert!(decode::<B>(id, r#"{"n":2}"#).is_err());
        assert_eq!(
            decode::<B>(id, r#"{"n":"x"}"#).unwrap(),
            B { n: "x".into() }
        );
        assert_eq!(decode::<A>(id, r#"{"n":2}"#).unwrap(), A { n: 2 });
        // A bad document is an error, never a remembered value.
        assert!(decode::<A>(id, r#"{"n":"#).is_err());
    }

    #[test]
    fn the_memo_stays_bounded() {
        for i in 0..(LIMIT + 10) {
            decode::<A>(&format!("memo-bound-{i}"), r#"{"n":1}"#).unwrap();
        }
        assert!(MEMO.lock().unwrap().len() <= LIMIT);
    }
}
