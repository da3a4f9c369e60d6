//! The crate's integration tests, as one test binary (one link instead of one per file).

mod fuzz_seeds;
mod known_answers;
mod props;
