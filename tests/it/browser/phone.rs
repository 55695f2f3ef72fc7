//! Checks for a phone-sized window (390 × 844): nothing sideways, targets big enough to touch.

use super::Browser;

/// Lists what sticks out sideways: the document wider than the window, an element with
/// visible content outside the window (not clipped by an ancestor), and a box that scrolls
/// sideways (an "invisible scroller" hiding buttons). Fields (input, textarea, select) may
/// scroll their own text.
const OVERFLOW_JS: &str = r##"
const W = window.innerWidth;
const out = [];
const se = document.scrollingElement;
if (se.scrollWidth > W) out.push(`document is ${se.scrollWidth} px wide in a ${W} px window`);
const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
  (typeof el.className === "string" && el.className ? "." + el.className.trim().split(/\s+/).join(".") : "");
const fields = new Set(["INPUT", "TEXTAREA", "SELECT"]);
for (const el of document.body.querySelectorAll("*")) {
  const cs = getComputedStyle(el);
  if (cs.display === "none" || cs.visibility === "hidden") continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) continue;
  if (!fields.has(el.tagName) && (cs.overflowX === "auto" || cs.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1) {
    out.push(`${name(el)} scrolls sideways (${el.scrollWidth} px content in ${el.clientWidth} px)`);
  }
  if (r.right <= W + 0.5 && r.left >= -0.5) continue;
  // Outside the window: fine only when an ancestor clips it (the scroller rule above catches
  // ancestors that scroll instead).
  let clipped = false;
  for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
    const as = getComputedStyle(a);
    if (as.overflowX !== "visible") { clipped = true; break; }
    if (as.position === "fixed") break;
  }
  if (!clipped) out.push(`${name(el)} reaches ${Math.round(r.left)}…${Math.round(r.right)} px (window ${W} px)`);
}
return out;
"##;

/// Visible controls smaller than 44 × 44 px (CSS pixels) with what they say.
const SMALL_TARGETS_JS: &str = r#"
const sel = "button, a.button, a.act, a.icon-btn, .mainnav a, .tab, select, summary, [role=button], input[type=submit], input[type=button]";
const out = [];
for (const el of document.querySelectorAll(sel)) {
  const cs = getComputedStyle(el);
  if (cs.display === "none" || cs.visibility === "hidden") continue;
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.top > window.innerHeight) continue;
  if (el.closest("[hidden], .sr-only")) continue;
  if (r.width < 43.5 || r.height < 43.5) {
    const what = (el.getAttribute("aria-label") || el.title || el.textContent || el.tagName).trim().slice(0, 30);
    out.push(`${what} (${Math.round(r.width)}×${Math.round(r.height)})`);
  }
}
return out;
"#;

impl Browser {
    /// What sticks out sideways on the current page (empty when it fits the window).
    pub async fn sideways_overflow(&self) -> Vec<String> {
        let v = self.js(OVERFLOW_JS).await;
        strings(v)
    }

    /// Fails when anything on the page sticks out sideways; `at` names the step for the message.
    pub async fn assert_fits_width(&self, at: &str) {
        let out = self.sideways_overflow().await;
        let url = self.url().await;
        assert!(
            out.is_empty(),
            "{at} ({url}) does not fit the window:\n  {}",
            out.iter()
                .take(12)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }

    /// Visible controls smaller than 44 × 44 px, e.g. `["× (20×20)"]`.
    pub async fn small_touch_targets(&self) -> Vec<String> {
        let v = self.js(SMALL_TARGETS_JS).await;
        strings(v)
    }
}

fn strings(v: serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
