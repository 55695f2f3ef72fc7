//! Queues: pick-up races, the open and unassigned lists (and their index across an upgrade),
//! the manual / auto-on-reply / assign-on-arrival modes with presence and the per-agent cap.

use serde_json::json;
use switchboard::ids::UserId;
use switchboard::store::tables;

use crate::support::customer::writes;
use crate::support::read::{session, timeline_kinds};
use crate::support::{Client, EventStream, TestServer};

#[tokio::test]
async fn pickup_race_has_exactly_one_winner() {
    let t = TestServer::start().await;
    let mut agents = Vec::new();
    for i in 0..20 {
        agents.push(t.user(&format!("racer{i}"), "agent").await);
    }
    let ids: Vec<u64> = agents.iter().map(|(id, _)| *id).collect();
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members": ids,"queue_mode":"manual"}))
        .await;
    let sid = writes(&t, cid, "4915100000001", Some("Racy"), "hello")
        .await
        .session_id;
    let mut tasks = Vec::new();
    for (_, c) in &agents {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            c.post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
                .await
                .status
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.push(task.await.unwrap());
    }
    assert_eq!(codes.iter().filter(|c| **c == 200).count(), 1, "{codes:?}");
    assert_eq!(codes.iter().filter(|c| **c == 409).count(), 19, "{codes:?}");
    let s = session(&t.admin, sid).await;
    assert!(ids.contains(&s["assignee"].as_u64().unwrap()));
    let kinds = timeline_kinds(&t.admin, sid).await;
    assert_eq!(kinds.iter().filter(|k| *k == "picked_up").count(), 1);
    t.stop().await;
}

#[tokio::test]
async fn open_and_unassigned_lists_follow_their_index_across_close_and_upgrade() {
    let mut t = TestServer::start().await;
    let cid = t
        .channel(json!({"kind":"sms","name":"SMS","auto_close_hours":0}))
        .await;
    let s1 = writes(&t, cid, "+4930001", None, "one").await.session_id;
    let s2 = writes(&t, cid, "+4930002", None, "two").await.session_id;
    let s3 = writes(&t, cid, "+4930003", None, "three").await.session_id;
    let r = t
        .admin
        .post(&format!("/api/v1/sessions/{s2}/close"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Newer activity moves s1 to the top of the open index as well.
    writes(&t, cid, "+4930001", None, "again").await;
    async fn ids(c: &Client, q: &str) -> Vec<u64> {
        c.get(&format!("/api/v1/sessions?{q}")).await.json()["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_u64().unwrap())
            .collect()
    }
    assert_eq!(ids(&t.admin, "scope=open").await, vec![s1, s3]);
    assert_eq!(ids(&t.admin, "scope=unassigned").await, vec![s1, s3]);
    assert_eq!(ids(&t.admin, "scope=closed").await, vec![s2]);
    assert_eq!(ids(&t.admin, "scope=all").await, vec![s1, s3, s2]);
    // Paging through the open index.
    let page = t
        .admin
        .get("/api/v1/sessions?scope=open&limit=1")
        .await
        .json();
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(
        ids(&t.admin, &format!("scope=open&limit=1&cursor={cursor}")).await,
        vec![s3]
    );
    assert_eq!(t.count(tables::OPEN_SESSIONS_BY_ACTIVITY).await, 2);

    // A database written before the index existed: the migration fills it on start.
    t.state()
        .store
        .write(|ctx| {
            ctx.txn
                .open_table(tables::OPEN_SESSIONS_BY_ACTIVITY)?
                .retain(|_, _| false)?;
            ctx.txn
                .open_table(tables::META)?
                .insert(b"schema_version".as_slice(), 1u64.to_be_bytes().as_slice())?;
            Ok(())
        })
        .await
        .unwrap();
    t.restart().await;
    assert_eq!(t.count(tables::OPEN_SESSIONS_BY_ACTIVITY).await, 2);
    assert_eq!(ids(&t.admin, "scope=open").await, vec![s1, s3]);
    t.stop().await;
}

#[tokio::test]
async fn manual_and_auto_on_reply_queue_modes() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("anna", "agent").await;
    let (b, cb) = t.user("ben", "agent").await;
    // Both are online: assign-on-arrival would give it away, manual must not.
    ca.get("/api/v1/me").await;
    cb.get("/api/v1/me").await;
    let manual = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b],"queue_mode":"manual"}))
        .await;
    let sid = writes(&t, manual, "+4930111", None, "hi").await.session_id;
    assert!(session(&ca, sid).await["assignee"].is_null());
    let unassigned = ca.get("/api/v1/sessions?scope=unassigned").await.json();
    assert_eq!(unassigned["sessions"][0]["id"], sid);
    // A reply on a manual channel takes the session too (docs/inbox.md): whoever answers owns it.
    let r = ca
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text":"hello"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(session(&ca, sid).await["assignee"], a);

    let auto = t
        .channel(json!({"kind":"sms","name":"SMS2","members":[a,b],"queue_mode":"auto_on_reply"}))
        .await;
    let sid = writes(&t, auto, "+4930222", None, "hi").await.session_id;
    assert!(session(&cb, sid).await["assignee"].is_null());
    let r = cb
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text":"on it"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(session(&cb, sid).await["assignee"], b);
    // The first replier owns it; the colleague's pick-up is refused.
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    assert_eq!(r.status, 409);
    assert!(
        timeline_kinds(&ca, sid)
            .await
            .contains(&"picked_up".to_string())
    );
    t.stop().await;
}

#[tokio::test]
async fn assign_on_arrival_round_robins_online_members_under_the_cap() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("amy", "agent").await;
    let (b, cb) = t.user("bob", "agent").await;
    let (c, cc) = t.user("cyd", "agent").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a,b,c],
            "queue_mode":"assign_on_arrival","max_sessions_per_agent":1}))
        .await;
    // Nobody online yet (logging in is not presence): the session waits in the queue.
    let s0 = writes(&t, cid, "4910", None, "first").await.session_id;
    assert!(session(&t.admin, s0).await["assignee"].is_null());
    t.admin
        .post(&format!("/api/v1/sessions/{s0}/close"), json!({}))
        .await;

    // amy and bob are online by activity; cyd is not.
    ca.get("/api/v1/me").await;
    cb.get("/api/v1/me").await;
    let s1 = writes(&t, cid, "4911", None, "one").await.session_id;
    let s2 = writes(&t, cid, "4912", None, "two").await.session_id;
    let first = session(&t.admin, s1).await["assignee"].as_u64().unwrap();
    let second = session(&t.admin, s2).await["assignee"].as_u64().unwrap();
    assert_eq!(
        [first, second]
            .iter()
            .copied()
            .collect::<std::collections::HashSet<_>>(),
        [a, b].into_iter().collect(),
        "round-robin over the two online members"
    );
    assert!(
        timeline_kinds(&ca, s1)
            .await
            .contains(&"assigned".to_string())
    );
    // Both at their cap of 1: the next one stays in the queue.
    let s3 = writes(&t, cid, "4913", None, "three").await.session_id;
    assert!(session(&t.admin, s3).await["assignee"].is_null());

    // cyd opens the inbox (an event stream): online, under the cap, gets the next one.
    let mut stream = EventStream::open(&cc).await;
    let s4 = writes(&t, cid, "4914", None, "four").await.session_id;
    assert_eq!(session(&t.admin, s4).await["assignee"], c);
    let ev = stream.next_of_kind("session.assigned").await;
    assert_eq!(ev.data()["session_id"], s4);

    // amy closes hers: she is under the cap again.
    let r = ca
        .post(&format!("/api/v1/sessions/{s1}/close"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let freed = first;
    let s5 = writes(&t, cid, "4915", None, "five").await.session_id;
    assert_eq!(session(&t.admin, s5).await["assignee"], freed);

    // Activity expires after the presence window; an open stream does not.
    t.clock
        .advance_ms(switchboard::domain::presence::ONLINE_WINDOW_MS + 60_000);
    let online = t.state().presence.online(t.state().now());
    assert!(
        online.contains(&UserId(c)) && !online.contains(&UserId(a)) && !online.contains(&UserId(b)),
        "{online:?}"
    );
    drop(stream);
    t.stop().await;
}
