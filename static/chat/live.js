// Live events for the internal chat (from the page's one event stream, core/events.js), and
// alerts for messages in chats the user is not looking at.
import { live } from "../core/events.js";
import { alertUser } from "../core/notify.js";
import { addMessage, closeChat, markRead, reloadView, renderHead, renderReadState, renderTyping, openChat } from "./conversation.js";
import { loadList, refreshList } from "./list.js";
import { $, isOpen, me, st, tc } from "./state.js";

function notify(chat, m) {
  if (m.author === me) return;
  const mentioned = m.mentions.includes(me);
  const item = st.chats.find((c) => c.id === chat);
  const muted = item ? item.muted : false;
  if (muted && !mentioned) return; // a mention notifies even when muted
  const viewing = isOpen(chat) && !document.hidden;
  if (viewing && !mentioned) return;
  const title = (item ? item.name : tc("new_message")) + (mentioned ? " — " + tc("mentioned_you") : "");
  const text = m.text || (m.files[0] ? "📎 " + m.files[0].name : "");
  alertUser(title, text.slice(0, 140), {
    tag: "chat-" + chat,
    onclick: () => openChat(chat, true),
    toast: { box: $("ic-toasts"), cls: "ic-toast", ms: 6000 },
  });
}

function onEvent(ev) {
  const d = ev.data || {};
  switch (ev.kind) {
    case "chat.message":
      addMessage(d.message);
      notify(d.chat_id, d.message);
      refreshList();
      if (isOpen(d.chat_id)) markRead();
      break;
    case "chat.updated":
      refreshList();
      if (isOpen(d.chat_id)) reloadView();
      break;
    case "chat.removed":
      refreshList();
      if (isOpen(d.chat_id)) {
        closeChat();
        history.replaceState(null, "", "/chat/internal");
      }
      break;
    case "chat.read":
      if (isOpen(d.chat_id)) {
        st.lastRead[d.user_id] = Math.max(st.lastRead[d.user_id] || 0, d.last_read);
        renderReadState();
      }
      if (d.user_id === me) refreshList();
      break;
    case "chat.state":
      refreshList();
      if (isOpen(d.chat_id)) {
        st.current.chat.pinned = d.pinned;
        st.current.chat.muted = d.muted;
        renderHead();
      }
      break;
    case "chat.typing":
      if (isOpen(d.chat_id) && d.user_id !== me) {
        st.typing[d.user_id] = { name: d.name, until: Date.now() + 5000 };
        renderTyping();
      }
      break;
    case "reset":
      // The stream restarted from "now": what happened meanwhile is read afresh.
      loadList().catch(() => {});
      reloadView();
      break;
    default:
      break;
  }
}

export function follow(app) {
  live.on(onEvent);
  // data-live tells whether the stream is connected (the browser tests wait for it).
  live.onStatus((up) => {
    app.dataset.live = up ? "1" : "0";
  });
}
