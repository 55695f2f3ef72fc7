// Web Push in the service worker: shows a push as a notification and opens its conversation
// when it is tapped. A classic worker script, served at /sw-push.js (scope /). The app's
// service worker (/sw.js) loads it with `importScripts("/sw-push.js")`; until there is one,
// the Settings page registers this file itself. (`globalThis` is the worker scope, `self`.)
//
// A push carries JSON {title, body, url, tag} (src/domain/push/worker.rs); `tag` makes a newer
// push about the same conversation replace the older notification.
"use strict";

globalThis.addEventListener("push", (event) => {
  let data;
  try {
    data = event.data ? event.data.json() : {};
  } catch {
    data = { title: event.data ? event.data.text() : "" };
  }
  const title = data.title || "Switchboard";
  event.waitUntil(
    globalThis.registration.showNotification(title, {
      body: data.body || "",
      tag: data.tag || undefined,
      renotify: !!data.tag,
      data: { url: data.url || "/" },
    }),
  );
});

// Only paths on this server are opened (a push cannot send the user elsewhere).
function target(url) {
  try {
    const u = new URL(url || "/", globalThis.location.origin);
    return u.origin === globalThis.location.origin ? u.href : globalThis.location.origin + "/";
  } catch {
    return globalThis.location.origin + "/";
  }
}

globalThis.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = target(event.notification.data && event.notification.data.url);
  event.waitUntil(
    globalThis.clients.matchAll({ type: "window", includeUncontrolled: true }).then((wins) => {
      const same = wins.find((w) => w.url === url);
      if (same) return same.focus();
      const ours = wins.find((w) => new URL(w.url).origin === globalThis.location.origin && "navigate" in w);
      if (ours) return ours.focus().then((w) => (w || ours).navigate(url));
      return globalThis.clients.openWindow(url);
    }),
  );
});
