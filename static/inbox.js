// The external-chat inbox page: session list + session view, driven by the JSON API and the
// page's live event stream. This entry module wires the page together; the parts live in
// inbox/ (state, list, messages, composer, header, details, dialogs, pane, live), the shared
// client code in core/. All user content goes in as text nodes (core/dom.js h()).
import { $ } from "./core/dom.js";
import { t } from "./core/i18n.js";
import { sessions } from "./core/sessions.js";
import { alertsPrompt } from "./inbox/alerts.js";
import { loadUsers } from "./inbox/dialogs.js";
import { follow } from "./inbox/live.js";
import { loadList, renderList, syncUrl, tickTimes } from "./inbox/list.js";
import { closeSession, markRead, openSession } from "./inbox/pane.js";
import { S, listEl, root, visible } from "./inbox/state.js";

function wire() {
  $("#scope-tabs").addEventListener("click", (e) => {
    const a = e.target.closest("a[data-scope]");
    if (!a) return;
    e.preventDefault();
    S.scope = a.dataset.scope;
    for (const x of document.querySelectorAll("#scope-tabs a")) x.classList.toggle("active", x === a);
    S.next = "";
    syncUrl(false);
    loadList(false);
  });
  $("#channel-filter").addEventListener("change", (e) => {
    S.channel = e.target.value;
    syncUrl(false);
    loadList(false);
  });
  $("#sort").addEventListener("change", (e) => {
    S.sort = e.target.value;
    renderList();
  });
  $("#load-more").addEventListener("click", () => loadList(true));
  listEl.addEventListener("click", (e) => {
    const a = e.target.closest("li.srow a");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    openSession(Number(a.closest("li").dataset.id), { push: true });
  });
  window.addEventListener("popstate", () => {
    const m = location.pathname.match(/^\/chat\/external\/(\d+)/);
    if (m) openSession(Number(m[1]), { push: false });
    else if (S.current) closeSession(false);
  });
  document.addEventListener("visibilitychange", () => {
    if (visible() && S.current) {
      sessions.setViewing(S.current);
      markRead();
    }
  });
  document.addEventListener("click", (e) => {
    const pop = $("#emoji-pop");
    if (pop && !pop.hidden && !e.target.closest("#emoji-pop") && !e.target.closest("#emoji-btn")) pop.hidden = true;
  });
  setInterval(tickTimes, 30000);
}

async function boot() {
  await loadUsers();
  await loadList(false);
  const id = Number(root.dataset.session || 0);
  if (id) openSession(id, { push: false });
  else sessions.setTitle(t("inbox.title"));
}

if (root) {
  // A new-message pop-up or notification opens the session in place.
  sessions.open = openSession;
  follow();
  wire();
  alertsPrompt();
  boot();
}
