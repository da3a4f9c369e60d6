//! The benchmark harness behind `vpngw-bench` (see BENCHMARKS.md).
//!
//! - [`load`]: a load generator that signs every request (V1, HMAC-SHA1, a
//!   fresh nonce each time), keeps one HTTP/1.1 connection per worker and
//!   records every latency. Each run is bounded by a request count and a
//!   duration, and only ever connects to 127.0.0.1.
//! - [`procs`]: the servers under test, each in its own process: `vpngw
//!   serve`, the bare hyper ceiling ([`bare`]) and moto (the peer emulator).
//! - [`stats`]: throughput and latency percentiles.

pub mod bare;
pub mod load;
pub mod procs;
pub mod stats;
