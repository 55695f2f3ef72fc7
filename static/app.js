// Switchboard: the entry module of every page (no bundler, CSP-clean: no inline script, no
// innerHTML). The shared code lives in core/ as ES modules that page scripts import:
//   core/dom.js      h() (text only ever as text nodes), $, byId, SVG icons
//   core/i18n.js     t(), language, locale, the signed-in user
//   core/api.js      JSON API client (CSRF, ApiError), file upload with progress
//   core/time.js     date/time/size formatting, debounce
//   core/toast.js    pop-up messages
//   core/events.js   the page's one live event stream (SSE with resume)
//   core/notify.js   alert preferences, sound, desktop notifications
//   core/sessions.js unread badge, tab title and alerts for customer conversations
// It also turns <time data-ms> into local dates and wires [data-copy] buttons.
// This module starts what every signed-in page has: the stream, the badge, the settings hook.
import { h } from "./core/dom.js";
import { live } from "./core/events.js";
import { me, t } from "./core/i18n.js";
import { sessions } from "./core/sessions.js";
import { fmtDateTime } from "./core/time.js";
// Phone dots (PBX) on server-rendered pages follow the live stream too.
import "./core/phone.js";

// A handle for the browser tests and the console; page code imports the modules instead.
window.SB = { live, notify: sessions };

// ---- Settings page: desktop notifications need the browser's permission, asked on a click.
function settingsPage() {
  // API token times: the page paints them in UTC; show them in the browser's zone and locale.
  for (const el of document.querySelectorAll("#api-tokens time[data-ms]")) {
    el.textContent = fmtDateTime(Number(el.getAttribute("data-ms")));
  }
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
      p.textContent = t("inbox.desktop_denied");
    };
    if (!("Notification" in window)) return refuse();
    if (Notification.permission === "granted") return;
    try {
      const p = await Notification.requestPermission();
      if (p !== "granted") refuse();
    } catch {
      refuse();
    }
  });
}

// ---- Channels admin: buttons that copy a webhook URL.
document.addEventListener("click", (ev) => {
  const b = ev.target instanceof Element ? ev.target.closest("button[data-copy]") : null;
  if (!b || !navigator.clipboard) return;
  navigator.clipboard.writeText(b.getAttribute("data-copy")).then(() => {
    const label = b.textContent;
    b.textContent = "✓";
    setTimeout(() => {
      b.textContent = label;
    }, 1500);
  });
});

// ---- Admin pages: server-rendered times (<time data-ms>, UTC text) in the reader's local time.
for (const el of document.querySelectorAll("time[data-ms]")) {
  const ms = Number(el.dataset.ms);
  if (!Number.isFinite(ms) || ms <= 0) continue;
  el.dateTime = new Date(ms).toISOString();
  el.textContent = fmtDateTime(ms);
}

// ---- Phone menu ("☰" in the top bar): the nav entries after the first two. Esc or a click
// elsewhere closes it.
function navMenu() {
  const btn = document.getElementById("nav-toggle");
  const bar = btn && btn.closest(".topbar");
  if (!bar) return;
  const set = (open) => {
    bar.classList.toggle("nav-open", open);
    btn.setAttribute("aria-expanded", String(open));
  };
  btn.addEventListener("click", () => {
    const open = !bar.classList.contains("nav-open");
    set(open);
    if (open) {
      const first = document.querySelector("#navmore a");
      if (first) first.focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !bar.classList.contains("nav-open")) return;
    set(false);
    btn.focus();
  });
  document.addEventListener("click", (e) => {
    if (e.target instanceof Element && !e.target.closest("#navmore, #nav-toggle")) set(false);
  });
}

// ---- The on-screen keyboard: --vvh follows the visual viewport's height, so full-height
// pages (inbox, internal chat) shrink and keep their composer above the keyboard.
function followViewport() {
  const vv = window.visualViewport;
  if (!vv) return;
  const apply = () => {
    if (Math.abs(vv.scale - 1) > 0.01) return; // pinch-zoomed: keep the layout as it is
    document.documentElement.style.setProperty("--vvh", Math.round(vv.height) + "px");
  };
  vv.addEventListener("resize", apply);
  apply();
}

// ---- Tables on a phone become stacked rows: each cell gets its column's heading as a label
// (app.css shows it above the value).
function labelCells() {
  for (const table of document.querySelectorAll("table.list")) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!heads.length) continue;
    for (const tr of table.querySelectorAll("tbody tr")) {
      [...tr.children].forEach((cell, i) => {
        if (heads[i] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
      });
    }
  }
}

// ---- The installable app: the service worker (/sw.js) keeps the app shell for offline use.
// Registered once the page has loaded, so its precache of every static file does not compete
// with the page's own first requests.
function registerWorker() {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  const register = () =>
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {
      /* no worker: the pages work as before, only not offline */
    });
  if (document.readyState === "complete") register();
  else window.addEventListener("load", register, { once: true });
}

navMenu();
followViewport();
labelCells();

if (me) {
  registerWorker();
  settingsPage();
  sessions.load();
  // Module scripts run in document order before DOMContentLoaded: opening the stream then
  // means every page module has subscribed, so no early event goes unheard.
  document.addEventListener("DOMContentLoaded", () => live.open(), { once: true });
  window.addEventListener("pagehide", () => live.es && live.es.close());
}
