//! Typed ids: one newtype per kind of record, so a function that takes a chat and a user
//! (`chats::member_state(rtx, user, chat)`) cannot be handed the two the wrong way round.
//!
//! Each id is a `u64` from a named counter (`store::next_id`). On the wire and in stored
//! records it is that number (`#[serde(transparent)]`: nothing stored changes); in keys it is
//! eight big-endian bytes ([`UserId::key`]), so byte order is numeric order and composite keys
//! are built with `store::codec::k2(a.get(), b.get())` or `kcat(&a.key(), &b.key())`.
//!
//! `0` is never issued; a few records use it for "none" where an `Option` would change the
//! stored shape (documented at the field).

use std::fmt;
use std::str::FromStr;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[schema(value_type = u64)]
        pub struct $name(pub u64);

        impl $name {
            /// The number (for counters, arithmetic and foreign formats).
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The id after this one (the end of a key range of this id's entries).
            pub const fn next(self) -> Self {
                Self(self.0.saturating_add(1))
            }

            /// The key bytes: big-endian, so keys sort by id.
            pub const fn key(self) -> [u8; 8] {
                self.0.to_be_bytes()
            }

            /// The id stored at byte offset `at` of a key (None when the key is too short).
            pub fn from_key_at(key: &[u8], at: usize) -> Option<Self> {
                key.get(at..at + 8)
                    .and_then(|s| <[u8; 8]>::try_from(s).ok())
                    .map(|b| Self(u64::from_be_bytes(b)))
            }
        }

        impl From<u64> for $name {
            fn from(v: u64) -> Self {
                Self(v)
            }
        }

        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }

        impl PartialEq<u64> for $name {
            fn eq(&self, other: &u64) -> bool {
                self.0 == *other
            }
        }
    )*};
}

ids! {
    /// An agent or admin (`users`).
    UserId;
    /// A customer conversation (`sessions`).
    SessionId;
    /// A connected channel: a WhatsApp number, an SMS number, a Messenger page, a website chat.
    ChannelId;
    /// A customer message or an internal chat message (one shared counter).
    MessageId;
    /// An internal 1:1 or group chat (`chats`).
    ChatId;
    /// A customer (`contacts`).
    ContactId;
    /// A stored file (`attachments`).
    AttachmentId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_number_on_the_wire_and_big_endian_in_keys() {
        let u = UserId(258);
        assert_eq!(serde_json::to_string(&u).unwrap(), "258");
        assert_eq!(serde_json::from_str::<UserId>("258").unwrap(), u);
        assert_eq!(u.key(), [0, 0, 0, 0, 0, 0, 1, 2]);
        let mut k = ChatId(7).key().to_vec();
        k.extend_from_slice(&u.key());
        assert_eq!(UserId::from_key_at(&k, 8), Some(u));
        assert_eq!(ChatId::from_key_at(&k, 0), Some(ChatId(7)));
        assert_eq!(UserId::from_key_at(&k, 9), None);
        assert!(UserId(2).key() > UserId(1).key());
        assert_eq!("42".parse::<SessionId>().unwrap(), SessionId(42));
    }
}
