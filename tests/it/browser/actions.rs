//! What a person does on a page: find, click, type, choose, read, and wait until something is
//! (or is no longer) there. By CSS, or by what the person reads: a button's or link's visible
//! text (or its `aria-label` / `title` when it is an icon), a form field's label. Searches reach
//! into open shadow roots (the live-chat widget). Every wait is by the wall clock ([`PATIENCE`]).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::elements::{Element, ElementRef};
use serde_json::{Value, json};

use super::{Browser, PATIENCE};

/// Page script: finds the first visible element a person would mean by `arguments[1]`.
/// `arguments[0]` is "clickable" (buttons, links, summaries, tabs, menu items, options,
/// labels, submit inputs: by visible text, else `aria-label`, else `title`; exact match before
/// a match that contains the text) or "field" (input, textarea or select by its label, its
/// `aria-label` or its placeholder).
const FIND: &str = r#"
const [mode, want] = arguments;
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
const all = [];
const walk = (root) => { for (const e of root.querySelectorAll('*')) { all.push(e); if (e.shadowRoot) walk(e.shadowRoot); } };
walk(document);
const visible = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden' && !e.closest('[hidden]');
const pick = (cands, texts) => {
  for (const exact of [true, false]) {
    for (const e of cands) {
      if (!visible(e)) continue;
      for (const t of texts(e)) if (t && (exact ? t === want : t.includes(want))) return e;
    }
  }
  return null;
};
if (mode === 'clickable') {
  const sel = 'button, a, summary, label, [role=button], [role=link], [role=tab], [role=menuitem], [role=option], input[type=submit], input[type=button]';
  return pick(all.filter((e) => e.matches(sel)),
    (e) => [norm(e.innerText || e.value), norm(e.getAttribute('aria-label')), norm(e.getAttribute('title'))]);
}
const labelText = (l) => { const c = l.cloneNode(true); for (const x of c.querySelectorAll('input, select, textarea, button')) x.remove(); return norm(c.textContent); };
const fields = all.filter((e) => e.matches('input, textarea, select'));
const byLabel = pick(all.filter((e) => e.matches('label') && e.control), (l) => [labelText(l)]);
if (byLabel) return byLabel.control;
return pick(fields, (e) => [norm(e.getAttribute('aria-label')), norm(e.getAttribute('placeholder'))]);
"#;

/// Page script: what a person would see that explains a failed wait — the address, open
/// dialogs, shown errors and toasts (each shortened).
const STATE: &str = r#"
const norm = (s) => (s || '').replace(/\s+/g, ' ').trim().slice(0, 300);
const texts = (css) => Array.from(document.querySelectorAll(css))
  .filter((e) => e.getClientRects().length > 0).map((e) => norm(e.innerText));
return JSON.stringify({
  url: location.href,
  dialogs: texts('dialog[open]'),
  errors: texts('.error:not([hidden]), [role=alert]'),
  toasts: texts('[aria-live] [role=status]'),
});
"#;

impl Browser {
    /// What the page shows now, for a failure message (see [`STATE`]).
    pub async fn page_state(&self) -> String {
        match self.client.execute(STATE, vec![]).await {
            Ok(Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(e) => format!("(page state unavailable: {e})"),
        }
    }

    /// Runs a script in the page; panics with the script when it throws.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until the JS expression `cond` is truthy ([`PATIENCE`]).
    /// Waits until the page's one event stream (`SB.live`) is open, so what happens next is
    /// heard live rather than on the next reload.
    pub async fn wait_live(&self) {
        self.wait_js(
            "SB.live.es && SB.live.es.readyState === 1",
            "the event stream",
        )
        .await;
    }

    pub async fn wait_js(&self, cond: &str, what: &str) {
        let script = format!("try {{ return !!({cond}); }} catch (e) {{ return false; }}");
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if matches!(
                self.client.execute(&script, vec![]).await,
                Ok(Value::Bool(true))
            ) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "timed out waiting for {what}; page: {}",
            self.page_state().await
        );
    }

    /// Waits for an element matching `css` ([`PATIENCE`]).
    pub async fn el(&self, css: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(e) => e,
            Err(e) => panic!("no element {css}: {e}; page: {}", self.page_state().await),
        }
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// Waits until exactly `n` elements match `css` ([`PATIENCE`]).
    pub async fn wait_count(&self, css: &str, n: usize) {
        let mut last = 0;
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            last = self.count(css).await;
            if last == n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{css}: wanted {n} elements, have {last}; page: {}",
            self.page_state().await
        );
    }

    /// Waits until no element matches `css` ([`PATIENCE`]).
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if self.client.find(Locator::Css(css)).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} did not go away; page: {}", self.page_state().await);
    }

    /// Asserts that nothing *visible* matches `css` right now (for "not offered to them"); wait
    /// first for something that shows the page is ready, or use [`Browser::wait_gone`].
    pub async fn assert_absent(&self, css: &str) {
        for e in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            assert!(
                !e.is_displayed().await.unwrap_or(false),
                "{css} is on the page: {:?}",
                e.text().await.unwrap_or_default()
            );
        }
    }

    /// Clicks `css`, finding it again if a live update replaced it in between.
    pub async fn click(&self, css: &str) {
        let mut last = None;
        for _ in 0..20 {
            match self.el(css).await.click().await {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "cannot click {css}: {last:?}; page: {}",
            self.page_state().await
        );
    }

    /// Types `text` into `css` (after what is there; keys from [`super::keys`] work).
    pub async fn type_in(&self, css: &str, text: &str) {
        self.el(css).await.send_keys(text).await.unwrap();
    }

    /// The `value` of a form field.
    pub async fn value(&self, css: &str) -> String {
        self.el(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Chooses the option whose visible text is `option` in the `<select>` at `css`.
    pub async fn select(&self, css: &str, option: &str) {
        self.el(css)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("{css} has no option {option:?}: {e}"));
    }

    /// Waits for the element a person means by `mode` / `want` (see [`FIND`]).
    async fn find_by(&self, mode: &str, want: &str) -> Element {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self
                .client
                .execute(FIND, vec![json!(mode), json!(want)])
                .await;
            if let Ok(Value::Object(m)) = &found
                && let Some(id) = m.values().next().and_then(Value::as_str)
            {
                return Element::from_element_id(
                    self.client.clone(),
                    ElementRef::from(id.to_string()),
                );
            }
            assert!(
                Instant::now() < deadline,
                "no visible {mode} {want:?}; page: {}",
                self.page_state().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks the visible button, link, tab or menu item that reads `text` (or is labelled
    /// so by `aria-label` / `title`), finding it again if a live update replaced it.
    pub async fn click_text(&self, text: &str) {
        let mut last = None;
        for _ in 0..20 {
            match self.find_by("clickable", text).await.click().await {
                Ok(_) => return,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "cannot click {text:?}: {last:?}; page: {}",
            self.page_state().await
        );
    }

    /// The form field labelled `label` (by `<label>`, `aria-label` or placeholder).
    pub async fn field(&self, label: &str) -> Element {
        self.find_by("field", label).await
    }

    /// Empties the field labelled `label` and types `text` into it. A field the page redrew
    /// between finding and typing (a stale element) is found again, as a person would.
    pub async fn fill(&self, label: &str, text: &str) {
        for attempt in 1.. {
            let f = self.field(label).await;
            let typed = match f.clear().await {
                Ok(()) => f.send_keys(text).await,
                Err(e) => Err(e),
            };
            match typed {
                Ok(()) => return,
                Err(e) if attempt < 5 && format!("{e:?}").contains("StaleElementReference") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!(
                    "typing into {label:?}: {e}; page: {}",
                    self.page_state().await
                ),
            }
        }
    }

    /// Chooses `option` (its visible text) in the `<select>` labelled `label`.
    pub async fn select_labelled(&self, label: &str, option: &str) {
        self.field(label)
            .await
            .select_by_label(option)
            .await
            .unwrap_or_else(|e| panic!("{label:?} has no option {option:?}: {e}"));
    }

    /// Waits until the text of `css` contains `needle` ([`PATIENCE`]); returns the text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let mut last = String::new();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(e) = self.client.find(Locator::Css(css)).await
                && let Ok(t) = e.text().await
            {
                if t.contains(needle) {
                    return t;
                }
                last = t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{css} never contained {needle:?}; last text: {last:?}; page: {}",
            self.page_state().await
        );
    }

    /// Waits until the page's visible text contains `needle` ([`PATIENCE`]).
    pub async fn see(&self, needle: &str) {
        self.wait_text("body", needle).await;
    }

    /// Waits for a toast (a status or alert message in a live region) containing `needle`;
    /// returns its whole text.
    pub async fn wait_toast(&self, needle: &str) -> String {
        let css = "[aria-live] [role=status], [aria-live] [role=alert]";
        let mut seen = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            seen.clear();
            for e in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                if let Ok(t) = e.text().await {
                    if t.contains(needle) {
                        return t;
                    }
                    seen.push(t);
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no toast with {needle:?}; toasts: {seen:?}");
    }
}
