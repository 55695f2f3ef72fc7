//! What a visitor does in live chat (the widget's API) and the agent's typing signal, each one
//! write. The HTTP layer adds what is transport: origins, bearer tokens, rate limits.

use crate::ids::MessageId;
use crate::ids::SessionId;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::Stream;

use super::{
    Visitor, agent_typing_in, clean_client_id, clean_email, clean_name, clean_text, create_in,
    mark_read_in, offline_in, send_in, typing_in, update_contact_in, visitor_id_of,
};
use crate::config::Config;
use crate::domain::attachments::{self, NewAttachment, Policy, Scope};
use crate::domain::channels::{Channel, ChannelKind};
use crate::domain::contacts;
use crate::domain::messages::{Message, MessageFile};
use crate::domain::presence::AssignPolicy;
use crate::domain::sessions::{self, SessionStatus};
use crate::domain::tokens::{random_token, sha256};
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::store::Store;

/// Live chat's file cap (product rule: images ≤ 10 MB).
pub const MAX_IMAGE_BYTES: u64 = 10 << 20;

/// A new visitor token and its stored hash.
fn new_token() -> Result<(String, [u8; 32])> {
    let token = random_token(super::TOKEN_PREFIX, 24)?;
    let hash = sha256(token.as_bytes());
    Ok((token, hash))
}

/// A new visitor of `ch` (name and e-mail required while the pre-chat form is on). Returns
/// the visitor's bearer token (its only appearance in clear) and the visitor.
pub async fn create_visitor(
    store: &Store,
    ch: Arc<Channel>,
    name: Option<String>,
    email: Option<String>,
    language: Option<String>,
) -> Result<(String, Visitor)> {
    let required = ch.livechat.prechat_form;
    let name = clean_name(name.as_deref(), required)?;
    let email = clean_email(email.as_deref(), required)?;
    let (token, hash) = new_token()?;
    let v = store
        .write(move |ctx| {
            let v = create_in(ctx, &ch, &hash, &name, &email)?;
            contacts::note_language_in(ctx, v.contact_id, language.as_deref())?;
            Ok(v)
        })
        .await?;
    Ok((token, v))
}

/// The visitor writes; a retried `client_id` is stored once. `policy`: who is online, for
/// assign-on-arrival.
pub async fn send(
    store: &Store,
    ch: Arc<Channel>,
    v: Visitor,
    text: &str,
    client_id: Option<&str>,
    language: Option<String>,
    policy: AssignPolicy,
) -> Result<Message> {
    let text = clean_text(text)?;
    let client_id = clean_client_id(client_id)?;
    store
        .write(move |ctx| {
            // Before the intake: the welcome of a new conversation is in this language.
            contacts::note_language_in(ctx, v.contact_id, language.as_deref())?;
            send_in(
                ctx,
                &ch,
                &v,
                &text,
                client_id.as_deref(),
                Vec::new(),
                &policy,
            )
        })
        .await
}

/// What the offline form sends.
pub struct OfflineNote {
    pub name: Option<String>,
    pub email: Option<String>,
    pub text: String,
    /// The visitor's browser language (`navigator.language`).
    pub language: Option<String>,
}

/// The offline form (nobody online): lands in the inbox as a session. A visitor without a
/// token (`known` None) is created; returns their new token (if any), the visitor and the
/// message.
pub async fn offline(
    store: &Store,
    ch: Arc<Channel>,
    known: Option<(Visitor, [u8; 32])>,
    note: OfflineNote,
) -> Result<(Option<String>, Visitor, Message)> {
    let name = clean_name(note.name.as_deref(), true)?;
    let email = clean_email(note.email.as_deref(), true)?;
    let text = clean_text(&note.text)?;
    let (token, hash, existing) = match known {
        Some((v, hash)) => (None, hash, Some(v)),
        None => {
            let (t, h) = new_token()?;
            (Some(t), h, None)
        }
    };
    let (v, m) = store
        .write(move |ctx| {
            let v = match &existing {
                Some(v) => update_contact_in(ctx, &hash, v, &name, &email)?,
                None => create_in(ctx, &ch, &hash, &name, &email)?,
            };
            contacts::note_language_in(ctx, v.contact_id, note.language.as_deref())?;
            let m = offline_in(ctx, &ch, &v, &text)?;
            Ok((v, m))
        })
        .await?;
    Ok((token, v, m))
}

/// The visitor is typing (callers drop signals closer than 2 s apart).
pub async fn typing(store: &Store, v: Visitor) -> Result<()> {
    store.write(move |ctx| typing_in(ctx, &v)).await
}

/// The visitor has seen the agents' replies up to `up_to`.
pub async fn mark_read(store: &Store, v: Visitor, up_to: MessageId) -> Result<()> {
    store
        .write(move |ctx| mark_read_in(ctx, &v, up_to).map(|_| ()))
        .await
}

/// The visitor answered the satisfaction survey with one of its buttons (1–5).
pub async fn rate(store: &Store, v: Visitor, score: u8) -> Result<()> {
    store
        .write(move |ctx| {
            crate::domain::automation::survey::rate_in(ctx, v.contact_id, score).map(|_| ())
        })
        .await
}

/// Refused while the channel has file uploads turned off.
pub fn check_uploads(ch: &Channel) -> Result<()> {
    if ch.livechat.uploads {
        Ok(())
    } else {
        Err(Error::Rule(
            "file uploads are turned off for this chat".into(),
        ))
    }
}

/// The visitor sends an image (streamed into the attachment store: images only, at most
/// [`MAX_IMAGE_BYTES`], refused while streaming). A blocked visitor's image is not stored; a
/// message refused after the file was stored takes the file with it.
#[allow(clippy::too_many_arguments)]
pub async fn send_image<S, E>(
    store: &Store,
    config: &Config,
    ch: Arc<Channel>,
    v: Visitor,
    name: &str,
    body: S,
    policy: AssignPolicy,
) -> Result<Message>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let (cid, address) = (ch.id, v.address());
    if store
        .read(move |rtx| contacts::is_blocked(rtx, cid, &address))
        .await?
    {
        return Err(Error::Rule(
            "this conversation does not accept messages".into(),
        ));
    }
    let file = store_image(store, config, &ch, &v, name, body).await?;
    let attachment_id = file.attachment_id;
    let sent = store
        .write(move |ctx| send_in(ctx, &ch, &v, "", None, vec![file.clone()], &policy))
        .await;
    if sent.is_err()
        && let Some(id) = attachment_id
        && let Err(d) = attachments::discard(store, id).await
    {
        tracing::warn!(id = %id, error = %d, "could not discard the file of a refused message");
    }
    sent
}

async fn store_image<S, E>(
    store: &Store,
    config: &Config,
    ch: &Channel,
    v: &Visitor,
    name: &str,
    body: S,
) -> Result<MessageFile>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let policy = Policy {
        max_bytes: MAX_IMAGE_BYTES.min(ch.max_file_bytes()),
        allowed: ["gif", "heic", "jpeg", "jpg", "png", "webp"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        whatsapp_caps: false,
        mms: false,
    };
    let new = NewAttachment {
        name: name.to_string(),
        scope: Scope::Visitor {
            channel_id: ch.id,
            visitor_id: v.id.to_string(),
        },
        owner: None,
        policy,
        retention_ms: config.retention.attachments_hours as i64 * 3_600_000,
    };
    let a = attachments::save_stream(store, new, body, |e| {
        Error::BadRequest(format!("upload interrupted: {e}"))
    })
    .await?;
    Ok(MessageFile {
        attachment_id: Some(a.id),
        name: a.name,
        mime: a.content_type,
        size: a.size,
        source: None,
        error: None,
    })
}

/// `user` is typing a reply in a live-chat session they see: the visitor sees "Ada is
/// typing…". Nothing happens for a closed session or when `allow` (the caller's throttle)
/// says no.
pub async fn agent_typing(
    store: &Store,
    user: &User,
    session_id: SessionId,
    allow: impl FnOnce() -> bool,
) -> Result<()> {
    let u = user.clone();
    let (s, visitor_id) = store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &u, session_id)?;
            let visitor = contacts::get(rtx, s.contact_id)?
                .as_ref()
                .and_then(visitor_id_of);
            Ok((s, visitor))
        })
        .await?;
    let (ChannelKind::Livechat, Some(visitor_id)) = (s.channel_kind, visitor_id) else {
        return Err(Error::Rule(
            "typing signals are for live-chat sessions".into(),
        ));
    };
    if s.status != SessionStatus::Open || !allow() {
        return Ok(());
    }
    let uid = user.id;
    let name = user
        .display_name
        .split_whitespace()
        .next()
        .unwrap_or(&user.username)
        .to_string();
    let cid = s.channel_id;
    store
        .write(move |ctx| agent_typing_in(ctx, cid, visitor_id, session_id, uid, &name))
        .await
}
