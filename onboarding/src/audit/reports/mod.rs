//! What auditors ask of the trail, answered from the records alone (pure: no AWS). Each answer
//! is a list of rows ([`Row`]) that the caller writes as text, JSON Lines or CSV, with a manifest.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use shared::audit::{AuditRecord, Outcome};
use shared::aws::identity_center::{Principal, StoreUser};
use shared::aws::people::PersonRecord;
use shared::event::{CHANGED, DEPARTED, HIRED};

mod access;
mod completeness;
mod leavers;
mod movements;
#[cfg(test)]
mod tests;
mod trail_rows;

pub use access::*;
pub use completeness::*;
pub use leavers::*;
pub use movements::*;
pub use trail_rows::*;

/// A report's row: JSON by `Serialize`, text and CSV by its cells under [`Row::HEADER`].
pub trait Row: Serialize {
    const HEADER: &'static [&'static str];
    fn cells(&self) -> Vec<String>;
}

/// The records of a trail, each once, in time order.
#[derive(Debug, Default)]
pub struct Trail {
    pub records: Vec<AuditRecord>,
    /// Parts (objects, files) read.
    pub parts: usize,
    /// Exact copies of a record met again (at-least-once delivery into the archive): kept once.
    pub copies: usize,
    /// Lines that are not audit records, as `part:line: why` (a damaged or forged trail).
    pub unreadable: Vec<String>,
    /// Parts changed after they were written (another version of an object with another body).
    pub altered: Vec<String>,
}

impl Trail {
    /// Reads JSON Lines parts (`(name, text)`, in order).
    pub fn parse(parts: &[(String, String)]) -> Self {
        let mut seen = HashSet::new();
        let mut records: Vec<(DateTime<Utc>, usize, AuditRecord)> = Vec::new();
        let mut trail = Trail { parts: parts.len(), ..Trail::default() };
        for (name, text) in parts {
            for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
                let bad = |why: String| format!("{name}:{}: {}", i + 1, shared::event::clip(&why, 200));
                let record = match serde_json::from_str::<AuditRecord>(line) {
                    Ok(r) => r,
                    Err(e) => {
                        trail.unreadable.push(bad(format!("not an audit record: {e}")));
                        continue;
                    }
                };
                let Some(at) = time(&record.timestamp) else {
                    trail.unreadable.push(bad(format!("timestamp `{}` is not RFC 3339", record.timestamp)));
                    continue;
                };
                if !seen.insert(serde_json::to_string(&record).unwrap_or_default()) {
                    trail.copies += 1;
                    continue;
                }
                let n = records.len();
                records.push((at, n, record));
            }
        }
        records.sort_by_key(|(at, n, _)| (*at, *n));
        trail.records = records.into_iter().map(|(_, _, r)| r).collect();
        trail
    }
}

/// An RFC 3339 time (the one parser, `lifecycle::parse_stamp`).
pub use shared::lifecycle::parse_stamp as time;

/// `[from, to)`; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Period {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Period {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|e| t < e)
    }
}

/// `3d 04h 05m`, `2h 03m 04s`, `5m 06s`, `7s`.
pub fn human(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (days, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    match (days, h, m) {
        (0, 0, 0) => format!("{sec}s"),
        (0, 0, _) => format!("{m}m {sec:02}s"),
        (0, _, _) => format!("{h}h {m:02}m {sec:02}s"),
        _ => format!("{days}d {h:02}h {m:02}m"),
    }
}

/// `24h`, `90m`, `2d`, `3600s` as a duration.
pub fn parse_sla(s: &str) -> Result<TimeDelta, String> {
    let bad = || format!("`{s}` is not a duration; expected a number and a unit, e.g. 24h, 90m, 2d or 3600s");
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => TimeDelta::try_seconds(n),
        "m" => TimeDelta::try_minutes(n),
        "h" => TimeDelta::try_hours(n),
        "d" => TimeDelta::try_days(n),
        _ => None,
    };
    d.filter(|d| *d > TimeDelta::zero()).ok_or_else(bad)
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn user_of(arn: Option<&str>) -> Option<String> {
    arn.filter(|a| a.contains(":user/")).and_then(|a| a.rsplit('/').next()).map(str::to_owned)
}

fn stamp(t: DateTime<Utc>) -> String {
    shared::lifecycle::stamp(t)
}
