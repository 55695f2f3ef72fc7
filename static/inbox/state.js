// The inbox page's shared state and small helpers. The page is built from modules that only
// import downwards (src/http/assets.rs hashes a module together with its imports, so the
// graph must be acyclic):
//   state.js → list.js, dialogs.js, uploads.js, call.js → block.js, bulk.js, start.js →
//   messages.js → templates.js → composer.js → header.js → details.js → pane.js → live.js,
//   keys.js → inbox.js (wiring and start); alerts.js (the "turn on alerts" prompt) only imports core/.
// What only an action needs loads on first use with import(): dialogs.js and block.js (header,
// image lightbox), bulk.js and start.js (inbox.js), templates.js (composer.js); the page lists
// the rest as <link rel="modulepreload">.
// The few calls that go up (a button in the header refreshes the pane) go through `pane`
// below, which pane.js fills in when it loads.
import { $, h } from "../core/dom.js";
import { me as signedIn, t } from "../core/i18n.js";
import { toast } from "../core/toast.js";

export const root = document.getElementById("inbox");
export const paneEl = $("#session-pane");
export const listEl = $("#session-list");
export const me = Number((root && root.dataset.me) || signedIn);

let icons = {};
try {
  icons = JSON.parse((root && root.dataset.icons) || "{}");
} catch {
  icons = {};
}

export const S = {
  scope: (root && root.dataset.scope) || "all",
  channel: ($("#channel-filter") || {}).value || "",
  tag: "", // only sessions with this tag
  status: "", // "" | "open" | "closed"
  q: "", // search: name, number or message text (the server searches)
  selected: new Set(), // session ids ticked for a bulk action
  sort: "activity",
  next: (root && root.dataset.next) || "",
  rows: new Map(), // session id -> list row (session view + counted)
  current: null, // the open session's id
  detail: null, // GET /api/v1/sessions/{id} of the open session
  messages: new Map(), // its messages by id
  more: false, // older messages exist
  users: new Map(),
  mode: "reply", // composer: "reply" | "note"
  pending: [], // uploads for the next reply
  templates: null,
  showDetails: false,
  stick: true, // the conversation is scrolled to its newest message (keep it there)
  timelineSeen: 0, // timeline entries shown in the conversation
  confirmedOther: 0, // the session whose owner's colleague confirmed replying into it
  pbx: null, // GET /api/v1/pbx/status: {configured, kind, extension}
};

/** Session pane entry points for the modules below pane.js (filled in by pane.js). */
export const pane = {
  /** Re-reads the open session and re-renders what changed; resolves when done. */
  refresh: async () => {},
  /** open(id, {push}) shows a session. */
  open: () => {},
  /** close(push) goes back to the list. */
  close: () => {},
};

export function userName(id) {
  if (!id) return "";
  if (id === me) return t("inbox.you");
  const u = S.users.get(id);
  return u ? u.display_name : "#" + id;
}

export const kindName = (k) => t("ch." + k);

export function iconImg(kind, size) {
  return h("img", { class: "ch-icon", src: icons[kind] || "", alt: kindName(kind), title: kindName(kind), width: size, height: size });
}

/** Shows `err` in the element `where`, or as an error toast when there is none. */
export function showError(where, err) {
  const msg =
    err && err.status === 404 && err.code === "not_found" && /route/i.test(err.message || "")
      ? t("inbox.not_available")
      : (err && err.message) || t("inbox.error");
  if (where) {
    where.textContent = msg;
    where.hidden = false;
  } else {
    toast(t("inbox.error"), msg, { kind: "error" });
  }
  return msg;
}

/** Whether a session belongs in the list under the current scope and channel filter. */
export function matches(s) {
  if (S.channel && String(s.channel_id) !== S.channel) return false;
  if (S.tag && !(s.tags || []).includes(S.tag)) return false;
  if (S.status && s.status !== S.status) return false;
  // A search is answered by the server; a live update keeps only rows it already found.
  if (S.q && !S.rows.has(s.id)) return false;
  // Snoozed conversations are only in the Snoozed list until they wake.
  const snoozed = !!s.snoozed_until && s.status === "open";
  if (S.scope === "snoozed") return snoozed;
  if (snoozed) return false;
  switch (S.scope) {
    case "archived":
      return s.archived;
    case "mine":
      return !s.archived && s.assignee === me;
    case "unassigned":
      return !s.archived && s.status === "open" && !s.assignee;
    default:
      return !s.archived;
  }
}

export const visible = () => document.visibilityState === "visible";
