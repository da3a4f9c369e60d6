//! vpngw's code generator: everything that follows from the spec files.
//!
//! - `crates/model/src/operations.rs` ([`table`]): every operation of Vpc
//!   2016-04-28 with its methods, parameters (the vendor's request metadata,
//!   nested structures from the SDK's request models) and documented errors
//!   (the API reference, cross-checked against both: any disagreement aborts
//!   generation).
//! - `crates/ops/src/generated/` ([`typed`]): one typed declaration per
//!   operation vpngw serves (`spec/declarations.json` lists them), the names
//!   of every operation of each product, the resource kinds.
//!
//! Outputs are byte-for-byte reproducible; `--check` fails when a committed
//! file differs from what the spec gives (CI runs it).

mod decls;
mod spec;
mod table;
mod typed;

use std::path::{Path, PathBuf};

use serde_json::Value;

pub use typed::Output;

/// The operation table, relative to the workspace root.
pub const OUTPUT: &str = "crates/model/src/operations.rs";
/// The directory of the typed declarations, relative to the workspace root.
pub const GENERATED_DIR: &str = typed::GENERATED_DIR;
/// The API reference (documented errors, JSON-string parameters).
pub const API_SPEC: &str = "spec/vpc-ipsec-api.json";
/// What vpngw adds: families, resource kinds, optional answer fields.
pub const DECLARATIONS: &str = "spec/declarations.json";

pub type Result<T> = std::result::Result<T, String>;

/// The workspace this generator was built in.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The parsed spec files.
pub struct Inputs {
    /// `(metadata, SDK facts)` of Vpc, vpngw, ECS, Resource Manager, CEN (Cbn), RAM and STS.
    pub vpc: (Value, Value),
    pub vpngw: (Value, Value),
    pub ecs: (Value, Value),
    pub resourcemanager: (Value, Value),
    pub cbn: (Value, Value),
    pub ram: (Value, Value),
    pub sts: (Value, Value),
    /// The API reference (Vpc).
    pub api: Value,
    pub declarations: Value,
}

impl Inputs {
    /// Reads the spec files under `root`.
    pub fn read(root: &Path) -> Result<Inputs> {
        let pair = |p: &str| -> Result<(Value, Value)> {
            Ok((
                spec::read_json(&root.join(format!("spec/{p}-meta.json")))?,
                spec::read_json(&root.join(format!("spec/{p}-sdk.json")))?,
            ))
        };
        Ok(Inputs {
            vpc: pair("vpc")?,
            vpngw: pair("vpngw")?,
            ecs: pair("ecs")?,
            resourcemanager: pair("resourcemanager")?,
            cbn: pair("cbn")?,
            ram: pair("ram")?,
            sts: pair("sts")?,
            api: spec::read_json(&root.join(API_SPEC))?,
            declarations: spec::read_json(&root.join(DECLARATIONS))?,
        })
    }
}

/// Reads the spec files under `root` and returns every output.
pub fn generate_in(root: &Path) -> Result<Vec<Output>> {
    generate(&Inputs::read(root)?)
}

/// Every output of the parsed spec files.
pub fn generate(inputs: &Inputs) -> Result<Vec<Output>> {
    let sdk_params = spec::sdk_params(&inputs.declarations)?;
    let none = spec::SdkParams::new();
    let vpc = spec::build(&inputs.vpc.0, &inputs.vpc.1, Some(&inputs.api), &sdk_params)?;
    let vpngw = spec::build(&inputs.vpngw.0, &inputs.vpngw.1, None, &none)?;
    let ecs = spec::build(&inputs.ecs.0, &inputs.ecs.1, None, &none)?;
    let resourcemanager = spec::build(
        &inputs.resourcemanager.0,
        &inputs.resourcemanager.1,
        None,
        &none,
    )?;
    let cbn = spec::build(&inputs.cbn.0, &inputs.cbn.1, None, &none)?;
    let ram = spec::build(&inputs.ram.0, &inputs.ram.1, None, &none)?;
    let sts = spec::build(&inputs.sts.0, &inputs.sts.1, None, &none)?;
    let decls = decls::Declarations::parse(&inputs.declarations)?;
    let mut out = vec![Output {
        path: OUTPUT.to_owned(),
        text: table::render(&vpc),
    }];
    out.push(typed::kinds_output(&decls));
    out.extend(typed::product_outputs(&vpc, &decls, "vpc", "vpc:")?);
    out.extend(typed::product_outputs(&vpngw, &decls, "vpngw", "vpngw:")?);
    out.extend(typed::product_outputs(&ecs, &decls, "ecs", "ecs:")?);
    out.extend(typed::product_outputs(
        &resourcemanager,
        &decls,
        "resourcemanager",
        "resourcemanager:",
    )?);
    out.extend(typed::product_outputs(&cbn, &decls, "cbn", "cen:")?);
    out.push(typed::names_output(&ram, "ram.rs"));
    out.push(typed::names_output(&sts, "sts.rs"));
    Ok(out)
}

/// The generated files present under [`GENERATED_DIR`] that no output
/// writes (a family removed from the spec).
pub fn stale_files(root: &Path, outputs: &[Output]) -> Vec<String> {
    let mut stale = Vec::new();
    let mut dirs = vec![root.join(GENERATED_DIR)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(rel) = path.strip_prefix(root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                if !outputs.iter().any(|o| o.path == rel) {
                    stale.push(rel);
                }
            }
        }
    }
    stale.sort();
    stale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs::read(&workspace_root()).expect("spec files")
    }

    fn table(outputs: &[Output]) -> &str {
        &outputs
            .iter()
            .find(|o| o.path == OUTPUT)
            .expect("table")
            .text
    }

    #[test]
    fn generates_every_operation_of_the_product() {
        let inputs = inputs();
        let outputs = generate(&inputs).expect("generation");
        let text = table(&outputs);
        assert!(text.starts_with("// @generated by vpngw-codegen"));
        let defined = inputs.vpc.0["apis"].as_object().expect("apis").len();
        assert_eq!(text.matches("    Operation {\n").count(), defined);
        let declared = outputs
            .iter()
            .filter(|o| o.path.starts_with(GENERATED_DIR))
            .map(|o| o.text.matches("impl Operation for ").count())
            .sum::<usize>();
        let families = inputs.declarations["families"]
            .as_object()
            .expect("families")
            .values()
            .flat_map(|f| f.as_object().expect("family").values())
            .map(|ops| ops.as_array().expect("ops").len())
            .sum::<usize>();
        assert_eq!(declared, families);
    }

    #[test]
    fn rejects_disagreeing_specs() {
        let mut inputs = inputs();
        inputs.api["operations"]["CreateVpnGateway"]["request"][1]["required"] = Value::Bool(false);
        let err = generate(&inputs).err().expect("mismatch must fail");
        assert!(err.contains("CreateVpnGateway.Bandwidth"), "{err}");
    }

    #[test]
    fn rejects_unknown_types() {
        let mut inputs = inputs();
        inputs.vpc.0["apis"]["CreateVpnGateway"]["parameters"][0]["type"] = "Double".into();
        assert!(generate(&inputs).is_err());
    }

    #[test]
    fn an_id_parameter_without_a_declared_kind_fails() {
        let mut inputs = inputs();
        let params = inputs.declarations["params"]
            .as_object_mut()
            .expect("params");
        params.remove("VpcId");
        let err = generate(&inputs).err().expect("an undeclared id must fail");
        assert!(
            err.contains("VpcId") && err.contains("declare its kind"),
            "{err}"
        );
        // Declared as not naming a resource, it passes.
        let mut inputs = self::inputs();
        inputs.declarations["params"]["VpcId"] = serde_json::json!({"not": "test"});
        assert!(generate(&inputs).is_ok());
    }

    #[test]
    fn an_override_of_a_parameter_that_does_not_exist_fails() {
        let mut inputs = inputs();
        inputs.declarations["operations"]["CreateVpnRouteEntry"]["NextHopp"] =
            "VpnConnection".into();
        let err = generate(&inputs).err().expect("a typo must fail");
        assert!(err.contains("NextHopp"), "{err}");
    }

    #[test]
    fn declaring_an_operation_the_vendor_does_not_define_fails() {
        let mut inputs = inputs();
        inputs.declarations["families"]["Vpc"]["tags"]
            .as_array_mut()
            .expect("tags")
            .push("TagResourcez".into());
        let err = generate(&inputs)
            .err()
            .expect("unknown operation must fail");
        assert!(err.contains("TagResourcez"), "{err}");
    }

    #[test]
    fn an_sdk_param_must_be_the_sdks_and_not_the_metadatas() {
        let mut inputs = inputs();
        inputs.declarations["sdk_params"]["CreateSslVpnServer"] = serde_json::json!(["DnsServerz"]);
        let err = generate(&inputs).err().expect("a name the SDK lacks fails");
        assert!(
            err.contains("DnsServerz") && err.contains("SDK model lacks"),
            "{err}"
        );
        let mut inputs = self::inputs();
        inputs.declarations["sdk_params"]["CreateSslVpnServer"] = serde_json::json!(["Port"]);
        let err = generate(&inputs).err().expect("a metadata parameter fails");
        assert!(err.contains("metadata has it"), "{err}");
    }

    #[test]
    fn snake_case_names() {
        assert_eq!(typed::snake("VpnGatewayId"), "vpn_gateway_id");
        assert_eq!(typed::snake("VSwitchId"), "v_switch_id");
        assert_eq!(typed::snake("Type"), "r#type");
        assert_eq!(typed::snake("IkeConfig"), "ike_config");
        assert_eq!(typed::snake("EnableBgp"), "enable_bgp");
    }
}
