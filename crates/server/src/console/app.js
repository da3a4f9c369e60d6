// vpngw console: a read-mostly view over the public RPC API. Every request is
// signed here with ACS3-HMAC-SHA256 (WebCrypto), exactly like the official SDKs,
// so the server needs no console-specific API or session. The access key lives
// in sessionStorage (this tab only) and never leaves the browser.
"use strict";

const VERSIONS = { vpc: "2016-04-28", sts: "2015-04-01", ram: "2015-05-01" };
const POLL_MS = 3000;
const enc = new TextEncoder();
const $ = (sel) => document.querySelector(sel);

// ---------------------------------------------------------------- signing

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");
const sha256 = async (s) => hex(await crypto.subtle.digest("SHA-256", enc.encode(s)));
async function hmacSha256(key, msg) {
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}
// RFC 3986 unreserved characters stay; everything else is %XX (upper case).
const pct = (s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

class ApiError extends Error {
  constructor(code, message, requestId, status) {
    super(`${code}: ${message}`);
    Object.assign(this, { code, requestId, status });
  }
}

async function call(product, action, params = {}) {
  const s = session();
  if (!s) throw new ApiError("NotSignedIn", "sign in first");
  const query = Object.keys(params).sort().map((k) => `${pct(k)}=${pct(String(params[k]))}`).join("&");
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
  const resp = await fetch("/?" + query, { method: "POST", headers, cache: "no-store" });
  let body;
  try { body = await resp.json(); } catch { throw new ApiError("BadAnswer", `HTTP ${resp.status}`, "", resp.status); }
  if (!resp.ok) throw new ApiError(body.Code, body.Message, body.RequestId, resp.status);
  return body;
}

// ---------------------------------------------------------------- session

function session() {
  try { return JSON.parse(sessionStorage.getItem("vpngw.session")); } catch { return null; }
}
function setSession(s) {
  if (s) sessionStorage.setItem("vpngw.session", JSON.stringify(s));
  else sessionStorage.removeItem("vpngw.session");
}
const region = () => (session() || {}).region || "cn-hangzhou";

// ---------------------------------------------------------------- helpers

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const fmtTime = (ms) => (ms ? new Date(Number(ms)).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC") : "");
function statusClass(status) {
  switch (status) {
    case "ipsec_sa_established": case "active": case "available": case "success": return "s-ok";
    case "ike_sa_established": case "init": case "updating": case "provisioning": return "s-warn";
    case "ipsec_sa_not_established": case "deleting": case "failed": return "s-bad";
    default: return "s-idle";
  }
}
const STATUS_COLORS = { "s-ok": "#1a9c4a", "s-warn": "#d99a00", "s-bad": "#d23f31", "s-idle": "#8a949e" };
const badge = (status) => `<span class="badge ${statusClass(status)}" data-status="${esc(status)}">${esc(status || "—")}</span>`;
const idCell = (id, name, href) => `${href ? `<a href="${href}">${esc(id)}</a>` : esc(id)}${name ? `<span class="sub">${esc(name)}</span>` : ""}`;

// Every page of a Describe* list (PageSize 50).
async function listAll(action, path, params = {}) {
  const out = [];
  for (let page = 1; page <= 40; page++) {
    const body = await call("vpc", action, { RegionId: region(), PageSize: 50, PageNumber: page, ...params });
    const items = path.reduce((o, k) => (o || {})[k], body) || [];
    out.push(...items);
    if (items.length < 50 || out.length >= (body.TotalCount ?? 0)) break;
  }
  return out;
}

function fillTable(id, rows, cols, empty) {
  const tbody = $(`#${id} tbody`);
  tbody.innerHTML = rows.length
    ? rows.map((r) => `<tr data-id="${esc(r.id)}">${cols(r).map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")
    : `<tr class="empty"><td colspan="${$(`#${id} thead tr`).children.length}">${esc(empty)}</td></tr>`;
}

// ---------------------------------------------------------------- overview

async function renderOverview() {
  const [gws, cgws, vcos] = await Promise.all([
    listAll("DescribeVpnGateways", ["VpnGateways", "VpnGateway"]),
    listAll("DescribeCustomerGateways", ["CustomerGateways", "CustomerGateway"]),
    listAll("DescribeVpnConnections", ["VpnConnections", "VpnConnection"]),
  ]);
  fillTable("gateways", gws.map((g) => ({ id: g.VpnGatewayId, ...g })), (g) => [
    idCell(g.VpnGatewayId, g.Name), badge(g.Status), esc(g.InternetIp), esc(g.VpcId), esc(g.Spec), esc(fmtTime(g.CreateTime)),
  ], "No VPN gateways in this region.");
  fillTable("customer-gateways", cgws.map((c) => ({ id: c.CustomerGatewayId, ...c })), (c) => [
    idCell(c.CustomerGatewayId, c.Name), esc(c.IpAddress), esc(c.Asn), esc(fmtTime(c.CreateTime)),
  ], "No customer gateways in this region.");
  fillTable("connections", vcos.map((v) => ({ id: v.VpnConnectionId, ...v })), (v) => [
    idCell(v.VpnConnectionId, v.Name, `#/connection/${encodeURIComponent(v.VpnConnectionId)}`),
    `<span class="status">${badge(v.Status)}</span>`, `<span class="state">${badge(v.State)}</span>`,
    esc(v.VpnGatewayId), esc(v.CustomerGatewayId || tunnelsOf(v).map((t) => t.CustomerGatewayId).join(", ")),
    `${esc(v.LocalSubnet)}<span class="sub">${esc(v.RemoteSubnet)}</span>`,
  ], "No IPsec connections in this region.");
  $("#topology").innerHTML = topology(gws, cgws, vcos);
}

const tunnelsOf = (v) => ((v.TunnelOptionsSpecification || {}).TunnelOptions || []);

// Gateways on the left, customer gateways on the right, one edge per tunnel
// (or per single-tunnel connection) through a dot colored by its Status.
function topology(gws, cgws, vcos) {
  if (!gws.length && !cgws.length) return `<p class="muted">Nothing to draw yet.</p>`;
  const rowH = 52, boxW = 250, boxH = 40, width = 900;
  const leftX = 10, rightX = width - boxW - 10;
  const gy = new Map(gws.map((g, i) => [g.VpnGatewayId, 20 + i * rowH]));
  const cy = new Map(cgws.map((c, i) => [c.CustomerGatewayId, 20 + i * rowH]));
  const edges = [];
  for (const v of vcos) {
    const tunnels = tunnelsOf(v);
    const legs = tunnels.length
      ? tunnels.map((t) => ({ cgw: t.CustomerGatewayId, status: t.Status, label: `tunnel ${t.Role || t.TunnelIndex || ""}` }))
      : [{ cgw: v.CustomerGatewayId, status: v.Status, label: "" }];
    for (const leg of legs) {
      if (!gy.has(v.VpnGatewayId) || !cy.has(leg.cgw)) continue;
      edges.push({ vco: v, ...leg });
    }
  }
  const height = Math.max(gws.length, cgws.length, 1) * rowH + 20;
  const parts = [`<svg id="topology-svg" viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="Topology: VPN gateways, tunnels and customer gateways">`];
  edges.forEach((e, i) => {
    const y1 = gy.get(e.vco.VpnGatewayId) + boxH / 2, y2 = cy.get(e.cgw) + boxH / 2;
    const x1 = leftX + boxW, x2 = rightX, mx = (x1 + x2) / 2, spread = (i % 3 - 1) * 6;
    const color = STATUS_COLORS[statusClass(e.status)];
    const href = `#/connection/${encodeURIComponent(e.vco.VpnConnectionId)}`;
    parts.push(`<a href="${href}" class="edge-link" data-vco="${esc(e.vco.VpnConnectionId)}" data-status="${esc(e.status)}">` +
      `<title>${esc(e.vco.VpnConnectionId)} ${esc(e.label)}: ${esc(e.status)}</title>` +
      `<path class="edge" stroke="${color}" d="M${x1},${y1} C${mx},${y1 + spread} ${mx},${y2 + spread} ${x2},${y2}"/>` +
      `<circle cx="${mx}" cy="${(y1 + y2) / 2 + spread}" r="5" fill="${color}"/></a>`);
  });
  const node = (x, y, id, name, sub, cls) =>
    `<g class="node ${cls}" data-id="${esc(id)}"><rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="4"/>` +
    `<text x="${x + 8}" y="${y + 16}">${esc(name || id)}</text>` +
    `<text class="sub" x="${x + 8}" y="${y + 32}">${esc(sub || "")}</text></g>`;
  gws.forEach((g) => parts.push(node(leftX, gy.get(g.VpnGatewayId), g.VpnGatewayId, g.VpnGatewayId,
    [g.Name, g.InternetIp].filter(Boolean).join(" · "), "gw")));
  cgws.forEach((c) => parts.push(node(rightX, cy.get(c.CustomerGatewayId), c.CustomerGatewayId, c.CustomerGatewayId,
    [c.Name, c.IpAddress].filter(Boolean).join(" · "), "cgw")));
  parts.push("</svg>");
  parts.push(`<div class="legend muted">${["ipsec_sa_established", "ike_sa_established", "ipsec_sa_not_established", "ike_sa_not_established"].map(badge).join("")}</div>`);
  return parts.join("");
}

// ---------------------------------------------------------------- detail

// The order of DescribeVpnConnection's answer in the API reference.
const TOP_FIELDS = ["VpnConnectionId", "Name", "Status", "State", "VpnGatewayId", "CustomerGatewayId", "LocalSubnet",
  "RemoteSubnet", "CreateTime", "EffectImmediately", "EnableDpd", "EnableNatTraversal", "RemoteCaCertificate",
  "AttachType", "NetworkType", "AttachInstanceId", "Spec", "InternetIp", "ZoneNo", "TransitRouterId",
  "TransitRouterName", "CrossAccountAuthorized", "EnableTunnelsBgp", "ResourceGroupId", "TunnelBandwidth"];
const SECTIONS = [["IkeConfig", "IKE configuration"], ["IpsecConfig", "IPsec configuration"],
  ["VcoHealthCheck", "Health check"], ["VpnBgpConfig", "BGP"]];
const SECRET_FIELDS = new Set(["Psk", "AuthKey"]);

function value(k, v) {
  if (v === undefined || v === null || v === "") return `<span class="muted">—</span>`;
  if (k === "Status" || k === "State" || k === "BgpStatus") return badge(v);
  if (k === "CreateTime") return `${esc(fmtTime(v))} <span class="muted">(${esc(v)})</span>`;
  if (SECRET_FIELDS.has(k)) return `<span class="secret" data-secret="${esc(v)}">••••••••<button type="button">show</button></span>`;
  if (typeof v === "object") return `<code>${esc(JSON.stringify(v))}</code>`;
  return esc(v);
}
function dl(obj, order) {
  const keys = order ? [...order.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !order.includes(k))] : Object.keys(obj);
  return `<dl>${keys.filter((k) => typeof obj[k] !== "object" || obj[k] === null).map((k) => `<dt>${esc(k)}</dt><dd data-field="${esc(k)}">${value(k, obj[k])}</dd>`).join("")}</dl>`;
}

async function renderDetail(id) {
  const v = await call("vpc", "DescribeVpnConnection", { RegionId: region(), VpnConnectionId: id });
  $("#detail-title").textContent = `IPsec connection ${v.VpnConnectionId}`;
  const open = new Set([...document.querySelectorAll("#detail-body .secret.open")].map((e) => e.closest("dd").dataset.field));
  const { RequestId: _requestId, ...resource } = v;
  const html = [`<h2>Basic information</h2>`, dl(resource, TOP_FIELDS)];
  for (const [key, title] of SECTIONS) {
    if (v[key]) html.push(`<h2>${title} <span class="muted">${key}</span></h2>`, dl(v[key]));
  }
  const tags = (v.Tags || {}).Tag || [];
  html.push(`<h2>Tags <span class="muted">Tags.Tag</span></h2>`,
    tags.length ? `<dl>${tags.map((t) => `<dt>${esc(t.Key)}</dt><dd>${esc(t.Value)}</dd>`).join("")}</dl>` : `<p class="muted">No tags.</p>`);
  const tunnels = tunnelsOf(v);
  if (tunnels.length) {
    html.push(`<h2>Tunnels <span class="muted">TunnelOptionsSpecification.TunnelOptions</span></h2>`);
    for (const t of tunnels) {
      html.push(`<div class="tunnel" data-tunnel="${esc(t.TunnelId)}"><h3>${esc(t.Role || "")} tunnel ${esc(t.TunnelId)}</h3>`, dl(t));
      for (const [key, title] of [["TunnelIkeConfig", "IKE"], ["TunnelIpsecConfig", "IPsec"], ["TunnelBgpConfig", "BGP"]]) {
        if (t[key]) html.push(`<h3>${title} <span class="muted">${key}</span></h3>`, dl(t[key]));
      }
      html.push(`</div>`);
    }
  }
  $("#detail-body").innerHTML = html.join("");
  for (const f of open) {
    const s = document.querySelector(`#detail-body dd[data-field="${f}"] .secret`);
    if (s) reveal(s);
  }
}
function reveal(span) {
  span.classList.add("open");
  span.textContent = span.dataset.secret;
}
document.addEventListener("click", (e) => {
  const b = e.target.closest(".secret button");
  if (b) reveal(b.parentElement);
});

// ---------------------------------------------------------------- routing and polling

let timer = null;
async function refresh() {
  clearTimeout(timer);
  const route = location.hash.replace(/^#/, "") || "/";
  const m = route.match(/^\/connection\/(.+)$/);
  const errEl = m ? $("#detail-error") : $("#error");
  try {
    if (m) await renderDetail(decodeURIComponent(m[1]));
    else await renderOverview();
    errEl.textContent = "";
    (m ? $("#detail-updated") : $("#updated")).textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    errEl.textContent = e.requestId ? `${e.message} (RequestId ${e.requestId})` : e.message;
    if (e.code && e.code.startsWith("InvalidAccessKeyId")) return logout();
  }
  timer = setTimeout(() => { if (!document.hidden) refresh(); else timer = setTimeout(refresh, POLL_MS); }, POLL_MS);
}

function show() {
  const s = session();
  $("#login").hidden = !!s;
  $("#nav").hidden = !s;
  const detail = /^#\/connection\//.test(location.hash);
  $("#overview").hidden = !s || detail;
  $("#detail").hidden = !s || !detail;
  if (s) {
    $("#who").textContent = s.arn || s.id;
    $("#who").title = `AccessKeyId ${s.id}`;
    refresh();
  } else {
    clearTimeout(timer);
  }
}

function logout() {
  setSession(null);
  show();
}

async function loadRegions() {
  const sel = $("#region");
  try {
    const body = await call("vpc", "DescribeRegions", { RegionId: region() });
    const regions = (body.Regions || {}).Region || [];
    sel.innerHTML = regions.map((r) => `<option value="${esc(r.RegionId)}">${esc(r.RegionId)}</option>`).join("");
  } catch {
    sel.innerHTML = `<option>${esc(region())}</option>`;
  }
  sel.value = region();
}

$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const s = { id: f.get("id").trim(), secret: f.get("secret"), token: f.get("token").trim() || null, region: f.get("region").trim() };
  if (!window.crypto || !crypto.subtle) {
    $("#login-error").textContent = "This page needs a secure context (https, or http://localhost / 127.0.0.1) for WebCrypto.";
    return;
  }
  setSession(s);
  try {
    // Any valid identity may ask who it is, whatever its RAM policies allow.
    const me = await call("sts", "GetCallerIdentity", {});
    setSession({ ...s, arn: me.Arn || s.id });
  } catch (err) {
    setSession(null);
    $("#login-error").textContent = err.message;
    return;
  }
  $("#login-error").textContent = "";
  e.target.reset();
  await loadRegions();
  show();
});
$("#region").addEventListener("change", (e) => {
  setSession({ ...session(), region: e.target.value });
  refresh();
});
$("#logout").addEventListener("click", logout);
window.addEventListener("hashchange", show);
document.addEventListener("visibilitychange", () => { if (!document.hidden && session()) refresh(); });

if (session()) loadRegions();
show();
