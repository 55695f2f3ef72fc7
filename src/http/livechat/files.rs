//! The live-chat visitor's files: images streamed into the attachment store (scope `Visitor`,
//! images only, at most 10 MB, refused while streaming), shown back through short-lived signed
//! media links.

use axum::body::Body;

use crate::domain::attachments::{self, NewAttachment, Policy, Scope};
use crate::domain::channels::Channel;
use crate::domain::livechat::Visitor;
use crate::domain::messages::MessageFile;
use crate::error::{Error, Result};
use crate::http::HttpState;

/// Live chat's file cap (product rule: images ≤ 10 MB).
pub const MAX_IMAGE_BYTES: u64 = 10 << 20;

/// How long a link handed to the widget stays valid.
const LINK_SECS: i64 = 3600;

/// Stream a visitor's image into the attachment store.
pub async fn store_visitor_image(
    state: &HttpState,
    ch: &Channel,
    v: &Visitor,
    name: &str,
    body: Body,
) -> Result<MessageFile> {
    let policy = Policy {
        max_bytes: MAX_IMAGE_BYTES.min(ch.max_file_bytes()),
        allowed: ["gif", "heic", "jpeg", "jpg", "png", "webp"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        whatsapp_caps: false,
    };
    let new = NewAttachment {
        name: name.to_string(),
        scope: Scope::Visitor {
            channel_id: ch.id,
            visitor_id: v.id.to_string(),
        },
        owner: None,
        policy,
        retention_ms: state.config.retention.attachments_hours as i64 * 3_600_000,
    };
    let a = attachments::save_stream(&state.store, new, body.into_data_stream(), |e| {
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

/// A short-lived signed URL the visitor's browser may load `f` from.
pub fn file_url(state: &HttpState, f: &MessageFile) -> Option<String> {
    let id = f.attachment_id?;
    let expires = state.now() / 1000 + LINK_SECS;
    Some(attachments::signed_url(
        &state.public_url,
        &state.media_secret,
        id,
        expires,
    ))
}
