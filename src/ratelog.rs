//! A log line at most once per period for something that can happen thousands of times a
//! second (refused connections, writes refused on a full disk): the line says how many times it
//! happened since the last one, so nothing is hidden and the journal does not fill up.

use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct RateLimitedLog {
    period: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    last: Option<Instant>,
    since: u64,
}

impl RateLimitedLog {
    pub const fn new(period: Duration) -> Self {
        Self {
            period,
            state: Mutex::new(State {
                last: None,
                since: 0,
            }),
        }
    }

    /// Count one occurrence; `Some(n)` when a line is due now, `n` being the occurrences since
    /// the last line (this one included).
    pub fn hit(&self) -> Option<u64> {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.since += 1;
        let due = st.last.is_none_or(|t| t.elapsed() >= self.period);
        if !due {
            return None;
        }
        st.last = Some(Instant::now());
        Some(std::mem::take(&mut st.since))
    }

    /// Forget the last line (the condition ended): the next occurrence is logged at once.
    pub fn reset(&self) {
        let mut st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *st = State::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_hit_logs_then_counts_until_the_period_is_over() {
        let log = RateLimitedLog::new(Duration::from_millis(50));
        assert_eq!(log.hit(), Some(1));
        assert_eq!(log.hit(), None);
        assert_eq!(log.hit(), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(log.hit(), Some(3));
        log.reset();
        assert_eq!(log.hit(), Some(1));
    }
}
