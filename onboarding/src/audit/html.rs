//! `audit report --html`: one self-contained file (inline style and SVG; no script, no network)
//! that an auditor can open or attach.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::Manifest;
use super::reports::{EventCompleteness, Leaver, Movement, Period, Verdict};

pub struct Page<'a> {
    pub period: Period,
    pub sla: &'a str,
    pub generated_at: DateTime<Utc>,
    pub movements: &'a [Movement],
    pub movements_manifest: &'a Manifest,
    pub leavers: &'a [Leaver],
    pub leavers_manifest: &'a Manifest,
    pub events: &'a [EventCompleteness],
    pub verdict: &'a Verdict,
    pub events_manifest: &'a Manifest,
}

pub use shared::html::escape;

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f2f2f2}.bad{color:#a00;font-weight:bold}.ok{color:#070;font-weight:bold}\
.muted{color:#666}pre{background:#f7f7f7;padding:1em;white-space:pre-wrap;overflow-wrap:anywhere}";

fn table(out: &mut String, header: &[&str], rows: impl Iterator<Item = Vec<(String, &'static str)>>) {
    out.push_str("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr></thead><tbody>");
    let mut any = false;
    for row in rows {
        any = true;
        out.push_str("<tr>");
        for (cell, class) in row {
            let _ = match class {
                "" => write!(out, "<td>{}</td>", escape(&cell)),
                c => write!(out, "<td class=\"{c}\">{}</td>", escape(&cell)),
            };
        }
        out.push_str("</tr>");
    }
    if !any {
        let _ = write!(out, "<tr><td colspan=\"{}\" class=\"muted\">none in the period</td></tr>", header.len());
    }
    out.push_str("</tbody></table>");
}

fn plain(s: &str) -> (String, &'static str) {
    (s.to_owned(), "")
}

fn manifest(out: &mut String, m: &Manifest) {
    let json = serde_json::to_string_pretty(m).unwrap_or_default();
    let _ = write!(out, "<pre>{}</pre>", escape(&json));
}

/// Time-to-revoke per leaver whose access ended or is overdue: one bar each, the SLA as a line.
fn chart(out: &mut String, leavers: &[Leaver], sla_seconds: i64) {
    let bars: Vec<&Leaver> = leavers.iter().filter(|l| l.breached.is_some()).collect();
    if bars.is_empty() {
        out.push_str("<p class=\"muted\">No departure to chart.</p>");
        return;
    }
    let longest = bars.iter().filter_map(|l| l.elapsed_seconds).max().unwrap_or(0).max(sla_seconds).max(1);
    let (label_w, bar_w, row_h) = (160i64, 560i64, 22i64);
    let height = row_h * bars.len() as i64 + 30;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" \
         aria-label=\"Time from due to access ended, per leaver\">",
        label_w + bar_w + 120
    );
    for (i, l) in bars.iter().enumerate() {
        let y = i as i64 * row_h + 4;
        let w = (l.elapsed_seconds.unwrap_or(0) * bar_w / longest).max(1);
        let fill = if l.breached == Some(true) { "#c0392b" } else { "#2e86c1" };
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" \
             height=\"{}\" fill=\"{fill}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}{}</text>",
            y + 13,
            escape(&l.employee_id),
            row_h - 6,
            label_w + w + 6,
            y + 13,
            escape(l.elapsed.as_deref().unwrap_or("-")),
            if l.access_ended_at.is_none() { " (not ended)" } else { "" }
        );
    }
    let x = label_w + sla_seconds * bar_w / longest;
    let bottom = row_h * bars.len() as i64 + 6;
    let _ = write!(
        out,
        "<line x1=\"{x}\" y1=\"0\" x2=\"{x}\" y2=\"{bottom}\" stroke=\"#000\" stroke-dasharray=\"4 3\"/>\
         <text x=\"{x}\" y=\"{}\" font-size=\"12\" text-anchor=\"middle\">SLA</text></svg>",
        bottom + 16
    );
}

pub fn render(p: &Page) -> String {
    let when = |t: Option<DateTime<Utc>>| t.map(shared::lifecycle::stamp).unwrap_or_else(|| "-".into());
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Joiners, movers and leavers: \
         audit report</title><style>{STYLE}</style></head><body><h1>Joiners, movers and leavers on AWS IAM</h1>\
         <p>Period: from {} to {} (exclusive). Generated {}. Leaver SLA: {}.</p>",
        escape(&when(p.period.from)),
        escape(&when(p.period.to)),
        escape(&shared::lifecycle::stamp(p.generated_at)),
        escape(p.sla)
    );
    let class = if p.verdict.complete { "ok" } else { "bad" };
    let _ = write!(out, "<p class=\"{class}\">Completeness: {}</p>", escape(&p.verdict.line()));

    out.push_str("<h2>Leavers</h2>");
    let sla_seconds = p.leavers.first().and_then(|_| super::reports::parse_sla(p.sla).ok()).map(|d| d.num_seconds());
    chart(&mut out, p.leavers, sla_seconds.unwrap_or(0));
    let header = ["Employee", "User", "Due", "Received", "Access ended", "Deleted", "Elapsed", "Over SLA", "Status"];
    table(
        &mut out,
        &header,
        p.leavers.iter().map(|l| {
            let over = match l.breached {
                Some(true) => ("yes".to_owned(), "bad"),
                Some(false) => ("no".to_owned(), "ok"),
                None => ("-".to_owned(), ""),
            };
            vec![
                plain(&l.employee_id),
                plain(l.user_name.as_deref().unwrap_or("-")),
                plain(l.due_at.as_deref().unwrap_or("-")),
                plain(&l.received_at),
                plain(l.access_ended_at.as_deref().unwrap_or("not ended")),
                plain(l.deleted_at.as_deref().unwrap_or("-")),
                plain(l.elapsed.as_deref().unwrap_or("-")),
                over,
                plain(&l.status),
            ]
        }),
    );
    manifest(&mut out, p.leavers_manifest);

    out.push_str("<h2>Joiners and movers</h2>");
    table(
        &mut out,
        &["Kind", "Employee", "User", "Event", "Finished", "Outcome", "Changed"],
        p.movements.iter().map(|m| {
            vec![
                plain(&m.kind),
                plain(&m.employee_id),
                plain(m.user_name.as_deref().unwrap_or("-")),
                plain(&m.event_id),
                plain(&m.at),
                (m.outcome.clone(), if m.outcome == "failed" { "bad" } else { "" }),
                plain(if m.changed { "yes" } else { "no" }),
            ]
        }),
    );
    manifest(&mut out, p.movements_manifest);

    out.push_str("<h2>Completeness</h2>");
    table(
        &mut out,
        &["Event", "Employee", "Kind", "First record", "Deliveries", "Terminal records", "Status", "Detail"],
        p.events.iter().map(|e| {
            vec![
                plain(&e.event_id),
                plain(&e.employee_id),
                plain(&e.detail_type),
                plain(&e.first_at),
                plain(&e.deliveries.to_string()),
                plain(&e.terminals.to_string()),
                (e.status.clone(), if e.status == "complete" { "ok" } else { "bad" }),
                plain(&e.detail),
            ]
        }),
    );
    manifest(&mut out, p.events_manifest);
    out.push_str(
        "<p class=\"muted\">Each manifest's sha256 is that of its section's rows as CSV: for leavers and \
         completeness, what <code>onboarding audit leavers|completeness --format csv</code> writes for the same \
         period, source and <code>--now</code>.</p></body></html>\n",
    );
    out
}
