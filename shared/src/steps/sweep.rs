//! `sweep`: finds the managed users with something due (a pre-hire's activation, a leaver's
//! disable, a disabled leaver's deletion) and does it. In AWS it runs on a schedule; locally,
//! `onboarding sweep [--now RFC3339]`. Due dates live on the users' tags: no other database.
//!
//! The mass-departure guard applies to the disables of one sweep: over the threshold, none is
//! done, an alert goes to the audit topic, and the sweep reports them `quarantined`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::identity::{self, is_managed, is_protected};
use super::notify::welcome;
use super::offboard::{delete, disable};
use super::store_password::provision;
use super::{Ctx, Person, Step, Trail, UserRef};
use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::aws::iam::User;
use crate::error::Error;
use crate::lifecycle::{self, Due, Status};
use crate::tags::{ACTIVATE_AT, EMPLOYEE_ID, STATUS};

/// What one sweep did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    pub now: String,
    /// Managed users looked at.
    pub managed: usize,
    /// Set when the guard stopped this sweep's disables.
    pub quarantined: Option<String>,
    pub items: Vec<SweepItem>,
}

impl SweepReport {
    pub fn failed(&self) -> bool {
        self.items.iter().any(|i| i.outcome == SweepOutcome::Failed)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SweepOutcome {
    Succeeded,
    /// Dry run: it would be done.
    WouldChange,
    /// Held back by the mass-departure guard.
    Quarantined,
    /// Protected by the config: never disabled or deleted.
    Protected,
    Failed,
}

impl SweepOutcome {
    pub const fn as_str(self) -> &'static str {
        match self {
            SweepOutcome::Succeeded => "succeeded",
            SweepOutcome::WouldChange => "would-change",
            SweepOutcome::Quarantined => "quarantined",
            SweepOutcome::Protected => "protected",
            SweepOutcome::Failed => "failed",
        }
    }
}

/// One due action and how it ended.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SweepItem {
    pub user_name: String,
    pub employee_id: Option<String>,
    pub due: Due,
    pub outcome: SweepOutcome,
    /// `active`, `disabled`, `deleted` or `quarantined` after the sweep.
    pub status: String,
    pub actions: Vec<Action>,
    pub error: Option<String>,
    pub error_type: Option<String>,
}

/// Every managed user with its tags (ListUsers carries none: one GetUser each).
async fn managed_users(ctx: &Ctx) -> Result<Vec<User>, Error> {
    let mut users = Vec::new();
    for listed in ctx.aws.iam.list_users(&ctx.cfg.iam.user_path).await? {
        if let Some(u) = ctx.aws.iam.get_user(&listed.name).await?.filter(|u| is_managed(ctx.owner(), u)) {
            users.push(u);
        }
    }
    Ok(users)
}

pub async fn run(ctx: &Ctx) -> Result<SweepReport, Error> {
    let now = ctx.now();
    let users = managed_users(ctx).await?;
    let due: Vec<(User, Due)> = users.iter().filter_map(|u| Some((u.clone(), lifecycle::due(&u.tags, now)?))).collect();
    let disables = due.iter().filter(|(u, d)| *d == Due::Disable && !is_protected(&ctx.cfg, u)).count();
    let quarantined = lifecycle::guard(disables, users.len(), &ctx.cfg.lifecycle, ctx.allow_mass_offboarding);
    if let Some(reason) = &quarantined {
        tracing::warn!(disables, managed = users.len(), reason = %reason, "mass-departure guard: no user disabled");
        let ids = Ids { event_id: Some(format!("sweep-{}", lifecycle::stamp(now))), ..Ids::default() };
        ctx.audit(&AuditRecord::alert(&ids, "sweep", reason, Utc::now())).await?;
    }
    let mut items = Vec::with_capacity(due.len());
    for (user, d) in due {
        items.push(one(ctx, &user, d, now, quarantined.is_some()).await);
    }
    Ok(SweepReport { now: lifecycle::stamp(now), managed: users.len(), quarantined, items })
}

async fn one(ctx: &Ctx, user: &User, due: Due, now: DateTime<Utc>, quarantined: bool) -> SweepItem {
    let employee_id = user.tags.get(EMPLOYEE_ID).cloned();
    let ids = Ids {
        event_id: Some(format!("sweep-{}-{}", due.as_str(), lifecycle::stamp(now))),
        employee_id: employee_id.clone(),
        detail_type: Some("Sweep".into()),
    };
    let mut item = SweepItem {
        user_name: user.name.clone(),
        employee_id,
        due,
        outcome: SweepOutcome::Succeeded,
        status: identity::status(user).as_str().into(),
        actions: Vec::new(),
        error: None,
        error_type: None,
    };
    if due != Due::Activate && is_protected(&ctx.cfg, user) {
        item.outcome = SweepOutcome::Protected;
        return item;
    }
    if due == Due::Disable && quarantined {
        item.outcome = SweepOutcome::Quarantined;
        item.status = "quarantined".into();
        return item;
    }
    let mut trail = Trail::with_ids(ctx, ids.clone(), Step::Sweep);
    let result = match due {
        Due::Activate => activate(ctx, &mut trail, user, now).await,
        Due::Disable => disable(ctx, &mut trail, user, None, None).await,
        Due::Delete => delete(ctx, &mut trail, user).await,
    };
    item.actions = std::mem::take(&mut trail.actions);
    let changed = item.actions.iter().any(|a| a.outcome == Outcome::Done);
    let error = result.as_ref().err().map(|e| (e.error_type(), e.to_string()));
    match &error {
        Some((t, e)) => {
            tracing::warn!(user = %user.name, due = due.as_str(), error_type = t, error = %e, "sweep action failed");
            item.outcome = SweepOutcome::Failed;
            item.error_type = Some((*t).to_owned());
            item.error = Some(e.clone());
        }
        None if ctx.dry_run => item.outcome = SweepOutcome::WouldChange,
        None => {
            item.status = match due {
                Due::Activate => Status::Active.as_str().into(),
                Due::Disable => Status::Disabled.as_str().into(),
                Due::Delete => "deleted".into(),
            }
        }
    }
    let record = AuditRecord::terminal(&ids, "sweep", due.as_str(), Some(user.arn.clone()), changed, error, Utc::now());
    if let Err(e) = ctx.audit(&record).await {
        tracing::error!(error = %e, "could not publish the sweep's terminal record");
        item.outcome = SweepOutcome::Failed;
        item.error = Some(e.to_string());
    }
    item
}

/// A pre-hire's day has come: initial credentials, the welcome, then `active`.
async fn activate(ctx: &Ctx, trail: &mut Trail<'_>, user: &User, now: DateTime<Utc>) -> Result<(), Error> {
    let at = user.tags.get(ACTIVATE_AT).cloned().unwrap_or_else(|| lifecycle::stamp(now));
    let seed = format!("activate-{}-{at}", user.tags.get(EMPLOYEE_ID).map(String::as_str).unwrap_or("-"));
    let person = Person::from_tags(&user.tags, seed).ok_or_else(|| {
        Error::Conflict(format!(
            "`{}` lacks the tags its welcome needs (email, given-name, employee-id); resend its hire event",
            user.name
        ))
    })?;
    let target = UserRef { name: &user.name, arn: &user.arn, exists: true };
    let stored = provision(ctx, trail, &person, &target).await?;
    welcome(ctx, trail, &person, &target, &user.tags, Some(&stored)).await?;
    if !trail.dry_run() {
        let tags = BTreeMap::from([(STATUS.to_owned(), Status::Active.as_str().to_owned())]);
        ctx.aws.iam.tag_user(&user.name, &tags).await?;
        ctx.aws.iam.untag_user(&user.name, &[ACTIVATE_AT.to_owned()]).await?;
    }
    trail.record("iam:TagUser", &user.arn, trail.change()).await?;
    Ok(())
}
