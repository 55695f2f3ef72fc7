// Dates, times and sizes in the page's locale (24-hour clock), and timers.
import { locale, t } from "./i18n.js";

const DAY = 86400000;

// One Intl.DateTimeFormat per set of options: `toLocale…String(locale, options)` builds a new
// formatter on every call, which for a conversation's 100 messages (a clock and a tooltip each)
// cost a phone a few hundred milliseconds of blocked main thread.
const formats = new Map();
function fmt(options) {
  const key = locale + JSON.stringify(options);
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, options);
    formats.set(key, f);
  }
  return f;
}
const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/** 14:05 */
export const fmtClock = (ts) => fmt({ hour: "2-digit", minute: "2-digit" }).format(new Date(ts));

/** Today · Yesterday · Monday, 3 February 2024 (day separators). */
export function fmtDay(ts) {
  const today = startOfDay(new Date());
  const d = startOfDay(new Date(ts));
  if (d === today) return t("inbox.today");
  if (today - d <= DAY + 3600000 && today > d) return t("inbox.yesterday");
  return fmt({ weekday: "long", day: "numeric", month: "long", year: "numeric" }).format(new Date(ts));
}

/** 3 Feb 2024, 14:05 */
export const fmtDateTime = (ts) => fmt({ dateStyle: "medium", timeStyle: "short" }).format(new Date(ts));

/** List times, chat-app style: now · 5 min · 14:05 · Yesterday · Mon · 03.02.24 */
export function fmtRel(ts) {
  const diff = Date.now() - ts;
  if (diff < 60000) return t("inbox.now");
  if (diff < 3600000) return Math.floor(diff / 60000) + " " + t("inbox.min");
  const today = startOfDay(new Date());
  const d = startOfDay(new Date(ts));
  if (d === today) return fmtClock(ts);
  if (today - d <= 90000000) return t("inbox.yesterday");
  if (today - d < 6 * DAY) return fmt({ weekday: "short" }).format(new Date(ts));
  return fmt({ day: "2-digit", month: "2-digit", year: "2-digit" }).format(new Date(ts));
}

/** 14:05 today, 03.02 14:05 on another day. */
export function fmtStamp(ts) {
  const clock = fmtClock(ts);
  if (new Date(ts).toDateString() === new Date().toDateString()) return clock;
  return fmt({ day: "2-digit", month: "2-digit" }).format(new Date(ts)) + " " + clock;
}

/** 812 B · 1.4 MB */
export function fmtSize(n) {
  const u = ["B", "KB", "MB", "GB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? n + " B" : v.toFixed(1) + " " + u[i];
}

/** `fn` once `ms` have passed without another call. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
