// Keyboard shortcuts of the inbox (docs/keyboard.md): j / k next and previous conversation,
// r reply, n internal note, p pick up, e end the chat, ? this list. They act only when the
// focus is not in a field and no dialog is open; Esc closes the list.
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { focusPane, openSession } from "./pane.js";
import { setMode } from "./composer.js";
import { S, listEl, paneEl } from "./state.js";

export const SHORTCUTS = [
  ["j", "inbox.kb_next"],
  ["k", "inbox.kb_prev"],
  ["r", "inbox.kb_reply"],
  ["n", "inbox.kb_note"],
  ["p", "inbox.kb_pickup"],
  ["e", "inbox.kb_end"],
  ["?", "inbox.kb_help"],
];

/** Opens the next (+1) or previous (-1) conversation of the list, focus in its pane. */
function step(dir) {
  const ids = [...listEl.querySelectorAll("li.srow")].map((li) => Number(li.dataset.id));
  if (!ids.length) return;
  const at = ids.indexOf(S.current);
  const next = at < 0 ? (dir > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + dir));
  if (ids[next] !== S.current) openSession(ids[next], { push: true, focus: true });
}

function press(action) {
  const b = paneEl.querySelector('.s-actions [data-action="' + action + '"]');
  if (b) b.click();
}

export function helpDialog() {
  if (document.getElementById("kb-help")) return;
  const close = h("button", { type: "button", class: "primary", text: t("inbox.close") });
  const rows = SHORTCUTS.map(([key, label]) => h("tr", {}, h("td", {}, h("kbd", { text: key })), h("td", { text: t(label) })));
  const dlg = h(
    "dialog",
    { class: "dlg", id: "kb-help", "aria-labelledby": "kb-help-title" },
    h(
      "form",
      { method: "dialog" },
      h("h3", { id: "kb-help-title", text: t("inbox.kb_title") }),
      h("table", { class: "kb-table" }, h("tbody", {}, rows)),
      h("div", { class: "dlg-actions" }, close),
    ),
  );
  close.addEventListener("click", () => dlg.close());
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  close.focus();
}

function typing(el) {
  return !!el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
}

export function wireShortcuts() {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (typing(e.target) || document.querySelector("dialog[open]")) return;
    const k = e.key;
    if (k === "?") helpDialog();
    else if (k === "j") step(1);
    else if (k === "k") step(-1);
    else if (S.current && S.detail && k === "r") {
      setMode("reply");
    } else if (S.current && S.detail && k === "n") {
      setMode("note");
    } else if (S.current && k === "p") {
      press("pickup");
      focusPane();
    } else if (S.current && k === "e") press("end");
    else return;
    e.preventDefault();
  });
}
