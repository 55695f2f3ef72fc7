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
///
/// Wire `domain::attachments` in here when the `files` branch merges (it needs the store, the
/// public URL for links and the config for the link secret / expiry).
pub fn installed(
    _store: &Store,
    _public_url: &str,
    _config: &Config,
) -> Option<Arc<dyn AttachmentBridge>> {
    None
}
