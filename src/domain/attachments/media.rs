//! The boundary between provider media and the attachment store.
//!
//! The attachment store (bytes in redb, signed public download links) lives in
//! `domain::attachments`, built on another branch. Everything in the channel code that needs
//! file bytes goes through [`AttachmentBridge`], and [`installed`] is the ONE place that decides
//! which implementation the running server uses. Until the attachment store is wired in it
//! returns `None`: inbound media then stays queued as `MessageFile { attachment_id: None,
//! source: Some(..) }` (the fetch queue survives restarts and drains once a bridge exists), and
//! outbound messages with files fail with a clear reason instead of being sent without them.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use crate::channels::{MediaDownload, MediaError};
use crate::config::Config;
use crate::domain::attachments;
use crate::error::Error;
use crate::store::Store;

/// An inbound file about to be stored.
#[derive(Debug, Clone)]
pub struct InboundFile {
    pub channel_id: u64,
    pub message_id: u64,
    /// File name to show (provider filename or `image.jpg`-style fallback).
    pub name: String,
    /// MIME type as the provider announced it (or `application/octet-stream`).
    pub mime: String,
}

/// What the attachment store made of an inbound file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub attachment_id: u64,
    pub size: u64,
    pub mime: String,
}

/// An attachment opened for an outbound send (streamed, never held whole in memory).
pub struct OutboundFile {
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub body: reqwest::Body,
}

pub trait AttachmentBridge: Send + Sync + 'static {
    /// Stream an inbound download into the attachment store. The download already enforces
    /// the channel's size limit (it yields `MediaError::TooLarge` past it).
    fn store_inbound(
        &self,
        file: InboundFile,
        body: MediaDownload,
    ) -> BoxFuture<'_, Result<StoredFile, MediaError>>;

    /// Open a stored attachment for uploading to a provider (WhatsApp media upload).
    fn open(&self, attachment_id: u64) -> BoxFuture<'_, Result<OutboundFile, Error>>;

    /// A signed, expiring public download link under `public_url` (Twilio `MediaUrl`,
    /// Messenger attachment URL).
    fn signed_link(&self, attachment_id: u64, expires_at_ms: i64) -> Result<String, Error>;
}

/// THE integration point: the attachment store the server uses for provider media.
pub fn installed(
    store: &Store,
    public_url: &str,
    config: &Config,
    media_secret: &[u8],
) -> Option<Arc<dyn AttachmentBridge>> {
    Some(Arc::new(StoreBridge {
        store: store.clone(),
        public_url: public_url.trim_end_matches('/').to_string(),
        retention_ms: config.retention.attachments_hours as i64 * 3_600_000,
        secret: media_secret.to_vec(),
    }))
}

/// Provider media in `domain::attachments`: chunked bytes in redb, signed links for providers
/// that fetch by URL, streamed reads for WhatsApp uploads.
struct StoreBridge {
    store: Store,
    public_url: String,
    retention_ms: i64,
    secret: Vec<u8>,
}

fn to_media_error(e: Error) -> MediaError {
    match e {
        Error::TooLarge(m) => MediaError::Permanent {
            code: "too_large".into(),
            message: m,
        },
        Error::Unavailable(m) | Error::Internal(m) | Error::Storage(m) => {
            MediaError::Transient { reason: m }
        }
        other => MediaError::Permanent {
            code: other.code().into(),
            message: other.public_message(),
        },
    }
}

impl AttachmentBridge for StoreBridge {
    fn store_inbound(
        &self,
        file: InboundFile,
        body: MediaDownload,
    ) -> BoxFuture<'_, Result<StoredFile, MediaError>> {
        Box::pin(async move {
            use futures_util::StreamExt;
            // What a customer sent is kept whatever its type: the size cap was enforced by the
            // download; the type allowlist is for what agents send.
            let new = attachments::NewAttachment {
                name: file.name.clone(),
                scope: attachments::Scope::Channel {
                    channel_id: file.channel_id,
                },
                owner: None,
                policy: attachments::Policy {
                    max_bytes: u64::MAX,
                    allowed: vec!["*".into()],
                    whatsapp_caps: false,
                },
                retention_ms: self.retention_ms,
            };
            let mut up = attachments::AttachmentUpload::begin(&self.store, new)
                .await
                .map_err(to_media_error)?;
            let mut body = std::pin::pin!(body);
            while let Some(item) = body.next().await {
                match item {
                    Ok(bytes) => {
                        if let Err(e) = up.push(bytes).await {
                            up.abort().await;
                            return Err(to_media_error(e));
                        }
                    }
                    Err(e) => {
                        up.abort().await;
                        return Err(e);
                    }
                }
            }
            let a = up.finish().await.map_err(to_media_error)?;
            Ok(StoredFile {
                attachment_id: a.id,
                size: a.size,
                mime: a.content_type,
            })
        })
    }

    fn open(&self, attachment_id: u64) -> BoxFuture<'_, Result<OutboundFile, Error>> {
        Box::pin(async move {
            let a = self
                .store
                .read(move |rtx| attachments::get(rtx, attachment_id))
                .await?
                .ok_or(Error::NotFound("attachment"))?;
            if a.state != attachments::State::Ready {
                return Err(Error::Gone("the file has expired".into()));
            }
            let stream = attachments::read::stream(self.store.clone(), &a, 0..a.size);
            Ok(OutboundFile {
                name: a.name.clone(),
                mime: a.content_type.clone(),
                size: a.size,
                body: reqwest::Body::wrap_stream(stream),
            })
        })
    }

    fn signed_link(&self, attachment_id: u64, expires_at_ms: i64) -> Result<String, Error> {
        Ok(attachments::signed_url(
            &self.public_url,
            &self.secret,
            attachment_id,
            expires_at_ms / 1000,
        ))
    }
}
