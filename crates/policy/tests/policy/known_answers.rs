//! Known answers: the cloud's own sample policies (RAM / OSS / KMS / VPC documentation)
//! evaluated against requests whose outcome the documentation states.

use vpngw_policy::*;

fn doc(s: &str) -> PolicyDocument {
    match PolicyDocument::parse(s) {
        Ok(d) => d,
        Err(e) => panic!("sample policy refused: {e}\n{s}"),
    }
}

fn err(s: &str) -> PolicyError {
    match PolicyDocument::parse(s) {
        Ok(_) => panic!("accepted a malformed policy: {s}"),
        Err(e) => e,
    }
}

const VCO_ARN: &str = "acs:vpc:cn-hangzhou:1234567890123456:vpnconnection/vco-bp1";

fn req(action: &str, resource: &str) -> RequestContext {
    RequestContext::new(action, resource)
}

#[test]
fn create_policy_sample_oss_administrator() {
    // CreatePolicy API reference sample PolicyDocument.
    let d = doc(
        r#"{ "Statement": [{ "Action": ["oss:*"], "Effect": "Allow", "Resource": ["acs:oss:*:*:*"]}], "Version": "1"}"#,
    );
    assert!(evaluate(&[&d], &req("oss:GetObject", "acs:oss:*:123:mybucket/a.jpg")).is_allowed());
    assert_eq!(
        evaluate(&[&d], &req("ecs:DescribeInstances", "*")),
        Decision::ImplicitDeny(PolicyType::AccountLevelIdentityBasedPolicy)
    );
}

#[test]
fn elements_page_action_and_resource_examples() {
    // "Permission policy elements": Action and Resource examples.
    let d = doc(r#"{"Version":"1","Statement":[{"Effect":"Allow",
        "Action":["oss:ListBuckets","ecs:Describe*","rds:Describe*"],
        "Resource":["acs:ecs:*:*:instance/inst-001","acs:ecs:*:*:instance/inst-002",
                    "acs:oss:*:*:mybucket","acs:oss:*:*:mybucket/*"]}]}"#);
    let inst1 = "acs:ecs:cn-hangzhou:1234567890123456:instance/inst-001";
    let inst3 = "acs:ecs:cn-hangzhou:1234567890123456:instance/inst-003";
    assert!(evaluate(&[&d], &req("ecs:DescribeInstances", inst1)).is_allowed());
    assert!(!evaluate(&[&d], &req("ecs:DescribeInstances", inst3)).is_allowed());
    assert!(!evaluate(&[&d], &req("ecs:StartInstance", inst1)).is_allowed());
    assert!(evaluate(&[&d], &req("oss:ListBuckets", "acs:oss:*:1:mybucket/x/y")).is_allowed());
    // Action matching is case-insensitive ("generally case-insensitive").
    assert!(evaluate(&[&d], &req("ECS:describeinstances", inst1)).is_allowed());
    // Resource matching is case-sensitive.
    assert!(!evaluate(&[&d], &req("ecs:DescribeInstances", &inst1.to_uppercase())).is_allowed());
}

#[test]
fn not_action_example_allows_everything_but_ram() {
    // NotAction sample: allow all operations except RAM.
    let d = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","NotAction":"ram:*","Resource":"*"}]}"#,
    );
    assert!(evaluate(&[&d], &req("vpc:DeleteVpnConnection", VCO_ARN)).is_allowed());
    assert!(!evaluate(&[&d], &req("ram:CreateUser", "acs:ram:*:1:user/*")).is_allowed());
    assert!(!evaluate(&[&d], &req("RAM:CreateUser", "*")).is_allowed());
}

#[test]
fn all_resources_except_billing() {
    // "Manage information about all resources within an Alibaba Cloud account except billing".
    let d = doc(
        r#"{"Statement":[{"Action":"*","Effect":"Allow","Resource":"*"},
        {"Action":["bss:*","bssapi:*","efc:*"],"Effect":"Deny","Resource":"*"}],"Version":"1"}"#,
    );
    assert!(evaluate(&[&d], &req("vpc:CreateVpnConnection", "*")).is_allowed());
    match evaluate(&[&d], &req("bss:DescribeAcccount", "*")) {
        Decision::ExplicitDeny(info) => {
            assert_eq!(info.policy_index, 0);
            assert_eq!(info.statement_index, 1);
            assert_eq!(
                info.policy_type,
                PolicyType::AccountLevelIdentityBasedPolicy
            );
        }
        other => panic!("expected explicit deny, got {other:?}"),
    }
}

#[test]
fn secure_transport_sample() {
    // "Access Alibaba Cloud by using a specified method": only HTTPS.
    let d = doc(
        r#"{"Statement":[{"Action":"ecs:*","Effect":"Allow","Resource":"*",
        "Condition":{"Bool":{"acs:SecureTransport":"true"}}}],"Version":"1"}"#,
    );
    let r = req("ecs:DescribeInstances", "*");
    assert!(evaluate(&[&d], &r.clone().with_secure_transport(true)).is_allowed());
    assert!(!evaluate(&[&d], &r.clone().with_secure_transport(false)).is_allowed());
    assert!(
        !evaluate(&[&d], &r).is_allowed(),
        "absent key: condition false"
    );
}

#[test]
fn source_ip_sample_v4_and_v6() {
    // KMS condition-key page: GenerateDataKey only from 116.62.XX.XX/24.
    let d = doc(
        r#"{"Statement":[{"Action":"kms:GenerateDataKey","Effect":"Allow","Resource":"*",
        "Condition":{"IpAddress":{"acs:SourceIp":["116.62.10.0/24","2001:db8::/32"]}}}],"Version":"1"}"#,
    );
    let r = req("kms:GenerateDataKey", "*");
    assert!(evaluate(&[&d], &r.clone().with_source_ip("116.62.10.77")).is_allowed());
    assert!(evaluate(&[&d], &r.clone().with_source_ip("2001:db8:1::9")).is_allowed());
    assert!(evaluate(&[&d], &r.clone().with_source_ip("::ffff:116.62.10.1")).is_allowed());
    assert!(!evaluate(&[&d], &r.clone().with_source_ip("116.62.11.1")).is_allowed());
    assert!(!evaluate(&[&d], &r.clone().with_source_ip("garbage")).is_allowed());
    assert!(!evaluate(&[&d], &r).is_allowed());

    // NotIpAddress in a Deny: deny everything from outside the office range.
    let guard = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
        {"Effect":"Deny","Action":"*","Resource":"*",
         "Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}}]}"#,
    );
    assert!(evaluate(&[&guard], &req("vpc:X", "*").with_source_ip("10.1.2.3")).is_allowed());
    assert!(matches!(
        evaluate(&[&guard], &req("vpc:X", "*").with_source_ip("192.0.2.1")),
        Decision::ExplicitDeny(_)
    ));
    // Negated operator on an absent key is true: the Deny applies.
    assert!(matches!(
        evaluate(&[&guard], &req("vpc:X", "*")),
        Decision::ExplicitDeny(_)
    ));
}

#[test]
fn string_equals_and_like_samples() {
    // Conditional operators page: StringEquals on acs:ResourceTag/team.
    let tag = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*",
        "Condition":{"StringEquals":{"acs:ResourceTag/team":["dev"]}}}]}"#,
    );
    let r = req("ecs:StopInstance", "*");
    assert!(evaluate(&[&tag], &r.clone().with_key("acs:ResourceTag/team", "dev")).is_allowed());
    assert!(!evaluate(&[&tag], &r.clone().with_key("acs:ResourceTag/team", "Dev")).is_allowed());
    // Key names are case-insensitive; a multi-valued request key matches if any value does.
    assert!(
        evaluate(
            &[&tag],
            &r.clone()
                .with_key("ACS:resourcetag/TEAM", "ops")
                .with_key("acs:ResourceTag/team", "dev")
        )
        .is_allowed()
    );

    // StringLike sample: oss:Prefix "hangzhou/2015/*".
    let like = doc(r#"{"Version":"1","Statement":[
        {"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:*:myphotos/hangzhou/2015/*"]},
        {"Effect":"Allow","Action":["oss:ListObjects"],"Resource":["acs:oss:*:*:myphotos"],
         "Condition":{"StringLike":{"oss:Prefix":"hangzhou/2015/*"}}}]}"#);
    let list = req("oss:ListObjects", "acs:oss:*:1:myphotos");
    assert!(
        evaluate(
            &[&like],
            &list.clone().with_key("oss:Prefix", "hangzhou/2015/01")
        )
        .is_allowed()
    );
    assert!(!evaluate(&[&like], &list.clone().with_key("oss:Prefix", "beijing/")).is_allowed());
    assert!(
        evaluate(
            &[&like],
            &req("oss:GetObject", "acs:oss:*:1:myphotos/hangzhou/2015/a.png")
        )
        .is_allowed()
    );

    let ic = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
        "Condition":{"StringEqualsIgnoreCase":{"vpc:tag/env":"Prod"},
                     "StringNotLike":{"vpc:tag/owner":"tmp-*"}}}]}"#,
    );
    let r = req("vpc:X", "*").with_key("vpc:tag/env", "PROD");
    assert!(evaluate(&[&ic], &r).is_allowed());
    assert!(!evaluate(&[&ic], &r.clone().with_key("vpc:tag/owner", "tmp-1")).is_allowed());
}

#[test]
fn date_and_numeric_conditions() {
    let d = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:*","Resource":"*",
        "Condition":{"DateLessThan":{"acs:CurrentTime":"2019-08-12T17:00:00+08:00"},
                     "DateGreaterThanEquals":{"acs:CurrentTime":"2019-08-01T00:00:00Z"}}}]}"#,
    );
    let r = req("vpc:DescribeVpnGateways", "*");
    // 2019-08-12T08:59:59Z is before 17:00 +08:00 (= 09:00Z).
    assert!(evaluate(&[&d], &r.clone().with_current_time_unix(1_565_600_399)).is_allowed());
    assert!(!evaluate(&[&d], &r.clone().with_current_time_unix(1_565_600_400)).is_allowed());
    assert!(!evaluate(&[&d], &r.clone().with_current_time_unix(1_564_617_599)).is_allowed());
    assert!(!evaluate(&[&d], &r).is_allowed());

    let n = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
        "Condition":{"NumericLessThanEquals":{"vpc:Bandwidth":100},"NumericNotEquals":{"vpc:Bandwidth":[7,8]}}}]}"#,
    );
    assert!(evaluate(&[&n], &req("a:b", "*").with_key("vpc:Bandwidth", "100")).is_allowed());
    assert!(!evaluate(&[&n], &req("a:b", "*").with_key("vpc:Bandwidth", "101")).is_allowed());
    assert!(!evaluate(&[&n], &req("a:b", "*").with_key("vpc:Bandwidth", "7")).is_allowed());
    assert!(!evaluate(&[&n], &req("a:b", "*").with_key("vpc:Bandwidth", "x")).is_allowed());
}

#[test]
fn mfa_condition() {
    let d = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*",
        "Condition":{"Bool":{"acs:MFAPresent":true}}}]}"#,
    );
    assert!(evaluate(&[&d], &req("a:b", "*").with_mfa_present(true)).is_allowed());
    assert!(!evaluate(&[&d], &req("a:b", "*").with_mfa_present(false)).is_allowed());
}

#[test]
fn system_policies_parse_and_answer() {
    for p in SYSTEM_POLICIES {
        assert!(
            PolicyDocument::parse(p.document).is_ok(),
            "{} must parse",
            p.name
        );
        assert!(!p.parse().statements().is_empty());
    }
    let admin = system_policy("AdministratorAccess")
        .map(SystemPolicy::parse)
        .expect("admin");
    let vpc_ro = system_policy("AliyunVPCReadOnlyAccess")
        .map(SystemPolicy::parse)
        .expect("ro");
    let vpc_full = system_policy("AliyunVPCFullAccess")
        .map(SystemPolicy::parse)
        .expect("full");
    let vpn_ro = system_policy("AliyunVPNGatewayReadOnlyAccess")
        .map(SystemPolicy::parse)
        .expect("vpn ro");
    assert!(evaluate(&[&admin], &req("vpc:DeleteVpnConnection", VCO_ARN)).is_allowed());
    assert!(evaluate(&[&vpc_ro], &req("vpc:DescribeVpcs", "*")).is_allowed());
    assert!(!evaluate(&[&vpc_ro], &req("vpc:DeleteVpc", "*")).is_allowed());
    // The real VPC policies do not cover VPN Gateway actions.
    assert!(!evaluate(&[&vpc_ro], &req("vpc:DescribeVpnConnection", VCO_ARN)).is_allowed());
    assert!(!evaluate(&[&vpc_full], &req("vpc:DeleteVpnConnection", VCO_ARN)).is_allowed());
    assert!(evaluate(&[&vpc_full], &req("vpc:CreateVpc", "*")).is_allowed());
    assert!(evaluate(&[&vpn_ro], &req("vpc:DescribeVpnConnection", VCO_ARN)).is_allowed());
    assert!(evaluate(&[&vpn_ro], &req("vpc:DescribeCustomerGateways", "*")).is_allowed());
    assert!(!evaluate(&[&vpn_ro], &req("vpc:DeleteVpnConnection", VCO_ARN)).is_allowed());
    assert!(system_policy("NoSuchPolicy").is_none());
}

#[test]
fn scoped_to_one_connection_arn() {
    let d = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:*VpnConnection*",
        "Resource":"acs:vpc:*:*:vpnconnection/vco-bp1"}]}"#,
    );
    assert!(evaluate(&[&d], &req("vpc:DescribeVpnConnection", VCO_ARN)).is_allowed());
    assert!(evaluate(&[&d], &req("vpc:DeleteVpnConnection", VCO_ARN)).is_allowed());
    let other = vpc_arn(
        "cn-hangzhou",
        "1234567890123456",
        "vpnconnection",
        "vco-bp2",
    );
    assert!(!evaluate(&[&d], &req("vpc:DeleteVpnConnection", &other)).is_allowed());
    // The list form does not match a policy naming one connection.
    let list = vpc_arn("cn-hangzhou", "1234567890123456", "vpnconnection", "*");
    assert!(!evaluate(&[&d], &req("vpc:DescribeVpnConnections", &list)).is_allowed());
    let all = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:Describe*",
        "Resource":"acs:vpc:*:*:vpnconnection/*"}]}"#,
    );
    assert!(evaluate(&[&all], &req("vpc:DescribeVpnConnections", &list)).is_allowed());
}

#[test]
fn session_policy_intersection_examples() {
    // OSS error 0003-00000301, example 1: role has oss:* (AliyunOSSFullAccess), session
    // policy allows oss:PutObject -> PutObject allowed, GetObject denied.
    let role =
        doc(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:*","Resource":"*"}]}"#);
    let put = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:PutObject","Resource":"*"}]}"#,
    );
    assert!(
        evaluate_session(
            &[&role],
            Some(&put),
            &req("oss:PutObject", "acs:oss:*:1:b/o")
        )
        .is_allowed()
    );
    assert_eq!(
        evaluate_session(
            &[&role],
            Some(&put),
            &req("oss:GetObject", "acs:oss:*:1:b/o")
        ),
        Decision::ImplicitDeny(PolicyType::SessionPolicy)
    );
    // Example 2: role only PutObject, session only GetObject -> nothing.
    let get = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}"#,
    );
    assert!(!evaluate_session(&[&put], Some(&get), &req("oss:GetObject", "*")).is_allowed());
    assert!(!evaluate_session(&[&put], Some(&get), &req("oss:PutObject", "*")).is_allowed());
    // No session policy: the role's policies decide.
    assert!(evaluate_session(&[&role], None, &req("oss:GetObject", "*")).is_allowed());
    // A Deny in the session policy is explicit.
    let deny =
        doc(r#"{"Version":"1","Statement":[{"Effect":"Deny","Action":"oss:*","Resource":"*"}]}"#);
    assert!(matches!(
        evaluate_session(&[&role], Some(&deny), &req("oss:GetObject", "*")),
        Decision::ExplicitDeny(DenyInfo {
            policy_type: PolicyType::SessionPolicy,
            ..
        })
    ));
}

#[test]
fn trust_policy() {
    let t = PolicyDocument::parse_trust(
        r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",
        "Principal":{"RAM":["acs:ram::1234567890123456:root"]}}],"Version":"1"}"#,
    )
    .expect("trust policy");
    let r = req("sts:AssumeRole", "acs:ram::1234567890123456:role/ops");
    let same = r
        .clone()
        .with_principal(CallerPrincipal::ram_user("1234567890123456", "alice"));
    let other = r
        .clone()
        .with_principal(CallerPrincipal::ram_user("6543210987654321", "alice"));
    assert!(evaluate_trust(&t, &same).is_allowed());
    assert_eq!(
        evaluate_trust(&t, &other),
        Decision::ImplicitDeny(PolicyType::AssumeRolePolicy)
    );
    assert!(!evaluate_trust(&t, &r).is_allowed(), "no caller principal");

    let user_only = PolicyDocument::parse_trust(
        r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",
        "Principal":{"RAM":"acs:ram::1234567890123456:user/bob"}}],"Version":"1"}"#,
    )
    .expect("trust");
    assert!(!evaluate_trust(&user_only, &same).is_allowed());
    let bob = r
        .clone()
        .with_principal(CallerPrincipal::ram_user("1234567890123456", "bob"));
    assert!(evaluate_trust(&user_only, &bob).is_allowed());

    let svc = PolicyDocument::parse_trust(
        r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow",
        "Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}"#,
    )
    .expect("trust");
    assert!(
        evaluate_trust(
            &svc,
            &r.clone()
                .with_principal(CallerPrincipal::service("ecs.aliyuncs.com"))
        )
        .is_allowed()
    );
    assert!(!evaluate_trust(&svc, &same).is_allowed());

    // Permission policies may not carry Principal; trust policies need it.
    assert_eq!(
        err(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}"#).kind,
        PolicyErrorKind::InvalidPolicyElement
    );
    assert_eq!(
        PolicyDocument::parse_trust(
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}"#
        )
        .map(|_| ())
        .map_err(|e| e.kind),
        Err(PolicyErrorKind::MissingPrincipal)
    );
}

#[test]
fn access_denied_detail_shape() {
    let d = doc(
        r#"{"Version":"1","Statement":[{"Effect":"Deny","Sid":"NoDelete","Action":"vpc:Delete*","Resource":"*"}]}"#,
    );
    let r = req("vpc:DeleteVpnConnection", VCO_ARN);
    let decision = evaluate(&[&d], &r);
    let who = DeniedPrincipal {
        principal_type: "SubUser".into(),
        owner_id: "1234567890123456".into(),
        display_name: "alice".into(),
    };
    let detail = AccessDeniedDetail::from_decision(&decision, &r, &who).expect("denied");
    let v = detail.to_json();
    assert_eq!(v["NoPermissionType"], "ExplicitDeny");
    assert_eq!(v["PolicyType"], "AccountLevelIdentityBasedPolicy");
    assert_eq!(v["AuthAction"], "vpc:DeleteVpnConnection");
    assert_eq!(v["AuthPrincipalType"], "SubUser");
    assert_eq!(v["AuthPrincipalOwnerId"], "1234567890123456");
    assert_eq!(v["AuthPrincipalDisplayName"], "alice");
    let diag = decode_diagnostic_message(v["EncodedDiagnosticMessage"].as_str().expect("str"))
        .expect("decodes");
    assert_eq!(diag["AuthResource"], VCO_ARN);
    assert_eq!(diag["ExplicitDeny"], true);
    assert_eq!(diag["Sid"], "NoDelete");
    let ok = doc(r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#);
    assert!(AccessDeniedDetail::from_decision(&evaluate(&[&ok], &r), &r, &who).is_none());
    let implicit = AccessDeniedDetail::from_decision(&evaluate(&[], &r), &r, &who).expect("denied");
    assert_eq!(implicit.no_permission_type, "ImplicitDeny");
}

#[test]
fn malformed_documents_are_refused_precisely() {
    use PolicyErrorKind as K;
    let cases: &[(&str, K, &str)] = &[
        ("", K::Length, ""),
        ("{", K::JsonSyntax, ""),
        ("[]", K::DataTypeMismatch, ""),
        (r#"{"Statement":[]}"#, K::MissingVersion, "Version"),
        (
            r#"{"Version":"2","Statement":[]}"#,
            K::InvalidVersion,
            "Version",
        ),
        (
            r#"{"Version":1,"Statement":[]}"#,
            K::DataTypeMismatch,
            "Version",
        ),
        (r#"{"Version":"1"}"#, K::MissingStatement, "Statement"),
        (
            r#"{"Version":"1","Statement":[]}"#,
            K::MissingStatement,
            "Statement",
        ),
        (
            r#"{"Version":"1","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
            K::DataTypeMismatch,
            "Statement",
        ),
        (
            r#"{"Version":"1","Id":"x","Statement":[]}"#,
            K::InvalidPolicyElement,
            "Id",
        ),
        (
            r#"{"Version":"1","Statement":[{"Action":"*","Resource":"*"}]}"#,
            K::MissingEffect,
            "Statement[0].Effect",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Alow","Action":"*","Resource":"*"}]}"#,
            K::InvalidEffect,
            "Statement[0].Effect",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            K::MissingAction,
            "Statement[0].Action",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":[],"Resource":"*"}]}"#,
            K::MissingAction,
            "Statement[0].Action",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotAction":"a:b","Resource":"*"}]}"#,
            K::ActionAndNotAction,
            "Statement[0].NotAction",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["vpc:A","DescribeVpcs"],"Resource":"*"}]}"#,
            K::InvalidActionFormat,
            "Statement[0].Action[1]",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":[1],"Resource":"*"}]}"#,
            K::DataTypeMismatch,
            "Statement[0].Action[0]",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*"}]}"#,
            K::MissingResource,
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::x"}]}"#,
            K::InvalidArnPrefix,
            "Statement[0].Resource",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","NotResource":"*"}]}"#,
            K::InvalidPolicyElement,
            "Statement[0].NotResource",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"a:b":"c"}}}]}"#,
            K::InvalidConditionOperator,
            "Statement[0].Condition.StringEqualz",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualsIfExists":{"a:b":"c"}}}]}"#,
            K::InvalidConditionOperator,
            "Statement[0].Condition.StringEqualsIfExists",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"nokey":"c"}}}]}"#,
            K::InvalidConditionKeyFormat,
            "Statement[0].Condition.StringEquals.nokey",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":["true","false"]}}}]}"#,
            K::InvalidConditionMultipleBoolean,
            "Statement[0].Condition.Bool.acs:SecureTransport",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"yes"}}}]}"#,
            K::InvalidConditionValue,
            "Statement[0].Condition.Bool.acs:SecureTransport",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","10.0.0.300"]}}}]}"#,
            K::InvalidConditionValue,
            "Statement[0].Condition.IpAddress.acs:SourceIp[1]",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"acs:CurrentTime":"tomorrow"}}}]}"#,
            K::InvalidConditionValue,
            "Statement[0].Condition.DateLessThan.acs:CurrentTime",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"a:b":"ten"}}}]}"#,
            K::InvalidConditionValue,
            "Statement[0].Condition.NumericEquals.a:b",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"a:b":null}}}]}"#,
            K::DataTypeMismatch,
            "Statement[0].Condition.StringEquals.a:b",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{}}}]}"#,
            K::DataTypeMismatch,
            "Statement[0].Condition.StringEquals",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Actions":"*","Resource":"*"}]}"#,
            K::InvalidPolicyElement,
            "Statement[0].Actions",
        ),
        (
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":5}]}"#,
            K::DataTypeMismatch,
            "Statement[0].Sid",
        ),
        (
            r#"{"Version":"1","Statement":["x"]}"#,
            K::DataTypeMismatch,
            "Statement[0]",
        ),
    ];
    for (text, kind, path) in cases {
        let e = err(text);
        assert_eq!((e.kind, e.path.as_str()), (*kind, *path), "for {text}: {e}");
        if *kind == K::Length {
            assert_eq!(e.code(), "InvalidParameter.PolicyDocument.Length");
        } else {
            assert_eq!(e.code(), "MalformedPolicyDocument", "{text}");
        }
        assert!(!e.api_message().is_empty());
    }
}

#[test]
fn length_limit_is_6144_characters() {
    let base =
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Sid":""}]}"#;
    let pad = MAX_POLICY_DOCUMENT_CHARS - base.chars().count();
    // Multi-byte characters count once each.
    let exact = base.replace(r#""Sid":"""#, &format!(r#""Sid":"{}""#, "é".repeat(pad)));
    assert_eq!(exact.chars().count(), MAX_POLICY_DOCUMENT_CHARS);
    assert!(PolicyDocument::parse(&exact).is_ok());
    let over = base.replace(
        r#""Sid":"""#,
        &format!(r#""Sid":"{}""#, "é".repeat(pad + 1)),
    );
    let e = err(&over);
    assert_eq!(e.kind, PolicyErrorKind::Length);
    assert!(e.api_message().contains("6144"));
}

#[test]
fn accepted_variants() {
    // Single strings for list elements, lowercase effect, Sid, scalar condition values.
    let d = doc(
        r#"{"Version":"1","Statement":[{"Sid":"s1","Effect":"allow","Action":"vpc:DescribeVpnGateway",
        "Resource":"acs:vpc:*:*:vpngateway/*","Condition":{"NumericEquals":{"vpc:n":5},"Bool":{"acs:SecureTransport":true}}}]}"#,
    );
    let s = &d.statements()[0];
    assert_eq!(s.sid.as_deref(), Some("s1"));
    assert_eq!(s.effect, Effect::Allow);
    assert_eq!(s.conditions.len(), 2);
    let r = req(
        "vpc:DescribeVpnGateway",
        "acs:vpc:cn-hangzhou:1:vpngateway/vpn-1",
    )
    .with_key("vpc:n", "5.0")
    .with_secure_transport(true);
    assert!(evaluate(&[&d], &r).is_allowed());
}
