//! The outbound delivery worker: takes due outbox items, sends them, records the outcome.
//!
//! Never twice: an item is *claimed* in a durable write (`in_flight_since` set, removed from
//! the due index) BEFORE the provider is called, and the outcome is recorded after. Two passes
//! (the worker and the `outbound-retry` job) cannot claim the same item, because claims go
//! through the single writer. An item still in flight when the server starts was interrupted
//! between send and record: it becomes `unknown` (the agent may retry), never resent silently.
//! None of the three providers offers an idempotency key for sends (Twilio's
//! `I-Twilio-Idempotency-Token` is for webhooks only; the WhatsApp Cloud API and the Send API
//! have none), so this record-before-send discipline is the whole guarantee.
//!
//! Outcomes: accepted → provider id recorded (receipts find the message), `sent`; transient
//! (network, 5xx, 429) → rescheduled with exponential backoff honouring `Retry-After`; permanent
//! → `failed` with the provider's code and text; ambiguous (the request may have arrived) →
//! `unknown`. Sends per channel are bounded by [`PER_CHANNEL`].
//!
//! Order: one conversation's replies leave in the order they were written. Only the oldest
//! outbox row of a session is ever claimed ([`outbox::ready`]), so while it is in flight or
//! waiting out a backoff, the later replies of that session wait behind it; other sessions (on
//! the same channel too) send in parallel. A reply that failed for good (or went `unknown`)
//! leaves the queue, and the next one goes; an agent's retry puts it back in its original place
//! (by message id), ahead of later replies of that conversation not yet sent.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub(crate) mod kick;
pub mod media_fetch;
pub mod plan;
pub mod signals;

pub use kick::Kick;

use super::attachments::media::MediaStore;
use super::channels::health;
use super::channels::{self, Channel};
use super::messages::{self, Message, OutboxItem, Status, outbox, receipts};
use super::{contacts, sessions};
use crate::channels::SendError;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::store::{Store, WriteCtx};
use plan::SendCtx;

/// Concurrent sends per channel.
pub const PER_CHANNEL: usize = 4;
/// Items claimed per pass.
const BATCH: usize = 64;
/// Transient failures before a message is given up as failed.
pub const MAX_ATTEMPTS: u32 = 25;
const BACKOFF_BASE_MS: i64 = 2_000;
pub const BACKOFF_CAP_MS: i64 = 15 * 60_000;
/// How long a send may still finish after shutdown began.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Provider request timeout.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Delay before attempt `attempts + 1` (attempts ≥ 1 already made).
pub fn backoff_ms(attempts: u32, retry_after: Option<Duration>) -> i64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1i64 << attempts.saturating_sub(1).min(20));
    let wait = exp.min(BACKOFF_CAP_MS);
    let asked = retry_after.map_or(0, |d| d.as_millis().min(i64::MAX as u128) as i64);
    wait.max(asked.min(BACKOFF_CAP_MS))
}

/// What happened to one claimed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    Retrying,
    Failed,
    Unknown,
    /// Shutdown came first; the item stays in flight and becomes `unknown` at the next start.
    Abandoned,
}

struct Job {
    item: OutboxItem,
    message: Message,
    channel: Channel,
    to: String,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    client: reqwest::Client,
    public_url: String,
    media: MediaStore,
    shutdown: CancellationToken,
    wake: Option<Kick>,
    permits: Mutex<HashMap<ChannelId, Arc<Semaphore>>>,
}

#[derive(Clone)]
pub struct Deliverer(Arc<Inner>);

/// One pass: the sends it started and when the next item is due.
pub struct Pass {
    pub sends: Vec<JoinHandle<Outcome>>,
    pub next_due: Option<i64>,
}

impl Deliverer {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        public_url: String,
        media: MediaStore,
        shutdown: CancellationToken,
        wake: Option<Kick>,
    ) -> Result<Self> {
        let client = crate::channels::http_client(SEND_TIMEOUT).map_err(Error::internal)?;
        Ok(Deliverer(Arc::new(Inner {
            store,
            clock,
            client,
            public_url,
            media,
            shutdown,
            wake,
            permits: Mutex::new(HashMap::new()),
        })))
    }

    fn permit(&self, channel_id: ChannelId) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let sem = {
            let mut map = self.0.permits.lock().ok()?;
            map.entry(channel_id)
                .or_insert_with(|| Arc::new(Semaphore::new(PER_CHANNEL)))
                .clone()
        };
        sem.try_acquire_owned().ok()
    }

    /// Claim what is due (as far as channel permits allow) and start sending it.
    pub async fn pass(&self) -> Result<Pass> {
        let now = self.0.clock.now_ms();
        let (due, next_due) = self
            .0
            .store
            .read(move |rtx| {
                let ready = outbox::ready(rtx, now, BATCH)?;
                let mut with_channel = Vec::with_capacity(ready.items.len());
                for it in ready.items {
                    let ch = messages::get(rtx, it.message_id)?.map(|m| m.channel_id);
                    with_channel.push((it.message_id, ch.unwrap_or_default()));
                }
                Ok((with_channel, ready.next_due))
            })
            .await?;
        let mut wanted = Vec::new();
        let mut permits = HashMap::new();
        for (id, ch) in due {
            if let Some(p) = self.permit(ch) {
                wanted.push(id);
                permits.insert(id, p);
            }
        }
        if wanted.is_empty() {
            return Ok(Pass {
                sends: Vec::new(),
                next_due,
            });
        }
        let jobs = self
            .0
            .store
            .write(move |ctx| claim_in(ctx, &wanted))
            .await?;
        let mut sends = Vec::with_capacity(jobs.len());
        for job in jobs {
            let permit = permits.remove(&job.item.message_id);
            let me = self.clone();
            sends.push(tokio::spawn(async move {
                let outcome = me.deliver(job).await;
                drop(permit);
                if let Some(w) = &me.0.wake {
                    w.kick();
                }
                outcome
            }));
        }
        Ok(Pass { sends, next_due })
    }

    async fn deliver(&self, job: Job) -> Outcome {
        let parts = plan::plan(job.channel.kind, &job.message);
        let mut done = job.item.parts_done as usize;
        let id = job.message.id;
        let ch_id = job.channel.id;
        while let Some(part) = parts.get(done) {
            let cx = SendCtx {
                client: &self.0.client,
                public_url: &self.0.public_url,
                media: &self.0.media,
                now_ms: self.0.clock.now_ms(),
            };
            let send = plan::send_part(&cx, &job.channel, &job.to, &job.message, part);
            let grace = async {
                self.0.shutdown.cancelled().await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            };
            let result = tokio::select! {
                r = send => r,
                _ = grace => {
                    tracing::warn!(message = %id, "shutdown during a send; its outcome will be unknown");
                    return Outcome::Abandoned;
                }
            };
            done += 1;
            let last = done == parts.len();
            let recorded = match result {
                Ok(ok) => {
                    let pid = ok.provider_id;
                    self.record(move |ctx| part_sent_in(ctx, id, ch_id, &pid, done as u32, last))
                        .await
                        .map(|_| {
                            if last {
                                Outcome::Sent
                            } else {
                                Outcome::Retrying
                            }
                        })
                }
                Err(e) => {
                    let attempts = job.item.attempts;
                    tracing::info!(message = %id, channel = %ch_id, error = %e, "send failed");
                    return self
                        .record(move |ctx| failure_in(ctx, id, ch_id, &e, attempts))
                        .await
                        .unwrap_or(Outcome::Abandoned);
                }
            };
            match recorded {
                Ok(Outcome::Sent) => return Outcome::Sent,
                Ok(_) => continue,
                Err(_) => return Outcome::Abandoned,
            }
        }
        Outcome::Sent
    }

    /// Record an outcome; retried a few times because the send already happened.
    async fn record<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + Clone + 'static,
    {
        let mut last = Error::Internal("not attempted".into());
        for i in 0..5u64 {
            match self.0.store.write(f.clone()).await {
                Ok(v) => return Ok(v),
                Err(e) => {
                    tracing::error!(error = %e, "could not record a send outcome; retrying");
                    last = e;
                    tokio::time::sleep(Duration::from_millis(200 * (i + 1))).await;
                }
            }
        }
        Err(last)
    }
}

fn claim_in(ctx: &mut WriteCtx<'_>, ids: &[MessageId]) -> Result<Vec<Job>> {
    let mut jobs = Vec::new();
    for &id in ids {
        let Some(item) = outbox::item_in(ctx, id)? else {
            continue;
        };
        if item.in_flight_since.is_some() || item.next_at > ctx.now {
            continue;
        }
        let mut m = match messages::get_in(ctx, id) {
            Ok(m) => m,
            Err(Error::NotFound(_)) => {
                messages::outbox::unschedule_in(ctx, id)?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let channel = match channels::get_in(ctx, m.channel_id) {
            Ok(c) => c,
            Err(Error::NotFound(_)) => {
                messages::outbox::unschedule_in(ctx, id)?;
                messages::receipts::set_status_in(
                    ctx,
                    &mut m,
                    Status::Failed,
                    Some("the channel was deleted before the message could be sent".into()),
                )?;
                continue;
            }
            Err(e) => return Err(e),
        };
        let session = sessions::get_in(ctx, m.session_id)?;
        let to = contacts::get_in(ctx, session.contact_id)?.address;
        let item = outbox::claim_in(ctx, item)?;
        jobs.push(Job {
            item,
            message: m,
            channel,
            to,
        });
    }
    Ok(jobs)
}

fn part_sent_in(
    ctx: &mut WriteCtx<'_>,
    id: MessageId,
    channel_id: ChannelId,
    provider_id: &str,
    parts_done: u32,
    last: bool,
) -> Result<()> {
    let mut m = messages::get_in(ctx, id)?;
    if !provider_id.is_empty() {
        receipts::record_provider_id_in(ctx, channel_id, provider_id, id)?;
        if m.provider_id.is_none() {
            m.provider_id = Some(provider_id.to_string());
        }
    }
    m.provider_at = Some(ctx.now);
    health::send_ok_in(ctx, channel_id)?;
    if !last {
        outbox::set_parts_done_in(ctx, id, parts_done)?;
        return messages::put_in(ctx, &m, false);
    }
    messages::outbox::unschedule_in(ctx, id)?;
    if m.status == Status::Queued {
        m.status = Status::Sent;
    }
    messages::put_in(ctx, &m, false)
}

fn failure_in(
    ctx: &mut WriteCtx<'_>,
    id: MessageId,
    channel_id: ChannelId,
    e: &SendError,
    attempts: u32,
) -> Result<Outcome> {
    health::send_error_in(ctx, channel_id, &e.to_string())?;
    let mut m = messages::get_in(ctx, id)?;
    match e {
        SendError::Transient {
            reason,
            retry_after,
        } if attempts < MAX_ATTEMPTS => {
            let next_at = ctx.now + backoff_ms(attempts, *retry_after);
            outbox::retry_at_in(ctx, id, next_at, reason)?;
            // The agent sees it: "retrying (attempt n, next at …)" with the provider's reason.
            if m.status == Status::Queued {
                m.error = Some(reason.clone());
                m.retry = Some(messages::Retrying {
                    attempt: attempts,
                    next_at,
                });
                messages::put_in(ctx, &m, false)?;
            }
            Ok(Outcome::Retrying)
        }
        SendError::Transient { reason, .. } => {
            messages::outbox::unschedule_in(ctx, id)?;
            let why = format!("gave up after {attempts} attempts: {reason}");
            messages::receipts::set_status_in(ctx, &mut m, Status::Failed, Some(why))?;
            Ok(Outcome::Failed)
        }
        SendError::Permanent { code, message } => {
            messages::outbox::unschedule_in(ctx, id)?;
            let why = format!("{message} (provider code {code})");
            messages::receipts::set_status_in(ctx, &mut m, Status::Failed, Some(why))?;
            Ok(Outcome::Failed)
        }
        SendError::Ambiguous { reason } => {
            messages::outbox::unschedule_in(ctx, id)?;
            mark_unknown_in(
                ctx,
                &mut m,
                &format!(
                    "the provider did not confirm the send ({reason}); it may have arrived. Check with the customer, or retry"
                ),
            )?;
            Ok(Outcome::Unknown)
        }
    }
}

fn mark_unknown_in(ctx: &mut WriteCtx<'_>, m: &mut Message, why: &str) -> Result<()> {
    if m.status != Status::Queued {
        return Ok(());
    }
    m.status = Status::Unknown;
    m.error = Some(why.to_string());
    m.retry = None;
    messages::put_in(ctx, m, false)
}

/// At start-up: items left in flight by a crash become `unknown` (never resent silently).
pub async fn recover_in_flight(store: &Store) -> Result<usize> {
    store
        .write(|ctx| {
            let stuck = outbox::in_flight_in(ctx)?;
            for id in &stuck {
                messages::outbox::unschedule_in(ctx, *id)?;
                if let Ok(mut m) = messages::get_in(ctx, *id) {
                    mark_unknown_in(
                        ctx,
                        &mut m,
                        "the server stopped while this message was being sent; it may or may not have arrived. Check with the customer, or retry",
                    )?;
                }
            }
            Ok(stuck.len())
        })
        .await
}

/// Start the delivery worker (called once from `server::start`): recover interrupted sends,
/// then loop: a pass, then wait for a `kick`, the next due time (at most 1 s, so a moved test
/// clock is noticed), or shutdown.
pub async fn start(
    store: Store,
    clock: Arc<dyn Clock>,
    public_url: String,
    media: MediaStore,
    kick: Kick,
    shutdown: CancellationToken,
) {
    match recover_in_flight(&store).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            messages = n,
            "sends interrupted by the last shutdown are marked unknown"
        ),
        Err(e) => tracing::error!(error = %e, "could not recover interrupted sends"),
    }
    let d = match Deliverer::new(
        store,
        clock.clone(),
        public_url,
        media,
        shutdown.clone(),
        Some(kick.clone()),
    ) {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "delivery worker not started");
            return;
        }
    };
    tokio::spawn(async move {
        loop {
            let next = match d.pass().await {
                Ok(p) => p.next_due,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery pass failed");
                    None
                }
            };
            let wait = next.map_or(1000, |t| (t - clock.now_ms()).clamp(50, 1000));
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = kick.kicked() => {}
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_honours_retry_after() {
        assert_eq!(backoff_ms(1, None), 2_000);
        assert_eq!(backoff_ms(2, None), 4_000);
        assert_eq!(backoff_ms(30, None), BACKOFF_CAP_MS);
        assert_eq!(backoff_ms(1, Some(Duration::from_secs(30))), 30_000);
        assert_eq!(
            backoff_ms(1, Some(Duration::from_secs(100_000))),
            BACKOFF_CAP_MS
        );
    }
}
