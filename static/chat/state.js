// The internal chat page's shared state and small helpers. The page is built from modules
// that only import downwards (src/http/assets.rs hashes a module together with its imports,
// so the graph must be acyclic):
//   state.js → files.js, list.js → conversation.js → composer.js, find.js, group.js →
//   live.js → chat.js (wiring and start)
// The few calls that go up go through `ui` below, filled in by the module that owns them.
import { byId } from "../core/dom.js";
import { t } from "../core/i18n.js";

export const app = byId("ic-app");
export const $ = byId;
export const me = Number(app && app.dataset.me);
/** The chat page's strings ("chat.*"). */
export const tc = (key) => t("chat." + key);

export const st = {
  chats: [], // list items from GET /api/v1/chats
  current: null, // ChatView of the open chat
  messages: [], // messages of the open chat, oldest first
  lastRead: {}, // user id -> last read message id (open chat)
  typing: {}, // user id -> {name, until}
  features: { calls: false, attachments: true },
  pending: [], // uploaded attachments for the next message
  lastTypingSent: 0,
};

/** Entry points of higher modules (conversation.js, group.js fill them in). */
export const ui = {
  /** openChat(id, push, focusMessageId) */
  openChat: async () => {},
  renderHead: () => {},
  renderPanel: () => {},
};

export const isOpen = (chatId) => !!st.current && st.current.chat.id === chatId;

export function memberName(id) {
  if (id === me) return tc("you");
  const m = st.current && st.current.members.find((x) => x.user.id === id);
  return m ? m.user.display_name : "#" + id;
}

export function showError(id, msg) {
  const e = $(id);
  if (e) e.textContent = msg || "";
}
