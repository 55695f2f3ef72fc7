// Phone state dots (PBX event link): each colleague's extension as the PBX reports it —
// free, ringing, on a call, do not disturb, offline — as a coloured dot with its words as
// label and tooltip. `phoneDot(id)` makes one; every dot on the page follows `phone.state`
// events. Unknown phones (no PBX, no extension, nothing heard yet) show no dot.
import { api } from "./api.js";
import { h } from "./dom.js";
import { live } from "./events.js";
import { t } from "./i18n.js";
import { toast } from "./toast.js";

const states = new Map();
let loading = null;

/** The state word of user `id` (`idle`, `ringing`, `on_call`, `dnd`, `offline`) or null. */
export const phoneState = (id) => states.get(Number(id)) || null;

/** The label of a state, e.g. "On a call". */
export const phoneLabel = (state) => t("pbx.phone." + state);

function paint(el) {
  const st = phoneState(el.dataset.phoneUser);
  el.className = "phone-dot" + (st ? " phone-" + st : "");
  el.hidden = !st;
  if (st) {
    el.setAttribute("role", "img");
    el.setAttribute("aria-label", phoneLabel(st));
    el.title = phoneLabel(st);
  } else {
    el.removeAttribute("role");
    el.removeAttribute("aria-label");
    el.removeAttribute("title");
  }
}

function paintAll() {
  for (const el of document.querySelectorAll("[data-phone-user]")) paint(el);
  for (const fn of listeners) fn();
}

const listeners = [];
/** `fn()` after any phone changed (e.g. to redraw option texts). */
export const onPhones = (fn) => listeners.push(fn);

/** Loads the current states once per page. */
export function loadPhones() {
  if (!loading) {
    loading = api("GET", "/api/v1/pbx/phones")
      .then((m) => {
        for (const [id, st] of Object.entries(m || {})) states.set(Number(id), st);
        paintAll();
      })
      .catch(() => {});
  }
  return loading;
}

/** A dot for user `id` (hidden while their phone is unknown). */
export function phoneDot(id) {
  const el = h("span", { "data-phone-user": String(id) });
  paint(el);
  loadPhones();
  return el;
}

live.on((ev) => {
  if (ev.kind === "phone.state" && ev.data) {
    if (ev.data.state) states.set(Number(ev.data.user_id), ev.data.state);
    else states.delete(Number(ev.data.user_id));
    paintAll();
  } else if (ev.kind === "reset") {
    loading = null;
    if (document.querySelector("[data-phone-user]")) loadPhones();
  }
});

/** Seconds as m:ss (or h:mm:ss). */
function duration(s) {
  const n = Math.max(0, Math.round(Number(s) || 0));
  const pad = (x) => String(x).padStart(2, "0");
  const m = Math.floor(n / 60);
  return m >= 60 ? Math.floor(m / 60) + ":" + pad(m % 60) + ":" + pad(n % 60) : m + ":" + pad(n % 60);
}

/** The words of a `phone_call` timeline entry: "Incoming call · +49… · extension 201 · Missed". */
export function callSummary(detail) {
  let c;
  try {
    c = JSON.parse(detail);
  } catch {
    return detail || "";
  }
  const parts = [t("pbx.call." + c.direction), c.number];
  if (c.extension) parts.push(t("pbx.call.extension") + " " + c.extension);
  parts.push(t("pbx.disp." + c.disposition));
  if (c.disposition === "answered") parts.push(duration(c.talk_s));
  return parts.join(" · ");
}

// The screen pop: a known contact calls this agent's extension.
live.on((ev) => {
  if (ev.kind !== "phone.ringing" || !ev.data) return;
  const d = ev.data;
  const convs = d.sessions || [];
  toast(t("pbx.pop.title") + ": " + d.name, d.number + (convs.length ? "" : " · " + t("pbx.pop.no_open")), {
    ms: 30000,
    cls: "screen-pop",
    links: convs.map((s) => ({ href: "/chat/external/" + s.id, text: t("ch." + s.channel_kind) + (s.preview ? ": " + s.preview : "") })),
  });
});

// Server-rendered dots (the admin's user list).
if (document.querySelector("[data-phone-user]")) loadPhones();
