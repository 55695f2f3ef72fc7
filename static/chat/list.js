// The chat list: unread counts and mentions, pinned and muted chats, the context menu, and
// the unread total in the nav badge and tab title.
import { api } from "../core/api.js";
import { h, icon } from "../core/dom.js";
import { phoneDot } from "../core/phone.js";
import { debounce, fmtStamp } from "../core/time.js";
import { $, isOpen, me, showError, st, tc, ui } from "./state.js";

export async function loadList() {
  st.chats = await api("GET", "/api/v1/chats");
  renderList();
}

/** loadList, at most once per burst of events. */
export const refreshList = debounce(() => loadList().catch(() => {}), 150);

function badgeEl(c) {
  if (!(c.unread > 0)) return null;
  if (c.muted && !c.mentioned) return h("span", { class: "ic-dot", title: tc("muted"), "aria-label": tc("muted") });
  const count = c.unread >= 100 ? "99+" : String(c.unread);
  return h("span", { class: "ic-count" + (c.mentioned ? " ic-at" : ""), text: (c.mentioned ? "@ " : "") + count });
}

function itemEl(c) {
  const active = isOpen(c.id);
  const author = c.kind === "group" && c.last_message && c.last_message.author_name ? (c.last_message.author_id === me ? tc("you") : c.last_message.author_name) + ": " : "";
  const last = c.last_message ? author + c.last_message.preview : "";
  return h(
    "li",
    {
      class: "ic-item" + (active ? " ic-active" : "") + (c.unread ? " ic-unread" : ""),
      "data-chat-id": c.id,
      "data-pinned": String(c.pinned),
      "data-muted": String(c.muted),
      tabindex: 0,
      onclick: () => ui.openChat(c.id, true),
      "aria-haspopup": "menu",
      onkeydown: (e) => {
        if (e.key === "Enter") ui.openChat(c.id, true);
        if (e.key === "ContextMenu" || (e.shiftKey && e.key === "F10")) {
          e.preventDefault();
          const r = e.currentTarget.getBoundingClientRect();
          contextMenu(r.left + 24, r.bottom - 8, c);
        }
      },
      oncontextmenu: (e) => {
        e.preventDefault();
        contextMenu(e.clientX, e.clientY, c);
      },
    },
    h("span", { class: "ic-avatar" + (c.kind === "group" ? " ic-group" : ""), text: (c.name || "?").trim().charAt(0).toUpperCase() }),
    h(
      "span",
      { class: "ic-item-main" },
      h(
        "span",
        { class: "ic-item-top" },
        h("span", { class: "ic-name", text: c.name }),
        c.kind === "direct" && c.other ? phoneDot(c.other.id) : null,
        c.pinned ? h("span", { class: "ic-flag", title: tc("pinned"), role: "img", "aria-label": tc("pinned") }, icon("pin")) : null,
        c.muted ? h("span", { class: "ic-flag", title: tc("muted"), role: "img", "aria-label": tc("muted") }, icon("belloff")) : null,
        h("span", { class: "ic-time", text: c.last_message ? fmtStamp(c.last_message.at) : "" }),
      ),
      h("span", { class: "ic-item-bottom" }, h("span", { class: "ic-preview", text: last }), badgeEl(c)),
    ),
  );
}

export function renderList() {
  const ul = $("ic-list");
  ul.replaceChildren();
  if (!st.chats.length) ul.append(h("li", { class: "ic-none", text: tc("no_chats") }));
  let total = 0;
  let dot = false;
  for (const c of st.chats) {
    if (c.unread > 0) {
      if (c.muted && !c.mentioned) dot = true;
      else total += c.unread;
    }
    const li = itemEl(c);
    longPress(li, c);
    ul.append(li);
  }
  const nav = document.getElementById("unread-internal");
  if (nav) {
    nav.hidden = !(total || dot);
    nav.textContent = total ? String(total) : "•";
  }
  document.title = (total ? "(" + total + ") " : "") + document.title.replace(/^\(\d+\) /, "");
}

/**
 * The chat's menu (pin, mute) at (x, y): right-click, a long press or the context-menu key.
 * Placed through CSS custom properties set with the CSSOM (the CSP forbids style
 * attributes), kept inside the window.
 */
function contextMenu(x, y, c) {
  closeMenus();
  const item = (text, act) =>
    h("li", {
      role: "menuitem",
      tabindex: -1,
      text,
      onclick: act,
      onkeydown: (ev) => {
        if (ev.key === "Enter" || ev.key === " ") {
          ev.preventDefault();
          act();
          closeMenus();
        }
      },
    });
  const m = h(
    "ul",
    { class: "ic-menu", role: "menu", "aria-label": c.name },
    item(c.pinned ? tc("unpin") : tc("pin"), () => setState(c.id, { pinned: !c.pinned })),
    item(c.muted ? tc("unmute") : tc("mute"), () => setState(c.id, { muted: !c.muted })),
  );
  m.addEventListener("keydown", (ev) => {
    const items = [...m.querySelectorAll("[role=menuitem]")];
    const i = items.indexOf(document.activeElement);
    if (ev.key === "Escape") closeMenus();
    else if (ev.key === "ArrowDown") items[(i + 1) % items.length].focus();
    else if (ev.key === "ArrowUp") items[(i - 1 + items.length) % items.length].focus();
  });
  document.body.append(m);
  const r = m.getBoundingClientRect();
  const left = Math.max(4, Math.min(x, window.innerWidth - r.width - 4));
  const top = Math.max(4, Math.min(y, window.innerHeight - r.height - 4));
  m.style.setProperty("--menu-x", left + "px");
  m.style.setProperty("--menu-y", top + "px");
  m.classList.add("ic-menu-placed");
  m.querySelector("[role=menuitem]").focus();
}

/** Long press on touch screens opens the menu (a short tap still opens the chat). */
function longPress(li, c) {
  let timer = 0;
  let fired = false;
  li.addEventListener("touchstart", (e) => {
    fired = false;
    const t = e.touches[0];
    timer = setTimeout(() => {
      fired = true;
      contextMenu(t.clientX, t.clientY, c);
    }, 550);
  }, { passive: true });
  const cancel = () => clearTimeout(timer);
  li.addEventListener("touchend", (e) => {
    cancel();
    if (fired) e.preventDefault();
  });
  li.addEventListener("touchmove", cancel, { passive: true });
}

function closeMenus() {
  document.querySelectorAll(".ic-menu").forEach((m) => m.remove());
}

/** Pins or mutes a chat for this user (every browser of theirs follows). */
export async function setState(id, patch) {
  try {
    await api("PATCH", "/api/v1/chats/" + id + "/state", patch);
  } catch (e) {
    showError("ic-error", e.message);
  }
  await loadList();
  if (isOpen(id)) {
    const c = st.chats.find((x) => x.id === id);
    if (c) {
      st.current.chat.pinned = c.pinned;
      st.current.chat.muted = c.muted;
      ui.renderHead();
    }
  }
}

export function wireList() {
  document.addEventListener("click", (e) => {
    if (!e.target.closest(".ic-menu")) closeMenus();
    else setTimeout(closeMenus, 0);
  });
}
