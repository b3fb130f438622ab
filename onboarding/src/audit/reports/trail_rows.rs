//! `audit trail`: the records themselves, filtered.

use super::*;

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
