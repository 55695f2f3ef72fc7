//! Wakes the outbound delivery worker when a message is queued, so replies leave at once
//! instead of on the next `outbound_retry` tick.

use crate::http::AppState;

pub fn kick(state: &AppState) {
    state.delivery.notify_one();
}
