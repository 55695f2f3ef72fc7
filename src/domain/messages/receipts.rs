//! Delivery receipts: provider status callbacks by provider message id, and Messenger's
//! delivery/read watermarks. A receipt never moves a message backwards, except `failed`.

use crate::ids::ChannelId;
use crate::ids::MessageId;
use redb::ReadableTable;

use super::{Direction, Message, Status, get_in, put_in};
use crate::domain::contacts;
use crate::error::Result;
use crate::store::WriteCtx;
use crate::store::codec::{self, k1, k2, kcat};
use crate::store::tables::{MESSAGES, PROVIDER_IDS};

/// Apply a delivery receipt by provider id. Receipts never move a message backwards, except
/// `failed`, which wins over `sent` (e.g. WhatsApp 131047 reported after acceptance).
pub fn apply_status_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    provider_id: &str,
    status: Status,
    error: Option<String>,
) -> Result<bool> {
    let Some(id) = ctx
        .txn
        .open_table(PROVIDER_IDS)?
        .get(kcat(&k1(channel_id), provider_id.as_bytes()).as_slice())?
        .map(|v| codec::id_at(v.value(), 0))
        .transpose()?
    else {
        return Ok(false);
    };
    let mut m = get_in(ctx, id)?;
    if m.direction != Direction::Out {
        return Ok(false);
    }
    set_status_in(ctx, &mut m, status, error)
}

/// The provider accepted message `message_id` under `provider_id`: receipts will find it.
pub fn record_provider_id_in(
    ctx: &WriteCtx<'_>,
    channel_id: ChannelId,
    provider_id: &str,
    message_id: MessageId,
) -> Result<()> {
    ctx.txn.open_table(PROVIDER_IDS)?.insert(
        kcat(&k1(channel_id), provider_id.as_bytes()).as_slice(),
        k1(message_id).as_slice(),
    )?;
    Ok(())
}

pub fn set_status_in(
    ctx: &mut WriteCtx<'_>,
    m: &mut Message,
    status: Status,
    error: Option<String>,
) -> Result<bool> {
    let advance = match (m.status, status) {
        (Status::Failed, _) => false,
        (_, Status::Failed) => m.status != Status::Read && m.status != Status::Delivered,
        (cur, new) => new > cur,
    };
    if !advance {
        return Ok(false);
    }
    m.status = status;
    m.retry = None;
    if status != Status::Failed && status != Status::Unknown {
        m.error = None;
    }
    if status == Status::Failed {
        m.error = error.or_else(|| Some("failed".into()));
    }
    put_in(ctx, m, false)?;
    Ok(true)
}

/// Messenger watermarks: every outbound message of this contact's sessions created up to
/// `up_to_ms` moves to `status`.
pub fn apply_watermark_in(
    ctx: &mut WriteCtx<'_>,
    channel_id: ChannelId,
    contact_address: &str,
    up_to_ms: i64,
    status: Status,
) -> Result<usize> {
    let Some(contact) = contacts::find_in(ctx, channel_id, contact_address)? else {
        return Ok(0);
    };
    let Some(sid) = crate::domain::sessions::open_of_contact_in(ctx, contact.id)? else {
        return Ok(0);
    };
    let msgs: Vec<Message> = {
        let t = ctx.txn.open_table(MESSAGES)?;
        let mut v = Vec::new();
        for item in t
            .range::<&[u8]>(k2(sid, 0).as_slice()..k2(sid, u64::MAX).as_slice())?
            .rev()
            .take(500)
        {
            let m: Message = codec::decode(item?.1.value())?;
            if m.direction == Direction::Out
                && m.provider_at.unwrap_or(m.created) <= up_to_ms
                && m.status < status
                && m.status >= Status::Sent
                && m.status != Status::Failed
            {
                v.push(m);
            }
        }
        v
    };
    let mut n = 0;
    for mut m in msgs {
        if set_status_in(ctx, &mut m, status, None)? {
            n += 1;
        }
    }
    Ok(n)
}
