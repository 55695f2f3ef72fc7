//! Who may see what. Enforced by the server for pages, API and events alike: admins see every
//! channel; an agent sees the channels they are a member of; users-audience events go to the
//! listed users only. Things a caller may not see are reported as "not found", never
//! "forbidden", so their existence does not leak.

use std::collections::HashSet;

use redb::ReadTransaction;

use super::users::User;
use crate::error::Result;
use crate::ids::ChannelId;
use crate::store::Audience;

#[derive(Debug, Clone, PartialEq)]
pub enum Visible {
    All,
    Channels(HashSet<ChannelId>),
}

impl Visible {
    pub fn channel(&self, id: ChannelId) -> bool {
        match self {
            Visible::All => true,
            Visible::Channels(set) => set.contains(&id),
        }
    }
}

pub fn visible_channels(rtx: &ReadTransaction, user: &User) -> Result<Visible> {
    if user.is_admin() {
        return Ok(Visible::All);
    }
    Ok(Visible::Channels(super::channels::member_channels(
        rtx, user.id,
    )?))
}

/// May `user` (with channel visibility `vis`) receive an event for `aud`?
pub fn can_receive(user: &User, vis: &Visible, aud: &Audience) -> bool {
    match aud {
        Audience::Channel { channel_id } | Audience::Visitor { channel_id, .. } => {
            vis.channel(*channel_id)
        }
        Audience::Users { user_ids } => user_ids.contains(&user.id),
        Audience::Admins => user.is_admin(),
    }
}
