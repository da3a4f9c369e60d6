//! vpngw-store (placeholder; see docs/architecture.md)
