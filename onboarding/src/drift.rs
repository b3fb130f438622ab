//! `onboarding drift --roster FILE`: HR's roster against IAM itself, report only. What the
//! roster says each person should have is derived by the code a hire runs (`Intent`: the mapping
//! rules' groups, the HR tags); what IAM holds comes from one paginated authorisation-details
//! read and the credential report. Nothing is changed; unmanaged users are listed, never touched.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use shared::aws::iam::UserDetail;
use shared::config::Config;
use shared::intent::{Intent, Request};
use shared::tags;

use crate::audit::reports::Row;

/// One difference between the roster and IAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `missing-user`, `not-on-roster`, `groups`, `groups-outside-allow-list`, `tags`,
    /// `direct-policies`, `access-key-not-granted`, `unmanaged`, `bad-roster-row`.
    pub kind: String,
    pub employee_id: String,
    pub user_name: String,
    pub detail: String,
}

impl Row for Drift {
    const HEADER: &'static [&'static str] = &["kind", "employeeId", "userName", "detail"];
    fn cells(&self) -> Vec<String> {
        vec![self.kind.clone(), self.employee_id.clone(), self.user_name.clone(), self.detail.clone()]
    }
}

/// A roster's rows as hire `detail` objects: JSON Lines (one object each), or CSV whose header
/// names the contract's fields (`employeeId,givenName,familyName,email,department,startDate,...`).
pub fn rows(name: &str, text: &str) -> Result<Vec<(String, Value)>, String> {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    if first.trim_start().starts_with('{') {
        return text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                let at = format!("{name}:{}", i + 1);
                serde_json::from_str(l).map(|v| (at.clone(), v)).map_err(|e| format!("{at}: not JSON: {e}"))
            })
            .collect();
    }
    let records = csv(text);
    let Some((header, body)) = records.split_first() else { return Ok(Vec::new()) };
    Ok(body
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let fields = header.iter().zip(r).filter(|(_, v)| !v.is_empty());
            let detail: serde_json::Map<String, Value> =
                fields.map(|(k, v)| (k.trim().to_owned(), Value::String(v.clone()))).collect();
            (format!("{name}:{}", i + 2), Value::Object(detail))
        })
        .collect())
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
pub fn csv(text: &str) -> Vec<Vec<String>> {
    let (mut records, mut record, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    records
}

/// What the roster asks for each person: the intent a hire with this row would carry. A row the
/// contract refuses is reported, with the field and what would be accepted.
pub fn intents(cfg: &Config, rows: &[(String, Value)], now: &str) -> (Vec<Intent>, Vec<Drift>) {
    let (mut intents, mut bad) = (Vec::new(), Vec::new());
    for (at, detail) in rows {
        let mut detail = detail.clone();
        let employee = detail["employeeId"].as_str().unwrap_or_default().to_owned();
        if detail.get("eventId").is_none() {
            detail["eventId"] = json!(format!("roster-{employee}"));
        }
        let event = json!({
            "id": format!("roster-{employee}"), "detail-type": shared::event::HIRED, "source": "hr.roster",
            "time": now, "detail": detail
        });
        match Request::from_event(cfg, &event) {
            Ok(Request::Hire(intent)) => intents.push(intent),
            Ok(_) => {}
            Err(e) => bad.push(Drift {
                kind: "bad-roster-row".into(),
                employee_id: employee,
                user_name: String::new(),
                detail: format!("{at}: {e}"),
            }),
        }
    }
    (intents, bad)
}

/// The differences. `users` are IAM's users under the system's path with whether this system
/// manages each; `keys` the users with an active access key (from the credential report).
pub fn compare(cfg: &Config, roster: &[Intent], users: &[(UserDetail, bool)], keys: &BTreeSet<String>) -> Vec<Drift> {
    let mut out = Vec::new();
    let row = |kind: &str, employee: &str, user: &str, detail: String| Drift {
        kind: kind.into(),
        employee_id: employee.into(),
        user_name: user.into(),
        detail,
    };
    let by_employee: BTreeMap<&str, &(UserDetail, bool)> = users
        .iter()
        .filter(|(_, managed)| *managed)
        .filter_map(|u| u.0.user.tags.get(tags::EMPLOYEE_ID).map(|e| (e.as_str(), u)))
        .collect();
    let on_roster: BTreeSet<&str> = roster.iter().map(|i| i.hire.meta.employee_id.as_str()).collect();
    let allowed: BTreeSet<&str> = cfg.groups.allowed.iter().map(String::as_str).collect();
    for intent in roster {
        let id = intent.hire.meta.employee_id.as_str();
        let Some((d, _)) = by_employee.get(id) else {
            out.push(row("missing-user", id, "", "on HR's roster, no user managed by this system".into()));
            continue;
        };
        let name = d.user.name.as_str();
        let have: BTreeSet<&str> = d.groups.iter().map(String::as_str).filter(|g| allowed.contains(g)).collect();
        let want: BTreeSet<&str> = intent.membership.groups.iter().map(String::as_str).collect();
        if have != want {
            let missing: Vec<&str> = want.difference(&have).copied().collect();
            let extra: Vec<&str> = have.difference(&want).copied().collect();
            out.push(row("groups", id, name, format!("missing {missing:?}, extra {extra:?}")));
        }
        let tag_drift: Vec<String> = intent
            .tags
            .iter()
            .filter(|(k, v)| d.user.tags.get(*k) != Some(*v))
            .map(|(k, v)| {
                format!("{k}: {:?} should be {v:?}", d.user.tags.get(k).map(String::as_str).unwrap_or("(none)"))
            })
            .collect();
        if !tag_drift.is_empty() {
            out.push(row("tags", id, name, tag_drift.join("; ")));
        }
        if keys.contains(name) && !intent.hire.access.programmatic {
            out.push(row("access-key-not-granted", id, name, "an active access key; HR's roster grants none".into()));
        }
    }
    for (d, managed) in users {
        let (name, id) = (d.user.name.as_str(), d.user.tags.get(tags::EMPLOYEE_ID).map(String::as_str).unwrap_or(""));
        if !managed {
            out.push(row(
                "unmanaged",
                id,
                name,
                "under the system's path but not its own: listed, never touched".into(),
            ));
            continue;
        }
        let status = d.user.tags.get(tags::STATUS).map(String::as_str).unwrap_or("");
        if !on_roster.contains(id) && status != "disabled" {
            out.push(row("not-on-roster", id, name, format!("status {status}; a leaver HR never announced?")));
        }
        let outside: Vec<&str> = d.groups.iter().map(String::as_str).filter(|g| !allowed.contains(g)).collect();
        if !outside.is_empty() {
            out.push(row("groups-outside-allow-list", id, name, format!("{outside:?}: added outside this system")));
        }
        let policies: Vec<&str> = d.attached_policies.iter().chain(&d.inline_policies).map(String::as_str).collect();
        if !policies.is_empty() {
            out.push(row("direct-policies", id, name, format!("{policies:?}: on the user itself, outside any group")));
        }
    }
    out.sort_by(|a, b| (&a.employee_id, &a.kind).cmp(&(&b.employee_id, &b.kind)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_reads_quotes_commas_and_line_breaks() {
        let t = "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n";
        assert_eq!(
            csv(t),
            vec![
                vec!["a".to_owned(), "b".into(), "c".into()],
                vec!["1".into(), "x, y".into(), "say \"hi\"".into()],
                vec!["2".into(), "two\nlines".into(), "".into()],
            ]
        );
    }

    #[test]
    fn roster_rows_come_from_csv_or_json_lines_and_bad_ones_name_the_field() {
        let cfg = Config::parse(include_str!("../../onboarding.toml"), "onboarding.toml").expect("config");
        let csv = "employeeId,givenName,familyName,email,department,startDate\nE1,Jane,Doe,jane@example.com,Engineering,2026-01-05\nE2,Bob,,bob@example.com,Finance,2026-13-01\n";
        let r = rows("roster.csv", csv).expect("rows");
        assert_eq!(r[0].0, "roster.csv:2");
        let (wanted, bad) = intents(&cfg, &r, "2026-11-29T00:00:00Z");
        assert_eq!(wanted.len(), 1, "{bad:?}");
        assert_eq!(wanted[0].base_name, "jane.doe");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].detail.starts_with("roster.csv:3: ") && bad[0].detail.contains("familyName"), "{bad:?}");
        let jsonl = r#"{"employeeId":"E1","givenName":"Jane","familyName":"Doe","email":"jane@example.com","department":"Engineering","startDate":"2026-01-05"}"#;
        let r = rows("roster.jsonl", jsonl).expect("rows");
        assert_eq!(intents(&cfg, &r, "2026-11-29T00:00:00Z").0.len(), 1);
        assert!(rows("r.jsonl", "{not json").is_err_and(|e| e.starts_with("r.jsonl:1: not JSON")));
    }
}
