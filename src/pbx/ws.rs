//! The Yeastar P-Series event subscription (Yeastar developer guide, "Monitor Events via
//! WebSocket"): `POST /get_token`, then a WebSocket to `{base}/subscribe?access_token=…`
//! (`ws://` for an `http://` base, `wss://` for `https://`), the text message
//! `{"topic_list":[30008,30009,30012]}` answered `{"errcode":0,"errmsg":"SUCCESS"}`, and the
//! text `heartbeat` (answered `heartbeat response`) so the PBX does not close a connection
//! that was quiet for 60 s. Events arrive as `{"type":30008,"sn":"…","msg":"<JSON text>"}`.
//!
//! The WebSocket itself (RFC 6455) is the small client subset written here: the upgrade
//! handshake with its `Sec-WebSocket-Accept` check, masked frames out, unmasked frames in,
//! fragments joined, pings answered, at most 1 MiB a message.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};

use super::link::{CallState, Cdr, Direction, Disposition, LinkMsg, LinkTimeouts, PbxEvent};
use super::{PbxError, YeastarConfig};

/// The events subscribed: extension call state, presence, new CDR.
pub const TOPICS: &str = r#"{"topic_list":[30008,30009,30012]}"#;
const MAX_MESSAGE: u64 = 1024 * 1024;
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/// Tokens live 30 minutes: reconnect with a fresh one before.
const TOKEN_LIFE: Duration = Duration::from_secs(25 * 60);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub(super) enum Frame {
    Text(String),
    Close,
}

pub(super) struct Ws {
    io: BufReader<Box<dyn Io>>,
}

fn proto(stage: &'static str) -> impl Fn(std::io::Error) -> PbxError {
    move |_| PbxError::Dropped(stage)
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // A failed system RNG leaves zeros: a predictable mask is harmless for a client.
    let _ = getrandom::fill(&mut b);
    b
}

/// `http(s)://host:port/path` → (tls, host, port, `/path/subscribe?access_token=…`).
fn target(base: &str, token: &str) -> Result<(bool, String, u16, String), PbxError> {
    let mut u = url::Url::parse(&format!("{}/subscribe", base.trim_end_matches('/')))
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    u.query_pairs_mut().append_pair("access_token", token);
    let tls = match u.scheme() {
        "https" => true,
        "http" => false,
        other => return Err(PbxError::Protocol(format!("scheme {other}"))),
    };
    let host = u
        .host_str()
        .ok_or_else(|| PbxError::Protocol("no host".into()))?
        .to_string();
    let port = u.port_or_known_default().unwrap_or(8088);
    let path = format!("{}?{}", u.path(), u.query().unwrap_or(""));
    Ok((tls, host, port, path))
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

async fn tls_stream(
    tcp: TcpStream,
    host: &str,
    accept_invalid: bool,
) -> Result<Box<dyn Io>, PbxError> {
    let provider = rustls::crypto::ring::default_provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(provider.clone()))
        .with_safe_default_protocol_versions()
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    let config = if accept_invalid {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(insecure::AcceptAny(provider)))
            .with_no_client_auth()
    } else {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| PbxError::Protocol(e.to_string()))?;
    let s = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| PbxError::Connect(format!("TLS: {e}")))?;
    Ok(Box::new(s))
}

impl Ws {
    /// Connects and upgrades (bounded by the caller's timeout).
    pub(super) async fn connect(
        base: &str,
        token: &str,
        accept_invalid: bool,
        connect: Duration,
    ) -> Result<Ws, PbxError> {
        let (tls, host, port, path) = target(base, token)?;
        let addr = format!("{host}:{port}");
        let tcp = match timeout(connect, TcpStream::connect(&addr)).await {
            Err(_) => return Err(PbxError::Timeout("connecting")),
            Ok(Err(e)) => return Err(PbxError::Connect(format!("{addr}: {e}"))),
            Ok(Ok(s)) => s,
        };
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if tls {
            tls_stream(tcp, &host, accept_invalid).await?
        } else {
            Box::new(tcp)
        };
        let mut io = BufReader::new(io);
        let key = base64::engine::general_purpose::STANDARD.encode(random::<16>());
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            super::yeastar::USER_AGENT
        );
        io.get_mut()
            .write_all(req.as_bytes())
            .await
            .map_err(proto("sending the WebSocket upgrade"))?;
        let mut status = String::new();
        let mut accept = None;
        let mut total = 0usize;
        loop {
            let mut line = String::new();
            let n = (&mut io)
                .take(4096)
                .read_line(&mut line)
                .await
                .map_err(proto("reading the upgrade answer"))?;
            total += n;
            if n == 0 || total > 16 * 1024 {
                return Err(PbxError::Dropped("during the WebSocket upgrade"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if status.is_empty() {
                status = l.to_string();
            } else if let Some((k, v)) = l.split_once(':')
                && k.trim().eq_ignore_ascii_case("sec-websocket-accept")
            {
                accept = Some(v.trim().to_string());
            }
        }
        if status.split(' ').nth(1) != Some("101") {
            return Err(PbxError::Protocol(format!(
                "the PBX refused the event subscription: {}",
                status.chars().take(80).collect::<String>()
            )));
        }
        let want = base64::engine::general_purpose::STANDARD
            .encode(Sha1::digest(format!("{key}{GUID}").as_bytes()));
        if accept.as_deref() != Some(want.as_str()) {
            return Err(PbxError::Protocol(
                "wrong Sec-WebSocket-Accept in the upgrade answer".into(),
            ));
        }
        Ok(Ws { io })
    }

    async fn send_frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), PbxError> {
        let mut f = Vec::with_capacity(payload.len() + 14);
        f.push(0x80 | opcode);
        let len = payload.len();
        if len < 126 {
            f.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            f.push(0x80 | 127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = random::<4>();
        f.extend_from_slice(&mask);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.io
            .get_mut()
            .write_all(&f)
            .await
            .map_err(proto("sending to the PBX"))
    }

    pub(super) async fn send_text(&mut self, text: &str) -> Result<(), PbxError> {
        self.send_frame(1, text.as_bytes()).await
    }

    /// The next text message (pings answered, fragments joined).
    pub(super) async fn recv(&mut self) -> Result<Frame, PbxError> {
        let mut message: Vec<u8> = Vec::new();
        loop {
            let mut h = [0u8; 2];
            self.io
                .read_exact(&mut h)
                .await
                .map_err(proto("reading an event"))?;
            let fin = h[0] & 0x80 != 0;
            let opcode = h[0] & 0x0f;
            let masked = h[1] & 0x80 != 0;
            let mut len = u64::from(h[1] & 0x7f);
            if len == 126 {
                let mut b = [0u8; 2];
                self.io
                    .read_exact(&mut b)
                    .await
                    .map_err(proto("reading an event"))?;
                len = u64::from(u16::from_be_bytes(b));
            } else if len == 127 {
                let mut b = [0u8; 8];
                self.io
                    .read_exact(&mut b)
                    .await
                    .map_err(proto("reading an event"))?;
                len = u64::from_be_bytes(b);
            }
            if len + message.len() as u64 > MAX_MESSAGE {
                return Err(PbxError::Protocol("an event larger than 1 MiB".into()));
            }
            let mut mask = [0u8; 4];
            if masked {
                self.io
                    .read_exact(&mut mask)
                    .await
                    .map_err(proto("reading an event"))?;
            }
            let mut payload = vec![0u8; len as usize];
            self.io
                .read_exact(&mut payload)
                .await
                .map_err(proto("reading an event"))?;
            if masked {
                for (i, b) in payload.iter_mut().enumerate() {
                    *b ^= mask[i % 4];
                }
            }
            match opcode {
                8 => return Ok(Frame::Close),
                9 => self.send_frame(10, &payload).await?,
                10 => {}
                0..=2 => {
                    message.extend_from_slice(&payload);
                    if fin {
                        return Ok(Frame::Text(String::from_utf8_lossy(&message).into_owned()));
                    }
                }
                _ => return Err(PbxError::Protocol(format!("WebSocket opcode {opcode}"))),
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
                if let Some(m) = yeastar_message(&s)
                    && tx.send(m).await.is_err()
                {
                    return Ok(());
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

/// One event message; None for answers that need nothing (`errcode` 0).
pub(super) fn yeastar_message(s: &str) -> Option<LinkMsg> {
    let sample = || s.chars().take(80).collect::<String>();
    let Ok(v) = serde_json::from_str::<Value>(s) else {
        return Some(LinkMsg::Garbled(format!(
            "Yeastar: not JSON: {:?}",
            sample()
        )));
    };
    let Some(kind) = v["type"].as_i64() else {
        if v["errcode"].as_i64() == Some(0) {
            return None;
        }
        return Some(LinkMsg::Garbled(format!(
            "Yeastar: no type: {:?}",
            sample()
        )));
    };
    // `msg` is JSON text (as documented); accept an object too.
    let msg = match &v["msg"] {
        Value::String(m) => match serde_json::from_str::<Value>(m) {
            Ok(m) => m,
            Err(_) => {
                return Some(LinkMsg::Garbled(format!("Yeastar {kind}: msg is not JSON")));
            }
        },
        Value::Object(_) => v["msg"].clone(),
        _ => return Some(LinkMsg::Garbled(format!("Yeastar {kind}: no msg"))),
    };
    let ext = text(&msg, "extension");
    let bad = |why: &str| Some(LinkMsg::Garbled(format!("Yeastar {kind}: {why}")));
    match kind {
        30008 => {
            if !super::valid_extension(&ext) {
                return bad("no extension");
            }
            let state = match text(&msg, "status").to_ascii_lowercase().as_str() {
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
            let status = text(&msg, "status").to_ascii_lowercase();
            let away = match status.as_str() {
                "available" => false,
                "away" | "business_trip" | "do_not_disturb" | "lunch" | "off_work" => true,
                _ => return bad("unknown status"),
            };
            Some(LinkMsg::Event(PbxEvent::Presence { ext, away, status }))
        }
        30012 => {
            let id = text(&msg, "call_id");
            if id.is_empty() {
                return bad("no call_id");
            }
            let disposition = match text(&msg, "status").to_ascii_uppercase().as_str() {
                // The guide spells it both ways.
                "ANSWERED" | "ANSWERD" => Disposition::Answered,
                "NO ANSWER" => Disposition::Missed,
                "BUSY" => Disposition::Busy,
                "VOICEMAIL" => Disposition::Voicemail,
                "FAILED" => Disposition::Failed,
                _ => return bad("unknown status"),
            };
            let direction = match text(&msg, "type").to_ascii_lowercase().as_str() {
                "inbound" => Some(Direction::Inbound),
                "outbound" => Some(Direction::Outbound),
                "internal" => Some(Direction::Internal),
                _ => None,
            };
            let from = text(&msg, "call_from");
            let to = text(&msg, "call_to");
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
                duration_s: number(&msg, "call_duration"),
                talk_s: number(&msg, "talk_duration"),
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
    fn urls_become_websocket_targets() {
        let (tls, host, port, path) = target("https://pbx.lan:8088/openapi/v1.0", "a b").unwrap();
        assert!(tls);
        assert_eq!((host.as_str(), port), ("pbx.lan", 8088));
        assert_eq!(path, "/openapi/v1.0/subscribe?access_token=a+b");
    }
}
