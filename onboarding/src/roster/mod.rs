//! HR's roster (CSV with a header row, or JSON Lines; the hire contract's fields, plus an
//! optional `userName`), read once for `drift` and `roster import`, and the import's plan.
//!
//! `roster import` plans per person, without I/O ([`plan`]): `managed` (this system's user
//! exists), `adopt` (exactly one user made by hand belongs to the person), `create` (none does),
//! `ambiguous` (several could, or one could be two people's) or `refused` (a bad row, a protected
//! user, another person's user). Only `create` and `adopt` are ever applied; nothing is disabled
//! or deleted. [`preflight`] refuses a plan the account's IAM quotas cannot hold.

use serde_json::{Value, json};
use shared::config::Config;
use shared::intent::{Intent, Request};

mod apply;
mod plan;

pub use apply::*;
pub use plan::*;

/// The roster column that names a person's existing user explicitly.
pub const USER_NAME: &str = "userName";

/// One person on the roster.
#[derive(Debug, Clone)]
pub struct Person {
    /// `file:line`.
    pub at: String,
    pub intent: Intent,
    /// The hire event this row is (source `hr.roster`, event id `roster-{employeeId}`): what an
    /// import applies, so a rerun is the same event again.
    pub event: Value,
    /// The `userName` column, when the row names the person's existing user.
    pub user_name: Option<String>,
}

/// A row the hire contract refuses: where, whose, and the field with what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub at: String,
    pub employee_id: String,
    pub error: String,
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
    // RFC 4180 (quoted fields may hold commas, doubled quotes and line breaks), header first.
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> =
        reader.headers().map_err(|e| format!("{name}: {e}"))?.iter().map(|h| h.trim().to_owned()).collect();
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("{name}: {e}"))?;
        // The line the record starts on (a quoted field may span lines), from its byte offset,
        // which the reader puts before the line breaks it skipped.
        let bytes = text.as_bytes();
        let mut start = record.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0)).min(bytes.len());
        while bytes.get(start).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            start += 1;
        }
        let line = bytes[..start].iter().filter(|b| **b == b'\n').count() + 1;
        let detail: serde_json::Map<String, Value> = header
            .iter()
            .zip(record.iter())
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.clone(), Value::String(v.to_owned())))
            .collect();
        out.push((format!("{name}:{line}"), Value::Object(detail)));
    }
    Ok(out)
}

/// The people on the roster, each as the hire a row would be (the code a hire runs decides
/// names, groups and tags), and the rows the contract refuses. Two rows for one employee: the
/// second is refused.
pub fn people(cfg: &Config, rows: &[(String, Value)], now: &str) -> (Vec<Person>, Vec<BadRow>) {
    let (mut people, mut bad) = (Vec::<Person>::new(), Vec::new());
    for (at, detail) in rows {
        let mut detail = detail.clone();
        let employee = detail["employeeId"].as_str().unwrap_or_default().to_owned();
        let user_name = match detail.as_object_mut().and_then(|d| d.remove(USER_NAME)) {
            None => None,
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(_) => {
                let error = format!("{at}: `{USER_NAME}` must be an existing IAM user's name, or absent");
                bad.push(BadRow { at: at.clone(), employee_id: employee, error });
                continue;
            }
        };
        if let Some(first) = people.iter().find(|p| p.intent.hire.meta.employee_id == employee) {
            let error = format!("{at}: employee `{employee}` is on the roster twice (first at {})", first.at);
            bad.push(BadRow { at: at.clone(), employee_id: employee, error });
            continue;
        }
        if detail.get("eventId").is_none() {
            detail["eventId"] = json!(format!("roster-{employee}"));
        }
        let event = json!({
            "id": format!("roster-{employee}"), "detail-type": shared::event::HIRED, "source": "hr.roster",
            "time": now, "detail": detail
        });
        match Request::from_event(cfg, &event) {
            Ok(Request::Hire(intent)) => people.push(Person { at: at.clone(), intent, event, user_name }),
            Ok(_) => {}
            Err(e) => bad.push(BadRow { at: at.clone(), employee_id: employee, error: format!("{at}: {e}") }),
        }
    }
    (people, bad)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use shared::aws::iam::UserDetail;
    use shared::person::ownership::Owner;

    use super::*;
    use shared::aws::iam::User;

    fn cfg() -> Config {
        let mut c = Config::shipped().expect("config");
        c.lifecycle.protect = vec!["root.admin".into()];
        c
    }

    #[test]
    fn csv_rows_keep_quotes_commas_and_line_breaks_and_name_their_line() {
        let t = "a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\n\n3,,z\n";
        let r = rows("r.csv", t).expect("rows");
        let at: Vec<&str> = r.iter().map(|(at, _)| at.as_str()).collect();
        assert_eq!(at, ["r.csv:2", "r.csv:3", "r.csv:6"], "a record's first line, line breaks inside counted");
        assert_eq!(r[0].1, serde_json::json!({"a": "1", "b": "x, y", "c": "say \"hi\""}));
        assert_eq!(r[1].1, serde_json::json!({"a": "2", "b": "two\nlines"}), "empty fields are absent");
        assert_eq!(r[2].1, serde_json::json!({"a": "3", "c": "z"}));
    }

    #[test]
    fn roster_rows_come_from_csv_or_json_lines_and_bad_ones_name_the_field() {
        let cfg = cfg();
        let csv = "employeeId,givenName,familyName,email,department,startDate,userName\nE1,Jane,Doe,jane@example.com,Engineering,2026-01-05,jdoe\nE2,Bob,,bob@example.com,Finance,2026-13-01,\nE1,Jane,Doe,jane@example.com,Engineering,2026-01-05,\n";
        let r = rows("roster.csv", csv).expect("rows");
        assert_eq!(r[0].0, "roster.csv:2");
        let (wanted, bad) = people(&cfg, &r, "2026-11-29T00:00:00Z");
        assert_eq!(wanted.len(), 1, "{bad:?}");
        assert_eq!(wanted[0].intent.base_name, "jane.doe");
        assert_eq!(wanted[0].user_name.as_deref(), Some("jdoe"));
        assert_eq!(wanted[0].event["id"], "roster-E1");
        assert_eq!(bad.len(), 2);
        assert!(bad[0].error.starts_with("roster.csv:3: ") && bad[0].error.contains("familyName"), "{bad:?}");
        assert!(bad[1].error.contains("on the roster twice (first at roster.csv:2)"), "{bad:?}");
        let jsonl = r#"{"employeeId":"E1","givenName":"Jane","familyName":"Doe","email":"jane@example.com","department":"Engineering","startDate":"2026-01-05"}"#;
        let r = rows("roster.jsonl", jsonl).expect("rows");
        assert_eq!(people(&cfg, &r, "2026-11-29T00:00:00Z").0.len(), 1);
        assert!(rows("r.jsonl", "{not json").is_err_and(|e| e.starts_with("r.jsonl:1: not JSON")));
    }

    fn detail(name: &str, path: &str, tags: &[(&str, &str)], groups: &[&str]) -> UserDetail {
        UserDetail {
            user: User {
                name: name.into(),
                arn: format!("arn:aws:iam::123456789012:user{path}{name}"),
                path: path.into(),
                tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
                ..User::default()
            },
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            attached_policies: Vec::new(),
            inline_policies: Vec::new(),
            created: chrono::DateTime::from_timestamp(1_700_000_000, 0),
        }
    }

    /// Every verdict, from one roster against one account.
    #[test]
    fn the_plan_creates_adopts_and_refuses_what_it_must() {
        let cfg = cfg();
        let owner = Owner { cfg: &cfg, boundary_arn: "arn:aws:iam::123456789012:policy/b", require_boundary: false };
        let line = |id: &str, given: &str, family: &str, email: &str, user: &str| {
            format!("{id},{given},{family},{email},Engineering,2025-01-06,{user}\n")
        };
        let text = [
            "employeeId,givenName,familyName,email,department,startDate,userName\n".to_owned(),
            line("E1", "Jane", "Doe", "jane@example.com", ""), // adopt by name
            line("E2", "Raj", "Patel", "rpatel@example.com", ""), // adopt by email's local part
            line("E3", "Ann", "Lee", "ann@example.com", ""),   // ambiguous: two candidates
            line("E4", "Root", "Admin", "root@example.com", ""), // protected
            line("E5", "New", "Person", "new@example.com", ""), // create (its name is taken)
            line("E6", "Old", "Hand", "old@example.com", ""),  // managed
            line("E7", "Kim", "Ng", "kim@example.com", "kim.ng.x"), // userName names no user
            line("E10", "Sam", "Lee", "sam@example.com", ""),  // ambiguous: the name and a variant
            "E8,Bad,,bad@example.com,Engineering,2025-01-06,\n".to_owned(), // refused row
        ]
        .concat();
        let (people, bad) = people(&cfg, &rows("r.csv", &text).expect("rows"), "2026-11-29T00:00:00Z");
        let managed = [("managed-by", "employee-lifecycle"), ("employee-id", "E6")];
        let users = [
            detail("jane.doe", "/", &[], &["AllEmployees"]),
            {
                let mut d = detail("rpatel", "/", &[], &["OnCall"]);
                d.inline_policies = vec!["s3-read".into()];
                d
            },
            detail("ann.lee", "/", &[], &[]),
            detail("ALee", "/", &[("email", "Ann@example.com")], &[]),
            detail("root.admin", "/", &[], &[]),
            detail("new.person", "/employees/E9/", &[("managed-by", "employee-lifecycle"), ("employee-id", "E9")], &[]),
            detail("old.hand", "/employees/E6/", &managed, &[]),
            detail("sam.lee", "/", &[], &[]),
            detail("sam.lee2", "/", &[], &[]),
        ];
        let creds = BTreeMap::from([(
            "jane.doe".to_owned(),
            BTreeMap::from([("password_enabled".to_owned(), "true".to_owned()), ("mfa_active".into(), "true".into())]),
        )]);
        let plan = plan(owner, &people, &bad, &Account { users: &users, credentials: &creds });
        let got: Vec<(&str, &str, &str)> =
            plan.iter().map(|p| (p.row.plan.as_str(), p.row.employee_id.as_str(), p.row.user_name.as_str())).collect();
        assert_eq!(
            got,
            [
                ("adopt", "E1", "jane.doe"),
                ("adopt", "E2", "rpatel"),
                ("ambiguous", "E3", "ALee ann.lee"),
                ("refused", "E4", "root.admin"),
                ("create", "E5", "new.person2"),
                ("managed", "E6", "old.hand"),
                ("refused", "E7", "kim.ng.x"),
                ("ambiguous", "E10", "sam.lee sam.lee2"),
                ("refused", "E8", ""),
            ]
        );
        assert_eq!(
            plan[0].row.detail,
            "matched by its name, made 2023-11-14; path /employees/E1/, ownership tags, joins Developers; keeps console password, MFA; no welcome"
        );
        assert_eq!(plan[0].groups_after, 2);
        assert!(
            plan[1].row.detail.starts_with("matched by its name (the email), made 2023-11-14;"),
            "{}",
            plan[1].row.detail
        );
        assert!(
            plan[1]
                .row
                .detail
                .ends_with("no welcome; not this system's, left as they are: group OnCall, policy s3-read"),
            "{}",
            plan[1].row.detail
        );
        assert!(plan[3].row.detail.contains("protected"));
        assert!(
            plan[7].row.detail.starts_with("several users could be this person: sam.lee (made"),
            "{}",
            plan[7].row.detail
        );
        assert!(plan[8].row.detail.contains("familyName"));

        // One hand-made user that two people's names match is neither's.
        let twins = "employeeId,givenName,familyName,email,department,startDate\nE1,Jane,Doe,a@example.com,Legal,2025-01-06\nE2,Jane,Doe,b@example.com,Legal,2025-01-06\n";
        let (two, _) = super::people(&cfg, &rows("t.csv", twins).expect("rows"), "2026-11-29T00:00:00Z");
        let plan = super::plan(owner, &two, &[], &Account { users: &users[..1], credentials: &creds });
        assert!(plan.iter().all(|p| p.row.plan == Verdict::Ambiguous), "{plan:?}");
        assert!(plan[0].row.detail.contains("also matches employee `E2`"), "{}", plan[0].row.detail);

        // Selecting one twin for a staged import keeps the plan the whole roster made: still
        // ambiguous, so never adopted; an id not on the roster is named.
        let one = select(plan.clone(), &["E1".to_owned()]).expect("E1 is on the roster");
        assert_eq!(
            one.iter().map(|p| (p.row.employee_id.as_str(), p.row.plan)).collect::<Vec<_>>(),
            [("E1", Verdict::Ambiguous)]
        );
        assert_eq!(select(plan.clone(), &[]).expect("all").len(), 2);
        let e = select(plan, &["E1".to_owned(), "E9".to_owned()]).expect_err("E9 is not");
        assert!(e.starts_with("--only: E9 not on the roster"), "{e}");
    }

    #[test]
    fn the_preflight_refuses_what_the_quotas_cannot_hold() {
        let planned =
            |plan: Verdict, groups_after: usize| Planned { row: row(plan, "E1", "", ""), person: None, groups_after };
        let summary = |users: i64| {
            BTreeMap::from([("Users".into(), users), ("UsersQuota".into(), 5000), ("GroupsPerUserQuota".into(), 10)])
        };
        let plan = [planned(Verdict::Create, 3), planned(Verdict::Create, 2), planned(Verdict::Adopt, 10)];
        assert_eq!(
            preflight(&summary(4998), &plan).expect("fits"),
            "quotas: users 4998 + 2 of 5000; groups per user at most 10 of 10"
        );
        let e = preflight(&summary(4999), &plan).expect_err("one user too many");
        assert!(e.contains("would make 5001 of the account's quota of 5000 users (UsersQuota)"), "{e}");
        let e = preflight(&summary(1), &[planned(Verdict::Adopt, 11)]).expect_err("too many groups");
        assert!(e.contains("11 groups, over the quota of 10 (GroupsPerUserQuota)"), "{e}");
        assert!(preflight(&BTreeMap::new(), &plan).is_err_and(|e| e.contains("`Users`")));
    }
}
