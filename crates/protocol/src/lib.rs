//! # vpngw-protocol
//!
//! The Alibaba Cloud RPC wire protocol, as spoken by the official VPC and RAM clients
//! (`shared/spec/protocol.md`): an HTTP request becomes a verified RPC call, an answer becomes
//! bytes. Pure: no IO, no async, no clock (the caller passes `now`).
//!
//! ```text
//! let req = vpngw_protocol::parse(&raw)?;            // shape, scheme, common fields
//! vpngw_protocol::check_timestamp(req.timestamp(), now)?;
//! let secret = lookup(req.access_key_id())?;         // InvalidAccessKeyId.NotFound
//! req.verify_signature(secret)?;                     // SignatureDoesNotMatch
//! // nonce replay check, then dispatch on (req.version(), req.action()) with req.params()
//! ```
//!
//! Both V1 (HMAC-SHA1, `Signature` parameter) and V3 (ACS3-HMAC-SHA256, `Authorization`
//! header) are accepted on the same endpoint.
//!
//! ## Error codes where the spec left a choice
//!
//! | situation | answer | why |
//! |---|---|---|
//! | no `Authorization: ACS3-…` and no `Signature` | 400 `MissingSignature` "Signature is mandatory for this action." | what the live POP gateway answers (Alidns, 2023: github.com/starsunyzl/ddns-scripts-alibabacloud issue 3). protocol.md §8 offered `IncompleteSignature` or `MissingParameter`; old docs list `MissingParameter` |
//! | V1 without `Timestamp` / `AccessKeyId` | 400 `MissingTimestamp` / `MissingAccessKeyId`, "`<Name>` is mandatory for this action." | the gateway's form for absent common parameters (rfancn/aliyun-ddns-client issue 13; aliyun/alibabacloud-csharp-sdk issue 40) |
//! | V1 without `SignatureNonce`, `SignatureMethod`, `Action`, `Version` | 400 `MissingParameter` naming it | Alibaba's published common-error table lists `MissingParameter` for Action/Version; no live answer for the others was found |
//! | V3 without a header it needs (`host`, `x-acs-date`, `x-acs-signature-nonce`, `x-acs-content-sha256`, and `x-acs-action`/`x-acs-version` when no parameter names them) | 400 `MissingHeader` "Specified header `<h>` is mandatory for this action." | live POP gateway answer quoted in apache/paimon PR 9937 |
//! | such a header present but not in `SignedHeaders` | 400 `IncompleteSignature` | Alibaba's V3 doc: every common header present must be signed; unsigned it could be swapped |
//! | `x-acs-content-sha256` differs from the body's SHA-256 | 400 `IncompleteSignature` | no public code found; it is a malformed signing input |
//! | malformed `Authorization` (parts, hex, header names) | 400 `IncompleteSignature` | protocol.md §6.3 |
//! | `Authorization` of another `ACS3-` algorithm, or `SignatureMethod` ≠ `HMAC-SHA1` | 400 `InvalidSignatureMethod` | protocol.md §6.3 |
//! | unparsable `Timestamp` / `x-acs-date` (RFC 3339; fractions accepted) | 400 `InvalidTimeStamp.Format` | protocol.md §6.3 |
//! | a parameter name twice (query twice, or query and body) | 400 `InvalidParameter` naming it | no client sends one; either value could be "the" signed one |
//! | more than [`MAX_PARAMS`] parameters, a name over [`MAX_NAME_LEN`] bytes, an empty name, non-UTF-8 after decoding | 400 `InvalidParameter` | bounds the work of one request |
//! | method other than GET/POST | 400 `UnsupportedHTTPMethod` | protocol.md §1 |
//! | `SignatureVersion` present and not `1.0` | 400 `InvalidParameter` | |
//!
//! V1 takes `Action`/`Version` only from the (signed) parameters, never from the unsigned
//! `x-acs-action` header. A `Format` other than `XML` (any case) means JSON.

mod encoding;
mod error;
pub mod http_text;
mod params;
mod request;
mod response;
pub mod sign;
mod sorted_json;

pub use encoding::{form_decode, percent_encode, percent_encode_into};
pub use error::{ApiError, status_for};
pub use params::{MAX_NAME_LEN, MAX_PARAMS, Params, flatten_json};
pub use request::{
    Format, MAX_CLOCK_SKEW, RawRequest, RpcRequest, SignatureVersion, check_timestamp, parse,
};
pub use response::{
    Encoded, JSON_CONTENT_TYPE, XML_CONTENT_TYPE, encode_error, encode_success,
    encode_success_json, new_request_id, recommend_url,
};
pub use sorted_json::JsonAnswer;

/// Common parameters of V1 requests (protocol.md §3.1): handlers that look for unknown
/// parameters should skip these.
pub const COMMON_PARAMETERS: &[&str] = &[
    "AccessKeyId",
    "Action",
    "BearerToken",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];
