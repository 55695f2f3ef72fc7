// Live events for the inbox: rows move, counts change, the open conversation updates in place.
import { live } from "../core/events.js";
import { t } from "../core/i18n.js";
import { sessions } from "../core/sessions.js";
import { renderHeader } from "./header.js";
import { fetchRow, loadList, renderList } from "./list.js";
import { upsertMessage } from "./messages.js";
import { markRead, openSession, refreshDetail } from "./pane.js";
import { S, matches, visible } from "./state.js";

function onMessage(ev, d) {
  const row = S.rows.get(d.session_id);
  if (ev.kind === "message.created" && d.direction === "in") {
    const viewing = S.current === d.session_id && visible();
    if (row && !viewing && d.id > (row.counted || 0)) {
      row.unread = (row.unread || 0) + 1;
      row.counted = d.id;
    }
    if (viewing) markRead();
  }
  if (!row && ev.kind === "message.created" && d.direction !== "note") fetchRow(d.session_id);
  if (S.current === d.session_id) {
    if (ev.kind === "message.created" && d.direction === "in") clearTyping();
    upsertMessage(d);
  }
  renderList();
}

// "… is typing" from a live-chat visitor, under the conversation; gone after 6 s or when their
// message arrives.
let typingTimer = null;
function clearTyping() {
  clearTimeout(typingTimer);
  const el = document.getElementById("typing-line");
  if (el) el.textContent = "";
}
function onTyping(d) {
  if (d.from !== "visitor" || d.session_id !== S.current) return;
  const el = document.getElementById("typing-line");
  if (!el) return;
  const name = (S.detail && (S.detail.session.contact_name || S.detail.session.contact_address)) || "";
  el.textContent = name + " " + t("inbox.typing");
  clearTimeout(typingTimer);
  typingTimer = setTimeout(clearTyping, 6000);
}

function onSession(d) {
  const row = S.rows.get(d.id);
  if (row) {
    Object.assign(row, d);
    if (!matches(row)) S.rows.delete(d.id);
    renderList();
  } else if (matches(d)) {
    fetchRow(d.id);
  }
  if (S.current === d.id) refreshDetail();
}

// Renamed, blocked or merged by a colleague (or through the API): follow live.
function onContact(d) {
  let hit = false;
  for (const row of S.rows.values()) {
    if (row.contact_id !== d.id) continue;
    row.contact_name = d.name || d.address || row.contact_address;
    row.blocked = !!d.blocked;
    const n = sessions.known.get(row.id);
    if (n) n.name = row.contact_name;
    hit = true;
  }
  if (hit) renderList();
  if (S.current && S.detail && S.detail.session.contact_id === d.id) refreshDetail();
}

export function follow() {
  live.on((ev) => {
    const d = ev.data || {};
    switch (ev.kind) {
      case "message.created":
      case "message.updated":
        onMessage(ev, d);
        break;
      case "session.created":
      case "session.updated":
        onSession(d);
        break;
      case "session.read": {
        const row = S.rows.get(d.session_id);
        if (row) {
          row.unread = 0;
          renderList();
        }
        break;
      }
      case "livechat.typing":
        onTyping(d);
        break;
      case "contact.updated":
        onContact(d);
        break;
      case "session.muted": {
        const row = S.rows.get(d.session_id);
        if (row) row.muted = d.muted;
        if (S.current === d.session_id && S.detail) {
          S.detail.session.muted = d.muted;
          renderHeader();
        }
        renderList();
        break;
      }
      case "reset":
        loadList(false);
        if (S.current) openSession(S.current, { push: false });
        break;
    }
  });
}
