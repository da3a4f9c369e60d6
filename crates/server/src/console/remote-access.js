// Remote access: the gateways' SSL-VPN servers with their client
// certificates, and their IPsec servers (client-to-site IKE with a
// pre-shared key). Both server kinds share the gateway's SslConnections.

import { ApiError, call, listAll, region } from "./api.js";
import {
  check, formHtml, hidden, ikeIpsecFields, number, onSubmit, params, secret, select, text,
} from "./forms.js";
import { actionsBar, confirmAndDelete, enc, formPage, gatewaysList, go, guarded } from "./page-kit.js";
import { $, badge, dl, download, esc, fmtTime, idText, nameAndId, revealAgain, revealed, table } from "./ui.js";

// ---------------------------------------------------------------- SSL-VPN

const sslServersList = (opts) => listAll("DescribeSslVpnServers", ["SslVpnServers", "SslVpnServer"], {}, opts);
const sslCertsList = (opts) => listAll("DescribeSslVpnClientCerts", ["SslVpnClientCertKeys", "SslVpnClientCertKey"], {}, opts);

const SSL_SERVER_HEAD = ["Name / ID", "VPN gateway", "Address", "Protocol / cipher", "Client IP pool", "Local subnets", "Connections"];
const sslServerRows = (servers) => servers.map((s) => ({
  id: s.SslVpnServerId,
  cells: [nameAndId(s.SslVpnServerId, s.Name), idText(s.VpnGatewayId), idText(s.InternetIp),
    `${esc(s.Proto)} ${esc(s.Port)}<span class="sub">${esc(s.Cipher)}${s.Compress ? ", compressed" : ""}</span>`,
    esc(s.ClientIpPool), esc(s.LocalSubnet), `${esc(s.Connections ?? 0)} / ${esc(s.MaxConnections ?? "")}`],
}));
const SSL_CERT_HEAD = ["Name / ID", "SSL-VPN server", "Status", "Expires", ""];
const sslCertRows = (certs) => certs.map((c) => ({
  id: c.SslVpnClientCertId,
  cells: [nameAndId(c.SslVpnClientCertId, c.Name), idText(c.SslVpnServerId), badge(c.Status), esc(fmtTime(c.EndTime)),
    `<div class="actions"><button type="button" class="secondary" data-download-ovpn="${esc(c.SslVpnClientCertId)}">Client config (.ovpn)</button>` +
    `<button type="button" class="danger" data-delete-cert="${esc(c.SslVpnClientCertId)}">Delete</button></div>`],
}));

// DescribeSslVpnClientCert's ClientConfig names ca.crt, client.crt and
// client.key beside it (as the cloud's config.ovpn does); the download is
// one file with the three inline, which OpenVPN reads the same way.
function inlineOvpn(c) {
  const blocks = { ca: c.CaCert, cert: c.ClientCert, key: c.ClientKey };
  return c.ClientConfig.split("\n").map((line) => {
    const m = line.match(/^(ca|cert|key) \S+$/);
    return m && blocks[m[1]] ? `<${m[1]}>\n${blocks[m[1]].trim()}\n</${m[1]}>` : line;
  }).join("\n");
}

export const remoteAccess = {
  title: () => "Remote access",
  poll: true,
  async load(root, { poll }) {
    const [servers, certs, isss] = await Promise.all([sslServersList({ poll }), sslCertsList({ poll }), ipsecServersList({}, { poll })]);
    root.innerHTML = `<div class="bar"><h1>Remote access</h1>` +
      actionsBar([`<a class="button" id="create-ssl-server" href="#/new/ssl-vpn-server">Create SSL-VPN server</a>`,
        `<a class="button" id="create-ssl-cert" href="#/new/ssl-vpn-client-cert">Create client certificate</a>`]) + `</div>` +
      `<p class="error" id="action-error" role="alert"></p>` +
      `<h2>SSL-VPN servers</h2>${table("ssl-servers", SSL_SERVER_HEAD, sslServerRows(servers), "No SSL-VPN servers in this region (a VPN gateway created with SSL-VPN enabled takes one).")}` +
      `<h2>SSL client certificates</h2>${table("ssl-certs", SSL_CERT_HEAD, sslCertRows(certs), "No client certificates in this region.")}` +
      `<h2>IPsec servers <a class="small" id="create-ipsec-server" href="#/new/ipsec-server">create</a></h2>` +
      table("ipsec-servers", IPSEC_SERVER_HEAD, ipsecServerRows(isss), "No IPsec servers in this region (a VPN gateway created with SSL-VPN enabled takes one).");
    root.onclick = (ev) => {
      const dl = ev.target.closest("[data-download-ovpn]");
      const del = ev.target.closest("[data-delete-cert]");
      if (dl) {
        const id = dl.dataset.downloadOvpn;
        guarded(root, async () => {
          const c = await call("vpc", "DescribeSslVpnClientCert", { RegionId: region(), SslVpnClientCertId: id });
          download(`${id}.ovpn`, inlineOvpn(c));
        });
      } else if (del) {
        const id = del.dataset.deleteCert;
        guarded(root, () => confirmAndDelete("client certificate", id, "DeleteSslVpnClientCert", { SslVpnClientCertId: id }, "#/remote-access")
          .then(() => remoteAccess.load(root, { poll: false })));
      }
    };
  },
};

// What creating either server starts with: a gateway created with SSL-VPN
// enabled, the name (`nameParam`), the client pool and the local subnets.
async function newServerFields(nameParam, samplePool) {
  const gws = (await gatewaysList()).filter((g) => g.SslVpn === "enable");
  return [
    select("VpnGatewayId", "VPN gateway (with SSL-VPN enabled)", gws.map((g) => [g.VpnGatewayId, `${g.Name || g.VpnGatewayId} (${g.InternetIp || g.Status})`]), { required: true, blank: gws.length ? "choose…" : "no VPN gateway with SSL-VPN in this region" }),
    text(nameParam, "Name"),
    text("ClientIpPool", "Client IP pool", { required: true, placeholder: samplePool }),
    text("LocalSubnet", "Local subnets (reachable by clients)", { required: true, placeholder: "10.0.0.0/16" }),
  ];
}

export const newSslVpnServer = formPage("Create SSL-VPN server", async (root) => {
  root.innerHTML = formHtml("ssl-server-form", "Create SSL-VPN server", [
    ...(await newServerFields("Name", "10.200.0.0/24")),
    select("Proto", "Protocol", ["UDP", "TCP"]),
    number("Port", "Port", { value: 1194 }),
    select("Cipher", "Cipher", ["AES-128-CBC", "AES-192-CBC", "AES-256-CBC", "none"]),
    check("Compress", "Compress"),
  ], "Create", { cancel: "#/remote-access" });
  onSubmit($("#ssl-server-form", root), async (p) => {
    await call("vpc", "CreateSslVpnServer", { RegionId: region(), ...p });
    go("#/remote-access");
  });
});

export const newSslVpnClientCert = formPage("Create client certificate", async (root) => {
  const servers = await sslServersList();
  root.innerHTML = formHtml("ssl-cert-form", "Create client certificate", [
    select("SslVpnServerId", "SSL-VPN server", servers.map((s) => [s.SslVpnServerId, `${s.Name || s.SslVpnServerId} (${s.InternetIp})`]), { required: true, blank: servers.length ? "choose…" : "no SSL-VPN server in this region" }),
    text("Name", "Name"),
  ], "Create", { cancel: "#/remote-access" });
  onSubmit($("#ssl-cert-form", root), async (p) => {
    await call("vpc", "CreateSslVpnClientCert", { RegionId: region(), ...p });
    go("#/remote-access");
  });
});

// ---------------------------------------------------------------- IPsec servers

// Every IPsec server, or those `params` filter on (ListIpsecServers pages
// with NextToken, at most 20 a page).
async function ipsecServersList(params = {}, opts = {}) {
  const out = [];
  let token = "";
  for (let i = 0; i < 50; i++) {
    const body = await call("vpc", "ListIpsecServers", { RegionId: region(), MaxResults: 20, NextToken: token || undefined, ...params }, opts);
    out.push(...(body.IpsecServers || []));
    token = body.NextToken;
    if (!token) break;
  }
  return out;
}

// One server; ListIpsecServers lists nothing for an unknown id, which is
// shown as the API's not-found error.
async function ipsecServer(id, opts) {
  const [s] = await ipsecServersList({ "IpsecServerId.1": id }, opts);
  if (!s) throw new ApiError("InvalidIpsecServerId.NotFound", `The specified IpsecServerId does not exist (ListIpsecServers lists no ${id} in ${region()}).`);
  return s;
}

const clients = (s) => `${esc(s.OnlineClientCount ?? 0)} / ${esc(s.MaxConnections ?? "")}`;
const ike = (s) => {
  const k = s.IkeConfig || {};
  return `${esc(k.IkeVersion)} ${esc(k.IkeEncAlg)}/${esc(k.IkeAuthAlg)}/${esc(k.IkePfs)}`;
};

const IPSEC_SERVER_HEAD = ["Name / ID", "VPN gateway", "Address", "Client IP pool", "Local subnets", "IKE", "Clients"];
const ipsecServerRows = (servers) => servers.map((s) => ({
  id: s.IpsecServerId,
  cells: [nameAndId(s.IpsecServerId, s.IpsecServerName, `#/ipsec-server/${enc(s.IpsecServerId)}`), idText(s.VpnGatewayId),
    idText(s.InternetIp), esc(s.ClientIpPool), esc(s.LocalSubnet), ike(s), clients(s)],
}));

// The order of ListIpsecServers' answer in the API reference.
const IPSEC_SERVER_FIELDS = ["IpsecServerId", "IpsecServerName", "VpnGatewayId", "InternetIp", "ClientIpPool", "LocalSubnet",
  "OnlineClientCount", "MaxConnections", "PskEnabled", "Psk", "EffectImmediately", "MultiFactorAuthEnabled",
  "IDaaSInstanceId", "ResourceGroupId", "CreationTime", "RegionId"];

export function ipsecServerDetail(id) {
  return {
    title: () => `IPsec server ${id}`,
    poll: true,
    async load(root, { poll }) {
      const s = await ipsecServer(id, { poll });
      const lines = await call("vpc", "ListIpsecServerLogs", { RegionId: region(), IpsecServerId: id, MinutePeriod: 10, PageSize: 50 }, { poll })
        .then((b) => (b.Data || []).slice(-50), (e) => [`(logs unavailable: ${e.code})`]);
      const open = revealed(root);
      root.innerHTML = `<div class="bar"><h1 id="detail-title">${esc(s.IpsecServerName || "IPsec server")} <span class="muted">${idText(id)}</span></h1>` +
        actionsBar([`<a class="button" id="edit" href="#/ipsec-server/${enc(id)}/edit">Modify</a>`,
          `<button type="button" class="danger" id="delete">Delete</button>`]) + `</div>` +
        `<p class="error" id="action-error" role="alert"></p>` +
        `<div class="columns"><section><h2>Basic information</h2>${dl(s, IPSEC_SERVER_FIELDS, new Set(["Psk"]))}</section>` +
        `<section><h2>Clients</h2><dl class="state" id="state"><dt>Online</dt><dd id="online">${clients(s)}</dd>` +
        `<dt>Shared with</dt><dd>the gateway's SSL-VPN server (SslConnections)</dd></dl></section></div>` +
        `<div class="columns"><section><h2>IKE configuration <span class="muted">IkeConfig</span></h2>${dl(s.IkeConfig || {})}</section>` +
        `<section><h2>IPsec configuration <span class="muted">IpsecConfig</span></h2>${dl(s.IpsecConfig || {})}</section></div>` +
        `<h2>Logs <span class="muted">ListIpsecServerLogs, last 10 minutes, live</span></h2>` +
        `<pre id="logs" class="logs">${lines.length ? lines.map(esc).join("\n") : "No log lines in the last 10 minutes."}</pre>`;
      revealAgain(root, open);
      $("#delete", root).onclick = () => guarded(root, () => confirmAndDelete("IPsec server", id, "DeleteIpsecServer", { IpsecServerId: id }, "#/remote-access"));
    },
  };
}

// The key, then the server's IKE and IPsec settings (the connection form's
// fields; the key is the server's own `Psk`, not `IkeConfig.Psk`).
const serverIkeFields = (s = {}) => [
  secret("Psk", "Pre-shared key (empty: one is generated)", { value: s.Psk }),
  ...ikeIpsecFields("", s.IkeConfig, s.IpsecConfig).filter((f) => f.name !== "IkeConfig.Psk"),
  check("EffectImmediately", "End the sessions negotiated with old settings when they change (EffectImmediately)", { value: s.EffectImmediately }),
];

export const newIpsecServer = formPage("Create IPsec server", async (root) => {
  root.innerHTML = formHtml("ipsec-server-form", "Create IPsec server", [
    ...(await newServerFields("IpSecServerName", "10.100.0.0/24")),
    ...serverIkeFields(),
    hidden("PskEnabled", "true"),
  ], "Create", { cancel: "#/remote-access" });
  onSubmit($("#ipsec-server-form", root), async (p) => {
    const r = await call("vpc", "CreateIpsecServer", { RegionId: region(), ...p });
    go(`#/ipsec-server/${enc(r.IpsecServerId)}`);
  });
});

// Only what changed is sent: a new name alone is applied at once, anything
// else puts the gateway into `updating` for a moment.
export function editIpsecServer(id) {
  return formPage(`Modify IPsec server ${id}`, async (root) => {
    const s = await ipsecServer(id);
    root.innerHTML = formHtml("ipsec-server-form", `Modify IPsec server ${id}`, [
      text("IpsecServerName", "Name", { value: s.IpsecServerName }),
      text("ClientIpPool", "Client IP pool", { value: s.ClientIpPool }),
      text("LocalSubnet", "Local subnets (reachable by clients)", { value: s.LocalSubnet }),
      ...serverIkeFields(s),
    ], "Save", { cancel: `#/ipsec-server/${enc(id)}` });
    const form = $("#ipsec-server-form", root);
    form.elements.EffectImmediately.dataset.sendFalse = "1";
    const before = params(form);
    onSubmit(form, async (p) => {
      const changed = Object.fromEntries(Object.entries(p).filter(([k, v]) => String(before[k]) !== String(v)));
      if (Object.keys(changed).length) await call("vpc", "UpdateIpsecServer", { RegionId: region(), IpsecServerId: id, ...changed });
      go(`#/ipsec-server/${enc(id)}`);
    });
  });
}
