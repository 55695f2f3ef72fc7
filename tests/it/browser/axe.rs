//! axe-core (Deque's accessibility rules engine, pinned in `tools/a11y/package.json`) run in the
//! page: [`Browser::axe`] checks the page as it is now against WCAG 2.0/2.1/2.2 A and AA and
//! panics with every violation, its rule, help text and the elements it found.
//!
//! `tools/a11y/install` (run by `./scripts/test`, and by the first check here when the file is
//! missing) puts `axe.min.js` under `tools/a11y/node_modules/axe-core/`. The script is handed
//! to the page through WebDriver, which the page's CSP does not govern.
//!
//! `SWITCHBOARD_AXE_WARN=1` prints the violations instead of failing (to see them all at once
//! while fixing). Every check prints one line `axe: <state>: <n> violations` to stderr.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::json;

use super::Browser;

fn axe_source() -> &'static str {
    static SRC: OnceLock<String> = OnceLock::new();
    SRC.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let file = root.join("tools/a11y/node_modules/axe-core/axe.min.js");
        if !file.exists() {
            let status = std::process::Command::new(root.join("tools/a11y/install"))
                .status()
                .expect("tools/a11y/install could not run (needs npm)");
            assert!(status.success(), "tools/a11y/install failed");
        }
        std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("{}: {e} (run tools/a11y/install)", file.display()))
    })
}

const RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
  resultTypes: ["violations"],
}).then((r) => done(r.violations.map((v) => ({
  id: v.id, impact: v.impact, help: v.help,
  nodes: v.nodes.map((n) => ({ target: JSON.stringify(n.target), html: n.html.slice(0, 160), summary: n.failureSummary })),
}))), (e) => done([{ id: "axe-error", help: String(e), nodes: [] }]));
"#;

impl Browser {
    /// Runs axe on the page as it is now; panics listing every violation. `state` names what
    /// is on screen (for the message and the report line), e.g. `"inbox, transfer dialog"`.
    pub async fn axe(&self, state: &str) {
        let loaded = self
            .client
            .execute(
                &format!("{}\n;return typeof axe === 'object';", axe_source()),
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("injecting axe failed: {e}"));
        assert_eq!(loaded, json!(true), "axe did not load into the page");
        let found = self
            .client
            .execute_async(RUN, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe.run failed: {e}"));
        let list = found.as_array().cloned().unwrap_or_default();
        eprintln!("axe: {state}: {} violations", list.len());
        if list.is_empty() {
            return;
        }
        let mut msg = format!("accessibility violations in \"{state}\":\n");
        for v in &list {
            msg.push_str(&format!(
                "- {} ({}): {}\n",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("")
            ));
            for n in v["nodes"].as_array().into_iter().flatten().take(6) {
                msg.push_str(&format!(
                    "    {}  {}\n      {}\n",
                    n["target"].as_str().unwrap_or(""),
                    n["html"].as_str().unwrap_or(""),
                    n["summary"]
                        .as_str()
                        .unwrap_or("")
                        .replace('\n', "\n      ")
                ));
            }
        }
        if std::env::var("SWITCHBOARD_AXE_WARN").as_deref() == Ok("1") {
            eprintln!("{msg}");
        } else {
            panic!("{msg}");
        }
    }
}
