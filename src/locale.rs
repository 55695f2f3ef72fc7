//! The languages and their strings: one catalogue file per language in `locales/` (`key = text`
//! lines, see `docs/i18n.md`), found by `build.rs` and compiled in. A leaf: pages (`http::i18n`)
//! and the domain (push texts) both read it. Adding a language is adding one file.
//!
//! The files are parsed once, on first use, into one map from key to the texts of every
//! language: a lookup is one hash lookup.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

/// One language: its code (the profile value, `Accept-Language`, `<html lang>`) and catalogue.
pub(crate) struct Locale {
    pub code: &'static str,
    pub src: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// A language of [`LOCALES`], by position (English is 0 and the default). Stored and sent as
/// its code (`"de"`); an unknown code is refused where a person sends it and reads as English
/// where it was stored by a build that had the language ([`lenient`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Lang(u8);

impl Lang {
    pub const EN: Lang = Lang(0);

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Lang> {
        (0..LOCALES.len()).filter_map(|i| u8::try_from(i).ok().map(Lang))
    }
    /// The language whose code is `code` ("de"), if there is a file for it.
    pub fn from_code(code: &str) -> Option<Lang> {
        LOCALES
            .iter()
            .position(|l| l.code == code)
            .and_then(|i| u8::try_from(i).ok())
            .map(Lang)
    }
    /// The language of `code` for the settings field `field`; one we do not ship is refused,
    /// naming the ones we do.
    pub fn shipped(field: &str, code: &str) -> crate::error::Result<Lang> {
        Lang::from_code(code).ok_or_else(|| {
            let shipped: Vec<&str> = Lang::all().map(Lang::code).collect();
            crate::error::Error::invalid(
                field,
                format!(
                    "there is no language \"{}\" (available: {})",
                    code.chars().take(20).collect::<String>(),
                    shipped.join(", ")
                ),
            )
        })
    }
    pub fn code(self) -> &'static str {
        LOCALES.get(usize::from(self.0)).map_or("en", |l| l.code)
    }
    pub fn is_english(self) -> bool {
        self.0 == 0
    }
    /// The text of `key` in this language (English when this file lacks it; the key test does
    /// not let that happen), `None` for a key no file has.
    pub fn text(self, key: &str) -> Option<&'static str> {
        let t = catalogue().texts.get(key)?;
        t.get(usize::from(self.0)).or(t.first()).copied()
    }
    /// The text of `key`, or the key itself when missing (visible in review, never a panic).
    pub fn s(self, key: &str) -> &str {
        self.text(key).unwrap_or(key)
    }
    /// The text of `key` with its `{name}` placeholders filled from `args`.
    pub fn fill(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut out = self.s(key).to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
    /// This language's text for a message the domain produced in English: an `err.msg.` entry
    /// whose English text is exactly `english`, else the first `err.pat.` entry whose English
    /// text matches it with its `{placeholders}` standing for the data in it.
    pub fn message(self, english: &str) -> Option<String> {
        let c = catalogue();
        if let Some(t) = c
            .messages
            .get(usize::from(self.0))
            .and_then(|m| m.get(english))
        {
            return Some((*t).to_string());
        }
        c.patterns.iter().find_map(|(key, en)| {
            let values = match_pattern(en, english)?;
            let args: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Some(self.fill(key, &args))
        })
    }
}

/// The values of `pattern`'s `{name}` placeholders in `text`, if `text` is `pattern` with
/// each placeholder replaced by some non-empty text (its literal pieces in order).
fn match_pattern<'p>(pattern: &'p str, text: &str) -> Option<Vec<(&'p str, String)>> {
    // Literal, then (placeholder, literal) pairs.
    let mut pieces: Vec<(&str, &str)> = Vec::new();
    let (first, mut rest) = pattern
        .split_once('{')
        .map_or((pattern, ""), |(a, b)| (a, b));
    while !rest.is_empty() {
        let (name, after) = rest.split_once('}')?;
        let (lit, next) = after.split_once('{').unwrap_or((after, ""));
        pieces.push((name, lit));
        rest = next;
    }
    let mut at = text.strip_prefix(first)?;
    let mut out = Vec::new();
    for (i, (name, lit)) in pieces.iter().enumerate() {
        let last = i + 1 == pieces.len();
        let end = if last {
            at.strip_suffix(lit).map(str::len)?
        } else {
            // The shortest value: placeholders never hold the next literal piece.
            at.get(1..)?.find(lit).map(|e| e + 1)?
        };
        let value = at.get(..end)?;
        if value.is_empty() {
            return None;
        }
        out.push((*name, value.to_string()));
        at = at.get(end + lit.len()..)?;
    }
    (at.is_empty() || pieces.is_empty() && text == first).then_some(out)
}

impl serde::Serialize for Lang {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Lang {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = Cow::<str>::deserialize(d)?;
        Lang::from_code(&code).ok_or_else(|| {
            let codes: Vec<&str> = LOCALES.iter().map(|l| l.code).collect();
            serde::de::Error::custom(format!(
                "unknown language {code:?}, expected one of {}",
                codes.join(", ")
            ))
        })
    }
}

/// For stored records: a language whose file was removed since reads as "none chosen".
pub fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Lang>, D::Error> {
    use serde::Deserialize;
    let code = Option::<Cow<str>>::deserialize(d)?;
    Ok(code.and_then(|c| Lang::from_code(&c)))
}

impl utoipa::PartialSchema for Lang {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(LOCALES.iter().map(|l| l.code)))
            .into()
    }
}

impl utoipa::ToSchema for Lang {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Lang")
    }
}

/// Words recorded now for people to read later (a timeline line, an audit detail), kept as a
/// catalogue key with its values so that every reader sees them in their own language.
/// `args` are data (names, numbers) put in as they are; `words` are catalogue keys (a role, a
/// state) put in translated.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Phrase {
    pub key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub words: BTreeMap<String, String>,
}

impl Phrase {
    pub fn new(key: &str) -> Phrase {
        Phrase {
            key: key.to_string(),
            args: BTreeMap::new(),
            words: BTreeMap::new(),
        }
    }
    /// `{name}` is `value`, as it is.
    #[must_use]
    pub fn arg(mut self, name: &str, value: impl ToString) -> Phrase {
        self.args.insert(name.to_string(), value.to_string());
        self
    }
    /// `{name}` is the text of the catalogue key `key`, in the reader's language.
    #[must_use]
    pub fn word(mut self, name: &str, key: &str) -> Phrase {
        self.words.insert(name.to_string(), key.to_string());
        self
    }
    /// The words in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        let mut out = lang.s(&self.key).to_string();
        for (name, key) in &self.words {
            out = out.replace(&format!("{{{name}}}"), lang.s(key));
        }
        for (name, value) in &self.args {
            out = out.replace(&format!("{{{name}}}"), value);
        }
        out
    }
}

/// A catalogue file as (key, text) in file order (a key may contain spaces: `nf.canned
/// reply`), and the numbers of the lines that are neither `key = text`, a `#` comment nor
/// empty (the key test rejects those files).
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

pub(crate) struct Catalogue {
    /// Every key, in the order of the English file (bundles and option lists keep it).
    pub keys: Vec<&'static str>,
    /// key → the text in every language, by the index in [`LOCALES`].
    texts: HashMap<&'static str, Vec<&'static str>>,
    /// Per language: English domain message → this language, from the `err.msg.` entries.
    messages: Vec<HashMap<&'static str, &'static str>>,
    /// The `err.pat.` entries (key, English text with `{placeholders}`).
    patterns: Vec<(&'static str, &'static str)>,
}

pub(crate) fn catalogue() -> &'static Catalogue {
    static C: OnceLock<Catalogue> = OnceLock::new();
    C.get_or_init(|| {
        let parsed: Vec<Vec<(&'static str, &'static str)>> =
            LOCALES.iter().map(|l| parse(l.src).0).collect();
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
        let patterns = english
            .iter()
            .filter(|(k, _)| k.starts_with("err.pat."))
            .copied()
            .collect();
        Catalogue {
            keys,
            texts,
            messages,
            patterns,
        }
    })
}

/// Picks a language from an `Accept-Language` header by order of preference (q-values
/// honoured); English when none of [`LOCALES`] is asked for.
pub fn from_accept_language(header: Option<&str>) -> Lang {
    pick(header).unwrap_or(Lang::EN)
}

/// The most preferred language of an `Accept-Language` header that has a file, if any.
pub fn pick(header: Option<&str>) -> Option<Lang> {
    let h = header?;
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
        let primary = tag.split('-').next().unwrap_or("");
        let Some(lang) = Lang::from_code(&tag).or_else(|| Lang::from_code(primary)) else {
            continue;
        };
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Lang {
        Lang::from_code("de").unwrap()
    }

    #[test]
    fn accept_language_picks_preferred() {
        assert_eq!(from_accept_language(Some("de-DE,de;q=0.9,en;q=0.8")), de());
        assert_eq!(
            from_accept_language(Some("zz-ZZ, en;q=0.5, de;q=0.4")),
            Lang::EN
        );
        assert_eq!(from_accept_language(Some("zz")), Lang::EN);
        assert_eq!(from_accept_language(None), Lang::EN);
        assert_eq!(pick(Some("zz-ZZ,zz;q=0.9")), None);
        assert_eq!(pick(Some("zz-ZZ,de;q=0.5")), Some(de()));
        assert_eq!(de().s("nav.settings"), "Einstellungen");
        assert_eq!(de().s("no.such.key"), "no.such.key");
        assert_eq!(de().code(), "de");
        assert_eq!(Lang::from_code("xx"), None);
        assert_eq!(Lang::all().next(), Some(Lang::EN));
    }

    #[test]
    fn the_catalogue_parses_key_equals_text() {
        let (entries, bad) = parse("# c\n\na.b = Hello {n} = x\nbroken line\n");
        assert_eq!(entries, vec![("a.b", "Hello {n} = x")]);
        assert_eq!(bad, vec![4]);
    }

    #[test]
    fn a_language_is_its_code_on_the_wire() {
        assert_eq!(serde_json::to_string(&de()).unwrap(), "\"de\"");
        assert_eq!(serde_json::from_str::<Lang>("\"de\"").unwrap(), de());
        let err = serde_json::from_str::<Lang>("\"xx\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown language"), "{err}");
        #[derive(serde::Deserialize)]
        struct Stored {
            #[serde(default, deserialize_with = "lenient")]
            language: Option<Lang>,
        }
        let s: Stored = serde_json::from_str(r#"{"language":"xx"}"#).unwrap();
        assert_eq!(s.language, None);
        let s: Stored = serde_json::from_str(r#"{"language":"de"}"#).unwrap();
        assert_eq!(s.language, Some(de()));
        let s: Stored = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(s.language, None);
    }

    #[test]
    fn a_phrase_reads_in_each_readers_language() {
        let p = Phrase::new("aud.d.role_changed")
            .word("from", "role.agent")
            .word("to", "role.admin");
        assert_eq!(p.render(Lang::EN), "role Agent → Administrator");
        assert_eq!(p.render(de()), "Rolle Agent → Administrator");
        let p = Phrase::new("tl.d.to_user").arg("name", "Ben {x}");
        assert_eq!(p.render(de()), "an Ben {x}");
        let back: Phrase = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn numbered_validation_phrases_translate() {
        assert_eq!(
            de().message("must be 1 to 80 characters").as_deref(),
            Some("muss 1 bis 80 Zeichen lang sein")
        );
        assert_eq!(
            de().message("at most 500 characters").as_deref(),
            Some("darf höchstens 500 Zeichen lang sein")
        );
        assert_eq!(de().message("must be 1 to  characters"), None);
        assert_eq!(
            match_pattern("a {x} b {y}!", "a 1 b 2 b!"),
            Some(vec![("x", "1".to_string()), ("y", "2 b".to_string())])
        );
        assert_eq!(
            match_pattern("{x} is taken", "ben is taken"),
            Some(vec![("x", "ben".to_string())])
        );
        assert_eq!(match_pattern("{x} is taken", " is taken"), None);
        assert_eq!(
            match_pattern("at most {n}", "at most 5"),
            Some(vec![("n", "5".to_string())])
        );
        assert_eq!(match_pattern("at most {n}", "at least 5"), None);
    }
}
