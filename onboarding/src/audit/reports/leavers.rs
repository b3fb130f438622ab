//! `audit leavers`: each departure and how fast its access ended, against the SLA.

use super::*;

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
