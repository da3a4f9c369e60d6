// Forms that create and modify resources. A form is a list of fields named
// after the API's parameters; `IkeConfig.Psk`-style names are gathered into
// the JSON-string parameters (IkeConfig, IpsecConfig, HealthCheckConfig,
// BgpConfig), everything else is sent as named (flattened lists included:
// `TunnelOptionsSpecification.1.CustomerGatewayId`). The API checks the
// values; its error is shown next to the field it names, and above the form.

import { esc, errorHtml } from "./ui.js";

const JSON_PARAMS = ["IkeConfig", "IpsecConfig", "HealthCheckConfig", "BgpConfig"];

export const IKE_ENC = ["aes", "aes192", "aes256", "des", "3des"];
export const AUTH = ["md5", "sha1", "sha256", "sha384", "sha512"];
export const DH = ["group1", "group2", "group5", "group14"];

// Field helpers: name, label, and options.
export const text = (name, label, o = {}) => ({ kind: "text", name, label, ...o });
export const number = (name, label, o = {}) => ({ kind: "number", name, label, ...o });
export const secret = (name, label, o = {}) => ({ kind: "password", name, label, ...o });
export const select = (name, label, options, o = {}) => ({ kind: "select", name, label, options, ...o });
export const check = (name, label, o = {}) => ({ kind: "checkbox", name, label, ...o });
export const group = (title, fields, o = {}) => ({ kind: "group", title, fields, ...o });
export const hidden = (name, value) => ({ kind: "hidden", name, value });

function fieldHtml(f) {
  if (f.kind === "group") {
    const inner = f.fields.map(fieldHtml).join("");
    return f.collapsed
      ? `<details class="group" ${f.id ? `id="${esc(f.id)}"` : ""}><summary>${esc(f.title)}</summary><div class="fields">${inner}</div></details>`
      : `<fieldset class="group" ${f.id ? `id="${esc(f.id)}"` : ""}><legend>${esc(f.title)}</legend><div class="fields">${inner}</div></fieldset>`;
  }
  if (f.kind === "hidden") return `<input type="hidden" name="${esc(f.name)}" value="${esc(f.value)}">`;
  const id = `f-${f.name.replace(/[^A-Za-z0-9]/g, "-")}`;
  const req = f.required ? " required" : "";
  const v = f.value ?? "";
  let input;
  if (f.kind === "select") {
    const opts = f.options.map((o) => (Array.isArray(o) ? o : [o, o]))
      .map(([val, lab]) => `<option value="${esc(val)}"${String(val) === String(v) ? " selected" : ""}>${esc(lab)}</option>`).join("");
    input = `<select id="${id}" name="${esc(f.name)}"${req}>${f.blank ? `<option value="">${esc(f.blank)}</option>` : ""}${opts}</select>`;
  } else if (f.kind === "checkbox") {
    return `<label class="check" data-param="${esc(f.name)}"><input type="checkbox" id="${id}" name="${esc(f.name)}"${v === true || v === "true" ? " checked" : ""}> ${esc(f.label)}</label>`;
  } else {
    input = `<input id="${id}" name="${esc(f.name)}" type="${f.kind}" value="${esc(v)}"${req}${f.placeholder ? ` placeholder="${esc(f.placeholder)}"` : ""} autocomplete="off">`;
  }
  return `<label data-param="${esc(f.name)}"><span>${esc(f.label)}${f.required ? " *" : ""}</span>${input}` +
    `${f.help ? `<small class="muted">${esc(f.help)}</small>` : ""}<small class="field-error" role="alert"></small></label>`;
}

export function formHtml(id, title, fields, submit, { cancel } = {}) {
  return `<form id="${esc(id)}" class="api-form" novalidate><h2>${esc(title)}</h2>` +
    `<p class="form-error error" role="alert"></p>${fields.map(fieldHtml).join("")}` +
    `<div class="actions"><button type="submit">${esc(submit)}</button>${cancel ? `<a class="button secondary" href="${cancel}">Cancel</a>` : ""}</div></form>`;
}

// The form's values as API parameters. Empty fields are not sent; checkboxes
// are sent as true/false when `sendFalse` or checked.
export function params(form) {
  const out = {};
  const json = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled || el.closest("[hidden]")) continue;
    let v;
    if (el.type === "checkbox") {
      if (!el.checked && !el.dataset.sendFalse && !JSON_PARAMS.includes(el.name.split(".")[0])) continue;
      v = el.checked;
    } else {
      v = el.value.trim();
      if (v === "") continue;
      if (el.type === "number") v = Number(v);
    }
    const [head, ...rest] = el.name.split(".");
    if (JSON_PARAMS.includes(head) && rest.length) (json[head] ||= {})[rest.join(".")] = v;
    else out[el.name] = v;
  }
  for (const [k, obj] of Object.entries(json)) out[k] = JSON.stringify(obj);
  return out;
}

// The field an API error is about: the one whose parameter (or its last
// word) the code or message names, the most specific first.
function fieldFor(form, e) {
  const text = `${e.code || ""} ${e.apiMessage || e.message || ""}`;
  let best = null;
  for (const label of form.querySelectorAll("label[data-param]")) {
    if (label.closest("[hidden]")) continue;
    const name = label.dataset.param;
    const words = [name, name.split(".").pop()];
    for (const w of words) {
      if (w && new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`).test(text) && (!best || w.length > best.w.length)) {
        best = { label, w };
      }
    }
  }
  return best && best.label;
}

export function clearErrors(form) {
  form.querySelector(".form-error").innerHTML = "";
  for (const el of form.querySelectorAll(".field-error")) el.textContent = "";
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

export function showFormError(form, e) {
  form.querySelector(".form-error").innerHTML = errorHtml(e);
  const label = fieldFor(form, e);
  if (label) {
    const small = label.querySelector(".field-error");
    if (small) small.textContent = `${e.code}: ${e.apiMessage || e.message}`;
    const input = label.querySelector("input, select");
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }
}

// Wires `form`: on submit, `action(params)`; an error stays on the form.
export function onSubmit(form, action) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await action(params(form));
    } catch (e) {
      showFormError(form, e);
    } finally {
      button.disabled = false;
    }
  });
}

// IKE and IPsec settings, for a single-tunnel connection (`IkeConfig.*`,
// `IpsecConfig.*`) or one tunnel of a dual-tunnel one (`prefix` =
// `TunnelOptionsSpecification.N.`, `TunnelIkeConfig.*`, `TunnelIpsecConfig.*`).
export function ikeIpsecFields(prefix, ike = {}, ipsec = {}) {
  const ik = prefix ? `${prefix}TunnelIkeConfig.` : "IkeConfig.";
  const ip = prefix ? `${prefix}TunnelIpsecConfig.` : "IpsecConfig.";
  return [
    secret(`${ik}Psk`, "Pre-shared key (empty: one is generated)", { value: ike.Psk }),
    select(`${ik}IkeVersion`, "IKE version", ["ikev1", "ikev2"], { value: ike.IkeVersion || "ikev2" }),
    group("IKE and IPsec algorithms", [
      select(`${ik}IkeMode`, "IKE mode (IKEv1)", ["main", "aggressive"], { value: ike.IkeMode || "main" }),
      select(`${ik}IkeEncAlg`, "IKE encryption", IKE_ENC, { value: ike.IkeEncAlg || "aes" }),
      select(`${ik}IkeAuthAlg`, "IKE authentication", AUTH, { value: ike.IkeAuthAlg || "sha1" }),
      select(`${ik}IkePfs`, "IKE DH group", DH, { value: ike.IkePfs || "group2" }),
      number(`${ik}IkeLifetime`, "IKE lifetime (s)", { value: ike.IkeLifetime ?? 86400 }),
      text(`${ik}LocalId`, "LocalId", { value: ike.LocalId }),
      text(`${ik}RemoteId`, "RemoteId", { value: ike.RemoteId }),
      select(`${ip}IpsecEncAlg`, "IPsec encryption", IKE_ENC, { value: ipsec.IpsecEncAlg || "aes" }),
      select(`${ip}IpsecAuthAlg`, "IPsec authentication", AUTH, { value: ipsec.IpsecAuthAlg || "sha1" }),
      select(`${ip}IpsecPfs`, "IPsec DH group", ["disabled", ...DH], { value: ipsec.IpsecPfs || "group2" }),
      number(`${ip}IpsecLifetime`, "IPsec lifetime (s)", { value: ipsec.IpsecLifetime ?? 86400 }),
    ], { collapsed: true }),
  ];
}
