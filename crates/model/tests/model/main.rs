//! The crate's integration tests, as one test binary (one link instead of one per file).

mod catalog;
mod operations;
