//! Messenger-format reactions and edits (Messenger `message_reactions` / `message_edits`
//! webhook fields; Instagram sends reactions in the same shape). Shared by both platforms'
//! parser (`messenger::parse_item`).
//!
//! - `reaction`: `{"mid", "action": "react"|"unreact", "reaction": "love"|…, "emoji"}` on a
//!   message the business received or sent → [`Reaction`] on that message (none on unreact).
//! - `message_edit`: `{"mid", "text", "num_edit"}` → [`MessageEdit`]: the customer changed
//!   the text of a message they sent earlier.

use serde_json::Value;

use super::json::{self, Obj};
use super::{InboundEvent, InboundMessage, MessageEdit, ParseError, Reaction};

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

fn sender(item: &Obj, ipath: &dyn Fn() -> String) -> Result<String, ParseError> {
    json::path_str(item, &["sender", "id"])
        .ok_or_else(|| ParseError::missing(&format!("{}.sender.id", ipath())))
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
                let e = json::opt_str(r, "emoji")
                    .filter(|e| !e.trim().is_empty())
                    .or_else(|| {
                        json::opt_str(r, "reaction").and_then(|n| emoji_for(&n).map(str::to_owned))
                    });
                // A "react" that names no reaction we can show is skipped, not read as a
                // removal of the customer's earlier reaction.
                match e {
                    Some(e) => Some(e),
                    None => return Ok(None),
                }
            }
        };
        let from = sender(item, ipath)?;
        let to = json::path_str(item, &["recipient", "id"]).unwrap_or_default();
        let timestamp_ms = json::int_field(item, "timestamp", ipath)?;
        return Ok(Some(InboundEvent::Message(InboundMessage {
            provider_id: format!("reaction:{mid}:{timestamp_ms}"),
            from,
            to,
            to_display: None,
            contact_name: None,
            timestamp_ms,
            text: String::new(),
            media: Vec::new(),
            reply_to: None,
            identity: Default::default(),
            keyword: None,
            choice: None,
            reaction: Some(Reaction {
                message_id: mid,
                emoji,
            }),
        })));
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
