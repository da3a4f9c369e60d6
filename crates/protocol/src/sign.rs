//! The two signature schemes: V1 (HMAC-SHA1, protocol.md §4) and V3 (ACS3-HMAC-SHA256, §5).
//!
//! Verification lives on [`crate::RpcRequest::verify_signature`]; the functions here are the
//! building blocks, public so that tests (ours and the server's) can sign requests the way the
//! official clients do.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::encoding::{hex_lower, percent_encode_into};
use crate::params::Params;

/// The V3 algorithm name, first token of the `Authorization` header and first line of the
/// string to sign.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The only V1 `SignatureMethod`.
pub const V1_METHOD: &str = "HMAC-SHA1";

/// Append the canonical query `pct(name)=pct(value)&…` of `pairs` (already in name order).
pub(crate) fn canonical_query_into<'a>(
    out: &mut String,
    pairs: impl Iterator<Item = (&'a str, &'a str)>,
) {
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(out, name);
        out.push('=');
        percent_encode_into(out, value);
    }
}

/// V1 canonicalized query string: every parameter except `Signature`, in name order.
pub fn v1_canonical_query(params: &Params) -> String {
    let mut out =
        String::with_capacity(params.text_len() + params.text_len() / 4 + 2 * params.len());
    canonical_query_into(&mut out, params.iter().filter(|(k, _)| *k != "Signature"));
    out
}

/// V1 string to sign: `METHOD&%2F&pct(canonical_query)`.
pub fn v1_string_to_sign(method: &str, canonical_query: &str) -> String {
    let mut out = String::with_capacity(method.len() + 4 + canonical_query.len() * 5 / 4);
    out.push_str(method);
    out.push_str("&%2F&");
    percent_encode_into(&mut out, canonical_query);
    out
}

/// HMAC-SHA1 with key `secret + "&"`, ready to absorb the string to sign.
pub(crate) fn v1_mac(secret: &[u8]) -> Hmac<Sha1> {
    // The key is `secret` followed by '&'; the copy is wiped right after use.
    let mut key = Vec::with_capacity(secret.len() + 1);
    key.extend_from_slice(secret);
    key.push(b'&');
    let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&key);
    key.fill(0);
    match mac {
        Ok(mac) => mac,
        Err(_) => unreachable_mac(),
    }
}

/// HMAC-SHA256 with the bare secret as key (V3 appends nothing).
pub(crate) fn v3_mac(secret: &[u8]) -> Hmac<Sha256> {
    match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable_mac(),
    }
}

#[cold]
fn unreachable_mac() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs; HMAC takes any length.
    unreachable!("HMAC accepts keys of any length")
}

/// V1 signature: base64 of HMAC-SHA1(`secret&`, string_to_sign).
pub fn v1_signature(secret: &[u8], string_to_sign: &str) -> String {
    let mut mac = v1_mac(secret);
    mac.update(string_to_sign.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// V3 string to sign: `ACS3-HMAC-SHA256\n` + lowercase hex SHA-256 of the canonical request.
pub fn v3_string_to_sign(canonical_request: &[u8]) -> String {
    let digest = Sha256::digest(canonical_request);
    let mut out = String::with_capacity(V3_ALGORITHM.len() + 1 + 64);
    out.push_str(V3_ALGORITHM);
    out.push('\n');
    out.push_str(&hex_lower(&digest));
    out
}

/// V3 signature: lowercase hex of HMAC-SHA256(secret, string_to_sign).
pub fn v3_signature(secret: &[u8], string_to_sign: &str) -> String {
    let mut mac = v3_mac(secret);
    mac.update(string_to_sign.as_bytes());
    hex_lower(&mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256 of a request body (`x-acs-content-sha256`).
pub fn content_sha256(body: &[u8]) -> String {
    hex_lower(&Sha256::digest(body))
}

/// Sign a V1 request like the clients do and return the full query string, canonical pairs
/// followed by `&Signature=…`. `pairs` must hold every parameter that will be sent (query and
/// form body alike), common ones included; they are decoded values.
///
/// Fails with `InvalidParameter` when the pairs break the parameter rules (duplicates, empty
/// names, limits).
pub fn sign_v1_query(
    method: &str,
    pairs: &[(&str, &str)],
    secret: &[u8],
) -> Result<String, crate::ApiError> {
    let params = Params::from_pairs(pairs.iter().copied())?;
    let canonical = v1_canonical_query(&params);
    let signature = v1_signature(secret, &v1_string_to_sign(method, &canonical));
    let mut query = canonical;
    query.push_str("&Signature=");
    percent_encode_into(&mut query, &signature);
    Ok(query)
}

/// Sign a V3 request like the Python Tea client: set `x-acs-content-sha256` and
/// `Authorization` on `headers`, signing `host`, `content-type` (when present) and every
/// `x-acs-*` header present. `query` is the raw query string as it will be sent.
///
/// The headers must already hold `host`, `x-acs-action`, `x-acs-version`, `x-acs-date` and
/// `x-acs-signature-nonce` for the server to accept the request.
pub fn sign_v3(
    method: &str,
    query: &str,
    headers: &mut http::HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret: &[u8],
) -> Result<(), crate::ApiError> {
    let hash = content_sha256(body);
    let hash_value = http::HeaderValue::from_str(&hash).map_err(|_| crate::ApiError::internal())?;
    headers.insert("x-acs-content-sha256", hash_value);
    let mut names: Vec<&str> = headers
        .keys()
        .map(http::HeaderName::as_str)
        .filter(|n| *n == "host" || *n == "content-type" || n.starts_with("x-acs-"))
        .collect();
    names.sort_unstable();
    names.dedup();
    let signed_headers = names.join(";");

    let params = Params::from_form(query)?;
    let mut cr = String::new();
    cr.push_str(method);
    cr.push_str("\n/\n");
    let mut cq = String::new();
    canonical_query_into(&mut cq, params.iter());
    cr.push_str(&cq);
    cr.push('\n');
    for name in &names {
        let mut values: Vec<&str> = headers
            .get_all(*name)
            .iter()
            .map(|v| v.to_str().map(str::trim))
            .collect::<Result<_, _>>()
            .map_err(|_| crate::ApiError::invalid_parameter(name))?;
        values.sort_unstable();
        cr.push_str(name);
        cr.push(':');
        cr.push_str(&values.join(","));
        cr.push('\n');
    }
    cr.push('\n');
    cr.push_str(&signed_headers);
    cr.push('\n');
    cr.push_str(&hash);
    let signature = v3_signature(secret, &v3_string_to_sign(cr.as_bytes()));
    let authorization = format!(
        "{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    );
    let value = http::HeaderValue::from_str(&authorization)
        .map_err(|_| crate::ApiError::invalid_parameter("AccessKeyId"))?;
    headers.insert(http::header::AUTHORIZATION, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_v1() {
        // protocol.md §4.3
        let params = Params::from_pairs([
            ("AccessKeyId", "testid"),
            ("Action", "DescribeVpnConnection"),
            ("Format", "json"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "0ccd55d58c838e308143d6f54a65ddad"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2026-11-25T16:29:05Z"),
            ("Version", "2016-04-28"),
            ("VpnConnectionId", "vco-test"),
            ("Signature", "ignored"),
        ])
        .expect("valid");
        let cq = v1_canonical_query(&params);
        assert!(cq.contains("Timestamp=2026-11-25T16%3A29%3A05Z"));
        assert!(!cq.contains("Signature="));
        let sts = v1_string_to_sign("POST", &cq);
        assert!(sts.starts_with("POST&%2F&AccessKeyId%3Dtestid%26"));
        assert_eq!(
            v1_signature(b"testsecret", &sts),
            "VFsuh+hjCGfYGRpGmGbONV2qq/8="
        );
    }

    #[test]
    fn empty_body_hash() {
        assert_eq!(
            content_sha256(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
