//! Login floods (issue 24 item 4) against the running server: parallel guesses on one account
//! are counted before hashing, a known browser still logs in during a flood from other
//! addresses (and after a restart), and an overflowing queue of password checks answers 429
//! before hashing. Clients use distinct loopback source addresses (127.0.0.x) to play many
//! attackers.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{PASSWORD, TestServer, client_builder};

/// A client whose connections come from `ip` (any 127.0.0.0/8 address works on Linux).
fn from(ip: [u8; 4]) -> reqwest::Client {
    client_builder()
        .local_address(IpAddr::from(ip))
        .build()
        .unwrap()
}

async fn login(c: &reqwest::Client, base: &str, user: &str, password: &str) -> (u16, Value) {
    let (s, v, _) = login_with(c, base, None, user, password).await;
    (s, v)
}

/// A login sending the known-device cookie `device` (if any); returns the status, the body and
/// the known-device cookie the server set (`swb_device=…`).
async fn login_with(
    c: &reqwest::Client,
    base: &str,
    device: Option<&str>,
    user: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    let mut rb = c
        .post(format!("{base}/api/v1/session"))
        .json(&json!({"username": user, "password": password}));
    if let Some(d) = device {
        rb = rb.header("cookie", d);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let set = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("swb_device="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string);
    (status, r.json().await.unwrap_or(Value::Null), set)
}

/// `n` parallel logins; `who(i)` gives the source address, username and password of the i-th.
async fn flood(
    base: &str,
    n: usize,
    who: impl Fn(usize) -> ([u8; 4], String, String),
) -> Vec<(u16, Value)> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (ip, user, pw) = who(i);
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            login(&from(ip), &base, &user, &pw).await
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

fn count(rs: &[(u16, Value)], status: u16) -> usize {
    rs.iter().filter(|(s, _)| *s == status).count()
}

/// 100 parallel guesses on one account, each from its own address: at most 5 passwords are
/// checked (it was 31–33: the attempt was counted only after hashing).
#[tokio::test]
async fn parallel_guesses_on_one_account_check_at_most_the_limit() {
    let t = TestServer::start().await;
    t.user("alice", "agent").await;
    let before = t.state().passwords.checked();
    let rs = flood(&t.base(), 100, |i| {
        (
            [127, 0, 1, (i + 1) as u8],
            "alice".into(),
            format!("guess-{i:04}"),
        )
    })
    .await;
    let checked = t.state().passwords.checked() - before;
    eprintln!("100 parallel guesses on one account: {checked} passwords checked");
    assert!(checked <= 5, "{checked} passwords checked");
    assert_eq!(count(&rs, 401) as u64, checked);
    assert_eq!(count(&rs, 429) as u64, 100 - checked);
    // The account is locked for unknown devices now, even with the right password...
    let (s, _) = login(&from([127, 0, 2, 1]), &t.base(), "alice", PASSWORD).await;
    assert_eq!(s, 429);
    t.stop().await;
}

/// Alice logged in once from her browser (it got the known-device cookie). During a flood of
/// guesses on her account and on random names from other addresses, and after a restart, she
/// still logs in from that browser, even from a new address; a browser without the cookie
/// waits.
#[tokio::test]
async fn known_device_still_logs_in_during_a_flood_from_other_addresses() {
    let mut t = TestServer::start().await;
    t.user("alice", "agent").await;
    let browser = from([127, 0, 3, 1]);
    let (s, _, device) = login_with(&browser, &t.base(), None, "alice", PASSWORD).await;
    assert_eq!(s, 200);
    let device = device.expect("the known-device cookie is set at login");
    // The cookie is signed with the install's persisted secret: a restart keeps it valid.
    t.restart().await;
    let base = t.base();
    let attack = tokio::spawn(async move {
        flood(&base, 300, |i| {
            let user = if i % 3 == 0 {
                "alice".to_string()
            } else {
                format!("user{i}")
            };
            ([127, 0, 4, (i % 250 + 1) as u8], user, "guess-guess".into())
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (s, body, _) = login_with(&browser, &t.base(), Some(&device), "alice", PASSWORD).await;
    let took = started.elapsed();
    assert_eq!(s, 200, "{body}");
    // Her check has a slot of its own: one hash, not the queue of the flood (11 s before).
    assert!(took < Duration::from_secs(5), "{took:?}");
    let rs = attack.await.unwrap();
    assert_eq!(count(&rs, 200), 0);
    assert!(count(&rs, 429) > 0, "the flood was limited");
    // Alice's account is locked for unknown devices, but not for her browser, whatever
    // address it comes from.
    let (s, _) = login(&from([127, 0, 5, 1]), &t.base(), "alice", PASSWORD).await;
    assert_eq!(s, 429);
    let moved = from([127, 0, 5, 2]);
    let (s, _, _) = login_with(&moved, &t.base(), Some(&device), "alice", PASSWORD).await;
    assert_eq!(s, 200);
    // The cookie is bound to alice: it does not open bob's account to guessing.
    t.user("bob", "agent").await;
    for _ in 0..5 {
        let (s, _, _) = login_with(&moved, &t.base(), Some(&device), "bob", "guess-guess").await;
        assert_eq!(s, 401);
    }
    let (s, _, _) = login_with(&moved, &t.base(), Some(&device), "bob", "guess-guess").await;
    assert_eq!(s, 429);
    eprintln!("known-device login during the flood took {took:?}");
    t.stop().await;
}

/// More parallel logins than the bounded queue of password checks holds: the rest are answered
/// 429 at once, before any hashing.
#[tokio::test]
async fn login_queue_overflow_answers_429_before_hashing() {
    let t = TestServer::start().await;
    let before = t.state().passwords.checked();
    let rs = flood(&t.base(), 120, |i| {
        (
            [127, 0, 6, (i + 1) as u8],
            format!("nobody{i}"),
            "guess-guess".into(),
        )
    })
    .await;
    let checked = t.state().passwords.checked() - before;
    let shed = count(&rs, 429);
    eprintln!("120 parallel logins for 120 names: {checked} checked, {shed} shed with 429");
    assert!(shed > 0, "the queue overflowed");
    assert_eq!(count(&rs, 401) as u64, checked, "a 429 checked no password");
    assert_eq!(shed + count(&rs, 401), 120);
    for (s, body) in &rs {
        if *s == 429 {
            assert_eq!(body["error"]["code"], "rate_limited");
        }
    }
    t.stop().await;
}
