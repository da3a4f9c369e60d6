//! The committed generated files must be exactly what vpngw-codegen makes of
//! the spec files: this fails after a hand edit or a spec change that was
//! not regenerated (`cargo run -p vpngw-codegen`).

use std::path::Path;

#[test]
fn committed_generated_files_match_the_generator() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let outputs = vpngw_codegen::generate_in(&root).expect("generator failed");
    for out in &outputs {
        let actual = std::fs::read_to_string(root.join(&out.path)).unwrap_or_default();
        if actual == out.text {
            continue;
        }
        let (line, (want, got)) = out
            .text
            .lines()
            .zip(actual.lines())
            .enumerate()
            .find(|(_, (want, got))| want != got)
            .unwrap_or((
                out.text.lines().count().min(actual.lines().count()),
                ("<end>", "<end>"),
            ));
        panic!(
            "{} is stale (first difference at line {}: expected {want:?}, found {got:?}); \
             regenerate with `cargo run -p vpngw-codegen`",
            out.path,
            line + 1,
        );
    }
    let stale = vpngw_codegen::stale_files(&root, &outputs);
    assert!(stale.is_empty(), "no longer generated: {stale:?}");
}
