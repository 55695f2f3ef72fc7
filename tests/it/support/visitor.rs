//! A website visitor of a live chat, as the widget calls the visitor API from one origin.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, Resp};
use super::server::TestServer;

/// A browser-like caller of the visitor API (`/livechat/{channel}/…`) from one origin.
pub struct Visitor {
    pub http: Client,
    pub ch: u64,
    pub origin: Option<String>,
    pub token: Option<String>,
    pub id: u64,
}

impl Visitor {
    pub fn new(t: &TestServer, ch: u64, origin: Option<&str>) -> Self {
        Visitor {
            http: Client::anonymous(&t.base()),
            ch,
            origin: origin.map(str::to_string),
            token: None,
            id: 0,
        }
    }

    /// Origin and visitor-token headers as the widget sends them.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = Vec::new();
        if let Some(o) = &self.origin {
            h.push(("origin", o.clone()));
        }
        if let Some(t) = &self.token {
            h.push(("authorization", format!("Bearer {t}")));
        }
        h
    }

    pub async fn req(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}/livechat/{}{path}", self.http.base, self.ch);
        let mut rb = self.http.http.request(method, url);
        for (k, v) in self.headers() {
            rb = rb.header(k, v);
        }
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        self.http.send(rb).await
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.req(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.req(Method::POST, path, Some(body)).await
    }

    /// Create the visitor (201 expected) and keep its token.
    pub async fn start(&mut self, name: &str, email: &str) -> Value {
        let r = self
            .post("/visitors", json!({"name": name, "email": email}))
            .await;
        assert_eq!(r.status, 201, "{}", r.text());
        let j = r.json();
        let token = j["visitor_token"].as_str().unwrap().to_string();
        assert!(
            token.starts_with("lcv_") && token.len() >= 4 + 32,
            "{token}"
        );
        self.token = Some(token);
        self.id = j["visitor_id"].as_u64().unwrap();
        j
    }

    /// Send a message with the widget's idempotency key `client_id`.
    pub async fn say(&self, text: &str, client_id: &str) -> Resp {
        self.post("/messages", json!({"text": text, "client_id": client_id}))
            .await
    }
}
