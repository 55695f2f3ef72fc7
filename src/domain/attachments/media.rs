//! Provider media in the attachment store ([`MediaStore`]): inbound media the fetcher
//! downloads (`delivery::media_fetch`) and outbound files the delivery worker sends
//! (`delivery::plan`): a WhatsApp upload streams the bytes, Twilio and Messenger fetch a signed,
//! expiring link.

use crate::channels::{MediaDownload, MediaError};
use crate::config::Config;
use crate::domain::attachments;
use crate::error::Error;
use crate::ids::AttachmentId;
use crate::ids::ChannelId;
use crate::store::Store;

/// An inbound file about to be stored.
#[derive(Debug, Clone)]
pub struct InboundFile {
    pub channel_id: ChannelId,
    /// File name to show (provider filename or `image.jpg`-style fallback).
    pub name: String,
}

/// What the attachment store made of an inbound file.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFile {
    pub attachment_id: AttachmentId,
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

/// Provider media in the attachment store: inbound downloads are streamed into chunked bytes
/// in redb, WhatsApp uploads stream them back out, and providers that fetch by URL (Twilio,
/// Messenger) get signed, expiring links under `public_url`.
#[derive(Clone)]
pub struct MediaStore {
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

impl MediaStore {
    /// Inbound files are kept for `[retention] attachments_hours`; `secret` is the install's
    /// link key (`attachments::media_secret`).
    pub fn new(store: &Store, public_url: &str, config: &Config, secret: &[u8]) -> Self {
        MediaStore {
            store: store.clone(),
            public_url: public_url.trim_end_matches('/').to_string(),
            retention_ms: config.retention.attachments_hours as i64 * 3_600_000,
            secret: secret.to_vec(),
        }
    }

    /// Stream an inbound download into the attachment store. The download already enforces
    /// the channel's size limit (it yields `MediaError::TooLarge` past it).
    pub async fn store_inbound(
        &self,
        file: InboundFile,
        body: MediaDownload,
    ) -> Result<StoredFile, MediaError> {
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
                mms: false,
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
    }

    /// Open a stored attachment for uploading to a provider (WhatsApp media upload).
    pub async fn open(&self, attachment_id: AttachmentId) -> Result<OutboundFile, Error> {
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
    }

    /// A signed, expiring public download link under `public_url` (Twilio `MediaUrl`,
    /// Messenger attachment URL).
    pub fn signed_link(
        &self,
        attachment_id: AttachmentId,
        expires_at_ms: i64,
    ) -> Result<String, Error> {
        Ok(attachments::signed_url(
            &self.public_url,
            &self.secret,
            attachment_id,
            expires_at_ms / 1000,
        ))
    }
}
