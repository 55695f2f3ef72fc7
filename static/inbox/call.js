// Calling the customer: with a PBX linked the agent's desk phone rings first and then dials
// the customer (POST /sessions/{id}/call); without one the Call button is a tel: link.
// While the call is under way a small bar above the messages shows its state as the PBX
// reports it (`call.state` events): calling → ringing → connected (with the talk time) →
// ended, or busy / no answer / failed / unknown.
import { api } from "../core/api.js";
import { h } from "../core/dom.js";
import { live } from "../core/events.js";
import { t } from "../core/i18n.js";
import { toast } from "../core/toast.js";
import { S, pane, showError } from "./state.js";

/** Whether calls go through the PBX (GET /api/v1/pbx/status, read once at start). */
export async function loadPbx() {
  try {
    S.pbx = await api("GET", "/api/v1/pbx/status");
  } catch {
    S.pbx = null;
  }
}

// The latest state per conversation: {state, number, talk_s, at} (`at`: when talk_s was true).
const calls = new Map();
const FINAL = ["ended", "busy", "no_answer", "failed", "unknown"];
let ticker = null;

/** Seconds as m:ss (or h:mm:ss). */
function mss(s) {
  const n = Math.max(0, Math.floor(Number(s) || 0));
  const pad = (x) => String(x).padStart(2, "0");
  const m = Math.floor(n / 60);
  return m >= 60 ? Math.floor(m / 60) + ":" + pad(m % 60) + ":" + pad(n % 60) : m + ":" + pad(n % 60);
}

const bar = h("div", { class: "call-bar", id: "call-bar", role: "status", "aria-live": "polite", hidden: true });

/** The live call bar of the open conversation (one element, kept across re-renders). */
export function callBarEl() {
  paint();
  return bar;
}

function paint() {
  const c = calls.get(S.current);
  if (!c) {
    bar.hidden = true;
    bar.replaceChildren();
    bar.removeAttribute("data-state");
    return;
  }
  bar.hidden = false;
  bar.dataset.state = c.state;
  const talk = c.state === "connected" ? (c.talk_s || 0) + (Date.now() - c.at) / 1000 : c.talk_s;
  const words = t("call.state." + c.state).replace("{number}", c.number || "");
  const parts = [h("span", { class: "call-dot", "aria-hidden": "true" }), h("span", { class: "call-words", text: words })];
  if (talk != null && (c.state === "connected" || c.state === "ended")) parts.push(h("span", { class: "call-time", text: mss(talk) }));
  bar.replaceChildren(...parts);
  clearInterval(ticker);
  ticker = c.state === "connected" ? setInterval(paintTime, 1000) : null;
}

// Only the time moves each second (the words stay, so screen readers are not re-told).
function paintTime() {
  const c = calls.get(S.current);
  const el = bar.querySelector(".call-time");
  if (!c || c.state !== "connected" || !el) return;
  el.textContent = mss((c.talk_s || 0) + (Date.now() - c.at) / 1000);
}

function set(id, data) {
  const old = calls.get(id);
  // Never back: a late "calling" after "ringing" changes nothing.
  if (old && old.state !== "calling" && data.state === "calling" && !FINAL.includes(old.state)) return;
  calls.set(id, { state: data.state, number: data.number || (old && old.number) || "", talk_s: data.talk_s, at: Date.now() });
  if (id === S.current) paint();
}

live.on((ev) => {
  if (ev.kind !== "call.state" || !ev.data) return;
  set(Number(ev.data.session_id), ev.data);
  // The outcome is in the timeline now.
  if (FINAL.includes(ev.data.state) && Number(ev.data.session_id) === S.current) pane.refresh();
});

export async function callCustomer() {
  const id = S.current;
  // The bar says "calling" at once; the one toast, when the PBX took the call, says which
  // phone to pick up.
  set(id, { state: "calling", number: S.detail && S.detail.session ? S.detail.session.contact_address : "" });
  try {
    const r = await api("POST", "/api/v1/sessions/" + id + "/call", {});
    const c = calls.get(id);
    if (c && r.number) c.number = r.number;
    toast(t("inbox.calling"), t("inbox.call_ringing").replace("{ext}", r.extension), {});
  } catch (e) {
    set(id, { state: "failed" });
    showError(null, e);
  }
  if (S.current === id) await pane.refresh();
}
