//! Automation with a test clock: business hours (checked input, nothing stored when refused),
//! the automatic replies (welcome, out of hours, all agents busy: each once per conversation
//! and period, through the outbox, without an author) and snooze (wakes at the time and when
//! the customer writes). docs/automation.md.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};
use serde_json::{Value, json};
use switchboard::clock::Clock;
use switchboard::domain::automation::hours;

use crate::fakes::twilio::FakeTwilio;
use crate::support::customer::{self, writes};
use crate::support::read::{messages, session, timeline_kinds, wait_status};
use crate::support::{TestServer, setup};

/// The next `weekday` at `hh:mm` on the box's clock, at least one day after the test clock's now.
pub fn next_local(t: &TestServer, weekday: Weekday, hh: u32, mm: u32) -> i64 {
    let today: NaiveDate = hours::local(t.clock.now_ms()).date();
    let mut d = today + Duration::days(1);
    while d.weekday() != weekday {
        d += Duration::days(1);
    }
    hours::instant(d.and_time(NaiveTime::from_hms_opt(hh, mm, 0).unwrap()))
}

/// Moves the test clock to `ms` (forward only).
pub fn move_to(t: &TestServer, ms: i64) {
    let now = t.clock.now_ms();
    assert!(ms >= now, "the test clock only moves forward");
    t.clock.advance_ms(ms - now);
}

/// Monday to Friday 08:00–12:00 and 13:00–17:00.
pub fn office_hours() -> Value {
    let day = "08:00-12:00, 13:00-17:00";
    json!({"hours_enabled": true, "days": [day, day, day, day, day, "", ""], "holidays": ""})
}

pub async fn set_automation(t: &TestServer, ch: u64, body: Value) -> Value {
    let r = t
        .admin
        .put(&format!("/api/v1/channels/{ch}/automation"), body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

fn with(mut base: Value, extra: Value) -> Value {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
    base
}

/// Each change to the office-hours settings is refused with 422 at its field, saying why.
async fn refused_at_field(
    t: &TestServer,
    ch: u64,
    cases: impl IntoIterator<Item = (Value, &str, &str)>,
) {
    for (change, field, says) in cases {
        let r = t
            .admin
            .put(
                &format!("/api/v1/channels/{ch}/automation"),
                with(office_hours(), change.clone()),
            )
            .await;
        assert_eq!(r.status, 422, "{change}: {}", r.text());
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(
            message.starts_with(&format!("{field}: ")),
            "{change}: {message}"
        );
        assert!(message.contains(says), "{change}: {message}");
    }
}

fn automatic(msgs: &[Value]) -> Vec<&Value> {
    msgs.iter()
        .filter(|m| m["direction"] == "out" && m["author"].is_null())
        .collect()
}

async fn run_job(t: &TestServer) -> String {
    switchboard::jobs::run_now(t.state().job_ctx(), "automation")
        .await
        .unwrap()
}

#[tokio::test]
async fn bad_schedules_are_refused_at_their_field_and_nothing_is_stored() {
    let t = TestServer::start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    set_automation(
        &t,
        ch,
        with(office_hours(), json!({"out_of_hours": "We are closed."})),
    )
    .await;
    let before = t
        .admin
        .get(&format!("/api/v1/channels/{ch}/automation"))
        .await
        .json();
    let cases = [
        (
            json!({"days": ["08:00-12:00, 11:00-14:00", "", "", "", "", "", ""]}),
            "hours_mon",
            "overlap",
        ),
        (
            json!({"days": ["", "12:00-08:00", "", "", "", "", ""]}),
            "hours_tue",
            "end after",
        ),
        (
            json!({"days": ["", "", "8 to 5", "", "", "", ""]}),
            "hours_wed",
            "from-to",
        ),
        (
            json!({"days": ["", "", "", "", "", "", ""]}),
            "hours_mon",
            "at least one day",
        ),
        (
            json!({"holidays": "2026-12-24\n2026-02-30"}),
            "holidays",
            "2026-02-30",
        ),
        (json!({"holidays": "24.12.2026"}), "holidays", "YYYY-MM-DD"),
        (
            json!({"busy": "Busy", "busy_minutes": 0}),
            "busy_minutes",
            "1 to 1440",
        ),
        (json!({"welcome": "x".repeat(1001)}), "welcome", "1000"),
    ];
    refused_at_field(&t, ch, cases).await;
    // A body that is not the shape: 400, never 500.
    let r = t
        .admin
        .put(
            &format!("/api/v1/channels/{ch}/automation"),
            json!({"days": "monday"}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    let after = t
        .admin
        .get(&format!("/api/v1/channels/{ch}/automation"))
        .await
        .json();
    assert_eq!(before, after, "a refused save changed nothing");
    // Agents may not read or change it.
    let (_, agent) = t.user("ben", "agent").await;
    assert_eq!(
        agent
            .get(&format!("/api/v1/channels/{ch}/automation"))
            .await
            .status,
        403
    );
}

#[tokio::test]
async fn out_of_hours_reply_goes_once_per_closed_period() {
    let t = TestServer::builder().long_logins().start().await;
    let fake = FakeTwilio::start().await;
    let ch = setup::twilio_channel(&t, &fake).await;
    set_automation(
        &t,
        ch,
        with(
            office_hours(),
            json!({"out_of_hours": "We are closed; we reply from 8:00.", "welcome": "Hello!"}),
        ),
    )
    .await;
    // Saturday morning: closed until Monday 08:00.
    move_to(&t, next_local(&t, Weekday::Sat, 10, 0));
    let a = customer::sms(&t, ch, "+4915100000001", "Anyone there?").await;
    let msgs = messages(&t, a.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["text"], "We are closed; we reply from 8:00.");
    // Through the outbox like any reply: the fake provider got it.
    wait_status(&t, auto[0]["id"].as_u64().unwrap(), "sent").await;
    assert!(
        timeline_kinds(&t.admin, a.session_id)
            .await
            .contains(&"auto_reply".to_string())
    );
    // Not counted as the first response.
    assert!(session(&t.admin, a.session_id).await["first_response_at"].is_null());
    // Again on Sunday (same closed period): no second reply.
    t.clock.advance_hours(26);
    customer::sms(&t, ch, "+4915100000001", "Hello??").await;
    assert_eq!(automatic(&messages(&t, a.session_id).await).len(), 1);
    // Monday evening is a new closed period: one more.
    move_to(&t, next_local(&t, Weekday::Mon, 18, 0));
    customer::sms(&t, ch, "+4915100000001", "Still waiting").await;
    let msgs = messages(&t, a.session_id).await;
    assert_eq!(automatic(&msgs).len(), 2, "{msgs:?}");
    // No welcome: the conversation did not start within business hours.
    assert!(!msgs.iter().any(|m| m["text"] == "Hello!"));
}

#[tokio::test]
async fn welcome_goes_once_and_not_again_on_reopen() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    set_automation(
        &t,
        ch,
        with(
            office_hours(),
            json!({"welcome": "Welcome! An agent will be with you shortly."}),
        ),
    )
    .await;
    move_to(&t, next_local(&t, Weekday::Tue, 9, 0));
    let a = writes(&t, ch, "+4915100000002", Some("Wil"), "Hi").await;
    writes(&t, ch, "+4915100000002", Some("Wil"), "Are you there?").await;
    let sid = a.session_id;
    assert_eq!(automatic(&messages(&t, sid).await).len(), 1);
    // An agent ends it and reopens it; the customer writes again: no second welcome.
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/close"),
            json!({"note": ""}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text());
    let r = t
        .admin
        .post(&format!("/api/v1/sessions/{sid}/reopen"), json!({}))
        .await;
    assert!(r.status < 300, "{}", r.text());
    let b = writes(&t, ch, "+4915100000002", Some("Wil"), "Back again").await;
    assert_eq!(b.session_id, sid);
    let msgs = messages(&t, sid).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(
        auto[0]["text"],
        "Welcome! An agent will be with you shortly."
    );
}

#[tokio::test]
async fn busy_reply_after_n_minutes_unanswered_once() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    set_automation(
        &t,
        ch,
        with(
            office_hours(),
            json!({"busy": "All agents are busy; we will answer soon.", "busy_minutes": 5}),
        ),
    )
    .await;
    move_to(&t, next_local(&t, Weekday::Wed, 9, 0));
    let a = writes(&t, ch, "+4915100000003", Some("Bea"), "Hello").await;
    let sid = a.session_id;
    t.clock.advance_ms(4 * 60_000);
    run_job(&t).await;
    assert_eq!(automatic(&messages(&t, sid).await).len(), 0, "not yet");
    t.clock.advance_ms(2 * 60_000);
    let said = run_job(&t).await;
    assert!(said.contains("busy replies 1"), "{said}");
    t.clock.advance_ms(30 * 60_000);
    run_job(&t).await;
    let msgs = messages(&t, sid).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["text"], "All agents are busy; we will answer soon.");
    // An agent answers; the next unanswered stretch may get its own busy reply.
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "Here now"}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text());
    writes(
        &t,
        ch,
        "+4915100000003",
        Some("Bea"),
        "Thanks, one more thing",
    )
    .await;
    t.clock.advance_ms(3 * 60_000);
    run_job(&t).await;
    assert_eq!(automatic(&messages(&t, sid).await).len(), 1);
    t.clock.advance_ms(3 * 60_000);
    run_job(&t).await;
    assert_eq!(automatic(&messages(&t, sid).await).len(), 2);
}

async fn listed(t: &TestServer, scope: &str) -> Vec<u64> {
    let r = t
        .admin
        .get(&format!("/api/v1/sessions?scope={scope}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn snooze_wakes_at_its_time_and_when_the_customer_writes() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    let sid = writes(&t, ch, "+4915100000004", Some("Sam"), "Hi")
        .await
        .session_id;
    let path = format!("/api/v1/sessions/{sid}/snooze");
    let now = t.clock.now_ms();
    // Bad times: refused, nothing changes.
    for (until, status) in [
        (json!(now - 1000), 422),
        (json!(now + 91 * 86_400_000_i64), 422),
        (json!("tomorrow"), 400),
    ] {
        let r = t.admin.post(&path, json!({ "until": until })).await;
        assert_eq!(r.status, status, "{until}: {}", r.text());
    }
    assert!(listed(&t, "all").await.contains(&sid));
    let r = t.admin.post(&path, json!({"until": now + 3_600_000})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!listed(&t, "all").await.contains(&sid));
    assert!(!listed(&t, "open").await.contains(&sid));
    assert_eq!(listed(&t, "snoozed").await, vec![sid]);
    // Not yet.
    t.clock.advance_ms(30 * 60_000);
    run_job(&t).await;
    assert!(!listed(&t, "all").await.contains(&sid));
    // The time came.
    t.clock.advance_ms(31 * 60_000);
    let said = run_job(&t).await;
    assert!(said.contains("woken 1"), "{said}");
    assert!(listed(&t, "all").await.contains(&sid));
    assert!(session(&t.admin, sid).await["snoozed_until"].is_null());
    // Snoozed again, and the customer writes first.
    let r = t
        .admin
        .post(&path, json!({"until": t.clock.now_ms() + 86_400_000}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!listed(&t, "all").await.contains(&sid));
    writes(&t, ch, "+4915100000004", Some("Sam"), "Any news?").await;
    assert!(listed(&t, "all").await.contains(&sid));
    let kinds = timeline_kinds(&t.admin, sid).await;
    assert_eq!(kinds.iter().filter(|k| *k == "snoozed").count(), 2);
    assert_eq!(kinds.iter().filter(|k| *k == "woke").count(), 2);
    // A closed conversation cannot be snoozed.
    t.admin
        .post(
            &format!("/api/v1/sessions/{sid}/close"),
            json!({"note": ""}),
        )
        .await;
    let r = t
        .admin
        .post(&path, json!({"until": t.clock.now_ms() + 3_600_000}))
        .await;
    assert_eq!(r.status, 409, "{}", r.text());
}

#[tokio::test]
async fn response_target_counts_business_hours_and_its_breach_is_told_once() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    // A target out of range is refused and changes nothing.
    let r = t
        .admin
        .put(
            &format!("/api/v1/channels/{ch}/automation"),
            with(office_hours(), json!({"response_minutes": 20000})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("response_minutes"), "{}", r.text());
    set_automation(
        &t,
        ch,
        with(office_hours(), json!({"response_minutes": 10})),
    )
    .await;

    // Friday 16:55: five minutes today, the other five on Monday from 08:00.
    let friday = next_local(&t, Weekday::Fri, 16, 55);
    move_to(&t, friday);
    let late = writes(&t, ch, "+4915100000005", Some("Fay"), "Before the weekend")
        .await
        .session_id;
    let sla = session(&t.admin, late).await["sla"].clone();
    let monday = next_local(&t, Weekday::Mon, 8, 5);
    assert!(
        (sla["due_at"].as_i64().unwrap() - monday).abs() < 60_000,
        "{sla} vs {monday}"
    );
    // Answered in time on Monday morning: met.
    let monday_0801 = next_local(&t, Weekday::Mon, 8, 1);
    move_to(&t, monday_0801);
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{late}/messages"),
            json!({"text": "Good morning!"}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text());

    // Monday 09:00: a waiting conversation counts down and is missed after 10 minutes.
    move_to(&t, monday_0801 + 59 * 60_000);
    let mut events = crate::support::EventStream::open(&t.admin).await;
    let sid = writes(&t, ch, "+4915100000006", Some("Max"), "Hello?")
        .await
        .session_id;
    let sla = session(&t.admin, sid).await["sla"].clone();
    let now = t.clock.now_ms();
    let due = sla["due_at"].as_i64().unwrap();
    let warn = sla["warn_at"].as_i64().unwrap();
    assert!((due - (now + 600_000)).abs() < 2_000, "{sla}");
    assert!(warn > now && warn < due, "amber before the target: {sla}");
    assert_eq!(sla["breached"], false);
    t.clock.advance_ms(9 * 60_000);
    assert!(run_job(&t).await.contains("missed 0"));
    t.clock.advance_ms(2 * 60_000);
    assert!(run_job(&t).await.contains("missed 1"));
    let ev = events.next_of_kind("session.sla_breached").await;
    assert_eq!(ev.data()["session_id"], sid);
    // Exactly once.
    t.clock.advance_ms(60 * 60_000);
    assert!(run_job(&t).await.contains("missed 0"));
    events.read_for(std::time::Duration::from_millis(300)).await;
    assert_eq!(events.raw().matches("session.sla_breached").count(), 1);
    assert_eq!(session(&t.admin, sid).await["sla"]["breached"], true);
    let kinds = timeline_kinds(&t.admin, sid).await;
    assert_eq!(kinds.iter().filter(|k| *k == "sla_breached").count(), 1);

    // The report: two conversations with a target, one met.
    let r = t.admin.get("/api/v1/reports").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["sla"], json!({"with_target": 2, "met": 1}));
}

async fn close(t: &TestServer, sid: u64) {
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/close"),
            json!({"note": ""}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text());
}

const SURVEY: &str = "How satisfied were you? Reply with a number from 1 to 5.";

#[tokio::test]
async fn survey_goes_once_on_end_and_an_sms_digit_is_recorded_and_reported() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    let quiet = t.channel(json!({"kind": "sms", "name": "Quiet"})).await;
    // Too long a question is refused at its field and nothing is stored.
    let r = t
        .admin
        .put(
            &format!("/api/v1/channels/{ch}/automation"),
            json!({"survey": "x".repeat(1001)}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("survey:"), "{}", r.text());
    let r = t
        .admin
        .get(&format!("/api/v1/channels/{ch}/automation"))
        .await;
    assert_eq!(r.json()["settings"]["survey"], "", "{}", r.text());
    set_automation(&t, ch, json!({"survey": SURVEY})).await;

    // The survey is off by default: ending a conversation on the other channel asks nothing.
    let q = writes(&t, quiet, "+4915100000020", None, "Hi")
        .await
        .session_id;
    close(&t, q).await;
    assert!(automatic(&messages(&t, q).await).is_empty());

    let sid = writes(&t, ch, "+4915100000021", Some("Sam"), "Hello")
        .await
        .session_id;
    let r = t
        .admin
        .post(
            &format!("/api/v1/sessions/{sid}/messages"),
            json!({"text": "Done!"}),
        )
        .await;
    assert!(r.status < 300, "{}", r.text());
    close(&t, sid).await;
    let msgs = messages(&t, sid).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["text"], SURVEY);
    assert!(
        timeline_kinds(&t.admin, sid)
            .await
            .contains(&"survey_sent".to_string())
    );

    // "7": kept on the ended conversation, one polite re-ask (the question again).
    let a = writes(&t, ch, "+4915100000021", Some("Sam"), "7").await;
    assert_eq!(a.session_id, sid);
    assert_eq!(session(&t.admin, sid).await["status"], "closed");
    assert_eq!(automatic(&messages(&t, sid).await).len(), 2);
    // "4": recorded, the conversation stays ended.
    let a = writes(&t, ch, "+4915100000021", Some("Sam"), " 4 ").await;
    assert_eq!(a.session_id, sid);
    let s = session(&t.admin, sid).await;
    assert_eq!(s["rating"], 4, "{s}");
    assert_eq!(s["status"], "closed");
    let tl = t
        .admin
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let rated: Vec<&Value> = tl
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rated")
        .collect();
    assert_eq!(rated.len(), 1, "{tl}");
    // The next message is a normal one: a new conversation; a later "5" is no answer.
    let b = writes(&t, ch, "+4915100000021", Some("Sam"), "5").await;
    assert_ne!(b.session_id, sid);
    assert_eq!(session(&t.admin, sid).await["rating"], 4);
    assert!(session(&t.admin, b.session_id).await["rating"].is_null());

    // Reopened and ended again: no second survey for that conversation.
    close(&t, b.session_id).await;
    let r = t
        .admin
        .post(&format!("/api/v1/sessions/{sid}/reopen"), json!({}))
        .await;
    assert!(r.status < 300, "{}", r.text());
    close(&t, sid).await;
    assert_eq!(automatic(&messages(&t, sid).await).len(), 2);

    // Text twice: one re-ask, then the survey gives up and the message opens a conversation.
    let other = writes(&t, ch, "+4915100000022", None, "Hello")
        .await
        .session_id;
    close(&t, other).await;
    let x = writes(&t, ch, "+4915100000022", None, "great service").await;
    assert_eq!(x.session_id, other);
    let y = writes(&t, ch, "+4915100000022", None, "did you get that?").await;
    assert_ne!(y.session_id, other);
    assert!(session(&t.admin, other).await["rating"].is_null());
    let kinds = timeline_kinds(&t.admin, other).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "survey_invalid").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(automatic(&messages(&t, other).await).len(), 2);
    close(&t, y.session_id).await;
    let z = writes(&t, ch, "+4915100000022", None, "3").await;
    // The new conversation asked again (it is another conversation): 3 is its answer.
    assert_eq!(z.session_id, y.session_id);
    assert_eq!(session(&t.admin, y.session_id).await["rating"], 3);

    // Reports: per channel and per agent (the owner), count, average and distribution.
    let r = t.admin.get("/api/v1/reports").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(
        rep["rating"],
        json!({"count": 2, "average": 3.5, "distribution": [0, 0, 1, 1, 0]})
    );
    let row = |list: &str, pred: &dyn Fn(&Value) -> bool| {
        rep[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| pred(r))
            .unwrap()
            .clone()
    };
    let chan = row("channels", &|c| c["channel_id"] == ch);
    assert_eq!(chan["rating"]["count"], 2);
    let quiet_row = row("channels", &|c| c["channel_id"] == quiet);
    assert_eq!(quiet_row["rating"]["count"], 0);
    let agent = row("agents", &|a| a["rating"]["count"] == 1);
    assert_eq!(
        agent["rating"]["distribution"],
        json!([0, 0, 0, 1, 0]),
        "{rep}"
    );
    // The page shows the card and the table.
    let page = t.admin.get("/reports").await.text();
    assert!(page.contains("id=\"kpi-rating\""), "{page}");
    assert!(page.contains("3.5 / 5"), "{page}");
}

/// A visitor who starts with the widget's `language` and writes once.
async fn visitor_in(t: &TestServer, ch: u64, language: &str) -> crate::support::customer::Arrived {
    let mut v = crate::support::visitor::Visitor::new(t, ch, Some("https://shop.example"));
    let r = v.post("/visitors", json!({"language": language})).await;
    assert_eq!(r.status, 201, "{}", r.text());
    v.token = Some(r.json()["visitor_token"].as_str().unwrap().to_string());
    customer::livechat(&v, "Hello").await
}

#[tokio::test]
async fn automatic_replies_go_in_the_customers_language_where_known() {
    let t = TestServer::builder().long_logins().start().await;
    let web = setup::livechat_channel(&t, &["https://shop.example"], false).await;
    set_automation(
        &t,
        web,
        with(
            office_hours(),
            json!({"welcome": "Welcome! An agent will be with you shortly.",
                   "variants": {"de": {"welcome": "Willkommen! Gleich ist jemand für Sie da."}}}),
        ),
    )
    .await;
    // Read back with every shipped language listed.
    let view = t
        .admin
        .get(&format!("/api/v1/channels/{web}/automation"))
        .await
        .json();
    assert_eq!(
        view["settings"]["variants"]["de"]["welcome"],
        "Willkommen! Gleich ist jemand für Sie da."
    );
    assert_eq!(view["settings"]["variants"]["en"]["welcome"], "");
    move_to(&t, next_local(&t, Weekday::Tue, 9, 0));
    // A German browser: the German welcome; the language is kept on the contact.
    let de = visitor_in(&t, web, "de-DE").await;
    let msgs = messages(&t, de.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["text"], "Willkommen! Gleich ist jemand für Sie da.");
    let s = session(&t.admin, de.session_id).await;
    let c = t
        .admin
        .get(&format!("/api/v1/contacts/{}", s["contact_id"]))
        .await
        .json();
    assert_eq!(c["contact"]["language"], "de", "{c}");
    // An English one, and a language we do not ship: the default text.
    for lang in ["en-US", "fr-FR"] {
        let other = visitor_in(&t, web, lang).await;
        let msgs = messages(&t, other.session_id).await;
        let auto = automatic(&msgs);
        assert_eq!(auto.len(), 1, "{lang}: {msgs:?}");
        assert_eq!(
            auto[0]["text"], "Welcome! An agent will be with you shortly.",
            "{lang}"
        );
    }

    // SMS: unknown until an agent sets it; then the German out-of-hours reply.
    let sms = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    set_automation(
        &t,
        sms,
        with(
            office_hours(),
            json!({"out_of_hours": "We are closed.", "survey": SURVEY,
                   "variants": {"de": {"out_of_hours": "Wir haben geschlossen.",
                                       "survey": "Wie zufrieden waren Sie? Antworten Sie mit 1 bis 5."}}}),
        ),
    )
    .await;
    move_to(&t, next_local(&t, Weekday::Sat, 10, 0));
    let a = writes(&t, sms, "+4915100000077", Some("Uwe"), "Hallo?").await;
    assert_eq!(
        automatic(&messages(&t, a.session_id).await)[0]["text"],
        "We are closed."
    );
    let contact = session(&t.admin, a.session_id).await["contact_id"]
        .as_u64()
        .unwrap();
    // Bad input: a language we do not ship is refused at its field, nothing changes.
    let r = t
        .admin
        .put(
            &format!("/api/v1/contacts/{contact}/language"),
            json!({"language": "xx"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("language: "),
        "{}",
        r.text()
    );
    let r = t
        .admin
        .put(
            &format!("/api/v1/contacts/{contact}/language"),
            json!({"language": "de"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["language"], "de");
    // The next closed period (Monday evening): the German reply.
    move_to(&t, next_local(&t, Weekday::Mon, 18, 0));
    writes(&t, sms, "+4915100000077", Some("Uwe"), "Noch da?").await;
    let msgs = messages(&t, a.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 2, "{msgs:?}");
    assert_eq!(auto[1]["text"], "Wir haben geschlossen.");
    // The survey question when it ends: German too.
    close(&t, a.session_id).await;
    let msgs = messages(&t, a.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 3, "{msgs:?}");
    assert_eq!(
        auto[2]["text"],
        "Wie zufrieden waren Sie? Antworten Sie mit 1 bis 5."
    );
    // Back to unknown: the default again.
    let r = t
        .admin
        .put(
            &format!("/api/v1/contacts/{contact}/language"),
            json!({"language": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["language"].is_null());
}

#[tokio::test]
async fn bad_language_variants_are_refused_and_nothing_is_stored() {
    let t = TestServer::builder().long_logins().start().await;
    let ch = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    set_automation(
        &t,
        ch,
        with(
            office_hours(),
            json!({"welcome": "Hello", "variants": {"de": {"welcome": "Hallo"}}}),
        ),
    )
    .await;
    let before = t
        .admin
        .get(&format!("/api/v1/channels/{ch}/automation"))
        .await
        .json();
    let cases = [
        (
            json!({"welcome": "Hello", "variants": {"xx": {"welcome": "?"}}}),
            "variants",
            "no language",
        ),
        (
            json!({"welcome": "Hello", "variants": {"de": {"welcome": "x".repeat(1001)}}}),
            "variants.de.welcome",
            "1000",
        ),
        (
            json!({"welcome": "Hello", "variants": {"de": {"busy": "Alle beschäftigt"}}}),
            "variants.de.busy",
            "default text first",
        ),
    ];
    refused_at_field(&t, ch, cases).await;
    let after = t
        .admin
        .get(&format!("/api/v1/channels/{ch}/automation"))
        .await
        .json();
    assert_eq!(before, after);
}

/// Registers a WhatsApp template (201) and returns its id.
async fn template(t: &TestServer, body: Value) -> u64 {
    let r = t.admin.post("/api/v1/templates", body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_u64().unwrap()
}

#[tokio::test]
async fn whatsapp_outside_the_window_sends_the_chosen_template() {
    let t = TestServer::builder().long_logins().start().await;
    let fake = crate::fakes::whatsapp::FakeWhatsApp::start().await;
    let wa = setup::whatsapp_channel(&t, &fake).await;
    let other = t.channel(json!({"kind": "whatsapp", "name": "WA 2"})).await;
    let sms = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
    let closed = template(
        &t,
        json!({"name": "office_closed", "language": "en_US", "channel_id": wa,
               "body": "Thanks for your message. We will answer as soon as we are back."}),
    )
    .await;
    let foreign = template(
        &t,
        json!({"name": "other_hello", "language": "en_US", "channel_id": other,
               "body": "Hello from the other number."}),
    )
    .await;
    let with_param = template(
        &t,
        json!({"name": "named_hello", "language": "en_US", "body": "Hello {{1}}."}),
    )
    .await;
    let busy = with(
        office_hours(),
        json!({"busy": "All our agents are busy; we answer soon.", "busy_minutes": 10}),
    );
    set_automation(&t, wa, busy.clone()).await;
    let before = t
        .admin
        .get(&format!("/api/v1/channels/{wa}/automation"))
        .await
        .json();
    // Bad choices: refused at their field, nothing stored.
    for (ch, choice, field, says) in [
        (
            wa,
            json!({"busy": 999_999}),
            "wa_templates.busy",
            "no template",
        ),
        (
            wa,
            json!({"survey": foreign}),
            "wa_templates.survey",
            "no template",
        ),
        (
            wa,
            json!({"out_of_hours": with_param}),
            "wa_templates.out_of_hours",
            "without parameters",
        ),
        (
            sms,
            json!({"busy": closed}),
            "wa_templates.busy",
            "WhatsApp",
        ),
    ] {
        let r = t
            .admin
            .put(
                &format!("/api/v1/channels/{ch}/automation"),
                with(busy.clone(), json!({"wa_templates": choice})),
            )
            .await;
        assert_eq!(r.status, 422, "{choice}: {}", r.text());
        let message = r.json()["error"]["message"].as_str().unwrap().to_string();
        assert!(message.starts_with(&format!("{field}: ")), "{message}");
        assert!(message.contains(says), "{message}");
    }
    let after = t
        .admin
        .get(&format!("/api/v1/channels/{wa}/automation"))
        .await
        .json();
    assert_eq!(before, after);
    set_automation(
        &t,
        wa,
        with(busy.clone(), json!({"wa_templates": {"busy": closed}})),
    )
    .await;

    // Sunday 02:00 the customer writes (closed); the busy reply is due when the office opens,
    // Monday 08:00: 30 hours later, outside WhatsApp's 24-hour window.
    move_to(&t, next_local(&t, Weekday::Sun, 2, 0));
    let a = customer::whatsapp(&t, wa, "4915100000088", "Kim", "Hello?").await;
    assert!(automatic(&messages(&t, a.session_id).await).is_empty());
    move_to(&t, next_local(&t, Weekday::Mon, 8, 0));
    run_job(&t).await;
    let msgs = messages(&t, a.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["template"]["name"], "office_closed");
    // Through the normal outbox: the provider got a template send, the status follows it.
    wait_status(&t, auto[0]["id"].as_u64().unwrap(), "sent").await;
    let sent: Vec<Value> = fake
        .accepted()
        .into_iter()
        .filter(|b| b["type"] == "template")
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["to"], "4915100000088");
    assert_eq!(sent[0]["template"]["name"], "office_closed");
    assert_eq!(sent[0]["template"]["language"]["code"], "en_US");
    assert!(
        timeline_kinds(&t.admin, a.session_id)
            .await
            .contains(&"auto_reply".to_string())
    );

    // The template is deleted later: the next such reply is skipped with a note saying so
    // (not a 500), and the automation page shows the choice is gone.
    let r = t.admin.delete(&format!("/api/v1/templates/{closed}")).await;
    assert!(r.status < 300, "{}", r.text());
    move_to(&t, next_local(&t, Weekday::Sun, 2, 0));
    let b = customer::whatsapp(&t, wa, "4915100000099", "Lou", "Hi?").await;
    move_to(&t, next_local(&t, Weekday::Mon, 8, 0));
    run_job(&t).await;
    assert!(automatic(&messages(&t, b.session_id).await).is_empty());
    let tl = t
        .admin
        .get(&format!("/api/v1/sessions/{}/timeline", b.session_id))
        .await
        .json();
    assert!(
        tl.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "auto_reply_skipped" && e["detail"] == "busy.template_gone"),
        "{tl}"
    );
    let page = t
        .admin
        .get(&format!("/admin/channels/{wa}/automation"))
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("The chosen template no longer exists"),
        "{}",
        page.text()
    );
    assert_eq!(
        fake.accepted()
            .iter()
            .filter(|b| b["type"] == "template")
            .count(),
        1
    );

    // The survey as a template: Lou's conversation ends 30 h after their message; the
    // question goes as the chosen template and a digit answers it.
    let rate = template(
        &t,
        json!({"name": "rate_us", "language": "de", "channel_id": wa,
               "body": "Wie zufrieden waren Sie? Antworten Sie mit 1 bis 5."}),
    )
    .await;
    set_automation(
        &t,
        wa,
        with(
            busy,
            json!({"survey": SURVEY, "wa_templates": {"survey": rate}}),
        ),
    )
    .await;
    close(&t, b.session_id).await;
    let msgs = messages(&t, b.session_id).await;
    let auto = automatic(&msgs);
    assert_eq!(auto.len(), 1, "{msgs:?}");
    assert_eq!(auto[0]["template"]["name"], "rate_us");
    wait_status(&t, auto[0]["id"].as_u64().unwrap(), "sent").await;
    let last = fake
        .accepted()
        .into_iter()
        .rev()
        .find(|b| b["type"] == "template")
        .unwrap();
    assert_eq!(last["template"]["name"], "rate_us");
    assert_eq!(last["template"]["language"]["code"], "de");
    customer::whatsapp(&t, wa, "4915100000099", "Lou", "5").await;
    assert_eq!(session(&t.admin, b.session_id).await["rating"], 5);
}

/// WhatsApp inside the window: the survey is an interactive list of five choices (more than
/// three reply buttons allow), and the customer's tap arrives as a signed `list_reply` whose id
/// is the rating; a choice id that is not one of ours gets the polite re-ask instead.
#[tokio::test]
async fn a_whatsapp_survey_is_a_list_and_the_customers_choice_is_the_rating() {
    use crate::fakes::whatsapp::{self, FakeWhatsApp};
    let t = TestServer::builder().long_logins().start().await;
    let fake = FakeWhatsApp::start().await;
    let wa = setup::whatsapp_channel(&t, &fake).await;
    set_automation(&t, wa, json!({"survey": SURVEY})).await;
    let from = "4915100000066";
    let sid = customer::whatsapp(&t, wa, from, "Mia", "Hello")
        .await
        .session_id;
    close(&t, sid).await;
    let auto = automatic(&messages(&t, sid).await)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(auto.len(), 1, "{auto:?}");
    wait_status(&t, auto[0]["id"].as_u64().unwrap(), "sent").await;
    let lists: Vec<Value> = fake
        .accepted()
        .into_iter()
        .filter(|b| b["type"] == "interactive")
        .collect();
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(lists[0]["to"], from);
    let i = &lists[0]["interactive"];
    assert_eq!(i["type"], "list", "{i}");
    assert_eq!(i["body"]["text"], SURVEY);
    let ids: Vec<&str> = i["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["csat:1", "csat:2", "csat:3", "csat:4", "csat:5"]);

    let tap = |wamid: &str, id: &str, title: &str| {
        let ts = customer::now_secs(&t).to_string();
        whatsapp::webhook(
            whatsapp::PHONE_NUMBER_ID,
            &[(from, "Mia")],
            vec![
                json!({"from": from, "id": wamid, "timestamp": ts, "type": "interactive",
                "interactive": {"type": "list_reply", "list_reply": {"id": id, "title": title}}}),
            ],
            vec![],
        )
    };
    // Not one of the survey's ids: no rating, asked once more.
    let r = customer::post_wa(&t, wa, &tap("wamid.csat.x", "csat:9", "Nine")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(session(&t.admin, sid).await["rating"].is_null());
    assert_eq!(automatic(&messages(&t, sid).await).len(), 2);
    // The tap on "4": the rating, once, on the ended conversation.
    let r = customer::post_wa(&t, wa, &tap("wamid.csat.4", "csat:4", "Good")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s = session(&t.admin, sid).await;
    assert_eq!(s["rating"], 4, "{s}");
    assert_eq!(s["status"], "closed");
    // Delivered again by Meta: the same wamid changes nothing.
    let r = customer::post_wa(&t, wa, &tap("wamid.csat.4", "csat:4", "Good")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let kinds = timeline_kinds(&t.admin, sid).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "rated").count(),
        1,
        "{kinds:?}"
    );
}
