//! The UI strings, one catalogue file per language in `locales/` (`key = text` lines, see
//! `docs/i18n.md`). The user's profile language wins, else the browser's `Accept-Language`,
//! else English.
//!
//! The files are compiled in (`include_str!`) and parsed once, on first use, into one map
//! from key to the texts of every language: a lookup is one hash lookup, as before.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::domain::users::Lang;

/// The languages, one line each: the profile value, its code (`Accept-Language`, `<html
/// lang>`), its catalogue. English comes first and is the reference: a key missing in another
/// language shows the English text (the key test does not let that happen).
pub(crate) const LOCALES: &[(Lang, &str, &str)] = &[
    (Lang::En, "en", include_str!("../../locales/en.txt")),
    (Lang::De, "de", include_str!("../../locales/de.txt")),
];

/// A catalogue file as (key, text) in file order (a key may contain spaces: `nf.canned reply`), and the numbers of the lines that are
/// neither `key = text`, a `#` comment nor empty (the key test rejects those files).
pub(crate) fn parse(src: &'static str) -> (Vec<(&'static str, &'static str)>, Vec<usize>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in src.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        match t.split_once(" = ") {
            Some((k, v)) if !k.trim().is_empty() => {
                entries.push((k.trim(), v.trim()));
            }
            _ => bad.push(i + 1),
        }
    }
    (entries, bad)
}

/// Key prefixes whose keys are built at run time from data (`I18n::dynamic`, `t("tl." + kind)`
/// in the scripts) or handed to scripts as a whole bundle: the key test counts them as used.
#[cfg(test)]
pub const DYNAMIC_PREFIXES: &[&str] = &[
    "aud.act.",
    "tl.",
    "ch.",
    "role.",
    "err.msg.",
    "fld.",
    "pbx.kind.",
    "pbx.link.",
    "pbx.phone.",
    "pbx.call.",
    "pbx.disp.",
    "nf.",
    "inbox.status_",
];

struct Catalogue {
    /// Every key, in the order of the English file (bundles and option lists keep it).
    keys: Vec<&'static str>,
    /// key → the text in every language, by the index in [`LOCALES`].
    texts: HashMap<&'static str, Vec<&'static str>>,
    /// Per language: English domain message → this language, from the `err.msg.` entries.
    messages: Vec<HashMap<&'static str, &'static str>>,
}

fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| {
        let parsed: Vec<Vec<(&'static str, &'static str)>> =
            LOCALES.iter().map(|(_, _, src)| parse(src).0).collect();
        let english = parsed.first().cloned().unwrap_or_default();
        let keys: Vec<&'static str> = english.iter().map(|(k, _)| *k).collect();
        let maps: Vec<HashMap<&'static str, &'static str>> = parsed
            .iter()
            .map(|entries| entries.iter().copied().collect())
            .collect();
        let texts = english
            .iter()
            .map(|(k, en)| {
                let all = maps
                    .iter()
                    .map(|m| m.get(k).copied().unwrap_or(en))
                    .collect();
                (*k, all)
            })
            .collect();
        let messages = maps
            .iter()
            .map(|m| {
                english
                    .iter()
                    .filter(|(k, _)| k.starts_with("err.msg."))
                    .filter_map(|(k, en)| m.get(k).map(|t| (*en, *t)))
                    .collect()
            })
            .collect();
        Catalogue {
            keys,
            texts,
            messages,
        }
    })
}

fn index(lang: Lang) -> usize {
    LOCALES.iter().position(|(l, _, _)| *l == lang).unwrap_or(0)
}

/// The validation phrasings with a number in them ("must be 1 to 100 characters").
fn phrase_de(en: &str) -> Option<String> {
    let num = |s: &str| s.chars().all(|c| c.is_ascii_digit()) && !s.is_empty();
    if let Some(rest) = en.strip_prefix("must be 1 to ")
        && let Some(n) = rest.strip_suffix(" characters")
        && num(n)
    {
        return Some(format!("muss 1 bis {n} Zeichen lang sein"));
    }
    for p in ["must be at most ", "at most "] {
        if let Some(rest) = en.strip_prefix(p)
            && let Some(n) = rest.strip_suffix(" characters")
            && num(n)
        {
            return Some(format!("darf höchstens {n} Zeichen lang sein"));
        }
    }
    None
}

#[derive(Debug, Clone, Copy)]
pub struct I18n(pub Lang);

impl I18n {
    fn text(&self, key: &str) -> Option<&'static str> {
        let i = index(self.0);
        catalogue()
            .texts
            .get(key)
            .and_then(|t| t.get(i).or(t.first()).copied())
    }
    /// The string for `key`; the key itself when missing (visible in review, never a panic).
    pub fn s<'a>(&self, key: &'a str) -> &'a str {
        self.text(key).unwrap_or(key)
    }
    /// The string for `prefix` + `name` (a key built from data: an audit action, a role), or
    /// `name` itself when the catalogue has none. Prefixes used this way are listed in
    /// [`DYNAMIC_PREFIXES`] so the key test knows these keys are used.
    pub fn dynamic<'a>(&self, prefix: &str, name: &'a str) -> &'a str {
        self.text(&format!("{prefix}{name}")).unwrap_or(name)
    }
    /// A message the domain produced (in English) in this language: an exact entry under
    /// `err.msg.` (whose English text is the domain's text), else a few common validation
    /// phrasings (German), else the English text unchanged.
    pub fn message(&self, english: &str) -> String {
        if self.0 == Lang::En {
            return english.to_string();
        }
        if let Some(t) = catalogue()
            .messages
            .get(index(self.0))
            .and_then(|m| m.get(english))
        {
            return (*t).to_string();
        }
        let phrased = match self.0 {
            Lang::De => phrase_de(english),
            Lang::En => None,
        };
        phrased.unwrap_or_else(|| english.to_string())
    }

    /// What the user is shown for `e`, in this language (`Error::public_message` in English).
    pub fn error(&self, e: &crate::error::Error) -> String {
        use crate::error::Error;
        if self.0 == Lang::En {
            return e.public_message();
        }
        match e {
            Error::Invalid { field, message } => {
                format!("{}: {}", self.dynamic("fld.", field), self.message(message))
            }
            Error::NotFound(what) => {
                format!("{}: {}", self.s("err.not_found"), self.dynamic("nf.", what))
            }
            Error::RateLimited { retry_after_secs } => self
                .s("err.rate_limited")
                .replace("{n}", &retry_after_secs.to_string()),
            Error::Internal(_) | Error::Storage(_) => self.s("err.internal_logged").to_string(),
            other => self.message(&other.public_message()),
        }
    }

    /// Every string whose key starts with one of `prefixes`, as a JSON object for `static/*.js`
    /// (rendered into a data attribute, so askama's escaping applies).
    pub fn bundle(&self, prefixes: &[&str]) -> String {
        let map: serde_json::Map<String, serde_json::Value> = catalogue()
            .keys
            .iter()
            .filter(|k| prefixes.iter().any(|p| k.starts_with(p)))
            .map(|k| ((*k).to_string(), serde_json::Value::from(self.s(k))))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    /// Every (key, text) whose key starts with `prefix`, for pages that hand strings to JS.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(&'static str, &'static str)> {
        catalogue()
            .keys
            .iter()
            .filter(|k| k.starts_with(prefix))
            .map(|k| (*k, self.text(k).unwrap_or(k)))
            .collect()
    }
    pub fn code(&self) -> &'static str {
        LOCALES
            .iter()
            .find(|(l, _, _)| *l == self.0)
            .map_or("en", |(_, code, _)| code)
    }
}

/// Every language for a language select: (code, its own name — `lang.name` in its file,
/// `"selected"` for `current` else `""`).
pub fn languages(current: &Option<Lang>) -> Vec<(&'static str, &'static str, &'static str)> {
    LOCALES
        .iter()
        .map(|(l, code, _)| {
            let sel = if *current == Some(*l) { "selected" } else { "" };
            (*code, I18n(*l).s("lang.name"), sel)
        })
        .collect()
}

/// The language whose code is `code` ("de"), if it is one of [`LOCALES`].
pub fn lang_from_code(code: &str) -> Option<Lang> {
    LOCALES
        .iter()
        .find(|(_, c, _)| *c == code)
        .map(|(l, _, _)| *l)
}

/// Picks a language from an `Accept-Language` header by order of preference (q-values
/// honoured); English when none of [`LOCALES`] is asked for.
pub fn from_accept_language(header: Option<&str>) -> Lang {
    let Some(h) = header else { return Lang::En };
    let mut best: Option<(f32, Lang)> = None;
    for part in h.split(',') {
        let mut it = part.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|v| v.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let Some((lang, _, _)) = LOCALES.iter().find(|(_, code, _)| tag.starts_with(code)) else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, *lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or(Lang::En)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_preferred() {
        assert_eq!(
            from_accept_language(Some("de-DE,de;q=0.9,en;q=0.8")),
            Lang::De
        );
        assert_eq!(
            from_accept_language(Some("fr-FR, en;q=0.5, de;q=0.4")),
            Lang::En
        );
        assert_eq!(from_accept_language(Some("fr")), Lang::En);
        assert_eq!(from_accept_language(None), Lang::En);
        assert_eq!(I18n(Lang::De).s("nav.settings"), "Einstellungen");
        assert_eq!(I18n(Lang::De).s("no.such.key"), "no.such.key");
        assert_eq!(I18n(Lang::De).code(), "de");
        assert_eq!(lang_from_code("de"), Some(Lang::De));
        assert_eq!(lang_from_code("xx"), None);
    }

    #[test]
    fn the_catalogue_parses_key_equals_text() {
        let (entries, bad) = parse("# c\n\na.b = Hello {n} = x\nbroken line\n");
        assert_eq!(entries, vec![("a.b", "Hello {n} = x")]);
        assert_eq!(bad, vec![4]);
    }

    #[test]
    fn every_timeline_kind_has_a_label_in_every_language() {
        use crate::domain::sessions::TimelineKind;
        for k in TimelineKind::ALL {
            let key = format!("tl.{}", k.as_str());
            for (lang, _, _) in LOCALES {
                assert_ne!(I18n(*lang).s(&key), key, "{key} has no {lang:?} label");
            }
        }
    }
}
