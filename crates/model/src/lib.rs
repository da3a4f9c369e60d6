//! vpngw-model (placeholder; see docs/architecture.md)
