//! WhatsApp templates (registered by admins to match what the provider approved) and canned
//! replies (shared by admins, or personal) for the composer's `/shortcut` insertion.

use crate::ids::ChannelId;
use crate::ids::UserId;
use redb::{ReadTransaction, ReadableTable};
use serde::{Deserialize, Serialize};

use super::audit;
use super::messages::TemplateRef;
use crate::error::{Error, Result};
use crate::store::codec::{self, k1};
use crate::store::tables::TEMPLATES;
use crate::store::{Store, WriteCtx};

mod canned;

pub use canned::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Template {
    pub id: u64,
    /// The provider's template name, e.g. `order_update`.
    pub name: String,
    /// The provider's language code, e.g. `en_US`.
    pub language: String,
    /// The approved body text with `{{1}}` … `{{n}}` parameters.
    pub body: String,
    /// How many parameters the body takes.
    pub params: usize,
    /// Only for this channel (None = every WhatsApp channel).
    pub channel_id: Option<ChannelId>,
    pub created: i64,
    pub updated: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TemplateInput {
    pub name: String,
    pub language: String,
    pub body: String,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
}

/// The number of parameters in `body`, which must be `{{1}}` … `{{n}}` with none missing.
pub fn count_params(body: &str) -> Result<usize> {
    let mut seen = std::collections::BTreeSet::new();
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else { break };
        let inner = after[..j].trim();
        match inner.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => {
                seen.insert(n);
            }
            _ => {
                return Err(Error::invalid(
                    "body",
                    format!("{{{{{inner}}}}} is not a parameter; use {{{{1}}}}, {{{{2}}}}, …"),
                ));
            }
        }
        rest = &after[j + 2..];
    }
    let n = seen.len();
    if seen.iter().copied().ne(1..=n) {
        return Err(Error::invalid(
            "body",
            "parameters must be numbered {{1}} to {{n}} without gaps",
        ));
    }
    Ok(n)
}

/// The body with `{{i}}` replaced by `params[i-1]`.
pub fn render(body: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            return out;
        };
        match after[..j]
            .trim()
            .parse::<usize>()
            .ok()
            .and_then(|n| params.get(n.wrapping_sub(1)))
        {
            Some(p) => out.push_str(p),
            None => out.push_str(&rest[i..i + 4 + j]),
        }
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

fn validate(input: &TemplateInput) -> Result<(String, String, String, usize)> {
    let name = input.name.trim();
    if name.is_empty()
        || name.len() > 512
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(Error::invalid(
            "name",
            "must be the provider's template name: lowercase letters, digits and _",
        ));
    }
    let language = input.language.trim();
    if language.is_empty()
        || language.len() > 15
        || !language
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::invalid(
            "language",
            "must be a language code such as en_US or de",
        ));
    }
    let body = input.body.trim();
    if body.is_empty() || body.chars().count() > 1024 {
        return Err(Error::invalid("body", "must be 1 to 1024 characters"));
    }
    let n = count_params(body)?;
    Ok((name.into(), language.into(), body.into(), n))
}

pub fn list(rtx: &ReadTransaction) -> Result<Vec<Template>> {
    let t = rtx.open_table(TEMPLATES)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode::<Template>(item?.1.value())?);
    }
    out.sort_by(|a, b| (&a.name, &a.language).cmp(&(&b.name, &b.language)));
    Ok(out)
}

fn list_in(ctx: &WriteCtx<'_>) -> Result<Vec<Template>> {
    let t = ctx.txn.open_table(TEMPLATES)?;
    let mut out = Vec::new();
    for item in t.iter()? {
        out.push(codec::decode::<Template>(item?.1.value())?);
    }
    Ok(out)
}

/// One registered template, if it (still) exists.
pub fn get_in(ctx: &WriteCtx<'_>, id: u64) -> Result<Option<Template>> {
    codec::get(&ctx.txn.open_table(TEMPLATES)?, &k1(id))
}

/// Templates usable on `channel_id` (its own and the ones for every channel).
pub fn for_channel(rtx: &ReadTransaction, channel_id: ChannelId) -> Result<Vec<Template>> {
    Ok(list(rtx)?
        .into_iter()
        .filter(|t| t.channel_id.is_none_or(|c| c == channel_id))
        .collect())
}

/// An administrator registers (`id` None) or changes a template (callers check the role).
pub async fn save(
    store: &Store,
    actor: UserId,
    id: Option<u64>,
    input: TemplateInput,
) -> Result<Template> {
    store
        .write(move |ctx| save_in(ctx, actor, id, &input))
        .await
}

/// An administrator removes a template; messages already sent keep their text.
pub async fn delete(store: &Store, actor: UserId, id: u64) -> Result<()> {
    store.write(move |ctx| delete_in(ctx, actor, id)).await
}

pub fn save_in(
    ctx: &mut WriteCtx<'_>,
    actor: UserId,
    id: Option<u64>,
    input: &TemplateInput,
) -> Result<Template> {
    let (name, language, body, params) = validate(input)?;
    if let Some(c) = input.channel_id {
        let ch = super::channels::get_in(ctx, c)
            .map_err(|_| Error::invalid("channel_id", format!("channel {c} does not exist")))?;
        if ch.kind != super::channels::ChannelKind::Whatsapp {
            return Err(Error::invalid(
                "channel_id",
                "templates are for WhatsApp channels",
            ));
        }
    }
    if list_in(ctx)?.iter().any(|t| {
        Some(t.id) != id
            && t.name == name
            && t.language == language
            && t.channel_id == input.channel_id
    }) {
        return Err(Error::Conflict(format!(
            "template {name} ({language}) is already registered"
        )));
    }
    let mut tbl = ctx.txn.open_table(TEMPLATES)?;
    let (tid, created) = match id {
        Some(id) => {
            let old: Template = codec::get(&tbl, &k1(id))?.ok_or(Error::NotFound("template"))?;
            (id, old.created)
        }
        None => (ctx.next_id("template")?, ctx.now),
    };
    let t = Template {
        id: tid,
        name,
        language,
        body,
        params,
        channel_id: input.channel_id,
        created,
        updated: ctx.now,
    };
    codec::put(&mut tbl, &k1(tid), &t)?;
    drop(tbl);
    audit::record_phrased(
        ctx,
        Some(actor),
        if id.is_some() {
            "template.update"
        } else {
            "template.create"
        },
        format!("template:{tid}"),
        vec![
            crate::locale::Phrase::new("aud.d.template")
                .arg("name", &t.name)
                .arg("language", &t.language)
                .arg("n", t.params),
        ],
    )?;
    Ok(t)
}

pub fn delete_in(ctx: &mut WriteCtx<'_>, actor: UserId, id: u64) -> Result<()> {
    let old: Template = {
        let mut tbl = ctx.txn.open_table(TEMPLATES)?;
        let old = codec::get(&tbl, &k1(id))?.ok_or(Error::NotFound("template"))?;
        tbl.remove(k1(id).as_slice())?;
        old
    };
    audit::record(
        ctx,
        Some(actor),
        "template.delete",
        format!("template:{id}"),
        format!("{} ({})", old.name, old.language),
    )
}

/// Checks a template send against the registered templates: known name and language for this
/// channel, exactly the right number of non-empty parameters. Returns the rendered text and the
/// reference to store on the message.
pub fn check_send_in(
    ctx: &WriteCtx<'_>,
    channel_id: ChannelId,
    r: &TemplateRef,
) -> Result<(String, TemplateRef)> {
    let all = list_in(ctx)?;
    let found = all
        .iter()
        .filter(|t| t.name == r.name.trim() && t.language == r.language.trim())
        .filter(|t| t.channel_id.is_none_or(|c| c == channel_id))
        // A channel's own registration wins over the one for every channel.
        .max_by_key(|t| t.channel_id.is_some())
        .ok_or_else(|| {
            Error::invalid(
                "template",
                format!(
                    "template {} ({}) is not registered for this channel; an admin must register it as approved by WhatsApp",
                    r.name, r.language
                ),
            )
        })?;
    let given = r.params.len();
    if given < found.params {
        return Err(Error::invalid(
            "template.params",
            format!(
                "template {} needs {} parameters; {} missing",
                found.name,
                found.params,
                found.params - given
            ),
        ));
    }
    if given > found.params {
        return Err(Error::invalid(
            "template.params",
            format!(
                "template {} takes {} parameters, not {given}",
                found.name, found.params
            ),
        ));
    }
    if let Some(i) = r.params.iter().position(|p| p.trim().is_empty()) {
        return Err(Error::invalid(
            "template.params",
            format!("parameter {{{{{}}}}} is empty", i + 1),
        ));
    }
    if r.params.iter().any(|p| p.chars().count() > 1024) {
        return Err(Error::invalid(
            "template.params",
            "each parameter is at most 1024 characters",
        ));
    }
    let params: Vec<String> = r.params.iter().map(|p| p.trim().to_string()).collect();
    Ok((
        render(&found.body, &params),
        TemplateRef {
            name: found.name.clone(),
            language: found.language.clone(),
            params,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_counted_and_rendered() {
        assert_eq!(
            count_params("Hi {{1}}, order {{2}} ships {{1}}").unwrap(),
            2
        );
        assert_eq!(count_params("no params").unwrap(), 0);
        assert!(count_params("gap {{1}} {{3}}").is_err());
        assert!(count_params("bad {{name}}").is_err());
        assert_eq!(
            render("Hi {{1}}, order {{2}}.", &["Ann".into(), "42".into()]),
            "Hi Ann, order 42."
        );
        assert_eq!(render("x {{3}} y", &[]), "x {{3}} y");
        assert_eq!(render("open {{ end", &[]), "open {{ end");
    }
}
