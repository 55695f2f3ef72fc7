//! Asterisk Manager Interface client: one TCP connection per call.
//!
//! banner line → `Action: Login` (Events: off) → `Response: Success` → `Action: Originate`
//! (Async) → `Response: Success` → `Event: OriginateResponse` (Success|Failure, Reason) →
//! `Action: Logoff`. The whole exchange is bounded; if the originate was accepted but its
//! outcome has not arrived when time is up, the call is reported as still dialling.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout, timeout_at};

use super::AmiConfig;
use super::{CallOutcome, CallStatus, PbxError, Timeouts};

/// How long the agent's phone rings before Asterisk gives up (ms).
pub const RING_TIMEOUT_MS: u32 = 30_000;
pub(super) const MAX_LINE: u64 = 8 * 1024;
pub(super) const MAX_KEYS: usize = 200;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

pub(super) fn action_id(what: &str) -> String {
    format!("swb-{what}-{}", NEXT_ID.fetch_add(1, Ordering::Relaxed))
}

/// One AMI packet: `Key: Value` lines (keys compared case-insensitively).
#[derive(Debug, Default)]
pub struct Packet(pub(super) HashMap<String, String>);

impl Packet {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(&key.to_ascii_lowercase()).map(String::as_str)
    }
}

/// Reads one line, at most `MAX_LINE` bytes; None at end of stream.
pub(super) async fn read_line<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
) -> std::io::Result<Option<String>> {
    let mut buf = Vec::new();
    let n = (&mut *r).take(MAX_LINE).read_until(b'\n', &mut buf).await?;
    if n == 0 {
        return Ok(None);
    }
    let s = String::from_utf8_lossy(&buf);
    Ok(Some(s.trim_end_matches(['\r', '\n']).to_string()))
}

/// Reads the next packet; None when the server closed the connection.
async fn read_packet<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
) -> std::io::Result<Option<Packet>> {
    let mut p = Packet::default();
    loop {
        let Some(line) = read_line(r).await? else {
            return Ok(None);
        };
        if line.is_empty() {
            if p.0.is_empty() {
                continue;
            }
            return Ok(Some(p));
        }
        if let Some((k, v)) = line.split_once(':')
            && p.0.len() < MAX_KEYS
        {
            p.0.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
}

pub(super) fn packet(lines: &[(&str, &str)]) -> String {
    let mut s = String::new();
    for (k, v) in lines {
        // Values come from validated config; strip line breaks anyway so nothing can inject keys.
        let v: String = v.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        s.push_str(k);
        s.push_str(": ");
        s.push_str(&v);
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    s
}

/// What an OriginateResponse `Reason` code means.
pub fn reason_text(code: &str) -> String {
    match code.trim() {
        "0" => "no such extension or number (reason 0)".into(),
        "1" => "the line hung up (reason 1)".into(),
        "3" => "no answer: the phone rang out (reason 3)".into(),
        "4" => "answered (reason 4)".into(),
        "5" => "busy (reason 5)".into(),
        "8" => "congestion: the network could not place the call (reason 8)".into(),
        other => format!("reason {other}"),
    }
}

pub(super) struct Conn {
    pub(super) reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    pub(super) writer: tokio::net::tcp::OwnedWriteHalf,
    pub(super) deadline: Instant,
}

impl Conn {
    pub(super) async fn send(&mut self, text: &str, stage: &'static str) -> Result<(), PbxError> {
        match timeout_at(self.deadline, self.writer.write_all(text.as_bytes())).await {
            Err(_) => Err(PbxError::Timeout(stage)),
            Ok(Err(_)) => Err(PbxError::Dropped(stage)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// The next packet before the deadline.
    async fn next(&mut self, stage: &'static str) -> Result<Packet, PbxError> {
        match timeout_at(self.deadline, read_packet(&mut self.reader)).await {
            Err(_) => Err(PbxError::Timeout(stage)),
            Ok(Err(_)) | Ok(Ok(None)) => Err(PbxError::Dropped(stage)),
            Ok(Ok(Some(p))) => Ok(p),
        }
    }

    /// The response to action `id` (events in between are skipped).
    async fn response(&mut self, id: &str, stage: &'static str) -> Result<Packet, PbxError> {
        loop {
            let p = self.next(stage).await?;
            if p.get("Response").is_some() && p.get("ActionID").is_none_or(|a| a == id) {
                return Ok(p);
            }
        }
    }
}

/// Connects and logs in; the refusal is the PBX's own `Message`.
pub(super) async fn login(cfg: &AmiConfig, t: Timeouts, events: &str) -> Result<Conn, PbxError> {
    let deadline = Instant::now() + t.total;
    let addr = format!("{}:{}", cfg.host, cfg.port);
    let stream = match timeout(t.connect.min(t.total), TcpStream::connect(&addr)).await {
        Err(_) => return Err(PbxError::Timeout("connecting")),
        Ok(Err(e)) => return Err(PbxError::Connect(format!("{addr}: {e}"))),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let (r, w) = stream.into_split();
    let mut c = Conn {
        reader: BufReader::new(r),
        writer: w,
        deadline,
    };
    let banner = match timeout_at(deadline, read_line(&mut c.reader)).await {
        Err(_) => return Err(PbxError::Timeout("waiting for the AMI banner")),
        Ok(Err(_)) | Ok(Ok(None)) => return Err(PbxError::Dropped("before the banner")),
        Ok(Ok(Some(l))) => l,
    };
    if !banner.starts_with("Asterisk Call Manager") {
        return Err(PbxError::Protocol(format!(
            "{addr} is not an Asterisk Manager Interface (banner {:?})",
            banner.chars().take(60).collect::<String>()
        )));
    }

    let login_id = action_id("login");
    c.send(
        &packet(&[
            ("Action", "Login"),
            ("Username", &cfg.username),
            ("Secret", &cfg.secret),
            ("Events", events),
            ("ActionID", &login_id),
        ]),
        "sending the login",
    )
    .await?;
    let p = c
        .response(&login_id, "waiting for the login answer")
        .await?;
    if !p
        .get("Response")
        .is_some_and(|r| r.eq_ignore_ascii_case("Success"))
    {
        return Err(PbxError::Auth(
            p.get("Message").unwrap_or("login refused").to_string(),
        ));
    }

    Ok(c)
}

/// Logs in with `cfg` and off again: what the admin's **Test** button asks.
pub async fn probe(cfg: &AmiConfig, t: Timeouts) -> Result<String, PbxError> {
    let mut c = login(cfg, t, "off").await?;
    let id = action_id("logoff");
    let _ = c
        .send(
            &packet(&[("Action", "Logoff"), ("ActionID", &id)]),
            "logging off",
        )
        .await;
    Ok("Authentication accepted".into())
}

/// Call extension `ext` (PJSIP) and, once answered, dial `number` in the configured context.
pub async fn originate(
    cfg: &AmiConfig,
    ext: &str,
    number: &str,
    t: Timeouts,
) -> Result<CallOutcome, PbxError> {
    let mut c = login(cfg, t, "off").await?;
    let orig_id = action_id("originate");
    let channel = format!("PJSIP/{ext}");
    let caller_id = if cfg.caller_id.is_empty() {
        number.to_string()
    } else {
        cfg.caller_id.clone()
    };
    let ring = RING_TIMEOUT_MS.to_string();
    c.send(
        &packet(&[
            ("Action", "Originate"),
            ("Channel", &channel),
            ("Context", &cfg.context),
            ("Exten", number),
            ("Priority", "1"),
            ("CallerID", &caller_id),
            ("Timeout", &ring),
            ("Async", "true"),
            ("ActionID", &orig_id),
        ]),
        "sending the originate",
    )
    .await?;
    let p = c
        .response(&orig_id, "waiting for the originate answer")
        .await?;
    if !p
        .get("Response")
        .is_some_and(|r| r.eq_ignore_ascii_case("Success"))
    {
        return Err(PbxError::Rejected(
            p.get("Message").unwrap_or("originate refused").to_string(),
        ));
    }

    // Accepted: wait (within the budget) for the outcome of ringing the agent's phone.
    let outcome = loop {
        match c.next("waiting for the call outcome").await {
            Ok(p) => {
                let is_ours = p
                    .get("Event")
                    .is_some_and(|e| e.eq_ignore_ascii_case("OriginateResponse"))
                    && p.get("ActionID").is_none_or(|a| a == orig_id);
                if !is_ours {
                    continue;
                }
                let reason = p.get("Reason").unwrap_or("").to_string();
                if p.get("Response")
                    .is_some_and(|r| r.eq_ignore_ascii_case("Success"))
                {
                    break Ok(CallOutcome {
                        status: CallStatus::Answered,
                        message: format!("your phone {ext} answered; dialling {number}"),
                        call_id: p.get("Uniqueid").map(str::to_string),
                    });
                }
                break Err(PbxError::CallFailed(reason_text(&reason)));
            }
            // Still ringing when our time is up (or the PBX hung up on us after accepting):
            // the call is under way, not failed.
            Err(PbxError::Timeout(_)) | Err(PbxError::Dropped(_)) => {
                break Ok(CallOutcome {
                    status: CallStatus::Dialing,
                    message: format!(
                        "the PBX is ringing your phone {ext}; answer it to call {number}"
                    ),
                    call_id: None,
                });
            }
            Err(e) => break Err(e),
        }
    };
    // Log off politely, but never wait long for it.
    c.deadline = Instant::now() + std::time::Duration::from_millis(500);
    let logoff_id = action_id("logoff");
    if c.send(
        &packet(&[("Action", "Logoff"), ("ActionID", &logoff_id)]),
        "logoff",
    )
    .await
    .is_ok()
    {
        let _ = c.response(&logoff_id, "logoff").await;
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_crlf_terminated_and_cannot_be_injected() {
        let p = packet(&[("Action", "Login"), ("Secret", "a\r\nAction: Originate")]);
        assert_eq!(p, "Action: Login\r\nSecret: aAction: Originate\r\n\r\n");
    }

    #[tokio::test]
    async fn packets_parse_case_insensitively() {
        let data = b"Response: Success\r\nactionid: x\r\n\r\n";
        let mut r = BufReader::new(&data[..]);
        let p = read_packet(&mut r).await.unwrap().unwrap();
        assert_eq!(p.get("ActionID"), Some("x"));
        assert!(read_packet(&mut r).await.unwrap().is_none());
    }
}
