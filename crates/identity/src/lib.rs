//! vpngw-identity (placeholder; see docs/architecture.md)
