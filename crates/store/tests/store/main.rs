//! The crate's integration tests, as one test binary (one link instead of one per file).

mod sqlite;
mod sqlite_cache;
