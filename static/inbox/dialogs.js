// Modal dialogs of the session view: transfer, end chat, the image lightbox.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { loadPhones, phoneDot, phoneLabel, phoneState } from "../core/phone.js";
import { loadUsers } from "./list.js";
import { S, me, pane, showError } from "./state.js";

/** A modal form; `onSubmit` may throw, and its error is shown in the dialog. A second click on
 *  the button that opened it (while it was still loading) does not stack a second dialog. */
export function dialog(title, fields, submitLabel, onSubmit) {
  const open = document.querySelector("dialog.dlg[open]");
  if (open) return open;
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", text: submitLabel });
  const cancel = h("button", { type: "button", text: t("common.cancel") });
  const form = h("form", { method: "dialog" }, h("h3", { text: title }), fields, err, h("div", { class: "dlg-actions" }, cancel, submit));
  const dlg = h("dialog", { class: "dlg" }, form);
  cancel.addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => dlg.remove());
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.hidden = true;
    submit.disabled = true;
    try {
      await onSubmit();
      dlg.close();
    } catch (ex) {
      showError(err, ex);
    } finally {
      submit.disabled = false;
    }
  });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}

export async function transferDialog() {
  if (!S.users.size) await loadUsers();
  await loadPhones();
  // An option holds text only: the phone's words go after the name, the dot beside the choice.
  const optionText = (u) => {
    const st = phoneState(u.id);
    return u.display_name + (u.extension ? " (" + u.extension + ")" : "") + (st ? " · " + phoneLabel(st) : "");
  };
  const owner = S.detail && S.detail.session.assignee;
  const sel = h(
    "select",
    { id: "transfer-to", required: true },
    h("option", { value: "", text: "—" }),
    // Back to the queue: every member sees it as unassigned again.
    owner ? h("option", { value: "queue", text: t("inbox.to_queue") }) : null,
    Array.from(S.users.values())
      .filter((u) => u.id !== me && u.id !== owner && !u.disabled)
      .map((u) => h("option", { value: u.id, text: optionText(u) })),
  );
  const chosen = h("p", { class: "transfer-phone", id: "transfer-phone", "aria-live": "polite" });
  const showChosen = () => {
    const u = S.users.get(Number(sel.value));
    const st = u && phoneState(u.id);
    chosen.replaceChildren(...(st ? [phoneDot(u.id), " " + u.display_name + ": " + phoneLabel(st)] : []));
  };
  sel.addEventListener("change", showChosen);
  const note = h("textarea", { id: "transfer-note", rows: "3", maxlength: "2000" });
  const id = S.current;
  const fields = [h("label", {}, t("inbox.transfer_to"), sel), chosen, h("label", {}, t("inbox.transfer_note"), note)];
  dialog(t("inbox.transfer"), fields, t("inbox.transfer"), async () => {
    const to = sel.value === "queue" ? null : Number(sel.value);
    await api("POST", "/api/v1/sessions/" + id + "/transfer", { to_user_id: to, note: note.value });
    // The dialog closes as soon as the server has accepted; the pane redraws behind it.
    if (S.current === id) pane.refresh().catch(() => {});
  });
}

export async function endDialog() {
  // The result is picked from the admin's list (Admin → Lists); without a list, none is asked.
  let items = [];
  try {
    const r = await api("GET", "/api/v1/results");
    items = (r && r.items) || [];
  } catch {
    /* no list: no result asked */
  }
  const result = h("select", { id: "end-result" }, h("option", { value: "", text: t("inbox.no_result") }), items.map((v) => h("option", { value: v, text: v })));
  const note = h("textarea", { id: "end-note", rows: "3", maxlength: "2000" });
  const id = S.current;
  const fields = [items.length ? h("label", {}, t("inbox.result"), result) : null, h("label", {}, t("inbox.close_note"), note)];
  dialog(t("inbox.end"), fields, t("inbox.end"), async () => {
    await api("POST", "/api/v1/sessions/" + id + "/close", { result: result.value || null, note: note.value });
    // The dialog closes as soon as the server has accepted; the pane redraws behind it.
    if (S.current === id) pane.refresh().catch(() => {});
  });
}

/** A local `YYYY-MM-DDTHH:MM` for a datetime-local input. */
function localInput(d) {
  const p = (n) => String(n).padStart(2, "0");
  return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + "T" + p(d.getHours()) + ":" + p(d.getMinutes());
}

/** Snooze the open conversation: in an hour, this evening, tomorrow morning or a chosen time. */
export function snoozeDialog() {
  const now = new Date();
  const inHour = new Date(now.getTime() + 3600e3);
  const tomorrow = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 8, 0);
  const when = h("select", { id: "snooze-when" }, h("option", { value: "hour", text: t("inbox.snooze_hour") }), h("option", { value: "tomorrow", text: t("inbox.snooze_tomorrow") }), h("option", { value: "custom", text: t("inbox.snooze_custom") }));
  const at = h("input", { type: "datetime-local", id: "snooze-at", value: localInput(tomorrow), min: localInput(now) });
  const atLabel = h("label", { hidden: true }, t("inbox.snooze_at"), at);
  when.addEventListener("change", () => (atLabel.hidden = when.value !== "custom"));
  const id = S.current;
  const fields = [h("p", { class: "hint", text: t("inbox.snooze_hint") }), h("label", {}, t("inbox.snooze_when"), when), atLabel];
  dialog(t("inbox.snooze"), fields, t("inbox.snooze"), async () => {
    let until = when.value === "hour" ? inHour.getTime() : tomorrow.getTime();
    if (when.value === "custom") until = at.value ? new Date(at.value).getTime() : NaN;
    await api("POST", "/api/v1/sessions/" + id + "/snooze", { until: Number.isFinite(until) ? until : 0 });
    // It leaves the list; the pane stays open (it says until when).
    if (S.current === id) pane.refresh().catch(() => {});
  });
}

/** An image at full size; a click anywhere but the download link closes it. */
export function lightbox(url, name) {
  const img = h("img", { src: url, alt: name });
  const bar = h("div", { class: "lb-bar" }, h("a", { href: url, download: name, text: name }), h("button", { type: "button", text: "×", "aria-label": t("inbox.close") }));
  const dlg = h("dialog", { class: "lightbox" }, img, bar);
  dlg.addEventListener("click", (e) => {
    if (e.target.tagName !== "A") dlg.close();
  });
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
}
