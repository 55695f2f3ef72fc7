// The "turn on alerts" prompt of the inbox (B1): browsers keep audio silent until the first
// click on the page and ask before desktop notifications, so a visible button does both in
// one click and saves the choice in the user's settings. It stays until alerts are on.
import { api } from "../core/api.js";
import { $, h, icon } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { alertsNeedClick, desktopAsk, enableAlerts, prefs } from "../core/notify.js";

function saveNotify(notify) {
  return api("PATCH", "/api/v1/me", { notify }).catch(() => {});
}

export function alertsPrompt() {
  const pane = $(".list-pane");
  if (!pane || $("#alerts-bar")) return;
  // Already on in the settings: only the browser's audio lock is left (after every reload).
  const onInSettings = prefs.sound && prefs.desktop && !desktopAsk();
  const msg = h("span", { class: "alerts-msg", id: "alerts-msg", role: "status", text: t(onInSettings ? "inbox.alerts_locked" : "inbox.alerts_off") });
  const btn = h("button", { type: "button", class: "primary alerts-on", id: "alerts-on" }, icon("bell"), h("span", { text: t("inbox.alerts_enable") }));
  const bar = h("div", { class: "alerts-bar", id: "alerts-bar" }, msg, btn);
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    const permission = await enableAlerts(saveNotify);
    btn.disabled = false;
    if (permission === "denied") {
      msg.textContent = t("inbox.desktop_denied");
      btn.hidden = true;
      return;
    }
    if (!alertsNeedClick()) {
      msg.textContent = t("inbox.alerts_enabled");
      btn.hidden = true;
      setTimeout(() => bar.remove(), 4000);
    }
  });
  if (alertsNeedClick()) pane.prepend(bar);
}
