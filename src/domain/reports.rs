//! Reports: sessions per channel per day (UTC), first-response time and resolution time
//! (median and 90th percentile, nearest-rank) overall and per agent, for sessions created in a
//! date range. First response counts only sessions the customer opened (an agent-started
//! session's first message is the agent's own) and is credited to the agent who sent the
//! first reply (not the final owner after a transfer); resolution counts closed sessions, per
//! owner. Plus how often each end-chat result and each tag was used.

use crate::ids::ChannelId;
use crate::ids::SessionId;
use crate::ids::UserId;
use std::collections::{BTreeMap, HashMap};

use chrono::{Duration, NaiveDate, NaiveTime};
use redb::ReadTransaction;
use serde::{Deserialize, Serialize};

use super::access::Visible;
use super::messages::{self, Direction};
use super::sessions::{self, SessionStatus};
use super::users::User;
use super::{channels, users};
use crate::clock::DAY_MS;
use crate::error::{Error, Result};
use crate::store::Store;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// First day, `YYYY-MM-DD` (UTC); default 6 days before `to`.
    pub from: Option<String>,
    /// Last day, inclusive, `YYYY-MM-DD` (UTC); default today.
    pub to: Option<String>,
}

/// Median and 90th percentile in seconds (None without data).
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Timing {
    pub count: u64,
    pub median_s: Option<i64>,
    pub p90_s: Option<i64>,
}

impl Timing {
    fn of(mut ms: Vec<i64>) -> Self {
        ms.sort_unstable();
        let n = ms.len();
        let rank = |p: f64| -> Option<i64> {
            if n == 0 {
                return None;
            }
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            ms.get(i).map(|v| v / 1000)
        };
        Timing {
            count: n as u64,
            median_s: rank(0.5),
            p90_s: rank(0.9),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ChannelDays {
    pub channel_id: ChannelId,
    pub name: String,
    /// Sessions created per day, aligned with `Report::days`.
    pub per_day: Vec<u64>,
    pub total: u64,
    /// Satisfaction answers of the channel's sessions.
    pub rating: Ratings,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AgentStats {
    pub user_id: UserId,
    pub name: String,
    /// Sessions assigned to the agent (created in the range).
    pub sessions: u64,
    /// First responses: of the sessions the agent answered first.
    pub first_response: Timing,
    pub resolution: Timing,
    /// Satisfaction answers of the sessions the agent owned.
    pub rating: Ratings,
}

/// Satisfaction survey answers (docs/automation.md): how many, their average, and how many
/// gave each score (`distribution[0]` = 1 … `distribution[4]` = 5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ratings {
    pub count: u64,
    /// Rounded to one decimal (None without answers).
    pub average: Option<f64>,
    pub distribution: [u64; 5],
}

impl Ratings {
    fn add(&mut self, score: u8) {
        if let Some(c) = self
            .distribution
            .get_mut(usize::from(score).wrapping_sub(1))
        {
            *c += 1;
            self.count += 1;
        }
    }

    /// With the average of what was added.
    fn done(mut self) -> Self {
        let sum: u64 = (1u64..=5).zip(self.distribution).map(|(s, n)| s * n).sum();
        self.average =
            (self.count > 0).then(|| (sum as f64 * 10.0 / self.count as f64).round() / 10.0);
        self
    }
}

/// How many sessions of the range carry one result or tag.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Count {
    pub name: String,
    pub sessions: u64,
}

fn counts(m: HashMap<String, u64>) -> Vec<Count> {
    let mut v: Vec<Count> = m
        .into_iter()
        .map(|(name, sessions)| Count { name, sessions })
        .collect();
    v.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.name.cmp(&b.name)));
    v
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub days: Vec<String>,
    pub per_day_total: Vec<u64>,
    pub channels: Vec<ChannelDays>,
    pub sessions: u64,
    pub first_response: Timing,
    pub resolution: Timing,
    pub agents: Vec<AgentStats>,
    /// End-chat results of the closed sessions (most used first).
    pub results: Vec<Count>,
    /// Tags of the sessions (most used first).
    pub tags: Vec<Count>,
    /// First-response targets (docs/automation.md): conversations that had one, and how many
    /// got their first answer in time.
    pub sla: SlaShare,
    /// Satisfaction answers of all sessions of the range.
    pub rating: Ratings,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SlaShare {
    pub with_target: u64,
    pub met: u64,
}

impl SlaShare {
    /// Whole percent met (None without targets).
    pub fn percent(&self) -> Option<u64> {
        (self.with_target > 0).then(|| (self.met * 100 + self.with_target / 2) / self.with_target)
    }
}

fn day_start_ms(d: NaiveDate) -> i64 {
    d.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

fn parse_day(field: &str, s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::invalid(field, "must be a date like 2026-03-31"))
}

/// The inclusive day range of a query, at most 366 days.
pub fn range(q: &ReportQuery, now: i64) -> Result<(NaiveDate, NaiveDate)> {
    let today = chrono::DateTime::from_timestamp_millis(now)
        .map(|t| t.date_naive())
        .ok_or_else(|| Error::Internal("clock out of range".into()))?;
    let to = match q.to.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day("to", s)?,
        None => today,
    };
    let from = match q.from.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => parse_day("from", s)?,
        None => to - Duration::days(6),
    };
    if from > to {
        return Err(Error::invalid("from", "must not be after to"));
    }
    if (to - from).num_days() > 366 {
        return Err(Error::invalid("from", "the range is at most 366 days"));
    }
    Ok((from, to))
}

/// Did the customer write first (the session was not started by an agent)?
fn customer_opened(rtx: &ReadTransaction, sid: SessionId) -> Result<bool> {
    Ok(messages::first(rtx, sid)?.is_some_and(|m| m.direction == Direction::In))
}

/// The report over the channels `user` sees (the reports page, its JSON and its CSV).
pub async fn for_user(store: &Store, user: &User, q: ReportQuery, now: i64) -> Result<Report> {
    let user = user.clone();
    store
        .read(move |rtx| {
            let vis = super::access::visible_channels(rtx, &user)?;
            build(rtx, &vis, &q, now)
        })
        .await
}

pub fn build(rtx: &ReadTransaction, vis: &Visible, q: &ReportQuery, now: i64) -> Result<Report> {
    let (from, to) = range(q, now)?;
    let from_ms = day_start_ms(from);
    let to_ms = day_start_ms(to) + DAY_MS;
    let ndays = ((to_ms - from_ms) / DAY_MS) as usize;
    let days: Vec<String> = (0..ndays)
        .map(|i| {
            (from + Duration::days(i as i64))
                .format("%Y-%m-%d")
                .to_string()
        })
        .collect();

    // A session created in the range was last active at or after the range start.
    let mut per_channel: BTreeMap<ChannelId, Vec<u64>> = BTreeMap::new();
    let mut frt_all = Vec::new();
    let mut res_all = Vec::new();
    let mut agents: HashMap<UserId, (u64, Vec<i64>, Vec<i64>)> = HashMap::new();
    let mut total = 0u64;
    let mut results: HashMap<String, u64> = HashMap::new();
    let mut tags: HashMap<String, u64> = HashMap::new();
    let mut sla = SlaShare::default();
    let mut rating = Ratings::default();
    let mut channel_rating: HashMap<ChannelId, Ratings> = HashMap::new();
    let mut agent_rating: HashMap<UserId, Ratings> = HashMap::new();
    sessions::each_active_since(
        rtx,
        from_ms,
        |ch| vis.channel(ch),
        |s| {
            if s.created < from_ms || s.created >= to_ms {
                return Ok(());
            }
            total += 1;
            let day = ((s.created - from_ms) / DAY_MS) as usize;
            let row = per_channel
                .entry(s.channel_id)
                .or_insert_with(|| vec![0; ndays]);
            if let Some(c) = row.get_mut(day) {
                *c += 1;
            }
            let frt = match s.first_response_at {
                Some(t) if customer_opened(rtx, s.id)? => Some((t - s.created).max(0)),
                _ => None,
            };
            if let Some(target) = s.sla {
                sla.with_target += 1;
                if s.first_response_at.is_some_and(|t| t <= target.due_at) {
                    sla.met += 1;
                }
            }
            if let Some(score) = s.rating {
                rating.add(score);
                channel_rating.entry(s.channel_id).or_default().add(score);
                if let Some(a) = s.assignee {
                    agent_rating.entry(a).or_default().add(score);
                    agents.entry(a).or_default();
                }
            }
            let res = match (s.status, s.closed_at) {
                (SessionStatus::Closed, Some(t)) => Some((t - s.created).max(0)),
                _ => None,
            };
            frt_all.extend(frt);
            res_all.extend(res);
            if let Some(r) = s
                .result
                .as_ref()
                .filter(|_| s.status == SessionStatus::Closed)
            {
                *results.entry(r.clone()).or_default() += 1;
            }
            for t in &s.tags {
                *tags.entry(t.clone()).or_default() += 1;
            }
            // The first response belongs to whoever sent the first reply.
            let responder = match frt {
                Some(_) => messages::first_reply(rtx, s.id)?
                    .and_then(|m| m.author)
                    .or(s.assignee),
                None => None,
            };
            if let (Some(who), Some(t)) = (responder, frt) {
                agents.entry(who).or_default().1.push(t);
            }
            if let Some(a) = s.assignee {
                let e = agents.entry(a).or_default();
                e.0 += 1;
                e.2.extend(res);
            }
            Ok(())
        },
    )?;

    let mut per_day_total = vec![0u64; ndays];
    let mut channels_out = Vec::new();
    for (cid, row) in per_channel {
        for (i, n) in row.iter().enumerate() {
            per_day_total[i] += n;
        }
        let name = channels::get(rtx, cid)?
            .map(|c| c.name)
            .unwrap_or_else(|| format!("channel {cid} (deleted)"));
        channels_out.push(ChannelDays {
            channel_id: cid,
            name,
            total: row.iter().sum(),
            per_day: row,
            rating: channel_rating.get(&cid).copied().unwrap_or_default().done(),
        });
    }
    let mut agents_out = Vec::new();
    for (uid, (n, frt, res)) in agents {
        let name = users::get(rtx, uid)?
            .map(|u| u.display_name_or_username().to_string())
            .unwrap_or_else(|| format!("user {uid}"));
        agents_out.push(AgentStats {
            user_id: uid,
            name,
            sessions: n,
            first_response: Timing::of(frt),
            resolution: Timing::of(res),
            rating: agent_rating.get(&uid).copied().unwrap_or_default().done(),
        });
    }
    agents_out.sort_by(|a, b| b.sessions.cmp(&a.sessions).then(a.name.cmp(&b.name)));
    Ok(Report {
        from: from.format("%Y-%m-%d").to_string(),
        to: to.format("%Y-%m-%d").to_string(),
        days,
        per_day_total,
        channels: channels_out,
        sessions: total,
        first_response: Timing::of(frt_all),
        resolution: Timing::of(res_all),
        agents: agents_out,
        results: counts(results),
        tags: counts(tags),
        sla,
        rating: rating.done(),
    })
}

fn csv_field(s: &str) -> String {
    // Quote, and defuse spreadsheet formulas in names.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn opt(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// One table: `row` = day | agent | overall.
pub fn to_csv(r: &Report) -> String {
    let mut out = String::from(
        "row,date,channel_id,channel,user_id,agent,sessions,first_response_median_s,first_response_p90_s,resolution_median_s,resolution_p90_s\r\n",
    );
    for c in &r.channels {
        for (day, n) in r.days.iter().zip(&c.per_day) {
            out.push_str(&format!(
                "day,{day},{},{},,,{n},,,,\r\n",
                c.channel_id,
                csv_field(&c.name)
            ));
        }
    }
    for a in &r.agents {
        out.push_str(&format!(
            "agent,,,,{},{},{},{},{},{},{}\r\n",
            a.user_id,
            csv_field(&a.name),
            a.sessions,
            opt(a.first_response.median_s),
            opt(a.first_response.p90_s),
            opt(a.resolution.median_s),
            opt(a.resolution.p90_s)
        ));
    }
    out.push_str(&format!(
        "overall,{}..{},,,,,{},{},{},{},{}\r\n",
        r.from,
        r.to,
        r.sessions,
        opt(r.first_response.median_s),
        opt(r.first_response.p90_s),
        opt(r.resolution.median_s),
        opt(r.resolution.p90_s)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let t = Timing::of(vec![
            60_000, 10_000, 30_000, 20_000, 50_000, 40_000, 70_000, 80_000, 90_000, 100_000,
        ]);
        assert_eq!(t.median_s, Some(50));
        assert_eq!(t.p90_s, Some(90));
        assert_eq!(Timing::of(vec![]).median_s, None);
        assert_eq!(Timing::of(vec![5_000]).p90_s, Some(5));
    }

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("=SUM(A1)"), "\"'=SUM(A1)\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
    }
}
