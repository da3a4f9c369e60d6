//! vpngw-api (placeholder; see docs/architecture.md)
