// Switchboard's service worker, served at /sw.js (scope /) by src/http/ui/pwa.rs, which fills
// in SHELL (every hashed static URL and the offline page) and the cache name. A classic worker
// script; it imports the Web Push handlers (sw-push.js: show a push, open its conversation).
//
// - install: precache the shell; activate: drop older caches and take over open pages.
// - /static/… (hashed, immutable): from the cache, else the network (and keep a copy).
// - page loads: the network; when it fails, the offline page ("Offline — reconnecting"),
//   which loads the page again once the server answers.
// - everything else (API, live events, files): the network, untouched.
// (`globalThis` is the worker scope, `self`.)
"use strict";

globalThis.importScripts("/sw-push.js");

const SHELL = ["__SHELL__"];
const CACHE = "sb-shell-__VERSION__";
const OFFLINE = "/offline";

globalThis.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(SHELL))
      .then(() => globalThis.skipWaiting()),
  );
});

globalThis.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("sb-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => globalThis.clients.claim()),
  );
});

async function fromCache(request) {
  const hit = await caches.match(request);
  if (hit) return hit;
  const resp = await fetch(request);
  if (resp.ok) {
    const copy = resp.clone();
    caches.open(CACHE).then((c) => c.put(request, copy));
  }
  return resp;
}

async function page(request) {
  try {
    return await fetch(request);
  } catch (err) {
    const offline = await caches.match(OFFLINE);
    if (offline) return offline;
    throw err;
  }
}

globalThis.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== globalThis.location.origin) return;
  if (req.mode === "navigate") event.respondWith(page(req));
  else if (url.pathname.startsWith("/static/")) event.respondWith(fromCache(req));
});
