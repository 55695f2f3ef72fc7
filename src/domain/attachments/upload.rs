//! The streaming writer. Usable from HTTP handlers and from the inbound media fetcher alike:
//!
//! ```ignore
//! let mut up = AttachmentUpload::begin(&store, NewAttachment { .. }).await?;
//! while let Some(bytes) = stream.next().await { up.push(bytes?).await?; }
//! let att = up.finish().await?;
//! ```
//!
//! At most [`FLUSH`] bytes are buffered before a write. The limit is enforced on every push
//! (413 as soon as it is crossed), the type is sniffed from the first [`CHUNK`] bytes before
//! anything is stored (415), the SHA-256 is computed on the way. Any error, `abort` or drop
//! reclaims what was written.

use crate::ids::AttachmentId;
use crate::ids::UserId;
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use redb::ReadableTable;
use sha2::{Digest, Sha256};

use super::policy::{self, Policy, Sniffed};
use super::{Attachment, CHUNK, Scope, State, reclaim_upload, thumb};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::codec::{self, k1, k2};
use crate::store::tables::{
    ATTACHMENT_CHUNKS, ATTACHMENT_THUMBS, ATTACHMENT_UPLOADS, ATTACHMENTS, ATTACHMENTS_BY_CREATED,
};

/// Bytes buffered before they are written (4 chunks).
pub const FLUSH: usize = 4 * CHUNK;

/// What the caller knows before the first byte.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// The name as given (sanitised here).
    pub name: String,
    pub scope: Scope,
    pub owner: Option<UserId>,
    pub policy: Policy,
    /// How long the bytes are kept (`retention.attachments_hours`), for `expires_at`.
    pub retention_ms: i64,
}

pub struct AttachmentUpload {
    store: Store,
    id: AttachmentId,
    new: NewAttachment,
    buf: BytesMut,
    next_chunk: u64,
    size: u64,
    limit: u64,
    hasher: Sha256,
    sniffed: Option<Sniffed>,
    /// Finished or reclaimed: nothing left for `Drop` to do.
    settled: bool,
}

impl AttachmentUpload {
    /// Reserve an id and write the (invisible) `Uploading` record.
    pub async fn begin(store: &Store, new: NewAttachment) -> Result<Self> {
        let rec = new.clone();
        let id = store
            .write(move |ctx| {
                let id = AttachmentId(ctx.next_id("attachment")?);
                let a = Attachment {
                    id,
                    name: policy::sanitize_name(&rec.name),
                    size: 0,
                    content_type: String::new(),
                    sha256: String::new(),
                    owner: rec.owner,
                    scope: rec.scope.clone(),
                    created: ctx.now,
                    expires_at: ctx.now + rec.retention_ms,
                    state: State::Uploading,
                    thumbnail: false,
                };
                codec::put(&mut ctx.txn.open_table(ATTACHMENTS)?, &k1(id), &a)?;
                ctx.txn
                    .open_table(ATTACHMENT_UPLOADS)?
                    .insert(k1(id).as_slice(), k1(ctx.now as u64).as_slice())?;
                Ok(id)
            })
            .await?;
        Ok(Self {
            store: store.clone(),
            id,
            limit: new.policy.max_bytes,
            new,
            buf: BytesMut::with_capacity(CHUNK),
            next_chunk: 0,
            size: 0,
            hasher: Sha256::new(),
            sniffed: None,
            settled: false,
        })
    }

    pub fn id(&self) -> AttachmentId {
        self.id
    }

    /// Add bytes. On any error the upload is reclaimed and must not be used further.
    pub async fn push(&mut self, data: Bytes) -> Result<()> {
        match self.push_inner(data).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.reclaim().await;
                Err(e)
            }
        }
    }

    async fn push_inner(&mut self, mut data: Bytes) -> Result<()> {
        if self.settled {
            return Err(Error::Conflict("the upload is already finished".into()));
        }
        // The type is decided on exactly the first CHUNK bytes, as soon as they are in and
        // before the limit is applied to anything past them. So the refusal (415 or 413) depends
        // on the bytes only, never on how the stream happens to be chunked.
        if self.sniffed.is_none() && self.size < CHUNK as u64 {
            let need = CHUNK - self.size as usize;
            if data.len() >= need && self.size + need as u64 <= self.limit {
                let head = data.split_to(need);
                self.accept(&head);
                self.sniff(false)?;
            }
        }
        if self.size + data.len() as u64 > self.limit {
            return Err(self.too_large());
        }
        self.accept(&data);
        if self.buf.len() >= FLUSH {
            let whole = self.buf.len() / CHUNK * CHUNK;
            let out = self.buf.split_to(whole).freeze();
            self.write_chunks(out).await?;
        }
        Ok(())
    }

    fn accept(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        self.hasher.update(data);
        self.buf.extend_from_slice(data);
    }

    fn too_large(&self) -> Error {
        let mime = self.sniffed.as_ref().map(|s| s.mime.as_str());
        self.new
            .policy
            .too_large(mime, self.limit, &human(self.limit))
    }

    /// Decide the type, once: on the first [`CHUNK`] bytes (`buf` holds exactly the file's
    /// start here: nothing is flushed before the type is known) or on the whole file if shorter.
    /// Unrecognised content is refused now, even where every type is allowed: judging it again
    /// later would sniff bytes from the middle of the file.
    fn sniff(&mut self, complete: bool) -> Result<()> {
        let head = &self.buf[..self.buf.len().min(CHUNK)];
        let found = policy::sniff(head, complete, &self.new.name);
        self.new.policy.check(found.as_ref())?;
        let s = found.ok_or_else(|| Error::Unsupported("file type not recognised".into()))?;
        self.limit = self.new.policy.cap_for(&s.mime);
        if self.size > self.limit {
            if self.new.policy.mms {
                return Err(Error::TooLarge(policy::MMS_TOO_LARGE.into()));
            }
            return Err(Error::TooLarge(format!(
                "file too large: the limit for {} files here is {}",
                s.mime,
                human(self.limit)
            )));
        }
        self.sniffed = Some(s);
        Ok(())
    }

    /// Commit whole chunks (the last one may be short) in one group-committed write.
    async fn write_chunks(&mut self, data: Bytes) -> Result<()> {
        let mut chunks = Vec::with_capacity(data.len().div_ceil(CHUNK));
        let mut rest = data;
        while !rest.is_empty() {
            let n = rest.len().min(CHUNK);
            chunks.push(rest.split_to(n));
        }
        let (id, first, count) = (self.id, self.next_chunk, chunks.len() as u64);
        self.store
            .write(move |ctx| {
                let mut up = ctx.txn.open_table(ATTACHMENT_UPLOADS)?;
                if up.get(k1(id).as_slice())?.is_none() {
                    return Err(Error::Gone("the upload was abandoned; start again".into()));
                }
                up.insert(k1(id).as_slice(), k1(ctx.now as u64).as_slice())?;
                let mut t = ctx.txn.open_table(ATTACHMENT_CHUNKS)?;
                for (i, c) in chunks.iter().enumerate() {
                    t.insert(k2(id, first + i as u64).as_slice(), c.as_ref())?;
                }
                Ok(())
            })
            .await?;
        self.next_chunk += count;
        Ok(())
    }

    /// Write the rest, make a thumbnail for images, and publish the file as `Ready`.
    /// Empty files are refused (422): no provider accepts them and they help no one.
    pub async fn finish(mut self) -> Result<Attachment> {
        match self.finish_inner().await {
            Ok(a) => Ok(a),
            Err(e) => {
                self.reclaim().await;
                Err(e)
            }
        }
    }

    async fn finish_inner(&mut self) -> Result<Attachment> {
        if self.size == 0 {
            return Err(Error::invalid("file", "is empty"));
        }
        if self.sniffed.is_none() {
            self.sniff(true)?;
        }
        let sniffed = self
            .sniffed
            .clone()
            .ok_or_else(|| Error::Unsupported("file type not recognised".into()))?;
        if !self.buf.is_empty() {
            let out = std::mem::take(&mut self.buf).freeze();
            self.write_chunks(out).await?;
        }
        let sha = hex::encode(std::mem::take(&mut self.hasher).finalize());
        let thumbnail = if thumb::can_thumbnail(&sniffed.mime, self.size) {
            thumb::make(&self.store, self.id, self.size).await
        } else {
            None
        };
        let (id, size, name) = (
            self.id,
            self.size,
            policy::name_for(&self.new.name, &sniffed),
        );
        let (mime, retention) = (sniffed.mime.clone(), self.new.retention_ms);
        let a = self
            .store
            .write(move |ctx| {
                if ctx
                    .txn
                    .open_table(ATTACHMENT_UPLOADS)?
                    .remove(k1(id).as_slice())?
                    .is_none()
                {
                    return Err(Error::Gone("the upload was abandoned; start again".into()));
                }
                let mut t = ctx.txn.open_table(ATTACHMENTS)?;
                let mut a: Attachment =
                    codec::get(&t, &k1(id))?.ok_or(Error::NotFound("attachment"))?;
                a.name = name.clone();
                a.size = size;
                a.content_type = mime.clone();
                a.sha256 = sha.clone();
                a.created = ctx.now;
                a.expires_at = ctx.now + retention;
                a.state = State::Ready;
                if let Some(th) = &thumbnail {
                    ctx.txn
                        .open_table(ATTACHMENT_THUMBS)?
                        .insert(k1(id).as_slice(), th.as_slice())?;
                    a.thumbnail = true;
                }
                codec::put(&mut t, &k1(id), &a)?;
                ctx.txn
                    .open_table(ATTACHMENTS_BY_CREATED)?
                    .insert(k2(a.created as u64, id).as_slice(), [].as_slice())?;
                Ok(a)
            })
            .await?;
        self.settled = true;
        Ok(a)
    }

    /// Give up: nothing becomes visible and the chunks are deleted.
    pub async fn abort(mut self) {
        self.reclaim().await;
    }

    async fn reclaim(&mut self) {
        if self.settled {
            return;
        }
        self.settled = true;
        self.buf = BytesMut::new();
        if let Err(e) = reclaim_upload(&self.store, self.id).await {
            // The start-up sweep and the cleanup job get it later.
            tracing::warn!(id = %self.id, error = %e, "could not reclaim an aborted upload now");
        }
    }
}

impl Drop for AttachmentUpload {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Client gone mid-upload (the handler's future was dropped): reclaim in the background.
        let (store, id) = (self.store.clone(), self.id);
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = reclaim_upload(&store, id).await {
                    tracing::warn!(id = %id, error = %e, "could not reclaim a dropped upload now");
                }
            });
        }
    }
}

/// Store a whole stream (inbound media, tests). `map_err` turns the stream's errors into
/// domain errors (e.g. a provider's TooLarge into `Error::TooLarge`).
pub async fn save_stream<S, E>(
    store: &Store,
    new: NewAttachment,
    stream: S,
    map_err: impl Fn(E) -> Error,
) -> Result<Attachment>
where
    S: Stream<Item = std::result::Result<Bytes, E>>,
{
    let mut up = AttachmentUpload::begin(store, new).await?;
    let mut stream = std::pin::pin!(stream);
    while let Some(item) = stream.next().await {
        match item {
            Ok(bytes) => up.push(bytes).await?,
            Err(e) => {
                up.abort().await;
                return Err(map_err(e));
            }
        }
    }
    up.finish().await
}

fn human(bytes: u64) -> String {
    if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MB", bytes >> 20)
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
