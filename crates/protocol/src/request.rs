//! From an HTTP request to a parsed, verifiable RPC call (protocol.md §1, §3, §4, §5, §8).

use std::ops::Range;

use hmac::Mac;
use http::{HeaderMap, Method};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::encoding::hex_decode;
use crate::error::ApiError;
use crate::params::{Origin, Params, ParamsBuilder};
use crate::sign::{
    V1_METHOD, V3_ALGORITHM, canonical_query_into, content_sha256, v1_canonical_query, v1_mac,
    v1_string_to_sign, v3_mac, v3_string_to_sign,
};

/// Most names one `SignedHeaders` list may hold (the clients sign at most a dozen).
const MAX_SIGNED_HEADERS: usize = 64;

/// Largest allowed distance between a request's timestamp and the server clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// The parts of an HTTP request this crate needs. The body is the de-chunked payload.
///
/// The path is not part of it: RPC style always uses `/`, and both signatures assume it. The
/// server should answer other paths itself. With HTTP/2 the server must supply the `host`
/// header from `:authority`, because V3 signs it.
#[derive(Debug, Clone, Copy)]
pub struct RawRequest<'a> {
    pub method: &'a Method,
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Response format asked for with the `Format` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Xml,
}

/// Which signature scheme a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// HMAC-SHA1, `Signature` parameter, `SignatureVersion=1.0`.
    V1,
    /// ACS3-HMAC-SHA256 in the `Authorization` header.
    V3,
}

#[derive(Debug, Clone)]
enum Auth {
    V1,
    V3 {
        canonical_request: Vec<u8>,
        signature: [u8; 32],
    },
}

/// A parsed RPC request whose signature can be checked against a secret.
#[derive(Debug, Clone)]
pub struct RpcRequest {
    method: Method,
    params: Params,
    /// Holds action, version, key id, nonce and token, addressed by the ranges below.
    meta: String,
    action: Range<usize>,
    version: Range<usize>,
    access_key_id: Range<usize>,
    nonce: Range<usize>,
    security_token: Option<Range<usize>>,
    timestamp: OffsetDateTime,
    format: Format,
    auth: Auth,
}

fn put(meta: &mut String, s: &str) -> Range<usize> {
    let start = meta.len();
    meta.push_str(s);
    start..meta.len()
}

fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty())
}

/// Parse and check the shape of a request. The signature itself is checked later by
/// [`RpcRequest::verify_signature`], once the caller has looked up the secret of
/// [`RpcRequest::access_key_id`].
///
/// Checks, in this order (the first failure is answered):
/// 1. method GET or POST, else `UnsupportedHTTPMethod`;
/// 2. parameters of the query and, when the Content-Type is form-urlencoded, of the body:
///    UTF-8, at most [`crate::MAX_PARAMS`], names non-empty and at most
///    [`crate::MAX_NAME_LEN`] bytes, no name twice, else `InvalidParameter`;
/// 3. the scheme: an `Authorization: ACS3-…` header means V3, else a non-empty `Signature`
///    parameter means V1, else another `Authorization` scheme is `IncompleteSignature` and
///    nothing at all is `MissingSignature`;
/// 4. the scheme's own fields (see the crate documentation for every code).
pub fn parse(raw: &RawRequest) -> Result<RpcRequest, ApiError> {
    if raw.method != Method::GET && raw.method != Method::POST {
        return Err(ApiError::unsupported_http_method());
    }
    let query = raw.query.unwrap_or("");
    let body = if is_form(raw.headers) {
        std::str::from_utf8(raw.body).map_err(|_| {
            ApiError::new(
                "InvalidParameter",
                "The form-urlencoded body is not UTF-8 text.",
            )
        })?
    } else {
        ""
    };
    let mut builder = ParamsBuilder::new(query.len() + body.len());
    builder.add_form(query, Origin::Query)?;
    builder.add_form(body, Origin::Body)?;
    let params = builder.finish()?;

    let mut authorizations = raw.headers.get_all(http::header::AUTHORIZATION).iter();
    let authorization = authorizations.next();
    if authorizations.next().is_some() {
        return Err(ApiError::incomplete_signature(
            "The Authorization header is given more than once.",
        ));
    }
    match authorization {
        Some(auth) if auth.as_bytes().starts_with(b"ACS3-") => {
            parse_v3(raw, params, auth.as_bytes())
        }
        _ if non_empty(params.get("Signature")).is_some() => parse_v1(raw, params),
        Some(_) => Err(ApiError::incomplete_signature(
            "The Authorization header is not an ACS3 signature.",
        )),
        None => Err(ApiError::missing_signature()),
    }
}

/// Whether the body is `application/x-www-form-urlencoded` (parameters allowed, any case).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim())
        .is_some_and(|m| m.eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

fn parse_timestamp(s: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|_| ApiError::invalid_timestamp_format())
}

fn parse_format(v: Option<&str>) -> Format {
    match v {
        Some(f) if f.eq_ignore_ascii_case("xml") => Format::Xml,
        _ => Format::Json,
    }
}

/// V1: everything is in the (signed) parameters. Action and Version are taken from the
/// parameters only, never from the unsigned `x-acs-action`/`x-acs-version` headers, so a
/// V1 signature always covers the operation it authorises.
fn parse_v1(raw: &RawRequest, params: Params) -> Result<RpcRequest, ApiError> {
    match non_empty(params.get("SignatureMethod")) {
        None => return Err(ApiError::missing_parameter("SignatureMethod")),
        Some(V1_METHOD) => {}
        Some(_) => return Err(ApiError::invalid_signature_method()),
    }
    if params.get("SignatureVersion").is_some_and(|v| v != "1.0") {
        return Err(ApiError::invalid_parameter("SignatureVersion"));
    }
    let access_key_id = non_empty(params.get("AccessKeyId"))
        .ok_or_else(|| ApiError::missing_common("AccessKeyId"))?;
    let timestamp = non_empty(params.get("Timestamp"))
        .ok_or_else(|| ApiError::missing_common("Timestamp"))
        .and_then(parse_timestamp)?;
    let nonce = non_empty(params.get("SignatureNonce"))
        .ok_or_else(|| ApiError::missing_parameter("SignatureNonce"))?;
    let action =
        non_empty(params.get("Action")).ok_or_else(|| ApiError::missing_parameter("Action"))?;
    let version =
        non_empty(params.get("Version")).ok_or_else(|| ApiError::missing_parameter("Version"))?;
    let token = non_empty(params.get("SecurityToken"));

    let mut meta = String::with_capacity(
        action.len()
            + version.len()
            + access_key_id.len()
            + nonce.len()
            + token.map_or(0, str::len),
    );
    let action = put(&mut meta, action);
    let version = put(&mut meta, version);
    let access_key_id = put(&mut meta, access_key_id);
    let nonce = put(&mut meta, nonce);
    let security_token = token.map(|t| put(&mut meta, t));
    let format = parse_format(params.get("Format"));
    Ok(RpcRequest {
        method: raw.method.clone(),
        params,
        meta,
        action,
        version,
        access_key_id,
        nonce,
        security_token,
        timestamp,
        format,
        auth: Auth::V1,
    })
}

/// The fields of `ACS3-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…`.
struct Authorization<'a> {
    credential: &'a str,
    signed_headers: &'a str,
    signature: [u8; 32],
}

fn parse_authorization(value: &[u8]) -> Result<Authorization<'_>, ApiError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| ApiError::incomplete_signature("The Authorization header is not ASCII."))?;
    let (algorithm, rest) = text.split_once(' ').unwrap_or((text, ""));
    if algorithm != V3_ALGORITHM {
        // ACS3-HMAC-SM3, ACS3-RSA-SHA256, … are real schemes we do not serve.
        return Err(ApiError::invalid_signature_method());
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or_else(|| {
            ApiError::incomplete_signature("The Authorization header has a part without '='.")
        })?;
        let slot = match key {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                return Err(ApiError::incomplete_signature(
                    "The Authorization header has an unknown part.",
                ));
            }
        };
        if slot.replace(value).is_some() {
            return Err(ApiError::incomplete_signature(
                "The Authorization header repeats a part.",
            ));
        }
    }
    let credential = non_empty(credential).ok_or_else(|| {
        ApiError::incomplete_signature("The Authorization header lacks Credential.")
    })?;
    let signed_headers = non_empty(signed_headers).ok_or_else(|| {
        ApiError::incomplete_signature("The Authorization header lacks SignedHeaders.")
    })?;
    let signature = signature
        .and_then(|s| hex_decode::<32>(s.as_bytes()))
        .ok_or_else(|| {
            ApiError::incomplete_signature(
                "The Authorization header lacks a Signature of 64 hex digits.",
            )
        })?;
    let mut count = 0;
    for (i, name) in signed_headers.split(';').enumerate() {
        count += 1;
        let valid = !name.is_empty()
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            });
        if !valid || count > MAX_SIGNED_HEADERS {
            return Err(ApiError::incomplete_signature(
                "SignedHeaders must list at most 64 lowercase header names.",
            ));
        }
        if signed_headers
            .split(';')
            .take(i)
            .any(|earlier| earlier == name)
        {
            return Err(ApiError::incomplete_signature(
                "SignedHeaders lists a header twice.",
            ));
        }
    }
    Ok(Authorization {
        credential,
        signed_headers,
        signature,
    })
}

/// The first value of a header as text; a value that is not visible ASCII is
/// `InvalidParameter` naming the header.
fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .map(Some)
            .map_err(|_| ApiError::invalid_parameter(name)),
    }
}

/// V3: the common fields travel in headers, which must be listed in SignedHeaders.
fn parse_v3(
    raw: &RawRequest,
    params: Params,
    authorization: &[u8],
) -> Result<RpcRequest, ApiError> {
    let auth = parse_authorization(authorization)?;
    let headers = raw.headers;
    let is_signed = |name: &str| auth.signed_headers.split(';').any(|h| h == name);
    // A header whose value we use must be present and covered by the signature.
    let signed_header = |name: &'static str| -> Result<&str, ApiError> {
        let value =
            non_empty(header_str(headers, name)?).ok_or_else(|| ApiError::missing_header(name))?;
        if !is_signed(name) {
            return Err(ApiError::incomplete_signature(&format!(
                "The header {name} must be listed in SignedHeaders."
            )));
        }
        Ok(value)
    };

    signed_header("host")?;
    // The Content-Type decides whether the body is read as parameters, and
    // every official SDK signs it whenever it sends one (protocol.md §5.1:
    // Python and Node; Java and Go sign host, content-type and x-acs-*).
    // Unsigned, it could be added to a captured request to turn its signed
    // body bytes into parameters, or removed to drop them (#13).
    if headers.contains_key(http::header::CONTENT_TYPE) && !is_signed("content-type") {
        return Err(ApiError::incomplete_signature(
            "The header content-type must be listed in SignedHeaders.",
        ));
    }
    let timestamp = parse_timestamp(signed_header("x-acs-date")?)?;
    let nonce = signed_header("x-acs-signature-nonce")?;
    let declared_hash = signed_header("x-acs-content-sha256")?;
    let body_hash = content_sha256(raw.body);
    if !declared_hash.eq_ignore_ascii_case(&body_hash) {
        return Err(ApiError::incomplete_signature(
            "The x-acs-content-sha256 header does not match the SHA-256 of the request body.",
        ));
    }
    // Action and Version: a parameter wins (it is signed through the query or the payload
    // hash), else the header, which must then be signed.
    let action = match non_empty(params.get("Action")) {
        Some(a) => a,
        None => signed_header("x-acs-action")?,
    };
    let version = match non_empty(params.get("Version")) {
        Some(v) => v,
        None => signed_header("x-acs-version")?,
    };
    let token = match non_empty(header_str(headers, "x-acs-security-token")?) {
        Some(_) => Some(signed_header("x-acs-security-token")?),
        None => None,
    };

    // Canonical request (protocol.md §5.1).
    let mut canonical_query = String::new();
    canonical_query_into(&mut canonical_query, params.iter_query());
    let mut cr: Vec<u8> =
        Vec::with_capacity(64 + canonical_query.len() + auth.signed_headers.len() * 4 + 512);
    cr.extend_from_slice(raw.method.as_str().as_bytes());
    cr.extend_from_slice(b"\n/\n");
    cr.extend_from_slice(canonical_query.as_bytes());
    cr.push(b'\n');
    for name in auth.signed_headers.split(';') {
        let mut values = headers.get_all(name).iter();
        let first = values
            .next()
            .ok_or_else(|| ApiError::missing_header(name))?;
        cr.extend_from_slice(name.as_bytes());
        cr.push(b':');
        match values.next() {
            None => cr.extend_from_slice(first.as_bytes().trim_ascii()),
            Some(second) => {
                let mut all: Vec<&[u8]> = [first, second]
                    .into_iter()
                    .chain(values)
                    .map(|v| v.as_bytes().trim_ascii())
                    .collect();
                all.sort_unstable();
                cr.extend_from_slice(&all.join(&b','));
            }
        }
        cr.push(b'\n');
    }
    cr.push(b'\n');
    cr.extend_from_slice(auth.signed_headers.as_bytes());
    cr.push(b'\n');
    cr.extend_from_slice(body_hash.as_bytes());

    let mut meta = String::with_capacity(
        action.len()
            + version.len()
            + auth.credential.len()
            + nonce.len()
            + token.map_or(0, str::len),
    );
    let action = put(&mut meta, action);
    let version = put(&mut meta, version);
    let access_key_id = put(&mut meta, auth.credential);
    let nonce = put(&mut meta, nonce);
    let security_token = token.map(|t| put(&mut meta, t));
    let format = parse_format(params.get("Format"));
    Ok(RpcRequest {
        method: raw.method.clone(),
        params,
        meta,
        action,
        version,
        access_key_id,
        nonce,
        security_token,
        timestamp,
        format,
        auth: Auth::V3 {
            canonical_request: cr,
            signature: auth.signature,
        },
    })
}

impl RpcRequest {
    /// The operation: query/body `Action`, else (V3 only) the `x-acs-action` header.
    pub fn action(&self) -> &str {
        &self.meta[self.action.clone()]
    }

    /// The API version: query/body `Version`, else (V3 only) the `x-acs-version` header.
    /// Route on it: VPC and RAM share action names.
    pub fn version(&self) -> &str {
        &self.meta[self.version.clone()]
    }

    /// `Format`, case-insensitive; `XML` gives [`Format::Xml`], anything else or nothing JSON.
    pub fn format(&self) -> Format {
        self.format
    }

    /// All decoded parameters: query plus form body, common ones (`AccessKeyId`, …) included.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// V1 `AccessKeyId`, or the V3 `Credential`.
    pub fn access_key_id(&self) -> &str {
        &self.meta[self.access_key_id.clone()]
    }

    /// `SignatureNonce` or `x-acs-signature-nonce` (opaque).
    pub fn signature_nonce(&self) -> &str {
        &self.meta[self.nonce.clone()]
    }

    /// `Timestamp` or `x-acs-date`, in UTC. Check it with [`check_timestamp`].
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// `SecurityToken` or `x-acs-security-token` (STS credentials), if non-empty.
    pub fn security_token(&self) -> Option<&str> {
        self.security_token.clone().map(|r| &self.meta[r])
    }

    /// The scheme the request was signed with.
    pub fn signature_version(&self) -> SignatureVersion {
        match self.auth {
            Auth::V1 => SignatureVersion::V1,
            Auth::V3 { .. } => SignatureVersion::V3,
        }
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// V1: the canonicalized query of all parameters but `Signature`. V3: the canonical query
    /// of the query-string parameters only.
    pub fn canonical_query_string(&self) -> String {
        match self.auth {
            Auth::V1 => v1_canonical_query(&self.params),
            Auth::V3 { .. } => {
                let mut out = String::new();
                canonical_query_into(&mut out, self.params.iter_query());
                out
            }
        }
    }

    /// The V3 canonical request (bytes: header values may hold non-UTF-8). `None` for V1.
    pub fn canonical_request(&self) -> Option<&[u8]> {
        match &self.auth {
            Auth::V1 => None,
            Auth::V3 {
                canonical_request, ..
            } => Some(canonical_request),
        }
    }

    /// The server's string to sign, as quoted in `SignatureDoesNotMatch`.
    pub fn string_to_sign(&self) -> String {
        match &self.auth {
            Auth::V1 => v1_string_to_sign(self.method.as_str(), &v1_canonical_query(&self.params)),
            Auth::V3 {
                canonical_request, ..
            } => v3_string_to_sign(canonical_request),
        }
    }

    /// Recompute the signature with this secret and compare in constant time.
    ///
    /// Err is `SignatureDoesNotMatch` whose message ends with
    /// `server string to sign is:<sts>` (protocol.md §6.3; legacy clients split on `:`). A V1
    /// `Signature` that is not base64 of 20 bytes also gets `SignatureDoesNotMatch`.
    pub fn verify_signature(&self, secret: &[u8]) -> Result<(), ApiError> {
        let sts = self.string_to_sign();
        let ok = match &self.auth {
            Auth::V1 => {
                use base64::Engine as _;
                let given = self.params.get("Signature").unwrap_or("");
                match base64::engine::general_purpose::STANDARD.decode(given) {
                    Ok(tag) => {
                        let mut mac = v1_mac(secret);
                        mac.update(sts.as_bytes());
                        mac.verify_slice(&tag).is_ok()
                    }
                    Err(_) => false,
                }
            }
            Auth::V3 { signature, .. } => {
                let mut mac = v3_mac(secret);
                mac.update(sts.as_bytes());
                mac.verify_slice(signature).is_ok()
            }
        };
        if ok {
            Ok(())
        } else {
            Err(ApiError::signature_does_not_match(&sts))
        }
    }
}

/// Accept `ts` when it is within [`MAX_CLOCK_SKEW`] (15 minutes) of `now`, either way;
/// otherwise `InvalidTimeStamp.Expired`.
pub fn check_timestamp(ts: OffsetDateTime, now: OffsetDateTime) -> Result<(), ApiError> {
    if (ts - now).abs() > MAX_CLOCK_SKEW {
        Err(ApiError::invalid_timestamp_expired())
    } else {
        Ok(())
    }
}
