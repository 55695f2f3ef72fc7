//! The single writer: group commit.
//!
//! redb admits one write transaction at a time and every durable commit costs an fsync. All
//! writes are therefore sent to one thread that takes whatever is waiting (up to `max_batch`),
//! runs it in ONE `Durability::Immediate` transaction and answers each caller only after that
//! commit returned. Under load many requests share one fsync; no caller is ever told "done"
//! before its data is on disk.
//!
//! A write that fails (a domain error such as a conflict) must leave no trace, but it may have
//! written part of its change already. The writer then aborts the transaction, replays the ops
//! before it (ops are deterministic functions of the state), reports the failure to that caller
//! alone and carries on with the rest of the batch.

use crate::ids::MessageId;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redb::{Database, Durability, ReadableTable, WriteTransaction};

use super::slot::DbSlot;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::codec::{self, k1};
use super::events::{Audience, Event};
use super::health::{Health, panic_text};
use super::tables::{COUNTERS, EVENTS};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::ratelog::RateLimitedLog;

/// What a write op sees: the open transaction, the time, and a place to emit events.
pub struct WriteCtx<'a> {
    pub txn: &'a WriteTransaction,
    /// Unix milliseconds, fixed for the whole batch.
    pub now: i64,
    next_seq: u64,
    events: Vec<Event>,
    /// Search postings written together just before the commit.
    index: crate::search::Pending,
    channels_changed: bool,
}

/// What an event says: its kind (the stream's event name) and its payload. The domain's one
/// event enum (`domain::events::Event`) implements it; the store never builds an event from a
/// kind string.
pub trait EventBody: serde::Serialize {
    fn kind(&self) -> &'static str;
}

impl WriteCtx<'_> {
    /// Make message `msg_id` searchable in `scope`; its postings are written with the rest of
    /// the batch's just before the commit (same transaction, so just as durable).
    pub fn index_later(&mut self, scope: crate::search::Scope, msg_id: MessageId, text: &str) {
        self.index.push(scope, msg_id.get(), text);
    }

    /// Writes the postings queued by [`index_later`](Self::index_later) now; whoever removes
    /// postings in the same transaction calls this first so nothing queued is re-added later.
    pub fn flush_index(&mut self) -> Result<()> {
        self.index.flush(self.txn)?;
        Ok(())
    }

    /// Note that a channel's configuration changed: readers' channel caches are invalidated
    /// once this transaction is committed.
    pub fn channels_changed(&mut self) {
        self.channels_changed = true;
    }

    /// Record an event in this transaction; it is broadcast after the commit.
    pub fn emit(&mut self, audience: Audience, body: &impl EventBody) -> Result<()> {
        let data = serde_json::to_value(body)
            .map_err(|e| crate::error::Error::Internal(format!("event {}: {e}", body.kind())))?;
        let ev = Event {
            seq: self.next_seq,
            at: self.now,
            kind: body.kind().to_string(),
            audience,
            data,
        };
        let mut t = self.txn.open_table(EVENTS)?;
        codec::put(&mut t, &k1(ev.seq), &ev)?;
        self.next_seq += 1;
        self.events.push(ev);
        Ok(())
    }

    /// Next id of a named counter (ids start at 1).
    pub fn next_id(&self, counter: &str) -> Result<u64> {
        let mut t = self.txn.open_table(COUNTERS)?;
        let cur = match t.get(counter.as_bytes())? {
            Some(v) => codec::u64_at(v.value(), 0)?,
            None => 0,
        };
        let next = cur + 1;
        t.insert(counter.as_bytes(), next.to_be_bytes().as_slice())?;
        Ok(next)
    }
}

trait Op: Send {
    fn run(&mut self, ctx: &mut WriteCtx<'_>) -> Result<()>;
    fn finish(self: Box<Self>, outcome: Result<()>);
}

struct TypedOp<T, F> {
    f: F,
    out: Option<T>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Op for TypedOp<T, F>
where
    T: Send + 'static,
    F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
{
    fn run(&mut self, ctx: &mut WriteCtx<'_>) -> Result<()> {
        self.out = Some((self.f)(ctx)?);
        Ok(())
    }
    fn finish(self: Box<Self>, outcome: Result<()>) {
        let result = match (outcome, self.out) {
            (Ok(()), Some(v)) => Ok(v),
            (Ok(()), None) => Err(Error::Internal("write op produced no result".into())),
            (Err(e), _) => Err(e),
        };
        let _ = self.reply.send(result);
    }
}

/// Counters the tests and `/metrics` read.
#[derive(Default)]
pub struct WriterStats {
    pub commits: AtomicU64,
    pub ops: AtomicU64,
    pub largest_batch: AtomicU64,
    pub queued: AtomicU64,
    pub commit_micros_total: AtomicU64,
    /// Bumped after every commit that changed a channel (see [`WriteCtx::channels_changed`]).
    pub channels_generation: AtomicU64,
}

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Box<dyn Op>>,
    pub stats: Arc<WriterStats>,
}

impl WriterHandle {
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let op: Box<dyn Op> = Box::new(TypedOp {
            f,
            out: None,
            reply,
        });
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        self.tx
            .send(op)
            .await
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?;
        rx.await
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?
    }

    /// The same as [`write`](Self::write) for callers outside the async runtime (CLI).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let op: Box<dyn Op> = Box::new(TypedOp {
            f,
            out: None,
            reply,
        });
        self.stats.queued.fetch_add(1, Ordering::Relaxed);
        self.tx
            .blocking_send(op)
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?;
        rx.blocking_recv()
            .map_err(|_| Error::Unavailable("the store is shutting down".into()))?
    }
}

/// What the writer needs to know besides the database.
pub struct Limits {
    pub max_batch: usize,
    /// Refuse writes while the data directory's file system has less free space (0 = never).
    pub min_free_bytes: u64,
    /// The data directory (where free space is probed).
    pub dir: PathBuf,
}

pub fn spawn(
    db: Arc<DbSlot>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<Arc<Event>>,
    first_seq: u64,
    limits: Limits,
    health: Arc<Health>,
) -> Result<(WriterHandle, std::thread::JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel::<Box<dyn Op>>(8192);
    let stats = Arc::new(WriterStats::default());
    let st = stats.clone();
    let mut w = Writer {
        slot: db,
        clock,
        events,
        next_seq: first_seq,
        limits,
        health,
        stats: st,
        needs_reopen: false,
        last_reopen: None,
        refused_log: RateLimitedLog::new(Duration::from_secs(60)),
        failed_log: RateLimitedLog::new(Duration::from_secs(60)),
    };
    let join = std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || w.run(rx))
        .map_err(Error::internal)?;
    Ok((WriterHandle { tx, stats }, join))
}

/// After a storage failure, reopening (which repairs the file) is tried at most this often.
const REOPEN_EVERY: Duration = Duration::from_secs(5);

struct Writer {
    slot: Arc<DbSlot>,
    clock: Arc<dyn Clock>,
    events: broadcast::Sender<Arc<Event>>,
    next_seq: u64,
    limits: Limits,
    health: Arc<Health>,
    stats: Arc<WriterStats>,
    /// A commit failed (redb latched): reopen before the next commit.
    needs_reopen: bool,
    last_reopen: Option<Instant>,
    refused_log: RateLimitedLog,
    failed_log: RateLimitedLog,
}

impl Writer {
    fn run(&mut self, mut rx: mpsc::Receiver<Box<dyn Op>>) {
        let max_batch = self.limits.max_batch.max(1);
        let mut batch: Vec<Box<dyn Op>> = Vec::with_capacity(max_batch);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(op) => batch.push(op),
                    Err(_) => break,
                }
            }
            self.stats
                .queued
                .fetch_sub(batch.len() as u64, Ordering::Relaxed);
            let started = Instant::now();
            let n = batch.len();
            let (outcomes, published, channels_changed) = match self.refusal() {
                Some(e) => (
                    batch.iter().map(|_| Err(e.clone())).collect(),
                    Vec::new(),
                    false,
                ),
                None => self.commit(&mut batch),
            };
            if channels_changed {
                // Before anyone is told "done", so a caller's next read cannot hit a stale cache.
                self.stats
                    .channels_generation
                    .fetch_add(1, Ordering::AcqRel);
            }
            let micros = started.elapsed().as_micros() as u64;
            let stats = &self.stats;
            stats.commits.fetch_add(1, Ordering::Relaxed);
            stats.ops.fetch_add(n as u64, Ordering::Relaxed);
            stats.largest_batch.fetch_max(n as u64, Ordering::Relaxed);
            stats
                .commit_micros_total
                .fetch_add(micros, Ordering::Relaxed);
            metrics::histogram!("store_batch_size").record(n as f64);
            metrics::histogram!("store_commit_seconds").record(micros as f64 / 1e6);
            for (op, outcome) in batch.drain(..).zip(outcomes) {
                op.finish(outcome);
            }
            for ev in published {
                let _ = self.events.send(Arc::new(ev));
            }
        }
    }

    /// Why this batch must not even be tried: the disk is (still) full, or the database is
    /// waiting to be reopened after a failure and it is not time to try again. Refusing here
    /// touches neither the file nor the readers.
    fn refusal(&mut self) -> Option<Error> {
        if self.needs_reopen {
            if self.last_reopen.is_some_and(|t| t.elapsed() < REOPEN_EVERY) {
                return Some(Error::Unavailable(
                    "storage failed; recovery is retried shortly".into(),
                ));
            }
            self.last_reopen = Some(Instant::now());
            match self.slot.reopen() {
                Ok(()) => self.needs_reopen = false,
                Err(e) => {
                    tracing::error!(error = %e, "database reopen failed; retrying in 5 s");
                    return Some(e);
                }
            }
        }
        if self.limits.min_free_bytes == 0 {
            return None;
        }
        let Ok(st) = rustix::fs::statvfs(&self.limits.dir) else {
            return None;
        };
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if self.health.set_space(free, self.limits.min_free_bytes) {
            if self.health.is_disk_full() {
                tracing::error!(
                    free_mib = free >> 20,
                    reserve_mib = self.limits.min_free_bytes >> 20,
                    dir = %self.limits.dir.display(),
                    "disk full: refusing writes (503) until space is freed; reads go on"
                );
            } else {
                self.refused_log.reset();
                tracing::warn!(
                    free_mib = free >> 20,
                    "disk space freed: writes accepted again"
                );
            }
        }
        if !self.health.is_disk_full() {
            return None;
        }
        if let Some(n) = self.refused_log.hit() {
            tracing::warn!(
                refused = n,
                free_mib = free >> 20,
                "disk full: writes refused"
            );
        }
        Some(Error::Unavailable(format!(
            "the disk is full ({} MiB free); writes are refused until space is freed",
            free >> 20
        )))
    }

    /// Runs the batch in one transaction; a storage failure or a panic inside redb fails the
    /// batch and schedules a reopen (redb latches after an I/O error).
    fn commit(&mut self, batch: &mut [Box<dyn Op>]) -> (Vec<Result<()>>, Vec<Event>, bool) {
        let db = match self.slot.get() {
            Ok(db) => db,
            Err(e) => {
                return (
                    batch.iter().map(|_| Err(e.clone())).collect(),
                    Vec::new(),
                    false,
                );
            }
        };
        let now = self.clock.now_ms();
        let mut next_seq = self.next_seq;
        let r = catch_unwind(AssertUnwindSafe(|| {
            commit_batch(&db, now, &mut next_seq, batch)
        }));
        drop(db);
        let (outcomes, events, storage_failed, channels_changed) = match r {
            Ok(r) => r,
            Err(p) => {
                let e = Error::Storage(format!(
                    "a write panicked inside the storage engine: {}",
                    panic_text(p.as_ref())
                ));
                self.health.damaged(&e.to_string());
                (
                    batch.iter().map(|_| Err(e.clone())).collect(),
                    Vec::new(),
                    true,
                    false,
                )
            }
        };
        self.next_seq = next_seq;
        if storage_failed {
            if let Some(n) = self.failed_log.hit() {
                tracing::error!(
                    failed_batches = n,
                    "store commit failed; reopening the database"
                );
            }
            // Reopen now so readers get the file back; while the disk stays full the probe then
            // refuses writes without touching the file.
            self.needs_reopen = true;
            self.last_reopen = Some(Instant::now());
            match self.slot.reopen() {
                Ok(()) => self.needs_reopen = false,
                Err(e) => tracing::error!(error = %e, "database reopen failed; retrying in 5 s"),
            }
        }
        (outcomes, events, channels_changed)
    }
}

/// Runs the batch in one transaction. Returns each op's outcome, the events to publish,
/// whether the storage failed (so the database must be reopened) and whether a channel
/// changed.
fn commit_batch(
    db: &Database,
    now: i64,
    next_seq: &mut u64,
    batch: &mut [Box<dyn Op>],
) -> (Vec<Result<()>>, Vec<Event>, bool, bool) {
    let mut failed: Vec<Option<Error>> = vec![None; batch.len()];
    // Each failure restarts the transaction without the failed op; bounded by the batch size.
    loop {
        match try_batch(db, now, *next_seq, batch, &failed) {
            Ok(done) => {
                *next_seq = done.next_seq;
                let outcomes = failed.into_iter().map(|f| f.map_or(Ok(()), Err)).collect();
                return (outcomes, done.events, false, done.channels_changed);
            }
            Err(Attempt::OpFailed(i, e)) => failed[i] = Some(e),
            Err(Attempt::Store(e)) => {
                tracing::debug!(error = %e, ops = batch.len(), "store commit failed");
                let outcomes = failed
                    .into_iter()
                    .map(|f| Err(f.unwrap_or_else(|| e.clone())))
                    .collect();
                return (outcomes, Vec::new(), true, false);
            }
        }
    }
}

enum Attempt {
    OpFailed(usize, Error),
    Store(Error),
}

struct Committed {
    next_seq: u64,
    events: Vec<Event>,
    channels_changed: bool,
}

fn try_batch(
    db: &Database,
    now: i64,
    first_seq: u64,
    batch: &mut [Box<dyn Op>],
    failed: &[Option<Error>],
) -> std::result::Result<Committed, Attempt> {
    let mut txn = db.begin_write().map_err(|e| Attempt::Store(e.into()))?;
    txn.set_durability(Durability::Immediate)
        .map_err(|e| Attempt::Store(Error::internal(e)))?;
    let done = {
        let mut ctx = WriteCtx {
            txn: &txn,
            now,
            next_seq: first_seq,
            events: Vec::new(),
            index: Default::default(),
            channels_changed: false,
        };
        for (i, op) in batch.iter_mut().enumerate() {
            if failed[i].is_some() {
                continue;
            }
            if let Err(e) = op.run(&mut ctx) {
                // Storage trouble fails the whole batch; a domain error only this op.
                if matches!(e, Error::Unavailable(_) | Error::Storage(_)) {
                    return Err(Attempt::Store(e));
                }
                return Err(Attempt::OpFailed(i, e));
            }
        }
        // Postings are derived data of ops that already succeeded: a failure here is storage
        // trouble, not any one op's fault.
        ctx.flush_index().map_err(Attempt::Store)?;
        Committed {
            next_seq: ctx.next_seq,
            events: ctx.events,
            channels_changed: ctx.channels_changed,
        }
    };
    txn.commit().map_err(|e| Attempt::Store(e.into()))?;
    Ok(done)
}
