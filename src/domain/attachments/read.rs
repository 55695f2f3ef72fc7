//! Reading files back: a byte stream of any range (one chunk in memory at a time), a blocking
//! `Read + Seek` over the chunks (thumbnails), and signed public download links for providers
//! that fetch media by URL (Twilio `MediaUrl`, Messenger attachment `payload.url`).

use crate::ids::AttachmentId;
use std::io::{Read, Seek, SeekFrom};
use std::ops::Range;

use bytes::Bytes;
use futures_util::Stream;
use hmac::{Hmac, Mac};
use redb::{ReadOnlyTable, ReadTransaction};
use sha2::Sha256;

use super::{Attachment, CHUNK};
use crate::error::{Error, Result};
use crate::store::Store;
use crate::store::codec::k2;
use crate::store::tables::ATTACHMENT_CHUNKS;

/// One chunk's bytes (None when the bytes are gone).
pub fn chunk(rtx: &ReadTransaction, id: AttachmentId, n: u64) -> Result<Option<Bytes>> {
    Ok(rtx
        .open_table(ATTACHMENT_CHUNKS)?
        .get(k2(id, n).as_slice())?
        .map(|v| Bytes::copy_from_slice(v.value())))
}

/// The bytes `range` of `att` as a stream: one chunk read (off the runtime) per item, so at
/// most one chunk is in memory per download. Fails with `Gone` if the bytes disappear
/// mid-stream (expired meanwhile).
///
/// For the outbound sender: `reqwest::Body::wrap_stream(stream(store, &att, 0..att.size))`
/// streams a stored file into a WhatsApp media upload without loading it.
pub fn stream(
    store: Store,
    att: &Attachment,
    range: Range<u64>,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    let id = att.id;
    let end = range.end.min(att.size);
    futures_util::stream::try_unfold(range.start, move |pos| {
        let store = store.clone();
        async move {
            if pos >= end {
                return Ok(None);
            }
            let n = pos / CHUNK as u64;
            let data = store
                .read(move |rtx| chunk(rtx, id, n))
                .await?
                .ok_or_else(|| Error::Gone("file expired".into()))?;
            let from = (pos - n * CHUNK as u64) as usize;
            let to = ((end - n * CHUNK as u64) as usize).min(data.len());
            if from >= to {
                return Err(Error::Internal(format!(
                    "attachment {id}: chunk {n} is short"
                )));
            }
            let piece = data.slice(from..to);
            let next = pos + piece.len() as u64;
            Ok(Some((piece, next)))
        }
    })
}

/// Blocking `Read + Seek` over a stored file, inside one read transaction.
pub struct ChunkReader {
    table: ReadOnlyTable<&'static [u8], &'static [u8]>,
    id: AttachmentId,
    size: u64,
    pos: u64,
    current: Option<(u64, Bytes)>,
}

impl ChunkReader {
    pub fn new(rtx: &ReadTransaction, id: AttachmentId, size: u64) -> Result<Self> {
        Ok(Self {
            table: rtx.open_table(ATTACHMENT_CHUNKS)?,
            id,
            size,
            pos: 0,
            current: None,
        })
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.size || out.is_empty() {
            return Ok(0);
        }
        let n = self.pos / CHUNK as u64;
        if self.current.as_ref().is_none_or(|(c, _)| *c != n) {
            let data = self
                .table
                .get(k2(self.id, n).as_slice())
                .map_err(std::io::Error::other)?
                .map(|v| Bytes::copy_from_slice(v.value()))
                .ok_or_else(|| std::io::Error::other("chunk missing"))?;
            self.current = Some((n, data));
        }
        let Some((_, data)) = &self.current else {
            return Ok(0);
        };
        let from = (self.pos - n * CHUNK as u64) as usize;
        let avail = data.get(from..).unwrap_or_default();
        let k = avail.len().min(out.len());
        out[..k].copy_from_slice(&avail[..k]);
        self.pos += k as u64;
        Ok(k)
    }
}

impl Seek for ChunkReader {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.size as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before start",
            ));
        }
        self.pos = target as u64;
        Ok(self.pos)
    }
}

const SECRET_KEY: &[u8] = b"media_url_secret";

/// The per-install secret for signed media links (generated on first use).
pub async fn media_secret(store: &Store) -> Result<Vec<u8>> {
    store.install_secret(SECRET_KEY).await
}

fn signature(secret: &[u8], id: AttachmentId, expires: i64) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).ok()?;
    mac.update(format!("{id}:{expires}").as_bytes());
    Some(mac)
}

/// `{public_url}/media/{id}/{expires}/{sig}`: a link anyone may fetch until `expires` (Unix
/// seconds); sig = hex HMAC-SHA256 of `"{id}:{expires}"` under the install's secret.
pub fn signed_url(public_url: &str, secret: &[u8], id: AttachmentId, expires: i64) -> String {
    let sig = signature(secret, id, expires)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!(
        "{}/media/{id}/{expires}/{sig}",
        public_url.trim_end_matches('/')
    )
}

/// Checks a signed link's signature (constant time) and expiry (`now_ms`).
pub fn verify_signature(
    secret: &[u8],
    id: AttachmentId,
    expires: i64,
    sig: &str,
    now_ms: i64,
) -> bool {
    let Ok(raw) = hex::decode(sig) else {
        return false;
    };
    let Some(mac) = signature(secret, id, expires) else {
        return false;
    };
    mac.verify_slice(&raw).is_ok() && expires.saturating_mul(1000) > now_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_links_verify_and_expire() {
        let url = signed_url("https://box.example/", b"k", AttachmentId(7), 1000);
        let sig = url.rsplit('/').next().unwrap();
        assert!(url.starts_with("https://box.example/media/7/1000/"));
        assert!(verify_signature(b"k", AttachmentId(7), 1000, sig, 999_999));
        assert!(!verify_signature(
            b"k",
            AttachmentId(7),
            1000,
            sig,
            1_000_000
        ));
        assert!(!verify_signature(b"k", AttachmentId(8), 1000, sig, 0));
        assert!(!verify_signature(b"k", AttachmentId(7), 1001, sig, 0));
        assert!(!verify_signature(b"other", AttachmentId(7), 1000, sig, 0));
        assert!(!verify_signature(b"k", AttachmentId(7), 1000, "zz", 0));
    }
}
