//! Messenger-format reactions and edits (Messenger `message_reactions` / `message_edits`
//! webhook fields; Instagram sends reactions in the same shape), read by [`super::parse_item`]
//! for both platforms.
//!
//! - `reaction`: `{"mid", "action": "react"|"unreact", "reaction": "love"|…, "emoji"}` on a
//!   message the business received or sent → [`Reaction`] on that message (none on unreact).
//! - `message_edit`: `{"mid", "text", "num_edit"}` → [`MessageEdit`]: the customer changed
//!   the text of a message they sent earlier.

use serde_json::Value;

use super::{base_message, sender};
use crate::channels::json::{self, Obj};
use crate::channels::{InboundEvent, MessageEdit, ParseError, Reaction};

/// The emoji for a reaction name when Meta sent no `emoji` (older Graph versions).
fn emoji_for(name: &str) -> Option<&'static str> {
    Some(match name {
        "love" => "\u{2764}\u{fe0f}",
        "like" => "\u{1f44d}",
        "dislike" => "\u{1f44e}",
        "smile" | "laugh" => "\u{1f606}",
        "wow" => "\u{1f62e}",
        "sad" => "\u{1f622}",
        "angry" => "\u{1f620}",
        _ => return None,
    })
}

/// The reaction's `emoji`, or the emoji for its name.
fn shown_emoji(r: &Obj) -> Option<String> {
    json::opt_str(r, "emoji")
        .filter(|e| !e.trim().is_empty())
        .or_else(|| json::opt_str(r, "reaction").and_then(|n| emoji_for(&n).map(str::to_owned)))
}

/// A reaction or edit item, or `None` when `item` is neither.
pub(super) fn parse(
    item: &Obj,
    ipath: &dyn Fn() -> String,
) -> Result<Option<InboundEvent>, ParseError> {
    let sub = |k: &str| item.get(k).and_then(Value::as_object);
    if let Some(r) = sub("reaction") {
        let rpath = || format!("{}.reaction", ipath());
        let mid = json::req_str(r, "mid", &rpath)?;
        let emoji = match json::opt_str(r, "action").as_deref() {
            Some("unreact") => None,
            _ => {
                // A "react" that names no reaction we can show is skipped, not read as a
                // removal of the customer's earlier reaction.
                let Some(e) = shown_emoji(r) else {
                    return Ok(None);
                };
                Some(e)
            }
        };
        let timestamp_ms = json::int_field(item, "timestamp", ipath)?;
        let mut msg = base_message(item, ipath, format!("reaction:{mid}:{timestamp_ms}"))?;
        msg.reaction = Some(Reaction {
            message_id: mid,
            emoji,
        });
        return Ok(Some(InboundEvent::Message(msg)));
    }
    if let Some(e) = sub("message_edit") {
        let epath = || format!("{}.message_edit", ipath());
        let mid = json::req_str(e, "mid", &epath)?;
        let text = json::opt_str(e, "text").unwrap_or_default();
        let num_edit = json::int_field(e, "num_edit", &epath).unwrap_or(1);
        return Ok(Some(InboundEvent::Edit(MessageEdit {
            from: sender(item, ipath)?,
            message_id: mid,
            text,
            num_edit: u32::try_from(num_edit.max(0)).unwrap_or(u32::MAX),
        })));
    }
    Ok(None)
}
