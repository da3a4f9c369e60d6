// The pages of the console. Each page is `{ title, load(root, ctx), poll }`:
// `load` reads through the API and renders into `root`; pages with `poll`
// are read again every few seconds (lists, details, logs), forms are not (a
// refresh must never undo what someone is typing).

import { call, listAll, peerSwanctlConf, region } from "./api.js";
import {
  check, formHtml, group, hidden, ikeIpsecFields, number, onSubmit, select, text,
} from "./forms.js";
import {
  actionsBar, confirmAndDelete, enc, formPage, gatewaysList, go, guarded,
} from "./page-kit.js";
import { fitLabels, legend, topology } from "./topology.js";
import {
  $, badge, download, dl, esc, fmtTime, idText, nameAndId, revealAgain, revealed, table,
} from "./ui.js";

const tunnelsOf = (v) => ((v.TunnelOptionsSpecification || {}).TunnelOptions || []);

const customerGatewaysList = (opts) => listAll("DescribeCustomerGateways", ["CustomerGateways", "CustomerGateway"], {}, opts);
const connectionsList = (params, opts) => listAll("DescribeVpnConnections", ["VpnConnections", "VpnConnection"], params, opts);

// A dual-tunnel gateway has a second public address.
const isDual = (g) => !!(g && (g.DisasterRecoveryInternetIp || g.DisasterRecoveryVSwitchId));

// ---------------------------------------------------------------- lists

const gatewayRows = (gws) => gws.map((g) => ({
  id: g.VpnGatewayId,
  cells: [nameAndId(g.VpnGatewayId, g.Name, `#/gateway/${enc(g.VpnGatewayId)}`), badge(g.Status),
    idText(g.InternetIp) + (g.DisasterRecoveryInternetIp ? `<span class="sub">${idText(g.DisasterRecoveryInternetIp)}</span>` : ""),
    idText(g.VpcId), esc(g.Spec), esc(fmtTime(g.CreateTime))],
}));
const GATEWAY_HEAD = ["Name / ID", "Status", "Public IP", "VPC", "Bandwidth", "Created"];

const customerGatewayRows = (cgws) => cgws.map((c) => ({
  id: c.CustomerGatewayId,
  cells: [nameAndId(c.CustomerGatewayId, c.Name, `#/customer-gateway/${enc(c.CustomerGatewayId)}`), idText(c.IpAddress),
    esc(c.Asn), esc(fmtTime(c.CreateTime))],
}));
const CGW_HEAD = ["Name / ID", "IP address", "ASN", "Created"];

const connectionRows = (vcos) => vcos.map((v) => ({
  id: v.VpnConnectionId,
  cells: [nameAndId(v.VpnConnectionId, v.Name, `#/connection/${enc(v.VpnConnectionId)}`),
    `<span class="status">${badge(v.Status)}</span>` + (tunnelsOf(v).length ? `<span class="sub">${tunnelsOf(v).map((t) => badge(t.Status)).join(" ")}</span>` : ""),
    `<span class="state">${badge(v.State)}</span>`,
    idText(v.VpnGatewayId), (v.CustomerGatewayId ? [v.CustomerGatewayId] : tunnelsOf(v).map((t) => t.CustomerGatewayId)).map(idText).join(" "),
    `${esc(v.LocalSubnet)}<span class="sub">${esc(v.RemoteSubnet)}</span>`],
}));
const VCO_HEAD = ["Name / ID", "Status", "State", "VPN gateway", "Customer gateway", "Local / remote subnet"];

export const overview = {
  title: () => "Overview",
  poll: true,
  async load(root, { poll }) {
    const [gws, cgws, vcos] = await Promise.all([gatewaysList({ poll }), customerGatewaysList({ poll }), connectionsList({}, { poll })]);
    root.innerHTML = `<div class="bar"><h1>Overview</h1><span class="muted">region ${esc(region())}</span></div>` +
      `<h2>Topology</h2><div id="topology" class="card"><div id="drawing"></div>${legend()}</div>` +
      `<h2>VPN gateways <a class="small" href="#/gateways">all</a></h2>${table("gateways", GATEWAY_HEAD, gatewayRows(gws), "No VPN gateways in this region.")}` +
      `<h2>Customer gateways <a class="small" href="#/customer-gateways">all</a></h2>${table("customer-gateways", CGW_HEAD, customerGatewayRows(cgws), "No customer gateways in this region.")}` +
      `<h2>IPsec connections <a class="small" href="#/connections">all</a></h2>${table("connections", VCO_HEAD, connectionRows(vcos), "No IPsec connections in this region.")}`;
    drawTopology($("#topology", root), gws, cgws, vcos);
  },
};

// The drawing is laid out for its card's width, and again whenever that
// width changes (a narrower window gets a narrower drawing, not smaller text).
let resizeWatch = null;
function drawTopology(card, gws, cgws, vcos) {
  let drawn = 0;
  const draw = () => {
    const width = card.clientWidth - 26;
    if (!card.isConnected || width === drawn) return;
    drawn = width;
    $("#drawing", card).innerHTML = topology(gws, cgws, vcos, width);
    fitLabels(card);
  };
  resizeWatch?.disconnect();
  resizeWatch = new ResizeObserver(draw);
  resizeWatch.observe(card);
  draw();
}

function listPage(title, id, head, fetch, rows, empty, createHref, createLabel) {
  return {
    title: () => title,
    poll: true,
    async load(root, { poll }) {
      const items = await fetch({ poll });
      root.innerHTML = `<div class="bar"><h1>${esc(title)}</h1>${actionsBar([`<a class="button" id="create" href="${createHref}">${esc(createLabel)}</a>`])}</div>` +
        table(id, head, rows(items), empty);
    },
  };
}

export const gateways = listPage("VPN gateways", "gateways", GATEWAY_HEAD, gatewaysList, gatewayRows,
  "No VPN gateways in this region.", "#/new/gateway", "Create VPN gateway");
export const customerGateways = listPage("Customer gateways", "customer-gateways", CGW_HEAD, customerGatewaysList,
  customerGatewayRows, "No customer gateways in this region.", "#/new/customer-gateway", "Create customer gateway");
export const connections = listPage("IPsec connections", "connections", VCO_HEAD, (o) => connectionsList({}, o),
  connectionRows, "No IPsec connections in this region.", "#/new/connection", "Create IPsec connection");

// ---------------------------------------------------------------- details

export function gatewayDetail(id) {
  return {
    title: () => `VPN gateway ${id}`,
    poll: true,
    async load(root, { poll }) {
      const [g, vcos] = await Promise.all([
        call("vpc", "DescribeVpnGateway", { RegionId: region(), VpnGatewayId: id }, { poll }),
        connectionsList({ VpnGatewayId: id }, { poll }),
      ]);
      const { RequestId: _r, ...gw } = g;
      root.innerHTML = `<div class="bar"><h1 id="detail-title">${esc(gw.Name || "VPN gateway")} <span class="muted">${idText(id)}</span></h1>` +
        actionsBar([`<a class="button" id="edit" href="#/gateway/${enc(id)}/edit">Modify</a>`,
          `<button type="button" class="danger" id="delete">Delete</button>`]) + `</div>` +
        `<p class="error" id="action-error" role="alert"></p>` +
        `<h2>Basic information</h2>${dl(gw, ["VpnGatewayId", "Name", "Status", "BusinessStatus", "InternetIp", "DisasterRecoveryInternetIp", "VpcId", "VSwitchId", "DisasterRecoveryVSwitchId", "Spec", "Description", "CreateTime", "EndTime"])}` +
        `<h2>IPsec connections <a class="small" href="#/new/connection?gateway=${enc(id)}">create</a></h2>${table("connections", VCO_HEAD, connectionRows(vcos), "No IPsec connections on this gateway.")}`;
      $("#delete", root).onclick = () => guarded(root, () => confirmAndDelete("VPN gateway", id, "DeleteVpnGateway", { VpnGatewayId: id }, "#/gateways"));
    },
  };
}

export function customerGatewayDetail(id) {
  return {
    title: () => `Customer gateway ${id}`,
    poll: true,
    async load(root, { poll }) {
      const c = await call("vpc", "DescribeCustomerGateway", { RegionId: region(), CustomerGatewayId: id }, { poll });
      const { RequestId: _r, ...cgw } = c;
      root.innerHTML = `<div class="bar"><h1 id="detail-title">${esc(cgw.Name || "Customer gateway")} <span class="muted">${idText(id)}</span></h1>` +
        actionsBar([`<a class="button" id="edit" href="#/customer-gateway/${enc(id)}/edit">Modify</a>`,
          `<button type="button" class="danger" id="delete">Delete</button>`]) + `</div>` +
        `<p class="error" id="action-error" role="alert"></p>` +
        `<h2>Basic information</h2>${dl(cgw, ["CustomerGatewayId", "Name", "IpAddress", "Asn", "Description", "CreateTime"], new Set(["AuthKey"]))}`;
      $("#delete", root).onclick = () => guarded(root, () => confirmAndDelete("customer gateway", id, "DeleteCustomerGateway", { CustomerGatewayId: id }, "#/customer-gateways"));
    },
  };
}

// The order of DescribeVpnConnection's answer in the API reference.
const TOP_FIELDS = ["VpnConnectionId", "Name", "Status", "State", "VpnGatewayId", "CustomerGatewayId", "LocalSubnet",
  "RemoteSubnet", "CreateTime", "EffectImmediately", "EnableDpd", "EnableNatTraversal", "RemoteCaCertificate",
  "AttachType", "NetworkType", "AttachInstanceId", "Spec", "InternetIp", "ZoneNo", "TransitRouterId",
  "TransitRouterName", "CrossAccountAuthorized", "EnableTunnelsBgp", "ResourceGroupId", "TunnelBandwidth"];
const SECTIONS = [["IkeConfig", "IKE configuration"], ["IpsecConfig", "IPsec configuration"],
  ["VcoHealthCheck", "Health check"], ["VpnBgpConfig", "BGP"]];
const SECRETS = new Set(["Psk", "AuthKey"]);

// Health check and BGP at a glance: what was measured, per tunnel too.
function stateSummary(v) {
  const rows = [];
  const hc = v.VcoHealthCheck || {};
  rows.push(["Negotiation", badge(v.Status)]);
  for (const t of tunnelsOf(v)) rows.push([`Tunnel ${esc(t.Role || "")} ${idText(t.TunnelId)}`, badge(t.Status)]);
  rows.push(["Health check", hc.Enable === "true" || hc.Enable === true ? `${badge(hc.Status)} <span class="muted">${esc(hc.Dip || "")}</span>` : `<span class="muted">disabled</span>`]);
  const bgp = v.VpnBgpConfig || {};
  if (tunnelsOf(v).length) {
    for (const t of tunnelsOf(v)) {
      const b = t.TunnelBgpConfig || {};
      rows.push([`BGP ${esc(t.Role || "")}`, b.BgpStatus ? badge(b.BgpStatus) : `<span class="muted">disabled</span>`]);
    }
  } else {
    rows.push(["BGP", bgp.EnableBgp === "true" || bgp.EnableBgp === true ? badge(bgp.Status) : `<span class="muted">disabled</span>`]);
  }
  return `<dl class="state" id="state">${rows.map(([k, val]) => `<dt>${k}</dt><dd>${val}</dd>`).join("")}</dl>`;
}

async function logs(id, poll) {
  const body = await call("vpc", "DescribeVpnConnectionLogs", { RegionId: region(), VpnConnectionId: id, MinutePeriod: 10, PageSize: 50 }, { poll });
  return ((body.Data || {}).Logs || []).slice(-50);
}

export function connectionDetail(id) {
  let cache = null; // what the downloads need, from the last load
  return {
    title: () => `IPsec connection ${id}`,
    poll: true,
    async load(root, { poll }) {
      const v = await call("vpc", "DescribeVpnConnection", { RegionId: region(), VpnConnectionId: id }, { poll });
      const lines = await logs(id, poll).catch((e) => [`(logs unavailable: ${e.code})`]);
      const open = revealed(root);
      const { RequestId: _r, ...resource } = v;
      cache = resource;
      const html = [`<div class="bar"><h1 id="detail-title">${esc(v.Name || "IPsec connection")} <span class="muted">${idText(id)}</span></h1>`,
        actionsBar([`<a class="button" id="edit" href="#/connection/${enc(id)}/edit">Modify</a>`,
          `<button type="button" id="download-config" class="secondary">Peer configuration (JSON)</button>`,
          `<button type="button" id="download-swanctl" class="secondary">strongSwan swanctl.conf</button>`,
          `<button type="button" class="danger" id="delete">Delete</button>`]), `</div>`,
        `<p class="error" id="action-error" role="alert"></p>`,
        `<div class="columns"><section><h2>Basic information</h2>${dl(resource, TOP_FIELDS)}</section>`,
        `<section><h2>State</h2>${stateSummary(v)}</section></div>`];
      const tunnels = tunnelsOf(v);
      if (!tunnels.length) {
        html.push(`<div class="columns">`);
        for (const [key, title] of SECTIONS) {
          if (v[key]) html.push(`<section><h2>${title} <span class="muted">${key}</span></h2>${dl(v[key], [], SECRETS)}</section>`);
        }
        html.push(`</div>`);
      } else {
        html.push(`<h2>Tunnels <span class="muted">TunnelOptionsSpecification.TunnelOptions</span></h2><div class="columns tunnels">`);
        for (const t of tunnels) {
          html.push(`<section class="tunnel" data-tunnel="${esc(t.TunnelId)}"><h3>${esc(t.Role || "")} tunnel ${idText(t.TunnelId)}</h3>`, dl(t, [], SECRETS));
          for (const [key, title] of [["TunnelIkeConfig", "IKE"], ["TunnelIpsecConfig", "IPsec"], ["TunnelBgpConfig", "BGP"]]) {
            if (t[key]) html.push(`<h3>${title} <span class="muted">${key}</span></h3>`, dl(t[key], [], SECRETS));
          }
          html.push(`</section>`);
        }
        html.push(`</div>`);
        if (v.VcoHealthCheck) html.push(`<h2>Health check <span class="muted">VcoHealthCheck</span></h2>${dl(v.VcoHealthCheck)}`);
      }
      const tags = (v.Tags || {}).Tag || [];
      html.push(`<h2>Tags <span class="muted">Tags.Tag</span></h2>`,
        tags.length ? `<dl>${tags.map((t) => `<dt>${esc(t.Key)}</dt><dd>${esc(t.Value)}</dd>`).join("")}</dl>` : `<p class="muted">No tags.</p>`);
      html.push(`<h2>Logs <span class="muted">DescribeVpnConnectionLogs, last 10 minutes, live</span></h2>`,
        `<pre id="logs" class="logs">${lines.length ? lines.map(esc).join("\n") : "No log lines in the last 10 minutes."}</pre>`);
      root.innerHTML = html.join("");
      revealAgain(root, open);
      $("#delete", root).onclick = () => guarded(root, () => confirmAndDelete("IPsec connection", id, "DeleteVpnConnection", { VpnConnectionId: id }, "#/connections"));
      $("#download-config", root).onclick = () => guarded(root, async () => {
        const body = await call("vpc", "DownloadVpnConnectionConfig", { RegionId: region(), VpnConnectionId: id });
        download(`${id}-peer-config.json`, JSON.stringify(body.VpnConnectionConfig, null, 2) + "\n", "application/json");
      });
      $("#download-swanctl", root).onclick = () => guarded(root, async () => {
        const c = cache;
        const gw = await call("vpc", "DescribeVpnGateway", { RegionId: region(), VpnGatewayId: c.VpnGatewayId });
        const ids = new Set([c.CustomerGatewayId, ...tunnelsOf(c).map((t) => t.CustomerGatewayId)].filter(Boolean));
        const ips = {};
        for (const cg of ids) {
          ips[cg] = (await call("vpc", "DescribeCustomerGateway", { RegionId: region(), CustomerGatewayId: cg })).IpAddress;
        }
        download(`${id}-swanctl.conf`, await peerSwanctlConf(c, gw, ips));
      });
    },
  };
}

// ---------------------------------------------------------------- forms

export const newGateway = formPage("Create VPN gateway", async (root) => {
  root.innerHTML = formHtml("gateway-form", "Create VPN gateway", [
    text("VpcId", "VPC ID", { required: true, placeholder: "vpc-…" }),
    text("Name", "Name"),
    select("Bandwidth", "Bandwidth (Mbit/s)", [5, 10, 20, 50, 100, 200, 500, 1000], { value: 10 }),
    text("VSwitchId", "vSwitch ID"),
    text("DisasterRecoveryVSwitchId", "Second vSwitch ID (dual-tunnel gateway)", { help: "A second vSwitch gives the gateway a second public IP: its connections then have two tunnels." }),
    select("NetworkType", "Network type", ["public", "private"]),
    check("EnableSsl", "Enable SSL-VPN"),
  ], "Create", { cancel: "#/gateways" });
  onSubmit($("#gateway-form", root), async (p) => {
    const r = await call("vpc", "CreateVpnGateway", { RegionId: region(), ...p });
    go(`#/gateway/${enc(r.VpnGatewayId)}`);
  });
});

export function editGateway(id) {
  return formPage(`Modify VPN gateway ${id}`, async (root) => {
    const g = await call("vpc", "DescribeVpnGateway", { RegionId: region(), VpnGatewayId: id });
    root.innerHTML = formHtml("gateway-form", `Modify VPN gateway ${id}`, [
      text("Name", "Name", { value: g.Name }),
      text("Description", "Description", { value: g.Description }),
    ], "Save", { cancel: `#/gateway/${enc(id)}` });
    onSubmit($("#gateway-form", root), async (p) => {
      await call("vpc", "ModifyVpnGatewayAttribute", { RegionId: region(), VpnGatewayId: id, ...p });
      go(`#/gateway/${enc(id)}`);
    });
  });
}

export const newCustomerGateway = formPage("Create customer gateway", async (root) => {
  root.innerHTML = formHtml("cgw-form", "Create customer gateway", [
    text("IpAddress", "IP address", { required: true, placeholder: "203.0.113.10" }),
    text("Name", "Name"),
    text("Description", "Description"),
    number("Asn", "ASN (BGP)"),
    { kind: "password", name: "AuthKey", label: "BGP authentication key" },
  ], "Create", { cancel: "#/customer-gateways" });
  onSubmit($("#cgw-form", root), async (p) => {
    const r = await call("vpc", "CreateCustomerGateway", { RegionId: region(), ...p });
    go(`#/customer-gateway/${enc(r.CustomerGatewayId)}`);
  });
});

export function editCustomerGateway(id) {
  return formPage(`Modify customer gateway ${id}`, async (root) => {
    const c = await call("vpc", "DescribeCustomerGateway", { RegionId: region(), CustomerGatewayId: id });
    root.innerHTML = formHtml("cgw-form", `Modify customer gateway ${id}`, [
      text("Name", "Name", { value: c.Name }),
      text("Description", "Description", { value: c.Description }),
    ], "Save", { cancel: `#/customer-gateway/${enc(id)}` });
    onSubmit($("#cgw-form", root), async (p) => {
      await call("vpc", "ModifyCustomerGatewayAttribute", { RegionId: region(), CustomerGatewayId: id, ...p });
      go(`#/customer-gateway/${enc(id)}`);
    });
  });
}

// Health check and BGP of a single-tunnel connection.
function singleTunnelExtras(v = {}) {
  const hc = v.VcoHealthCheck || {};
  const bgp = v.VpnBgpConfig || {};
  return [
    group("Health check", [
      check("HealthCheckConfig.enable", "Enable health check", { value: hc.Enable }),
      text("HealthCheckConfig.dip", "Destination IP", { value: hc.Dip }),
      text("HealthCheckConfig.sip", "Source IP", { value: hc.Sip }),
      number("HealthCheckConfig.interval", "Interval (s)", { value: hc.Interval ?? 3 }),
      number("HealthCheckConfig.retry", "Retries", { value: hc.Retry ?? 3 }),
    ], { collapsed: true }),
    group("BGP", [
      check("BgpConfig.EnableBgp", "Enable BGP", { value: bgp.EnableBgp }),
      text("BgpConfig.TunnelCidr", "Tunnel CIDR", { value: bgp.TunnelCidr, placeholder: "169.254.10.0/30" }),
      text("BgpConfig.LocalBgpIp", "Local BGP IP", { value: bgp.LocalBgpIp }),
      number("BgpConfig.LocalAsn", "Local ASN", { value: bgp.LocalAsn }),
    ], { collapsed: true }),
  ];
}

// One tunnel of a dual-tunnel connection (`n` = 1 master, 2 slave).
function tunnelFields(n, cgws, t = {}, editing = false) {
  const p = `TunnelOptionsSpecification.${n}.`;
  const role = n === 1 ? "master" : "slave";
  const b = t.TunnelBgpConfig || {};
  return group(`Tunnel ${n} (${role})`, [
    editing ? hidden(`${p}TunnelId`, t.TunnelId) : hidden(`${p}Role`, role),
    editing ? hidden(`${p}Role`, role) : select(`${p}CustomerGatewayId`, "Customer gateway", cgws.map((c) => [c.CustomerGatewayId, `${c.Name || c.CustomerGatewayId} (${c.IpAddress})`]), { required: true, blank: "choose…" }),
    ...ikeIpsecFields(p, t.TunnelIkeConfig, t.TunnelIpsecConfig),
    group("BGP", [
      text(`${p}TunnelBgpConfig.TunnelCidr`, "Tunnel CIDR", { value: b.TunnelCidr }),
      text(`${p}TunnelBgpConfig.LocalBgpIp`, "Local BGP IP", { value: b.LocalBgpIp }),
      number(`${p}TunnelBgpConfig.LocalAsn`, "Local ASN", { value: b.LocalAsn }),
    ], { collapsed: true }),
  ], { id: `tunnel-${n}` });
}

export function newConnection(query) {
  return formPage("Create IPsec connection", async (root) => {
    const [gws, cgws] = await Promise.all([gatewaysList(), customerGatewaysList()]);
    const chosen = query.get("gateway") || (gws[0] || {}).VpnGatewayId || "";
    const cgwOptions = cgws.map((c) => [c.CustomerGatewayId, `${c.Name || c.CustomerGatewayId} (${c.IpAddress})`]);
    root.innerHTML = formHtml("connection-form", "Create IPsec connection", [
      select("VpnGatewayId", "VPN gateway", gws.map((g) => [g.VpnGatewayId, `${g.Name || g.VpnGatewayId} (${g.InternetIp || g.Status})${isDual(g) ? " — dual tunnel" : ""}`]), { value: chosen, required: true, blank: gws.length ? undefined : "no VPN gateway in this region" }),
      text("Name", "Name"),
      text("LocalSubnet", "Local subnets (VPC side)", { required: true, placeholder: "10.0.0.0/16,10.1.0.0/16" }),
      text("RemoteSubnet", "Remote subnets (on-premises side)", { required: true, placeholder: "192.168.0.0/24" }),
      check("EffectImmediately", "Negotiate at once (EffectImmediately)"),
      group("Single tunnel", [
        select("CustomerGatewayId", "Customer gateway", cgwOptions, { required: true, blank: "choose…" }),
        ...ikeIpsecFields(""),
        ...singleTunnelExtras(),
      ], { id: "single" }),
      group("Dual tunnel", [
        check("EnableTunnelsBgp", "BGP on both tunnels"),
        tunnelFields(1, cgws),
        tunnelFields(2, cgws),
      ], { id: "dual" }),
    ], "Create", { cancel: "#/connections" });
    const form = $("#connection-form", root);
    // The gateway decides: a dual-tunnel gateway takes two tunnels.
    const byId = new Map(gws.map((g) => [g.VpnGatewayId, g]));
    const mode = () => {
      const dual = isDual(byId.get(form.elements.VpnGatewayId.value));
      $("#single", form).hidden = dual;
      $("#dual", form).hidden = !dual;
    };
    form.elements.VpnGatewayId.addEventListener("change", mode);
    mode();
    onSubmit(form, async (p) => {
      const r = await call("vpc", "CreateVpnConnection", { RegionId: region(), ...p });
      go(`#/connection/${enc(r.VpnConnectionId)}`);
    });
  });
}

export function editConnection(id) {
  return formPage(`Modify IPsec connection ${id}`, async (root) => {
    const v = await call("vpc", "DescribeVpnConnection", { RegionId: region(), VpnConnectionId: id });
    const tunnels = tunnelsOf(v);
    const fields = [
      text("Name", "Name", { value: v.Name }),
      text("LocalSubnet", "Local subnets (VPC side)", { value: v.LocalSubnet }),
      text("RemoteSubnet", "Remote subnets (on-premises side)", { value: v.RemoteSubnet }),
      check("EffectImmediately", "Negotiate at once (EffectImmediately)", { value: v.EffectImmediately }),
    ];
    if (tunnels.length) {
      tunnels.forEach((t, i) => fields.push(tunnelFields(i + 1, [], t, true)));
    } else {
      fields.push(...ikeIpsecFields("", v.IkeConfig, v.IpsecConfig), ...singleTunnelExtras(v));
    }
    root.innerHTML = formHtml("connection-form", `Modify IPsec connection ${id}`, fields, "Save", { cancel: `#/connection/${enc(id)}` });
    const form = $("#connection-form", root);
    form.elements.EffectImmediately.dataset.sendFalse = "1";
    onSubmit(form, async (p) => {
      await call("vpc", "ModifyVpnConnectionAttribute", { RegionId: region(), VpnConnectionId: id, ...p });
      go(`#/connection/${enc(id)}`);
    });
  });
}
