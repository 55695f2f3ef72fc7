//! Calls the PBX reports, in the contact's conversation: call records (CDRs) matched to the
//! contact by normalised number, and the screen pop for a ringing extension.

use crate::domain::users::User;
use crate::error::Result;
use crate::pbx::link::Cdr;
use crate::store::Store;

/// A ringing call from `caller` on `agent`'s extension.
pub async fn screen_pop(_store: &Store, _agent: &User, _caller: &str, _now: i64) -> Result<()> {
    Ok(())
}

/// A finished call.
pub async fn record(_store: &Store, _cdr: Cdr, _now: i64) -> Result<()> {
    Ok(())
}
