//! The Yeastar P-Series event subscription (Yeastar developer guide, "Monitor Events via
//! WebSocket"): `POST /get_token`, then a WebSocket to `{base}/subscribe?access_token=…`
//! (`ws://` for an `http://` base, `wss://` for `https://`), the text message
//! `{"topic_list":[30008,30009,30011,30012]}` answered `{"errcode":0,"errmsg":"SUCCESS"}`, and the
//! text `heartbeat` (answered `heartbeat response`) so the PBX does not close a connection
//! that was quiet for 60 s. Events arrive as `{"type":30008,"sn":"…","msg":"<JSON text>"}`.
//!
//! The WebSocket itself is `tokio-tungstenite` (ping answers, fragments, at most 1 MiB a
//! message), with our rustls configuration (ring, webpki roots or the PBX's own certificate).

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};
use tokio_tungstenite::tungstenite::{
    self, Message, client::IntoClientRequest, protocol::WebSocketConfig,
};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::link::{
    CallState, Cdr, Direction, Disposition, LegPhase, LinkMsg, LinkTimeouts, PbxEvent,
};
use super::{PbxError, YeastarConfig};

/// The events subscribed: extension call state, presence, call state (members), new CDR.
pub const TOPICS: &str = r#"{"topic_list":[30008,30009,30011,30012]}"#;
const MAX_MESSAGE: usize = 1024 * 1024;
/// Tokens live 30 minutes: reconnect with a fresh one before.
const TOKEN_LIFE: Duration = Duration::from_secs(25 * 60);

pub(super) enum Frame {
    Text(String),
    Close,
}

pub(super) struct Ws {
    s: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// `http(s)://host:port/path` → `ws(s)://host:port/path/subscribe?access_token=…`.
fn target(base: &str, token: &str) -> Result<String, PbxError> {
    let mut u = url::Url::parse(&format!("{}/subscribe", base.trim_end_matches('/')))
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    u.query_pairs_mut().append_pair("access_token", token);
    let scheme = match u.scheme() {
        "https" => "wss",
        "http" => "ws",
        other => return Err(PbxError::Protocol(format!("scheme {other}"))),
    };
    u.set_scheme(scheme)
        .map_err(|()| PbxError::Protocol(format!("scheme {scheme}")))?;
    if u.host_str().is_none() {
        return Err(PbxError::Protocol("no host".into()));
    }
    Ok(u.into())
}

mod insecure {
    use rustls::DigitallySignedStruct;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};

    /// For `accept_invalid_certs`: the PBX's self-signed certificate (signatures still checked).
    #[derive(Debug)]
    pub struct AcceptAny(pub rustls::crypto::CryptoProvider);

    impl ServerCertVerifier for AcceptAny {
        fn verify_server_cert(
            &self,
            _: &CertificateDer<'_>,
            _: &[CertificateDer<'_>],
            _: &ServerName<'_>,
            _: &[u8],
            _: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }
        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }
        fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }
}

fn tls_config(accept_invalid: bool) -> Result<rustls::ClientConfig, PbxError> {
    let provider = rustls::crypto::ring::default_provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_safe_default_protocol_versions()
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    Ok(if accept_invalid {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    })
}

fn ws_error(e: tungstenite::Error, stage: &'static str) -> PbxError {
    match e {
        tungstenite::Error::Http(resp) => PbxError::Protocol(format!(
            "the PBX refused the event subscription: HTTP {}",
            resp.status()
        )),
        tungstenite::Error::Capacity(_) => PbxError::Protocol("an event larger than 1 MiB".into()),
        tungstenite::Error::Tls(e) => PbxError::Connect(format!("TLS: {e}")),
        tungstenite::Error::Io(_)
        | tungstenite::Error::ConnectionClosed
        | tungstenite::Error::AlreadyClosed => PbxError::Dropped(stage),
        other => PbxError::Protocol(format!("{stage}: {other}")),
    }
}

impl Ws {
    /// Connects and upgrades (bounded by the caller's timeout; `connect` bounds the TCP part).
    pub(super) async fn connect(
        base: &str,
        token: &str,
        accept_invalid: bool,
        connect: Duration,
    ) -> Result<Ws, PbxError> {
        let url = target(base, token)?;
        let mut req = url
            .as_str()
            .into_client_request()
            .map_err(|e| ws_error(e, "the WebSocket upgrade"))?;
        if let Ok(ua) = super::yeastar::USER_AGENT.parse() {
            req.headers_mut().insert("user-agent", ua);
        }
        let host = req.uri().host().unwrap_or_default().to_string();
        let port = req
            .uri()
            .port_u16()
            .unwrap_or(if url.starts_with("wss:") { 443 } else { 80 });
        let addr = format!("{host}:{port}");
        let tcp = match timeout(connect, TcpStream::connect(&addr)).await {
            Err(_) => return Err(PbxError::Timeout("connecting")),
            Ok(Err(e)) => return Err(PbxError::Connect(format!("{addr}: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let connector = if url.starts_with("wss:") {
            Connector::Rustls(Arc::new(tls_config(accept_invalid)?))
        } else {
            Connector::Plain
        };
        let limits = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let (s, _) = tokio_tungstenite::client_async_tls_with_config(
            req,
            tcp,
            Some(limits),
            Some(connector),
        )
        .await
        .map_err(|e| ws_error(e, "during the WebSocket upgrade"))?;
        Ok(Ws { s })
    }

    pub(super) async fn send_text(&mut self, text: &str) -> Result<(), PbxError> {
        self.s
            .send(Message::text(text))
            .await
            .map_err(|e| ws_error(e, "sending to the PBX"))
    }

    /// The next text message (pings are answered by the library).
    pub(super) async fn recv(&mut self) -> Result<Frame, PbxError> {
        loop {
            match self.s.next().await {
                None => return Err(PbxError::Dropped("reading an event")),
                Some(Err(e)) => return Err(ws_error(e, "reading an event")),
                Some(Ok(Message::Text(t))) => return Ok(Frame::Text(t.to_string())),
                Some(Ok(Message::Binary(b))) => {
                    return Ok(Frame::Text(String::from_utf8_lossy(&b).into_owned()));
                }
                Some(Ok(Message::Close(_))) => return Ok(Frame::Close),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
            }
        }
    }
}

/// Keeps one subscription until it fails or `tx` closes.
pub(super) async fn run_yeastar(
    cfg: &YeastarConfig,
    tx: &mpsc::Sender<LinkMsg>,
    t: LinkTimeouts,
) -> Result<(), PbxError> {
    let token = super::yeastar::fresh_token(cfg, t.login).await?;
    let mut ws = match timeout(
        t.login.total,
        Ws::connect(
            &cfg.base_url,
            &token,
            cfg.accept_invalid_certs,
            t.login.connect,
        ),
    )
    .await
    {
        Err(_) => return Err(PbxError::Timeout("the WebSocket upgrade")),
        Ok(r) => r?,
    };
    ws.send_text(TOPICS).await?;
    let reply = match timeout(t.login.total, ws.recv()).await {
        Err(_) => return Err(PbxError::Timeout("waiting for the subscription answer")),
        Ok(r) => r?,
    };
    let Frame::Text(reply) = reply else {
        return Err(PbxError::Dropped("after the subscription"));
    };
    let v: Value = serde_json::from_str(&reply)
        .map_err(|_| PbxError::Protocol("the subscription answer is not JSON".into()))?;
    if v["errcode"].as_i64() != Some(0) {
        return Err(PbxError::Rejected(format!(
            "subscription: {} (errcode {})",
            v["errmsg"].as_str().unwrap_or(""),
            v["errcode"]
        )));
    }
    if tx
        .send(LinkMsg::Up(format!("Yeastar {}", cfg.base_url)))
        .await
        .is_err()
    {
        return Ok(());
    }
    let started = Instant::now();
    let mut last_hb = Instant::now();
    let mut last_rx = Instant::now();
    let mut awaiting = false;
    loop {
        if started.elapsed() > TOKEN_LIFE {
            return Err(PbxError::Dropped("renewing the access token"));
        }
        match timeout_at(last_hb + t.quiet, ws.recv()).await {
            Err(_) => {
                if awaiting && last_rx < last_hb {
                    return Err(PbxError::Timeout("no heartbeat response"));
                }
                ws.send_text("heartbeat").await?;
                last_hb = Instant::now();
                awaiting = true;
            }
            Ok(Err(e)) => return Err(e),
            Ok(Ok(Frame::Close)) => return Err(PbxError::Dropped("the event subscription")),
            Ok(Ok(Frame::Text(s))) => {
                last_rx = Instant::now();
                if s.trim() == "heartbeat response" {
                    continue;
                }
                for m in yeastar_messages(&s) {
                    if tx.send(m).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn number(v: &Value, key: &str) -> u64 {
    match &v[key] {
        Value::Number(n) => n.as_u64().unwrap_or(0),
        Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

/// What one message says: 30011 (Call State Changed) may name several extensions; every
/// other message is at most one.
pub(super) fn yeastar_messages(s: &str) -> Vec<LinkMsg> {
    match envelope(s) {
        Ok(Some((30011, msg))) => call_state(&msg),
        Ok(Some((kind, msg))) => event(kind, &msg).into_iter().collect(),
        Ok(None) => Vec::new(),
        Err(why) => vec![LinkMsg::Garbled(why)],
    }
}

/// 30011 "Call State Changed" (Yeastar P-Series developer guide): `msg` is
/// `{"call_id":"…","members":[{"extension":{"number":"2000","channel_id":"…",
/// "member_status":"ALERT"}},{"outbound":{"from":"2000","to":"0049…","trunk_name":"…",
/// "channel_id":"…","member_status":"RING"}}]}`, or an `inbound` member
/// (`from` = the caller) for calls from outside. `member_status`: ALERT (caller hears
/// ringback), RING (callee rings), EARLYMEDIA (outbound callee rings, 183), ANSWERED (the
/// caller's call was answered), ANSWER (callee talks), HOLD, BYE (hung up).
///
/// An extension ringing (RING) for an inbound caller is the screen pop; an extension calling
/// out is a step of its call (the outbound member's status).
fn call_state(msg: &Value) -> Vec<LinkMsg> {
    let garbled = |why: &str| vec![LinkMsg::Garbled(format!("Yeastar 30011: {why}"))];
    let Some(members) = msg["members"].as_array() else {
        return garbled("no members");
    };
    let call_id = Some(text(msg, "call_id")).filter(|s| !s.is_empty());
    let status = |m: &Value| text(m, "member_status").to_ascii_uppercase();
    let mut exts: Vec<(String, String)> = Vec::new();
    let mut inbound: Option<String> = None;
    let mut outbound: Option<(String, String, String)> = None;
    for m in members {
        if let Some(e) = m.get("extension") {
            let n = text(e, "number");
            if super::valid_extension(&n) {
                exts.push((n, status(e)));
            }
        } else if let Some(i) = m.get("inbound") {
            inbound = Some(text(i, "from")).filter(|s| !s.is_empty());
        } else if let Some(o) = m.get("outbound") {
            outbound = Some((text(o, "from"), text(o, "to"), status(o)));
        }
    }
    if exts.is_empty() {
        return garbled("no extension member");
    }
    let mut out = Vec::new();
    if let Some(caller) = inbound {
        for (ext, st) in &exts {
            if st == "RING" {
                out.push(LinkMsg::Event(PbxEvent::Ringing {
                    ext: ext.clone(),
                    caller: caller.clone(),
                }));
            }
        }
    } else if let Some((from, to, st)) = outbound {
        let phase = match st.as_str() {
            "RING" | "EARLYMEDIA" | "ALERT" => LegPhase::Ringing,
            "ANSWER" | "ANSWERED" | "HOLD" => LegPhase::Connected,
            "BYE" => LegPhase::Ended,
            _ => return garbled("unknown member_status"),
        };
        // The extension that calls out (`from`), or the only one in the call.
        let ext = exts
            .iter()
            .find(|(n, _)| *n == from)
            .or(exts.first())
            .map(|(n, _)| n.clone())
            .unwrap_or_default();
        out.push(LinkMsg::Event(PbxEvent::Leg {
            ext,
            number: Some(to).filter(|s| !s.is_empty()),
            call_id,
            phase,
        }));
    } else {
        // Only extensions: the agent's own phone before the PBX dials out (click-to-call), or
        // a call between extensions.
        for (ext, st) in &exts {
            let phase = match st.as_str() {
                "BYE" => LegPhase::Ended,
                _ => LegPhase::Calling,
            };
            out.push(LinkMsg::Event(PbxEvent::Leg {
                ext: ext.clone(),
                number: None,
                call_id: call_id.clone(),
                phase,
            }));
        }
    }
    out
}

/// One event message; None for answers that need nothing (`errcode` 0).
/// One message of the stream as a test reads it (the first thing it says).
#[cfg(test)]
pub(super) fn yeastar_message(s: &str) -> Option<LinkMsg> {
    yeastar_messages(s).into_iter().next()
}

/// The envelope `{"type":…,"msg":"<JSON text>"}`: its type and parsed `msg`; `None` for the
/// subscription's `{"errcode":0}` answer; `Err` says why it is garbled.
fn envelope(s: &str) -> Result<Option<(i64, Value)>, String> {
    let sample = || s.chars().take(80).collect::<String>();
    let Ok(v) = serde_json::from_str::<Value>(s) else {
        return Err(format!("Yeastar: not JSON: {:?}", sample()));
    };
    let Some(kind) = v["type"].as_i64() else {
        if v["errcode"].as_i64() == Some(0) {
            return Ok(None);
        }
        return Err(format!("Yeastar: no type: {:?}", sample()));
    };
    // `msg` is JSON text (as documented); accept an object too.
    let msg = match &v["msg"] {
        Value::String(m) => match serde_json::from_str::<Value>(m) {
            Ok(m) => m,
            Err(_) => return Err(format!("Yeastar {kind}: msg is not JSON")),
        },
        Value::Object(_) => v["msg"].clone(),
        _ => return Err(format!("Yeastar {kind}: no msg")),
    };
    Ok(Some((kind, msg)))
}

/// A 30008, 30009 or 30012 event (30011 is [`call_state`]); an unknown type is counted.
fn event(kind: i64, msg: &Value) -> Option<LinkMsg> {
    let ext = text(msg, "extension");
    let bad = |why: &str| Some(LinkMsg::Garbled(format!("Yeastar {kind}: {why}")));
    match kind {
        30008 => {
            if !super::valid_extension(&ext) {
                return bad("no extension");
            }
            let state = match text(msg, "status").to_ascii_lowercase().as_str() {
                "idle" => CallState::Idle,
                "ringing" => CallState::Ringing,
                "busy" => CallState::OnCall,
                _ => return bad("unknown status"),
            };
            Some(LinkMsg::Event(PbxEvent::Call { ext, state }))
        }
        30009 => {
            if !super::valid_extension(&ext) {
                return bad("no extension");
            }
            let status = text(msg, "status").to_ascii_lowercase();
            let away = match status.as_str() {
                "available" => false,
                "away" | "business_trip" | "do_not_disturb" | "lunch" | "off_work" => true,
                _ => return bad("unknown status"),
            };
            Some(LinkMsg::Event(PbxEvent::Presence { ext, away, status }))
        }
        30012 => {
            let id = text(msg, "call_id");
            if id.is_empty() {
                return bad("no call_id");
            }
            let disposition = match text(msg, "status").to_ascii_uppercase().as_str() {
                // The guide spells it both ways.
                "ANSWERED" | "ANSWERD" => Disposition::Answered,
                "NO ANSWER" => Disposition::Missed,
                "BUSY" => Disposition::Busy,
                "VOICEMAIL" => Disposition::Voicemail,
                "FAILED" => Disposition::Failed,
                _ => return bad("unknown status"),
            };
            let direction = match text(msg, "type").to_ascii_lowercase().as_str() {
                "inbound" => Some(Direction::Inbound),
                "outbound" => Some(Direction::Outbound),
                "internal" => Some(Direction::Internal),
                _ => None,
            };
            let from = text(msg, "call_from");
            let to = text(msg, "call_to");
            let ext_if = |n: &str| super::valid_extension(n).then(|| n.to_string());
            Some(LinkMsg::Event(PbxEvent::Cdr(Cdr {
                id,
                from_ext: matches!(direction, Some(Direction::Outbound | Direction::Internal))
                    .then(|| ext_if(&from))
                    .flatten(),
                to_ext: matches!(direction, Some(Direction::Inbound | Direction::Internal))
                    .then(|| ext_if(&to))
                    .flatten(),
                from,
                to,
                direction,
                disposition,
                duration_s: number(msg, "call_duration"),
                talk_s: number(msg, "talk_duration"),
            })))
        }
        other => Some(LinkMsg::Unknown(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yeastar_events_as_the_guide_shows_them() {
        let m = yeastar_message(
            r#"{"type":30008,"sn":"3631A2124XXX","msg":"{\"extension\":\"2002\",\"status\":\"Ringing\"}"}"#,
        );
        assert_eq!(
            m,
            Some(LinkMsg::Event(PbxEvent::Call {
                ext: "2002".into(),
                state: CallState::Ringing
            }))
        );
        let m = yeastar_message(
            r#"{"type":30009,"sn":"x","msg":"{\"extension\":\"2005\",\"status\":\"do_not_disturb\"}"}"#,
        );
        assert!(matches!(
            m,
            Some(LinkMsg::Event(PbxEvent::Presence { away: true, .. }))
        ));
        let m = yeastar_message(
            r#"{"type":30012,"sn":"x","msg":"{\"call_id\":\"1651057476.362\",\"time_start\":\"2022-04-27 19:04:36\",\"call_from\":\"+4917612345678\",\"call_to\":\"2002\",\"call_duration\":24,\"talk_duration\":0,\"status\":\"NO ANSWER\",\"type\":\"Inbound\"}"}"#,
        );
        match m {
            Some(LinkMsg::Event(PbxEvent::Cdr(c))) => {
                assert_eq!(c.disposition, Disposition::Missed);
                assert_eq!(c.to_ext.as_deref(), Some("2002"));
                assert_eq!(c.direction, Some(Direction::Inbound));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(yeastar_message(r#"{"errcode":0,"errmsg":"SUCCESS"}"#), None);
        assert!(matches!(
            yeastar_message("{\"type\":30008"),
            Some(LinkMsg::Garbled(_))
        ));
        assert_eq!(
            yeastar_message(r#"{"type":30033,"msg":"{}"}"#),
            Some(LinkMsg::Unknown("30033".into()))
        );
    }

    #[test]
    fn call_state_30011_as_the_guide_shows_it() {
        let inbound = r#"{"type":30011,"sn":"x","msg":"{\"call_id\":\"1649387502.118\",\"members\":[{\"inbound\":{\"from\":\"017612345678\",\"to\":\"5503301\",\"trunk_name\":\"SIP\",\"channel_id\":\"PJSIP/SIP-00000022\",\"member_status\":\"ALERT\",\"call_path\":\"\"}},{\"extension\":{\"number\":\"2002\",\"channel_id\":\"PJSIP/2002-00000023\",\"member_status\":\"RING\",\"call_path\":\"\"}}]}"}"#;
        assert_eq!(
            yeastar_messages(inbound),
            vec![LinkMsg::Event(PbxEvent::Ringing {
                ext: "2002".into(),
                caller: "017612345678".into()
            })]
        );
        let outbound = r#"{"type":30011,"sn":"x","msg":"{\"call_id\":\"7.1\",\"members\":[{\"extension\":{\"number\":\"2002\",\"channel_id\":\"c\",\"member_status\":\"ANSWERED\"}},{\"outbound\":{\"from\":\"2002\",\"to\":\"+4917612345678\",\"trunk_name\":\"SIP\",\"channel_id\":\"d\",\"member_status\":\"ANSWER\"}}]}"}"#;
        assert_eq!(
            yeastar_messages(outbound),
            vec![LinkMsg::Event(PbxEvent::Leg {
                ext: "2002".into(),
                number: Some("+4917612345678".into()),
                call_id: Some("7.1".into()),
                phase: LegPhase::Connected
            })]
        );
        for bad in [
            r#"{"type":30011,"msg":"{\"call_id\":"}"#,
            r#"{"type":30011,"msg":"{\"call_id\":\"1\"}"}"#,
            r#"{"type":30011,"msg":"{\"members\":[{\"inbound\":{\"from\":\"1\"}}]}"}"#,
        ] {
            assert!(
                matches!(yeastar_messages(bad).as_slice(), [LinkMsg::Garbled(_)]),
                "{bad}"
            );
        }
    }

    #[test]
    fn urls_become_websocket_targets() {
        assert_eq!(
            target("https://pbx.lan:8088/openapi/v1.0", "a b").unwrap(),
            "wss://pbx.lan:8088/openapi/v1.0/subscribe?access_token=a+b"
        );
        assert_eq!(
            target("http://127.0.0.1:9/x/", "t").unwrap(),
            "ws://127.0.0.1:9/x/subscribe?access_token=t"
        );
        assert!(target("ftp://pbx.lan", "t").is_err());
    }
}
