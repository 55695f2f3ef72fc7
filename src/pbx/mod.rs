//! The PBX link: originate a call from an agent's extension to a number, through Asterisk AMI
//! (`ami`) or the Yeastar P-Series Open API (`yeastar`). Every exchange is bounded: 5 s to
//! connect, 10 s for the whole exchange; failures come back as a [`PbxError`] whose text is
//! shown to the agent.

pub(crate) mod ami;
pub mod link;
mod ws;
pub(crate) mod yeastar;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use yeastar::TokenCache;

/// The configured link (stored and validated by `domain::pbx`).
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

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(10),
        }
    }
}

/// How far the call got within the time we wait.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The agent's phone answered and the PBX is dialling the number.
    Answered,
    /// The PBX accepted the request and is ringing the agent's phone.
    Dialing,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallOutcome {
    pub status: CallStatus,
    /// For the agent, e.g. "your phone is ringing".
    pub message: String,
    /// The PBX's call id when it reports one (Yeastar).
    pub call_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PbxError {
    #[error("cannot reach the PBX: {0}")]
    Connect(String),
    #[error("the PBX did not answer in time ({0})")]
    Timeout(&'static str),
    #[error("the PBX refused the login: {0}")]
    Auth(String),
    #[error("the PBX refused the call: {0}")]
    Rejected(String),
    #[error("the call failed: {0}")]
    CallFailed(String),
    #[error("the PBX closed the connection ({0})")]
    Dropped(&'static str),
    #[error("unexpected answer from the PBX: {0}")]
    Protocol(String),
}

impl PbxError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, PbxError::Timeout(_))
    }
}

/// Logs in to the configured PBX without calling anyone: the PBX's own answer either way.
pub async fn probe(cfg: &PbxConfig, t: Timeouts) -> Result<String, PbxError> {
    match cfg {
        PbxConfig::None => Err(PbxError::Protocol("no PBX link configured".into())),
        PbxConfig::Ami(a) => ami::probe(a, t).await,
        PbxConfig::Yeastar(y) => yeastar::probe(y, t).await,
    }
}

/// Originate a call from extension `from` to `to` through the configured link.
pub async fn call(
    cfg: &PbxConfig,
    from: &str,
    to: &str,
    tokens: &TokenCache,
    now_ms: i64,
    t: Timeouts,
) -> Result<CallOutcome, PbxError> {
    match cfg {
        PbxConfig::None => Err(PbxError::Protocol("no PBX link configured".into())),
        PbxConfig::Ami(a) => ami::originate(a, from, to, t).await,
        PbxConfig::Yeastar(y) => yeastar::dial(y, from, to, tokens, now_ms, t).await,
    }
}

/// A number as the PBX should dial it: `+` and digits only.
pub fn dialable(number: &str) -> Option<String> {
    let plus = number.trim_start().starts_with('+');
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 2 || digits.len() > 20 {
        return None;
    }
    Some(if plus { format!("+{digits}") } else { digits })
}

/// An extension: digits (and `*`/`#`), short.
pub fn valid_extension(ext: &str) -> bool {
    !ext.is_empty()
        && ext.len() <= 20
        && ext
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | '#' | '_' | '-'))
}
