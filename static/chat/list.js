// The chat list: unread counts and mentions, pinned and muted chats, the context menu, and
// the unread total in the nav badge and tab title.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
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
      onkeydown: (e) => {
        if (e.key === "Enter") ui.openChat(c.id, true);
      },
      oncontextmenu: (e) => {
        e.preventDefault();
        contextMenu(e, c);
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
        c.pinned ? h("span", { class: "ic-flag", title: tc("pinned"), text: "📌" }) : null,
        c.muted ? h("span", { class: "ic-flag", title: tc("muted"), text: "🔇" }) : null,
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
    ul.append(itemEl(c));
  }
  const nav = document.getElementById("unread-internal");
  if (nav) {
    nav.hidden = !(total || dot);
    nav.textContent = total ? String(total) : "•";
  }
  document.title = (total ? "(" + total + ") " : "") + document.title.replace(/^\(\d+\) /, "");
}

function contextMenu(e, c) {
  closeMenus();
  const m = h(
    "ul",
    { class: "ic-menu", role: "menu", style: "left:" + e.clientX + "px;top:" + e.clientY + "px" },
    h("li", { role: "menuitem", tabindex: 0, text: c.pinned ? tc("unpin") : tc("pin"), onclick: () => setState(c.id, { pinned: !c.pinned }) }),
    h("li", { role: "menuitem", tabindex: 0, text: c.muted ? tc("unmute") : tc("mute"), onclick: () => setState(c.id, { muted: !c.muted }) }),
  );
  document.body.append(m);
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
  document.addEventListener("click", closeMenus);
}
