// The page's one live event stream (/api/v1/events, server-sent events with resume). Modules
// subscribe with `live.on(fn)`; app.js opens the stream once every page module has run.
//
// The page renders the event-log position it was built at (data-seq); the stream resumes
// from there, and after that from the last event seen. EventSource sends Last-Event-ID on
// its own reconnects; when it gives up (CLOSED) we reconnect with ?last_event_id=.
// Logged events at or below the last seen seq are dropped (no duplicates). A `reset` event (the log
// no longer reaches back to us) restarts from "now" and is passed on as {kind: "reset"} so
// the views reload.
const body = document.body;

export const live = {
  es: null,
  seq: body.dataset.seq ? Number(body.dataset.seq) : null,
  up: false,
  listeners: [],
  statusListeners: [],
  timer: null,
  backoff: 1000,
};

function dispatch(ev) {
  for (const fn of live.listeners) {
    try {
      fn(ev);
    } catch (e) {
      console.error("event handler", e);
    }
  }
}

function setUp(up) {
  live.up = up;
  const badge = document.getElementById("conn-state");
  if (badge) badge.hidden = up;
  body.classList.toggle("offline", !up);
  for (const fn of live.statusListeners) fn(up);
}

/** `fn(event)` for every event ({kind, data, seq}) and for {kind: "reset"}. */
live.on = (fn) => live.listeners.push(fn);

/** `fn(up)` whenever the stream connects (true) or drops (false); at once if it is up. */
live.onStatus = (fn) => {
  live.statusListeners.push(fn);
  if (live.up) fn(true);
};

live.open = function () {
  clearTimeout(live.timer);
  if (live.es) live.es.close();
  const url = "/api/v1/events" + (live.seq !== null ? "?last_event_id=" + live.seq : "");
  const es = new EventSource(url);
  live.es = es;
  es.onopen = () => {
    live.backoff = 1000;
    setUp(true);
  };
  es.onmessage = (e) => {
    let ev;
    try {
      ev = JSON.parse(e.data);
    } catch {
      return;
    }
    // Logged events carry their sequence number; ephemeral ones (typing) carry 0 and are
    // neither replayed nor deduplicated.
    if (typeof ev.seq === "number" && ev.seq > 0) {
      if (live.seq !== null && ev.seq <= live.seq) return; // seen already
      live.seq = ev.seq;
    }
    dispatch(ev);
  };
  es.addEventListener("reset", () => {
    live.seq = null;
    es.close();
    live.open();
    dispatch({ kind: "reset" });
  });
  es.onerror = () => {
    if (live.es !== es) return;
    setUp(false);
    if (es.readyState === EventSource.CLOSED) {
      es.close();
      live.timer = setTimeout(live.open, live.backoff);
      live.backoff = Math.min(live.backoff * 2, 30000);
    }
  };
};

live.close = function () {
  clearTimeout(live.timer);
  if (live.es) live.es.close();
  live.es = null;
  setUp(false);
};

/** Simulates a dropped connection (used by the browser tests): down now, back after `ms`. */
live.drop = function (ms) {
  live.close();
  live.timer = setTimeout(live.open, ms || 2000);
};
