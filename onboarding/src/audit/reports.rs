//! What auditors ask of the trail, answered from the records alone (pure: no AWS). Each answer
//! is a list of rows ([`Row`]) that the caller writes as text, JSON Lines or CSV, with a manifest.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use shared::audit::{AuditRecord, Outcome};
use shared::event::{CHANGED, DEPARTED, HIRED};

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

// ---------------------------------------------------------------------------------------------
// audit trail

/// Which records `audit trail` lists.
#[derive(Debug, Clone, Default)]
pub struct TrailFilter {
    pub employee: Option<String>,
    pub event: Option<String>,
    pub period: Period,
    pub outcome: Option<Outcome>,
}

/// One record, as archived (JSON: the record itself).
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct TrailRow(pub AuditRecord);

impl Row for TrailRow {
    const HEADER: &'static [&'static str] = &[
        "timestamp",
        "eventId",
        "employeeId",
        "detailType",
        "delivery",
        "step",
        "action",
        "target",
        "outcome",
        "terminal",
        "changed",
        "reason",
        "error",
    ];
    fn cells(&self) -> Vec<String> {
        let r = &self.0;
        vec![
            r.timestamp.clone(),
            opt(&r.event_id),
            opt(&r.employee_id),
            opt(&r.detail_type),
            opt(&r.delivery),
            r.step.clone(),
            r.action.clone(),
            opt(&r.target),
            r.outcome.as_str().into(),
            r.terminal.to_string(),
            r.changed.map(|c| c.to_string()).unwrap_or_default(),
            opt(&r.reason),
            opt(&r.error),
        ]
    }
}

pub fn trail(t: &Trail, f: &TrailFilter) -> Vec<TrailRow> {
    let wanted = |r: &&AuditRecord| {
        f.employee.as_ref().is_none_or(|e| r.employee_id.as_ref() == Some(e))
            && f.event.as_ref().is_none_or(|e| r.event_id.as_ref() == Some(e))
            && f.outcome.is_none_or(|o| r.outcome == o)
            && time(&r.timestamp).is_some_and(|at| f.period.contains(at))
    };
    t.records.iter().filter(wanted).cloned().map(TrailRow).collect()
}

// ---------------------------------------------------------------------------------------------
// audit leavers

/// One departure and how fast its access ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Leaver {
    pub employee_id: String,
    pub event_id: String,
    pub user_name: Option<String>,
    /// When HR said access must end (the event's time for an immediate departure, else the end
    /// of the last day).
    pub due_at: Option<String>,
    /// The first record of the event: when this system had it.
    pub received_at: String,
    pub access_ended_at: Option<String>,
    pub deleted_at: Option<String>,
    /// From `due_at` (or `received_at`) to `access_ended_at`, or to the report's time while access
    /// has not ended; none for an ignored departure.
    pub elapsed: Option<String>,
    pub elapsed_seconds: Option<i64>,
    pub sla: String,
    /// Ended later than the SLA allows, or still not ended past it. Empty for an ignored departure.
    pub breached: Option<bool>,
    /// `ended`, `pending` (scheduled, not yet due or not yet done), `quarantined` (held for an
    /// operator), `failed` (the last delivery failed), `ignored` (nothing to end, see `reason`).
    pub status: String,
    pub reason: Option<String>,
}

impl Row for Leaver {
    const HEADER: &'static [&'static str] = &[
        "employeeId",
        "eventId",
        "userName",
        "dueAt",
        "receivedAt",
        "accessEndedAt",
        "deletedAt",
        "elapsed",
        "elapsedSeconds",
        "sla",
        "breached",
        "status",
        "reason",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.employee_id.clone(),
            self.event_id.clone(),
            opt(&self.user_name),
            opt(&self.due_at),
            self.received_at.clone(),
            opt(&self.access_ended_at),
            opt(&self.deleted_at),
            opt(&self.elapsed),
            self.elapsed_seconds.map(|s| s.to_string()).unwrap_or_default(),
            self.sla.clone(),
            self.breached.map(|b| if b { "yes" } else { "no" }.to_owned()).unwrap_or_default(),
            self.status.clone(),
            opt(&self.reason),
        ]
    }
}

/// One row per departure whose access was due (or, without a due time, which arrived) in the
/// period. Access counts as ended by the first record after the departure arrived that says so
/// for the employee: the departure's own, a sweep's disable, or an operator's release.
pub fn leavers(t: &Trail, period: Period, sla: TimeDelta, sla_text: &str, now: DateTime<Utc>) -> Vec<Leaver> {
    let mut by_event: BTreeMap<&str, Vec<&AuditRecord>> = BTreeMap::new();
    for r in t.records.iter().filter(|r| r.detail_type.as_deref() == Some(DEPARTED)) {
        if let Some(e) = r.event_id.as_deref() {
            by_event.entry(e).or_default().push(r);
        }
    }
    fn after<'t>(t: &'t Trail, employee: &'t str, from: DateTime<Utc>) -> impl Iterator<Item = &'t AuditRecord> {
        t.records.iter().filter(move |r| {
            r.employee_id.as_deref() == Some(employee) && time(&r.timestamp).is_some_and(|at| at >= from)
        })
    }
    let mut rows = Vec::new();
    for (event_id, records) in by_event {
        let (first, terminals) = (records[0], records.iter().filter(|r| r.terminal).collect::<Vec<_>>());
        let Some(received) = time(&first.timestamp) else { continue };
        let employee = records.iter().find_map(|r| r.employee_id.clone()).unwrap_or_default();
        let due = terminals.iter().rev().find_map(|r| r.access_due_at.as_deref().and_then(time));
        if !period.contains(due.unwrap_or(received)) {
            continue;
        }
        let ended = after(t, &employee, received)
            .filter(|r| r.terminal)
            .find_map(|r| r.access_ended_at.as_deref().and_then(time));
        let deleted = after(t, &employee, received)
            .find(|r| r.action == "iam:DeleteUser" && matches!(r.outcome, Outcome::Done | Outcome::AlreadyDone))
            .and_then(|r| time(&r.timestamp));
        let last = terminals.last();
        let start = due.unwrap_or(received);
        let elapsed = (ended.unwrap_or(now) - start).max(TimeDelta::zero());
        let (status, reason) = match (ended, last.map(|r| r.outcome)) {
            (Some(_), _) => ("ended", None),
            (None, Some(Outcome::Ignored)) => ("ignored", last.and_then(|r| r.reason.clone())),
            (None, Some(Outcome::Quarantined)) => ("quarantined", last.and_then(|r| r.reason.clone())),
            (None, Some(Outcome::Failed)) => ("failed", last.and_then(|r| r.error.clone())),
            (None, _) => ("pending", None),
        };
        let user_name = terminals.iter().rev().find_map(|r| user_of(r.target.as_deref()));
        let counted = status != "ignored";
        rows.push(Leaver {
            employee_id: employee,
            event_id: event_id.to_owned(),
            user_name,
            due_at: due.map(stamp),
            received_at: stamp(received),
            access_ended_at: ended.map(stamp),
            deleted_at: deleted.map(stamp),
            elapsed: counted.then(|| human(elapsed)),
            elapsed_seconds: counted.then(|| elapsed.num_seconds()),
            sla: sla_text.to_owned(),
            breached: counted.then_some(elapsed > sla),
            status: status.to_owned(),
            reason,
        });
    }
    rows.sort_by(|a, b| (&a.due_at, &a.received_at, &a.employee_id).cmp(&(&b.due_at, &b.received_at, &b.employee_id)));
    rows
}

fn stamp(t: DateTime<Utc>) -> String {
    shared::lifecycle::stamp(t)
}

// ---------------------------------------------------------------------------------------------
// audit completeness

/// Whether one event (or one sweep action on one person) ended with exactly one terminal record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventCompleteness {
    pub event_id: String,
    pub employee_id: String,
    pub detail_type: String,
    pub first_at: String,
    pub deliveries: usize,
    pub terminals: usize,
    pub last_outcome: Option<String>,
    /// `complete`, `no-terminal`, `duplicate-terminal`, `failed-not-retried`.
    pub status: String,
    pub detail: String,
}

impl Row for EventCompleteness {
    const HEADER: &'static [&'static str] = &[
        "eventId",
        "employeeId",
        "detailType",
        "firstAt",
        "deliveries",
        "terminals",
        "lastOutcome",
        "status",
        "detail",
    ];
    fn cells(&self) -> Vec<String> {
        vec![
            self.event_id.clone(),
            self.employee_id.clone(),
            self.detail_type.clone(),
            self.first_at.clone(),
            self.deliveries.to_string(),
            self.terminals.to_string(),
            opt(&self.last_outcome),
            self.status.clone(),
            self.detail.clone(),
        ]
    }
}

/// The verdict over all events of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub complete: bool,
    pub events: usize,
    pub incomplete: usize,
    pub unreadable_lines: usize,
    pub altered_parts: usize,
}

impl Verdict {
    pub fn line(&self) -> String {
        match self.complete {
            true => format!("complete: {} events, each with one terminal record per delivery", self.events),
            false => format!(
                "INCOMPLETE: {} of {} events without exactly one terminal record per delivery, or failed \
                 last; {} unreadable lines, {} altered objects",
                self.incomplete, self.events, self.unreadable_lines, self.altered_parts
            ),
        }
    }
}

/// Every event whose first record is in the period. A delivery (one processing of an event)
/// that left records must end in exactly one terminal record; an event's last delivery must not
/// have failed. A mass-departure alert is not an event, and a webhook refused or replayed at the
/// door is answered by its own record.
pub fn completeness(t: &Trail, period: Period) -> (Vec<EventCompleteness>, Verdict) {
    let mut groups: BTreeMap<(String, String), Vec<&AuditRecord>> = BTreeMap::new();
    for r in &t.records {
        let alert = r.action == "mass-departure-guard";
        // At the door, only an accepted request starts an event; a refusal or a replay is
        // answered by its own record.
        let answered = r.step == "intake" && r.outcome != Outcome::Done;
        if alert || answered {
            continue;
        }
        let event = match (&r.event_id, &r.delivery) {
            (Some(e), _) => e.clone(),
            (None, Some(d)) => format!("(no event id; delivery {d})"),
            (None, None) => "(no event id)".into(),
        };
        groups.entry((event, r.employee_id.clone().unwrap_or_default())).or_default().push(r);
    }
    let mut rows = Vec::new();
    for ((event_id, employee_id), records) in groups {
        let first = records[0];
        if !time(&first.timestamp).is_some_and(|at| period.contains(at)) {
            continue;
        }
        // Per delivery, in order of first appearance: records, terminals (distinct, since exact
        // copies were dropped on reading).
        let mut order: Vec<&str> = Vec::new();
        let mut per: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        for r in &records {
            let Some(d) = r.delivery.as_deref() else { continue };
            if !per.contains_key(d) {
                order.push(d);
            }
            let e = per.entry(d).or_default();
            if r.terminal { e.1 += 1 } else { e.0 += 1 }
        }
        let terminals: Vec<&&AuditRecord> = records.iter().filter(|r| r.terminal).collect();
        let duplicated: BTreeSet<&str> = per.iter().filter(|(_, (_, n))| *n > 1).map(|(d, _)| *d).collect();
        let open: Vec<&str> = order.iter().copied().filter(|d| per[d].1 == 0).collect();
        let last = terminals.last().map(|r| r.outcome);
        let last_delivery_open = order.last().is_some_and(|d| per[d].1 == 0);
        let (status, detail) = if !duplicated.is_empty() {
            let list = duplicated.iter().map(|d| format!("{d} ({})", per[d].1)).collect::<Vec<_>>().join(", ");
            ("duplicate-terminal", format!("more than one terminal record in delivery {list}"))
        } else if terminals.is_empty() || last_delivery_open {
            ("no-terminal", format!("{} records and no terminal record after them", records.len()))
        } else if last == Some(Outcome::Failed) {
            let error = terminals.last().and_then(|r| r.error.clone()).unwrap_or_default();
            ("failed-not-retried", shared::event::clip(&error, 200))
        } else if !open.is_empty() {
            ("complete", format!("{} interrupted deliveries finished by a later one", open.len()))
        } else {
            ("complete", String::new())
        };
        rows.push(EventCompleteness {
            event_id,
            employee_id,
            detail_type: first.detail_type.clone().unwrap_or_default(),
            first_at: first.timestamp.clone(),
            deliveries: order.len(),
            terminals: terminals.len(),
            last_outcome: last.map(|o| o.as_str().to_owned()),
            status: status.to_owned(),
            detail,
        });
    }
    let incomplete = rows.iter().filter(|r| r.status != "complete").count();
    let verdict = Verdict {
        complete: incomplete == 0 && t.unreadable.is_empty() && t.altered.is_empty(),
        events: rows.len(),
        incomplete,
        unreadable_lines: t.unreadable.len(),
        altered_parts: t.altered.len(),
    };
    (rows, verdict)
}

// ---------------------------------------------------------------------------------------------
// joiners and movers (for the HTML report)

/// A hire or a change that ended (its last terminal record) in the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Movement {
    pub kind: String,
    pub employee_id: String,
    pub event_id: String,
    pub user_name: Option<String>,
    pub at: String,
    pub outcome: String,
    pub changed: bool,
}

impl Row for Movement {
    const HEADER: &'static [&'static str] = &["kind", "employeeId", "eventId", "userName", "at", "outcome", "changed"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.kind.clone(),
            self.employee_id.clone(),
            self.event_id.clone(),
            opt(&self.user_name),
            self.at.clone(),
            self.outcome.clone(),
            self.changed.to_string(),
        ]
    }
}

/// Joiners (`Employee Hired`) and movers (`Employee Changed`): each event once, by its last
/// terminal record in the period; `changed` when any of its deliveries changed anything.
pub fn movements(t: &Trail, period: Period) -> Vec<Movement> {
    let mut last: BTreeMap<&str, (&AuditRecord, bool)> = BTreeMap::new();
    for r in t.records.iter().filter(|r| r.terminal && time(&r.timestamp).is_some_and(|at| period.contains(at))) {
        let (Some(event), Some(kind)) = (r.event_id.as_deref(), r.detail_type.as_deref()) else { continue };
        if kind == HIRED || kind == CHANGED {
            let changed = last.get(event).is_some_and(|(_, c)| *c) || r.changed == Some(true);
            last.insert(event, (r, changed));
        }
    }
    let mut rows: Vec<Movement> = last
        .into_iter()
        .map(|(event, (r, changed))| Movement {
            kind: if r.detail_type.as_deref() == Some(HIRED) { "joiner" } else { "mover" }.into(),
            employee_id: opt(&r.employee_id),
            event_id: event.to_owned(),
            user_name: user_of(r.target.as_deref()),
            at: r.timestamp.clone(),
            outcome: r.outcome.as_str().into(),
            changed,
        })
        .collect();
    rows.sort_by(|a, b| (&a.at, &a.event_id).cmp(&(&b.at, &b.event_id)));
    rows
}

// ---------------------------------------------------------------------------------------------
// audit access

/// One IAM user under the system's path: who has what access, from IAM itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub user_name: String,
    pub employee_id: Option<String>,
    /// Whether this system manages the user (tags, path and boundary as it makes them).
    pub managed: bool,
    pub status: Option<String>,
    pub groups: Vec<String>,
    pub console_access: bool,
    pub mfa: bool,
    pub password_last_used: Option<String>,
    pub access_keys: Vec<KeyUse>,
    pub boundary: Option<String>,
    /// Policies on the user itself (attached ARNs, inline names): access outside the groups.
    pub direct_policies: Vec<String>,
}

/// An access key's slot in the credential report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUse {
    pub slot: u8,
    pub active: bool,
    pub age_days: Option<i64>,
    pub last_used: Option<String>,
}

impl Row for Access {
    const HEADER: &'static [&'static str] = &[
        "userName",
        "employeeId",
        "managed",
        "status",
        "groups",
        "consoleAccess",
        "mfa",
        "passwordLastUsed",
        "accessKeys",
        "boundary",
        "directPolicies",
    ];
    fn cells(&self) -> Vec<String> {
        let keys = self.access_keys.iter().map(|k| {
            format!(
                "key {}: {}, {} days old, last used {}",
                k.slot,
                if k.active { "active" } else { "inactive" },
                k.age_days.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
                k.last_used.as_deref().unwrap_or("never")
            )
        });
        vec![
            self.user_name.clone(),
            opt(&self.employee_id),
            self.managed.to_string(),
            opt(&self.status),
            self.groups.join("; "),
            self.console_access.to_string(),
            self.mfa.to_string(),
            opt(&self.password_last_used),
            keys.collect::<Vec<_>>().join("; "),
            opt(&self.boundary),
            self.direct_policies.join("; "),
        ]
    }
}

/// IAM's credential report (CSV) by user name: each row's columns by header name. User names
/// may hold commas (the report does not quote): the fixed columns are read from the right.
pub fn credential_report(csv: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut rows = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        if header.len() < 2 || fields.len() < header.len() {
            continue;
        }
        let extra = fields.len() - header.len();
        // `user,arn` take the extra commas: the ARN starts at the field beginning with `arn:`.
        let arn_at = (1..=1 + extra).find(|&i| fields[i].starts_with("arn:")).unwrap_or(1);
        let mut row = BTreeMap::new();
        row.insert(header[0].to_owned(), fields[..arn_at].join(","));
        row.insert(header[1].to_owned(), fields[arn_at..=1 + extra].join(","));
        for (h, v) in header[2..].iter().zip(&fields[2 + extra..]) {
            row.insert((*h).to_owned(), (*v).to_owned());
        }
        rows.insert(row[header[0]].clone(), row);
    }
    rows
}

/// The access rows: the users (with their groups and policies) joined with the credential
/// report's rows; ages are counted to `now`.
pub fn access(
    users: &[(shared::aws::iam::UserDetail, bool)],
    report: &BTreeMap<String, BTreeMap<String, String>>,
    now: DateTime<Utc>,
) -> Vec<Access> {
    let date = |v: Option<&String>| v.filter(|v| time(v).is_some()).cloned();
    let mut rows: Vec<Access> = users
        .iter()
        .map(|(d, managed)| {
            let r = report.get(&d.user.name);
            let field = |k: &str| r.and_then(|r| r.get(k));
            let yes = |k: &str| field(k).is_some_and(|v| v == "true");
            let access_keys = [1u8, 2]
                .into_iter()
                .filter(|n| {
                    yes(&format!("access_key_{n}_active"))
                        || date(field(&format!("access_key_{n}_last_rotated"))).is_some()
                })
                .map(|n| KeyUse {
                    slot: n,
                    active: yes(&format!("access_key_{n}_active")),
                    age_days: date(field(&format!("access_key_{n}_last_rotated")))
                        .and_then(|t| time(&t))
                        .map(|t| (now - t).num_days()),
                    last_used: date(field(&format!("access_key_{n}_last_used_date"))),
                })
                .collect();
            Access {
                user_name: d.user.name.clone(),
                employee_id: d.user.tags.get(shared::tags::EMPLOYEE_ID).cloned(),
                managed: *managed,
                status: d.user.tags.get(shared::tags::STATUS).cloned(),
                groups: d.groups.clone(),
                console_access: yes("password_enabled"),
                mfa: yes("mfa_active"),
                password_last_used: date(field("password_last_used")),
                access_keys,
                boundary: d.user.boundary.clone(),
                direct_policies: d.attached_policies.iter().chain(&d.inline_policies).cloned().collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const T0: &str = "2026-11-02T09:00:00Z";

    fn at(offset_minutes: i64) -> String {
        stamp(time(T0).expect("t0") + TimeDelta::minutes(offset_minutes))
    }

    /// A record as the system writes it; `extra` overrides fields.
    fn rec(event: &str, employee: &str, kind: &str, delivery: &str, minute: i64, extra: Value) -> String {
        let mut r = json!({
            "schemaVersion": 1, "eventId": event, "employeeId": employee, "detailType": kind,
            "step": "offboard", "action": "iam:DeleteLoginProfile", "target": format!("arn:aws:iam::1:user/employees/{employee}/u{employee}"),
            "outcome": "done", "terminal": false, "timestamp": at(minute), "delivery": delivery,
        });
        for (k, v) in extra.as_object().expect("object") {
            r[k] = v.clone();
        }
        r.to_string()
    }

    fn terminal(event: &str, employee: &str, kind: &str, delivery: &str, minute: i64, extra: Value) -> String {
        let mut base = json!({"step": "pipeline", "action": "offboard", "outcome": "succeeded", "terminal": true, "changed": true});
        for (k, v) in extra.as_object().expect("object") {
            base[k] = v.clone();
        }
        rec(event, employee, kind, delivery, minute, base)
    }

    fn trail(lines: &[String]) -> Trail {
        Trail::parse(&[("t.jsonl".into(), lines.join("\n"))])
    }

    fn departures() -> Vec<String> {
        let day = 24 * 60;
        vec![
            // E1: immediate, ended a minute after it was due; deleted 31 days later by the sweep.
            rec("d1", "E1", DEPARTED, "x1", 1, json!({})),
            terminal("d1", "E1", DEPARTED, "x1", 1, json!({"accessDueAt": at(0), "accessEndedAt": at(1)})),
            rec("sweep-delete-1", "E1", "Sweep", "s9", 31 * day, json!({"step": "sweep", "action": "iam:DeleteUser"})),
            terminal("sweep-delete-1", "E1", "Sweep", "s9", 31 * day, json!({"step": "sweep", "action": "delete"})),
            // E2: scheduled for day 10, ended by the sweep two days late.
            terminal("d2", "E2", DEPARTED, "x2", 2, json!({"accessDueAt": at(10 * day)})),
            terminal(
                "sweep-disable-1",
                "E2",
                "Sweep",
                "s1",
                12 * day,
                json!({"step": "sweep", "action": "disable", "accessDueAt": at(10 * day), "accessEndedAt": at(12 * day)}),
            ),
            // E3: held by the mass-departure guard.
            terminal(
                "d3",
                "E3",
                DEPARTED,
                "x3",
                3,
                json!({"outcome": "quarantined", "reason": "mass departure", "accessDueAt": at(3)}),
            ),
            // E4: nobody to offboard.
            terminal(
                "d4",
                "E4",
                DEPARTED,
                "x4",
                4,
                json!({"outcome": "ignored", "reason": "no user for employee `E4`", "changed": false}),
            ),
            // E5: due far outside the period.
            terminal("d5", "E5", DEPARTED, "x5", 5, json!({"accessDueAt": at(100 * day)})),
            // E6: due in five days, not yet.
            terminal("d6", "E6", DEPARTED, "x6", 6, json!({"accessDueAt": at(5 * day)})),
        ]
    }

    #[test]
    fn each_departure_in_the_period_gets_its_row_with_the_sla_verdict() {
        let t = trail(&departures());
        let period = Period { from: time("2026-11-01T00:00:00Z"), to: time("2026-12-01T00:00:00Z") };
        let now = time(T0).expect("t0") + TimeDelta::days(2);
        let rows = leavers(&t, period, TimeDelta::hours(24), "24h", now);
        type Got<'a> = (&'a str, Option<&'a str>, Option<&'a str>, &'a str, Option<bool>, &'a str);
        let got: Vec<Got> = rows
            .iter()
            .map(|r| {
                (
                    r.employee_id.as_str(),
                    r.access_ended_at.as_deref(),
                    r.deleted_at.as_deref(),
                    r.elapsed.as_deref().unwrap_or_default(),
                    r.breached,
                    r.status.as_str(),
                )
            })
            .collect();
        let (m1, day12, day31) = (at(1), at(12 * 24 * 60), at(31 * 24 * 60));
        assert_eq!(
            got,
            vec![
                ("E4", None, None, "", None, "ignored"),
                ("E1", Some(m1.as_str()), Some(day31.as_str()), "1m 00s", Some(false), "ended"),
                ("E3", None, None, "1d 23h 57m", Some(true), "quarantined"),
                ("E6", None, None, "0s", Some(false), "pending"),
                ("E2", Some(day12.as_str()), None, "2d 00h 00m", Some(true), "ended"),
            ]
        );
        // Ignored has no due time: it is placed by when it arrived, first (no due sorts first).
        assert_eq!(rows[0].due_at, None);
        assert_eq!(rows[0].reason.as_deref(), Some("no user for employee `E4`"));
        assert_eq!(rows[1].user_name.as_deref(), Some("uE1"));
        assert_eq!(rows[1].received_at, at(1));
        assert_eq!(rows[4].elapsed_seconds, Some(2 * 86_400));
        assert!(rows.iter().all(|r| r.employee_id != "E5"), "due outside the period");
    }

    #[test]
    fn completeness_finds_missing_duplicated_and_failed_terminals() {
        let mut lines = departures();
        let complete = |lines: &[String]| completeness(&trail(lines), Period::default());
        let (rows, verdict) = complete(&lines);
        assert!(verdict.complete, "{rows:?}");
        // An exact copy (at-least-once delivery) is one record.
        lines.push(lines[1].clone());
        let t = trail(&lines);
        assert_eq!(t.copies, 1);
        assert!(completeness(&t, Period::default()).1.complete);
        // A removed terminal record.
        let mut removed = departures();
        removed.remove(1);
        let (rows, verdict) = complete(&removed);
        assert!(!verdict.complete);
        let d1 = rows.iter().find(|r| r.event_id == "d1").expect("d1");
        assert_eq!((d1.status.as_str(), d1.terminals), ("no-terminal", 0));
        // A second, different terminal record in the same delivery.
        let mut doubled = lines.clone();
        doubled.push(terminal("d1", "E1", DEPARTED, "x1", 2, json!({"accessDueAt": at(0), "accessEndedAt": at(1)})));
        let (rows, _) = complete(&doubled);
        let d1 = rows.iter().find(|r| r.event_id == "d1").expect("d1");
        assert_eq!((d1.status.as_str(), d1.terminals, d1.deliveries), ("duplicate-terminal", 2, 1));
        // A resend is another delivery with its own terminal: complete.
        let mut resent = lines.clone();
        resent.push(terminal("d1", "E1", DEPARTED, "x1b", 9, json!({"changed": false})));
        let (rows, verdict) = complete(&resent);
        assert!(verdict.complete, "{rows:?}");
        // A failed last delivery; then retried successfully.
        let mut failed = lines.clone();
        failed.push(rec("h1", "E7", HIRED, "y1", 20, json!({"step": "create-user", "action": "iam:CreateUser"})));
        failed.push(terminal(
            "h1",
            "E7",
            HIRED,
            "y1",
            21,
            json!({"outcome": "failed", "error": "iam:CreateUser failed: Throttling"}),
        ));
        let (rows, verdict) = complete(&failed);
        let h1 = rows.iter().find(|r| r.event_id == "h1").expect("h1");
        assert_eq!((h1.status.as_str(), verdict.incomplete), ("failed-not-retried", 1));
        // A delivery killed half-way, then a new one that finished: complete, and said so.
        failed.push(rec("h1", "E7", HIRED, "y2", 30, json!({"step": "create-user"})));
        failed.push(rec("h1", "E7", HIRED, "y3", 31, json!({"step": "create-user"})));
        failed.push(terminal("h1", "E7", HIRED, "y3", 32, json!({"action": "onboard"})));
        let (rows, verdict) = complete(&failed);
        let h1 = rows.iter().find(|r| r.event_id == "h1").expect("h1");
        assert!(verdict.complete, "{rows:?}");
        assert_eq!((h1.deliveries, h1.terminals), (3, 2));
        assert_eq!(h1.detail, "1 interrupted deliveries finished by a later one");
        // An unreadable line makes the trail incomplete, whatever the events say.
        let mut damaged = lines.clone();
        damaged.push("forged".into());
        let t = trail(&damaged);
        assert_eq!(t.unreadable, vec!["t.jsonl:12: not an audit record: expected ident at line 1 column 2".to_owned()]);
        assert!(!completeness(&t, Period::default()).1.complete);
    }

    #[test]
    fn joiners_and_movers_are_counted_once_per_event() {
        let lines = vec![
            terminal("h1", "E1", HIRED, "a", 1, json!({"action": "onboard"})),
            terminal("h1", "E1", HIRED, "b", 2, json!({"action": "onboard", "changed": false})),
            terminal("c1", "E1", CHANGED, "c", 3, json!({"action": "change"})),
        ];
        let rows = movements(&trail(&lines), Period::default());
        let got: Vec<(&str, &str, bool)> =
            rows.iter().map(|m| (m.kind.as_str(), m.event_id.as_str(), m.changed)).collect();
        assert_eq!(got, vec![("joiner", "h1", true), ("mover", "c1", true)]);
    }

    #[test]
    fn the_credential_report_is_read_by_header_even_with_commas_in_names() {
        let csv = "user,arn,user_creation_time,password_enabled,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date\n\
                   a,b,arn:aws:iam::1:user/a,b,2026-01-01T00:00:00+00:00,true,false,true,2026-11-01T00:00:00+00:00,N/A\n\
                   plain,arn:aws:iam::1:user/plain,2026-01-01T00:00:00+00:00,false,true,false,N/A,N/A\n";
        let r = credential_report(csv);
        assert_eq!(r["a,b"]["arn"], "arn:aws:iam::1:user/a,b");
        assert_eq!(r["a,b"]["password_enabled"], "true");
        assert_eq!(r["plain"]["mfa_active"], "true");
        let user = |name: &str| shared::aws::iam::UserDetail {
            user: shared::aws::iam::User {
                name: name.into(),
                arn: format!("arn:aws:iam::1:user/{name}"),
                path: "/".into(),
                tags: Default::default(),
                boundary: None,
                password_last_used: None,
            },
            groups: vec!["engineering".into()],
            attached_policies: vec![],
            inline_policies: vec!["extra".into()],
            created: None,
        };
        let now = time("2026-11-29T00:00:00Z").expect("now");
        let rows = access(&[(user("a,b"), true), (user("plain"), false)], &r, now);
        assert_eq!(rows[0].access_keys, vec![KeyUse { slot: 1, active: true, age_days: Some(28), last_used: None }]);
        assert!(rows[0].console_access && !rows[0].mfa);
        assert!(rows[1].access_keys.is_empty() && rows[1].mfa && !rows[1].managed);
        assert_eq!(rows[1].direct_policies, vec!["extra".to_owned()]);
    }

    #[test]
    fn durations_read_and_print() {
        assert_eq!(parse_sla("24h"), Ok(TimeDelta::hours(24)));
        assert_eq!(parse_sla("90m"), Ok(TimeDelta::minutes(90)));
        assert_eq!(parse_sla("2d"), Ok(TimeDelta::days(2)));
        for bad in ["", "h", "24", "0h", "24x", "-1h", "99999999999999999999d"] {
            assert!(parse_sla(bad).is_err_and(|e| e.contains("e.g. 24h")), "{bad}");
        }
        assert_eq!(human(TimeDelta::seconds(7)), "7s");
        assert_eq!(human(TimeDelta::seconds(306)), "5m 06s");
        assert_eq!(human(TimeDelta::seconds(7384)), "2h 03m 04s");
        assert_eq!(human(TimeDelta::seconds(3 * 86_400 + 4 * 3600 + 5 * 60 + 6)), "3d 04h 05m");
        assert_eq!(human(TimeDelta::seconds(-5)), "0s");
    }
}
