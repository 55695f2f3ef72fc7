//! Cron schedules of the background jobs (`[jobs]` in the config, with a seconds field; an
//! empty expression disables a job). `config` validates with [`parse`] at start-up and `jobs`
//! runs on it, so this sits below both.

use std::str::FromStr;
use std::time::Duration;

/// Parse a cron expression (with seconds field). An empty string disables the job.
pub fn parse(expr: &str) -> Result<Option<cron::Schedule>, String> {
    let expr = expr.trim();
    if expr.is_empty() {
        return Ok(None);
    }
    cron::Schedule::from_str(expr).map(Some).map_err(|e| {
        format!("{expr:?} is not a cron expression (sec min hour day month weekday): {e}")
    })
}

/// How long until `schedule` fires next. Cron times follow the wall clock, not the injected
/// clock (that one drives what a job does, not when it wakes); `None` when it never fires again.
pub fn until_next(schedule: &cron::Schedule) -> Option<Duration> {
    let now = crate::clock::wall_clock();
    let next = schedule.after(&now).next()?;
    Some((next - now).to_std().unwrap_or(Duration::from_millis(100)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cron_expressions_parse_or_are_refused() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("   ").unwrap().is_none());
        for ok in [
            "0 */15 * * * *",
            "0 * * * * *",
            "0 30 3 * * *",
            "*/5 * * * * *",
            "0 0 12 * * Mon-Fri",
        ] {
            assert!(parse(ok).unwrap().is_some(), "{ok}");
        }
        for bad in [
            "every hour",
            "61 * * * * *",
            "0 0 25 * * *",
            "* * * *",
            "0 */0 * * * *",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("not a cron expression"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_next_firing_is_within_its_period() {
        let every_second = parse("* * * * * *").unwrap().unwrap();
        let wait = until_next(&every_second).unwrap();
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
    }
}
