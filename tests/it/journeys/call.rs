//! B10 Call the customer: without a PBX the Call button is a `tel:` link; with one linked the
//! agent's desk phone rings through the PBX (the fake AMI sees the Originate), and the
//! colleague phone icon in the internal chat does the same for a colleague's extension.

use serde_json::json;

use crate::browser::skip;
use crate::fakes::ami::{self, FakeAmi, Mode, without_action_id};
use crate::fakes::twilio::FakeTwilio;
use crate::journeys::{Journey, Viewport};
use crate::support::{customer, setup};

#[tokio::test]
async fn journey_b10_call_the_customer() {
    b10_call_the_customer(Viewport::Desktop).await;
}

/// The same on a phone (390 × 844): nothing sideways at any screenshot.
#[tokio::test]
async fn journey_b10_call_the_customer_phone() {
    b10_call_the_customer(Viewport::Phone).await;
}

async fn b10_call_the_customer(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("b10_call_the_customer").await;
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    let r =
        j.t.admin
            .patch(
                &format!("/api/v1/users/{}", j.t.admin_id),
                json!({"extension": "201"}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let (ben, _) = j.t.user("ben", "agent").await;
    let r =
        j.t.admin
            .patch(&format!("/api/v1/users/{ben}"), json!({"extension": "202"}))
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = customer::sms(&j.t, ch, "+4917612345678", "Please call me back").await;

    // No PBX: a tel: link.
    let anna = j.browser().viewport(vp).login("admin").await;
    anna.open(&format!("/chat/external/{}", a.session_id)).await;
    anna.see("Please call me back").await;
    anna.el("[data-action=call]").await;
    let href = anna
        .js("return document.querySelector('[data-action=call]').getAttribute('href')")
        .await;
    assert_eq!(href, json!("tel:+4917612345678"));

    // The admin links the PBX; the Call button now rings the desk phone first.
    let pbx = FakeAmi::start(Mode::Answered).await;
    let r =
        j.t.admin
            .put(
                "/api/v1/pbx",
                json!({"kind":"ami","host":"127.0.0.1","port":pbx.port,"username":ami::USERNAME,
                    "secret":ami::SECRET,"context":"from-internal","caller_id":"Switchboard <100>"}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    anna.open(&format!("/chat/external/{}", a.session_id)).await;
    anna.see("Please call me back").await;
    anna.wait_js(
        "document.querySelector('button[data-action=call]') !== null",
        "the Call button uses the PBX",
    )
    .await;
    anna.header_action("Call").await;
    anna.wait_toast("Your phone 201 rings").await;
    let packets = pbx.sessions(1).await.remove(0);
    let originate = without_action_id(&packets[1]).0;
    assert!(
        originate.contains(&"Channel: PJSIP/201".to_string()),
        "{originate:?}"
    );
    assert!(
        originate.contains(&"Exten: +4917612345678".to_string()),
        "{originate:?}"
    );
    anna.screenshot_step("customer").await;

    // The colleague phone icon in the internal chat.
    anna.click_text("Internal").await;
    anna.type_in("#ic-find", "ben").await;
    anna.click(&format!(".ic-person[data-user-id='{ben}']"))
        .await;
    anna.wait_js(
        "!document.getElementById('ic-call').hidden",
        "the phone icon",
    )
    .await;
    anna.click("#ic-call").await;
    anna.wait_toast("Your phone 201 rings").await;
    let packets = pbx.sessions(2).await.remove(1);
    let originate = without_action_id(&packets[1]).0;
    assert!(
        originate.contains(&"Channel: PJSIP/201".to_string()),
        "{originate:?}"
    );
    assert!(
        originate.contains(&"Exten: 202".to_string()),
        "{originate:?}"
    );
    anna.screenshot().await;
    j.finish([anna]).await;
}
