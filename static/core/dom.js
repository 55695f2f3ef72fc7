// DOM helpers. Text always goes in as text nodes: there is no way to pass HTML.

/** `$(selector, within)`: the first match, or null. */
export const $ = (sel, within) => (within || document).querySelector(sel);
/** The element with this id, or null. */
export const byId = (id) => document.getElementById(id);

/**
 * h("div", {class: "x", text: "user text", dataset: {id: 1}, onclick: fn}, child, "text")
 * Attributes that are undefined, null or false are left out, true sets an empty attribute;
 * children are flattened, strings become text nodes.
 */
export function h(tag, attrs, ...children) {
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
}

const ICONS = {
  check: "M5 12l5 5L20 7",
  transfer: "M4 12h15M13 6l6 6-6 6",
  note: "M4 20h4L19 9l-4-4L4 16v4zM13.5 6.5l4 4",
  end: "M5 21V4M5 4h11l-2 4 2 4H5",
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
  more: "M5 10.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3zm7 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3zm7 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 1 0 0-3z",
  retry: "M4 12a8 8 0 1 0 2.5-5.8M4 4v5h5",
  block: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM5.6 5.6l12.8 12.8",
  tag: "M3 12V4h8l10 10-8 8zM7.5 8.5h.01",
  pin: "M9 3h6l-1 7 4 4H6l4-4zM12 14v7",
  gear: "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1",
  close: "M6 6l12 12M18 6L6 18",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
};

/** An inline SVG icon (decorative: aria-hidden) drawn with the current text colour. */
export function icon(name, filled) {
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
}
