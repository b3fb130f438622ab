//! Human-readable and JSON output.

use std::io::Write;

use shared::audit::{Action, Outcome};
use shared::drivers::quarantine::Held;
use shared::drivers::sweep::SweepReport;
use shared::pipeline::EventReport;

use crate::bootstrap::Item;
use crate::doctor::Check;
use crate::output::Output;
use crate::status::PersonStatus;

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
        "{:<12} {}  event {}  employee {}  user {}  status {}",
        r.outcome.as_str(),
        r.detail_type.clone().unwrap_or_else(dash),
        r.event_id.clone().unwrap_or_else(dash),
        r.employee_id.clone().unwrap_or_else(dash),
        r.user_name.clone().unwrap_or_else(dash),
        r.status.clone().unwrap_or_else(dash),
    )?;
    if let Some(reason) = &r.reason {
        writeln!(out, "    reason: {reason}")?;
    }
    if let Some(at) = &r.disable_at {
        writeln!(out, "    access ends: {at}")?;
    }
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
    actions(out, &r.actions)?;
    if let Some(e) = &r.error {
        writeln!(out, "    error: {e}")?;
    }
    Ok(())
}

fn actions(out: &mut dyn Write, actions: &[Action]) -> std::io::Result<()> {
    for a in actions {
        let word = match a.outcome {
            Outcome::AlreadyDone => "already done",
            Outcome::WouldDo => "would do",
            o => o.as_str(),
        };
        writeln!(out, "    {word:<13} {:<34} {}", a.action, a.target)?;
    }
    Ok(())
}

pub fn sweep(out: &mut dyn Write, format: Output, r: &SweepReport) {
    let _ = match format {
        Output::Json => writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default()),
        Output::Text => sweep_text(out, r),
    };
}

fn sweep_text(out: &mut dyn Write, r: &SweepReport) -> std::io::Result<()> {
    writeln!(out, "sweep at {}: {} managed users, {} due", r.now, r.managed, r.items.len())?;
    if let Some(q) = &r.quarantined {
        writeln!(out, "QUARANTINED: {q}; no user was disabled (rerun with --allow-mass-offboarding to proceed)")?;
    }
    if let Some(e) = &r.role_sessions_error {
        writeln!(out, "FAILED: leavers' role sessions: {e}")?;
    }
    for i in &r.items {
        writeln!(
            out,
            "{:<12} {:<9} user {}  employee {}  status {}",
            i.outcome.as_str(),
            i.due.as_str(),
            i.user_name,
            i.employee_id.as_deref().unwrap_or("-"),
            i.status
        )?;
        actions(out, &i.actions)?;
        if let Some(e) = &i.error {
            writeln!(out, "    error: {e}")?;
        }
    }
    Ok(())
}

pub fn bootstrap(out: &mut dyn Write, format: Output, items: &[Item]) {
    for i in items {
        let _ = match format {
            Output::Json => writeln!(out, "{}", serde_json::to_string(i).unwrap_or_default()),
            Output::Text => {
                let what = match (&i.error, i.created, i.updated) {
                    (Some(_), _, _) => "failed",
                    (None, true, _) => "created",
                    (None, false, true) => "updated",
                    (None, false, false) => "already there",
                };
                let why = i.error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
                writeln!(out, "{what:<13} {:<14} {}{why}", i.kind, i.name)
            }
        };
    }
}

/// Held departures, or what a decision did to them: one line (or JSON object) each.
pub fn held<'a>(out: &mut dyn Write, format: Output, items: impl Iterator<Item = &'a Held>) {
    let mut any = false;
    for h in items {
        any = true;
        let _ = match format {
            Output::Json => writeln!(out, "{}", serde_json::to_string(h).unwrap_or_default()),
            Output::Text => writeln!(
                out,
                "{:<10} employee {}  user {}  held since {}  access due to end {}{}",
                h.outcome,
                h.employee_id.as_deref().unwrap_or("-"),
                h.user_name,
                h.held_since.as_deref().unwrap_or("- (overdue)"),
                h.disable_at.as_deref().unwrap_or("-"),
                h.error.as_deref().map(|e| format!("\n    error: {e}")).unwrap_or_default(),
            ),
        };
    }
    if !any && format == Output::Text {
        let _ = writeln!(out, "no held departures");
    }
}

/// Each person's status: one JSON object each, or a block of lines.
pub fn status(out: &mut dyn Write, format: Output, people: &[PersonStatus]) {
    for p in people {
        if format == Output::Json {
            let _ = writeln!(out, "{}", serde_json::to_string(p).unwrap_or_default());
            continue;
        }
        let Some(user) = &p.user_name else {
            let _ = writeln!(out, "{}  no user: {}", p.employee_id, p.no_user.as_deref().unwrap_or("-"));
            last_events(out, p);
            continue;
        };
        let status = p.status.as_deref().unwrap_or("-");
        let _ = writeln!(out, "{}  {user}  {status}  {}", p.employee_id, p.user_arn.as_deref().unwrap_or("-"));
        if let Some(why) = &p.not_ours {
            let _ = writeln!(out, "  not acted on: {why}");
        }
        if let Some(since) = &p.held_since {
            let _ =
                writeln!(out, "  departure held by the mass-departure guard since {since} (`onboarding quarantine`)");
        }
        for (k, v) in &p.dates {
            let _ = writeln!(out, "  {k:<23} {v}");
        }
        for g in &p.groups {
            let _ = writeln!(out, "  group {:<17} {}", g.group, g.why);
        }
        match &p.console {
            Some(c) => {
                let used = c.password_last_used.as_deref().unwrap_or("never");
                let _ = writeln!(out, "  console                 password last used {used}");
            }
            None => {
                let _ = writeln!(out, "  console                 none");
            }
        }
        for k in &p.access_keys {
            let state = if k.active { "active" } else { "inactive" };
            let used = k.last_used.as_deref().unwrap_or("never");
            let _ = writeln!(out, "  access key {}  {state}, last used {used}", k.id);
        }
        for c in &p.initial_credentials {
            let issued = c.issued_at.as_deref().unwrap_or("-");
            let expires = c.expires_at.as_deref().unwrap_or("-");
            let _ = writeln!(out, "  initial credential {}  issued {issued}, withdrawn unused at {expires}", c.secret);
        }
        if let Some(at) = &p.departure_scheduled_at {
            let _ = writeln!(out, "  departure scheduled     access ends at {at} (EventBridge Scheduler)");
        }
        last_events(out, p);
    }
}

/// A person's last events from the trail, one line each, or that the trail has none.
fn last_events(out: &mut dyn Write, p: &PersonStatus) {
    let Some(events) = &p.last_events else { return };
    if events.is_empty() {
        let _ = writeln!(out, "  trail                   no event for this person");
    }
    for e in events {
        let why = e.why.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
        let _ = writeln!(out, "  event {}  {} {} {}{why}", e.timestamp, e.detail_type, e.event_id, e.outcome);
    }
}

/// The doctor's checks: one line each (and what to do, under a failed one), or JSON Lines.
pub fn doctor(out: &mut dyn Write, format: Output, checks: &[Check]) {
    for c in checks {
        let _ = match format {
            Output::Json => writeln!(out, "{}", serde_json::to_string(c).unwrap_or_default()),
            Output::Text if c.fix.is_empty() => writeln!(out, "{:<11} {:<46} {}", c.verdict, c.check, c.detail),
            Output::Text => {
                writeln!(out, "{:<11} {:<46} {}\n{:<11} {:<46} do: {}", c.verdict, c.check, c.detail, "", "", c.fix)
            }
        };
    }
}
