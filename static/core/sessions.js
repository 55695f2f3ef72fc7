// Customer conversations on every page: the unread total in the nav badge and the tab title,
// and alerts for new messages and new unassigned conversations (repeated every 30 s until
// someone picks it up, it is closed, archived or muted, except while the agent looks at it).
import { api } from "./api.js";
import { live } from "./events.js";
import { me, t } from "./i18n.js";
import { alertUser, beep, prefs } from "./notify.js";
import { toast } from "./toast.js";

const REPEAT_MS = 30000;

export const sessions = {
  known: new Map(), // id -> {unread, counted, muted, name, preview, assignee, status, archived}
  viewing: null,
  repeats: new Map(),
  lastAlert: new Map(),
  baseTitle: document.title,
  alerts: 0, // how many alerts fired (the browser tests read it)
  // How to show a conversation; the inbox page replaces it to open it in place.
  open: (id) => {
    window.location.href = "/chat/external/" + id;
  },
};

const isViewing = (id) => sessions.viewing === id && document.visibilityState === "visible";

function alertFor(id, title, text) {
  const s = sessions.known.get(id);
  if (s && s.muted) return;
  const last = sessions.lastAlert.get(id) || 0;
  if (Date.now() - last < 1500) return;
  sessions.lastAlert.set(id, Date.now());
  sessions.alerts++;
  alertUser(title, text, {
    tag: "sb-" + id,
    popup: !isViewing(id),
    onclick: () => sessions.open(id, { push: true }),
    toast: { sid: id },
  });
}

function stopRepeat(id) {
  const timer = sessions.repeats.get(id);
  if (timer) clearInterval(timer);
  sessions.repeats.delete(id);
}

function startRepeat(id) {
  if (sessions.repeats.has(id)) return;
  const fire = () => {
    const s = sessions.known.get(id);
    if (!s || s.assignee || s.status !== "open" || s.archived) return stopRepeat(id);
    if (isViewing(id)) return; // the agent is looking at it right now
    sessions.lastAlert.delete(id);
    alertFor(id, t("inbox.new_session"), s.name || s.preview || "");
  };
  sessions.repeats.set(id, setInterval(fire, REPEAT_MS));
}

/** Ids of the conversations that alert again every 30 s (the browser tests read it). */
sessions.repeatingFor = () => Array.from(sessions.repeats.keys());

/** Unread total (unmuted) to the nav badge and the tab title "(n) …". */
sessions.render = function () {
  let total = 0;
  for (const s of sessions.known.values()) if (!s.muted) total += s.unread || 0;
  // The badge and the tab title say the same: "99+" beyond 99.
  const shown = total > 99 ? "99+" : String(total);
  const b = document.getElementById("unread-external");
  if (b) {
    b.textContent = shown;
    b.hidden = total === 0;
  }
  document.title = (total > 0 ? "(" + shown + ") " : "") + sessions.baseTitle;
  // The installed app's icon shows the same count (Badging API, where the browser has it).
  if (navigator.setAppBadge) {
    const p = total > 0 ? navigator.setAppBadge(total) : navigator.clearAppBadge();
    if (p && p.catch) p.catch(() => {});
  }
};

sessions.setTitle = function (title) {
  sessions.baseTitle = title;
  sessions.render();
};

/** The agent now looks at conversation `id` (or none): its pop-ups go, its count clears. */
sessions.setViewing = function (id) {
  sessions.viewing = id;
  if (id) for (const el of document.querySelectorAll('#toasts .toast[data-sid="' + id + '"]')) el.remove();
  if (id && sessions.known.has(id) && document.visibilityState === "visible") {
    sessions.known.get(id).unread = 0;
    sessions.render();
  }
};

/** Takes in a session view from the API; returns what is known about it. */
sessions.remember = function (v) {
  const cur = sessions.known.get(v.id) || { unread: 0, muted: false };
  cur.name = v.contact_name || cur.name || "";
  cur.preview = v.last_preview || cur.preview || "";
  // A fetched view counts every message up to its last_message_id; later events add to it.
  if ("unread" in v && (v.last_message_id || 0) >= (cur.counted || 0)) {
    cur.unread = v.unread;
    cur.counted = v.last_message_id || 0;
  }
  if ("muted" in v) cur.muted = v.muted;
  cur.assignee = v.assignee || null;
  cur.status = v.status;
  cur.archived = v.archived;
  sessions.known.set(v.id, cur);
  return cur;
};

/** Loads the totals (at start and after a stream reset). */
sessions.load = async function () {
  try {
    const page = await api("GET", "/api/v1/sessions?scope=all&limit=200");
    sessions.known.clear();
    for (const v of page.sessions) sessions.remember(v);
    sessions.render();
  } catch {
    /* badges stay as they are */
  }
};

async function learn(id) {
  try {
    const d = await api("GET", "/api/v1/sessions/" + id);
    return sessions.remember(d.session);
  } catch {
    return null;
  }
}

live.on(async (ev) => {
  const d = ev.data || {};
  switch (ev.kind) {
    case "message.created": {
      if (d.direction !== "in") return;
      const s = sessions.known.get(d.session_id) || (await learn(d.session_id));
      if (!s) return;
      if (isViewing(d.session_id)) {
        s.unread = 0;
      } else {
        if (d.id > (s.counted || 0)) {
          s.unread = (s.unread || 0) + 1;
          s.counted = d.id;
        }
        const preview = d.text || (d.files && d.files.length ? "📎 " + d.files[0].name : "");
        alertFor(d.session_id, s.name || t("inbox.new_message"), preview);
      }
      sessions.render();
      break;
    }
    case "session.created": {
      const s = (await learn(d.id)) || sessions.remember(d);
      if (!d.assignee && d.status === "open" && !s.muted) {
        alertFor(d.id, t("inbox.new_session"), s.name || "");
        startRepeat(d.id);
      }
      break;
    }
    case "session.updated": {
      const s = sessions.known.get(d.id);
      if (s) {
        s.assignee = d.assignee || null;
        s.status = d.status;
        s.archived = d.archived;
        s.preview = d.last_preview;
      }
      if (d.assignee || d.status !== "open" || d.archived) stopRepeat(d.id);
      break;
    }
    case "session.sla_breached": {
      // A conversation of my channels missed its first-response target: say so, once.
      const s = (await learn(d.session_id)) || sessions.known.get(d.session_id) || {};
      if (prefs.sound) beep();
      toast(t("inbox.sla_breached"), s.name || "#" + d.session_id, { kind: "warn", ms: 15000, cls: "sla-toast", sid: d.session_id, onclick: () => sessions.open(d.session_id, { push: true }) });
      break;
    }
    case "session.transferred": {
      // A colleague handed a conversation to me: say who, which customer, and their note.
      if (d.to_user_id !== me) break;
      const s = (await learn(d.session_id)) || sessions.known.get(d.session_id) || {};
      const title = t("inbox.transferred_to_you")
        .replace("{from}", d.from || "")
        .replace("{name}", s.name || "#" + d.session_id);
      if (prefs.sound) beep();
      toast(title, d.note || "", { ms: 15000, cls: "transfer-toast", onclick: () => sessions.open(d.session_id, { push: true }) });
      break;
    }
    case "session.read": {
      const s = sessions.known.get(d.session_id);
      if (s) s.unread = 0;
      sessions.render();
      break;
    }
    case "session.muted": {
      const s = sessions.known.get(d.session_id);
      if (s) s.muted = d.muted;
      if (d.muted) stopRepeat(d.session_id);
      sessions.render();
      break;
    }
    case "reset":
      sessions.load();
      break;
  }
});
