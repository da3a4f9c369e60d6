//! The action table: every operation vpngw answers, keyed by API version and
//! action name, with its RAM action and handler. Routing goes only through
//! this table, so no operation can reach a handler without passing the same
//! authentication and checks as every other.

use std::{collections::HashMap, sync::LazyLock};

use futures_util::future::BoxFuture;
use vpngw_protocol::{ApiError, RawRequest};

use crate::{Ctx, vpc};

/// A handler's answer: the response body without `RequestId`, serialized
/// once from its view (`vpc::reply`); `Service::call` adds `RequestId`.
pub type Reply = Result<vpngw_protocol::JsonAnswer, ApiError>;
pub type Handler = for<'a> fn(&'a Ctx<'a>) -> BoxFuture<'a, Reply>;

/// The products served on the one endpoint, told apart by `Version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Vpc,
    /// RAM 2015-05-01 (users, groups, roles, policies).
    Ram,
    /// STS 2015-04-01 (AssumeRole, GetCallerIdentity).
    Sts,
    /// vpngw's own operations (the data plane agent's reports), on the same
    /// endpoint under their own `Version`.
    Vpngw,
}

impl Product {
    pub const fn version(self) -> &'static str {
        match self {
            Product::Vpc => "2016-04-28",
            Product::Ram => "2015-05-01",
            Product::Sts => "2015-04-01",
            Product::Vpngw => "2025-01-01",
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            Product::Vpc => "Vpc",
            Product::Ram => "Ram",
            Product::Sts => "Sts",
            Product::Vpngw => "Vpngw",
        }
    }

    /// `HostId` of error bodies: the product's public endpoint.
    pub const fn host_id(self) -> &'static str {
        match self {
            Product::Vpc => "vpc.aliyuncs.com",
            Product::Ram => "ram.aliyuncs.com",
            Product::Sts => "sts.aliyuncs.com",
            Product::Vpngw => "vpngw.local",
        }
    }

    pub fn by_version(version: &str) -> Product {
        [Product::Vpc, Product::Vpngw]
            .into_iter()
            .chain([Product::Ram, Product::Sts])
            .find(|p| p.version() == version)
            .unwrap_or(Product::Vpc)
    }

    /// The product of a request that could not be parsed, for its error body.
    pub fn guess(_raw: &RawRequest<'_>) -> Product {
        Product::Vpc
    }
}

/// One operation.
pub struct ActionDef {
    pub product: Product,
    pub name: &'static str,
    /// The RAM action a policy must allow, e.g. `vpc:CreateVpnGateway`.
    pub ram_action: &'static str,
    pub handler: Handler,
}

/// Wraps an `async fn(&Ctx) -> Reply` into a [`Handler`].
#[macro_export]
macro_rules! handler {
    ($f:path) => {{
        fn call<'a>(
            ctx: &'a $crate::Ctx<'a>,
        ) -> ::futures_util::future::BoxFuture<'a, $crate::actions::Reply> {
            Box::pin($f(ctx))
        }
        call as $crate::actions::Handler
    }};
}

/// A table of VPC operations: `Action => handler`. Each module of
/// [`crate::vpc`] declares its own, and [`TABLES`] lists the modules.
#[macro_export]
macro_rules! vpc_actions {
    ($($name:ident => $f:path),+ $(,)?) => {
        &[$($crate::actions::ActionDef {
            product: $crate::actions::Product::Vpc,
            name: stringify!($name),
            ram_action: concat!("vpc:", stringify!($name)),
            handler: $crate::handler!($f),
        }),+]
    };
}

/// Every module's operations. Adding a module means adding its table here.
static TABLES: &[&[ActionDef]] = &[
    vpc::vpn_gateway::ACTIONS,
    vpc::customer_gateway::ACTIONS,
    vpc::connection::ACTIONS,
    vpc::regions::ACTIONS,
    crate::ram::ACTIONS,
    crate::sts::ACTIONS,
    vpc::routes::vco::ACTIONS,
    vpc::routes::gateway::ACTIONS,
    vpc::routes::pbr::ACTIONS,
    vpc::attachment::ACTIONS,
    vpc::tags::ACTIONS,
    vpc::resource_group::ACTIONS,
    vpc::tunnel::ACTIONS,
    vpc::connection_config::ACTIONS,
    vpc::logs::ACTIONS,
    vpc::diagnose::ACTIONS,
    vpc::gateway_info::ACTIONS,
    vpc::ssl_vpn::ACTIONS,
    crate::vpngw::ACTIONS,
];

static BY_NAME: LazyLock<HashMap<(&'static str, &'static str), &'static ActionDef>> =
    LazyLock::new(|| {
        TABLES
            .iter()
            .flat_map(|t| t.iter())
            .map(|a| ((a.product.version(), a.name), a))
            .collect()
    });

/// Every operation served.
pub fn all() -> impl Iterator<Item = &'static ActionDef> {
    TABLES.iter().flat_map(|t| t.iter())
}

/// Finds the operation for `Version` + `Action`.
///
/// An unknown version is `InvalidVersion`; a known version without that
/// action is `InvalidAction.NotFound` (404). An action the vendor defines
/// for the version but vpngw does not serve yet says so plainly instead of
/// pretending it does not exist.
pub fn route(version: &str, action: &str) -> Result<&'static ActionDef, ApiError> {
    if let Some(def) = BY_NAME.get(&(version, action)) {
        return Ok(def);
    }
    if version == Product::Vpngw.version() {
        return Err(ApiError::new(
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        ));
    }
    if let Some(product) = [Product::Ram, Product::Sts]
        .into_iter()
        .find(|p| p.version() == version)
    {
        return Err(crate::ram::unknown_action(product, action));
    }
    if version != Product::Vpc.version() {
        return Err(ApiError::new(
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    }
    if vpngw_model::operations::operation(action).is_some() {
        return Err(ApiError::new(
            "UnsupportedOperation",
            format!("The operation {action} is not supported by this vpngw server yet."),
        ));
    }
    Err(ApiError::new(
        "InvalidAction.NotFound",
        "Specified api is not found, please check your url and method.",
    ))
}
