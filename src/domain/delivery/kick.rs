//! Wakes the outbound delivery worker when a message is queued, so replies leave at once
//! instead of on the next `outbound_retry` tick.

use std::sync::Arc;

use tokio::sync::Notify;

/// A handle on the delivery worker's wake-up: cheap to clone, shared by whoever queues.
#[derive(Clone, Default)]
pub struct Kick(Arc<Notify>);

impl Kick {
    /// Something was queued: the worker runs a pass now.
    pub fn kick(&self) {
        self.0.notify_one();
    }
    /// Resolves at the next kick (the worker's side).
    pub async fn kicked(&self) {
        self.0.notified().await;
    }
}
