//! Replays the seed corpus of the `ike_json` fuzz target (`fuzz/seeds/ike_json/`)
//! through the same harness (`fuzz/harness/ike_json.rs`), so CI covers it on
//! stable without cargo-fuzz. `ok-*` inputs must be accepted, `bad-*`
//! refused, and no input (including `crash-*` regressions found by fuzzing)
//! may panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness {
    include!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fuzz/harness/ike_json.rs"
    ));
}

#[test]
fn seeds_replay() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/ike_json");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let (mut ok, mut bad) = (0, 0);
    for path in paths {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let accepted = harness::run(&std::fs::read(&path).unwrap());
        if name.starts_with("ok-") {
            assert!(accepted, "{name} should be accepted");
            ok += 1;
        } else if name.starts_with("bad-") {
            assert!(!accepted, "{name} should be refused");
            bad += 1;
        }
    }
    assert!(ok >= 3 && bad >= 3, "ok={ok} bad={bad}");
}
