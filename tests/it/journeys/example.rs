//! Two small journeys that prove the harness: every helper of it is used once here. They are
//! examples, not journeys of JOURNEYS.md (those are named `journey_<id>_…`).

use crate::browser::skip;
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::Journey;
use crate::support::{customer, setup};

/// The admin signs in, opens the inbox, a WhatsApp customer writes (through the fake's signed
/// webhook), the toast announces it, the admin opens the conversation and picks it up.
#[tokio::test]
async fn journey_example_admin_opens_the_inbox() {
    if skip() {
        return;
    }
    let j = Journey::start("example_admin_opens_the_inbox").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;

    let admin = j.login("admin").await;
    admin.click_text("External").await;
    admin.el("#session-list").await;
    admin.wait_live().await;

    let m = customer::whatsapp(
        &j.t,
        ch,
        "4915112345678",
        "Jonas Weber",
        "Is my order on its way?",
    )
    .await;
    let toast = admin.wait_toast("Jonas Weber").await;
    assert!(toast.contains("New customer waiting"), "{toast}");
    admin.click_text("Jonas Weber").await;
    admin.see("Is my order on its way?").await;
    admin
        .wait_for(
            |u| u.ends_with(&format!("/chat/external/{}", m.session_id)),
            "open the conversation",
        )
        .await;
    admin.click_text("Pick up").await;
    admin.wait_gone("[data-action=pickup]").await;
    admin.assert_absent("[data-action=pickup]").await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// An agent on a phone with a German browser: the pages come in German; she renames herself
/// and saves her language in the settings form.
#[tokio::test]
async fn journey_example_agent_settings_on_a_german_phone() {
    if skip() {
        return;
    }
    let j = Journey::start("example_agent_settings").await;
    j.t.user("anna", "agent").await;
    let anna = j.browser().phone().german().login("anna").await;
    assert_eq!(
        anna.js("return [window.innerWidth, navigator.language]")
            .await,
        serde_json::json!([390, "de-DE"])
    );
    anna.open("/settings").await;
    anna.wait_text("h1", "Einstellungen").await;
    anna.fill("Anzeigename", "Anna Agentin").await;
    anna.select_labelled("Sprache", "Deutsch").await;
    anna.click_text("Speichern").await;
    anna.see("Gespeichert.").await;
    assert_eq!(anna.value("input[name=display_name]").await, "Anna Agentin");
    anna.screenshot().await;
    assert_eq!(
        anna.shot_name(None),
        "de/journeys/example_agent_settings-phone"
    );
    let users = j.t.admin.get("/api/v1/users").await.json();
    let row = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "anna")
        .cloned()
        .unwrap();
    assert_eq!(row["display_name"], "Anna Agentin");
    assert_eq!(row["language"], "de");
    j.finish([anna]).await;
}
