//! Fuzz target; the harness (`fuzz/harness/params.rs`) says what is checked.
//! Its seeds (`fuzz/seeds/params/`) are replayed on stable by
//! `crates/protocol/tests/protocol/fuzz_seeds.rs`; add any crash input there as
//! `crash-*` once fixed. Run (see BENCHMARKS.md, "Fuzzing"):
//!
//! ```text
//! cargo +nightly fuzz run params fuzz/corpus/params fuzz/seeds/params
//! ```

#![no_main]

mod harness {
    include!("../harness/params.rs");
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run(data);
});
