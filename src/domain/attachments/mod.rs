//! Attachments: files stored in the database as fixed-size chunks keyed
//! `(attachment_id, chunk_no)` plus one metadata record, streamed in ([`AttachmentUpload`]) and
//! out ([`read::stream`]) so no file is ever held in memory whole.
//!
//! Life of a file: `begin` writes an `Uploading` record (invisible to every reader) and marks
//! it in `ATTACHMENT_UPLOADS`; chunks are committed a few at a time; `finish` turns it `Ready`
//! in one write. An upload that is aborted, dropped, refused or cut off by a crash never becomes
//! visible, and its chunks are reclaimed (on drop, at start-up, and by `attachment-cleanup`).
//! After the retention the cleanup job deletes the bytes and keeps the record as `Expired`, so
//! messages still show the file's name and "file expired".

pub(crate) mod link;
pub mod media;
pub mod policy;
pub mod read;
mod thumb;
mod upload;

use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use crate::ids::ChatId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

pub use policy::Policy;
pub use read::{media_secret, signed_url, verify_signature};
pub use upload::{AttachmentUpload, FLUSH, NewAttachment, save_stream};

use super::access::visible_channels;
use super::users::User;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{
    ATTACHMENT_CHUNKS, ATTACHMENT_THUMBS, ATTACHMENT_UPLOADS, ATTACHMENTS, ATTACHMENTS_BY_CREATED,
};
use crate::store::{Store, WriteCtx};

/// Bytes per chunk. A little under 256 KiB so a chunk plus its key and the page header fit one
/// 256 KiB redb page instead of spilling into the next power of two.
pub const CHUNK: usize = 255 * 1024;

/// Uploads silent for this long are considered abandoned and reclaimed by the cleanup job.
pub const STALE_UPLOAD_MS: i64 = 3_600_000;

/// Who may see a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scope {
    /// Members of the channel (agent uploads for a reply, inbound media).
    Channel { channel_id: ChannelId },
    /// Internal-chat upload not yet posted: only its owner (and admins).
    Internal,
    /// A file posted in an internal chat: its members (see [`can_see`]).
    Chat { chat_id: ChatId },
    /// Uploaded by a live-chat visitor: the channel's members (the widget API checks visitors).
    Visitor {
        channel_id: ChannelId,
        visitor_id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Uploading,
    Ready,
    /// The bytes were deleted after the retention; the record stays.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: AttachmentId,
    /// Sanitised; never a path.
    pub name: String,
    pub size: u64,
    /// Sniffed from the content, not taken from the client.
    pub content_type: String,
    /// Lowercase hex SHA-256 of the content (also the ETag).
    pub sha256: String,
    /// The uploading user; None for inbound media.
    pub owner: Option<UserId>,
    pub scope: Scope,
    pub created: i64,
    pub expires_at: i64,
    pub state: State,
    /// A thumbnail exists (`GET /api/v1/attachments/{id}/thumbnail`).
    #[serde(default)]
    pub thumbnail: bool,
}

impl Attachment {
    pub fn chunks(&self) -> u64 {
        self.size.div_ceil(CHUNK as u64)
    }
}

fn get_any(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    id: AttachmentId,
) -> Result<Option<Attachment>> {
    codec::get(t, &k1(id))
}

/// A finished (`Ready` or `Expired`) attachment; uploads in progress are invisible.
pub fn get(rtx: &ReadTransaction, id: AttachmentId) -> Result<Option<Attachment>> {
    Ok(get_any(&rtx.open_table(ATTACHMENTS)?, id)?.filter(|a| a.state != State::Uploading))
}

pub fn get_in(ctx: &WriteCtx<'_>, id: AttachmentId) -> Result<Attachment> {
    get_any(&ctx.txn.open_table(ATTACHMENTS)?, id)?
        .filter(|a| a.state != State::Uploading)
        .ok_or(Error::NotFound("attachment"))
}

/// May `user` see a file of this scope and owner?
pub fn can_see(rtx: &ReadTransaction, user: &User, a: &Attachment) -> Result<bool> {
    if user.is_admin() || a.owner == Some(user.id) {
        return Ok(true);
    }
    Ok(match &a.scope {
        Scope::Channel { channel_id } | Scope::Visitor { channel_id, .. } => {
            visible_channels(rtx, user)?.channel(*channel_id)
        }
        Scope::Internal => false,
        Scope::Chat { chat_id } => crate::domain::chats::is_member(rtx, *chat_id, user.id)?,
    })
}

/// The attachment if `user` may see it; NotFound otherwise, so existence does not leak.
pub fn get_visible(rtx: &ReadTransaction, user: &User, id: AttachmentId) -> Result<Attachment> {
    let a = get(rtx, id)?.ok_or(Error::NotFound("attachment"))?;
    if can_see(rtx, user, &a)? {
        Ok(a)
    } else {
        Err(Error::NotFound("attachment"))
    }
}

/// Re-scope a file, e.g. when an internal-chat message posts an `Internal` upload into a chat.
pub fn set_scope_in(ctx: &mut WriteCtx<'_>, id: AttachmentId, scope: Scope) -> Result<Attachment> {
    let mut a = get_in(ctx, id)?;
    a.scope = scope;
    codec::put(&mut ctx.txn.open_table(ATTACHMENTS)?, &k1(id), &a)?;
    Ok(a)
}

/// The thumbnail's JPEG bytes, if one was made.
pub fn thumbnail(rtx: &ReadTransaction, id: AttachmentId) -> Result<Option<Vec<u8>>> {
    Ok(rtx
        .open_table(ATTACHMENT_THUMBS)?
        .get(k1(id).as_slice())?
        .map(|v| v.value().to_vec()))
}

/// Deletes up to `max` chunks of `id`; returns how many were deleted.
pub fn delete_chunks_in(ctx: &WriteCtx<'_>, id: AttachmentId, max: usize) -> Result<usize> {
    let mut t = ctx.txn.open_table(ATTACHMENT_CHUNKS)?;
    let (start, end) = (k2(id, 0), k2(id, u64::MAX));
    let keys: Vec<Vec<u8>> = t
        .range::<&[u8]>(start.as_slice()..=end.as_slice())?
        .take(max)
        .map(|item| item.map(|(k, _)| k.value().to_vec()))
        .collect::<std::result::Result<_, _>>()?;
    for k in &keys {
        t.remove(k.as_slice())?;
    }
    Ok(keys.len())
}

/// Deletes up to `budget` chunks of a `Ready` attachment and, once none are left, marks it
/// `Expired` (record kept, thumbnail and index entry dropped). Returns (chunks deleted, expired).
pub fn expire_in(ctx: &mut WriteCtx<'_>, id: AttachmentId, budget: usize) -> Result<(usize, bool)> {
    let n = delete_chunks_in(ctx, id, budget)?;
    if n == budget {
        return Ok((n, false));
    }
    let mut t = ctx.txn.open_table(ATTACHMENTS)?;
    let Some(mut a) = get_any(&t, id)? else {
        return Ok((n, true));
    };
    ctx.txn
        .open_table(ATTACHMENTS_BY_CREATED)?
        .remove(k2(a.created as u64, id).as_slice())?;
    ctx.txn
        .open_table(ATTACHMENT_THUMBS)?
        .remove(k1(id).as_slice())?;
    a.state = State::Expired;
    a.thumbnail = false;
    codec::put(&mut t, &k1(id), &a)?;
    Ok((n, true))
}

/// Deletes a finished file that no message took (the message was refused after the upload):
/// bytes, thumbnail, index entry and record, in bounded writes. Nothing is left to expire.
pub async fn discard(store: &Store, id: AttachmentId) -> Result<()> {
    loop {
        let done = store
            .write(move |ctx| {
                let (_, done) = expire_in(ctx, id, 500)?;
                if done {
                    delete_expired_record_in(ctx, id)?;
                }
                Ok(done)
            })
            .await?;
        if done {
            return Ok(());
        }
    }
}

/// Deletes the record of a file whose bytes are gone (history retention of its message).
pub fn delete_expired_record_in(ctx: &WriteCtx<'_>, id: AttachmentId) -> Result<bool> {
    let mut t = ctx.txn.open_table(ATTACHMENTS)?;
    match get_any(&t, id)? {
        Some(a) if a.state == State::Expired => {
            t.remove(k1(id).as_slice())?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Deletes up to `budget` chunks of an unfinished upload and, once none are left, its record.
/// Returns (chunks deleted, fully gone).
pub fn reclaim_upload_in(
    ctx: &WriteCtx<'_>,
    id: AttachmentId,
    budget: usize,
) -> Result<(usize, bool)> {
    // Unmark first: a writer still pushing to this upload then fails instead of adding chunks.
    ctx.txn
        .open_table(ATTACHMENT_UPLOADS)?
        .remove(k1(id).as_slice())?;
    let n = delete_chunks_in(ctx, id, budget)?;
    if n == budget {
        return Ok((n, false));
    }
    let mut t = ctx.txn.open_table(ATTACHMENTS)?;
    if get_any(&t, id)?.is_some_and(|a| a.state == State::Uploading) {
        t.remove(k1(id).as_slice())?;
    }
    Ok((n, true))
}

/// Reclaim one unfinished upload completely, in bounded writes.
pub async fn reclaim_upload(store: &Store, id: AttachmentId) -> Result<usize> {
    let mut total = 0;
    loop {
        let (n, done) = store
            .write(move |ctx| reclaim_upload_in(ctx, id, 500))
            .await?;
        total += n;
        if done {
            return Ok(total);
        }
    }
}

/// Uploads in progress last written before `older_than` (all when None), at most `limit`.
pub fn pending_uploads(
    rtx: &ReadTransaction,
    older_than: Option<i64>,
    limit: usize,
) -> Result<Vec<AttachmentId>> {
    let t = rtx.open_table(ATTACHMENT_UPLOADS)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        if out.len() >= limit {
            break;
        }
        let (k, v) = item?;
        let touched = codec::u64_at(v.value(), 0)? as i64;
        if older_than.is_none_or(|cut| touched < cut) {
            out.push(codec::id_at(k.value(), 0)?);
        }
    }
    Ok(out)
}

/// Reclaims every unfinished upload (start-up: none can be in progress) or the stale ones.
/// Returns (uploads reclaimed, chunks deleted).
pub async fn reclaim_uploads(store: &Store, older_than: Option<i64>) -> Result<(usize, usize)> {
    let (mut uploads, mut chunks) = (0, 0);
    loop {
        let ids = store
            .read(move |rtx| pending_uploads(rtx, older_than, 100))
            .await?;
        for id in &ids {
            chunks += reclaim_upload(store, *id).await?;
            uploads += 1;
        }
        if ids.len() < 100 {
            return Ok((uploads, chunks));
        }
    }
}

/// `Ready` attachments created before `cutoff`, oldest first, at most `limit`.
pub fn ready_before(rtx: &ReadTransaction, cutoff: i64, limit: usize) -> Result<Vec<AttachmentId>> {
    let t = rtx.open_table(ATTACHMENTS_BY_CREATED)?;
    let end = k2(cutoff.max(0) as u64, 0);
    let mut out = Vec::new();
    for item in t.range::<&[u8]>(..end.as_slice())?.take(limit) {
        out.push(codec::id_at(item?.0.value(), 8)?);
    }
    Ok(out)
}
