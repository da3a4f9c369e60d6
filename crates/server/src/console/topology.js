// The topology drawing: VPN gateways on the left, customer gateways on the
// right, one line per tunnel (a dual-tunnel connection draws two, each
// labelled with its role), coloured by the tunnel's measured Status and
// labelled with the connection's name and subnets. Names come first, ids
// second; long names are cut to fit their box (the whole name is in the
// tooltip). The drawing is laid out for the width it is given, so text
// stays at its normal size from 760 px up.

import { STATUS_COLORS, esc, statusClass } from "./ui.js";

const tunnelsOf = (v) => ((v.TunnelOptionsSpecification || {}).TunnelOptions || []);

// Text cut to `max` characters, with an ellipsis.
const fit = (s, max) => (s.length <= max ? s : s.slice(0, Math.max(1, max - 1)) + "…");
// Average width of a 12 px system-ui character: a first cut of the text,
// before `fitLabels` measures it in the page.
const CHAR_W = 7.2;

export const LEGEND = [
  ["ipsec_sa_established", "IPsec SA up: traffic can flow"],
  ["ike_sa_established", "IKE up, no IPsec SA yet"],
  ["ipsec_sa_not_established", "IPsec SA failed"],
  ["ike_sa_not_established", "grey: nothing negotiated — no data plane (vpngw agent) runs this gateway, or the peer never answered"],
];

export function topology(gws, cgws, vcos, width) {
  if (!gws.length && !cgws.length) return `<p class="muted">Nothing to draw yet: create a VPN gateway and a customer gateway.</p>`;
  width = Math.max(520, Math.floor(width));
  const boxW = Math.min(240, Math.floor(width * 0.28)), boxH = 44, rowH = 64;
  const leftX = 8, rightX = width - boxW - 8;
  const gy = new Map(gws.map((g, i) => [g.VpnGatewayId, 16 + i * rowH]));
  const cy = new Map(cgws.map((c, i) => [c.CustomerGatewayId, 16 + i * rowH]));
  const edges = [];
  for (const v of vcos) {
    const tunnels = tunnelsOf(v);
    const legs = tunnels.length
      ? tunnels.map((t) => ({ cgw: t.CustomerGatewayId, status: t.Status, tunnel: t.TunnelId, role: t.Role || `tunnel ${t.TunnelIndex || ""}` }))
      : [{ cgw: v.CustomerGatewayId, status: v.Status, tunnel: "", role: "" }];
    for (const leg of legs) {
      if (!gy.has(v.VpnGatewayId) || !cy.has(leg.cgw)) continue;
      edges.push({ vco: v, ...leg });
    }
  }
  const rows = Math.max(gws.length, cgws.length, 1);
  const height = rows * rowH + 24 + Math.max(0, edges.length - rows) * 18;
  const labelChars = Math.floor((rightX - leftX - boxW - 24) / CHAR_W);
  const parts = [`<svg id="topology-svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Topology: VPN gateways, tunnels and customer gateways">`];
  edges.forEach((e) => {
    const y1 = gy.get(e.vco.VpnGatewayId) + boxH / 2, y2 = cy.get(e.cgw) + boxH / 2;
    const x1 = leftX + boxW, x2 = rightX, mx = (x1 + x2) / 2;
    // Two tunnels between the same boxes are drawn apart.
    const spread = e.role === "slave" ? 10 : e.role === "master" ? -10 : 0;
    const my = (y1 + y2) / 2 + spread;
    const color = STATUS_COLORS[statusClass(e.status)];
    const name = e.vco.Name || e.vco.VpnConnectionId;
    const label = fit(`${name}${e.role ? ` (${e.role})` : ""} · ${e.vco.LocalSubnet || ""} ⇄ ${e.vco.RemoteSubnet || ""}`, labelChars);
    const href = `#/connection/${encodeURIComponent(e.vco.VpnConnectionId)}`;
    parts.push(`<a href="${href}" class="edge-link" data-vco="${esc(e.vco.VpnConnectionId)}" data-tunnel="${esc(e.tunnel)}" data-role="${esc(e.role)}" data-status="${esc(e.status)}">` +
      `<title>${esc(name)} ${esc(e.role)} (${esc(e.tunnel || e.vco.VpnConnectionId)}): ${esc(e.status)}\n${esc(e.vco.LocalSubnet)} ⇄ ${esc(e.vco.RemoteSubnet)}</title>` +
      `<path class="edge" stroke="${color}" d="M${x1},${y1} C${mx},${y1 + spread} ${mx},${y2 + spread} ${x2},${y2}"/>` +
      `<circle cx="${mx}" cy="${my}" r="5" fill="${color}"/>` +
      `<text class="edge-label" x="${mx}" y="${my - 8}" text-anchor="middle" data-room="${x2 - x1 - 16}">${esc(label)}</text></a>`);
  });
  const maxChars = Math.floor((boxW - 16) / CHAR_W);
  const node = (x, y, id, name, sub, cls, href) =>
    `<a href="${href}" class="node-link"><g class="node ${cls}" data-id="${esc(id)}"><title>${esc(name || id)}\n${esc(id)}${sub ? `\n${esc(sub)}` : ""}</title>` +
    `<rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="4"/>` +
    `<text class="name" x="${x + 8}" y="${y + 18}" data-room="${boxW - 16}">${esc(fit(name || id, maxChars))}</text>` +
    `<text class="sub" x="${x + 8}" y="${y + 35}" data-room="${boxW - 16}">${esc(fit([name ? id : "", sub].filter(Boolean).join(" · "), maxChars + 2))}</text></g></a>`;
  gws.forEach((g) => parts.push(node(leftX, gy.get(g.VpnGatewayId), g.VpnGatewayId, g.Name, g.InternetIp, "gw",
    `#/gateway/${encodeURIComponent(g.VpnGatewayId)}`)));
  cgws.forEach((c) => parts.push(node(rightX, cy.get(c.CustomerGatewayId), c.CustomerGatewayId, c.Name, c.IpAddress, "cgw",
    `#/customer-gateway/${encodeURIComponent(c.CustomerGatewayId)}`)));
  parts.push("</svg>");
  return parts.join("");
}

// Cuts each label of the drawing (in the page, after `topology`) to the
// room it has, as measured by the browser: the fonts decide, not an estimate.
export function fitLabels(root) {
  for (const t of root.querySelectorAll("text[data-room]")) {
    const room = Number(t.dataset.room);
    if (t.getComputedTextLength() <= room) continue;
    const full = t.textContent.replace(/…$/, "");
    let lo = 0, hi = full.length; // the longest prefix that fits, with its ellipsis
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      t.textContent = full.slice(0, mid) + "…";
      if (t.getComputedTextLength() <= room) lo = mid; else hi = mid - 1;
    }
    t.textContent = full.slice(0, Math.max(1, lo)) + "…";
  }
}

export function legend() {
  return `<ul class="legend">${LEGEND.map(([s, text]) =>
    `<li><span class="badge ${statusClass(s)}" data-status="${esc(s)}">${esc(s)}</span> <span class="muted">${esc(text)}</span></li>`).join("")}</ul>`;
}
