//! INTEGRATION POINT with the attachment store (branch `files`).
//!
//! The visitor API calls exactly these two functions and nothing else of the attachment store:
//!
//! - [`store_visitor_image`] streams one uploaded image into the store. At merge, replace its
//!   body with (sketch):
//!   ```ignore
//!   let new = attachments::NewAttachment {
//!       name: name.to_string(),
//!       scope: attachments::Scope::Visitor { channel_id: ch.id, visitor_id: v.id.to_string() },
//!       owner: None,
//!       policy: attachments::Policy::for_channel(ch).images_only(), // ≤ 10 MB, image/* sniffed
//!       retention_ms: state.config.retention.attachments_hours as i64 * 3_600_000,
//!   };
//!   let a = attachments::save_stream(&state.store, new, body.into_data_stream(), |e| {
//!       Error::BadRequest(format!("upload interrupted: {e}"))
//!   }).await?;
//!   Ok(MessageFile { attachment_id: Some(a.id), name: a.name, mime: a.content_type, size: a.size,
//!                    source: None, error: None })
//!   ```
//!   It must refuse non-images (415) and anything over [`MAX_IMAGE_BYTES`] (413) while streaming,
//!   leaving nothing stored.
//! - [`file_url`] gives the widget a URL to load a file of the visitor's conversation from
//!   (e.g. `attachments::signed_url(...)`, a short-lived signed media link). None = the widget
//!   shows the file name only.
//!
//! Until then uploads answer 422 "uploads not yet available" and files are shown by name.

use axum::body::Body;

use crate::domain::channels::Channel;
use crate::domain::livechat::Visitor;
use crate::domain::messages::MessageFile;
use crate::error::{Error, Result};
use crate::http::AppState;

/// Live chat's file cap (product rule: images ≤ 10 MB).
pub const MAX_IMAGE_BYTES: u64 = 10 << 20;

/// Stream a visitor's image into the attachment store (see the module docs).
pub async fn store_visitor_image(
    _state: &AppState,
    _ch: &Channel,
    _v: &Visitor,
    _name: &str,
    _body: Body,
) -> Result<MessageFile> {
    Err(Error::Rule("uploads not yet available".into()))
}

/// A URL the visitor's browser may load `f` from (None until the attachment store is merged).
pub fn file_url(_state: &AppState, _f: &MessageFile) -> Option<String> {
    None
}
