//! WhatsApp templates (parameters checked, name / language / params stored and queued) and
//! canned replies (shared by admins, personal for agents).

use serde_json::json;
use switchboard::ids::MessageId;
use switchboard::store::{codec, tables};

use crate::support::TestServer;
use crate::support::read::audit_actions;

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

    let before = t.count(tables::MESSAGES).await;
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
    assert_eq!(t.count(tables::MESSAGES).await, before, "nothing stored");
    assert_eq!(t.count(tables::OUTBOX).await, 0);

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
            let m = switchboard::domain::messages::get(rtx, MessageId(mid))?.unwrap();
            Ok((item.is_some(), m.template))
        })
        .await
        .unwrap();
    assert!(outboxed);
    assert_eq!(stored_tpl.unwrap().params, vec!["Ann", "A-42"]);
    // Updating and deleting are admin changes, audited.
    let r = t
        .admin
        .put(
            &format!("/api/v1/templates/{tid}"),
            json!({"name":"order_update","language":"en_US","body":"Hello {{1}}: {{2}} shipped"}),
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
