//! `onboarding drift --roster FILE`: HR's roster against IAM itself, report only. What the
//! roster says each person should have is derived by the code a hire runs (`Intent`: the mapping
//! rules' groups, the HR tags); what IAM holds comes from one paginated authorisation-details
//! read and the credential report (on Identity Center: the identity store's users and groups, and
//! the people records, `audit::ic_users`). Unmanaged users are listed, never touched.
//!
//! With `--fix` ([`fixes`]), only what this system owns is corrected, each through the pipeline
//! as an event of its own (so each fix leaves its actions and one terminal record, source
//! `onboarding.drift`): group and tag drift by an `Employee Changed` carrying the roster's HR
//! attributes (the change flow regroups and retags; it never touches a leaver), and a managed user
//! not on the roster by an immediate `Employee Departed`, under the mass-departure guard. Access
//! added outside this system (keys, policies, groups outside the allow-list) and missing users
//! (`roster import`'s work) stay report-only.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use shared::aws::iam::UserDetail;
use shared::config::Config;
use shared::intent::Intent;
use shared::tags;

use crate::audit::reports::Row;
use crate::roster::BadRow;

/// One difference between the roster and IAM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Drift {
    /// `missing-user`, `not-on-roster`, `groups`, `groups-outside-allow-list`, `tags`, `hire-tags`,
    /// `direct-policies`, `access-key-not-granted`, `unmanaged`, `bad-roster-row`.
    pub kind: String,
    pub employee_id: String,
    pub user_name: String,
    pub detail: String,
    /// With `--fix`: the fixing event's outcome (`succeeded`, `quarantined`, `failed: ...`), or
    /// `report only` for what this system does not own. Empty without `--fix`.
    pub fix: String,
}

impl Row for Drift {
    const HEADER: &'static [&'static str] = &["kind", "employeeId", "userName", "detail", "fix"];
    fn cells(&self) -> Vec<String> {
        vec![self.kind.clone(), self.employee_id.clone(), self.user_name.clone(), self.detail.clone(), self.fix.clone()]
    }
}

/// A tag, borrowed.
type Tag<'a> = (&'a String, &'a String);

/// The kinds `--fix` corrects: what this system owns.
pub const FIXED: &[&str] = &["groups", "tags", "not-on-roster"];

/// The events that fix the drift this system owns, one per person, each with the employee it is
/// for: a change carrying the roster's HR attributes, or an immediate departure. Pure.
pub fn fixes(roster: &[Intent], drifts: &[Drift], now: DateTime<Utc>) -> Vec<(String, Value)> {
    let stamp = shared::lifecycle::stamp(now);
    let envelope = |kind: &str, employee: &str, detail: Value| {
        let id = format!("drift-{employee}-{stamp}");
        let mut detail = detail;
        detail["eventId"] = json!(id);
        detail["employeeId"] = json!(employee);
        json!({"id": id, "detail-type": kind, "source": SOURCE, "time": stamp, "detail": detail})
    };
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for d in drifts.iter().filter(|d| FIXED.contains(&d.kind.as_str())) {
        let employee = d.employee_id.as_str();
        if !done.insert(employee) {
            continue;
        }
        let event = if d.kind == "not-on-roster" {
            let detail = json!({
                "lastDay": now.date_naive().to_string(), "immediate": true,
                "reason": "not on HR's roster (onboarding drift --fix)"
            });
            envelope(shared::event::DEPARTED, employee, detail)
        } else {
            let Some(hire) = roster.iter().map(|i| &i.hire).find(|h| h.meta.employee_id == employee) else { continue };
            let detail = json!({
                "preferredName": hire.preferred_name, "email": hire.email, "department": hire.department,
                "title": hire.title, "managerEmail": hire.manager_email, "costCenter": hire.cost_center,
                "location": hire.location,
            });
            let detail: serde_json::Map<String, Value> = detail
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            envelope(shared::event::CHANGED, employee, Value::Object(detail))
        };
        out.push((employee.to_owned(), event));
    }
    out
}

/// The source of the events `--fix` sends through the pipeline.
pub const SOURCE: &str = "onboarding.drift";

/// The roster's bad rows, as drift rows.
pub fn bad_rows(bad: &[BadRow]) -> Vec<Drift> {
    let row = |b: &BadRow| Drift {
        kind: "bad-roster-row".into(),
        employee_id: b.employee_id.clone(),
        user_name: String::new(),
        detail: b.error.clone(),
        fix: String::new(),
    };
    bad.iter().map(row).collect()
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
        fix: String::new(),
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
        // Split: what an `Employee Changed` can set (`--fix` sends one), and what is set at hire
        // only (reported).
        let (changeable, at_hire): (Vec<Tag>, Vec<Tag>) = intent
            .tags
            .iter()
            .filter(|(k, v)| d.user.tags.get(*k) != Some(*v))
            .partition(|(k, _)| tags::CHANGEABLE.contains(&k.as_str()));
        let say = |drift: &[Tag]| {
            let one = |(k, v): &Tag| {
                format!("{k}: {:?} should be {v:?}", d.user.tags.get(*k).map(String::as_str).unwrap_or("(none)"))
            };
            drift.iter().map(one).collect::<Vec<_>>().join("; ")
        };
        if !changeable.is_empty() {
            out.push(row("tags", id, name, say(&changeable)));
        }
        if !at_hire.is_empty() {
            out.push(row("hire-tags", id, name, format!("{}: set at hire, no event changes them", say(&at_hire))));
        }
        if keys.contains(name) && !intent.hire.access.programmatic {
            out.push(row("access-key-not-granted", id, name, "an active access key; HR's roster grants none".into()));
        }
    }
    for (d, managed) in users {
        let (name, id) = (d.user.name.as_str(), d.user.tags.get(tags::EMPLOYEE_ID).map(String::as_str).unwrap_or(""));
        if !managed {
            let where_ = match cfg.identity_center_target() {
                Some(_) => "in the identity store",
                None => "under the system's path",
            };
            out.push(row("unmanaged", id, name, format!("{where_} but not its own: listed, never touched")));
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

    /// The shipped configuration and the people of a one-line roster (Jane Doe, E1) with `extra`
    /// columns (`name=value`).
    fn jane(extra: &[(&str, &str)]) -> (Config, Vec<Intent>) {
        let cfg = Config::shipped().expect("config");
        let (names, values): (Vec<&str>, Vec<&str>) = extra.iter().copied().unzip();
        let csv = format!(
            "employeeId,givenName,familyName,email,department,startDate{}\nE1,Jane,Doe,jane@example.com,Engineering,2026-01-05{}\n",
            names.iter().map(|n| format!(",{n}")).collect::<String>(),
            values.iter().map(|v| format!(",{v}")).collect::<String>(),
        );
        let rows = crate::roster::rows("r.csv", &csv).expect("rows");
        let (people, _) = crate::roster::people(&cfg, &rows, "2026-11-29T00:00:00Z");
        (cfg, people.into_iter().map(|p| p.intent).collect())
    }

    #[test]
    fn tag_drift_an_event_can_fix_is_apart_from_what_is_set_at_hire() {
        let (cfg, people) = jane(&[]);
        let intent = people[0].clone();
        let mut tags = intent.tags.clone();
        tags.insert("department".into(), "Sales".into());
        tags.insert("access".into(), "programmatic".into());
        let user = UserDetail {
            user: shared::aws::iam::User { name: "jane.doe".into(), tags, ..Default::default() },
            groups: intent.membership.groups.clone(),
            attached_policies: Vec::new(),
            inline_policies: Vec::new(),
            created: None,
        };
        let found = compare(&cfg, &[intent], &[(user, true)], &BTreeSet::new());
        let kinds: Vec<(&str, &str)> = found.iter().map(|d| (d.kind.as_str(), d.detail.as_str())).collect();
        assert_eq!(
            kinds,
            [
                ("hire-tags", r#"access: "programmatic" should be "console": set at hire, no event changes them"#),
                ("tags", r#"department: "Sales" should be "Engineering""#),
            ]
        );
    }

    #[test]
    fn fixes_are_one_event_per_person_for_owned_drift_only() {
        let (cfg, intents) = jane(&[("title", "Engineer")]);
        let drift = |kind: &str, employee: &str| Drift {
            kind: kind.into(),
            employee_id: employee.into(),
            user_name: String::new(),
            detail: String::new(),
            fix: String::new(),
        };
        let drifts = [
            drift("groups", "E1"),
            drift("tags", "E1"),
            drift("access-key-not-granted", "E1"),
            drift("direct-policies", "E2"),
            drift("missing-user", "E3"),
            drift("not-on-roster", "E4"),
            drift("unmanaged", ""),
        ];
        let now = DateTime::parse_from_rfc3339("2026-11-29T10:00:00Z").expect("time").with_timezone(&Utc);
        let events = fixes(&intents, &drifts, now);
        assert_eq!(events.iter().map(|(e, _)| e.as_str()).collect::<Vec<_>>(), ["E1", "E4"]);
        let change = &events[0].1;
        assert_eq!(change["detail-type"], "Employee Changed");
        assert_eq!(change["detail"]["department"], "Engineering");
        assert_eq!(change["detail"]["title"], "Engineer");
        assert!(change["detail"].get("location").is_none(), "absent attributes are not sent");
        let departure = &events[1].1;
        assert_eq!(departure["detail-type"], "Employee Departed");
        assert_eq!(departure["detail"]["immediate"], true);
        assert_eq!(departure["detail"]["lastDay"], "2026-11-29");
        // Both are valid events, as the pipeline will parse them.
        for (_, e) in &events {
            shared::intent::Request::from_event(&cfg, e).expect("valid event");
        }
    }
}
