// The session list: rows, loading pages, keeping rows in step with the URL.
import { api } from "../core/api.js";
import { $, h } from "../core/dom.js";
import { t } from "../core/i18n.js";
import { sessions } from "../core/sessions.js";
import { fmtRel } from "../core/time.js";
import { S, iconImg, listEl, matches, showError, userName } from "./state.js";

/** The first-response countdown of a waiting conversation (amber before, red after the target). */
export function slaEl(s) {
  if (!s.sla || s.status !== "open" || s.first_response_at) return null;
  const el = h("span", { class: "sla", title: t("inbox.sla_title"), dataset: { due: s.sla.due_at, warn: s.sla.warn_at, breached: s.sla.breached ? "1" : "" } });
  slaTick(el);
  return el;
}
function slaTick(el) {
  const now = Date.now();
  // Missed once the server says so (its clock decides), or once the time is past here.
  const left = el.dataset.breached ? Math.min(-60000, Number(el.dataset.due) - now) : Number(el.dataset.due) - now;
  const min = Math.max(1, Math.round(Math.abs(left) / 60000));
  const dur = min >= 120 ? Math.round(min / 60) + " h" : min + " min";
  el.textContent = (left > 0 ? t("inbox.sla_left") : t("inbox.sla_over")).replace("{t}", dur);
  el.classList.toggle("sla-warn", left > 0 && now >= Number(el.dataset.warn));
  el.classList.toggle("sla-over", left <= 0);
}

function rowEl(s) {
  const badge =
    s.unread > 0
      ? s.muted
        ? h("span", { class: "dot", title: t("inbox.muted") })
        : h("span", { class: "count", text: s.unread > 99 ? "99+" : s.unread })
      : null;
  const cls = ["srow", s.unread > 0 ? "unread" : "", s.id === S.current ? "active" : "", s.status === "closed" ? "closed" : "", s.muted ? "muted" : ""];
  const name = s.contact_name || s.contact_address;
  const tick = h("input", { type: "checkbox", class: "srow-sel", checked: S.selected.has(s.id), "aria-label": t("inbox.select") + " " + name, dataset: { id: s.id } });
  const tags = (s.tags || []).map((x) => h("span", { class: "tag-chip", text: x }));
  return h(
    "li",
    { class: cls.filter(Boolean).join(" "), dataset: { id: s.id } },
    tick,
    h(
      "a",
      { href: "/chat/external/" + s.id },
      iconImg(s.channel_kind, 22),
      h(
        "span",
        { class: "srow-body" },
        h(
          "span",
          { class: "srow-top" },
          h("span", { class: "srow-name", text: name }),
          h("time", { dataset: { ts: s.last_activity }, text: fmtRel(s.last_activity) }),
        ),
        h(
          "span",
          { class: "srow-bottom" },
          h("span", { class: "srow-preview", text: s.last_preview || "" }),
          tags,
          slaEl(s),
          s.assignee && S.scope !== "mine" ? h("span", { class: "owner-chip", text: userName(s.assignee) }) : null,
          badge,
        ),
      ),
    ),
  );
}

let listQueued = false;
/** Redraws the list on the next frame (many events in a burst draw once). */
export function renderList() {
  if (listQueued) return;
  listQueued = true;
  requestAnimationFrame(() => {
    listQueued = false;
    const key = S.sort === "arrival" ? "created" : "last_activity";
    const rows = Array.from(S.rows.values()).sort((a, b) => b[key] - a[key] || b.id - a.id);
    listEl.replaceChildren(...rows.map(rowEl));
    $("#list-empty").hidden = rows.length > 0;
    $("#load-more").hidden = !S.next;
    renderBulk();
  });
}

/** The bulk bar: shown while conversations are ticked. */
export function renderBulk() {
  for (const id of S.selected) if (!S.rows.has(id)) S.selected.delete(id);
  const bar = $("#bulk-bar");
  if (!bar) return;
  bar.hidden = S.selected.size === 0;
  $("#bulk-count").textContent = t("inbox.selected").replace("{n}", S.selected.size);
}

/** Takes in a session view; keeps an unread count that is newer than the view. */
export function remember(v) {
  const old = S.rows.get(v.id);
  if (old && (old.counted || 0) > (v.last_message_id || 0)) v.unread = old.unread;
  v.counted = Math.max(v.last_message_id || 0, (old && old.counted) || 0);
  S.rows.set(v.id, v);
  sessions.remember(v);
}

export async function loadList(append) {
  const q = new URLSearchParams({ scope: S.scope, limit: "50" });
  if (S.channel) q.set("channel_id", S.channel);
  if (S.tag) q.set("tag", S.tag);
  if (S.status) q.set("status", S.status);
  if (S.q) q.set("q", S.q);
  const err = $("#list-error");
  if (append && S.next) q.set("cursor", S.next);
  try {
    const page = await api("GET", "/api/v1/sessions?" + q);
    if (!append) S.rows.clear();
    for (const v of page.sessions) remember(v);
    S.next = page.next_cursor || "";
    if (err) err.hidden = true;
    renderList();
  } catch (e) {
    if (!append) S.rows.clear();
    renderList();
    showError(err, e);
  }
}

/** Fetches one session and adds its row if it belongs in the list. */
export async function fetchRow(id) {
  try {
    const d = await api("GET", "/api/v1/sessions/" + id);
    if (matches(d.session)) {
      remember(d.session);
      renderList();
    }
    return d.session;
  } catch {
    return null;
  }
}

/** Puts the open session, scope and channel filter into the address bar. */
export function syncUrl(push) {
  const q = new URLSearchParams();
  if (S.scope !== "all") q.set("scope", S.scope);
  if (S.channel) q.set("channel_id", S.channel);
  if (S.tag) q.set("tag", S.tag);
  if (S.status) q.set("status", S.status);
  if (S.q) q.set("q", S.q);
  const qs = q.toString() ? "?" + q : "";
  const path = (S.current ? "/chat/external/" + S.current : "/chat/external") + qs;
  if (path === location.pathname + location.search) return;
  if (push) history.pushState({ session: S.current }, "", path);
  else history.replaceState({ session: S.current }, "", path);
}

/** Relative times in the list ("5 min") move on. */
export function tickTimes() {
  for (const el of listEl.querySelectorAll("time[data-ts]")) el.textContent = fmtRel(Number(el.dataset.ts));
  for (const el of document.querySelectorAll(".sla[data-due]")) slaTick(el);
}

/** The colleagues (for names and the transfer list). */
export async function loadUsers() {
  try {
    const list = await api("GET", "/api/v1/users");
    for (const u of list) S.users.set(u.id, u);
  } catch {
    /* names fall back to ids */
  }
}
