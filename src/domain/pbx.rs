//! The PBX link an admin configures for "escalate to a call": Asterisk AMI or the Yeastar
//! P-Series Open API. Secrets are stored in full and never shown back (`masked`); a masked
//! value sent back unchanged keeps the stored secret.

use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::audit;
use super::channels::mask;
use crate::error::{Error, Result};
use crate::store::WriteCtx;
use crate::store::codec;
use crate::store::tables::WORKFLOW_SETTINGS;

const KEY: &[u8] = b"pbx";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AmiConfig {
    pub host: String,
    #[serde(default = "default_ami_port")]
    #[schema(minimum = 1, maximum = 65535)]
    pub port: u16,
    pub username: String,
    #[serde(default)]
    pub secret: String,
    /// Dialplan context the customer's number is dialled in, e.g. `from-internal`.
    pub context: String,
    /// Caller id shown on the agent's phone, e.g. `Switchboard <100>`.
    #[serde(default)]
    pub caller_id: String,
}

fn default_ami_port() -> u16 {
    5038
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct YeastarConfig {
    /// e.g. `https://pbx.example.lan:8088/openapi/v1.0`.
    pub base_url: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Accept the PBX's self-signed certificate (LAN appliances often have one).
    #[serde(default)]
    pub accept_invalid_certs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, Default)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PbxConfig {
    /// No PBX link: the call button is a `tel:` link.
    #[default]
    None,
    Ami(AmiConfig),
    Yeastar(YeastarConfig),
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
    pub fn kind(&self) -> &'static str {
        match self {
            PbxConfig::None => "none",
            PbxConfig::Ami(_) => "ami",
            PbxConfig::Yeastar(_) => "yeastar",
        }
    }
    pub fn is_configured(&self) -> bool {
        !matches!(self, PbxConfig::None)
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
    Ok(codec::get(&rtx.open_table(WORKFLOW_SETTINGS)?, KEY)?.unwrap_or_default())
}

pub fn set_in(ctx: &mut WriteCtx<'_>, actor: u64, input: &PbxConfig) -> Result<PbxConfig> {
    let old: PbxConfig =
        codec::get(&ctx.txn.open_table(WORKFLOW_SETTINGS)?, KEY)?.unwrap_or_default();
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
    codec::put(&mut ctx.txn.open_table(WORKFLOW_SETTINGS)?, KEY, &new)?;
    let detail = match &new {
        PbxConfig::None => "removed".to_string(),
        PbxConfig::Ami(a) => format!("AMI {}:{} as {}", a.host, a.port, a.username),
        PbxConfig::Yeastar(y) => format!("Yeastar {} as {}", y.base_url, y.client_id),
    };
    audit::record(ctx, Some(actor), "pbx.update", "pbx", detail)?;
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

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
