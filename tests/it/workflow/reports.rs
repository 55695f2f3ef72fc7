//! Reports on a known data set: sessions per channel and day, first response and resolution
//! (median, p90) overall and per agent, CSV and the server-rendered page.

use serde_json::{Value, json};

use crate::support::customer::writes;
use crate::support::read::session;
use crate::support::{Client, TestServer};

#[tokio::test]
async fn report_numbers_on_a_known_data_set() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("rita", "agent").await;
    let (b, cb) = t.user("sven", "agent").await;
    let wa = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a,b]}))
        .await;
    let sms = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a,b]}))
        .await;
    let sec = 1000;

    // Day 0: WA session 1 (rita answers after 60 s, closes at 600 s).
    let s1 = writes(&t, wa, "491001", None, "q1").await.session_id;
    ca.post(&format!("/api/v1/sessions/{s1}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(60 * sec);
    ca.post(
        &format!("/api/v1/sessions/{s1}/messages"),
        json!({"text":"a1"}),
    )
    .await;
    // Day 0: SMS session 2 (sven answers after 120 s, closes at 1200 s).
    let s2 = writes(&t, sms, "+491002", None, "q2").await.session_id;
    cb.post(&format!("/api/v1/sessions/{s2}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(120 * sec);
    cb.post(
        &format!("/api/v1/sessions/{s2}/messages"),
        json!({"text":"a2"}),
    )
    .await;
    t.clock.advance_ms(420 * sec); // s1 is 600 s old
    ca.post(&format!("/api/v1/sessions/{s1}/close"), json!({}))
        .await;
    t.clock.advance_ms(660 * sec); // s2 (created at 60 s) is 1200 s old
    cb.post(&format!("/api/v1/sessions/{s2}/close"), json!({}))
        .await;
    // An agent-started session counts as a session but has no first-response time.
    let r = ca
        .post(
            "/api/v1/sessions",
            json!({"channel_id": sms, "to": "+491009", "text":"hello"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let started = r.json()["session_id"].as_u64().unwrap();

    // Day 1: WA session 3 (rita answers after 300 s, stays open).
    t.clock.advance_ms(24 * 3600 * sec);
    // A day later the login sessions have idled out: log in again.
    let ca = Client::login(&t.base(), "rita", crate::support::PASSWORD).await;
    let admin = Client::login(&t.base(), "admin", crate::support::PASSWORD).await;
    let s3 = writes(&t, wa, "491003", None, "q3").await.session_id;
    ca.post(&format!("/api/v1/sessions/{s3}/pickup"), json!({}))
        .await;
    t.clock.advance_ms(300 * sec);
    ca.post(
        &format!("/api/v1/sessions/{s3}/messages"),
        json!({"text":"a3"}),
    )
    .await;

    // Exact expectations from the stored timestamps (the test clock also moves with real
    // time, by milliseconds), checked against the known offsets.
    let ids = [s1, s2, s3];
    let sessions: Vec<Value> = {
        let mut v = Vec::new();
        for id in ids {
            v.push(session(&admin, id).await);
        }
        v
    };
    let secs = |s: &Value, field: &str| {
        (s[field].as_i64().unwrap() - s["created"].as_i64().unwrap()) / 1000
    };
    let frt: Vec<i64> = sessions
        .iter()
        .map(|s| secs(s, "first_response_at"))
        .collect();
    for (got, want) in frt.iter().zip([60, 120, 300]) {
        assert!((got - want).abs() <= 3, "first response {got} vs {want}");
    }
    let res: Vec<i64> = sessions[..2].iter().map(|s| secs(s, "closed_at")).collect();
    for (got, want) in res.iter().zip([600, 1200]) {
        assert!((got - want).abs() <= 3, "resolution {got} vs {want}");
    }
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string()
    };
    let d0 = day(sessions[0]["created"].as_i64().unwrap());
    let d1 = day(sessions[2]["created"].as_i64().unwrap());

    let r = admin
        .get(&format!("/api/v1/reports?from={d0}&to={d1}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let rep = r.json();
    assert_eq!(rep["sessions"], 4);
    assert_eq!(rep["days"], json!([d0, d1]));
    let by_name = |name: &str| {
        rep["channels"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()
            .clone()
    };
    // s1, s2 and the started session may fall on day 0 or (around midnight) day 1; compare
    // with where they were actually created.
    let mut want_wa = [0u64, 0];
    let mut want_sms = [0u64, 0];
    for (s, is_wa) in sessions.iter().zip([true, false, true]) {
        let i = if day(s["created"].as_i64().unwrap()) == d0 {
            0
        } else {
            1
        };
        if is_wa {
            want_wa[i] += 1
        } else {
            want_sms[i] += 1
        }
    }
    let started_at = session(&admin, started).await["created"].as_i64().unwrap();
    want_sms[if day(started_at) == d0 { 0 } else { 1 }] += 1;
    assert_eq!(by_name("WA")["per_day"], json!(want_wa));
    assert_eq!(by_name("SMS")["per_day"], json!(want_sms));
    assert_eq!(
        rep["per_day_total"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        4
    );

    let mut sorted_frt = frt.clone();
    sorted_frt.sort();
    // Nearest rank: median of 3 = 2nd, p90 of 3 = 3rd; of 2 values: 1st and 2nd.
    assert_eq!(rep["first_response"]["count"], 3);
    assert_eq!(rep["first_response"]["median_s"], sorted_frt[1]);
    assert_eq!(rep["first_response"]["p90_s"], sorted_frt[2]);
    assert_eq!(rep["resolution"]["median_s"], res[0]);
    assert_eq!(rep["resolution"]["p90_s"], res[1]);
    let agent = |id: u64| {
        rep["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["user_id"] == id)
            .unwrap()
            .clone()
    };
    let rita = agent(a);
    assert_eq!(rita["sessions"], 3, "s1, s3 and the started one");
    assert_eq!(rita["first_response"]["count"], 2);
    assert_eq!(rita["first_response"]["median_s"], frt[0].min(frt[2]));
    assert_eq!(rita["first_response"]["p90_s"], frt[0].max(frt[2]));
    assert_eq!(rita["resolution"]["median_s"], res[0]);
    let sven = agent(b);
    assert_eq!(sven["sessions"], 1);
    assert_eq!(sven["first_response"]["median_s"], frt[1]);
    assert_eq!(sven["resolution"]["p90_s"], res[1]);

    // Only day 1: one session.
    let one = admin
        .get(&format!("/api/v1/reports?from={d1}&to={d1}"))
        .await
        .json();
    assert!(one["sessions"].as_u64().unwrap() >= 1);
    assert_eq!(
        admin
            .get("/api/v1/reports?from=2026-02-10&to=2026-02-01")
            .await
            .status,
        422
    );
    assert_eq!(
        admin.get("/api/v1/reports?from=yesterday").await.status,
        422
    );

    let csv = admin
        .get(&format!("/api/v1/reports.csv?from={d0}&to={d1}"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let text = csv.text();
    assert!(text.starts_with("row,date,channel_id,channel,"), "{text}");
    let overall = text.lines().find(|l| l.starts_with("overall,")).unwrap();
    assert_eq!(
        overall,
        format!(
            "overall,{d0}..{d1},,,,,4,{},{},{},{}",
            sorted_frt[1], sorted_frt[2], res[0], res[1]
        )
    );
    // The page renders the charts server-side.
    let page = admin.get(&format!("/reports?from={d0}&to={d1}")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<svg"), "server-rendered SVG chart");
    t.stop().await;
}
