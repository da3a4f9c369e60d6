//! The action table: every operation vpngw answers, keyed by API version and
//! action name. Each product registers its operations in one place
//! ([`crate::vpc::OPERATIONS`], [`crate::vpngw::OPERATIONS`], RAM's and
//! STS's `ACTIONS`) with one line per operation, `Operation => handler`.
//!
//! A VPC or vpngw operation is its typed declaration (`vpngw_ops`): the
//! pipeline parses its request, computes the resources it names, authorizes
//! them, runs the handler `async fn(&Ctx, Request) -> Result<Answer, ApiError>`
//! and encodes the answer ([`crate::operation`]), the same way for every
//! operation. Routing goes only through this table, so no operation reaches
//! a handler without passing the same authentication and checks as every
//! other.

use std::{collections::HashMap, sync::LazyLock};

use futures_util::future::BoxFuture;
use vpngw_ops::{Declaration, Operation};
use vpngw_protocol::{ApiError, Params, RawRequest};

use crate::{Caller, Inner, RequestInfo};

pub use vpngw_ops::Product;

/// A handler's answer: the response body without `RequestId`, serialized
/// once (`vpc::reply`); `Service::call` adds `RequestId`.
pub type Reply = Result<vpngw_protocol::JsonAnswer, ApiError>;

/// Everything after authentication, for one operation: parse, authorize,
/// handle, encode.
pub type Run = for<'a> fn(&'a Call<'a>) -> BoxFuture<'a, Reply>;

/// What the pipeline knows of a request once its caller is authenticated.
pub struct Call<'a> {
    pub(crate) inner: &'a Inner,
    pub(crate) params: &'a Params,
    pub(crate) caller: &'a Caller,
    pub(crate) now_ms: i64,
    pub(crate) request_id: &'a str,
    pub(crate) info: RequestInfo,
    pub(crate) def: &'static ActionDef,
    /// Set by [`crate::Ctx::audited`]: the handler's write carried its audit event.
    pub(crate) audited: &'a std::sync::atomic::AtomicBool,
}

/// One operation.
pub struct ActionDef {
    pub product: Product,
    pub name: &'static str,
    /// The RAM action a policy must allow, e.g. `vpc:CreateVpnGateway`.
    pub ram_action: &'static str,
    /// The typed declaration (every VPC and vpngw operation; RAM and STS
    /// handlers still read their parameters themselves).
    pub declaration: Option<Declaration>,
    pub run: Run,
}

impl ActionDef {
    /// A declared operation.
    pub const fn declared<O: Operation>(run: Run) -> ActionDef {
        ActionDef {
            product: O::DECLARATION.product,
            name: O::DECLARATION.name,
            ram_action: O::DECLARATION.ram_action,
            declaration: Some(O::DECLARATION),
            run,
        }
    }
}

/// The operation table of a declared product: one line per operation,
/// `Operation => handler,` where the handler is an
/// `async fn(&Ctx, Request) -> Result<Answer, ApiError>` of the operation's
/// types, or `Operation => untyped(handler),` for a handler that still reads
/// its parameters by name (`async fn(&Ctx) -> Reply`); its request is parsed
/// and its resources authorized all the same. `Operation => encoded(handler),`
/// takes a handler that answers `Encoded<Answer>`: an answer of the
/// operation's type it has already encoded (remembered answers).
#[macro_export]
macro_rules! operations {
    ($product:ident; $($rest:tt)*) => {
        $crate::operations!(@acc [] $product; $($rest)*)
    };
    (@acc [$($done:expr,)*] $product:ident;) => {
        &[$($done,)*]
    };
    (@acc [$($done:expr,)*] $product:ident; $op:ident => untyped($f:path), $($rest:tt)*) => {
        $crate::operations!(@acc [$($done,)* $crate::actions::ActionDef::declared::<::vpngw_ops::$product::$op>({
            fn run<'a>(
                call: &'a $crate::actions::Call<'a>,
            ) -> ::futures_util::future::BoxFuture<'a, $crate::actions::Reply> {
                Box::pin(async move {
                    let (ctx, _request) =
                        $crate::operation::prepare::<::vpngw_ops::$product::$op>(call).await?;
                    $f(&ctx).await
                })
            }
            run
        }),] $product; $($rest)*)
    };
    (@acc [$($done:expr,)*] $product:ident; $op:ident => encoded($f:path), $($rest:tt)*) => {
        $crate::operations!(@acc [$($done,)* $crate::actions::ActionDef::declared::<::vpngw_ops::$product::$op>({
            fn run<'a>(
                call: &'a $crate::actions::Call<'a>,
            ) -> ::futures_util::future::BoxFuture<'a, $crate::actions::Reply> {
                Box::pin(async move {
                    let (ctx, request) =
                        $crate::operation::prepare::<::vpngw_ops::$product::$op>(call).await?;
                    let answer: $crate::operation::Encoded<
                        <::vpngw_ops::$product::$op as ::vpngw_ops::Operation>::Answer,
                    > = $f(&ctx, request).await?;
                    Ok(answer.into_json())
                })
            }
            run
        }),] $product; $($rest)*)
    };
    (@acc [$($done:expr,)*] $product:ident; $op:ident => $f:path, $($rest:tt)*) => {
        $crate::operations!(@acc [$($done,)* $crate::actions::ActionDef::declared::<::vpngw_ops::$product::$op>({
            fn run<'a>(
                call: &'a $crate::actions::Call<'a>,
            ) -> ::futures_util::future::BoxFuture<'a, $crate::actions::Reply> {
                Box::pin(async move {
                    let (ctx, request) =
                        $crate::operation::prepare::<::vpngw_ops::$product::$op>(call).await?;
                    let answer: <::vpngw_ops::$product::$op as ::vpngw_ops::Operation>::Answer =
                        $f(&ctx, request).await?;
                    $crate::operation::reply(&answer)
                })
            }
            run
        }),] $product; $($rest)*)
    };
}

/// Every product's operations.
static TABLES: &[&[ActionDef]] = &[
    crate::vpc::OPERATIONS,
    crate::vpngw::OPERATIONS,
    crate::ecs::OPERATIONS,
    crate::resourcemanager::OPERATIONS,
    crate::cbn::OPERATIONS,
    crate::ram::ACTIONS,
    crate::sts::ACTIONS,
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

/// The product a request addresses by its `Version` (VPC when unknown, for
/// the error body).
pub fn product_of(version: &str) -> Product {
    Product::of_version(version).unwrap_or(Product::Vpc)
}

/// The product of a request that could not be parsed, for its error body.
pub fn guess(_raw: &RawRequest<'_>) -> Product {
    Product::Vpc
}

/// The refusal of an operation the product defines but vpngw does not
/// serve: 400, so that no client takes it for "not found" (Terraform's
/// `NotFoundError` is HTTP 404 or a message containing `NotFound`; see
/// docs/api-decisions.md).
pub fn unsupported(product: Product, action: &str) -> ApiError {
    ApiError::new(
        "UnsupportedOperation",
        format!(
            "The operation {action} of {} {} is not served by vpngw.",
            product.name(),
            product.version()
        ),
    )
    .with_status(400)
}

/// Finds the operation for `Version` + `Action`.
///
/// An unknown version is `InvalidVersion`. An action the product defines
/// but vpngw does not serve is [`unsupported`] (400); any other unknown
/// action `InvalidAction.NotFound` (404).
pub fn route(version: &str, action: &str) -> Result<&'static ActionDef, ApiError> {
    if let Some(def) = BY_NAME.get(&(version, action)) {
        return Ok(def);
    }
    let Some(product) = Product::of_version(version) else {
        return Err(ApiError::new(
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        ));
    };
    if product.defines(action) {
        return Err(unsupported(product, action));
    }
    Err(ApiError::action_not_found())
}
