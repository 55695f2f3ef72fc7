//! Journeys of the conversation view and the composer (JOURNEYS.md B1–B4, B8, B9, B12 and two
//! agents on one customer): everything the agent does is clicked; customers and providers are
//! the fakes.

use serde_json::json;

use crate::browser::skip;
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::Journey;
use crate::support::read::wait_for;
use crate::support::{customer, setup};

/// B4: more than 24 hours after the customer's last message the composer offers templates;
/// choosing one shows a field for each parameter and a preview; a missing or over-long
/// parameter is refused beside the fields (nothing sent); then it is sent and shown.
#[tokio::test]
async fn journey_b4_template_with_parameters() {
    if skip() {
        return;
    }
    let j = Journey::start("b4_template_with_parameters").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&j.t, &wa).await;
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                json!({"name": "order_ready", "language": "en",
                "body": "Hello {{1}}, your order {{2}} is ready."}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["params"], 2);
    let m = customer::whatsapp(&j.t, ch, "4915112345678", "Jonas Weber", "Any news?").await;
    j.t.clock.advance_hours(25);

    let admin = j.login("admin").await;
    admin
        .open(&format!("/chat/external/{}", m.session_id))
        .await;
    admin.see("Any news?").await;
    admin.select("#template-select", "order_ready (en)").await;
    admin.wait_count(".tpl-params input", 2).await;
    admin.see("Hello {{1}}, your order {{2}} is ready.").await;

    // Nothing filled in: refused beside the fields.
    admin.click_text("Send template").await;
    admin
        .wait_text("#composer-error", "Parameter 1 is missing")
        .await;
    // One over-long parameter: refused too.
    admin.fill("Parameter {{1}}", "Jonas").await;
    admin.fill("Parameter {{2}}", &"x".repeat(1025)).await;
    admin.click_text("Send template").await;
    admin
        .wait_text("#composer-error", "Parameter 2 is too long")
        .await;
    let sends = |wa: &FakeWhatsApp| {
        wa.accepted()
            .into_iter()
            .filter(|b| b["type"] == "template")
            .collect::<Vec<_>>()
    };
    assert!(sends(&wa).is_empty(), "nothing is sent for bad input");

    admin.fill("Parameter {{2}}", "A-1042").await;
    admin
        .wait_text(
            "#template-preview",
            "Hello Jonas, your order A-1042 is ready.",
        )
        .await;
    admin.click_text("Send template").await;
    admin
        .wait_text("#messages", "Hello Jonas, your order A-1042 is ready.")
        .await;
    let sent = wait_for("the template at the fake", || {
        let s = sends(&wa);
        async move { s.into_iter().next() }
    })
    .await;
    assert_eq!(sent["template"]["name"], "order_ready");
    let params = &sent["template"]["components"][0]["parameters"];
    assert_eq!(params[0]["text"], "Jonas", "{sent}");
    assert_eq!(params[1]["text"], "A-1042", "{sent}");
    admin.screenshot().await;
    j.finish([admin]).await;
}
