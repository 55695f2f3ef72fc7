//! "Test connection": ask the provider's API for the record the credentials belong to, and
//! report either what it is called there or the provider's own error text.
//!
//! - WhatsApp Cloud API: `GET {base}/{phone_number_id}` with the bearer token (the phone
//!   number record: `display_phone_number`, `verified_name`).
//! - Messenger: `GET {base}/me?access_token={page token}` (the page: `name`, `id`).
//! - Instagram: `GET {base}/me?fields=user_id,username` with the bearer token.
//! - Twilio: `GET {base}/2010-04-01/Accounts/{sid}.json` with Basic auth (`friendly_name`,
//!   `status`).

use reqwest::Client;
use serde_json::Value;

use super::http::{self, MAX_API_BODY, describe, endpoint, graph_error};

/// What the provider answered: `Ok` names the record found, `Err` is the provider's own error
/// text (or why it could not be reached).
pub type Probe = Result<String, String>;

async fn ask(
    req: reqwest::RequestBuilder,
    error: fn(&Value) -> Option<String>,
) -> Result<Value, String> {
    let resp = req
        .send()
        .await
        .map_err(|e| format!("could not reach the provider: {}", describe(&e)))?;
    let status = resp.status();
    let body = http::read_limited(resp, MAX_API_BODY).await?;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(v);
    }
    Err(error(&v).unwrap_or_else(|| format!("the provider answered HTTP {status}")))
}

fn graph_text(v: &Value) -> Option<String> {
    graph_error(v).map(|e| format!("{} (code {})", e.message, e.code))
}

fn twilio_text(v: &Value) -> Option<String> {
    super::twilio::api_error(v).map(|e| format!("{} (code {})", e.message, e.code))
}

fn field<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The WhatsApp phone number record.
pub async fn whatsapp(client: &Client, base: &str, phone_number_id: &str, token: &str) -> Probe {
    let url = endpoint(base, &[phone_number_id])?;
    let v = ask(client.get(url).bearer_auth(token), graph_text).await?;
    let number = field(&v, "display_phone_number");
    let name = field(&v, "verified_name");
    Ok(format!("{name} {number}").trim().to_string())
}

/// The Facebook page the page token belongs to.
pub async fn messenger(client: &Client, base: &str, page_token: &str) -> Probe {
    let url = endpoint(base, &["me"])?;
    let v = ask(
        client.get(url).query(&[("access_token", page_token)]),
        graph_text,
    )
    .await?;
    Ok(format!("{} ({})", field(&v, "name"), field(&v, "id")))
}

/// The Instagram professional account the Instagram user token belongs to
/// (`GET {base}/me?fields=user_id,username`).
pub async fn instagram(client: &Client, base: &str, token: &str) -> Probe {
    let url = endpoint(base, &["me"])?;
    let v = ask(
        client
            .get(url)
            .query(&[("fields", "user_id,username")])
            .bearer_auth(token),
        graph_text,
    )
    .await?;
    Ok(format!(
        "@{} ({})",
        field(&v, "username"),
        field(&v, "user_id")
    ))
}

/// The Twilio account.
pub async fn twilio(client: &Client, base: &str, account_sid: &str, auth_token: &str) -> Probe {
    let file = format!("{account_sid}.json");
    let url = endpoint(base, &["2010-04-01", "Accounts", &file])?;
    let v = ask(
        client.get(url).basic_auth(account_sid, Some(auth_token)),
        twilio_text,
    )
    .await?;
    Ok(format!(
        "{} ({})",
        field(&v, "friendly_name"),
        field(&v, "status")
    ))
}
