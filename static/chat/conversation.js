// One open chat: header, messages (mentions highlighted, files), "read by", typing, paging
// back to older messages, marking read.
import { api } from "../core/api.js";
import { h, icon } from "../core/dom.js";
import { phoneDot } from "../core/phone.js";
import { debounce, fmtStamp } from "../core/time.js";
import { toast } from "../core/toast.js";
import { renderPending } from "./files.js";
import { renderList, setState } from "./list.js";
import { $, isOpen, me, memberName, showError, st, tc, ui } from "./state.js";

export async function openChat(id, push, focusMsg) {
  let v;
  try {
    v = await api("GET", "/api/v1/chats/" + id);
  } catch (e) {
    if (e.status === 404) {
      closeChat();
      history.replaceState(null, "", "/chat/internal");
    }
    return;
  }
  if (push) history.pushState(null, "", "/chat/internal/" + id);
  st.current = v;
  st.typing = {};
  st.lastRead = {};
  for (const m of v.members) st.lastRead[m.user.id] = m.last_read;
  st.messages = await api("GET", "/api/v1/chats/" + id + "/messages?limit=50");
  $("ic-older").hidden = st.messages.length < 50;
  st.pending = [];
  renderPending();
  $("ic-empty").hidden = true;
  $("ic-chat").hidden = false;
  // On a phone the page shows the list or the open chat (chat.css): this says which.
  $("ic-app").classList.add("ic-has-chat");
  $("ic-panel").hidden = true;
  showError("ic-error", "");
  renderHead();
  renderMessages();
  renderList();
  if (focusMsg) await focusMessage(focusMsg);
  else scrollBottom();
  markRead();
  $("ic-input").focus();
}

export function closeChat() {
  st.current = null;
  $("ic-chat").hidden = true;
  $("ic-panel").hidden = true;
  $("ic-empty").hidden = false;
  $("ic-app").classList.remove("ic-has-chat");
  renderList();
}

/** Re-reads the open chat (name, members, read state) after a change. */
export async function reloadView() {
  if (!st.current) return;
  try {
    const v = await api("GET", "/api/v1/chats/" + st.current.chat.id);
    st.current = v;
    for (const m of v.members) st.lastRead[m.user.id] = Math.max(st.lastRead[m.user.id] || 0, m.last_read);
    renderHead();
    renderMessages(false);
    if (!$("ic-panel").hidden) ui.renderPanel();
  } catch (e) {
    if (e.status === 404) closeChat();
  }
}

export function renderHead() {
  const c = st.current.chat;
  $("ic-title").replaceChildren(c.name, c.kind === "direct" && c.other ? phoneDot(c.other.id) : "");
  $("ic-sub").textContent = c.kind === "group" ? c.member_count + " " + tc("members_count") : c.other ? [c.other.extension, c.other.email].filter(Boolean).join(" · ") : "";
  const call = $("ic-call");
  const ext = c.kind === "direct" && c.other && c.other.extension;
  call.hidden = !ext;
  if (ext) call.href = "tel:" + ext;
  $("ic-pin").setAttribute("aria-pressed", String(c.pinned));
  $("ic-pin").title = c.pinned ? tc("unpin") : tc("pin");
  $("ic-pin").setAttribute("aria-label", $("ic-pin").title);
  $("ic-mute").setAttribute("aria-pressed", String(c.muted));
  $("ic-mute").replaceChildren(icon(c.muted ? "belloff" : "bell"));
  $("ic-mute").title = c.muted ? tc("unmute") : tc("mute");
  $("ic-mute").setAttribute("aria-label", $("ic-mute").title);
  $("ic-settings").hidden = c.kind !== "group";
  $("ic-attach").hidden = false;
}

// Mentions of members are highlighted; everything stays text nodes.
function messageText(m) {
  const span = h("div", { class: "ic-text" });
  const names = new Set((st.current ? st.current.members : []).map((x) => x.user.username.toLowerCase()));
  const re = /(^|[\s([{"'])@([A-Za-z0-9._@-]+)/g;
  let last = 0;
  let mm;
  while ((mm = re.exec(m.text))) {
    let word = mm[2];
    while (/[.\-@]$/.test(word)) word = word.slice(0, -1);
    if (!names.has(word.toLowerCase())) continue;
    const start = mm.index + mm[1].length;
    span.append(document.createTextNode(m.text.slice(last, start)));
    span.append(h("span", { class: "ic-mention", text: "@" + word }));
    last = start + 1 + word.length;
  }
  span.append(document.createTextNode(m.text.slice(last)));
  return span;
}

function renderMessage(m) {
  const mine = m.author === me;
  const group = st.current.chat.kind === "group";
  const file = (f) => {
    const url = "/api/v1/attachments/" + f.attachment_id;
    if ((f.mime || "").startsWith("image/")) {
      // Images show inline (the thumbnail; the full image if there is none), a click opens it.
      const img = h("img", { src: url + "/thumbnail", alt: f.name, loading: "lazy" });
      img.addEventListener("error", () => {
        if (!img.dataset.full) {
          img.dataset.full = "1";
          img.src = url;
        }
      });
      return h("li", {}, h("a", { class: "ic-thumb", href: url, target: "_blank", rel: "noopener", title: f.name }, img));
    }
    return h(
      "li",
      {},
      h("a", { href: url, target: "_blank", rel: "noopener", class: "ic-file-link" }, icon("clip"), f.name),
      h("span", { class: "ic-meta", text: " " + Math.max(1, Math.round(f.size / 1024)) + " KB" }),
    );
  };
  const files = m.files && m.files.length ? h("ul", { class: "ic-files" }, ...m.files.map(file)) : null;
  return h(
    "li",
    { id: "m" + m.id, class: "ic-msg" + (mine ? " ic-mine" : "") + (m.mentions.includes(me) ? " ic-mentions-me" : ""), "data-id": m.id },
    group && !mine ? h("span", { class: "ic-author", text: memberName(m.author) }) : null,
    m.text ? messageText(m) : null,
    files,
    h("span", { class: "ic-time", text: fmtStamp(m.created) }),
  );
}

function renderMessages(keepScroll) {
  const ol = $("ic-messages");
  const sc = $("ic-scroll");
  const atBottom = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 40;
  ol.replaceChildren(...st.messages.map(renderMessage));
  renderReadState();
  if (keepScroll !== false && atBottom) scrollBottom();
}

/** "Read by": under the newest message of mine, the members who have read it. */
export function renderReadState() {
  document.querySelectorAll(".ic-readby").forEach((e) => e.remove());
  if (!st.current) return;
  const mine = st.messages.filter((m) => m.author === me);
  const lastMine = mine[mine.length - 1];
  if (!lastMine) return;
  const readers = st.current.members.filter((x) => x.user.id !== me && (st.lastRead[x.user.id] || 0) >= lastMine.id).map((x) => x.user.display_name);
  if (!readers.length) return;
  const text = st.current.chat.kind === "direct" ? tc("seen") : tc("read_by") + " " + readers.join(", ");
  const li = $("m" + lastMine.id);
  if (li) li.append(h("span", { class: "ic-readby", text: "✓✓ " + text }));
}

function scrollBottom() {
  const sc = $("ic-scroll");
  sc.scrollTop = sc.scrollHeight;
}

async function loadOlder() {
  if (!st.current || !st.messages.length) return false;
  const id = st.current.chat.id;
  const older = await api("GET", "/api/v1/chats/" + id + "/messages?limit=50&before=" + st.messages[0].id);
  if (!isOpen(id)) return false;
  const sc = $("ic-scroll");
  const height = sc.scrollHeight;
  st.messages = older.concat(st.messages);
  $("ic-older").hidden = older.length < 50;
  renderMessages(false);
  sc.scrollTop = sc.scrollHeight - height;
  return older.length > 0;
}

async function focusMessage(id) {
  for (let i = 0; i < 40 && !$("m" + id); i++) {
    if (!(await loadOlder())) break;
  }
  const li = $("m" + id);
  if (li) {
    li.scrollIntoView({ block: "center" });
    li.classList.add("ic-flash");
    setTimeout(() => li.classList.remove("ic-flash"), 2500);
  }
}

/** Tells the server the open chat is read up to its newest message (while visible). */
export const markRead = debounce(async () => {
  if (!st.current || document.hidden || !st.messages.length) return;
  const c = st.chats.find((x) => x.id === st.current.chat.id);
  const newest = st.messages[st.messages.length - 1].id;
  if (c && c.last_read >= newest && !c.unread) return;
  try {
    await api("POST", "/api/v1/chats/" + st.current.chat.id + "/read", {});
  } catch {
    /* next time */
  }
}, 300);

/** A new message (sent here or arriving live) joins the open chat once. */
export function addMessage(m) {
  if (!isOpen(m.chat_id)) return;
  if (st.messages.some((x) => x.id === m.id)) return;
  st.messages.push(m);
  st.lastRead[m.author] = Math.max(st.lastRead[m.author] || 0, m.id);
  delete st.typing[m.author];
  renderTyping();
  renderMessages();
}

export function renderTyping() {
  const now = Date.now();
  const names = Object.values(st.typing)
    .filter((x) => x.until > now)
    .map((x) => x.name);
  $("ic-typing").textContent = names.length ? names.join(", ") + " " + tc("typing") : "";
}

export function wireConversation() {
  // Back to the list (shown on a phone only): like the browser's back button.
  $("ic-back").addEventListener("click", (e) => {
    e.preventDefault();
    history.pushState(null, "", "/chat/internal");
    closeChat();
  });
  $("ic-older").addEventListener("click", loadOlder);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) markRead();
  });
  window.addEventListener("focus", markRead);
  $("ic-pin").addEventListener("click", () => st.current && setState(st.current.chat.id, { pinned: !st.current.chat.pinned }));
  $("ic-mute").addEventListener("click", () => st.current && setState(st.current.chat.id, { muted: !st.current.chat.muted }));
  $("ic-call").addEventListener("click", async (e) => {
    if (!st.features.calls || !st.current || !st.current.chat.other) return; // plain tel: link
    e.preventDefault();
    toast(tc("calling"), "", {});
    try {
      const r = await api("POST", "/api/v1/calls", { to_user_id: st.current.chat.other.id });
      toast(tc("calling"), tc("call_ringing").replace("{ext}", r.extension), {});
    } catch (ex) {
      toast(tc("call_failed"), ex.message || "", { kind: "error" });
    }
  });
  setInterval(renderTyping, 1000);
}

Object.assign(ui, { openChat, renderHead });
