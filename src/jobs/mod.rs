//! Background jobs driven by cron expressions from the config (`[jobs]`, with a seconds field;
//! an empty expression disables a job). Each run is logged with what it did and counted in
//! `/metrics`; `switchboard jobs run NAME` runs one at once. Jobs work in bounded batches so a
//! large cleanup never holds the writer for long.

mod attachment_cleanup;
mod automation;
pub mod backup;
mod history_retention;
mod outbound_retry;
pub(crate) mod session_closure;
mod sweep;

use std::sync::Arc;
use std::time::Instant;

use futures_util::future::BoxFuture;

use crate::clock::Clock;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::store::Store;

/// What a job may use.
#[derive(Clone)]
pub struct JobCtx {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub http: reqwest::Client,
    pub public_url: String,
    /// Cancelled when the server stops (never, for one-off CLI runs).
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Key for signed media links.
    pub media_secret: Vec<u8>,
    /// The running server's TLS configuration (`tls-renewal` swaps a renewed certificate in);
    /// None for one-off CLI runs and without TLS.
    pub tls: Option<axum_server::tls_rustls::RustlsConfig>,
}

/// What one run did. A run that found nothing to do is logged at debug level only, so a job
/// every 5 s does not write a line every 5 s; one that did something is logged at info.
pub struct Report {
    pub summary: String,
    pub idle: bool,
}

impl Report {
    pub fn new(summary: String, idle: bool) -> Self {
        Self { summary, idle }
    }
}

type JobFn = fn(JobCtx) -> BoxFuture<'static, Result<Report>>;

pub struct Job {
    /// The CLI name, e.g. `attachment-cleanup`.
    pub name: &'static str,
    pub schedule: fn(&Config) -> &str,
    pub run: JobFn,
}

/// Every job. Add new jobs here.
pub const JOBS: &[Job] = &[
    Job {
        name: "attachment-cleanup",
        schedule: |c| &c.jobs.attachment_cleanup,
        run: |ctx| Box::pin(attachment_cleanup::run(ctx)),
    },
    Job {
        name: "session-closure",
        schedule: |c| &c.jobs.session_closure,
        run: |ctx| Box::pin(session_closure::run(ctx)),
    },
    Job {
        name: "history-retention",
        schedule: |c| &c.jobs.history_retention,
        run: |ctx| Box::pin(history_retention::run(ctx)),
    },
    Job {
        name: "login-session-sweep",
        schedule: |c| &c.jobs.login_session_sweep,
        run: |ctx| Box::pin(sweep::run(ctx)),
    },
    Job {
        name: "outbound-retry",
        schedule: |c| &c.jobs.outbound_retry,
        run: |ctx| Box::pin(outbound_retry::run(ctx)),
    },
    Job {
        name: "tls-renewal",
        schedule: |c| &c.jobs.tls_renewal,
        run: |ctx| {
            Box::pin(async move {
                let (summary, renewed) = crate::tls::renew_self_signed(
                    &ctx.config,
                    ctx.clock.now_ms(),
                    ctx.tls.as_ref(),
                )
                .await
                .map_err(|e| Error::Internal(format!("tls renewal: {e}")))?;
                Ok(Report::new(summary, !renewed))
            })
        },
    },
    Job {
        name: "automation",
        schedule: |c| &c.jobs.automation,
        run: |ctx| Box::pin(automation::run(ctx)),
    },
    Job {
        name: "backup",
        schedule: |c| &c.jobs.backup,
        run: |ctx| Box::pin(backup::run(ctx)),
    },
];

/// Run one job now by name.
pub async fn run_now(ctx: JobCtx, name: &str) -> Result<String> {
    let job = JOBS.iter().find(|j| j.name == name).ok_or_else(|| {
        Error::invalid(
            "job",
            format!("unknown job {name:?}; known: {}", names().join(", ")),
        )
    })?;
    run_logged(job, ctx).await.map(|r| r.summary)
}

pub fn names() -> Vec<&'static str> {
    JOBS.iter().map(|j| j.name).collect()
}

async fn run_logged(job: &Job, ctx: JobCtx) -> Result<Report> {
    let started = Instant::now();
    let result = (job.run)(ctx).await;
    let secs = started.elapsed().as_secs_f64();
    match &result {
        Ok(Report {
            summary,
            idle: true,
        }) => {
            tracing::debug!(job = job.name, seconds = secs, %summary, "job finished");
            metrics::counter!("job_runs_total", "job" => job.name, "outcome" => "ok").increment(1);
        }
        Ok(Report { summary, .. }) => {
            tracing::info!(job = job.name, seconds = secs, %summary, "job finished");
            metrics::counter!("job_runs_total", "job" => job.name, "outcome" => "ok").increment(1);
        }
        Err(e) => {
            tracing::error!(job = job.name, seconds = secs, error = %e, "job failed");
            metrics::counter!("job_runs_total", "job" => job.name, "outcome" => "error")
                .increment(1);
        }
    }
    metrics::histogram!("job_seconds", "job" => job.name).record(secs);
    result
}

/// Start one task per enabled job; they stop with the server (`ctx.shutdown`).
pub fn spawn_all(ctx: JobCtx) -> Result<()> {
    for job in JOBS {
        let Some(schedule) =
            crate::schedule::parse((job.schedule)(&ctx.config)).map_err(Error::BadRequest)?
        else {
            tracing::info!(job = job.name, "job disabled");
            continue;
        };
        let ctx = ctx.clone();
        tokio::spawn(async move {
            loop {
                let Some(wait) = crate::schedule::until_next(&schedule) else {
                    return;
                };
                tokio::select! {
                    _ = ctx.shutdown.cancelled() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                let _ = run_logged(job, ctx.clone()).await;
            }
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_job_has_a_default_schedule_and_a_unique_name() {
        let cfg = Config::default();
        let mut names = names();
        for job in JOBS {
            assert!(
                crate::schedule::parse((job.schedule)(&cfg))
                    .unwrap()
                    .is_some(),
                "{}",
                job.name
            );
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), JOBS.len());
        for n in [
            "attachment-cleanup",
            "session-closure",
            "history-retention",
            "backup",
        ] {
            assert!(names.contains(&n), "{n}");
        }
    }
}
