//! Per-user read state of a session: the newest message read and the mute flag.

use crate::domain::events::Event;
use crate::ids::SessionId;
use crate::ids::UserId;
use redb::ReadTransaction;

use super::ReadState;
use crate::error::Result;
use crate::store::codec::{self, k2};
use crate::store::tables::SESSION_READS;
use crate::store::{Audience, WriteCtx};

pub fn read_state(
    rtx: &ReadTransaction,
    user_id: UserId,
    session_id: SessionId,
) -> Result<ReadState> {
    Ok(codec::get(&rtx.open_table(SESSION_READS)?, &k2(user_id, session_id))?.unwrap_or_default())
}

/// The same, inside a write.
pub fn read_state_in(
    ctx: &WriteCtx<'_>,
    user_id: UserId,
    session_id: SessionId,
) -> Result<ReadState> {
    Ok(codec::get(
        &ctx.txn.open_table(SESSION_READS)?,
        &k2(user_id, session_id),
    )?
    .unwrap_or_default())
}

/// Mute or unmute a session for one user; all their browsers follow the event.
pub fn set_muted_in(
    ctx: &mut WriteCtx<'_>,
    user_id: UserId,
    session_id: SessionId,
    muted: bool,
) -> Result<()> {
    let mut st = read_state_in(ctx, user_id, session_id)?;
    st.muted = muted;
    set_read_state_in(ctx, user_id, session_id, &st)?;
    ctx.emit(
        Audience::Users {
            user_ids: vec![user_id],
        },
        &Event::SessionMuted { session_id, muted },
    )
}

pub fn set_read_state_in(
    ctx: &WriteCtx<'_>,
    user_id: UserId,
    session_id: SessionId,
    st: &ReadState,
) -> Result<()> {
    codec::put(
        &mut ctx.txn.open_table(SESSION_READS)?,
        &k2(user_id, session_id),
        st,
    )
}
