//! Fake Twilio Messaging API plus builders for signed Twilio webhooks.
//!
//! Endpoints (base URL = origin): `POST /2010-04-01/Accounts/{sid}/Messages.json` (send, Basic
//! auth), `GET /2010-04-01/Accounts/{sid}/Messages/{MM}/Media/{ME}` (Basic auth, answers 307 to
//! a CDN path) and `GET /cdn/{ME}` (the bytes, no auth needed).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::json;

use super::{Core, Flavor, Recorded, Server, StoredMedia, json_response, lock};

pub const ACCOUNT_SID: &str = "AC00000000000000000000000000000001";
pub const AUTH_TOKEN: &str = "twilio-test-token";
pub const FROM_NUMBER: &str = "+15005550006";

const SERVER_ERROR: &str = r#"{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}"#;
const RATE_LIMITED: &str = r#"{"code":20429,"message":"Too Many Requests","more_info":"https://www.twilio.com/docs/errors/20429","status":429}"#;

/// A Twilio error body (`{"code","message","more_info","status"}`).
pub fn error_body(status: u16, code: u32, message: &str) -> String {
    json!({"code": code, "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status})
    .to_string()
}

struct TwState {
    core: Arc<Core>,
    account_sid: String,
    auth_token: String,
    origin: Mutex<String>,
    media: Mutex<HashMap<String, StoredMedia>>,
    accepted: Mutex<Vec<Vec<(String, String)>>>,
    counter: AtomicU64,
}

pub struct FakeTwilio {
    pub server: Server,
    state: Arc<TwState>,
}

impl FakeTwilio {
    pub async fn start() -> FakeTwilio {
        FakeTwilio::start_with(ACCOUNT_SID, AUTH_TOKEN).await
    }

    pub async fn start_with(account_sid: &str, auth_token: &str) -> FakeTwilio {
        let mut state = None;
        let flavor = Flavor {
            server_error: SERVER_ERROR,
            rate_limited: RATE_LIMITED,
        };
        let server = Server::start(flavor, |core| {
            let s = Arc::new(TwState {
                core,
                account_sid: account_sid.to_owned(),
                auth_token: auth_token.to_owned(),
                origin: Mutex::new(String::new()),
                media: Mutex::new(HashMap::new()),
                accepted: Mutex::new(Vec::new()),
                counter: AtomicU64::new(1),
            });
            state = Some(s.clone());
            Router::new().fallback(handle).with_state(s)
        })
        .await;
        let state = state.expect("router built");
        *lock(&state.origin) = server.origin();
        FakeTwilio { server, state }
    }

    pub fn base_url(&self) -> String {
        self.server.origin()
    }

    /// A config sending from [`FROM_NUMBER`] with the given status callback.
    pub fn config(
        &self,
        status_callback: Option<&str>,
    ) -> switchboard::channels::twilio::TwilioConfig {
        use switchboard::channels::twilio::{TwilioConfig, TwilioSender};
        TwilioConfig {
            base_url: self.base_url(),
            account_sid: self.state.account_sid.clone(),
            auth_token: self.state.auth_token.clone(),
            sender: TwilioSender::From(FROM_NUMBER.to_owned()),
            status_callback: status_callback.map(str::to_owned),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.core.requests()
    }

    pub fn fail_next(&self, n: usize, fault: super::Fault) {
        self.server.core.fail_next(n, fault);
    }

    pub fn fail_next_on(&self, path_contains: &str, n: usize, fault: super::Fault) {
        self.server.core.fail_next_on(path_contains, n, fault);
    }

    /// The forms of accepted sends, in order.
    pub fn accepted(&self) -> Vec<Vec<(String, String)>> {
        lock(&self.state.accepted).clone()
    }

    /// Serve a file as inbound MMS media; returns its `MediaUrl` (on the fake's origin).
    pub fn add_media(&self, bytes: &[u8], mime: &str) -> String {
        let n = self.state.counter.fetch_add(1, Ordering::SeqCst);
        let me = format!("ME{n:032}");
        let media = StoredMedia {
            bytes: Bytes::copy_from_slice(bytes),
            mime: mime.to_owned(),
            filename: None,
            with_length: true,
        };
        lock(&self.state.media).insert(me.clone(), media);
        format!(
            "{}/2010-04-01/Accounts/{}/Messages/MM{n:032}/Media/{me}",
            self.base_url(),
            self.state.account_sid
        )
    }
}

fn expected_auth(s: &TwState) -> String {
    let raw = format!("{}:{}", s.account_sid, s.auth_token);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

async fn handle(State(s): State<Arc<TwState>>, req: Request) -> Response {
    let (rec, _req) = match s.core.intercept(req).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let segs: Vec<&str> = rec.path().trim_start_matches('/').split('/').collect();
    if let ("GET", ["cdn", me]) = (rec.method.as_str(), segs.as_slice()) {
        return match lock(&s.media).get(*me) {
            Some(m) => m.response(),
            None => (StatusCode::NOT_FOUND, "no such object").into_response(),
        };
    }
    if rec.header("authorization") != Some(expected_auth(&s).as_str()) {
        let mut r = json_response(401, &error_body(401, 20003, "Authenticate"));
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
        return r;
    }
    match (rec.method.as_str(), segs.as_slice()) {
        ("GET", ["2010-04-01", "Accounts", file]) if *file == format!("{}.json", s.account_sid) => {
            json_response(
                200,
                &json!({"sid": s.account_sid, "friendly_name": "Sunnyside Dental",
                    "status": "active", "type": "Full", "auth_token": "[redacted]",
                    "date_created": "Thu, 03 Dec 2026 09:00:00 +0000",
                    "uri": format!("/2010-04-01/Accounts/{}.json", s.account_sid)})
                .to_string(),
            )
        }
        ("POST", ["2010-04-01", "Accounts", sid, "Messages.json"]) if *sid == s.account_sid => {
            send(&s, &rec)
        }
        ("GET", ["2010-04-01", "Accounts", sid, "Messages", _mm, "Media", me])
            if *sid == s.account_sid =>
        {
            if lock(&s.media).contains_key(*me) {
                let cdn = format!(
                    "{}/cdn/{me}?Expires=1700000000&Signature=fake",
                    lock(&s.origin)
                );
                (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, cdn)]).into_response()
            } else {
                json_response(
                    404,
                    &error_body(404, 20404, "The requested resource was not found"),
                )
            }
        }
        _ => json_response(
            404,
            &error_body(404, 20404, "The requested resource was not found"),
        ),
    }
}

const KNOWN_PARAMS: [&str; 8] = [
    "To",
    "From",
    "MessagingServiceSid",
    "Body",
    "MediaUrl",
    "StatusCallback",
    "ValidityPeriod",
    "ContentSid",
];

fn send(s: &TwState, rec: &Recorded) -> Response {
    let bad = |code: u32, m: &str| json_response(400, &error_body(400, code, m));
    if rec.header("content-type") != Some("application/x-www-form-urlencoded") {
        return bad(
            21602,
            "Content-Type must be application/x-www-form-urlencoded",
        );
    }
    let form = rec.form();
    if let Some((k, _)) = form
        .iter()
        .find(|(k, _)| !KNOWN_PARAMS.contains(&k.as_str()))
    {
        return bad(21601, &format!("Unknown parameter {k} (fake)"));
    }
    let one = |name: &str| {
        let mut it = form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        match (it.next(), it.next()) {
            (Some(v), None) => Ok(Some(v)),
            (None, _) => Ok(None),
            (Some(_), Some(_)) => Err(format!("{name} given more than once")),
        }
    };
    let (to, from, service, body) = match (
        one("To"),
        one("From"),
        one("MessagingServiceSid"),
        one("Body"),
    ) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return bad(21602, "a parameter is repeated that must not be"),
    };
    let media: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "MediaUrl")
        .map(|(_, v)| v.as_str())
        .collect();
    let Some(to) = to.filter(|t| {
        t.len() > 4 && t.starts_with('+') && t[1..].chars().all(|c| c.is_ascii_digit())
    }) else {
        return bad(
            21211,
            &format!(
                "The 'To' number {} is not a valid phone number.",
                to.unwrap_or("")
            ),
        );
    };
    if from.is_some() == service.is_some() {
        return bad(
            21603,
            "A 'From' phone number or MessagingServiceSid (exactly one) is required.",
        );
    }
    let body = body.unwrap_or_default();
    if body.chars().count() > 1600 {
        return bad(
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    if body.is_empty() && media.is_empty() {
        return bad(21602, "Message body is required.");
    }
    if media.len() > 10 || media.iter().any(|u| !u.starts_with("http")) {
        return bad(21623, "MediaUrl must be at most 10 absolute URLs.");
    }
    let n = s.counter.fetch_add(1, Ordering::SeqCst);
    let sid = if media.is_empty() {
        format!("SM{n:032x}")
    } else {
        format!("MM{n:032x}")
    };
    lock(&s.accepted).push(form.clone());
    json_response(
        201,
        &json!({"account_sid": s.account_sid, "api_version": "2010-04-01", "body": body,
            "date_created": "Thu, 30 Jul 2015 20:12:31 +0000", "direction": "outbound-api",
            "error_code": null, "error_message": null, "from": from, "messaging_service_sid": service,
            "num_media": media.len().to_string(), "num_segments": "1", "price": null,
            "sid": sid, "status": if service.is_some() { "accepted" } else { "queued" },
            "to": to, "uri": format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", s.account_sid)})
        .to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Webhook builders (the test acts as Twilio).

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Params of an inbound SMS, including some of the optional fields Twilio adds.
pub fn inbound_params(
    message_sid: &str,
    from: &str,
    to: &str,
    body: &str,
) -> Vec<(String, String)> {
    pairs(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", message_sid),
        ("NumMedia", "0"),
        ("ProfileName", "Test Customer"),
        ("SmsSid", message_sid),
        ("FromCity", "SAN FRANCISCO"),
        ("SmsStatus", "received"),
        ("Body", body),
        ("To", to),
        ("NumSegments", "1"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", from),
        ("ApiVersion", "2010-04-01"),
    ])
}

/// Params of an inbound MMS with `media` = (url, content type) pairs.
pub fn inbound_mms_params(
    message_sid: &str,
    from: &str,
    to: &str,
    body: &str,
    media: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut p = inbound_params(message_sid, from, to, body);
    p.retain(|(k, _)| k != "NumMedia");
    p.push(("NumMedia".into(), media.len().to_string()));
    for (i, (url, mime)) in media.iter().enumerate() {
        p.push((format!("MediaUrl{i}"), (*url).to_owned()));
        p.push((format!("MediaContentType{i}"), (*mime).to_owned()));
    }
    p
}

/// Params of a status callback; `error` = (ErrorCode, ErrorMessage).
pub fn status_params(
    message_sid: &str,
    status: &str,
    error: Option<(&str, &str)>,
) -> Vec<(String, String)> {
    let mut p = pairs(&[
        ("SmsSid", message_sid),
        ("SmsStatus", status),
        ("MessageStatus", status),
        ("To", "+14158675309"),
        ("MessageSid", message_sid),
        ("AccountSid", ACCOUNT_SID),
        ("From", FROM_NUMBER),
        ("ApiVersion", "2010-04-01"),
    ]);
    if let Some((code, message)) = error {
        p.push(("ErrorCode".into(), code.to_owned()));
        p.push(("ErrorMessage".into(), message.to_owned()));
    }
    p
}

/// `application/x-www-form-urlencoded` body for params.
pub fn form_body(params: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `X-Twilio-Signature` for a POST of `params` to `url` (computed independently).
pub fn sign<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    super::hmac_sha1_base64(auth_token, data.as_bytes())
}

/// Body and signature header for a webhook POST, ready to send.
pub fn signed_webhook(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
) -> (String, String) {
    (form_body(params), sign(auth_token, url, params))
}
