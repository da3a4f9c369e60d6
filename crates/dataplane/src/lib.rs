//! vpngw-dataplane (placeholder; see docs/architecture.md)
