//! Joiners and movers, for the HTML report.

use super::*;

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
