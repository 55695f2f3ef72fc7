//! The harness for journey tests: a person's journey of `../shared/spec/JOURNEYS.md`, clicked
//! through in headless Chromium against the real server. Only the outside world is played
//! through code: customers and providers by `crate::support::customer` and `crate::fakes`,
//! the PBX by `crate::fakes::{ami, yeastar}`. What a person does goes through the page.
//!
//! ```ignore
//! #[tokio::test]
//! async fn journey_b2_answer_a_customer() {
//!     if skip() { return; }
//!     let j = Journey::start("b2_answer_a_customer").await;      // server, admin set up
//!     let (_, _) = j.t.user("anna", "agent").await;               // the world before the journey
//!     let anna = j.browser().login("anna").await;                  // desktop, English, login form
//!     let ben = j.browser().phone().german().login("ben").await;   // 390×844, German
//!     customer::whatsapp(&j.t, ch, "4915112345678", "Jonas", "Hi!").await;
//!     anna.wait_toast("Jonas").await;
//!     anna.click_text("Jonas").await;
//!     anna.click_text("Pick up").await;
//!     anna.type_in("#composer-text", "Hello!").await;
//!     anna.screenshot().await;   // target/screenshots/journeys/b2_answer_a_customer.png
//!     j.finish([anna, ben]).await;
//! }
//! ```
//!
//! A [`Person`] derefs to [`Browser`], so every helper there is at hand: `click(css)`,
//! `click_text(text)`, `type_in(css, text)`, `fill(label, text)`, `select(css, option)`,
//! `select_labelled(label, option)`, `wait_text(css, needle)`, `see(needle)`, `wait_toast`,
//! `wait_gone(css)`, `assert_absent(css)`, `count`, `wait_count`, `js`, `wait_js`, `value`.
//! Keep product knowledge (selectors, texts) in the journey tests, not here.

#![allow(dead_code)]

mod a11y;
mod admin;
mod automation;
mod call;
mod channels2026;
mod contacts;
mod conversation;
mod example;
mod meta;
mod organise;
mod pbx;
mod phone;
mod reports;
mod start;
mod survey;
mod talk;

use std::ops::Deref;

use crate::browser::{Browser, BrowserOptions};
use crate::support::{PASSWORD, TestServer};

/// The window a person uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// 1366 × 900, a common office screen.
    Desktop,
    /// 390 × 844, a phone held upright.
    Phone,
}

impl Viewport {
    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::Desktop => (1366, 900),
            Viewport::Phone => (390, 844),
        }
    }
}

/// The language of the person's browser (what it sends as `Accept-Language`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
    /// A language Switchboard has no file for: pages fall back to English, the website chat
    /// to its channel's language.
    Fr,
}

impl Lang {
    fn tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::De => "de-DE",
            Lang::Fr => "fr-FR",
        }
    }
}

/// One journey: its name (for screenshots) and the server it runs against.
pub struct Journey {
    /// The journey id and a few words, e.g. `b4_template_with_parameters`.
    pub name: &'static str,
    pub t: TestServer,
}

impl Journey {
    /// A fresh server (setup done: administrator `admin` / [`PASSWORD`]).
    pub async fn start(name: &'static str) -> Journey {
        Journey::with_server(name, TestServer::start().await)
    }

    /// A journey on a server started with options (`TestServer::builder()…start()`).
    pub fn with_server(name: &'static str, t: TestServer) -> Journey {
        Journey { name, t }
    }

    /// A person with a browser of their own: desktop and English unless told otherwise.
    pub fn browser(&self) -> PersonBuilder<'_> {
        PersonBuilder {
            journey: self,
            viewport: Viewport::Desktop,
            lang: Lang::En,
        }
    }

    /// Shortcut: a desktop, English browser logged in as `username` through the form.
    pub async fn login(&self, username: &str) -> Person {
        self.browser().login(username).await
    }

    /// Closes every browser, then stops the server.
    pub async fn finish(self, people: impl IntoIterator<Item = Person>) {
        for p in people {
            p.close().await;
        }
        self.t.stop().await;
    }
}

#[must_use]
pub struct PersonBuilder<'a> {
    journey: &'a Journey,
    viewport: Viewport,
    lang: Lang,
}

impl PersonBuilder<'_> {
    pub fn phone(mut self) -> Self {
        self.viewport = Viewport::Phone;
        self
    }
    pub fn desktop(mut self) -> Self {
        self.viewport = Viewport::Desktop;
        self
    }
    pub fn viewport(mut self, viewport: Viewport) -> Self {
        self.viewport = viewport;
        self
    }
    pub fn german(mut self) -> Self {
        self.lang = Lang::De;
        self
    }
    pub fn lang(mut self, lang: Lang) -> Self {
        self.lang = lang;
        self
    }

    /// The browser, open on nothing yet (a website visitor, or someone with a setup link).
    pub async fn open(self) -> Person {
        let (width, height) = self.viewport.size();
        let b = Browser::start_with(BrowserOptions {
            width,
            height,
            lang: Some(self.lang.tag().to_string()),
        })
        .await;
        Person {
            b,
            journey: self.journey.name,
            base: self.journey.t.base(),
            viewport: self.viewport,
            lang: self.lang,
        }
    }

    /// The browser, logged in as `username` (password [`PASSWORD`]) through the login form.
    pub async fn login(self, username: &str) -> Person {
        let p = self.open().await;
        p.login(username, PASSWORD).await;
        p
    }
}

/// A person in front of a browser. Derefs to [`Browser`] for every action and wait.
pub struct Person {
    pub b: Browser,
    journey: &'static str,
    base: String,
    pub viewport: Viewport,
    pub lang: Lang,
}

impl Deref for Person {
    type Target = Browser;
    fn deref(&self) -> &Browser {
        &self.b
    }
}

impl Person {
    /// Goes to `path` on the server (`/chat/external`), or to a full URL (another origin).
    pub async fn open(&self, path: &str) {
        if path.starts_with("http://") || path.starts_with("https://") {
            self.b.goto(path).await;
        } else {
            self.b.goto(&format!("{}{path}", self.base)).await;
        }
    }

    /// Logs in through the login form (`/login`, username, password, submit).
    pub async fn login(&self, username: &str, password: &str) {
        self.b.login(&self.base, username, password).await;
    }

    /// The journey's screenshot, of its last step: `target/screenshots/journeys/<journey>.png`
    /// (`…-phone.png` on a phone; under `target/screenshots/de/` when German). On a phone it
    /// first checks that nothing on the page sticks out sideways.
    pub async fn screenshot(&self) {
        self.fits("the last step").await;
        self.b.screenshot(&self.shot_name(None)).await;
    }

    /// A screenshot of an intermediate step: `…/journeys/<journey>-<step>.png`.
    pub async fn screenshot_step(&self, step: &str) {
        self.fits(step).await;
        self.b.screenshot(&self.shot_name(Some(step))).await;
    }

    /// On a phone: fails when anything on the page sticks out sideways (see
    /// `Browser::assert_fits_width`) or a button-like control in view is smaller than
    /// 44 × 44 px (`Browser::small_touch_targets`). On a desktop: nothing.
    pub async fn fits(&self, at: &str) {
        if self.viewport != Viewport::Phone {
            return;
        }
        self.b.assert_fits_width(at).await;
        let small = self.b.small_touch_targets().await;
        assert!(
            small.is_empty(),
            "{} at {at}: controls under 44 px: {small:?}",
            self.journey
        );
    }

    /// Clicks an action in the conversation header: on a phone through its "⋯" menu unless
    /// it is the primary one (Pick up, Reopen) shown beside it.
    pub async fn header_action(&self, text: &str) {
        if self.viewport == Viewport::Phone {
            // Hidden in the closed menu? Open it (again, if a live update redrew the header).
            let hidden = format!(
                "const b = [...document.querySelectorAll('#s-menu .act')].find(b => \
                 (b.getAttribute('aria-label') || '') === {text:?}); \
                 return !!b && b.offsetParent === null;"
            );
            for _ in 0..20 {
                if self.b.js(&hidden).await != serde_json::Value::Bool(true) {
                    break;
                }
                if self.b.count("#s-menu.open").await == 0 {
                    self.b.click("#s-more").await;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        self.b.click_text(text).await;
    }

    /// On a phone with a conversation open: back ("‹") to the list, which the conversation
    /// covers there. On a desktop: nothing (both are in view).
    pub async fn back_to_list(&self) {
        if self.viewport == Viewport::Phone && self.b.count(".inbox.has-session").await > 0 {
            self.b.click("#back").await;
            self.b
                .wait_js(
                    "document.querySelector('.list-pane').offsetParent !== null",
                    "the list",
                )
                .await;
        }
    }

    /// Goes to a page of the top bar by its name: on a phone through "☰" for the entries
    /// after the first two.
    pub async fn nav(&self, text: &str) {
        if self.viewport == Viewport::Phone {
            let inline = self
                .b
                .js(&format!(
                    "return [...document.querySelectorAll('.mainnav > a')].some(a => \
                     a.textContent.trim().startsWith({text:?}));"
                ))
                .await;
            if inline != serde_json::Value::Bool(true) {
                self.b.click("#nav-toggle").await;
                self.b.el(".topbar.nav-open #navmore").await;
            }
        }
        self.b.click_text(text).await;
    }

    /// Where [`Person::screenshot`] writes, below `target/screenshots/`, without `.png`.
    pub fn shot_name(&self, step: Option<&str>) -> String {
        let lang = match self.lang {
            Lang::En => "",
            Lang::De => "de/",
            Lang::Fr => "fr/",
        };
        let step = step.map(|s| format!("-{s}")).unwrap_or_default();
        let phone = match self.viewport {
            Viewport::Desktop => "",
            Viewport::Phone => "-phone",
        };
        format!("{lang}journeys/{}{step}{phone}", self.journey)
    }

    pub async fn close(self) {
        self.b.close().await;
    }
}
