//! Business hours of a channel: a weekly schedule (per weekday closed, or one or more
//! `from–to` ranges) and holiday dates, read in the box's time zone (the system's local zone,
//! `chrono::Local`, at the instant the injected clock gives).

use chrono::{DateTime, Datelike, Duration, Local, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Weekday field names, Monday first (the form's fields are `hours_mon` …).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Ranges a day may have.
pub const MAX_RANGES: usize = 4;
/// Holidays a channel may list.
pub const MAX_HOLIDAYS: usize = 200;

/// One opening range in minutes after local midnight, `from < to <= 1440`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Span {
    pub from: u16,
    pub to: u16,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Hours {
    /// Off: the channel counts as always open.
    pub enabled: bool,
    /// Monday first; an empty day is closed.
    pub week: [Vec<Span>; 7],
    /// `YYYY-MM-DD`, closed all day, sorted.
    pub holidays: Vec<String>,
}

fn hhmm(m: u16) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// `8:00` (the widget's and the replies' style: no leading zero).
pub fn short_time(m: u16) -> String {
    format!("{}:{:02}", m / 60, m % 60)
}

fn parse_time(s: &str) -> Option<u16> {
    let (h, m) = s.trim().split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return None;
    }
    Some(h * 60 + m)
}

/// One day as the form shows it: `08:00-12:00, 13:00-17:00`, empty when closed.
pub fn day_text(spans: &[Span]) -> String {
    spans
        .iter()
        .map(|s| format!("{}-{}", hhmm(s.from), hhmm(s.to)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parse one day (`field` names it in the error): empty = closed.
pub fn parse_day(field: &str, text: &str) -> Result<Vec<Span>> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut spans = Vec::new();
    for part in text.split([',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (a, b) = part
            .split_once(['-', '–', '—'])
            .ok_or_else(|| Error::invalid(field, BAD_RANGE))?;
        let (Some(from), Some(to)) = (parse_time(a), parse_time(b)) else {
            return Err(Error::invalid(field, BAD_RANGE));
        };
        if from >= to {
            return Err(Error::invalid(field, EMPTY_RANGE));
        }
        spans.push(Span { from, to });
    }
    if spans.len() > MAX_RANGES {
        return Err(Error::invalid(field, TOO_MANY));
    }
    spans.sort_by_key(|s| s.from);
    if spans.windows(2).any(|w| w[1].from < w[0].to) {
        return Err(Error::invalid(field, OVERLAP));
    }
    Ok(spans)
}

/// Holidays, one a line (or separated by commas): `YYYY-MM-DD`.
pub fn parse_holidays(text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for part in text.split(['\n', ',', ';']) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let d = NaiveDate::parse_from_str(part, "%Y-%m-%d")
            .ok()
            .filter(|_| part.len() == 10)
            .ok_or_else(|| Error::invalid("holidays", format!("{BAD_DATE}: {part}")))?;
        out.push(d.format("%Y-%m-%d").to_string());
    }
    out.sort();
    out.dedup();
    if out.len() > MAX_HOLIDAYS {
        return Err(Error::invalid("holidays", TOO_MANY_HOLIDAYS));
    }
    Ok(out)
}

pub const BAD_RANGE: &str = "Write each opening time as from-to, e.g. 08:00-12:00";
pub const EMPTY_RANGE: &str = "An opening time must end after it starts";
pub const OVERLAP: &str = "Opening times of one day must not overlap";
pub const TOO_MANY: &str = "At most 4 opening times a day";
pub const BAD_DATE: &str = "Not a date (YYYY-MM-DD)";
pub const TOO_MANY_HOLIDAYS: &str = "At most 200 holidays";
pub const NO_HOURS: &str = "Give at least one day opening times, or switch business hours off";

/// The instant `ms` on the box's wall clock.
pub fn local(ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&Local)
        .naive_local()
}

/// A wall-clock time of the box as Unix ms (the earlier one when the clock goes back, the
/// first valid minute after a gap when it jumps forward).
pub fn instant(t: NaiveDateTime) -> i64 {
    for skip in 0..180 {
        let t = t + Duration::minutes(skip);
        if let Some(dt) = Local.from_local_datetime(&t).earliest() {
            return dt.timestamp_millis();
        }
    }
    t.and_utc().timestamp_millis()
}

/// When the channel opens next (`now` if it is open now).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Next {
    /// Unix ms.
    pub at: i64,
    /// Days from today (box time): 0 today, 1 tomorrow, …
    pub days_ahead: u32,
    /// `mon` … `sun`.
    pub weekday: &'static str,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `8:00`.
    pub time: String,
}

impl Hours {
    fn closed_on(&self, d: NaiveDate) -> bool {
        let key = d.format("%Y-%m-%d").to_string();
        self.holidays.binary_search(&key).is_ok()
    }

    fn spans_on(&self, d: NaiveDate) -> &[Span] {
        if self.closed_on(d) {
            return &[];
        }
        &self.week[d.weekday().num_days_from_monday() as usize]
    }

    /// Open at `ms`? Always, when business hours are off.
    pub fn is_open(&self, ms: i64) -> bool {
        if !self.enabled {
            return true;
        }
        let t = local(ms);
        let minute = (t.hour() * 60 + t.minute()) as u16;
        self.spans_on(t.date())
            .iter()
            .any(|s| s.from <= minute && minute < s.to)
    }

    /// The next opening at or after `ms` within two weeks (None: off, or nothing open soon).
    pub fn next_open(&self, ms: i64) -> Option<Next> {
        if !self.enabled {
            return None;
        }
        let now = local(ms);
        let minute = (now.hour() * 60 + now.minute()) as u16;
        for ahead in 0..15u32 {
            let d = now.date() + Duration::days(i64::from(ahead));
            for s in self.spans_on(d) {
                if ahead == 0 && s.to <= minute {
                    continue;
                }
                let at = if ahead == 0 && s.from <= minute {
                    ms
                } else {
                    instant(
                        d.and_hms_opt(0, 0, 0)?
                            .checked_add_signed(Duration::minutes(i64::from(s.from)))?,
                    )
                };
                return Some(Next {
                    at,
                    days_ahead: ahead,
                    weekday: DAYS[d.weekday().num_days_from_monday() as usize],
                    date: d.format("%Y-%m-%d").to_string(),
                    time: short_time(if ahead == 0 && s.from <= minute {
                        minute
                    } else {
                        s.from
                    }),
                });
            }
        }
        None
    }

    /// The instant `minutes` of open time after `start` (a response target's deadline): the
    /// clock only runs within business hours; without them, plain minutes.
    pub fn add_open(&self, start: i64, minutes: u32) -> i64 {
        let plain = start + i64::from(minutes) * 60_000;
        if !self.enabled {
            return plain;
        }
        let t0 = local(start);
        let now_minute = (t0.hour() * 60 + t0.minute()) as u16;
        let mut left = i64::from(minutes);
        for ahead in 0..60 {
            let d = t0.date() + Duration::days(ahead);
            for s in self.spans_on(d) {
                let from = if ahead == 0 {
                    s.from.max(now_minute)
                } else {
                    s.from
                };
                if from >= s.to {
                    continue;
                }
                let avail = i64::from(s.to - from);
                if left <= avail {
                    if ahead == 0 && from == now_minute {
                        return start + left * 60_000;
                    }
                    let Some(midnight) = d.and_hms_opt(0, 0, 0) else {
                        return plain;
                    };
                    return instant(midnight + Duration::minutes(i64::from(from) + left));
                }
                left -= avail;
            }
        }
        plain
    }

    /// Checked settings: switched on, at least one day must have opening times.
    pub fn check(&self) -> Result<()> {
        if self.enabled && self.week.iter().all(Vec::is_empty) {
            return Err(Error::invalid("hours_mon", NO_HOURS));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        instant(NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap())
    }

    fn office() -> Hours {
        let mut h = Hours {
            enabled: true,
            ..Default::default()
        };
        for d in 0..5 {
            h.week[d] = parse_day("x", "08:00-12:00, 13:00-17:00").unwrap();
        }
        h.holidays = parse_holidays("2026-12-24\n2026-12-25").unwrap();
        h
    }

    #[test]
    fn days_parse_and_refuse() {
        assert_eq!(parse_day("x", "").unwrap(), vec![]);
        assert_eq!(
            parse_day("x", "13:00-17:00,8:00–12:00").unwrap(),
            vec![
                Span { from: 480, to: 720 },
                Span {
                    from: 780,
                    to: 1020
                }
            ]
        );
        assert_eq!(
            parse_day("x", "00:00-24:00").unwrap(),
            vec![Span { from: 0, to: 1440 }]
        );
        for bad in ["8-12", "08:00", "25:00-26:00", "08:60-09:00", "x"] {
            assert!(
                parse_day("x", bad)
                    .unwrap_err()
                    .to_string()
                    .contains("from-to"),
                "{bad}"
            );
        }
        assert!(
            parse_day("x", "12:00-08:00")
                .unwrap_err()
                .to_string()
                .contains("end after")
        );
        assert!(
            parse_day("x", "08:00-12:00, 11:00-14:00")
                .unwrap_err()
                .to_string()
                .contains("overlap")
        );
        assert!(parse_holidays("2026-02-30").is_err());
        assert!(parse_holidays("24.12.2026").is_err());
        assert_eq!(
            parse_holidays("2026-12-25, 2026-12-24\n2026-12-25").unwrap(),
            vec!["2026-12-24", "2026-12-25"]
        );
        let mut h = Hours {
            enabled: true,
            ..Default::default()
        };
        assert!(h.check().is_err());
        h.enabled = false;
        assert!(h.check().is_ok());
    }

    #[test]
    fn open_and_next_opening() {
        let h = office();
        // 2026-12-07 is a Monday.
        assert!(h.is_open(at("2026-12-07 08:00")));
        assert!(!h.is_open(at("2026-12-07 12:30")));
        assert!(!h.is_open(at("2026-12-07 17:00")));
        let n = h.next_open(at("2026-12-07 12:30")).unwrap();
        assert_eq!((n.days_ahead, n.time.as_str()), (0, "13:00"));
        let n = h.next_open(at("2026-12-07 18:00")).unwrap();
        assert_eq!(
            (n.days_ahead, n.weekday, n.time.as_str()),
            (1, "tue", "8:00")
        );
        assert_eq!(n.at, at("2026-12-08 08:00"));
        // Friday evening: Monday.
        let n = h.next_open(at("2026-12-11 18:00")).unwrap();
        assert_eq!((n.days_ahead, n.weekday), (3, "mon"));
        // Holidays: Wednesday 23rd evening → Monday 28th.
        assert!(!h.is_open(at("2026-12-24 09:00")));
        let n = h.next_open(at("2026-12-23 18:00")).unwrap();
        assert_eq!(n.date, "2026-12-28");
        // A response target counts open time only: 90 minutes from Friday 16:30 end Monday 09:00.
        assert_eq!(
            h.add_open(at("2026-12-11 16:30"), 90),
            at("2026-12-14 09:00")
        );
        assert_eq!(
            h.add_open(at("2026-12-07 09:00"), 30),
            at("2026-12-07 09:30")
        );
        assert_eq!(
            h.add_open(at("2026-12-07 11:45"), 30),
            at("2026-12-07 13:15")
        );
        // Off: always open, no next.
        let off = Hours::default();
        assert!(off.is_open(at("2026-12-24 03:00")));
        assert!(off.next_open(0).is_none());
    }
}
