"""A tiny, independent signer for raw RPC requests (shared/spec/protocol.md §4 and §5).

The official SDKs cannot send a wrong signature, reuse a nonce, send an old timestamp,
call an unknown action or ask for a different Version, so the protocol tests build
those requests here. Only stdlib; only ever talks to 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import http.client
import json
import urllib.parse
import uuid
from dataclasses import dataclass, field

VPC_VERSION = "2016-04-28"


def pct(value: str) -> str:
    """RFC 3986 unreserved-set percent-encoding with uppercase hex (§4.1)."""
    return urllib.parse.quote(str(value), safe="-_.~")


def utc_timestamp(offset_seconds: int = 0) -> str:
    now = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=offset_seconds)
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def new_nonce() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------- V1


def v1_string_to_sign(method: str, params: dict[str, str]) -> str:
    """METHOD&%2F&pct(canonical query); `params` must not contain Signature."""
    canonical = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(params.items()))
    return f"{method.upper()}&{pct('/')}&{pct(canonical)}"


def v1_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new((secret + "&").encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# ---------------------------------------------------------------------------- V3


def v3_sign(
    method: str,
    query: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    secret: str,
) -> tuple[str, str]:
    """Returns (signed_headers, hex signature). `headers` are lower-case names; every
    header passed is signed (like the Python Tea client does)."""
    canonical_query = "&".join(f"{pct(k)}={pct(v)}" for k, v in sorted(query.items()))
    names = sorted(headers)
    canonical_headers = "".join(f"{n}:{headers[n].strip()}\n" for n in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            "/",
            canonical_query,
            canonical_headers,
            signed_headers,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    string_to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical_request.encode()).hexdigest()
    signature = hmac.new(secret.encode(), string_to_sign.encode(), hashlib.sha256).hexdigest()
    return signed_headers, signature


# ---------------------------------------------------------------------- transport


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    # For V1 requests: the string to sign this client computed (for SignatureDoesNotMatch checks).
    string_to_sign: str | None = None
    sent_params: dict[str, str] = field(default_factory=dict)

    def json(self) -> dict:
        return json.loads(self.body.decode("utf-8"))

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


class RawClient:
    """Signs and sends one RPC request per call; every knob can be overridden."""

    def __init__(self, host: str, port: int, access_key_id: str, secret: str, timeout: float = 15):
        self.host = host
        self.port = port
        self.access_key_id = access_key_id
        self.secret = secret
        self.timeout = timeout

    def _send(self, method: str, target: str, headers: dict[str, str], body: bytes) -> RawResponse:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, target, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def v1(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        method: str = "POST",
        version: str = VPC_VERSION,
        fmt: str | None = "JSON",
        nonce: str | None = None,
        timestamp: str | None = None,
        access_key_id: str | None = None,
        secret: str | None = None,
        signature: str | None = None,
        body_params: dict[str, str] | None = None,
        omit: tuple[str, ...] = (),
        no_signature: bool = False,
    ) -> RawResponse:
        """A V1 (HMAC-SHA1) request. `signature` overrides the computed one; `omit`
        drops common parameters before signing (e.g. ("Version",)); `no_signature`
        sends no Signature parameter at all."""
        common = {
            "Action": action,
            "Version": version,
            "Format": fmt,
            "AccessKeyId": access_key_id or self.access_key_id,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or new_nonce(),
            "Timestamp": timestamp or utc_timestamp(),
        }
        query = {k: v for k, v in common.items() if v is not None and k not in omit}
        query.update({k: str(v) for k, v in (params or {}).items()})
        body_params = {k: str(v) for k, v in (body_params or {}).items()}
        string_to_sign = v1_string_to_sign(method, {**query, **body_params})
        sig = signature if signature is not None else v1_signature(secret or self.secret, string_to_sign)
        sent = dict(query) if no_signature else {**query, "Signature": sig}
        target = "/?" + urllib.parse.urlencode(sent, quote_via=urllib.parse.quote)
        headers = {"Accept-Encoding": "identity"}
        body = b""
        if body_params:
            body = urllib.parse.urlencode(body_params).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        resp = self._send(method, target, headers, body)
        resp.string_to_sign = string_to_sign
        resp.sent_params = query
        return resp

    def v3(
        self,
        action: str,
        params: dict[str, str] | None = None,
        *,
        method: str = "POST",
        version: str = VPC_VERSION,
        nonce: str | None = None,
        date: str | None = None,
        access_key_id: str | None = None,
        secret: str | None = None,
        tamper_signature: bool = False,
        unsigned_headers: dict[str, str] | None = None,
    ) -> RawResponse:
        """A V3 (ACS3-HMAC-SHA256) request with business parameters in the query
        (`unsigned_headers` are sent besides, outside the signature)."""
        query = {k: str(v) for k, v in (params or {}).items()}
        body = b""
        headers = {
            "host": f"{self.host}:{self.port}",
            "accept": "application/json",
            "x-acs-action": action,
            "x-acs-version": version,
            "x-acs-date": date or utc_timestamp(),
            "x-acs-signature-nonce": nonce or new_nonce(),
            "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        signed, sig = v3_sign(method, query, headers, body, secret or self.secret)
        if tamper_signature:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        headers["authorization"] = (
            f"ACS3-HMAC-SHA256 Credential={access_key_id or self.access_key_id},"
            f"SignedHeaders={signed},Signature={sig}"
        )
        headers.update(unsigned_headers or {})
        target = "/"
        if query:
            target += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        return self._send(method, target, headers, body)
