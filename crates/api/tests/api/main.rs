//! The crate's integration tests, as one test binary (one link instead of one per file).

mod api_basics;
mod audit;
mod authz_bypasses;
mod cen_recovery;
mod common;
mod concurrency;
mod dataplane_report;
mod dataplane_watch;
mod deny_each_resource;
mod dual_tunnel;
mod encoding;
mod fuzz_seeds;
mod operation_table;
mod ram_authz;
mod routes;
mod tags_groups_attachments;
mod terraform_requests;
