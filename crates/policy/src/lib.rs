//! vpngw-policy (placeholder; see docs/architecture.md)
