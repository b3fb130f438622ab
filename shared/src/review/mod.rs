//! Access reviews: a campaign freezes every managed person's access as items, one per grant
//! (a group membership, console access, an access key, a policy on the user), each reviewed by the
//! person's manager; decisions come through a page or its JSON API (`drivers::review::api`) authenticated by a
//! signed per-reviewer link ([`token`]); at close the undecided get the campaign's default and
//! every revocation goes through the audited path (`drivers::review`). This module is pure: the
//! model, who reviews what, the population's hash, the revocation guard's arithmetic.

pub mod page;
pub mod token;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ValidationError;

/// A reviewer's verdict on one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Keep,
    Revoke,
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::Keep => "keep",
            Decision::Revoke => "revoke",
        }
    }
}

impl FromStr for Decision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "keep" => Ok(Decision::Keep),
            "revoke" => Ok(Decision::Revoke),
            other => Err(format!("`{}` is not a decision; accepted: keep, revoke", crate::event::clip(other, 32))),
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of access an item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grant {
    /// Membership of a group (IAM, or an Identity Store group): `target` is the group's name.
    Group,
    /// A console password (IAM login profile): `target` is empty.
    Console,
    /// An access key: `target` is its id (an identifier, not a secret).
    AccessKey,
    /// A managed policy attached to the user: `target` is its ARN.
    Policy,
    /// An inline policy on the user: `target` is its name.
    InlinePolicy,
}

impl Grant {
    pub const fn as_str(self) -> &'static str {
        match self {
            Grant::Group => "group",
            Grant::Console => "console",
            Grant::AccessKey => "access-key",
            Grant::Policy => "policy",
            Grant::InlinePolicy => "inline-policy",
        }
    }

    /// How a person reads it on the page.
    pub fn describe(self, target: &str) -> String {
        match self {
            Grant::Group => format!("member of group {target}"),
            Grant::Console => "AWS console sign-in (password)".into(),
            Grant::AccessKey => format!("access key {target}"),
            Grant::Policy => format!("policy {target} attached to the user"),
            Grant::InlinePolicy => format!("inline policy {target} on the user"),
        }
    }
}

/// One grant as the campaign froze it. Never changes after `review start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Frozen {
    /// Stable: the same person, user and grant give the same id ([`item_id`]).
    pub id: String,
    pub employee_id: String,
    pub user_name: String,
    pub display_name: String,
    pub access: Grant,
    pub target: String,
    /// What it grants and how it is used, as read: e.g. the group's policies, the key's last use.
    pub detail: String,
    pub since: Option<String>,
    pub last_used: Option<String>,
    pub reviewer: String,
    /// Why the reviewer is not the person's manager (none on record, or themself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reassigned: Option<String>,
}

/// One item: what was frozen and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    #[serde(flatten)]
    pub frozen: Frozen,
    pub decision: Option<Decision>,
    pub reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    /// Set at close: the decision that stands (the reviewer's, or the campaign's default).
    pub outcome: Option<Decision>,
    /// The outcome is the campaign's default (nobody decided).
    #[serde(default)]
    pub defaulted: bool,
    /// When the revocation was carried out, and what the target showed when read back after it.
    pub revoked_at: Option<String>,
    pub proof: Option<String>,
}

impl Item {
    pub fn new(frozen: Frozen) -> Self {
        Self {
            frozen,
            decision: None,
            reason: None,
            decided_by: None,
            decided_at: None,
            outcome: None,
            defaulted: false,
            revoked_at: None,
            proof: None,
        }
    }
}

/// A campaign's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Reviewers decide.
    Open,
    /// Closed, but its revocations exceeded `max_revoke_percent`: held for an operator.
    Held,
    /// Closed: every outcome set and every revocation carried out.
    Closed,
}

impl Status {
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Held => "held",
            Status::Closed => "closed",
        }
    }
}

/// Where a population came from and its fingerprint, like an audit export's manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Population {
    pub source: String,
    pub extracted_at: String,
    pub filters: BTreeMap<String, String>,
    pub people: usize,
    pub items: usize,
    /// SHA-256 (hex) of [`population_lines`]: the frozen items as JSON Lines, in id order.
    pub sha256: String,
}

/// A campaign's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Campaign {
    pub name: String,
    pub status: Status,
    pub started_at: String,
    pub due: String,
    pub default: Decision,
    pub max_revoke_percent: u32,
    pub population: Population,
    /// When it closed (or was held), and when its revocations were carried out.
    #[serde(default)]
    pub closed_at: Option<String>,
}

/// A campaign name: 1-64 characters of a-z, 0-9 and `-` (it is in URLs and table keys).
pub fn campaign_name(s: &str) -> Result<String, ValidationError> {
    if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Err(ValidationError::new(
            "campaign",
            format!("`{}`: 1-64 characters of a-z, 0-9 and -, e.g. `2026-q4`", crate::event::clip(s, 64)),
        ));
    }
    Ok(s.to_owned())
}

/// The stable id of a grant: the first 16 hex digits of SHA-256 over campaign, employee, user,
/// kind and target. The same access frozen again gets the same id.
pub fn item_id(campaign: &str, employee_id: &str, user_name: &str, access: Grant, target: &str) -> String {
    let h = Sha256::digest(format!("{campaign}\n{employee_id}\n{user_name}\n{}\n{target}", access.as_str()));
    hex::encode(&h[..8])
}

/// One grant as read: `(access, target, detail, since, last used)`.
pub type GrantRead = (Grant, String, String, Option<String>, Option<String>);

/// One person's access as read from the target, before reviewers are assigned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holding {
    pub employee_id: String,
    pub user_name: String,
    pub display_name: String,
    pub email: Option<String>,
    pub manager_email: Option<String>,
    pub grants: Vec<GrantRead>,
}

impl Holding {
    /// A managed user's holding, its person read from what this system keeps on it (tags, or the
    /// people record's lifecycle); `None` without an employee id.
    pub fn of(user_name: &str, tags: &BTreeMap<String, String>, grants: Vec<GrantRead>) -> Option<Self> {
        use crate::tags::{DISPLAY_NAME, EMAIL, EMPLOYEE_ID, MANAGER_EMAIL};
        Some(Self {
            employee_id: tags.get(EMPLOYEE_ID)?.clone(),
            user_name: user_name.to_owned(),
            display_name: tags.get(DISPLAY_NAME).cloned().unwrap_or_else(|| user_name.to_owned()),
            email: tags.get(EMAIL).cloned(),
            manager_email: tags.get(MANAGER_EMAIL).cloned(),
            grants,
        })
    }
}

/// Why a population cannot be frozen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unassignable(pub String);

/// Each grant as an item with its reviewer: the person's manager; the fallback when they have
/// none, or when the manager is the person themself (nobody reviews their own access). Refused
/// when the fallback would review their own access, or is needed and not set. Items in id order.
pub fn freeze(campaign: &str, people: &[Holding], fallback: Option<&str>) -> Result<Vec<Frozen>, Unassignable> {
    let same = |a: &str, b: &str| a.trim().eq_ignore_ascii_case(b.trim());
    let mut items = Vec::new();
    for p in people {
        let own = p.email.as_deref().unwrap_or_default();
        let (reviewer, reassigned) = match p.manager_email.as_deref().filter(|m| !m.trim().is_empty()) {
            Some(m) if !same(m, own) => (m.trim().to_ascii_lowercase(), None),
            manager => {
                let why =
                    if manager.is_some() { "their manager on record is themself" } else { "no manager on record" };
                let Some(f) = fallback else {
                    return Err(Unassignable(format!(
                        "{} ({}) has {why}: set [review] fallback_reviewer to who reviews them",
                        p.employee_id, p.user_name
                    )));
                };
                (f.trim().to_ascii_lowercase(), Some(format!("{why}: the fallback reviewer")))
            }
        };
        if !own.is_empty() && same(&reviewer, own) {
            return Err(Unassignable(format!(
                "{} ({}) would review their own access as the fallback reviewer: set [review] \
                 fallback_reviewer to someone else",
                p.employee_id, p.user_name
            )));
        }
        for (access, target, detail, since, last_used) in &p.grants {
            items.push(Frozen {
                id: item_id(campaign, &p.employee_id, &p.user_name, *access, target),
                employee_id: p.employee_id.clone(),
                user_name: p.user_name.clone(),
                display_name: p.display_name.clone(),
                access: *access,
                target: target.clone(),
                detail: detail.clone(),
                since: since.clone(),
                last_used: last_used.clone(),
                reviewer: reviewer.clone(),
                reassigned: reassigned.clone(),
            });
        }
    }
    items.sort_by(|a, b| a.id.cmp(&b.id));
    items.dedup_by(|a, b| a.id == b.id);
    Ok(items)
}

/// The population as written to the trail and hashed: one JSON object per frozen item, in id
/// order, each line ending in `\n`.
pub fn population_lines(items: &[Frozen]) -> String {
    let mut sorted: Vec<&Frozen> = items.iter().collect();
    sorted.sort_by(|a, b| a.id.cmp(&b.id));
    sorted.iter().map(|f| serde_json::to_string(f).unwrap_or_default() + "\n").collect()
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The outcome of every item at close: the reviewer's decision, else the default.
pub fn outcomes(items: &[Item], default: Decision) -> Vec<(String, Decision, bool)> {
    items
        .iter()
        .map(|i| match i.outcome.or(i.decision) {
            Some(d) => (i.frozen.id.clone(), d, i.outcome.is_some() && i.defaulted),
            None => (i.frozen.id.clone(), default, true),
        })
        .collect()
}

/// The guard's arithmetic: how many people reviewed, how many would lose access, and whether
/// that is more than `max_percent` of them (with more than one person reviewed).
pub fn over_guard(items: &[Item], outcomes: &[(String, Decision, bool)], max_percent: u32) -> (usize, usize, bool) {
    let revoked: BTreeSet<&str> =
        outcomes.iter().filter(|(_, d, _)| *d == Decision::Revoke).map(|(id, ..)| id.as_str()).collect();
    let people: BTreeSet<&str> = items.iter().map(|i| i.frozen.employee_id.as_str()).collect();
    let losing: BTreeSet<&str> = items
        .iter()
        .filter(|i| revoked.contains(i.frozen.id.as_str()))
        .map(|i| i.frozen.employee_id.as_str())
        .collect();
    let over = people.len() > 1 && losing.len() * 100 > people.len() * max_percent as usize;
    (people.len(), losing.len(), over)
}

/// Progress per reviewer: `(reviewer, decided, total)`.
pub fn progress(items: &[Item]) -> Vec<(String, usize, usize)> {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for i in items {
        let e = by.entry(i.frozen.reviewer.as_str()).or_default();
        e.1 += 1;
        if i.decision.is_some() {
            e.0 += 1;
        }
    }
    by.into_iter().map(|(r, (d, t))| (r.to_owned(), d, t)).collect()
}

/// A reviewer's message: the link (with its token) and how many items wait. The token is the
/// reviewer's own; nothing about anyone else's access is in it.
pub fn reviewer_message(
    campaign: &Campaign,
    link: &str,
    undecided: usize,
    total: usize,
    reminder: bool,
) -> (String, String) {
    let subject = if reminder {
        format!("Reminder: access review {}: {undecided} of {total} items still need you", campaign.name)
    } else {
        format!("Access review {}: {total} items need your decision", campaign.name)
    };
    let body = format!(
        "You are asked to review the AWS access of the people you manage (campaign {c}).\n\n\
         Open your review: {link}\n\n\
         For each item choose keep or revoke (a revoke needs a reason). Due {due}; anything undecided \
         then is treated as `{d}`. The link is yours alone: do not forward it.\n",
        c = campaign.name,
        due = campaign.due,
        d = campaign.default,
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holding(id: &str, email: &str, manager: Option<&str>) -> Holding {
        Holding {
            employee_id: id.into(),
            user_name: format!("user-{id}"),
            display_name: format!("Person {id}"),
            email: Some(email.into()),
            manager_email: manager.map(Into::into),
            grants: vec![
                (Grant::Group, "Developers".into(), "".into(), None, None),
                (Grant::Console, String::new(), "".into(), None, None),
            ],
        }
    }

    #[test]
    fn each_grant_goes_to_the_manager_and_nobody_reviews_themself() {
        let people = [
            holding("E1", "ann@example.com", Some("Boss@Example.com")),
            holding("E2", "bob@example.com", None),
            holding("E3", "cat@example.com", Some("cat@example.com")),
        ];
        let items = freeze("q4", &people, Some("sec@example.com")).expect("assigned");
        assert_eq!(items.len(), 6);
        let reviewer =
            |e: &str| items.iter().find(|i| i.employee_id == e).map(|i| (i.reviewer.clone(), i.reassigned.clone()));
        assert_eq!(reviewer("E1"), Some(("boss@example.com".into(), None)));
        assert_eq!(reviewer("E2").map(|r| r.0), Some("sec@example.com".into()));
        let (r, why) = reviewer("E3").expect("E3");
        assert_eq!(r, "sec@example.com");
        assert!(why.is_some_and(|w| w.contains("themself")));
        // Ids are stable and ordered.
        assert_eq!(items, freeze("q4", &people, Some("sec@example.com")).expect("again"));
        assert!(items.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[test]
    fn a_population_that_cannot_be_assigned_is_refused_with_the_fix() {
        let e = freeze("q4", &[holding("E2", "bob@example.com", None)], None).expect_err("no fallback");
        assert!(e.0.contains("E2") && e.0.contains("fallback_reviewer"), "{}", e.0);
        let e = freeze("q4", &[holding("E9", "sec@example.com", None)], Some("SEC@example.com")).expect_err("self");
        assert!(e.0.contains("their own access"), "{}", e.0);
    }

    #[test]
    fn the_population_hash_is_of_the_lines_as_written() {
        let items = freeze("q4", &[holding("E1", "a@example.com", Some("b@example.com"))], None).expect("ok");
        let lines = population_lines(&items);
        assert_eq!(lines.lines().count(), 2);
        assert_eq!(sha256_hex(&lines), hex::encode(Sha256::digest(lines.as_bytes())));
        let back: Vec<Frozen> = lines.lines().map(|l| serde_json::from_str(l).expect("json")).collect();
        assert_eq!(back, items);
    }

    #[test]
    fn the_guard_counts_people_not_items() {
        let people: Vec<Holding> =
            (0..10).map(|n| holding(&format!("E{n}"), &format!("p{n}@example.com"), Some("m@example.com"))).collect();
        let items: Vec<Item> = freeze("q4", &people, None).expect("ok").into_iter().map(Item::new).collect();
        // Both items of one person revoked: 1 of 10 people, 10 %: not over.
        let mut outs = outcomes(&items, Decision::Keep);
        for o in outs.iter_mut().filter(|o| items.iter().any(|i| i.frozen.id == o.0 && i.frozen.employee_id == "E1")) {
            o.1 = Decision::Revoke;
        }
        assert_eq!(over_guard(&items, &outs, 10), (10, 1, false));
        // Default revoke: everyone.
        assert_eq!(over_guard(&items, &outcomes(&items, Decision::Revoke), 10), (10, 10, true));
        assert!(outcomes(&items, Decision::Revoke).iter().all(|o| o.2), "all defaulted");
    }

    #[test]
    fn names_and_decisions_say_what_they_accept() {
        assert!(campaign_name("2026-q4").is_ok());
        assert!(campaign_name("Q4 2026").is_err_and(|e| e.field == "campaign" && e.message.contains("a-z")));
        assert_eq!("revoke".parse::<Decision>(), Ok(Decision::Revoke));
        assert!("drop".parse::<Decision>().is_err_and(|e| e.contains("keep, revoke")));
    }
}
