//! Workflow: queues and pick-up, transfer, templates and canned replies, tags and results,
//! block list, timeline and audit, escalate to a call (fake AMI and Yeastar on loopback),
//! contacts directory and merge, reports on a known data set.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard::domain::messages::{Ingested, NewInbound};
use switchboard::domain::presence::AssignPolicy;
use switchboard::store::codec;
use switchboard::store::tables;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use crate::support::{Client, TestServer};

static PID: AtomicU64 = AtomicU64::new(1);

/// A customer message through the domain intake, with the server's live presence snapshot.
async fn inbound(t: &TestServer, cid: u64, from: &str, name: Option<&str>, text: &str) -> Ingested {
    let policy = t.state().presence.policy(t.state().now());
    inbound_with(t, cid, from, name, text, policy).await
}

async fn inbound_with(
    t: &TestServer,
    cid: u64,
    from: &str,
    name: Option<&str>,
    text: &str,
    policy: AssignPolicy,
) -> Ingested {
    let m = NewInbound {
        provider_id: Some(format!(
            "wamid.test.{}",
            PID.fetch_add(1, Ordering::Relaxed)
        )),
        from: from.to_string(),
        contact_name: name.map(str::to_string),
        text: text.to_string(),
        files: vec![],
        at: None,
    };
    t.state()
        .store
        .write(move |ctx| {
            let ch = switchboard::domain::channels::get_in(ctx, cid)?;
            switchboard::domain::messages::ingest_with_in(ctx, &ch, &m, &policy)
        })
        .await
        .unwrap()
}

fn stored(i: &Ingested) -> (u64, u64) {
    match i {
        Ingested::Stored {
            session_id,
            message_id,
            ..
        } => (*session_id, *message_id),
        other => panic!("expected a stored message, got {other:?}"),
    }
}

async fn session(c: &Client, id: u64) -> Value {
    let r = c.get(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["session"].clone()
}

async fn timeline_kinds(c: &Client, id: u64) -> Vec<String> {
    let r = c.get(&format!("/api/v1/sessions/{id}/timeline")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn count_rows(t: &TestServer, def: tables::Def) -> u64 {
    t.state()
        .store
        .read(move |rtx| {
            use redb::ReadableTableMetadata;
            Ok(rtx.open_table(def)?.len()?)
        })
        .await
        .unwrap()
}

async fn audit_actions(t: &TestServer) -> Vec<String> {
    t.state()
        .store
        .read(|rtx| switchboard::domain::audit::list(rtx, None, 1000))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

/// Opens the caller's event stream (keeps them online while held).
async fn events(c: &Client) -> reqwest::Response {
    let r = c
        .http
        .get(c.url("/api/v1/events"))
        .headers(c.headers(false))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r
}

/// Reads the stream until an event of `kind` arrives (10 s at most).
async fn wait_event(resp: &mut reqwest::Response, kind: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut buf = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event within 10 s; got {buf}"))
            .unwrap()
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        for line in buf.lines() {
            if let Some(data) = line.strip_prefix("data:")
                && let Ok(v) = serde_json::from_str::<Value>(data.trim())
                && v["kind"] == kind
            {
                return v;
            }
        }
    }
}

// --- queues ------------------------------------------------------------------------------

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
    let (sid, _) = stored(&inbound(&t, cid, "4915100000001", Some("Racy"), "hello").await);
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
    let (s1, _) = stored(&inbound(&t, cid, "+4930001", None, "one").await);
    let (s2, _) = stored(&inbound(&t, cid, "+4930002", None, "two").await);
    let (s3, _) = stored(&inbound(&t, cid, "+4930003", None, "three").await);
    let r = t
        .admin
        .post(&format!("/api/v1/sessions/{s2}/close"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Newer activity moves s1 to the top of the open index as well.
    inbound(&t, cid, "+4930001", None, "again").await;
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
    assert_eq!(count_rows(&t, tables::OPEN_SESSIONS_BY_ACTIVITY).await, 2);

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
    assert_eq!(count_rows(&t, tables::OPEN_SESSIONS_BY_ACTIVITY).await, 2);
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
    let (sid, _) = stored(&inbound(&t, manual, "+4930111", None, "hi").await);
    assert!(session(&ca, sid).await["assignee"].is_null());
    let unassigned = ca.get("/api/v1/sessions?scope=unassigned").await.json();
    assert_eq!(unassigned["sessions"][0]["id"], sid);
    // A reply on a manual channel does not take the session.
    let r = ca
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text":"hello"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(session(&ca, sid).await["assignee"].is_null());

    let auto = t
        .channel(json!({"kind":"sms","name":"SMS2","members":[a,b],"queue_mode":"auto_on_reply"}))
        .await;
    let (sid, _) = stored(&inbound(&t, auto, "+4930222", None, "hi").await);
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
    let (s0, _) = stored(&inbound(&t, cid, "4910", None, "first").await);
    assert!(session(&t.admin, s0).await["assignee"].is_null());
    t.admin
        .post(&format!("/api/v1/sessions/{s0}/close"), json!({}))
        .await;

    // amy and bob are online by activity; cyd is not.
    ca.get("/api/v1/me").await;
    cb.get("/api/v1/me").await;
    let (s1, _) = stored(&inbound(&t, cid, "4911", None, "one").await);
    let (s2, _) = stored(&inbound(&t, cid, "4912", None, "two").await);
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
    let (s3, _) = stored(&inbound(&t, cid, "4913", None, "three").await);
    assert!(session(&t.admin, s3).await["assignee"].is_null());

    // cyd opens the inbox (an event stream): online, under the cap, gets the next one.
    let mut stream = events(&cc).await;
    let (s4, _) = stored(&inbound(&t, cid, "4914", None, "four").await);
    assert_eq!(session(&t.admin, s4).await["assignee"], c);
    let ev = wait_event(&mut stream, "session.assigned").await;
    assert_eq!(ev["data"]["session_id"], s4);

    // amy closes hers: she is under the cap again.
    let r = ca
        .post(&format!("/api/v1/sessions/{s1}/close"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let freed = first;
    let (s5, _) = stored(&inbound(&t, cid, "4915", None, "five").await);
    assert_eq!(session(&t.admin, s5).await["assignee"], freed);

    // Activity expires after the presence window; an open stream does not.
    t.clock
        .advance_ms(switchboard::domain::presence::ONLINE_WINDOW_MS + 60_000);
    let online = t.state().presence.online(t.state().now());
    assert!(
        online.contains(&c) && !online.contains(&a) && !online.contains(&b),
        "{online:?}"
    );
    drop(stream);
    t.stop().await;
}

// --- transfer ----------------------------------------------------------------------------

#[tokio::test]
async fn transfer_to_colleague_or_queue_with_note_and_clear_errors() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("alice", "agent").await;
    let (b, cb) = t.user("bruno", "agent").await;
    let (outsider, _) = t.user("olga", "agent").await;
    let (gone, _) = t.user("gus", "agent").await;
    let cid = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b,gone]}))
        .await;
    let (sid, _) = stored(&inbound(&t, cid, "+4930555", Some("Carl"), "need help").await);
    ca.post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    ca.post(
        &format!("/api/v1/sessions/{sid}/messages"),
        json!({"text":"hi Carl"}),
    )
    .await;
    // gus is disabled
    let r = t
        .admin
        .patch(&format!("/api/v1/users/{gone}"), json!({"disabled": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let url = format!("/api/v1/sessions/{sid}/transfer");
    let r = ca.post(&url, json!({"to_user_id": gone})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
    let r = ca.post(&url, json!({"to_user_id": outsider})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a member")
    );
    let r = ca.post(&url, json!({"to_user_id": 9999})).await;
    assert_eq!(r.status, 422);
    // bruno is not the owner: he cannot take it away from alice.
    let r = cb.post(&url, json!({"to_user_id": b})).await;
    assert_eq!(r.status, 409);

    let mut stream = events(&cb).await;
    let r = ca
        .post(
            &url,
            json!({"to_user_id": b, "note": "VIP, wants a callback"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["assignee"], b);
    let ev = wait_event(&mut stream, "session.transferred").await;
    assert_eq!(ev["data"]["session_id"], sid);
    assert_eq!(ev["data"]["note"], "VIP, wants a callback");
    assert_eq!(ev["data"]["from_user_id"], a);
    // The receiver sees the whole history and the note in the timeline.
    let msgs = cb
        .get(&format!("/api/v1/sessions/{sid}/messages"))
        .await
        .json();
    assert_eq!(msgs.as_array().unwrap().len(), 2);
    let tl = cb
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let tr = tl
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "transferred")
        .unwrap()
        .clone();
    assert!(
        tr["detail"]
            .as_str()
            .unwrap()
            .contains("VIP, wants a callback")
    );
    assert_eq!(tr["actor"], a);
    assert_eq!(tr["actor_name"], "alice");

    // Back to the queue.
    let r = cb
        .post(&url, json!({"to_user_id": null, "note": "off shift"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["assignee"].is_null());
    let r = cb.post(&url, json!({})).await;
    assert_eq!(r.status, 409, "already in the queue");
    t.stop().await;
}

// --- templates and canned replies -------------------------------------------------------

#[tokio::test]
async fn template_send_checks_parameters_and_stores_name_language_params() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("tina", "agent").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a]}))
        .await;
    let tpl = json!({"name":"order_update","language":"en_US",
        "body":"Hi {{1}}, your order {{2}} has shipped."});
    assert_eq!(ca.post("/api/v1/templates", tpl.clone()).await.status, 403);
    let r = t.admin.post("/api/v1/templates", tpl.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["params"], 2);
    let tid = r.json()["id"].as_u64().unwrap();
    assert_eq!(t.admin.post("/api/v1/templates", tpl).await.status, 409);
    let bad = t
        .admin
        .post(
            "/api/v1/templates",
            json!({"name":"x","language":"en","body":"gap {{2}}"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    let list = ca
        .get(&format!("/api/v1/templates?channel_id={cid}"))
        .await
        .json();
    assert_eq!(list[0]["name"], "order_update");

    let before = count_rows(&t, tables::MESSAGES).await;
    // Missing parameter: 422, nothing stored.
    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": cid, "to": "+49 151 2345678",
            "template": {"name":"order_update","language":"en_US","params":["Ann"]}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 missing")
    );
    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": cid, "to": "+49 151 2345678",
            "template": {"name":"order_update","language":"en_US","params":["Ann", " "]}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": cid, "to": "+49 151 2345678",
            "template": {"name":"not_registered","language":"en_US","params":[]}}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(
        count_rows(&t, tables::MESSAGES).await,
        before,
        "nothing stored"
    );
    assert_eq!(count_rows(&t, tables::OUTBOX).await, 0);

    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": cid, "to": "+49 151 2345678",
            "template": {"name":"order_update","language":"en_US","params":["Ann","A-42"]}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let m = r.json()["message"].clone();
    assert_eq!(m["text"], "Hi Ann, your order A-42 has shipped.");
    assert_eq!(
        m["template"],
        json!({"name":"order_update","language":"en_US","params":["Ann","A-42"]})
    );
    assert_eq!(m["status"], "queued");
    // It is in the outbox for the delivery worker, with the template reference.
    let mid = m["id"].as_u64().unwrap();
    let (outboxed, stored_tpl) = t
        .state()
        .store
        .read(move |rtx| {
            let ob = rtx.open_table(tables::OUTBOX)?;
            let item: Option<switchboard::domain::messages::OutboxItem> =
                codec::get(&ob, &codec::k1(mid))?;
            let m = switchboard::domain::messages::get(rtx, mid)?.unwrap();
            Ok((item.is_some(), m.template))
        })
        .await
        .unwrap();
    assert!(outboxed);
    assert_eq!(stored_tpl.unwrap().params, vec!["Ann", "A-42"]);
    // Updating and deleting are admin changes, audited.
    let r = t
        .admin
        .send(
            t.admin
                .http
                .put(t.admin.url(&format!("/api/v1/templates/{tid}")))
                .headers(t.admin.headers(true))
                .json(&json!({"name":"order_update","language":"en_US","body":"Hello {{1}}: {{2}} shipped"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        t.admin
            .delete(&format!("/api/v1/templates/{tid}"))
            .await
            .status,
        204
    );
    let actions = audit_actions(&t).await;
    for a in ["template.create", "template.update", "template.delete"] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
    t.stop().await;
}

#[tokio::test]
async fn canned_replies_shared_and_personal() {
    let t = TestServer::start().await;
    let (_, ca) = t.user("carla", "agent").await;
    let (_, cd) = t.user("dora", "agent").await;
    let r = ca
        .post(
            "/api/v1/canned",
            json!({"shortcut":"/hours","text":"We are open 9-17.","shared":true}),
        )
        .await;
    assert_eq!(r.status, 403, "agents cannot make shared replies");
    let r = t
        .admin
        .post(
            "/api/v1/canned",
            json!({"shortcut":"hours","text":"We are open 9-17.","shared":true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = ca
        .post(
            "/api/v1/canned",
            json!({"shortcut":"hello","text":"Hello, Carla here!"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let mine = r.json()["id"].as_u64().unwrap();
    assert_eq!(
        ca.post("/api/v1/canned", json!({"shortcut":"hello","text":"again"}))
            .await
            .status,
        409
    );
    let hits = ca.get("/api/v1/canned?q=/h").await.json();
    let shortcuts: Vec<&str> = hits
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["shortcut"].as_str().unwrap())
        .collect();
    assert_eq!(shortcuts, vec!["hello", "hours"]);
    let hits = cd.get("/api/v1/canned?q=h").await.json();
    assert_eq!(
        hits.as_array().unwrap().len(),
        1,
        "dora sees only the shared one"
    );
    assert_eq!(
        cd.delete(&format!("/api/v1/canned/{mine}")).await.status,
        404
    );
    assert_eq!(
        ca.delete(&format!("/api/v1/canned/{mine}")).await.status,
        204
    );
    assert!(
        audit_actions(&t)
            .await
            .contains(&"canned.create".to_string())
    );
    t.stop().await;
}

// --- tags, results, block list, timeline -------------------------------------------------

#[tokio::test]
async fn tags_results_and_the_timeline_of_every_action() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("tom", "agent").await;
    let (b, _) = t.user("uma", "agent").await;
    let cid = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b]}))
        .await;
    let r = ca
        .put_json("/api/v1/tags", json!({"items":["billing"]}))
        .await;
    assert_eq!(r.status, 403);
    let r = t
        .admin
        .put_json(
            "/api/v1/tags",
            json!({"items":["billing"," vip ","billing",""]}),
        )
        .await;
    assert_eq!(r.json()["items"], json!(["billing", "vip"]));
    t.admin
        .put_json("/api/v1/results", json!({"items":["solved","no answer"]}))
        .await;
    let (sid, _) = stored(&inbound(&t, cid, "+4930777", None, "invoice?").await);
    let (other, _) = stored(&inbound(&t, cid, "+4930778", None, "hello").await);

    ca.post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    ca.post(
        &format!("/api/v1/sessions/{sid}/notes"),
        json!({"text":"checking"}),
    )
    .await;
    let r = ca
        .put_json(
            &format!("/api/v1/sessions/{sid}/tags"),
            json!({"tags":["fraud"]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = ca
        .put_json(
            &format!("/api/v1/sessions/{sid}/tags"),
            json!({"tags":["billing","vip"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let list = ca.get("/api/v1/sessions?tag=billing").await.json();
    let ids: Vec<u64> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![sid], "only the tagged session; not {other}");
    ca.post(
        &format!("/api/v1/sessions/{sid}/transfer"),
        json!({"to_user_id": b, "note":"yours"}),
    )
    .await;
    // Without a PBX link the call is refused with the tel: fallback (and not recorded).
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/call"), json!({}))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.code(), "conflict");
    assert_eq!(
        r.json()["error"]["message"],
        "no PBX link configured; use tel:+4930777"
    );
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/close"),
            json!({"result":"maybe"}),
        )
        .await;
    assert_eq!(r.status, 422, "results come from the admin's list");
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/close"),
            json!({"result":"solved","note":"paid"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/archive"), json!({}))
        .await;
    t.admin
        .post(&format!("/api/v1/sessions/{sid}/unarchive"), json!({}))
        .await;
    let contact = session(&t.admin, sid).await["contact_id"].as_u64().unwrap();
    let r = ca
        .post(
            &format!("/api/v1/contacts/{contact}/block"),
            json!({"reason":"spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let tl = t
        .admin
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let kinds: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec![
            "opened",
            "picked_up",
            "note",
            "tagged",
            "transferred",
            "closed",
            "archived",
            "unarchived",
            "blocked"
        ]
    );
    for e in tl.as_array().unwrap().iter().skip(1) {
        assert!(
            e["actor"].as_u64().is_some() && e["at"].as_i64().unwrap() > 0,
            "{e}"
        );
    }
    assert!(tl[5]["detail"].as_str().unwrap().contains("solved: paid"));
    // Agents outside the channel get 404 for the timeline.
    let (_, stranger) = t.user("vic", "agent").await;
    assert_eq!(
        stranger
            .get(&format!("/api/v1/sessions/{sid}/timeline"))
            .await
            .status,
        404
    );
    let actions = audit_actions(&t).await;
    for a in ["tags.update", "results.update", "contact.block"] {
        assert!(actions.contains(&a.to_string()), "{a} in {actions:?}");
    }
    t.stop().await;
}

#[tokio::test]
async fn blocked_contacts_messages_are_stored_nowhere_and_admins_lift_blocks() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("bea", "agent").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a]}))
        .await;
    let (sid, _) = stored(&inbound(&t, cid, "4917000", Some("Spammer"), "buy now").await);
    let contact = session(&ca, sid).await["contact_id"].as_u64().unwrap();
    let r = ca
        .post(
            &format!("/api/v1/contacts/{contact}/block"),
            json!({"reason":""}),
        )
        .await;
    assert_eq!(r.status, 422, "a reason is required");
    let r = ca
        .post(
            &format!("/api/v1/contacts/{contact}/block"),
            json!({"reason":"spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["blocked"]["reason"], "spam");

    let (msgs, sessions, pids, events) = (
        count_rows(&t, tables::MESSAGES).await,
        count_rows(&t, tables::SESSIONS).await,
        count_rows(&t, tables::PROVIDER_IDS).await,
        count_rows(&t, tables::EVENTS).await,
    );
    let r = inbound(&t, cid, "4917000", Some("Spammer"), "buy more").await;
    assert_eq!(r, Ingested::Blocked);
    assert_eq!(count_rows(&t, tables::MESSAGES).await, msgs);
    assert_eq!(count_rows(&t, tables::SESSIONS).await, sessions);
    assert_eq!(count_rows(&t, tables::PROVIDER_IDS).await, pids);
    assert_eq!(count_rows(&t, tables::EVENTS).await, events);
    let blocked = t
        .state()
        .store
        .read(move |rtx| switchboard::domain::contacts::is_blocked(rtx, cid, "4917000"))
        .await
        .unwrap();
    assert!(blocked, "the webhook path's pre-download check sees it");

    assert_eq!(ca.get("/api/v1/blocks").await.status, 403);
    let list = t.admin.get("/api/v1/blocks").await.json();
    assert_eq!(list[0]["contact"]["id"], contact);
    assert_eq!(list[0]["block"]["by"], a);
    assert_eq!(
        ca.delete(&format!("/api/v1/contacts/{contact}/block"))
            .await
            .status,
        403
    );
    assert_eq!(
        t.admin
            .delete(&format!("/api/v1/contacts/{contact}/block"))
            .await
            .status,
        200
    );
    assert!(
        t.admin
            .get("/api/v1/blocks")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    stored(&inbound(&t, cid, "4917000", None, "sorry").await);
    let actions = audit_actions(&t).await;
    assert!(actions.contains(&"contact.block".to_string()));
    assert!(actions.contains(&"contact.unblock".to_string()));
    t.stop().await;
}

// --- contacts directory -----------------------------------------------------------------

#[tokio::test]
async fn contacts_search_rename_and_merge() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("mia", "agent").await;
    let wa = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a]}))
        .await;
    let sms = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a]}))
        .await;
    let hidden = t
        .channel(json!({"kind":"sms","name":"Other","members":[]}))
        .await;
    let (s_wa, _) = stored(&inbound(&t, wa, "4915511112222", Some("Jo Profile"), "hi").await);
    let (s_sms, _) = stored(&inbound(&t, sms, "+4915533334444", None, "hi again").await);
    stored(&inbound(&t, hidden, "+4915599990000", Some("Hidden"), "x").await);
    let c_wa = session(&ca, s_wa).await["contact_id"].as_u64().unwrap();
    let c_sms = session(&ca, s_sms).await["contact_id"].as_u64().unwrap();

    let hits = ca.get("/api/v1/contacts?q=%2B49%20155%201111").await.json();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["contact"]["id"], c_wa);
    assert_eq!(hits[0]["sessions"][0]["id"], s_wa);
    assert!(
        ca.get("/api/v1/contacts?q=hidden")
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        t.admin
            .get("/api/v1/contacts?q=hidden")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let r = ca
        .patch(
            &format!("/api/v1/contacts/{c_wa}"),
            json!({"name":"Johanna"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["name_edited"], true);
    // The provider's profile name no longer overwrites the agent's edit.
    inbound(&t, wa, "4915511112222", Some("Jo Profile"), "still me").await;
    assert_eq!(
        ca.get(&format!("/api/v1/contacts/{c_wa}")).await.json()["contact"]["name"],
        "Johanna"
    );

    let r = ca
        .post(
            &format!("/api/v1/contacts/{c_wa}/merge"),
            json!({"into": c_wa}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("itself")
    );
    let r = ca
        .post(
            &format!("/api/v1/contacts/{c_sms}/merge"),
            json!({"into": c_wa}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["id"], c_wa);
    let r = ca
        .post(
            &format!("/api/v1/contacts/{c_sms}/merge"),
            json!({"into": c_wa}),
        )
        .await;
    assert_eq!(r.status, 409, "already merged");
    let r = ca
        .post(
            &format!("/api/v1/contacts/{c_wa}/merge"),
            json!({"into": c_sms}),
        )
        .await;
    assert_eq!(r.status, 422, "already the same person");

    let person = ca.get(&format!("/api/v1/contacts/{c_wa}")).await.json();
    assert_eq!(person["aliases"][0]["id"], c_sms);
    let ids: Vec<u64> = person["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert!(ids.contains(&s_wa) && ids.contains(&s_sms), "{ids:?}");
    // The WhatsApp session's history now shows the SMS session, and vice versa.
    let d = ca.get(&format!("/api/v1/sessions/{s_wa}")).await.json();
    assert_eq!(d["history"][0]["id"], s_sms);
    // The SMS number stays the address its messages come from and go to.
    ca.post(&format!("/api/v1/sessions/{s_sms}/close"), json!({}))
        .await;
    let (s_new, _) = stored(&inbound(&t, sms, "+4915533334444", None, "new topic").await);
    assert_eq!(session(&ca, s_new).await["contact_id"], c_sms);
    let person = ca.get(&format!("/api/v1/contacts/{c_sms}")).await.json();
    assert_eq!(person["contact"]["id"], c_wa);
    assert_eq!(person["sessions"].as_array().unwrap().len(), 3);
    assert!(
        timeline_kinds(&ca, s_sms)
            .await
            .contains(&"merged".to_string())
    );
    assert!(
        audit_actions(&t)
            .await
            .contains(&"contact.merge".to_string())
    );
    t.stop().await;
}

// --- escalate to a call ------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Debug)]
enum Ami {
    Success,
    AuthError,
    Busy,
    Hang,
    Drop,
}

async fn read_packet(r: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> Option<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l).await.ok()? == 0 {
            return None;
        }
        assert!(l.ends_with("\r\n"), "AMI lines end with CRLF: {l:?}");
        let l = l.trim_end().to_string();
        if l.is_empty() {
            return Some(lines);
        }
        lines.push(l);
    }
}

fn without_action_id(p: &[String]) -> (Vec<String>, String) {
    let id = p
        .iter()
        .find_map(|l| l.strip_prefix("ActionID: "))
        .expect("every action carries an ActionID")
        .to_string();
    (
        p.iter()
            .filter(|l| !l.starts_with("ActionID:"))
            .cloned()
            .collect(),
        id,
    )
}

/// A fake Asterisk Manager Interface that checks the Login and Originate packets exactly.
/// Returns its port and a handle yielding the packets it received.
async fn fake_ami(mode: Ami) -> (u16, tokio::task::JoinHandle<Vec<Vec<String>>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let h = tokio::spawn(async move {
        let (sock, _) = l.accept().await.unwrap();
        let (r, mut w) = sock.into_split();
        let mut r = BufReader::new(r);
        let mut seen = Vec::new();
        if mode == Ami::Hang {
            // Accept and say nothing until the client gives up.
            let mut buf = String::new();
            let _ = r.read_line(&mut buf).await;
            return seen;
        }
        w.write_all(b"Asterisk Call Manager/7.0.3\r\n")
            .await
            .unwrap();
        let login = read_packet(&mut r).await.unwrap();
        let (body, id) = without_action_id(&login);
        assert_eq!(
            body,
            vec![
                "Action: Login",
                "Username: switchboard",
                "Secret: amisecret123",
                "Events: off"
            ]
        );
        seen.push(login);
        match mode {
            Ami::Drop => return seen,
            Ami::AuthError => {
                w.write_all(
                    format!("Response: Error\r\nActionID: {id}\r\nMessage: Authentication failed\r\n\r\n")
                        .as_bytes(),
                )
                .await
                .unwrap();
                return seen;
            }
            _ => {}
        }
        w.write_all(
            format!(
                "Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        // An unrelated event must not confuse the client.
        w.write_all(b"Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
            .await
            .unwrap();
        let orig = read_packet(&mut r).await.unwrap();
        let (body, id) = without_action_id(&orig);
        assert_eq!(
            body,
            vec![
                "Action: Originate",
                "Channel: PJSIP/201",
                "Context: from-internal",
                "Exten: +4915511112222",
                "Priority: 1",
                "CallerID: Switchboard <100>",
                "Timeout: 30000",
                "Async: true",
            ]
        );
        seen.push(orig);
        w.write_all(
            format!("Response: Success\r\nActionID: {id}\r\nMessage: Originate successfully queued\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let (resp, reason) = if mode == Ami::Busy {
            ("Failure", "5")
        } else {
            ("Success", "4")
        };
        w.write_all(
            format!(
                "Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {id}\r\nResponse: {resp}\r\nChannel: PJSIP/201-00000001\r\nContext: from-internal\r\nExten: +4915511112222\r\nReason: {reason}\r\nUniqueid: 1700000000.1\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        if let Some(logoff) = read_packet(&mut r).await {
            let (body, id) = without_action_id(&logoff);
            assert_eq!(body, vec!["Action: Logoff"]);
            seen.push(logoff);
            let _ = w
                .write_all(format!("Response: Goodbye\r\nActionID: {id}\r\nMessage: Thanks for all the fish.\r\n\r\n").as_bytes())
                .await;
        }
        seen
    });
    (port, h)
}

async fn wa_session_with_extension(t: &TestServer) -> (u64, Client, u64) {
    let (a, ca) = t.user("phil", "agent").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a]}))
        .await;
    let (sid, _) = stored(&inbound(t, cid, "4915511112222", Some("Jo"), "call me").await);
    (a, ca, sid)
}

async fn set_ami(t: &TestServer, port: u16) {
    let r = t
        .admin
        .put_json(
            "/api/v1/pbx",
            json!({"kind":"ami","host":"127.0.0.1","port":port,"username":"switchboard",
                "secret":"amisecret123","context":"from-internal","caller_id":"Switchboard <100>"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !r.text().contains("amisecret123"),
        "secret masked: {}",
        r.text()
    );
}

#[tokio::test]
async fn ami_call_checks_packets_and_reports_success_and_failures() {
    let t = TestServer::start().await;
    let (a, ca, sid) = wa_session_with_extension(&t).await;
    let url = format!("/api/v1/sessions/{sid}/call");

    // No PBX link: 409 with the tel: fallback.
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["error"]["message"],
        "no PBX link configured; use tel:+4915511112222"
    );
    assert_eq!(
        ca.get("/api/v1/pbx/status").await.json()["configured"],
        false
    );
    assert_eq!(ca.get("/api/v1/pbx").await.status, 403);

    let (port, fake) = fake_ami(Ami::Success).await;
    set_ami(&t, port).await;
    // No extension yet: a clear 422.
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("extension")
    );
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;

    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "answered");
    assert_eq!(r.json()["number"], "+4915511112222");
    assert_eq!(r.json()["extension"], "201");
    let packets = fake.await.unwrap();
    assert_eq!(packets.len(), 3, "login, originate, logoff: {packets:?}");
    // The stored secret survives a masked round trip.
    let shown = t.admin.get("/api/v1/pbx").await.json();
    assert_eq!(shown["kind"], "ami");
    assert!(shown["secret"].as_str().unwrap().starts_with('•'));
    let r = t.admin.put_json("/api/v1/pbx", shown.clone()).await;
    assert_eq!(r.status, 200);

    for (mode, status, needle) in [
        (Ami::AuthError, 502, "Authentication failed"),
        (Ami::Busy, 502, "busy"),
        (Ami::Drop, 502, "closed the connection"),
    ] {
        let (port, fake) = fake_ami(mode).await;
        set_ami(&t, port).await;
        let r = ca.post(&url, json!({})).await;
        assert_eq!(r.status, status, "{mode:?}: {}", r.text());
        assert_eq!(r.code(), "pbx_error");
        assert!(
            r.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains(needle),
            "{mode:?}: {}",
            r.text()
        );
        fake.await.unwrap();
    }

    // A PBX that accepts the connection and never answers: bounded by the 10 s budget.
    let (port, _fake) = fake_ami(Ami::Hang).await;
    set_ami(&t, port).await;
    let started = Instant::now();
    let r = ca.post(&url, json!({})).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.code(), "pbx_timeout");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("in time")
    );
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(15),
        "{took:?}"
    );

    // Every attempt is in the timeline with its outcome.
    let tl = ca
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let calls: Vec<String> = tl
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "call")
        .map(|e| e["detail"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert!(calls[0].contains("answered"));
    assert!(calls[1].contains("failed") && calls[1].contains("Authentication failed"));
    assert!(calls[4].contains("in time"));
    t.stop().await;
}

#[tokio::test]
async fn calls_only_for_sms_and_whatsapp_sessions() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("lou", "agent").await;
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;
    let (port, _fake) = fake_ami(Ami::Hang).await;
    set_ami(&t, port).await;
    let fb = t
        .channel(json!({"kind":"messenger","name":"FB","members":[a]}))
        .await;
    let (sid, _) = stored(&inbound(&t, fb, "psid-123", None, "hi").await);
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/call"), json!({}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SMS and WhatsApp")
    );
    t.stop().await;
}

/// A fake Yeastar P-Series Open API: token + dial; `dial_err` makes dialling fail.
async fn fake_yeastar(
    dial_err: Option<(i64, &'static str)>,
) -> (String, std::sync::Arc<AtomicU64>) {
    use axum::extract::Query;
    use axum::http::HeaderMap;
    let tokens = std::sync::Arc::new(AtomicU64::new(0));
    let n = tokens.clone();
    let app = axum::Router::new()
        .route(
            "/openapi/v1.0/get_token",
            axum::routing::post(move |h: HeaderMap, axum::Json(b): axum::Json<Value>| {
                let n = n.clone();
                async move {
                    assert!(
                        h.get("user-agent").unwrap().to_str().unwrap().starts_with("Switchboard/"),
                        "User-Agent on every request"
                    );
                    n.fetch_add(1, Ordering::SeqCst);
                    if b == json!({"username":"client-id","password":"client-secret-xyz"}) {
                        axum::Json(json!({"errcode":0,"errmsg":"SUCCESS","access_token":"tok-1",
                            "access_token_expire_time":1800,"refresh_token":"r","refresh_token_expire_time":86400}))
                    } else {
                        axum::Json(json!({"errcode":10004,"errmsg":"INVALID CLIENT"}))
                    }
                }
            }),
        )
        .route(
            "/openapi/v1.0/call/dial",
            axum::routing::post(
                move |h: HeaderMap,
                      Query(q): Query<std::collections::HashMap<String, String>>,
                      axum::Json(b): axum::Json<Value>| async move {
                    assert!(h.get("user-agent").is_some(), "User-Agent on every request");
                    assert_eq!(q.get("access_token").map(String::as_str), Some("tok-1"));
                    assert_eq!(b["caller"], "201");
                    match dial_err {
                        Some((code, msg)) => axum::Json(json!({"errcode":code,"errmsg":msg})),
                        None => axum::Json(json!({"errcode":0,"errmsg":"SUCCESS","call_id":"1700000000.42"})),
                    }
                },
            ),
        );
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/openapi/v1.0", l.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(l, app).await.unwrap();
    });
    (base, tokens)
}

#[tokio::test]
async fn yeastar_dial_caches_the_token_and_reports_errcode() {
    let t = TestServer::start().await;
    let (a, ca, sid) = wa_session_with_extension(&t).await;
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;
    let (base, token_calls) = fake_yeastar(None).await;
    let r = t
        .admin
        .put_json(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url": base,
            "client_id":"client-id","client_secret":"client-secret-xyz"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("client-secret-xyz"));
    let url = format!("/api/v1/sessions/{sid}/call");
    for _ in 0..2 {
        let r = ca.post(&url, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["call_id"], "1700000000.42");
        assert_eq!(r.json()["status"], "dialing");
    }
    assert_eq!(
        token_calls.load(Ordering::SeqCst),
        1,
        "the token is reused until it expires"
    );

    // Colleague call from internal chat: extension to extension.
    let (b, _) = t.user("quinn", "agent").await;
    let r = ca.post("/api/v1/calls", json!({"to_user_id": b})).await;
    assert_eq!(r.status, 422, "quinn has no extension: {}", r.text());
    t.admin
        .patch(&format!("/api/v1/users/{b}"), json!({"extension":"202"}))
        .await;
    let r = ca.post("/api/v1/calls", json!({"to_user_id": b})).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // errcode != 0 from dial.
    let (base, _) = fake_yeastar(Some((20002, "CALLER BUSY"))).await;
    t.admin
        .put_json(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url": base,
            "client_id":"client-id","client_secret":"client-secret-xyz"}),
        )
        .await;
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 502, "{}", r.text());
    let msg = r.json()["error"]["message"].as_str().unwrap().to_string();
    assert!(
        msg.contains("CALLER BUSY") && msg.contains("20002"),
        "{msg}"
    );

    // Wrong client secret: the token request fails with the PBX's reason.
    t.admin
        .put_json(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url": base,
            "client_id":"client-id","client_secret":"wrong-secret-value"}),
        )
        .await;
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("INVALID CLIENT")
    );
    let tl = timeline_kinds(&ca, sid).await;
    assert_eq!(tl.iter().filter(|k| *k == "call").count(), 4);
    assert!(audit_actions(&t).await.contains(&"pbx.update".to_string()));
    t.stop().await;
}

// --- reports -----------------------------------------------------------------------------

#[tokio::test]
async fn report_numbers_on_a_known_data_set() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("rita", "agent").await;
    let (b, cb) = t.user("sven", "agent").await;
    let wa = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a,b]}))
        .await;
    let sms = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b]}))
        .await;
    let sec = 1000;

    // Day 0: WA session 1 (rita answers after 60 s, closes at 600 s).
    let (s1, _) = stored(&inbound(&t, wa, "491001", None, "q1").await);
    ca.post(&format!("/api/v1/sessions/{s1}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(60 * sec);
    ca.post(
        &format!("/api/v1/sessions/{s1}/messages"),
        json!({"text":"a1"}),
    )
    .await;
    // Day 0: SMS session 2 (sven answers after 120 s, closes at 1200 s).
    let (s2, _) = stored(&inbound(&t, sms, "+491002", None, "q2").await);
    cb.post(&format!("/api/v1/sessions/{s2}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(120 * sec);
    cb.post(
        &format!("/api/v1/sessions/{s2}/messages"),
        json!({"text":"a2"}),
    )
    .await;
    t.clock.advance_ms(420 * sec); // s1 is 600 s old
    ca.post(&format!("/api/v1/sessions/{s1}/close"), json!({}))
        .await;
    t.clock.advance_ms(660 * sec); // s2 (created at 60 s) is 1200 s old
    cb.post(&format!("/api/v1/sessions/{s2}/close"), json!({}))
        .await;
    // An agent-started session counts as a session but has no first-response time.
    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": sms, "to": "+491009", "text":"hello"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let started = r.json()["session_id"].as_u64().unwrap();

    // Day 1: WA session 3 (rita answers after 300 s, stays open).
    t.clock.advance_ms(24 * 3600 * sec);
    // A day later the login sessions have idled out: log in again.
    let ca = Client::login(&t.base(), "rita", crate::support::PASSWORD).await;
    let admin = Client::login(&t.base(), "admin", crate::support::PASSWORD).await;
    let (s3, _) = stored(&inbound(&t, wa, "491003", None, "q3").await);
    ca.post(&format!("/api/v1/sessions/{s3}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(300 * sec);
    ca.post(
        &format!("/api/v1/sessions/{s3}/messages"),
        json!({"text":"a3"}),
    )
    .await;

    // Exact expectations from the stored timestamps (the test clock also moves with real
    // time, by milliseconds), checked against the known offsets.
    let ids = [s1, s2, s3];
    let sessions: Vec<Value> = {
        let mut v = Vec::new();
        for id in ids {
            v.push(session(&admin, id).await);
        }
        v
    };
    let secs = |s: &Value, field: &str| {
        (s[field].as_i64().unwrap() - s["created"].as_i64().unwrap()) / 1000
    };
    let frt: Vec<i64> = sessions
        .iter()
        .map(|s| secs(s, "first_response_at"))
        .collect();
    for (got, want) in frt.iter().zip([60, 120, 300]) {
        assert!((got - want).abs() <= 3, "first response {got} vs {want}");
    }
    let res: Vec<i64> = sessions[..2].iter().map(|s| secs(s, "closed_at")).collect();
    for (got, want) in res.iter().zip([600, 1200]) {
        assert!((got - want).abs() <= 3, "resolution {got} vs {want}");
    }
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    let d0 = day(sessions[0]["created"].as_i64().unwrap());
    let d1 = day(sessions[2]["created"].as_i64().unwrap());

    let r = admin
        .get(&format!("/api/v1/reports?from={d0}&to={d1}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["sessions"], 4);
    assert_eq!(rep["days"], json!([d0, d1]));
    let by_name = |name: &str| {
        rep["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    // s1, s2 and the started session may fall on day 0 or (around midnight) day 1; compare
    // with where they were actually created.
    let mut want_wa = [0u64, 0];
    let mut want_sms = [0u64, 0];
    for (s, is_wa) in sessions.iter().zip([true, false, true]) {
        let i = if day(s["created"].as_i64().unwrap()) == d0 {
            0
        } else {
            1
        };
        if is_wa {
            want_wa[i] += 1
        } else {
            want_sms[i] += 1
        }
    }
    let started_at = session(&admin, started).await["created"].as_i64().unwrap();
    want_sms[if day(started_at) == d0 { 0 } else { 1 }] += 1;
    assert_eq!(by_name("WA")["per_day"], json!(want_wa));
    assert_eq!(by_name("SMS")["per_day"], json!(want_sms));
    assert_eq!(
        rep["per_day_total"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        4
    );

    let mut sorted_frt = frt.clone();
    sorted_frt.sort();
    // Nearest rank: median of 3 = 2nd, p90 of 3 = 3rd; of 2 values: 1st and 2nd.
    assert_eq!(rep["first_response"]["count"], 3);
    assert_eq!(rep["first_response"]["median_s"], sorted_frt[1]);
    assert_eq!(rep["first_response"]["p90_s"], sorted_frt[2]);
    assert_eq!(rep["resolution"]["median_s"], res[0]);
    assert_eq!(rep["resolution"]["p90_s"], res[1]);
    let agent = |id: u64| {
        rep["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["user_id"] == id)
            .unwrap()
            .clone()
    };
    let rita = agent(a);
    assert_eq!(rita["sessions"], 3, "s1, s3 and the started one");
    assert_eq!(rita["first_response"]["count"], 2);
    assert_eq!(rita["first_response"]["median_s"], frt[0].min(frt[2]));
    assert_eq!(rita["first_response"]["p90_s"], frt[0].max(frt[2]));
    assert_eq!(rita["resolution"]["median_s"], res[0]);
    let sven = agent(b);
    assert_eq!(sven["sessions"], 1);
    assert_eq!(sven["first_response"]["median_s"], frt[1]);
    assert_eq!(sven["resolution"]["p90_s"], res[1]);

    // Only day 1: one session.
    let one = admin
        .get(&format!("/api/v1/reports?from={d1}&to={d1}"))
        .await
        .json();
    assert!(one["sessions"].as_u64().unwrap() >= 1);
    assert_eq!(
        admin
            .get("/api/v1/reports?from=2026-02-10&to=2026-02-01")
            .await
            .status,
        422
    );
    assert_eq!(
        admin.get("/api/v1/reports?from=yesterday").await.status,
        422
    );

    let csv = admin
        .get(&format!("/api/v1/reports.csv?from={d0}&to={d1}"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("row,date,channel_id,channel,"), "{text}");
    let overall = text.lines().find(|l| l.starts_with("overall,")).unwrap();
    assert_eq!(
        overall,
        format!(
            "overall,{d0}..{d1},,,,,4,{},{},{},{}",
            sorted_frt[1], sorted_frt[2], res[0], res[1]
        )
    );
    // The page renders the charts server-side.
    let page = admin.get(&format!("/reports?from={d0}&to={d1}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<svg"), "server-rendered SVG chart");
    t.stop().await;
}

// --- pages and API document --------------------------------------------------------------

#[tokio::test]
async fn workflow_pages_render_and_endpoints_are_documented() {
    let t = TestServer::start().await;
    let (_, agent) = t.user("pat", "agent").await;
    for p in [
        "/admin/templates",
        "/admin/canned",
        "/admin/workflow",
        "/admin/pbx",
        "/admin/blocks",
    ] {
        let r = t.admin.get(p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        assert_eq!(agent.get(p).await.status, 403, "{p}");
    }
    for p in ["/contacts", "/reports", "/canned"] {
        assert_eq!(agent.get(p).await.status, 200, "{p}");
    }
    // Admin forms work without JavaScript.
    let r = t
        .admin
        .post_form(
            "/admin/workflow",
            &[("tags", "billing\nvip"), ("results", "solved")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        t.admin.get("/api/v1/tags").await.json()["items"],
        json!(["billing", "vip"])
    );
    let r = t
        .admin
        .post_form(
            "/admin/templates",
            &[
                ("name", "welcome"),
                ("language", "de"),
                ("body", "Hallo {{1}}"),
                ("channel_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(
        t.admin
            .get("/admin/templates")
            .await
            .text()
            .contains("Hallo {{1}}")
    );
    let r = t
        .admin
        .post_form(
            "/admin/pbx",
            &[
                ("kind", "ami"),
                ("host", "127.0.0.1"),
                ("port", "5038"),
                ("username", "u"),
                ("secret", "s3cr3t-value-long"),
                ("context", "from-internal"),
                ("caller_id", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let page = t.admin.get("/admin/pbx").await.text();
    assert!(
        !page.contains("s3cr3t-value-long"),
        "secrets are never shown back"
    );
    let doc = t.admin.get("/api/v1/openapi.json").await.json();
    for p in [
        "/api/v1/sessions/{id}/transfer",
        "/api/v1/sessions/{id}/tags",
        "/api/v1/sessions/{id}/timeline",
        "/api/v1/sessions/{id}/call",
        "/api/v1/calls",
        "/api/v1/templates",
        "/api/v1/canned",
        "/api/v1/tags",
        "/api/v1/results",
        "/api/v1/contacts",
        "/api/v1/contacts/{id}/merge",
        "/api/v1/contacts/{id}/block",
        "/api/v1/blocks",
        "/api/v1/pbx",
        "/api/v1/reports",
        "/api/v1/reports.csv",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} documented");
    }
    t.stop().await;
}

trait PutJson {
    async fn put_json(&self, path: &str, body: Value) -> crate::support::Resp;
}

impl PutJson for Client {
    async fn put_json(&self, path: &str, body: Value) -> crate::support::Resp {
        self.send(
            self.http
                .put(self.url(path))
                .headers(self.headers(true))
                .json(&body),
        )
        .await
    }
}
