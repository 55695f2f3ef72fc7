//! Inbound media: after the intake commit, files are downloaded from the provider (WhatsApp
//! media id → URL → bytes; Twilio MediaUrl with Basic auth; Messenger payload URL) with the
//! channel's size limit, stored through the [`MediaStore`], and the message's file entry
//! gets its attachment id (or a readable error). The queue is a table written in the same
//! transaction as the message, so pending downloads survive restarts; transient failures are
//! retried with backoff.

use crate::ids::MessageId;
use std::sync::Arc;
use std::time::Duration;

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::channels::{
    MediaDownload, MediaError, MediaRef, MediaSource, messenger, twilio, whatsapp,
};
use crate::clock::Clock;
use crate::domain::attachments::media::{InboundFile, MediaStore, StoredFile};
use crate::domain::channels::{self, Channel, ChannelKind};
use crate::domain::delivery::plan;
use crate::domain::messages::{self, MessageFile};
use crate::error::Result;
use crate::store::codec::{self, k1};
use crate::store::tables::MEDIA_QUEUE;
use crate::store::{Store, WriteCtx};

const SOURCE_WA: &str = "whatsapp-media:";
const SOURCE_URL: &str = "url:";
/// Download attempts before a file is given up.
pub const MAX_ATTEMPTS: u32 = 8;
const BACKOFF_BASE_MS: i64 = 5_000;
const BACKOFF_CAP_MS: i64 = 15 * 60_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MediaJob {
    pub message_id: MessageId,
    pub attempts: u32,
    pub next_at: i64,
    #[serde(default)]
    pub last_error: Option<String>,
}

pub fn source_string(s: &MediaSource) -> String {
    match s {
        MediaSource::WhatsAppMediaId(id) => format!("{SOURCE_WA}{id}"),
        MediaSource::Url(u) => format!("{SOURCE_URL}{u}"),
    }
}

pub fn parse_source(s: &str) -> Option<MediaSource> {
    if let Some(id) = s.strip_prefix(SOURCE_WA) {
        return Some(MediaSource::WhatsAppMediaId(id.to_string()));
    }
    s.strip_prefix(SOURCE_URL)
        .map(|u| MediaSource::Url(u.to_string()))
}

fn extension(mime: &str) -> &'static str {
    match mime.split(';').next().unwrap_or_default().trim() {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/gif" => ".gif",
        "image/webp" => ".webp",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "audio/aac" => ".aac",
        "audio/amr" => ".amr",
        "video/mp4" => ".mp4",
        "video/3gpp" => ".3gp",
        "application/pdf" => ".pdf",
        "text/plain" => ".txt",
        _ => "",
    }
}

/// The pending file entry for an inbound media reference.
pub fn file_entry(r: &MediaRef) -> MessageFile {
    let mime = r
        .mime
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| "application/octet-stream".into());
    let name = r
        .filename
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("{}{}", r.kind.as_str(), extension(&mime)));
    MessageFile {
        attachment_id: None,
        name: name.chars().take(200).collect(),
        mime,
        size: 0,
        source: Some(source_string(&r.source)),
        error: None,
    }
}

/// Queue the files of a just-stored message for download (same transaction as the message).
pub fn enqueue_in(ctx: &WriteCtx<'_>, message_id: MessageId) -> Result<()> {
    let job = MediaJob {
        message_id,
        attempts: 0,
        next_at: ctx.now,
        last_error: None,
    };
    codec::put(&mut ctx.txn.open_table(MEDIA_QUEUE)?, &k1(message_id), &job)
}

/// Everything still queued (for tests and the admin view).
pub fn pending(rtx: &redb::ReadTransaction) -> Result<Vec<MediaJob>> {
    let t = rtx.open_table(MEDIA_QUEUE)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode(item?.1.value())?);
    }
    Ok(out)
}

enum FileResult {
    Stored(StoredFile),
    Failed(String),
    Retry(String),
}

async fn download(
    client: &reqwest::Client,
    ch: &Channel,
    source: &MediaSource,
) -> std::result::Result<MediaDownload, MediaError> {
    let max = ch.max_file_bytes();
    match (ch.kind, source) {
        (ChannelKind::Whatsapp, MediaSource::WhatsAppMediaId(id)) => {
            whatsapp::fetch_media(client, &plan::whatsapp_cfg(ch), id, max).await
        }
        (ChannelKind::Sms, MediaSource::Url(u)) => {
            twilio::fetch_media(client, &plan::twilio_cfg(ch, ""), u, max).await
        }
        (ChannelKind::Messenger | ChannelKind::Instagram, MediaSource::Url(u)) => {
            messenger::fetch_attachment(client, u, max).await
        }
        _ => Err(MediaError::Permanent {
            code: "bad_source".into(),
            message: "this channel cannot fetch this kind of media reference".into(),
        }),
    }
}

async fn fetch_file(
    client: &reqwest::Client,
    media: &MediaStore,
    ch: &Channel,
    f: &MessageFile,
) -> FileResult {
    let Some(source) = f.source.as_deref().and_then(parse_source) else {
        return FileResult::Failed("the provider's media reference is unreadable".into());
    };
    let classify = |e: MediaError| match e {
        MediaError::TooLarge { limit } => FileResult::Failed(format!(
            "the file is larger than this channel's limit of {} MB",
            limit >> 20
        )),
        MediaError::Permanent { code, message } => {
            FileResult::Failed(format!("could not be downloaded ({code}): {message}"))
        }
        MediaError::Transient { reason } => FileResult::Retry(reason),
    };
    let dl = match download(client, ch, &source).await {
        Ok(d) => d,
        Err(e) => return classify(e),
    };
    let meta = InboundFile {
        channel_id: ch.id,
        name: f.name.clone(),
    };
    match media.store_inbound(meta, dl).await {
        Ok(s) => FileResult::Stored(s),
        Err(e) => classify(e),
    }
}

/// Fetch the files of one queued message and record the results.
async fn fetch_job(
    store: &Store,
    client: &reqwest::Client,
    media: &MediaStore,
    job: MediaJob,
) -> Result<usize> {
    let id = job.message_id;
    let found = store
        .read(move |rtx| {
            let Some(m) = messages::get(rtx, id)? else {
                return Ok(None);
            };
            Ok(channels::get(rtx, m.channel_id)?.map(|c| (m, c)))
        })
        .await?;
    let Some((m, ch)) = found else {
        store
            .write(move |ctx| {
                ctx.txn.open_table(MEDIA_QUEUE)?.remove(k1(id).as_slice())?;
                Ok(())
            })
            .await?;
        return Ok(0);
    };
    let mut results = Vec::new();
    for (i, f) in m.files.iter().enumerate() {
        if f.attachment_id.is_none() && f.error.is_none() && f.source.is_some() {
            let r = fetch_file(client, media, &ch, f).await;
            results.push((i, f.source.clone(), r));
        }
    }
    let results = Arc::new(results);
    let stored = results
        .iter()
        .filter(|(_, _, r)| matches!(r, FileResult::Stored(_)))
        .count();
    store
        .write(move |ctx| record_in(ctx, &job, &results))
        .await?;
    Ok(stored)
}

fn record_in(
    ctx: &mut WriteCtx<'_>,
    job: &MediaJob,
    results: &[(usize, Option<String>, FileResult)],
) -> Result<()> {
    let id = job.message_id;
    let attempts = job.attempts.saturating_add(1);
    let give_up = attempts >= MAX_ATTEMPTS;
    let mut m = messages::get_in(ctx, id)?;
    let mut retry: Option<String> = None;
    for (i, source, r) in results {
        let Some(f) = m.files.get_mut(*i).filter(|f| f.source == *source) else {
            continue;
        };
        match r {
            FileResult::Stored(s) => {
                f.attachment_id = Some(s.attachment_id);
                f.size = s.size;
                f.mime = s.mime.clone();
                f.source = None;
            }
            FileResult::Failed(why) => {
                f.error = Some(why.clone());
                f.source = None;
            }
            FileResult::Retry(why) if give_up => {
                f.error = Some(format!(
                    "could not be downloaded after {attempts} attempts: {why}"
                ));
                f.source = None;
            }
            FileResult::Retry(why) => retry = Some(why.clone()),
        }
    }
    messages::put_in(ctx, &m, false)?;
    let mut q = ctx.txn.open_table(MEDIA_QUEUE)?;
    match retry {
        Some(why) => {
            let wait = BACKOFF_BASE_MS
                .saturating_mul(1i64 << attempts.min(20))
                .min(BACKOFF_CAP_MS);
            let next = MediaJob {
                message_id: id,
                attempts,
                next_at: ctx.now + wait,
                last_error: Some(why),
            };
            codec::put(&mut q, &k1(id), &next)?;
        }
        None => {
            q.remove(k1(id).as_slice())?;
        }
    }
    Ok(())
}

/// Fetch every queued message that is due. Returns how many files were stored.
pub async fn run_due(
    store: &Store,
    clock: &dyn Clock,
    client: &reqwest::Client,
    media: &MediaStore,
) -> Result<usize> {
    let now = clock.now_ms();
    let due: Vec<MediaJob> = store
        .read(move |rtx| {
            Ok(pending(rtx)?
                .into_iter()
                .filter(|j| j.next_at <= now)
                .take(32)
                .collect())
        })
        .await?;
    let mut stored = 0;
    for job in due {
        match fetch_job(store, client, media, job).await {
            Ok(n) => stored += n,
            Err(e) => tracing::warn!(error = %e, "media fetch failed"),
        }
    }
    Ok(stored)
}

/// Start the background fetcher (called once from `server::start`): a pass every second until
/// shutdown.
pub fn start(
    store: Store,
    clock: Arc<dyn Clock>,
    media: MediaStore,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let client = match crate::channels::http_client(Duration::from_secs(300)) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "media fetcher not started");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            if let Err(e) = run_due(&store, clock.as_ref(), &client, &media).await {
                tracing::warn!(error = %e, "media fetch pass failed");
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    });
}
