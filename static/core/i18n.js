// UI strings, language and the signed-in user, read once from the page. Every element with a
// data-strings attribute holds a JSON object of strings: the body the shared ones
// (src/http/i18n.rs bundles), a page root its own (e.g. the internal chat's "chat.*").
const strings = {};
for (const el of document.querySelectorAll("[data-strings]")) {
  try {
    Object.assign(strings, JSON.parse(el.dataset.strings || "{}"));
  } catch {
    /* a broken bundle: keys show as themselves */
  }
}

/** The keys of the page's strings that start with `prefix` (e.g. the shipped languages). */
export const keysWith = (prefix) => Object.keys(strings).filter((k) => k.startsWith(prefix));
/** The text for `key` in the page's language (the key itself when unknown). */
export const t = (key) => strings[key] || key;
export const lang = document.body.dataset.lang || "en";
/** Locale for dates and numbers: English with a 24-hour clock (en-GB), any other language its own. */
export const locale = lang === "en" ? "en-GB" : lang;
/**
 * Words the server recorded as a catalogue key and its values (`crate::locale::Phrase`), in
 * this page's language: `args` put in as they are, `words` (keys) translated.
 */
export function phrase(p) {
  if (!p) return "";
  let out = t(p.key);
  for (const [k, v] of Object.entries(p.words || {})) out = out.replaceAll("{" + k + "}", t(v));
  for (const [k, v] of Object.entries(p.args || {})) out = out.replaceAll("{" + k + "}", v);
  return out;
}
/** A timeline entry's words after its label: the phrase, then the free text. */
export function timelineText(e, sep) {
  const p = phrase(e.phrase);
  if (p && e.detail) return sep + p + ": " + e.detail;
  return p || e.detail ? sep + (p || e.detail) : "";
}
/** The signed-in user's id (0 on pages without a user). */
export const me = Number(document.body.dataset.userId || 0);
