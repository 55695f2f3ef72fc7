//! Escalate to a call: click-to-call through Asterisk AMI and the Yeastar API (the fakes in
//! `crate::fakes::{ami, yeastar}`), every packet and request checked, success and each failure
//! reported clearly and recorded in the timeline; calls only for SMS and WhatsApp sessions.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::fakes::ami::{self, FakeAmi, Mode, without_action_id};
use crate::fakes::yeastar::{self, FakeYeastar};
use crate::support::customer::writes;
use crate::support::read::{audit_actions, timeline_kinds};
use crate::support::{Client, TestServer};

async fn wa_session_with_extension(t: &TestServer) -> (u64, Client, u64) {
    let (a, ca) = t.user("phil", "agent").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a]}))
        .await;
    let sid = writes(t, cid, "4915511112222", Some("Jo"), "call me")
        .await
        .session_id;
    (a, ca, sid)
}

async fn set_ami(t: &TestServer, fake: &FakeAmi) {
    let r = t
        .admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"ami","host":"127.0.0.1","port":fake.port,"username":ami::USERNAME,
                "secret":ami::SECRET,"context":"from-internal","caller_id":"Switchboard <100>"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(
        !r.text().contains(ami::SECRET),
        "secret masked: {}",
        r.text()
    );
}

const LOGIN: [&str; 4] = [
    "Action: Login",
    "Username: switchboard",
    "Secret: amisecret123",
    "Events: off",
];

const ORIGINATE: [&str; 8] = [
    "Action: Originate",
    "Channel: PJSIP/201",
    "Context: from-internal",
    "Exten: +4915511112222",
    "Priority: 1",
    "CallerID: Switchboard <100>",
    "Timeout: 30000",
    "Async: true",
];

#[tokio::test]
async fn ami_call_checks_packets_and_reports_success_and_failures() {
    let t = TestServer::start().await;
    let (a, ca, sid) = wa_session_with_extension(&t).await;
    let url = format!("/api/v1/sessions/{sid}/call");

    // No PBX link: 409 with the tel: fallback.
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["error"]["message"],
        "no PBX link configured; use tel:+4915511112222"
    );
    assert_eq!(
        ca.get("/api/v1/pbx/status").await.json()["configured"],
        false
    );
    assert_eq!(ca.get("/api/v1/pbx").await.status, 403);

    let fake = FakeAmi::start(Mode::Answered).await;
    set_ami(&t, &fake).await;
    // No extension yet: a clear 422.
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.message().contains("extension"));
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;

    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "answered");
    assert_eq!(r.json()["number"], "+4915511112222");
    assert_eq!(r.json()["extension"], "201");
    let sessions = fake.sessions(1).await;
    let packets = &sessions[0];
    assert_eq!(packets.len(), 3, "login, originate, logoff: {packets:?}");
    assert_eq!(without_action_id(&packets[0]).0, LOGIN);
    assert_eq!(without_action_id(&packets[1]).0, ORIGINATE);
    assert_eq!(without_action_id(&packets[2]).0, ["Action: Logoff"]);
    // The stored secret survives a masked round trip.
    let shown = t.admin.get("/api/v1/pbx").await.json();
    assert_eq!(shown["kind"], "ami");
    assert!(shown["secret"].as_str().unwrap().starts_with('•'));
    let r = t.admin.put("/api/v1/pbx", shown.clone()).await;
    assert_eq!(r.status, 200);

    for (mode, status, needle, sent) in [
        (Mode::AuthError, 502, "Authentication failed", 1),
        (Mode::Busy, 502, "busy", 3),
        (Mode::Drop, 502, "closed the connection", 1),
    ] {
        let fake = FakeAmi::start(mode).await;
        set_ami(&t, &fake).await;
        let r = ca.post(&url, json!({})).await;
        assert_eq!(r.status, status, "{mode:?}: {}", r.text());
        assert_eq!(r.code(), "pbx_error");
        assert!(r.message().contains(needle), "{mode:?}: {}", r.text());
        let packets = fake.sessions(1).await.remove(0);
        assert_eq!(packets.len(), sent, "{mode:?}: {packets:?}");
        assert_eq!(without_action_id(&packets[0]).0, LOGIN);
        if sent > 1 {
            assert_eq!(without_action_id(&packets[1]).0, ORIGINATE);
        }
    }

    // A PBX that accepts the connection and never answers: bounded by the 10 s budget.
    let fake = FakeAmi::start(Mode::Hang).await;
    set_ami(&t, &fake).await;
    let started = Instant::now();
    let r = ca.post(&url, json!({})).await;
    let took = started.elapsed();
    assert_eq!(r.status, 504, "{}", r.text());
    assert_eq!(r.code(), "pbx_timeout");
    assert!(r.message().contains("in time"));
    assert!(
        took >= Duration::from_secs(9) && took < Duration::from_secs(15),
        "{took:?}"
    );

    // Every attempt is in the timeline with its outcome.
    let tl = ca
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let calls: Vec<String> = tl
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "call")
        .map(|e| {
            format!(
                "{} {}",
                e["phrase"]["key"].as_str().unwrap(),
                e["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(calls.len(), 5, "{calls:?}");
    assert!(
        calls[0].starts_with("tl.d.call ") && calls[0].contains("answered"),
        "{calls:?}"
    );
    assert!(
        calls[1].starts_with("tl.d.call_failed ") && calls[1].contains("Authentication failed"),
        "{calls:?}"
    );
    assert!(calls[4].contains("in time"));
    t.stop().await;
}

#[tokio::test]
async fn calls_only_for_sms_and_whatsapp_sessions() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("lou", "agent").await;
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;
    let fake = FakeAmi::start(Mode::Hang).await;
    set_ami(&t, &fake).await;
    let fb = t
        .channel(json!({"kind":"messenger","name":"FB","members":[a]}))
        .await;
    let sid = writes(&t, fb, "psid-123", None, "hi").await.session_id;
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/call"), json!({}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.message().contains("SMS and WhatsApp"));
    t.stop().await;
}

async fn set_yeastar(t: &TestServer, fake: &FakeYeastar, secret: &str) -> crate::support::Resp {
    t.admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url": fake.base_url(),
                "client_id": yeastar::CLIENT_ID, "client_secret": secret}),
        )
        .await
}

#[tokio::test]
async fn yeastar_dial_caches_the_token_and_reports_errcode() {
    let t = TestServer::start().await;
    let (a, ca, sid) = wa_session_with_extension(&t).await;
    t.admin
        .patch(&format!("/api/v1/users/{a}"), json!({"extension":"201"}))
        .await;
    let fake = FakeYeastar::start().await;
    let r = set_yeastar(&t, &fake, yeastar::CLIENT_SECRET).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains(yeastar::CLIENT_SECRET));
    // The event link takes its own token first.
    fake.wait_subscribers(1).await;
    let before = fake.token_requests();
    let url = format!("/api/v1/sessions/{sid}/call");
    for _ in 0..2 {
        let r = ca.post(&url, json!({})).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["call_id"], yeastar::CALL_ID);
        assert_eq!(r.json()["status"], "dialing");
    }
    assert_eq!(
        fake.token_requests() - before,
        1,
        "the token is reused until it expires"
    );
    let requests = fake.requests();
    for r in &requests {
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("Switchboard/")),
            "User-Agent on every request: {r:?}"
        );
    }
    let dials: Vec<_> = requests
        .iter()
        .filter(|r| r.path().ends_with("/call/dial"))
        .collect();
    assert_eq!(dials.len(), 2);
    assert_eq!(
        dials[0].json(),
        json!({"caller": "201", "callee": "+4915511112222"})
    );

    // Colleague call from internal chat: extension to extension.
    let (b, _) = t.user("quinn", "agent").await;
    let r = ca.post("/api/v1/calls", json!({"to_user_id": b})).await;
    assert_eq!(r.status, 422, "quinn has no extension: {}", r.text());
    t.admin
        .patch(&format!("/api/v1/users/{b}"), json!({"extension":"202"}))
        .await;
    let r = ca.post("/api/v1/calls", json!({"to_user_id": b})).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // errcode != 0 from dial.
    let busy = FakeYeastar::start().await;
    busy.fail_dials(20002, "CALLER BUSY");
    set_yeastar(&t, &busy, yeastar::CLIENT_SECRET).await;
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 502, "{}", r.text());
    let msg = r.message();
    assert!(
        msg.contains("CALLER BUSY") && msg.contains("20002"),
        "{msg}"
    );

    // Wrong client secret: the token request fails with the PBX's reason.
    set_yeastar(&t, &busy, "wrong-secret-value").await;
    let r = ca.post(&url, json!({})).await;
    assert_eq!(r.status, 502, "{}", r.text());
    assert!(r.message().contains("INVALID CLIENT"));
    let tl = timeline_kinds(&ca, sid).await;
    assert_eq!(tl.iter().filter(|k| *k == "call").count(), 4);
    assert!(audit_actions(&t).await.contains(&"pbx.update".to_string()));
    t.stop().await;
}
