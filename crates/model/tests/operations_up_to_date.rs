//! The committed operation table must be exactly what vpngw-codegen makes of
//! the spec files: this fails after a hand edit or a spec change.

use std::path::Path;

#[test]
fn committed_operations_rs_matches_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let expected = vpngw_codegen::generate_in(&root).expect("generator failed");
    let path = root.join(vpngw_codegen::OUTPUT);
    let actual = std::fs::read_to_string(&path).expect("reading operations.rs");
    if actual != expected {
        let (line, (want, got)) = expected
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (want, got))| want != got)
            .unwrap_or((
                expected.lines().count().min(actual.lines().count()),
                ("<end>", "<end>"),
            ));
        panic!(
            "{} is stale (first difference at line {}: expected {want:?}, found {got:?}); \
             regenerate with `cargo run -p vpngw-codegen`",
            vpngw_codegen::OUTPUT,
            line + 1,
        );
    }
}
