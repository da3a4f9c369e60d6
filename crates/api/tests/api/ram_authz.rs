//! RAM, STS and authorization, in process: every decision path of the
//! authorizer, the RAM deletion rules, temporary credentials, and account
//! isolation. Requests are signed with V1 exactly as a client signs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use crate::common::{Answer, KEY_ID, SECRET, TestApi};
use serde_json::Value;
use vpngw_api::{Config, RequestInfo};

const RAM: &str = "2015-05-01";
const STS: &str = "2015-04-01";
const VPC: &str = "2016-04-28";

/// A key (and token, for STS credentials) to sign with.
#[derive(Clone)]
struct Cred {
    id: String,
    secret: String,
    token: Option<String>,
}

impl Cred {
    fn root() -> Cred {
        Cred {
            id: KEY_ID.into(),
            secret: SECRET.into(),
            token: None,
        }
    }
}

async fn call(
    api: &TestApi,
    cred: &Cred,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
    info: RequestInfo,
) -> Answer {
    let nonce = format!("{:032x}", rand::random::<u128>());
    let t = time::OffsetDateTime::now_utc();
    let timestamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let mut pairs: Vec<(&str, &str)> = vec![
        ("Action", action),
        ("Version", version),
        ("Format", "JSON"),
        ("AccessKeyId", &cred.id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", &nonce),
        ("Timestamp", &timestamp),
    ];
    if let Some(token) = &cred.token {
        pairs.push(("SecurityToken", token));
    }
    if version == VPC && !params.iter().any(|(k, _)| *k == "RegionId") {
        pairs.push(("RegionId", "cn-hangzhou"));
    }
    pairs.extend_from_slice(params);
    let query =
        vpngw_protocol::sign::sign_v1_query("POST", &pairs, cred.secret.as_bytes()).unwrap();
    let headers = http::HeaderMap::new();
    let raw = vpngw_protocol::RawRequest {
        method: &http::Method::POST,
        query: Some(&query),
        headers: &headers,
        body: b"",
    };
    let (encoded, _) = api.service.call_with(&raw, info).await;
    Answer {
        status: encoded.status,
        body: serde_json::from_slice(&encoded.body).unwrap(),
    }
}

async fn ok(api: &TestApi, cred: &Cred, version: &str, action: &str, p: &[(&str, &str)]) -> Value {
    let a = call(api, cred, version, action, p, RequestInfo::default()).await;
    assert_eq!(a.status, 200, "{action}: {}", a.body);
    a.body
}

async fn err(
    api: &TestApi,
    cred: &Cred,
    version: &str,
    action: &str,
    p: &[(&str, &str)],
) -> (u16, String, Value) {
    let a = call(api, cred, version, action, p, RequestInfo::default()).await;
    assert_ne!(a.status, 200, "{action} should fail: {}", a.body);
    (a.status, a.code().to_owned(), a.body)
}

/// A RAM user with one access key.
async fn user_with_key(api: &TestApi, name: &str) -> Cred {
    let root = Cred::root();
    ok(api, &root, RAM, "CreateUser", &[("UserName", name)]).await;
    let k = ok(api, &root, RAM, "CreateAccessKey", &[("UserName", name)]).await;
    Cred {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret: k["AccessKey"]["AccessKeySecret"].as_str().unwrap().into(),
        token: None,
    }
}

async fn attach(api: &TestApi, kind: &str, name: &str, policy_type: &str, policy: &str) {
    let (action, param) = match kind {
        "User" => ("AttachPolicyToUser", "UserName"),
        "Group" => ("AttachPolicyToGroup", "GroupName"),
        _ => ("AttachPolicyToRole", "RoleName"),
    };
    ok(
        api,
        &Cred::root(),
        RAM,
        action,
        &[
            (param, name),
            ("PolicyType", policy_type),
            ("PolicyName", policy),
        ],
    )
    .await;
}

async fn custom_policy(api: &TestApi, name: &str, doc: &str) {
    ok(
        api,
        &Cred::root(),
        RAM,
        "CreatePolicy",
        &[("PolicyName", name), ("PolicyDocument", doc)],
    )
    .await;
}

async fn gateway_count(api: &TestApi) -> i64 {
    ok(api, &Cred::root(), VPC, "DescribeVpnGateways", &[]).await["TotalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ram_user_shapes_and_errors() {
    let api = TestApi::new().await;
    let root = Cred::root();
    let created = ok(
        &api,
        &root,
        RAM,
        "CreateUser",
        &[
            ("UserName", "alice"),
            ("DisplayName", "Alice"),
            ("Email", "alice@example.com"),
            ("MobilePhone", "86-18600008888"),
            ("Comments", "ops"),
        ],
    )
    .await;
    let user = &created["User"];
    assert_eq!(user["UserName"], "alice");
    assert_eq!(user["DisplayName"], "Alice");
    assert_eq!(user["UserId"].as_str().unwrap().len(), 16);
    assert!(user["CreateDate"].as_str().unwrap().ends_with('Z'));
    let (status, code, _) = err(&api, &root, RAM, "CreateUser", &[("UserName", "alice")]).await;
    assert_eq!((status, code.as_str()), (409, "EntityAlreadyExists.User"));
    let (status, code, body) = err(&api, &root, RAM, "GetUser", &[("UserName", "bob")]).await;
    assert_eq!((status, code.as_str()), (404, "EntityNotExist.User"));
    assert_eq!(body["HostId"], "ram.aliyuncs.com");
    let (_, code, _) = err(&api, &root, RAM, "CreateUser", &[("UserName", "a b")]).await;
    assert_eq!(code, "InvalidParameter.UserName.InvalidChars");
    let long = "x".repeat(65);
    let (_, code, _) = err(&api, &root, RAM, "CreateUser", &[("UserName", &long)]).await;
    assert_eq!(code, "InvalidParameter.UserName.Length");
    let (_, code, _) = err(&api, &root, RAM, "CreateUser", &[]).await;
    assert_eq!(code, "MissingParameter");
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "CreateUser",
        &[("UserName", "carol"), ("Email", "nope")],
    )
    .await;
    assert_eq!(code, "InvalidParameter.Email.Format");

    let updated = ok(
        &api,
        &root,
        RAM,
        "UpdateUser",
        &[
            ("UserName", "alice"),
            ("NewUserName", "alice2"),
            ("NewComments", "x"),
        ],
    )
    .await;
    assert_eq!(updated["User"]["UserName"], "alice2");
    assert_eq!(updated["User"]["Comments"], "x");
    let listed = ok(&api, &root, RAM, "ListUsers", &[("MaxItems", "1")]).await;
    assert_eq!(listed["IsTruncated"], false);
    assert_eq!(listed["Users"]["User"].as_array().unwrap().len(), 1);

    // Unknown and unsupported RAM actions.
    let (status, code, body) = err(&api, &root, RAM, "NoSuchAction", &[]).await;
    assert_eq!((status, code.as_str()), (404, "InvalidAction.NotFound"));
    assert_eq!(body["HostId"], "ram.aliyuncs.com");
    let (_, code, _) = err(&api, &root, RAM, "ListVirtualMFADevices", &[]).await;
    assert_eq!(code, "UnsupportedOperation");
    let (_, code, body) = err(&api, &root, STS, "Nope", &[]).await;
    assert_eq!(code, "InvalidAction.NotFound");
    assert_eq!(body["HostId"], "sts.aliyuncs.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_user_is_refused_while_anything_remains() {
    let api = TestApi::new().await;
    let root = Cred::root();
    let key = user_with_key(&api, "bob").await;
    ok(&api, &root, RAM, "CreateGroup", &[("GroupName", "ops")]).await;
    ok(
        &api,
        &root,
        RAM,
        "AddUserToGroup",
        &[("GroupName", "ops"), ("UserName", "bob")],
    )
    .await;
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "AddUserToGroup",
        &[("GroupName", "ops"), ("UserName", "bob")],
    )
    .await;
    assert_eq!(code, "EntityAlreadyExists.User.Group");
    attach(&api, "User", "bob", "System", "AliyunVPCReadOnlyAccess").await;
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "bob"),
            ("PolicyType", "System"),
            ("PolicyName", "NoSuchPolicy"),
        ],
    )
    .await;
    assert_eq!(code, "EntityNotExist.Policy");
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "bob"),
            ("PolicyType", "Other"),
            ("PolicyName", "x"),
        ],
    )
    .await;
    assert_eq!(code, "InvalidParameter.PolicyType");

    let del = [("UserName", "bob")];
    let (status, code, _) = err(&api, &root, RAM, "DeleteUser", &del).await;
    assert_eq!(
        (status, code.as_str()),
        (409, "DeleteConflict.User.AccessKey")
    );
    ok(
        &api,
        &root,
        RAM,
        "DeleteAccessKey",
        &[("UserName", "bob"), ("UserAccessKeyId", &key.id)],
    )
    .await;
    let (_, code, _) = err(&api, &root, RAM, "DeleteUser", &del).await;
    assert_eq!(code, "DeleteConflict.User.Policy");
    ok(
        &api,
        &root,
        RAM,
        "DetachPolicyFromUser",
        &[
            ("UserName", "bob"),
            ("PolicyType", "System"),
            ("PolicyName", "AliyunVPCReadOnlyAccess"),
        ],
    )
    .await;
    let (status, code, _) = err(
        &api,
        &root,
        RAM,
        "DetachPolicyFromUser",
        &[
            ("UserName", "bob"),
            ("PolicyType", "System"),
            ("PolicyName", "AliyunVPCReadOnlyAccess"),
        ],
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "EntityNotExist.User.Policy"));
    let (_, code, _) = err(&api, &root, RAM, "DeleteUser", &del).await;
    assert_eq!(code, "DeleteConflict.User.Group");
    ok(
        &api,
        &root,
        RAM,
        "RemoveUserFromGroup",
        &[("GroupName", "ops"), ("UserName", "bob")],
    )
    .await;
    ok(&api, &root, RAM, "DeleteUser", &del).await;
    let (status, code, _) = err(&api, &root, RAM, "DeleteUser", &del).await;
    assert_eq!((status, code.as_str()), (404, "EntityNotExist.User"));
    // The deleted key is gone for good.
    let (status, code, _) = err(&api, &key, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(
        (status, code.as_str()),
        (404, "InvalidAccessKeyId.NotFound")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_policy_is_denied_and_nothing_changes() {
    let api = TestApi::new().await;
    let carol = user_with_key(&api, "carol").await;
    let (status, code, body) = err(
        &api,
        &carol,
        VPC,
        "CreateVpnGateway",
        &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "Forbidden.RAM"));
    let detail = &body["AccessDeniedDetail"];
    assert_eq!(detail["NoPermissionType"], "ImplicitDeny");
    assert_eq!(detail["AuthAction"], "vpc:CreateVpnGateway");
    assert_eq!(detail["AuthPrincipalType"], "SubUser");
    assert_eq!(detail["AuthPrincipalDisplayName"], "carol");
    assert_eq!(detail["PolicyType"], "AccountLevelIdentityBasedPolicy");
    assert_eq!(gateway_count(&api).await, 0);
    // RAM itself: NoPermission naming resource and action.
    let (status, code, body) = err(&api, &carol, RAM, "CreateUser", &[("UserName", "x")]).await;
    assert_eq!((status, code.as_str()), (403, "NoPermission"));
    assert!(
        body["Message"]
            .as_str()
            .unwrap()
            .ends_with(":user/x Action: ram:CreateUser"),
        "{body}"
    );
    // An inactive key is refused before anything else.
    ok(
        &api,
        &Cred::root(),
        RAM,
        "UpdateAccessKey",
        &[
            ("UserName", "carol"),
            ("UserAccessKeyId", &carol.id),
            ("Status", "Inactive"),
        ],
    )
    .await;
    let (_, code, _) = err(&api, &carol, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "InvalidAccessKeyId.Inactive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_policy_describes_but_cannot_delete() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let dave = user_with_key(&api, "dave").await;
    // Via a group, to cover group policies too.
    ok(
        &api,
        &Cred::root(),
        RAM,
        "CreateGroup",
        &[("GroupName", "readers")],
    )
    .await;
    ok(
        &api,
        &Cred::root(),
        RAM,
        "AddUserToGroup",
        &[("GroupName", "readers"), ("UserName", "dave")],
    )
    .await;
    attach(
        &api,
        "Group",
        "readers",
        "System",
        "AliyunVPNGatewayReadOnlyAccess",
    )
    .await;
    ok(
        &api,
        &dave,
        VPC,
        "DescribeVpnGateway",
        &[("VpnGatewayId", &gw)],
    )
    .await;
    ok(&api, &dave, VPC, "DescribeVpnConnections", &[]).await;
    let (status, code, body) = err(
        &api,
        &dave,
        VPC,
        "DeleteVpnConnection",
        &[("VpnConnectionId", &vco)],
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "Forbidden.RAM"), "{body}");
    ok(
        &api,
        &Cred::root(),
        VPC,
        "DescribeVpnConnection",
        &[("VpnConnectionId", &vco)],
    )
    .await;
    // The real AliyunVPCReadOnlyAccess does not cover VPN actions.
    let erin = user_with_key(&api, "erin").await;
    attach(&api, "User", "erin", "System", "AliyunVPCReadOnlyAccess").await;
    let (_, code, _) = err(&api, &erin, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "Forbidden.RAM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policy_scoped_to_one_connection() {
    let api = TestApi::new().await;
    let (_, _, vco_a) = api.connection().await;
    let (_, _, vco_b) = api.connection().await;
    let frank = user_with_key(&api, "frank").await;
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"vpc:*VpnConnection*","Resource":"acs:vpc:*:*:vpnconnection/{vco_a}"}}]}}"#
    );
    custom_policy(&api, "one-connection", &doc).await;
    attach(&api, "User", "frank", "Custom", "one-connection").await;
    ok(
        &api,
        &frank,
        VPC,
        "DescribeVpnConnection",
        &[("VpnConnectionId", &vco_a)],
    )
    .await;
    let (status, code, body) = err(
        &api,
        &frank,
        VPC,
        "DescribeVpnConnection",
        &[("VpnConnectionId", &vco_b)],
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (403, "Forbbiden.SubUser"),
        "{body}"
    );
    assert_eq!(
        body["AccessDeniedDetail"]["NoPermissionType"],
        "ImplicitDeny"
    );
    // Listing is the `vpnconnection/*` resource, which the grant does not cover.
    let (_, code, _) = err(&api, &frank, VPC, "DescribeVpnConnections", &[]).await;
    assert_eq!(code, "Forbidden.RAM");
    // Modifying A is allowed; B untouched.
    ok(
        &api,
        &frank,
        VPC,
        "ModifyVpnConnectionAttribute",
        &[("VpnConnectionId", &vco_a), ("Name", "renamed")],
    )
    .await;
    let b = ok(
        &api,
        &Cred::root(),
        VPC,
        "DescribeVpnConnection",
        &[("VpnConnectionId", &vco_b)],
    )
    .await;
    assert_ne!(b["Name"], "renamed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_deny_wins_and_conditions_apply() {
    let api = TestApi::new().await;
    let (gw, _, _) = api.connection().await;
    let gina = user_with_key(&api, "gina").await;
    attach(&api, "User", "gina", "System", "AdministratorAccess").await;
    custom_policy(
        &api,
        "no-delete",
        r#"{"Version":"1","Statement":[{"Sid":"keep","Effect":"Deny","Action":"vpc:Delete*","Resource":"*"}]}"#,
    )
    .await;
    attach(&api, "User", "gina", "Custom", "no-delete").await;
    let (status, code, body) = err(
        &api,
        &gina,
        VPC,
        "DeleteVpnGateway",
        &[("VpnGatewayId", &gw)],
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "Forbidden.RAM"));
    assert_eq!(
        body["AccessDeniedDetail"]["NoPermissionType"],
        "ExplicitDeny"
    );
    let diag = vpngw_policy::decode_diagnostic_message(
        body["AccessDeniedDetail"]["EncodedDiagnosticMessage"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(diag["Sid"], "keep");
    assert_eq!(gateway_count(&api).await, 1);

    // acs:SourceIp: allowed from 192.168.0.0/16 only.
    let hank = user_with_key(&api, "hank").await;
    custom_policy(
        &api,
        "from-lan",
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:Describe*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"192.168.0.0/16"}}}]}"#,
    )
    .await;
    attach(&api, "User", "hank", "Custom", "from-lan").await;
    let lan: IpAddr = "192.168.1.20".parse().unwrap();
    let wan: IpAddr = "203.0.113.9".parse().unwrap();
    let from = |ip: IpAddr| RequestInfo {
        peer: Some(ip),
        ..RequestInfo::default()
    };
    let a = call(&api, &hank, VPC, "DescribeVpnGateways", &[], from(lan)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let a = call(&api, &hank, VPC, "DescribeVpnGateways", &[], from(wan)).await;
    assert_eq!((a.status, a.code()), (403, "Forbidden.RAM"));
    // Without a known peer the condition cannot hold.
    let a = call(
        &api,
        &hank,
        VPC,
        "DescribeVpnGateways",
        &[],
        RequestInfo::default(),
    )
    .await;
    assert_eq!(a.status, 403);
    // acs:SecureTransport: true only for a request that arrived over TLS.
    let ivan = user_with_key(&api, "ivan").await;
    custom_policy(
        &api,
        "https-only",
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"true"}}}]}"#,
    )
    .await;
    attach(&api, "User", "ivan", "Custom", "https-only").await;
    let (status, _, _) = err(&api, &ivan, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(status, 403);
    let over_tls = RequestInfo {
        secure_transport: true,
        ..RequestInfo::default()
    };
    let a = call(&api, &ivan, VPC, "DescribeVpnGateways", &[], over_tls).await;
    assert_eq!(a.status, 200, "{}", a.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_policies_are_refused_and_not_stored() {
    let api = TestApi::new().await;
    let root = Cred::root();
    let (status, code, _) = err(
        &api,
        &root,
        RAM,
        "CreatePolicy",
        &[
            ("PolicyName", "bad"),
            (
                "PolicyDocument",
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "MalformedPolicyDocument"));
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "GetPolicy",
        &[("PolicyName", "bad"), ("PolicyType", "Custom")],
    )
    .await;
    assert_eq!(code, "EntityNotExist.Policy");
    let (_, code, _) = err(
        &api,
        &root,
        RAM,
        "CreatePolicy",
        &[
            ("PolicyName", "AdministratorAccess"),
            (
                "PolicyDocument",
                r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
            ),
        ],
    )
    .await;
    assert_eq!(code, "EntityAlreadyExists.Policy");

    // Versions: a new default changes what the policy grants.
    custom_policy(
        &api,
        "p",
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:DescribeVpnGateways","Resource":"*"}]}"#,
    )
    .await;
    let jack = user_with_key(&api, "jack").await;
    attach(&api, "User", "jack", "Custom", "p").await;
    ok(&api, &jack, VPC, "DescribeVpnGateways", &[]).await;
    let v = ok(
        &api,
        &root,
        RAM,
        "CreatePolicyVersion",
        &[
            ("PolicyName", "p"),
            ("SetAsDefault", "true"),
            ("PolicyDocument", r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:DescribeCustomerGateways","Resource":"*"}]}"#),
        ],
    )
    .await;
    assert_eq!(v["PolicyVersion"]["VersionId"], "v2");
    assert_eq!(v["PolicyVersion"]["IsDefaultVersion"], true);
    let (status, _, _) = err(&api, &jack, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(status, 403);
    ok(&api, &jack, VPC, "DescribeCustomerGateways", &[]).await;
    let got = ok(
        &api,
        &root,
        RAM,
        "GetPolicy",
        &[("PolicyName", "p"), ("PolicyType", "Custom")],
    )
    .await;
    assert_eq!(got["Policy"]["DefaultVersion"], "v2");
    assert_eq!(got["Policy"]["AttachmentCount"], 1);
    assert_eq!(got["DefaultPolicyVersion"]["VersionId"], "v2");
    let (status, code, _) = err(&api, &root, RAM, "DeletePolicy", &[("PolicyName", "p")]).await;
    assert_eq!((status, code.as_str()), (409, "DeleteConflict.Policy.User"));
    let listed = ok(
        &api,
        &root,
        RAM,
        "ListPolicies",
        &[("PolicyType", "System")],
    )
    .await;
    let names: Vec<&str> = listed["Policies"]["Policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"AdministratorAccess"));
    assert!(names.contains(&"AliyunVPCFullAccess"));
    assert!(names.contains(&"AliyunVPCReadOnlyAccess"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assume_role_and_session_credentials() {
    let api = TestApi::with_config(Config {
        gateway_provision_delay_ms: 0,
        sts_min_duration_seconds: 1,
        ..Config::default()
    })
    .await;
    let root = Cred::root();
    let account = ok(&api, &root, STS, "GetCallerIdentity", &[]).await;
    assert_eq!(account["IdentityType"], "Account");
    let acct = account["AccountId"].as_str().unwrap().to_owned();
    let kim = user_with_key(&api, "kim").await;
    let trust = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{acct}:user/kim"]}}}}]}}"#
    );
    let role = ok(
        &api,
        &root,
        RAM,
        "CreateRole",
        &[
            ("RoleName", "vpn-admin"),
            ("AssumeRolePolicyDocument", &trust),
        ],
    )
    .await;
    let arn = role["Role"]["Arn"].as_str().unwrap().to_owned();
    assert_eq!(arn, format!("acs:ram::{acct}:role/vpn-admin"));
    attach(&api, "Role", "vpn-admin", "System", "AdministratorAccess").await;
    let assume = [
        ("RoleArn", arn.as_str()),
        ("RoleSessionName", "kim-session"),
    ];

    // Root keys may not assume roles; kim needs sts:AssumeRole first.
    let (status, code, body) = err(&api, &root, STS, "AssumeRole", &assume).await;
    assert_eq!((status, code.as_str()), (403, "NoPermission"));
    assert_eq!(
        body["Message"],
        "Roles may not be assumed by root accounts."
    );
    let (status, code, body) = err(&api, &kim, STS, "AssumeRole", &assume).await;
    assert_eq!((status, code.as_str()), (403, "NoPermission"), "{body}");
    assert_eq!(body["HostId"], "sts.aliyuncs.com");
    attach(&api, "User", "kim", "System", "AliyunSTSAssumeRoleAccess").await;
    // Someone the trust policy does not name.
    let lee = user_with_key(&api, "lee").await;
    attach(&api, "User", "lee", "System", "AliyunSTSAssumeRoleAccess").await;
    let (status, code, body) = err(&api, &lee, STS, "AssumeRole", &assume).await;
    assert_eq!((status, code.as_str()), (403, "NoPermission"));
    assert_eq!(body["AccessDeniedDetail"]["PolicyType"], "AssumeRolePolicy");
    // Parameter errors.
    for (params, code) in [
        (
            vec![("RoleArn", "acs:ram:x"), ("RoleSessionName", "ss")],
            "InvalidParameter.RoleArn",
        ),
        (
            vec![("RoleArn", arn.as_str()), ("RoleSessionName", "s")],
            "InvalidParameter.RoleSessionName",
        ),
        (
            vec![
                ("RoleArn", arn.as_str()),
                ("RoleSessionName", "ss"),
                ("DurationSeconds", "3601"),
            ],
            "InvalidParameter.DurationSeconds",
        ),
        (
            vec![
                ("RoleArn", arn.as_str()),
                ("RoleSessionName", "ss"),
                ("Policy", "{"),
            ],
            "InvalidParameter.PolicyGrammar",
        ),
    ] {
        let (_, got, _) = err(&api, &kim, STS, "AssumeRole", &params).await;
        assert_eq!(got, code);
    }
    let missing = format!("acs:ram::{acct}:role/nope");
    let (status, code, _) = err(
        &api,
        &kim,
        STS,
        "AssumeRole",
        &[("RoleArn", &missing), ("RoleSessionName", "ss")],
    )
    .await;
    assert_eq!((status, code.as_str()), (404, "EntityNotExist.Role"));

    // A session limited by its session policy to describing gateways.
    let session_policy = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:DescribeVpnGateways","Resource":"*"}]}"#;
    let got = ok(
        &api,
        &kim,
        STS,
        "AssumeRole",
        &[
            ("RoleArn", &arn),
            ("RoleSessionName", "kim-session"),
            ("Policy", session_policy),
        ],
    )
    .await;
    let c = &got["Credentials"];
    let session = Cred {
        id: c["AccessKeyId"].as_str().unwrap().into(),
        secret: c["AccessKeySecret"].as_str().unwrap().into(),
        token: Some(c["SecurityToken"].as_str().unwrap().into()),
    };
    assert!(session.id.starts_with("STS."));
    assert_eq!(
        got["AssumedRoleUser"]["Arn"],
        format!("acs:ram::{acct}:role/vpn-admin/kim-session")
    );
    ok(&api, &session, VPC, "DescribeVpnGateways", &[]).await;
    let (status, code, body) = err(
        &api,
        &session,
        VPC,
        "CreateVpnGateway",
        &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "Forbidden.RAM"));
    assert_eq!(body["AccessDeniedDetail"]["PolicyType"], "SessionPolicy");
    assert_eq!(
        body["AccessDeniedDetail"]["AuthPrincipalType"],
        "AssumedRoleUser"
    );
    assert_eq!(gateway_count(&api).await, 0);
    let me = ok(&api, &session, STS, "GetCallerIdentity", &[]).await;
    assert_eq!(me["IdentityType"], "AssumedRoleUser");
    assert_eq!(
        me["Arn"],
        format!("acs:ram::{acct}:assumed-role/vpn-admin/kim-session")
    );
    let me = ok(&api, &kim, STS, "GetCallerIdentity", &[]).await;
    assert_eq!(me["IdentityType"], "RAMUser");

    // The token is required and must be this credential's.
    let mut no_token = session.clone();
    no_token.token = None;
    let (_, code, _) = err(&api, &no_token, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "MissingSecurityToken");
    let mut bad = session.clone();
    bad.token = Some("garbage".into());
    let (_, code, _) = err(&api, &bad, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "InvalidSecurityToken.Malformed");
    bad.token = Some(
        vpngw_identity::keys::generate_security_token()
            .expose()
            .to_owned(),
    );
    let (_, code, _) = err(&api, &bad, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "InvalidSecurityToken.MismatchWithAccessKey");
    let mut long_term_with_token = kim.clone();
    long_term_with_token.token = session.token.clone();
    let (_, code, _) = err(&api, &long_term_with_token, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(code, "InvalidSecurityToken.MismatchWithAccessKey");

    // A short credential (the test server allows 1 s) expires.
    let got = ok(
        &api,
        &kim,
        STS,
        "AssumeRole",
        &[
            ("RoleArn", &arn),
            ("RoleSessionName", "short"),
            ("DurationSeconds", "1"),
        ],
    )
    .await;
    let c = &got["Credentials"];
    let short = Cred {
        id: c["AccessKeyId"].as_str().unwrap().into(),
        secret: c["AccessKeySecret"].as_str().unwrap().into(),
        token: Some(c["SecurityToken"].as_str().unwrap().into()),
    };
    ok(&api, &short, VPC, "DescribeVpnGateways", &[]).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, code, _) = err(&api, &short, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(
        (status, code.as_str()),
        (400, "InvalidSecurityToken.Expired")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_are_isolated() {
    let api = TestApi::new().await;
    let (gw, _, vco) = api.connection().await;
    let other = vpngw_api::bootstrap::create_account(
        &**api.service.store(),
        api.service.secrets(),
        "second",
        0,
    )
    .await
    .unwrap();
    let other = Cred {
        id: other.access_key_id,
        secret: other.access_key_secret,
        token: None,
    };
    let (status, code, _) = err(
        &api,
        &other,
        VPC,
        "DescribeVpnGateway",
        &[("VpnGatewayId", &gw)],
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (404, "InvalidVpnGatewayInstanceId.NotFound")
    );
    let (status, code, _) = err(
        &api,
        &other,
        VPC,
        "DeleteVpnConnection",
        &[("VpnConnectionId", &vco)],
    )
    .await;
    assert_eq!(
        (status, code.as_str()),
        (404, "InvalidVpnConnectionInstanceId.NotFound")
    );
    let listed = ok(&api, &other, VPC, "DescribeVpnGateways", &[]).await;
    assert_eq!(listed["TotalCount"], 0);
    // RAM names are per account, and users of one are unknown to the other.
    user_with_key(&api, "shared-name").await;
    ok(
        &api,
        &other,
        RAM,
        "CreateUser",
        &[("UserName", "shared-name")],
    )
    .await;
    let users = ok(&api, &other, RAM, "ListUsers", &[]).await;
    assert_eq!(users["Users"]["User"].as_array().unwrap().len(), 1);
    // A role of another account cannot be assumed without its trust, and
    // the answer does not tell whether it exists.
    let first = ok(&api, &Cred::root(), STS, "GetCallerIdentity", &[]).await;
    let first_acct = first["AccountId"].as_str().unwrap();
    ok(&api, &other, RAM, "CreateUser", &[("UserName", "mallory")]).await;
    let k = ok(
        &api,
        &other,
        RAM,
        "CreateAccessKey",
        &[("UserName", "mallory")],
    )
    .await;
    let mallory = Cred {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret: k["AccessKey"]["AccessKeySecret"].as_str().unwrap().into(),
        token: None,
    };
    ok(
        &api,
        &other,
        RAM,
        "AttachPolicyToUser",
        &[
            ("UserName", "mallory"),
            ("PolicyType", "System"),
            ("PolicyName", "AliyunSTSAssumeRoleAccess"),
        ],
    )
    .await;
    let arn = format!("acs:ram::{first_acct}:role/nope");
    let (status, code, _) = err(
        &api,
        &mallory,
        STS,
        "AssumeRole",
        &[("RoleArn", &arn), ("RoleSessionName", "ss")],
    )
    .await;
    assert_eq!((status, code.as_str()), (403, "NoPermission"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_resource_of_a_call_is_checked() {
    let api = TestApi::new().await;
    let root = Cred::root();
    let gw = ok(
        &api,
        &root,
        VPC,
        "CreateVpnGateway",
        &[("VpcId", "vpc-test"), ("Bandwidth", "10")],
    )
    .await;
    let gw = gw["VpnGatewayId"].as_str().unwrap().to_owned();
    let allowed = ok(
        &api,
        &root,
        VPC,
        "CreateCustomerGateway",
        &[("IpAddress", "172.24.1.1")],
    )
    .await;
    let allowed = allowed["CustomerGatewayId"].as_str().unwrap().to_owned();
    let other = ok(
        &api,
        &root,
        VPC,
        "CreateCustomerGateway",
        &[("IpAddress", "172.24.1.2")],
    )
    .await;
    let other = other["CustomerGatewayId"].as_str().unwrap().to_owned();
    let mona = user_with_key(&api, "mona").await;
    let doc = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"vpc:CreateVpnConnection","Resource":["acs:vpc:*:*:vpnconnection/*","acs:vpc:*:*:vpngateway/{gw}","acs:vpc:*:*:customergateway/{allowed}"]}}]}}"#
    );
    custom_policy(&api, "connect-one", &doc).await;
    attach(&api, "User", "mona", "Custom", "connect-one").await;
    let create = |cgw: &str| {
        vec![
            ("VpnGatewayId".to_owned(), gw.clone()),
            ("CustomerGatewayId".to_owned(), cgw.to_owned()),
            ("LocalSubnet".to_owned(), "10.0.0.0/8".to_owned()),
            ("RemoteSubnet".to_owned(), "192.168.0.0/16".to_owned()),
        ]
    };
    let params = create(&other);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, code, _) = err(&api, &mona, VPC, "CreateVpnConnection", &refs).await;
    assert_eq!((status, code.as_str()), (403, "Forbbiden.SubUser"));
    let listed = ok(&api, &root, VPC, "DescribeVpnConnections", &[]).await;
    assert_eq!(listed["TotalCount"], 0);
    let params = create(&allowed);
    let refs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    ok(&api, &mona, VPC, "CreateVpnConnection", &refs).await;
}

/// Replaces the values that change every run (ids, dates, secrets, request ids).
fn scrub(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let volatile = matches!(
                    k.as_str(),
                    "RequestId"
                        | "Recommend"
                        | "UserId"
                        | "RoleId"
                        | "GroupId"
                        | "AccessKeyId"
                        | "AccessKeySecret"
                        | "SecurityToken"
                        | "AssumedRoleId"
                        | "AccountId"
                        | "PrincipalId"
                        | "AuthPrincipalOwnerId"
                        | "EncodedDiagnosticMessage"
                        | "Arn"
                        | "Expiration"
                        | "AssumeRolePolicyDocument"
                ) || k.ends_with("Date");
                if volatile && val.is_string() {
                    *val = Value::String(format!("[{k}]"));
                } else {
                    scrub(val);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ram_and_sts_shapes() {
    let api = TestApi::new().await;
    let root = Cred::root();
    let acct = ok(&api, &root, STS, "GetCallerIdentity", &[]).await["AccountId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut shapes = serde_json::Map::new();
    let mut keep = |name: &str, mut v: Value| {
        scrub(&mut v);
        shapes.insert(name.to_owned(), v);
    };
    keep(
        "CreateUser",
        ok(
            &api,
            &root,
            RAM,
            "CreateUser",
            &[("UserName", "nina"), ("DisplayName", "Nina")],
        )
        .await,
    );
    keep(
        "GetUser",
        ok(&api, &root, RAM, "GetUser", &[("UserName", "nina")]).await,
    );
    keep(
        "CreateAccessKey",
        ok(&api, &root, RAM, "CreateAccessKey", &[("UserName", "nina")]).await,
    );
    keep(
        "ListAccessKeys",
        ok(&api, &root, RAM, "ListAccessKeys", &[("UserName", "nina")]).await,
    );
    keep(
        "CreateGroup",
        ok(
            &api,
            &root,
            RAM,
            "CreateGroup",
            &[("GroupName", "ops"), ("Comments", "c")],
        )
        .await,
    );
    ok(
        &api,
        &root,
        RAM,
        "AddUserToGroup",
        &[("GroupName", "ops"), ("UserName", "nina")],
    )
    .await;
    keep(
        "ListGroupsForUser",
        ok(
            &api,
            &root,
            RAM,
            "ListGroupsForUser",
            &[("UserName", "nina")],
        )
        .await,
    );
    let trust = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"RAM":["acs:ram::{acct}:user/nina"]}}}}]}}"#
    );
    keep(
        "CreateRole",
        ok(
            &api,
            &root,
            RAM,
            "CreateRole",
            &[("RoleName", "r1"), ("AssumeRolePolicyDocument", &trust)],
        )
        .await,
    );
    keep(
        "CreatePolicy",
        ok(
            &api,
            &root,
            RAM,
            "CreatePolicy",
            &[
                ("PolicyName", "p1"),
                ("Description", "d"),
                (
                    "PolicyDocument",
                    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"vpc:Describe*","Resource":"*"}]}"#,
                ),
            ],
        )
        .await,
    );
    keep(
        "GetPolicy",
        ok(
            &api,
            &root,
            RAM,
            "GetPolicy",
            &[("PolicyName", "p1"), ("PolicyType", "Custom")],
        )
        .await,
    );
    attach(&api, "User", "nina", "Custom", "p1").await;
    keep(
        "ListPoliciesForUser",
        ok(
            &api,
            &root,
            RAM,
            "ListPoliciesForUser",
            &[("UserName", "nina")],
        )
        .await,
    );
    keep(
        "ListPolicies",
        ok(&api, &root, RAM, "ListPolicies", &[("MaxItems", "2")]).await,
    );
    let (_, _, body) = err(&api, &root, RAM, "DeleteUser", &[("UserName", "nina")]).await;
    keep("DeleteUser.conflict", body);
    attach(
        &api,
        "Role",
        "r1",
        "System",
        "AliyunVPNGatewayReadOnlyAccess",
    )
    .await;
    attach(&api, "User", "nina", "System", "AliyunSTSAssumeRoleAccess").await;
    let k = ok(&api, &root, RAM, "CreateAccessKey", &[("UserName", "nina")]).await;
    let nina = Cred {
        id: k["AccessKey"]["AccessKeyId"].as_str().unwrap().into(),
        secret: k["AccessKey"]["AccessKeySecret"].as_str().unwrap().into(),
        token: None,
    };
    let arn = format!("acs:ram::{acct}:role/r1");
    let assumed = ok(
        &api,
        &nina,
        STS,
        "AssumeRole",
        &[("RoleArn", &arn), ("RoleSessionName", "s1")],
    )
    .await;
    let session = Cred {
        id: assumed["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .into(),
        secret: assumed["Credentials"]["AccessKeySecret"]
            .as_str()
            .unwrap()
            .into(),
        token: Some(
            assumed["Credentials"]["SecurityToken"]
                .as_str()
                .unwrap()
                .into(),
        ),
    };
    keep("AssumeRole", assumed);
    keep(
        "GetCallerIdentity.role",
        ok(&api, &session, STS, "GetCallerIdentity", &[]).await,
    );
    let (_, _, body) = err(
        &api,
        &session,
        VPC,
        "CreateCustomerGateway",
        &[("IpAddress", "172.24.9.9")],
    )
    .await;
    keep("Forbidden.RAM", body);
    insta::assert_json_snapshot!(Value::Object(shapes));
}
