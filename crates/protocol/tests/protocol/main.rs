//! The crate's integration tests, as one test binary (one link instead of one per file).

mod captured;
mod corpus;
mod encode;
mod errors;
mod fuzz_seeds;
mod props;
mod vectors;
