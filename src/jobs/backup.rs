//! `backup`: a consistent copy of the database into `<data_dir>/backups/switchboard-<UTC>.redb`,
//! taken from one read snapshot while the server keeps serving; the newest
//! `retention.backups` are kept. `switchboard restore --latest` brings back the newest one that
//! passes `check` (these, or the packages' `pre-upgrade-*.redb`).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{JobCtx, Report};
use crate::error::{Error, Result};
use crate::store::Store;

/// File names of the automatic backups: `switchboard-20260102T021500Z.redb`.
pub const PREFIX: &str = "switchboard-";

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("backups")
}

pub async fn run(ctx: JobCtx) -> Result<Report> {
    let dir = dir(&ctx.config.data_dir);
    let keep = ctx.config.retention.backups.max(1);
    let reserve = ctx.config.store.min_free_mb << 20;
    let now = ctx.clock.now_ms();
    let store = ctx.store.clone();
    tokio::task::spawn_blocking(move || write(&store, &dir, now, keep, reserve))
        .await
        .map_err(Error::internal)?
}

fn write(store: &Store, dir: &Path, now_ms: i64, keep: usize, reserve: u64) -> Result<Report> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Internal(format!("cannot create {}: {e}", dir.display())))?;
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    // A copy holds at most the live data, which is at most the database file: leave the
    // reserve the writer keeps for itself free after it.
    let need = std::fs::metadata(store.path())
        .map(|m| m.len())
        .unwrap_or(0);
    if let Ok(st) = rustix::fs::statvfs(dir) {
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if free < need.saturating_add(reserve) {
            return Err(Error::Unavailable(format!(
                "not enough free space for a backup in {} ({} MiB free, up to {} MiB needed plus the {} MiB reserve)",
                dir.display(),
                free >> 20,
                need >> 20,
                reserve >> 20
            )));
        }
    }
    let stamp = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .format("%Y%m%dT%H%M%SZ");
    let path = dir.join(format!("{PREFIX}{stamp}.redb"));
    let rows = store.backup_to(&path)?;
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let removed = prune(dir, keep)?;
    Ok(Report::new(
        format!(
            "wrote {} ({rows} records, {} KiB); removed {removed} older backups",
            path.display(),
            size >> 10
        ),
        false,
    ))
}

/// Deletes the oldest automatic backups beyond `keep` (names sort by time).
pub fn prune(dir: &Path, keep: usize) -> Result<usize> {
    let mut ours: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(Error::internal)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(".redb"))
        })
        .collect();
    ours.sort();
    let excess = ours.len().saturating_sub(keep);
    for p in &ours[..excess] {
        std::fs::remove_file(p)
            .map_err(|e| Error::Internal(format!("cannot remove {}: {e}", p.display())))?;
    }
    Ok(excess)
}

/// Every backup file in `dir` (automatic and pre-upgrade), newest first.
pub fn list(dir: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut all: Vec<(PathBuf, SystemTime)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "redb"))
        .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
        .collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
    all
}
