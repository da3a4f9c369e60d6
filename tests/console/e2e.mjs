// Drives the vpngw console in headless Chromium and checks what a person would see.
// Input (environment): VPNGW_URL (http://127.0.0.1:PORT), VPNGW_AK_ID, VPNGW_AK_SECRET,
// VPNGW_VCO (a connection that exists), VPNGW_VCO_STATUS (its Status), VPNGW_GW, VPNGW_CGW,
// VPNGW_SCREENSHOTS (optional directory for PNGs), VPNGW_RENAME_FILE (optional: a file the
// Python side writes the new name into after the page loaded, to check live updates).
// Prints one JSON line of findings; exits non-zero on the first failed check.
import { chromium } from "playwright-core";
import { readFileSync, existsSync } from "node:fs";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const url = env("VPNGW_URL");
const vco = env("VPNGW_VCO");
const shots = process.env.VPNGW_SCREENSHOTS;
const timeout = 15000;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run"],
});
const findings = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const consoleErrors = [];
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  // A wrong secret is refused with the API's own error.
  await page.goto(`${url}/console/`);
  await page.fill("input[name=id]", env("VPNGW_AK_ID"));
  await page.fill("input[name=secret]", "not-the-secret");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#login-error").textContent.includes("SignatureDoesNotMatch"), null, { timeout });
  findings.badLogin = await page.textContent("#login-error");

  // Sign in.
  await page.fill("input[name=id]", env("VPNGW_AK_ID"));
  await page.fill("input[name=secret]", env("VPNGW_AK_SECRET"));
  await page.click("button[type=submit]");
  const row = `#connections tr[data-id="${vco}"]`;
  await page.waitForSelector(row, { timeout });
  findings.rowStatus = await page.getAttribute(`${row} .status .badge`, "data-status");
  if (findings.rowStatus !== env("VPNGW_VCO_STATUS")) throw new Error(`row Status ${findings.rowStatus}`);
  findings.rowState = await page.getAttribute(`${row} .state .badge`, "data-status");
  await page.waitForSelector(`#gateways tr[data-id="${env("VPNGW_GW")}"]`, { timeout });
  await page.waitForSelector(`#customer-gateways tr[data-id="${env("VPNGW_CGW")}"]`, { timeout });

  // The topology draws the connection between its gateways, colored by Status.
  const edge = `#topology-svg a[data-vco="${vco}"]`;
  await page.waitForSelector(edge, { timeout, state: "attached" });
  findings.edgeStatus = await page.getAttribute(edge, "data-status");
  findings.edgeColor = await page.getAttribute(`${edge} path`, "stroke");
  findings.nodes = await page.$$eval("#topology-svg g.node", (ns) => ns.map((n) => n.dataset.id));
  if (shots) await page.screenshot({ path: `${shots}/overview.png`, fullPage: true });

  // Live update: the Python side renames the connection; the page polls.
  const renameFile = process.env.VPNGW_RENAME_FILE;
  if (renameFile) {
    process.stdout.write("READY\n");
    const deadline = Date.now() + timeout;
    while (!existsSync(renameFile) || !readFileSync(renameFile, "utf8").trim()) {
      if (Date.now() > deadline) throw new Error("no rename arrived");
      await new Promise((r) => setTimeout(r, 100));
    }
    const name = readFileSync(renameFile, "utf8").trim();
    await page.waitForFunction(([sel, n]) => document.querySelector(sel)?.textContent.includes(n), [row, name], { timeout });
    findings.liveName = name;
  }

  // The detail page, in the API reference's structure.
  await page.click(`${row} a`);
  await page.waitForSelector(`#detail-body dd[data-field="VpnConnectionId"]`, { timeout });
  findings.detailTitle = await page.textContent("#detail-title");
  findings.detailHeadings = await page.$$eval("#detail-body h2", (hs) => hs.map((h) => h.textContent));
  findings.detailStatus = await page.getAttribute(`#detail-body dd[data-field="Status"] .badge`, "data-status");
  findings.pskMasked = await page.textContent(`#detail-body dd[data-field="Psk"]`);
  await page.click(`#detail-body dd[data-field="Psk"] button`);
  findings.pskShown = await page.textContent(`#detail-body dd[data-field="Psk"]`);
  if (shots) await page.screenshot({ path: `${shots}/detail.png`, fullPage: true });

  // Log out forgets the key.
  await page.click("#logout");
  await page.waitForSelector("#login:not([hidden])", { timeout });
  findings.storedAfterLogout = await page.evaluate(() => sessionStorage.getItem("vpngw.session"));
  findings.consoleErrors = consoleErrors.filter((e) => !e.includes("401") && !e.includes("400"));
  console.log(JSON.stringify(findings));
} finally {
  await browser.close();
}
