//! Property tests of the evaluator, the wildcard matcher and the parser.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Value, json};
use vpngw_policy::*;

// ---------------------------------------------------------------- wildcard

/// Obviously-correct (exponential) reference matcher.
fn reference(p: &[char], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some(('*', rest)) => (0..=t.len()).any(|i| reference(rest, &t[i..])),
        Some(('?', rest)) => !t.is_empty() && reference(rest, &t[1..]),
        Some((c, rest)) => t.first() == Some(c) && reference(rest, &t[1..]),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn wildcard_agrees_with_reference(p in "[ab*?é]{0,9}", t in "[abé]{0,12}") {
        let pc: Vec<char> = p.chars().collect();
        let tc: Vec<char> = t.chars().collect();
        prop_assert_eq!(wildcard_match(&p, &t), reference(&pc, &tc));
    }

    #[test]
    fn wildcard_ignore_case_agrees_with_lowercased(p in "[aAbB*?]{0,8}", t in "[aAbB]{0,10}") {
        prop_assert_eq!(
            wildcard_match_ignore_ascii_case(&p, &t),
            wildcard_match(&p.to_ascii_lowercase(), &t.to_ascii_lowercase())
        );
    }

    #[test]
    fn literal_pattern_matches_itself(t in "[a-zA-Z0-9:/._-]{0,30}") {
        prop_assert!(wildcard_match(&t, &t));
        prop_assert!(wildcard_match("*", &t));
    }
}

#[test]
fn wildcard_is_not_exponential_on_pathological_patterns() {
    // Naive backtracking needs ~C(n, k) steps here; ours is O(|p|*|t|).
    let text = "a".repeat(100_000);
    let pattern = format!("{}b", "a*".repeat(40));
    let start = Instant::now();
    assert!(!wildcard_match(&pattern, &text));
    assert!(wildcard_match(&format!("{}a", "a*".repeat(40)), &text));
    let many_stars = format!("{}?b", "*".repeat(5_000));
    assert!(!wildcard_match(&many_stars, &text));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------- evaluator

const ACTIONS: &[&str] = &[
    "*",
    "vpc:*",
    "vpc:Describe*",
    "vpc:DescribeVpnConnection",
    "vpc:Delete*",
    "VPC:*vpn*",
    "ecs:*",
    "vpc:?escribeVpnGateway",
];
const RESOURCES: &[&str] = &[
    "*",
    "acs:vpc:*:*:vpnconnection/*",
    "acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/vco-1",
    "acs:vpc:*:*:vpngateway/*",
    "acs:vpc:*:1234567890123456:*",
];
const CONDITIONS: &[&str] = &[
    r#"{"IpAddress":{"acs:SourceIp":"10.0.0.0/8"}}"#,
    r#"{"NotIpAddress":{"acs:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#,
    r#"{"Bool":{"acs:SecureTransport":"true"}}"#,
    r#"{"StringEquals":{"vpc:tag/env":["prod","stage"]}}"#,
    r#"{"StringNotLike":{"vpc:tag/env":"dev*"}}"#,
    r#"{"DateLessThan":{"acs:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
];
const REQ_ACTIONS: &[&str] = &[
    "vpc:DescribeVpnConnection",
    "vpc:DeleteVpnConnection",
    "vpc:DescribeVpnGateway",
    "vpc:CreateCustomerGateway",
    "ecs:DescribeInstances",
    "ram:CreateUser",
];
const REQ_RESOURCES: &[&str] = &[
    "acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/vco-1",
    "acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/vco-2",
    "acs:vpc:cn-shanghai:1234567890123456:vpngateway/vpn-1",
    "acs:vpc:cn-hangzhou:1234567890123456:customergateway/*",
    "*",
];

fn statement() -> impl Strategy<Value = Value> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::subsequence(ACTIONS, 1..4),
        prop::sample::subsequence(RESOURCES, 1..3),
        prop::option::of(prop::sample::select(CONDITIONS)),
    )
        .prop_map(|(allow, not_action, actions, resources, cond)| {
            let mut s = serde_json::Map::new();
            s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            s.insert(
                (if not_action { "NotAction" } else { "Action" }).into(),
                json!(actions),
            );
            s.insert("Resource".into(), json!(resources));
            if let Some(c) = cond {
                s.insert(
                    "Condition".into(),
                    serde_json::from_str(c).unwrap_or(json!({})),
                );
            }
            Value::Object(s)
        })
}

fn policy() -> impl Strategy<Value = Value> {
    prop::collection::vec(statement(), 1..5).prop_map(|st| json!({"Version": "1", "Statement": st}))
}

fn request() -> impl Strategy<Value = RequestContext> {
    (
        prop::sample::select(REQ_ACTIONS),
        prop::sample::select(REQ_RESOURCES),
        prop::option::of(prop::sample::select(
            &["10.1.2.3", "192.0.2.7", "2001:db8::1"][..],
        )),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(&["prod", "dev1", "stage"][..])),
        prop::option::of(prop::sample::select(&[1_700_000_000i64, 1_900_000_000][..])),
    )
        .prop_map(|(a, r, ip, https, env, now)| {
            let mut req = RequestContext::new(a, r);
            if let Some(ip) = ip {
                req = req.with_source_ip(ip);
            }
            if let Some(h) = https {
                req = req.with_secure_transport(h);
            }
            if let Some(e) = env {
                req = req.with_key("vpc:tag/env", e);
            }
            if let Some(t) = now {
                req = req.with_current_time_unix(t);
            }
            req
        })
}

fn parse(v: &Value) -> PolicyDocument {
    match PolicyDocument::from_value(v, PolicyKind::Permission) {
        Ok(d) => d,
        Err(e) => panic!("generated policy refused: {e}: {v}"),
    }
}

fn reversed(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(Value::Array(st)) = v.get_mut("Statement") {
        st.reverse();
        for s in st.iter_mut() {
            for key in ["Action", "NotAction", "Resource"] {
                if let Some(Value::Array(items)) = s.get_mut(key) {
                    items.reverse();
                }
            }
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Shuffling policies, statements and list entries never changes the decision kind.
    #[test]
    fn evaluation_is_order_independent(
        policies in prop::collection::vec(policy(), 0..4),
        rotate in 0usize..4,
        req in request(),
    ) {
        let docs: Vec<PolicyDocument> = policies.iter().map(parse).collect();
        let refs: Vec<&PolicyDocument> = docs.iter().collect();
        let before = evaluate(&refs, &req);

        let mut shuffled: Vec<PolicyDocument> = policies.iter().map(|p| parse(&reversed(p))).collect();
        shuffled.reverse();
        if !shuffled.is_empty() {
            let n = rotate % shuffled.len();
            shuffled.rotate_left(n);
        }
        let srefs: Vec<&PolicyDocument> = shuffled.iter().collect();
        let after = evaluate(&srefs, &req);
        prop_assert_eq!(before.kind(), after.kind());
        // Merging all statements into one policy is equivalent too.
        let merged: Vec<Value> = policies
            .iter()
            .flat_map(|p| p["Statement"].as_array().cloned().unwrap_or_default())
            .collect();
        if !merged.is_empty() {
            let one = parse(&json!({"Version": "1", "Statement": merged}));
            prop_assert_eq!(evaluate(&[&one], &req).kind(), before.kind());
        }
    }

    /// Adding a matching Deny anywhere always yields an explicit deny.
    #[test]
    fn deny_always_wins(
        policies in prop::collection::vec(policy(), 0..4),
        at in 0usize..5,
        req in request(),
    ) {
        let mut docs: Vec<PolicyDocument> = policies.iter().map(parse).collect();
        let deny = parse(&json!({"Version":"1","Statement":[
            {"Effect":"Deny","Action":req.action.to_ascii_uppercase(),"Resource":"*"}]}));
        let pos = at.min(docs.len());
        docs.insert(pos, deny);
        let refs: Vec<&PolicyDocument> = docs.iter().collect();
        prop_assert!(matches!(evaluate(&refs, &req), Decision::ExplicitDeny(_)));
        // Also through a session policy, on either side.
        let allow_all = parse(&json!({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}));
        prop_assert!(matches!(evaluate_session(&refs, Some(&allow_all), &req), Decision::ExplicitDeny(_)));
        prop_assert!(matches!(evaluate_session(&[&allow_all], Some(&docs[pos]), &req), Decision::ExplicitDeny(_)));
    }

    /// With no policies, or only non-matching ones, the answer is an implicit deny; a session
    /// never allows more than the role.
    #[test]
    fn session_is_an_intersection(
        role in prop::collection::vec(policy(), 0..3),
        session in policy(),
        req in request(),
    ) {
        let role_docs: Vec<PolicyDocument> = role.iter().map(parse).collect();
        let refs: Vec<&PolicyDocument> = role_docs.iter().collect();
        let s = parse(&session);
        let both = evaluate_session(&refs, Some(&s), &req);
        let r = evaluate(&refs, &req);
        let only_s = evaluate_as(&[&s], &req, PolicyType::SessionPolicy);
        prop_assert_eq!(both.is_allowed(), r.is_allowed() && only_s.is_allowed());
        prop_assert!(!evaluate(&[], &req).is_allowed());
    }

    /// A policy with only `Allow * on *` allows any action on any resource.
    #[test]
    fn allow_star_allows_anything(
        action in "[a-z]{1,8}:[A-Za-z*?]{0,20}",
        resource in "\\PC{0,60}",
        ip in prop::option::of("[0-9.:a-f]{0,20}"),
    ) {
        let d = parse(&json!({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}));
        let mut req = RequestContext::new(action, resource);
        if let Some(ip) = ip {
            req = req.with_source_ip(ip);
        }
        prop_assert_eq!(evaluate(&[&d], &req), Decision::Allow);
    }
}

// ---------------------------------------------------------------- parser robustness

const VOCAB: &[&str] = &[
    "Version",
    "Statement",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "Condition",
    "Sid",
    "Principal",
    "Allow",
    "Deny",
    "1",
    "*",
    "acs:vpc:*:*:*",
    "vpc:Describe*",
    "StringEquals",
    "IpAddress",
    "Bool",
    "DateLessThan",
    "NumericEquals",
    "acs:SourceIp",
    "acs:CurrentTime",
    "RAM",
    "true",
    "10.0.0.0/8",
    "2019-01-01T00:00:00Z",
    "",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        prop::sample::select(VOCAB).prop_map(|s| json!(s)),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(VOCAB), inner), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn parse_never_panics_on_arbitrary_strings(s in "\\PC{0,200}") {
        let _ = PolicyDocument::parse(&s);
        let _ = PolicyDocument::parse_trust(&s);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_json(v in json_value()) {
        let text = v.to_string();
        let a = PolicyDocument::parse(&text);
        let _ = PolicyDocument::parse_trust(&text);
        let _ = PolicyDocument::from_value(&v, PolicyKind::Trust);
        // Whatever parses must also evaluate without panicking.
        if let Ok(d) = a {
            let req = RequestContext::new("vpc:DescribeVpnGateway", "*").with_source_ip("10.0.0.1");
            let _ = evaluate(&[&d], &req);
        }
    }

    #[test]
    fn parse_never_panics_on_policy_shaped_json(
        stmts in prop::collection::vec(
            prop::collection::btree_map(prop::sample::select(VOCAB), json_value(), 0..6), 0..4)
    ) {
        let v = json!({"Version": "1", "Statement": stmts});
        if let Ok(d) = PolicyDocument::parse(&v.to_string()) {
            let req = RequestContext::new("a:b", "*").with_current_time_unix(0);
            let _ = evaluate(&[&d], &req);
        }
    }
}

#[test]
fn deeply_nested_json_is_refused_not_crashed() {
    let deep = format!("{}{}", "[".repeat(3000), "]".repeat(3000));
    assert_eq!(
        PolicyDocument::parse(&deep).map(|_| ()).map_err(|e| e.kind),
        Err(PolicyErrorKind::JsonSyntax)
    );
}
