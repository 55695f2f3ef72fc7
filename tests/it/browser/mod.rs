//! Headless Chromium for browser tests, driven through ChromeDriver (WebDriver) with fantoccini.
//! Each `Browser` starts its own chromedriver on a free loopback port and kills it on drop.
//! `./scripts/test` installs Debian's `chromium` and `chromium-driver`; without them these tests
//! fail with a message saying so (set SWITCHBOARD_SKIP_BROWSER=1 to skip them knowingly).
//!
//! This file: starting (window size, language), navigation, logging in, screenshots.
//! `actions.rs`: finding, clicking, typing, choosing and waiting, by CSS or by what a person
//! reads on the page. Every wait is by the wall clock ([`PATIENCE`]).

#![allow(dead_code)]

mod actions;
mod axe;
mod phone;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};

pub use crate::support::PATIENCE;

/// WebDriver key codes for `send_keys`.
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const SHIFT: &str = "\u{E008}";
    /// Releases held modifier keys (after SHIFT).
    pub const NULL: &str = "\u{E000}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const TAB: &str = "\u{E004}";
}

/// How the browser window is set up.
#[derive(Debug, Clone)]
pub struct BrowserOptions {
    pub width: u32,
    pub height: u32,
    /// The browser's language (`--lang` and `Accept-Language`), e.g. `"de-DE"`; None = Chromium's
    /// default (English).
    pub lang: Option<String>,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            width: 1280,
            height: 900,
            lang: None,
        }
    }
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

pub fn skip() -> bool {
    if std::env::var("SWITCHBOARD_SKIP_BROWSER").as_deref() == Ok("1") {
        eprintln!("SWITCHBOARD_SKIP_BROWSER=1: browser test skipped");
        return true;
    }
    false
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// A 1280×900 window in Chromium's default language.
    pub async fn start() -> Browser {
        Self::start_with(BrowserOptions::default()).await
    }

    pub async fn start_with(opts: BrowserOptions) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver not found: run ./scripts/test (installs chromium and chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless=new".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--disable-quic".into(),
            format!("--window-size={},{}", opts.width, opts.height),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut chrome = serde_json::json!({"binary": "/usr/bin/chromium"});
        if let Some(lang) = &opts.lang {
            args.push(format!("--lang={lang}"));
            // Headless Chromium takes Accept-Language from this preference, not from --lang.
            let primary = lang.split('-').next().unwrap_or(lang);
            chrome["prefs"] =
                serde_json::json!({"intl.accept_languages": format!("{lang},{primary}")});
        }
        chrome["args"] = serde_json::json!(args);
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), chrome);
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .unwrap()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let b = Browser {
                        client,
                        driver,
                        _profile: profile,
                    };
                    b.fit_viewport(opts.width, opts.height).await;
                    return b;
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session: {last:?}");
    }

    /// Sizes the window so the page's viewport (what CSS media queries see) is exactly
    /// `width` × `height`, whatever the window's frame takes.
    pub async fn fit_viewport(&self, width: u32, height: u32) {
        let _ = self.client.set_window_size(width, height).await;
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await
            .ok()
            .and_then(|v| {
                let a = v.as_array()?;
                Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?))
            });
        if let Some((w, h)) = inner
            && (w, h) != (u64::from(width), u64::from(height))
        {
            let dw = u64::from(width).saturating_sub(w) as u32;
            let dh = u64::from(height).saturating_sub(h) as u32;
            let _ = self.client.set_window_size(width + dw, height + dh).await;
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    /// Log in through the real login form.
    pub async fn login(&self, base: &str, username: &str, password: &str) {
        self.goto(&format!("{base}/login")).await;
        self.type_in("input[name=username]", username).await;
        self.type_in("input[name=password]", password).await;
        self.click("button[type=submit]").await;
        self.wait_for(
            |url: String| !url.contains("/login"),
            "leave the login page",
        )
        .await;
    }

    /// Polls until `f(current url)` holds ([`PATIENCE`]).
    pub async fn wait_for(&self, f: impl Fn(String) -> bool, what: &str) {
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::time::Instant::now() < deadline {
            if let Ok(u) = self.client.current_url().await
                && f(u.to_string())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting to {what}");
    }

    /// Runs `js` in every document this browser opens from now on, before the page's own
    /// scripts (Chrome DevTools `Page.addScriptToEvaluateOnNewDocument`, sent through
    /// ChromeDriver): instrumentation that lives in the test, not in the product.
    pub async fn before_page_scripts(&self, js: &str) {
        self.client
            .issue_cmd(Cdp {
                cmd: "Page.addScriptToEvaluateOnNewDocument",
                params: serde_json::json!({ "source": js }),
            })
            .await
            .unwrap();
    }

    /// Sends one Chrome DevTools Protocol command (through ChromeDriver) and returns its result.
    pub async fn cdp(
        &self,
        cmd: &'static str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value, fantoccini::error::CmdError> {
        self.client.issue_cmd(Cdp { cmd, params }).await
    }

    /// Saves a PNG as `target/screenshots/<name>.png` for a person to look at (not
    /// committed); `name` may contain `/` for a sub-folder.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target/screenshots")
            .join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A Chrome DevTools Protocol command through ChromeDriver's `goog/cdp/execute` endpoint.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
