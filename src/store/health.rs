//! What the store knows about its own state beyond "it answers": a full disk (writes refused,
//! reads served) or damage found while reading (a read that panicked or met a corrupted page).
//! `/healthz`, `/metrics` and the systemd status line report it; nothing here stops the server.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::ratelog::RateLimitedLog;

#[derive(Default)]
pub struct Health {
    disk_full: AtomicBool,
    free_bytes: AtomicU64,
    reserve_bytes: AtomicU64,
    damage: Mutex<Option<String>>,
    damage_log: DamageLog,
}

struct DamageLog(RateLimitedLog);

impl Default for DamageLog {
    fn default() -> Self {
        Self(RateLimitedLog::new(std::time::Duration::from_secs(60)))
    }
}

/// The state as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    Ok,
    /// Free space is under the reserve: writes are refused, reads served.
    DiskFull {
        free_bytes: u64,
        reserve_bytes: u64,
    },
    /// A read met damaged data (the first cause seen).
    Damaged(String),
}

impl State {
    /// One line for people: `ok`, or `degraded: …` with what to do.
    pub fn text(&self) -> String {
        match self {
            State::Ok => "ok".into(),
            State::DiskFull {
                free_bytes,
                reserve_bytes,
            } => format!(
                "degraded: disk full ({} MiB free, {} MiB reserved): writes are refused until space is freed; reads are served",
                free_bytes >> 20,
                reserve_bytes >> 20
            ),
            State::Damaged(cause) => format!(
                "degraded: the database is damaged ({cause}); run `switchboard check`, then restore a backup (docs/operations.md)"
            ),
        }
    }
}

impl Health {
    pub fn state(&self) -> State {
        if let Some(cause) = self
            .damage
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
        {
            return State::Damaged(cause);
        }
        if self.disk_full.load(Ordering::Acquire) {
            return State::DiskFull {
                free_bytes: self.free_bytes.load(Ordering::Acquire),
                reserve_bytes: self.reserve_bytes.load(Ordering::Acquire),
            };
        }
        State::Ok
    }

    pub fn is_disk_full(&self) -> bool {
        self.disk_full.load(Ordering::Acquire)
    }

    /// Record the last free-space probe; returns true when the state changed.
    pub fn set_space(&self, free_bytes: u64, reserve_bytes: u64) -> bool {
        let full = free_bytes < reserve_bytes;
        self.free_bytes.store(free_bytes, Ordering::Release);
        self.reserve_bytes.store(reserve_bytes, Ordering::Release);
        let was = self.disk_full.swap(full, Ordering::AcqRel);
        metrics::gauge!("store_disk_full").set(if full { 1.0 } else { 0.0 });
        was != full
    }

    /// A read or write met damaged data: remember the first cause, log (at most once a minute).
    pub fn damaged(&self, cause: &str) {
        {
            let mut d = self
                .damage
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if d.is_none() {
                *d = Some(cause.chars().take(300).collect());
            }
        }
        metrics::gauge!("store_damaged").set(1.0);
        if let Some(n) = self.damage_log.0.hit() {
            tracing::error!(
                %cause,
                occurrences = n,
                "the database looks damaged: run `switchboard check`; recovery: docs/operations.md"
            );
        }
    }
}

/// The text of a caught panic.
pub fn panic_text(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "no message".into())
}

/// Whether an error says the file is damaged (not full, not closed): redb found a corrupted
/// page, panicked on one, or a record no longer decodes.
pub fn is_damage(e: &crate::error::Error) -> bool {
    use crate::error::Error;
    matches!(e, Error::Storage(m) | Error::Internal(m)
        if m.contains("orrupt") || m.contains("panicked") || m.contains("undecodable record"))
}
