//! What is routed, what is declared and what the vendor defines agree:
//! every routed VPC and vpngw operation has a typed declaration, every
//! declaration is routed, every declared operation is one of the product's
//! (spec/vpc-meta.json), and every other operation of the product answers the
//! one documented refusal, 400 `UnsupportedOperation`, while a name that is
//! no operation of the product at all stays 404 `InvalidAction.NotFound`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use crate::common::TestApi;
use vpngw_api::actions::{self, Product};

#[test]
fn routed_equals_declared_equals_spec() {
    for product in [
        Product::Vpc,
        Product::Vpngw,
        Product::Ecs,
        Product::ResourceManager,
        Product::Cbn,
    ] {
        let routed: BTreeSet<&str> = actions::all()
            .filter(|d| d.product == product)
            .map(|d| d.name)
            .collect();
        let declared: BTreeSet<&str> = product.declarations().iter().map(|d| d.name).collect();
        assert_eq!(routed, declared, "{product:?}: routed vs declared");
        for d in actions::all().filter(|d| d.product == product) {
            let decl = d.declaration.expect("every routed operation is declared");
            assert_eq!(decl.name, d.name);
            assert_eq!(decl.ram_action, d.ram_action);
            assert!(
                product.defines(d.name),
                "{} is not an operation of {product:?}",
                d.name
            );
        }
    }
    for product in [Product::Ram, Product::Sts] {
        for d in actions::all().filter(|d| d.product == product) {
            assert!(
                product.defines(d.name),
                "{} is not an operation of {product:?}",
                d.name
            );
        }
    }
    // The names are every operation of the vendor's metadata and SDK.
    let meta: serde_json::Value =
        serde_json::from_str(include_str!("../../../../spec/vpc-meta.json")).unwrap();
    let sdk: serde_json::Value =
        serde_json::from_str(include_str!("../../../../spec/vpc-sdk.json")).unwrap();
    let names: BTreeSet<&str> = meta["apis"]
        .as_object()
        .unwrap()
        .keys()
        .chain(sdk["operations"].as_object().unwrap().keys())
        .map(String::as_str)
        .collect();
    let table: BTreeSet<&str> = Product::Vpc.operation_names().iter().copied().collect();
    assert_eq!(names, table);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_unserved_operation_is_refused_with_400() {
    let api = TestApi::new().await;
    let served: BTreeSet<&str> = actions::all()
        .filter(|d| d.product == Product::Vpc)
        .map(|d| d.name)
        .collect();
    let mut refused = 0;
    for name in Product::Vpc.operation_names() {
        if served.contains(name) {
            continue;
        }
        let a = api.call(name, &[]).await;
        assert_eq!(a.status, 400, "{name}: {}", a.body);
        assert_eq!(a.code(), "UnsupportedOperation", "{name}");
        let message = a.body["Message"].as_str().unwrap();
        assert!(message.contains("not served by vpngw"), "{message}");
        // Terraform takes a message containing NotFound for "gone".
        assert!(!message.contains("NotFound"), "{message}");
        refused += 1;
    }
    assert!(refused > 300, "{refused}");
    for (version, name) in [
        ("2016-04-28", "CreateVpnGatewayz"),
        ("2016-04-28", "createvpngateway"),
        ("2015-05-01", "CreateVpnGateway"),
        ("2025-01-01", "CreateVpnGateway"),
    ] {
        let a = api
            .call_as(
                crate::common::KEY_ID,
                crate::common::SECRET,
                version,
                name,
                &[],
            )
            .await;
        assert_eq!(a.status, 404, "{version} {name}: {}", a.body);
        assert_eq!(a.code(), "InvalidAction.NotFound");
    }
    let a = api
        .call_as(
            crate::common::KEY_ID,
            crate::common::SECRET,
            "2015-05-01",
            "CreateLoginProfile",
            &[],
        )
        .await;
    assert_eq!((a.status, a.code()), (400, "UnsupportedOperation"));
}
