"use strict";
// Switchboard: shared client code for every page (no bundler, CSP-clean: no inline script,
// no innerHTML with data). Exposes window.SB: DOM helper, JSON API client, strings, time
// formatting, toasts, the live event stream (SSE with resume) and notifications.
(function () {
  const body = document.body;
  const SB = (window.SB = {});
  let strings = {};
  try {
    strings = JSON.parse(body.dataset.strings || "{}");
  } catch (_) {
    strings = {};
  }
  SB.t = (k) => strings[k] || k;
  SB.lang = body.dataset.lang || "en";
  SB.me = Number(body.dataset.userId || 0);

  // ---- DOM -------------------------------------------------------------------------------
  // h("div", {class: "x", text: "user text", dataset: {id: 1}, onclick: fn}, child, "text")
  // Text always goes in as text nodes; there is no way to pass HTML.
  SB.h = function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  };
  const h = SB.h;

  const ICONS = {
    check: "M5 12l5 5L20 7",
    transfer: "M4 12h15M13 6l6 6-6 6",
    note: "M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4",
    end: "M6 6l12 12M18 6L6 18",
    archive: "M3 4h18v5H3zM5 9v11h14V9M10 13h4",
    unarchive: "M3 4h18v5H3zM5 9v11h14V9M12 18v-6M9 15l3-3 3 3",
    bell: "M6 9a6 6 0 0 1 12 0c0 6 3 8 3 8H3s3-2 3-8M10 20a2 2 0 0 0 4 0",
    belloff: "M6 9a6 6 0 0 1 12 0c0 6 3 8 3 8H3s3-2 3-8M10 20a2 2 0 0 0 4 0M3 3l18 18",
    phone: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z",
    info: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 16v-5M12 8h.01",
    clip: "M20 11l-8.5 8.5a5 5 0 0 1-7-7L13 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L14 7",
    smile: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM8 14s1.5 2 4 2 4-2 4-2M9 9.5h.01M15 9.5h.01",
    send: "M3 20l18-8L3 4v6l12 2-12 2z",
    camera: "M4 7h3l2-3h6l2 3h3v12H4zM12 16.5a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z",
    back: "M15 5l-7 7 7 7",
    retry: "M4 12a8 8 0 1 0 2.5-5.8M4 4v5h5",
  };
  SB.icon = function (name, filled) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "ico");
    const p = document.createElementNS(ns, "path");
    p.setAttribute("d", ICONS[name] || "");
    if (filled) {
      p.setAttribute("fill", "currentColor");
    } else {
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "1.8");
      p.setAttribute("stroke-linecap", "round");
      p.setAttribute("stroke-linejoin", "round");
    }
    svg.append(p);
    return svg;
  };

  // ---- API -------------------------------------------------------------------------------
  SB.csrf = () => {
    const m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  };
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }
  SB.ApiError = ApiError;
  SB.api = async function (method, path, data) {
    const opts = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") opts.headers["X-CSRF-Token"] = SB.csrf();
    if (data !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(data);
    }
    let r;
    try {
      r = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, "network", SB.t("inbox.error") + " (network)");
    }
    if (r.status === 401) {
      window.location.href = "/login";
      throw new ApiError(401, "unauthorized", "not logged in");
    }
    if (r.status === 204) return null;
    let j = null;
    try {
      j = await r.json();
    } catch (_) {
      j = null;
    }
    if (!r.ok) {
      const e = (j && j.error) || {};
      throw new ApiError(r.status, e.code || String(r.status), e.message || r.statusText || SB.t("inbox.error"));
    }
    return j;
  };

  // ---- Time ------------------------------------------------------------------------------
  const locale = SB.lang === "de" ? "de-DE" : "en-GB";
  const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  SB.fmtClock = (ts) => new Date(ts).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  SB.fmtDay = function (ts) {
    const today = startOfDay(new Date());
    const d = startOfDay(new Date(ts));
    if (d === today) return SB.t("inbox.today");
    if (today - d <= 86400000 + 3600000 && today > d) return SB.t("inbox.yesterday");
    return new Date(ts).toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  };
  SB.fmtDateTime = (ts) => new Date(ts).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
  // List times, chat-app style: now · 5 min · 14:05 · Yesterday · Mon · 03.02.24
  SB.fmtRel = function (ts) {
    const now = Date.now();
    const diff = now - ts;
    if (diff < 60000) return SB.t("inbox.now");
    if (diff < 3600000) return Math.floor(diff / 60000) + " " + SB.t("inbox.min");
    const today = startOfDay(new Date());
    const d = startOfDay(new Date(ts));
    if (d === today) return SB.fmtClock(ts);
    if (today - d <= 90000000) return SB.t("inbox.yesterday");
    if (today - d < 6 * 86400000) return new Date(ts).toLocaleDateString(locale, { weekday: "short" });
    return new Date(ts).toLocaleDateString(locale, { day: "2-digit", month: "2-digit", year: "2-digit" });
  };
  SB.fmtSize = function (n) {
    const u = ["B", "KB", "MB", "GB"];
    let v = n;
    let i = 0;
    while (v >= 1024 && i < u.length - 1) {
      v /= 1024;
      i++;
    }
    return i === 0 ? n + " B" : v.toFixed(1) + " " + u[i];
  };

  // ---- Toasts ----------------------------------------------------------------------------
  SB.toast = function (title, text, opts) {
    const box = document.getElementById("toasts");
    if (!box) return;
    const o = opts || {};
    const t = h(
      "div",
      { class: "toast " + (o.kind || "info"), role: o.kind === "error" ? "alert" : "status", dataset: o.sid ? { sid: o.sid } : undefined },
      h("div", { class: "toast-title", text: title }),
      text ? h("div", { class: "toast-text", text }) : null,
    );
    if (o.onclick) {
      t.classList.add("clickable");
      t.addEventListener("click", () => {
        t.remove();
        o.onclick();
      });
    }
    const close = h("button", { type: "button", class: "toast-x", "aria-label": SB.t("inbox.close"), text: "×" });
    close.addEventListener("click", (e) => {
      e.stopPropagation();
      t.remove();
    });
    t.append(close);
    box.append(t);
    while (box.children.length > 4) box.firstElementChild.remove();
    setTimeout(() => t.remove(), o.ms || 7000);
  };

  // ---- Live events (SSE with resume) -------------------------------------------------------
  // The page renders the event-log position it was built at (data-seq); the stream resumes
  // from there, and after that from the last event seen. EventSource sends Last-Event-ID on
  // its own reconnects; when it gives up (CLOSED) we reconnect with ?last_event_id=.
  const live = {
    es: null,
    seq: body.dataset.seq ? Number(body.dataset.seq) : null,
    listeners: [],
    timer: null,
    backoff: 1000,
    down: false,
  };
  SB.live = live;
  function setDown(down) {
    live.down = down;
    const badge = document.getElementById("conn-state");
    if (badge) badge.hidden = !down;
    body.classList.toggle("offline", down);
  }
  function dispatch(ev) {
    for (const fn of live.listeners) {
      try {
        fn(ev);
      } catch (e) {
        console.error("event handler", e);
      }
    }
  }
  live.on = (fn) => live.listeners.push(fn);
  live.open = function () {
    clearTimeout(live.timer);
    if (live.es) live.es.close();
    const url = "/api/v1/events" + (live.seq !== null ? "?last_event_id=" + live.seq : "");
    const es = new EventSource(url);
    live.es = es;
    es.onopen = () => {
      live.backoff = 1000;
      setDown(false);
    };
    es.onmessage = (e) => {
      let ev;
      try {
        ev = JSON.parse(e.data);
      } catch (_) {
        return;
      }
      if (typeof ev.seq === "number") {
        if (live.seq !== null && ev.seq <= live.seq) return; // seen already
        live.seq = ev.seq;
      }
      dispatch(ev);
    };
    es.addEventListener("reset", () => {
      // The log no longer reaches back to us: start from "now" and reload the views.
      live.seq = null;
      es.close();
      live.open();
      dispatch({ kind: "reset" });
    });
    es.onerror = () => {
      if (live.es !== es) return;
      setDown(true);
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
    setDown(true);
  };
  // Simulates a dropped connection (used by the browser tests): down now, back after `ms`.
  live.drop = function (ms) {
    live.close();
    live.timer = setTimeout(live.open, ms || 2000);
  };

  // ---- Notifications ------------------------------------------------------------------------
  const notify = {
    sound: body.dataset.sound === "true",
    popups: body.dataset.popups === "true",
    desktop: body.dataset.desktop === "true",
    sessions: new Map(), // id -> {unread, muted, name, assignee, status, archived}
    viewing: null,
    repeats: new Map(),
    lastAlert: new Map(),
    baseTitle: document.title,
    alerts: 0, // how many alerts fired (tests read it)
  };
  SB.notify = notify;
  const REPEAT_MS = 30000;

  let audio = null;
  function beep() {
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      audio = audio || new Ctx();
      if (audio.state === "suspended") audio.resume();
      const t0 = audio.currentTime;
      for (const [i, f] of [[0, 880], [1, 1320]]) {
        const o = audio.createOscillator();
        const g = audio.createGain();
        o.type = "sine";
        o.frequency.value = f;
        const s = t0 + i * 0.14;
        g.gain.setValueAtTime(0.0001, s);
        g.gain.exponentialRampToValueAtTime(0.2, s + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, s + 0.13);
        o.connect(g).connect(audio.destination);
        o.start(s);
        o.stop(s + 0.14);
      }
    } catch (_) {
      /* no audio available */
    }
  }
  document.addEventListener(
    "pointerdown",
    () => {
      try {
        const Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) audio = new Ctx();
      } catch (_) {
        /* ignore */
      }
    },
    { once: true },
  );

  function openSessionLink(id) {
    if (typeof SB.openSession === "function") SB.openSession(id, { push: true });
    else window.location.href = "/chat/external/" + id;
  }
  const isViewing = (id) => notify.viewing === id && document.visibilityState === "visible";

  function alertFor(id, title, text) {
    const s = notify.sessions.get(id);
    if (s && s.muted) return;
    const last = notify.lastAlert.get(id) || 0;
    if (Date.now() - last < 1500) return;
    notify.lastAlert.set(id, Date.now());
    notify.alerts++;
    if (notify.sound) beep();
    if (notify.popups && !isViewing(id)) SB.toast(title, text, { sid: id, onclick: () => openSessionLink(id) });
    if (notify.desktop && "Notification" in window && Notification.permission === "granted" && document.hidden) {
      try {
        const n = new Notification(title, { body: text || "", tag: "sb-" + id, renotify: true });
        n.onclick = () => {
          window.focus();
          openSessionLink(id);
          n.close();
        };
      } catch (_) {
        /* some browsers only allow notifications from a service worker */
      }
    }
  }
  function stopRepeat(id) {
    const t = notify.repeats.get(id);
    if (t) clearInterval(t);
    notify.repeats.delete(id);
  }
  function startRepeat(id) {
    if (notify.repeats.has(id)) return;
    const fire = () => {
      const s = notify.sessions.get(id);
      if (!s || s.assignee || s.status !== "open" || s.archived) return stopRepeat(id);
      if (isViewing(id)) return; // the agent is looking at it right now
      notify.lastAlert.delete(id);
      alertFor(id, SB.t("inbox.new_session"), s.name || s.preview || "");
    };
    notify.repeats.set(id, setInterval(fire, REPEAT_MS));
  }
  notify.repeatingFor = () => Array.from(notify.repeats.keys());

  notify.render = function () {
    let total = 0;
    for (const s of notify.sessions.values()) if (!s.muted) total += s.unread || 0;
    const b = document.getElementById("unread-external");
    if (b) {
      b.textContent = total > 99 ? "99+" : String(total);
      b.hidden = total === 0;
    }
    document.title = (total > 0 ? "(" + total + ") " : "") + notify.baseTitle;
  };
  notify.setTitle = function (t) {
    notify.baseTitle = t;
    notify.render();
  };
  notify.setViewing = function (id) {
    notify.viewing = id;
    if (id) for (const el of document.querySelectorAll('#toasts .toast[data-sid="' + id + '"]')) el.remove();
    if (id && notify.sessions.has(id) && document.visibilityState === "visible") {
      notify.sessions.get(id).unread = 0;
      notify.render();
    }
  };
  function remember(v) {
    const cur = notify.sessions.get(v.id) || { unread: 0, muted: false };
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
    notify.sessions.set(v.id, cur);
    return cur;
  }
  notify.remember = remember;
  async function loadTotals() {
    try {
      const page = await SB.api("GET", "/api/v1/sessions?scope=all&limit=200");
      notify.sessions.clear();
      for (const v of page.sessions) remember(v);
      notify.render();
    } catch (_) {
      /* badges stay as they are */
    }
  }
  async function learn(id) {
    try {
      const d = await SB.api("GET", "/api/v1/sessions/" + id);
      return remember(d.session);
    } catch (_) {
      return null;
    }
  }

  live.on(async (ev) => {
    const d = ev.data || {};
    switch (ev.kind) {
      case "message.created": {
        if (d.direction !== "in") return;
        let s = notify.sessions.get(d.session_id) || (await learn(d.session_id));
        if (!s) return;
        if (isViewing(d.session_id)) {
          s.unread = 0;
        } else {
          if (d.id > (s.counted || 0)) {
            s.unread = (s.unread || 0) + 1;
            s.counted = d.id;
          }
          const preview = d.text || (d.files && d.files.length ? "📎 " + d.files[0].name : "");
          alertFor(d.session_id, s.name || SB.t("inbox.new_message"), preview);
        }
        notify.render();
        break;
      }
      case "session.created": {
        const s = (await learn(d.id)) || remember(d);
        if (!d.assignee && d.status === "open" && !s.muted) {
          alertFor(d.id, SB.t("inbox.new_session"), s.name || "");
          startRepeat(d.id);
        }
        break;
      }
      case "session.updated": {
        const s = notify.sessions.get(d.id);
        if (s) {
          s.assignee = d.assignee || null;
          s.status = d.status;
          s.archived = d.archived;
          s.preview = d.last_preview;
        }
        if (d.assignee || d.status !== "open" || d.archived) stopRepeat(d.id);
        break;
      }
      case "session.read": {
        const s = notify.sessions.get(d.session_id);
        if (s) s.unread = 0;
        notify.render();
        break;
      }
      case "session.muted": {
        const s = notify.sessions.get(d.session_id);
        if (s) s.muted = d.muted;
        if (d.muted) stopRepeat(d.session_id);
        notify.render();
        break;
      }
      case "user.updated": {
        if (d.id === SB.me && d.notify) {
          notify.sound = !!d.notify.sound;
          notify.popups = !!d.notify.popups;
          notify.desktop = !!d.notify.desktop;
        }
        break;
      }
      case "reset":
        loadTotals();
        break;
    }
  });

  // ---- Settings page: desktop notifications need the browser's permission, asked on a click.
  function settingsPage() {
    const toggle = document.getElementById("desktop-toggle");
    if (!toggle) return;
    toggle.addEventListener("change", async () => {
      if (!toggle.checked) return;
      const refuse = () => {
        toggle.checked = false;
        let p = document.getElementById("desktop-msg");
        if (!p) {
          p = h("p", { id: "desktop-msg", class: "error", role: "alert" });
          toggle.closest("label").after(p);
        }
        p.textContent = SB.t("inbox.desktop_denied");
      };
      if (!("Notification" in window)) return refuse();
      if (Notification.permission === "granted") return;
      try {
        const p = await Notification.requestPermission();
        if (p !== "granted") refuse();
      } catch (_) {
        refuse();
      }
    });
  }

  if (SB.me) {
    settingsPage();
    loadTotals();
    live.open();
    window.addEventListener("pagehide", () => live.es && live.es.close());
  }
})();

// ---- channels admin (copy webhook URLs) ------------------------------------------------
document.addEventListener("click", function (ev) {
  var b = ev.target instanceof Element ? ev.target.closest("button[data-copy]") : null;
  if (!b || !navigator.clipboard) return;
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(function () {
    var label = b.textContent;
    b.textContent = "✓";
    setTimeout(function () { b.textContent = label; }, 1500);
  });
});
// ---- end channels admin ------------------------------------------------------------------
