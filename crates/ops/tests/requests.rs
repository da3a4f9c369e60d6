//! Typed requests read the flattened parameters as the SDKs send them, with
//! the cloud's errors naming the parameter, and write them back the same.

use vpngw_ops::{Kind, Operation, Params, Request, Resource, vpc};

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(pairs.iter().copied()).expect("params")
}

fn error<R: Request>(pairs: &[(&str, &str)]) -> (String, String) {
    let e = R::from_params(&params(pairs)).expect_err("must fail");
    (e.code.to_string(), e.message)
}

#[test]
fn nested_lists_and_objects() {
    let p = params(&[
        ("RegionId", "cn-hangzhou"),
        ("VpnGatewayId", "vpn-1"),
        ("LocalSubnet", "10.0.0.0/8"),
        ("RemoteSubnet", "192.168.0.0/16"),
        ("EffectImmediately", "True"),
        ("Tags.1.Key", "env"),
        ("Tags.1.Value", "prod"),
        ("TunnelOptionsSpecification.10.CustomerGatewayId", "cgw-10"),
        ("TunnelOptionsSpecification.2.CustomerGatewayId", "cgw-2"),
        ("TunnelOptionsSpecification.2.EnableDpd", "false"),
        (
            "TunnelOptionsSpecification.2.TunnelIkeConfig.IkeVersion",
            "ikev2",
        ),
        (
            "TunnelOptionsSpecification.2.TunnelIkeConfig.IkeLifetime",
            "3600",
        ),
        (
            "TunnelOptionsSpecification.2.TunnelIkeConfig.Psk",
            "secret-psk",
        ),
        ("IkeConfig", r#"{"Psk":"another-secret"}"#),
        ("Unknown", "ignored"),
    ]);
    let r = vpc::create_vpn_connection::Request::from_params(&p).expect("parses");
    assert_eq!(r.effect_immediately, Some(true));
    assert_eq!(r.tags.len(), 1);
    assert_eq!(r.tags[0].key.as_deref(), Some("env"));
    // Ordered by index as a number, gaps tolerated.
    let tos = &r.tunnel_options_specification;
    assert_eq!(tos.len(), 2);
    assert_eq!(tos[0].customer_gateway_id.as_deref(), Some("cgw-2"));
    assert_eq!(tos[1].customer_gateway_id.as_deref(), Some("cgw-10"));
    assert_eq!(tos[0].enable_dpd, Some(false));
    let ike = tos[0].tunnel_ike_config.as_ref().expect("ike");
    assert_eq!(ike.ike_lifetime, Some(3600));
    assert_eq!(ike.ike_version.as_deref(), Some("ikev2"));
    // JSON-string parameters stay strings.
    assert_eq!(r.ike_config.as_deref(), Some(r#"{"Psk":"another-secret"}"#));
    // Resources: every id-bearing field, nested ones too, in order.
    let mut res = Vec::new();
    r.resources(&mut res);
    assert_eq!(
        res,
        [
            Resource {
                kind: Kind::CustomerGateway,
                id: "cgw-2"
            },
            Resource {
                kind: Kind::CustomerGateway,
                id: "cgw-10"
            },
            Resource {
                kind: Kind::VpnGateway,
                id: "vpn-1"
            },
        ]
    );
    // Secrets never show in Debug.
    let debug = format!("{r:?}");
    assert!(!debug.contains("secret"), "{debug}");
    // Written back and read again: the same request (indices renumbered 1..N).
    let again = vpc::create_vpn_connection::Request::from_params(
        &Params::from_pairs(r.to_params()).unwrap(),
    )
    .expect("parses");
    assert_eq!(again, r);
    assert!(r.to_params().contains(&(
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime".into(),
        "3600".into()
    )));
}

#[test]
fn errors_name_the_parameter() {
    type Create = vpc::create_vpn_connection::Request;
    let base = [
        ("RegionId", "cn-hangzhou"),
        ("VpnGatewayId", "vpn-1"),
        ("LocalSubnet", "10.0.0.0/8"),
        ("RemoteSubnet", "192.168.0.0/16"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        base.iter().chain(extra).copied().collect()
    };
    assert_eq!(
        error::<Create>(&base[..3]),
        (
            "MissingParameter".into(),
            "The input parameter \"RemoteSubnet\" that is mandatory for processing this request is not supplied.".into()
        )
    );
    let (code, msg) = error::<Create>(&[base[0], base[1], base[2], ("RemoteSubnet", "")]);
    assert_eq!(code, "MissingParameter", "{msg}");
    let (code, msg) = error::<Create>(&with(&[("TunnelOptionsSpecification.1.EnableDpd", "yes")]));
    assert_eq!(code, "InvalidParameter");
    assert!(
        msg.contains("TunnelOptionsSpecification.1.EnableDpd"),
        "{msg}"
    );
    let (code, msg) = error::<Create>(&with(&[(
        "TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime",
        "1h",
    )]));
    assert_eq!(code, "InvalidParameter");
    assert!(
        msg.contains("TunnelOptionsSpecification.1.TunnelIkeConfig.IkeLifetime"),
        "{msg}"
    );
    for bad in [
        "TunnelOptionsSpecification.01.Role",
        "TunnelOptionsSpecification.x.Role",
        "TunnelOptionsSpecification.1",
    ] {
        let (code, msg) = error::<Create>(&with(&[(bad, "master")]));
        assert_eq!(code, "InvalidParameter", "{bad}");
        assert!(msg.contains(bad), "{msg}");
    }
    let (code, _) = error::<Create>(&with(&[("EffectImmediately", "")]));
    assert_eq!(code, "InvalidParameter");
    // A required list.
    let (code, msg) = error::<vpc::tag_resources::Request>(&[
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "VpnGateway"),
        ("Tag.1.Key", "k"),
        ("Tag.1.Value", "v"),
    ]);
    assert_eq!(code, "MissingParameter");
    assert!(msg.contains("\"ResourceId\""), "{msg}");
    // A resource type outside the declared table.
    let (code, _) = error::<vpc::tag_resources::Request>(&[
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "Instance"),
        ("ResourceId.1", "i-1"),
        ("Tag.1.Key", "k"),
        ("Tag.1.Value", "v"),
    ]);
    assert_eq!(code, "InvalidResourceType.NotFound");
}

#[test]
fn kinds_from_a_resource_type_and_comma_lists() {
    let r = vpc::tag_resources::Request::from_params(&params(&[
        ("RegionId", "cn-hangzhou"),
        ("ResourceType", "vpnGATEway"),
        ("ResourceId.1", "vpn-1"),
        ("ResourceId.2", "vpn-2"),
        ("Tag.1.Key", "k"),
        ("Tag.1.Value", "v"),
    ]))
    .expect("parses");
    let mut res = Vec::new();
    r.resources(&mut res);
    assert_eq!(res.len(), 2);
    assert!(res.iter().all(|x| x.kind == Kind::VpnGateway));
    let r = vpc::describe_vpn_gateways::Request::from_params(&params(&[
        ("RegionId", "cn-hangzhou"),
        ("VpnGatewayId", "vpn-1, vpn-2,"),
    ]))
    .expect("parses");
    let mut res = Vec::new();
    r.resources(&mut res);
    assert_eq!(
        res.iter().map(|r| r.id).collect::<Vec<_>>(),
        ["vpn-1", "vpn-2"]
    );
    assert_eq!(
        <vpc::DescribeVpnGateways as Operation>::DECLARATION.own_kind,
        Some(Kind::VpnGateway)
    );
}

#[test]
fn answers_have_the_sdk_keys() {
    let a = vpc::describe_customer_gateway::Answer {
        customer_gateway_id: "cgw-1".into(),
        asn: None,
        ..Default::default()
    };
    let v = serde_json::to_value(&a).expect("serializes");
    assert_eq!(v["CustomerGatewayId"], "cgw-1");
    assert!(
        v.get("Asn").is_none(),
        "optional fields are left out when unset"
    );
    assert_eq!(v["Tags"]["Tag"], serde_json::json!([]));
    // Deserialize is lenient: absent keys take their defaults, unknown ones are ignored.
    let back: vpc::describe_customer_gateway::Answer =
        serde_json::from_str(r#"{"CustomerGatewayId":"cgw-2","RequestId":"x","Asn":65001}"#)
            .expect("parses");
    assert_eq!(back.customer_gateway_id, "cgw-2");
    assert_eq!(back.asn, Some(65001));
}
