//! Authorization matrix over EVERY route in the OpenAPI document: anonymous callers get 401
//! (never data, never 500); an agent probing unknown ids gets a 4xx (never 500); admin-only
//! routes answer 403 to agents. New routes are covered automatically.

use serde_json::{Value, json};

use crate::support::{Client, TestServer};

/// Routes anyone may call without logging in.
const PUBLIC: &[(&str, &str)] = &[("post", "/api/v1/session")];

fn concrete(path: &str) -> String {
    // Fill every path parameter with an id nobody has.
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("987654321");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

async fn call(c: &Client, method: &str, path: &str) -> crate::support::Resp {
    let url = c.url(path);
    let rb = match method {
        "get" => c.http.get(url),
        "post" => c.http.post(url).json(&json!({})),
        "put" => c.http.put(url).json(&json!({})),
        "patch" => c.http.patch(url).json(&json!({})),
        "delete" => c.http.delete(url),
        other => panic!("unexpected method {other}"),
    };
    let write = method != "get";
    let rb = rb.headers(c.headers(write));
    // Event streams never end: only look at the status line.
    let r = tokio::time::timeout(std::time::Duration::from_secs(10), rb.send())
        .await
        .expect("route hung")
        .unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let is_stream = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let body = if is_stream {
        bytes::Bytes::new()
    } else {
        r.bytes().await.unwrap_or_default()
    };
    crate::support::Resp {
        status,
        headers,
        body,
    }
}

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_string(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn every_api_route_refuses_anonymous_callers() {
    let t = TestServer::start().await;
    let doc = t.admin.get("/api/v1/openapi.json").await.json();
    let ops = operations(&doc);
    assert!(
        ops.len() >= 20,
        "the OpenAPI document lists the API ({} operations)",
        ops.len()
    );
    let anon = Client::anonymous(&t.base());
    for (method, path) in &ops {
        if PUBLIC.contains(&(method.as_str(), path.as_str())) || path.starts_with("/livechat/") {
            continue;
        }
        let r = call(&anon, method, &concrete(path)).await;
        assert_eq!(
            r.status,
            401,
            "{method} {path} without credentials: {} {}",
            r.status,
            r.text()
        );
        assert_eq!(r.code(), "unauthorized");
    }
    t.stop().await;
}

#[tokio::test]
async fn no_route_answers_500_to_an_agent_with_unknown_ids_or_empty_bodies() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("probe", "agent").await;
    let doc = t.admin.get("/api/v1/openapi.json").await.json();
    for (method, path) in operations(&doc) {
        if path == "/api/v1/session" || path.starts_with("/api/v1/me") {
            continue; // would log the probe out or change its password rules
        }
        let r = call(&agent, &method, &concrete(&path)).await;
        assert!(r.status < 500, "{method} {path}: {} {}", r.status, r.text());
        if r.status >= 400 {
            assert!(
                !r.code().is_empty(),
                "{method} {path}: error without the JSON shape: {}",
                r.text()
            );
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn admin_routes_are_403_for_agents() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("agent007", "agent").await;
    let admin_only: &[(&str, &str)] = &[
        ("post", "/api/v1/users"),
        ("patch", &format!("/api/v1/users/{}", t.admin_id)),
        ("post", &format!("/api/v1/users/{}/password", t.admin_id)),
        ("get", "/api/v1/audit"),
    ];
    for (method, path) in admin_only {
        let r = call(&agent, method, path).await;
        assert!(
            r.status == 403 || r.status == 422 || r.status == 400,
            "{method} {path}: {}",
            r.status
        );
        if r.status != 403 {
            // A body error first is fine only if the route still refuses a valid body.
            let body = json!({"username": "x1", "password": "long-enough-1", "role": "admin", "disabled": true});
            let r = agent
                .send(
                    agent
                        .http
                        .request(method.to_uppercase().parse().unwrap(), agent.url(path))
                        .headers(agent.headers(true))
                        .json(&body),
                )
                .await;
            assert_eq!(r.status, 403, "{method} {path} with a valid body");
        }
    }
    t.stop().await;
}

#[tokio::test]
async fn an_agent_gets_403_not_400_for_a_malformed_body_on_admin_routes() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("shaper", "agent").await;
    let admin_only = [
        ("POST", "/api/v1/users".to_string()),
        ("PATCH", format!("/api/v1/users/{}", t.admin_id)),
        ("POST", "/api/v1/channels".to_string()),
        ("PUT", "/api/v1/tags".to_string()),
        ("PUT", "/api/v1/pbx".to_string()),
        ("POST", "/api/v1/templates".to_string()),
    ];
    for (method, path) in &admin_only {
        for body in ["{not json", r#"{"items": 5, "kind": []}"#] {
            let r = agent
                .send(
                    agent
                        .http
                        .request(method.parse().unwrap(), agent.url(path))
                        .headers(agent.headers(true))
                        .header("content-type", "application/json")
                        .body(body),
                )
                .await;
            assert_eq!(r.status, 403, "{method} {path} with {body:?}: {}", r.text());
            assert_eq!(r.code(), "forbidden", "{method} {path}");
        }
        // The same malformed body from an admin is the body's fault: 400/422, not 403.
        let r = t
            .admin
            .send(
                t.admin
                    .http
                    .request(method.parse().unwrap(), t.admin.url(path))
                    .headers(t.admin.headers(true))
                    .header("content-type", "application/json")
                    .body("{not json"),
            )
            .await;
        assert!(
            r.status == 400 || r.status == 422,
            "{method} {path} as admin: {}",
            r.status
        );
    }
    t.stop().await;
}
