//! The live-chat visitor API under hostile requests: every endpoint (config, start / pre-chat
//! form, messages, typing, read, history, events with odd `Last-Event-ID`, uploads, the offline
//! form, preflights) with arbitrary bodies, content types, tokens (missing, malformed, of
//! another channel, of a blocked visitor), origins and channel ids, through the whole router.
//!
//! Properties: never a 5xx (nor a panic); every 4xx in the JSON error shape; a refused request
//! changes nothing in the store (all tables but the id counters); nothing succeeds for a
//! foreign origin or with another channel's token.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use switchboard::ids::UserId;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request};
use proptest::prelude::*;
use serde_json::{Value, json};
use switchboard::domain::{blocks, livechat, tokens};

use super::upload::{self, Chunking, Kind};
use super::{Reply, Tally, all_but_counters, call, changed, runner, snapshot, take_panics};
use crate::support::TestServer;

pub const SITE: &str = "https://www.sunnyside.example";
pub const OTHER: &str = "https://shop.sunnyside.example";

/// Three channels and three visitors.
pub struct Lc {
    pub t: TestServer,
    pub app: axum::Router,
    /// Live chat: origin SITE, no pre-chat form, uploads on, files ≤ 1 MB.
    pub a: u64,
    /// Live chat: origins SITE and OTHER, pre-chat form, uploads off.
    pub b: u64,
    /// Not a live-chat channel.
    pub sms: u64,
    pub tok_a: String,
    pub tok_b: String,
    /// A visitor of `a` whose contact the admin blocked.
    pub tok_blocked: String,
}

async fn new_visitor(app: &axum::Router, ch: u64, body: Value) -> String {
    let req = Request::post(format!("/livechat/{ch}/visitors"))
        .header("origin", SITE)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let r = call(app, req, SocketAddr::from(([10, 0, 0, 1], 1))).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json().unwrap()["visitor_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn say(app: &axum::Router, ch: u64, token: &str, text: &str) {
    let req = Request::post(format!("/livechat/{ch}/messages"))
        .header("origin", SITE)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({ "text": text }).to_string()))
        .unwrap();
    let r = call(app, req, SocketAddr::from(([10, 0, 0, 1], 1))).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
}

impl Lc {
    pub async fn start() -> Lc {
        let t = TestServer::start().await;
        let lc = |origins: &[&str], prechat: bool, uploads: bool| {
            json!({
                "kind": "livechat", "name": "Website", "max_file_mb": 1,
                "livechat": {
                    "title": "Chat with us", "greeting": "Hello!", "accent": "#2f6fed",
                    "allowed_origins": origins, "prechat_form": prechat,
                    "offline_message": "We are away.", "uploads": uploads
                }
            })
        };
        let a = t.channel(lc(&[SITE], false, true)).await;
        let b = t.channel(lc(&[SITE, OTHER], true, false)).await;
        let sms = t.channel(json!({"kind": "sms", "name": "SMS"})).await;
        let app = switchboard::app(t.state().clone());
        let tok_a = new_visitor(&app, a, json!({})).await;
        say(&app, a, &tok_a, "hello").await;
        let tok_b = new_visitor(&app, b, json!({"name": "Bea", "email": "bea@example.com"})).await;
        let tok_blocked = new_visitor(&app, a, json!({"name": "Spam"})).await;
        say(&app, a, &tok_blocked, "buy now").await;
        let hash = tokens::sha256(tok_blocked.as_bytes());
        let store = &t.state().store;
        let v = store
            .read(move |rtx| livechat::lookup(rtx, &hash))
            .await
            .unwrap()
            .unwrap();
        let admin = t.admin_id;
        store
            .write(move |ctx| blocks::block_in(ctx, UserId(admin), v.contact_id, "spam"))
            .await
            .unwrap();
        Lc {
            t,
            app,
            a,
            b,
            sms,
            tok_a,
            tok_b,
            tok_blocked,
        }
    }
}

// ---- requests -------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Config,
    Visitors,
    History,
    Messages,
    Offline,
    Typing,
    Read,
    Events,
    Uploads,
    Unknown,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Config => "config",
            Endpoint::Visitors => "visitors",
            Endpoint::History => "history",
            Endpoint::Messages => "messages",
            Endpoint::Offline => "offline",
            Endpoint::Typing => "typing",
            Endpoint::Read => "read",
            Endpoint::Events => "events",
            Endpoint::Uploads => "uploads",
            Endpoint::Unknown => "nope",
        }
    }
    fn method(self) -> Method {
        match self {
            Endpoint::Config | Endpoint::History | Endpoint::Events | Endpoint::Unknown => {
                Method::GET
            }
            _ => Method::POST,
        }
    }
    /// Needs a visitor token of the channel to succeed.
    fn needs_token(self) -> bool {
        matches!(
            self,
            Endpoint::History
                | Endpoint::Messages
                | Endpoint::Typing
                | Endpoint::Read
                | Endpoint::Events
                | Endpoint::Uploads
        )
    }
}

#[derive(Debug, Clone)]
pub enum Chan {
    A,
    B,
    Sms,
    Missing,
    Raw(String),
}

#[derive(Debug, Clone)]
pub enum Origin {
    None,
    Site,
    Other,
    /// Switchboard's own (the demo page).
    Own,
    Raw(String),
}

#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// The token of the request's channel (A's for any other channel).
    Own,
    A,
    B,
    Blocked,
    Raw(String),
}

#[derive(Debug, Clone)]
pub enum BodySpec {
    Empty,
    Json(Value),
    Bytes(Vec<u8>),
    /// A file of this kind and length, chunked.
    File(Kind, usize, u64, Chunking),
}

#[derive(Debug, Clone)]
pub struct LcReq {
    pub endpoint: Endpoint,
    /// None: the endpoint's own method.
    pub method: Option<Method>,
    pub chan: Chan,
    pub query: Option<String>,
    pub origin: Origin,
    pub auth: Auth,
    pub content_type: Option<String>,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: BodySpec,
    /// Move the clock 11 s first (rate-limit buckets refill); else requests may hit 429.
    pub refill: bool,
    pub ip: u32,
}

pub fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec![
            "", " ", "hi", "Ann", "<img src=x onerror=alert(1)>", "a\u{0}b", "\u{202E}evil",
            "line\r\nX-Header: 1", "ann@example.com", "a@b", "a@b.c", "<ann@example.com>",
            "ann@example..com", "@example.com", "ann@", "ann@-x.com", "ann@exämple.com",
            "x@y@z.com", "c1", "abc-DEF_123", "a b", "😀", "\u{7}", "null", "0",
        ]).prop_map(str::to_string),
        2 => "\\PC{0,40}",
        2 => prop::collection::vec(any::<char>(), 0..40).prop_map(String::from_iter),
        1 => (prop::sample::select(vec!["a", "é", "😀", " ", "\u{0}"]), prop_oneof![Just(64usize), Just(65), Just(100), Just(101), Just(254), Just(255), Just(4000), Just(4001), 0usize..9000])
            .prop_map(|(s, n)| s.repeat(n)),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        hostile_text().prop_map(Value::String),
    ]
}

fn arb_json() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A body shaped like the endpoint's: plausible values mostly, hostile ones often.
fn shaped(endpoint: Endpoint) -> BoxedStrategy<Value> {
    let field = |plausible: BoxedStrategy<Value>| {
        prop::option::weighted(
            0.9,
            prop_oneof![3 => plausible, 1 => hostile_text().prop_map(Value::String), 1 => json_leaf()],
        )
    };
    let name = || field("[A-Za-z][A-Za-z .'-]{0,30}".prop_map(Value::String).boxed());
    let email = || {
        field(
            "[a-z0-9._+-]{1,20}@[a-z0-9-]{1,12}\\.(com|de|example)"
                .prop_map(Value::String)
                .boxed(),
        )
    };
    let text = || field("\\PC{1,200}".prop_map(Value::String).boxed());
    let client_id = || field("[A-Za-z0-9_-]{1,64}".prop_map(Value::String).boxed());
    match endpoint {
        Endpoint::Visitors => (name(), email())
            .prop_map(|(n, e)| json!({ "name": n, "email": e }))
            .boxed(),
        Endpoint::Messages => (text(), client_id())
            .prop_map(|(t, c)| json!({ "text": t, "client_id": c }))
            .boxed(),
        Endpoint::Offline => (name(), email(), text())
            .prop_map(|(n, e, t)| json!({ "name": n, "email": e, "text": t }))
            .boxed(),
        Endpoint::Read => field(any::<u64>().prop_map(|n| json!(n % 100_000)).boxed())
            .prop_map(|u| json!({ "up_to": u }))
            .boxed(),
        _ => arb_json().boxed(),
    }
}

/// Strip nulls from the generated objects sometimes (missing vs null fields).
fn drop_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        v => v,
    }
}

fn body_for(endpoint: Endpoint) -> BoxedStrategy<BodySpec> {
    let file = (
        prop::sample::select(vec![
            Kind::RealPng,
            Kind::RealPng,
            Kind::Png,
            Kind::Jpeg,
            Kind::Gif,
            Kind::Webp,
            Kind::BombPng,
            Kind::Text,
            Kind::Elf,
            Kind::Noise,
        ]),
        prop_oneof![6 => 0usize..70_000, 1 => ((1usize << 20) - 2)..((1 << 20) + 2)],
        any::<u64>(),
        upload::chunking(),
    )
        .prop_map(|(k, n, s, c)| BodySpec::File(k, n, s, c));
    let mut options: Vec<(u32, BoxedStrategy<BodySpec>)> = vec![
        (1, Just(BodySpec::Empty).boxed()),
        (1, arb_json().prop_map(BodySpec::Json).boxed()),
        (
            1,
            prop::collection::vec(any::<u8>(), 0..300)
                .prop_map(BodySpec::Bytes)
                .boxed(),
        ),
        (
            5,
            (shaped(endpoint), any::<bool>())
                .prop_map(|(v, drop)| BodySpec::Json(if drop { drop_nulls(v) } else { v }))
                .boxed(),
        ),
    ];
    if endpoint == Endpoint::Uploads {
        options.push((8, file.boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

fn header_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        hostile_text().prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..80),
    ]
}

fn lc_req() -> impl Strategy<Value = LcReq> {
    let endpoint = prop::sample::select(vec![
        Endpoint::Config,
        Endpoint::Visitors,
        Endpoint::Visitors,
        Endpoint::History,
        Endpoint::Messages,
        Endpoint::Messages,
        Endpoint::Offline,
        Endpoint::Offline,
        Endpoint::Typing,
        Endpoint::Read,
        Endpoint::Events,
        Endpoint::Uploads,
        Endpoint::Uploads,
        Endpoint::Uploads,
        Endpoint::Unknown,
    ]);
    endpoint.prop_flat_map(|endpoint| {
        let method = prop::option::weighted(
            0.15,
            prop::sample::select(vec![
                Method::GET,
                Method::POST,
                Method::OPTIONS,
                Method::OPTIONS,
                Method::PUT,
                Method::DELETE,
                Method::HEAD,
            ]),
        );
        let chan = prop_oneof![
            6 => Just(Chan::A),
            3 => Just(Chan::B),
            1 => Just(Chan::Sms),
            1 => Just(Chan::Missing),
            1 => prop::sample::select(vec!["abc", "-1", "0", "99999999999999999999999", "1%00", "%2e%2e", "1.0", " 1"])
                .prop_map(|s| Chan::Raw(s.to_string())),
        ];
        let query = prop::option::weighted(
            0.2,
            prop_oneof![
                prop::sample::select(vec![
                    "last_event_id=abc", "last_event_id=-1", "last_event_id=18446744073709551615",
                    "last_event_id=18446744073709551616", "session_id=-1", "session_id=0",
                    "session_id=99999999999999999999", "session_id=1&session_id=2", "x=%ZZ", "%",
                ]).prop_map(str::to_string),
                "[a-z_=&%0-9]{0,30}",
            ],
        );
        let origin = prop_oneof![
            10 => Just(Origin::Site),
            1 => Just(Origin::Other),
            1 => Just(Origin::Own),
            2 => Just(Origin::None),
            1 => prop::sample::select(vec![
                "https://evil.example", "null", "HTTPS://WWW.SUNNYSIDE.EXAMPLE", "https://www.sunnyside.example/",
                "https://www.sunnyside.example.evil.example", "", "*",
            ]).prop_map(|s| Origin::Raw(s.to_string())),
        ];
        let auth = prop_oneof![
            8 => Just(Auth::Own),
            1 => Just(Auth::A),
            1 => Just(Auth::B),
            2 => Just(Auth::Blocked),
            2 => Just(Auth::None),
            2 => prop_oneof![
                prop::sample::select(vec![
                    "Bearer ", "Bearer lcv_", "Bearer lcv_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                    "Basic YWRtaW46YWRtaW4=", "bearer", "Bearer  lcv_x  ", "Bearer swb_notavisitor",
                ]).prop_map(str::to_string),
                "lcv_[A-Za-z0-9_-]{0,120}".prop_map(|t| format!("Bearer {t}")),
            ].prop_map(Auth::Raw),
        ];
        let odd_types = prop::sample::select(vec![
            "application/json; charset=utf-8", "text/plain", "image/png", "image/jpeg",
            "application/octet-stream", "multipart/form-data; boundary=x", "APPLICATION/JSON",
            "application/problem+json", "", "image/", "Image/PNG",
        ])
        .prop_map(str::to_string);
        let content_type = if endpoint == Endpoint::Uploads {
            prop_oneof![
                3 => Just(None),
                3 => Just(Some("image/png".to_string())),
                2 => Just(Some("application/octet-stream".to_string())),
                2 => odd_types.prop_map(Some),
            ]
            .boxed()
        } else {
            prop::option::weighted(
                0.9,
                prop_oneof![8 => Just("application/json".to_string()), 1 => odd_types],
            )
            .boxed()
        };
        let headers = prop::collection::vec(
            (
                prop::sample::select(vec![
                    "last-event-id",
                    "last-event-id",
                    "x-filename",
                    "x-filename",
                    "content-length",
                    "sec-fetch-site",
                    "x-forwarded-for",
                    "accept-language",
                    "host",
                ]),
                prop_oneof![
                    header_bytes(),
                    prop::sample::select(vec![
                        "0", "-1", "18446744073709551615", "18446744073709551616", "99999999999",
                        "same-origin", "cross-site", "../../x.png", "a.png", " 7 ",
                    ])
                    .prop_map(|s| s.as_bytes().to_vec()),
                ],
            ),
            0..3,
        );
        (
            Just(endpoint),
            method,
            chan,
            query,
            origin,
            auth,
            content_type,
            headers,
            body_for(endpoint),
            prop::bool::weighted(0.85),
            any::<u32>(),
            prop::bool::weighted(0.3),
        )
            .prop_map(
                |(endpoint, method, chan, query, origin, auth, content_type, headers, body, refill, ip, clean)| {
                    // A third of the requests are hostile in their body (and headers) only.
                    let (method, chan, origin, auth, content_type) = if clean {
                        let chan = if matches!(chan, Chan::B) { Chan::B } else { Chan::A };
                        let ct = match endpoint {
                            Endpoint::Uploads => content_type,
                            _ => Some("application/json".to_string()),
                        };
                        (None, chan, Origin::Site, Auth::Own, ct)
                    } else {
                        (method, chan, origin, auth, content_type)
                    };
                    LcReq {
                        endpoint,
                        method,
                        chan,
                        query,
                        origin,
                        auth,
                        content_type,
                        headers,
                        body,
                        refill,
                        ip,
                    }
                },
            )
    })
}

/// What one request looked like once built.
pub struct Built {
    pub req: Request<Body>,
    pub origin: Option<String>,
    pub channel: Option<u64>,
    /// The token belongs to the request's channel.
    pub token_of_channel: bool,
    pub file: Option<Vec<u8>>,
}

fn set(h: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(n), Ok(v)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_bytes(value),
    ) {
        h.append(n, v);
    }
}

pub fn build(lc: &Lc, r: &LcReq) -> Built {
    let channel = match &r.chan {
        Chan::A => Some(lc.a),
        Chan::B => Some(lc.b),
        Chan::Sms => Some(lc.sms),
        Chan::Missing => Some(987_654),
        Chan::Raw(_) => None,
    };
    let chan_text = match (&r.chan, channel) {
        (Chan::Raw(s), _) => s.clone(),
        (_, Some(id)) => id.to_string(),
        _ => String::new(),
    };
    let mut uri = format!("/livechat/{chan_text}/{}", r.endpoint.path());
    if let Some(q) = &r.query {
        uri.push('?');
        uri.push_str(q);
    }
    let method = r.method.clone().unwrap_or_else(|| r.endpoint.method());
    let mut h = HeaderMap::new();
    let origin = match &r.origin {
        Origin::None => None,
        Origin::Site => Some(SITE.to_string()),
        Origin::Other => Some(OTHER.to_string()),
        Origin::Own => Some(lc.t.base()),
        Origin::Raw(s) => Some(s.clone()),
    };
    if let Some(o) = &origin {
        set(&mut h, "origin", o.as_bytes());
    }
    let (token, token_channel) = match &r.auth {
        Auth::None => (None, None),
        Auth::Own if channel == Some(lc.b) => (Some(format!("Bearer {}", lc.tok_b)), Some(lc.b)),
        Auth::Own | Auth::A => (Some(format!("Bearer {}", lc.tok_a)), Some(lc.a)),
        Auth::B => (Some(format!("Bearer {}", lc.tok_b)), Some(lc.b)),
        Auth::Blocked => (Some(format!("Bearer {}", lc.tok_blocked)), Some(lc.a)),
        Auth::Raw(s) => (Some(s.clone()), None),
    };
    if let Some(t) = &token {
        set(&mut h, "authorization", t.as_bytes());
    }
    if let Some(ct) = &r.content_type {
        set(&mut h, "content-type", ct.as_bytes());
    }
    for (k, v) in &r.headers {
        set(&mut h, k, v);
    }
    let mut file = None;
    let body = match &r.body {
        BodySpec::Empty => Body::empty(),
        BodySpec::Json(v) => Body::from(v.to_string()),
        BodySpec::Bytes(b) => Body::from(b.clone()),
        BodySpec::File(kind, len, seed, chunking) => {
            let data = upload::content(*kind, *len, *seed);
            let (items, _) = upload::split(&data, chunking, 1 << 20);
            file = Some(data);
            Body::from_stream(futures_util::stream::iter(items))
        }
    };
    let mut req = Request::builder()
        .method(method)
        .uri(&uri)
        .body(body)
        .unwrap_or_else(|_| {
            Request::get("/livechat/x/config")
                .body(Body::empty())
                .unwrap()
        });
    *req.headers_mut() = h;
    Built {
        req,
        origin,
        channel,
        token_of_channel: token_channel.is_some() && token_channel == channel,
        file,
    }
}

fn allowed_origin(lc: &Lc, channel: Option<u64>, origin: &str) -> bool {
    let own = lc.t.base().eq_ignore_ascii_case(origin);
    let list: &[&str] = match channel {
        Some(c) if c == lc.a => &[SITE],
        Some(c) if c == lc.b => &[SITE, OTHER],
        _ => &[],
    };
    own || list.iter().any(|o| o.eq_ignore_ascii_case(origin))
}

pub async fn check(lc: &Lc, r: &LcReq, b: Built) -> Result<Reply, String> {
    if r.refill {
        lc.t.clock.advance_ms(11_000);
    }
    let (origin, channel, token_ok, file) = (b.origin, b.channel, b.token_of_channel, b.file);
    let store = &lc.t.state().store;
    let before = snapshot(store, all_but_counters()).await;
    let peer = SocketAddr::new(IpAddr::from(r.ip.to_be_bytes()), 443);
    let reply = call(&lc.app, b.req, peer).await;
    let panics = take_panics();
    if !panics.is_empty() {
        return Err(format!("panicked: {panics:?}"));
    }
    if reply.status >= 500 {
        return Err(format!(
            "{}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ));
    }
    let method = r.method.clone().unwrap_or_else(|| r.endpoint.method());
    if reply.status >= 400 {
        reply.check_error(&method)?;
        // Give anything the request set off a moment to land before comparing.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let after = snapshot(store, all_but_counters()).await;
        let diff = changed(&before, &after);
        if !diff.is_empty() {
            return Err(format!(
                "{} ({}) but the store changed: {diff:?}",
                reply.status,
                String::from_utf8_lossy(&reply.body)
            ));
        }
    }
    if (200..300).contains(&reply.status) {
        if let Some(o) = &origin
            && !allowed_origin(lc, channel, o)
        {
            return Err(format!("{} for the foreign origin {o:?}", reply.status));
        }
        if r.endpoint.needs_token() && method != Method::OPTIONS && !token_ok {
            return Err(format!("{} without a token of this channel", reply.status));
        }
        if r.endpoint == Endpoint::Uploads
            && method == Method::POST
            && let Some(data) = &file
        {
            let j = reply.json().unwrap_or_default();
            let f = &j["message"]["files"][0];
            let mime = f["mime"].as_str().unwrap_or("");
            if !mime.starts_with("image/") || f["size"].as_u64() != Some(data.len() as u64) {
                return Err(format!("stored a non-image or the wrong size: {j}"));
            }
            super::check_safe_name(f["name"].as_str().unwrap_or(""))?;
        }
    }
    Ok(reply)
}

/// Every visitor endpoint with hostile requests: never 5xx, 4xx in the JSON shape, a refusal
/// changes nothing, no success for foreign origins or other channels' tokens.
#[test]
fn visitor_api_refuses_cleanly() {
    let rt = super::runtime();
    let lc = rt.block_on(Lc::start());
    let mut runner = runner("tests/proptest-regressions/livechat_api.txt", 256);
    let tally = Tally::default();
    let result = runner.run(&lc_req(), |r| {
        rt.block_on(async {
            let b = build(&lc, &r);
            let reply = check(&lc, &r, b).await?;
            tally.add(format!("{:?} {}", r.endpoint, reply.status));
            Ok::<(), String>(())
        })
        .map_err(TestCaseError::fail)
    });
    tally.print("livechat_api");
    rt.block_on(lc.t.stop());
    if let Err(e) = result {
        panic!("{e}");
    }
}
