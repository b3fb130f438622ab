//! The evidence pack's parts: `review status`'s and `review report`'s rows, the report's
//! manifest (with the population's fingerprint) and its self-contained page.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;
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
}

impl Evidence {
    pub(super) fn of(i: &Item) -> Self {
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
        ]
    }
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
pub(super) fn html_page(c: &Campaign, items: &[Item], m: &Manifest) -> String {
    use shared::html::escape;
    let mut rows = String::new();
    for i in items {
        let e = Evidence::of(i);
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
