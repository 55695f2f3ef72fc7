//! The open database, replaceable at run time.
//!
//! redb latches after an I/O failure (e.g. the disk filled up mid-commit): every later call
//! answers `PreviousIo` until the file is opened again, which runs redb's repair. The writer
//! therefore empties this slot after a storage failure, waits for in-flight readers to let go,
//! and reopens the file; meanwhile callers get `Unavailable` (HTTP 503, so providers retry).
//! Once space is free again the reopen succeeds and the server carries on by itself.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use redb::Database;

use crate::error::{Error, Result};

pub struct DbSlot {
    path: PathBuf,
    cache_bytes: usize,
    db: RwLock<Option<Arc<Database>>>,
}

impl DbSlot {
    pub fn new(path: &Path, cache_bytes: usize, db: Database) -> Self {
        Self {
            path: path.to_path_buf(),
            cache_bytes,
            db: RwLock::new(Some(Arc::new(db))),
        }
    }

    /// The open database, or `Unavailable` while it is being reopened.
    pub fn get(&self) -> Result<Arc<Database>> {
        let g = self
            .db
            .read()
            .map_err(|_| Error::Internal("database slot poisoned".into()))?;
        g.clone().ok_or_else(|| {
            Error::Unavailable("storage is recovering from an I/O error; try again shortly".into())
        })
    }

    /// Close the database (waiting up to 5 s for readers) and open it again.
    pub fn reopen(&self) -> Result<()> {
        let old = self
            .db
            .write()
            .map_err(|_| Error::Internal("database slot poisoned".into()))?
            .take();
        if let Some(mut arc) = old {
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                match Arc::try_unwrap(arc) {
                    Ok(db) => {
                        drop(db);
                        break;
                    }
                    Err(still_shared) if Instant::now() < deadline => {
                        arc = still_shared;
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    Err(still_shared) => {
                        // Put it back; a later attempt will try again.
                        *self
                            .db
                            .write()
                            .map_err(|_| Error::Internal("database slot poisoned".into()))? =
                            Some(still_shared);
                        return Err(Error::Unavailable(
                            "storage is busy; recovery postponed".into(),
                        ));
                    }
                }
            }
        }
        let db = Database::builder()
            .set_cache_size(self.cache_bytes)
            .create(&self.path)
            .map_err(|e| {
                Error::Unavailable(format!("cannot reopen {}: {e}", self.path.display()))
            })?;
        *self
            .db
            .write()
            .map_err(|_| Error::Internal("database slot poisoned".into()))? = Some(Arc::new(db));
        tracing::warn!(path = %self.path.display(), "database reopened after a storage failure");
        Ok(())
    }
}
