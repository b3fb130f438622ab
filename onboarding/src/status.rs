//! `onboarding status EMPLOYEE_ID...`: what this system knows of a person now, and why, read
//! from the account (nothing is changed): their user or why there is none, status and due
//! dates, whether a departure is held or scheduled, each group and the rule that gave it,
//! console access and access keys with their last use, the initial credentials still waiting;
//! and, when a trail is read, their last events with what became of each.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use shared::Error;
use shared::audit::AuditRecord;
use shared::aws::iam::User;
use shared::lifecycle::stamp;
use shared::mapping::Attributes;
use shared::person::access::schedule_name;
use shared::person::ownership;
use shared::steps::Ctx;
use shared::tags::{self, DEPARTMENT, DISABLE_HELD, LOCATION, TITLE};

use crate::audit::reports::Trail;

/// One person's state.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonStatus {
    pub employee_id: String,
    /// Why there is no user, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// `pending`, `active` or `disabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Why this system would not act on the user (someone changed what makes it this system's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_ours: Option<String>,
    /// The lifecycle's dates on the user (start, last day, activation, disable, deletion, ...).
    pub dates: BTreeMap<String, String>,
    /// Since when the mass-departure guard holds the departure for an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_since: Option<String>,
    pub groups: Vec<GroupStatus>,
    pub console: Option<Console>,
    pub access_keys: Vec<AccessKey>,
    pub initial_credentials: Vec<InitialCredential>,
    /// When the departure's one-time schedule fires (EventBridge Scheduler), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub departure_scheduled_at: Option<String>,
    /// The person's last events in the trail (oldest first), when a trail was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_events: Option<Vec<TrailEvent>>,
}

/// One event's end, from its terminal audit record.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailEvent {
    pub timestamp: String,
    pub detail_type: String,
    pub event_id: String,
    /// `succeeded`, `unchanged`, `ignored`, `failed`, ...
    pub outcome: String,
    /// Why (an ignored event's reason, a failure's error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

/// How many of a person's last events `status` shows.
pub const LAST_EVENTS: usize = 5;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupStatus {
    pub group: String,
    /// `always`, the rules that give it, or why the mapping does not.
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Console {
    /// Never signed in: `None`.
    pub password_last_used: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessKey {
    pub id: String,
    pub active: bool,
    pub last_used: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InitialCredential {
    pub secret: String,
    pub issued_at: Option<String>,
    /// When the sweep withdraws it unused (`secrets.initial_ttl_days` after it was issued).
    pub expires_at: Option<String>,
}

/// The lifecycle tags shown as dates, in the order a person meets them.
const DATES: [&str; 9] = [
    tags::START_DATE,
    tags::ACTIVATE_AT,
    tags::LAST_DAY,
    tags::DISABLE_AT,
    tags::ACCESS_REVOKED,
    tags::DISABLED_AT,
    tags::DELETE_AT,
    tags::CREDENTIALS_EXPIRED,
    tags::LAST_EVENT_TIME,
];

/// Each person's state, read from the account, with their last events when `trail` is given.
pub async fn status(ctx: &Ctx, employee_ids: &[String], trail: Option<&Trail>) -> Result<Vec<PersonStatus>, Error> {
    let mut all = Vec::with_capacity(employee_ids.len());
    for id in employee_ids {
        let mut s = one(ctx, id).await?;
        s.last_events = trail.map(|t| last_events(t, id));
        all.push(s);
    }
    Ok(all)
}

/// The person's last [`LAST_EVENTS`] events, from their terminal records, oldest first.
fn last_events(trail: &Trail, employee_id: &str) -> Vec<TrailEvent> {
    let mut ends: Vec<&AuditRecord> =
        trail.records.iter().filter(|r| r.terminal && r.employee_id.as_deref() == Some(employee_id)).collect();
    ends.sort_by(|a, b| a.timestamp.cmp(&b.timestamp));
    let skip = ends.len().saturating_sub(LAST_EVENTS);
    ends.into_iter()
        .skip(skip)
        .map(|r| TrailEvent {
            timestamp: r.timestamp.clone(),
            detail_type: r.detail_type.clone().unwrap_or_default(),
            event_id: r.event_id.clone().unwrap_or_default(),
            outcome: r.outcome.as_str().to_owned(),
            why: r.error.clone().or_else(|| r.reason.clone()),
        })
        .collect()
}

async fn one(ctx: &Ctx, employee_id: &str) -> Result<PersonStatus, Error> {
    let mut s = PersonStatus {
        employee_id: employee_id.to_owned(),
        no_user: None,
        user_name: None,
        user_arn: None,
        status: None,
        not_ours: None,
        dates: BTreeMap::new(),
        held_since: None,
        groups: Vec::new(),
        console: None,
        access_keys: Vec::new(),
        initial_credentials: Vec::new(),
        departure_scheduled_at: None,
        last_events: None,
    };
    let Some(user) = ownership::find(ctx, employee_id).await? else {
        s.no_user = Some(why_no_user(ctx, employee_id).await?);
        return Ok(s);
    };
    let iam = &ctx.aws.iam;
    s.status = Some(ownership::status(&user).as_str().to_owned());
    s.not_ours = ownership::ownership(ctx.owner(), &user).err();
    s.dates = DATES.iter().filter_map(|k| Some(((*k).to_owned(), user.tags.get(*k)?.clone()))).collect();
    s.held_since = user.tags.get(DISABLE_HELD).cloned();
    if let Some(t) = &ctx.identity_center {
        // Identity Center: the groups are the access; no password, key or secret is this
        // system's to show (the person signs in at the portal).
        let store = &t.instance.identity_store_id;
        let user_id = user.arn.strip_prefix(shared::person::identity_center::USER_ARN).unwrap_or_default();
        let names: BTreeMap<String, String> = t.ic.groups(store).await?.into_iter().collect();
        let mut current: Vec<String> =
            t.ic.memberships_of(store, user_id)
                .await?
                .into_iter()
                .filter_map(|(_, g)| names.get(&g).cloned())
                .collect();
        current.sort();
        s.groups = groups(ctx, &user, current);
    } else {
        s.groups = groups(ctx, &user, iam.groups_for_user(&user.name).await?);
        one_iam(ctx, &user, &mut s).await?;
    }
    if ctx.cfg.lifecycle.schedule_role.is_some() {
        s.departure_scheduled_at = ctx.aws.scheduler.fires_at(&schedule_name(employee_id)).await?;
    }
    s.user_name = Some(user.name);
    s.user_arn = Some(user.arn);
    Ok(s)
}

/// What IAM holds for the person besides their groups: console, access keys with their last
/// use, and the initial credentials still stored.
async fn one_iam(ctx: &Ctx, user: &User, s: &mut PersonStatus) -> Result<(), Error> {
    let iam = &ctx.aws.iam;
    if iam.has_login_profile(&user.name).await? {
        s.console = Some(Console { password_last_used: user.password_last_used.map(stamp) });
    }
    for key in iam.access_keys(&user.name).await? {
        let last_used = iam.access_key_last_used(&key.id).await?.map(stamp);
        s.access_keys.push(AccessKey { id: key.id, active: key.active, last_used });
    }
    let ttl = TimeDelta::days(i64::from(ctx.cfg.secrets.initial_ttl_days));
    for secret in ctx.aws.secrets.list(&format!("{}/{}/", ctx.cfg.secrets.prefix, user.name)).await? {
        s.initial_credentials.push(InitialCredential {
            secret: secret.name,
            issued_at: secret.issued.map(stamp),
            expires_at: secret.issued.map(|t: DateTime<Utc>| stamp(t + ttl)),
        });
    }
    Ok(())
}

/// Why an employee has no user: deleted after leaving (the tombstone says when), or never hired
/// by this system.
async fn why_no_user(ctx: &Ctx, employee_id: &str) -> Result<String, Error> {
    let table = &ctx.cfg.lifecycle.tombstones_table;
    Ok(match ctx.aws.tombstones.get(table, employee_id).await? {
        Some(t) => format!(
            "deleted on {} after leaving (user `{}`); a hire newer than {} brings them back",
            stamp(t.deleted_at),
            t.user_name,
            t.last_event_time.map_or_else(|| stamp(t.deleted_at), stamp)
        ),
        None => format!(
            "no user of this system carries employee id `{employee_id}` (under `{}`): never hired here, \
             or deleted before the tombstones' {} days",
            ownership::employee_path(&ctx.cfg, employee_id),
            ctx.cfg.lifecycle.tombstone_days
        ),
    })
}

/// The user's groups, each with why: the mapping's reason for the person's attributes (from
/// the user's tags), or why the mapping does not give it.
fn groups(ctx: &Ctx, user: &User, current: Vec<String>) -> Vec<GroupStatus> {
    let t = &user.tags;
    let attrs = Attributes {
        department: t.get(DEPARTMENT).map(String::as_str).unwrap_or(""),
        title: t.get(TITLE).map(String::as_str),
        location: t.get(LOCATION).map(String::as_str),
    };
    let reasons = ctx.cfg.groups.reasons(attrs);
    current
        .into_iter()
        .map(|group| {
            let why = match reasons.get(&group) {
                Some(r) => r.clone(),
                None if ctx.cfg.groups.allowed.contains(&group) => {
                    "mapped, but no rule gives it to this person now: the next change removes it".into()
                }
                None => "outside groups.allowed: added by someone else, never touched by this system".into(),
            };
            GroupStatus { group, why }
        })
        .collect()
}
