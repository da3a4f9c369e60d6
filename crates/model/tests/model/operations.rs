//! Facts about the generated operation table.

use vpngw_model::operations::{
    self, ClientHandling, OPERATIONS, Param, ParamKind, Position, operation,
};

fn op(name: &str) -> &'static operations::Operation {
    operation(name).unwrap_or_else(|| panic!("{name} missing"))
}

fn field(parent: &Param, name: &str) -> &'static Param {
    parent
        .field(name)
        .unwrap_or_else(|| panic!("{}.{name} missing", parent.name))
}

/// The table holds every operation of the vendor's metadata
/// (`spec/vpc-meta.json`), sorted.
#[test]
fn every_operation_sorted_and_unique() {
    let meta: serde_json::Value =
        serde_json::from_str(include_str!("../../../../spec/vpc-meta.json"))
            .expect("spec/vpc-meta.json");
    assert_eq!(
        OPERATIONS.len(),
        meta["apis"].as_object().map_or(0, |a| a.len())
    );
    assert!(OPERATIONS.windows(2).all(|w| w[0].name < w[1].name));
    for o in OPERATIONS {
        assert_eq!(operation(o.name).map(|x| x.name), Some(o.name));
        assert!(!o.http_methods.is_empty(), "{}", o.name);
    }
    assert_eq!(operations::PRODUCT, "Vpc");
    assert_eq!(operations::VERSION, "2016-04-28");
}

#[test]
fn lookup_is_exact_and_case_sensitive() {
    assert!(operation("CreateVpnGateway").is_some());
    assert!(operation("createvpngateway").is_none());
    assert!(operation("CreateVpnGateway ").is_none());
    assert!(operation("CreateVpc").is_some());
    assert!(operation("CreateVpcc").is_none());
    assert!(operation("").is_none());
}

#[test]
fn create_vpn_gateway_required_params() {
    let o = op("CreateVpnGateway");
    let mut required: Vec<&str> = o.required_params().map(|p| p.name).collect();
    required.sort_unstable();
    assert_eq!(required, ["Bandwidth", "RegionId", "VpcId"]);
    let bandwidth = o.param("Bandwidth").expect("Bandwidth");
    assert_eq!(bandwidth.kind, ParamKind::Integer);
    assert_eq!(bandwidth.position, Position::Query);
    assert!(o.allows_method("GET") && o.allows_method("POST"));
}

#[test]
fn create_vpn_connection_tunnel_options_are_a_body_object_list() {
    let o = op("CreateVpnConnection");
    let spec = o.param("TunnelOptionsSpecification").expect("param");
    assert_eq!(spec.position, Position::Body);
    assert!(!spec.required);
    assert!(matches!(spec.kind, ParamKind::ObjectList(_)));

    let ike = field(spec, "TunnelIkeConfig");
    assert!(matches!(ike.kind, ParamKind::Object(_)));
    assert_eq!(ike.position, Position::Body);
    assert_eq!(field(ike, "Psk").kind, ParamKind::String);
    assert_eq!(field(ike, "IkeLifetime").kind, ParamKind::Integer);
    let ipsec = field(spec, "TunnelIpsecConfig");
    assert_eq!(field(ipsec, "IpsecPfs").kind, ParamKind::String);
    let bgp = field(spec, "TunnelBgpConfig");
    assert_eq!(field(bgp, "LocalAsn").kind, ParamKind::Integer);
    assert_eq!(field(spec, "EnableDpd").kind, ParamKind::Boolean);

    for json in ["IkeConfig", "IpsecConfig", "BgpConfig", "HealthCheckConfig"] {
        assert_eq!(
            o.param(json).map(|p| p.kind),
            Some(ParamKind::Json),
            "{json}"
        );
    }
    let tags = o.param("Tags").expect("Tags");
    assert_eq!(tags.position, Position::Query);
    assert_eq!(field(tags, "Key").kind, ParamKind::String);
}

#[test]
fn modify_tunnel_attribute_tunnel_options_are_an_object() {
    let spec = op("ModifyTunnelAttribute")
        .param("TunnelOptionsSpecification")
        .expect("param");
    assert_eq!(spec.position, Position::Query);
    assert!(matches!(spec.kind, ParamKind::Object(_)));
    assert!(spec.field("TunnelIkeConfig").is_some());
}

#[test]
fn tag_resources_lists() {
    let o = op("TagResources");
    let ids = o.param("ResourceId").expect("ResourceId");
    assert!(ids.required);
    assert_eq!(ids.kind, ParamKind::List(&ParamKind::String));
    let tag = o.param("Tag").expect("Tag");
    assert!(tag.required);
    assert!(matches!(tag.kind, ParamKind::ObjectList(f) if f.len() == 2));
    let untag = op("UnTagResources").param("TagKey").expect("TagKey");
    assert_eq!(untag.kind, ParamKind::List(&ParamKind::String));
}

#[test]
fn documented_errors() {
    let e = op("CreateVpnConnection")
        .error("InvalidVpnGatewayInstanceId.NotFound")
        .expect("documented");
    assert_eq!(e.status, 404);
    assert!(e.message.contains("vpn gateway"));
    // Sub-user misspelling is the real code.
    assert!(
        op("CreateVpnConnection")
            .error("Forbbiden.SubUser")
            .is_some()
    );
    for o in OPERATIONS {
        for e in o.errors {
            assert!((400..600).contains(&e.status), "{}: {e}", o.name);
            assert!(!e.code.is_empty() && !e.message.is_empty(), "{}", o.name);
        }
    }
    let retried = op("DeleteVpnConnection")
        .client_handled
        .iter()
        .find(|c| c.code == "VpnTask.CONFLICT")
        .expect("terraform retries VpnTask.CONFLICT");
    assert_eq!(retried.handling, ClientHandling::Retry);
    assert!(
        operations::COMMON_ERRORS
            .iter()
            .any(|e| e.code == "InvalidAction.NotFound" && e.status == 404)
    );
}

#[test]
fn nested_params_inherit_parent_position() {
    fn walk(params: &[Param], position: Option<Position>) {
        for p in params {
            if let Some(pos) = position {
                assert_eq!(p.position, pos, "{}", p.name);
            }
            walk(p.kind.fields(), Some(p.position));
        }
    }
    for o in OPERATIONS {
        walk(o.params, None);
    }
}
