//! One typed declaration per operation vpngw serves, generated from `spec/` by
//! `crates/codegen` (`cargo run -p vpngw-codegen`).
//!
//! Each operation is a marker type implementing [`Operation`]
//! (`vpngw_ops::vpc::CreateCustomerGateway`), whose module
//! (`vpngw_ops::vpc::create_customer_gateway`) holds
//! - `Request`: the request parsed from the flattened parameters exactly as the
//!   SDKs send them (`Tags.N.Key`, `Name.N` lists, nested
//!   `TunnelOptionsSpecification.N.TunnelIkeConfig.IkeVersion`, JSON strings kept
//!   as strings), with the cloud's errors (`MissingParameter`, `InvalidParameter`
//!   naming the parameter), back to parameters for clients, and the resources
//!   it names ([`Request::resources`]), computed from its typed fields;
//! - `Answer`: the answer without `RequestId`, in the SDK model's exact keys,
//!   shape and JSON types (Serialize for the server, Deserialize for clients);
//! - the nested types of both.
//!
//! The [`Declaration`] of an operation says its RAM action, whether `RegionId`
//! is required, the kind it creates or lists, and which parameters name
//! resources ([`ResourceParam`]); which kind each parameter names is written
//! once, in `spec/declarations.json`.

pub mod wire;

/// The generated code: rustfmt leaves it as the generator wrote it (so
/// `vpngw-codegen --check` can compare it byte for byte).
#[rustfmt::skip]
#[allow(clippy::all, clippy::pedantic, unused_variables)]
mod generated {
    pub mod ecs;
    pub mod resourcemanager;
    pub mod cbn;
    pub mod kinds;
    pub mod ram;
    pub mod sts;
    pub mod vpc;
    pub mod vpngw;

    /// What the generated modules use.
    pub(crate) mod prelude {
        pub use crate::{
            ApiError, Declaration, Kind, Operation, Params, Product, RegionRule, Resource,
            ResourceParam, ResourceRole, wire,
        };
        pub use serde::{Deserialize, Serialize};
    }
}

pub use generated::kinds::{self, Kind};
pub use generated::{cbn, ecs, ram, resourcemanager, sts, vpc, vpngw};
pub use vpngw_protocol::{ApiError, Params};

/// The products served on the one endpoint, told apart by `Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    Vpc,
    /// RAM 2015-05-01 (users, groups, roles, policies).
    Ram,
    /// STS 2015-04-01 (AssumeRole, GetCallerIdentity).
    Sts,
    /// vpngw's own operations (the data plane agent's reports), on the same
    /// endpoint under their own `Version`.
    Vpngw,
    /// ECS 2014-05-26: only the zone reads of Terraform's `data "alicloud_zones"`.
    Ecs,
    /// Resource Manager 2020-03-31: only the resource-group reads of
    /// Terraform's `data "alicloud_resource_manager_resource_groups"`.
    ResourceManager,
    /// Cloud Enterprise Network (`Cbn` 2017-09-12): the CEN instance, the
    /// transit router, its CIDR blocks and VPN attachments of Terraform's
    /// vpn_gateway_vco_route example.
    Cbn,
}

impl Product {
    pub const ALL: [Product; 7] = [
        Product::Vpc,
        Product::Vpngw,
        Product::Ram,
        Product::Sts,
        Product::Ecs,
        Product::ResourceManager,
        Product::Cbn,
    ];

    pub const fn version(self) -> &'static str {
        match self {
            Product::Vpc => "2016-04-28",
            Product::Ram => "2015-05-01",
            Product::Sts => "2015-04-01",
            Product::Vpngw => "2025-01-01",
            Product::Ecs => "2014-05-26",
            Product::ResourceManager => "2020-03-31",
            Product::Cbn => "2017-09-12",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Product::Vpc => "Vpc",
            Product::Ram => "Ram",
            Product::Sts => "Sts",
            Product::Vpngw => "Vpngw",
            Product::Ecs => "Ecs",
            Product::ResourceManager => "ResourceManager",
            Product::Cbn => "Cbn",
        }
    }

    /// `HostId` of error bodies: the product's public endpoint.
    pub const fn host_id(self) -> &'static str {
        match self {
            Product::Vpc => "vpc.aliyuncs.com",
            Product::Ram => "ram.aliyuncs.com",
            Product::Sts => "sts.aliyuncs.com",
            Product::Vpngw => "vpngw.local",
            Product::Ecs => "ecs.aliyuncs.com",
            Product::ResourceManager => "resourcemanager.aliyuncs.com",
            Product::Cbn => "cbn.aliyuncs.com",
        }
    }

    /// The product of a `Version`, if any is served under it.
    pub fn of_version(version: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.version() == version)
    }

    /// Every operation the vendor defines for the product (served or not),
    /// sorted by name; vpngw's own product lists its own.
    pub fn operation_names(self) -> &'static [&'static str] {
        match self {
            Product::Vpc => vpc::OPERATION_NAMES,
            Product::Ram => ram::OPERATION_NAMES,
            Product::Sts => sts::OPERATION_NAMES,
            Product::Vpngw => vpngw::OPERATION_NAMES,
            Product::Ecs => ecs::OPERATION_NAMES,
            Product::ResourceManager => resourcemanager::OPERATION_NAMES,
            Product::Cbn => cbn::OPERATION_NAMES,
        }
    }

    /// Whether the vendor defines `action` for this product.
    pub fn defines(self, action: &str) -> bool {
        self.operation_names().binary_search(&action).is_ok()
    }

    /// The typed declarations of the product.
    pub fn declarations(self) -> &'static [Declaration] {
        match self {
            Product::Vpc => vpc::DECLARATIONS,
            Product::Vpngw => vpngw::DECLARATIONS,
            Product::Ecs => ecs::DECLARATIONS,
            Product::ResourceManager => resourcemanager::DECLARATIONS,
            Product::Cbn => cbn::DECLARATIONS,
            Product::Ram | Product::Sts => &[],
        }
    }
}

/// Whether an operation takes `RegionId`, as the vendor's metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRule {
    /// Required: absent is `MissingParameter`.
    Required,
    /// Optional: when absent, the region is that of the stored resource the
    /// request names (never `*`).
    Optional,
    /// The operation has no `RegionId`.
    Absent,
}

/// What an operation is, besides its request and answer types.
#[derive(Debug, Clone, Copy)]
pub struct Declaration {
    pub product: Product,
    /// The `Action`, e.g. `CreateCustomerGateway`.
    pub name: &'static str,
    /// The RAM action a policy must allow, e.g. `vpc:CreateCustomerGateway`.
    pub ram_action: &'static str,
    pub region: RegionRule,
    /// The kind the operation creates or lists: when the request names no
    /// resource of this kind, it is authorized on `{kind}/*`.
    pub own_kind: Option<Kind>,
    /// Every parameter that names a resource (nested ones too).
    pub resource_params: &'static [ResourceParam],
}

/// A parameter that names resources, as declared in `spec/declarations.json`.
#[derive(Debug, Clone, Copy)]
pub struct ResourceParam {
    /// The parameter, with `N` for list indices
    /// (`TunnelOptionsSpecification.N.CustomerGatewayId`, `ResourceId.N`).
    pub path: &'static str,
    pub role: ResourceRole,
}

/// How a parameter names a resource.
#[derive(Debug, Clone, Copy)]
pub enum ResourceRole {
    /// Ids of this kind (a comma-separated list is several ids).
    Kind(Kind),
    /// Ids whose kind another parameter (`ResourceType`) gives through a table.
    KindFrom {
        param: &'static str,
        table: &'static TypeTable,
    },
    /// A part of a resource of this kind (a tunnel of a connection): the
    /// request also names the whole, or the handler resolves the whole and
    /// authorizes it (`Ctx::authorize`).
    PartOf(Kind),
}

/// One resource a request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resource<'a> {
    pub kind: Kind,
    pub id: &'a str,
}

/// A table from the values of a `ResourceType`-like parameter to kinds,
/// matched without regard to case.
#[derive(Debug)]
pub struct TypeTable {
    pub values: &'static [(&'static str, Kind)],
    /// The error for any other value: a code and message, or `None` for
    /// `InvalidParameter` naming the parameter.
    pub unknown: Option<(&'static str, &'static str)>,
}

impl TypeTable {
    /// The kind `value` names.
    pub fn kind(&self, value: &str) -> Option<Kind> {
        self.values
            .iter()
            .find(|(v, _)| v.eq_ignore_ascii_case(value))
            .map(|(_, k)| *k)
    }

    /// The kind `value` of parameter `param` names, or this table's error.
    pub fn check(&self, param: &str, value: &str) -> Result<Kind, ApiError> {
        self.kind(value).ok_or_else(|| match self.unknown {
            Some((code, message)) => ApiError::new(code, message),
            None => ApiError::invalid_parameter(param),
        })
    }
}

/// A request type: parsed from and written back to flattened parameters.
pub trait Request: Sized + Clone + Default + Send + Sync + std::fmt::Debug + 'static {
    /// Parses the request's parameters; unknown parameters are ignored, as
    /// the cloud does.
    fn from_params(params: &Params) -> Result<Self, ApiError>;
    /// The parameters a client sends for this request (without the common
    /// ones), flattened as the SDKs flatten them.
    fn to_params(&self) -> Vec<(String, String)>;
    /// Every resource the request names, in parameter order.
    fn resources<'a>(&'a self, out: &mut Vec<Resource<'a>>);
    /// `RegionId`, when given and not empty.
    fn region_id(&self) -> Option<&str>;
}

/// An operation: its declaration and its request and answer types.
pub trait Operation: 'static {
    const DECLARATION: Declaration;
    type Request: Request;
    type Answer: serde::Serialize
        + serde::de::DeserializeOwned
        + Clone
        + Default
        + std::fmt::Debug
        + Send
        + Sync
        + 'static;
}

/// A key and value of a request (`Tags.N.Key`/`Tags.N.Value`,
/// `Tag.N.Key`/`Tag.N.Value`): every operation's tag type has it.
pub trait KeyValue {
    /// The key, as given (possibly empty).
    fn key(&self) -> Option<&str>;
    /// The value, as given.
    fn value(&self) -> Option<&str>;
}

/// The answer of operations that answer nothing but `RequestId`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Empty {}
