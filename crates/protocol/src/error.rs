//! The one error type of the wire protocol: an Alibaba Cloud error code plus context.
//!
//! The HTTP status always comes from the code ([`status_for`]), so handlers never pick status
//! numbers. Constructors exist for every protocol-level error; product errors use
//! [`ApiError::new`] with their documented code.
//!
//! Messages follow the wording the real gateway uses where it could be found in public
//! material (see the crate documentation for the sources of the codes we had to choose).

use std::borrow::Cow;

/// An error answer: code, message and the HTTP status derived from the code.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// Alibaba error code, e.g. `InvalidVpnConnectionInstanceId.NotFound`.
    pub code: Cow<'static, str>,
    /// Human readable message, sent as `Message`.
    pub message: String,
    /// HTTP status (4xx or 5xx), normally [`status_for`]`(code)`.
    pub status: u16,
    /// Optional `AccessDeniedDetail` object sent with RAM denials.
    pub access_denied_detail: Option<serde_json::Value>,
}

impl ApiError {
    /// An error with the status taken from [`status_for`].
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        let code = code.into();
        let status = status_for(&code);
        Self {
            code,
            message: message.into(),
            status,
            access_denied_detail: None,
        }
    }

    /// Override the status (for product codes whose documented status differs from the rules).
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Attach an `AccessDeniedDetail` object (RAM denials).
    #[must_use]
    pub fn with_access_denied_detail(mut self, detail: serde_json::Value) -> Self {
        self.access_denied_detail = Some(detail);
        self
    }

    /// 400 `MissingParameter`: a required parameter is absent or empty.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            "MissingParameter",
            format!(
                "The input parameter \"{}\" that is mandatory for processing this request is not supplied.",
                shorten(name)
            ),
        )
    }

    /// 400 `InvalidParameter`: a parameter has a value that cannot be used.
    pub fn invalid_parameter(name: &str) -> Self {
        Self::new(
            "InvalidParameter",
            format!(
                "The specified parameter \"{}\" is not valid.",
                shorten(name)
            ),
        )
    }

    /// 400 `InvalidParameter` with an explanation after the standard sentence.
    pub fn invalid_parameter_because(name: &str, why: &str) -> Self {
        Self::new(
            "InvalidParameter",
            format!(
                "The specified parameter \"{}\" is not valid: {why}",
                shorten(name)
            ),
        )
    }

    /// 500 `InternalError`. The detail belongs in the server log, never in the answer.
    pub fn internal() -> Self {
        Self::new(
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    /// 503 `ServiceUnavailable`.
    pub fn service_unavailable() -> Self {
        Self::new(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }

    /// 400 `MissingSignature`: neither an `Authorization: ACS3-…` header nor a `Signature`
    /// parameter. This is what the live POP gateway answers ("Signature is mandatory for this
    /// action."), see the crate documentation.
    pub fn missing_signature() -> Self {
        Self::missing_common("Signature")
    }

    /// 400 `Missing<Name>` with "`<Name>` is mandatory for this action.", the gateway's form for
    /// absent common parameters (`MissingSignature`, `MissingTimestamp`, `MissingAccessKeyId`,
    /// `MissingSecurityToken`).
    pub fn missing_common(name: &str) -> Self {
        let name = shorten(name);
        Self::new(
            format!("Missing{name}"),
            format!("{name} is mandatory for this action."),
        )
    }

    /// 400 `MissingHeader`: a header V3 signing needs is absent (gateway wording).
    pub fn missing_header(name: &str) -> Self {
        Self::new(
            "MissingHeader",
            format!(
                "Specified header {} is mandatory for this action.",
                shorten(name)
            ),
        )
    }

    /// 400 `IncompleteSignature`: the signature parameters or the `Authorization` header are
    /// malformed. `detail` says what is wrong; it never contains a `:`.
    pub fn incomplete_signature(detail: &str) -> Self {
        let mut message =
            String::from("The request signature does not conform to Aliyun standards.");
        if !detail.is_empty() {
            message.push(' ');
            message.push_str(detail);
        }
        Self::new("IncompleteSignature", message)
    }

    /// 400 `SignatureDoesNotMatch`. The message ends with
    /// `server string to sign is:<sts>`: legacy `aliyun-python-sdk-core` splits it on `:`.
    pub fn signature_does_not_match(string_to_sign: &str) -> Self {
        Self::new(
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
            ),
        )
    }

    /// 400 `InvalidSignatureMethod`: not HMAC-SHA1 (V1) or ACS3-HMAC-SHA256 (V3).
    pub fn invalid_signature_method() -> Self {
        Self::new(
            "InvalidSignatureMethod",
            "Specified signature method is not supported.",
        )
    }

    /// 400 `InvalidTimeStamp.Format`: unparsable `Timestamp` / `x-acs-date`.
    pub fn invalid_timestamp_format() -> Self {
        Self::new(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    }

    /// 400 `InvalidTimeStamp.Expired`: more than 15 minutes away from the server clock.
    pub fn invalid_timestamp_expired() -> Self {
        Self::new(
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        )
    }

    /// 400 `SignatureNonceUsed`.
    pub fn signature_nonce_used() -> Self {
        Self::new(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }

    /// 404 `InvalidAccessKeyId.NotFound`.
    pub fn access_key_not_found() -> Self {
        Self::new(
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    /// 400 `InvalidAccessKeyId.Inactive`.
    pub fn access_key_inactive() -> Self {
        Self::new(
            "InvalidAccessKeyId.Inactive",
            "Specified access key is disabled.",
        )
    }

    /// 400 `MissingSecurityToken`: an STS key was used without its token.
    pub fn missing_security_token() -> Self {
        Self::missing_common("SecurityToken")
    }

    /// 400 `InvalidSecurityToken.Expired`.
    pub fn security_token_expired() -> Self {
        Self::new(
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )
    }

    /// 400 `InvalidSecurityToken.Malformed`.
    pub fn security_token_malformed() -> Self {
        Self::new(
            "InvalidSecurityToken.Malformed",
            "Specified SecurityToken is malformed.",
        )
    }

    /// 400 `InvalidSecurityToken.MismatchWithAccessKey`.
    pub fn security_token_mismatch() -> Self {
        Self::new(
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )
    }

    /// 404 `InvalidAction.NotFound`: unknown Action/Version pair.
    pub fn action_not_found() -> Self {
        Self::new(
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    }

    /// 400 `UnsupportedHTTPMethod`: only GET and POST are served.
    pub fn unsupported_http_method() -> Self {
        Self::new(
            "UnsupportedHTTPMethod",
            "This http method is not supported.",
        )
    }

    /// 403 `Forbidden.RAM`, optionally with an `AccessDeniedDetail` object.
    pub fn forbidden_ram(detail: Option<serde_json::Value>) -> Self {
        let mut err = Self::new(
            "Forbidden.RAM",
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        );
        err.access_denied_detail = detail;
        err
    }

    /// 400 `Throttling.User`.
    pub fn throttling_user() -> Self {
        Self::new(
            "Throttling.User",
            "Request was denied due to user flow control.",
        )
    }
}

/// Cap a client-supplied name echoed into a message, so a huge name cannot bloat an answer.
fn shorten(name: &str) -> &str {
    const MAX: usize = 128;
    if name.len() <= MAX {
        return name;
    }
    let mut end = MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// HTTP status for an error code: the exact table of protocol.md §6.3 first, then the rules
/// `*.NotFound` / `EntityNotExist*` → 404, `Forbidden*` / `Forbbiden*` → 403, else 400.
pub fn status_for(code: &str) -> u16 {
    match code {
        "InternalError" | "InternalFailure" => return 500,
        "ServiceUnavailable" | "ServiceUnavailableTemporary" => return 503,
        "InvalidAccessKeyId.NotFound" | "InvalidAction.NotFound" | "InvalidApi.NotFound" => {
            return 404;
        }
        "Forbidden" | "Forbidden.RAM" => return 403,
        "MissingParameter"
        | "InvalidParameter"
        | "IncompleteSignature"
        | "SignatureDoesNotMatch"
        | "InvalidTimeStamp.Format"
        | "InvalidTimeStamp.Expired"
        | "SignatureNonceUsed"
        | "InvalidSignatureMethod"
        | "InvalidAccessKeyId.Inactive"
        | "UnsupportedHTTPMethod"
        | "Throttling"
        | "Throttling.User"
        | "Throttling.Api" => return 400,
        _ => {}
    }
    if code.starts_with("InvalidSecurityToken.") {
        400
    } else if code.ends_with(".NotFound") || code.starts_with("EntityNotExist") {
        404
    } else if code.starts_with("Forbidden") || code.starts_with("Forbbiden") {
        403
    } else {
        400
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_table_and_rules() {
        for (code, status) in [
            ("MissingParameter", 400),
            ("InvalidParameter", 400),
            ("IncompleteSignature", 400),
            ("SignatureDoesNotMatch", 400),
            ("InvalidTimeStamp.Format", 400),
            ("InvalidTimeStamp.Expired", 400),
            ("SignatureNonceUsed", 400),
            ("InvalidSignatureMethod", 400),
            ("InvalidAccessKeyId.NotFound", 404),
            ("InvalidAccessKeyId.Inactive", 400),
            ("InvalidSecurityToken.Expired", 400),
            ("InvalidSecurityToken.Malformed", 400),
            ("InvalidAction.NotFound", 404),
            ("InvalidApi.NotFound", 404),
            ("UnsupportedHTTPMethod", 400),
            ("Forbidden.RAM", 403),
            ("Forbidden", 403),
            ("Forbidden.NotOwner", 403),
            ("Forbbiden.SubUser", 403),
            ("Throttling", 400),
            ("Throttling.User", 400),
            ("Throttling.Api", 400),
            ("InvalidVpnConnectionInstanceId.NotFound", 404),
            ("EntityNotExist.User", 404),
            ("EntityNotExist.Role.Policy", 404),
            ("InternalError", 500),
            ("ServiceUnavailable", 503),
            ("MissingSignature", 400),
            ("MissingHeader", 400),
            ("VpnGateway.Configuring", 400),
            ("", 400),
        ] {
            assert_eq!(status_for(code), status, "{code}");
        }
    }

    #[test]
    fn constructors_take_status_from_code() {
        assert_eq!(ApiError::access_key_not_found().status, 404);
        assert_eq!(ApiError::forbidden_ram(None).status, 403);
        assert_eq!(ApiError::internal().status, 500);
        assert_eq!(ApiError::service_unavailable().status, 503);
        assert_eq!(ApiError::new("Foo.NotFound", "x").status, 404);
        assert_eq!(
            ApiError::new("Foo.NotFound", "x").with_status(400).status,
            400
        );
        let e = ApiError::missing_parameter("VpnConnectionId");
        assert_eq!(e.code, "MissingParameter");
        assert_eq!(
            e.message,
            "The input parameter \"VpnConnectionId\" that is mandatory for processing this request is not supplied."
        );
        let e = ApiError::invalid_parameter("Tag.0.Key");
        assert_eq!(
            e.message,
            "The specified parameter \"Tag.0.Key\" is not valid."
        );
        let e = ApiError::missing_signature();
        assert_eq!(
            (e.code.as_ref(), e.message.as_str()),
            (
                "MissingSignature",
                "Signature is mandatory for this action."
            )
        );
    }

    #[test]
    fn signature_mismatch_message_splits_like_legacy_sdk() {
        let sts = "POST&%2F&AccessKeyId%3Dtestid";
        let e = ApiError::signature_does_not_match(sts);
        // aliyun-python-sdk-core: message.split(':')[1]
        assert_eq!(e.message.split(':').nth(1), Some(sts));
        assert!(
            e.message
                .ends_with(&format!("server string to sign is:{sts}"))
        );
        assert!(!ApiError::incomplete_signature("x").message.contains(':'));
    }

    #[test]
    fn long_names_are_shortened_in_messages() {
        let name = "é".repeat(200);
        let e = ApiError::invalid_parameter(&name);
        assert!(e.message.len() < 200);
    }
}
