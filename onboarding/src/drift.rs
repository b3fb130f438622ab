//! `onboarding drift --roster FILE`: HR's roster against IAM itself, report only. What the
//! roster says each person should have is derived by the code a hire runs (`Intent`: the mapping
//! rules' groups, the HR tags); what IAM holds comes from one paginated authorisation-details
//! read and the credential report. Nothing is changed; unmanaged users are listed, never touched.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
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

/// The roster's bad rows, as drift rows.
pub fn bad_rows(bad: &[BadRow]) -> Vec<Drift> {
    let row = |b: &BadRow| Drift {
        kind: "bad-roster-row".into(),
        employee_id: b.employee_id.clone(),
        user_name: String::new(),
        detail: b.error.clone(),
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
