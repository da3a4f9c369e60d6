//! Replays the seed corpus (`tests/corpus/`, also the seeds of the `parse_request` fuzz
//! target) through the same steps as the fuzz target, so CI covers it without nightly.
//! Files named `ok-*` must parse and verify with the capture secret; `bad-*` must be refused
//! at some step.

use std::path::Path;

use vpngw_protocol::http_text::HttpText;
use vpngw_protocol::{Format, encode_error, parse};

/// What the fuzz target does with one input; `true` when the request was accepted.
fn run(data: &[u8]) -> bool {
    let Some(text) = HttpText::parse(data) else {
        return false;
    };
    match parse(&text.raw()) {
        Ok(req) => {
            let _ = req.params().objects("TunnelOptionsSpecification");
            let _ = req.params().list("VpnConnectionId");
            let _ = req.string_to_sign();
            req.verify_signature(b"testsecret").is_ok()
        }
        Err(err) => {
            let _ = encode_error(Format::Xml, &err, "id", "vpc.aliyuncs.com", "Vpc");
            false
        }
    }
}

#[test]
fn seed_corpus_replays() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    let (mut ok, mut bad) = (0, 0);
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .to_owned();
        let data = std::fs::read(&path).expect("readable");
        let accepted = run(&data);
        if name.starts_with("ok-") {
            assert!(accepted, "{name} should be accepted");
            ok += 1;
        } else if name.starts_with("bad-") {
            assert!(!accepted, "{name} should be refused");
            bad += 1;
        }
    }
    assert!(ok >= 27 && bad >= 10, "ok={ok} bad={bad}");
}
