// The template picker that replaces the composer when only templates may be sent (WhatsApp
// outside the 24-hour window): one field per parameter ({{1}}, {{2}}, … of the body), a live
// preview of the rendered text, and a clear message beside the fields when one is missing or
// too long (nothing is sent then).
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { upsertMessage } from "./messages.js";
import { S, showError } from "./state.js";

/** The most characters WhatsApp (and the server) take for one parameter. */
export const PARAM_MAX = 1024;

/** How many parameters a template takes: the API answers a count (`"params": 2`). */
export function paramCount(x) {
  if (!x) return 0;
  if (typeof x.params === "number") return x.params;
  if (Array.isArray(x.params)) return x.params.length;
  const nums = ((x.body || "").match(/\{\{(\d+)\}\}/g) || []).map((m) => Number(m.slice(2, -2)));
  return nums.length ? Math.max(...nums) : 0;
}

/** The body with {{i}} replaced by the i-th value (an empty value stays as {{i}}). */
export function renderBody(body, values) {
  return (body || "").replace(/\{\{(\d+)\}\}/g, (all, n) => {
    const v = values[Number(n) - 1];
    return v && v.trim() ? v.trim() : all;
  });
}

/** The first problem with the values, as a sentence for the person, or "". */
export function paramProblem(values) {
  const empty = values.findIndex((v) => !v.trim());
  if (empty >= 0) return t("inbox.param_missing").replace("{n}", String(empty + 1));
  const long = values.findIndex((v) => v.trim().length > PARAM_MAX);
  if (long >= 0) return t("inbox.param_too_long").replace("{n}", String(long + 1)).replace("{max}", String(PARAM_MAX));
  return "";
}

function loadTemplates() {
  const ch = S.detail && S.detail.session.channel_id;
  S.templates = S.templates || new Map();
  if (S.templates.has(ch)) return Promise.resolve(S.templates.get(ch));
  return api("GET", "/api/v1/templates" + (ch ? "?channel_id=" + ch : "")).then((list) => {
    const l = Array.isArray(list) ? list : (list && list.templates) || [];
    S.templates.set(ch, l);
    return l;
  });
}

export function templatePicker(err) {
  const box = h("div", { class: "templates", id: "templates" }, h("p", { class: "muted", text: t("inbox.templates") + "…" }));
  const fill = (list) => {
    if (!list.length) return box.replaceChildren(h("p", { class: "no-templates", text: t("inbox.no_templates") }));
    const sel = h(
      "select",
      { id: "template-select", "aria-label": t("inbox.choose_template") },
      h("option", { value: "", text: t("inbox.choose_template") }),
      list.map((x, i) => h("option", { value: i, text: x.name + " (" + x.language + ")" })),
    );
    const preview = h("div", { class: "tpl-body", id: "template-preview", "aria-live": "polite" });
    const params = h("div", { class: "tpl-params" });
    const sendBtn = h("button", { type: "button", class: "primary", id: "template-send", text: t("inbox.template_send"), disabled: true });
    const inputs = () => Array.from(params.querySelectorAll("input"));
    const values = () => inputs().map((i) => i.value);
    const current = () => (sel.value === "" ? null : list[Number(sel.value)]);
    const update = () => {
      const x = current();
      preview.textContent = x ? renderBody(x.body, values()) : "";
    };
    sel.addEventListener("change", () => {
      const x = current();
      sendBtn.disabled = !x;
      err.hidden = true;
      params.replaceChildren(
        ...Array.from({ length: paramCount(x) }, (_, i) => {
          const label = t("inbox.param") + " {{" + (i + 1) + "}}";
          const inp = h("input", { id: "template-param-" + (i + 1), name: "param" + (i + 1), maxlength: String(PARAM_MAX + 1), "aria-label": label, placeholder: "{{" + (i + 1) + "}}" });
          inp.addEventListener("input", () => {
            inp.removeAttribute("aria-invalid");
            update();
          });
          return h("label", { class: "tpl-param" }, h("span", { text: label }), inp);
        }),
      );
      update();
    });
    sendBtn.addEventListener("click", async () => {
      const x = current();
      if (!x) return;
      err.hidden = true;
      const vals = values();
      const problem = paramProblem(vals);
      if (problem) {
        err.textContent = problem;
        err.hidden = false;
        const bad = inputs().find((i) => !i.value.trim() || i.value.trim().length > PARAM_MAX);
        if (bad) {
          bad.setAttribute("aria-invalid", "true");
          bad.focus();
        }
        return;
      }
      sendBtn.disabled = true;
      try {
        const m = await api("POST", "/api/v1/sessions/" + S.current + "/messages", {
          text: "",
          template: { name: x.name, language: x.language, params: vals.map((v) => v.trim()) },
        });
        upsertMessage(m);
        sel.value = "";
        sel.dispatchEvent(new Event("change"));
      } catch (e) {
        showError(err, e);
      } finally {
        sendBtn.disabled = sel.value === "";
      }
    });
    box.replaceChildren(sel, params, preview, sendBtn);
  };
  loadTemplates()
    .then(fill)
    .catch(() => fill([]));
  return box;
}
