// The external-chat inbox page: session list + session view, driven by the JSON API and the
// page's live event stream. This entry module wires the page together; the parts live in
// inbox/ (state, list, messages, composer, header, details, dialogs, pane, live), the shared
// client code in core/. All user content goes in as text nodes (core/dom.js h()).
import { api } from "./core/api.js";
import { $, h } from "./core/dom.js";
import { t } from "./core/i18n.js";
import { sessions } from "./core/sessions.js";
import { alertsPrompt } from "./inbox/alerts.js";
import { follow } from "./inbox/live.js";
import { loadPbx } from "./inbox/call.js";
import { renderHeader } from "./inbox/header.js";
import { loadList, loadUsers, renderBulk, renderList, syncUrl, tickTimes } from "./inbox/list.js";
import { wireShortcuts } from "./inbox/keys.js";
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
  const refilter = () => {
    S.next = "";
    S.selected.clear();
    syncUrl(false);
    loadList(false);
  };
  $("#status-filter").addEventListener("change", (e) => {
    S.status = e.target.value;
    refilter();
  });
  $("#tag-filter").addEventListener("change", (e) => {
    S.tag = e.target.value;
    refilter();
  });
  let searchTimer = 0;
  $("#inbox-search").addEventListener("input", (e) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      S.q = e.target.value.trim();
      refilter();
    }, 250);
  });
  // Bulk actions and the new-conversation dialog load on first use (less script for a phone
  // to fetch and parse before the list shows).
  const bulkAction = (action) => import("./inbox/bulk.js").then((m) => m.bulkAction(action));
  $("#bulk-archive").addEventListener("click", () => bulkAction("archive"));
  $("#bulk-close").addEventListener("click", () => bulkAction("close"));
  $("#bulk-clear").addEventListener("click", () => {
    S.selected.clear();
    renderList();
  });
  $("#sort").addEventListener("change", (e) => {
    S.sort = e.target.value;
    renderList();
  });
  $("#load-more").addEventListener("click", () => loadList(true));
  $("#new-conversation").addEventListener("click", () => import("./inbox/start.js").then((m) => m.startDialog()));
  listEl.addEventListener("change", (e) => {
    const box = e.target.closest("input.srow-sel");
    if (!box) return;
    const id = Number(box.dataset.id);
    if (box.checked) S.selected.add(id);
    else S.selected.delete(id);
    renderBulk();
  });
  listEl.addEventListener("click", (e) => {
    const a = e.target.closest("li.srow a");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    // Opened by keyboard (Enter: a click without a pointer): the focus moves into the pane.
    openSession(Number(a.closest("li").dataset.id), { push: true, focus: e.detail === 0 });
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

/** Filters from the address bar; the admin's tags fill the tag filter when they arrive. */
function filters() {
  const p = new URLSearchParams(location.search);
  S.tag = p.get("tag") || "";
  S.status = p.get("status") === "open" || p.get("status") === "closed" ? p.get("status") : "";
  S.q = p.get("q") || "";
  $("#status-filter").value = S.status;
  $("#inbox-search").value = S.q;
  const sel = $("#tag-filter");
  const fallback = S.tag ? [h("option", { value: S.tag, text: S.tag })] : [];
  sel.append(...fallback);
  sel.value = S.tag;
  api("GET", "/api/v1/tags")
    .then((r) => {
      const items = (r && r.items) || [];
      sel.replaceChildren(sel.options[0], ...items.map((x) => h("option", { value: x, text: x })), ...(S.tag && !items.includes(S.tag) ? fallback : []));
      sel.value = S.tag;
    })
    .catch(() => {});
}

async function boot() {
  filters();
  // With a PBX linked the Call button dials through it: redraw the header when that is known.
  loadPbx().then(() => S.detail && renderHeader());
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
  wireShortcuts();
  alertsPrompt();
  boot();
}
