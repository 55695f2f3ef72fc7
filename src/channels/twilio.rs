//! Twilio Programmable Messaging (SMS/MMS): inbound form webhooks, status callbacks, sending,
//! and media downloads. Verify `X-Twilio-Signature` with [`super::signature::verify_twilio`]
//! over [`parse_form`]'s pairs before trusting anything here.

use reqwest::Client;
use reqwest::header::LOCATION;
use serde_json::Value;

use super::http::{self, ApiError, MediaDownload};
use super::{
    DeliveryStatus, InboundEvent, InboundMessage, Keyword, MediaError, MediaKind, MediaRef,
    MediaSource, OutboundMessage, ParseCode, ParseError, ProviderError, SendError, SendOk,
    StatusTarget, StatusUpdate,
};

pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";
/// The only acceptable answer to a Twilio webhook (send with [`TWIML_CONTENT_TYPE`]).
pub const TWIML_EMPTY_RESPONSE: &str =
    r#"<?xml version="1.0" encoding="UTF-8"?><Response></Response>"#;
pub const TWIML_CONTENT_TYPE: &str = "text/xml";
/// Longest `Body` Twilio accepts (counted in characters).
pub const MAX_BODY_CHARS: usize = 1600;
/// Most media items per message, inbound and outbound.
pub const MAX_MEDIA: usize = 10;
/// Most form fields we accept in one webhook (Twilio sends a few dozen).
const MAX_FIELDS: usize = 1000;

/// Decode an `application/x-www-form-urlencoded` body into its (name, value) pairs, in order,
/// duplicates kept — exactly what signature verification needs.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, ParseError> {
    std::str::from_utf8(body).map_err(|e| {
        ParseError::new(
            ParseCode::BadUtf8,
            format!("body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    })?;
    let mut out = Vec::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if out.len() >= MAX_FIELDS {
            return Err(ParseError::too_many(MAX_FIELDS));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn required<'a>(params: &'a [(String, String)], name: &str) -> Result<&'a str, ParseError> {
    field(params, name)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ParseError::missing(name))
}

/// Is this form a status callback rather than an inbound message?
pub fn is_status_callback(params: &[(String, String)]) -> bool {
    matches!(field(params, "MessageStatus"), Some(s) if s != "received" && s != "receiving")
}

/// Parse an inbound message form. Twilio sends no timestamp, so the caller passes the
/// receive time. Unknown fields are ignored.
pub fn parse_inbound(
    params: &[(String, String)],
    received_at_ms: i64,
) -> Result<InboundMessage, ParseError> {
    let provider_id = required(params, "MessageSid")
        .or_else(|_| required(params, "SmsMessageSid"))
        .map_err(|_| ParseError::missing("MessageSid"))?
        .to_owned();
    let from = required(params, "From")?.to_owned();
    let to = required(params, "To")?.to_owned();
    let num_media = match field(params, "NumMedia").map(str::trim) {
        None | Some("") => 0,
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| ParseError::invalid("NumMedia", "a non-negative integer"))?,
    };
    if num_media > MAX_MEDIA {
        return Err(ParseError::new(
            ParseCode::TooManyItems,
            format!("NumMedia is {num_media}, at most {MAX_MEDIA} are allowed"),
        ));
    }
    let mut media = Vec::with_capacity(num_media);
    for i in 0..num_media {
        let url = required(params, &format!("MediaUrl{i}"))?.to_owned();
        let mime = field(params, &format!("MediaContentType{i}"))
            .filter(|m| !m.is_empty())
            .map(str::to_owned);
        media.push(MediaRef {
            kind: mime
                .as_deref()
                .map_or(MediaKind::File, MediaKind::from_mime),
            source: MediaSource::Url(url),
            mime,
            filename: None,
            caption: None,
            sha256: None,
        });
    }
    let text = field(params, "Body").unwrap_or_default().to_owned();
    Ok(InboundMessage {
        provider_id,
        from,
        to,
        to_display: None,
        contact_name: field(params, "ProfileName")
            .filter(|n| !n.is_empty())
            .map(str::to_owned),
        timestamp_ms: received_at_ms,
        text: if text.is_empty() && media.is_empty() {
            "[empty message]".to_owned()
        } else {
            text
        },
        media,
        reply_to: None,
        identity: Default::default(),
        keyword: keyword(params),
        reaction: None,
        choice: None,
    })
}

/// Twilio's default opt-out, opt-in and help keywords (twilio.com/docs/messaging/tutorials/
/// advanced-opt-out and Twilio's help article "Twilio support for opt-out keywords"): the
/// whole message, trimmed, case-insensitive. With Advanced Opt-Out Twilio names the kind in
/// `OptOutType` (STOP, START, HELP), which wins (it covers custom and localized keywords).
pub const OPT_OUT_WORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
pub const OPT_IN_WORDS: &[&str] = &["START", "YES", "UNSTOP"];
pub const HELP_WORDS: &[&str] = &["HELP", "INFO"];

fn keyword(params: &[(String, String)]) -> Option<Keyword> {
    match field(params, "OptOutType")
        .map(str::to_ascii_uppercase)
        .as_deref()
    {
        Some("STOP") => return Some(Keyword::OptOut),
        Some("START") => return Some(Keyword::OptIn),
        Some("HELP") => return Some(Keyword::Help),
        _ => {}
    }
    let body = field(params, "Body")?.trim().to_ascii_uppercase();
    if OPT_OUT_WORDS.contains(&body.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN_WORDS.contains(&body.as_str()) {
        Some(Keyword::OptIn)
    } else if HELP_WORDS.contains(&body.as_str()) {
        Some(Keyword::Help)
    } else {
        None
    }
}

/// Parse a status callback. `queued`, `accepted`, `scheduled` and `sending` are stages before
/// the message left Twilio (we already show it as queued), so they give `None`, as do unknown
/// statuses; `undelivered` and `canceled` are failures.
pub fn parse_status(
    params: &[(String, String)],
    received_at_ms: i64,
) -> Result<Option<StatusUpdate>, ParseError> {
    let sid = required(params, "MessageSid")
        .or_else(|_| required(params, "SmsSid"))
        .map_err(|_| ParseError::missing("MessageSid"))?
        .to_owned();
    let status = match required(params, "MessageStatus")? {
        "sent" => DeliveryStatus::Sent,
        "delivered" => DeliveryStatus::Delivered,
        "read" => DeliveryStatus::Read,
        "failed" | "undelivered" | "canceled" => DeliveryStatus::Failed,
        _ => return Ok(None),
    };
    let error = field(params, "ErrorCode")
        .filter(|c| !c.is_empty() && *c != "0")
        .map(|code| ProviderError {
            code: code.to_owned(),
            // Twilio's message when it sends one (status callbacks usually do not), else
            // our plain words for the code.
            message: field(params, "ErrorMessage")
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .unwrap_or_else(|| describe_error(code).to_owned()),
        });
    Ok(Some(StatusUpdate {
        target: StatusTarget::ProviderId(sid),
        status,
        error,
        timestamp_ms: received_at_ms,
    }))
}

/// Parse either kind of Twilio webhook body.
pub fn parse_webhook(body: &[u8], received_at_ms: i64) -> Result<Vec<InboundEvent>, ParseError> {
    let params = parse_form(body)?;
    if is_status_callback(&params) {
        Ok(parse_status(&params, received_at_ms)?
            .map(InboundEvent::Status)
            .into_iter()
            .collect())
    } else {
        Ok(vec![InboundEvent::Message(parse_inbound(
            &params,
            received_at_ms,
        )?)])
    }
}

/// Plain words for Twilio error codes (twilio.com/docs/api/errors/<code>).
pub fn describe_error(code: &str) -> &'static str {
    match code {
        "21610" => "the recipient has opted out (replied STOP)",
        "30032" => {
            "the toll-free number is not verified; finish Toll-Free Verification in the Twilio console"
        }
        "30034" => {
            "the number is not registered for US A2P 10DLC; register a brand and campaign in the Twilio console, until then US carriers block these messages"
        }
        "21614" => "the number is not a mobile number",
        "30003" => "unreachable destination handset",
        "30004" => "message blocked by the recipient",
        "30005" => "unknown destination handset",
        "30006" => "landline or unreachable carrier",
        "30007" => "filtered by the carrier",
        "30008" => "unknown error from the carrier",
        _ => "delivery failed",
    }
}

/// Who the message comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioSender {
    /// A Twilio phone number (`From`).
    From(String),
    /// A Messaging Service (`MessagingServiceSid`).
    MessagingService(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    pub base_url: String,
    pub account_sid: String,
    pub auth_token: String,
    pub sender: TwilioSender,
    /// Public URL for status callbacks, if status updates are wanted.
    pub status_callback: Option<String>,
}

/// The form fields for `POST …/Messages.json`. Text and media URL may be combined; a template
/// is not a Twilio concept and is refused.
pub fn send_form(
    cfg: &TwilioConfig,
    msg: &OutboundMessage,
) -> Result<Vec<(&'static str, String)>, SendError> {
    let invalid = |m: &str| SendError::permanent("invalid_message", m);
    if msg.template.is_some() {
        return Err(invalid(
            "Twilio has no message templates; send text instead",
        ));
    }
    if msg.to.trim().is_empty() {
        return Err(invalid("no recipient"));
    }
    let mut form = vec![("To", msg.to.clone())];
    match &cfg.sender {
        TwilioSender::From(n) => form.push(("From", n.clone())),
        TwilioSender::MessagingService(s) => form.push(("MessagingServiceSid", s.clone())),
    }
    let text = msg.text.as_deref().unwrap_or_default();
    let chars = text.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(SendError::permanent(
            "body_too_long",
            format!("the text has {chars} characters; SMS allows at most {MAX_BODY_CHARS}"),
        ));
    }
    if !text.is_empty() {
        form.push(("Body", text.to_owned()));
    }
    match msg.media.as_ref().map(|m| &m.source) {
        Some(MediaSource::Url(u)) => form.push(("MediaUrl", u.clone())),
        Some(MediaSource::WhatsAppMediaId(_)) => {
            return Err(invalid(
                "Twilio needs a public media URL, not a WhatsApp media id",
            ));
        }
        None if text.is_empty() => return Err(invalid("nothing to send: no text or media")),
        None => {}
    }
    if let Some(cb) = &cfg.status_callback {
        form.push(("StatusCallback", cb.clone()));
    }
    Ok(form)
}

pub(crate) fn api_error(v: &Value) -> Option<ApiError> {
    let code = match v.get("code")? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => return None,
    };
    let message = v
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message given")
        .to_owned();
    Some(ApiError {
        transient: code == "20429",
        code,
        message,
    })
}

fn sid(v: &Value) -> Option<String> {
    v.get("sid")?
        .as_str()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Send an SMS/MMS; `Ok` carries the message SID status callbacks will refer to.
pub async fn send(
    client: &Client,
    cfg: &TwilioConfig,
    msg: &OutboundMessage,
) -> Result<SendOk, SendError> {
    let form = send_form(cfg, msg)?;
    let url = http::endpoint(
        &cfg.base_url,
        &["2010-04-01", "Accounts", &cfg.account_sid, "Messages.json"],
    )
    .map_err(|e| SendError::permanent("bad_config", e))?;
    let result = client
        .post(url)
        .basic_auth(&cfg.account_sid, Some(&cfg.auth_token))
        .form(&form)
        .send()
        .await;
    let value = http::send_outcome(result, api_error, sid).await?;
    Ok(SendOk {
        provider_id: sid(&value).unwrap_or_default(),
    })
}

fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Download an inbound MMS file. Twilio media URLs need Basic auth and redirect to a CDN; the
/// credentials are only ever sent to the configured Twilio base's origin (a URL elsewhere is
/// refused), and redirects elsewhere are followed without them.
pub async fn fetch_media(
    client: &Client,
    cfg: &TwilioConfig,
    media_url: &str,
    max_bytes: u64,
) -> Result<MediaDownload, MediaError> {
    let refuse = |message: String| MediaError::Permanent {
        code: "bad_media_url".into(),
        message,
    };
    let base = url::Url::parse(&cfg.base_url).map_err(|e| refuse(format!("bad base: {e}")))?;
    let mut url = url::Url::parse(media_url).map_err(|e| refuse(format!("bad URL: {e}")))?;
    if !same_origin(&url, &base) {
        return Err(refuse(format!(
            "media URL {media_url:?} is not on the configured Twilio base"
        )));
    }
    // The client may follow redirects itself (reqwest drops credentials across hosts); any
    // redirect it hands back to us is followed here, up to five hops.
    for _ in 0..=5 {
        let mut req = client.get(url.clone());
        if same_origin(&url, &base) {
            req = req.basic_auth(&cfg.account_sid, Some(&cfg.auth_token));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| http::media_transport_error(&e))?;
        if !resp.status().is_redirection() {
            return MediaDownload::from_response(resp, max_bytes, None, None);
        }
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| refuse("redirect without a Location".into()))?;
        url = url
            .join(location)
            .map_err(|e| refuse(format!("bad redirect: {e}")))?;
    }
    Err(refuse("too many redirects".into()))
}

#[cfg(test)]
mod tests;
