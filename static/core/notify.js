// How the user wants to be alerted (Settings: sound, pop-ups, desktop notifications) and the
// one way to alert them. The preferences follow `user.updated` live.
import { live } from "./events.js";
import { me } from "./i18n.js";
import { toast } from "./toast.js";

const body = document.body;
export const prefs = {
  sound: body.dataset.sound === "true",
  popups: body.dataset.popups === "true",
  desktop: body.dataset.desktop === "true",
};

live.on((ev) => {
  const d = ev.data || {};
  if (ev.kind === "user.updated" && d.id === me && d.notify) {
    prefs.sound = !!d.notify.sound;
    prefs.popups = !!d.notify.popups;
    prefs.desktop = !!d.notify.desktop;
  }
});

// Browsers only start audio after a user gesture: create the context on the first click.
let audio = null;
const AudioCtx = window.AudioContext || window.webkitAudioContext;
document.addEventListener(
  "pointerdown",
  () => {
    try {
      if (AudioCtx && !audio) audio = new AudioCtx();
    } catch {
      /* no audio available */
    }
  },
  { once: true },
);

/** Whether sound can play now (the browser allowed audio after a click on this page). */
export const soundReady = () => !!audio && audio.state === "running";

/** Whether the browser still has to be asked for desktop notifications. */
export const desktopAsk = () => "Notification" in window && Notification.permission === "default";

/** Whether the one-click "turn on alerts" prompt is needed: sound or desktop notifications
 * are off in the settings, audio is still locked, or the browser was not asked yet. */
export const alertsNeedClick = () => !prefs.sound || !prefs.desktop || !soundReady() || desktopAsk();

/**
 * One click turns alerts on: unlocks audio (a short tone confirms it), asks the browser for
 * desktop notifications, and saves sound + desktop in the user's settings. Resolves to the
 * browser's answer for notifications ("granted", "denied", "default" or "unsupported").
 */
export async function enableAlerts(save) {
  try {
    if (AudioCtx && !audio) audio = new AudioCtx();
    if (audio && audio.state === "suspended") await audio.resume();
  } catch {
    /* no audio available */
  }
  let permission = "unsupported";
  if ("Notification" in window) {
    permission = Notification.permission;
    if (permission === "default") {
      try {
        permission = await Notification.requestPermission();
      } catch {
        permission = Notification.permission;
      }
    }
  }
  prefs.sound = true;
  prefs.desktop = permission === "granted" || prefs.desktop;
  await save({ sound: true, popups: prefs.popups, desktop: prefs.desktop });
  beep();
  return permission;
}

/** Two short tones (WebAudio, no audio file). */
export function beep() {
  try {
    if (!AudioCtx) return;
    audio = audio || new AudioCtx();
    if (audio.state === "suspended") audio.resume();
    const t0 = audio.currentTime;
    for (const [i, f] of [
      [0, 880],
      [1, 1320],
    ]) {
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
  } catch {
    /* no audio available */
  }
}

/**
 * Alerts the user as they chose: a sound, a pop-up (unless `o.popup` is false, e.g. while they
 * look at the conversation) and, while the tab is hidden, a desktop notification.
 * o: {tag, onclick, popup, toast: extra toast options}
 */
export function alertUser(title, text, o) {
  if (prefs.sound) beep();
  if (prefs.popups && o.popup !== false) toast(title, text, Object.assign({ onclick: o.onclick }, o.toast));
  if (prefs.desktop && document.hidden && "Notification" in window && Notification.permission === "granted") {
    try {
      const n = new Notification(title, { body: (text || "").slice(0, 140), tag: o.tag, renotify: true });
      n.onclick = () => {
        window.focus();
        if (o.onclick) o.onclick();
        n.close();
      };
    } catch {
      /* some browsers only allow notifications from a service worker */
    }
  }
}
