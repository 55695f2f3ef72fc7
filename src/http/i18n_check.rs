//! The key test: the catalogues (`locales/*.txt`, one per language) against each other, the
//! templates and the page scripts. It fails when a language file is not compiled in
//! ([`crate::locale::LOCALES`], found by `build.rs`), when a language lacks a key of English or has one English lacks,
//! when the placeholders of a text differ from English, when a key is used nowhere, and
//! when a template or a script shows a person text that does not come from a key.
//!
//! "Used" means the key appears in quotes in `src/`, `templates/` or `static/` (scripts call
//! `t("inbox.send")`; the internal chat `tc("send")` for `chat.send`), or starts with one of
//! [`super::i18n::DYNAMIC_PREFIXES`] (keys built from data). The scanners are deliberately
//! simple; what they cannot tell from prose is in the small allow-lists below.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::i18n::DYNAMIC_PREFIXES;
use crate::locale::{LOCALES, parse};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|x| x == ext) {
            out.push(p);
        }
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Text a person reads that is not a sentence of ours: names, formats, examples.
const ALLOWED_TEXT: &[&str] = &[
    "Switchboard",
    "English",
    "Deutsch",
    "CSV",
    "Sunnyside Practice",
    "Asterisk Manager Interface",
    "Yeastar P-Series Open API",
    "https://www.example.com",
    "https://pbx.lan:8088/openapi/v1.0",
    "Switchboard <100>",
    "order_update",
    "en_US",
    "Switchboard &lt;100&gt;",
    "&lt;/body&gt;",
];

fn allowed(text: &str) -> bool {
    let t = text.trim().trim_start_matches('·').trim();
    ALLOWED_TEXT.contains(&t) || !t.chars().any(|c| c.is_alphabetic())
}

/// Strips askama expressions and blocks, `<script>` and `<style>`.
fn strip_template(src: &str) -> String {
    let mut s = src.to_string();
    for (open, close) in [("{{", "}}"), ("{%", "%}"), ("{#", "#}")] {
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find(open) {
            out.push_str(&rest[..i]);
            out.push(' ');
            rest = rest[i..]
                .find(close)
                .map_or("", |j| &rest[i + j + close.len()..]);
        }
        out.push_str(rest);
        s = out;
    }
    for tag in ["script", "style"] {
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find(&format!("<{tag}")) {
            out.push_str(&rest[..i]);
            let end = format!("</{tag}>");
            rest = rest[i..]
                .find(&end)
                .map_or("", |j| &rest[i + j + end.len()..]);
        }
        out.push_str(rest);
        s = out;
    }
    s
}

/// Visible text in a template: text between tags, and the attributes people read.
fn template_texts(src: &str) -> Vec<String> {
    let s = strip_template(src);
    let mut found = Vec::new();
    let mut in_tag = false;
    let mut text = String::new();
    let mut tag = String::new();
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                found.push(std::mem::take(&mut text));
                tag.clear();
            }
            '>' if in_tag => {
                in_tag = false;
                for attr in ["placeholder", "title", "aria-label", "alt"] {
                    let needle = format!(" {attr}=\"");
                    if let Some(i) = tag.find(&needle) {
                        let v = &tag[i + needle.len()..];
                        found.push(v[..v.find('"').unwrap_or(v.len())].to_string());
                    }
                }
            }
            _ if in_tag => tag.push(c),
            _ => text.push(c),
        }
    }
    found.push(text);
    found
        .into_iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .collect()
}

/// String literals a script puts in front of a person: `text:`, `title:`, `placeholder:`,
/// `"aria-label":`, `label:` and `.textContent =`.
fn script_texts(src: &str) -> Vec<String> {
    // Comments are for programmers.
    let code: String = src
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !(l.starts_with("//") || l.starts_with('*') || l.starts_with("/*"))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let src = code.as_str();
    let mut found = Vec::new();
    for prefix in [
        "text: \"",
        "title: \"",
        "placeholder: \"",
        "\"aria-label\": \"",
        "label: \"",
        "textContent = \"",
        "alt: \"",
    ] {
        let mut rest = src;
        while let Some(i) = rest.find(prefix) {
            let v = &rest[i + prefix.len()..];
            let end = v.find('"').unwrap_or(v.len());
            found.push(v[..end].to_string());
            rest = &v[end..];
        }
    }
    found
}

/// The `{name}` placeholders of a text, sorted.
fn placeholders(text: &str) -> Vec<&str> {
    let mut out: Vec<&str> = text
        .split('{')
        .skip(1)
        .map(|s| s.split_once('}').map_or(s, |(p, _)| p))
        .collect();
    out.sort_unstable();
    out
}

/// The English keys, in file order.
fn english_keys() -> Vec<&'static str> {
    LOCALES
        .first()
        .map(|l| parse(l.src).0.into_iter().map(|(k, _)| k).collect())
        .unwrap_or_default()
}

#[test]
fn every_language_file_is_registered() {
    let mut on_disk = BTreeSet::new();
    for e in std::fs::read_dir(root().join("locales"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "txt")
            && let Some(stem) = p.file_stem().and_then(|s| s.to_str())
        {
            on_disk.insert(stem.to_string());
        }
    }
    let registered: BTreeSet<String> = LOCALES.iter().map(|l| l.code.to_string()).collect();
    assert_eq!(
        on_disk, registered,
        "build.rs compiles in every locales/<code>.txt (a lowercase code)"
    );
    assert_eq!(
        LOCALES.first().map(|l| l.code),
        Some("en"),
        "English is the reference"
    );
}

#[test]
fn every_key_has_text_in_every_language() {
    let Some(crate::locale::Locale { src: en_src, .. }) = LOCALES.first() else {
        panic!("no languages");
    };
    let (english, _) = parse(en_src);
    assert!(english.len() > 500, "the English catalogue was not found");
    for crate::locale::Locale { code, src } in LOCALES {
        let (entries, bad) = parse(src);
        assert!(
            bad.is_empty(),
            "locales/{code}.txt: lines {bad:?} are not `key = text`"
        );
        let mut seen = std::collections::HashMap::new();
        for (k, v) in &entries {
            assert!(
                seen.insert(*k, *v).is_none(),
                "locales/{code}.txt: {k} is defined twice (the later one would silently win)"
            );
            assert!(!v.trim().is_empty(), "locales/{code}.txt: {k} has no text");
        }
        for (k, en) in &english {
            let Some(t) = seen.get(k) else {
                panic!("locales/{code}.txt has no {k}");
            };
            assert_eq!(
                placeholders(en),
                placeholders(t),
                "locales/{code}.txt: {k}: the placeholders differ from English"
            );
        }
        let extra: Vec<_> = seen
            .keys()
            .filter(|k| !english.iter().any(|(e, _)| e == *k))
            .collect();
        assert!(
            extra.is_empty(),
            "locales/{code}.txt has keys English lacks: {extra:?}"
        );
    }
}

#[test]
fn every_key_is_used() {
    let mut srcs = Vec::new();
    files(&root().join("src"), "rs", &mut srcs);
    files(&root().join("templates"), "html", &mut srcs);
    files(&root().join("static"), "js", &mut srcs);
    let mut corpus = String::new();
    for p in &srcs {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name == "i18n_check.rs" {
            continue;
        }
        let text = read(p);
        // The internal chat's `tc("x")` is `t("chat.x")`.
        corpus.push_str(&text.replace("tc(\"", "\"chat."));
        corpus.push('\n');
    }
    let mut unused = BTreeSet::new();
    for k in english_keys() {
        if DYNAMIC_PREFIXES.iter().any(|p| k.starts_with(p)) {
            continue;
        }
        if !corpus.contains(&format!("\"{k}\"")) {
            unused.insert(k);
        }
    }
    assert!(
        unused.is_empty(),
        "keys used nowhere (delete them, or list their prefix in DYNAMIC_PREFIXES): {unused:?}"
    );
}

#[test]
fn templates_show_only_catalogue_text() {
    let mut tpls = Vec::new();
    files(&root().join("templates"), "html", &mut tpls);
    assert!(tpls.len() > 10, "templates/ not found");
    let mut bad = Vec::new();
    for p in &tpls {
        let src = read(p);
        // `{% block main_class %}x{% endblock %}` leaves a class name behind, not text.
        let src = src.replace("{% block main_class %}", "{% block main_class %}<i ");
        for t in template_texts(&src) {
            if !allowed(&t) {
                bad.push(format!("{}: {t:?}", p.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "text without a key (use chrome.t.s(\"…\")):\n{}",
        bad.join("\n")
    );
}

#[test]
fn scripts_show_only_catalogue_text() {
    let mut js = Vec::new();
    files(&root().join("static"), "js", &mut js);
    let mut bad = Vec::new();
    for p in &js {
        // The widget runs on other websites and carries its own two tables (checked below).
        if p.ends_with("widget.js") {
            continue;
        }
        for t in script_texts(&read(p)) {
            if !allowed(&t) {
                bad.push(format!("{}: {t:?}", p.display()));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "text without a key (use t(\"…\")):\n{}",
        bad.join("\n")
    );
}

/// The widget gets its texts from the config (`widget.*` keys without the prefix) and names
/// them as `T.key` or `say(element, 'key'…)`: each such name has a key, and each key a use.
#[test]
fn the_widget_uses_exactly_the_widget_keys() {
    let src = read(&root().join("static/widget.js"));
    let mut used = BTreeSet::new();
    let word = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in src.match_indices("T.") {
        let before = src[..i].chars().next_back().unwrap_or(' ');
        if !before.is_ascii_alphanumeric() {
            used.insert(word(&src[i + 2..]));
        }
    }
    for (i, _) in src.match_indices("), '") {
        let w = word(&src[i + 4..]);
        if src[i + 4 + w.len()..].starts_with('\'') {
            used.insert(w);
        }
    }
    for (i, _) in src.match_indices("field(") {
        if let Some(rest) = src[i..].split(", '").nth(1) {
            used.insert(word(rest));
        }
    }
    used.retain(|w| !w.is_empty());
    let keys: BTreeSet<String> = english_keys()
        .into_iter()
        .filter_map(|k| k.strip_prefix("widget.").map(str::to_string))
        .collect();
    assert!(keys.len() > 10, "the widget's keys were not found");
    let missing: Vec<_> = used.difference(&keys).collect();
    let unused: Vec<_> = keys.difference(&used).collect();
    assert!(
        missing.is_empty(),
        "widget.js names texts without a widget.* key: {missing:?}"
    );
    assert!(
        unused.is_empty(),
        "widget.* keys widget.js does not use: {unused:?}"
    );
}

#[test]
fn the_scanners_find_untranslated_text() {
    let t = template_texts(r#"<p title="Hello there">Hi {{ x }}</p><b>{{ chrome.t.s("a") }}</b>"#);
    assert!(t.contains(&"Hello there".to_string()), "{t:?}");
    assert!(t.contains(&"Hi".to_string()), "{t:?}");
    assert_eq!(placeholders("{a} and {b}"), vec!["a", "b"]);
    assert_eq!(t.len(), 2, "{t:?}");
    let s = script_texts(r#"h("p", { text: "Loading" }); b.textContent = "Done";"#);
    assert_eq!(s, vec!["Loading".to_string(), "Done".to_string()]);
}
