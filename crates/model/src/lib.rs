//! Domain model of vpngw: resource types, IDs, validation, and what the API
//! knows about itself (the operation table generated from the vendor's metadata,
//! and the region/zone catalogue).

pub mod catalog;
pub mod operations;
