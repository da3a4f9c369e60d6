// Drives the vpngw console in headless Chromium and checks what a person would see.
// Input (environment): VPNGW_URL (http://127.0.0.1:PORT), VPNGW_AK_ID, VPNGW_AK_SECRET,
// VPNGW_VCO (a single-tunnel connection, with a health check), VPNGW_VCO_STATUS (its Status),
// VPNGW_GW, VPNGW_CGW (its gateways; the customer gateway has a very long name),
// VPNGW_DUAL (a dual-tunnel connection), VPNGW_DUAL_GW, VPNGW_CGW_IP (a customer gateway
// address for the create flow), VPNGW_SCREENSHOTS (optional directory for PNGs),
// VPNGW_SSL_SERVER, VPNGW_SSL_CERT (an SSL-VPN server and one of its certificates),
// VPNGW_SSL_POOL (that server's ClientIpPool), VPNGW_IPSEC_SERVER, VPNGW_IPSEC_GW (an IPsec server
// on the same gateway, named console-iss, and that gateway),
// VPNGW_RENAME_FILE (a file the Python side writes the new name into after READY, to check
// live updates), VPNGW_DOWNLOADS (a directory for the downloaded peer configurations),
// VPNGW_NEW_VPC (a VPC id for the gateway create flow), VPNGW_OTHER_REGION, VPNGW_OTHER_GW (a
// region other than cn-hangzhou and a gateway there, for the region switch).
// Prints one JSON line of findings; exits non-zero on the first failed check.
import { chromium } from "playwright-core";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const url = env("VPNGW_URL");
const vco = env("VPNGW_VCO");
const dual = env("VPNGW_DUAL");
const shots = process.env.VPNGW_SCREENSHOTS;
const timeout = 15000;
const DESKTOP = { width: 1280, height: 1000 };
const NARROW = { width: 760, height: 1000 };

const check = (ok, what) => { if (!ok) throw new Error(what); };

// Elements wider than their container: anything sticking out of its parent (outside the
// scroll containers made for wide content: tables, the topology card, logs), any box whose
// content is wider than the box, a page that scrolls sideways, and topology text outside
// its node's box.
function overflows() {
  const bad = [];
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : ""} "${(el.textContent || "").trim().slice(0, 40)}"`;
  const scroller = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll" || o === "hidden") return p;
    }
    return null;
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!el.getClientRects().length || el.closest("svg") || el.tagName === "OPTION") continue;
    if (scroller(el)) continue;
    const cs = getComputedStyle(el);
    const r = el.getBoundingClientRect();
    const pr = el.parentElement.getBoundingClientRect();
    if (r.right > pr.right + 1 || r.left < pr.left - 1) bad.push(`${describe(el)} sticks out of ${describe(el.parentElement)} (${Math.round(r.left)}..${Math.round(r.right)} in ${Math.round(pr.left)}..${Math.round(pr.right)})`);
    if (cs.display !== "inline" && cs.overflowX === "visible" && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
      bad.push(`${describe(el)}: content ${el.scrollWidth}px in ${el.clientWidth}px`);
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) bad.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${window.innerWidth})`);
  for (const g of document.querySelectorAll("#topology-svg g.node")) {
    const box = g.querySelector("rect").getBBox();
    for (const t of g.querySelectorAll("text")) {
      const b = t.getBBox();
      if (b.x + b.width > box.x + box.width + 1) bad.push(`topology text "${t.textContent}" leaves its box`);
    }
  }
  const svg = document.querySelector("#topology-svg");
  if (svg && svg.getBoundingClientRect().width > svg.parentElement.clientWidth + 1) bad.push("the topology is wider than its card");
  return bad;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const findings = { pages: {}, overflow: {} };
try {
  const context = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
  // VPNGW_CONSOLE_SRC (development only): the page's files come from that directory instead of
  // the binary, so that a change to them is tried without rebuilding the server.
  const devSrc = process.env.VPNGW_CONSOLE_SRC;
  if (devSrc) {
    const types = { html: "text/html", js: "text/javascript", css: "text/css" };
    await context.route(/\/console\/([a-z-]*\.?[a-z]*)$/, async (route) => {
      const file = route.request().url().split("/console/")[1] || "index.html";
      const path = join(devSrc, file);
      if (route.request().method() !== "GET" || !existsSync(path)) return route.continue();
      const served = await route.fetch();
      await route.fulfill({ response: served, status: 200, body: readFileSync(path, "utf8"), headers: { ...served.headers(), "content-type": types[file.split(".").pop()] } });
    });
  }
  const page = await context.newPage();
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("dialog", (d) => d.accept());

  // Every page at both widths: nothing wider than its container.
  const layout = async (name) => {
    for (const [label, size] of [["desktop", DESKTOP], ["760", NARROW]]) {
      await page.setViewportSize(size);
      await page.waitForTimeout(50);
      const bad = await page.evaluate(overflows);
      findings.overflow[`${name}@${label}`] = bad;
      check(bad.length === 0, `${name} at ${label}: ${bad.join("; ")}`);
      if (shots) await page.screenshot({ path: `${shots}/${name}-${label}.png`, fullPage: true });
    }
    await page.setViewportSize(DESKTOP);
  };

  // ---- before sign-in: only the sign-in form (regression: the nav bar showed).
  await page.goto(`${url}/console/`);
  await page.waitForSelector("#login:not([hidden])", { timeout });
  findings.navBeforeSignIn = await page.isVisible("#nav");
  check(!findings.navBeforeSignIn, "the nav bar shows before sign-in");

  // ---- a wrong secret: the API's code in plain words, no raw string-to-sign, nothing overflows.
  await page.fill("input[name=id]", env("VPNGW_AK_ID"));
  await page.fill("input[name=secret]", "not-the-secret");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.includes("SignatureDoesNotMatch"), null, { timeout });
  findings.badLogin = await page.textContent("#login-error");
  check(!/string to sign/i.test(findings.badLogin), `raw signature details shown: ${findings.badLogin}`);
  await layout("login-error");

  // ---- the server down: a sentence, not "Failed to fetch".
  await page.route("**/?*", (route) => route.abort("connectionrefused"));
  await page.fill("input[name=secret]", env("VPNGW_AK_SECRET"));
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.includes("Cannot reach"), null, { timeout });
  findings.serverDown = await page.textContent("#login-error");
  check(!findings.serverDown.includes("Failed to fetch"), findings.serverDown);
  await page.unroute("**/?*");

  // ---- sign in.
  await page.fill("input[name=id]", env("VPNGW_AK_ID"));
  await page.fill("input[name=secret]", env("VPNGW_AK_SECRET"));
  await page.click("button[type=submit]");
  const row = `#connections tr[data-id="${vco}"]`;
  await page.waitForSelector(row, { timeout });
  findings.rowStatus = await page.getAttribute(`${row} .status .badge`, "data-status");
  check(findings.rowStatus === env("VPNGW_VCO_STATUS"), `row Status ${findings.rowStatus}`);
  findings.rowState = await page.getAttribute(`${row} .state .badge`, "data-status");
  await page.waitForSelector(`#gateways tr[data-id="${env("VPNGW_GW")}"]`, { timeout });
  await page.waitForSelector(`#customer-gateways tr[data-id="${env("VPNGW_CGW")}"]`, { timeout });

  // ---- the topology: one line per tunnel, labelled; names first; a legend for grey.
  const edge = `#topology-svg a[data-vco="${vco}"]`;
  await page.waitForSelector(edge, { timeout, state: "attached" });
  findings.edgeStatus = await page.getAttribute(edge, "data-status");
  findings.edgeColor = await page.getAttribute(`${edge} path`, "stroke");
  findings.edgeLabel = await page.textContent(`${edge} text.edge-label`);
  findings.dualEdges = await page.$$eval(`#topology-svg a[data-vco="${dual}"]`, (es) => es.map((e) => ({ role: e.dataset.role, tunnel: e.dataset.tunnel, label: e.querySelector("text").textContent })));
  findings.nodes = await page.$$eval("#topology-svg g.node", (ns) => ns.map((n) => ({ id: n.dataset.id, name: n.querySelector("text.name").textContent, sub: n.querySelector("text.sub").textContent })));
  findings.legend = await page.textContent(".legend");
  await layout("overview");

  // ---- every list page.
  for (const [hash, table] of [["#/gateways", "#gateways"], ["#/customer-gateways", "#customer-gateways"], ["#/connections", "#connections"]]) {
    await page.goto(`${url}/console/${hash}`);
    await page.waitForSelector(`${table} tbody tr`, { timeout });
    findings.pages[hash] = await page.$$eval(`${table} tbody tr`, (rs) => rs.length);
    await layout(hash.slice(2));
  }
  // ---- remote access: the SSL-VPN server and its certificates; create one, download its
  // client configuration, delete it.
  const vss = env("VPNGW_SSL_SERVER");
  await page.goto(`${url}/console/#/remote-access`);
  await page.waitForSelector(`#ssl-servers tr[data-id="${vss}"]`, { timeout });
  await page.waitForSelector(`#ssl-certs tr[data-id="${env("VPNGW_SSL_CERT")}"]`, { timeout });
  findings.pages.remoteAccess = await page.textContent("#page");
  await layout("remote-access");
  await page.click("#create-ssl-cert");
  await page.waitForSelector("#ssl-cert-form", { timeout });
  await layout("new-ssl-cert");
  await page.click("#ssl-cert-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#ssl-cert-form .form-error").textContent.length > 0, null, { timeout });
  findings.sslCertError = await page.textContent("#ssl-cert-form .form-error");
  await page.selectOption("#ssl-cert-form [name=SslVpnServerId]", vss);
  await page.fill("#ssl-cert-form [name=Name]", "console-cert");
  await page.click("#ssl-cert-form button[type=submit]");
  await page.waitForURL(/#\/remote-access$/, { timeout });
  const certRow = await page.waitForSelector(`#ssl-certs tr:has-text("console-cert")`, { timeout });
  const newCert = await certRow.getAttribute("data-id");
  findings.sslCert = newCert;
  await page.goto(`${url}/console/#/new/ssl-vpn-server`);
  await page.waitForSelector("#ssl-server-form", { timeout });
  findings.sslServerGateways = await page.$$eval("#ssl-server-form [name=VpnGatewayId] option", (os) => os.map((o) => o.value).filter(Boolean));
  await layout("new-ssl-server");

  // ---- IPsec servers: listed, the detail (key masked, clients against the shared quota, logs),
  // modified with the API's message inline first, deleted, and one made in the form.
  const iss = env("VPNGW_IPSEC_SERVER");
  const issForm = "#ipsec-server-form";
  const fieldError = (param) => page.textContent(`${issForm} label[data-param="${param}"] .field-error`);
  const submitWithError = async (param) => {
    await page.click(`${issForm} button[type=submit]`);
    await page.waitForFunction((f) => document.querySelector(f).textContent.length > 0, `${issForm} .form-error`, { timeout });
    return fieldError(param);
  };
  await page.goto(`${url}/console/#/remote-access`);
  await page.waitForSelector(`#ipsec-servers tr[data-id="${iss}"]`, { timeout });
  findings.ipsecRow = await page.textContent(`#ipsec-servers tr[data-id="${iss}"]`);
  await page.click(`#ipsec-servers tr[data-id="${iss}"] a`);
  await page.waitForSelector(`#page dd[data-field="IpsecServerId"]`, { timeout });
  findings.ipsecDetail = {
    title: await page.textContent("#detail-title"),
    online: await page.textContent("#online"),
    psk: await page.textContent(`#page dd[data-field="Psk"]`),
    ike: await page.textContent(`#page dd[data-field="IkeVersion"]`),
    logs: await page.textContent("#logs"),
  };
  await layout("ipsec-server");
  await page.click("#edit");
  await page.waitForSelector(issForm, { timeout });
  await layout("edit-ipsec-server");
  const pool = await page.inputValue(`${issForm} [name=ClientIpPool]`);
  await page.fill(`${issForm} [name=ClientIpPool]`, "10.100.0.0/30");
  findings.ipsecEditError = await submitWithError("ClientIpPool");
  await page.fill(`${issForm} [name=ClientIpPool]`, pool);
  await page.fill(`${issForm} [name=IpsecServerName]`, "console-iss-renamed");
  await page.click(`${issForm} button[type=submit]`);
  await page.waitForURL(/#\/ipsec-server\/[^/]+$/, { timeout });
  await page.waitForFunction(() => document.querySelector("#detail-title")?.textContent.includes("console-iss-renamed"), null, { timeout });
  await page.click("#delete");
  await page.waitForURL(/#\/remote-access$/, { timeout });
  await page.waitForSelector("#ipsec-servers", { timeout });
  await page.waitForFunction((id) => !document.querySelector(`#ipsec-servers tr[data-id="${id}"]`), iss, { timeout });
  findings.ipsecGone = true;
  await page.click("#create-ipsec-server");
  await page.waitForSelector(issForm, { timeout });
  await layout("new-ipsec-server");
  findings.ipsecGateways = await page.$$eval(`${issForm} [name=VpnGatewayId] option`, (os) => os.map((o) => o.value).filter(Boolean));
  await page.selectOption(`${issForm} [name=VpnGatewayId]`, env("VPNGW_IPSEC_GW"));
  await page.fill(`${issForm} [name=IpSecServerName]`, "console-made-iss");
  await page.fill(`${issForm} [name=LocalSubnet]`, "10.0.0.0/24");
  await page.fill(`${issForm} [name=ClientIpPool]`, env("VPNGW_SSL_POOL"));
  findings.ipsecCreateError = await submitWithError("ClientIpPool");
  await page.fill(`${issForm} [name=ClientIpPool]`, "10.101.0.0/24");
  await page.fill(`${issForm} [name=Psk]`, "console-made-key");
  await page.click(`${issForm} button[type=submit]`);
  await page.waitForURL(/#\/ipsec-server\/iss-[^/]+$/, { timeout });
  await page.waitForSelector(`#page dd[data-field="IpsecServerId"]`, { timeout });
  findings.createdIss = {
    id: (await page.textContent(`#page dd[data-field="IpsecServerId"]`)).trim(),
    title: await page.textContent("#detail-title"),
  };
  await page.goto(`${url}/console/#/remote-access`);
  await page.waitForSelector(`#ssl-certs tr[data-id="${newCert}"]`, { timeout });
  await page.goto(`${url}/console/#/gateway/${env("VPNGW_GW")}`);
  await page.waitForSelector(`#page dd[data-field="VpnGatewayId"]`, { timeout });
  findings.pages.gateway = await page.textContent("#detail-title");
  await layout("gateway");
  await page.goto(`${url}/console/#/customer-gateway/${env("VPNGW_CGW")}`);
  await page.waitForSelector(`#page dd[data-field="CustomerGatewayId"]`, { timeout });
  findings.pages.customerGateway = await page.textContent("#detail-title");
  await layout("customer-gateway");

  // ---- the dual-tunnel detail: its tunnels side by side, one column at 760 px.
  await page.goto(`${url}/console/#/connection/${dual}`);
  await page.waitForSelector("#page .tunnel", { timeout });
  const boxes = async () => page.$$eval("#page .tunnel", (ts) => ts.map((t) => { const r = t.getBoundingClientRect(); return { x: Math.round(r.x), y: Math.round(r.y), h: Math.round(r.height) }; }));
  findings.dualDesktop = await boxes();
  check(findings.dualDesktop.length === 2 && findings.dualDesktop[0].y === findings.dualDesktop[1].y && findings.dualDesktop[0].x < findings.dualDesktop[1].x, `tunnels not side by side: ${JSON.stringify(findings.dualDesktop)}`);
  findings.dualState = await page.textContent("#state");
  await layout("dual-detail");
  await page.setViewportSize(NARROW);
  findings.dualNarrow = await boxes();
  await page.setViewportSize(DESKTOP);

  // ---- the single-tunnel detail, live: renamed through the SDK while open.
  await page.goto(`${url}/console/#/connection/${vco}`);
  await page.waitForSelector(`#page dd[data-field="VpnConnectionId"]`, { timeout });
  findings.detailTitle = await page.textContent("#detail-title");
  findings.detailHeadings = await page.$$eval("#page h2", (hs) => hs.map((h) => h.textContent));
  findings.detailStatus = await page.getAttribute(`#page dd[data-field="Status"] .badge`, "data-status");
  findings.state = await page.textContent("#state");
  findings.pskMasked = await page.textContent(`#page dd[data-field="Psk"]`);
  await page.click(`#page dd[data-field="Psk"] button`);
  findings.pskShown = await page.textContent(`#page dd[data-field="Psk"]`);
  findings.logsBefore = await page.textContent("#logs");
  await layout("detail");
  const renameFile = env("VPNGW_RENAME_FILE");
  process.stdout.write("READY\n");
  const deadline = Date.now() + timeout;
  while (!existsSync(renameFile) || !readFileSync(renameFile, "utf8").trim()) {
    check(Date.now() < deadline, "no rename arrived");
    await new Promise((r) => setTimeout(r, 100));
  }
  const name = readFileSync(renameFile, "utf8").trim();
  await page.waitForFunction((n) => document.querySelector("#detail-title")?.textContent.includes(n), name, { timeout });
  await page.waitForFunction((n) => document.querySelector("#logs")?.textContent.includes(n), name, { timeout });
  findings.liveName = name;
  findings.pskStillShown = await page.textContent(`#page dd[data-field="Psk"]`);

  // ---- peer configuration downloads: the API's JSON and a swanctl.conf.
  const grab = async (button) => {
    const [dl] = await Promise.all([page.waitForEvent("download", { timeout }), page.click(button)]);
    const path = `${env("VPNGW_DOWNLOADS")}/${dl.suggestedFilename()}`;
    await dl.saveAs(path);
    return { name: dl.suggestedFilename(), text: readFileSync(path, "utf8") };
  };
  findings.peerJson = await grab("#download-config");
  findings.swanctl = await grab("#download-swanctl");
  await page.goto(`${url}/console/#/remote-access`);
  findings.ovpn = await grab(`[data-download-ovpn="${findings.sslCert}"]`);
  await page.click(`[data-delete-cert="${findings.sslCert}"]`);
  await page.waitForFunction((id) => !document.querySelector(`#ssl-certs tr[data-id="${id}"]`), findings.sslCert, { timeout });
  findings.sslCertGone = true;

  // ---- a missing connection after a real one: the error alone (regression: it showed above
  // the previous connection's title and details).
  await page.goto(`${url}/console/#/connection/vco-doesnotexist000000000`);
  await page.waitForFunction(() => document.querySelector("#page-error").textContent.includes("NotFound"), null, { timeout });
  findings.missing = {
    error: await page.textContent("#page-error"),
    title: await page.textContent("#page h1"),
    details: await page.$$eval("#page dd", (ds) => ds.length),
  };
  check(findings.missing.details === 0 && !findings.missing.title.includes(vco), JSON.stringify(findings.missing));
  await layout("missing");

  // ---- create flows, with the API's validation messages inline.
  await page.goto(`${url}/console/#/new/customer-gateway`);
  await page.waitForSelector("#cgw-form", { timeout });
  await layout("new-customer-gateway");
  await page.fill("#cgw-form [name=IpAddress]", "300.1.2.3");
  await page.fill("#cgw-form [name=Name]", "made-in-the-console");
  await page.click("#cgw-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector('#cgw-form label[data-param="IpAddress"] .field-error').textContent.length > 0, null, { timeout });
  findings.cgwInlineError = await page.textContent('#cgw-form label[data-param="IpAddress"] .field-error');
  await layout("new-customer-gateway-error");
  await page.fill("#cgw-form [name=IpAddress]", env("VPNGW_CGW_IP"));
  await page.click("#cgw-form button[type=submit]");
  await page.waitForURL(/#\/customer-gateway\/cgw-/, { timeout });
  const newCgw = decodeURIComponent(page.url().split("/").pop());
  findings.createdCgw = newCgw;

  await page.goto(`${url}/console/#/new/connection?gateway=${env("VPNGW_GW")}`);
  await page.waitForSelector("#connection-form", { timeout });
  findings.singleFormShown = await page.isVisible("#connection-form #single");
  await layout("new-connection");
  await page.selectOption("#connection-form [name=CustomerGatewayId]", newCgw);
  await page.fill("#connection-form [name=Name]", "console-made");
  await page.fill("#connection-form [name=LocalSubnet]", "10.99.0.0/33");
  await page.fill("#connection-form [name=RemoteSubnet]", "192.168.99.0/24");
  await page.click("#connection-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector('#connection-form label[data-param="LocalSubnet"] .field-error').textContent.length > 0, null, { timeout });
  findings.vcoInlineError = await page.textContent('#connection-form label[data-param="LocalSubnet"] .field-error');
  await page.fill("#connection-form [name=LocalSubnet]", "10.99.0.0/16");
  await page.click("#connection-form button[type=submit]");
  await page.waitForURL(/#\/connection\/vco-/, { timeout });
  const newVco = decodeURIComponent(page.url().split("/").pop());
  await page.waitForSelector(`#page dd[data-field="VpnConnectionId"]`, { timeout });
  findings.createdVco = { id: newVco, name: await page.textContent(`#page dd[data-field="Name"]`) };

  // Modify it, then delete it and its customer gateway.
  await page.click("#edit");
  await page.waitForSelector("#connection-form", { timeout });
  await layout("edit-connection");
  await page.fill("#connection-form [name=Name]", "console-renamed");
  await page.click("#connection-form button[type=submit]");
  await page.waitForURL(new RegExp(`#/connection/${newVco}$`), { timeout });
  await page.waitForFunction(() => document.querySelector('#page dd[data-field="Name"]')?.textContent === "console-renamed", null, { timeout });
  await page.click("#delete");
  await page.waitForURL(/#\/connections$/, { timeout });
  await page.waitForSelector("#connections tbody tr", { timeout });
  findings.vcoGone = !(await page.$(`#connections tr[data-id="${newVco}"]`));
  await page.goto(`${url}/console/#/customer-gateway/${newCgw}`);
  await page.waitForSelector("#delete", { timeout });
  // The connection may still be deleting: the API says so; try until it is gone.
  for (let i = 0; i < 50 && !page.url().endsWith("#/customer-gateways"); i++) {
    await page.click("#delete");
    await page.waitForTimeout(200);
  }
  await page.waitForURL(/#\/customer-gateways$/, { timeout });
  await page.waitForSelector("#customer-gateways tbody tr", { timeout });
  findings.cgwGone = !(await page.$(`#customer-gateways tr[data-id="${newCgw}"]`));

  // ---- a VPN gateway created and deleted through the console: the API's message inline
  // first (no VpcId), then made, shown, and deleted once it is active.
  await page.goto(`${url}/console/#/new/gateway`);
  await page.waitForSelector("#gateway-form", { timeout });
  await page.fill("#gateway-form [name=Name]", "console-gateway-made");
  await page.click("#gateway-form button[type=submit]");
  await page.waitForFunction(() => document.querySelector('#gateway-form label[data-param="VpcId"] .field-error').textContent.length > 0, null, { timeout });
  findings.gwInlineError = await page.textContent('#gateway-form label[data-param="VpcId"] .field-error');
  await layout("new-gateway-error");
  await page.fill("#gateway-form [name=VpcId]", env("VPNGW_NEW_VPC"));
  await page.click("#gateway-form button[type=submit]");
  await page.waitForURL(/#\/gateway\/vpn-/, { timeout });
  const newGw = decodeURIComponent(page.url().split("/").pop());
  await page.waitForSelector(`#page dd[data-field="VpnGatewayId"]`, { timeout });
  findings.createdGw = { id: newGw, name: await page.textContent(`#page dd[data-field="Name"]`) };
  // The page polls: it shows the gateway becoming active.
  await page.waitForFunction(() => document.querySelector('#page dd[data-field="Status"] .badge')?.dataset.status === "active", null, { timeout });
  await page.click("#delete");
  await page.waitForURL(/#\/gateways$/, { timeout });
  await page.waitForSelector("#gateways tbody tr", { timeout });
  findings.gwGone = !(await page.$(`#gateways tr[data-id="${newGw}"]`));

  // ---- switching the region: the lists show that region's resources only; the choice
  // survives a reload; and back.
  const otherRegion = env("VPNGW_OTHER_REGION");
  const otherGw = env("VPNGW_OTHER_GW");
  const rows = () => page.$$eval("#gateways tbody tr[data-id]", (rs) => rs.map((r) => r.dataset.id));
  await page.waitForSelector(`#gateways tr[data-id="${env("VPNGW_GW")}"]`, { timeout });
  findings.regions = await page.$$eval("#region option", (os) => os.map((o) => o.value));
  await page.selectOption("#region", otherRegion);
  await page.waitForSelector(`#gateways tr[data-id="${otherGw}"]`, { timeout });
  findings.otherRegionRows = await rows();
  await page.reload();
  await page.waitForSelector(`#gateways tr[data-id="${otherGw}"]`, { timeout });
  findings.regionAfterReload = await page.inputValue("#region");
  await page.goto(`${url}/console/#/`);
  await page.waitForFunction((r) => document.querySelector("#page")?.textContent.includes(`region ${r}`), otherRegion, { timeout });
  await page.waitForSelector(`#gateways tr[data-id="${otherGw}"]`, { timeout });
  findings.otherOverviewRows = await rows();
  await page.selectOption("#region", "cn-hangzhou");
  await page.waitForSelector(`#gateways tr[data-id="${env("VPNGW_GW")}"]`, { timeout });
  findings.backRows = await rows();

  // The other forms render and fit.
  for (const [hash, form] of [["#/new/gateway", "#gateway-form"], [`#/gateway/${env("VPNGW_GW")}/edit`, "#gateway-form"],
    [`#/customer-gateway/${env("VPNGW_CGW")}/edit`, "#cgw-form"], [`#/connection/${dual}/edit`, "#connection-form"],
    [`#/new/connection?gateway=${env("VPNGW_DUAL_GW")}`, "#connection-form"]]) {
    await page.goto(`${url}/console/${hash}`);
    await page.waitForSelector(form, { timeout });
    await layout(hash.replace(/[^a-z]+/g, "-"));
  }
  findings.dualFormShown = await page.isVisible("#connection-form #dual");

  // ---- log out forgets the key.
  await page.click("#logout");
  await page.waitForSelector("#login:not([hidden])", { timeout });
  findings.storedAfterLogout = await page.evaluate(() => sessionStorage.getItem("vpngw.session"));
  findings.navAfterLogout = await page.isVisible("#nav");
  findings.consoleErrors = consoleErrors.filter((e) => !/status of (400|401|403|404)|ERR_CONNECTION_REFUSED|net::ERR_FAILED/.test(e));
  console.log(JSON.stringify(findings));
} finally {
  await browser.close();
}
