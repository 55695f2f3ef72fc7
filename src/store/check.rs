//! `switchboard check`: redb's own integrity check (checksums of every page, offline only),
//! then a walk of every table decoding every record. Damage is reported by file, table and
//! cause; a panic inside redb while reading a damaged page is caught and reported like any
//! other finding.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, TableHandle};

use super::health::panic_text;
use super::{codec, migrations, open_error, tables};
use crate::error::{Error, Result};

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
    /// One line per finding: where (table) and what.
    #[serde(default)]
    pub problems: Vec<String>,
    pub ok: bool,
}

impl CheckReport {
    fn new(path: &Path) -> Self {
        Self {
            path: path.display().to_string(),
            schema_version: 0,
            tables: Vec::new(),
            records: 0,
            live_bytes: 0,
            file_bytes: std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
            undecodable: 0,
            problems: Vec::new(),
            ok: true,
        }
    }

    fn finish(mut self) -> Self {
        if self.schema_version != migrations::SCHEMA_VERSION && self.problems.is_empty() {
            self.problems.push(format!(
                "schema version {} (this binary expects {})",
                self.schema_version,
                migrations::SCHEMA_VERSION
            ));
        }
        self.ok = self.problems.is_empty() && self.undecodable == 0;
        self
    }
}

/// Runs `f`, turning a panic into an error that says so.
pub(crate) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => Err(Error::Storage(format!(
            "{what} panicked inside the storage engine ({}): the file is damaged",
            panic_text(p.as_ref())
        ))),
    }
}

/// Every table readable, every record decodable.
pub(crate) fn logical_check(rtx: &ReadTransaction, path: &Path) -> CheckReport {
    let mut report = CheckReport::new(path);
    let names = match guarded("listing the tables", || {
        Ok(rtx
            .list_tables()?
            .map(|h| h.name().to_string())
            .collect::<Vec<_>>())
    }) {
        Ok(n) => n,
        Err(e) => {
            report.problems.push(format!("table list: {e}"));
            return report.finish();
        }
    };
    for name in names {
        let walked = guarded("reading the table", || walk_table(rtx, &name));
        match walked {
            Ok(t) => {
                report.records += t.records;
                report.live_bytes += t.bytes;
                report.undecodable += t.undecodable;
                if let Some(key) = t.first_bad_key {
                    report.problems.push(format!(
                        "table {name}: {} undecodable records (first key {key})",
                        t.undecodable
                    ));
                }
                if let Some(v) = t.schema_version {
                    report.schema_version = v;
                }
                report.tables.push((name, t.records));
            }
            Err(e) => {
                report.problems.push(format!("table {name}: {e}"));
                report.tables.push((name, 0));
            }
        }
    }
    report.finish()
}

#[derive(Default)]
struct Walked {
    records: u64,
    bytes: u64,
    undecodable: u64,
    first_bad_key: Option<String>,
    schema_version: Option<u64>,
}

fn walk_table(rtx: &ReadTransaction, name: &str) -> Result<Walked> {
    let t = rtx.open_table(tables::by_name(name))?;
    let mut w = Walked::default();
    for item in t.iter()? {
        let (k, v) = item?;
        w.records += 1;
        w.bytes += (k.value().len() + v.value().len()) as u64;
        let raw = v.value();
        // Records carry a version byte; index tables hold raw values.
        if raw.first() == Some(&codec::RECORD_VERSION)
            && raw.get(1) == Some(&b'{')
            && serde_json::from_slice::<serde_json::Value>(&raw[1..]).is_err()
        {
            w.undecodable += 1;
            if w.first_bad_key.is_none() {
                w.first_bad_key = Some(hex::encode(k.value()));
            }
        }
    }
    if name == tables::META.name()
        && let Some(v) = t.get(b"schema_version".as_slice())?
    {
        w.schema_version = Some(codec::u64_at(v.value(), 0)?);
    }
    Ok(w)
}

/// Offline check (server stopped): redb's integrity check, then the logical check. `Err` only
/// when there is nothing to check (no file, or the server holds it); damage is in the report.
pub fn check_offline(path: &Path) -> Result<CheckReport> {
    let shown = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|_| Error::NotFound("database file"))?;
    let mut report = CheckReport::new(path);
    if meta.len() == 0 {
        report
            .problems
            .push("the file is empty (0 bytes): it holds no database".into());
        return Ok(report.finish());
    }
    let opened = guarded("opening the file", || {
        Database::builder()
            .set_cache_size(16 << 20)
            .open(path)
            .map_err(|e| open_error(&shown, e))
    });
    let mut db = match opened {
        Ok(db) => db,
        Err(e) if super::is_locked(&e) => return Err(e),
        Err(e) => {
            report
                .problems
                .push(format!("cannot open it: {}", cause(&e)));
            return Ok(report.finish());
        }
    };
    let integrity = guarded("the integrity check", || {
        db.check_integrity()
            .map_err(|e| Error::Storage(format!("integrity check: {e}")))
    });
    let mut found = Vec::new();
    match integrity {
        Ok(true) => {}
        // redb rebuilt its own allocator state (which pages are free); the data passed.
        Ok(false) => tracing::warn!(file = %shown, "redb repaired its free-page bookkeeping"),
        Err(e) => found.push(format!("page checksums: {}", cause(&e))),
    }
    let mut report = match guarded("starting a read", || Ok(db.begin_read()?)) {
        Ok(rtx) => logical_check(&rtx, path),
        Err(e) => {
            let mut r = CheckReport::new(path);
            r.problems.push(format!("cannot read it: {}", cause(&e)));
            r.finish()
        }
    };
    report.problems.splice(0..0, found);
    Ok(report.finish())
}

/// The cause of a storage error, without the "internal error" mask.
fn cause(e: &Error) -> String {
    match e {
        Error::Storage(m) | Error::Internal(m) => m.clone(),
        other => other.public_message(),
    }
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
