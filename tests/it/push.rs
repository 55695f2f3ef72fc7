//! Web Push round trips: a fake push service on loopback receives the pushes, the test opens
//! them with the subscription's keys (as the browser would) and checks title, link and that
//! "hide content" devices get no message text; the VAPID header verifies against the key the
//! server publishes; 5xx is retried, 410 removes the subscription; bad input is refused.

use serde_json::{Value, json};

use crate::fakes::Fault;
use crate::fakes::push::{BrowserKeys, FakePushService, verify_vapid};
use crate::support::customer::writes;
use crate::support::{Client, TestServer};

/// One device of a user: its endpoint at the fake and its current keys.
struct Device {
    endpoint: String,
    keys: BrowserKeys,
    hide: bool,
}

impl Device {
    async fn subscribe(c: &Client, fake: &FakePushService, name: &str, hide: bool) -> Device {
        let mut d = Device {
            endpoint: fake.endpoint(name),
            keys: BrowserKeys::new(),
            hide,
        };
        d.rekey(c).await;
        d
    }

    /// New keys for the same endpoint (the previous ones opened a push already).
    async fn rekey(&mut self, c: &Client) {
        self.keys = BrowserKeys::new();
        let r = c
            .post(
                "/api/v1/push/subscriptions",
                json!({
                    "endpoint": self.endpoint,
                    "keys": {"p256dh": self.keys.p256dh_b64(), "auth": self.keys.auth_b64()},
                    "expirationTime": null,
                    "device": "Test phone",
                    "hide_content": self.hide,
                }),
            )
            .await;
        assert_eq!(r.status, 201, "subscribe: {}", r.text());
    }

    /// Waits for the `n`th push to this device and opens it.
    async fn nth(&mut self, fake: &FakePushService, n: usize) -> (Value, crate::fakes::Recorded) {
        let got = fake.wait_for(&self.endpoint, n).await;
        let rec = got[n - 1].clone();
        let plain = self.keys.decrypt(&rec.body);
        (serde_json::from_slice(&plain).unwrap(), rec)
    }
}

async fn delete_sub(c: &Client, endpoint: &str) -> u16 {
    c.send(
        c.http
            .delete(c.url("/api/v1/push/subscriptions"))
            .headers(c.headers(true))
            .json(&json!({ "endpoint": endpoint })),
    )
    .await
    .status
}

#[tokio::test]
async fn pushes_reach_the_device_encrypted_signed_and_respecting_mute_and_hide_content() {
    let fake = FakePushService::start().await;
    let t = TestServer::start().await;
    let (alice, ca) = t.user("alice", "agent").await;
    let (bruno, cb) = t.user("bruno", "agent").await;
    let ch = t
        .channel(json!({"kind":"sms","name":"SMS","members":[alice, bruno]}))
        .await;
    let key = ca.get("/api/v1/push/key").await;
    assert_eq!(key.status, 200);
    let key = key.json()["key"].as_str().unwrap().to_string();
    assert_eq!(
        t.admin.get("/api/v1/push/key").await.json()["key"],
        key.as_str(),
        "one key per install"
    );
    let mut a = Device::subscribe(&ca, &fake, "alice-phone", false).await;
    let mut b = Device::subscribe(&cb, &fake, "bruno-phone", true).await;
    let mine = ca.get("/api/v1/push/subscriptions").await.json();
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["device"], "Test phone");
    assert!(mine[0].get("p256dh").is_none(), "keys are not shown");

    // A new conversation in their queue: both agents hear of it.
    let sid = writes(&t, ch, "+4930555", Some("Carl"), "my card is 4111 1111")
        .await
        .session_id;
    let (pa, ra) = a.nth(&fake, 1).await;
    assert_eq!(pa["title"], "New conversation: Carl");
    assert_eq!(pa["body"], "my card is 4111 1111");
    assert_eq!(pa["url"], format!("/chat/external/{sid}"));
    assert_eq!(ra.header("content-encoding"), Some("aes128gcm"));
    assert!(ra.header("ttl").is_some());
    let claims = verify_vapid(ra.header("authorization").unwrap(), &key);
    assert_eq!(claims["aud"], fake.server.origin());
    assert!(claims["exp"].as_i64().unwrap() > 0);
    assert!(claims["sub"].as_str().unwrap().starts_with("mailto:"));
    let (pb, rb) = b.nth(&fake, 1).await;
    assert_eq!(pb["url"], format!("/chat/external/{sid}"));
    assert_eq!(pb["title"], "New conversation: Carl");
    let plain = pb.to_string();
    assert!(
        !plain.contains("4111"),
        "hide content: no message text in {plain}"
    );
    assert!(!String::from_utf8_lossy(&rb.body).contains("4111"));

    // Alice picks it up: the next customer message goes to her alone.
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    a.rekey(&ca).await;
    writes(&t, ch, "+4930555", Some("Carl"), "are you there?").await;
    let (pa, _) = a.nth(&fake, 2).await;
    assert_eq!(pa["title"], "Message from Carl");
    assert_eq!(pa["body"], "are you there?");
    assert_eq!(pa["url"], format!("/chat/external/{sid}"));

    // Muted: no push for her; the transfer to Bruno reaches him (without the note's text).
    let r = ca
        .post(
            &format!("/api/v1/sessions/{sid}/mute"),
            json!({"muted": true}),
        )
        .await;
    assert_eq!(r.status, 204);
    writes(&t, ch, "+4930555", Some("Carl"), "hello??").await;
    b.rekey(&cb).await;
    let r = ca
        .post(
            &format!("/api/v1/sessions/{sid}/transfer"),
            json!({"to_user_id": bruno, "note": "VIP secret note"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (pb, _) = b.nth(&fake, 2).await;
    assert_eq!(pb["title"], "alice handed you Carl");
    assert_eq!(pb["url"], format!("/chat/external/{sid}"));
    assert!(!pb.to_string().contains("VIP"), "{pb}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fake.requests_to(&a.endpoint).len(),
        2,
        "muted conversation: no push to alice"
    );

    // Internal chat: a direct message reaches the colleague; a group message only when it
    // mentions them.
    a.rekey(&ca).await;
    let dm = cb.post("/api/v1/chats", json!({"user_id": alice})).await;
    assert!(dm.status == 200 || dm.status == 201, "{}", dm.text());
    let dm = dm.json()["chat"]["id"].as_u64().unwrap();
    let r = cb
        .post(
            &format!("/api/v1/chats/{dm}/messages"),
            json!({"text": "lunch?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (pa, _) = a.nth(&fake, 3).await;
    assert_eq!(pa["title"], "bruno");
    assert_eq!(pa["body"], "lunch?");
    assert_eq!(pa["url"], format!("/chat/internal/{dm}"));
    let g = cb
        .post(
            "/api/v1/chats",
            json!({"name": "Team", "member_ids": [alice]}),
        )
        .await;
    assert_eq!(g.status, 201, "{}", g.text());
    let g = g.json()["chat"]["id"].as_u64().unwrap();
    a.rekey(&ca).await;
    cb.post(
        &format!("/api/v1/chats/{g}/messages"),
        json!({"text": "fyi all"}),
    )
    .await;
    let r = cb
        .post(
            &format!("/api/v1/chats/{g}/messages"),
            json!({"text": "@alice look", "mentions": [alice]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (pa, _) = a.nth(&fake, 4).await;
    assert_eq!(pa["title"], "bruno mentioned you in Team");
    assert_eq!(pa["url"], format!("/chat/internal/{g}"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        fake.requests_to(&a.endpoint).len(),
        4,
        "no push for the unmentioned group message"
    );
    // Bruno, the author, got none of his own.
    assert_eq!(fake.requests_to(&b.endpoint).len(), 2);

    // Turning push off stops them.
    assert_eq!(delete_sub(&ca, &a.endpoint).await, 204);
    assert_eq!(delete_sub(&ca, &a.endpoint).await, 404);
    assert_eq!(ca.get("/api/v1/push/subscriptions").await.json(), json!([]));
}

#[tokio::test]
async fn server_errors_are_retried_and_gone_subscriptions_removed() {
    let fake = FakePushService::start().await;
    let t = TestServer::start().await;
    let (alice, ca) = t.user("alice", "agent").await;
    let ch = t
        .channel(json!({"kind":"sms","name":"SMS","members":[alice]}))
        .await;
    let mut a = Device::subscribe(&ca, &fake, "a1", false).await;
    fake.server.core.fail_next(1, Fault::ServerError);
    writes(&t, ch, "+4930111", Some("Dora"), "first").await;
    let got = fake.wait_for(&a.endpoint, 2).await;
    assert_eq!(got.len(), 2, "500 then one retry that succeeds");
    assert_eq!(got[0].body, got[1].body, "the same push is sent again");
    let (p, _) = a.nth(&fake, 2).await;
    assert_eq!(p["title"], "New conversation: Dora");
    assert_eq!(
        ca.get("/api/v1/push/subscriptions")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // 410 Gone: the subscription is removed and not tried again.
    fake.server.core.fail_next(
        1,
        Fault::Reject {
            status: 410,
            body: "{}".into(),
        },
    );
    writes(&t, ch, "+4930222", Some("Emil"), "second").await;
    fake.wait_for(&a.endpoint, 3).await;
    for _ in 0..100 {
        if ca.get("/api/v1/push/subscriptions").await.json() == json!([]) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(ca.get("/api/v1/push/subscriptions").await.json(), json!([]));
    writes(&t, ch, "+4930333", Some("Fritz"), "third").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(fake.requests_to(&a.endpoint).len(), 3, "nothing after 410");
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_change_nothing() {
    let t = TestServer::start().await;
    let (_, ca) = t.user("alice", "agent").await;
    let k = BrowserKeys::new();
    let good = |endpoint: &str| json!({"endpoint": endpoint, "keys": {"p256dh": k.p256dh_b64(), "auth": k.auth_b64()}});
    for (body, status) in [
        (good("http://192.168.1.9/push/1"), 422),
        (good("ftp://push.example/1"), 422),
        (good("https://user:pw@push.example/1"), 422),
        (good("nonsense"), 422),
        (
            json!({"endpoint": "https://push.example/1", "keys": {"p256dh": "AAAA", "auth": k.auth_b64()}}),
            422,
        ),
        (
            json!({"endpoint": "https://push.example/1", "keys": {"p256dh": k.p256dh_b64(), "auth": "AAAA"}}),
            422,
        ),
        (json!({"endpoint": "https://push.example/1"}), 400),
        (
            json!({"endpoint": "https://push.example/1", "keys": {"p256dh": k.p256dh_b64(), "auth": k.auth_b64()}, "extra": 1}),
            400,
        ),
        (
            good(&format!("https://push.example/{}", "a".repeat(9000))),
            413,
        ),
    ] {
        let r = ca.post("/api/v1/push/subscriptions", body.clone()).await;
        assert_eq!(r.status, status, "{body}: {}", r.text());
    }
    assert_eq!(ca.get("/api/v1/push/subscriptions").await.json(), json!([]));
    let anon = Client::anonymous(&t.base());
    assert_eq!(anon.get("/api/v1/push/key").await.status, 401);
    assert_eq!(
        anon.post("/api/v1/push/subscriptions", good("https://push.example/1"))
            .await
            .status,
        401
    );
    // A good one is taken, and https endpoints too.
    let r = ca
        .post("/api/v1/push/subscriptions", good("https://push.example/1"))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}
