//! Ending a leaver's access (the permission sets' deny list, provisioned; every membership) and,
//! after the grace period, deleting their user.

use std::collections::BTreeMap;

use super::{MEMBERSHIP_ARN, USER_ARN, managed, record_label, user_id, write_lifecycle};
use crate::audit::Outcome;
use crate::aws::iam::User;
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::person::UserRef;
use crate::tags::{self, EMPLOYEE_ID};
use crate::trail::Trail;

/// Deletes a disabled leaver's Identity Store user after the grace period: every membership it
/// still has, the tombstone (before the user: a crash in between leaves both, and the retry
/// deletes), the user, then the person's record. A user gone already (an earlier attempt) is
/// no error; one renamed since is a conflict, and nothing is deleted.
pub(crate) async fn delete(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &User,
) -> Result<(), Error> {
    let subject = UserRef::of(user);
    let uid = user_id(&subject)?;
    let store = &t.instance.identity_store_id;
    let employee_id = user
        .tags
        .get(EMPLOYEE_ID)
        .ok_or_else(|| Error::Untrusted(format!("user `{}` carries no employee id", user.name)))?;
    // The deny entry is read from this record: it must outlive every session the person may hold.
    let revoked = user.tags.get(tags::ACCESS_REVOKED).and_then(|t| crate::lifecycle::parse_stamp(t));
    let safe = revoked.map(|at| at + chrono::TimeDelta::hours(t.session_window_hours));
    if let Some(safe) = safe.filter(|safe| ctx.now() < *safe) {
        return Err(Error::Conflict(format!(
            "`{}` is deleted no earlier than {}: its entry in the permission sets' deny list must outlive every \
             session it may hold ({} hours after its access ended); a sweep after that deletes it",
            user.name,
            crate::lifecycle::stamp(safe),
            t.session_window_hours
        )));
    }
    if let Some(found) = t.ic.user(store, uid).await? {
        if found.user_name != user.name {
            return Err(Error::Conflict(format!(
                "user {uid} is named `{}`, but the people record of `{employee_id}` says `{}`: renamed outside this \
                 system, so it is not deleted; look before anything else",
                found.user_name, user.name
            )));
        }
        for (membership, _) in t.ic.memberships_of(store, uid).await? {
            let target = format!("{MEMBERSHIP_ARN}{membership}");
            trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, &membership)).await?;
        }
    }
    crate::person::tombstone::leave(ctx, trail, user).await?;
    trail.apply("identitystore:DeleteUser", &user.arn, t.ic.delete_user(store, uid)).await?;
    let gone = ctx.aws.people.delete(&t.people_table, employee_id, uid);
    trail.apply("dynamodb:DeleteItem", &record_label(t, employee_id), gone).await?;
    tracing::info!(user = %user.name, "deleted");
    Ok(())
}

/// Ends every way in for a leaver's Identity Store user; returns when (the `access-revoked` time,
/// kept from an earlier attempt). The record says so first, so a concurrent departure's writer
/// includes this person; then the leaver's user id is denied everything in every permission set
/// this system manages, and those are provisioned again, which ends the sessions the person
/// already holds ([`end_sessions`]); then every membership the user has is ended, in groups this
/// system does not own too (the user is this system's). Sessions from permission sets this system
/// does not manage last until they expire.
pub(crate) async fn revoke(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &User,
) -> Result<chrono::DateTime<chrono::Utc>, Error> {
    use crate::lifecycle;
    use crate::tags::ACCESS_REVOKED;
    let subject = UserRef::of(user);
    let uid = user_id(&subject)?;
    let ended = match user.tags.get(ACCESS_REVOKED).and_then(|t| lifecycle::parse_stamp(t)) {
        Some(at) => at,
        None => {
            let at = ctx.now();
            let set = BTreeMap::from([(ACCESS_REVOKED.to_owned(), lifecycle::stamp(at))]);
            write_lifecycle(ctx, t, trail, &subject, tags::change(&user.tags, &set, &[])).await?;
            at
        }
    };
    end_sessions(ctx, t, trail, Some(uid)).await?;
    let store = &t.instance.identity_store_id;
    for (membership, _) in t.ic.memberships_of(store, uid).await? {
        let target = format!("{MEMBERSHIP_ARN}{membership}");
        trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, &membership)).await?;
    }
    Ok(ended)
}

/// Writes the leavers whose sessions may still live (access revoked within the longest session a
/// permission set can give, 12 hours, as the people records say, plus `leaver`) into the inline
/// policy of every permission set this system manages (`policies::permission_set_revocations`),
/// and provisions each to its accounts: a leaver's sessions end at their next request. With a
/// leaver, every permission set is provisioned even when its policy was already written (an
/// earlier attempt may have failed before provisioning). The sweep calls it with none, which drops
/// those whose sessions have all expired, so the policy stays under its size limit.
///
/// No lock: concurrent departures each write the whole list from the records and read it back
/// until it is what the records say (the last writer to check puts in everyone before it).
pub(crate) async fn end_sessions(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    leaver: Option<&str>,
) -> Result<(), Error> {
    use crate::audit::{AuditRecord, Ids};
    use crate::aws::identity_center::Polled;
    use crate::policies;
    let instance = &t.instance.arn;
    let managed_sets: Vec<_> =
        t.ic.permission_sets(instance)
            .await?
            .into_iter()
            .filter(|p| p.description.as_deref() == Some(tags::INSTALLED_BY))
            .collect();
    const WRITES: u32 = 5;
    let mut provisioned = std::collections::BTreeSet::new();
    for attempt in 0..=WRITES {
        let people = managed(ctx, t).await?;
        let ids = people.iter().filter_map(|u| Some((u.arn.strip_prefix(USER_ARN)?, &u.tags)));
        let mut denied = crate::lifecycle::recent_revocations(ids, ctx.now(), t.session_window_hours);
        denied.splice(0..0, leaver);
        let (document, dropped) = policies::permission_set_revocations(denied);
        let wanted = document.as_ref().map(policies::users_denied).unwrap_or_default();
        let mut differing = Vec::new();
        for ps in &managed_sets {
            let current = t.ic.inline_policy(instance, &ps.arn).await?;
            let current = current.and_then(|c| serde_json::from_str(&c).ok());
            if current.as_ref().map(policies::users_denied).unwrap_or_default() != wanted {
                differing.push(ps);
            }
        }
        let unprovisioned = leaver.is_some() && provisioned.len() < managed_sets.len();
        if differing.is_empty() && !unprovisioned {
            return Ok(());
        }
        if attempt == WRITES {
            break;
        }
        if !dropped.is_empty() {
            let why = format!(
                "{} leaver(s) do not fit the permission sets' inline policy (10,240 characters); their sessions \
                 run until they expire: {}",
                dropped.len(),
                dropped.join(", ")
            );
            tracing::error!(%why, "Identity Center sessions not ended");
            ctx.audit(&AuditRecord::alert(&Ids::default(), trail.step().name(), &why, chrono::Utc::now())).await?;
        }
        let text = document.as_ref().map(|d| d.to_string());
        let who = leaver.unwrap_or("of recent leavers");
        for ps in &managed_sets {
            let target = format!("{} (identitystore:userId {who})", ps.arn);
            let differs = differing.iter().any(|d| d.arn == ps.arn);
            if differs {
                let write = t.ic.set_inline_policy(instance, &ps.arn, text.as_deref());
                trail.apply("sso:PutInlinePolicyToPermissionSet", &target, write).await?;
            } else if attempt == 0 {
                trail.record("sso:PutInlinePolicyToPermissionSet", &target, Outcome::AlreadyDone).await?;
            }
            // A written policy reaches the accounts only once provisioned; a leaver's is provisioned
            // even when an earlier attempt wrote it.
            if !differs && (leaver.is_none() || provisioned.contains(&ps.arn)) {
                continue;
            }
            if ctx.dry_run {
                trail.record("sso:ProvisionPermissionSet", &ps.arn, Outcome::WouldDo).await?;
            } else {
                let started = t.ic.provision(instance, &ps.arn).await?;
                t.ic.settled(instance, started, Polled::Provisioning).await?;
                trail.record("sso:ProvisionPermissionSet", &ps.arn, Outcome::Done).await?;
            }
            provisioned.insert(ps.arn.clone());
        }
        if ctx.dry_run {
            return Ok(());
        }
        if attempt >= 1 {
            tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt))).await;
        }
    }
    Err(Error::Conflict(format!(
        "the permission sets' revocations still differ from the people records after {WRITES} writes: another \
         writer keeps changing them; the next departure or sweep writes them again"
    )))
}
