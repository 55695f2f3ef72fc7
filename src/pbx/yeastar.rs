//! Yeastar P-Series Open API client: `POST /get_token` (cached until shortly before it
//! expires), then `POST /call/dial?access_token=…`. Every request carries a `User-Agent`; a
//! non-zero `errcode` is a failure whose `errmsg` is shown.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::json;

use super::YeastarConfig;
use super::{CallOutcome, CallStatus, PbxError, Timeouts};

pub const USER_AGENT: &str = concat!("Switchboard/", env!("CARGO_PKG_VERSION"));

/// Access tokens by (base URL, client id), with their expiry (ms).
#[derive(Default)]
pub struct TokenCache {
    map: Mutex<HashMap<String, (String, i64)>>,
}

impl TokenCache {
    fn key(cfg: &YeastarConfig) -> String {
        format!(
            "{}\n{}\n{}",
            cfg.base_url,
            cfg.client_id,
            cfg.client_secret.len()
        )
    }
    fn get(&self, cfg: &YeastarConfig, now: i64) -> Option<String> {
        let m = self.map.lock().ok()?;
        m.get(&Self::key(cfg))
            .filter(|(_, exp)| *exp > now)
            .map(|(t, _)| t.clone())
    }
    fn put(&self, cfg: &YeastarConfig, token: String, expires: i64) {
        if let Ok(mut m) = self.map.lock() {
            m.insert(Self::key(cfg), (token, expires));
        }
    }
    fn forget(&self, cfg: &YeastarConfig) {
        if let Ok(mut m) = self.map.lock() {
            m.remove(&Self::key(cfg));
        }
    }
}

#[derive(Deserialize)]
struct TokenReply {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    access_token_expire_time: Option<i64>,
}

#[derive(Deserialize)]
struct DialReply {
    errcode: i64,
    #[serde(default)]
    errmsg: String,
    #[serde(default)]
    call_id: Option<serde_json::Value>,
}

fn map_err(e: reqwest::Error, stage: &'static str) -> PbxError {
    if e.is_timeout() {
        PbxError::Timeout(stage)
    } else if e.is_connect() {
        PbxError::Connect(e.to_string())
    } else if e.is_decode() {
        PbxError::Protocol(format!("{stage}: the answer is not the expected JSON"))
    } else {
        PbxError::Protocol(format!("{stage}: {e}"))
    }
}

async fn post<T: for<'de> Deserialize<'de>>(
    http: &reqwest::Client,
    url: &str,
    body: serde_json::Value,
    stage: &'static str,
) -> Result<T, PbxError> {
    let resp = http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| map_err(e, stage))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(PbxError::Protocol(format!("{stage}: HTTP {status}")));
    }
    resp.json::<T>().await.map_err(|e| map_err(e, stage))
}

/// A new access token (`get_token`), refused as `Auth` with Yeastar's errcode.
async fn get_token(http: &reqwest::Client, cfg: &YeastarConfig) -> Result<TokenReply, PbxError> {
    let r: TokenReply = post(
        http,
        &format!("{}/get_token", cfg.base_url),
        json!({ "username": cfg.client_id, "password": cfg.client_secret }),
        "getting an access token",
    )
    .await?;
    if r.errcode != 0 || r.access_token.is_empty() {
        return Err(PbxError::Auth(format!(
            "{} (errcode {})",
            r.errmsg, r.errcode
        )));
    }
    Ok(r)
}

/// The HTTP client for one exchange with the PBX (its certificate setting, no redirects).
fn client(cfg: &YeastarConfig, t: Timeouts) -> Result<reqwest::Client, PbxError> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(t.connect)
        .timeout(t.total)
        .danger_accept_invalid_certs(cfg.accept_invalid_certs)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| PbxError::Protocol(e.to_string()))
}

async fn token(
    http: &reqwest::Client,
    cfg: &YeastarConfig,
    cache: &TokenCache,
    now: i64,
) -> Result<String, PbxError> {
    if let Some(t) = cache.get(cfg, now) {
        return Ok(t);
    }
    let r = get_token(http, cfg).await?;
    // Renew a minute early so a token never expires between the check and the dial.
    let life_s = r.access_token_expire_time.unwrap_or(1800).clamp(60, 86_400);
    cache.put(cfg, r.access_token.clone(), now + (life_s - 60) * 1000);
    Ok(r.access_token)
}

async fn dial_once(
    http: &reqwest::Client,
    cfg: &YeastarConfig,
    caller: &str,
    callee: &str,
    cache: &TokenCache,
    now: i64,
) -> Result<CallOutcome, PbxError> {
    let tok = token(http, cfg, cache, now).await?;
    let mut url = url::Url::parse(&format!("{}/call/dial", cfg.base_url))
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    url.query_pairs_mut().append_pair("access_token", &tok);
    let r: DialReply = post(
        http,
        url.as_str(),
        json!({ "caller": caller, "callee": callee }),
        "dialling",
    )
    .await?;
    if r.errcode != 0 {
        // The token may have been revoked: fetch a new one next time.
        cache.forget(cfg);
        return Err(PbxError::CallFailed(format!(
            "{} (errcode {})",
            if r.errmsg.is_empty() {
                "refused"
            } else {
                &r.errmsg
            },
            r.errcode
        )));
    }
    Ok(CallOutcome {
        status: CallStatus::Dialing,
        message: format!("the PBX is ringing your phone {caller}; answer it to call {callee}"),
        call_id: r.call_id.map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
    })
}

/// Asks for a fresh access token with `cfg`: what the admin's **Test** button asks.
pub async fn probe(cfg: &YeastarConfig, t: Timeouts) -> Result<String, PbxError> {
    let r = get_token(&client(cfg, t)?, cfg).await?;
    Ok(format!("{} (errcode 0)", r.errmsg))
}

pub async fn dial(
    cfg: &YeastarConfig,
    caller: &str,
    callee: &str,
    cache: &TokenCache,
    now: i64,
    t: Timeouts,
) -> Result<CallOutcome, PbxError> {
    let http = client(cfg, t)?;
    match tokio::time::timeout(t.total, dial_once(&http, cfg, caller, callee, cache, now)).await {
        Err(_) => Err(PbxError::Timeout("talking to the Yeastar API")),
        Ok(r) => r,
    }
}

/// A new access token for the event subscription (its own, never the dial cache's).
pub(super) async fn fresh_token(cfg: &YeastarConfig, t: Timeouts) -> Result<String, PbxError> {
    Ok(get_token(&client(cfg, t)?, cfg).await?.access_token)
}
