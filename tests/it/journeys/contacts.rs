//! B13 Know the customer: find a contact, see every conversation on every channel (channel
//! names, local dates), the visitor's pre-chat e-mail, rename, and merge two contacts chosen
//! from a picker.

use crate::browser::skip;
use crate::fakes::twilio::FakeTwilio;
use crate::fakes::whatsapp::FakeWhatsApp;
use crate::journeys::Journey;
use crate::support::{Visitor, customer, setup};

#[tokio::test]
async fn journey_b13_know_the_customer() {
    if skip() {
        return;
    }
    let j = Journey::start("b13_know_the_customer").await;
    let wa = FakeWhatsApp::start().await;
    let sms = FakeTwilio::start().await;
    let wa_ch = setup::whatsapp_channel(&j.t, &wa).await;
    let sms_ch = setup::twilio_channel(&j.t, &sms).await;
    let web = setup::livechat_channel(&j.t, &[setup::SITE], true).await;
    // The same person wrote on WhatsApp, by SMS and on the website.
    customer::whatsapp(
        &j.t,
        wa_ch,
        "4915112345678",
        "Jonas Weber",
        "Hi on WhatsApp",
    )
    .await;
    customer::sms(&j.t, sms_ch, "+4915112345678", "Hi by SMS").await;
    let mut v = Visitor::new(&j.t, web, Some(setup::SITE));
    v.start("Jonas W.", "jonas@example.com").await;
    customer::livechat(&v, "Hi from the website").await;

    let anna = j.login("admin").await;
    anna.click_text("Contacts").await;
    anna.wait_text("h1", "Contacts").await;
    anna.fill("Name, number or email", "jonas").await;
    anna.click_text("Search").await;
    anna.see("jonas@example.com").await;
    // Channel names, not ids; dates in the browser's zone, not epoch numbers.
    anna.see("Website").await;
    let page = anna
        .js("return document.querySelector('.wf-contacts').innerText")
        .await;
    let page = page.as_str().unwrap_or_default().to_string();
    assert!(!page.contains("channel "), "{page}");
    assert!(!page.contains("UTC"), "{page}");
    let times = anna
        .js("return [...document.querySelectorAll('.wf-contact time')].map(t => t.textContent)")
        .await;
    let times: Vec<String> = serde_json::from_value(times).unwrap();
    assert_eq!(times.len(), 2, "{page}");
    for t in &times {
        assert!(
            t.contains(':') && !t.contains("UTC") && t.chars().any(|c| c.is_alphabetic()),
            "a local date, not {t:?}"
        );
    }

    // The SMS contact is the same person as Jonas Weber on WhatsApp: merged by picking him.
    anna.fill("Name, number or email", "4915112345678").await;
    anna.click_text("Search").await;
    anna.wait_count(".wf-contact", 2).await;
    let sms_card = anna
        .js("return [...document.querySelectorAll('.wf-contact')].find(c => c.innerText.includes('+4915112345678')).dataset.id")
        .await;
    let sms_card = sms_card.as_str().unwrap().to_string();
    anna.select(
        &format!("#contact-{sms_card} select[name=into]"),
        "Jonas Weber · 4915112345678 · WA",
    )
    .await;
    anna.click(&format!(
        "#contact-{sms_card} .wf-contact-actions form[action$='/merge'] button"
    ))
    .await;
    anna.wait_count(".wf-contact", 1).await;
    let card = anna.wait_text(".wf-contact", "+4915112345678").await;
    assert!(card.contains("SMS") && card.contains("WA"), "{card}");
    assert!(
        card.contains("Hi by SMS") && card.contains("Hi on WhatsApp"),
        "{card}"
    );

    // Rename.
    anna.fill("Name", "Jonas Weber-Schmidt").await;
    anna.click_text("Rename").await;
    anna.wait_text(".wf-contact h2", "Jonas Weber-Schmidt")
        .await;
    anna.screenshot().await;

    // A spammer is blocked from the contact too.
    anna.fill("Name, number or email", "jonas@example.com")
        .await;
    anna.click_text("Search").await;
    anna.wait_count(".wf-contact", 1).await;
    anna.click_text("Block").await;
    anna.wait_text(".wf-contact h2", "blocked").await;
    let blocks = j.t.admin.get("/api/v1/blocks").await.json();
    assert_eq!(blocks.as_array().map(Vec::len), Some(1), "{blocks}");
    j.finish([anna]).await;
}
