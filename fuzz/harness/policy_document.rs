// Fuzz harness: RAM policy documents (`PolicyDocument::parse` for
// permission policies, `parse_trust` for role trust policies) and their
// evaluation against a request. Shared, through `include!`, by the cargo-fuzz
// target `fuzz/fuzz_targets/policy_document.rs` and the stable replay test
// `crates/policy/tests/policy/fuzz_seeds.rs`. Never panics.

use vpngw_policy::{CallerPrincipal, PolicyDocument, RequestContext, evaluate, evaluate_trust};

/// Runs one input; `true` when it parsed as either kind of policy.
pub fn run(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let request = RequestContext::new(
        "vpc:DescribeVpnConnection",
        "acs:vpc:cn-hangzhou:1234567890:vpnconnection/vco-1",
    )
    .with_source_ip("192.0.2.7")
    .with_current_time_unix(1_700_000_000)
    .with_principal(CallerPrincipal::ram_user("1234567890", "alice"));
    let mut parsed = false;
    if let Ok(doc) = PolicyDocument::parse(text) {
        parsed = true;
        let _ = evaluate(&[&doc], &request).is_allowed();
    }
    if let Ok(doc) = PolicyDocument::parse_trust(text) {
        parsed = true;
        let assume = RequestContext::new("sts:AssumeRole", "acs:ram::1234567890:role/r")
            .with_principal(CallerPrincipal::account("1234567890"));
        let _ = evaluate_trust(&doc, &assume).is_allowed();
    }
    parsed
}
