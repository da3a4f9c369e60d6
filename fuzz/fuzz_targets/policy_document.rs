//! Fuzz target; the harness (`fuzz/harness/policy_document.rs`) says what is checked.
//! Its seeds (`fuzz/seeds/policy_document/`) are replayed on stable by
//! `crates/policy/tests/policy/fuzz_seeds.rs`; add any crash input there as
//! `crash-*` once fixed. Run (see BENCHMARKS.md, "Fuzzing"):
//!
//! ```text
//! cargo +nightly fuzz run policy_document fuzz/corpus/policy_document fuzz/seeds/policy_document
//! ```

#![no_main]

mod harness {
    include!("../harness/policy_document.rs");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run(data);
});
