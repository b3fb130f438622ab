//! Ending a person's access (after the mass-departure guard, [`super::guard`], admitted it): the disable ([`disable`]: every way in, then the status), leavers' role sessions
//! ([`end_role_sessions`]), and the deletion after the grace period ([`delete`]). The `offboard`
//! step, the sweep and an operator's quarantine release all end access through here.
//!
//! Disable removes every way in and keeps the user: login profile deleted; access keys, SSH keys
//! and signing certificates deactivated; every group left; the initial-credential secrets
//! scheduled for deletion; the manager told. Delete removes everything AWS requires before
//! `DeleteUser`, including what the person or an admin added.
//!
//! Never acts on a user without the managed marker or on the config's protect list.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::UserRef;
use super::membership;
use super::notices::{Message, publish};
use super::ownership::{self, is_protected};
use super::tagging::write_tags;
use crate::audit::{AuditRecord, Ids, Outcome};
use crate::aws::iam::{CredentialKind, User};
use crate::context::Ctx;
use crate::error::Error;
use crate::lifecycle::{self, Status};
use crate::policies::{self, FUNCTIONS_AND_FLOWS_PREFIX};
use crate::tags::{
    ACCESS_REVOKED, ACTIVATE_AT, DELETE_AT, DISABLE_AT, DISABLE_HELD, DISABLED_AT, LAST_EVENT_TIME, MANAGER_EMAIL,
    NOTICE_SENT, STATUS, WELCOME_SENT,
};
use crate::trail::Trail;

/// Ends every way in, then keeps the user for the grace period; returns when access ended.
///
/// The first change is the `access-revoked` tag, on which the permissions boundary denies the
/// user everything, whatever credential or session they hold (console sessions and
/// `GetSessionToken` credentials issued earlier included). Then every credential goes: login
/// profile deleted; access keys, SSH keys, signing certificates and service-specific credentials
/// deactivated; every group left; the initial-credential secrets scheduled for deletion. The
/// audit records wait until all of that was tried (a failing audit topic never stops a
/// revocation half-way), then go out; one that cannot is logged and fails the step. The status
/// tag is written last: a crash before it leaves the user `active`, and the retry does the rest.
pub(crate) async fn disable(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &User,
    event_time: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> Result<DateTime<Utc>, Error> {
    trail.hold();
    #[cfg(feature = "identity-center")]
    let revoked = match &ctx.identity_center {
        Some(t) => super::identity_center::revoke(ctx, t, trail, user).await,
        None => revoke(ctx, trail, user).await,
    };
    #[cfg(not(feature = "identity-center"))]
    let revoked = revoke(ctx, trail, user).await;
    let released = trail.release().await;
    let ended = revoked?;
    released?;
    finish_disable(ctx, trail, user, ended, event_time, reason).await?;
    Ok(ended)
}

/// Every way in, ended; returns when (the `access-revoked` time, kept from an earlier attempt).
async fn revoke(ctx: &Ctx, trail: &mut Trail<'_>, user: &User) -> Result<DateTime<Utc>, Error> {
    let iam = &ctx.aws.iam;
    let name = user.name.as_str();
    let ended = match user.tags.get(ACCESS_REVOKED).and_then(|t| lifecycle::parse_stamp(t)) {
        Some(at) => {
            trail.record("iam:TagUser", &format!("{} ({ACCESS_REVOKED})", user.arn), Outcome::AlreadyDone).await?;
            at
        }
        None => {
            let at = ctx.now();
            let tag = BTreeMap::from([(ACCESS_REVOKED.to_owned(), lifecycle::stamp(at))]);
            trail.apply("iam:TagUser", &format!("{} ({ACCESS_REVOKED})", user.arn), iam.tag_user(name, &tag)).await?;
            at
        }
    };
    if iam.has_login_profile(name).await? {
        trail.apply("iam:DeleteLoginProfile", &user.arn, iam.delete_login_profile(name)).await?;
    }
    for kind in credential_kinds(ctx) {
        for c in iam.credentials(name, kind).await?.into_iter().filter(|c| c.active) {
            let target = format!("{}/{}/{} (Inactive)", user.arn, kind.segment(), c.id);
            trail.apply(kind.update_action(), &target, iam.set_credential_active(name, kind, &c.id, false)).await?;
        }
    }
    membership::leave_all(ctx, trail, name).await?;
    schedule_secret_deletion(ctx, trail, name).await?;
    end_role_sessions(ctx, trail, Some(name)).await?;
    Ok(ended)
}

/// Ends leavers' role sessions: writes into the roles' boundary
/// ([`policies::role_sessions_boundary`], `iam.role_sessions_boundary`) every user whose access
/// was revoked within the longest role session, as IAM shows them (their `access-revoked` tags),
/// plus `leaver` (whose tag IAM may not show yet), most recent first.
///
/// No list is kept anywhere but IAM, and no lock: concurrent departures each write the whole
/// list from IAM and read it back until it is what IAM says (the last writer to check puts in
/// everyone tagged before it). The sweep calls it with no leaver each run, which puts back a
/// name that eventual consistency lost and drops those whose sessions have all expired.
/// Nothing to do when the config names no such boundary.
pub(crate) async fn end_role_sessions(ctx: &Ctx, trail: &mut Trail<'_>, leaver: Option<&str>) -> Result<(), Error> {
    let Some(arn) = &ctx.targets.role_sessions_boundary_arn else { return Ok(()) };
    let iam = &ctx.aws.iam;
    let target = format!("{arn} (aws:SourceIdentity {})", leaver.unwrap_or("of recent leavers"));
    const WRITES: u32 = 5;
    for attempt in 0..=WRITES {
        if attempt >= 2 {
            // The read-back differed: another writer, or IAM not settled yet. Wait, then again.
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt - 1))).await;
        }
        let users = iam.users_with_tags(&ctx.cfg.iam.user_path).await?;
        let ours = users.iter().filter(|u| ownership::departs_as_ours(ctx.owner(), u));
        let mut names = lifecycle::recent_revocations(
            ours.map(|u| (u.name.as_str(), &u.tags)),
            ctx.now(),
            lifecycle::MAX_ROLE_SESSION_HOURS,
        );
        names.splice(0..0, leaver);
        let (document, dropped) = policies::role_sessions_boundary(names);
        let (_, current) = iam.policy_document(arn).await?;
        if policies::leavers_denied(&current) == policies::leavers_denied(&document) {
            if attempt == 0 && leaver.is_some() {
                trail.record("iam:CreatePolicyVersion", &target, Outcome::AlreadyDone).await?;
            }
            return Ok(());
        }
        if attempt == WRITES {
            break;
        }
        if !dropped.is_empty() {
            let why = format!(
                "{} leaver(s) do not fit the role sessions boundary {arn} (IAM's 6,144 characters); their role \
                 sessions run until they expire: {}",
                dropped.len(),
                dropped.join(", ")
            );
            tracing::error!(%why, "role sessions not ended");
            ctx.audit(&AuditRecord::alert(&Ids::default(), trail.step().name(), &why, Utc::now())).await?;
        }
        trail
            .apply("iam:CreatePolicyVersion", &target, iam.replace_policy_document(arn, &document.to_string()))
            .await?;
        if ctx.dry_run {
            return Ok(());
        }
    }
    Err(Error::Conflict(format!(
        "the role sessions boundary {arn} still differs from the leavers IAM shows after {WRITES} writes: \
         another writer keeps changing it; the next sweep writes it again"
    )))
}

/// After the revocation: the manager told, the status and due dates written.
async fn finish_disable(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    user: &User,
    ended: DateTime<Utc>,
    event_time: Option<DateTime<Utc>>,
    reason: Option<&str>,
) -> Result<(), Error> {
    let name = user.name.as_str();
    let tags = &user.tags;
    if let Some(manager) = tags.get(MANAGER_EMAIL) {
        let who = tags.get(crate::tags::DISPLAY_NAME).unwrap_or(&user.name);
        let why = reason.map(|r| format!(" Reason given by HR: {r}.")).unwrap_or_default();
        let message = Message {
            recipient: manager.clone(),
            kind: "access-ended",
            subject: "AWS access ended for a member of your team".into(),
            body: format!(
                "Hello,\n\nThe AWS access of {who} (user `{name}`) ended on {}.{why} The user is disabled and \
                 will be deleted after {} days; anything they own must be handed over before then.\n",
                lifecycle::stamp(ended),
                ctx.cfg.lifecycle.grace_days
            ),
        };
        let employee = tags.get(crate::tags::EMPLOYEE_ID).map(String::as_str).unwrap_or("-");
        publish(ctx, trail, employee, std::slice::from_ref(&message)).await?;
    }

    let disabled_at = tags.get(DISABLED_AT).and_then(|t| lifecycle::parse_stamp(t)).unwrap_or(ended);
    let mut set = BTreeMap::from([
        (STATUS.to_owned(), Status::Disabled.as_str().to_owned()),
        (DISABLED_AT.to_owned(), lifecycle::stamp(disabled_at)),
        (DELETE_AT.to_owned(), lifecycle::stamp(lifecycle::delete_time(disabled_at, &ctx.cfg.lifecycle))),
    ]);
    if let Some(t) = event_time {
        set.insert(LAST_EVENT_TIME.to_owned(), lifecycle::stamp(t));
    }
    let remove = [ACTIVATE_AT, DISABLE_AT, WELCOME_SENT, NOTICE_SENT, DISABLE_HELD];
    write_tags(ctx, trail, &UserRef::of(user), &set, &remove).await?;
    if ctx.cfg.lifecycle.schedule_target.is_some()
        && let Some(employee) = tags.get(crate::tags::EMPLOYEE_ID)
    {
        // Done: a schedule still waiting (the disable came from HR or the sweep) is not needed.
        let schedule = schedule_name(employee);
        if !ctx.dry_run && ctx.aws.scheduler.delete(&schedule).await? {
            trail.record("scheduler:DeleteSchedule", &schedule, Outcome::Done).await?;
        }
    }
    tracing::info!(user = %name, "disabled");
    Ok(())
}

/// The initial-credential secrets go too; they stay restorable for the recovery window (a rehire
/// restores them).
async fn schedule_secret_deletion(ctx: &Ctx, trail: &mut Trail<'_>, user: &str) -> Result<(), Error> {
    for name in [ctx.cfg.password_secret_name(user), ctx.cfg.access_key_secret_name(user)] {
        if let Some(s) = ctx.aws.secrets.describe(&name).await?.filter(|s| !s.deleted) {
            let days = ctx.cfg.lifecycle.grace_days.into();
            trail.apply("secretsmanager:DeleteSecret", &s.arn, ctx.aws.secrets.schedule_deletion(&s.arn, days)).await?;
        }
    }
    Ok(())
}

/// Deletes the user and everything AWS requires gone first, in AWS's order: login profile,
/// access keys, signing certificates, SSH keys, service-specific credentials, MFA devices
/// (deactivated, then deleted when virtual), inline policies, attached managed policies, group
/// memberships, then the user. Each removal is audited.
pub(crate) async fn delete(ctx: &Ctx, trail: &mut Trail<'_>, user: &User) -> Result<(), Error> {
    if is_protected(&ctx.cfg, user) || !ownership::is_managed(ctx.owner(), user) {
        return Err(Error::Conflict(format!("`{}` is protected or not managed: never deleted", user.name)));
    }
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::delete(ctx, t, trail, user).await;
    }
    let iam = &ctx.aws.iam;
    let name = user.name.as_str();
    if iam.has_login_profile(name).await? {
        trail.apply("iam:DeleteLoginProfile", &user.arn, iam.delete_login_profile(name)).await?;
    }
    for kind in credential_kinds(ctx) {
        for c in iam.credentials(name, kind).await? {
            let target = format!("{}/{}/{}", user.arn, kind.segment(), c.id);
            trail.apply(kind.delete_action(), &target, iam.delete_credential(name, kind, &c.id)).await?;
        }
    }
    for serial in iam.mfa_devices(name).await? {
        trail.apply("iam:DeactivateMFADevice", &serial, iam.deactivate_mfa_device(name, &serial)).await?;
        // Hardware and FIDO devices belong to the company's stock; virtual ones die with the user.
        if serial.contains(":mfa/") {
            trail.apply("iam:DeleteVirtualMFADevice", &serial, iam.delete_virtual_mfa_device(&serial)).await?;
        }
    }
    for p in iam.inline_policies(name).await? {
        trail
            .apply("iam:DeleteUserPolicy", &format!("{}/policy/{p}", user.arn), iam.delete_user_policy(name, &p))
            .await?;
    }
    for arn in iam.attached_policies(name).await? {
        trail.apply("iam:DetachUserPolicy", &arn, iam.detach_user_policy(name, &arn)).await?;
    }
    for g in iam.groups_for_user(name).await? {
        trail.apply("iam:RemoveUserFromGroup", &format!("group/{g}"), iam.remove_user_from_group(name, &g)).await?;
    }
    schedule_secret_deletion(ctx, trail, name).await?;
    // The tombstone before the user: a crash in between leaves both, and the retry deletes.
    super::tombstone::leave(ctx, trail, user).await?;
    trail.apply("iam:DeleteUser", &user.arn, iam.delete_user(name)).await?;
    tracing::info!(user = %name, "deleted");
    Ok(())
}

/// The leavers' sessions, brought up to date by the sweep with no new leaver: a name lost to a
/// race goes back, those whose sessions have all expired go (IAM: the role sessions boundary;
/// Identity Center: the managed permission sets' deny list).
pub(crate) async fn end_leavers_sessions(ctx: &Ctx, trail: &mut Trail<'_>) -> Result<(), Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::end_sessions(ctx, t, trail, None).await;
    }
    end_role_sessions(ctx, trail, None).await
}

/// The name of an employee's one-time disable schedule (at most 64 characters, as the
/// scheduler allows).
pub fn schedule_name(employee_id: &str) -> String {
    let name = format!("{FUNCTIONS_AND_FLOWS_PREFIX}disable-{employee_id}");
    if name.len() <= 64 {
        return name;
    }
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(employee_id.as_bytes()));
    format!("{FUNCTIONS_AND_FLOWS_PREFIX}disable-{}", &digest[..40])
}

/// The kinds of credential to end, in AWS's delete order (without service-specific credentials
/// where the configuration says the API is missing, as in the emulator).
fn credential_kinds(ctx: &Ctx) -> impl Iterator<Item = CredentialKind> {
    let skip = ctx.skip_service_specific_credentials();
    CredentialKind::ALL.into_iter().filter(move |k| !(skip && *k == CredentialKind::ServiceSpecific))
}

/// Ends one grant an access review revoked, through the same audited calls a departure makes
/// (group left, console password removed, access key deactivated, policy detached or deleted),
/// then reads the user back and returns what it shows: the revocation's proof. A user that no
/// longer exists has no access left to end. Never acts on a protected or unmanaged user.
#[cfg(feature = "review")]
pub(crate) async fn revoke_grant(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    (employee_id, user_name): (&str, &str),
    grant: crate::review::Grant,
    target: &str,
) -> Result<String, Error> {
    use crate::review::Grant;
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return match grant {
            Grant::Group => super::identity_center::revoke_group(ctx, t, trail, employee_id, target).await,
            other => Err(Error::Conflict(format!("{}: not a grant Identity Center has", other.as_str()))),
        };
    }
    let _ = employee_id;
    let iam = &ctx.aws.iam;
    let Some(user) = iam.get_user(user_name).await? else {
        return Ok(format!("iam:GetUser({user_name}): no such user (access already ended)"));
    };
    if is_protected(&ctx.cfg, &user) || !ownership::is_managed(ctx.owner(), &user) {
        return Err(Error::Conflict(format!("`{user_name}` is protected or not managed: its access is not changed")));
    }
    let name = user.name.as_str();
    let kind = CredentialKind::AccessKey;
    match grant {
        Grant::Group => {
            trail
                .apply("iam:RemoveUserFromGroup", &format!("group/{target}"), iam.remove_user_from_group(name, target))
                .await?;
            let groups = iam.groups_for_user(name).await?;
            if groups.iter().any(|g| g == target) {
                return Err(Error::Conflict(format!("`{name}` is still in group {target} after its removal")));
            }
            Ok(format!("iam:ListGroupsForUser({name}): not a member of {target}; groups now [{}]", groups.join(", ")))
        }
        Grant::Console => {
            if iam.has_login_profile(name).await? {
                trail.apply("iam:DeleteLoginProfile", &user.arn, iam.delete_login_profile(name)).await?;
            } else {
                trail.record("iam:DeleteLoginProfile", &user.arn, Outcome::AlreadyDone).await?;
            }
            match iam.has_login_profile(name).await? {
                true => Err(Error::Conflict(format!("`{name}` still has a console password after its removal"))),
                false => Ok(format!("iam:GetLoginProfile({name}): no console password")),
            }
        }
        Grant::AccessKey => {
            let at = format!("{}/{}/{target}", user.arn, kind.segment());
            match iam.access_keys(name).await?.into_iter().find(|c| c.id == target) {
                Some(c) if c.active => {
                    trail.apply(kind.update_action(), &at, iam.set_credential_active(name, kind, target, false)).await?
                }
                _ => trail.record(kind.update_action(), &at, Outcome::AlreadyDone).await?,
            }
            match iam.access_keys(name).await?.into_iter().find(|c| c.id == target) {
                Some(c) if c.active => Err(Error::Conflict(format!("access key {target} of `{name}` is still active"))),
                Some(_) => Ok(format!("iam:ListAccessKeys({name}): {target} Inactive")),
                None => Ok(format!("iam:ListAccessKeys({name}): {target} no longer exists")),
            }
        }
        Grant::Policy => {
            trail.apply("iam:DetachUserPolicy", target, iam.detach_user_policy(name, target)).await?;
            match iam.attached_policies(name).await?.iter().any(|p| p == target) {
                true => Err(Error::Conflict(format!("{target} is still attached to `{name}`"))),
                false => Ok(format!("iam:ListAttachedUserPolicies({name}): {target} not attached")),
            }
        }
        Grant::InlinePolicy => {
            let at = format!("{}/policy/{target}", user.arn);
            trail.apply("iam:DeleteUserPolicy", &at, iam.delete_user_policy(name, target)).await?;
            match iam.inline_policies(name).await?.iter().any(|p| p == target) {
                true => Err(Error::Conflict(format!("inline policy {target} is still on `{name}`"))),
                false => Ok(format!("iam:ListUserPolicies({name}): no {target}")),
            }
        }
    }
}
