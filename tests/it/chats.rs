//! Internal chat over the real HTTP API: limits, group administration, access (non-members see
//! nothing: not the chat, its messages, files, events or search hits), bad input, state.

use std::time::Duration;
use switchboard::ids::UserId;

use serde_json::{Value, json};
use switchboard::domain::chats;
use switchboard::domain::users::{self, NotifySettings, Role, User};
use switchboard::store::codec::k1;
use switchboard::store::tables::USERS_BY_NAME;

use crate::support::customer::writes;
use crate::support::{Client, EventStream, TestServer};

/// Users written straight into the store (no password hashing): for limit tests that need
/// hundreds of them. They cannot log in.
async fn bulk_users(t: &TestServer, prefix: &str, n: usize) -> Vec<u64> {
    let prefix = prefix.to_string();
    t.state()
        .store
        .write(move |ctx| {
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                let id = ctx.next_id("user")?;
                let name = format!("{prefix}{i}");
                let u = User {
                    id: UserId(id),
                    username: name.clone(),
                    display_name: name.clone(),
                    email: String::new(),
                    extension: String::new(),
                    role: Role::Agent,
                    disabled: false,
                    language: None,
                    password_hash: "not-a-hash".into(),
                    created: ctx.now,
                    notify: NotifySettings::default(),
                    phone_routing_off: false,
                };
                ctx.txn
                    .open_table(USERS_BY_NAME)?
                    .insert(name.as_bytes(), k1(id).as_slice())?;
                users::put_in(ctx, &u)?;
                ids.push(id);
            }
            Ok(ids)
        })
        .await
        .unwrap()
}

async fn group(c: &Client, name: &str, members: &[u64]) -> u64 {
    let r = c
        .post(
            "/api/v1/chats",
            json!({"name": name, "member_ids": members}),
        )
        .await;
    assert_eq!(r.status, 201, "create group: {}", r.text());
    r.json()["chat"]["id"].as_u64().unwrap()
}

async fn send(c: &Client, chat: u64, text: &str) -> crate::support::Resp {
    c.post(
        &format!("/api/v1/chats/{chat}/messages"),
        json!({ "text": text }),
    )
    .await
}

fn count(v: &Value) -> usize {
    v.as_array().map(Vec::len).unwrap_or(0)
}

#[tokio::test]
async fn group_member_and_group_count_limits() {
    let t = TestServer::start().await;
    let others = bulk_users(&t, "m", 200).await;
    // 199 others + the creator = 200: allowed.
    let r = t
        .admin
        .post(
            "/api/v1/chats",
            json!({"name": "all hands", "member_ids": &others[..199]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["chat"]["id"].as_u64().unwrap();
    assert_eq!(r.json()["chat"]["member_count"], 200);
    // The 201st member is refused with a clear message, and nothing changes.
    let r = t
        .admin
        .post(
            &format!("/api/v1/chats/{id}/members"),
            json!({"user_ids": [others[199]]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("at most 200 members"), "{}", r.text());
    let v = t.admin.get(&format!("/api/v1/chats/{id}")).await.json();
    assert_eq!(count(&v["members"]), 200);
    // Creating a group of 201 at once is refused too.
    let r = t
        .admin
        .post(
            "/api/v1/chats",
            json!({"name": "too big", "member_ids": &others}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());

    // A user already in 100 groups (the one above + 99 more) cannot join a 101st.
    let (bob, bob_c) = t.user("bob", "agent").await;
    let member = others[0];
    let admin = t.admin_id;
    t.state()
        .store
        .write(move |ctx| {
            let me = users::get_in(ctx, UserId(admin))?;
            for i in 0..99 {
                chats::create_group_in(ctx, &me, &format!("g{i}"), &[UserId(member)])?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let r = bob_c
        .post(
            "/api/v1/chats",
            json!({"name": "one more", "member_ids": [member]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("100 group chats"), "{}", r.text());
    // The admin (creator of 100 groups) cannot create a 101st either.
    let r = t
        .admin
        .post("/api/v1/chats", json!({"name": "x", "member_ids": [bob]}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    // Nothing was created for bob.
    assert_eq!(count(&bob_c.get("/api/v1/chats").await.json()), 0);
    // Adding the full user to an existing group is refused the same way.
    let g = group(&bob_c, "bob's", &[others[1]]).await;
    let r = bob_c
        .post(
            &format!("/api/v1/chats/{g}/members"),
            json!({"user_ids": [member]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    t.stop().await;
}

#[tokio::test]
async fn only_group_admins_change_membership() {
    let t = TestServer::start().await;
    let (alice, a) = t.user("alice", "agent").await;
    let (bob, b) = t.user("bob", "agent").await;
    let (carol, _c) = t.user("carol", "agent").await;
    let (dave, d) = t.user("dave", "agent").await;
    let g = group(&a, "team", &[bob, carol]).await;
    let base = format!("/api/v1/chats/{g}");
    // A member who is not an admin: 403. A non-member: 404 (the group's existence does not leak).
    for (who, status) in [(&b, 403), (&d, 404)] {
        let r = who
            .post(&format!("{base}/members"), json!({"user_ids": [dave]}))
            .await;
        assert_eq!(r.status, status, "add: {}", r.text());
        let r = who.delete(&format!("{base}/members/{carol}")).await;
        assert_eq!(r.status, status, "remove: {}", r.text());
        let r = who.patch(&base, json!({"name": "mine now"})).await;
        assert_eq!(r.status, status, "rename: {}", r.text());
        let r = who
            .post(&format!("{base}/admins"), json!({"user_id": bob}))
            .await;
        assert_eq!(r.status, status, "grant: {}", r.text());
    }
    let v = a.get(&base).await.json();
    assert_eq!(v["chat"]["name"], "team");
    assert_eq!(count(&v["members"]), 3);
    // The admin can do all of it.
    let r = a
        .post(&format!("{base}/members"), json!({"user_ids": [dave]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = a.delete(&format!("{base}/members/{carol}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = a.patch(&base, json!({"name": "core team"})).await;
    assert_eq!(r.json()["chat"]["name"], "core team");
    // Carol is out: 404 for her now. Dave is in.
    let (_, c2) = (
        carol,
        crate::support::Client::login(&t.base(), "carol", crate::support::PASSWORD).await,
    );
    assert_eq!(c2.get(&base).await.status, 404);
    assert_eq!(d.get(&base).await.status, 200);
    // Hand over admin: bob becomes admin, alice is a plain member and now gets 403.
    let r = a
        .post(&format!("{base}/admins"), json!({"user_id": bob}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = a.delete(&format!("{base}/members/{dave}")).await;
    assert_eq!(r.status, 403);
    let r = b.delete(&format!("{base}/members/{alice}")).await;
    assert_eq!(r.status, 200);
    // 1:1 chats have no membership to manage.
    let r = a.post("/api/v1/chats", json!({"user_id": bob})).await;
    let dm = r.json()["chat"]["id"].as_u64().unwrap();
    let r = a
        .post(
            &format!("/api/v1/chats/{dm}/members"),
            json!({"user_ids": [dave]}),
        )
        .await;
    assert_eq!(r.status, 422);
    t.stop().await;
}

#[tokio::test]
async fn the_last_admin_cannot_be_removed() {
    let t = TestServer::start().await;
    let (alice, a) = t.user("alice", "agent").await;
    let (bob, b) = t.user("bob", "agent").await;
    let g = group(&a, "team", &[bob]).await;
    let base = format!("/api/v1/chats/{g}");
    assert_eq!(
        a.post(&format!("{base}/leave"), json!({})).await.status,
        409
    );
    let r = a.delete(&format!("{base}/members/{alice}")).await;
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("last admin"), "{}", r.text());
    assert_eq!(
        a.delete(&format!("{base}/admins/{alice}")).await.status,
        409
    );
    let v = a.get(&base).await.json();
    assert_eq!(count(&v["members"]), 2);
    assert_eq!(v["members"][0]["admin"], true);
    // After handing over, alice may leave; bob is the admin.
    let r = a
        .post(&format!("{base}/admins"), json!({"user_id": bob}))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        a.post(&format!("{base}/leave"), json!({})).await.status,
        204
    );
    assert_eq!(a.get(&base).await.status, 404);
    let v = b.get(&base).await.json();
    assert_eq!(v["chat"]["is_admin"], true);
    assert_eq!(count(&v["members"]), 1);
    t.stop().await;
}

/// Reads the event stream (`/api/v1/events{query}`) for `ms` and returns its text.
async fn read_events(c: &Client, query: &str, ms: u64) -> String {
    let mut s = EventStream::connect(c, &format!("/api/v1/events{query}"), None).await;
    s.read_for(Duration::from_millis(ms)).await;
    s.raw().to_string()
}

#[tokio::test]
async fn non_members_see_nothing_of_a_chat() {
    let t = TestServer::start().await;
    let (_alice, a) = t.user("alice", "agent").await;
    let (bob, b) = t.user("bob", "agent").await;
    let (_dave, d) = t.user("dave", "agent").await;
    let g = group(&a, "secret plans", &[bob]).await;
    let r = send(&a, g, "the pineapple ships on friday").await;
    assert_eq!(r.status, 201, "{}", r.text());
    let msg = r.json()["id"].as_u64().unwrap();
    let base = format!("/api/v1/chats/{g}");
    for path in [
        base.clone(),
        format!("{base}/messages"),
        format!("{base}/files"),
    ] {
        let r = d.get(&path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert_eq!(r.code(), "not_found");
        assert!(!r.text().contains("pineapple"));
    }
    assert_eq!(send(&d, g, "let me in").await.status, 404);
    assert_eq!(d.post(&format!("{base}/read"), json!({})).await.status, 404);
    assert_eq!(
        d.post(&format!("{base}/typing"), json!({})).await.status,
        404
    );
    assert_eq!(
        d.patch(&format!("{base}/state"), json!({"pinned": true}))
            .await
            .status,
        404
    );
    assert_eq!(count(&d.get("/api/v1/chats").await.json()), 0);
    // Members see it.
    assert_eq!(count(&b.get(&format!("{base}/messages")).await.json()), 1);
    assert_eq!(b.get(&format!("{base}/files")).await.status, 200);
    // Search: the member finds it with context and a link; the non-member (and an admin who
    // is not a member) finds nothing.
    let r = b.get("/api/v1/search?q=pineapple").await.json();
    assert_eq!(count(&r["results"]), 1, "{r}");
    let hit = &r["results"][0];
    assert_eq!(hit["kind"], "chat");
    assert_eq!(hit["chat_id"], g);
    assert_eq!(hit["message_id"], msg);
    assert_eq!(hit["title"], "secret plans");
    assert_eq!(hit["author_name"], "alice");
    assert!(hit["snippet"].as_str().unwrap().contains("pineapple"));
    assert_eq!(hit["link"], format!("/chat/internal/{g}#m{msg}"));
    assert_eq!(
        count(&d.get("/api/v1/search?q=pineapple").await.json()["results"]),
        0
    );
    assert_eq!(
        count(&d.get("/api/v1/search?q=pine").await.json()["results"]),
        0
    );
    assert_eq!(
        count(&t.admin.get("/api/v1/search?q=pineapple").await.json()["results"]),
        0
    );
    // Events: replaying the whole log, bob's stream carries the message, dave's carries no
    // event of this chat at all.
    let bob_events = read_events(&b, "?last_event_id=0", 700).await;
    assert!(bob_events.contains("pineapple"), "{bob_events}");
    let dave_events = read_events(&d, "?last_event_id=0", 700).await;
    assert!(!dave_events.contains("pineapple"), "{dave_events}");
    assert!(!dave_events.contains("chat."), "{dave_events}");
    // Live, including the ephemeral typing signal.
    let (b2, d2) = (b.clone(), d.clone());
    let bob_live = tokio::spawn(async move { read_events(&b2, "", 1500).await });
    let dave_live = tokio::spawn(async move { read_events(&d2, "", 1500).await });
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        a.post(&format!("{base}/typing"), json!({})).await.status,
        204
    );
    assert_eq!(send(&a, g, "second mango").await.status, 201);
    let (bob_live, dave_live) = (bob_live.await.unwrap(), dave_live.await.unwrap());
    assert!(bob_live.contains("chat.typing"), "{bob_live}");
    assert!(bob_live.contains("mango"), "{bob_live}");
    assert!(!dave_live.contains("chat."), "{dave_live}");
    // A removed member stops seeing it at once, search included.
    assert_eq!(a.delete(&format!("{base}/members/{bob}")).await.status, 200);
    assert_eq!(b.get(&base).await.status, 404);
    assert_eq!(
        count(&b.get("/api/v1/search?q=pineapple").await.json()["results"]),
        0
    );
    t.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_and_changes_nothing() {
    let t = TestServer::start().await;
    let (me, a) = t.user("alice", "agent").await;
    let (bob, _b) = t.user("bob", "agent").await;
    let (carol, _c) = t.user("carol", "agent").await;
    let (gone, _g) = t.user("gone", "agent").await;
    let r = t
        .admin
        .patch(&format!("/api/v1/users/{gone}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200);
    let cases = [
        (
            json!({"name": "x", "member_ids": [bob, bob]}),
            "listed twice",
        ),
        (
            json!({"name": "x", "member_ids": [999_999]}),
            "does not exist",
        ),
        (json!({"name": "x", "member_ids": [gone]}), "disabled"),
        (json!({"name": "x", "member_ids": []}), "at least one"),
        (
            json!({"name": "x".repeat(101), "member_ids": [bob]}),
            "100 characters",
        ),
        (json!({"user_id": me}), "yourself"),
        (json!({"user_id": gone}), "disabled"),
        (json!({"user_id": 999_999}), "does not exist"),
        (json!({}), "either"),
    ];
    for (body, why) in cases {
        let r = a.post("/api/v1/chats", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert!(r.text().contains(why), "{body}: {}", r.text());
    }
    assert_eq!(count(&a.get("/api/v1/chats").await.json()), 0);

    let g = group(&a, "team", &[bob]).await;
    let base = format!("/api/v1/chats/{g}");
    for (ids, why) in [
        (json!([bob]), "already a member"),
        (json!([carol, carol]), "listed twice"),
        (json!([999_999]), "does not exist"),
        (json!([gone]), "disabled"),
        (json!([]), "at least one"),
    ] {
        let r = a
            .post(&format!("{base}/members"), json!({ "user_ids": ids }))
            .await;
        assert_eq!(r.status, 422, "{ids}: {}", r.text());
        assert!(r.text().contains(why), "{ids}: {}", r.text());
    }
    assert_eq!(count(&a.get(&base).await.json()["members"]), 2);
    assert_eq!(a.patch(&base, json!({"name": "  "})).await.status, 422);

    let max = t.config.limits.max_message_chars;
    let long = "a".repeat(max + 1);
    let bodies = [
        (json!({"text": ""}), "empty"),
        (json!({"text": "  \n "}), "empty"),
        (json!({"text": long}), "at most"),
        (json!({"text": "hi @carol"}), "not a member"),
        (json!({"text": "hi", "mentions": [carol]}), "not a member"),
        (json!({"text": "bell \u{7}"}), "control"),
    ];
    // A file id the author never uploaded is unknown to them.
    let r = a
        .post(
            &format!("{base}/messages"),
            json!({"text": "file", "attachment_ids": [987654]}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    for (body, why) in bodies {
        let r = a.post(&format!("{base}/messages"), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert!(r.text().contains(why), "{body}: {}", r.text());
    }
    assert_eq!(count(&a.get(&format!("{base}/messages")).await.json()), 0);
    // Exactly the limit is fine; unknown @words are just text; emoji are text.
    assert_eq!(send(&a, g, &"a".repeat(max)).await.status, 201);
    let r = send(&a, g, "mail me at x@example.com, @nobody 👍 @bob.").await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["mentions"], json!([bob]));
    assert!(r.json()["text"].as_str().unwrap().contains('👍'));
    t.stop().await;
}

#[tokio::test]
async fn one_to_one_chats_state_and_unread() {
    let t = TestServer::start().await;
    let (alice, a) = t.user("alice", "agent").await;
    let (bob, b) = t.user("bob", "agent").await;
    let (carol, c) = t.user("carol", "agent").await;
    // 1:1 unique per pair, from either side.
    let r = a.post("/api/v1/chats", json!({"user_id": bob})).await;
    assert_eq!(r.status, 201);
    let dm = r.json()["chat"]["id"].as_u64().unwrap();
    assert_eq!(r.json()["chat"]["name"], "bob");
    let r = b.post("/api/v1/chats", json!({"user_id": alice})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["chat"]["id"], dm);
    let g = group(&a, "team", &[bob, carol]).await;
    send(&a, dm, "one").await;
    send(&a, dm, "two").await;
    let r = send(&c, g, "hey @bob look").await;
    let mention = r.json()["id"].as_u64().unwrap();
    assert_eq!(r.json()["mentions"], json!([bob]));
    let list = b.get("/api/v1/chats").await.json();
    assert_eq!(count(&list), 2);
    assert_eq!(list[0]["id"], g, "newest activity first");
    assert_eq!(list[0]["unread"], 1);
    assert_eq!(list[0]["mentioned"], true);
    assert_eq!(list[1]["unread"], 2);
    assert_eq!(list[1]["last_message"]["preview"], "two");
    // The author has nothing unread.
    assert_eq!(a.get("/api/v1/chats").await.json()[1]["unread"], 0);
    // Pin the older chat: it comes first. Mute the group.
    let r = b
        .patch(
            &format!("/api/v1/chats/{dm}/state"),
            json!({"pinned": true}),
        )
        .await;
    assert_eq!(r.json(), json!({"pinned": true, "muted": false}));
    b.patch(&format!("/api/v1/chats/{g}/state"), json!({"muted": true}))
        .await;
    let list = b.get("/api/v1/chats").await.json();
    assert_eq!(list[0]["id"], dm);
    assert_eq!(list[0]["pinned"], true);
    assert_eq!(list[1]["muted"], true);
    assert_eq!(
        list[1]["mentioned"], true,
        "a mention shows even when muted"
    );
    // Alice's state is her own.
    assert_eq!(a.get("/api/v1/chats").await.json()[0]["pinned"], false);
    // Read: unread drops, others see bob's read position ("read by").
    let r = b.post(&format!("/api/v1/chats/{g}/read"), json!({})).await;
    assert_eq!(r.json()["last_read"], mention);
    let list = b.get("/api/v1/chats").await.json();
    assert_eq!(list[1]["unread"], 0);
    assert_eq!(list[1]["mentioned"], false);
    let v = c.get(&format!("/api/v1/chats/{g}")).await.json();
    let bob_row = v["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == bob)
        .unwrap()
        .clone();
    assert_eq!(bob_row["last_read"], mention);
    // Paging: newest first page, then older.
    for i in 0..5 {
        send(&a, dm, &format!("page {i}")).await;
    }
    let p = a
        .get(&format!("/api/v1/chats/{dm}/messages?limit=3"))
        .await
        .json();
    assert_eq!(count(&p), 3);
    assert_eq!(p[2]["text"], "page 4");
    let oldest = p[0]["id"].as_u64().unwrap();
    let p = a
        .get(&format!(
            "/api/v1/chats/{dm}/messages?limit=50&before={oldest}"
        ))
        .await
        .json();
    assert_eq!(count(&p), 4);
    assert_eq!(p[0]["text"], "one");
    // Directory: by name, extension, email; enabled colleagues only, not oneself.
    t.admin
        .patch(
            &format!("/api/v1/users/{carol}"),
            json!({"extension": "4711", "email": "carol@office.example"}),
        )
        .await;
    let find = |q: &str| {
        let a = a.clone();
        let q = q.to_string();
        async move { a.get(&format!("/api/v1/directory?q={q}")).await.json() }
    };
    assert_eq!(find("471").await[0]["id"], carol);
    assert_eq!(find("office.example").await[0]["id"], carol);
    assert_eq!(find("CAR").await[0]["id"], carol);
    assert_eq!(count(&find("alice").await), 0);
    t.stop().await;
}

#[tokio::test]
async fn search_covers_visible_customer_sessions_too() {
    let t = TestServer::start().await;
    let (_alice, a) = t.user("alice", "agent").await;
    let (bob, b) = t.user("bob", "agent").await;
    let ch = t
        .channel(
            json!({"kind": "sms", "name": "SMS", "business_address": "+4930111", "members": [bob]}),
        )
        .await;
    // A customer message through the domain intake.
    writes(
        &t,
        ch,
        "+4917012345",
        Some("Carla Kundin"),
        "Where is my parcel with the kumquats?",
    )
    .await;
    let g = group(&a, "fruit", &[bob]).await;
    send(&a, g, "kumquats for the office").await;
    // The admin sees every channel but is not in the chat.
    let r = t.admin.get("/api/v1/search?q=kumquats").await.json();
    assert_eq!(count(&r["results"]), 1, "{r}");
    assert_eq!(r["results"][0]["kind"], "session");
    assert_eq!(r["results"][0]["title"], "Carla Kundin");
    assert!(
        r["results"][0]["link"]
            .as_str()
            .unwrap()
            .starts_with("/chat/external/")
    );
    // Alice is in the chat but not the channel.
    let r = a.get("/api/v1/search?q=kumquats").await.json();
    assert_eq!(count(&r["results"]), 1, "{r}");
    assert_eq!(r["results"][0]["kind"], "chat");
    // Paging with limit 1 walks newest first.
    let r = t.admin.get("/api/v1/search?q=kum&limit=1").await.json();
    assert_eq!(count(&r["results"]), 1);
    // Bob is in both: the chat message (newer) first, then the customer's.
    let r = b.get("/api/v1/search?q=kumquats&limit=1").await.json();
    assert_eq!(r["results"][0]["kind"], "chat", "{r}");
    let next = r["next_before"].as_u64().unwrap();
    let r = b
        .get(&format!("/api/v1/search?q=kumquats&limit=1&before={next}"))
        .await
        .json();
    assert_eq!(r["results"][0]["kind"], "session", "{r}");
    assert!(
        r["results"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("kumquats")
    );
    t.stop().await;
}

#[tokio::test]
async fn retention_purges_chat_history_and_its_index() {
    let t = TestServer::start().await;
    let (_alice, a) = t.user("alice", "agent").await;
    let (bob, _) = t.user("bob", "agent").await;
    let g = group(&a, "team", &[bob]).await;
    send(&a, g, "ancient walrus news").await;
    t.clock.advance_hours(24 * 366);
    // Login sessions do not last a year: sign in again.
    let a = Client::login(&t.base(), "alice", crate::support::PASSWORD).await;
    let b = Client::login(&t.base(), "bob", crate::support::PASSWORD).await;
    send(&a, g, "fresh walrus news").await;
    let cutoff = t.state().now() - 365 * 24 * 3_600_000;
    let n = t
        .state()
        .store
        .write(move |ctx| chats::purge_older_than(ctx, cutoff, 100))
        .await
        .unwrap();
    assert_eq!(n, 1);
    let msgs = b.get(&format!("/api/v1/chats/{g}/messages")).await.json();
    assert_eq!(count(&msgs), 1);
    assert_eq!(msgs[0]["text"], "fresh walrus news");
    let r = b.get("/api/v1/search?q=walrus").await.json();
    assert_eq!(count(&r["results"]), 1, "{r}");
    assert_eq!(
        count(&b.get("/api/v1/search?q=ancient").await.json()["results"]),
        0
    );
    t.stop().await;
}

#[tokio::test]
async fn chat_routes_are_in_the_openapi_document() {
    let t = TestServer::start().await;
    let doc = t.admin.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/chats",
        "/api/v1/chats/{id}",
        "/api/v1/chats/{id}/messages",
        "/api/v1/chats/{id}/files",
        "/api/v1/chats/{id}/read",
        "/api/v1/chats/{id}/state",
        "/api/v1/chats/{id}/typing",
        "/api/v1/chats/{id}/members",
        "/api/v1/chats/{id}/members/{user_id}",
        "/api/v1/chats/{id}/admins",
        "/api/v1/chats/{id}/admins/{user_id}",
        "/api/v1/chats/{id}/leave",
        "/api/v1/directory",
        "/api/v1/search",
    ] {
        assert!(
            doc["paths"].get(p).is_some(),
            "{p} missing from openapi.json"
        );
    }
    t.stop().await;
}
