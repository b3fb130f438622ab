//! `sweep`: finds the managed users with something due (a pre-hire's activation, a leaver's
//! disable, a disabled leaver's deletion) and does it. In AWS it runs on a schedule; locally,
//! `onboarding sweep [--now RFC3339]`. Due dates live on the users' tags: no other database.
//!
//! The mass-departure guard applies to the disables of one sweep: over the threshold, none is
//! done, an alert goes to the audit topic, and the sweep reports them `quarantined`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::aws::iam::User;
use crate::aws::secrets::ListedSecret;
use crate::context::Ctx;
use crate::error::Error;
use crate::flow::Step;
use crate::lifecycle::{self, Due, Status};
use crate::person::access::{delete, disable, end_leavers_sessions};
use crate::person::credentials::{ACCESS_KEY_ID_TAG, Issue, USER_NAME_TAG, provision};
use crate::person::guard::{self, admit, hold};
use crate::person::membership;
use crate::person::notices::welcome;
use crate::person::notices::{Message, publish};
use crate::person::ownership::{self, is_managed, is_protected};
use crate::person::tagging::write_tags;
use crate::person::{Person, UserRef};
use crate::tags::{
    ACCESS_KEY_DELIVERED, ACTIVATE_AT, CREDENTIALS_EXPIRED, DISABLE_AT, DISABLE_HELD, DISPLAY_NAME, EMPLOYEE_ID,
    MANAGED_BY, MANAGED_BY_VALUE, MANAGER_EMAIL, STATUS, WELCOME_SENT,
};
use crate::trail::Trail;

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
    /// Set when the role sessions boundary could not be brought up to date.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_sessions_error: Option<String>,
}

impl SweepReport {
    pub fn failed(&self) -> bool {
        self.role_sessions_error.is_some() || self.items.iter().any(|i| i.outcome == SweepOutcome::Failed)
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

/// Every managed user with its tags and when its password was last used, in two paginated
/// reads whatever the number of users (not one `GetUser` each): `GetAccountAuthorizationDetails`
/// carries tags and boundaries, `ListUsers` the password's last use. A user in only one of the
/// two (created or deleted between them) waits for the next sweep.
async fn managed_users(ctx: &Ctx) -> Result<Vec<User>, Error> {
    #[cfg(feature = "identity-center")]
    if ctx.identity_center.is_some() {
        return ownership::managed(ctx).await;
    }
    let path = &ctx.cfg.iam.user_path;
    let used: std::collections::HashMap<String, Option<DateTime<Utc>>> =
        ctx.aws.iam.list_users(path).await?.into_iter().map(|u| (u.name, u.password_last_used)).collect();
    let mut users = Vec::new();
    for mut u in ctx.aws.iam.users_with_tags(path).await? {
        let Some(last_used) = used.get(&u.name) else { continue };
        u.password_last_used = *last_used;
        // One whose boundary someone changed is kept for its disable only (see `run`).
        if ownership::departs_as_ours(ctx.owner(), &u) {
            users.push(u);
        }
    }
    Ok(users)
}

pub async fn run(ctx: &Ctx) -> Result<SweepReport, Error> {
    ctx.serves(crate::context::Work::Sweep)?;
    // Due dates are compared with the due instant; what is done is stamped with the clock.
    let now = ctx.due_now();
    let users = managed_users(ctx).await?;
    // A user whose boundary someone changed is not ours to activate, delete or issue to; its
    // access still ends on its last day (`ownership::boundary_tampered`).
    let due: Vec<(User, Due)> = users
        .iter()
        .filter_map(|u| Some((u.clone(), lifecycle::due(&u.tags, now)?)))
        .filter(|(u, d)| *d == Due::Disable || ownership::boundary_tampered(ctx.owner(), u).is_none())
        .collect();
    let disables = due.iter().filter(|(u, d)| *d == Due::Disable && !is_protected(&ctx.cfg, u)).count();
    let ids = Ids { event_id: Some(format!("sweep-{}", lifecycle::stamp(now))), ..Ids::default() };
    let quarantined = guard::batch_verdict(ctx, &ids, "sweep", disables, users.len()).await;
    let held = due.iter().filter(|(u, d)| *d == Due::Disable && u.tags.contains_key(DISABLE_HELD)).count();
    if held > 0 && !guard::overridden(ctx) {
        // Re-alerted every sweep until an operator decides (`onboarding quarantine`).
        let reason = format!("{held} departure(s) held by the mass-departure guard await an operator");
        tracing::warn!(held, "mass-departure guard: departures still held");
        guard::alert(ctx, &ids, "sweep", &reason).await.ok();
    }
    // Each due user is a lane of its own, up to `ctx.concurrency` at once, except the disables:
    // one lane, so the guard across runs (`admit`) counts each before the next.
    let each = |n: usize| (0..n).map(|i| vec![i]).collect::<Vec<_>>();
    let disables: Vec<usize> = (0..due.len()).filter(|&i| due[i].1 == Due::Disable).collect();
    let mut lanes: Vec<Vec<usize>> = (0..due.len()).filter(|i| !disables.contains(i)).map(|i| vec![i]).collect();
    if !disables.is_empty() {
        lanes.insert(0, disables);
    }
    let held = quarantined.is_some();
    let one_due = |i: usize| {
        let (user, d) = &due[i];
        Box::pin(one(ctx, user, *d, now, held))
    };
    let mut items = crate::lanes::run(lanes, ctx.concurrency, one_due, &|_, _| {}).await;
    let credentials = credentials_due(ctx, &users, now).await?;
    let finish = |i: usize| {
        let (user, secret, d) = &credentials[i];
        Box::pin(finish_credential(ctx, user, secret, *d, now))
    };
    items.extend(crate::lanes::run(each(credentials.len()), ctx.concurrency, finish, &|_, _| {}).await);
    // The leavers' sessions, from the target again: a name lost to a race goes back, expired
    // ones go.
    let mut trail = Trail::with_ids(ctx, ids, Step::Sweep);
    let role_sessions_error = end_leavers_sessions(ctx, &mut trail).await.err().map(|e| {
        tracing::error!(error = %e, "leavers' sessions (role sessions boundary, or the permission sets' deny list) not brought up to date");
        e.to_string()
    });
    Ok(SweepReport { now: lifecycle::stamp(now), managed: users.len(), quarantined, items, role_sessions_error })
}

/// Initial-credential secrets whose credential was used (retire the secret) or stayed unused
/// past the TTL (withdraw it). One `ListSecrets` per hundred secrets finds them; only people
/// still onboarding have any. Users that are not active (pending, disabled) are left to the
/// lifecycle: their secrets wait, or went at the disable.
async fn credentials_due(
    ctx: &Ctx,
    users: &[User],
    now: DateTime<Utc>,
) -> Result<Vec<(User, ListedSecret, Due)>, Error> {
    #[cfg(feature = "identity-center")]
    if ctx.identity_center.is_some() {
        // No initial credential is made there: nothing to retire or withdraw.
        return Ok(Vec::new());
    }
    let prefix = format!("{}/", ctx.cfg.secrets.prefix);
    let mut out = Vec::new();
    for secret in ctx.aws.secrets.list(&prefix).await? {
        let Some(owner) = secret.tags.get(USER_NAME_TAG) else { continue };
        let Some(user) = users.iter().find(|u| &u.name == owner && is_managed(ctx.owner(), u)) else { continue };
        let ours = secret.tags.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && secret.tags.get(EMPLOYEE_ID) == user.tags.get(EMPLOYEE_ID);
        let (Some(issued), true, Status::Active) = (secret.issued, ours, ownership::status(user)) else { continue };
        let used = if secret.name == ctx.cfg.password_secret_name(&user.name) {
            user.password_last_used
        } else if secret.name == ctx.cfg.access_key_secret_name(&user.name) {
            match secret.tags.get(ACCESS_KEY_ID_TAG) {
                Some(id) => ctx.aws.iam.access_key_last_used(id).await?,
                None => continue,
            }
        } else {
            continue;
        };
        if let Some(d) = lifecycle::credential_due(issued, used, now, ctx.cfg.secrets.initial_ttl_days) {
            out.push((user.clone(), secret, d));
        }
    }
    Ok(out)
}

/// Retires or withdraws one initial credential, audited, with its terminal record.
async fn finish_credential(ctx: &Ctx, user: &User, secret: &ListedSecret, due: Due, now: DateTime<Utc>) -> SweepItem {
    let ids = sweep_ids(user, due, now);
    let mut trail = Trail::with_ids(ctx, ids.clone(), Step::Sweep);
    let result = credential(ctx, &mut trail, user, secret, due).await.map(|()| None);
    finish(ctx, user, due, ids, trail.actions, result, Status::Active.as_str()).await
}

async fn credential(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &User,
    secret: &ListedSecret,
    due: Due,
) -> Result<(), Error> {
    let iam = &ctx.aws.iam;
    let console = secret.name == ctx.cfg.password_secret_name(&user.name);
    if console && due == Due::ExpireCredential && iam.has_login_profile(&user.name).await? {
        // Never used: the password is withdrawn, so nobody can sign in with it any more.
        trail.apply("iam:DeleteLoginProfile", &user.arn, iam.delete_login_profile(&user.name)).await?;
    }
    trail.apply("secretsmanager:DeleteSecret", &secret.arn, ctx.aws.secrets.schedule_deletion(&secret.arn, 7)).await?;
    let marker = match (console, due) {
        (true, Due::ExpireCredential) => Some((CREDENTIALS_EXPIRED, lifecycle::stamp(ctx.now()))),
        (false, _) => secret.tags.get(ACCESS_KEY_ID_TAG).map(|id| (ACCESS_KEY_DELIVERED, id.clone())),
        _ => None,
    };
    let person = UserRef::of(user);
    if let Some((key, value)) = marker {
        // The marker first: it is what a re-issue (`Employee Changed`) looks for.
        write_tags(ctx, trail, &person, &BTreeMap::from([(key.to_owned(), value)]), &[]).await?;
    }
    if console && due == Due::ExpireCredential {
        // A re-issue welcomes the person again.
        write_tags(ctx, trail, &person, &BTreeMap::new(), &[WELCOME_SENT]).await?;
        if let Some(manager) = user.tags.get(MANAGER_EMAIL) {
            let who = user.tags.get(DISPLAY_NAME).unwrap_or(&user.name);
            let message = Message {
                recipient: manager.clone(),
                kind: "credentials-expired",
                subject: "An unused AWS initial password was withdrawn".into(),
                body: format!(
                    "Hello,\n\nThe initial AWS password of {who} (user `{}`) was not used within {} days and has \
                     been withdrawn. HR's next change for them (or an operator) issues a new one.\n",
                    user.name, ctx.cfg.secrets.initial_ttl_days
                ),
            };
            let employee = user.tags.get(EMPLOYEE_ID).map(String::as_str).unwrap_or("-");
            publish(ctx, trail, employee, std::slice::from_ref(&message)).await?;
        }
    }
    Ok(())
}

/// The ids of a sweep action's audit records.
fn sweep_ids(user: &User, due: Due, now: DateTime<Utc>) -> Ids {
    Ids {
        event_id: Some(format!("sweep-{}-{}", due.as_str(), lifecycle::stamp(now))),
        employee_id: user.tags.get(EMPLOYEE_ID).cloned(),
        detail_type: Some("Sweep".into()),
    }
}

async fn one(ctx: &Ctx, user: &User, due: Due, now: DateTime<Utc>, quarantined: bool) -> SweepItem {
    let ids = sweep_ids(user, due, now);
    let held = |outcome: SweepOutcome, status: &str| SweepItem {
        user_name: user.name.clone(),
        employee_id: ids.employee_id.clone(),
        due,
        outcome,
        status: status.into(),
        actions: Vec::new(),
        error: None,
        error_type: None,
    };
    if due != Due::Activate && is_protected(&ctx.cfg, user) {
        return held(SweepOutcome::Protected, ownership::status(user).as_str());
    }
    if due == Due::Disable && quarantined {
        return held(SweepOutcome::Quarantined, "quarantined");
    }
    let mut trail = Trail::with_ids(ctx, ids.clone(), Step::Sweep);
    if due == Due::Disable {
        // The guard across executions (and a hold an operator has not decided yet).
        let verdict = match admit(ctx, user).await {
            Ok(Some(reason)) => {
                let new = !user.tags.contains_key(DISABLE_HELD);
                hold(ctx, &mut trail, &ids, user, None, &reason, new).await.map(|()| true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e),
        };
        match verdict {
            Ok(true) => return SweepItem { actions: trail.actions, ..held(SweepOutcome::Quarantined, "quarantined") },
            Ok(false) => {}
            Err(e) => return finish(ctx, user, due, ids, trail.actions, Err(e), "").await,
        }
    }
    let none = |r: Result<(), Error>| r.map(|()| None);
    let (result, after) = match due {
        Due::Activate => (none(Box::pin(activate(ctx, &mut trail, user, now)).await), Status::Active.as_str()),
        Due::Disable => {
            if let Some(why) = ownership::boundary_tampered(ctx.owner(), user) {
                tracing::error!(user = %user.name, why, "disabling a user whose permissions boundary was changed");
                ctx.alert(&AuditRecord::boundary_tampered(&ids, "sweep", &user.arn, &why, Utc::now())).await.ok();
            }
            (Box::pin(disable(ctx, &mut trail, user, None, None)).await.map(Some), Status::Disabled.as_str())
        }
        Due::Delete => (none(Box::pin(delete(ctx, &mut trail, user)).await), "deleted"),
        Due::RetireCredential | Due::ExpireCredential => {
            (Err(Error::Input("a credential is finished by `finish_credential`".into())), "")
        }
    };
    finish(ctx, user, due, ids, trail.actions, result, after).await
}

/// The item for a due action that ran, and its terminal audit record. `after` is the status
/// the user is in when it succeeded; `result` says when access ended, for a disable.
async fn finish(
    ctx: &Ctx,
    user: &User,
    due: Due,
    ids: Ids,
    actions: Vec<Action>,
    result: Result<Option<DateTime<Utc>>, Error>,
    after: &str,
) -> SweepItem {
    let ended = result.as_ref().ok().copied().flatten();
    let result = result.map(|_| ());
    let changed = actions.iter().any(|a| a.outcome == Outcome::Done);
    let error = result.as_ref().err().map(|e| (e.error_type(), e.to_string()));
    let mut item = SweepItem {
        user_name: user.name.clone(),
        employee_id: ids.employee_id.clone(),
        due,
        outcome: SweepOutcome::Succeeded,
        status: ownership::status(user).as_str().into(),
        actions,
        error: None,
        error_type: None,
    };
    match &error {
        Some((t, e)) => {
            tracing::warn!(user = %user.name, due = due.as_str(), error_type = t, error = %e, "sweep action failed");
            item.outcome = SweepOutcome::Failed;
            item.error_type = Some((*t).to_owned());
            item.error = Some(e.clone());
        }
        None if ctx.dry_run => item.outcome = SweepOutcome::WouldChange,
        None => item.status = after.into(),
    }
    let record = AuditRecord::terminal(&ids, "sweep", due.as_str(), Some(user.arn.clone()), changed, error, Utc::now())
        .access_ended(ended)
        .access_due(if due == Due::Disable { user.tags.get(DISABLE_AT).cloned() } else { None });
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
    let target = UserRef::of(user);
    membership::on_activation(ctx, trail, &target).await?;
    let stored = provision(ctx, trail, &person, &target, Issue::Initial).await?;
    welcome(ctx, trail, &person, &target, Some(&stored)).await?;
    // The status, then the removal of `activate-at`: that date is what brings a crashed
    // activation back to the next sweep.
    let active = BTreeMap::from([(STATUS.to_owned(), Status::Active.as_str().to_owned())]);
    write_tags(ctx, trail, &target, &active, &[]).await?;
    write_tags(ctx, trail, &target, &BTreeMap::new(), &[ACTIVATE_AT]).await?;
    Ok(())
}
