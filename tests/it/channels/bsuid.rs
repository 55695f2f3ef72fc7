//! WhatsApp business-scoped user ids and usernames (2026): contacts keyed by user id when the
//! number is hidden, the number kept when sent, `user_id_update`, merge, and bad input that is
//! acknowledged without changing anything.

use serde_json::{Value, json};

use super::*;
use crate::fakes::whatsapp;
use switchboard::store::tables::{CONTACTS, MESSAGES};

const UID: &str = "US.13491208655302741918";

async fn bsuid_says(
    t: &TestServer,
    ch: u64,
    user_id: &str,
    phone: Option<&str>,
    wamid: &str,
) -> u16 {
    let body = whatsapp::bsuid_text_webhook(
        user_id,
        "sheena.n",
        "Sheena",
        phone,
        wamid,
        "hello",
        now_secs(t),
    );
    post_wa(t, ch, &body).await.status
}

async fn contacts_list(t: &TestServer) -> Vec<Value> {
    let mut out = Vec::new();
    for s in sessions(t).await {
        let c = t
            .admin
            .get(&format!("/api/v1/contacts/{}", s["contact_id"]))
            .await
            .json();
        out.push(c["contact"].clone());
    }
    out
}

#[tokio::test]
async fn the_number_is_kept_when_a_user_id_contact_later_sends_it() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    assert_eq!(bsuid_says(&t, ch, UID, None, "wamid.1").await, 200);
    assert_eq!(
        bsuid_says(&t, ch, UID, Some("16505551234"), "wamid.2").await,
        200
    );
    assert_eq!(t.count(CONTACTS).await, 1, "one person, one contact");
    assert_eq!(sessions(&t).await.len(), 1);
    let c = &contacts_list(&t).await[0];
    assert_eq!(c["address"], UID, "{c}");
    assert_eq!(c["user_id"], UID, "{c}");
    assert_eq!(c["phone"], "16505551234", "{c}");
    assert_eq!(c["username"], "sheena.n", "{c}");
}

#[tokio::test]
async fn a_number_contact_that_hides_its_number_stays_the_same_contact() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    assert_eq!(
        bsuid_says(&t, ch, UID, Some("16505551234"), "wamid.1").await,
        200
    );
    assert_eq!(bsuid_says(&t, ch, UID, None, "wamid.2").await, 200);
    assert_eq!(t.count(CONTACTS).await, 1);
    let c = &contacts_list(&t).await[0];
    assert_eq!(
        c["address"], "16505551234",
        "replies still go to the number: {c}"
    );
    assert_eq!(c["user_id"], UID);
}

#[tokio::test]
async fn user_id_updates_for_unknown_or_taken_ids_change_nothing() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    let upd = |prev: &str, cur: &str| {
        whatsapp::user_id_update_webhook(whatsapp::PHONE_NUMBER_ID, prev, cur, None, 1)
    };
    // Unknown user: acknowledged, nothing created.
    assert_eq!(post_wa(&t, ch, &upd("US.999", "US.998")).await.status, 200);
    assert_eq!(t.count(CONTACTS).await, 0);
    // Malformed ids: acknowledged, nothing changed.
    assert_eq!(post_wa(&t, ch, &upd("nonsense", "US.1")).await.status, 200);
    // Two users; moving one onto the other's id is refused silently.
    assert_eq!(bsuid_says(&t, ch, "US.111", None, "wamid.a").await, 200);
    assert_eq!(bsuid_says(&t, ch, "US.222", None, "wamid.b").await, 200);
    assert_eq!(post_wa(&t, ch, &upd("US.111", "US.222")).await.status, 200);
    let mut addrs: Vec<String> = contacts_list(&t)
        .await
        .iter()
        .map(|c| c["address"].as_str().unwrap().to_owned())
        .collect();
    addrs.sort();
    assert_eq!(addrs, ["US.111", "US.222"]);
    // A malformed sender id: acknowledged, nothing stored.
    let before = t.count(MESSAGES).await;
    assert_eq!(bsuid_says(&t, ch, "us.lower", None, "wamid.c").await, 200);
    assert_eq!(t.count(MESSAGES).await, before);
}

#[tokio::test]
async fn a_user_id_contact_merges_like_any_other() {
    let t = TestServer::start().await;
    let wa = whatsapp::FakeWhatsApp::start().await;
    let ch = whatsapp_channel(&t, &wa).await;
    assert_eq!(bsuid_says(&t, ch, UID, None, "wamid.1").await, 200);
    let body = whatsapp::text_webhook(
        whatsapp::PHONE_NUMBER_ID,
        "4915112345678",
        "Sheena (old phone)",
        "wamid.2",
        "hi",
        now_secs(&t),
    );
    assert_eq!(post_wa(&t, ch, &body).await.status, 200);
    let cs = contacts_list(&t).await;
    let id_of = |addr: &str| {
        cs.iter().find(|c| c["address"] == addr).unwrap()["id"]
            .as_u64()
            .unwrap()
    };
    let (bsuid_c, phone_c) = (id_of(UID), id_of("4915112345678"));
    let r = t
        .admin
        .post(
            &format!("/api/v1/contacts/{bsuid_c}/merge"),
            json!({"into": phone_c}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // She writes again by user id: it joins the surviving contact's history.
    assert_eq!(bsuid_says(&t, ch, UID, None, "wamid.3").await, 200);
    assert_eq!(t.count(MESSAGES).await, 3, "stored, not dropped");
    let c = t
        .admin
        .get(&format!("/api/v1/contacts/{bsuid_c}"))
        .await
        .json();
    assert_eq!(c["contact"]["id"], phone_c, "one person now: {c}");
}
