//! Fuzz `vpngw_protocol::parse` (and what follows it) with raw HTTP/1.1 request text.
//!
//! Run (nightly, cargo-fuzz), seeding from the replayed corpus:
//!
//! ```text
//! cargo +nightly fuzz run parse_request fuzz/corpus/parse_request crates/protocol/tests/corpus
//! ```
//!
//! The seed corpus is also replayed on stable by `crates/protocol/tests/protocol/corpus.rs`; add any
//! crash input there (as `bad-*.http`) once fixed.

#![no_main]

use libfuzzer_sys::fuzz_target;
use vpngw_protocol::http_text::HttpText;
use vpngw_protocol::{Format, check_timestamp, encode_error, parse};

fuzz_target!(|data: &[u8]| {
    let Some(text) = HttpText::parse(data) else {
        return;
    };
    match parse(&text.raw()) {
        Ok(req) => {
            let _ = check_timestamp(req.timestamp(), req.timestamp());
            let _ = req.params().objects("TunnelOptionsSpecification");
            let _ = req.params().object("TunnelOptionsSpecification");
            let _ = req.params().list("VpnConnectionId");
            let _ = req.params().bool("EnableDpd");
            let _ = req.params().i64("PageSize");
            let _ = req.string_to_sign();
            let _ = req.verify_signature(b"testsecret");
        }
        Err(err) => {
            let _ = encode_error(Format::Xml, &err, "id", "vpc.aliyuncs.com", "Vpc");
            let _ = encode_error(Format::Json, &err, "id", "vpc.aliyuncs.com", "Vpc");
        }
    }
});
