// The details panel beside the conversation: the customer (name editable), the session,
// previous conversations and the timeline.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { keysWith, t } from "../core/i18n.js";
import { fmtDateTime } from "../core/time.js";
import { renderHeader } from "./header.js";
import { renderList } from "./list.js";
import { activityDetail } from "./messages.js";
import { S, kindName, pane, paneEl, root, showError, userName } from "./state.js";

/** `[label, value]` pairs as a definition list (empty values left out). */
function dl(pairs) {
  return h(
    "dl",
    {},
    pairs.filter((p) => p[1] !== undefined && p[1] !== "").map(([k, v]) => [h("dt", { text: k }), h("dd", {}, v)]),
  );
}

function nameForm(c, s) {
  const nameIn = h("input", { id: "contact-name", value: c.name || "", maxlength: "100", "aria-label": t("inbox.name") });
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { class: "name-edit" }, nameIn, h("button", { type: "submit", text: t("common.save") }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    try {
      await api("PATCH", "/api/v1/contacts/" + c.id, { name: nameIn.value });
      await pane.refresh();
      const r = S.rows.get(s.id);
      if (r) r.contact_name = nameIn.value || c.address;
      renderList();
    } catch (ex) {
      showError(err, ex);
    }
  });
  return [form, err];
}

/** The customer's language (automatic replies use it): unknown or one Switchboard ships. */
function languageEl(c) {
  const sel = h("select", { id: "contact-language" }, h("option", { value: "", text: t("inbox.language_unknown") }));
  for (const k of keysWith("lang.of_")) {
    const code = k.slice("lang.of_".length);
    sel.append(h("option", { value: code, text: t(k), selected: c.language === code }));
  }
  if (!c.language) sel.value = "";
  const err = h("p", { class: "error", role: "alert", id: "language-error", hidden: true });
  sel.addEventListener("change", async () => {
    err.hidden = true;
    try {
      await api("PUT", "/api/v1/contacts/" + c.id + "/language", { language: sel.value || null });
      await pane.refresh();
    } catch (ex) {
      showError(err, ex);
    }
  });
  return [h("label", { class: "contact-language" }, t("inbox.language") + " ", sel), err];
}

/** The session's tags: chips with a remove button, and a field to add one of the admin's. */
function tagsEl(s) {
  const err = h("p", { class: "error", role: "alert", id: "tag-error", hidden: true });
  const save = async (tags) => {
    err.hidden = true;
    try {
      await api("PUT", "/api/v1/sessions/" + s.id + "/tags", { tags });
      await pane.refresh();
      const r = S.rows.get(s.id);
      if (r) r.tags = tags;
      renderList();
      return true;
    } catch (ex) {
      showError(err, ex);
      return false;
    }
  };
  const chips = (s.tags || []).map((x) => {
    const rm = h("button", { type: "button", class: "tag-x", "aria-label": t("inbox.remove_tag") + " " + x, title: t("inbox.remove_tag"), text: "×" });
    rm.addEventListener("click", () => save((s.tags || []).filter((y) => y !== x)));
    return h("span", { class: "tag-chip", dataset: { tag: x } }, x, rm);
  });
  const list = h("datalist", { id: "tag-options" });
  api("GET", "/api/v1/tags")
    .then((r) => list.replaceChildren(...((r && r.items) || []).map((x) => h("option", { value: x }))))
    .catch(() => {});
  const input = h("input", { id: "tag-input", list: "tag-options", maxlength: "50", autocomplete: "off", "aria-label": t("inbox.add_tag") });
  const form = h("form", { class: "tag-add" }, input, list, h("button", { type: "submit", text: t("inbox.add_tag") }));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const v = input.value.trim();
    if (!v) return;
    if (await save([...(s.tags || []), v])) input.value = "";
  });
  return [h("div", { class: "tags", id: "session-tags" }, chips), form, err];
}

export function detailsEl() {
  const d = S.detail;
  const s = d.session;
  const c = d.contact || {};
  const history = (d.history || []).map((x) =>
    h(
      "li",
      {},
      h("a", { href: "/chat/external/" + x.id, dataset: { id: x.id }, text: fmtDateTime(x.created) + " · " + (x.status === "open" ? t("inbox.open") : t("inbox.closed")) }),
      h("div", { class: "muted", text: x.last_preview || "" }),
    ),
  );
  const tl = (d.timeline || []).map((e) =>
    h(
      "li",
      {},
      h("time", { text: fmtDateTime(e.at) }),
      h("span", { text: " " + t("tl." + e.kind) + (e.actor ? " · " + userName(e.actor) : "") + activityDetail(e, " · ") }),
    ),
  );
  const closeX = h("button", { type: "button", class: "details-x", "aria-label": t("inbox.close"), text: "×" });
  closeX.addEventListener("click", () => {
    S.showDetails = false;
    root.classList.remove("show-details");
    renderHeader();
  });
  const status = s.status === "open" ? t("inbox.open") : t("inbox.closed") + (s.result ? " · " + s.result : "") + (s.close_note ? " · " + s.close_note : "");
  const panel = h(
    "aside",
    { class: "details", id: "details" },
    closeX,
    h("h3", { text: t("inbox.customer") }),
    nameForm(c, s),
    dl([
      [t("inbox.number"), c.username && !c.phone && c.user_id === c.address ? "" : c.phone || c.address || s.contact_address],
      ...(c.username ? [[t("inbox.wa_username"), "@" + c.username.replace(/^@/, "")]] : []),
      ...(c.user_id ? [[t("inbox.wa_user_id"), c.user_id]] : []),
      ...(c.opted_out ? [[t("inbox.sms_opted_out"), c.opted_out.keyword + " · " + fmtDateTime(c.opted_out.at)]] : []),
      [t("inbox.email"), c.email || ""],
      [t("inbox.channel"), kindName(s.channel_kind)],
      [t("inbox.blocked"), s.blocked ? "✓" : ""],
    ]),
    c.id ? languageEl(c) : [],
    h("h3", { text: t("inbox.session") }),
    dl([
      [t("inbox.channel"), d.channel ? d.channel.name : ""],
      [t("inbox.business_number"), d.channel ? d.channel.business_address : ""],
      [t("inbox.arrived"), fmtDateTime(s.created)],
      [t("inbox.owner"), s.assignee ? userName(s.assignee) : t("inbox.nobody")],
      [t("inbox.status"), status],
    ]),
    h("h3", { text: t("inbox.tags") }),
    tagsEl(s),
    h("h3", { text: t("inbox.previous") }),
    history.length ? h("ul", { class: "history" }, history) : h("p", { class: "muted", text: t("inbox.none") }),
    h("h3", { text: t("inbox.timeline") }),
    h("ol", { class: "timeline" }, tl),
  );
  panel.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-id]");
    if (a) {
      e.preventDefault();
      pane.open(Number(a.dataset.id), { push: true });
    }
  });
  return panel;
}

export function renderDetails() {
  const old = paneEl.querySelector("#details");
  if (old && S.detail) old.replaceWith(detailsEl());
}
