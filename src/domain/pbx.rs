//! The PBX link an admin configures (the types live with the clients in `crate::pbx`) for "escalate to a call": Asterisk AMI or the Yeastar
//! P-Series Open API. Secrets are stored in full and never shown back (`masked`); a masked
//! value sent back unchanged keeps the stored secret.

use crate::ids::UserId;
use crate::locale::Phrase;
use redb::ReadTransaction;

use super::channels::mask;
use super::{audit, settings};
use crate::error::{Error, Result};
use crate::pbx::PbxConfig;
use crate::store::{Store, WriteCtx};

const KEY: &[u8] = b"pbx";
const TEST_KEY: &[u8] = b"pbx_test";

/// The last **Test** an admin ran on the PBX page, for its status line.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PbxTest {
    pub at: i64,
    pub ok: bool,
    /// `ami` or `yeastar`.
    pub kind: String,
    /// The PBX's own answer (or why it could not be reached).
    pub message: String,
}

pub fn last_test(rtx: &ReadTransaction) -> Result<Option<PbxTest>> {
    settings::get(rtx, TEST_KEY)
}

/// Keeps the outcome of a **Test** (time from the store's clock).
pub async fn record_test(
    store: &Store,
    ok: bool,
    kind: String,
    message: String,
) -> Result<PbxTest> {
    store
        .write(move |ctx| {
            let t = PbxTest {
                at: ctx.now,
                ok,
                kind: kind.clone(),
                message: message.chars().take(500).collect(),
            };
            settings::put_in(ctx, TEST_KEY, &t)?;
            Ok(t)
        })
        .await
}

impl PbxConfig {
    pub fn masked(&self) -> Self {
        match self.clone() {
            PbxConfig::None => PbxConfig::None,
            PbxConfig::Ami(mut a) => {
                a.secret = mask(&a.secret);
                PbxConfig::Ami(a)
            }
            PbxConfig::Yeastar(mut y) => {
                y.client_secret = mask(&y.client_secret);
                PbxConfig::Yeastar(y)
            }
        }
    }
}

/// A submitted secret that is empty or the mask shown keeps the stored one.
fn keep_secret(new: &str, old: &str) -> String {
    if new.is_empty() || new.starts_with('•') {
        old.to_string()
    } else {
        new.to_string()
    }
}

fn validate(c: &PbxConfig) -> Result<()> {
    match c {
        PbxConfig::None => Ok(()),
        PbxConfig::Ami(a) => {
            if a.host.trim().is_empty() || a.host.len() > 255 || a.host.contains(['/', ' ']) {
                return Err(Error::invalid("host", "must be a host name or IP address"));
            }
            if a.port == 0 {
                return Err(Error::invalid("port", "must be 1 to 65535"));
            }
            if a.username.trim().is_empty() || a.username.contains(['\r', '\n']) {
                return Err(Error::invalid("username", "is required"));
            }
            if a.secret.is_empty() || a.secret.contains(['\r', '\n']) {
                return Err(Error::invalid("secret", "is required"));
            }
            if a.context.trim().is_empty() || a.context.contains(['\r', '\n']) {
                return Err(Error::invalid(
                    "context",
                    "is required (the dialplan context for outgoing calls)",
                ));
            }
            if a.caller_id.contains(['\r', '\n']) {
                return Err(Error::invalid("caller_id", "must be one line"));
            }
            Ok(())
        }
        PbxConfig::Yeastar(y) => {
            let u = url::Url::parse(y.base_url.trim())
                .map_err(|e| Error::invalid("base_url", e.to_string()))?;
            if !matches!(u.scheme(), "http" | "https") {
                return Err(Error::invalid("base_url", "must be an http(s) URL"));
            }
            if y.client_id.trim().is_empty() {
                return Err(Error::invalid("client_id", "is required"));
            }
            if y.client_secret.is_empty() {
                return Err(Error::invalid("client_secret", "is required"));
            }
            Ok(())
        }
    }
}

pub fn get(rtx: &ReadTransaction) -> Result<PbxConfig> {
    Ok(settings::get(rtx, KEY)?.unwrap_or_default())
}

/// `input` with any masked or empty secret replaced by the stored one (for **Test** before
/// saving: the admin need not type the secret again).
pub fn with_stored_secrets(rtx: &ReadTransaction, input: PbxConfig) -> Result<PbxConfig> {
    let old = get(rtx)?;
    let mut new = input;
    match (&mut new, &old) {
        (PbxConfig::Ami(n), PbxConfig::Ami(o)) => n.secret = keep_secret(&n.secret, &o.secret),
        (PbxConfig::Yeastar(n), PbxConfig::Yeastar(o)) => {
            n.client_secret = keep_secret(&n.client_secret, &o.client_secret)
        }
        _ => {}
    }
    if let PbxConfig::Yeastar(y) = &mut new {
        y.base_url = y.base_url.trim().trim_end_matches('/').into();
    }
    Ok(new)
}

/// An administrator sets the PBX link (callers check the role); a masked secret sent back
/// keeps the stored one.
pub async fn set(store: &Store, actor: UserId, input: PbxConfig) -> Result<PbxConfig> {
    store.write(move |ctx| set_in(ctx, actor, &input)).await
}

pub fn set_in(ctx: &mut WriteCtx<'_>, actor: UserId, input: &PbxConfig) -> Result<PbxConfig> {
    let old: PbxConfig = settings::get_in(ctx, KEY)?.unwrap_or_default();
    let mut new = input.clone();
    match (&mut new, &old) {
        (PbxConfig::Ami(n), PbxConfig::Ami(o)) => n.secret = keep_secret(&n.secret, &o.secret),
        (PbxConfig::Yeastar(n), PbxConfig::Yeastar(o)) => {
            n.client_secret = keep_secret(&n.client_secret, &o.client_secret)
        }
        _ => {}
    }
    match &mut new {
        PbxConfig::Ami(a) => {
            a.host = a.host.trim().into();
            a.username = a.username.trim().into();
            a.context = a.context.trim().into();
            a.caller_id = a.caller_id.trim().into();
        }
        PbxConfig::Yeastar(y) => {
            y.base_url = y.base_url.trim().trim_end_matches('/').into();
            y.client_id = y.client_id.trim().into();
        }
        PbxConfig::None => {}
    }
    validate(&new)?;
    settings::put_in(ctx, KEY, &new)?;
    let detail = match &new {
        PbxConfig::None => Phrase::new("aud.d.pbx_removed"),
        PbxConfig::Ami(a) => Phrase::new("aud.d.pbx_ami")
            .arg("host", &a.host)
            .arg("port", a.port)
            .arg("user", &a.username),
        PbxConfig::Yeastar(y) => Phrase::new("aud.d.pbx_yeastar")
            .arg("url", &y.base_url)
            .arg("user", &y.client_id),
    };
    audit::record_phrased(ctx, Some(actor), "pbx.update", "pbx", vec![detail])?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pbx::AmiConfig;

    #[test]
    fn secrets_are_masked() {
        let c = PbxConfig::Ami(AmiConfig {
            host: "pbx".into(),
            port: 5038,
            username: "u".into(),
            secret: "supersecretvalue".into(),
            context: "ctx".into(),
            caller_id: String::new(),
        });
        let m = serde_json::to_string(&c.masked()).unwrap();
        assert!(!m.contains("supersecret"), "{m}");
        assert_eq!(
            keep_secret("••••alue", "supersecretvalue"),
            "supersecretvalue"
        );
        assert_eq!(keep_secret("new", "old"), "new");
    }
}
