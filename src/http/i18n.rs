//! The UI strings of a request: [`I18n`] wraps the request's [`Lang`] (the user's profile
//! language, else the browser's `Accept-Language`, else English) with what pages need on top
//! of `crate::locale` (the catalogue files): errors, bundles for scripts, language selects.

use crate::locale::catalogue;
pub(crate) use crate::locale::{Lang, from_accept_language};

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
    "call.state.",
    "nf.",
    "inbox.status_",
    "err.pat.",
    "widget.",
    "lang.of_",
];

#[derive(Debug, Clone, Copy)]
pub struct I18n(pub Lang);

impl I18n {
    fn text(&self, key: &str) -> Option<&'static str> {
        self.0.text(key)
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
    /// `err.msg.` (whose English text is the domain's text), else an `err.pat.` phrasing with a
    /// number in it, else the English text unchanged.
    pub fn message(&self, english: &str) -> String {
        if self.0.is_english() {
            return english.to_string();
        }
        self.0
            .message(english)
            .unwrap_or_else(|| english.to_string())
    }

    /// What the user is shown for `e`, in this language (`Error::public_message` in English).
    pub fn error(&self, e: &crate::error::Error) -> String {
        use crate::error::Error;
        if self.0.is_english() {
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
        self.0.code()
    }
}

/// Every language for a language select: (code, its own name — `lang.name` in its file,
/// `"selected"` for `current` else `""`).
pub fn languages(current: &Option<Lang>) -> Vec<(&'static str, &'static str, &'static str)> {
    Lang::all()
        .map(|l| {
            let sel = if *current == Some(l) { "selected" } else { "" };
            (l.code(), I18n(l).s("lang.name"), sel)
        })
        .collect()
}

/// The language whose code is `code` ("de"), if there is a file for it.
pub fn lang_from_code(code: &str) -> Option<Lang> {
    Lang::from_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_timeline_kind_has_a_label_in_every_language() {
        use crate::domain::sessions::TimelineKind;
        for k in TimelineKind::ALL {
            let key = format!("tl.{}", k.as_str());
            for lang in Lang::all() {
                assert_ne!(I18n(lang).s(&key), key, "{key} has no {lang:?} label");
            }
        }
    }

    #[test]
    fn domain_messages_translate() {
        let de = I18n(Lang::from_code("de").unwrap());
        assert_eq!(
            de.message("must be 1 to 80 characters"),
            "muss 1 bis 80 Zeichen lang sein"
        );
        assert_eq!(I18n(Lang::EN).message("anything"), "anything");
        // Messages with data in them, the more specific pattern first.
        assert_eq!(
            de.message("user ben is disabled"),
            "Benutzer ben ist deaktiviert"
        );
        assert_eq!(
            de.message("ben is disabled and cannot receive sessions"),
            "ben ist deaktiviert und kann keine Gespräche übernehmen"
        );
        assert_eq!(
            de.message("the session is already assigned to ben"),
            "das Gespräch ist bereits ben zugewiesen"
        );
        assert_eq!(
            de.error(&crate::error::Error::Conflict(
                "the username anna is taken".into()
            )),
            "der Benutzername anna ist vergeben"
        );
    }
}
