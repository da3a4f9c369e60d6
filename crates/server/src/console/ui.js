// Small rendering helpers shared by the pages: escaping, badges, ids,
// definition lists, tables and error messages.

export const $ = (sel, root = document) => root.querySelector(sel);
export const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
export const fmtTime = (ms) => (ms ? new Date(Number(ms)).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC") : "");

export function statusClass(status) {
  switch (status) {
    case "ipsec_sa_established": case "active": case "available": case "success": case "Established": case "normal": return "s-ok";
    case "ike_sa_established": case "init": case "updating": case "provisioning": case "expiring-soon": return "s-warn";
    case "ipsec_sa_not_established": case "deleting": case "failed": case "false": case "expired": return "s-bad";
    default: return "s-idle";
  }
}
export const STATUS_COLORS = { "s-ok": "#1a9c4a", "s-warn": "#d99a00", "s-bad": "#d23f31", "s-idle": "#8a949e" };
export const badge = (status) => `<span class="badge ${statusClass(status)}" data-status="${esc(status)}">${esc(status || "—")}</span>`;

// An id never wraps in the middle: it is one unbreakable token.
export const idText = (id) => `<code class="id">${esc(id)}</code>`;
// Names first, ids second.
export const nameAndId = (id, name, href) => {
  const title = name ? `<span class="name">${esc(name)}</span>` : "";
  const ident = href ? `<a href="${href}">${idText(id)}</a>` : idText(id);
  return name ? `${href ? `<a href="${href}">${title}</a>` : title}<span class="sub">${idText(id)}</span>` : ident;
};

// What a person should read for an error: plain words for the common
// sign-in failures (the raw SignatureDoesNotMatch message carries the
// server's string to sign, of no use here), the API's own message otherwise.
const FRIENDLY = {
  SignatureDoesNotMatch: "The AccessKey Secret does not match this AccessKey ID.",
  "InvalidAccessKeyId.NotFound": "There is no such AccessKey ID on this server.",
  "InvalidAccessKeyId.Inactive": "This AccessKey is disabled.",
  "InvalidSecurityToken.Expired": "The security token has expired.",
  "InvalidSecurityToken.MismatchWithAccessKey": "The security token does not belong to this AccessKey ID.",
  "InvalidSecurityToken.Malformed": "The security token is not valid.",
};
export function errorHtml(e) {
  if (!e) return "";
  if (!e.code) return `<span class="msg">${esc(e.message || String(e))}</span>`;
  const text = FRIENDLY[e.code] || e.apiMessage || e.message;
  const rid = e.requestId ? ` <span class="muted">RequestId <code class="id">${esc(e.requestId)}</code></span>` : "";
  return `<strong class="code">${esc(e.code)}</strong> <span class="msg">${esc(text)}</span>${rid}`;
}
export function showError(el, e) {
  el.innerHTML = errorHtml(e);
}

export function value(k, v, secrets = new Set()) {
  if (v === undefined || v === null || v === "") return `<span class="muted">—</span>`;
  if (k === "Status" || k === "State" || k === "BgpStatus") return badge(v);
  if (k === "CreateTime" || k === "EndTime") return `${esc(fmtTime(v))} <span class="muted">(${esc(v)})</span>`;
  if (secrets.has(k)) return `<span class="secret" data-secret="${esc(v)}">••••••••<button type="button">show</button></span>`;
  if (typeof v === "object") return `<code>${esc(JSON.stringify(v))}</code>`;
  if (/Id$/.test(k) || /Ip$/.test(k)) return idText(v);
  return esc(v);
}

// A definition list of an object's scalar fields, in `order` first.
export function dl(obj, order = [], secrets) {
  const keys = [...order.filter((k) => k in obj), ...Object.keys(obj).filter((k) => !order.includes(k))];
  return `<dl>${keys.filter((k) => typeof obj[k] !== "object" || obj[k] === null)
    .map((k) => `<dt>${esc(k)}</dt><dd data-field="${esc(k)}">${value(k, obj[k], secrets)}</dd>`).join("")}</dl>`;
}

export function table(id, head, rows, empty) {
  const body = rows.length
    ? rows.map((r) => `<tr data-id="${esc(r.id)}">${r.cells.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("")
    : `<tr class="empty"><td colspan="${head.length}">${esc(empty)}</td></tr>`;
  return `<div class="table-wrap"><table id="${id}"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table></div>`;
}

export function reveal(span) {
  span.classList.add("open");
  span.textContent = span.dataset.secret;
}

// The fields whose secret is shown in `root`, to show them again after a
// refresh redraws the page (revealAgain).
export const revealed = (root) => new Set([...root.querySelectorAll(".secret.open")].map((e) => e.closest("dd").dataset.field));
export function revealAgain(root, fields) {
  for (const f of fields) {
    const s = root.querySelector(`dd[data-field="${f}"] .secret`);
    if (s) reveal(s);
  }
}

// Starts a browser download of `text` as `name`.
export function download(name, text, type = "text/plain") {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(new Blob([text], { type }));
  a.download = name;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 0);
}
