// "New conversation": the agent starts a conversation with a customer (POST /api/v1/sessions).
// SMS takes free text; WhatsApp only an approved template (one field per parameter, with a
// preview). The number is typed or taken from a contact found by name or number.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { dialog } from "./dialogs.js";
import { fetchRow } from "./list.js";
import { pane } from "./state.js";

const STARTABLE = new Set(["sms", "whatsapp"]);

/** How many parameters a template takes (`params` is a count; the body's `{{n}}` agree). */
function paramCount(x) {
  const n = typeof x.params === "number" ? x.params : (x.params || []).length;
  return Math.max(n, ((x.body || "").match(/\{\{\d+\}\}/g) || []).length);
}

function render(body, values) {
  return (body || "").replace(/\{\{(\d+)\}\}/g, (m, i) => values[Number(i) - 1] || m);
}

export async function startDialog() {
  let channels;
  try {
    channels = (await api("GET", "/api/v1/channels")).filter((c) => STARTABLE.has(c.kind));
  } catch {
    channels = [];
  }
  const chSel = h(
    "select",
    { id: "start-channel", name: "channel", required: true },
    channels.map((c) => h("option", { value: c.id, dataset: { kind: c.kind }, text: c.name === t("ch." + c.kind) ? c.name : c.name + " · " + t("ch." + c.kind) })),
  );
  const to = h("input", { id: "start-to", name: "to", type: "tel", required: true, autocomplete: "off", placeholder: "+4930123456" });
  const found = h("ul", { class: "pick-list", id: "start-found" });
  const name = h("input", { id: "start-name", name: "name", maxlength: "100", autocomplete: "off" });
  const text = h("textarea", { id: "start-text", rows: "4", maxlength: "1600" });
  const textLabel = h("label", {}, t("inbox.start_message"), text);
  const tplSel = h("select", { id: "start-template" });
  const tplLabel = h("label", {}, t("inbox.start_template"), tplSel);
  const params = h("div", { class: "tpl-params", id: "start-params" });
  const preview = h("p", { class: "tpl-preview", id: "start-preview", "aria-live": "polite" });
  let templates = [];

  const values = () => Array.from(params.querySelectorAll("input")).map((i) => i.value);
  const showPreview = () => {
    const x = templates[Number(tplSel.value)];
    preview.textContent = x ? render(x.body, values()) : "";
  };
  const pickTemplate = () => {
    const x = templates[Number(tplSel.value)];
    const n = x ? paramCount(x) : 0;
    params.replaceChildren(
      ...Array.from({ length: n }, (_, i) => {
        const inp = h("input", { required: true, maxlength: "1000", dataset: { param: i + 1 } });
        inp.addEventListener("input", showPreview);
        return h("label", {}, t("inbox.start_param") + " " + (i + 1), inp);
      }),
    );
    showPreview();
  };
  tplSel.addEventListener("change", pickTemplate);

  const kind = () => (chSel.selectedOptions[0] ? chSel.selectedOptions[0].dataset.kind : "");
  const onChannel = async () => {
    const wa = kind() === "whatsapp";
    textLabel.hidden = wa;
    text.required = !wa;
    tplLabel.hidden = !wa;
    params.hidden = !wa;
    preview.hidden = !wa;
    if (!wa) return;
    try {
      templates = await api("GET", "/api/v1/templates?channel_id=" + chSel.value);
    } catch {
      templates = [];
    }
    tplSel.replaceChildren(
      h("option", { value: "", text: templates.length ? t("inbox.choose_template") : t("inbox.no_templates") }),
      ...templates.map((x, i) => h("option", { value: i, text: x.name + " (" + x.language + ")" })),
    );
    tplSel.required = true;
    pickTemplate();
  };
  chSel.addEventListener("change", onChannel);

  // Contacts found by name or number: a click fills in the number and the name.
  let timer = 0;
  to.addEventListener("input", () => {
    clearTimeout(timer);
    const q = to.value.trim();
    if (q.length < 2) return found.replaceChildren();
    timer = setTimeout(async () => {
      try {
        const list = await api("GET", "/api/v1/contacts?limit=8&q=" + encodeURIComponent(q));
        const rows = [];
        for (const e of list) {
          for (const c of [e.contact, ...(e.aliases || [])]) {
            if (!/^\+?\d{5,15}$/.test(c.address)) continue;
            const b = h("button", { type: "button", class: "pick", text: (c.name || c.address) + " · " + c.address });
            b.addEventListener("click", () => {
              to.value = c.address;
              if (c.name && !name.value) name.value = c.name;
              found.replaceChildren();
            });
            rows.push(h("li", {}, b));
          }
        }
        found.replaceChildren(...rows);
      } catch {
        found.replaceChildren();
      }
    }, 200);
  });

  const fields = [
    h("label", {}, t("inbox.start_channel"), chSel),
    h("label", {}, t("inbox.start_to"), to),
    found,
    h("label", {}, t("inbox.start_name"), name),
    textLabel,
    tplLabel,
    params,
    preview,
  ];
  if (!channels.length) fields.unshift(h("p", { class: "error", text: t("inbox.start_no_channel") }));
  dialog(t("inbox.start_title"), fields, t("inbox.start_send"), async () => {
    const body = { channel_id: Number(chSel.value), to: to.value.trim(), name: name.value.trim() || null, text: "" };
    if (kind() === "whatsapp") {
      const x = templates[Number(tplSel.value)];
      if (!x) throw new Error(t("inbox.start_pick_template"));
      body.template = { name: x.name, language: x.language, params: values() };
    } else {
      body.text = text.value;
    }
    const r = await api("POST", "/api/v1/sessions", body);
    await fetchRow(r.session_id);
    pane.open(r.session_id, { push: true });
  });
  onChannel();
}
