// Pop-up messages in the corner (a live region, so screen readers announce them).
import { byId, h } from "./dom.js";
import { t } from "./i18n.js";

/**
 * toast(title, text, {kind: "info"|"error", sid, onclick, ms, box, cls, links})
 * `box` is the container element (default #toasts), `cls` an extra class for the page's look,
 * `links` a list of {href, text} shown as links under the text.
 * At most four stay; each goes after `ms` (7 s) or on its close button.
 */
export function toast(title, text, opts) {
  const o = opts || {};
  const box = o.box || byId("toasts");
  if (!box) return;
  const el = h(
    "div",
    {
      class: "toast " + (o.kind || "info") + (o.cls ? " " + o.cls : ""),
      role: o.kind === "error" ? "alert" : "status",
      dataset: o.sid ? { sid: o.sid } : undefined,
    },
    h("div", { class: "toast-title", text: title }),
    text ? h("div", { class: "toast-text", text }) : null,
    o.links && o.links.length ? h("ul", { class: "toast-links" }, o.links.map((l) => h("li", {}, h("a", { href: l.href, text: l.text })))) : null,
  );
  if (o.onclick) {
    el.classList.add("clickable");
    el.addEventListener("click", () => {
      el.remove();
      o.onclick();
    });
  }
  const close = h("button", { type: "button", class: "toast-x", "aria-label": t("inbox.close"), text: "×" });
  close.addEventListener("click", (e) => {
    e.stopPropagation();
    el.remove();
  });
  el.append(close);
  box.append(el);
  while (box.children.length > 4) box.firstElementChild.remove();
  setTimeout(() => el.remove(), o.ms || 7000);
}
