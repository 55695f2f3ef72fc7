//! Test fixture: boots the real server in-process on 127.0.0.1:0 with a temp data dir and a
//! movable clock, completes the setup flow, and offers small HTTP clients that behave like a
//! browser (cookie + CSRF token) or a script (Bearer token).

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use switchboard::clock::TestClock;
use switchboard::config::Config;
use switchboard::server::{self, Running};
use tempfile::TempDir;

pub const ADMIN: &str = "admin";
pub const PASSWORD: &str = "correct-horse-battery";

pub struct TestServer {
    pub running: Option<Running>,
    pub dir: TempDir,
    pub clock: TestClock,
    pub config: Config,
    pub admin: Client,
    pub admin_id: u64,
}

pub fn test_config(dir: &std::path::Path) -> Config {
    Config {
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        log: switchboard::config::LogConfig {
            level: "warn".into(),
            format: "text".into(),
        },
        ..Default::default()
    }
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Boot with a modified config (jobs are disabled unless the test enables them).
    pub async fn start_with(edit: impl FnOnce(&mut Config)) -> Self {
        switchboard::tls::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path());
        for j in [
            &mut config.jobs.attachment_cleanup,
            &mut config.jobs.session_closure,
            &mut config.jobs.history_retention,
            &mut config.jobs.login_session_sweep,
            &mut config.jobs.backup,
        ] {
            j.clear();
        }
        edit(&mut config);
        let clock = TestClock::new();
        let running = server::start(config.clone(), Arc::new(clock.clone()))
            .await
            .unwrap();
        let base = format!("http://{}", running.addr);
        let setup = running
            .setup_url
            .clone()
            .expect("fresh server has a setup link");
        let token = setup.split("token=").nth(1).unwrap().to_string();
        let http = client_builder().build().unwrap();
        let resp = http
            .post(format!("{base}/setup"))
            .form(&[
                ("token", token.as_str()),
                ("username", ADMIN),
                ("display_name", "Ada Admin"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 303, "setup should redirect");
        let admin = Client::login(&base, ADMIN, PASSWORD).await;
        let me = admin.get("/api/v1/me").await.json();
        let admin_id = me["id"].as_u64().unwrap();
        TestServer {
            running: Some(running),
            dir,
            clock,
            config,
            admin,
            admin_id,
        }
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().unwrap()
    }
    pub fn state(&self) -> &switchboard::AppState {
        &self.running().state
    }
    pub fn base(&self) -> String {
        format!("http://{}", self.running().addr)
    }

    /// Stop and start again on the same data dir (a new port; clients must log in again).
    pub async fn restart(&mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        let running = server::start(self.config.clone(), Arc::new(self.clock.clone()))
            .await
            .unwrap();
        self.running = Some(running);
        self.admin = Client::login(&self.base(), ADMIN, PASSWORD).await;
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }

    /// Create a user through the admin API and return a logged-in client for them.
    pub async fn user(&self, username: &str, role: &str) -> (u64, Client) {
        let r = self
            .admin
            .post("/api/v1/users", json!({"username": username, "password": PASSWORD, "role": role, "display_name": username}))
            .await;
        assert_eq!(r.status, 201, "create user: {}", r.text());
        let id = r.json()["id"].as_u64().unwrap();
        (id, Client::login(&self.base(), username, PASSWORD).await)
    }

    /// Create a channel directly in the domain (input is a `ChannelInput` as JSON).
    pub async fn channel(&self, input: Value) -> u64 {
        let input: switchboard::domain::channels::ChannelInput =
            serde_json::from_value(input).unwrap();
        let admin = self.admin_id;
        self.state()
            .store
            .write(move |ctx| switchboard::domain::channels::create_in(ctx, admin, &input))
            .await
            .unwrap()
            .id
    }
}

pub fn client_builder() -> reqwest::ClientBuilder {
    switchboard::tls::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
}

/// A logged-in (or anonymous) HTTP client.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub bearer: Option<String>,
}

pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    /// The API error code, for error responses.
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

impl Client {
    pub fn anonymous(base: &str) -> Self {
        Client {
            http: client_builder().build().unwrap(),
            base: base.to_string(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    pub async fn login(base: &str, username: &str, password: &str) -> Self {
        let mut c = Self::anonymous(base);
        let r = c
            .post(
                "/api/v1/session",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(r.status, 200, "login {username}: {}", r.text());
        let cookie = r.header("set-cookie").unwrap();
        c.cookie = Some(cookie.split(';').next().unwrap().to_string());
        c.csrf = r.json()["csrf_token"].as_str().map(str::to_string);
        c
    }

    pub fn with_bearer(base: &str, token: &str) -> Self {
        let mut c = Self::anonymous(base);
        c.bearer = Some(token.to_string());
        c
    }

    pub fn headers(&self, write: bool) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(c) = &self.cookie {
            h.insert("cookie", HeaderValue::from_str(c).unwrap());
        }
        if let Some(b) = &self.bearer {
            h.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {b}")).unwrap(),
            );
        }
        if write && let Some(t) = &self.csrf {
            h.insert("x-csrf-token", HeaderValue::from_str(t).unwrap());
        }
        h
    }

    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Resp {
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.unwrap();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path)).headers(self.headers(false)))
            .await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.http
                .post(self.url(path))
                .headers(self.headers(true))
                .json(&body),
        )
        .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.http
                .patch(self.url(path))
                .headers(self.headers(true))
                .json(&body),
        )
        .await
    }
    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(
            self.http
                .put(self.url(path))
                .headers(self.headers(true))
                .json(&body),
        )
        .await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path)).headers(self.headers(true)))
            .await
    }
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        let mut h = self.headers(false);
        h.insert("origin", HeaderValue::from_str(&self.base).unwrap());
        self.send(self.http.post(self.url(path)).headers(h).form(form))
            .await
    }
}
