//! The store: one redb file, one writer thread (group commit), many readers.
//!
//! `Store::write` sends a closure to the writer and resolves once the batch holding it is
//! durably committed. `Store::read` runs a closure on a read transaction on the blocking pool,
//! never on the async runtime's worker threads.

pub mod codec;
pub(crate) mod events;
pub(crate) mod migrations;
pub(crate) mod slot;
pub mod tables;
pub(crate) mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle};
use tokio::sync::broadcast;

use crate::clock::Clock;
use crate::error::{Error, Result};
pub use events::{Audience, Event};
pub use writer::{WriteCtx, WriterStats};

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
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.writer.take();
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

/// What `check` found.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct CheckReport {
    pub path: String,
    pub schema_version: u64,
    pub tables: Vec<(String, u64)>,
    pub records: u64,
    pub live_bytes: u64,
    pub file_bytes: u64,
    pub undecodable: u64,
    pub ok: bool,
}

impl Store {
    /// Open (or create) the database at `path`, migrate it and start the writer.
    pub fn open(
        path: &Path,
        cache_mb: u64,
        max_batch: usize,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
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
        let db = Database::builder()
            .set_cache_size((cache_mb as usize) << 20)
            .create(path)
            .map_err(|e| open_error(&shown, e))?;
        migrations::migrate(&db, &shown)?;
        let last = {
            let rtx = db.begin_read()?;
            events::last_seq(&rtx)?
        };
        let slot = Arc::new(slot::DbSlot::new(path, (cache_mb as usize) << 20, db));
        let (events_tx, _) = broadcast::channel(4096);
        let (writer, join) =
            writer::spawn(slot.clone(), clock, events_tx.clone(), last + 1, max_batch)?;
        Ok(Self {
            inner: Arc::new(Inner {
                slot,
                path: path.to_path_buf(),
                writer: Some(writer),
                join: Some(join),
                events: events_tx,
            }),
        })
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
        tokio::task::spawn_blocking(move || {
            let rtx = slot.get()?.begin_read()?;
            f(&rtx)
        })
        .await
        .map_err(|e| Error::Internal(format!("read task: {e}")))?
    }

    pub fn read_blocking<T>(&self, f: impl FnOnce(&ReadTransaction) -> Result<T>) -> Result<T> {
        let rtx = self.inner.slot.get()?.begin_read()?;
        f(&rtx)
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
        let out = Database::builder()
            .set_cache_size(8 << 20)
            .create(&tmp)
            .map_err(|e| Error::Internal(format!("cannot create {}: {e}", tmp.display())))?;
        let mut rows = 0u64;
        let wtx = out.begin_write()?;
        for handle in rtx.list_tables()? {
            let def = tables::by_name(handle.name());
            let src = rtx.open_table(def)?;
            let mut dst = wtx.open_table(def)?;
            for item in src.iter()? {
                let (k, v) = item?;
                dst.insert(k.value(), v.value())?;
                rows += 1;
            }
        }
        wtx.commit()?;
        drop(out);
        std::fs::rename(&tmp, dest).map_err(|e| Error::Internal(format!("rename backup: {e}")))?;
        Ok(rows)
    }

    /// Logical check of the running database: every table readable, every record decodable.
    pub fn check(&self) -> Result<CheckReport> {
        let rtx = self.inner.slot.get()?.begin_read()?;
        logical_check(&rtx, &self.inner.path)
    }
}

fn logical_check(rtx: &ReadTransaction, path: &Path) -> Result<CheckReport> {
    let mut report = CheckReport {
        path: path.display().to_string(),
        schema_version: 0,
        tables: Vec::new(),
        records: 0,
        live_bytes: 0,
        file_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        undecodable: 0,
        ok: true,
    };
    for handle in rtx.list_tables()? {
        let name = handle.name().to_string();
        let t = rtx.open_table(tables::by_name(&name))?;
        let mut n = 0u64;
        for item in t.iter()? {
            let (k, v) = item?;
            n += 1;
            report.live_bytes += (k.value().len() + v.value().len()) as u64;
            let raw = v.value();
            // Records carry a version byte; index tables hold raw values.
            if raw.first() == Some(&codec::RECORD_VERSION)
                && raw.get(1) == Some(&b'{')
                && serde_json::from_slice::<serde_json::Value>(&raw[1..]).is_err()
            {
                report.undecodable += 1;
            }
        }
        if name == tables::META.name()
            && let Some(v) = t.get(b"schema_version".as_slice())?
        {
            report.schema_version = codec::u64_at(v.value(), 0)?;
        }
        report.records += n;
        report.tables.push((name, n));
    }
    report.ok = report.undecodable == 0 && report.schema_version == migrations::SCHEMA_VERSION;
    Ok(report)
}

/// Offline check (server stopped): redb's own integrity check, then the logical check.
pub fn check_offline(path: &Path) -> Result<CheckReport> {
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(Error::NotFound("database file"));
    }
    let mut db = Database::builder()
        .set_cache_size(16 << 20)
        .open(path)
        .map_err(|e| open_error(&shown, e))?;
    let intact = db
        .check_integrity()
        .map_err(|e| Error::Internal(format!("{shown}: integrity check failed: {e}")))?;
    let rtx = db.begin_read()?;
    let mut report = logical_check(&rtx, path)?;
    report.ok &= intact;
    Ok(report)
}

/// Offline compaction: gives free pages back to the file system.
pub fn compact_offline(path: &Path) -> Result<(u64, u64)> {
    let shown = path.display().to_string();
    let before = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut db = Database::builder()
        .open(path)
        .map_err(|e| open_error(&shown, e))?;
    while db
        .compact()
        .map_err(|e| Error::Internal(format!("{shown}: compaction failed: {e}")))?
    {}
    drop(db);
    let after = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok((before, after))
}

pub fn is_locked(e: &Error) -> bool {
    matches!(e, Error::Conflict(m) if m.contains("is in use"))
}

fn open_error(path: &str, e: redb::DatabaseError) -> Error {
    match e {
        redb::DatabaseError::DatabaseAlreadyOpen => Error::Conflict(format!(
            "{path} is in use by another process (is the server running?)"
        )),
        redb::DatabaseError::UpgradeRequired(v) => Error::Conflict(format!(
            "{path} uses redb file format {v}, which this binary cannot open"
        )),
        other => Error::Unavailable(format!(
            "{path} cannot be opened as a Switchboard database: {other}"
        )),
    }
}
