// The header of the session view: who, where, owner, status, and the actions (pick up,
// transfer, note, call, mute, archive, end, details).
import { api } from "../core/api.js";
import { h, icon } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { fmtDateTime } from "../core/time.js";
import { setMode } from "./composer.js";
import { callCustomer } from "./call.js";
import { renderList, slaEl } from "./list.js";
import { S, iconImg, kindName, pane, paneEl, root, showError, userName } from "./state.js";

// The dialogs behind the header's actions load when first used (less script before a
// conversation shows on a phone).
const later = (load, name) => (...args) => load().then((m) => m[name](...args));
const dialogs = () => import("./dialogs.js");
const transferDialog = later(dialogs, "transferDialog");
const snoozeDialog = later(dialogs, "snoozeDialog");
const endDialog = later(dialogs, "endDialog");
const blockDialog = later(() => import("./block.js"), "blockDialog");

function actionBtn(action, iconName, label, onclick, primary, labelled) {
  const b = h(
    "button",
    { type: "button", class: "act" + (primary ? " primary" : "") + (labelled ? " labelled" : ""), dataset: { action }, title: label, "aria-label": label },
    icon(iconName),
    h("span", { class: "act-label", text: label }),
  );
  b.addEventListener("click", onclick);
  return b;
}

/** POST an action on the open session, then refresh it; errors go to a toast. */
async function act(path, data) {
  try {
    const r = await api("POST", "/api/v1/sessions/" + S.current + path, data);
    await pane.refresh();
    return r;
  } catch (e) {
    showError(null, e);
    throw e;
  }
}

async function muteToggle(muted) {
  try {
    await api("POST", "/api/v1/sessions/" + S.current + "/mute", { muted });
    S.detail.session.muted = muted;
    const r = S.rows.get(S.current);
    if (r) r.muted = muted;
    renderHeader();
    renderList();
  } catch (e) {
    showError(null, e);
  }
}

function callLink(kind, addr) {
  if (S.pbx && S.pbx.configured) return actionBtn("call", "phone", t("inbox.call"), callCustomer);
  const tel = kind === "whatsapp" && !addr.startsWith("+") ? "+" + addr : addr;
  const label = t("inbox.call");
  return h("a", { class: "act", href: "tel:" + tel, dataset: { action: "call" }, title: label, "aria-label": label }, icon("phone"), h("span", { class: "act-label", text: label }));
}

// ---- The overflow menu ("⋯") of the header on a phone: a disclosure button for a group of
// buttons. Tab or the arrow keys move through it, Esc closes it and returns to "⋯"; a click on
// an item or anywhere else closes it too.
function moreButton(menu) {
  const label = t("inbox.more");
  const b = h("button", { type: "button", class: "act more-btn", id: "s-more", title: label, "aria-label": label, "aria-expanded": "false", "aria-controls": "s-menu" }, icon("more", true));
  b.addEventListener("click", () => setMenu(menu, b, !menu.classList.contains("open")));
  menu.addEventListener("keydown", (e) => {
    if (!menu.classList.contains("open")) return;
    const items = [...menu.querySelectorAll("button, a")];
    const at = items.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.preventDefault();
      setMenu(menu, b, false);
      b.focus();
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const step = e.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length].focus();
    }
  });
  // An item did its work: close (after its own handler ran).
  menu.addEventListener("click", (e) => {
    if (e.target instanceof Element && e.target.closest("button, a")) setMenu(menu, b, false);
  });
  return b;
}

function setMenu(menu, btn, open) {
  menu.classList.toggle("open", open);
  btn.setAttribute("aria-expanded", String(open));
  if (open) {
    const first = menu.querySelector("button, a");
    if (first) first.focus();
  }
}

document.addEventListener("click", (e) => {
  const menu = document.getElementById("s-menu");
  if (!menu || !menu.classList.contains("open") || !(e.target instanceof Element)) return;
  if (e.target.closest("#s-menu, #s-more")) return;
  const btn = document.getElementById("s-more");
  if (btn) setMenu(menu, btn, false);
});
document.addEventListener("keydown", (e) => {
  const menu = document.getElementById("s-menu");
  if (e.key !== "Escape" || !menu || !menu.classList.contains("open")) return;
  const btn = document.getElementById("s-more");
  if (btn) {
    setMenu(menu, btn, false);
    btn.focus();
  }
});

/** The customer's satisfaction rating (1–5) once they answered the survey: "★ 4/5". */
function ratingEl(s) {
  if (!s.rating) return null;
  const n = String(s.rating);
  const label = t("inbox.rated_label").replace("{n}", n);
  return h("span", { class: "s-rating", id: "s-rating", role: "img", "aria-label": label, title: label, text: t("inbox.rated").replace("{n}", n) });
}

export function headerEl() {
  const d = S.detail;
  const s = d.session;
  const open = s.status === "open";
  const c = d.contact || {};
  // A WhatsApp user who hid their number is shown by username, never by the opaque user id.
  const addr = c.username ? "@" + c.username.replace(/^@/, "") : c.address || s.contact_address;
  // Messenger and Instagram ids are page-scoped numbers that mean nothing to the agent: not
  // shown beside the customer's name (docs/providers.md §4.4).
  const scoped = (s.channel_kind === "messenger" || s.channel_kind === "instagram") && s.contact_name && s.contact_name !== addr;
  const phone = s.channel_kind === "sms" || s.channel_kind === "whatsapp";
  const sub = [
    addr !== s.contact_name && !scoped ? addr : "",
    d.channel ? d.channel.name : kindName(s.channel_kind),
    s.assignee ? t("inbox.owner") + ": " + userName(s.assignee) : t("inbox.nobody"),
  ];
  if (!open) sub.push(t("inbox.closed") + (s.result ? " · " + s.result : ""));
  if (open && s.snoozed_until) sub.push(t("inbox.snoozed_until").replace("{time}", fmtDateTime(s.snoozed_until)));
  const back = h("a", { class: "icon-btn back", href: "/chat/external", id: "back", "aria-label": t("inbox.back") }, icon("back"));
  back.addEventListener("click", (e) => {
    e.preventDefault();
    pane.close(true);
  });
  const ignore = () => {}; // act() already showed the error
  const actions = h("div", { class: "s-actions", id: "s-actions" });
  // Everything but the primary action sits in `menu`: inline on wide screens (display:
  // contents), behind the "⋯" button on a phone (app.css, "Phone-sized screens").
  const menu = h("div", { class: "s-menu", id: "s-menu", role: "group", "aria-label": t("inbox.more") });
  // Only what this agent may do (the server computes it: docs/inbox.md, "Two agents").
  const may = d.allowed || { pickup: open && !s.assignee, transfer: open, end: open };
  if (may.pickup) actions.append(actionBtn("pickup", "check", t("inbox.pickup"), () => act("/pickup").catch(ignore), true));
  if (!open) actions.append(actionBtn("reopen", "unarchive", t("inbox.reopen"), () => act("/reopen").catch(ignore), true));
  if (may.transfer) menu.append(actionBtn("transfer", "transfer", t("inbox.transfer"), transferDialog, false, true));
  menu.append(actionBtn("note", "note", t("inbox.note"), () => setMode("note")));
  // Only a number can be called (a WhatsApp user id cannot).
  const dial = c.user_id && c.user_id === c.address ? c.phone : c.phone || c.address || s.contact_address;
  if (phone && dial) menu.append(callLink(s.channel_kind, dial));
  menu.append(actionBtn("mute", s.muted ? "bell" : "belloff", s.muted ? t("inbox.unmute") : t("inbox.mute"), () => muteToggle(!s.muted)));
  if (s.archived) menu.append(actionBtn("unarchive", "unarchive", t("inbox.unarchive"), () => act("/unarchive").catch(ignore)));
  else menu.append(actionBtn("archive", "archive", t("inbox.archive"), () => act("/archive").catch(ignore)));
  if (open && s.snoozed_until) menu.append(actionBtn("unsnooze", "clock", t("inbox.unsnooze"), () => act("/snooze", { until: null }).catch(ignore), false, true));
  else if (open) menu.append(actionBtn("snooze", "clock", t("inbox.snooze"), snoozeDialog, false, true));
  if (may.end) menu.append(actionBtn("end", "end", t("inbox.end"), endDialog, false, true));
  if (d.contact && !s.blocked) menu.append(actionBtn("block", "block", t("inbox.block"), blockDialog));
  const det = actionBtn("details", "info", t("inbox.details"), () => {
    S.showDetails = !S.showDetails;
    root.classList.toggle("show-details", S.showDetails);
    det.classList.toggle("on", S.showDetails);
  });
  det.classList.toggle("on", S.showDetails);
  menu.append(det);
  actions.append(moreButton(menu), menu);
  return h(
    "header",
    { class: "s-head" },
    back,
    iconImg(s.channel_kind, 34),
    h("div", { class: "s-title" }, h("h2", { class: "s-name", text: s.contact_name || addr }), h("div", { class: "s-sub", text: sub.filter(Boolean).join(" · ") }), slaEl(s), ratingEl(s)),
    actions,
  );
}

export function renderHeader() {
  const old = paneEl.querySelector(".s-head");
  if (!old || !S.detail) return;
  // A live update redraws the header: keep the "⋯" menu open and the focus where it was.
  const wasOpen = !!old.querySelector("#s-menu.open");
  const active = document.activeElement;
  const focused = active && old.contains(active) ? (active.dataset.action ? "[data-action=" + active.dataset.action + "]" : active.id ? "#" + active.id : null) : null;
  const fresh = headerEl();
  old.replaceWith(fresh);
  const menu = fresh.querySelector("#s-menu");
  const btn = fresh.querySelector("#s-more");
  if (wasOpen && menu && btn) {
    menu.classList.add("open");
    btn.setAttribute("aria-expanded", "true");
  }
  const again = focused && fresh.querySelector(focused);
  if (again) again.focus();
}
