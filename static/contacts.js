// The contacts page: dates in the browser's zone and language (the markup carries UTC).
import { fmtDateTime } from "./core/time.js";

for (const el of document.querySelectorAll("time[data-ms]")) {
  const ms = Number(el.dataset.ms);
  if (ms > 0) {
    el.textContent = fmtDateTime(ms);
    el.setAttribute("datetime", new Date(ms).toISOString());
  }
}
