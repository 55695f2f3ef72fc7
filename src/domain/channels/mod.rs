//! Channels: where customers write in (SMS via Twilio, WhatsApp Cloud API, Messenger, Live Chat),
//! with credentials, members (agents who receive its sessions), queue mode, closure and file rules.
//! Secrets are stored in full but never shown back: `ChannelView` masks them.

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

pub mod health;

use super::audit;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{CHANNEL_MEMBERS, CHANNELS, MEMBER_CHANNELS};
use crate::store::{Audience, WriteCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Sms,
    Whatsapp,
    Messenger,
    Livechat,
}

impl ChannelKind {
    /// The provider's hard file-size cap in bytes (admins may only lower it).
    pub fn max_file_bytes(self) -> u64 {
        match self {
            ChannelKind::Sms | ChannelKind::Whatsapp => 100 << 20,
            ChannelKind::Messenger => 25 << 20,
            ChannelKind::Livechat => 10 << 20,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Livechat => "livechat",
        }
    }
    pub fn default_api_base(self) -> &'static str {
        match self {
            ChannelKind::Sms => "https://api.twilio.com",
            ChannelKind::Whatsapp | ChannelKind::Messenger => "https://graph.facebook.com/v21.0",
            ChannelKind::Livechat => "",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueMode {
    /// Unassigned until a member picks it up.
    #[default]
    Manual,
    /// The first member who replies owns it.
    AutoOnReply,
    /// Round-robin among online members on arrival.
    AssignOnArrival,
}

/// Provider credentials. Field names follow the providers' own terms.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    /// Twilio Account SID.
    #[serde(default)]
    pub account_sid: String,
    /// Twilio auth token (secret).
    #[serde(default)]
    pub auth_token: String,
    /// Twilio sending number (E.164) or Messaging Service SID.
    #[serde(default)]
    pub from_number: String,
    /// WhatsApp phone-number id.
    #[serde(default)]
    pub phone_number_id: String,
    /// WhatsApp access token (secret).
    #[serde(default)]
    pub access_token: String,
    /// Messenger page id.
    #[serde(default)]
    pub page_id: String,
    /// Messenger page access token (secret).
    #[serde(default)]
    pub page_token: String,
    /// Meta app secret for webhook signatures (secret).
    #[serde(default)]
    pub app_secret: String,
    /// Meta webhook verify token (secret).
    #[serde(default)]
    pub verify_token: String,
}

impl Credentials {
    fn masked(&self) -> Self {
        Self {
            account_sid: self.account_sid.clone(),
            auth_token: mask(&self.auth_token),
            from_number: self.from_number.clone(),
            phone_number_id: self.phone_number_id.clone(),
            access_token: mask(&self.access_token),
            page_id: self.page_id.clone(),
            page_token: mask(&self.page_token),
            app_secret: mask(&self.app_secret),
            verify_token: mask(&self.verify_token),
        }
    }
    /// Applies a patch: empty strings and masked values ("••••…") keep the stored secret.
    fn merge(&mut self, p: &Credentials) {
        fn set(dst: &mut String, v: &str) {
            if !v.is_empty() && !v.starts_with('•') {
                *dst = v.trim().to_string();
            }
        }
        set(&mut self.account_sid, &p.account_sid);
        set(&mut self.auth_token, &p.auth_token);
        set(&mut self.from_number, &p.from_number);
        set(&mut self.phone_number_id, &p.phone_number_id);
        set(&mut self.access_token, &p.access_token);
        set(&mut self.page_id, &p.page_id);
        set(&mut self.page_token, &p.page_token);
        set(&mut self.app_secret, &p.app_secret);
        set(&mut self.verify_token, &p.verify_token);
    }
}

/// "••••abcd": enough to recognise a secret, not to use it.
pub fn mask(secret: &str) -> String {
    if secret.is_empty() {
        return String::new();
    }
    let tail: String = secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if secret.chars().count() <= 8 {
        "••••".into()
    } else {
        format!("••••{tail}")
    }
}

/// Live-chat widget settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct LivechatSettings {
    pub title: String,
    pub greeting: String,
    /// CSS colour, e.g. `#2f6fed`.
    pub accent: String,
    /// Website origins allowed to embed the widget, e.g. `https://www.example.com`.
    pub allowed_origins: Vec<String>,
    pub prechat_form: bool,
    pub offline_message: String,
    pub uploads: bool,
}

impl Default for LivechatSettings {
    fn default() -> Self {
        Self {
            title: "Chat with us".into(),
            greeting: "Hello! How can we help?".into(),
            accent: "#2f6fed".into(),
            allowed_origins: Vec::new(),
            prechat_form: true,
            offline_message:
                "We are offline right now. Leave a message and we will get back to you.".into(),
            uploads: true,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Channel {
    pub id: u64,
    pub kind: ChannelKind,
    pub name: String,
    /// The business number / page name shown to agents.
    #[serde(default)]
    pub business_address: String,
    #[serde(default)]
    pub credentials: Credentials,
    /// Provider API base (tests point this at a fake).
    #[serde(default)]
    pub api_base: String,
    #[serde(default)]
    pub members: Vec<u64>,
    #[serde(default)]
    pub queue_mode: QueueMode,
    /// Close sessions after this many hours without activity; 0 = never. WhatsApp: fixed 24.
    #[serde(default = "default_auto_close")]
    pub auto_close_hours: u32,
    /// Admin's lower file-size limit in MiB (None = the provider's cap).
    #[serde(default)]
    pub max_file_mb: Option<u32>,
    /// Allowed file types by extension (None = the defaults).
    #[serde(default)]
    pub allowed_types: Option<Vec<String>>,
    /// Max concurrent sessions per agent for assign-on-arrival (0 = unlimited).
    #[serde(default)]
    pub max_sessions_per_agent: u32,
    #[serde(default)]
    pub livechat: LivechatSettings,
    pub created: i64,
}

fn default_auto_close() -> u32 {
    24
}

impl Channel {
    pub fn api_base(&self) -> &str {
        if self.api_base.trim().is_empty() {
            self.kind.default_api_base()
        } else {
            self.api_base.trim_end_matches('/')
        }
    }
    /// Effective file limit in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        let cap = self.kind.max_file_bytes();
        match self.max_file_mb {
            Some(mb) => cap.min(u64::from(mb) << 20),
            None => cap,
        }
    }
    /// Hours of inactivity before the closure job closes a session (None = never).
    pub fn closes_after_hours(&self) -> Option<u32> {
        match self.kind {
            ChannelKind::Whatsapp => Some(24),
            _ if self.auto_close_hours == 0 => None,
            _ => Some(self.auto_close_hours),
        }
    }
}

/// The API/UI view of a channel: secrets masked, webhook URLs spelled out.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChannelView {
    pub id: u64,
    pub kind: ChannelKind,
    pub name: String,
    pub business_address: String,
    pub credentials: Credentials,
    pub api_base: String,
    pub members: Vec<u64>,
    pub queue_mode: QueueMode,
    pub auto_close_hours: u32,
    pub max_file_mb: Option<u32>,
    pub allowed_types: Option<Vec<String>>,
    pub max_sessions_per_agent: u32,
    pub livechat: LivechatSettings,
    /// URLs to paste into the provider's console.
    pub webhook_urls: Vec<String>,
}

impl Channel {
    pub fn view(&self, public_url: &str) -> ChannelView {
        let webhook_urls = match self.kind {
            ChannelKind::Sms => vec![
                format!("{public_url}/hooks/twilio/{}", self.id),
                format!("{public_url}/hooks/twilio/{}/status", self.id),
            ],
            ChannelKind::Whatsapp => vec![format!("{public_url}/hooks/whatsapp/{}", self.id)],
            ChannelKind::Messenger => vec![format!("{public_url}/hooks/messenger/{}", self.id)],
            ChannelKind::Livechat => Vec::new(),
        };
        ChannelView {
            id: self.id,
            kind: self.kind,
            name: self.name.clone(),
            business_address: self.business_address.clone(),
            credentials: self.credentials.masked(),
            api_base: self.api_base().to_string(),
            members: self.members.clone(),
            queue_mode: self.queue_mode,
            auto_close_hours: self.closes_after_hours().unwrap_or(0),
            max_file_mb: self.max_file_mb,
            allowed_types: self.allowed_types.clone(),
            max_sessions_per_agent: self.max_sessions_per_agent,
            livechat: self.livechat.clone(),
            webhook_urls,
        }
    }
}

/// Create or change a channel. On create `kind` and `name` are required.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ChannelInput {
    pub kind: Option<ChannelKind>,
    pub name: Option<String>,
    pub business_address: Option<String>,
    pub credentials: Option<Credentials>,
    pub api_base: Option<String>,
    pub members: Option<Vec<u64>>,
    pub queue_mode: Option<QueueMode>,
    pub auto_close_hours: Option<u32>,
    pub max_file_mb: Option<Option<u32>>,
    pub allowed_types: Option<Option<Vec<String>>>,
    pub max_sessions_per_agent: Option<u32>,
    pub livechat: Option<LivechatSettings>,
}

pub fn get(rtx: &ReadTransaction, id: u64) -> Result<Option<Channel>> {
    codec::get(&rtx.open_table(CHANNELS)?, &k1(id))
}

/// Channels by id for the intake paths (every webhook names its channel): saves each request
/// a blocking-pool hop and a read transaction. An entry remembers the store's channel
/// generation it was read at; every committed channel change bumps the generation (after the
/// commit, before anyone is answered), so a stale entry is never served.
#[derive(Default)]
pub struct Cache {
    map: std::sync::Mutex<std::collections::HashMap<u64, (u64, std::sync::Arc<Channel>)>>,
}

impl Cache {
    const MAX_ENTRIES: usize = 1024;

    pub async fn get(
        &self,
        store: &crate::store::Store,
        id: u64,
    ) -> Result<Option<std::sync::Arc<Channel>>> {
        // Read the generation BEFORE the record: a change committed after this read bumps it.
        let generation = store.channels_generation();
        if let Ok(map) = self.map.lock()
            && let Some((g, ch)) = map.get(&id)
            && *g == generation
        {
            return Ok(Some(ch.clone()));
        }
        let Some(ch) = store.read(move |rtx| get(rtx, id)).await? else {
            return Ok(None);
        };
        let ch = std::sync::Arc::new(ch);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(id, (generation, ch.clone()));
        }
        Ok(Some(ch))
    }
}

pub fn get_in(ctx: &WriteCtx<'_>, id: u64) -> Result<Channel> {
    codec::get(&ctx.txn.open_table(CHANNELS)?, &k1(id))?.ok_or(Error::NotFound("channel"))
}

pub fn list(rtx: &ReadTransaction) -> Result<Vec<Channel>> {
    let t = rtx.open_table(CHANNELS)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode(item?.1.value())?);
    }
    Ok(out)
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
    Ok(u.origin().ascii_serialization())
}

/// Validates `input` against `ch` (in place). Member ids are checked by the caller's txn.
fn apply(ch: &mut Channel, input: &ChannelInput) -> Result<()> {
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
        ch.livechat = l;
    }
    Ok(())
}

fn set_members(ctx: &mut WriteCtx<'_>, ch: &mut Channel, members: &[u64]) -> Result<()> {
    let mut wanted: Vec<u64> = members.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    for uid in &wanted {
        let u = super::users::get_in(ctx, *uid)
            .map_err(|_| Error::invalid("members", format!("user {uid} does not exist")))?;
        if u.disabled {
            return Err(Error::invalid(
                "members",
                format!("user {} is disabled", u.username),
            ));
        }
    }
    {
        let mut cm = ctx.txn.open_table(CHANNEL_MEMBERS)?;
        let mut mc = ctx.txn.open_table(MEMBER_CHANNELS)?;
        for uid in &ch.members {
            cm.remove(k2(ch.id, *uid).as_slice())?;
            mc.remove(k2(*uid, ch.id).as_slice())?;
        }
        for uid in &wanted {
            cm.insert(k2(ch.id, *uid).as_slice(), [].as_slice())?;
            mc.insert(k2(*uid, ch.id).as_slice(), [].as_slice())?;
        }
    }
    ch.members = wanted;
    ctx.emit(
        Audience::Channel { channel_id: ch.id },
        "channel.members",
        serde_json::json!({ "id": ch.id }),
    )?;
    Ok(())
}

fn put(ctx: &mut WriteCtx<'_>, ch: &Channel) -> Result<()> {
    ctx.channels_changed();
    codec::put(&mut ctx.txn.open_table(CHANNELS)?, &k1(ch.id), ch)
}

pub fn create_in(ctx: &mut WriteCtx<'_>, actor: u64, input: &ChannelInput) -> Result<Channel> {
    let kind = input.kind.ok_or_else(|| {
        Error::invalid("kind", "is required (sms, whatsapp, messenger, livechat)")
    })?;
    if input.name.is_none() {
        return Err(Error::invalid("name", "is required"));
    }
    let id = ctx.next_id("channel")?;
    let mut ch = Channel {
        id,
        kind,
        name: String::new(),
        business_address: String::new(),
        credentials: Credentials::default(),
        api_base: String::new(),
        members: Vec::new(),
        queue_mode: QueueMode::default(),
        auto_close_hours: 24,
        max_file_mb: None,
        allowed_types: None,
        max_sessions_per_agent: 0,
        livechat: LivechatSettings::default(),
        created: ctx.now,
    };
    apply(&mut ch, input)?;
    if let Some(m) = &input.members {
        set_members(ctx, &mut ch, m)?;
    }
    put(ctx, &ch)?;
    audit::record(
        ctx,
        Some(actor),
        "channel.create",
        format!("channel:{id}"),
        format!("{} ({})", ch.name, kind.as_str()),
    )?;
    Ok(ch)
}

pub fn update_in(
    ctx: &mut WriteCtx<'_>,
    actor: u64,
    id: u64,
    input: &ChannelInput,
) -> Result<Channel> {
    let mut ch = get_in(ctx, id)?;
    if input.kind.is_some_and(|k| k != ch.kind) {
        return Err(Error::invalid(
            "kind",
            "cannot change; create a new channel",
        ));
    }
    apply(&mut ch, input)?;
    if let Some(m) = &input.members {
        set_members(ctx, &mut ch, m)?;
    }
    put(ctx, &ch)?;
    audit::record(
        ctx,
        Some(actor),
        "channel.update",
        format!("channel:{id}"),
        ch.name.clone(),
    )?;
    ctx.emit(
        Audience::Channel { channel_id: id },
        "channel.updated",
        serde_json::json!({ "id": id }),
    )?;
    Ok(ch)
}

/// Deletes the channel's configuration, memberships and health line; its sessions stay readable
/// to admins.
pub fn delete_in(ctx: &mut WriteCtx<'_>, actor: u64, id: u64) -> Result<()> {
    let mut ch = get_in(ctx, id)?;
    set_members(ctx, &mut ch, &[])?;
    ctx.channels_changed();
    ctx.txn.open_table(CHANNELS)?.remove(k1(id).as_slice())?;
    health::remove_in(ctx, id)?;
    audit::record(
        ctx,
        Some(actor),
        "channel.delete",
        format!("channel:{id}"),
        ch.name,
    )?;
    Ok(())
}

pub fn is_member(rtx: &ReadTransaction, channel_id: u64, user_id: u64) -> Result<bool> {
    Ok(rtx
        .open_table(CHANNEL_MEMBERS)?
        .get(k2(channel_id, user_id).as_slice())?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_masks_do_not_overwrite() {
        let mut c = Credentials {
            auth_token: "abcdef0123456789".into(),
            ..Default::default()
        };
        let shown = c.masked();
        assert_eq!(shown.auth_token, "••••6789");
        c.merge(&shown);
        assert_eq!(c.auth_token, "abcdef0123456789");
        c.merge(&Credentials {
            auth_token: "newsecretvalue99".into(),
            ..Default::default()
        });
        assert_eq!(c.auth_token, "newsecretvalue99");
        assert_eq!(mask("short"), "••••");
    }
}
