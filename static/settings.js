// Settings page: Web Push for this device. The toggle asks the browser for permission,
// subscribes with the server's VAPID key (GET /api/v1/push/key) and hands the subscription to
// the server (POST /api/v1/push/subscriptions); off deletes it there and in the browser.
// "Hide message content" is stored with this device's subscription.
import { api } from "./core/api.js";
import { byId } from "./core/dom.js";
import { t } from "./core/i18n.js";

const toggle = byId("push-toggle");
const hide = byId("push-hide");
const status = byId("push-status");

function say(text, isError) {
  status.textContent = text;
  status.classList.toggle("error", !!isError);
  status.classList.toggle("muted", !isError);
}

function keyBytes(b64url) {
  const b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** A short name for this device, e.g. "Android · Chrome". */
function deviceName() {
  const ua = navigator.userAgent;
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  const br = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "";
  return [os, br].filter(Boolean).join(" · ") || "Browser";
}

/** The service worker registration: the app's (/sw.js) if there is one, else ours. */
async function registration() {
  const reg = await navigator.serviceWorker.getRegistration("/");
  if (reg) return reg;
  await navigator.serviceWorker.register("/sw-push.js", { scope: "/" });
  return navigator.serviceWorker.ready;
}

async function save(sub) {
  const body = { ...sub.toJSON(), device: deviceName(), hide_content: hide.checked };
  await api("POST", "/api/v1/push/subscriptions", body);
}

async function turnOn() {
  let permission = Notification.permission;
  if (permission === "default") permission = await Notification.requestPermission();
  if (permission !== "granted") {
    toggle.checked = false;
    say(t("push.denied"), true);
    return;
  }
  const reg = await registration();
  const { key } = await api("GET", "/api/v1/push/key");
  let sub = await reg.pushManager.getSubscription();
  if (!sub) sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
  await save(sub);
  hide.disabled = false;
  say(t("push.on"));
}

async function turnOff() {
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg && (await reg.pushManager.getSubscription());
  if (sub) {
    try {
      await api("DELETE", "/api/v1/push/subscriptions", { endpoint: sub.endpoint });
    } catch (e) {
      if (e.status !== 404) throw e;
    }
    await sub.unsubscribe();
  }
  hide.disabled = true;
  say(t("push.off"));
}

async function init() {
  if (!toggle) return;
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) {
    say(t("push.unsupported"), true);
    return;
  }
  toggle.disabled = false;
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg && (await reg.pushManager.getSubscription());
  const mine = await api("GET", "/api/v1/push/subscriptions");
  const here = sub && mine.find((s) => s.endpoint === sub.endpoint);
  toggle.checked = !!here;
  hide.checked = !!(here && here.hide_content);
  hide.disabled = !here;
  say(t(here ? "push.on" : "push.off"));
  toggle.addEventListener("change", async () => {
    toggle.disabled = true;
    try {
      if (toggle.checked) await turnOn();
      else await turnOff();
    } catch (e) {
      toggle.checked = false;
      say(t("push.failed") + " " + (e.message || e), true);
    } finally {
      toggle.disabled = false;
    }
  });
  hide.addEventListener("change", async () => {
    const r = await navigator.serviceWorker.getRegistration("/");
    const s = r && (await r.pushManager.getSubscription());
    if (!s) return;
    try {
      await save(s);
      say(t("push.saved"));
    } catch (e) {
      say(t("push.failed") + " " + (e.message || e), true);
    }
  });
}

init().catch((e) => say(t("push.failed") + " " + (e.message || e), true));
