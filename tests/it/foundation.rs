//! Foundation: setup, login, sessions, CSRF, roles, disabled users, backup, restart, group commit.

use serde_json::json;

use crate::support::{Client, PASSWORD, TestServer};

#[tokio::test]
async fn setup_link_is_one_time_and_creates_the_admin() {
    let t = TestServer::start().await;
    let me = t.admin.get("/api/v1/me").await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["role"], "admin");
    // The link is spent: the page says so and a second admin cannot be made with it.
    let anon = Client::anonymous(&t.base());
    let r = anon.get("/setup?token=anything").await;
    assert_eq!(r.status, 404);
    let r = anon
        .post_form(
            "/setup",
            &[
                ("token", "x"),
                ("username", "eve"),
                ("password", "12345678"),
            ],
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        t.admin
            .get("/api/v1/users")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.stop().await;
}

#[tokio::test]
async fn login_logout_and_wrong_password() {
    let t = TestServer::start().await;
    let anon = Client::anonymous(&t.base());
    let r = anon
        .post(
            "/api/v1/session",
            json!({"username": "admin", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "unauthorized");
    let c = Client::login(&t.base(), "admin", PASSWORD).await;
    assert!(c.cookie.as_ref().unwrap().starts_with("swb_session="));
    let r = c.delete("/api/v1/session").await;
    assert_eq!(r.status, 204);
    // The old cookie is dead on the server side, not just cleared in the browser.
    assert_eq!(c.get("/api/v1/me").await.status, 401);
    // Pages redirect to the login page instead.
    let r = c.get("/settings").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location").as_deref(), Some("/login"));
    t.stop().await;
}

#[tokio::test]
async fn session_cookie_flags() {
    let t = TestServer::start().await;
    let anon = Client::anonymous(&t.base());
    let r = anon
        .post(
            "/api/v1/session",
            json!({"username": "admin", "password": PASSWORD}),
        )
        .await;
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not set Secure: {cookie}"
    );
    t.stop().await;
}

#[tokio::test]
async fn csrf_is_required_for_cookie_writes_but_not_for_tokens() {
    let t = TestServer::start().await;
    let mut no_csrf = t.admin.clone();
    no_csrf.csrf = None;
    let body = json!({"username": "bob", "password": PASSWORD, "role": "agent"});
    let r = no_csrf.post("/api/v1/users", body.clone()).await;
    assert_eq!(r.status, 403, "{}", r.text());
    // A cross-site form post is refused even with the cookie.
    let r = no_csrf
        .send(
            no_csrf
                .http
                .post(no_csrf.url("/api/v1/users"))
                .headers(no_csrf.headers(false))
                .header("origin", "https://evil.example")
                .json(&body),
        )
        .await;
    assert_eq!(r.status, 403);
    // A wrong token is refused too.
    let mut wrong = t.admin.clone();
    wrong.csrf = Some("nope".into());
    assert_eq!(wrong.post("/api/v1/users", body.clone()).await.status, 403);
    assert_eq!(
        t.admin
            .get("/api/v1/users")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing was created"
    );
    // Bearer tokens carry no ambient credentials and need no CSRF token.
    let tok = t
        .admin
        .post("/api/v1/me/tokens", json!({"name": "script"}))
        .await;
    assert_eq!(tok.status, 201);
    let script = Client::with_bearer(&t.base(), tok.json()["token"].as_str().unwrap());
    assert_eq!(script.post("/api/v1/users", body).await.status, 201);
    t.stop().await;
}

#[tokio::test]
async fn agents_get_403_on_admin_api_and_pages() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("agnes", "agent").await;
    assert_eq!(
        agent
            .post(
                "/api/v1/users",
                json!({"username": "x", "password": PASSWORD, "role": "admin"})
            )
            .await
            .status,
        403
    );
    assert_eq!(agent.get("/api/v1/audit").await.status, 403);
    assert_eq!(
        agent
            .patch("/api/v1/users/1", json!({"role": "agent"}))
            .await
            .status,
        403
    );
    assert_eq!(agent.get("/admin/users").await.status, 403);
    // …and may not promote themself.
    assert_eq!(
        agent
            .patch("/api/v1/me", json!({"role": "admin"}))
            .await
            .status,
        403
    );
    t.stop().await;
}

#[tokio::test]
async fn disabled_user_loses_access_at_once() {
    let t = TestServer::start().await;
    let (id, agent) = t.user("dora", "agent").await;
    let tok = agent
        .post("/api/v1/me/tokens", json!({"name": "s"}))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let script = Client::with_bearer(&t.base(), &tok);
    assert_eq!(agent.get("/api/v1/me").await.status, 200);
    assert_eq!(
        t.admin
            .patch(&format!("/api/v1/users/{id}"), json!({"disabled": true}))
            .await
            .status,
        200
    );
    assert_eq!(agent.get("/api/v1/me").await.status, 401);
    assert_eq!(script.get("/api/v1/me").await.status, 401);
    let r = Client::anonymous(&t.base())
        .post(
            "/api/v1/session",
            json!({"username": "dora", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, 401);
    t.stop().await;
}

#[tokio::test]
async fn login_throttling_slows_guessing() {
    let t = TestServer::start().await;
    let anon = Client::anonymous(&t.base());
    let mut limited = false;
    for _ in 0..12 {
        let r = anon
            .post(
                "/api/v1/session",
                json!({"username": "admin", "password": "guess-guess"}),
            )
            .await;
        if r.status == 429 {
            assert!(r.header("retry-after").is_some());
            limited = true;
            break;
        }
        assert_eq!(r.status, 401);
    }
    assert!(limited, "repeated failures must be throttled");
    t.stop().await;
}

#[tokio::test]
async fn bad_input_gets_clear_4xx_in_one_shape() {
    let t = TestServer::start().await;
    let a = &t.admin;
    let r = a
        .send(
            a.http
                .post(a.url("/api/v1/users"))
                .headers(a.headers(true))
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "bad_request");
    let r = a
        .send(
            a.http
                .post(a.url("/api/v1/users"))
                .headers(a.headers(true))
                .body("username=x"),
        )
        .await;
    assert_eq!(r.status, 415);
    let r = a.post("/api/v1/users", json!({"username": "x"})).await;
    assert_eq!(r.status, 400, "missing fields: {}", r.text());
    let r = a
        .post(
            "/api/v1/users",
            json!({"username": "../etc", "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 422);
    let big = "x".repeat(2 << 20);
    let r = a
        .post(
            "/api/v1/users",
            json!({"username": big, "password": PASSWORD, "role": "agent"}),
        )
        .await;
    assert_eq!(r.status, 413);
    assert_eq!(a.get("/api/v1/users/999").await.status, 404);
    assert_eq!(a.get("/api/v1/nope").await.code(), "not_found");
    assert_eq!(
        a.get("/api/v1/users")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.stop().await;
}

#[tokio::test]
async fn restart_keeps_everything_and_backup_is_startable() {
    let mut t = TestServer::start().await;
    t.user("rita", "agent").await;
    let backup = t.dir.path().join("backup.redb");
    let st = t.state().store.clone();
    let b = backup.clone();
    tokio::task::spawn_blocking(move || st.backup_to(&b))
        .await
        .unwrap()
        .unwrap();
    t.restart().await;
    assert_eq!(
        t.admin
            .get("/api/v1/users")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The backup passes the offline check and a new server starts from it.
    let report = switchboard::store::check_offline(&backup).unwrap();
    assert!(report.ok, "{report:?}");
    let dir2 = tempfile::tempdir().unwrap();
    std::fs::copy(&backup, dir2.path().join("switchboard.redb")).unwrap();
    let cfg = crate::support::test_config(dir2.path());
    let r2 = switchboard::server::start(cfg, std::sync::Arc::new(switchboard::clock::SystemClock))
        .await
        .unwrap();
    assert!(r2.setup_url.is_none(), "users came along, so no setup link");
    let c = Client::login(&format!("http://{}", r2.addr), "rita", PASSWORD).await;
    assert_eq!(c.get("/api/v1/me").await.json()["username"], "rita");
    r2.stop().await;
    t.stop().await;
}

#[tokio::test]
async fn foreign_or_corrupt_database_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("switchboard.redb"),
        b"this is not a database at all, just text",
    )
    .unwrap();
    let cfg = crate::support::test_config(dir.path());
    let err = switchboard::server::start(cfg, std::sync::Arc::new(switchboard::clock::SystemClock))
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("switchboard.redb"), "{err}");
}

#[tokio::test]
async fn writer_batches_concurrent_writes_into_fewer_commits() {
    let t = TestServer::start().await;
    let store = t.state().store.clone();
    let before_commits = store
        .stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed);
    let mut tasks = Vec::new();
    for i in 0..400u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.write(move |ctx| {
                let mut t = ctx.txn.open_table(switchboard::store::tables::META)?;
                t.insert(format!("test-{i}").as_bytes(), i.to_be_bytes().as_slice())?;
                Ok(())
            })
            .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let commits = store
        .stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed)
        - before_commits;
    assert!(
        commits < 400,
        "400 concurrent writes took {commits} commits; expected batching"
    );
    assert!(
        store
            .stats()
            .largest_batch
            .load(std::sync::atomic::Ordering::Relaxed)
            > 1
    );
    // All 400 are durable and readable.
    let n = store
        .read(|rtx| {
            use redb::ReadableTable;
            let t = rtx.open_table(switchboard::store::tables::META)?;
            let mut n = 0;
            for item in t.iter()? {
                if item?.0.value().starts_with(b"test-") {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
        .unwrap();
    assert_eq!(n, 400);
    t.stop().await;
}

#[tokio::test]
async fn a_failing_write_changes_nothing_and_spares_its_batch_mates() {
    let t = TestServer::start().await;
    let store = t.state().store.clone();
    let mut tasks = Vec::new();
    for i in 0..50u64 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            s.write(move |ctx| {
                let mut t = ctx.txn.open_table(switchboard::store::tables::META)?;
                t.insert(format!("fw-{i}").as_bytes(), [1u8].as_slice())?;
                if i % 7 == 0 {
                    return Err(switchboard::error::Error::Conflict("planned".into()));
                }
                Ok(())
            })
            .await
        }));
    }
    let mut ok = 0;
    for (i, task) in tasks.into_iter().enumerate() {
        let r = task.await.unwrap();
        assert_eq!(r.is_err(), i % 7 == 0);
        ok += r.is_ok() as usize;
    }
    let stored = store
        .read(|rtx| {
            use redb::ReadableTable;
            let t = rtx.open_table(switchboard::store::tables::META)?;
            let mut keys = Vec::new();
            for item in t.iter()? {
                let k = String::from_utf8_lossy(item?.0.value()).to_string();
                if k.starts_with("fw-") {
                    keys.push(k);
                }
            }
            Ok(keys)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), ok);
    assert!(
        stored
            .iter()
            .all(|k| k[3..].parse::<u64>().unwrap() % 7 != 0),
        "a failed write left data behind"
    );
    t.stop().await;
}

#[tokio::test]
async fn error_pages_are_readable_and_allow_no_script() {
    let t = TestServer::start().await;
    let r = t.admin.get("/no/such/page").await;
    assert_eq!(r.status, 404);
    assert!(r.text().contains("Not found"));
    let csp = r.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{csp}"
    );
    t.stop().await;
}

/// Pages and JSON answers go gzipped to browsers that take it (a phone on a slow link), never
/// the event stream; a page preloads its script's static imports, not the lazy ones; scripts
/// under /static/ carry no document-only headers.
#[tokio::test]
async fn pages_and_json_are_gzipped_and_pages_preload_their_modules() {
    use std::io::Read as _;
    let t = TestServer::start().await;
    let c = &t.admin;
    let gz_get = |path: &str| {
        c.http
            .get(c.url(path))
            .headers(c.headers(false))
            .header("accept-encoding", "gzip, deflate, br")
    };
    let gunzip = |b: &[u8]| {
        let mut s = String::new();
        flate2::read::GzDecoder::new(b)
            .read_to_string(&mut s)
            .unwrap();
        s
    };

    let plain = c.get("/chat/external").await;
    assert_eq!(plain.status, 200);
    assert_eq!(plain.header("content-encoding"), None);
    let page = c.send(gz_get("/chat/external")).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-encoding").as_deref(), Some("gzip"));
    assert!(page.header("vary").unwrap().contains("Accept-Encoding"));
    assert!(page.header("content-security-policy").is_some());
    let html = gunzip(&page.body);
    assert!(
        page.body.len() * 2 < html.len(),
        "{} vs {}",
        page.body.len(),
        html.len()
    );
    // Same page either way (the CSRF token differs per render: compare the start).
    assert_eq!(html[..200], plain.text()[..200]);
    let preloads: Vec<&str> = html
        .split("<link rel=\"modulepreload\" href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    for m in [
        "/static/core/dom.",
        "/static/inbox/pane.",
        "/static/inbox/messages.",
    ] {
        assert!(
            preloads.iter().any(|p| p.starts_with(m)),
            "{m} not in {preloads:?}"
        );
    }
    for lazy in [
        "/static/inbox/bulk.",
        "/static/inbox/start.",
        "/static/inbox/dialogs.",
    ] {
        assert!(
            !preloads.iter().any(|p| p.starts_with(lazy)),
            "{lazy} is loaded on use"
        );
    }
    let js = c.send(gz_get(preloads[0])).await;
    assert_eq!(js.status, 200);
    assert!(js.header("content-security-policy").is_none());
    assert_eq!(
        js.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );

    let api = c.send(gz_get("/api/v1/openapi.json")).await;
    assert_eq!(api.header("content-encoding").as_deref(), Some("gzip"));
    let doc: serde_json::Value = serde_json::from_str(&gunzip(&api.body)).unwrap();
    assert!(doc["paths"].is_object());

    let sse = gz_get("/api/v1/events").send().await.unwrap();
    assert_eq!(sse.status(), 200);
    assert!(sse.headers().get("content-encoding").is_none());
    drop(sse);
    t.stop().await;
}
