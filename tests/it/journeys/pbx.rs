//! The inbox that knows the phone system (issue 21): the live PBX event link on the PBX page,
//! and each colleague's phone as a dot beside their name — internal chat, the transfer dialog,
//! the admin's user list — moved live by the fake AMI's events (as Asterisk frames them).

use serde_json::json;

use crate::browser::skip;
use crate::fakes::ami::{self, FakeAmi, Mode};
use crate::fakes::twilio::FakeTwilio;
use crate::journeys::{Journey, Viewport};
use crate::support::{customer, setup};
use crate::workflow::pbx_link::{cdr, dial_begin, ext_status, link_ami, presence, set_extension};

/// P1: the admin links Asterisk on the PBX page and sees the event link come up; the PBX sends
/// a garbled frame and an unknown event, then restarts: the page shows the count, the last
/// problem and the reconnect, and the link is up again by itself.
#[tokio::test]
async fn journey_p1_pbx_event_link() {
    p1_pbx_event_link(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_p1_pbx_event_link_phone() {
    p1_pbx_event_link(Viewport::Phone).await;
}

async fn p1_pbx_event_link(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("p1_pbx_event_link").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    let admin = j.browser().viewport(vp).login("admin").await;
    admin.open("/admin/pbx").await;
    admin
        .wait_text("#pbx-link", "Event link: off (no PBX linked)")
        .await;
    admin.fill("Host", "127.0.0.1").await;
    admin.fill("Port", &pbx.port.to_string()).await;
    admin.fill("Username", ami::USERNAME).await;
    admin.fill("Secret", ami::SECRET).await;
    admin.click_text("Use Asterisk AMI").await;
    pbx.wait_subscribers(1).await;
    admin.open("/admin/pbx").await;
    admin.wait_text("#pbx-link", "Event link: connected").await;

    pbx.send_events("Garbled line without a colon\r\n\r\n");
    pbx.send_events("Event: AgentCalled\r\nQueue: sales\r\n\r\n");
    pbx.drop_subscribers();
    crate::support::read::wait_for("the link to reconnect", || async {
        (pbx.event_logins() >= 2 && pbx.subscribers() == 1).then_some(())
    })
    .await;
    admin.open("/admin/pbx").await;
    let text = admin.wait_text("#pbx-link", "reconnects 1").await;
    assert!(text.contains("Event link: connected"), "{text}");
    assert!(text.contains("unreadable frames 1"), "{text}");
    assert!(text.contains("unknown event AgentCalled"), "{text}");
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// P2: the colleague's desk phone as a dot: Anna looks Ben up in the internal chat; Ben picks
/// up his phone (the fake AMI's ExtensionStatus) and the dot turns "On a call" without a
/// reload; the transfer dialog says so beside his name; his DND shows on the admin's user
/// list; hanging up turns it back.
#[tokio::test]
async fn journey_p2_presence_dot() {
    p2_presence_dot(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_p2_presence_dot_phone() {
    p2_presence_dot(Viewport::Phone).await;
}

async fn p2_presence_dot(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("p2_presence_dot").await;
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    set_extension(&j.t, j.t.admin_id, "201").await;
    let (ben, _) = j.t.user("ben", "agent").await;
    set_extension(&j.t, ben, "202").await;
    let r =
        j.t.admin
            .patch(
                &format!("/api/v1/users/{ben}"),
                json!({"display_name": "Ben"}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&j.t, &pbx).await;
    pbx.send_events(&ext_status("202", 0, "Idle"));
    let a = customer::sms(&j.t, ch, "+4917612345678", "Hello there").await;

    let anna = j.browser().viewport(vp).login("admin").await;
    anna.nav("Internal").await;
    anna.type_in("#ic-find", "Ben").await;
    let dot = format!(".ic-person[data-user-id='{ben}'] .phone-dot");
    anna.wait_js(
        &format!("document.querySelector(\"{dot}\")?.getAttribute('aria-label') === 'Phone free'"),
        "Ben's phone is free",
    )
    .await;
    pbx.send_events(&ext_status("202", 1, "InUse"));
    anna.wait_js(
        &format!("document.querySelector(\"{dot}\")?.getAttribute('aria-label') === 'On a call'"),
        "Ben's dot turns to on a call",
    )
    .await;
    anna.screenshot_step("internal_chat").await;

    // The transfer dialog says it beside his name.
    anna.open(&format!("/chat/external/{}", a.session_id)).await;
    anna.see("Hello there").await;
    anna.click_text("Pick up").await;
    anna.wait_gone("[data-action=pickup]").await;
    anna.header_action("Transfer").await;
    anna.select("#transfer-to", "Ben (202) · On a call").await;
    anna.wait_text("#transfer-phone", "Ben: On a call").await;
    anna.screenshot_step("transfer").await;
    anna.click_text("Cancel").await;

    // DND on his phone: the admin's user list shows it, and hanging up changes nothing of it.
    pbx.send_events(&presence("202", "dnd"));
    anna.open("/admin/users").await;
    anna.wait_js(
        &format!(
            "document.querySelector(\"[data-phone-user='{ben}']\")?.getAttribute('aria-label') === 'Do not disturb'"
        ),
        "Ben on DND in the user list",
    )
    .await;
    anna.screenshot().await;
    j.finish([anna]).await;
}

/// P3: calls in the conversation: Anna has Jonas's SMS conversation open; the PBX reports his
/// missed call (national format) and later Anna's answered call back; both appear between the
/// messages with direction, number, extension, outcome and talk time, without a reload.
#[tokio::test]
async fn journey_p3_call_in_timeline() {
    p3_call_in_timeline(Viewport::Desktop, false).await;
}

#[tokio::test]
async fn journey_p3_call_in_timeline_phone() {
    p3_call_in_timeline(Viewport::Phone, true).await;
}

async fn p3_call_in_timeline(vp: Viewport, german: bool) {
    if skip() {
        return;
    }
    let j = Journey::start("p3_call_in_timeline").await;
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    set_extension(&j.t, j.t.admin_id, "201").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&j.t, &pbx).await;
    let a = customer::sms(&j.t, ch, "+4917612345678", "Please call me back").await;

    let b = j.browser().viewport(vp);
    let anna = if german { b.german() } else { b }.login("admin").await;
    anna.open(&format!("/chat/external/{}", a.session_id)).await;
    anna.see("Please call me back").await;
    pbx.send_events(&cdr(
        "1700000000.1",
        "017612345678",
        "201",
        "PJSIP/trunk-00000001",
        "PJSIP/201-00000002",
        "NO ANSWER",
        30,
        0,
    ));
    let (incoming, missed, outgoing, answered) = if german {
        (
            "Eingehender Anruf",
            "verpasst",
            "Ausgehender Anruf",
            "angenommen",
        )
    } else {
        ("Incoming call", "missed", "Outgoing call", "answered")
    };
    let text = anna.wait_text("#messages .phone-call", incoming).await;
    assert!(
        text.contains("017612345678") && text.contains(missed),
        "{text}"
    );
    assert!(text.contains("201"), "{text}");
    pbx.send_events(&cdr(
        "1700000000.9",
        "201",
        "017612345678",
        "PJSIP/201-00000003",
        "PJSIP/trunk-00000004",
        "ANSWERED",
        100,
        95,
    ));
    let text = anna
        .wait_text("#messages .phone-call.call-answered", outgoing)
        .await;
    assert!(text.contains(answered) && text.contains("1:35"), "{text}");
    anna.screenshot().await;
    j.finish([anna]).await;
}

/// P4: the screen pop: Jonas calls; the PBX rings Anna's extension 201 (DialBegin), and Anna's
/// browser pops "Calling you: Jonas" with a link to his open conversation, which she follows;
/// Ben (extension 202) gets nothing.
#[tokio::test]
async fn journey_p4_screen_pop() {
    if skip() {
        return;
    }
    let j = Journey::start("p4_screen_pop").await;
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    set_extension(&j.t, j.t.admin_id, "201").await;
    let (ben, _) = j.t.user("ben", "agent").await;
    set_extension(&j.t, ben, "202").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&j.t, &pbx).await;
    let a = customer::sms(&j.t, ch, "+4917612345678", "Invoice question").await;
    let r =
        j.t.admin
            .patch(
                &format!(
                    "/api/v1/contacts/{}",
                    crate::support::read::session(&j.t.admin, a.session_id).await["contact_id"]
                ),
                json!({"name": "Jonas"}),
            )
            .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let anna = j.login("admin").await;
    let ben_b = j.browser().login("ben").await;
    anna.click_text("External").await;
    anna.wait_live().await;
    ben_b.click_text("Internal").await;
    ben_b.wait_live().await;
    pbx.send_events(&dial_begin("+49 176 12345678", "201"));
    anna.wait_toast("Calling you: Jonas").await;
    anna.screenshot_step("toast").await;
    anna.click(".screen-pop .toast-links a").await;
    anna.wait_for(
        |u| u.ends_with(&format!("/chat/external/{}", a.session_id)),
        "the caller's conversation",
    )
    .await;
    anna.see("Invoice question").await;
    assert_eq!(
        ben_b.count(".screen-pop").await,
        0,
        "Ben's phone did not ring"
    );
    anna.screenshot().await;
    j.finish([anna, ben_b]).await;
}

/// P5: the missed-call follow-up: the admin sets it up on the PBX page (WhatsApp, the approved
/// template, 24 h); a customer's call goes unanswered; a conversation with the template
/// appears in the queue, tagged "missed call", with the missed call between the messages.
#[tokio::test]
async fn journey_p5_missed_call_conversation() {
    p5_missed_call_conversation(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_p5_missed_call_conversation_phone() {
    p5_missed_call_conversation(Viewport::Phone).await;
}

async fn p5_missed_call_conversation(vp: Viewport) {
    use crate::fakes::whatsapp::FakeWhatsApp;
    if skip() {
        return;
    }
    let j = Journey::start("p5_missed_call_conversation").await;
    let wa = FakeWhatsApp::start().await;
    setup::whatsapp_channel(&j.t, &wa).await;
    set_extension(&j.t, j.t.admin_id, "201").await;
    let r =
        j.t.admin
            .post(
                "/api/v1/templates",
                json!({"name":"missed_call","language":"en_US",
                    "body":"Sorry we missed your call. How can we help?"}),
            )
            .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&j.t, &pbx).await;

    let admin = j.browser().viewport(vp).login("admin").await;
    admin.open("/admin/pbx").await;
    admin.click("#followup input[name=enabled]").await;
    admin
        .select_labelled("Channel (SMS or WhatsApp)", "WA (WhatsApp)")
        .await;
    admin
        .fill("WhatsApp template name (without parameters)", "missed_call")
        .await;
    admin.fill("At most once per caller in (hours)", "24").await;
    // Saved means the page came back from the server (the typed value alone is there before).
    admin.js("window.__unsaved = true; return 0").await;
    admin.click_text("Save the follow-up").await;
    admin
        .wait_js(
            "!window.__unsaved && document.querySelector('#followup input[name=template]')?.value === 'missed_call'",
            "the follow-up saved",
        )
        .await;

    pbx.send_events(&cdr(
        "1700000000.5",
        "+4917612345678",
        "201",
        "PJSIP/trunk-00000001",
        "PJSIP/201-00000002",
        "NO ANSWER",
        25,
        0,
    ));
    let sid = crate::support::read::wait_for("the follow-up conversation", || async {
        let r =
            j.t.admin
                .get("/api/v1/sessions?scope=unassigned")
                .await
                .json();
        r["sessions"].as_array().and_then(|a| {
            a.iter()
                .find(|s| {
                    s["tags"]
                        .as_array()
                        .is_some_and(|t| t.iter().any(|t| t == "missed call"))
                })
                .and_then(|s| s["id"].as_u64())
        })
    })
    .await;
    admin.nav("External").await;
    admin.see("missed call").await;
    admin.open(&format!("/chat/external/{sid}")).await;
    admin.see("Sorry we missed your call").await;
    admin
        .wait_text("#messages .phone-call", "Incoming call")
        .await;
    admin.screenshot().await;
    j.finish([admin]).await;
}

/// P6: click-to-call with live state: Anna presses Call in Jonas's SMS conversation; the bar
/// above the messages follows the PBX's events (as Asterisk sends them for the originated
/// call): calling → ringing → connected → ended with the talk time; the call lands once in the
/// timeline, and the CDR of the same call afterwards adds nothing. The phone twin is German.
#[tokio::test]
async fn journey_p6_click_to_call_live_state() {
    p6_click_to_call_live_state(Viewport::Desktop, false).await;
}

#[tokio::test]
async fn journey_p6_click_to_call_live_state_phone() {
    p6_click_to_call_live_state(Viewport::Phone, true).await;
}

async fn p6_click_to_call_live_state(vp: Viewport, german: bool) {
    use crate::fakes::ami::originated;
    use crate::support::read::timeline_kinds;
    if skip() {
        return;
    }
    let j = Journey::start(if german {
        "p6_click_to_call_live_state_de"
    } else {
        "p6_click_to_call_live_state"
    })
    .await;
    let sms = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &sms).await;
    set_extension(&j.t, j.t.admin_id, "201").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&j.t, &pbx).await;
    let a = customer::sms(&j.t, ch, "+4917612345678", "Please call me back").await;
    let number = "+4917612345678";
    // The fake answers the Originate with this Uniqueid (the agent's channel).
    let id = "1700000000.1";

    let b = j.browser().viewport(vp);
    let anna = if german { b.german() } else { b }.login("admin").await;
    anna.open(&format!("/chat/external/{}", a.session_id)).await;
    anna.see("Please call me back").await;
    anna.wait_live().await;
    anna.wait_js(
        "document.querySelector('button[data-action=call]') !== null",
        "the Call button uses the PBX",
    )
    .await;
    let w = |en: &'static str, de: &'static str| if german { de } else { en };
    anna.header_action(w("Call", "Anrufen")).await;
    anna.wait_text("#call-bar[data-state=calling]", w("Calling", "Rufe"))
        .await;
    // The PBX took the call (the answer to the click is back): the link's events follow it.
    anna.wait_toast(w("Your phone 201 rings", "Ihr Telefon 201 klingelt"))
        .await;
    anna.screenshot_step("calling").await;

    pbx.send_events(&originated::answered("201", id));
    pbx.send_events(&originated::dial_begin("201", number, id));
    let text = anna
        .wait_text("#call-bar[data-state=ringing]", w("is ringing", "klingelt"))
        .await;
    assert!(text.contains(number), "{text}");
    anna.screenshot_step("ringing").await;

    pbx.send_events(&originated::dial_end("201", number, id, "ANSWER"));
    anna.wait_text(
        "#call-bar[data-state=connected]",
        w("Connected with", "Verbunden mit"),
    )
    .await;
    anna.screenshot_step("connected").await;

    j.t.clock.advance_ms(95_000);
    pbx.send_events(&originated::hangup("201", id));
    let text = anna
        .wait_text("#call-bar[data-state=ended]", w("ended", "beendet"))
        .await;
    assert!(text.contains("1:35"), "{text}");
    let text = anna
        .wait_text(
            "#messages .phone-call.call-answered",
            w("Outgoing call", "Ausgehender Anruf"),
        )
        .await;
    assert!(text.contains("1:35"), "{text}");

    // The PBX's record of the same call (its UniqueID) arrives: still one entry.
    pbx.send_events(&cdr(
        id,
        "201",
        number,
        "PJSIP/201-00000001",
        "PJSIP/trunk-00000002",
        "ANSWERED",
        110,
        95,
    ));
    // Events are applied in order: once the phone is idle again, the CDR has been handled.
    pbx.send_events(&ext_status("201", 0, "Idle"));
    crate::support::read::wait_for("the CDR handled", || async {
        (j.t.state()
            .presence
            .phone(switchboard::ids::UserId(j.t.admin_id))
            .label()
            == Some("idle"))
        .then_some(())
    })
    .await;
    let kinds = timeline_kinds(&j.t.admin, a.session_id).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "phone_call").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(anna.count("#messages .phone-call").await, 1);
    anna.screenshot().await;
    j.finish([anna]).await;
}
