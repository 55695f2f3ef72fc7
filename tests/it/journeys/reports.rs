//! Reports and the navigation (issue 16): Contacts, Reports and My canned replies are linked
//! from the main navigation; first response is credited to the agent who actually replied
//! first (not the final owner after a transfer); the agent chart's labels do not overlap;
//! results and tags have their own breakdowns.

use serde_json::{Value, json};

use crate::browser::skip;
use crate::journeys::Journey;
use crate::support::customer;

#[tokio::test]
async fn journey_a9_reports_credit_and_breakdowns() {
    if skip() {
        return;
    }
    let j = Journey::start("a9_reports_credit_and_breakdowns").await;
    let (anna, ca) = j.t.user("anna", "agent").await;
    let (ben, cb) = j.t.user("ben", "agent").await;
    let ch =
        j.t.channel(json!({"kind": "sms", "name": "SMS", "members": [anna, ben]}))
            .await;
    for (path, items) in [
        ("/api/v1/results", ["Resolved", "Sale"]),
        ("/api/v1/tags", ["order", "complaint"]),
    ] {
        let r = j.t.admin.put(path, json!({ "items": items })).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let ok = |r: crate::support::Resp| {
        assert!(r.status < 300, "{} {}", r.status, r.text());
    };
    // Anna answers first, then hands over to Ben, who ends the chat.
    let s1 = customer::writes(&j.t, ch, "+4917600000001", None, "Where is my order?")
        .await
        .session_id;
    ok(ca
        .post(&format!("/api/v1/sessions/{s1}/pickup"), json!({}))
        .await);
    j.t.clock.advance_ms(4_000);
    ok(ca
        .post(
            &format!("/api/v1/sessions/{s1}/messages"),
            json!({"text": "Checking"}),
        )
        .await);
    ok(ca
        .post(
            &format!("/api/v1/sessions/{s1}/transfer"),
            json!({"to_user_id": ben}),
        )
        .await);
    ok(cb
        .put(
            &format!("/api/v1/sessions/{s1}/tags"),
            json!({"tags": ["order"]}),
        )
        .await);
    ok(cb
        .post(
            &format!("/api/v1/sessions/{s1}/close"),
            json!({"result": "Resolved"}),
        )
        .await);
    // Ben answers a second customer himself.
    let s2 = customer::writes(&j.t, ch, "+4917600000002", None, "Broken frame")
        .await
        .session_id;
    ok(cb
        .post(&format!("/api/v1/sessions/{s2}/pickup"), json!({}))
        .await);
    j.t.clock.advance_ms(9_000);
    ok(cb
        .post(
            &format!("/api/v1/sessions/{s2}/messages"),
            json!({"text": "Sorry!"}),
        )
        .await);
    ok(cb
        .put(
            &format!("/api/v1/sessions/{s2}/tags"),
            json!({"tags": ["complaint", "order"]}),
        )
        .await);

    let admin = j.login("admin").await;
    admin.click_text("My canned replies").await;
    admin
        .wait_for(|u| u.ends_with("/canned"), "the canned replies page")
        .await;
    admin.click_text("Reports").await;
    admin.wait_text("h1", "Reports").await;
    admin.wait_text("#chart-results", "Resolved").await;
    let tags = admin.wait_text("#chart-tags", "order").await;
    assert!(tags.contains("complaint"), "{tags}");
    let agents = admin.wait_text("#chart-agents", "anna").await;
    assert!(agents.contains("ben"), "{agents}");
    // No two labels of the agent chart overlap.
    let overlap = admin
        .js("const r = [...document.querySelectorAll('#chart-agents .wf-lbl')].map(t => t.getBoundingClientRect());
             return r.some((a, i) => r.some((b, k) => k > i && a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom));")
        .await;
    assert_eq!(overlap, json!(false));
    admin
        .js("document.getElementById('chart-agents').scrollIntoView(); return 0")
        .await;
    admin.screenshot().await;

    // The numbers: Anna's reply counts for Anna, though Ben owns the conversation.
    let rep = j.t.admin.get("/api/v1/reports").await.json();
    let agent = |name: &str| -> Value {
        rep["agents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {rep}"))
    };
    assert_eq!(agent("anna")["first_response"]["count"], 1, "{rep}");
    assert_eq!(agent("anna")["sessions"], 0, "{rep}");
    assert_eq!(agent("ben")["first_response"]["count"], 1, "{rep}");
    assert_eq!(agent("ben")["sessions"], 2, "{rep}");
    assert!(
        agent("anna")["first_response"]["median_s"]
            .as_i64()
            .unwrap()
            < 8,
        "{rep}"
    );
    assert_eq!(rep["results"], json!([{"name": "Resolved", "sessions": 1}]));
    assert_eq!(
        rep["tags"],
        json!([{"name": "order", "sessions": 2}, {"name": "complaint", "sessions": 1}])
    );
    j.finish([admin]).await;
}
