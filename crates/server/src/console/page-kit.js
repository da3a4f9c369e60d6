// What every page module shares: navigation, the gateways list, the bar of
// action buttons, guarded actions (their error shown on the page), deletes
// behind a confirmation, and form pages (never polled: a refresh must not
// undo what someone is typing).

import { call, listAll, region } from "./api.js";
import { $, errorHtml } from "./ui.js";

export const go = (hash) => { location.hash = hash; };
export const enc = encodeURIComponent;

export const gatewaysList = (opts) => listAll("DescribeVpnGateways", ["VpnGateways", "VpnGateway"], {}, opts);

export async function confirmAndDelete(what, id, action, params, back) {
  if (!window.confirm(`Delete ${what} ${id}? This cannot be undone.`)) return;
  await call("vpc", action, { RegionId: region(), ...params });
  go(back);
}

export function actionsBar(buttons) {
  return `<div class="actions">${buttons.join("")}</div>`;
}

// Runs a button's action; its error is shown on the page.
export async function guarded(root, action) {
  const el = $("#action-error", root);
  if (el) el.innerHTML = "";
  try {
    await action();
  } catch (e) {
    if (el) el.innerHTML = errorHtml(e);
  }
}

export function formPage(title, build) {
  return { title: () => title, poll: false, load: build };
}
