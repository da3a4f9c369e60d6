// vpngw console: routing, polling and sign-in. Pages live in pages.js;
// calls are signed in api.js; nothing here talks to the server otherwise.

import { ApiError, call, region, session, setSession } from "./api.js";
import * as pages from "./pages.js";
import * as remote from "./remote-access.js";
import { $, esc, reveal, showError } from "./ui.js";

const POLL_MS = 3000;

// `#/…` → the page to show.
function route() {
  const [path, q = ""] = (location.hash.replace(/^#/, "") || "/").split("?");
  const query = new URLSearchParams(q);
  const m = (re) => path.match(re);
  let r;
  if (path === "/") return pages.overview;
  if (path === "/gateways") return pages.gateways;
  if (path === "/customer-gateways") return pages.customerGateways;
  if (path === "/connections") return pages.connections;
  if (path === "/remote-access") return remote.remoteAccess;
  if (path === "/new/gateway") return pages.newGateway;
  if (path === "/new/customer-gateway") return pages.newCustomerGateway;
  if (path === "/new/connection") return pages.newConnection(query);
  if (path === "/new/ssl-vpn-server") return remote.newSslVpnServer;
  if (path === "/new/ssl-vpn-client-cert") return remote.newSslVpnClientCert;
  if (path === "/new/ipsec-server") return remote.newIpsecServer;
  if ((r = m(/^\/gateway\/([^/]+)\/edit$/))) return pages.editGateway(decodeURIComponent(r[1]));
  if ((r = m(/^\/gateway\/([^/]+)$/))) return pages.gatewayDetail(decodeURIComponent(r[1]));
  if ((r = m(/^\/customer-gateway\/([^/]+)\/edit$/))) return pages.editCustomerGateway(decodeURIComponent(r[1]));
  if ((r = m(/^\/customer-gateway\/([^/]+)$/))) return pages.customerGatewayDetail(decodeURIComponent(r[1]));
  if ((r = m(/^\/connection\/([^/]+)\/edit$/))) return pages.editConnection(decodeURIComponent(r[1]));
  if ((r = m(/^\/connection\/([^/]+)$/))) return pages.connectionDetail(decodeURIComponent(r[1]));
  if ((r = m(/^\/ipsec-server\/([^/]+)\/edit$/))) return remote.editIpsecServer(decodeURIComponent(r[1]));
  if ((r = m(/^\/ipsec-server\/([^/]+)$/))) return remote.ipsecServerDetail(decodeURIComponent(r[1]));
  return { title: () => "Not found", poll: false, load: async (root) => { root.innerHTML = `<h1>No such page</h1><p><a href="#/">Overview</a></p>`; } };
}

let timer = null;
let current = null; // { page, hash }: what is on screen

// Shows the page of the current hash. A new page starts empty: nothing of
// the previous one (its title, its details) stays above an error.
async function render({ poll = false } = {}) {
  clearTimeout(timer);
  const hash = location.hash;
  if (!current || current.hash !== hash) {
    current = { page: route(), hash };
    $("#page").innerHTML = "";
    $("#page-error").innerHTML = "";
    $("#updated").textContent = "";
    document.title = `${current.page.title()} · vpngw console`;
    for (const a of document.querySelectorAll("#nav a[data-nav]")) {
      a.classList.toggle("current", hash.startsWith(a.getAttribute("href")) && (a.getAttribute("href") !== "#/" || hash === "#/" || hash === ""));
    }
  } else if (!current.page.poll) {
    return;
  }
  const { page } = current;
  try {
    await page.load($("#page"), { poll });
    if (current.hash !== hash) return;
    $("#page-error").innerHTML = "";
    $("#updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    if (current.hash !== hash) return;
    if (!poll || !$("#page").children.length) $("#page").innerHTML = `<h1 id="detail-title">${esc(page.title())}</h1>`;
    showError($("#page-error"), e);
    if (e.code && e.code.startsWith("InvalidAccessKeyId")) return logout();
  }
  if (page.poll) timer = setTimeout(() => { if (!document.hidden) render({ poll: true }); }, POLL_MS);
}

function show() {
  const s = session();
  $("#login").hidden = !!s;
  $("#nav").hidden = !s;
  $("#app").hidden = !s;
  if (s) {
    $("#who").textContent = s.arn || s.id;
    $("#who").title = `AccessKeyId ${s.id}`;
    render();
  } else {
    clearTimeout(timer);
    current = null;
    $("#page").innerHTML = "";
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
    showError($("#login-error"), new ApiError("InsecureContext", "This page needs a secure context (https, or http://localhost / 127.0.0.1) for WebCrypto."));
    return;
  }
  setSession(s);
  try {
    // Any valid identity may ask who it is, whatever its RAM policies allow.
    const me = await call("sts", "GetCallerIdentity", {});
    setSession({ ...s, arn: me.Arn || s.id });
  } catch (err) {
    setSession(null);
    showError($("#login-error"), err);
    return;
  }
  $("#login-error").innerHTML = "";
  e.target.reset();
  await loadRegions();
  show();
});
$("#region").addEventListener("change", (e) => {
  setSession({ ...session(), region: e.target.value });
  current = null;
  render();
});
$("#logout").addEventListener("click", logout);
document.addEventListener("click", (e) => {
  const b = e.target.closest(".secret button");
  if (b) reveal(b.parentElement);
});
window.addEventListener("hashchange", () => { if (session()) render(); });
document.addEventListener("visibilitychange", () => { if (!document.hidden && session()) render({ poll: true }); });

if (session()) loadRegions();
show();
