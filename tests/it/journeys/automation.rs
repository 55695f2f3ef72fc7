//! Automation journeys (issue 22): the admin sets a channel's business hours and automatic
//! replies on its page (a bad schedule is refused at its field, nothing stored), the website
//! chat then says when the office replies and answers out of hours by itself, and the agent
//! sees that reply marked as automatic; an agent snoozes a conversation, which comes back
//! when the customer writes and when its time comes; on a WhatsApp channel the admin chooses
//! the template for a reply outside the 24-hour window and sees when it was deleted. Desktop
//! in English, phone in German.

use switchboard::domain::automation;
use switchboard::ids::ChannelId;

use crate::automation::{move_to, next_local};
use crate::browser::skip;
use crate::journeys::{Journey, Person, Viewport};
use crate::support::customer::writes;
use crate::support::{TestServer, setup};
use chrono::Weekday;

fn say<'a>(p: &Person, en: &'a str, de: &'a str) -> &'a str {
    if p.shot_name(None).starts_with("de/") {
        de
    } else {
        en
    }
}

/// Waits until the widget's shadow DOM holds `needle` in its visible text.
async fn widget_shows(p: &Person, needle: &str) {
    p.wait_js(
        &format!(
            "(() => {{ const h = document.getElementById('swb-livechat'); \
             return !!h && h.shadowRoot.querySelector('.panel').innerText.includes({}); }})()",
            serde_json::json!(needle)
        ),
        needle,
    )
    .await;
}

async fn stored(j: &Journey, ch: u64) -> automation::Automation {
    j.t.state()
        .store
        .read(move |rtx| automation::get(rtx, ChannelId(ch)))
        .await
        .unwrap()
}

#[tokio::test]
async fn journey_auto1_business_hours_and_automatic_replies() {
    auto1(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto1_business_hours_and_automatic_replies_phone() {
    auto1(Viewport::Phone).await;
}

async fn auto1(vp: Viewport) {
    if skip() {
        return;
    }
    // Logins that survive the clock's jump to Saturday.
    let j = Journey::with_server(
        "auto1_business_hours_and_automatic_replies",
        TestServer::builder().long_logins().start().await,
    );
    let lc = setup::livechat_channel(&j.t, &[], false).await;
    let admin = match vp {
        Viewport::Desktop => j.browser().login("admin").await,
        Viewport::Phone => j.browser().phone().german().login("admin").await,
    };
    let p = &admin;
    p.open(&format!("/admin/channels/{lc}")).await;
    p.click_text(say(
        p,
        "Business hours and automatic replies",
        "Geschäftszeiten und automatische Antworten",
    ))
    .await;
    p.click("#hours-enabled").await;
    // Overlapping times on Monday: refused at Monday's field, nothing stored.
    let monday = say(p, "Monday", "Montag");
    p.fill(monday, "08:00-12:00, 11:00-14:00").await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.wait_text(
        "#hours_mon-error",
        say(p, "must not overlap", "nicht überschneiden"),
    )
    .await;
    p.el("#form-error").await;
    assert_eq!(stored(&j, lc).await, automation::Automation::default());
    p.fits("hours-error").await;
    p.axe("automation-error").await;
    // The week, and a holiday that is no date.
    p.fill(monday, "08:00-12:00, 13:00-17:00").await;
    for (en, de) in [
        ("Tuesday", "Dienstag"),
        ("Wednesday", "Mittwoch"),
        ("Thursday", "Donnerstag"),
        ("Friday", "Freitag"),
    ] {
        p.fill(say(p, en, de), "08:00-17:00").await;
    }
    let holidays = say(
        p,
        "Holidays (closed all day)",
        "Feiertage (ganztägig geschlossen)",
    );
    p.fill(holidays, "2026-12-24\n2026-13-01").await;
    let ooh = say(
        p,
        "We are closed now and reply on the next working day.",
        "Wir haben geschlossen und antworten am nächsten Werktag.",
    );
    p.fill(
        say(
            p,
            "Out of hours (once per closed period)",
            "Außerhalb der Geschäftszeiten (einmal pro Schließzeit)",
        ),
        ooh,
    )
    .await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.wait_text("#holidays-error", "2026-13-01").await;
    assert_eq!(stored(&j, lc).await, automation::Automation::default());
    // What was typed is still there to fix.
    assert_eq!(p.value("#hours_tue").await, "08:00-17:00");
    p.fill(holidays, "2026-12-24").await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.see(say(p, "Saved.", "Gespeichert.")).await;
    let a = stored(&j, lc).await;
    assert!(a.hours.enabled);
    assert_eq!(a.hours.holidays, vec!["2026-12-24".to_string()]);
    assert_eq!(a.out_of_hours, ooh);
    p.axe("automation-saved").await;
    p.screenshot_step("settings").await;

    // Saturday morning: the widget says when the office replies and answers by itself.
    move_to(&j.t, next_local(&j.t, Weekday::Sat, 10, 0));
    p.open(&format!("/livechat/demo/{lc}")).await;
    p.click_text(say(p, "Open chat", "Chat öffnen")).await;
    widget_shows(
        p,
        say(
            p,
            "We reply on Monday from 8:00.",
            "Wir antworten am Montag ab 8:00 Uhr.",
        ),
    )
    .await;
    p.fill(say(p, "Message", "Nachricht"), "Is anyone there?")
        .await;
    p.click_text(say(p, "Send", "Senden")).await;
    widget_shows(p, ooh).await;
    // Message times in the widget: 24-hour, in the widget's language (not the browser's default).
    widget_shows(p, "10:00").await;
    let meta = p
        .js("return [...document.getElementById('swb-livechat').shadowRoot.querySelectorAll('.meta')].map(e => e.textContent).join(' ');")
        .await;
    assert!(
        !meta.to_string().contains("AM") && !meta.to_string().contains("PM"),
        "{meta}"
    );
    p.screenshot_step("widget").await;

    // The agent sees the reply in the conversation, marked as automatic.
    p.open("/chat/external").await;
    p.click(".srow a").await;
    p.wait_text("#messages", "Is anyone there?").await;
    let bubble = p
        .wait_text(
            ".msg.out",
            say(p, "Automatic reply", "Automatische Antwort"),
        )
        .await;
    assert!(bubble.contains(ooh), "{bubble}");
    p.screenshot().await;
    j.finish([admin]).await;
}

#[tokio::test]
async fn journey_auto3_snooze_a_conversation() {
    auto3(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto3_snooze_a_conversation_phone() {
    auto3(Viewport::Phone).await;
}

async fn auto3(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("auto3_snooze_a_conversation").await;
    let ch =
        j.t.channel(serde_json::json!({"kind": "sms", "name": "SMS"}))
            .await;
    let sid = writes(
        &j.t,
        ch,
        "+4915100000009",
        Some("Sam Snooze"),
        "Call me next week",
    )
    .await
    .session_id;
    let agent = match vp {
        Viewport::Desktop => j.browser().login("admin").await,
        Viewport::Phone => j.browser().phone().german().login("admin").await,
    };
    let p = &agent;
    let row = format!(".srow[data-id=\"{sid}\"]");
    p.open("/chat/external").await;
    p.wait_live().await;
    p.click_text("Sam Snooze").await;
    p.wait_text("#messages", "Call me next week").await;
    p.header_action(say(p, "Snooze", "Zurückstellen")).await;
    p.select("#snooze-when", say(p, "In one hour", "In einer Stunde"))
        .await;
    p.fits("snooze-dialog").await;
    p.click("dialog.dlg button[type=submit]").await;
    p.wait_gone("dialog.dlg").await;
    p.wait_text(".s-sub", say(p, "Snoozed until", "Zurückgestellt bis"))
        .await;
    p.back_to_list().await;
    p.wait_gone(&row).await;
    // It waits in the Snoozed list.
    p.click_text(say(p, "Snoozed", "Zurückgestellt")).await;
    p.el(&row).await;
    p.screenshot_step("snoozed").await;
    p.click_text(say(p, "All", "Alle")).await;
    p.wait_gone(&row).await;
    // The customer writes: it is back at once.
    writes(
        &j.t,
        ch,
        "+4915100000009",
        Some("Sam Snooze"),
        "Actually, today?",
    )
    .await;
    p.el(&row).await;
    // Snoozed again; the time comes (the automation job by the test clock): back again.
    p.click_text("Sam Snooze").await;
    p.wait_text("#messages", "Actually, today?").await;
    p.header_action(say(p, "Snooze", "Zurückstellen")).await;
    p.click("dialog.dlg button[type=submit]").await;
    p.wait_gone("dialog.dlg").await;
    p.back_to_list().await;
    p.wait_gone(&row).await;
    j.t.clock.advance_ms(2 * 3_600_000);
    switchboard::jobs::run_now(j.t.state().job_ctx(), "automation")
        .await
        .unwrap();
    p.el(&row).await;
    p.screenshot().await;
    j.finish([agent]).await;
}

#[tokio::test]
async fn journey_auto4_response_target() {
    auto4(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto4_response_target_phone() {
    auto4(Viewport::Phone).await;
}

/// The admin gives a channel a 10-minute first-response target; a waiting conversation shows
/// its countdown in the list and the header; when it is missed the agents are told once (a
/// toast) and it turns red; the report shows the share met.
async fn auto4(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::with_server(
        "auto4_response_target",
        TestServer::builder().long_logins().start().await,
    );
    let ch =
        j.t.channel(serde_json::json!({"kind": "sms", "name": "SMS"}))
            .await;
    let admin = match vp {
        Viewport::Desktop => j.browser().login("admin").await,
        Viewport::Phone => j.browser().phone().german().login("admin").await,
    };
    let p = &admin;
    p.open(&format!("/admin/channels/{ch}/automation")).await;
    let target = say(
        p,
        "First response within (minutes of business hours)",
        "Erste Antwort innerhalb von (Minuten der Geschäftszeit)",
    );
    p.fill(target, "10").await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.see(say(p, "Saved.", "Gespeichert.")).await;
    assert_eq!(stored(&j, ch).await.response_minutes, 10);

    p.open("/chat/external").await;
    p.wait_live().await;
    let sid = writes(
        &j.t,
        ch,
        "+4915100000010",
        Some("Tara Target"),
        "Hello, anyone?",
    )
    .await
    .session_id;
    let row = format!(".srow[data-id=\"{sid}\"]");
    p.wait_text(&format!("{row} .sla"), say(p, "10 min left", "noch 10 min"))
        .await;
    p.click_text("Tara Target").await;
    p.wait_text(".s-head .sla", say(p, "left", "noch")).await;
    p.axe("response-countdown").await;
    p.screenshot_step("countdown").await;
    // The target passes (the automation job by the test clock): told once, red.
    j.t.clock.advance_ms(11 * 60_000);
    switchboard::jobs::run_now(j.t.state().job_ctx(), "automation")
        .await
        .unwrap();
    p.wait_toast(say(
        p,
        "Response target missed",
        "Antwortzeit-Ziel verpasst",
    ))
    .await;
    p.el(".s-head .sla.sla-over").await;
    p.screenshot_step("missed").await;
    // The report: none of one met.
    p.open("/reports").await;
    p.wait_text("#kpi-sla", "0 %").await;
    p.wait_text("#kpi-sla", "(0/1)").await;
    p.screenshot().await;
    j.finish([admin]).await;
}

#[tokio::test]
async fn journey_auto6_whatsapp_template_outside_the_window() {
    auto6(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto6_whatsapp_template_outside_the_window_phone() {
    auto6(Viewport::Phone).await;
}

/// On a WhatsApp channel's automation page the admin chooses the template the busy reply goes
/// as outside the 24-hour window (only templates without parameters are offered); once the
/// template is deleted, the page says the choice is gone.
async fn auto6(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("auto6_whatsapp_template_outside_the_window").await;
    let fake = crate::fakes::whatsapp::FakeWhatsApp::start().await;
    let wa = setup::whatsapp_channel(&j.t, &fake).await;
    let mut ids = Vec::new();
    for body in [
        serde_json::json!({"name": "office_closed", "language": "en_US", "channel_id": wa,
            "body": "Thanks for your message. We will answer as soon as we are back."}),
        serde_json::json!({"name": "named_hello", "language": "en_US", "body": "Hello {{1}}."}),
    ] {
        let r = j.t.admin.post("/api/v1/templates", body).await;
        assert_eq!(r.status, 201, "{}", r.text());
        ids.push(r.json()["id"].as_u64().unwrap());
    }
    let admin = match vp {
        Viewport::Desktop => j.browser().login("admin").await,
        Viewport::Phone => j.browser().phone().german().login("admin").await,
    };
    let p = &admin;
    p.open(&format!("/admin/channels/{wa}/automation")).await;
    p.fill(
        say(
            p,
            "All agents busy (after the minutes below without an answer)",
            "Alle Mitarbeiter beschäftigt (nach den Minuten unten ohne Antwort)",
        ),
        "All our agents are busy; we answer soon.",
    )
    .await;
    p.fill(
        say(
            p,
            "Minutes without an answer before the busy reply",
            "Minuten ohne Antwort bis zur Beschäftigt-Antwort",
        ),
        "10",
    )
    .await;
    // Only the template without parameters is offered.
    let offered = p
        .js("return [...document.querySelectorAll('#wa_busy option')].map(o => o.textContent.trim());")
        .await;
    assert_eq!(
        offered,
        serde_json::json!([
            say(p, "No template (skip)", "Keine Vorlage (entfällt)"),
            "office_closed (en_US)"
        ])
    );
    p.select("#wa_busy", "office_closed (en_US)").await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.see(say(p, "Saved.", "Gespeichert.")).await;
    assert_eq!(p.value("#wa_busy").await, ids[0].to_string());
    assert_eq!(stored(&j, wa).await.wa_templates.busy, Some(ids[0]));
    p.axe("automation, WhatsApp template chosen").await;
    p.js("document.getElementById('wa-templates').scrollIntoView({block: 'center'}); return 0;")
        .await;
    p.screenshot_step("chosen").await;

    // Someone deletes the template: the page says the choice is gone.
    let r =
        j.t.admin
            .delete(&format!("/api/v1/templates/{}", ids[0]))
            .await;
    assert!(r.status < 300, "{}", r.text());
    p.open(&format!("/admin/channels/{wa}/automation")).await;
    p.wait_text(
        "#wa_busy-error",
        say(
            p,
            "The chosen template no longer exists",
            "Die gewählte Vorlage gibt es nicht mehr",
        ),
    )
    .await;
    p.axe("automation, chosen template gone").await;
    p.js("document.getElementById('wa-templates').scrollIntoView({block: 'center'}); return 0;")
        .await;
    p.screenshot().await;
    j.finish([admin]).await;
}
