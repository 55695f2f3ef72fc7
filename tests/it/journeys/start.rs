//! B5 Start a conversation: the agent starts one from the inbox, by SMS with free text and
//! by WhatsApp with a template (one field per parameter, a preview), typing a number or
//! picking a contact; an invalid number is refused in the dialog with nothing created.

use serde_json::json;
use switchboard::store::tables::{CONTACTS, SESSIONS};

use crate::browser::skip;
use crate::fakes::twilio::FakeTwilio;
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::{Journey, Viewport};
use crate::support::read::wait_for;
use crate::support::setup;

fn session_id_of(url: &str) -> Option<u64> {
    url.split("/chat/external/")
        .nth(1)?
        .split(['?', '#'])
        .next()?
        .parse()
        .ok()
}

#[tokio::test]
async fn journey_b5_start_a_conversation() {
    b5_start_a_conversation(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b5_start_a_conversation_phone() {
    b5_start_a_conversation(Viewport::Phone).await;
}

async fn b5_start_a_conversation(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b5_start_a_conversation").await;
    let sms = FakeTwilio::start().await;
    let wa = FakeWhatsApp::start().await;
    setup::twilio_channel(&j.t, &sms).await;
    let wa_ch = setup::whatsapp_channel(&j.t, &wa).await;
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                json!({"name": "appointment", "language": "en_US",
                    "body": "Hello {{1}}, your appointment is on {{2}}.", "channel_id": wa_ch}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());

    let anna = j.browser().viewport(vp).login("admin").await;
    anna.click_text("External").await;
    anna.el("#session-list").await;

    // An invalid number: a clear message in the dialog, nothing created.
    anna.click_text("New conversation").await;
    anna.select("#start-channel", "SMS").await;
    anna.type_in("#start-to", "12ab").await;
    anna.type_in("#start-text", "Your glasses are ready.").await;
    anna.click("dialog .dlg-actions button.primary").await;
    anna.wait_text("dialog .error", "international format")
        .await;
    assert_eq!(j.t.count(SESSIONS).await, 0);
    assert_eq!(j.t.count(CONTACTS).await, 0);

    // A valid number: sent through Twilio, the conversation opens and is in the list.
    anna.fill("Number or contact", "+49 151 2345 6789").await;
    anna.fill("Name (optional)", "Mia Wagner").await;
    anna.click("dialog .dlg-actions button.primary").await;
    anna.wait_gone("dialog.dlg").await;
    anna.wait_for(
        |u| session_id_of(&u).is_some(),
        "the new conversation opens",
    )
    .await;
    anna.wait_text(".s-name", "Mia Wagner").await;
    anna.wait_text("#messages", "Your glasses are ready.").await;
    anna.back_to_list().await;
    anna.wait_text("#session-list", "Mia Wagner").await;
    wait_for("Twilio receives the SMS", || async {
        sms.accepted()
            .iter()
            .any(|p| {
                p.iter().any(|(k, v)| k == "To" && v == "+4915123456789")
                    && p.iter()
                        .any(|(k, v)| k == "Body" && v == "Your glasses are ready.")
            })
            .then_some(())
    })
    .await;

    // WhatsApp by template, the contact picked by name.
    anna.click_text("New conversation").await;
    anna.select("#start-channel", "WA · WhatsApp").await;
    anna.type_in("#start-to", "Mia").await;
    anna.click_text("Mia Wagner · +4915123456789").await;
    assert_eq!(anna.value("#start-to").await, "+4915123456789");
    anna.wait_text("#start-template", "appointment (en_US)")
        .await;
    anna.select("#start-template", "appointment (en_US)").await;
    anna.type_in("#start-params [data-param='1']", "Mia").await;
    anna.type_in("#start-params [data-param='2']", "Friday")
        .await;
    anna.wait_text(
        "#start-preview",
        "Hello Mia, your appointment is on Friday.",
    )
    .await;
    anna.screenshot_step("template").await;
    anna.click("dialog .dlg-actions button.primary").await;
    anna.wait_gone("dialog.dlg").await;
    anna.wait_text(".s-sub", "WA").await;
    let sent = wait_for("WhatsApp receives the template", || async {
        wa.accepted().into_iter().find(|b| b["type"] == "template")
    })
    .await;
    assert_eq!(sent["to"], "4915123456789", "{sent}");
    assert_eq!(sent["template"]["name"], "appointment", "{sent}");
    assert_eq!(j.t.count(SESSIONS).await, 2);
    anna.screenshot().await;
    j.finish([anna]).await;
}
