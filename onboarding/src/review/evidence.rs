//! The evidence pack's parts: `review status`'s and `review report`'s rows, what the trail
//! witnesses of the decisions, the report's manifest (with the population's fingerprint) and its
//! self-contained page.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;
use shared::audit::{AuditRecord, Outcome, REVIEW_DECIDE};
use shared::review::{Campaign, Decision, Item};

use crate::audit::reports::Row;
use crate::audit::{Format, Manifest};

/// `review status`'s row.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Progress {
    pub(super) reviewer: String,
    pub(super) decided: usize,
    pub(super) undecided: usize,
    pub(super) total: usize,
}

impl Row for Progress {
    const HEADER: &'static [&'static str] = &["reviewer", "decided", "undecided", "total"];
    fn cells(&self) -> Vec<String> {
        vec![self.reviewer.clone(), self.decided.to_string(), self.undecided.to_string(), self.total.to_string()]
    }
}

/// `review report`'s row: one item, what became of it, and the proof.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Evidence {
    id: String,
    employee_id: String,
    user_name: String,
    access: &'static str,
    target: String,
    detail: String,
    last_used: Option<String>,
    reviewer: String,
    reassigned: Option<String>,
    decision: Option<&'static str>,
    reason: Option<String>,
    decided_at: Option<String>,
    outcome: Option<&'static str>,
    defaulted: bool,
    revoked_at: Option<String>,
    proof: Option<String>,
    /// What the trail says of the reviewer's decision, when a trail was read (`--trail`).
    trail: Option<String>,
}

impl Evidence {
    pub(super) fn of(i: &Item, witness: Option<&Witness>) -> Self {
        let f = &i.frozen;
        Self {
            id: f.id.clone(),
            employee_id: f.employee_id.clone(),
            user_name: f.user_name.clone(),
            access: f.access.as_str(),
            target: f.target.clone(),
            detail: f.detail.clone(),
            last_used: f.last_used.clone(),
            reviewer: f.reviewer.clone(),
            reassigned: f.reassigned.clone(),
            decision: i.decision.map(Decision::as_str),
            reason: i.reason.clone(),
            decided_at: i.decided_at.clone(),
            outcome: i.outcome.map(Decision::as_str),
            defaulted: i.defaulted,
            revoked_at: i.revoked_at.clone(),
            proof: i.proof.clone(),
            trail: witness.map(Witness::describe),
        }
    }
}

impl Row for Evidence {
    const HEADER: &'static [&'static str] = &[
        "id",
        "employeeId",
        "userName",
        "access",
        "target",
        "detail",
        "lastUsed",
        "reviewer",
        "reassigned",
        "decision",
        "reason",
        "decidedAt",
        "outcome",
        "defaulted",
        "revokedAt",
        "proof",
        "trail",
    ];
    fn cells(&self) -> Vec<String> {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.id.clone(),
            self.employee_id.clone(),
            self.user_name.clone(),
            self.access.into(),
            self.target.clone(),
            self.detail.clone(),
            o(&self.last_used),
            self.reviewer.clone(),
            o(&self.reassigned),
            self.decision.unwrap_or_default().into(),
            o(&self.reason),
            o(&self.decided_at),
            self.outcome.unwrap_or_default().into(),
            self.defaulted.to_string(),
            o(&self.revoked_at),
            o(&self.proof),
            o(&self.trail),
        ]
    }
}

/// What the trail says of a reviewer's decision: the page writes a `review:Decide` record with
/// every decision it saves, so a decision in the store without its record was written some other
/// way (by anyone who can write the reviews table) and is not evidence of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Witness {
    /// The item's last `review:Decide` record names this reviewer and this decision.
    Recorded,
    /// The trail holds no `review:Decide` record of the item.
    Missing,
    /// The item's last record says otherwise: what it says.
    Differs { reviewer: String, decision: String },
}

impl Witness {
    pub(super) fn describe(&self) -> String {
        match self {
            Witness::Recorded => "recorded".into(),
            Witness::Missing => "no review:Decide record".into(),
            Witness::Differs { reviewer, decision } => format!("the trail says {decision} by {reviewer}"),
        }
    }
}

/// Each item a reviewer decided, by id, with what the trail (`records`, in time order) says of
/// it: the last `review:Decide` record of the item in this campaign that was saved (done, or
/// already done: the same decision sent again). Items nobody decided have no entry.
pub(super) fn witnesses(campaign: &str, items: &[Item], records: &[AuditRecord]) -> BTreeMap<String, Witness> {
    let mut last = BTreeMap::new();
    for r in records {
        let saved = matches!(r.outcome, Outcome::Done | Outcome::AlreadyDone);
        if let Some(m) = r.review.as_ref().filter(|m| r.action == REVIEW_DECIDE && saved && m.campaign == campaign) {
            last.insert(m.item.as_str(), m);
        }
    }
    items
        .iter()
        .filter_map(|i| {
            let decision = i.decision?;
            let reviewer = i.decided_by.as_deref().unwrap_or(&i.frozen.reviewer);
            let witness = match last.get(i.frozen.id.as_str()) {
                None => Witness::Missing,
                Some(m) if m.reviewer == reviewer && m.decision == decision.as_str() => Witness::Recorded,
                Some(m) => Witness::Differs { reviewer: m.reviewer.clone(), decision: m.decision.clone() },
            };
            Some((i.frozen.id.clone(), witness))
        })
        .collect()
}

/// The report's manifest: the campaign and its population's fingerprint as filters.
pub(super) fn manifest(c: &Campaign, command: &str, format: Format) -> Manifest {
    let p = &c.population;
    let mut filters = BTreeMap::from([
        ("campaign".to_owned(), c.name.clone()),
        ("status".to_owned(), c.status.as_str().to_owned()),
        ("due".to_owned(), c.due.clone()),
        ("default".to_owned(), c.default.as_str().to_owned()),
        ("populationSha256".to_owned(), p.sha256.clone()),
        ("populationExtractedAt".to_owned(), p.extracted_at.clone()),
        ("populationPeople".to_owned(), p.people.to_string()),
        ("populationItems".to_owned(), p.items.to_string()),
    ]);
    filters.extend(p.filters.iter().map(|(k, v)| (format!("population.{k}"), v.clone())));
    Manifest {
        command: command.to_owned(),
        filters,
        source: format!("the reviews table (campaign {}); population from {}", c.name, p.source),
        parts: 1,
        records: p.items,
        copies_ignored: 0,
        unreadable_lines: 0,
        altered_objects: 0,
        extracted_at: shared::lifecycle::stamp(Utc::now()),
        format: format.as_str().into(),
        rows: 0,
        sha256: String::new(),
    }
}

/// The pack as one self-contained page.
pub(super) fn html_page(
    c: &Campaign,
    items: &[Item],
    witnessed: Option<&BTreeMap<String, Witness>>,
    m: &Manifest,
) -> String {
    use shared::html::escape;
    let mut rows = String::new();
    for i in items {
        let e = Evidence::of(i, witnessed.and_then(|w| w.get(&i.frozen.id)));
        let cells: String = e.cells().iter().map(|c| format!("<td>{}</td>", escape(c))).collect();
        rows.push_str(&format!("<tr>{cells}</tr>"));
    }
    let head: String = Evidence::HEADER.iter().map(|h| format!("<th>{h}</th>")).collect();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Access review {n}</title>\
         <style>body{{font:14px/1.4 system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.2em .4em;vertical-align:top}}</style></head><body>\
         <h1>Access review {n}</h1><p>Status {s}; started {st}; due {due}; default {d}.</p>\
         <p>Population: {people} people, {pitems} items, extracted {at} from {src}; SHA-256 {sha}.</p>\
         <p>Rows below: SHA-256 of the CSV/JSON export {esha} ({rowsn} rows).</p>\
         <table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></body></html>",
        n = escape(&c.name),
        s = c.status.as_str(),
        st = escape(&c.started_at),
        due = escape(&c.due),
        d = c.default,
        people = c.population.people,
        pitems = c.population.items,
        at = escape(&c.population.extracted_at),
        src = escape(&c.population.source),
        sha = escape(&c.population.sha256),
        esha = escape(&m.sha256),
        rowsn = m.rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::audit::ReviewMark;
    use shared::review::{Frozen, Grant};

    const ADA: &str = "ada.lovelace@example.com";

    /// Item `id` of the campaign, reviewed by Ada, decided as `decision` (by Ada) or not at all.
    fn item(id: &str, decision: Option<Decision>) -> Item {
        let mut i = Item::new(Frozen {
            id: id.into(),
            employee_id: "E1".into(),
            user_name: "jane.doe".into(),
            display_name: "Jane Doe".into(),
            access: Grant::Group,
            target: "Developers".into(),
            detail: String::new(),
            since: None,
            last_used: None,
            reviewer: ADA.into(),
            reassigned: None,
        });
        i.decision = decision;
        i.decided_by = decision.map(|_| ADA.to_owned());
        i
    }

    /// The `review:Decide` record the page writes.
    fn decided(campaign: &str, id: &str, by: &str, decision: &str, outcome: Outcome) -> AuditRecord {
        let mark = ReviewMark {
            campaign: campaign.into(),
            item: id.into(),
            reviewer: by.into(),
            decision: decision.into(),
            defaulted: false,
        };
        AuditRecord::review("E1", REVIEW_DECIDE, mark, None, outcome, Utc::now())
    }

    #[test]
    fn a_decision_is_evidence_only_with_the_record_the_page_wrote_for_it() {
        let items = [
            item("kept", Some(Decision::Keep)),
            item("changed", Some(Decision::Revoke)),
            item("forged", Some(Decision::Keep)),
            item("other-reviewer", Some(Decision::Keep)),
            item("other-campaign", Some(Decision::Keep)),
            item("failed", Some(Decision::Keep)),
            item("undecided", None),
        ];
        let records = [
            decided("q4", "kept", ADA, "keep", Outcome::Done),
            // Sent again: the same decision, already done, still witnesses it.
            decided("q4", "kept", ADA, "keep", Outcome::AlreadyDone),
            // Changed before close: the last record is the one that stands.
            decided("q4", "changed", ADA, "keep", Outcome::Done),
            decided("q4", "changed", ADA, "revoke", Outcome::Done),
            decided("q4", "other-reviewer", "mallory@example.com", "keep", Outcome::Done),
            decided("q3", "other-campaign", ADA, "keep", Outcome::Done),
            decided("q4", "failed", ADA, "keep", Outcome::Failed),
        ];
        let w = witnesses("q4", &items, &records);
        assert_eq!(w["kept"], Witness::Recorded);
        assert_eq!(w["changed"], Witness::Recorded);
        assert_eq!(w["forged"], Witness::Missing);
        assert_eq!(
            w["other-reviewer"],
            Witness::Differs { reviewer: "mallory@example.com".into(), decision: "keep".into() }
        );
        assert_eq!(w["other-campaign"], Witness::Missing, "another campaign's record is not this one's");
        assert_eq!(w["failed"], Witness::Missing, "a failed record saved nothing");
        assert!(!w.contains_key("undecided"), "nothing to witness");
        // A record that says another decision than the store's.
        let flipped = [decided("q4", "forged", ADA, "revoke", Outcome::Done)];
        let w = witnesses("q4", &items[2..3], &flipped);
        assert_eq!(w["forged"].describe(), format!("the trail says revoke by {ADA}"));
    }
}
