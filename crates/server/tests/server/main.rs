//! The crate's integration tests, as one test binary (one link instead of one per file).

mod agent_simulated;
mod crash;
mod data_dir_lock;
mod limits;
mod nonce_memory;
mod support;
mod tls;
