//! The contacts directory: search (only what the agent may see), rename, merge.

use serde_json::json;

use crate::support::TestServer;
use crate::support::customer::writes;
use crate::support::read::{audit_actions, session, timeline_kinds};

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
    let s_wa = writes(&t, wa, "4915511112222", Some("Jo Profile"), "hi")
        .await
        .session_id;
    let s_sms = writes(&t, sms, "+4915533334444", None, "hi again")
        .await
        .session_id;
    writes(&t, hidden, "+4915599990000", Some("Hidden"), "x").await;
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
    writes(&t, wa, "4915511112222", Some("Jo Profile"), "still me").await;
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
    let s_new = writes(&t, sms, "+4915533334444", None, "new topic")
        .await
        .session_id;
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
