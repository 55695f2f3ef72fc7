//! The fakes exercised through the production clients (and vice versa): exact request shapes,
//! auth, success answers, scripted failures and their classification, media round trips,
//! and webhook builders + independent signers against the published vectors.

mod messenger;
mod signing;
mod twilio;
mod whatsapp;

use std::future::Future;
use std::time::Duration;

use switchboard::channels::{SendError, http_client};

/// A provider client with a short timeout so `Fault::Hang` resolves quickly.
pub fn client() -> reqwest::Client {
    http_client(Duration::from_millis(800)).expect("http client")
}

/// A base URL on loopback where nothing listens (connect refused).
pub async fn dead_base() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// The simplest sane retry policy: retry transient failures only, up to `max` attempts.
pub async fn with_retries<T, F, Fut>(max: usize, mut f: F) -> (Result<T, SendError>, usize)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SendError>>,
{
    let mut attempts = 0;
    loop {
        attempts += 1;
        match f().await {
            Err(SendError::Transient { .. }) if attempts < max => continue,
            other => return (other, attempts),
        }
    }
}
