
use std::fmt;

/// One API operation (an RPC `Action`) as the vendor's metadata describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Operation {
    /// The `Action` name, e.g. `CreateVpnGateway` (exact and case-sensitive).
    pub name: &'static str,
    /// HTTP methods the vendor accepts for it, upper-case.
    pub http_methods: &'static [&'static str],
    /// Operation-specific request parameters, in the metadata's order. The
    /// common parameters (`Action`, `Version`, `Format`, the signature fields,
    /// `OwnerId`, `OwnerAccount`, `ResourceOwnerId`, `ResourceOwnerAccount`)
    /// are not listed.
    pub params: &'static [Param],
    /// Error codes the API reference documents for this operation.
    pub errors: &'static [DocumentedError],
    /// Error codes that terraform-provider-alicloud reacts to for this
    /// operation (some have no documented status or message).
    pub client_handled: &'static [ClientHandledError],
}

impl Operation {
    /// The top-level parameter called `name` (exact match).
    pub fn param(&self, name: &str) -> Option<&'static Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The documented error with this code, if any.
    pub fn error(&self, code: &str) -> Option<&'static DocumentedError> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// Whether `method` (upper-case, e.g. `POST`) may carry this operation.
    pub fn allows_method(&self, method: &str) -> bool {
        self.http_methods.contains(&method)
    }

    /// The required top-level parameters.
    pub fn required_params(&self) -> impl Iterator<Item = &'static Param> {
        self.params.iter().filter(|p| p.required)
    }
}

/// One request parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Param {
    /// Wire name, e.g. `VpnGatewayId`; nested fields are flattened as
    /// `Parent.1.Child` (lists) or `Parent.Child` (objects).
    pub name: &'static str,
    /// Where the vendor's SDKs put it.
    pub position: Position,
    /// Value type.
    pub kind: ParamKind,
    /// Whether the request fails with `MissingParameter` without it.
    pub required: bool,
}

impl Param {
    /// The nested field called `name` of an object or object-list parameter.
    pub fn field(&self, name: &str) -> Option<&'static Param> {
        self.kind.fields().iter().find(|p| p.name == name)
    }
}

/// Where a parameter travels. The RPC gateway merges the query string and an
/// `application/x-www-form-urlencoded` body, so servers accept either.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    Query,
    Body,
    Host,
}

/// Value type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParamKind {
    String,
    Integer,
    Boolean,
    /// A string holding a JSON document (`IkeConfig`, `IpsecConfig`,
    /// `BgpConfig`, `HealthCheckConfig`).
    Json,
    /// A repeated scalar, flattened as `Name.1`, `Name.2`, ... (1-based).
    List(&'static ParamKind),
    /// A repeated object, flattened as `Name.1.Field`, `Name.2.Field`, ...
    /// (metadata types `RepeatList` with sub-parameters, and `Array`).
    ObjectList(&'static [Param]),
    /// An object, flattened as `Name.Field` (metadata type `Struct`).
    Object(&'static [Param]),
}

impl ParamKind {
    /// The fields of an object or object-list kind; empty for the others.
    pub fn fields(&self) -> &'static [Param] {
        match self {
            ParamKind::ObjectList(fields) | ParamKind::Object(fields) => fields,
            _ => &[],
        }
    }
}

/// An error the vendor documents, with its HTTP status and message
/// (messages may hold `%s` or `<Name>` placeholders).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentedError {
    pub status: u16,
    pub code: &'static str,
    pub message: &'static str,
}

impl fmt::Display for DocumentedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)
    }
}

/// An error code a major client special-cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientHandledError {
    pub code: &'static str,
    pub handling: ClientHandling,
}

/// What the client does on receiving the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientHandling {
    /// Waits and retries the call (the resource is busy).
    Retry,
    /// Takes the resource as gone (already deleted / not found).
    Gone,
}

/// The operation called `name`, exactly as spelled (the cloud is
/// case-sensitive); `None` for unknown actions.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS
        .binary_search_by(|op| op.name.cmp(name))
        .ok()
        .and_then(|i| OPERATIONS.get(i))
}
