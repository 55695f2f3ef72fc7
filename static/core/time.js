// Dates, times and sizes in the page's locale (24-hour clock), and timers.
import { locale, t } from "./i18n.js";

const DAY = 86400000;
const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();

/** 14:05 */
export const fmtClock = (ts) => new Date(ts).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });

/** Today · Yesterday · Monday, 3 February 2024 (day separators). */
export function fmtDay(ts) {
  const today = startOfDay(new Date());
  const d = startOfDay(new Date(ts));
  if (d === today) return t("inbox.today");
  if (today - d <= DAY + 3600000 && today > d) return t("inbox.yesterday");
  return new Date(ts).toLocaleDateString(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

/** 3 Feb 2024, 14:05 */
export const fmtDateTime = (ts) => new Date(ts).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });

/** List times, chat-app style: now · 5 min · 14:05 · Yesterday · Mon · 03.02.24 */
export function fmtRel(ts) {
  const diff = Date.now() - ts;
  if (diff < 60000) return t("inbox.now");
  if (diff < 3600000) return Math.floor(diff / 60000) + " " + t("inbox.min");
  const today = startOfDay(new Date());
  const d = startOfDay(new Date(ts));
  if (d === today) return fmtClock(ts);
  if (today - d <= 90000000) return t("inbox.yesterday");
  if (today - d < 6 * DAY) return new Date(ts).toLocaleDateString(locale, { weekday: "short" });
  return new Date(ts).toLocaleDateString(locale, { day: "2-digit", month: "2-digit", year: "2-digit" });
}

/** 14:05 today, 03.02 14:05 on another day. */
export function fmtStamp(ts) {
  const clock = fmtClock(ts);
  if (new Date(ts).toDateString() === new Date().toDateString()) return clock;
  return new Date(ts).toLocaleDateString(locale, { day: "2-digit", month: "2-digit" }) + " " + clock;
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
