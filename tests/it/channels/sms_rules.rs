//! What a carrier accepts (issue 20): Twilio's MMS limits at attach time, STOP/START opt-out
//! respected by composer and API, delivery error codes in plain words on the health line.

use serde_json::json;

use super::*;
use crate::fakes::twilio;

async fn sms_says(t: &TestServer, ch: u64, sid: &str, body: &str) {
    let p = twilio::inbound_params(sid, "+14155550100", twilio::FROM_NUMBER, body);
    let r = post_twilio_hook(t, ch, &p).await;
    assert!(r.status < 300, "{} {}", r.status, r.text());
}

async fn post_twilio_hook(t: &TestServer, ch: u64, p: &[(String, String)]) -> Resp {
    crate::support::customer::post_twilio(t, &format!("/hooks/twilio/{ch}"), p, twilio::AUTH_TOKEN)
        .await
}

async fn upload(t: &TestServer, ch: u64, name: &str, bytes: Vec<u8>) -> Resp {
    let c = &t.admin;
    let rb = c
        .http
        .post(c.url(&format!("/api/v1/attachments?channel_id={ch}")))
        .headers(c.headers(true))
        .header("x-filename", name)
        .body(bytes);
    c.send(rb).await
}

#[tokio::test]
async fn stop_blocks_sending_until_start() {
    let t = TestServer::start().await;
    let fake = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &fake).await;
    sms_says(&t, ch, "SM00000000000000000000000000000001", "Hi").await;
    let sid = sessions(&t).await[0]["id"].as_u64().unwrap();
    let send = |text: &'static str| {
        let t = &t;
        async move {
            t.admin
                .post(
                    &format!("/api/v1/sessions/{sid}/messages"),
                    json!({"text": text}),
                )
                .await
        }
    };
    assert_eq!(send("first").await.status, 201);

    sms_says(&t, ch, "SM00000000000000000000000000000002", " Stop ").await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["window"], "closed", "{d}");
    assert!(
        d["window_message"]
            .as_str()
            .unwrap()
            .contains("replied STOP"),
        "{d}"
    );
    assert_eq!(d["contact"]["opted_out"]["keyword"], "STOP", "{d}");
    let r = send("after stop").await;
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("until they reply START"), "{}", r.text());
    // HELP changes nothing.
    sms_says(&t, ch, "SM00000000000000000000000000000003", "help").await;
    assert_eq!(send("still not").await.status, 422);

    sms_says(&t, ch, "SM00000000000000000000000000000004", "START").await;
    let d = t.admin.get(&format!("/api/v1/sessions/{sid}")).await.json();
    assert_eq!(d["window"], "open", "{d}");
    assert!(d["contact"].get("opted_out").is_none(), "{d}");
    assert_eq!(send("welcome back").await.status, 201);
    let texts: Vec<String> = messages(&t, sid)
        .await
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        !texts.iter().any(|x| x == "after stop" || x == "still not"),
        "{texts:?}"
    );
}

#[tokio::test]
async fn unregistered_10dlc_shows_in_plain_words_on_the_health_line() {
    let t = TestServer::start().await;
    let fake = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &fake).await;
    let p = twilio::status_params("SM00000000000000000000000000000009", "undelivered", None);
    let mut p = p;
    p.push(("ErrorCode".into(), "30034".into()));
    let r = crate::support::customer::post_twilio(
        &t,
        &format!("/hooks/twilio/{ch}/status"),
        &p,
        twilio::AUTH_TOKEN,
    )
    .await;
    assert!(r.status < 300, "{}", r.text());
    let c = t.admin.get(&format!("/api/v1/channels/{ch}")).await.json();
    let why = c["health"]["last_send_error"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(why.contains("not registered for US A2P 10DLC"), "{c}");
    assert!(why.contains("30034"), "{c}");
}

#[tokio::test]
async fn mms_limits_are_enforced_when_attaching() {
    let t = TestServer::start().await;
    let fake = twilio::FakeTwilio::start().await;
    let ch = twilio_channel(&t, &fake).await;
    let mut pdf = b"%PDF-1.4\n".to_vec();
    pdf.resize(6 << 20, b' ');
    let r = upload(&t, ch, "big.pdf", pdf).await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.text().contains("at most 5 MB"), "{}", r.text());
    let mut zip = b"PK\x03\x04".to_vec();
    zip.resize(2000, 0);
    let r = upload(&t, ch, "files.zip", zip).await;
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(r.text().contains("cannot be sent by SMS"), "{}", r.text());
    let mut small = b"%PDF-1.4\n".to_vec();
    small.resize(100_000, b' ');
    let r = upload(&t, ch, "ok.pdf", small).await;
    assert!(r.status < 300, "{}", r.text());
}
