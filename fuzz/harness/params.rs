// Fuzz harness: parameter flattening (`Params::from_form`, `list`, `objects`,
// `object`). Shared, through `include!`, by the cargo-fuzz target
// `fuzz/fuzz_targets/params.rs` and the stable replay test
// `crates/protocol/tests/protocol/fuzz_seeds.rs`; it must never panic on any input,
// and it asserts the invariants every accessor relies on.

use vpngw_protocol::Params;

/// Runs one input; `true` when it parsed as a form.
pub fn run(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let Ok(params) = Params::from_form(text) else {
        return false;
    };
    check(&params, 0);
    // Our own form of it parses back to the same pairs.
    let again = Params::from_form(&params.to_form()).expect("a form we wrote parses");
    assert!(
        again.iter().eq(params.iter()),
        "to_form/from_form changed the parameters"
    );
    true
}

/// Every name is found again, in order, and every flattened view of every
/// prefix holds (recursively) to the same rules.
fn check(params: &Params, depth: usize) {
    let mut previous: Option<&str> = None;
    for (name, value) in params.iter() {
        assert!(!name.is_empty(), "an empty name");
        if let Some(p) = previous {
            assert!(
                p < name,
                "names out of order or repeated: {p:?} then {name:?}"
            );
        }
        previous = Some(name);
        assert_eq!(params.get(name), Some(value), "get({name:?})");
    }
    if depth > 3 {
        return;
    }
    let mut prefixes: Vec<&str> = params
        .iter()
        .filter_map(|(n, _)| n.split('.').next())
        .collect();
    prefixes.dedup();
    for prefix in prefixes {
        if let Ok(items) = params.list(prefix) {
            assert!(items.len() <= params.len());
        }
        if let Ok(objects) = params.objects(prefix) {
            assert!(objects.len() <= params.len());
            for o in &objects {
                assert!(!o.is_empty(), "an empty structure in {prefix}");
                check(o, depth + 1);
            }
        }
        if let Some(o) = params.object(prefix) {
            check(&o, depth + 1);
        }
        let _ = params.bool(prefix);
        let _ = params.i64(prefix);
    }
}
