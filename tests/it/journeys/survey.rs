//! The customer-satisfaction survey (docs/automation.md § Customer-satisfaction survey) as
//! people meet it: the admin writes the question and a welcome with its German variant on the
//! channel's automation page; a website visitor (the real widget on another origin) writes and
//! gets the welcome in the browser's language (German on the phone), the agent ends the chat by
//! clicking, the visitor rates with the widget's buttons, the agent sees the rating in the
//! timeline and, live, as "★ 4/5" in the header, and the admin in the reports. An SMS customer (Twilio's signed webhook) first answers out of range,
//! is asked again, then rates. Desktop in English, phone in German.

use crate::browser::{keys, skip};
use crate::fakes::twilio::FakeTwilio;
use crate::journeys::{Journey, Person, Viewport};
use crate::support::read::wait_for;
use crate::support::{customer, setup};

const QUESTION: &str = "How did we do? Tap or reply 1 (poor) to 5 (excellent).";
const WELCOME: &str = "Welcome to Sunnyside Dental! An assistant will answer shortly.";
const WELCOME_DE: &str = "Willkommen bei Sunnyside Dental! Gleich antwortet jemand.";

fn say<'a>(p: &Person, en: &'a str, de: &'a str) -> &'a str {
    if p.shot_name(None).starts_with("de/") {
        de
    } else {
        en
    }
}

async fn person(j: &Journey, vp: Viewport, login: Option<&str>) -> Person {
    let b = match vp {
        Viewport::Desktop => j.browser(),
        Viewport::Phone => j.browser().phone().german(),
    };
    match login {
        Some(u) => b.login(u).await,
        None => b.open().await,
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

/// A stand-in office website on its own origin; the snippet is added once the channel exists.
struct Site {
    origin: String,
    listener: tokio::net::TcpListener,
}

impl Site {
    async fn bind() -> Site {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        Site { origin, listener }
    }

    /// Serves the office page carrying the widget snippet of `channel`; returns its URL.
    fn serve(self, switchboard: &str, channel: u64) -> String {
        let html = format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Sunnyside Dental</title></head><body><main><h1>Sunnyside Dental</h1>\
             <p>Opening hours: Mon–Fri 8–18.</p></main>\
             <script src=\"{switchboard}/widget.js\" data-channel=\"{channel}\" async></script>\
             </body></html>"
        );
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let h = html.clone();
                async move { axum::response::Html(h) }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(self.listener, app).await;
        });
        format!("{}/", self.origin)
    }
}

/// The admin writes the welcome, its German variant (in the "German (Deutsch)" group under
/// the defaults) and the survey question on the channel's automation page and saves them.
/// (SMS: the question alone.)
async fn write_the_texts(p: &Person, ch: u64, welcome: bool) {
    p.open(&format!("/admin/channels/{ch}/automation")).await;
    p.fill(
        say(
            p,
            "Survey question when a conversation ends",
            "Umfrage-Frage am Gesprächsende",
        ),
        QUESTION,
    )
    .await;
    if !welcome {
        p.click_text(say(p, "Save", "Speichern")).await;
        p.see(say(p, "Saved.", "Gespeichert.")).await;
        assert_eq!(p.value("#survey").await, QUESTION);
        p.axe("automation, survey saved").await;
        p.js("document.getElementById('survey-set').scrollIntoView({block: 'center'}); return 0;")
            .await;
        p.screenshot_step("question").await;
        return;
    }
    p.fill(
        say(
            p,
            "Welcome (a new conversation within business hours)",
            "Begrüßung (neues Gespräch während der Geschäftszeiten)",
        ),
        WELCOME,
    )
    .await;
    // The German texts sit in a closed group under the defaults: open it, write the welcome.
    p.click_text(say(p, "German (Deutsch)", "Deutsch")).await;
    p.type_in("#variant-de-welcome", WELCOME_DE).await;
    p.click_text(say(p, "Save", "Speichern")).await;
    p.see(say(p, "Saved.", "Gespeichert.")).await;
    assert_eq!(p.value("#survey").await, QUESTION);
    assert_eq!(p.value("#welcome").await, WELCOME);
    // Saved: the group with a text in it comes back open.
    assert_eq!(
        p.js("return document.getElementById('variant-de').open;")
            .await,
        serde_json::json!(true)
    );
    assert_eq!(p.value("#variant-de-welcome").await, WELCOME_DE);
    p.axe("automation, texts saved").await;
    p.js("document.getElementById('survey-set').scrollIntoView({block: 'center'}); return 0;")
        .await;
    p.screenshot_step("question").await;
    p.js("document.getElementById('variant-de').scrollIntoView({block: 'center'}); return 0;")
        .await;
    p.screenshot_step("german-welcome").await;
}

/// Ends the open conversation from its header (no result asked for).
async fn end_chat(p: &Person) {
    p.header_action(say(p, "End chat", "Chat beenden")).await;
    p.click("dialog.dlg[open] button[type=submit]").await;
    p.wait_gone("dialog.dlg[open]").await;
    p.el("#messages .activity[data-kind=closed]").await;
}

#[tokio::test]
async fn journey_auto5_satisfaction_survey() {
    auto5(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto5_satisfaction_survey_phone() {
    auto5(Viewport::Phone).await;
}

async fn auto5(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("auto5_satisfaction_survey").await;
    let site = Site::bind().await;
    let lc = setup::livechat_channel(&j.t, &[site.origin.as_str()], false).await;
    let url = site.serve(&j.t.base(), lc);

    let admin = person(&j, vp, Some("admin")).await;
    let p = &admin;
    write_the_texts(p, lc, true).await;
    // The agent waits in the inbox (that makes the chat "online").
    p.open("/chat/external").await;
    p.wait_live().await;

    // The visitor writes on the office website.
    let visitor = person(&j, vp, None).await;
    let v = &visitor;
    v.open(&url).await;
    v.click_text(say(v, "Open chat", "Chat öffnen")).await;
    v.fill(say(v, "Message", "Nachricht"), "Do you do whitening?")
        .await;
    v.click_text(say(v, "Send", "Senden")).await;
    // The welcome in the visitor's browser language: German on the phone (a German
    // Chromium), the default text on the desktop (an English one).
    let (welcome, not) = if say(v, "en", "de") == "de" {
        (WELCOME_DE, WELCOME)
    } else {
        (WELCOME, WELCOME_DE)
    };
    widget_shows(v, welcome).await;
    assert_eq!(
        v.js(&format!(
            "return document.getElementById('swb-livechat').shadowRoot.querySelector('.panel').innerText.includes({});",
            serde_json::json!(not)
        ))
        .await,
        serde_json::json!(false),
        "only one welcome, in the visitor's language"
    );
    v.screenshot_step("welcome").await;

    // The agent picks up, answers and ends the chat by clicking.
    p.click(".srow a").await;
    p.wait_text("#messages", "Do you do whitening?").await;
    p.click("[data-action=pickup]").await;
    p.wait_gone("[data-action=pickup]").await;

    // The details panel shows the language the widget told; the agent changes it (a wrong
    // guess of the browser), and it is kept on the contact.
    let sid: u64 = p
        .url()
        .await
        .rsplit('/')
        .next()
        .and_then(|x| x.split('?').next())
        .and_then(|x| x.parse().ok())
        .expect("the conversation's id in the address");
    let contact = crate::support::read::session(&j.t.admin, sid).await["contact_id"]
        .as_u64()
        .unwrap();
    p.header_action("Details").await;
    let (told, to, to_label) = if say(p, "en", "de") == "de" {
        ("de", "en", "Englisch")
    } else {
        ("en", "de", "German")
    };
    assert_eq!(p.value("#contact-language").await, told);
    p.select_labelled(say(p, "Language", "Sprache"), to_label)
        .await;
    let admin_client = &j.t.admin;
    wait_for("the contact's language", || async {
        let c = admin_client
            .get(&format!("/api/v1/contacts/{contact}"))
            .await
            .json();
        (c["contact"]["language"] == to).then_some(())
    })
    .await;
    p.wait_js(
        &format!("document.getElementById('contact-language').value === {to:?}"),
        "the panel shows the new language",
    )
    .await;
    p.axe("details, language").await;
    p.js(
        "document.getElementById('contact-language').scrollIntoView({block: 'center'}); return 0;",
    )
    .await;
    p.screenshot_step("language").await;
    p.click("#details .details-x").await;

    p.type_in(
        "#composer-text",
        &format!("Yes, from 199 EUR.{}", keys::ENTER),
    )
    .await;
    p.wait_text("#messages", "Yes, from 199 EUR.").await;
    widget_shows(v, "Yes, from 199 EUR.").await;
    end_chat(p).await;
    p.wait_text(
        "#messages .activity[data-kind=survey_sent]",
        say(
            p,
            "Satisfaction survey sent",
            "Zufriedenheitsumfrage gesendet",
        ),
    )
    .await;

    // The visitor sees the question with five buttons and taps "4".
    widget_shows(v, QUESTION).await;
    let buttons = v
        .js("return [...document.getElementById('swb-livechat').shadowRoot.querySelectorAll('.sv button')].map(b => [b.textContent, b.getAttribute('aria-label')]);")
        .await;
    let of = say(v, "of", "von");
    assert_eq!(
        buttons,
        serde_json::json!(
            (1..=5)
                .map(|n| [n.to_string(), format!("{n} {of} 5")])
                .collect::<Vec<_>>()
        ),
        "five buttons, each labelled"
    );
    v.fits("survey buttons").await;
    v.axe("widget, survey buttons").await;
    v.screenshot_step("survey").await;
    v.click_text("4").await;
    widget_shows(
        v,
        say(
            v,
            "Thank you for your rating.",
            "Vielen Dank für Ihre Bewertung.",
        ),
    )
    .await;
    assert_eq!(
        v.js("return document.getElementById('swb-livechat').shadowRoot.querySelectorAll('.sv button').length;")
            .await,
        serde_json::json!(0),
        "the buttons gave way to the thank-you note"
    );
    v.screenshot_step("thanks").await;

    // The agent sees the rating in the conversation's timeline.
    p.wait_text(
        "#messages .activity[data-kind=rated]",
        say(p, "Rated 4 of 5", "Bewertet mit 4 von 5"),
    )
    .await;
    // … and in the conversation's header, live: "★ 4/5", read out as "Rated 4 of 5".
    p.wait_text("#s-rating", "★ 4/5").await;
    assert_eq!(
        p.js("return document.getElementById('s-rating').getAttribute('aria-label');")
            .await,
        serde_json::json!(say(p, "Rated 4 of 5", "Bewertet mit 4 von 5"))
    );
    assert_eq!(
        p.js(
            "const r = document.getElementById('s-rating').getBoundingClientRect(); \
              const h = document.querySelector('.s-head').getBoundingClientRect(); \
              return r.width > 0 && r.left >= h.left && r.right <= h.right && r.bottom <= h.bottom;"
        )
        .await,
        serde_json::json!(true),
        "the rating fits inside the header"
    );
    p.axe("conversation, rated").await;
    p.screenshot_step("rated").await;

    // The admin's reports: the satisfaction card and the per-channel and per-agent figures.
    p.nav(say(p, "Reports", "Berichte")).await;
    let card = p.wait_text("#kpi-rating", "4.0 / 5").await;
    assert!(card.contains("(1)"), "one answer: {card}");
    p.js("document.getElementById('kpi-rating').scrollIntoView({block: 'center'}); return 0;")
        .await;
    p.screenshot_step("reports-card").await;
    let cells = |sel: &str| {
        format!(
            "return [...document.querySelectorAll('#rating-table {sel} td')].slice(1).map(td => td.textContent.trim());"
        )
    };
    let want = serde_json::json!(["1", "4.0", "0", "0", "0", "1", "0"]);
    assert_eq!(
        p.js(&cells(&format!("tr[data-channel=\"{lc}\"]"))).await,
        want,
        "the website channel's row"
    );
    assert_eq!(
        p.js(&cells("tr[data-agent]")).await,
        want,
        "the agent's row (the conversation's owner)"
    );
    let agent_row = p
        .wait_text("#rating-table tr[data-agent]", "Ada Admin")
        .await;
    assert!(
        agent_row.starts_with(say(p, "Agent", "Mitarbeiter/in")),
        "{agent_row}"
    );
    p.js("document.getElementById('rating-table').scrollIntoView(); return 0;")
        .await;
    p.axe("reports, satisfaction").await;
    p.screenshot().await;
    j.finish([admin, visitor]).await;
}

#[tokio::test]
async fn journey_auto5_satisfaction_survey_by_sms() {
    auto5_sms(Viewport::Desktop).await;
}

#[tokio::test]
async fn journey_auto5_satisfaction_survey_by_sms_phone() {
    auto5_sms(Viewport::Phone).await;
}

/// An SMS customer gets the question as a text, answers "7" (asked again, politely), then "5".
async fn auto5_sms(vp: Viewport) {
    if skip() {
        return;
    }
    let j = Journey::start("auto5_satisfaction_survey_by_sms").await;
    let tw = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&j.t, &tw).await;
    const FROM: &str = "+14155550123";
    let admin = person(&j, vp, Some("admin")).await;
    let p = &admin;
    write_the_texts(p, ch, false).await;

    let m = customer::sms(&j.t, ch, FROM, "Is my crown ready?").await;
    p.open(&format!("/chat/external/{}", m.session_id)).await;
    p.wait_live().await;
    p.see("Is my crown ready?").await;
    p.click("[data-action=pickup]").await;
    p.wait_gone("[data-action=pickup]").await;
    p.type_in(
        "#composer-text",
        &format!("Yes, come by any time.{}", keys::ENTER),
    )
    .await;
    p.wait_text("#messages", "Yes, come by any time.").await;
    end_chat(p).await;
    // The question reaches the customer's phone as a text.
    let bodies = || {
        tw.accepted()
            .iter()
            .filter_map(|f| f.iter().find(|(k, _)| k == "Body").map(|(_, v)| v.clone()))
            .filter(|b| b == QUESTION)
            .count()
    };
    wait_for("the question at Twilio", || {
        let n = bodies();
        async move { (n == 1).then_some(()) }
    })
    .await;

    // "7": kept on the ended conversation and asked again.
    customer::sms(&j.t, ch, FROM, "7").await;
    p.wait_text(
        "#messages .activity[data-kind=survey_invalid]",
        say(
            p,
            "Survey answer was not 1–5 (asked again)",
            "Umfrage-Antwort war nicht 1–5 (erneut gefragt)",
        ),
    )
    .await;
    p.wait_count(".msg.in", 2).await;
    wait_for("the re-ask at Twilio", || {
        let n = bodies();
        async move { (n == 2).then_some(()) }
    })
    .await;
    p.wait_count(".msg.out", 3).await;
    p.screenshot_step("re-ask").await;

    // "5": the rating, on the same (still ended) conversation.
    customer::sms(&j.t, ch, FROM, "5").await;
    p.wait_text(
        "#messages .activity[data-kind=rated]",
        say(p, "Rated 5 of 5", "Bewertet mit 5 von 5"),
    )
    .await;
    let s =
        j.t.admin
            .get(&format!("/api/v1/sessions/{}", m.session_id))
            .await
            .json();
    assert_eq!(s["session"]["status"], "closed", "{s}");
    assert_eq!(s["session"]["rating"], 5, "{s}");
    p.axe("conversation, rated by SMS").await;
    p.screenshot().await;
    j.finish([admin]).await;
}
