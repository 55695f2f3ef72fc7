//! Messenger User Profile API: the customer's name and picture for a PSID,
//! `GET {base}/{psid}?fields=first_name,last_name,profile_pic&access_token=<page token>`,
//! answered `{"first_name","last_name","profile_pic","id"}` (any field may be missing when the
//! customer's privacy settings withhold it).

use reqwest::Client;
use serde_json::Value;

use super::http;

/// What the profile API told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// "First Last", trimmed; empty when neither was sent.
    pub name: String,
    /// The profile picture URL (expires after a while at Meta's CDN).
    pub picture: Option<String>,
}

/// Read the profile JSON.
pub fn parse(v: &Value) -> Profile {
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect::<String>()
            })
            .unwrap_or_default()
    };
    let name = format!(
        "{} {}",
        field("first_name").trim(),
        field("last_name").trim()
    )
    .trim()
    .to_owned();
    let picture = Some(field("profile_pic"))
        .filter(|p| p.starts_with("https://") || p.starts_with("http://"));
    Profile { name, picture }
}

/// Ask the profile API; `Err` is a short reason for the log.
pub async fn fetch(
    client: &Client,
    base: &str,
    page_token: &str,
    psid: &str,
) -> Result<Profile, String> {
    let url = http::endpoint(base, &[psid]).map_err(|e| e.to_string())?;
    let resp = client
        .get(url)
        .query(&[
            ("fields", "first_name,last_name,profile_pic"),
            ("access_token", page_token),
        ])
        .send()
        .await
        .map_err(|e| format!("profile request failed: {e}"))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("profile answer unreadable: {e}"))?;
    if body.len() > 64 * 1024 {
        return Err("profile answer too large".into());
    }
    let v: Value = serde_json::from_slice(&body).map_err(|_| "profile answer is not JSON")?;
    if !status.is_success() {
        let msg = v
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        return Err(format!("profile API answered {status}: {msg}"));
    }
    Ok(parse(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_and_pictures_are_read_and_missing_fields_tolerated() {
        let p = parse(&json!({"first_name": "Peter", "last_name": "Chang",
            "profile_pic": "https://platform-lookaside.fbsbx.com/x", "id": "1"}));
        assert_eq!(p.name, "Peter Chang");
        assert_eq!(
            p.picture.as_deref(),
            Some("https://platform-lookaside.fbsbx.com/x")
        );
        let p = parse(&json!({"first_name": "Ana", "profile_pic": "javascript:alert(1)"}));
        assert_eq!(p.name, "Ana");
        assert_eq!(p.picture, None);
        assert_eq!(parse(&json!({"id": "1"})).name, "");
    }
}
