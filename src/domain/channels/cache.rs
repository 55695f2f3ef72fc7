//! The intake paths' channel cache.

use crate::ids::ChannelId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::{Channel, get};
use crate::error::Result;
use crate::store::Store;

/// Channels by id for the intake paths (every webhook names its channel): saves each request
/// a blocking-pool hop and a read transaction. An entry remembers the store's channel
/// generation it was read at; every committed channel change bumps the generation (after the
/// commit, before anyone is answered), so a stale entry is never served.
#[derive(Default)]
pub struct Cache {
    map: Mutex<HashMap<ChannelId, (u64, Arc<Channel>)>>,
}

impl Cache {
    const MAX_ENTRIES: usize = 1024;

    pub async fn get(&self, store: &Store, id: ChannelId) -> Result<Option<Arc<Channel>>> {
        // Read the generation BEFORE the record: a change committed after this read bumps it.
        let generation = store.channels_generation();
        if let Ok(map) = self.map.lock()
            && let Some((g, ch)) = map.get(&id)
            && *g == generation
        {
            return Ok(Some(ch.clone()));
        }
        let Some(ch) = store.read(move |rtx| get(rtx, id)).await? else {
            return Ok(None);
        };
        let ch = Arc::new(ch);
        if let Ok(mut map) = self.map.lock() {
            if map.len() >= Self::MAX_ENTRIES {
                map.clear();
            }
            map.insert(id, (generation, ch.clone()));
        }
        Ok(Some(ch))
    }
}
