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

/** The text for `key` in the page's language (the key itself when unknown). */
export const t = (key) => strings[key] || key;
export const lang = document.body.dataset.lang || "en";
/** Locale for dates and numbers: 24-hour clock in both languages. */
export const locale = lang === "de" ? "de-DE" : "en-GB";
/** The signed-in user's id (0 on pages without a user). */
export const me = Number(document.body.dataset.userId || 0);
