//! Human-readable and JSON output.

use std::io::Write;

use shared::audit::Outcome;
use shared::pipeline::EventReport;

use crate::Output;
use crate::bootstrap::Item;

pub fn report(out: &mut dyn Write, format: Output, r: &EventReport) {
    let _ = match format {
        Output::Json => writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default()),
        Output::Text => text(out, r),
    };
}

fn text(out: &mut dyn Write, r: &EventReport) -> std::io::Result<()> {
    let dash = || "-".to_owned();
    writeln!(
        out,
        "{:<12} event {}  employee {}  user {}",
        r.outcome.as_str(),
        r.event_id.clone().unwrap_or_else(dash),
        r.employee_id.clone().unwrap_or_else(dash),
        r.user_name.clone().unwrap_or_else(dash),
    )?;
    if !r.groups.is_empty() {
        writeln!(
            out,
            "    groups: {}{}",
            r.groups.join(", "),
            if r.no_rule_matched { "  (no mapping rule matched the department: always-groups only)" } else { "" }
        )?;
    }
    if let Some(s) = &r.secret_arn {
        writeln!(out, "    password secret: {s}")?;
    }
    if let Some(s) = &r.access_key_secret_arn {
        writeln!(out, "    access key secret: {s}")?;
    }
    for a in &r.actions {
        let word = match a.outcome {
            Outcome::Done => "done",
            Outcome::AlreadyDone => "already done",
            Outcome::WouldDo => "would do",
            Outcome::Failed => "failed",
            Outcome::Succeeded => "succeeded",
        };
        writeln!(out, "    {word:<13} {:<34} {}", a.action, a.target)?;
    }
    if let Some(e) = &r.error {
        writeln!(out, "    error: {e}")?;
    }
    Ok(())
}

pub fn bootstrap(out: &mut dyn Write, format: Output, items: &[Item]) {
    for i in items {
        let _ = match format {
            Output::Json => writeln!(out, "{}", serde_json::to_string(i).unwrap_or_default()),
            Output::Text => {
                writeln!(out, "{:<13} {:<11} {}", if i.created { "created" } else { "already there" }, i.kind, i.name)
            }
        };
    }
}
