//! Tags, session results and the timeline of every action; the block list (blocked senders'
//! messages are stored nowhere; admins lift blocks).

use serde_json::json;
use switchboard::domain::messages::Ingested;
use switchboard::ids::ChannelId;
use switchboard::store::tables;

use crate::support::TestServer;
use crate::support::customer::{inbound, intake, writes};
use crate::support::read::{audit_actions, session};

#[tokio::test]
async fn tags_results_and_the_timeline_of_every_action() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("tom", "agent").await;
    let (b, _) = t.user("uma", "agent").await;
    let cid = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b]}))
        .await;
    let r = ca.put("/api/v1/tags", json!({"items":["billing"]})).await;
    assert_eq!(r.status, 403);
    let r = t
        .admin
        .put(
            "/api/v1/tags",
            json!({"items":["billing"," vip ","billing",""]}),
        )
        .await;
    assert_eq!(r.json()["items"], json!(["billing", "vip"]));
    t.admin
        .put("/api/v1/results", json!({"items":["solved","no answer"]}))
        .await;
    let sid = writes(&t, cid, "+4930777", None, "invoice?")
        .await
        .session_id;
    let other = writes(&t, cid, "+4930778", None, "hello").await.session_id;

    ca.post(&format!("/api/v1/sessions/{sid}/pickup"), json!({}))
        .await;
    ca.post(
        &format!("/api/v1/sessions/{sid}/notes"),
        json!({"text":"checking"}),
    )
    .await;
    let r = ca
        .put(
            &format!("/api/v1/sessions/{sid}/tags"),
            json!({"tags":["fraud"]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    let r = ca
        .put(
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
    let sid = writes(&t, cid, "4917000", Some("Spammer"), "buy now")
        .await
        .session_id;
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
        t.count(tables::MESSAGES).await,
        t.count(tables::SESSIONS).await,
        t.count(tables::PROVIDER_IDS).await,
        t.count(tables::EVENTS).await,
    );
    let r = intake(&t, cid, inbound("4917000", Some("Spammer"), "buy more")).await;
    assert_eq!(r, Ingested::Blocked);
    assert_eq!(t.count(tables::MESSAGES).await, msgs);
    assert_eq!(t.count(tables::SESSIONS).await, sessions);
    assert_eq!(t.count(tables::PROVIDER_IDS).await, pids);
    assert_eq!(t.count(tables::EVENTS).await, events);
    let blocked = t
        .state()
        .store
        .read(move |rtx| switchboard::domain::contacts::is_blocked(rtx, ChannelId(cid), "4917000"))
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
    writes(&t, cid, "4917000", None, "sorry").await;
    let actions = audit_actions(&t).await;
    assert!(actions.contains(&"contact.block".to_string()));
    assert!(actions.contains(&"contact.unblock".to_string()));
    t.stop().await;
}
