//! The live-chat visitor's files, shown back through short-lived signed media links (storing
//! them is `domain::livechat::send_image`).

use crate::domain::attachments::{self};
use crate::domain::messages::MessageFile;
use crate::http::HttpState;

/// How long a link handed to the widget stays valid.
const LINK_SECS: i64 = 3600;

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
