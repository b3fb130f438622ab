//! `audit access`: who has what, from IAM's own view (authorisation details and the credential report).

use super::*;

/// One IAM user under the system's path: who has what access, from IAM itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Access {
    pub user_name: String,
    pub employee_id: Option<String>,
    /// Whether this system manages the user (tags, path and boundary as it makes them).
    pub managed: bool,
    pub status: Option<String>,
    pub groups: Vec<String>,
    pub console_access: bool,
    pub mfa: bool,
    pub password_last_used: Option<String>,
    pub access_keys: Vec<KeyUse>,
    pub boundary: Option<String>,
    /// Policies on the user itself (attached ARNs, inline names): access outside the groups.
    pub direct_policies: Vec<String>,
}

/// An access key's slot in the credential report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUse {
    pub slot: u8,
    pub active: bool,
    pub age_days: Option<i64>,
    pub last_used: Option<String>,
}

impl Row for Access {
    const HEADER: &'static [&'static str] = &[
        "userName",
        "employeeId",
        "managed",
        "status",
        "groups",
        "consoleAccess",
        "mfa",
        "passwordLastUsed",
        "accessKeys",
        "boundary",
        "directPolicies",
    ];
    fn cells(&self) -> Vec<String> {
        let keys = self.access_keys.iter().map(|k| {
            format!(
                "key {}: {}, {} days old, last used {}",
                k.slot,
                if k.active { "active" } else { "inactive" },
                k.age_days.map(|d| d.to_string()).unwrap_or_else(|| "?".into()),
                k.last_used.as_deref().unwrap_or("never")
            )
        });
        vec![
            self.user_name.clone(),
            opt(&self.employee_id),
            self.managed.to_string(),
            opt(&self.status),
            self.groups.join("; "),
            self.console_access.to_string(),
            self.mfa.to_string(),
            opt(&self.password_last_used),
            keys.collect::<Vec<_>>().join("; "),
            opt(&self.boundary),
            self.direct_policies.join("; "),
        ]
    }
}

/// IAM's credential report (CSV) by user name: each row's columns by header name. User names
/// may hold commas (the report does not quote): the fixed columns are read from the right.
pub fn credential_report(csv: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut rows = BTreeMap::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        if header.len() < 2 || fields.len() < header.len() {
            continue;
        }
        let extra = fields.len() - header.len();
        // `user,arn` take the extra commas: the ARN starts at the field beginning with `arn:`.
        let arn_at = (1..=1 + extra).find(|&i| fields[i].starts_with("arn:")).unwrap_or(1);
        let mut row = BTreeMap::new();
        row.insert(header[0].to_owned(), fields[..arn_at].join(","));
        row.insert(header[1].to_owned(), fields[arn_at..=1 + extra].join(","));
        for (h, v) in header[2..].iter().zip(&fields[2 + extra..]) {
            row.insert((*h).to_owned(), (*v).to_owned());
        }
        rows.insert(row[header[0]].clone(), row);
    }
    rows
}

/// The access rows: the users (with their groups and policies) joined with the credential
/// report's rows; ages are counted to `now`.
pub fn access(
    users: &[(shared::aws::iam::UserDetail, bool)],
    report: &BTreeMap<String, BTreeMap<String, String>>,
    now: DateTime<Utc>,
) -> Vec<Access> {
    let date = |v: Option<&String>| v.filter(|v| time(v).is_some()).cloned();
    let mut rows: Vec<Access> = users
        .iter()
        .map(|(d, managed)| {
            let r = report.get(&d.user.name);
            let field = |k: &str| r.and_then(|r| r.get(k));
            let yes = |k: &str| field(k).is_some_and(|v| v == "true");
            let access_keys = [1u8, 2]
                .into_iter()
                .filter(|n| {
                    yes(&format!("access_key_{n}_active"))
                        || date(field(&format!("access_key_{n}_last_rotated"))).is_some()
                })
                .map(|n| KeyUse {
                    slot: n,
                    active: yes(&format!("access_key_{n}_active")),
                    age_days: date(field(&format!("access_key_{n}_last_rotated")))
                        .and_then(|t| time(&t))
                        .map(|t| (now - t).num_days()),
                    last_used: date(field(&format!("access_key_{n}_last_used_date"))),
                })
                .collect();
            Access {
                user_name: d.user.name.clone(),
                employee_id: d.user.tags.get(shared::tags::EMPLOYEE_ID).cloned(),
                managed: *managed,
                status: d.user.tags.get(shared::tags::STATUS).cloned(),
                groups: d.groups.clone(),
                console_access: yes("password_enabled"),
                mfa: yes("mfa_active"),
                password_last_used: date(field("password_last_used")),
                access_keys,
                boundary: d.user.boundary.clone(),
                direct_policies: d.attached_policies.iter().chain(&d.inline_policies).cloned().collect(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    rows
}

/// One Identity Center user: their groups, and what those (and any assignment to the user
/// itself) give, per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IcAccess {
    pub user_name: String,
    /// From this system's people record that names the user.
    pub employee_id: Option<String>,
    /// Whether this system owns the user: its people record names it, by id and name.
    pub managed: bool,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
    /// `PERMISSION SET in ACCOUNT via GROUP` (or `directly`), sorted.
    pub access: Vec<String>,
}

impl Row for IcAccess {
    const HEADER: &'static [&'static str] =
        &["userName", "employeeId", "managed", "displayName", "email", "groups", "access"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.user_name.clone(),
            opt(&self.employee_id),
            self.managed.to_string(),
            opt(&self.display_name),
            opt(&self.email),
            self.groups.join("; "),
            self.access.join("; "),
        ]
    }
}

/// What Identity Center holds, as read for `audit access`.
#[derive(Debug, Clone, Default)]
pub struct IcView {
    pub users: Vec<StoreUser>,
    /// Group id → display name.
    pub groups: BTreeMap<String, String>,
    /// Group id → its members' user ids.
    pub members: BTreeMap<String, Vec<String>>,
    /// Each assignment: permission set name, account, to whom.
    pub assignments: Vec<(String, String, Principal, String)>,
    /// This system's people records.
    pub records: Vec<PersonRecord>,
}

/// Each user with their groups and what the assignments give them.
pub fn ic_access(view: &IcView) -> Vec<IcAccess> {
    let mut rows: Vec<IcAccess> = view
        .users
        .iter()
        .map(|u| {
            let mine: BTreeSet<&String> =
                view.members.iter().filter(|(_, m)| m.contains(&u.id)).map(|(g, _)| g).collect();
            let mut groups: Vec<String> =
                mine.iter().map(|g| view.groups.get(*g).cloned().unwrap_or_else(|| (*g).clone())).collect();
            groups.sort();
            let mut access: Vec<String> = view
                .assignments
                .iter()
                .filter_map(|(ps, account, kind, id)| match kind {
                    Principal::User if *id == u.id => Some(format!("{ps} in {account} directly")),
                    Principal::Group if mine.contains(id) => {
                        Some(format!("{ps} in {account} via {}", view.groups.get(id).unwrap_or(id)))
                    }
                    _ => None,
                })
                .collect();
            access.sort();
            access.dedup();
            let record = view.records.iter().find(|r| r.user_id == u.id);
            IcAccess {
                user_name: u.user_name.clone(),
                employee_id: record.map(|r| r.employee_id.clone()),
                managed: record.is_some_and(|r| shared::person::identity_center::proves(r, u).is_ok()),
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                groups,
                access,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.user_name.cmp(&b.user_name));
    rows
}
