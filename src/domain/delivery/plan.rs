//! Turning a stored outbound [`Message`] into provider sends.
//!
//! A message is sent as one or more *parts* (providers take at most one file per message;
//! Messenger takes text and a file only separately). The plan is a pure function of the message,
//! so the delivery worker can record "parts done" durably and resume after the last one that the
//! provider accepted, never sending an accepted part twice.

use std::time::Duration;

use crate::channels::messenger::{self, MessengerConfig};
use crate::channels::twilio::{self, TwilioConfig, TwilioSender};
use crate::channels::whatsapp::{self, WhatsAppConfig};
use crate::channels::{
    MediaKind, MediaSource, OutboundMedia, OutboundMessage, SendError, SendOk, TemplateSend,
};
use crate::domain::attachments::media::MediaStore;
use crate::domain::channels::{Channel, ChannelKind};
use crate::domain::messages::{Message, MessageFile};

/// How long signed download links handed to providers stay valid.
pub const LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);

pub fn whatsapp_cfg(ch: &Channel) -> WhatsAppConfig {
    WhatsAppConfig {
        base_url: ch.api_base().to_string(),
        access_token: ch.credentials.access_token.clone(),
        phone_number_id: ch.credentials.phone_number_id.clone(),
    }
}

/// Twilio settings; status callbacks go to `{public_url}/hooks/twilio/{id}/status`.
pub fn twilio_cfg(ch: &Channel, public_url: &str) -> TwilioConfig {
    let from = ch.credentials.from_number.trim();
    let sender = if from.starts_with("MG") {
        TwilioSender::MessagingService(from.to_string())
    } else {
        TwilioSender::From(from.to_string())
    };
    TwilioConfig {
        base_url: ch.api_base().to_string(),
        account_sid: ch.credentials.account_sid.clone(),
        auth_token: ch.credentials.auth_token.clone(),
        sender,
        status_callback: Some(format!("{public_url}/hooks/twilio/{}/status", ch.id)),
    }
}

/// Messenger and Instagram settings (one adapter, parameterised by platform).
pub fn messenger_cfg(ch: &Channel) -> MessengerConfig {
    let c = &ch.credentials;
    let (platform, access_token, account_id) = match ch.kind {
        ChannelKind::Instagram => (
            messenger::Platform::Instagram,
            &c.access_token,
            &c.ig_user_id,
        ),
        _ => (
            messenger::Platform::Messenger,
            &c.page_token,
            &String::new(),
        ),
    };
    MessengerConfig {
        platform,
        base_url: ch.api_base().to_string(),
        access_token: access_token.clone(),
        account_id: account_id.clone(),
    }
}

/// One provider message of an outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: Option<String>,
    /// Index into `Message.files`.
    pub file: Option<usize>,
    pub template: bool,
}

fn media_kind(mime: &str) -> MediaKind {
    match MediaKind::from_mime(mime) {
        MediaKind::File => MediaKind::Document,
        k => k,
    }
}

/// The parts of `m` for a channel of `kind`, in sending order.
pub fn plan(kind: ChannelKind, m: &Message) -> Vec<Part> {
    let text = Some(m.text.clone()).filter(|t| !t.trim().is_empty());
    if m.template.is_some() {
        return vec![Part {
            text: None,
            file: None,
            template: true,
        }];
    }
    let part = |text: Option<String>, file: Option<usize>| Part {
        text,
        file,
        template: false,
    };
    if m.files.is_empty() {
        return vec![part(text, None)];
    }
    let mut parts = Vec::new();
    let first_takes_text = match kind {
        ChannelKind::Sms => true,
        ChannelKind::Whatsapp => m.files.first().is_some_and(|f| {
            matches!(
                media_kind(&f.mime),
                MediaKind::Image | MediaKind::Video | MediaKind::Document
            )
        }),
        _ => false,
    };
    let mut text = text;
    if !first_takes_text && let Some(t) = text.take() {
        parts.push(part(Some(t), None));
    }
    for i in 0..m.files.len() {
        parts.push(part(if i == 0 { text.take() } else { None }, Some(i)));
    }
    parts
}

async fn media_for(
    client: &reqwest::Client,
    ch: &Channel,
    media: &MediaStore,
    file: &MessageFile,
    caption: Option<String>,
    now_ms: i64,
) -> Result<OutboundMedia, SendError> {
    let id = file.attachment_id.ok_or_else(|| SendError::Permanent {
        code: "attachment_missing".into(),
        message: format!("{} has no stored bytes", file.name),
    })?;
    let source = if ch.kind == ChannelKind::Whatsapp {
        // The box is not publicly reachable for downloads: upload, then send by media id.
        let f = media.open(id).await.map_err(|e| SendError::Permanent {
            code: "attachment_unreadable".into(),
            message: e.public_message(),
        })?;
        let media_id = whatsapp::upload_media(
            client,
            &whatsapp_cfg(ch),
            f.body,
            Some(f.size),
            &f.name,
            &f.mime,
        )
        .await
        .map_err(|e| match e {
            // An upload that may have happened only leaves an unused file at Meta: retry.
            SendError::Ambiguous { reason } => SendError::Transient {
                reason,
                retry_after: None,
            },
            other => other,
        })?;
        MediaSource::WhatsAppMediaId(media_id)
    } else {
        let expires = now_ms.saturating_add(LINK_LIFETIME.as_millis() as i64);
        let url = media
            .signed_link(id, expires)
            .map_err(|e| SendError::Permanent {
                code: "attachment_link".into(),
                message: e.public_message(),
            })?;
        MediaSource::Url(url)
    };
    Ok(OutboundMedia {
        source,
        kind: media_kind(&file.mime),
        caption,
        filename: Some(file.name.clone()),
    })
}

/// What the delivery worker needs to send one part.
pub struct SendCtx<'a> {
    pub client: &'a reqwest::Client,
    pub public_url: &'a str,
    pub media: &'a MediaStore,
    pub now_ms: i64,
}

/// Send one part of `m` to the contact address `to`.
pub async fn send_part(
    cx: &SendCtx<'_>,
    ch: &Channel,
    to: &str,
    m: &Message,
    part: &Part,
) -> Result<SendOk, SendError> {
    if ch.kind == ChannelKind::Whatsapp
        && !part.template
        && part.file.is_none()
        && let (Some(it), Some(text)) = (&m.interactive, &part.text)
    {
        return whatsapp::send_interactive(cx.client, &whatsapp_cfg(ch), to, text, it).await;
    }
    let template = if part.template {
        m.template.as_ref().map(|t| TemplateSend {
            name: t.name.clone(),
            language: t.language.clone(),
            params: t.params.clone(),
        })
    } else {
        None
    };
    let media = match part.file.and_then(|i| m.files.get(i)) {
        Some(f) => {
            let caption = if ch.kind == ChannelKind::Whatsapp {
                part.text.clone()
            } else {
                None
            };
            Some(media_for(cx.client, ch, cx.media, f, caption, cx.now_ms).await?)
        }
        None => None,
    };
    let text = if media
        .as_ref()
        .is_some_and(|_| ch.kind == ChannelKind::Whatsapp)
    {
        None // carried as the caption
    } else {
        part.text.clone()
    };
    let msg = OutboundMessage {
        to: to.to_string(),
        text,
        media,
        template,
        human_agent_tag: m.human_agent_tag,
    };
    match ch.kind {
        ChannelKind::Whatsapp => whatsapp::send(cx.client, &whatsapp_cfg(ch), &msg).await,
        ChannelKind::Sms => twilio::send(cx.client, &twilio_cfg(ch, cx.public_url), &msg).await,
        ChannelKind::Messenger | ChannelKind::Instagram => {
            messenger::send(cx.client, &messenger_cfg(ch), &msg).await
        }
        ChannelKind::Livechat => Err(SendError::Permanent {
            code: "not_a_provider".into(),
            message: "live chat messages are not sent through a provider".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::messages::{Direction, Status, TemplateRef};
    use crate::ids::AttachmentId;
    use crate::ids::ChannelId;
    use crate::ids::MessageId;
    use crate::ids::SessionId;
    use crate::ids::UserId;

    fn msg(text: &str, mimes: &[&str]) -> Message {
        Message {
            id: MessageId(1),
            session_id: SessionId(1),
            channel_id: ChannelId(1),
            direction: Direction::Out,
            author: Some(UserId(1)),
            text: text.into(),
            files: mimes
                .iter()
                .map(|m| MessageFile {
                    attachment_id: Some(AttachmentId(1)),
                    name: "f".into(),
                    mime: (*m).into(),
                    size: 1,
                    source: None,
                    error: None,
                })
                .collect(),
            template: None,
            provider_id: None,
            status: Status::Queued,
            error: None,
            created: 0,
            provider_at: None,
            human_agent_tag: false,
            retry: None,
            quote: None,
            reaction: None,
            edited: None,
            interactive: None,
        }
    }

    #[test]
    fn plans_follow_each_providers_rules() {
        let text_only = plan(ChannelKind::Messenger, &msg("hi", &[]));
        assert_eq!(text_only.len(), 1);
        assert_eq!(text_only[0].text.as_deref(), Some("hi"));
        // Messenger: text and file separately.
        let p = plan(ChannelKind::Messenger, &msg("hi", &["image/png"]));
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].file, p[1].file), (None, Some(0)));
        // WhatsApp: image carries the text as caption; audio cannot.
        assert_eq!(
            plan(ChannelKind::Whatsapp, &msg("hi", &["image/png"])).len(),
            1
        );
        assert_eq!(
            plan(ChannelKind::Whatsapp, &msg("hi", &["audio/ogg"])).len(),
            2
        );
        // SMS: text with the first file, the rest alone.
        let p = plan(ChannelKind::Sms, &msg("hi", &["image/png", "image/jpeg"]));
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].text.as_deref(), Some("hi"));
        assert_eq!(p[1].text, None);
        // Templates are one part whatever else is there.
        let mut t = msg("ignored", &[]);
        t.template = Some(TemplateRef {
            name: "hello".into(),
            language: "en_US".into(),
            params: vec![],
        });
        assert_eq!(plan(ChannelKind::Whatsapp, &t).len(), 1);
        assert!(plan(ChannelKind::Whatsapp, &t)[0].template);
    }
}
