// The session pane: opening, closing and refreshing a session, and marking it read.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { sessions } from "../core/sessions.js";
import { composerEl, renderComposer, renderOwnerNote, windowState } from "./composer.js";
import { detailsEl, renderDetails } from "./details.js";
import { headerEl, renderHeader } from "./header.js";
import { remember, renderList, syncUrl } from "./list.js";
import { PAGE, keepBottom, renderMessages } from "./messages.js";
import { S, matches, pane, paneEl, root, visible } from "./state.js";
import { attach } from "./uploads.js";
import { callBarEl } from "./call.js";

// Files dropped anywhere on the pane are attached to the reply (when a reply may carry them).
function acceptDrops() {
  let depth = 0;
  paneEl.ondragenter = (e) => {
    if (!e.dataTransfer || !Array.from(e.dataTransfer.types || []).includes("Files")) return;
    depth++;
    paneEl.classList.add("dragging");
  };
  paneEl.ondragleave = () => {
    depth = Math.max(0, depth - 1);
    if (!depth) paneEl.classList.remove("dragging");
  };
  paneEl.ondragover = (e) => e.preventDefault();
  paneEl.ondrop = (e) => {
    e.preventDefault();
    depth = 0;
    paneEl.classList.remove("dragging");
    if (S.mode !== "reply" || !["open", "human_agent"].includes(windowState())) return;
    Array.from((e.dataTransfer && e.dataTransfer.files) || []).forEach(attach);
  };
}

function renderPane() {
  const s = S.detail.session;
  // role=log: screen readers announce messages as they arrive (politely, not the history).
  const box = h("div", { class: "messages", id: "messages", role: "log", tabindex: "0", "aria-label": t("inbox.messages_label") });
  // Follow the newest message unless the agent scrolled up themselves (a re-render or an
  // image still loading also moves the scroll position: those do not count).
  let userAt = 0;
  for (const k of ["wheel", "touchstart", "keydown", "pointerdown"]) box.addEventListener(k, () => (userAt = Date.now()), { passive: true });
  box.addEventListener("scroll", () => {
    if (Date.now() - userAt < 1500) S.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  });
  // "… is typing" from a live-chat visitor (live.js fills it).
  const typing = h("div", { class: "typing-line", id: "typing-line", "aria-live": "polite" });
  const main = h("div", { class: "s-main" }, headerEl(), callBarEl(), box, typing, composerEl());
  paneEl.replaceChildren(main, detailsEl());
  renderMessages();
  S.stick = true;
  box.scrollTop = box.scrollHeight;
  sessions.setTitle(s.contact_name || s.contact_address);
  acceptDrops();
}

let readTimer = null;
/** Marks the open session read (soon, and only while the page is visible). */
export function markRead() {
  clearTimeout(readTimer);
  readTimer = setTimeout(async () => {
    if (!S.current || !visible()) return;
    const id = S.current;
    const r = S.rows.get(id);
    if (r) {
      r.unread = 0;
      renderList();
    }
    try {
      await api("POST", "/api/v1/sessions/" + id + "/read");
    } catch {
      /* the next open retries */
    }
  }, 250);
}

let openSeq = 0;
export async function openSession(id, opts) {
  const my = ++openSeq;
  if (S.current !== id) {
    S.mode = "reply";
    S.pending = [];
  }
  S.current = id;
  root.classList.add("has-session");
  sessions.setViewing(id);
  syncUrl(opts && opts.push);
  renderList();
  try {
    const [d, msgs] = await Promise.all([api("GET", "/api/v1/sessions/" + id), api("GET", "/api/v1/sessions/" + id + "/messages?limit=" + PAGE)]);
    if (my !== openSeq) return;
    S.detail = d;
    S.more = msgs.length === PAGE;
    S.messages = new Map(msgs.map((m) => [m.id, m]));
    renderPane();
    markRead();
    if (opts && opts.focus) focusPane();
  } catch (e) {
    if (my !== openSeq) return;
    S.detail = null;
    paneEl.replaceChildren(h("div", { class: "empty-pane" }, h("p", { class: "error", role: "alert", text: e.message || t("inbox.error") })));
  }
}

/** Focus into the open conversation, on its name: Tab goes on to its actions, `r` replies. */
export function focusPane() {
  const name = paneEl.querySelector(".s-name");
  if (name) {
    name.tabIndex = -1;
    name.focus();
  }
}

export function closeSession(push) {
  S.current = null;
  S.detail = null;
  sessions.setViewing(null);
  sessions.setTitle(t("inbox.title"));
  root.classList.remove("has-session");
  paneEl.replaceChildren(h("div", { class: "empty-pane" }, h("div", { class: "empty-illu", "aria-hidden": "true" }), h("p", { text: t("inbox.pick_one") })));
  syncUrl(push);
  renderList();
}

let detailTimer = null;
/** Re-reads the open session (bursts coalesce) and re-renders header, details, row; the
 * composer only when the reply window or status changed, so typed text survives. */
export function refreshDetail() {
  clearTimeout(detailTimer);
  return new Promise((resolve) => {
    detailTimer = setTimeout(async () => {
      const id = S.current;
      if (!id) return resolve();
      try {
        const d = await api("GET", "/api/v1/sessions/" + id);
        if (S.current !== id) return resolve();
        const before = S.detail;
        S.detail = d;
        remember(Object.assign({}, d.session, { unread: (S.rows.get(id) || {}).unread || 0 }));
        if (!matches(d.session)) S.rows.delete(id);
        renderList();
        renderHeader();
        renderDetails();
        if ((d.timeline || []).length !== S.timelineSeen) {
          renderMessages();
          keepBottom();
        }
        if (!before || before.session.assignee !== d.session.assignee) {
          S.confirmedOther = 0;
          renderOwnerNote();
        }
        if (!before || before.window !== d.window || before.session.status !== d.session.status) renderComposer();
      } catch {
        /* keep the last view */
      }
      resolve();
    }, 120);
  });
}

Object.assign(pane, { refresh: refreshDetail, open: openSession, close: closeSession });
