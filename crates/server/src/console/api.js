// Signed calls to the vpngw RPC endpoint, from the browser. Every request is
// signed here with ACS3-HMAC-SHA256 (WebCrypto), exactly like the official
// SDKs, so the server needs no console-specific API or session. The access
// key lives in sessionStorage (this tab only) and never leaves the browser.

export const VERSIONS = { vpc: "2016-04-28", sts: "2015-04-01", ram: "2015-05-01" };
const enc = new TextEncoder();

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (s) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s)));
async function hmacSha256(key, msg) {
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}
// RFC 3986 unreserved characters stay; everything else is %XX (upper case).
const pct = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

export class ApiError extends Error {
  constructor(code, message, requestId = "", status = 0) {
    super(`${code}: ${message}`);
    Object.assign(this, { code, apiMessage: message, requestId, status });
  }
}

// ---------------------------------------------------------------- session

export function session() {
  try { return JSON.parse(sessionStorage.getItem("vpngw.session")); } catch { return null; }
}
export function setSession(s) {
  if (s) sessionStorage.setItem("vpngw.session", JSON.stringify(s));
  else sessionStorage.removeItem("vpngw.session");
}
export const region = () => (session() || {}).region || "cn-hangzhou";

// ---------------------------------------------------------------- calls

// `poll`: a read of the page's periodic refresh; the server logs those at
// debug instead of info (x-vpngw-console-poll, unsigned).
export async function call(product, action, params = {}, { poll = false } = {}) {
  const s = session();
  if (!s) throw new ApiError("NotSignedIn", "sign in first");
  const query = Object.keys(params).filter((k) => params[k] !== undefined && params[k] !== null).sort()
    .map((k) => `${pct(k)}=${pct(String(params[k]))}`).join("&");
  const payloadHash = await sha256("");
  const headers = {
    host: location.host,
    "x-acs-action": action,
    "x-acs-content-sha256": payloadHash,
    "x-acs-date": new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
    "x-acs-signature-nonce": hex(crypto.getRandomValues(new Uint8Array(16))),
    "x-acs-version": VERSIONS[product],
  };
  if (s.token) {
    headers["x-acs-accesskey-id"] = s.id;
    headers["x-acs-security-token"] = s.token;
  }
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = ["POST", "/", query, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const stringToSign = "ACS3-HMAC-SHA256\n" + (await sha256(canonicalRequest));
  const signature = await hmacSha256(s.secret, stringToSign);
  delete headers.host; // the browser sends it, exactly as signed
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${s.id},SignedHeaders=${signedHeaders},Signature=${signature}`;
  headers.accept = "application/json";
  if (poll) headers["x-vpngw-console-poll"] = "1";
  let resp;
  try {
    resp = await fetch("/?" + query, { method: "POST", headers, cache: "no-store" });
  } catch {
    throw unreachable();
  }
  let body;
  try { body = await resp.json(); } catch { throw new ApiError("BadAnswer", `the server answered HTTP ${resp.status} without a JSON body`, "", resp.status); }
  if (!resp.ok) throw new ApiError(body.Code, body.Message, body.RequestId, resp.status);
  return body;
}

const unreachable = () => new ApiError("ServerUnreachable",
  `Cannot reach the vpngw server at ${location.origin}: it is stopped, restarting, or the network is down. The page keeps trying.`);

// Every page of a Describe* list (PageSize 50).
export async function listAll(action, path, params = {}, opts = {}) {
  const out = [];
  for (let page = 1; page <= 40; page++) {
    const body = await call("vpc", action, { RegionId: region(), PageSize: 50, PageNumber: page, ...params }, opts);
    const items = path.reduce((o, k) => (o || {})[k], body) || [];
    out.push(...items);
    if (items.length < 50 || out.length >= (body.TotalCount ?? 0)) break;
  }
  return out;
}

// The peer side of a connection as a strongSwan swanctl.conf, rendered by
// the server's data plane renderer from what this page read (signed calls).
export async function peerSwanctlConf(connection, gateway, customerGateways) {
  let resp;
  try {
    resp = await fetch("swanctl.conf", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ Connection: connection, Gateway: gateway, CustomerGateways: customerGateways }),
      cache: "no-store",
    });
  } catch {
    throw unreachable();
  }
  const text = await resp.text();
  if (!resp.ok) throw new ApiError("RenderFailed", text, "", resp.status);
  return text;
}
