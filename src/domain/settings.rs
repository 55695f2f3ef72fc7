//! The small keyed settings table (`WORKFLOW_SETTINGS`). Each user of it keeps its own key:
//! `lists` the tag and result lists, `pbx` the PBX link; nobody else opens the table.

use redb::ReadTransaction;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Result;
use crate::store::WriteCtx;
use crate::store::codec;
use crate::store::tables::WORKFLOW_SETTINGS;

pub fn get<T: DeserializeOwned>(rtx: &ReadTransaction, key: &[u8]) -> Result<Option<T>> {
    codec::get(&rtx.open_table(WORKFLOW_SETTINGS)?, key)
}

pub fn get_in<T: DeserializeOwned>(ctx: &WriteCtx<'_>, key: &[u8]) -> Result<Option<T>> {
    codec::get(&ctx.txn.open_table(WORKFLOW_SETTINGS)?, key)
}

pub fn put_in<T: Serialize>(ctx: &WriteCtx<'_>, key: &[u8], value: &T) -> Result<()> {
    codec::put(&mut ctx.txn.open_table(WORKFLOW_SETTINGS)?, key, value)
}
