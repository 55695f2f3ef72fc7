//! Docs that cannot drift: the commented example config (`packaging/switchboard.toml`), the
//! README's configuration table and every "`section.key` (N … by default)" in the docs are
//! checked against the built-in defaults of `switchboard::config::Config`, with the real loader.

use std::path::{Path, PathBuf};

use switchboard::config::Config;
use toml::{Table, Value};

/// Keys the packaged config sets on purpose to something else than the built-in default (the
/// service listens on every interface, keeps its data under /var/lib, serves HTTPS).
const PACKAGED: &[&str] = &["listen", "data_dir", "tls"];

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The built-in defaults as TOML, keyed `key` or `section.key`.
fn defaults() -> Vec<(String, Value)> {
    let Value::Table(t) = Value::try_from(Config::default()).unwrap() else {
        panic!("the config serializes to a table")
    };
    flatten(&t)
}

fn flatten(t: &Table) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for (k, v) in t {
        match v {
            // `tls` may be an inline table ({ cert, key }); sections are the other tables.
            Value::Table(inner) if k != "tls" => {
                for (ik, iv) in inner {
                    out.push((format!("{k}.{ik}"), iv.clone()));
                }
            }
            _ => out.push((k.clone(), v.clone())),
        }
    }
    out
}

fn default_of(key: &str) -> Option<Value> {
    defaults()
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

/// Loads `text` as a config file with the real loader (validation included).
fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, String> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("switchboard.toml");
    std::fs::write(&p, text).unwrap();
    Config::load(
        Some(&p),
        env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
    )
    .map_err(|e| e.to_string())
}

/// The TOML literal at the start of `s`: a quoted string, or a bare number / word.
fn leading_literal(s: &str) -> Option<Value> {
    let s = s.trim();
    let lit = if let Some(rest) = s.strip_prefix('"') {
        format!("\"{}\"", &rest[..rest.find('"')?])
    } else {
        let end = s
            .find(|c: char| c.is_whitespace() || c == '(' || c == ',')
            .unwrap_or(s.len());
        s[..end].trim_end_matches('.').to_string()
    };
    toml::from_str::<Table>(&format!("v = {lit}"))
        .ok()?
        .remove("v")
}

/// One key of the example: where it is, what it sets (or None when only commented), and the
/// default its comment states.
struct ExampleKey {
    key: String,
    line: usize,
    set: Option<Value>,
    stated_default: Option<Value>,
}

/// Walks the example: sections, `key = value` lines, the `Built-in default:` comment before
/// each, and commented-out `# key = value` examples.
fn example_keys(text: &str) -> Vec<ExampleKey> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut stated = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let full = |k: &str| {
            if section.is_empty() {
                k.to_string()
            } else {
                format!("{section}.{k}")
            }
        };
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            stated = None;
        } else if let Some(comment) = line.strip_prefix('#') {
            let c = comment.trim();
            if let Some(d) = c.strip_prefix("Built-in default:") {
                stated = Some(
                    leading_literal(d)
                        .unwrap_or_else(|| panic!("line {}: default {d:?} is no literal", i + 1)),
                );
            } else if let Some((k, _)) = c.split_once('=')
                && !k.trim().is_empty()
                && k.trim()
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch == '_')
            {
                let snippet: Table = toml::from_str(c)
                    .unwrap_or_else(|e| panic!("line {}: commented example {c:?}: {e}", i + 1));
                for (k, v) in snippet {
                    out.push(ExampleKey {
                        key: full(&k),
                        line: i + 1,
                        set: None,
                        stated_default: None,
                    });
                    // The commented example must load, in its section, with the real loader.
                    let text = if section.is_empty() {
                        format!("{k} = {v}\n")
                    } else {
                        format!("[{section}]\n{k} = {v}\n")
                    };
                    load(&text, &[])
                        .unwrap_or_else(|e| panic!("line {}: {c:?} does not load: {e}", i + 1));
                }
            }
        } else if let Some((k, v)) = line.split_once('=') {
            let value = leading_literal(v)
                .or_else(|| toml::from_str::<Table>(line).ok()?.remove(k.trim()))
                .unwrap_or_else(|| panic!("line {}: cannot read {line:?}", i + 1));
            out.push(ExampleKey {
                key: full(k.trim()),
                line: i + 1,
                set: Some(value),
                stated_default: stated.take(),
            });
        }
    }
    out
}

#[test]
fn example_config_loads_and_states_the_built_in_defaults() {
    let text = read("packaging/switchboard.toml");
    let loaded = load(&text, &[]).expect("the packaged example loads with the real loader");
    assert_eq!(loaded.listen, "0.0.0.0:8443");
    let keys = example_keys(&text);
    let defaults = defaults();
    let mut problems = Vec::new();
    for k in &keys {
        let Some(default) = default_of(&k.key) else {
            problems.push(format!("line {}: {} is not a config key", k.line, k.key));
            continue;
        };
        let Some(set) = &k.set else { continue };
        match &k.stated_default {
            None => problems.push(format!(
                "line {}: {} has no \"Built-in default:\" comment",
                k.line, k.key
            )),
            Some(d) if *d != default => problems.push(format!(
                "line {}: {} says the default is {d}, it is {default}",
                k.line, k.key
            )),
            Some(_) => {}
        }
        let packaged = PACKAGED.contains(&k.key.as_str());
        if packaged && *set == default {
            problems.push(format!(
                "line {}: {} is listed as set on purpose but equals the default",
                k.line, k.key
            ));
        } else if !packaged && *set != default {
            problems.push(format!(
                "line {}: {} = {set}, but the built-in default is {default}",
                k.line, k.key
            ));
        }
    }
    // Every key the program reads is in the example, set or shown commented.
    for (key, _) in &defaults {
        if !keys.iter().any(|k| &k.key == key && k.set.is_some()) {
            problems.push(format!("{key} is missing from the example"));
        }
    }
    // SWITCHBOARD_… overrides shown in the comments name real keys.
    let mut overrides = 0;
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("SWITCHBOARD_") else {
            continue;
        };
        let Some((var, value)) = line[at..].split_once('=') else {
            continue;
        };
        overrides += 1;
        if let Err(e) = load("", &[(var, value.trim())]) {
            problems.push(format!("line {}: {var}={value}: {e}", i + 1));
        }
    }
    assert!(overrides >= 3, "the example shows environment overrides");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The value as the README writes it: bare, or a quoted TOML string.
fn same_value(written: &str, default: &Value) -> bool {
    match default {
        Value::String(s) => written.trim_matches('"') == s,
        other => written == other.to_string(),
    }
}

/// The backticked parts of a table cell, and whether the cell holds nothing else.
fn backticked(cell: &str) -> (Vec<String>, bool) {
    let parts: Vec<&str> = cell.split('`').collect();
    let ticked = parts
        .iter()
        .skip(1)
        .step_by(2)
        .map(|s| s.to_string())
        .collect();
    let only = parts
        .iter()
        .step_by(2)
        .all(|s| s.chars().all(|c| c == ',' || c.is_whitespace()));
    (ticked, only)
}

#[test]
fn readme_config_table_matches_the_defaults() {
    let readme = read("README.md");
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("| key | default |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .collect();
    assert!(table.len() >= 8, "the README has its configuration table");
    let mut problems = Vec::new();
    let mut checked = 0;
    for row in table {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (names, _) = backticked(cells[1]);
        let (values, only_values) = backticked(cells[2]);
        // `[section] a`, `b`: the section is written once, before the first key.
        let mut section = String::new();
        let mut keys = Vec::new();
        for n in names {
            let name = match n.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((s, k)) => {
                    section = format!("{s}.");
                    k.to_string()
                }
                None => n,
            };
            keys.push(format!("{section}{name}"));
        }
        if keys.iter().any(|k| k.ends_with('…')) {
            continue; // "[jobs] …: see example"
        }
        for (i, key) in keys.iter().enumerate() {
            let Some(default) = default_of(key) else {
                problems.push(format!("README names {key}, which is not a config key"));
                continue;
            };
            // A cell of prose ("derived from `listen`") states no value to compare.
            if !only_values {
                continue;
            }
            match values.get(i) {
                Some(v) if same_value(v, &default) => checked += 1,
                Some(v) => problems.push(format!(
                    "README says {key} defaults to {v}, it is {default}"
                )),
                None => problems.push(format!("README row for {key} has no default")),
            }
        }
    }
    assert!(checked >= 10, "only {checked} README defaults checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn numbers_the_docs_give_as_defaults_are_the_defaults() {
    let mut files = vec![
        "README.md".to_string(),
        "packaging/switchboard.1".to_string(),
    ];
    for e in std::fs::read_dir(repo("docs")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            files.push(format!("docs/{name}"));
        }
    }
    let defaults = defaults();
    let mut problems = Vec::new();
    let mut checked = 0;
    for f in &files {
        for (i, line) in read(f).lines().enumerate() {
            for (key, default) in &defaults {
                let Value::Integer(want) = default else {
                    continue;
                };
                let needle = format!("`{key}`");
                for (at, _) in line.match_indices(&needle) {
                    // "`store.cache_size_mb` (8 MiB by default)", "(`…`, 8 MiB by default)",
                    // "`retention.attachments_hours` (72)".
                    let rest = line[at + needle.len()..].trim_start_matches([',', ' ', '(']);
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    let Ok(n) = digits.parse::<i64>() else {
                        continue;
                    };
                    let tail = &rest[digits.len()..];
                    let until = tail.find(')').map_or(tail, |e| &tail[..e]);
                    if tail.starts_with(')') || until.contains("by default") {
                        checked += 1;
                        if n != *want {
                            problems.push(format!(
                                "{f}:{}: {key} given as {n} by default, it is {want}",
                                i + 1
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(checked >= 3, "only {checked} defaults found in the docs");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
