//! HTTP clients that behave like a browser (session cookie + CSRF token), a script (Bearer
//! token) or nobody (anonymous), and the answer they hand back.

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

/// A reqwest builder as every test client uses it: no redirects followed, 60 s at most.
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

/// A whole answer, read.
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
    /// The API error message, for error responses.
    pub fn message(&self) -> String {
        self.json()["error"]["message"]
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

    /// Log in through `POST /api/v1/session` (as the login form's script does).
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

    /// Cookie or Bearer header, plus the CSRF token for writes.
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
    /// A form POST as a browser without JavaScript sends it (Origin header, no CSRF header).
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        let mut h = self.headers(false);
        h.insert("origin", HeaderValue::from_str(&self.base).unwrap());
        self.send(self.http.post(self.url(path)).headers(h).form(form))
            .await
    }
}
