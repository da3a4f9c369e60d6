//! The raw requests the official clients sent to a capture server
//! (`tests/data/captured-requests.txt`, a copy of `shared/spec/captured-requests.txt`):
//! each must parse and verify with the capture's secret. Their timestamps are old, so the
//! clock skew is not checked here.

use vpngw_protocol::http_text::HttpText;
use vpngw_protocol::{Format, SignatureVersion, parse};

const CAPTURES: &str = include_str!("../data/captured-requests.txt");

struct Capture {
    title: String,
    request: HttpText,
}

/// Blocks are separated by `=====` lines; a block is `###` lines, a `-----` line, then the
/// request text. The file pads each body with blank lines, which are not part of it.
fn captures() -> Vec<Capture> {
    let mut out = Vec::new();
    for block in CAPTURES.split("\n=====").skip(1) {
        let title = block
            .lines()
            .find_map(|l| l.strip_prefix("### "))
            .expect("block title")
            .trim()
            .to_owned();
        let (_, text) = block.split_once("\n-----").expect("separator line");
        let text = text.split_once('\n').map_or("", |(_, rest)| rest);
        let text = text.trim_end_matches('\n');
        // A request without body ends at the blank line after its headers.
        let text = if text.contains("\n\n") {
            text.to_owned()
        } else {
            format!("{text}\n\n")
        };
        let request = HttpText::parse(text.as_bytes()).expect("request text");
        out.push(Capture { title, request });
    }
    out
}

#[test]
fn every_captured_request_parses_and_verifies() {
    let captures = captures();
    assert_eq!(captures.len(), 27);
    let (mut v1, mut v3) = (0, 0);
    for Capture { title, request } in &captures {
        if let Some(len) = request.headers.get("content-length") {
            let len: usize = len.to_str().expect("ascii").parse().expect("number");
            assert_eq!(request.body.len(), len, "{title}");
        }
        let req = parse(&request.raw()).unwrap_or_else(|e| panic!("{title}: {e}"));
        req.verify_signature(b"testsecret")
            .unwrap_or_else(|e| panic!("{title}: {e}"));
        assert!(req.verify_signature(b"testsecret2").is_err(), "{title}");

        assert_eq!(req.access_key_id(), "testid", "{title}");
        assert!(!req.signature_nonce().is_empty(), "{title}");
        assert!(
            ["2016-04-28", "2015-05-01"].contains(&req.version()),
            "{title}"
        );
        let action = title.split_whitespace().nth(2).expect("action in title");
        let action = action.split('-').next().expect("action");
        assert_eq!(req.action(), action, "{title}");
        assert_eq!(req.timestamp().year(), 2026, "{title}");
        if title.contains("sts") {
            assert_eq!(req.security_token(), Some("testststoken"), "{title}");
        } else {
            assert_eq!(req.security_token(), None, "{title}");
        }
        let want_format = if title.contains("xml") {
            Format::Xml
        } else {
            Format::Json
        };
        assert_eq!(req.format(), want_format, "{title}");
        match req.signature_version() {
            SignatureVersion::V1 => v1 += 1,
            SignatureVersion::V3 => v3 += 1,
        }
        if action == "CreateVpnConnection" {
            let tunnels = req
                .params()
                .objects("TunnelOptionsSpecification")
                .unwrap_or_else(|e| panic!("{title}: {e}"));
            assert_eq!(tunnels.len(), 2, "{title}");
            let ike = tunnels[0].object("TunnelIkeConfig").expect("ike config");
            assert_eq!(ike.get("Psk"), Some("ps k+/=1&*~"), "{title}");
            assert_eq!(tunnels[1].get("Role"), Some("slave"), "{title}");
            assert_eq!(tunnels[0].bool("EnableDpd"), Ok(Some(true)), "{title}");
            let tags = req.params().objects("Tags").expect("tags");
            assert_eq!(tags.len(), 2, "{title}");
            assert_eq!(tags[1].get("Value"), Some("ops team"), "{title}");
            assert_eq!(req.params().get("Name"), Some("vco test/1*~é"), "{title}");
        }
    }
    assert_eq!((v1, v3), (17, 10));
}
