//! Turning uploaded attachment ids into message file entries. The attachment store checks that
//! the caller may use each file and that it fits the channel's rules.

use crate::domain::messages::MessageFile;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::auth::Authed;

pub async fn resolve(
    _state: &AppState,
    _who: &Authed,
    _channel_id: u64,
    ids: &[u64],
) -> Result<Vec<MessageFile>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Err(Error::Unsupported(
        "file attachments are not available in this build".into(),
    ))
}
