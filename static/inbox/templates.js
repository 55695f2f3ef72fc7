// The template picker that replaces the composer when only templates may be sent (WhatsApp
// outside the 24-hour window).
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { upsertMessage } from "./messages.js";
import { S, showError } from "./state.js";

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
    const body = h("div", { class: "tpl-body" });
    const params = h("div", { class: "tpl-params" });
    const sendBtn = h("button", { type: "button", class: "primary", id: "template-send", text: t("inbox.template_send"), disabled: true });
    sel.addEventListener("change", () => {
      const x = list[Number(sel.value)];
      sendBtn.disabled = !x;
      body.textContent = x ? x.body || "" : "";
      const n = x ? Math.max((x.params || []).length, ((x.body || "").match(/\{\{\d+\}\}/g) || []).length) : 0;
      params.replaceChildren(
        ...Array.from({ length: n }, (_, i) =>
          h("input", { placeholder: (x.params && x.params[i] && (x.params[i].name || x.params[i])) || "{{" + (i + 1) + "}}", "aria-label": "param " + (i + 1) }),
        ),
      );
    });
    sendBtn.addEventListener("click", async () => {
      const x = list[Number(sel.value)];
      if (!x) return;
      err.hidden = true;
      sendBtn.disabled = true;
      try {
        const values = Array.from(params.querySelectorAll("input")).map((i) => i.value);
        const m = await api("POST", "/api/v1/sessions/" + S.current + "/messages", {
          text: "",
          template: { name: x.name, language: x.language, params: values },
        });
        upsertMessage(m);
      } catch (e) {
        showError(err, e);
      } finally {
        sendBtn.disabled = false;
      }
    });
    box.replaceChildren(sel, body, params, sendBtn);
  };
  if (S.templates) {
    fill(S.templates);
  } else {
    api("GET", "/api/v1/templates")
      .then((list) => {
        S.templates = Array.isArray(list) ? list : (list && list.templates) || [];
        fill(S.templates);
      })
      .catch(() => fill([]));
  }
  return box;
}
