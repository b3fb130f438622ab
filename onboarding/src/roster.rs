//! HR's roster (CSV with a header row, or JSON Lines; the hire contract's fields, plus an
//! optional `userName`), read once for `drift` and `roster import`, and the import's plan.
//!
//! `roster import` plans per person, without I/O ([`plan`]): `managed` (this system's user
//! exists), `adopt` (exactly one user made by hand belongs to the person), `create` (none does),
//! `ambiguous` (several could, or one could be two people's) or `refused` (a bad row, a protected
//! user, another person's user). Only `create` and `adopt` are ever applied; nothing is disabled
//! or deleted. [`preflight`] refuses a plan the account's IAM quotas cannot hold.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};
use shared::aws::iam::UserDetail;
use shared::config::Config;
use shared::drivers::adopt;
use shared::intent::{Intent, Request};
use shared::lanes;
use shared::person::ownership::{self, Owner};
use shared::pipeline;
use shared::steps::Ctx;
use shared::tags::{EMAIL, EMPLOYEE_ID};
use shared::username;

use crate::audit::reports::Row;

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
fn matched<'u>(p: &Person, d: &'u UserDetail) -> Option<(&'u UserDetail, &'static str)> {
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
fn is_variant_of(name: &str, base: &str) -> bool {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    match name[stem.len()..].parse::<u32>() {
        Ok(n) if (2..=username::MAX_VARIANTS).contains(&n) && !name[stem.len()..].starts_with('0') => {
            username::variant(base, n) == name
        }
        _ => false,
    }
}

/// When the user was made, for the operator to tell a long-standing user from a fresh look-alike.
fn made(d: &UserDetail) -> String {
    match d.created {
        Some(t) => format!("made {}", t.format("%Y-%m-%d")),
        None => "made (unknown)".to_owned(),
    }
}

/// The adoption's detail: how it matched, what changes, what the person keeps, and the access
/// it holds that this system does not manage (it stays; `drift` reports it).
fn adoption(
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
    if !claim.tags.is_empty() {
        changes.push("ownership tags".to_owned());
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
    let kept = if kept.is_empty() { "no credentials".to_owned() } else { kept.join(", ") };
    let mut outside: Vec<String> =
        d.groups.iter().filter(|g| !cfg.groups.allowed.contains(g)).map(|g| format!("group {g}")).collect();
    outside.extend(d.attached_policies.iter().chain(&d.inline_policies).map(|p| format!("policy {p}")));
    let outside = match outside.is_empty() {
        true => String::new(),
        false => format!("; not this system's, left as they are: {}", outside.join(", ")),
    };
    format!("matched by {why}, {}; {}; keeps {kept}; no welcome{outside}", made(d), changes.join(", "))
}

fn row(plan: Verdict, employee_id: &str, user_name: &str, detail: &str) -> ImportRow {
    ImportRow {
        plan,
        employee_id: employee_id.into(),
        user_name: user_name.into(),
        outcome: "planned".into(),
        detail: detail.into(),
    }
}

/// The line number in `file:line`, for roster order.
fn line_of(at: &str) -> usize {
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

/// Applies the plan's creates (the hire's flow) and adoptions ([`pipeline::adopt`]), people side
/// by side as `run` does (one lane per employee, user-name base and user), and writes each
/// person's outcome into their row: the event's for those applied, `unchanged` for `managed`,
/// `skipped` for `ambiguous` and `refused`.
pub async fn apply(ctx: &Ctx, plan: &mut [Planned], progress: &dyn Fn(usize, usize)) {
    /// One person to apply, owned, so the rows can take the outcomes afterwards.
    struct Work {
        row: usize,
        verdict: Verdict,
        event: Value,
        user: String,
        lanes: Vec<String>,
    }
    let work: Vec<Work> = plan
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.row.plan, Verdict::Create | Verdict::Adopt))
        .filter_map(|(row, p)| {
            let person = p.person.as_ref()?;
            let user = p.row.user_name.clone();
            let lanes = vec![
                format!("employee:{}", p.row.employee_id),
                format!("name:{}", person.intent.base_name),
                format!("user:{}", user.to_lowercase()),
            ];
            Some(Work { row, verdict: p.row.plan, event: person.event.clone(), user, lanes })
        })
        .collect();
    let keys: Vec<Vec<String>> = work.iter().map(|w| w.lanes.clone()).collect();
    let work = &work;
    let one = |i: usize| async move {
        let w = &work[i];
        match w.verdict {
            Verdict::Adopt => Box::pin(pipeline::adopt(ctx, &w.event, &w.user)).await,
            _ => Box::pin(pipeline::process(ctx, &w.event)).await,
        }
    };
    let reports = lanes::run(lanes::lanes(&keys), ctx.concurrency, one, progress).await;
    for (w, r) in work.iter().zip(reports) {
        let row = &mut plan[w.row].row;
        row.outcome = r.outcome.as_str().to_owned();
        row.user_name = r.user_name.unwrap_or(std::mem::take(&mut row.user_name));
        if let Some(e) = r.error {
            row.detail = e;
        }
    }
    for p in plan.iter_mut() {
        match p.row.plan {
            Verdict::Managed => p.row.outcome = "unchanged".into(),
            Verdict::Ambiguous | Verdict::Refused => p.row.outcome = "skipped".into(),
            Verdict::Create | Verdict::Adopt => {}
        }
    }
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

#[cfg(test)]
mod tests {
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
