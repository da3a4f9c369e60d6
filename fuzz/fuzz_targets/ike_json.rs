//! Fuzz target; the harness (`fuzz/harness/ike_json.rs`) says what is checked.
//! Its seeds (`fuzz/seeds/ike_json/`) are replayed on stable by
//! `crates/api/tests/api/fuzz_seeds.rs`; add any crash input there as
//! `crash-*` once fixed. Run (see BENCHMARKS.md, "Fuzzing"):
//!
//! ```text
//! cargo +nightly fuzz run ike_json fuzz/corpus/ike_json fuzz/seeds/ike_json
//! ```

#![no_main]

mod harness {
    include!("../harness/ike_json.rs");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run(data);
});
