//! The live PBX event link: one long-lived connection that reports extension call state,
//! presence (DND/away), ringing calls and finished calls (CDRs).
//!
//! * Asterisk AMI: `Action: Login` with `Events: call,cdr`, then `ExtensionStatus`,
//!   `DeviceStateChange`, `PresenceStateChange` / `PresenceStatus`, `DialBegin` and `Cdr`
//!   events (docs.asterisk.org, "AMI Events"); `Action: Ping` after a quiet spell.
//! * Yeastar P-Series: see [`super::ws`] (WebSocket `…/subscribe`, events 30008, 30009, 30011,
//!   30012).
//!
//! [`run`] keeps one connection until it fails and reports what it reads as [`LinkMsg`]s;
//! the caller (`domain::pbx_link`) reconnects with backoff. Garbled frames and unknown event
//! types are reported, never fatal.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

use super::ami::{self, MAX_KEYS, Packet, read_line};
use super::{AmiConfig, PbxConfig, PbxError, Timeouts};

/// An extension's call state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Idle,
    Ringing,
    OnCall,
    /// Not registered / unreachable.
    Offline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    Answered,
    Missed,
    Busy,
    Voicemail,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Inbound,
    Outbound,
    Internal,
}

/// A finished call as the PBX reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cdr {
    /// The PBX's id (AMI `UniqueID`, Yeastar `call_id`).
    pub id: String,
    /// Caller number (AMI `Source`, Yeastar `call_from`).
    pub from: String,
    /// Callee (AMI `Destination`, Yeastar `call_to`).
    pub to: String,
    /// The extension of the calling channel (AMI `Channel`), when it is one.
    pub from_ext: Option<String>,
    /// The extension of the answering channel (AMI `DestinationChannel`).
    pub to_ext: Option<String>,
    /// When the PBX says so (Yeastar `type`); AMI leaves it to the extensions.
    pub direction: Option<Direction>,
    pub disposition: Disposition,
    pub duration_s: u64,
    pub talk_s: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PbxEvent {
    Call {
        ext: String,
        state: CallState,
    },
    /// `away`: DND, away, lunch, off work…; `status` is the PBX's own word.
    Presence {
        ext: String,
        away: bool,
        status: String,
    },
    /// An incoming call rings `ext` (the screen pop).
    Ringing {
        ext: String,
        caller: String,
    },
    Cdr(Cdr),
    /// A step of a call the agent at `ext` places (click-to-call): `number` is who is dialled
    /// when the event names them, `call_id` the PBX's id of the call when it gives one.
    Leg {
        ext: String,
        number: Option<String>,
        call_id: Option<String>,
        phase: LegPhase,
    },
}

/// How far an outgoing call got, as one PBX event shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegPhase {
    /// The agent's phone rings or is dialling; nothing from the customer yet.
    Calling,
    /// The customer's phone rings.
    Ringing,
    Connected,
    /// Hung up (after talking, or before the customer answered).
    Ended,
    Busy,
    NoAnswer,
    Failed,
    /// Nothing heard from the PBX in time (Switchboard's own verdict, never parsed).
    Unknown,
}

impl LegPhase {
    /// Busy, no answer, failed, ended or unknown: nothing follows.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            LegPhase::Calling | LegPhase::Ringing | LegPhase::Connected
        )
    }
    /// How far the call got: a step never moves a call back.
    pub fn rank(self) -> u8 {
        match self {
            LegPhase::Calling => 0,
            LegPhase::Ringing => 1,
            LegPhase::Connected => 2,
            _ => 3,
        }
    }
}

/// What a running link reports.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkMsg {
    /// Logged in and subscribed; the PBX's greeting.
    Up(String),
    Event(PbxEvent),
    /// A frame that could not be read, with a short sample.
    Garbled(String),
    /// An event type the link does not use (its name).
    Unknown(String),
}

/// How long the link waits: for the login (`login`), and how long a quiet connection may stay
/// quiet before it is asked for a sign of life (`quiet`); a second quiet spell ends it.
#[derive(Debug, Clone, Copy)]
pub struct LinkTimeouts {
    pub login: Timeouts,
    pub quiet: Duration,
}

impl Default for LinkTimeouts {
    fn default() -> Self {
        Self {
            login: Timeouts::default(),
            quiet: Duration::from_secs(25),
        }
    }
}

/// Keeps one connection to the configured PBX until it fails (the error says why) or `tx`
/// is closed (then `Ok`).
pub async fn run(
    cfg: &PbxConfig,
    tx: &mpsc::Sender<LinkMsg>,
    t: LinkTimeouts,
) -> Result<(), PbxError> {
    match cfg {
        PbxConfig::None => Err(PbxError::Protocol("no PBX link configured".into())),
        PbxConfig::Ami(a) => run_ami(a, tx, t).await,
        PbxConfig::Yeastar(y) => super::ws::run_yeastar(y, tx, t).await,
    }
}

/// One AMI packet and the lines that were not `Key: Value`.
struct RawPacket {
    packet: Packet,
    bad: Vec<String>,
}

async fn read_raw<R: AsyncRead + Unpin>(
    r: &mut BufReader<R>,
) -> std::io::Result<Option<RawPacket>> {
    let mut p = RawPacket {
        packet: Packet::default(),
        bad: Vec::new(),
    };
    loop {
        let Some(line) = read_line(r).await? else {
            return Ok(None);
        };
        if line.is_empty() {
            if p.packet.0.is_empty() && p.bad.is_empty() {
                continue;
            }
            return Ok(Some(p));
        }
        match line.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() && !k.contains(' ') => {
                if p.packet.0.len() < MAX_KEYS {
                    p.packet
                        .0
                        .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            _ => p.bad.push(line.chars().take(80).collect()),
        }
    }
}

async fn run_ami(
    cfg: &AmiConfig,
    tx: &mpsc::Sender<LinkMsg>,
    t: LinkTimeouts,
) -> Result<(), PbxError> {
    let mut c = ami::login(cfg, t.login, "call,cdr").await?;
    if tx
        .send(LinkMsg::Up(format!(
            "Asterisk AMI {}:{} as {}",
            cfg.host, cfg.port, cfg.username
        )))
        .await
        .is_err()
    {
        return Ok(());
    }
    let mut pinged = false;
    loop {
        match timeout(t.quiet, read_raw(&mut c.reader)).await {
            Err(_) if pinged => return Err(PbxError::Timeout("no answer to Ping")),
            Err(_) => {
                pinged = true;
                c.deadline = Instant::now() + t.login.total;
                let id = ami::action_id("ping");
                c.send(
                    &ami::packet(&[("Action", "Ping"), ("ActionID", &id)]),
                    "sending a Ping",
                )
                .await?;
            }
            Ok(Err(_)) | Ok(Ok(None)) => return Err(PbxError::Dropped("the event stream")),
            Ok(Ok(Some(raw))) => {
                pinged = false;
                for msg in ami_messages(raw) {
                    if tx.send(msg).await.is_err() {
                        return Ok(());
                    }
                }
            }
        }
    }
}

fn ami_messages(raw: RawPacket) -> Vec<LinkMsg> {
    let mut out: Vec<LinkMsg> = raw
        .bad
        .iter()
        .map(|l| LinkMsg::Garbled(format!("AMI line without \"Key: Value\": {l:?}")))
        .collect();
    let p = &raw.packet;
    if p.0.is_empty() {
        return out;
    }
    match p.get("Event") {
        None if p.get("Response").is_some() => {}
        None => out.push(LinkMsg::Garbled(
            "AMI packet without Event or Response".into(),
        )),
        Some(name) => match ami_event(name, p) {
            Ok(e) => {
                out.extend(e.map(LinkMsg::Event));
                // The same event may also be a step of a click-to-call.
                out.extend(ami_leg(name, p).map(LinkMsg::Event));
            }
            Err(Problem::Unknown) => out.push(LinkMsg::Unknown(name.chars().take(60).collect())),
            Err(Problem::Bad(why)) => out.push(LinkMsg::Garbled(format!("AMI {name}: {why}"))),
        },
    }
    out
}

enum Problem {
    Unknown,
    Bad(&'static str),
}

/// `PJSIP/201-0000002a` or `SIP/201` → `201` (the part after the technology, before `-`).
fn channel_ext(channel: &str) -> Option<String> {
    let (tech, rest) = channel.split_once('/')?;
    if !matches!(
        tech.to_ascii_uppercase().as_str(),
        "PJSIP" | "SIP" | "IAX2" | "LOCAL"
    ) {
        return None;
    }
    let name = rest.split(['-', '@', ';']).next().unwrap_or("");
    super::valid_extension(name).then(|| name.to_string())
}

/// The click-to-call side of an AMI event (docs.asterisk.org, "AMI Events"): the agent's own
/// channel (`Channel`) originates (`OriginateResponse`), dials the customer (`DialBegin` /
/// `DialEnd` with `DialStatus`) and hangs up (`Hangup`). `Uniqueid` of the agent's channel is
/// the call's id (the `UniqueID` of its CDR).
fn ami_leg(name: &str, p: &Packet) -> Option<PbxEvent> {
    let ext = p.get("Channel").and_then(channel_ext)?;
    let nonempty = |k: &str| {
        p.get(k)
            .map(str::trim)
            .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("<unknown>"))
            .map(str::to_string)
    };
    let id = nonempty("Uniqueid");
    let (phase, number) = match name.to_ascii_lowercase().as_str() {
        "originateresponse" => {
            let ok = p
                .get("Response")
                .is_some_and(|r| r.eq_ignore_ascii_case("Success"));
            // Reason: Asterisk's control frame (1 hangup, 3 ringing, 5 busy, 8 congestion).
            let phase = match (ok, p.get("Reason").map(str::trim)) {
                (true, _) => LegPhase::Calling,
                (false, Some("5")) => LegPhase::Busy,
                (false, Some("3" | "1" | "0")) => LegPhase::NoAnswer,
                (false, _) => LegPhase::Failed,
            };
            (phase, None)
        }
        "dialbegin" => {
            // The number dialled: `DialString` is `trunk/number` or `number`.
            let dialled = nonempty("DialString")
                .map(|d| d.rsplit('/').next().unwrap_or("").to_string())
                .filter(|d| !d.is_empty())
                .or_else(|| nonempty("DestCallerIDNum"))
                .or_else(|| nonempty("DestExten"));
            (LegPhase::Ringing, dialled)
        }
        "dialend" => {
            let phase = match p.get("DialStatus").unwrap_or("").trim() {
                "ANSWER" => LegPhase::Connected,
                "BUSY" => LegPhase::Busy,
                "NOANSWER" => LegPhase::NoAnswer,
                "CANCEL" => LegPhase::Ended,
                "CONGESTION" | "CHANUNAVAIL" => LegPhase::Failed,
                _ => return None,
            };
            (phase, nonempty("DestCallerIDNum"))
        }
        "hangup" => (LegPhase::Ended, None),
        _ => return None,
    };
    Some(PbxEvent::Leg {
        ext,
        number,
        call_id: id,
        phase,
    })
}

fn secs(v: Option<&str>) -> u64 {
    v.and_then(|s| s.trim().parse::<u64>().ok()).unwrap_or(0)
}

fn ami_event(name: &str, p: &Packet) -> Result<Option<PbxEvent>, Problem> {
    let name = name.to_ascii_lowercase();
    let ext_of = |key: &str| -> Result<String, Problem> {
        let e = p.get(key).unwrap_or("").trim();
        if super::valid_extension(e) {
            Ok(e.to_string())
        } else {
            Err(Problem::Bad("no extension"))
        }
    };
    match name.as_str() {
        "extensionstatus" => {
            let ext = ext_of("Exten")?;
            // Status is the number; StatusText its name (Asterisk 13+ sends both).
            let state = match p.get("Status").map(str::trim) {
                Some("0") => CallState::Idle,
                Some("1" | "2" | "9" | "16" | "17") => CallState::OnCall,
                Some("8") => CallState::Ringing,
                Some("4") => CallState::Offline,
                Some("-1" | "-2") => return Ok(None),
                _ => match p.get("StatusText").unwrap_or("") {
                    "Idle" => CallState::Idle,
                    "Ringing" => CallState::Ringing,
                    "Unavailable" => CallState::Offline,
                    "InUse" | "Busy" | "InUse&Ringing" | "Hold" | "InUse&Hold" => CallState::OnCall,
                    _ => return Err(Problem::Bad("unknown Status")),
                },
            };
            Ok(Some(PbxEvent::Call { ext, state }))
        }
        "devicestatechange" => {
            let Some(ext) = p.get("Device").and_then(channel_ext) else {
                // Queue:, Custom:, trunks…: not an agent's phone.
                return Ok(None);
            };
            let state = match p.get("State").unwrap_or("").trim() {
                "NOT_INUSE" => CallState::Idle,
                "INUSE" | "BUSY" | "ONHOLD" | "RINGINUSE" => CallState::OnCall,
                "RINGING" => CallState::Ringing,
                "UNAVAILABLE" | "INVALID" => CallState::Offline,
                "UNKNOWN" => return Ok(None),
                _ => return Err(Problem::Bad("unknown State")),
            };
            Ok(Some(PbxEvent::Call { ext, state }))
        }
        "presencestatechange" | "presencestatus" => {
            let ext = if name == "presencestatus" {
                ext_of("Exten")?
            } else {
                // `CustomPresence:201`
                let who = p.get("Presentity").unwrap_or("");
                let e = who.rsplit(':').next().unwrap_or("").trim();
                if !super::valid_extension(e) {
                    return Err(Problem::Bad("no presentity"));
                }
                e.to_string()
            };
            let status = p.get("Status").unwrap_or("").trim().to_ascii_lowercase();
            let away = match status.as_str() {
                "available" | "chat" | "not_set" | "invisible" => false,
                "dnd" | "away" | "xa" | "unavailable" => true,
                _ => return Err(Problem::Bad("unknown Status")),
            };
            Ok(Some(PbxEvent::Presence { ext, away, status }))
        }
        "dialbegin" => {
            let Some(ext) = p.get("DestChannel").and_then(channel_ext) else {
                return Ok(None);
            };
            let caller = p.get("CallerIDNum").unwrap_or("").trim().to_string();
            if caller.is_empty() || caller.eq_ignore_ascii_case("<unknown>") {
                return Ok(None);
            }
            Ok(Some(PbxEvent::Ringing { ext, caller }))
        }
        "cdr" => {
            let disposition = match p
                .get("Disposition")
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase()
                .as_str()
            {
                "ANSWERED"
                    if p.get("LastApplication")
                        .is_some_and(|a| a.eq_ignore_ascii_case("VoiceMail")) =>
                {
                    Disposition::Voicemail
                }
                "ANSWERED" => Disposition::Answered,
                "NO ANSWER" => Disposition::Missed,
                "BUSY" => Disposition::Busy,
                "FAILED" | "CONGESTION" => Disposition::Failed,
                _ => return Err(Problem::Bad("unknown Disposition")),
            };
            let id = p.get("UniqueID").unwrap_or("").trim().to_string();
            if id.is_empty() {
                return Err(Problem::Bad("no UniqueID"));
            }
            Ok(Some(PbxEvent::Cdr(Cdr {
                id,
                from: p.get("Source").unwrap_or("").trim().to_string(),
                to: p.get("Destination").unwrap_or("").trim().to_string(),
                from_ext: p.get("Channel").and_then(channel_ext),
                to_ext: p.get("DestinationChannel").and_then(channel_ext),
                direction: None,
                disposition,
                duration_s: secs(p.get("Duration")),
                talk_s: secs(p.get("BillableSeconds")),
            })))
        }
        // Sent around every call with `Events: call`; nothing in them we use.
        "fullybooted" | "newchannel" | "newstate" | "newexten" | "newcallerid"
        | "newconnectedline" | "hangup" | "hanguprequest" | "softhanguprequest" | "dialend"
        | "dialstate" | "varset" | "bridgecreate" | "bridgeenter" | "bridgeleave"
        | "bridgedestroy" | "originateresponse" | "hold" | "unhold" | "musiconholdstart"
        | "musiconholdstop" | "newaccountcode" | "rtcpsent" | "rtcpreceived" | "cel" => Ok(None),
        _ => Err(Problem::Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(text: &str) -> Vec<LinkMsg> {
        let mut r = BufReader::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(raw) = read_raw(&mut r).await.unwrap() {
            out.extend(ami_messages(raw));
        }
        out
    }

    #[tokio::test]
    async fn ami_events_as_asterisk_documents_them() {
        let msgs = parse(concat!(
            "Event: ExtensionStatus\r\nPrivilege: call,all\r\nExten: 201\r\nContext: ext-local\r\nHint: PJSIP/201\r\nStatus: 1\r\nStatusText: InUse\r\n\r\n",
            "Event: DeviceStateChange\r\nPrivilege: call,all\r\nDevice: PJSIP/202\r\nState: RINGING\r\n\r\n",
            "Event: PresenceStateChange\r\nPrivilege: call,all\r\nPresentity: CustomPresence:201\r\nStatus: dnd\r\nSubtype: \r\nMessage: \r\n\r\n",
            "Event: DialBegin\r\nPrivilege: call,all\r\nCallerIDNum: +4917612345678\r\nDestChannel: PJSIP/201-00000002\r\nDestExten: 201\r\n\r\n",
            "Event: Cdr\r\nPrivilege: cdr,all\r\nSource: 04917612345678\r\nDestination: 201\r\nChannel: PJSIP/trunk-00000001\r\nDestinationChannel: PJSIP/201-00000002\r\nLastApplication: Dial\r\nDuration: 30\r\nBillableSeconds: 0\r\nDisposition: NO ANSWER\r\nUniqueID: 1700000000.7\r\n\r\n",
            "Event: Newchannel\r\nChannel: PJSIP/201-1\r\n\r\n",
            "Response: Success\r\nPing: Pong\r\n\r\n",
            "Event: SomethingNew\r\nA: b\r\n\r\n",
            "garbage without colon\r\nEvent: Cdr\r\nDisposition: ANSWERED\r\n\r\n",
            "Event: ExtensionStatus\r\nExten: 20",
        ))
        .await;
        assert_eq!(
            msgs[0],
            LinkMsg::Event(PbxEvent::Call {
                ext: "201".into(),
                state: CallState::OnCall
            })
        );
        assert_eq!(
            msgs[1],
            LinkMsg::Event(PbxEvent::Call {
                ext: "202".into(),
                state: CallState::Ringing
            })
        );
        assert!(
            matches!(&msgs[2], LinkMsg::Event(PbxEvent::Presence { ext, away: true, .. }) if ext == "201")
        );
        assert!(
            matches!(&msgs[3], LinkMsg::Event(PbxEvent::Ringing { ext, caller }) if ext == "201" && caller == "+4917612345678")
        );
        match &msgs[4] {
            LinkMsg::Event(PbxEvent::Cdr(c)) => {
                assert_eq!(c.disposition, Disposition::Missed);
                assert_eq!(c.to_ext.as_deref(), Some("201"));
                assert_eq!(c.from, "04917612345678");
                assert_eq!(c.duration_s, 30);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(msgs[5], LinkMsg::Unknown("SomethingNew".into()));
        assert!(matches!(&msgs[6], LinkMsg::Garbled(_)), "{:?}", msgs[6]);
        assert!(matches!(&msgs[7], LinkMsg::Garbled(_)), "{:?}", msgs[7]);
        // The cut-off packet at the end is never half-applied.
        assert_eq!(msgs.len(), 8, "{msgs:?}");
    }

    #[tokio::test]
    async fn an_originated_call_as_asterisk_reports_it() {
        let msgs = parse(concat!(
            "Event: OriginateResponse\r\nResponse: Success\r\nChannel: PJSIP/201-00000001\r\nReason: 4\r\nUniqueid: 17.1\r\n\r\n",
            "Event: DialBegin\r\nChannel: PJSIP/201-00000001\r\nCallerIDNum: 201\r\nUniqueid: 17.1\r\nDestChannel: PJSIP/trunk-00000002\r\nDestCallerIDNum: +4917612345678\r\nDialString: trunk/+4917612345678\r\n\r\n",
            "Event: DialEnd\r\nChannel: PJSIP/201-00000001\r\nUniqueid: 17.1\r\nDestCallerIDNum: +4917612345678\r\nDialStatus: BUSY\r\n\r\n",
            "Event: Hangup\r\nChannel: PJSIP/201-00000001\r\nUniqueid: 17.1\r\nCause: 16\r\n\r\n",
            "Event: OriginateResponse\r\nResponse: Failure\r\nChannel: PJSIP/202\r\nReason: 5\r\n\r\n",
        ))
        .await;
        let legs: Vec<(String, Option<String>, LegPhase)> = msgs
            .iter()
            .filter_map(|m| match m {
                LinkMsg::Event(PbxEvent::Leg {
                    ext, number, phase, ..
                }) => Some((ext.clone(), number.clone(), *phase)),
                _ => None,
            })
            .collect();
        let n = Some("+4917612345678".to_string());
        assert_eq!(
            legs,
            vec![
                ("201".into(), None, LegPhase::Calling),
                ("201".into(), n.clone(), LegPhase::Ringing),
                ("201".into(), n, LegPhase::Busy),
                ("201".into(), None, LegPhase::Ended),
                ("202".into(), None, LegPhase::Busy),
            ]
        );
    }
}
