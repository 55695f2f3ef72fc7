// The internal chat page. This entry module wires the page together; the parts live in
// chat/ (state, list, conversation, composer, files, find, group, live), the shared client
// code in core/. Live updates come from the page's one event stream (core/events.js, opened
// by app.js). Everything a user typed goes in as text nodes (core/dom.js h()).
import { api } from "./core/api.js";
import { icon } from "./core/dom.js";
import { wireComposer } from "./chat/composer.js";
import { closeChat, openChat, wireConversation } from "./chat/conversation.js";
import { wireFiles } from "./chat/files.js";
import { wireFind } from "./chat/find.js";
import { wireGroups } from "./chat/group.js";
import { loadList, wireList } from "./chat/list.js";
import { follow } from "./chat/live.js";
import { app, st } from "./chat/state.js";

// Features: PBX calls when an admin linked a PBX (else the phone icon is a tel: link).
// Attachments are always served (/api/v1/attachments); no need to read the 140 KB OpenAPI
// document on every page load to find that out.
async function detectFeatures() {
  try {
    const pbx = await api("GET", "/api/v1/pbx/status");
    st.features.calls = !!(pbx && pbx.configured);
  } catch {
    st.features.calls = false;
  }
}

async function start() {
  // Icons are SVG (emoji glyphs are blank boxes without an emoji font); names are on the buttons.
  for (const el of document.querySelectorAll("#ic-app [data-icon]")) el.replaceChildren(icon(el.dataset.icon));
  follow(app);
  wireList();
  wireFind();
  wireConversation();
  wireComposer();
  wireFiles();
  wireGroups();
  window.addEventListener("popstate", () => {
    const m = /^\/chat\/internal\/(\d+)/.exec(location.pathname);
    if (m) openChat(Number(m[1]), false, Number((location.hash.match(/^#m(\d+)/) || [])[1]) || undefined);
    else closeChat();
  });
  await Promise.all([detectFeatures(), loadList()]);
  const id = Number(app.dataset.chatId);
  if (id) {
    const hm = /^#m(\d+)/.exec(location.hash);
    await openChat(id, false, hm ? Number(hm[1]) : undefined);
  }
  app.dataset.ready = "1";
}

if (app) start();
