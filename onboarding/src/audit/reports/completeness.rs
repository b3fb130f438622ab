//! `audit completeness`: whether every event reached a terminal record, and the verdict.

use super::*;

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
/// have failed. A mass-departure alert is not an event, a webhook refused or replayed at the
/// door is answered by its own record, and an access review's records (decisions, outcomes,
/// revocations) are its campaign's evidence (`review report`), not an HR event's.
pub fn completeness(t: &Trail, period: Period) -> (Vec<EventCompleteness>, Verdict) {
    let mut groups: BTreeMap<(String, String), Vec<&AuditRecord>> = BTreeMap::new();
    for r in &t.records {
        let alert = r.action == "mass-departure-guard";
        // At the door, only an accepted request starts an event; a refusal or a replay is
        // answered by its own record.
        let answered = r.step == "intake" && r.outcome != Outcome::Done;
        let review = r.step == "review";
        if alert || answered || review {
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
