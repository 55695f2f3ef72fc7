//! The live PBX event link against the fake AMI and the fake Yeastar: link state on the PBX
//! page and in `/metrics`, reconnecting after the PBX drops the connection, garbled frames
//! and unknown events counted without harm, and phone state moving agents out of and back
//! into assign-on-arrival's round robin.

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::ids::UserId;

use crate::fakes::ami::{self, FakeAmi, Mode};
use crate::support::customer::writes;
use crate::support::read::{session, wait_for};
use crate::support::{Client, TestServer};

pub fn ext_status(ext: &str, status: u8, text: &str) -> String {
    format!(
        "Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: {ext}\r\nContext: ext-local\r\nHint: PJSIP/{ext}\r\nStatus: {status}\r\nStatusText: {text}\r\n\r\n"
    )
}

pub fn presence(ext: &str, status: &str) -> String {
    format!(
        "Event: PresenceStateChange\r\nPrivilege: call,all\r\nPresentity: CustomPresence:{ext}\r\nStatus: {status}\r\nSubtype: \r\nMessage: \r\n\r\n"
    )
}

pub async fn link_ami(t: &TestServer, pbx: &FakeAmi) {
    let r = t
        .admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"ami","host":"127.0.0.1","port":pbx.port,"username":ami::USERNAME,
                "secret":ami::SECRET,"context":"from-internal"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    pbx.wait_subscribers(1).await;
}

pub async fn set_extension(t: &TestServer, id: u64, ext: &str) {
    let r = t
        .admin
        .patch(&format!("/api/v1/users/{id}"), json!({"extension": ext}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

async fn page(c: &Client) -> String {
    c.get("/admin/pbx").await.text()
}

async fn wait_page(c: &Client, needle: &str) -> String {
    wait_for(needle, || async {
        let p = page(c).await;
        p.contains(needle).then_some(p)
    })
    .await
}

#[tokio::test]
async fn the_link_comes_up_survives_garbage_and_reconnects_after_a_drop() {
    let t = TestServer::start().await;
    assert!(page(&t.admin).await.contains("data-state=\"off\""));
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&t, &pbx).await;
    wait_page(&t.admin, "data-state=\"up\"").await;
    // (The recorder is shared by every server in this process: names, not values.)
    let metrics = t.admin.get("/metrics").await.text();
    assert!(metrics.contains("pbx_link_up "), "{metrics}");

    // The login asked for call and CDR events.
    let (id, _) = t.user("amy", "agent").await;
    set_extension(&t, id, "201").await;

    // Garbage, a packet cut off by a blank line, an unknown event: counted, nothing else.
    pbx.send_events("this is not AMI\r\n\r\nEvent: ExtensionStatus\r\nExten: \r\n\r\n");
    pbx.send_events("Event: BrandNewThing\r\nFoo: bar\r\n\r\n");
    pbx.send_events(&ext_status("201", 1, "InUse"));
    wait_for("amy on a call", || async {
        t.state().presence.phone(UserId(id)).busy().then_some(())
    })
    .await;
    let p = wait_page(&t.admin, "unknown event BrandNewThing").await;
    assert!(p.contains("data-state=\"up\""), "still up");
    assert!(p.contains("unreadable frames 2"), "{p}");

    // Chat keeps its speed while the PBX is in trouble: a webhook intake is quick.
    let ch = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[id],"queue_mode":"manual"}))
        .await;

    // The PBX restarts: the link notices, shows it, and comes back by itself.
    pbx.drop_subscribers();
    let started = Instant::now();
    let a = writes(&t, ch, "4915100000009", None, "hello during the drop").await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "intake took {:?}",
        started.elapsed()
    );
    assert!(session(&t.admin, a.session_id).await["id"].is_u64());
    wait_for("a second event login", || async {
        (pbx.event_logins() >= 2).then_some(())
    })
    .await;
    let p = wait_page(&t.admin, "data-state=\"up\"").await;
    assert!(p.contains("reconnects 1"), "{p}");
    // What was known about phones before the drop is forgotten, not trusted.
    assert!(!t.state().presence.phone(UserId(id)).busy());
    let metrics = t.admin.get("/metrics").await.text();
    for name in [
        "pbx_link_reconnects_total ",
        "pbx_frames_garbled_total ",
        "pbx_events_unknown_total ",
        "pbx_events_total ",
    ] {
        assert!(metrics.contains(name), "{name}: {metrics}");
    }
    t.stop().await;
}

#[tokio::test]
async fn a_pbx_that_never_answers_shows_down_and_chat_is_unaffected() {
    let t = TestServer::start().await;
    let pbx = FakeAmi::start(Mode::Hang).await;
    let r = t
        .admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"ami","host":"127.0.0.1","port":pbx.port,"username":ami::USERNAME,
                "secret":ami::SECRET,"context":"from-internal"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let ch = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[],"queue_mode":"manual"}))
        .await;
    let started = Instant::now();
    for i in 0..5 {
        writes(&t, ch, &format!("491510000010{i}"), None, "hi").await;
    }
    assert!(started.elapsed() < Duration::from_secs(3));
    let p = wait_page(&t.admin, "data-state=\"down\"").await;
    assert!(p.contains("AMI banner"), "{p}");
    t.stop().await;
}

#[tokio::test]
async fn phone_state_moves_an_agent_out_of_and_back_into_round_robin() {
    let t = TestServer::start().await;
    let (a, ca) = t.user("amy", "agent").await;
    let (b, cb) = t.user("bob", "agent").await;
    set_extension(&t, a, "201").await;
    set_extension(&t, b, "202").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a,b],
            "queue_mode":"assign_on_arrival"}))
        .await;
    ca.get("/api/v1/me").await;
    cb.get("/api/v1/me").await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&t, &pbx).await;

    // amy picks up her desk phone: every new session goes to bob.
    pbx.send_events(&ext_status("201", 1, "InUse"));
    wait_for("amy busy", || async {
        t.state().presence.phone(UserId(a)).busy().then_some(())
    })
    .await;
    for i in 0..3 {
        let s = writes(&t, cid, &format!("49170000000{i}"), None, "hi")
            .await
            .session_id;
        assert_eq!(session(&t.admin, s).await["assignee"], b, "session {i}");
    }
    // She hangs up: round robin uses her again.
    pbx.send_events(&ext_status("201", 0, "Idle"));
    wait_for("amy free", || async {
        (!t.state().presence.phone(UserId(a)).busy()).then_some(())
    })
    .await;
    let mut got = std::collections::HashSet::new();
    for i in 0..2 {
        let s = writes(&t, cid, &format!("49170000001{i}"), None, "hi")
            .await
            .session_id;
        got.insert(session(&t.admin, s).await["assignee"].as_u64().unwrap());
    }
    assert!(got.contains(&a), "{got:?}");

    // bob sets DND on his phone: only amy.
    pbx.send_events(&presence("202", "dnd"));
    wait_for("bob dnd", || async {
        t.state().presence.phone(UserId(b)).busy().then_some(())
    })
    .await;
    for i in 0..2 {
        let s = writes(&t, cid, &format!("49170000002{i}"), None, "hi")
            .await
            .session_id;
        assert_eq!(session(&t.admin, s).await["assignee"], a);
    }
    // bob opts out of phone-driven routing in his settings: he gets sessions despite DND.
    let r = cb
        .post_form(
            "/settings",
            &[
                ("display_name", "bob"),
                ("extension", "202"),
                ("phone_routing_off", "on"),
            ],
        )
        .await;
    assert!(r.status < 400, "{}", r.text());
    let mut got = std::collections::HashSet::new();
    for i in 0..2 {
        let s = writes(&t, cid, &format!("49170000003{i}"), None, "hi")
            .await
            .session_id;
        got.insert(session(&t.admin, s).await["assignee"].as_u64().unwrap());
    }
    assert!(got.contains(&b), "{got:?}");
    t.stop().await;
}

#[tokio::test]
async fn the_yeastar_subscription_reports_phones_and_reconnects() {
    use crate::fakes::yeastar::{self, FakeYeastar};
    let t = TestServer::start().await;
    let (a, _) = t.user("amy", "agent").await;
    set_extension(&t, a, "2002").await;
    let ys = FakeYeastar::start().await;
    let r = t
        .admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url":ys.base_url(),"client_id":yeastar::CLIENT_ID,
                "client_secret":yeastar::CLIENT_SECRET}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    ys.wait_subscribers(1).await;
    assert!(
        ys.received()
            .iter()
            .any(|m| m == r#"{"topic_list":[30008,30009,30011,30012]}"#),
        "{:?}",
        ys.received()
    );
    wait_page(&t.admin, "data-state=\"up\"").await;

    ys.send_raw("not json at all");
    ys.send_event(30033, json!({"whatever": 1}));
    ys.send_event(30008, json!({"extension": "2002", "status": "Busy"}));
    wait_for("amy on a call", || async {
        t.state().presence.phone(UserId(a)).busy().then_some(())
    })
    .await;
    ys.send_event(30008, json!({"extension": "2002", "status": "Idle"}));
    ys.send_event(
        30009,
        json!({"extension": "2002", "status": "do_not_disturb"}),
    );
    wait_for("amy dnd", || async {
        (t.state().presence.phone(UserId(a)).label() == Some("dnd")).then_some(())
    })
    .await;
    let p = wait_page(&t.admin, "unknown events 1").await;
    assert!(p.contains("unreadable frames 1"), "{p}");

    ys.drop_subscribers();
    wait_page(&t.admin, "reconnects 1").await;
    ys.wait_subscribers(1).await;
    wait_page(&t.admin, "data-state=\"up\"").await;
    t.stop().await;
}

/// A `Cdr` event as Asterisk's cdr_manager frames it.
#[allow(clippy::too_many_arguments)]
pub fn cdr(
    id: &str,
    source: &str,
    destination: &str,
    channel: &str,
    dest_channel: &str,
    disposition: &str,
    duration: u32,
    billable: u32,
) -> String {
    format!(
        "Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode: \r\nSource: {source}\r\nDestination: {destination}\r\nDestinationContext: from-internal\r\nCallerID: \"\" <{source}>\r\nChannel: {channel}\r\nDestinationChannel: {dest_channel}\r\nLastApplication: Dial\r\nLastData: PJSIP/201,30\r\nStartTime: 2026-12-03 17:40:00\r\nAnswerTime: \r\nEndTime: 2026-12-03 17:40:30\r\nDuration: {duration}\r\nBillableSeconds: {billable}\r\nDisposition: {disposition}\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: {id}\r\nUserField: \r\n\r\n"
    )
}

/// A `DialBegin`: the PBX rings extension `ext` for `caller`.
pub fn dial_begin(caller: &str, ext: &str) -> String {
    format!(
        "Event: DialBegin\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDNum: {caller}\r\nCallerIDName: <unknown>\r\nDestChannel: PJSIP/{ext}-00000002\r\nDestCallerIDNum: {ext}\r\nDestExten: {ext}\r\nDialString: {ext}\r\n\r\n"
    )
}

#[tokio::test]
async fn cdrs_land_in_the_right_contacts_timeline_once_whatever_the_number_format() {
    use crate::support::read::timeline_kinds;
    let t = TestServer::start().await;
    let (a, ca) = t.user("amy", "agent").await;
    set_extension(&t, a, "201").await;
    let sms = t
        .channel(json!({"kind":"sms","name":"SMS","members":[a],"queue_mode":"manual"}))
        .await;
    let wa = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[a],"queue_mode":"manual"}))
        .await;
    let fb = t
        .channel(json!({"kind":"messenger","name":"FB","members":[a],"queue_mode":"manual"}))
        .await;
    let s1 = writes(&t, sms, "+4917612345678", None, "sms")
        .await
        .session_id;
    let s2 = writes(&t, wa, "4917612345678", None, "wa").await.session_id;
    let other = writes(&t, sms, "+4917699999999", None, "other")
        .await
        .session_id;
    // A Messenger PSID ending in the same digits is not a phone number.
    let psid = writes(&t, fb, "99004917612345678", None, "fb")
        .await
        .session_id;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&t, &pbx).await;

    // A missed call in national format, reported twice (one CDR per leg), then odd ones.
    let missed = cdr(
        "1700000000.1",
        "017612345678",
        "201",
        "PJSIP/trunk-00000001",
        "PJSIP/201-00000002",
        "NO ANSWER",
        30,
        0,
    );
    pbx.send_events(&missed);
    pbx.send_events(&missed);
    pbx.send_events(&cdr("x2", "anonymous", "201", "", "", "NO ANSWER", 5, 0));
    pbx.send_events(&cdr(
        "x3",
        "201",
        "202",
        "PJSIP/201-1",
        "PJSIP/202-2",
        "ANSWERED",
        9,
        8,
    ));
    pbx.send_events(&cdr(
        "1700000000.9",
        "201",
        "0049 176 12345678",
        "PJSIP/201-00000003",
        "PJSIP/trunk-00000004",
        "ANSWERED",
        100,
        95,
    ));
    let tl = wait_for("two calls in the SMS conversation", || async {
        let r = ca.get(&format!("/api/v1/sessions/{s1}/timeline")).await;
        let tl = r.json().as_array().cloned().unwrap_or_default();
        (tl.iter().filter(|e| e["kind"] == "phone_call").count() >= 2).then_some(tl)
    })
    .await;
    let calls: Vec<serde_json::Value> = tl
        .iter()
        .filter(|e| e["kind"] == "phone_call")
        .map(|e| serde_json::from_str(e["detail"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0]["direction"], "inbound");
    assert_eq!(calls[0]["disposition"], "missed");
    assert_eq!(calls[0]["extension"], "201");
    assert_eq!(calls[1]["direction"], "outbound");
    assert_eq!(calls[1]["disposition"], "answered");
    assert_eq!(calls[1]["talk_s"], 95);
    // WhatsApp's contact is the same number: its conversation shows them too.
    wait_for("the WhatsApp conversation", || async {
        let k = timeline_kinds(&ca, s2).await;
        (k.iter().filter(|k| *k == "phone_call").count() == 2).then_some(())
    })
    .await;
    for s in [other, psid] {
        assert!(
            !timeline_kinds(&ca, s)
                .await
                .contains(&"phone_call".to_string())
        );
    }
    t.stop().await;
}

pub async fn followup_whatsapp(t: &TestServer, ch: u64, cooldown_hours: u32) {
    let r = t
        .admin
        .post(
            "/api/v1/templates",
            json!({"name":"missed_call","language":"en_US",
                "body":"Sorry we missed your call. How can we help?"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let ch = ch.to_string();
    let hours = cooldown_hours.to_string();
    let r = t
        .admin
        .post_form(
            "/admin/pbx/followup",
            &[
                ("enabled", "on"),
                ("channel_id", &ch),
                ("template", "missed_call"),
                ("language", "en_US"),
                ("cooldown_hours", &hours),
                ("numbers", ""),
            ],
        )
        .await;
    assert!(r.status < 400, "{} {}", r.status, r.text());
}

#[tokio::test]
async fn a_missed_call_gets_one_follow_up_none_within_the_cooldown_or_to_a_blocked_number() {
    use crate::fakes::whatsapp::FakeWhatsApp;
    use crate::support::{customer, setup};
    let t = TestServer::start().await;
    let (a, _) = t.user("amy", "agent").await;
    set_extension(&t, a, "201").await;
    let wa = FakeWhatsApp::start().await;
    let ch = setup::whatsapp_channel(&t, &wa).await;
    followup_whatsapp(&t, ch, 24).await;
    let pbx = FakeAmi::start(Mode::Answered).await;
    link_ami(&t, &pbx).await;
    let templates_to = |to: &str| {
        wa.accepted()
            .iter()
            .filter(|m| m["type"] == "template" && m["to"] == to)
            .count()
    };
    // Events are applied in order: amy's phone state after a CDR shows the CDR was handled.
    let mut flip = 0u8;
    let mut barrier = || {
        flip = 1 - flip;
        let busy = flip == 1;
        pbx.send_events(&ext_status("201", if busy { 1 } else { 0 }, "x"));
        let t = &t;
        async move {
            wait_for("the events before", || async {
                (t.state().presence.phone(UserId(a)).busy() == busy).then_some(())
            })
            .await;
        }
    };
    let missed = |id: &str, from: &str| {
        cdr(
            id,
            from,
            "201",
            "PJSIP/trunk-1",
            "PJSIP/201-2",
            "NO ANSWER",
            25,
            0,
        )
    };

    pbx.send_events(&missed("c1", "+4917612345678"));
    wait_for("the follow-up template", || async {
        (templates_to("4917612345678") == 1).then_some(())
    })
    .await;
    let sent = wa
        .accepted()
        .into_iter()
        .find(|m| m["type"] == "template")
        .unwrap();
    assert_eq!(sent["template"]["name"], "missed_call");
    assert_eq!(sent["template"]["language"]["code"], "en_US");
    // In the queue, unassigned, tagged "missed call".
    let sessions = t.admin.get("/api/v1/sessions?scope=all").await.json();
    let s = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "missed call"))
        })
        .cloned()
        .unwrap_or_else(|| panic!("{sessions}"));
    assert!(s["assignee"].is_null(), "{s}");

    // The same caller again (another format) within the cooldown: nothing more.
    pbx.send_events(&missed("c2", "0049 176 12345678"));
    // An answered call and a voicemail from a blocked number: nothing either.
    pbx.send_events(&cdr(
        "c3",
        "+4915100000001",
        "201",
        "PJSIP/trunk-1",
        "PJSIP/201-2",
        "ANSWERED",
        40,
        30,
    ));
    let blocked = customer::whatsapp(&t, ch, "4915100000077", "Spam", "buy now").await;
    let contact = session(&t.admin, blocked.session_id).await["contact_id"].clone();
    let r = t
        .admin
        .post(
            &format!("/api/v1/contacts/{contact}/block"),
            json!({"reason":"spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    pbx.send_events(&missed("c4", "+4915100000077"));
    barrier().await;
    // Give the delivery worker a moment to send anything wrongly queued.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(templates_to("4917612345678"), 1);
    assert_eq!(templates_to("4915100000001"), 0);
    assert_eq!(templates_to("4915100000077"), 0);

    // After the cooldown the caller gets one again.
    t.clock.advance_ms(25 * 3_600_000);
    pbx.send_events(&missed("c5", "+4917612345678"));
    wait_for("a second follow-up after the cooldown", || async {
        (templates_to("4917612345678") == 2).then_some(())
    })
    .await;
    t.stop().await;
}

/// A 30011 "Call State Changed" message body as the Yeastar P-Series developer guide shows it.
pub fn call_state(call_id: &str, members: serde_json::Value) -> serde_json::Value {
    json!({"call_id": call_id, "members": members})
}

async fn yeastar_linked(t: &TestServer) -> crate::fakes::yeastar::FakeYeastar {
    use crate::fakes::yeastar::{self, FakeYeastar};
    let ys = FakeYeastar::start().await;
    let r = t
        .admin
        .put(
            "/api/v1/pbx",
            json!({"kind":"yeastar","base_url":ys.base_url(),"client_id":yeastar::CLIENT_ID,
                "client_secret":yeastar::CLIENT_SECRET}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    ys.wait_subscribers(1).await;
    wait_page(&t.admin, "data-state=\"up\"").await;
    ys
}

/// Yeastar's 30011: an inbound call from a known contact ringing extension 2002 pops on Amy's
/// pages only (Bob at 2003 gets nothing); garbled or partial 30011 frames are counted and
/// change nothing else (the next event still applies).
#[tokio::test]
async fn yeastar_call_state_pops_the_ringing_agents_screen_only() {
    use crate::support::events::EventStream;
    let t = TestServer::start().await;
    let (amy, ca) = t.user("amy", "agent").await;
    let (bob, cb) = t.user("bob", "agent").await;
    set_extension(&t, amy, "2002").await;
    set_extension(&t, bob, "2003").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[amy, bob]}))
        .await;
    let sid = writes(&t, cid, "4917612345678", Some("Jonas"), "invoice?")
        .await
        .session_id;
    let ys = yeastar_linked(&t).await;
    assert!(
        ys.received()
            .iter()
            .any(|m| m == r#"{"topic_list":[30008,30009,30011,30012]}"#),
        "{:?}",
        ys.received()
    );
    let mut ea = EventStream::open(&ca).await;
    let mut eb = EventStream::open(&cb).await;

    // Garbled and partial frames first.
    ys.send_raw(r#"{"type":30011,"sn":"x","msg":"{\"call_id\":"}"#);
    ys.send_event(30011, json!({"call_id": "1"}));
    ys.send_event(
        30011,
        call_state(
            "1700000000.77",
            json!([
                {"inbound": {"from": "017612345678", "to": "5503301", "trunk_name": "SIP-trunk",
                    "channel_id": "PJSIP/SIP-trunk-00000031", "member_status": "ALERT", "call_path": ""}},
                {"extension": {"number": "2002", "channel_id": "PJSIP/2002-00000032",
                    "member_status": "RING", "call_path": ""}}
            ]),
        ),
    );
    let e = ea.next_of_kind("phone.ringing").await;
    assert_eq!(e.data()["name"], "Jonas", "{:?}", e.json);
    assert_eq!(e.data()["extension"], "2002");
    assert_eq!(e.data()["sessions"][0]["id"], sid);
    // Bob's stream: an event after the pop proves the pop was not for him.
    ys.send_event(30008, json!({"extension": "2003", "status": "Busy"}));
    let seen = eb.until(|e| e.kind() == "phone.state").await;
    assert!(seen.iter().all(|e| e.kind() != "phone.ringing"), "{seen:?}");
    wait_for("bob busy", || async {
        t.state().presence.phone(UserId(bob)).busy().then_some(())
    })
    .await;
    let p = wait_page(&t.admin, "unreadable frames 2").await;
    assert!(p.contains("30011"), "{p}");
    t.stop().await;
}

/// Click-to-call through Yeastar, followed live: the dial's call id, then 30011 as the PBX
/// sends it for the call: the agent's extension rings, the outbound member rings, answers,
/// hangs up. The agent's stream gets calling → ringing → connected → ended; the 30012 CDR
/// of the same call id adds no second timeline entry.
#[tokio::test]
async fn yeastar_click_to_call_is_followed_live_and_logged_once() {
    use crate::fakes::yeastar::CALL_ID;
    use crate::support::events::EventStream;
    use crate::support::read::timeline_kinds;
    let t = TestServer::start().await;
    let (amy, ca) = t.user("amy", "agent").await;
    set_extension(&t, amy, "2002").await;
    let cid = t
        .channel(json!({"kind":"whatsapp","name":"WA","members":[amy]}))
        .await;
    let sid = writes(&t, cid, "4917612345678", Some("Jonas"), "call me")
        .await
        .session_id;
    let ys = yeastar_linked(&t).await;
    let mut ea = EventStream::open(&ca).await;
    let r = ca
        .post(&format!("/api/v1/sessions/{sid}/call"), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let e = ea.next_of_kind("call.state").await;
    assert_eq!(e.data()["state"], "calling");
    assert_eq!(e.data()["session_id"], sid);

    let ext = |st: &str| json!({"extension": {"number": "2002", "channel_id": "PJSIP/2002-00000040", "member_status": st, "call_path": ""}});
    let out = |st: &str| json!({"outbound": {"from": "2002", "to": "+4917612345678", "trunk_name": "SIP-trunk", "channel_id": "PJSIP/SIP-trunk-00000041", "member_status": st, "call_path": ""}});
    ys.send_event(30011, call_state(CALL_ID, json!([ext("RING")])));
    ys.send_event(
        30011,
        call_state(CALL_ID, json!([ext("ANSWER"), out("RING")])),
    );
    // Each step is seen before the clock moves (the link applies events on its own task).
    let e = ea.next_of_kind("call.state").await;
    assert_eq!(e.data()["state"], "ringing", "{:?}", e.json);
    ys.send_event(
        30011,
        call_state(CALL_ID, json!([ext("ANSWERED"), out("ANSWER")])),
    );
    let e = ea.next_of_kind("call.state").await;
    assert_eq!(e.data()["state"], "connected", "{:?}", e.json);
    t.clock.advance_ms(42_000);
    ys.send_event(30011, call_state(CALL_ID, json!([ext("BYE"), out("BYE")])));
    let e = ea.next_of_kind("call.state").await;
    assert_eq!(e.data()["state"], "ended", "{:?}", e.json);
    assert_eq!(e.data()["talk_s"], 42);

    ys.send_event(
        30012,
        json!({"call_id": CALL_ID, "time_start": "2026-12-04 14:00:00", "call_from": "2002",
            "call_to": "+4917612345678", "call_duration": 45, "talk_duration": 42,
            "status": "ANSWERED", "type": "Outbound"}),
    );
    ys.send_event(30008, json!({"extension": "2002", "status": "Idle"}));
    wait_for("the CDR handled", || async {
        (t.state().presence.phone(UserId(amy)).label() == Some("idle")).then_some(())
    })
    .await;
    let tl = ca
        .get(&format!("/api/v1/sessions/{sid}/timeline"))
        .await
        .json();
    let calls: Vec<_> = tl
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "phone_call")
        .collect();
    assert_eq!(calls.len(), 1, "{tl}");
    let detail: serde_json::Value =
        serde_json::from_str(calls[0]["detail"].as_str().unwrap_or("{}")).unwrap();
    assert_eq!(detail["call_id"], CALL_ID);
    assert_eq!(detail["disposition"], "answered");
    assert_eq!(detail["talk_s"], 42);
    let kinds = timeline_kinds(&ca, sid).await;
    assert_eq!(kinds.iter().filter(|k| *k == "phone_call").count(), 1);
    t.stop().await;
}
