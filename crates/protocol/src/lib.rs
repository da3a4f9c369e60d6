//! vpngw-protocol (placeholder; see docs/architecture.md)
