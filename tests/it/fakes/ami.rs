//! A fake Asterisk Manager Interface (PROVIDERS.md, "PBX"): TCP on 127.0.0.1, the banner line
//! `Asterisk Call Manager/…`, packets of `Key: Value\r\n` lines closed by an empty line;
//! `Login` (refused with `Authentication failed` unless [`USERNAME`] / [`SECRET`]),
//! `Originate` answered `Originate successfully queued` and later an `OriginateResponse` event
//! whose `Reason` is the call's outcome, and `Logoff` → `Goodbye`.
//!
//! It accepts any number of connections, records every packet each one sent, and notes framing
//! faults (a line without CRLF, an action without `ActionID`) that [`FakeAmi::sessions`] reports.
//!
//! A login with `Events:` other than `off` subscribes that connection to the event stream:
//! [`FakeAmi::send_events`] writes raw text (events exactly as Asterisk frames them, or
//! garbage) to every subscriber, `Action: Ping` is answered `Response: Success` / `Ping: Pong`,
//! and [`FakeAmi::drop_subscribers`] cuts them (the PBX restarting).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::broadcast;
use tokio::task::JoinSet;

pub const USERNAME: &str = "switchboard";
pub const SECRET: &str = "amisecret123";

/// How the PBX behaves once logged in (or before).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// The desk phone answers: `Response: Success`, `Reason: 4`.
    Answered,
    /// The desk phone is busy: `Response: Failure`, `Reason: 5`.
    Busy,
    /// Every login is refused (`Response: Error`, `Message: Authentication failed`).
    AuthError,
    /// Accepts the connection and never says a word (not even the banner).
    Hang,
    /// Reads the login, then closes the connection without an answer.
    Drop,
}

/// The lines of one packet, without the closing empty line.
pub type Packet = Vec<String>;

#[derive(Default)]
struct Log {
    /// Packets of the connections that ended, in the order they ended.
    finished: Vec<Vec<Packet>>,
    problems: Vec<String>,
}

#[derive(Clone, Debug)]
enum Push {
    Text(String),
    Drop,
}

pub struct FakeAmi {
    pub port: u16,
    log: Arc<Mutex<Log>>,
    acceptor: tokio::task::JoinHandle<()>,
    push: broadcast::Sender<Push>,
    subscribers: Arc<AtomicUsize>,
    logins: Arc<AtomicUsize>,
}

impl FakeAmi {
    pub async fn start(mode: Mode) -> FakeAmi {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Log::default()));
        let l = log.clone();
        let (push, _) = broadcast::channel(1024);
        let subscribers = Arc::new(AtomicUsize::new(0));
        let logins = Arc::new(AtomicUsize::new(0));
        let (p, subs, lg) = (push.clone(), subscribers.clone(), logins.clone());
        let acceptor = tokio::spawn(async move {
            // Dropped with the acceptor: aborting it ends every connection too.
            let mut conns = JoinSet::new();
            while let Ok((sock, _)) = listener.accept().await {
                let l = l.clone();
                let (p, subs, lg) = (p.clone(), subs.clone(), lg.clone());
                conns.spawn(async move {
                    let (r, w) = sock.into_split();
                    let mut c = Conn {
                        r: BufReader::new(r),
                        w,
                        seen: Vec::new(),
                        problems: Vec::new(),
                        push: p,
                        subscribers: subs,
                        logins: lg,
                    };
                    c.serve(mode).await;
                    let mut log = l.lock().unwrap();
                    log.problems.append(&mut c.problems);
                    // The event link's connections are not calls: kept apart.
                    let events = c
                        .seen
                        .first()
                        .and_then(|p| field(p, "Events"))
                        .is_some_and(|e| e != "off");
                    if !events {
                        log.finished.push(c.seen);
                    }
                });
            }
        });
        FakeAmi {
            port,
            log,
            acceptor,
            push,
            subscribers,
            logins,
        }
    }

    /// Writes `text` as is to every connection subscribed to events.
    pub fn send_events(&self, text: &str) {
        let _ = self.push.send(Push::Text(text.to_string()));
    }

    /// Closes every event connection (the PBX restarts).
    pub fn drop_subscribers(&self) {
        let _ = self.push.send(Push::Drop);
    }

    /// How many connections are logged in and subscribed to events now.
    pub fn subscribers(&self) -> usize {
        self.subscribers.load(Ordering::SeqCst)
    }

    /// How many event subscriptions were ever made (reconnects included).
    pub fn event_logins(&self) -> usize {
        self.logins.load(Ordering::SeqCst)
    }

    /// Waits (30 s at most) until `n` connections are subscribed to events.
    pub async fn wait_subscribers(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.subscribers() < n {
            assert!(
                Instant::now() < deadline,
                "{} AMI event subscribers, not {n}",
                self.subscribers()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until `n` connections have ended (30 s at most); returns the packets each sent.
    /// Event subscriptions (a login with `Events:` other than `off`) are not counted.
    /// Panics on a framing fault.
    pub async fn sessions(&self, n: usize) -> Vec<Vec<Packet>> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            {
                let log = self.log.lock().unwrap();
                assert!(log.problems.is_empty(), "AMI framing: {:?}", log.problems);
                if log.finished.len() >= n {
                    return log.finished.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "fewer than {n} AMI connections ended"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FakeAmi {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// A packet without its `ActionID` line, and that id.
pub fn without_action_id(p: &[String]) -> (Vec<String>, String) {
    let id = p
        .iter()
        .find_map(|l| l.strip_prefix("ActionID: "))
        .unwrap_or_default()
        .to_string();
    (
        p.iter()
            .filter(|l| !l.starts_with("ActionID:"))
            .cloned()
            .collect(),
        id,
    )
}

fn field<'a>(p: &'a [String], key: &str) -> Option<&'a str> {
    p.iter()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
}

struct Conn {
    r: BufReader<OwnedReadHalf>,
    w: OwnedWriteHalf,
    seen: Vec<Packet>,
    problems: Vec<String>,
    push: broadcast::Sender<Push>,
    subscribers: Arc<AtomicUsize>,
    logins: Arc<AtomicUsize>,
}

impl Conn {
    /// The next packet, recorded; None when the client closed the connection.
    async fn packet(&mut self) -> Option<(Packet, String)> {
        let mut lines = Vec::new();
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l).await.ok()? == 0 {
                return None;
            }
            if !l.ends_with("\r\n") {
                self.problems
                    .push(format!("AMI lines end with CRLF: {l:?}"));
            }
            let l = l.trim_end().to_string();
            if l.is_empty() {
                break;
            }
            lines.push(l);
        }
        let id = match field(&lines, "ActionID") {
            Some(id) => id.to_string(),
            None => {
                self.problems
                    .push(format!("every action carries an ActionID: {lines:?}"));
                String::new()
            }
        };
        self.seen.push(lines.clone());
        Some((lines, id))
    }

    /// An event subscriber: pushed text goes out; `Ping` is answered; `Logoff` ends it.
    async fn events(&mut self, rx: &mut broadcast::Receiver<Push>) {
        // `read_until` is cancel-safe: a line half read when an event goes out stays in `buf`.
        let mut buf = Vec::new();
        let mut lines: Vec<String> = Vec::new();
        loop {
            let out = tokio::select! {
                n = self.r.read_until(b'\n', &mut buf) => {
                    if !matches!(n, Ok(n) if n > 0) {
                        return;
                    }
                    let l = String::from_utf8_lossy(&buf).trim_end().to_string();
                    buf.clear();
                    if !l.is_empty() {
                        lines.push(l);
                        continue;
                    }
                    let p = std::mem::take(&mut lines);
                    let id = field(&p, "ActionID").unwrap_or_default().to_string();
                    match field(&p, "Action") {
                        Some("Ping") => format!(
                            "Response: Success\r\nActionID: {id}\r\nPing: Pong\r\nTimestamp: 1700000000.000000\r\n\r\n"
                        ),
                        Some("Logoff") => {
                            let _ = self.say(&format!(
                                "Response: Goodbye\r\nActionID: {id}\r\nMessage: Thanks for all the fish.\r\n\r\n"
                            )).await;
                            return;
                        }
                        _ => format!(
                            "Response: Error\r\nActionID: {id}\r\nMessage: Invalid/unknown command\r\n\r\n"
                        ),
                    }
                }
                m = rx.recv() => match m {
                    Ok(Push::Text(t)) => t,
                    Ok(Push::Drop) | Err(broadcast::error::RecvError::Closed) => return,
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                },
            };
            if !self.say(&out).await {
                return;
            }
        }
    }

    async fn say(&mut self, text: &str) -> bool {
        self.w.write_all(text.as_bytes()).await.is_ok()
    }

    async fn serve(&mut self, mode: Mode) {
        if mode == Mode::Hang {
            // Say nothing until the client gives up and closes.
            let mut buf = String::new();
            while matches!(self.r.read_line(&mut buf).await, Ok(n) if n > 0) {}
            return;
        }
        if !self.say("Asterisk Call Manager/7.0.3\r\n").await {
            return;
        }
        let Some((login, id)) = self.packet().await else {
            return;
        };
        if mode == Mode::Drop {
            return;
        }
        let creds_ok = field(&login, "Action") == Some("Login")
            && field(&login, "Username") == Some(USERNAME)
            && field(&login, "Secret") == Some(SECRET);
        if mode == Mode::AuthError || !creds_ok {
            self.say(&format!(
                "Response: Error\r\nActionID: {id}\r\nMessage: Authentication failed\r\n\r\n"
            ))
            .await;
            return;
        }
        self.say(&format!(
            "Response: Success\r\nActionID: {id}\r\nMessage: Authentication accepted\r\n\r\n"
        ))
        .await;
        // An unrelated event must not confuse the client.
        self.say("Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n")
            .await;
        if field(&login, "Events").is_some_and(|e| e != "off") {
            let mut rx = self.push.subscribe();
            self.subscribers.fetch_add(1, Ordering::SeqCst);
            self.logins.fetch_add(1, Ordering::SeqCst);
            self.events(&mut rx).await;
            self.subscribers.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        while let Some((p, id)) = self.packet().await {
            match field(&p, "Action") {
                Some("Originate") => {
                    let (channel, exten) = (
                        field(&p, "Channel").unwrap_or_default().to_string(),
                        field(&p, "Exten").unwrap_or_default().to_string(),
                    );
                    let context = field(&p, "Context").unwrap_or_default().to_string();
                    self.say(&format!(
                        "Response: Success\r\nActionID: {id}\r\nMessage: Originate successfully queued\r\n\r\n"
                    ))
                    .await;
                    let (resp, reason) = if mode == Mode::Busy {
                        ("Failure", "5")
                    } else {
                        ("Success", "4")
                    };
                    self.say(&format!(
                        "Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: {id}\r\nResponse: {resp}\r\nChannel: {channel}-00000001\r\nContext: {context}\r\nExten: {exten}\r\nReason: {reason}\r\nUniqueid: 1700000000.1\r\n\r\n"
                    ))
                    .await;
                }
                Some("Logoff") => {
                    self.say(&format!(
                        "Response: Goodbye\r\nActionID: {id}\r\nMessage: Thanks for all the fish.\r\n\r\n"
                    ))
                    .await;
                    return;
                }
                _ => {
                    self.say(&format!(
                        "Response: Error\r\nActionID: {id}\r\nMessage: Invalid/unknown command\r\n\r\n"
                    ))
                    .await;
                }
            }
        }
    }
}

/// The events Asterisk sends to a `call` listener while an originated call (agent extension
/// `ext` first, then `number` through the trunk) goes on, as docs.asterisk.org "AMI Events"
/// frames them: `OriginateResponse` (the agent answered), `DialBegin` (the customer's phone
/// rings), `DialEnd` with `DialStatus`, and `Hangup` of the agent's channel. `uniqueid` is the
/// agent channel's (the `UniqueID` of the call's CDR, the `Uniqueid` of OriginateResponse).
pub mod originated {
    pub fn answered(ext: &str, uniqueid: &str) -> String {
        format!(
            "Event: OriginateResponse\r\nPrivilege: call,all\r\nResponse: Success\r\nChannel: PJSIP/{ext}-00000001\r\nContext: from-internal\r\nExten: {ext}\r\nReason: 4\r\nUniqueid: {uniqueid}\r\nCallerIDNum: {ext}\r\nCallerIDName: Switchboard\r\n\r\n"
        )
    }
    pub fn dial_begin(ext: &str, number: &str, uniqueid: &str) -> String {
        format!(
            "Event: DialBegin\r\nPrivilege: call,all\r\nChannel: PJSIP/{ext}-00000001\r\nChannelState: 6\r\nChannelStateDesc: Up\r\nCallerIDNum: {ext}\r\nCallerIDName: Switchboard\r\nExten: {number}\r\nContext: from-internal\r\nUniqueid: {uniqueid}\r\nLinkedid: {uniqueid}\r\nDestChannel: PJSIP/trunk-00000002\r\nDestChannelState: 0\r\nDestCallerIDNum: {number}\r\nDestExten: {number}\r\nDestUniqueid: {uniqueid}1\r\nDialString: trunk/{number}\r\n\r\n"
        )
    }
    /// `status`: ANSWER, BUSY, NOANSWER, CANCEL, CONGESTION, CHANUNAVAIL.
    pub fn dial_end(ext: &str, number: &str, uniqueid: &str, status: &str) -> String {
        format!(
            "Event: DialEnd\r\nPrivilege: call,all\r\nChannel: PJSIP/{ext}-00000001\r\nCallerIDNum: {ext}\r\nUniqueid: {uniqueid}\r\nLinkedid: {uniqueid}\r\nDestChannel: PJSIP/trunk-00000002\r\nDestCallerIDNum: {number}\r\nDestUniqueid: {uniqueid}1\r\nDialStatus: {status}\r\n\r\n"
        )
    }
    pub fn hangup(ext: &str, uniqueid: &str) -> String {
        format!(
            "Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/{ext}-00000001\r\nCallerIDNum: {ext}\r\nUniqueid: {uniqueid}\r\nLinkedid: {uniqueid}\r\nCause: 16\r\nCause-txt: Normal Clearing\r\n\r\n"
        )
    }
}
