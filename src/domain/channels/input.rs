//! What an administrator may set on a channel, and its validation.

use crate::ids::UserId;
use serde::Deserialize;

use super::{Channel, ChannelKind, Credentials, LivechatSettings, QueueMode};
use crate::error::{Error, Result};

/// Create or change a channel. On create `kind` and `name` are required.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ChannelInput {
    pub kind: Option<ChannelKind>,
    pub name: Option<String>,
    pub business_address: Option<String>,
    pub credentials: Option<Credentials>,
    pub api_base: Option<String>,
    pub members: Option<Vec<UserId>>,
    pub queue_mode: Option<QueueMode>,
    pub auto_close_hours: Option<u32>,
    pub max_file_mb: Option<Option<u32>>,
    pub allowed_types: Option<Option<Vec<String>>>,
    pub max_sessions_per_agent: Option<u32>,
    pub livechat: Option<LivechatSettings>,
    /// WhatsApp: mark customer messages read at Meta when an agent opens them (default on).
    pub read_receipts: Option<bool>,
    /// WhatsApp: show the customer a typing indicator while an agent types (default on).
    pub typing_indicator: Option<bool>,
}

fn validate_api_base(v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(String::new());
    }
    let u = url::Url::parse(v).map_err(|e| Error::invalid("api_base", e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Error::invalid("api_base", "must be an http(s) URL"));
    }
    Ok(v.trim_end_matches('/').to_string())
}

fn is_hex_colour(v: &str) -> bool {
    v.len() <= 9
        && v.strip_prefix('#')
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
}

fn validate_origin(v: &str) -> Result<String> {
    let u = url::Url::parse(v.trim()).map_err(|_| {
        Error::invalid(
            "livechat.allowed_origins",
            format!("{v:?} is not an origin like https://www.example.com"),
        )
    })?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Error::invalid(
            "livechat.allowed_origins",
            format!("{v:?} is not an http(s) origin"),
        ));
    }
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return Err(Error::invalid(
            "livechat.allowed_origins",
            format!("{v:?} has a path; an origin is only scheme://host[:port]"),
        ));
    }
    Ok(u.origin().ascii_serialization())
}

/// Validates `input` against `ch` (in place). Member ids are checked by the caller's txn.
pub(super) fn apply(ch: &mut Channel, input: &ChannelInput) -> Result<()> {
    if let Some(n) = &input.name {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        ch.name = n.to_string();
    }
    if let Some(v) = &input.business_address {
        ch.business_address = v.trim().chars().take(100).collect();
    }
    if let Some(c) = &input.credentials {
        ch.credentials.merge(c);
    }
    if let Some(v) = &input.api_base {
        ch.api_base = validate_api_base(v)?;
    }
    if let Some(v) = input.queue_mode {
        ch.queue_mode = v;
    }
    if let Some(v) = input.auto_close_hours {
        if v > 24 * 365 {
            return Err(Error::invalid("auto_close_hours", "must be at most 8760"));
        }
        ch.auto_close_hours = v;
    }
    if let Some(v) = input.max_file_mb {
        if let Some(mb) = v
            && (mb == 0 || u64::from(mb) << 20 > ch.kind.max_file_bytes())
        {
            return Err(Error::invalid(
                "max_file_mb",
                format!(
                    "must be between 1 and the provider's limit of {} MB",
                    ch.kind.max_file_bytes() >> 20
                ),
            ));
        }
        ch.max_file_mb = v;
    }
    if let Some(v) = &input.allowed_types {
        ch.allowed_types = v.as_ref().map(|list| {
            list.iter()
                .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect()
        });
    }
    if let Some(v) = input.max_sessions_per_agent {
        ch.max_sessions_per_agent = v;
    }
    if let Some(v) = input.read_receipts {
        ch.read_receipts_off = !v;
    }
    if let Some(v) = input.typing_indicator {
        ch.typing_off = !v;
    }
    if let Some(l) = &input.livechat {
        let mut l = l.clone();
        l.allowed_origins = l
            .allowed_origins
            .iter()
            .map(|o| validate_origin(o))
            .collect::<Result<_>>()?;
        if l.title.chars().count() > 100
            || l.greeting.chars().count() > 500
            || l.offline_message.chars().count() > 500
        {
            return Err(Error::invalid(
                "livechat",
                "title ≤ 100, greeting and offline message ≤ 500 characters",
            ));
        }
        if !l.accent.is_empty() && !is_hex_colour(&l.accent) {
            return Err(Error::invalid(
                "livechat.accent",
                "must be a hex colour like #2f6fed",
            ));
        }
        if !l.language.is_empty() && crate::locale::Lang::from_code(&l.language).is_none() {
            return Err(Error::invalid(
                "livechat.language",
                "must be one of the languages of the interface",
            ));
        }
        ch.livechat = l;
    }
    Ok(())
}
