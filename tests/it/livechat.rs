//! The live-chat visitor API: visitors, messages, history, CORS, tokens, rate limits, offline
//! messages, the visitor event stream (what it shows and what it never shows) and resume.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use switchboard::store::tables;

use crate::support::read::newest_session;
use crate::support::setup::{SITE, livechat_channel};
use crate::support::{Client, Event, EventStream, TestServer, Visitor};

fn text_is(ev: &Event, text: &str) -> bool {
    ev.kind() == "message" && ev.data()["text"] == text
}

#[tokio::test]
async fn visitor_writes_agent_replies_history_keeps_both_but_no_notes() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], true).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));

    let cfg = v.get("/config").await;
    assert_eq!(cfg.status, 200);
    assert_eq!(
        cfg.header("access-control-allow-origin").as_deref(),
        Some(SITE)
    );
    assert!(cfg.header("vary").unwrap_or_default().contains("Origin"));
    let cfg = cfg.json();
    assert_eq!(cfg["title"], "Chat with us");
    assert_eq!(cfg["prechat_form"], true);

    v.start("Ann Visitor", "ann@example.com").await;
    let r = v.say("Do you have an appointment on Friday?", "c1").await;
    assert_eq!(r.status, 201, "{}", r.text());
    let first = r.json()["message"].clone();
    assert_eq!(first["from"], "visitor");
    assert_eq!(first["client_id"], "c1");
    // A retry with the same client id is stored once.
    let again = v.say("Do you have an appointment on Friday?", "c1").await;
    assert_eq!(again.json()["message"]["id"], first["id"]);

    // The agent sees it in the inbox like any channel.
    let s = newest_session(&t, ch).await;
    assert_eq!(s["channel_kind"], "livechat");
    assert_eq!(s["contact_name"], "Ann Visitor");
    assert_eq!(s["message_count"], 1);
    let sid = s["id"].as_u64().unwrap();
    let reply = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "Yes, 10:00 is free."}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text());
    assert_eq!(reply.json()["status"], "sent");
    let note = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/notes"),
            json!({"text": "SECRET internal note"}),
        )
        .await;
    assert_eq!(note.status, 201);

    let h = v.get("/history").await;
    assert_eq!(h.status, 200, "{}", h.text());
    let h = h.json();
    let msgs = h["messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 2, "{h:#}");
    assert_eq!(msgs[0]["text"], "Do you have an appointment on Friday?");
    assert_eq!(msgs[1]["from"], "agent");
    assert_eq!(msgs[1]["agent"], "Ada");
    assert!(!h.to_string().contains("SECRET"));
    assert_eq!(h["session_id"].as_u64(), Some(sid));
    assert_eq!(h["session_status"], "open");
    // One specific session of their own works too.
    assert_eq!(
        v.get(&format!("/history?session_id={sid}")).await.status,
        200
    );

    // The contact carries the e-mail from the pre-chat form.
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["contact"]["email"], "ann@example.com");
    t.stop().await;
}

#[tokio::test]
async fn origins_are_enforced_and_refusals_store_nothing() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let evil = "https://evil.example";

    // Preflight: allowed origin gets the CORS grant, others a 403.
    let ok = Visitor::new(&t, ch, Some(SITE));
    let pre = ok.req(Method::OPTIONS, "/messages", None).await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin").as_deref(),
        Some(SITE)
    );
    assert!(
        pre.header("access-control-allow-headers")
            .unwrap()
            .contains("authorization")
    );
    let mut bad = Visitor::new(&t, ch, Some(evil));
    assert_eq!(
        bad.req(Method::OPTIONS, "/messages", None).await.status,
        403
    );

    let visitors_before = t.count(tables::LIVECHAT_VISITORS).await;
    let r = bad.post("/visitors", json!({})).await;
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.code(), "forbidden");
    assert_eq!(t.count(tables::LIVECHAT_VISITORS).await, visitors_before);
    assert_eq!(bad.get("/config").await.status, 403);

    // A valid token does not help from a foreign origin.
    let mut good = Visitor::new(&t, ch, Some(SITE));
    good.start("", "").await;
    bad.token = good.token.clone();
    assert_eq!(bad.say("hi from evil", "e1").await.status, 403);
    assert_eq!(bad.get("/history").await.status, 403);
    assert_eq!(t.count(tables::MESSAGES).await, 0);
    assert_eq!(t.count(tables::SESSIONS).await, 0);

    // Without Origin (curl): config only.
    let mut curl = Visitor::new(&t, ch, None);
    assert_eq!(curl.get("/config").await.status, 200);
    assert_eq!(curl.post("/visitors", json!({})).await.status, 403);
    curl.token = good.token.clone();
    assert_eq!(curl.say("hi from curl", "k1").await.status, 403);
    assert_eq!(t.count(tables::MESSAGES).await, 0);

    // Unknown channels and channels of another kind are not live chats.
    let sms = t
        .channel(json!({"kind": "sms", "name": "SMS", "api_base": "http://127.0.0.1:9", "credentials": {"account_sid": "AC1", "auth_token": "x", "from_number": "+4930"}}))
        .await;
    assert_eq!(
        Visitor::new(&t, sms, Some(SITE))
            .get("/config")
            .await
            .status,
        404
    );
    assert_eq!(
        Visitor::new(&t, 999, Some(SITE))
            .get("/config")
            .await
            .status,
        404
    );
    t.stop().await;
}

#[tokio::test]
async fn forged_unknown_and_foreign_tokens_are_401_and_other_sessions_404() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let ch2 = livechat_channel(&t, &[SITE], false).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));
    assert_eq!(v.say("no token", "n1").await.status, 401);
    assert_eq!(v.get("/history").await.status, 401);
    for forged in [
        "lcv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "swb_nottheone",
        "lcv_",
    ] {
        v.token = Some(forged.into());
        let r = v.say("forged", "f1").await;
        assert_eq!(r.status, 401, "{forged}");
        assert_eq!(r.code(), "unauthorized");
    }
    // A token of another live chat is unknown here.
    let mut other = Visitor::new(&t, ch2, Some(SITE));
    other.start("", "").await;
    v.token = other.token.clone();
    assert_eq!(v.say("wrong channel", "w1").await.status, 401);
    // A visitor token is no agent credential.
    let as_agent = Client::with_bearer(&t.base(), other.token.as_deref().unwrap());
    assert_eq!(as_agent.get("/api/v1/sessions").await.status, 401);
    assert_eq!(t.count(tables::MESSAGES).await, 0);

    // Another visitor's session id: not found.
    let mut a = Visitor::new(&t, ch, Some(SITE));
    a.start("", "").await;
    let mut b = Visitor::new(&t, ch, Some(SITE));
    b.start("", "").await;
    let sa = a.say("mine", "a1").await.json()["message"]["session_id"]
        .as_u64()
        .unwrap();
    b.say("b's", "b1").await;
    let r = b.get(&format!("/history?session_id={sa}")).await;
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(!r.text().contains("mine"));
    assert_eq!(b.get("/history?session_id=999999").await.status, 404);
    t.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_stored() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], true).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));
    for (body, field) in [
        (json!({}), "name"),
        (json!({"name": "Ann"}), "email"),
        (json!({"name": "Ann", "email": "not-an-email"}), "email"),
        (json!({"name": "x".repeat(101), "email": "a@b.de"}), "name"),
        (json!({"name": "  ", "email": "a@b.de"}), "name"),
    ] {
        let r = v.post("/visitors", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field)
        );
    }
    assert_eq!(t.count(tables::LIVECHAT_VISITORS).await, 0);
    assert_eq!(t.count(tables::CONTACTS).await, 0);

    v.start("Ann", "ann@example.com").await;
    assert_eq!(v.say("   ", "e1").await.status, 422);
    assert_eq!(v.say(&"x".repeat(4001), "e2").await.status, 422);
    assert_eq!(v.say("ok", "bad id with spaces").await.status, 422);
    let huge = v
        .post(
            "/messages",
            json!({"text": "y".repeat(2 << 20), "client_id": "h"}),
        )
        .await;
    assert_eq!(huge.status, 413, "{}", huge.text());
    assert_eq!(t.count(tables::MESSAGES).await, 0);
    assert_eq!(v.say(&"é".repeat(4000), "max").await.status, 201);
    t.stop().await;
}

// The buckets refill with the (real) clock, so a slow machine may earn a request back while a
// test floods; the bounds below allow for that and stay exact about what matters.

#[tokio::test]
async fn a_flood_from_one_token_is_throttled() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));
    v.start("", "").await;
    let started = std::time::Instant::now();
    let mut accepted = 0u64;
    let refused = loop {
        let r = v
            .say(&format!("m{accepted}"), &format!("c{accepted}"))
            .await;
        if r.status != 201 {
            break r;
        }
        accepted += 1;
        assert!(accepted < 100, "never throttled");
    };
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.header("retry-after").as_deref(), Some("1"));
    assert_eq!(
        refused.header("access-control-allow-origin").as_deref(),
        Some(SITE)
    );
    let slack = started.elapsed().as_secs() + 1;
    assert!((10..=10 + slack).contains(&accepted), "{accepted} accepted");
    assert_eq!(t.count(tables::MESSAGES).await, accepted);
    // Another visitor is not affected; time refills the bucket.
    let mut w = Visitor::new(&t, ch, Some(SITE));
    w.start("", "").await;
    assert_eq!(w.say("other", "o1").await.status, 201);
    t.clock.advance_ms(1_000);
    assert_eq!(v.say("later", "later").await.status, 201);
    assert_eq!(v.say("too soon", "soon").await.status, 429);
    t.stop().await;
}

#[tokio::test]
async fn one_address_is_throttled_across_tokens() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    // 60 state-changing requests a minute per address, whatever the token: new visitors, and
    // 9 messages from each (below the per-token limit of 10).
    let started = std::time::Instant::now();
    let (mut requests, mut messages) = (0u64, 0u64);
    let refused = 'flood: loop {
        let mut v = Visitor::new(&t, ch, Some(SITE));
        let r = v.post("/visitors", json!({})).await;
        if r.status != 201 {
            break r;
        }
        requests += 1;
        v.token = Some(r.json()["visitor_token"].as_str().unwrap().to_string());
        for i in 0..9 {
            let r = v.say(&format!("{requests}/{i}"), &format!("c{i}")).await;
            if r.status != 201 {
                break 'flood r;
            }
            requests += 1;
            messages += 1;
        }
        assert!(requests < 300, "never throttled");
    };
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert!(refused.header("retry-after").is_some());
    let slack = started.elapsed().as_secs() + 1;
    assert!((60..=60 + slack).contains(&requests), "{requests} accepted");
    assert_eq!(t.count(tables::MESSAGES).await, messages);
    t.clock.advance_ms(60_000);
    Visitor::new(&t, ch, Some(SITE)).start("", "").await;
    t.stop().await;
}

#[tokio::test]
async fn offline_form_lands_in_the_inbox_and_presence_decides_online() {
    let t = TestServer::start().await;
    let (agent_id, agent) = t.user("otto", "agent").await;
    let ch = t
        .channel(
            json!({"kind": "livechat", "name": "Site", "members": [agent_id],
            "livechat": {"allowed_origins": [SITE], "prechat_form": true}}),
        )
        .await;
    let v = Visitor::new(&t, ch, Some(SITE));
    assert_eq!(v.get("/config").await.json()["online"], false);
    // A request by the member makes them online for a few minutes.
    agent.get("/api/v1/me").await;
    assert_eq!(v.get("/config").await.json()["online"], true);
    t.clock
        .advance_ms(switchboard::domain::presence::ONLINE_WINDOW_MS + 60_000);
    assert_eq!(v.get("/config").await.json()["online"], false);
    // An open event stream keeps them online.
    let stream = EventStream::open(&agent).await;
    t.clock.advance_ms(10 * 60_000);
    assert_eq!(v.get("/config").await.json()["online"], true);
    drop(stream);

    // Offline message: required fields, then a session in the inbox.
    let mut v = Visitor::new(&t, ch, Some(SITE));
    let r = v
        .post("/offline", json!({"name": "Olga", "text": "Call me back"}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(t.count(tables::SESSIONS).await, 0);
    let r = v
        .post(
            "/offline",
            json!({"name": "Olga", "email": "olga@example.com", "text": "Please call me back"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    v.token = Some(j["visitor_token"].as_str().unwrap().to_string());
    let s = newest_session(&t, ch).await;
    assert_eq!(s["contact_name"], "Olga");
    assert_eq!(s["last_preview"], "Please call me back");
    let d = agent
        .get(&format!("/api/v1/sessions/{}", s["id"]))
        .await
        .json();
    assert_eq!(d["contact"]["email"], "olga@example.com");
    assert!(
        d["timeline"].to_string().contains("offline_message"),
        "{d:#}"
    );
    // The visitor keeps their conversation.
    assert_eq!(
        v.get("/history").await.json()["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    t.stop().await;
}

#[tokio::test]
async fn visitor_stream_shows_replies_typing_and_read_but_never_notes_or_others() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let mut a = Visitor::new(&t, ch, Some(SITE));
    a.start("Ann", "").await;
    let mut b = Visitor::new(&t, ch, Some(SITE));
    b.start("Bob", "").await;
    let mut agent_events = EventStream::open(&t.admin).await;
    let mut sa = EventStream::visitor(&t, &a, None).await;

    let ma = a.say("Hello from Ann", "a1").await.json()["message"].clone();
    let sid_a = ma["session_id"].as_u64().unwrap();
    let mb = b.say("Hello from Bob", "b1").await.json()["message"].clone();
    let sid_b = mb["session_id"].as_u64().unwrap();
    // The agent sees both live, and the visitor's typing.
    agent_events
        .until(|e| e.kind() == "message.created" && e.data()["text"] == "Hello from Bob")
        .await;
    assert_eq!(a.post("/typing", json!({})).await.status, 204);
    agent_events
        .until(|e| e.kind() == "livechat.typing" && e.data()["from"] == "visitor")
        .await;

    let post = |path: String, text: &'static str| {
        let c = t.admin.clone();
        async move { c.post(&path, json!({"text": text})).await }
    };
    assert_eq!(
        t.admin
            .post(&format!("/api/v1/sessions/{sid_a}/typing"), json!({}))
            .await
            .status,
        204
    );
    post(format!("/api/v1/sessions/{sid_a}/notes"), "SECRET note").await;
    post(format!("/api/v1/sessions/{sid_b}/messages"), "Reply to Bob").await;
    let reply = post(format!("/api/v1/sessions/{sid_a}/messages"), "Reply to Ann").await;
    let reply_id = reply.json()["id"].as_u64().unwrap();
    t.admin
        .post(&format!("/api/v1/sessions/{sid_a}/read"), json!({}))
        .await;

    let got = sa.until(|e| e.kind() == "read").await;
    let all = serde_json::to_string(&got).unwrap();
    assert!(!all.contains("SECRET"), "{all}");
    assert!(!all.contains("Bob"), "{all}");
    assert!(
        got.iter()
            .any(|e| text_is(e, "Hello from Ann") && e.data()["from"] == "visitor")
    );
    assert!(
        got.iter()
            .any(|e| e.kind() == "typing" && e.data()["name"] == "Ada")
    );
    assert!(
        got.iter()
            .any(|e| text_is(e, "Reply to Ann") && e.data()["agent"] == "Ada")
    );
    assert!(got.iter().any(|e| e.kind() == "session"));
    // Event ids only grow.
    assert!(got.windows(2).all(|w| w[0].id < w[1].id));

    // The visitor reads the reply: agents see it as `read`.
    assert_eq!(
        a.post("/read", json!({"up_to": reply_id})).await.status,
        204
    );
    let msgs = t
        .admin
        .get(&format!("/api/v1/sessions/{sid_a}/messages"))
        .await
        .json();
    let r = msgs
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == reply_id)
        .unwrap()
        .clone();
    assert_eq!(r["status"], "read");
    // Typing is only for live-chat sessions.
    let sms = t
        .channel(json!({"kind": "sms", "name": "SMS", "api_base": "http://127.0.0.1:9", "credentials": {"account_sid": "AC1", "auth_token": "x", "from_number": "+4930"}}))
        .await;
    let started = t
        .admin
        .post(
            "/api/v1/sessions",
            json!({"channel_id": sms, "to": "+4930123456", "text": "hi"}),
        )
        .await;
    let sms_sid = started.json()["session_id"].as_u64().unwrap();
    assert_eq!(
        t.admin
            .post(&format!("/api/v1/sessions/{sms_sid}/typing"), json!({}))
            .await
            .status,
        422
    );
    t.stop().await;
}

#[tokio::test]
async fn reconnecting_with_last_event_id_receives_what_was_missed() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let mut a = Visitor::new(&t, ch, Some(SITE));
    a.start("", "").await;
    let sid = a.say("first", "f1").await.json()["message"]["session_id"]
        .as_u64()
        .unwrap();
    let h = a.get("/history").await.json();
    let resume = h["last_event_id"].as_u64().unwrap();
    let mut s = EventStream::visitor(&t, &a, Some(resume)).await;
    t.admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "one"}),
        )
        .await;
    let got = s.until(|e| text_is(e, "one")).await;
    let seen = got.last().unwrap().id;
    drop(s);
    // While disconnected: two replies and a note.
    for text in ["missed 1", "missed 2"] {
        t.admin
            .post(
                &format!("/api/v1/sessions/{sid}/messages"),
                json!({"text": text}),
            )
            .await;
    }
    t.admin
        .post(
            &format!("/api/v1/sessions/{sid}/notes"),
            json!({"text": "SECRET"}),
        )
        .await;
    t.admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "last"}),
        )
        .await;
    let mut s = EventStream::visitor(&t, &a, Some(seen)).await;
    let got = s.until(|e| text_is(e, "last")).await;
    let texts: Vec<&str> = got
        .iter()
        .filter(|e| e.kind() == "message")
        .filter_map(|e| e.data()["text"].as_str())
        .collect();
    assert_eq!(texts, ["missed 1", "missed 2", "last"]);
    assert!(!serde_json::to_string(&got).unwrap().contains("SECRET"));
    // Without Last-Event-ID the stream starts at "now": nothing old is replayed.
    let mut fresh = EventStream::visitor(&t, &a, None).await;
    assert!(fresh.next(Duration::from_millis(300)).await.is_none());
    t.stop().await;
}

#[tokio::test]
async fn uploads_check_switch_size_and_type_before_storing() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], false).await;
    let mut v = Visitor::new(&t, ch, Some(SITE));
    v.start("", "").await;
    let url = format!("{}/livechat/{ch}/uploads", t.base());
    let send = |ctype: &'static str, body: Vec<u8>| {
        let v = &v;
        let url = url.clone();
        async move {
            let rb = v
                .http
                .http
                .post(url)
                .header("origin", SITE)
                .header(
                    "authorization",
                    format!("Bearer {}", v.token.as_deref().unwrap()),
                )
                .header("content-type", ctype)
                .header("x-filename", "photo.png")
                .body(body);
            v.http.send(rb).await
        }
    };
    assert_eq!(send("text/plain", b"hello".to_vec()).await.status, 415);
    let big = send("image/png", vec![0u8; (10 << 20) + 1]).await;
    assert_eq!(big.status, 413, "{}", big.text());
    assert_eq!(t.count(tables::MESSAGES).await, 0);
    // Uploads switched off for the channel.
    let off = t
        .channel(json!({"kind": "livechat", "name": "NoFiles",
            "livechat": {"allowed_origins": [SITE], "prechat_form": false, "uploads": false}}))
        .await;
    let mut w = Visitor::new(&t, off, Some(SITE));
    w.start("", "").await;
    let r = w
        .http
        .send(
            w.http
                .http
                .post(format!("{}/livechat/{off}/uploads", t.base()))
                .header("origin", SITE)
                .header(
                    "authorization",
                    format!("Bearer {}", w.token.as_deref().unwrap()),
                )
                .header("content-type", "image/png")
                .body(vec![0x89, b'P', b'N', b'G']),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(t.count(tables::MESSAGES).await, 0);
    t.stop().await;
}

#[tokio::test]
async fn widget_script_admin_snippet_and_demo_page() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], true).await;
    let anon = Client::anonymous(&t.base());
    let js = anon.get("/widget.js").await;
    assert_eq!(js.status, 200);
    assert!(
        js.header("content-type")
            .unwrap()
            .starts_with("text/javascript")
    );
    assert_eq!(
        js.header("cache-control").as_deref(),
        Some("public, max-age=300")
    );
    assert!(js.text().contains("attachShadow"));

    let page = t.admin.get(&format!("/admin/livechat/{ch}")).await;
    assert_eq!(page.status, 200);
    let snippet = format!(
        r#"<script src="{}/widget.js" data-channel="{ch}" async></script>"#,
        t.base()
    );
    let shown = page
        .text()
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");
    assert!(shown.contains(&snippet), "{shown}");
    let demo = t.admin.get(&format!("/livechat/demo/{ch}")).await;
    assert_eq!(demo.status, 200);
    assert!(demo.text().contains(&format!(
        r#"<script src="/widget.js" data-channel="{ch}" async>"#
    )));

    let (otto, agent) = t.user("otto", "agent").await;
    assert_eq!(
        agent.get(&format!("/admin/livechat/{ch}")).await.status,
        403
    );
    // The demo page is open to the channel's members, and hidden from everyone else.
    assert_eq!(agent.get(&format!("/livechat/demo/{ch}")).await.status, 404);
    let r = t
        .admin
        .patch(
            &format!("/api/v1/channels/{ch}"),
            json!({"members": [otto]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(agent.get(&format!("/livechat/demo/{ch}")).await.status, 200);
    assert_eq!(anon.get(&format!("/livechat/demo/{ch}")).await.status, 303);
    assert_eq!(t.admin.get("/livechat/demo/999").await.status, 404);
    t.stop().await;
}

/// The widget's texts come with its config: in the visitor's browser language when the server
/// has it, else in the channel's language (English unless the admin chose one). A language
/// without a file is refused and changes nothing.
#[tokio::test]
async fn widget_language_follows_the_visitor_then_the_channel() {
    let t = TestServer::start().await;
    let ch = livechat_channel(&t, &[SITE], true).await;
    let v = Visitor::new(&t, ch, Some(SITE));
    let config = |accept: &'static str| {
        let url = format!("{}/livechat/{ch}/config", v.http.base);
        let rb = v
            .http
            .http
            .get(url)
            .header("origin", SITE)
            .header("accept-language", accept);
        v.http.send(rb)
    };
    let c = config("fr-FR,fr;q=0.9").await.json();
    assert_eq!(c["lang"], "en");
    assert_eq!(c["strings"]["start"], "Start chat");
    assert_eq!(c["strings"]["typing"], "{name} is typing…");

    let path = format!("/api/v1/channels/{ch}");
    let mut lc = t.admin.get(&path).await.json()["livechat"].clone();
    lc["language"] = json!("xx");
    let r = t.admin.patch(&path, json!({ "livechat": lc })).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("livechat.language"), "{}", r.text());
    assert_eq!(t.admin.get(&path).await.json()["livechat"]["language"], "");

    lc["language"] = json!("de");
    let r = t.admin.patch(&path, json!({ "livechat": lc })).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c = config("fr-FR,fr;q=0.9").await.json();
    assert_eq!(c["lang"], "de");
    assert_eq!(c["strings"]["start"], "Chat starten");
    // The visitor's own language still comes first.
    let c = config("en-GB,en;q=0.9").await.json();
    assert_eq!(c["lang"], "en");
    assert_eq!(c["strings"]["start"], "Start chat");
    t.stop().await;
}
