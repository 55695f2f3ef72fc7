//! The import rule of docs/architecture.md ("Dependencies point down"), checked on the source.
//!
//! Every `.rs` file under `src/` is parsed with `syn`; each path that names a crate module is
//! resolved to the top-level module it lands in: `use crate::…` (nested groups included),
//! inline paths such as `crate::http::AppState::new(…)` in code and types, `super::` chains that
//! climb out of a module, paths inside macro calls, and the `crate::…` paths that askama
//! templates use (they compile in the module of their `#[template]`). `src/main.rs` is the
//! binary and reaches the library as `switchboard::…`.
//!
//! The test fails when a lower layer imports a higher one or when the top-level modules form
//! a cycle, and prints the whole edge list with a sample path per edge. To see the list:
//! `cargo test --test layers -- --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::{self, Visit};

/// The layers, top first. A module may import its own layer and the layers below it, never one
/// above; a new top-level module must be placed here (the test names it otherwise).
const LAYERS: &[(&str, &[&str])] = &[
    ("lifecycle", &["server"]),
    ("entry points", &["http", "control", "conn"]),
    ("application state", &["app"]),
    ("background jobs", &["jobs"]),
    ("domain", &["domain"]),
    (
        "storage, search, provider and PBX clients, configuration",
        &[
            "store", "search", "channels", "pbx", "config", "schedule", "tls",
        ],
    ),
    ("leaves", &["clock", "error", "ids", "locale", "ratelog"]),
];

/// How high a module sits (0 = the bottom layer).
fn rank(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .position(|(_, ms)| ms.contains(&module))
        .map(|i| LAYERS.len() - 1 - i)
}

/// The crate root (`lib.rs`) only declares modules and re-exports; it is no layer of its own.
const ROOT: &str = "(root)";
/// The binary (`src/main.rs`).
const BIN: &str = "(main)";

#[derive(Default)]
struct Graph {
    /// (from, to) → sample uses "file: path".
    edges: BTreeMap<(String, String), BTreeSet<String>>,
    /// The same inside `http`, one level down: (`http::api`, `http::ui`) → uses.
    inner: BTreeMap<(String, String), BTreeSet<String>>,
}

impl Graph {
    fn add(&mut self, from: &str, to: &str, file: &str, path: &str) {
        if from != to {
            self.edges
                .entry((from.to_string(), to.to_string()))
                .or_default()
                .insert(format!("{file}: {path}"));
        }
    }

    fn listing(&self) -> String {
        let mut out = String::new();
        for ((from, to), uses) in self.edges.iter().chain(&self.inner) {
            let sample = uses.iter().next().map(String::as_str).unwrap_or("");
            let _ = writeln!(out, "{from} -> {to}  ({} uses, e.g. {sample})", uses.len());
        }
        out
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// `src/http/api/sessions.rs` → `[http, api, sessions]`; `mod.rs` names its directory.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".rs").to_string();
    }
    if parts.last().is_some_and(|l| l == "mod") {
        parts.pop();
    }
    parts
}

/// The top-level modules: `src/*.rs` and `src/*/` (less the crate roots).
fn top_modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_string_lossy().into_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|n| n != "lib" && n != "main")
        .collect()
}

struct FileVisitor<'a> {
    graph: &'a mut Graph,
    tops: &'a BTreeSet<String>,
    /// `http`'s own modules (`api`, `ui`, `auth`, …).
    http_parts: &'a BTreeSet<String>,
    file: String,
    /// The module this code is in: the file's module plus inline `mod x { … }` blocks.
    module: Vec<String>,
    /// The crate root (`lib.rs`) or the binary (`main.rs`).
    root: Option<&'static str>,
}

impl FileVisitor<'_> {
    fn from(&self) -> String {
        match self.root {
            Some(r) if self.module.is_empty() => r.to_string(),
            _ => self.module[0].clone(),
        }
    }

    /// The crate module path a path lands in (`crate::` dropped), if it names this crate's
    /// modules: `super::super::x::y` from `[http, api, s]` → `[http, x, y]`.
    fn resolve(&self, segs: &[String]) -> Option<Vec<String>> {
        let first = segs.first()?.as_str();
        let abs: Vec<String> = match first {
            "crate" if self.root == Some(BIN) => return None,
            "crate" => segs[1..].to_vec(),
            "switchboard" if self.root == Some(BIN) => segs[1..].to_vec(),
            "self" => self.module.iter().chain(&segs[1..]).cloned().collect(),
            "super" => {
                let ups = segs.iter().take_while(|s| *s == "super").count();
                let kept = self.module.len().checked_sub(ups)?;
                self.module[..kept]
                    .iter()
                    .chain(&segs[ups..])
                    .cloned()
                    .collect()
            }
            // In the crate root a bare path may name a top-level module (`use http::app`).
            _ if self.root == Some(ROOT) && self.module.is_empty() => segs.to_vec(),
            _ => return None,
        };
        self.tops.contains(abs.first()?).then_some(abs)
    }

    fn record(&mut self, segs: &[String]) {
        let Some(to) = self.resolve(segs) else {
            return;
        };
        let from = self.from();
        let text = segs.join("::");
        let file = self.file.clone();
        self.graph.add(&from, &to[0], &file, &text);
        // Inside `http`: which part (api, ui, hooks, …) uses which.
        if from == "http"
            && to[0] == "http"
            && self.module.len() > 1
            && to.len() > 1
            && self.http_parts.contains(&to[1])
        {
            let (a, b) = (
                format!("http::{}", self.module[1]),
                format!("http::{}", to[1]),
            );
            if a != b {
                self.graph
                    .inner
                    .entry((a, b))
                    .or_default()
                    .insert(format!("{file}: {text}"));
            }
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name != "self" {
                    prefix.push(name);
                    self.record(prefix);
                    prefix.pop();
                } else {
                    self.record(prefix);
                }
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(prefix);
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.use_tree(prefix, t);
                }
            }
        }
    }

    /// Paths inside macro calls (`format!`, `tracing::info!`, `matches!`, …) are tokens to syn.
    fn tokens(&mut self, tokens: TokenStream) {
        let flat = flatten(tokens);
        let mut i = 0;
        while i < flat.len() {
            if let Some(first) = ident(&flat[i])
                && matches!(first.as_str(), "crate" | "super" | "self" | "switchboard")
                && (i == 0 || !is_colon(&flat[i - 1]))
            {
                let mut segs = vec![first];
                let mut j = i + 1;
                while j + 1 < flat.len() && is_colon(&flat[j]) && is_colon(&flat[j + 1]) {
                    match flat.get(j + 2).and_then(ident) {
                        Some(s) => {
                            segs.push(s);
                            j += 3;
                        }
                        None => break,
                    }
                }
                if segs.len() > 1 {
                    self.record(&segs);
                }
                i = j;
            } else {
                i += 1;
            }
        }
    }

    /// `#[template(path = "x.html")]`: the template's `crate::…` paths compile here.
    fn template_attrs(&mut self, attrs: &[syn::Attribute]) {
        for a in attrs {
            if !a.path().is_ident("template") {
                continue;
            }
            let _ = a.parse_nested_meta(|meta| {
                if meta.path.is_ident("path") {
                    let lit: syn::LitStr = meta.value()?.parse()?;
                    let mut seen = BTreeSet::new();
                    self.template(&lit.value(), &mut seen);
                } else if let Ok(v) = meta.value() {
                    let _: syn::Expr = v.parse()?;
                }
                Ok(())
            });
        }
    }

    fn template(&mut self, name: &str, seen: &mut BTreeSet<String>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("templates")
            .join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            return;
        };
        // Askama expressions are Rust-like: tokenize each `{{ … }}` / `{% … %}` body.
        for chunk in text.split("{{").chain(text.split("{%")).skip(1) {
            let body = chunk.split(['}', '%']).next().unwrap_or("");
            if let Ok(ts) = body.parse::<TokenStream>() {
                self.tokens(ts);
            }
        }
        for kw in ["include", "extends", "import"] {
            for part in text.split(kw).skip(1) {
                if let Some(inner) = part.trim_start().strip_prefix('"')
                    && let Some(end) = inner.find('"')
                {
                    self.template(&inner[..end], seen);
                }
            }
        }
    }
}

fn flatten(ts: TokenStream) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for t in ts {
        match t {
            TokenTree::Group(g) => {
                // A group boundary ends any path.
                out.push(TokenTree::Punct(proc_macro2::Punct::new(
                    ',',
                    proc_macro2::Spacing::Alone,
                )));
                out.extend(flatten(g.stream()));
                out.push(TokenTree::Punct(proc_macro2::Punct::new(
                    ',',
                    proc_macro2::Spacing::Alone,
                )));
            }
            other => out.push(other),
        }
    }
    out
}

fn ident(t: &TokenTree) -> Option<String> {
    match t {
        TokenTree::Ident(i) => Some(i.to_string()),
        _ => None,
    }
}

fn is_colon(t: &TokenTree) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == ':')
}

impl<'ast> Visit<'ast> for FileVisitor<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if u.leading_colon.is_none() {
            self.use_tree(&mut prefix, &u.tree);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.record(&segs);
        }
        visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.tokens(m.tokens.clone());
        visit::visit_macro(self, m);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.module.push(m.ident.to_string());
        visit::visit_item_mod(self, m);
        self.module.pop();
    }

    fn visit_item_struct(&mut self, s: &'ast syn::ItemStruct) {
        self.template_attrs(&s.attrs);
        visit::visit_item_struct(self, s);
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        self.template_attrs(&e.attrs);
        visit::visit_item_enum(self, e);
    }

    // `pub(in crate::x)` names where an item is visible, not what it uses.
    fn visit_vis_restricted(&mut self, _: &'ast syn::VisRestricted) {}
}

fn graph() -> (Graph, BTreeSet<String>) {
    let src = src_dir();
    let tops = top_modules(&src);
    let http_parts = top_modules(&src.join("http"));
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::default();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap().to_path_buf();
        let text = std::fs::read_to_string(&path).unwrap();
        let ast = syn::parse_file(&text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", rel.display()));
        let (module, root) = match rel.to_str() {
            Some("lib.rs") => (Vec::new(), Some(ROOT)),
            Some("main.rs") => (Vec::new(), Some(BIN)),
            _ => (module_of(&rel), None),
        };
        let mut v = FileVisitor {
            graph: &mut graph,
            tops: &tops,
            http_parts: &http_parts,
            file: rel.display().to_string(),
            module,
            root,
        };
        v.visit_file(&ast);
    }
    (graph, tops)
}

/// Strongly connected components with more than one module (Tarjan).
fn cycles(graph: &Graph, tops: &BTreeSet<String>) -> Vec<Vec<String>> {
    struct T<'a> {
        adj: BTreeMap<&'a str, Vec<&'a str>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    impl<'a> T<'a> {
        fn visit(&mut self, v: &'a str) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            for w in self.adj.get(v).cloned().unwrap_or_default() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v, l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v, l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t = T {
        adj: BTreeMap::new(),
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for (from, to) in graph.edges.keys() {
        if tops.contains(from) && tops.contains(to) {
            t.adj.entry(from.as_str()).or_default().push(to.as_str());
        }
    }
    for v in tops {
        if !t.index.contains_key(v.as_str()) {
            t.visit(v.as_str());
        }
    }
    t.out
}

#[test]
fn dependencies_point_down_and_form_no_cycle() {
    let (graph, tops) = graph();
    let listing = graph.listing();
    println!("top-level module dependencies:\n{listing}");
    let mut broken = Vec::new();
    for m in &tops {
        if rank(m).is_none() {
            broken.push(format!(
                "{m} is in no layer: add it to LAYERS in tests/layers.rs"
            ));
        }
    }
    for ((from, to), uses) in &graph.edges {
        if let (Some(f), Some(t)) = (rank(from), rank(to))
            && t > f
        {
            let all: Vec<_> = uses.iter().map(String::as_str).collect();
            broken.push(format!("{from} -> {to} points up: {}", all.join("; ")));
        }
    }
    for c in cycles(&graph, &tops) {
        broken.push(format!("import cycle among {}", c.join(", ")));
    }
    // The JSON API and the HTML pages are siblings: what both need lives below them.
    for ((from, to), uses) in &graph.inner {
        if matches!(
            (from.as_str(), to.as_str()),
            ("http::api", "http::ui") | ("http::ui", "http::api")
        ) {
            let all: Vec<_> = uses.iter().map(String::as_str).collect();
            broken.push(format!("{from} -> {to}: {}", all.join("; ")));
        }
    }
    assert!(
        broken.is_empty(),
        "imports that point up or go round:\n  {}\n\nlayers, top first: {LAYERS:?}\n\nall edges:\n{listing}",
        broken.join("\n  ")
    );
}

/// The checker itself: a rule it cannot see is no rule.
#[test]
fn the_checker_sees_every_kind_of_path() {
    let tops: BTreeSet<String> = ["http", "domain", "store", "jobs"]
        .into_iter()
        .map(String::from)
        .collect();
    let src = r#"
        use crate::{store::Store, http::{auth::{self, Authed}}};
        use super::super::jobs as j;
        fn f() { let _ = crate::http::AppState::new(); }
        fn g(_: Vec<crate::store::X>) { tracing::info!("{}", crate::jobs::NAME); }
        mod inner { use super::super::super::super::store::Y; }
        pub(in crate::domain) fn h() {}
    "#;
    let mut graph = Graph::default();
    let mut v = FileVisitor {
        graph: &mut graph,
        tops: &tops,
        http_parts: &BTreeSet::new(),
        file: "domain/x/y.rs".into(),
        module: vec!["domain".into(), "x".into(), "y".into()],
        root: None,
    };
    v.visit_file(&syn::parse_file(src).unwrap());
    let edges: Vec<_> = graph
        .edges
        .iter()
        .map(|((f, t), uses)| (f.as_str(), t.as_str(), uses.len()))
        .collect();
    assert_eq!(
        edges,
        vec![
            ("domain", "http", 3),
            ("domain", "jobs", 1),
            ("domain", "store", 3),
        ],
        "{}",
        graph.listing()
    );
    // `super::super::jobs` from domain/x/y.rs stays inside `domain`: only the macro's
    // `crate::jobs::NAME` reaches `jobs`.
    assert!(
        graph.edges[&("domain".to_string(), "jobs".to_string())]
            .iter()
            .all(|u| u.contains("crate::jobs::NAME"))
    );
    // One level down inside `http`.
    let parts: BTreeSet<String> = ["api", "ui", "auth"]
        .into_iter()
        .map(String::from)
        .collect();
    let mut graph = Graph::default();
    let mut v = FileVisitor {
        graph: &mut graph,
        tops: &tops,
        http_parts: &parts,
        file: "http/api/s.rs".into(),
        module: vec!["http".into(), "api".into(), "s".into()],
        root: None,
    };
    let src = "use super::super::ui::{a, b}; fn f() { super::helper(); crate::http::auth::x(); crate::http::AppState::new(); }";
    v.visit_file(&syn::parse_file(src).unwrap());
    let inner: Vec<_> = graph.inner.keys().cloned().collect();
    assert_eq!(
        inner,
        vec![
            ("http::api".to_string(), "http::auth".to_string()),
            ("http::api".to_string(), "http::ui".to_string()),
        ]
    );
    let mut cyc = Graph::default();
    cyc.add("a", "b", "f", "p");
    cyc.add("b", "c", "f", "p");
    cyc.add("c", "a", "f", "p");
    cyc.add("c", "d", "f", "p");
    let tops: BTreeSet<String> = ["a", "b", "c", "d"].into_iter().map(String::from).collect();
    assert_eq!(cycles(&cyc, &tops), vec![vec!["a", "b", "c"]]);
}

/// Which module owns each redb table: only the owner opens it; everyone else calls the owner.
/// `store/` itself (the table list, migrations, backup and check) may name any table.
/// docs/architecture.md carries the same map ("Table owners"); the test below keeps it true.
const OWNERS: &[(&str, &[&str])] = &[
    ("src/store/", &["META", "COUNTERS", "EVENTS"]),
    ("src/search/", &["POSTINGS", "EPOCHS"]),
    ("src/domain/users.rs", &["USERS", "USERS_BY_NAME"]),
    (
        "src/domain/auth/",
        &[
            "LOGIN_SESSIONS",
            "LOGIN_SESSIONS_BY_USER",
            "API_TOKENS",
            "API_TOKENS_BY_USER",
        ],
    ),
    ("src/domain/audit.rs", &["AUDIT"]),
    (
        "src/domain/channels/mod.rs",
        &["CHANNELS", "CHANNEL_MEMBERS", "MEMBER_CHANNELS"],
    ),
    ("src/domain/channels/health.rs", &["CHANNEL_HEALTH"]),
    ("src/domain/contacts.rs", &["CONTACTS", "CONTACTS_BY_ADDR"]),
    ("src/domain/directory.rs", &["CONTACT_ALIASES"]),
    ("src/domain/blocks.rs", &["BLOCKED_CONTACTS"]),
    (
        "src/domain/sessions/",
        &[
            "SESSIONS",
            "SESSIONS_BY_ACTIVITY",
            "OPEN_SESSIONS_BY_ACTIVITY",
            "SESSIONS_BY_CONTACT",
            "OPEN_SESSIONS",
            "OPEN_ASSIGNED",
            "SESSION_READS",
            "TIMELINE",
            "SNOOZED",
        ],
    ),
    ("src/domain/automation/", &["AUTOMATION"]),
    (
        "src/domain/messages/",
        &[
            "MESSAGES",
            "MESSAGE_SESSION",
            "PROVIDER_IDS",
            "OUTBOX",
            "OUTBOX_DUE",
        ],
    ),
    ("src/domain/delivery/media_fetch.rs", &["MEDIA_QUEUE"]),
    (
        "src/domain/attachments/",
        &[
            "ATTACHMENTS",
            "ATTACHMENT_CHUNKS",
            "ATTACHMENTS_BY_CREATED",
            "ATTACHMENT_UPLOADS",
            "ATTACHMENT_THUMBS",
        ],
    ),
    ("src/domain/livechat/", &["LIVECHAT_VISITORS"]),
    ("src/domain/queue.rs", &["QUEUE_CURSOR"]),
    ("src/domain/templates/", &["TEMPLATES", "CANNED"]),
    ("src/domain/settings.rs", &["WORKFLOW_SETTINGS"]),
    ("src/domain/push/", &["PUSH_SUBSCRIPTIONS"]),
    (
        "src/domain/chats/",
        &[
            "CHATS",
            "CHAT_MEMBERS",
            "CHAT_DIRECT",
            "CHAT_MESSAGES",
            "CHAT_MESSAGES_BY_TIME",
        ],
    ),
];

/// The table constants of `store/tables.rs` and `search/mod.rs`.
fn table_names() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in ["store/tables.rs", "search/mod.rs"] {
        let text = std::fs::read_to_string(src_dir().join(file)).unwrap();
        let ast = syn::parse_file(&text).unwrap();
        for item in ast.items {
            if let syn::Item::Const(c) = item {
                let ty = quote_type(&c.ty);
                if ty == "Def" || ty.starts_with("TableDefinition") {
                    out.insert(c.ident.to_string());
                }
            }
        }
    }
    out
}

fn quote_type(ty: &syn::Type) -> String {
    use quote::ToTokens;
    ty.to_token_stream().to_string()
}

#[test]
fn every_table_is_opened_by_its_owner_only() {
    let tables = table_names();
    let owned: BTreeMap<&str, &str> = OWNERS
        .iter()
        .flat_map(|(owner, ts)| ts.iter().map(move |t| (*t, *owner)))
        .collect();
    let mut broken = Vec::new();
    for t in &tables {
        if !owned.contains_key(t.as_str()) {
            broken.push(format!(
                "{t} has no owner: add it to OWNERS in tests/layers.rs"
            ));
        }
    }
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for path in files {
        let rel = format!("src/{}", path.strip_prefix(&src).unwrap().display());
        if rel.starts_with("src/store/") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let tokens: TokenStream = text.parse().unwrap();
        let used: BTreeSet<String> = flatten(tokens)
            .iter()
            .filter_map(ident)
            .filter(|i| tables.contains(i))
            .collect();
        for t in used {
            match owned.get(t.as_str()) {
                Some(owner) if rel.starts_with(owner) => {}
                Some(owner) => broken.push(format!("{rel} opens {t}, which {owner} owns")),
                None => {}
            }
        }
    }
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .unwrap();
    for (owner, ts) in OWNERS {
        let row = format!(
            "| `{owner}` | {} |",
            ts.iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !docs.contains(&row) {
            broken.push(format!("docs/architecture.md lacks the row {row}"));
        }
    }
    assert!(
        broken.is_empty(),
        "table ownership:\n  {}",
        broken.join("\n  ")
    );
}

/// Handlers are thin: a state change is one call of a domain entry point, so nothing under
/// `src/http` opens a write transaction (`store.write`) or touches a `WriteCtx`.
#[test]
fn http_handlers_leave_writes_to_the_domain() {
    struct Writes<'a> {
        file: &'a str,
        found: Vec<String>,
    }
    impl<'ast> Visit<'ast> for Writes<'_> {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "write" || m.method == "write_blocking" {
                self.found.push(format!("{}: .{}(…)", self.file, m.method));
            }
            visit::visit_expr_method_call(self, m);
        }
        fn visit_path_segment(&mut self, seg: &'ast syn::PathSegment) {
            if seg.ident == "WriteCtx" {
                self.found.push(format!("{}: WriteCtx", self.file));
            }
            visit::visit_path_segment(self, seg);
        }
    }
    let src = src_dir();
    let mut files = Vec::new();
    rust_files(&src.join("http"), &mut files);
    let mut found = Vec::new();
    for path in files {
        let rel = path.strip_prefix(&src).unwrap().display().to_string();
        let ast = syn::parse_file(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut w = Writes {
            file: &rel,
            found: Vec::new(),
        };
        w.visit_file(&ast);
        found.extend(w.found);
    }
    assert!(
        found.is_empty(),
        "writes belong in a domain entry point:\n  {}",
        found.join("\n  ")
    );
}
