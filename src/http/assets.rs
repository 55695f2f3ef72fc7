//! `static/` embedded in the binary, served at content-hashed URLs with a one-year cache.
//!
//! ## JS modules and their hashes
//! Page scripts are native ES modules that import each other by relative specifier
//! (`import { h } from "./core/dom.js"`). A hashed URL may be cached for a year only if it
//! changes whenever anything the browser fetches through it changes, and a module's behaviour
//! includes the modules it imports. So at start-up every relative specifier in a `.js` file
//! (`import … from "…"`, `export … from "…"`, `import "…"`, `import("…")`) is rewritten to the
//! imported file's hashed URL, and the importer is hashed *after* that rewrite, imports first.
//! A change in `core/dom.js` changes its URL, hence the text and URL of every module importing
//! it, up to the page entry the template links: after an upgrade no cached copy is reused.
//!
//! The module graph must be acyclic (a cycle has no fixed point: each hash would depend on the
//! other). [`build`] reports cycles and specifiers that name no embedded file, and the unit test
//! `shipped_modules_resolve_and_are_acyclic` keeps `static/` free of both. Only relative
//! specifiers are rewritten; `static/widget.js` (a classic script for third-party pages) has none.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::HttpState;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// Maps `app.css` to `/static/app.3f9a1c2b7d.css` and back, with the bytes to serve.
#[derive(Default)]
pub struct Assets {
    by_name: HashMap<String, String>,
    /// `app.3f9a1c2b7d.css` → the file as served.
    by_hashed: HashMap<String, Asset>,
    /// `inbox.js` → the files it imports statically (`import … from`), by name; dynamic
    /// `import("…")` is left out: it loads on first use, not with the page.
    imports: HashMap<String, Vec<String>>,
}

/// One file as served: its name, its body (JS with its imports rewritten) and, for text, the
/// same gzip-compressed once at start-up (sent to browsers that accept gzip: a phone on a slow
/// link loads a third of the bytes; no per-request CPU).
pub struct Asset {
    pub name: String,
    pub body: Bytes,
    pub gzip: Option<Bytes>,
}

impl Asset {
    fn new(name: String, body: Bytes) -> Asset {
        let gzip = gzip_if_smaller(&name, &body);
        Asset { name, body, gzip }
    }
}

/// The gzip of a text file when it saves at least a tenth (images and fonts are compressed).
fn gzip_if_smaller(name: &str, body: &[u8]) -> Option<Bytes> {
    use std::io::Write as _;
    let text = matches!(
        name.rsplit('.').next(),
        Some("js" | "css" | "svg" | "json" | "webmanifest" | "html" | "txt")
    );
    if !text || body.len() < 256 {
        return None;
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(body).ok()?;
    let out = enc.finish().ok()?;
    (out.len() * 10 < body.len() * 9).then(|| Bytes::from(out))
}

/// Does the request's `Accept-Encoding` take gzip (and not with `q=0`)?
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut it = part.split(';');
            let coding = it.next().unwrap_or("").trim();
            let q_zero = it.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

impl Assets {
    pub fn load() -> Self {
        let files = Static::iter().filter_map(|name| {
            let file = Static::get(&name)?;
            let body = match file.data {
                std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
                std::borrow::Cow::Owned(v) => Bytes::from(v),
            };
            Some((name.to_string(), body))
        });
        let (assets, problems) = build(files);
        for p in problems {
            tracing::error!("static assets: {p}");
        }
        assets
    }

    /// Every embedded file as (name, hashed URL), sorted by name: the service worker's
    /// precache list (`ui::pwa`).
    pub fn urls(&self) -> Vec<(String, String)> {
        let mut all: Vec<(String, String)> = self
            .by_name
            .iter()
            .map(|(n, u)| (n.clone(), u.clone()))
            .collect();
        all.sort();
        all
    }

    /// The cache-busting URL of a static file (the plain path if unknown).
    pub fn url(&self, name: &str) -> String {
        self.by_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| format!("/static/{name}"))
    }
}

/// Hashes every file (JS after rewriting its relative imports, imports first) and returns the
/// table with a list of problems: import cycles and specifiers that resolve to no file. A
/// problem leaves the specifier as written, so the page fails loudly in the browser too.
pub fn build(files: impl IntoIterator<Item = (String, Bytes)>) -> (Assets, Vec<String>) {
    let files: HashMap<String, Bytes> = files.into_iter().collect();
    let mut names: Vec<&String> = files.keys().collect();
    names.sort();
    let mut b = Builder {
        files: &files,
        done: HashMap::new(),
        imports: HashMap::new(),
        path: Vec::new(),
        problems: Vec::new(),
    };
    for name in names {
        b.visit(name);
    }
    let mut assets = Assets {
        imports: b.imports,
        ..Assets::default()
    };
    for (name, (hashed, body)) in b.done {
        assets
            .by_name
            .insert(name.clone(), format!("/static/{hashed}"));
        assets.by_hashed.insert(hashed, Asset::new(name, body));
    }
    (assets, b.problems)
}

struct Builder<'a> {
    files: &'a HashMap<String, Bytes>,
    /// name → (hashed name, final body).
    done: HashMap<String, (String, Bytes)>,
    /// name → its static imports (names).
    imports: HashMap<String, Vec<String>>,
    /// The import chain being resolved (cycle detection).
    path: Vec<String>,
    problems: Vec<String>,
}

impl Builder<'_> {
    fn visit(&mut self, name: &str) {
        if self.done.contains_key(name) {
            return;
        }
        let Some(raw) = self.files.get(name) else {
            return;
        };
        let mut body = raw.clone();
        if name.ends_with(".js")
            && let Ok(src) = std::str::from_utf8(raw)
        {
            self.path.push(name.to_string());
            let mut out = String::with_capacity(src.len() + 64);
            let mut at = 0;
            for (start, end) in relative_imports(src) {
                let spec = &src[start..end];
                let Some(target) = resolve(name, spec).filter(|t| self.files.contains_key(t))
                else {
                    self.problems
                        .push(format!("{name}: import {spec:?} names no static file"));
                    continue;
                };
                if self.path.contains(&target) {
                    self.problems.push(format!(
                        "import cycle: {} -> {target}",
                        self.path.join(" -> ")
                    ));
                    continue;
                }
                self.visit(&target);
                if !is_dynamic(src, start) {
                    self.imports
                        .entry(name.to_string())
                        .or_default()
                        .push(target.clone());
                }
                if let Some((hashed, _)) = self.done.get(&target) {
                    out.push_str(&src[at..start]);
                    out.push_str("/static/");
                    out.push_str(hashed);
                    at = end;
                }
            }
            self.path.pop();
            if at > 0 {
                out.push_str(&src[at..]);
                body = Bytes::from(out);
            }
        }
        let hash = hex::encode(&Sha256::digest(&body)[..5]);
        let hashed = match name.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{name}.{hash}"),
        };
        self.done.insert(name.to_string(), (hashed, body));
    }
}

/// Byte ranges (inside the quotes) of the relative module specifiers in `src`: string literals
/// starting with `./` or `../` right after the keyword `from` or `import` (or `import(`).
/// A deliberately small scanner: it does not skip comments, so a comment spelling out such an
/// import is rewritten (harmless) or reported if the file does not exist.
fn relative_imports(src: &str) -> Vec<(usize, usize)> {
    let bytes = src.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c == b'.';
    let mut found = Vec::new();
    for kw in ["from", "import"] {
        for (pos, _) in src.match_indices(kw) {
            let end = pos + kw.len();
            if (pos > 0 && ident(bytes[pos - 1])) || bytes.get(end).is_some_and(|&c| ident(c)) {
                continue;
            }
            let mut i = end;
            while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
            if kw == "import" && bytes.get(i) == Some(&b'(') {
                i += 1;
                while bytes.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                    i += 1;
                }
            }
            let Some(&quote) = bytes.get(i).filter(|&&c| c == b'"' || c == b'\'') else {
                continue;
            };
            let start = i + 1;
            let Some(len) = bytes[start..]
                .iter()
                .position(|&c| c == quote || c == b'\n')
            else {
                continue;
            };
            let spec = &src[start..start + len];
            if bytes[start + len] == quote && (spec.starts_with("./") || spec.starts_with("../")) {
                found.push((start, start + len));
            }
        }
    }
    found.sort_unstable();
    found
}

/// Is the specifier starting at `start` (just inside its quote) an `import("…")`?
fn is_dynamic(src: &str, start: usize) -> bool {
    src[..start.saturating_sub(1)].trim_end().ends_with('(')
}

/// `spec` relative to the file `importer` (both inside `static/`); `None` if it leaves it.
fn resolve(importer: &str, spec: &str) -> Option<String> {
    let mut parts: Vec<&str> = importer.split('/').collect();
    parts.pop();
    for seg in spec.split('/') {
        match seg {
            "." | "" => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

pub fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

pub async fn serve(
    State(state): State<HttpState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(a) = state.assets.by_hashed.get(&path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    respond(a, &headers, "public, max-age=31536000, immutable")
}

impl Assets {
    /// The hashed URLs of every module `entry` (a plain name, `inbox.js`) imports statically,
    /// directly or not, in depth-first order, without `entry` and without those in `skip`:
    /// the page lists them as `<link rel="modulepreload">` so the browser fetches the whole
    /// graph at once instead of one import level per round trip.
    pub fn module_graph(&self, entry: &str, skip: &[String]) -> Vec<String> {
        let mut seen: Vec<&str> = Vec::new();
        let mut out = Vec::new();
        let mut stack: Vec<&str> = vec![entry];
        while let Some(name) = stack.pop() {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            if name != entry {
                let url = self.url(name);
                if !skip.contains(&url) {
                    out.push(url);
                }
            }
            for dep in self.imports.get(name).into_iter().flatten().rev() {
                stack.push(dep);
            }
        }
        out
    }

    /// An embedded file by its plain name (`widget.js`), as served.
    pub fn file(&self, name: &str) -> Option<&Asset> {
        let url = self.by_name.get(name)?;
        self.by_hashed.get(url.trim_start_matches("/static/"))
    }
}

/// The text of an embedded file as shipped (no import rewriting), if it is UTF-8.
pub fn raw_text(name: &str) -> Option<String> {
    Static::get(name).and_then(|f| String::from_utf8(f.data.into_owned()).ok())
}

/// Serves an embedded file under a fixed name (e.g. `/widget.js`) with a short cache. Only for
/// files without relative imports (their body is the file as shipped).
pub fn raw(assets: &Assets, name: &str, headers: &HeaderMap, cache: &'static str) -> Response {
    match assets.file(name) {
        Some(a) => respond(a, headers, cache),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn respond(a: &Asset, headers: &HeaderMap, cache: &'static str) -> Response {
    let gz = a.gzip.as_ref().filter(|_| accepts_gzip(headers));
    let mut resp = gz.unwrap_or(&a.body).clone().into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&a.name)),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if a.gzip.is_some() {
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if gz.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(list: &[(&str, &str)]) -> Vec<(String, Bytes)> {
        list.iter()
            .map(|(n, s)| (n.to_string(), Bytes::from(s.to_string())))
            .collect()
    }

    fn body(a: &Assets, name: &str) -> String {
        let url = a.url(name);
        let hashed = url.trim_start_matches("/static/");
        String::from_utf8(a.by_hashed[hashed].body.to_vec()).unwrap()
    }

    const PAGE: &str = "import { h } from \"./core/dom.js\";\nh();\n";
    const DOM: &str = "import { t } from '../i18n.js';\nexport const h = () => t();\n";

    #[test]
    fn text_is_served_gzipped_to_browsers_that_take_it() {
        use std::io::Read as _;
        let css = "body { color: #123456; }\n".repeat(100);
        let (a, problems) = build(files(&[("app.css", &css), ("tiny.js", "x();")]));
        assert!(problems.is_empty());
        let f = a.file("app.css").unwrap();
        let gz = f.gzip.as_ref().expect("a compressible file has its gzip");
        assert!(gz.len() * 5 < css.len(), "{} vs {}", gz.len(), css.len());
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, css);
        assert!(
            a.file("tiny.js").unwrap().gzip.is_none(),
            "too small to gain"
        );

        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            h
        };
        let resp = respond(f, &with("gzip, deflate, br, zstd"), "no-cache");
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(resp.headers()[header::VARY], "Accept-Encoding");
        for plain in [HeaderMap::new(), with("br"), with("gzip;q=0, identity")] {
            let resp = respond(f, &plain, "no-cache");
            assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
            assert_eq!(resp.headers()[header::VARY], "Accept-Encoding");
        }
    }

    #[test]
    fn the_module_graph_lists_static_imports_once_and_skips_lazy_ones() {
        let (a, problems) = build(files(&[
            (
                "page.js",
                "import { h } from \"./core/dom.js\";\nimport \"./i18n.js\";\nconst later = () => import(\"./lazy.js\");\n",
            ),
            ("core/dom.js", DOM),
            ("i18n.js", "export const t = () => 1;"),
            (
                "lazy.js",
                "import { t } from \"./i18n.js\";\nexport const x = t;",
            ),
            ("app.js", "import \"./i18n.js\";"),
        ]));
        assert!(problems.is_empty(), "{problems:?}");
        let graph = a.module_graph("page.js", &[]);
        assert_eq!(graph, vec![a.url("core/dom.js"), a.url("i18n.js")]);
        assert!(
            !graph.contains(&a.url("lazy.js")),
            "dynamic import is not preloaded"
        );
        // What app.js already preloads is not listed twice.
        assert_eq!(
            a.module_graph("page.js", &[a.url("i18n.js")]),
            vec![a.url("core/dom.js")]
        );
        assert!(a.module_graph("i18n.js", &[]).is_empty());
    }

    #[test]
    fn a_changed_import_changes_the_importers_url() {
        let v1 = files(&[
            ("page.js", PAGE),
            ("core/dom.js", DOM),
            ("i18n.js", "export const t = () => 1;"),
        ]);
        let v2 = files(&[
            ("page.js", PAGE),
            ("core/dom.js", DOM),
            ("i18n.js", "export const t = () => 2;"),
        ]);
        let (a, p1) = build(v1);
        let (b, p2) = build(v2);
        assert!(p1.is_empty() && p2.is_empty(), "{p1:?} {p2:?}");
        // The page's own text did not change, but what it imports (two levels down) did.
        assert_ne!(a.url("i18n.js"), b.url("i18n.js"));
        assert_ne!(a.url("core/dom.js"), b.url("core/dom.js"));
        assert_ne!(a.url("page.js"), b.url("page.js"));
        // The served text names the hashed URLs, which are served.
        let page = body(&a, "page.js");
        assert!(
            page.contains(&format!("from \"{}\"", a.url("core/dom.js"))),
            "{page}"
        );
        let dom = body(&a, "core/dom.js");
        assert!(
            dom.contains(&format!("from '{}'", a.url("i18n.js"))),
            "{dom}"
        );
        // Same input, same URLs (start-up is deterministic).
        let (c, _) = build(files(&[
            ("page.js", PAGE),
            ("core/dom.js", DOM),
            ("i18n.js", "export const t = () => 1;"),
        ]));
        assert_eq!(a.url("page.js"), c.url("page.js"));
    }

    #[test]
    fn every_import_form_is_rewritten_and_other_text_is_not() {
        let src = "import a from \"./a.js\";\nimport './b.js';\nexport * from \"./a.js\";\n\
                   export { x } from './b.js';\nconst m = import(\"./a.js\");\n\
                   const s = \"./a.js\"; fromage(\"./a.js\"); important('./b.js');\n\
                   import x from \"/abs.js\";\n";
        let (a, p) = build(files(&[
            ("m.js", src),
            ("a.js", "export default 1;"),
            ("b.js", "export const x = 1;"),
        ]));
        assert!(p.is_empty(), "{p:?}");
        let out = body(&a, "m.js");
        let (ua, ub) = (a.url("a.js"), a.url("b.js"));
        assert_eq!(out.matches(&ua).count(), 3, "{out}");
        assert_eq!(out.matches(&ub).count(), 2, "{out}");
        assert!(out.contains("const s = \"./a.js\"; fromage(\"./a.js\"); important('./b.js');"));
        assert!(out.contains("import x from \"/abs.js\""));
    }

    #[test]
    fn cycles_and_missing_files_are_reported() {
        let (_, p) = build(files(&[
            ("a.js", "import \"./b.js\";"),
            ("b.js", "import \"./a.js\";"),
            ("c.js", "import \"./nope.js\"; import \"../../out.js\";"),
        ]));
        assert_eq!(p.len(), 3, "{p:?}");
        assert!(p.iter().any(|x| x.contains("import cycle")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("./nope.js")), "{p:?}");
        assert!(p.iter().any(|x| x.contains("../../out.js")), "{p:?}");
    }

    #[test]
    fn non_js_files_keep_their_content_hash() {
        let (a, _) = build(files(&[("app.css", "body{}")]));
        let hash = hex::encode(&Sha256::digest(b"body{}")[..5]);
        assert_eq!(a.url("app.css"), format!("/static/app.{hash}.css"));
    }

    /// The shipped `static/`: every relative import resolves, the graph has no cycle, and no
    /// served module is left with a relative specifier (which would bypass the hashing).
    #[test]
    fn shipped_modules_resolve_and_are_acyclic() {
        let all = Static::iter().filter_map(|n| {
            let f = Static::get(&n)?;
            Some((n.to_string(), Bytes::from(f.data.into_owned())))
        });
        let (a, problems) = build(all);
        assert!(problems.is_empty(), "{problems:?}");
        let mut modules = 0;
        for Asset { name, body, .. } in a.by_hashed.values() {
            if !name.ends_with(".js") {
                continue;
            }
            let text = std::str::from_utf8(body).unwrap();
            assert!(
                relative_imports(text).is_empty(),
                "{name} keeps a relative import"
            );
            modules += text.contains("/static/") as usize;
        }
        assert!(modules >= 3, "the page scripts import the core");
    }
}
