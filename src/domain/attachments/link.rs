//! Turning uploaded attachment ids into message file entries. Only files the caller may see,
//! uploaded for this very channel (so they passed its size and type rules) and not expired.

use crate::domain::attachments::{self, Scope, State};
use crate::domain::messages::MessageFile;
use crate::domain::users::User;
use crate::error::{Error, Result};
use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use crate::store::Store;

/// Most files one message may carry (Twilio's MediaUrl limit).
pub const MAX_FILES: usize = 10;

pub async fn resolve(
    store: &Store,
    user: &User,
    channel_id: ChannelId,
    ids: &[AttachmentId],
) -> Result<Vec<MessageFile>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    if ids.len() > MAX_FILES {
        return Err(Error::invalid(
            "attachment_ids",
            format!("at most {MAX_FILES} files per message"),
        ));
    }
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(Error::invalid(
            "attachment_ids",
            "the same file is listed twice",
        ));
    }
    let user = user.clone();
    let ids = ids.to_vec();
    store
        .read(move |rtx| {
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let a = attachments::get_visible(rtx, &user, id)?;
                if a.scope != (Scope::Channel { channel_id }) {
                    return Err(Error::invalid("attachment_ids", format!("file {id} was uploaded for another conversation; upload it with channel_id={channel_id}")));
                }
                if a.state != State::Ready {
                    return Err(Error::Gone(format!("file {id} has expired")));
                }
                out.push(MessageFile { attachment_id: Some(id), name: a.name, mime: a.content_type, size: a.size, source: None, error: None });
            }
            Ok(out)
        })
        .await
}
