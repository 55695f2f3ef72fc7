//! Access rules of the inbox, for pages, API and events alike: an agent sees the sessions of the
//! channels they are a member of (anything else is 404, never 403), admins see all; plus the
//! inbox's bad-input answers and its server-side rendering.

use std::time::Duration;

use serde_json::json;

use crate::support::customer::{Arrived, writes};
use crate::support::{Client, EventStream, TestServer};

struct World {
    t: TestServer,
    anna: Client,
    bob: Client,
    wa: u64,
    sms: u64,
}

/// Anna is a member of the WhatsApp channel, Bob of the SMS channel.
async fn world() -> World {
    let t = TestServer::builder().long_logins().start().await;
    let (anna_id, anna) = t.user("anna", "agent").await;
    let (bob_id, bob) = t.user("bob", "agent").await;
    let wa = t
        .channel(json!({"kind": "whatsapp", "name": "WA", "members": [anna_id]}))
        .await;
    let sms = t
        .channel(json!({"kind": "sms", "name": "SMS", "members": [bob_id]}))
        .await;
    World {
        t,
        anna,
        bob,
        wa,
        sms,
    }
}

fn ids(page: &serde_json::Value) -> Vec<u64> {
    page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn agents_get_404_for_sessions_of_foreign_channels() {
    let w = world().await;
    let sa = writes(&w.t, w.wa, "491701111111", Some("Alice WA"), "hello A")
        .await
        .session_id;
    let Arrived {
        session_id: sb,
        message_id: mb,
    } = writes(&w.t, w.sms, "+491702222222", Some("Bert SMS"), "hello B").await;

    // Lists: each agent sees their own channel only; the admin sees both.
    for scope in ["all", "unassigned", "mine", "archived", "open"] {
        let a = w.anna.get(&format!("/api/v1/sessions?scope={scope}")).await;
        assert_eq!(a.status, 200);
        assert!(!ids(&a.json()).contains(&sb), "anna sees B in {scope}");
        let b = w.bob.get(&format!("/api/v1/sessions?scope={scope}")).await;
        assert!(!ids(&b.json()).contains(&sa), "bob sees A in {scope}");
    }
    assert_eq!(ids(&w.anna.get("/api/v1/sessions").await.json()), vec![sa]);
    assert_eq!(
        ids(&w
            .anna
            .get(&format!("/api/v1/sessions?channel_id={}", w.sms))
            .await
            .json()),
        Vec::<u64>::new()
    );
    let all = ids(&w.t.admin.get("/api/v1/sessions").await.json());
    assert!(all.contains(&sa) && all.contains(&sb), "{all:?}");

    // Every session route answers 404 for a foreign session, exactly as for a missing one.
    for target in [sb, 987_654] {
        let gets = [
            format!("/api/v1/sessions/{target}"),
            format!("/api/v1/sessions/{target}/messages"),
        ];
        for path in gets {
            let r = w.anna.get(&path).await;
            assert_eq!(r.status, 404, "{path}: {}", r.text());
            assert_eq!(r.code(), "not_found");
        }
        let posts = [
            ("messages", json!({"text": "hi"})),
            ("notes", json!({"text": "psst"})),
            ("pickup", json!({})),
            ("read", json!({})),
            ("close", json!({})),
            ("archive", json!({})),
            ("unarchive", json!({})),
            ("mute", json!({"muted": true})),
        ];
        for (action, body) in posts {
            let r = w
                .anna
                .post(&format!("/api/v1/sessions/{target}/{action}"), body)
                .await;
            assert_eq!(r.status, 404, "{action} on {target}: {}", r.text());
        }
        // The page, too.
        let p = w.anna.get(&format!("/chat/external/{target}")).await;
        assert_eq!(p.status, 404, "page {target}");
    }
    let r = w
        .anna
        .post(&format!("/api/v1/messages/{mb}/retry"), json!({}))
        .await;
    assert_eq!(r.status, 404, "retry of a foreign message: {}", r.text());

    // Nothing changed by those attempts.
    let d =
        w.t.admin
            .get(&format!("/api/v1/sessions/{sb}"))
            .await
            .json();
    assert!(d["session"]["assignee"].is_null());
    assert_eq!(d["session"]["status"], "open");
    assert_eq!(d["session"]["archived"], false);

    // The inbox page lists only visible sessions.
    let page = w.anna.get("/chat/external").await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("Alice WA") && !html.contains("Bert SMS"),
        "{html}"
    );

    // Members and admins get in.
    assert_eq!(
        w.anna.get(&format!("/api/v1/sessions/{sa}")).await.status,
        200
    );
    assert_eq!(
        w.bob.get(&format!("/api/v1/sessions/{sb}")).await.status,
        200
    );
    for s in [sa, sb] {
        assert_eq!(
            w.t.admin.get(&format!("/api/v1/sessions/{s}")).await.status,
            200
        );
        assert_eq!(
            w.t.admin.get(&format!("/chat/external/{s}")).await.status,
            200
        );
    }
    let admin_page = w.t.admin.get("/chat/external").await.text();
    assert!(admin_page.contains("Alice WA") && admin_page.contains("Bert SMS"));
    w.t.stop().await;
}

#[tokio::test]
async fn event_streams_carry_only_what_the_user_may_see() {
    let w = world().await;
    let mut anna = EventStream::open(&w.anna).await;
    let mut bob = EventStream::open(&w.bob).await;
    let mut admin = EventStream::open(&w.t.admin).await;

    let sb = writes(
        &w.t,
        w.sms,
        "+491703333333",
        Some("Secret Bert"),
        "secret-for-B",
    )
    .await
    .session_id;
    let sa = writes(&w.t, w.wa, "491704444444", Some("Alice"), "hello-for-A")
        .await
        .session_id;
    // Activity on B after A: pickup by Bob, a note, archive.
    assert_eq!(
        w.bob
            .post(&format!("/api/v1/sessions/{sb}/pickup"), json!({}))
            .await
            .status,
        200
    );
    w.bob
        .post(
            &format!("/api/v1/sessions/{sb}/notes"),
            json!({"text": "note-for-B"}),
        )
        .await;
    w.bob
        .post(&format!("/api/v1/sessions/{sb}/archive"), json!({}))
        .await;
    // A marker on A after everything on B: once it arrives, B's events would have, too.
    writes(&w.t, w.wa, "491704444444", None, "marker-A").await;

    let ten = Duration::from_secs(10);
    assert!(
        anna.wait_for_text("marker-A", ten).await,
        "anna: {}",
        anna.raw()
    );
    assert!(anna.raw().contains("hello-for-A"));
    assert!(
        bob.wait_for_text("note-for-B", ten).await,
        "bob: {}",
        bob.raw()
    );
    assert!(admin.wait_for_text("marker-A", ten).await);
    // Whatever else was coming has arrived after this.
    let more = Duration::from_millis(300);
    tokio::join!(
        anna.read_for(more),
        bob.read_for(more),
        admin.read_for(more)
    );

    let a = anna.raw();
    for leak in [
        "secret-for-B",
        "note-for-B",
        "Secret Bert",
        &format!("\"session_id\":{sb}"),
        &format!("\"id\":{sb},"),
        &format!("\"channel_id\":{}", w.sms),
    ] {
        assert!(!a.contains(leak), "anna's stream leaks {leak:?}: {a}");
    }
    let b = bob.raw();
    assert!(
        !b.contains("hello-for-A") && !b.contains("marker-A"),
        "bob's stream leaks A: {b}"
    );
    assert!(!b.contains(&format!("\"session_id\":{sa}")));
    let ad = admin.raw();
    assert!(ad.contains("secret-for-B") && ad.contains("hello-for-A") && ad.contains("note-for-B"));
    w.t.stop().await;
}

#[tokio::test]
async fn bad_replies_get_clear_4xx_answers() {
    let w = world().await;
    let sa = writes(&w.t, w.wa, "491705555555", None, "hi")
        .await
        .session_id;
    let sb = writes(&w.t, w.sms, "+491706666666", None, "hi")
        .await
        .session_id;
    let r = w
        .anna
        .post(
            &format!("/api/v1/sessions/{sa}/messages"),
            json!({"text": "   "}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("empty")
    );
    let r = w
        .bob
        .post(
            &format!("/api/v1/sessions/{sb}/messages"),
            json!({"text": "x".repeat(1601)}),
        )
        .await;
    assert_eq!(r.status, 422, "oversize SMS: {}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1600")
    );
    // WhatsApp after 24 h: only templates.
    w.t.clock.advance_hours(25);
    let r = w
        .anna
        .post(
            &format!("/api/v1/sessions/{sa}/messages"),
            json!({"text": "late"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("24-hour")
    );
    // Closed session.
    w.bob
        .post(
            &format!("/api/v1/sessions/{sb}/close"),
            json!({"result": "Resolved"}),
        )
        .await;
    let r = w
        .bob
        .post(
            &format!("/api/v1/sessions/{sb}/messages"),
            json!({"text": "after close"}),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
    // Page ids that are not numbers are simply not found.
    assert_eq!(w.anna.get("/chat/external/abc").await.status, 404);
    w.t.stop().await;
}

#[tokio::test]
async fn inbox_pages_render_escaped_content_and_the_event_position() {
    let w = world().await;
    let sa = writes(
        &w.t,
        w.wa,
        "491707777777",
        Some("<b>Mallory</b>"),
        "<img src=x onerror=alert(1)>",
    )
    .await
    .session_id;
    let html = w.anna.get(&format!("/chat/external/{sa}")).await.text();
    assert!(
        html.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"), "unescaped user content");
    assert!(!html.contains("<b>Mallory</b>"));
    assert!(
        html.contains("data-seq=\""),
        "event position for the stream"
    );
    assert!(html.contains("/static/inbox."), "page script");
    let list = w.anna.get("/chat/external?scope=unassigned").await.text();
    assert!(list.contains(&format!("data-id=\"{sa}\"")));
    let mine = w.anna.get("/chat/external?scope=mine").await.text();
    assert!(!mine.contains(&format!("data-id=\"{sa}\"")));
    // Icons are served.
    let icon = attr_url(&html, "/static/icons/whatsapp.").expect("icon url");
    let r = w.anna.get(&icon).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    w.t.stop().await;
}

/// The first attribute value in `html` (`="…"`) starting with `prefix`.
fn attr_url(html: &str, prefix: &str) -> Option<String> {
    let i = html.find(&format!("=\"{prefix}"))? + 2;
    let rest = &html[i..];
    let end = rest.find('"')?;
    Some(rest[..end].to_string())
}
