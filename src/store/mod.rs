//! The store: one redb file, one writer thread (group commit), many readers.
//!
//! `Store::write` sends a closure to the writer and resolves once the batch holding it is
//! durably committed. `Store::read` runs a closure on a read transaction on the blocking pool,
//! never on the async runtime's worker threads.

pub mod check;
pub mod codec;
pub(crate) mod events;
pub mod health;
pub(crate) mod migrations;
pub(crate) mod slot;
pub mod tables;
pub(crate) mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle};

use check::guarded;
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::{Error, Result};
pub use check::{CheckReport, check_offline, compact_offline};
pub use events::{Audience, Event};
pub use health::Health;
pub use writer::{EventBody, WriteCtx, WriterStats};

#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    slot: Arc<slot::DbSlot>,
    path: PathBuf,
    /// Taken on drop so the writer thread sees its queue close, then joined: when the last
    /// `Store` is gone the database file is closed and its lock released.
    writer: Option<writer::WriterHandle>,
    join: Option<std::thread::JoinHandle<()>>,
    events: broadcast::Sender<Arc<Event>>,
    health: Arc<Health>,
}

/// How to open the store.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// redb page cache, MiB.
    pub cache_mb: u64,
    /// Most writes folded into one durable transaction.
    pub max_batch: usize,
    /// Verify the checksum of every page before serving (redb's integrity check).
    pub verify: bool,
    /// Writes are refused (503) while the file system has less free space than this.
    pub min_free_mb: u64,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            cache_mb: 8,
            max_batch: 1024,
            verify: false,
            min_free_mb: 64,
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.take();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

impl Store {
    /// Open (or create) the database at `path`, migrate it and start the writer.
    pub fn open(
        path: &Path,
        cache_mb: u64,
        max_batch: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        Self::open_with(
            path,
            &OpenOptions {
                cache_mb,
                max_batch,
                ..Default::default()
            },
            clock,
        )
    }

    /// [`open`](Self::open) with every option. A file that exists but is empty, fails the
    /// integrity check (`verify`) or makes redb panic is refused with a message naming the
    /// file, the cause and the way back (`switchboard restore`).
    pub fn open_with(path: &Path, opts: &OpenOptions, clock: Arc<dyn Clock>) -> Result<Self> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::Unavailable(format!(
                    "cannot create data directory {}: {e}",
                    dir.display()
                ))
            })?;
        }
        if std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
            return Err(Error::Unavailable(format!(
                "{shown} is empty (0 bytes): it holds no database, and Switchboard will not start \
                 a new one in its place. Restore a backup (`switchboard restore --latest`), or \
                 delete the file to start with an empty database."
            )));
        }
        let cache_bytes = (opts.cache_mb as usize) << 20;
        let started = std::time::Instant::now();
        let db = guarded("opening the database", || {
            Database::builder()
                .set_cache_size(cache_bytes)
                .set_check_integrity_on_open(opts.verify)
                .create(path)
                .map_err(|e| open_error(&shown, e))
        })
        .map_err(|e| damaged_file(&shown, e))?;
        if opts.verify {
            tracing::info!(
                file = %shown,
                millis = started.elapsed().as_millis() as u64,
                "integrity check passed"
            );
        }
        migrations::migrate(&db, &shown)?;
        let last = {
            let rtx = db.begin_read()?;
            events::last_seq(&rtx)?
        };
        let slot = Arc::new(slot::DbSlot::new(path, cache_bytes, db));
        let (events_tx, _) = broadcast::channel(4096);
        let health = Arc::new(Health::default());
        let (writer, join) = writer::spawn(
            slot.clone(),
            clock,
            events_tx.clone(),
            last + 1,
            writer::Limits {
                max_batch: opts.max_batch,
                min_free_bytes: opts.min_free_mb << 20,
                dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            },
            health.clone(),
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                slot,
                path: path.to_path_buf(),
                writer: Some(writer),
                join: Some(join),
                events: events_tx,
                health,
            }),
        })
    }

    /// Full disk, damage seen: what `/healthz` reports.
    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    fn writer(&self) -> Result<&writer::WriterHandle> {
        self.inner
            .writer
            .as_ref()
            .ok_or_else(|| Error::Unavailable("the store is closed".into()))
    }

    /// How many handles to this store exist (shutdown waits for 1).
    pub fn handles(&self) -> usize {
        Arc::strong_count(&self.inner)
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Run `f` in the next group commit; resolves after the commit is durable.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        self.writer()?.write(f).await
    }

    /// For synchronous callers (CLI, tests outside a runtime).
    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&mut WriteCtx<'_>) -> Result<T> + Send + 'static,
    {
        self.writer()?.write_blocking(f)
    }

    /// Run `f` on a read snapshot, off the async runtime.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&ReadTransaction) -> Result<T> + Send + 'static,
    {
        let slot = self.inner.slot.clone();
        let result = tokio::task::spawn_blocking(move || {
            let rtx = slot.get()?.begin_read()?;
            f(&rtx)
        })
        .await;
        // A damaged page can make redb panic: that read fails, the server carries on.
        let result = match result {
            Ok(r) => r,
            Err(e) if e.is_panic() => Err(Error::Storage(format!(
                "a read panicked inside the storage engine: {}",
                health::panic_text(e.into_panic().as_ref())
            ))),
            Err(e) => Err(Error::Internal(format!("read task: {e}"))),
        };
        if let Err(e) = &result
            && health::is_damage(e)
        {
            self.inner.health.damaged(&e.to_string());
        }
        result
    }

    pub fn read_blocking<T>(&self, f: impl FnOnce(&ReadTransaction) -> Result<T>) -> Result<T> {
        let result = guarded("a read", || {
            let rtx = self.inner.slot.get()?.begin_read()?;
            f(&rtx)
        });
        if let Err(e) = &result
            && health::is_damage(e)
        {
            self.inner.health.damaged(&e.to_string());
        }
        result
    }

    /// A per-install random secret (32 bytes) kept in `META` under `name`, made on first use
    /// (e.g. the key of signed media links).
    pub async fn install_secret(&self, name: &'static [u8]) -> Result<Vec<u8>> {
        let found = self
            .read(move |rtx| {
                Ok(rtx
                    .open_table(tables::META)?
                    .get(name)?
                    .map(|v| v.value().to_vec()))
            })
            .await?;
        if let Some(s) = found {
            return Ok(s);
        }
        let mut fresh = vec![0u8; 32];
        getrandom::fill(&mut fresh).map_err(Error::internal)?;
        self.write(move |ctx| {
            let mut t = ctx.txn.open_table(tables::META)?;
            if let Some(v) = t.get(name)? {
                return Ok(v.value().to_vec());
            }
            t.insert(name, fresh.as_slice())?;
            Ok(fresh.clone())
        })
        .await
    }

    /// Broadcast an event that is NOT written to the log (sequence number 0): for signals that
    /// are worthless a moment later, such as "is typing". Live streams deliver it to its
    /// audience without an `id:`, so it neither moves `Last-Event-ID` nor is replayed; it costs
    /// no write and no fsync.
    pub fn publish_ephemeral(
        &self,
        audience: Audience,
        kind: &str,
        at: i64,
        data: serde_json::Value,
    ) {
        let _ = self.inner.events.send(Arc::new(Event {
            seq: 0,
            at,
            kind: kind.to_string(),
            audience,
            data,
        }));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.inner.events.subscribe()
    }

    /// Changes whenever a committed write changed a channel (see `WriteCtx::channels_changed`).
    pub fn channels_generation(&self) -> u64 {
        self.inner
            .writer
            .as_ref()
            .map(|w| w.stats.channels_generation.load(Ordering::Acquire))
            .unwrap_or_default()
    }

    pub fn stats(&self) -> Arc<WriterStats> {
        self.inner
            .writer
            .as_ref()
            .map(|w| w.stats.clone())
            .unwrap_or_default()
    }

    /// A consistent copy of every table into a new database file at `dest` (must not exist),
    /// taken from one read snapshot while the server keeps running.
    ///
    /// The copy runs on its own thread at the lowest CPU priority (nice 19), so webhooks and
    /// pages keep their share of the cores, and it commits every [`BACKUP_CHUNK`] bytes: the
    /// disk takes the copy in steady slices instead of one flush of the whole file at the end,
    /// which stalled the writer's own commits behind it (`benches/backup.rs`). A copy that
    /// fails midway leaves only `<dest>.partial`, removed on the next try.
    pub fn backup_to(&self, dest: &Path) -> Result<u64> {
        if dest.exists() {
            return Err(Error::Conflict(format!(
                "{} already exists",
                dest.display()
            )));
        }
        let tmp = dest.with_extension("partial");
        let _ = std::fs::remove_file(&tmp);
        let rtx = self.inner.slot.get()?.begin_read()?;
        let rows = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("backup".into())
                .spawn_scoped(scope, || {
                    // Linux: the calling thread's nice value only; the thread ends with the copy.
                    let _ = rustix::process::setpriority_process(None, 19);
                    copy_tables(&rtx, &tmp, BACKUP_CHUNK)
                })
                .map_err(|e| Error::Internal(format!("cannot start the backup thread: {e}")))?
                .join()
                .map_err(|_| Error::Internal("the backup thread failed".into()))?
        })?;
        std::fs::rename(&tmp, dest).map_err(|e| Error::Internal(format!("rename backup: {e}")))?;
        Ok(rows)
    }

    /// Logical check of the running database: every table readable, every record decodable.
    pub fn check(&self) -> Result<CheckReport> {
        let rtx = self.inner.slot.get()?.begin_read()?;
        Ok(check::logical_check(&rtx, &self.inner.path))
    }
}

/// How much a backup copies between two commits of the new file.
const BACKUP_CHUNK: usize = 16 << 20;

/// Every table of the snapshot `rtx` into a new database at `tmp`, committed in slices of
/// about `chunk` bytes. Returns the number of records.
fn copy_tables(rtx: &redb::ReadTransaction, tmp: &Path, chunk: usize) -> Result<u64> {
    let out = Database::builder()
        .set_cache_size(8 << 20)
        .create(tmp)
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp.display())))?;
    let mut rows = 0u64;
    let mut wtx = out.begin_write()?;
    for handle in rtx.list_tables()? {
        let def = tables::by_name(handle.name());
        let src = rtx.open_table(def)?;
        let mut items = src.iter()?;
        loop {
            let mut bytes = 0usize;
            {
                let mut dst = wtx.open_table(def)?;
                for item in items.by_ref() {
                    let (k, v) = item?;
                    let (k, v) = (k.value(), v.value());
                    bytes += k.len() + v.len();
                    dst.insert(k, v)?;
                    rows += 1;
                    if bytes >= chunk {
                        break;
                    }
                }
            }
            if bytes < chunk {
                break;
            }
            wtx.commit()?;
            wtx = out.begin_write()?;
        }
    }
    wtx.commit()?;
    Ok(rows)
}

pub fn is_locked(e: &Error) -> bool {
    matches!(e, Error::Conflict(m) if m.contains("is in use"))
}

/// An open that failed for damage: say so, and how to recover.
fn damaged_file(shown: &str, e: Error) -> Error {
    match e {
        Error::Storage(cause) => Error::Unavailable(format!(
            "{shown} is damaged: {cause}. Run `switchboard check` for details; recover with \
             `switchboard restore --latest` (docs/operations.md, \"Recovering a damaged database\")."
        )),
        other => other,
    }
}

fn open_error(path: &str, e: redb::DatabaseError) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::Conflict(format!(
            "{path} is in use by another process (is the server running?)"
        )),
        redb::DatabaseError::UpgradeRequired(v) => Error::Conflict(format!(
            "{path} uses redb file format {v}, which this binary cannot open"
        )),
        redb::DatabaseError::Storage(redb::StorageError::Corrupted(cause)) => {
            Error::Storage(format!("corrupted: {cause}"))
        }
        other => Error::Unavailable(format!(
            "{path} cannot be opened as a Switchboard database: {other}"
        )),
    }
}

#[cfg(test)]
mod backup_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

    /// A copy committed in many small slices holds exactly the snapshot: every table (an empty
    /// one too), every record, and nothing written after the snapshot was taken.
    #[test]
    fn a_backup_in_slices_is_the_whole_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let src = Database::create(dir.path().join("src.redb")).unwrap();
        let wtx = src.begin_write().unwrap();
        for (name, n) in [("alpha", 3000u32), ("beta", 1), ("empty", 0)] {
            let mut t = wtx.open_table(tables::by_name(name)).unwrap();
            for i in 0..n {
                t.insert(i.to_be_bytes().as_slice(), vec![i as u8; 100].as_slice())
                    .unwrap();
            }
        }
        wtx.commit().unwrap();
        let rtx = src.begin_read().unwrap();
        // Written after the snapshot: not in the copy.
        let wtx = src.begin_write().unwrap();
        wtx.open_table(tables::by_name("alpha"))
            .unwrap()
            .insert(b"late".as_slice(), b"x".as_slice())
            .unwrap();
        wtx.commit().unwrap();

        let out = dir.path().join("copy.redb");
        assert_eq!(copy_tables(&rtx, &out, 4096).unwrap(), 3001);
        let copy = Database::open(&out).unwrap();
        let crtx = copy.begin_read().unwrap();
        for name in ["alpha", "beta", "empty"] {
            let a = rtx.open_table(tables::by_name(name)).unwrap();
            let b = crtx.open_table(tables::by_name(name)).unwrap();
            assert_eq!(a.len().unwrap(), b.len().unwrap(), "{name}");
            for (x, y) in a.iter().unwrap().zip(b.iter().unwrap()) {
                let ((xk, xv), (yk, yv)) = (x.unwrap(), y.unwrap());
                assert_eq!((xk.value(), xv.value()), (yk.value(), yv.value()));
            }
        }
        assert!(
            crtx.open_table(tables::by_name("alpha"))
                .unwrap()
                .get(b"late".as_slice())
                .unwrap()
                .is_none()
        );
    }
}
