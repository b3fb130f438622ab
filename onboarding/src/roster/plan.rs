//! The import's plan, without I/O: per person `managed`, `adopt`, `create`, `ambiguous` or
//! `refused`; the selection of some people (`--only`); the preflight against the account's quotas.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use shared::aws::iam::UserDetail;
use shared::config::Config;
use shared::drivers::adopt;
use shared::person::ownership::{self, Owner};
use shared::tags::{EMAIL, EMPLOYEE_ID};
use shared::username;

use crate::audit::reports::Row;

use super::*;

/// What the import plans for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// No user: one is created, as for a hire.
    Create,
    /// Exactly one user made by hand is the person's: it is adopted.
    Adopt,
    /// This system's user already: nothing to do.
    Managed,
    /// Several users could be the person, or one user two people: listed, never applied.
    Ambiguous,
    /// A bad row, a protected user, another person's user: listed, never applied.
    Refused,
}

impl Verdict {
    pub const ALL: [Verdict; 5] =
        [Verdict::Create, Verdict::Adopt, Verdict::Managed, Verdict::Ambiguous, Verdict::Refused];

    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Create => "create",
            Verdict::Adopt => "adopt",
            Verdict::Managed => "managed",
            Verdict::Ambiguous => "ambiguous",
            Verdict::Refused => "refused",
        }
    }
}

/// What the import does (or did) for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRow {
    pub plan: Verdict,
    pub employee_id: String,
    /// The user created (or to be), adopted, or already managed; the candidates when ambiguous.
    pub user_name: String,
    /// `planned` (no `--apply`), `skipped` (ambiguous or refused: never applied), or the event's
    /// outcome (`succeeded`, `unchanged`, `failed`, ...).
    pub outcome: String,
    pub detail: String,
}

impl ImportRow {
    /// Whether this person needs an operator: ambiguous, refused, or failed.
    pub fn troubled(&self) -> bool {
        matches!(self.plan, Verdict::Ambiguous | Verdict::Refused) || self.outcome == "failed"
    }
}

impl Row for ImportRow {
    const HEADER: &'static [&'static str] = &["plan", "employeeId", "userName", "outcome", "detail"];
    fn cells(&self) -> Vec<String> {
        vec![
            self.plan.as_str().to_owned(),
            self.employee_id.clone(),
            self.user_name.clone(),
            self.outcome.clone(),
            self.detail.clone(),
        ]
    }
}

/// One person's plan, with the roster entry it applies to (none for a bad row).
#[derive(Debug, Clone)]
pub struct Planned {
    pub row: ImportRow,
    pub person: Option<Person>,
    /// The number of groups the user will be in (for the quota preflight).
    pub groups_after: usize,
}

/// What IAM holds, as the plan needs it: every user with its groups, and per user name what the
/// credential report says (`password_enabled`, `mfa_active`, `access_key_N_active`).
pub struct Account<'a> {
    pub users: &'a [UserDetail],
    pub credentials: &'a BTreeMap<String, BTreeMap<String, String>>,
}

/// The plan, in roster order (bad rows where they stood). Pure.
pub fn plan(owner: Owner<'_>, people: &[Person], bad: &[BadRow], account: &Account<'_>) -> Vec<Planned> {
    let users = account.users;
    let managed: BTreeMap<&str, &UserDetail> = users
        .iter()
        .filter(|d| ownership::is_managed(owner, &d.user))
        .filter_map(|d| d.user.tags.get(EMPLOYEE_ID).map(|id| (id.as_str(), d)))
        .collect();
    let by_name: BTreeMap<String, &UserDetail> = users.iter().map(|d| (d.user.name.to_lowercase(), d)).collect();
    // Each person's candidates among the users nobody manages, with why each matched.
    let candidates: Vec<Vec<(&UserDetail, &'static str)>> = people
        .iter()
        .map(|p| match &p.user_name {
            Some(n) => by_name.get(&n.to_lowercase()).map(|d| vec![(*d, "the userName column")]).unwrap_or_default(),
            None => {
                users.iter().filter(|d| !ownership::is_managed(owner, &d.user)).filter_map(|d| matched(p, d)).collect()
            }
        })
        .collect();
    let mut claimed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (p, c) in people.iter().zip(&candidates) {
        for (d, _) in c {
            claimed.entry(d.user.name.as_str()).or_default().push(p.intent.hire.meta.employee_id.as_str());
        }
    }
    let mut taken: BTreeSet<String> = by_name.keys().cloned().collect();
    let mut out: Vec<(String, Planned)> = bad
        .iter()
        .map(|b| {
            let row = row(Verdict::Refused, &b.employee_id, "", &b.error);
            (b.at.clone(), Planned { row, person: None, groups_after: 0 })
        })
        .collect();
    for (p, c) in people.iter().zip(candidates) {
        let id = p.intent.hire.meta.employee_id.as_str();
        let wanted: BTreeSet<&str> = p.intent.membership.groups.iter().map(String::as_str).collect();
        let planned = |row: ImportRow, groups_after: usize| Planned { row, person: Some(p.clone()), groups_after };
        let one = match (managed.get(id), p.user_name.as_deref(), c.as_slice()) {
            (Some(d), named, _) if named.is_none_or(|n| n.eq_ignore_ascii_case(&d.user.name)) => {
                planned(row(Verdict::Managed, id, &d.user.name, "this system's user already: nothing to do"), 0)
            }
            (Some(d), named, _) => {
                let n = named.unwrap_or_default();
                planned(
                    row(Verdict::Refused, id, n, &format!("the person's managed user is `{}`, not `{n}`", d.user.name)),
                    0,
                )
            }
            (None, Some(n), []) => planned(
                row(Verdict::Refused, id, n, &format!("no user `{n}`: leave `{USER_NAME}` empty to create one")),
                0,
            ),
            (None, _, []) => {
                let name = (1..=username::MAX_VARIANTS)
                    .map(|n| username::variant(&p.intent.base_name, n))
                    .find(|n| !taken.contains(&n.to_lowercase()))
                    .unwrap_or_default();
                taken.insert(name.to_lowercase());
                let groups = p.intent.membership.groups.join(", ");
                planned(
                    row(Verdict::Create, id, &name, &format!("a new user; groups {groups}; password and welcome")),
                    wanted.len(),
                )
            }
            (None, _, [(d, why)]) => {
                let others: Vec<&&str> = claimed[d.user.name.as_str()].iter().filter(|e| **e != id).collect();
                let name = &d.user.name;
                if !others.is_empty() {
                    let others = others.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ");
                    planned(row(Verdict::Ambiguous, id, name, &format!("`{name}` also matches employee {others}")), 0)
                } else {
                    match adopt::claim(owner, id, &d.user) {
                        Err(why) => planned(row(Verdict::Refused, id, name, &why), 0),
                        Ok(claim) => {
                            let have: BTreeSet<&str> = d.groups.iter().map(String::as_str).collect();
                            let join: Vec<&str> = wanted.difference(&have).copied().collect();
                            let cred = account.credentials.get(name.as_str());
                            let detail = adoption(owner.cfg, &claim, why, &join, d, cred);
                            planned(row(Verdict::Adopt, id, name, &detail), have.union(&wanted).count())
                        }
                    }
                }
            }
            (None, _, many) => {
                let mut many = many.to_vec();
                many.sort_unstable_by(|a, b| a.0.user.name.cmp(&b.0.user.name));
                let names: Vec<&str> = many.iter().map(|(d, _)| d.user.name.as_str()).collect();
                let each: Vec<String> = many.iter().map(|(d, _)| format!("{} ({})", d.user.name, made(d))).collect();
                let detail =
                    format!("several users could be this person: {}; name one in `{USER_NAME}`", each.join(", "));
                planned(row(Verdict::Ambiguous, id, &names.join(" "), &detail), 0)
            }
        };
        out.push((p.at.clone(), one));
    }
    out.sort_by_key(|(at, _)| line_of(at));
    out.into_iter().map(|(_, p)| p).collect()
}

/// Why a user made by hand may be the person's: it carries their employee id, or its name is
/// their user-name candidate or one of its variants (`sam.lee2`), their email or its local part,
/// or its `email` tag is theirs.
pub(super) fn matched<'u>(p: &Person, d: &'u UserDetail) -> Option<(&'u UserDetail, &'static str)> {
    let (hire, name) = (&p.intent.hire, d.user.name.to_lowercase());
    let email = hire.email.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    let why = if d.user.tags.get(EMPLOYEE_ID) == Some(&hire.meta.employee_id) {
        "its employee-id tag"
    } else if d.user.tags.contains_key(EMPLOYEE_ID) {
        return None;
    } else if name == p.intent.base_name {
        "its name"
    } else if is_variant_of(&name, &p.intent.base_name) {
        // `sam.lee2` fits Sam Lee as well as `sam.lee` does: with both there, it is ambiguous.
        "its name (a variant)"
    } else if name == email || name == local {
        "its name (the email)"
    } else if d.user.tags.get(EMAIL).is_some_and(|e| e.to_lowercase() == email) {
        "its email tag"
    } else {
        return None;
    };
    Some((d, why))
}

/// Whether `name` is one of `base`'s numbered variants (`sam.lee2` ... `sam.lee99`), from its
/// digits (one comparison, not one per variant).
pub(super) fn is_variant_of(name: &str, base: &str) -> bool {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match name[stem.len()..].parse::<u32>() {
        Ok(n) if (2..=username::MAX_VARIANTS).contains(&n) && !name[stem.len()..].starts_with('0') => {
            username::variant(base, n) == name
        }
        _ => false,
    }
}

/// When the user was made, for the operator to tell a long-standing user from a fresh look-alike.
pub(super) fn made(d: &UserDetail) -> String {
    match d.created {
        Some(t) => format!("made {}", t.format("%Y-%m-%d")),
        None => "made (unknown)".to_owned(),
    }
}

/// The adoption's detail: how it matched, what changes, what the person keeps, and the access
/// it holds that this system does not manage (it stays; `drift` reports it).
pub(super) fn adoption(
    cfg: &Config,
    claim: &adopt::Claim,
    why: &str,
    join: &[&str],
    d: &UserDetail,
    cred: Option<&BTreeMap<String, String>>,
) -> String {
    let mut changes = Vec::new();
    if let Some(path) = &claim.path {
        changes.push(format!("path {path}"));
    }
    if claim.boundary.is_some() {
        changes.push("boundary".to_owned());
    }
    let identity_center = cfg.identity_center_target().is_some();
    if !claim.tags.is_empty() {
        changes.push(if identity_center { "a people record naming it" } else { "ownership tags" }.to_owned());
    }
    if !join.is_empty() {
        changes.push(format!("joins {}", join.join(", ")));
    }
    let on = |k: &str| cred.is_some_and(|c| c.get(k).is_some_and(|v| v == "true"));
    let keys = ["access_key_1_active", "access_key_2_active"].iter().filter(|k| on(k)).count();
    let mut kept = Vec::new();
    if on("password_enabled") {
        kept.push("console password".to_owned());
    }
    if keys > 0 {
        kept.push(format!("{keys} access key{}", if keys == 1 { "" } else { "s" }));
    }
    if on("mfa_active") {
        kept.push("MFA".to_owned());
    }
    let kept = match (identity_center, kept.is_empty()) {
        (true, _) => "their Identity Center sign-in".to_owned(),
        (false, true) => "no credentials".to_owned(),
        (false, false) => kept.join(", "),
    };
    let mut outside: Vec<String> =
        d.groups.iter().filter(|g| !cfg.groups.allowed.contains(g)).map(|g| format!("group {g}")).collect();
    outside.extend(d.attached_policies.iter().chain(&d.inline_policies).map(|p| format!("policy {p}")));
    let outside = match outside.is_empty() {
        true => String::new(),
        false => format!("; not this system's, left as they are: {}", outside.join(", ")),
    };
    format!("matched by {why}, {}; {}; keeps {kept}; no welcome{outside}", made(d), changes.join(", "))
}

pub(super) fn row(plan: Verdict, employee_id: &str, user_name: &str, detail: &str) -> ImportRow {
    ImportRow {
        plan,
        employee_id: employee_id.into(),
        user_name: user_name.into(),
        outcome: "planned".into(),
        detail: detail.into(),
    }
}

/// The line number in `file:line`, for roster order.
pub(super) fn line_of(at: &str) -> usize {
    at.rsplit(':').next().and_then(|n| n.parse().ok()).unwrap_or(usize::MAX)
}

/// The plan's rows for the employees in `only` (all when empty), for an adoption in stages. The
/// plan was made from the whole roster, so a user two people could be stays ambiguous though only
/// one of them is selected. An id the roster does not hold is an error naming it.
pub fn select(plan: Vec<Planned>, only: &[String]) -> Result<Vec<Planned>, String> {
    if only.is_empty() {
        return Ok(plan);
    }
    let unknown: Vec<&str> =
        only.iter().filter(|id| !plan.iter().any(|p| &p.row.employee_id == *id)).map(String::as_str).collect();
    if !unknown.is_empty() {
        return Err(format!(
            "--only: {} not on the roster; expected employee ids from its employeeId column",
            unknown.join(", ")
        ));
    }
    Ok(plan.into_iter().filter(|p| only.contains(&p.row.employee_id)).collect())
}

/// How many people each verdict has, e.g. `1 create, 2 adopt, 0 managed, 1 ambiguous, 1 refused`.
pub fn counts(plan: &[Planned]) -> String {
    let count = |v: Verdict| plan.iter().filter(|p| p.row.plan == v).count();
    Verdict::ALL.map(|v| format!("{} {}", count(v), v.as_str())).join(", ")
}

/// Whether the account's quotas (`GetAccountSummary`) hold the plan: the users it creates, and
/// each person's groups. `Ok` says how much room is left; `Err` names what would not fit.
pub fn preflight(summary: &BTreeMap<String, i64>, plan: &[Planned]) -> Result<String, String> {
    let get = |k: &str| summary.get(k).copied().ok_or_else(|| format!("iam:GetAccountSummary gave no `{k}`"));
    let (users, users_quota, groups_quota) = (get("Users")?, get("UsersQuota")?, get("GroupsPerUserQuota")?);
    let creates = plan.iter().filter(|p| p.row.plan == Verdict::Create).count() as i64;
    let mut over = Vec::new();
    if users + creates > users_quota {
        over.push(format!(
            "creating {creates} users would make {} of the account's quota of {users_quota} users (UsersQuota)",
            users + creates
        ));
    }
    for p in plan.iter().filter(|p| p.groups_after as i64 > groups_quota) {
        over.push(format!(
            "employee `{}` would be in {} groups, over the quota of {groups_quota} (GroupsPerUserQuota)",
            p.row.employee_id, p.groups_after
        ));
    }
    if over.is_empty() {
        let most = plan.iter().map(|p| p.groups_after).max().unwrap_or(0);
        Ok(format!(
            "quotas: users {users} + {creates} of {users_quota}; groups per user at most {most} of {groups_quota}"
        ))
    } else {
        Err(format!("the account's IAM quotas cannot hold this import, so nothing is done: {}", over.join("; ")))
    }
}
