//! Channels: where customers write in (SMS via Twilio, WhatsApp Cloud API, Messenger, Instagram,
//! Live Chat),
//! with credentials, members (agents who receive its sessions), queue mode, closure and file rules.
//! Secrets are stored in full but never shown back: `ChannelView` masks them.

use crate::domain::events::Event;
use crate::ids::ChannelId;
use crate::ids::UserId;
use std::collections::HashSet;

use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

mod cache;
mod credentials;
pub(crate) mod health;
mod input;

pub use cache::Cache;
pub use credentials::{Credentials, mask};
pub use input::ChannelInput;
use input::apply;

use super::audit;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{CHANNEL_MEMBERS, CHANNELS, MEMBER_CHANNELS};
use crate::store::{Audience, Store, WriteCtx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Sms,
    Whatsapp,
    Messenger,
    Livechat,
    /// Instagram direct messages (Instagram API with Instagram Login).
    Instagram,
}

impl ChannelKind {
    /// Every kind, in the order the admin's "new channel" choice shows them.
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Whatsapp,
        ChannelKind::Sms,
        ChannelKind::Messenger,
        ChannelKind::Instagram,
        ChannelKind::Livechat,
    ];
    /// The kind named by [`ChannelKind::as_str`].
    pub fn parse(s: &str) -> Option<ChannelKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
    /// The provider's hard file-size cap in bytes (admins may only lower it).
    pub fn max_file_bytes(self) -> u64 {
        match self {
            ChannelKind::Sms | ChannelKind::Whatsapp => 100 << 20,
            ChannelKind::Messenger | ChannelKind::Instagram => {
                crate::channels::messenger::MAX_ATTACHMENT_BYTES
            }
            ChannelKind::Livechat => 10 << 20,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Livechat => "livechat",
            ChannelKind::Instagram => "instagram",
        }
    }
    pub fn default_api_base(self) -> &'static str {
        match self {
            ChannelKind::Sms => crate::channels::twilio::DEFAULT_BASE_URL,
            ChannelKind::Whatsapp => crate::channels::whatsapp::DEFAULT_BASE_URL,
            ChannelKind::Messenger => crate::channels::messenger::DEFAULT_BASE_URL,
            ChannelKind::Instagram => crate::channels::messenger::INSTAGRAM_BASE_URL,
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
    /// The widget's language for visitors whose browser asks for none of ours (a code of
    /// `locales/`, e.g. `de`); empty = English.
    pub language: String,
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
            language: String::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Channel {
    pub id: ChannelId,
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
    pub members: Vec<UserId>,
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
    /// WhatsApp: do not mark customer messages read at Meta when an agent opens them.
    #[serde(default)]
    pub read_receipts_off: bool,
    /// WhatsApp: do not show the customer a typing indicator while an agent types.
    #[serde(default)]
    pub typing_off: bool,
    pub created: i64,
}

fn default_auto_close() -> u32 {
    24
}

impl Channel {
    /// A channel of `kind` with every setting at its default (what a new channel starts from).
    pub fn blank(id: ChannelId, kind: ChannelKind, created: i64) -> Channel {
        Channel {
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
            read_receipts_off: false,
            typing_off: false,
            created,
        }
    }

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
    pub id: ChannelId,
    pub kind: ChannelKind,
    pub name: String,
    pub business_address: String,
    pub credentials: Credentials,
    pub api_base: String,
    pub members: Vec<UserId>,
    pub queue_mode: QueueMode,
    pub auto_close_hours: u32,
    pub max_file_mb: Option<u32>,
    pub allowed_types: Option<Vec<String>>,
    pub max_sessions_per_agent: u32,
    pub livechat: LivechatSettings,
    /// WhatsApp: customer messages are marked read at Meta when an agent opens them.
    pub read_receipts: bool,
    /// WhatsApp: the customer sees a typing indicator while an agent types.
    pub typing_indicator: bool,
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
            ChannelKind::Instagram => vec![format!("{public_url}/hooks/instagram/{}", self.id)],
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
            read_receipts: !self.read_receipts_off,
            typing_indicator: !self.typing_off,
            webhook_urls,
        }
    }
}

pub fn get(rtx: &ReadTransaction, id: ChannelId) -> Result<Option<Channel>> {
    codec::get(&rtx.open_table(CHANNELS)?, &k1(id))
}

pub fn get_in(ctx: &WriteCtx<'_>, id: ChannelId) -> Result<Channel> {
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

fn set_members(ctx: &mut WriteCtx<'_>, ch: &mut Channel, members: &[UserId]) -> Result<()> {
    let mut wanted: Vec<UserId> = members.to_vec();
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
        &Event::ChannelMembers { id: ch.id },
    )?;
    Ok(())
}

fn put(ctx: &mut WriteCtx<'_>, ch: &Channel) -> Result<()> {
    ctx.channels_changed();
    codec::put(&mut ctx.txn.open_table(CHANNELS)?, &k1(ch.id), ch)
}

/// An administrator creates a channel (callers check the role).
/// Required provider fields are checked by name here (not in `create_in`, which tests and
/// imports use to make channels without a provider behind them).
pub async fn create(store: &Store, actor: UserId, input: ChannelInput) -> Result<Channel> {
    store
        .write(move |ctx| {
            let ch = create_in(ctx, actor, &input)?;
            require_credentials(&ch)?;
            Ok(ch)
        })
        .await
}

/// The provider fields a channel of `kind` cannot work without: (form field, label).
pub fn required_fields(kind: ChannelKind) -> &'static [(&'static str, &'static str)] {
    match kind {
        ChannelKind::Sms => &[
            ("account_sid", "Account SID"),
            ("auth_token", "Auth token"),
            ("from_number", "From number"),
        ],
        ChannelKind::Whatsapp => &[
            ("phone_number_id", "Phone number ID"),
            ("access_token", "Access token"),
            ("app_secret", "App secret"),
            ("verify_token", "Verify token"),
        ],
        ChannelKind::Messenger => &[
            ("page_id", "Page ID"),
            ("page_token", "Page access token"),
            ("app_secret", "App secret"),
            ("verify_token", "Verify token"),
        ],
        ChannelKind::Instagram => &[
            ("ig_user_id", "Instagram account ID"),
            ("access_token", "Instagram user access token"),
            ("app_secret", "App secret"),
            ("verify_token", "Verify token"),
        ],
        ChannelKind::Livechat => &[],
    }
}

/// Refuses a channel whose provider credentials are missing, naming every missing field.
pub fn require_credentials(ch: &Channel) -> Result<()> {
    let c = &ch.credentials;
    let missing: Vec<&str> = required_fields(ch.kind)
        .iter()
        .filter(|(field, _)| {
            let v = match *field {
                "account_sid" => &c.account_sid,
                "auth_token" => &c.auth_token,
                "from_number" => &c.from_number,
                "phone_number_id" => &c.phone_number_id,
                "access_token" => &c.access_token,
                "page_id" => &c.page_id,
                "page_token" => &c.page_token,
                "ig_user_id" => &c.ig_user_id,
                "app_secret" => &c.app_secret,
                _ => &c.verify_token,
            };
            v.trim().is_empty()
        })
        .map(|(_, label)| *label)
        .collect();
    match missing.first() {
        None => Ok(()),
        Some(first) => {
            let field = required_fields(ch.kind)
                .iter()
                .find(|(_, l)| l == first)
                .map_or("credentials", |(f, _)| *f);
            let verb = if missing.len() == 1 { "is" } else { "are" };
            Err(Error::invalid(
                field,
                format!("{} {verb} required", missing.join(", ")),
            ))
        }
    }
}

/// What a channel holds: shown before deletion.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub sessions: u64,
    pub messages: u64,
    pub attachments: u64,
}

/// Counts the channel's conversations, messages and attached files (a scan: admin pages only).
pub fn usage(rtx: &ReadTransaction, channel_id: ChannelId) -> Result<Usage> {
    let mut u = Usage::default();
    for session_id in super::sessions::of_channel(rtx, channel_id)? {
        let (messages, files) = super::messages::count_in_session(rtx, session_id)?;
        u.sessions += 1;
        u.messages += messages;
        u.attachments += files;
    }
    Ok(u)
}

/// Asks the provider's API with the stored credentials ("Test connection"): `Ok` names the
/// phone number, page or account found; `Err` carries the provider's own error text.
pub async fn test_connection(
    store: &Store,
    id: ChannelId,
) -> Result<crate::channels::probe::Probe> {
    use crate::channels::probe;
    let ch = store
        .read(move |rtx| get(rtx, id))
        .await?
        .ok_or(Error::NotFound("channel"))?;
    let client = crate::channels::http_client(std::time::Duration::from_secs(15))
        .map_err(Error::internal)?;
    let c = &ch.credentials;
    let base = ch.api_base();
    Ok(match ch.kind {
        ChannelKind::Whatsapp => {
            probe::whatsapp(&client, base, &c.phone_number_id, &c.access_token).await
        }
        ChannelKind::Messenger => probe::messenger(&client, base, &c.page_token).await,
        ChannelKind::Instagram => probe::instagram(&client, base, &c.access_token).await,
        ChannelKind::Sms => probe::twilio(&client, base, &c.account_sid, &c.auth_token).await,
        ChannelKind::Livechat => Ok("the website chat needs no provider".into()),
    })
}

/// An administrator changes a channel; fields left out stay as they are.
pub async fn update(
    store: &Store,
    actor: UserId,
    id: ChannelId,
    input: ChannelInput,
) -> Result<Channel> {
    store
        .write(move |ctx| update_in(ctx, actor, id, &input))
        .await
}

/// An administrator deletes a channel: its sessions stay readable, queued messages fail.
pub async fn delete(store: &Store, actor: UserId, id: ChannelId) -> Result<()> {
    store.write(move |ctx| delete_in(ctx, actor, id)).await
}

pub fn create_in(ctx: &mut WriteCtx<'_>, actor: UserId, input: &ChannelInput) -> Result<Channel> {
    let kind = input.kind.ok_or_else(|| {
        Error::invalid("kind", "is required (sms, whatsapp, messenger, livechat)")
    })?;
    if input.name.is_none() {
        return Err(Error::invalid("name", "is required"));
    }
    let id = ChannelId(ctx.next_id("channel")?);
    let mut ch = Channel::blank(id, kind, ctx.now);
    apply(&mut ch, input)?;
    if let Some(m) = &input.members {
        set_members(ctx, &mut ch, m)?;
    }
    put(ctx, &ch)?;
    audit::record_phrased(
        ctx,
        Some(actor),
        "channel.create",
        format!("channel:{id}"),
        vec![
            crate::locale::Phrase::new("aud.d.channel")
                .arg("name", &ch.name)
                .word("kind", &format!("ch.{}", kind.as_str())),
        ],
    )?;
    Ok(ch)
}

pub fn update_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    id: ChannelId,
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
        &Event::ChannelUpdated { id },
    )?;
    Ok(ch)
}

/// Deletes the channel's configuration, memberships and health line; its sessions stay readable
/// to admins.
pub fn delete_in(ctx: &mut WriteCtx<'_>, actor: UserId, id: ChannelId) -> Result<()> {
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

/// Is `user_id` a member of `channel_id`?
pub fn is_member_in(ctx: &WriteCtx<'_>, channel_id: ChannelId, user_id: UserId) -> Result<bool> {
    Ok(ctx
        .txn
        .open_table(CHANNEL_MEMBERS)?
        .get(k2(channel_id, user_id).as_slice())?
        .is_some())
}

/// The channel ids `user_id` is a member of.
pub fn member_channels(rtx: &ReadTransaction, user_id: UserId) -> Result<HashSet<ChannelId>> {
    let t = rtx.open_table(MEMBER_CHANNELS)?;
    let (start, end) = (k1(user_id), k1(user_id.next()));
    let mut out = HashSet::new();
    for item in t.range::<&[u8]>(start.as_slice()..end.as_slice())? {
        out.insert(codec::id_at(item?.0.value(), 8)?);
    }
    Ok(out)
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
