//! Escalate to a call: the PBX rings the agent's own extension, then dials a customer of an SMS
//! or WhatsApp session (recorded in the session's timeline) or a colleague's extension. Without
//! a PBX link the caller gets a conflict naming the `tel:` link to use instead.

use super::channels::ChannelKind;
use super::users::User;
use super::{contacts, pbx, sessions, users};
use crate::domain::sessions::TimelineKind;
use crate::error::{Error, Result};
use crate::ids::SessionId;
use crate::ids::UserId;
use crate::pbx::{self as client, CallOutcome, PbxError, Timeouts, TokenCache};
use crate::store::Store;

/// A call the PBX was asked to make: its outcome (the PBX's own failure included), who was
/// called and the agent's extension that rings first.
pub struct Call {
    pub outcome: std::result::Result<CallOutcome, PbxError>,
    pub number: String,
    pub extension: String,
}

fn own_extension(ext: &str) -> Result<String> {
    let ext = ext.trim();
    if ext.is_empty() {
        return Err(Error::Rule(
            "you have no phone extension; ask an administrator to set one in your user settings"
                .into(),
        ));
    }
    if !client::valid_extension(ext) {
        return Err(Error::Rule(format!(
            "your extension {ext:?} is not dialable"
        )));
    }
    Ok(ext.to_string())
}

fn no_link(number: &str) -> Error {
    Error::Conflict(format!("no PBX link configured; use tel:{number}"))
}

/// `user` calls the customer of an SMS or WhatsApp session they see.
pub async fn call_customer(
    store: &Store,
    tokens: &TokenCache,
    user: &User,
    session_id: SessionId,
    now: i64,
) -> Result<Call> {
    let u = user.clone();
    let (session, contact, cfg) = store
        .read(move |rtx| {
            let s = sessions::get_visible(rtx, &u, session_id)?;
            let c = contacts::get(rtx, s.contact_id)?.ok_or(Error::NotFound("contact"))?;
            Ok((s, c, pbx::get(rtx)?))
        })
        .await?;
    if !matches!(
        session.channel_kind,
        ChannelKind::Sms | ChannelKind::Whatsapp
    ) {
        return Err(Error::Rule(format!(
            "{} contacts have no phone number; calls are for SMS and WhatsApp sessions",
            session.channel_kind.as_str()
        )));
    }
    let raw = if session.channel_kind == ChannelKind::Whatsapp && !contact.address.starts_with('+')
    {
        format!("+{}", contact.address)
    } else {
        contact.address.clone()
    };
    let number = client::dialable(&raw)
        .ok_or_else(|| Error::Rule(format!("{:?} is not a dialable number", contact.address)))?;
    if !cfg.is_configured() {
        return Err(no_link(&number));
    }
    let ext = own_extension(&user.extension)?;
    let outcome = client::call(&cfg, &ext, &number, tokens, now, Timeouts::default()).await;
    // The PBX's own words (or the error) as the detail, ours as words in each reader's language.
    let (key, detail) = match &outcome {
        Ok(o) => ("tl.d.call", o.message.clone()),
        Err(e) => ("tl.d.call_failed", e.to_string()),
    };
    let phrase = crate::locale::Phrase::new(key)
        .arg("number", &number)
        .arg("ext", &ext);
    let uid = user.id;
    store
        .write(move |ctx| {
            sessions::timeline_phrased_in(
                ctx,
                session_id,
                Some(uid),
                TimelineKind::Call,
                Some(phrase.clone()),
                &detail,
            )
        })
        .await?;
    Ok(Call {
        outcome,
        number,
        extension: ext,
    })
}

/// `user` calls a colleague's extension from their own (internal chat).
pub async fn call_colleague(
    store: &Store,
    tokens: &TokenCache,
    user: &User,
    to: UserId,
    now: i64,
) -> Result<Call> {
    let (target, cfg) = store
        .read(move |rtx| Ok((users::get(rtx, to)?, pbx::get(rtx)?)))
        .await?;
    let target = match target {
        Some(u) if !u.disabled => u,
        Some(u) => {
            return Err(Error::invalid(
                "to_user_id",
                format!("{} is disabled", u.username),
            ));
        }
        None => {
            return Err(Error::invalid(
                "to_user_id",
                format!("user {to} does not exist"),
            ));
        }
    };
    let number = target.extension.trim().to_string();
    if !client::valid_extension(&number) {
        return Err(Error::Rule(format!(
            "{} has no phone extension",
            target.display_name_or_username()
        )));
    }
    if target.id == user.id {
        return Err(Error::invalid("to_user_id", "you cannot call yourself"));
    }
    if !cfg.is_configured() {
        return Err(no_link(&number));
    }
    let ext = own_extension(&user.extension)?;
    let outcome = client::call(&cfg, &ext, &number, tokens, now, Timeouts::default()).await;
    Ok(Call {
        outcome,
        number,
        extension: ext,
    })
}
