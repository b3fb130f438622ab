//! What happens to a person when their access lives in IAM Identity Center: the second
//! implementation of the person layer's operations, chosen where each begins
//! (`ctx.identity_center`). The steps do not know which one runs.
//!
//! A person's Identity Store user is acted on as a [`User`] ([`subject`]): its user name, its
//! ARN, and, in place of an IAM user's tags, the lifecycle this system's people record keeps
//! (`aws::people`), so statuses, due dates, staleness and the HR attributes are decided by the
//! same code for both targets. Such a value is made only from a record that names the user and a
//! user that answers to it ([`find`], [`create`]): the record is the proof of ownership.

use std::collections::BTreeMap;

use super::Made;
use super::UserRef;
use crate::audit::Outcome;
use aws_smithy_types::Document;

use crate::aws::iam::User;
use crate::aws::identity_center::{NewUser, StoreUser};
use crate::aws::is_code;
use crate::aws::people::{Origin, PersonRecord};
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::intent::Intent;
use crate::lifecycle::Status;
use crate::tags::{self, EMAIL, EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE, STATUS};
use crate::trail::Trail;
use crate::username::{MAX_VARIANTS, variant};

/// An Identity Store user's ARN, less its id (the service authorization reference's `User`).
pub const USER_ARN: &str = "arn:aws:identitystore:::user/";
const GROUP_ARN: &str = "arn:aws:identitystore:::group/";
const MEMBERSHIP_ARN: &str = "arn:aws:identitystore:::membership/";

/// The person's user as the steps act on it, from the record that proves it.
pub(crate) fn subject(record: &PersonRecord, user_name: &str) -> User {
    let mut tags = record.lifecycle.clone();
    tags.insert(MANAGED_BY.into(), MANAGED_BY_VALUE.into());
    tags.insert(EMPLOYEE_ID.into(), record.employee_id.clone());
    let arn = if record.user_id.is_empty() { String::new() } else { format!("{USER_ARN}{}", record.user_id) };
    User { name: user_name.to_owned(), arn, tags, ..User::default() }
}

/// Every Identity Store user as this system sees it, for the commands that read the whole store
/// (`roster import`, `drift`): a user its people record proves is that record's subject, the
/// same value the flows act on; any other is a bare user with its primary email as `email`,
/// and, when a record names it without proving it (renamed, say), that record's employee id, so
/// it is never another person's candidate. Pure.
pub fn as_seen(records: &[PersonRecord], users: &[StoreUser]) -> Vec<User> {
    let named: BTreeMap<&str, &PersonRecord> =
        records.iter().filter(|r| !r.user_id.is_empty()).map(|r| (r.user_id.as_str(), r)).collect();
    users
        .iter()
        .map(|u| match named.get(u.id.as_str()) {
            Some(r) if proves(r, u).is_ok() => subject(r, &u.user_name),
            named => {
                let mut tags = BTreeMap::new();
                if let Some(email) = &u.email {
                    tags.insert(EMAIL.to_owned(), email.clone());
                }
                if let Some(r) = named {
                    tags.insert(EMPLOYEE_ID.to_owned(), r.employee_id.clone());
                }
                User { name: u.user_name.clone(), arn: format!("{USER_ARN}{}", u.id), tags, ..User::default() }
            }
        })
        .collect()
}

/// Adopts the Identity Store user `user_name` for the intent's person, as an operator decided
/// with `onboarding roster import --apply` (`drivers::adopt`): the people record is written
/// naming it (origin `adopted`, status active), which is all that makes a user this system's
/// here; the user itself is not changed. Refused when there is no such user or another person's
/// record names it (a protected user never reaches here: `drivers::adopt` refuses it). A rerun finds the
/// record and records `already-done`. Returns the adopted user as the flows see it.
pub(crate) async fn adopt(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    intent: &Intent,
    user_name: &str,
) -> Result<User, Error> {
    let meta = &intent.hire.meta;
    let (table, store) = (&t.people_table, &t.instance.identity_store_id);
    let label = record_label(t, &meta.employee_id);
    let Some(id) = t.ic.user_id_named(store, user_name).await? else {
        return Err(Error::Conflict(format!("no Identity Store user `{user_name}` to adopt")));
    };
    if let Some(r) = ctx.aws.people.get(table, &meta.employee_id).await? {
        if r.user_id != id {
            return Err(Error::Conflict(format!(
                "employee `{}` already has a people record naming user `{}`; `{user_name}` is not adopted",
                meta.employee_id, r.user_name
            )));
        }
        trail.record("dynamodb:PutItem", &label, Outcome::AlreadyDone).await?;
        return Ok(subject(&r, user_name));
    }
    if let Some(other) = ctx.aws.people.all(table).await?.into_iter().find(|r| r.user_id == id) {
        return Err(Error::Conflict(format!(
            "`{user_name}` is employee `{}`'s user (their people record names it): not adopted for `{}`",
            other.employee_id, meta.employee_id
        )));
    }
    let record = PersonRecord {
        employee_id: meta.employee_id.clone(),
        user_id: id,
        user_name: user_name.to_owned(),
        since: ctx.now(),
        origin: Origin::Adopted,
        lifecycle: BTreeMap::from([(STATUS.to_owned(), Status::Active.as_str().to_owned())]),
    };
    trail.apply("dynamodb:PutItem", &label, ctx.aws.people.claim(table, &record)).await?;
    Ok(subject(&record, user_name))
}

/// The Identity Store user id in a subject's ARN.
fn user_id<'a>(user: &UserRef<'a>) -> Result<&'a str, Error> {
    user.arn
        .strip_prefix(USER_ARN)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::Untrusted(format!("`{}` is not an Identity Store user's ARN", user.arn)))
}

/// Where the trail says the person's record is.
fn record_label(t: &IdentityCenterTarget, employee_id: &str) -> String {
    format!("{}/{employee_id}", t.people_table)
}

/// Whether an Identity Store user is this system's: the people record of an employee (this
/// system's own, `aws::people`) names it by id, and it still answers to the record's user name.
/// A user anyone can create carries nothing this system could trust, so the record is the proof;
/// a user renamed outside this system is not acted on until an operator looks. `Err`: why not.
pub fn proves(
    record: &crate::aws::people::PersonRecord,
    user: &crate::aws::identity_center::StoreUser,
) -> Result<(), String> {
    if user.id != record.user_id {
        return Err(format!(
            "the people record of `{}` names user {}, not {} (`{}`)",
            record.employee_id, record.user_id, user.id, user.user_name
        ));
    }
    if user.user_name != record.user_name {
        return Err(format!(
            "user {} is named `{}`, but the people record of `{}` says `{}`: renamed outside this system",
            user.id, user.user_name, record.employee_id, record.user_name
        ));
    }
    Ok(())
}

/// The employee's user, proven: their people record names it and it answers to the record's id
/// and name ([`proves`]). `None` when there is no record, or one whose user is
/// still being made (the hire that claimed it resumes). A record whose user is gone or renamed is
/// a conflict for an operator: nothing is done to it.
pub(crate) async fn find(ctx: &Ctx, t: &IdentityCenterTarget, employee_id: &str) -> Result<Option<User>, Error> {
    let Some(record) = ctx.aws.people.get(&t.people_table, employee_id).await? else { return Ok(None) };
    if record.user_id.is_empty() {
        return Ok(None);
    }
    let Some(found) = t.ic.user(&t.instance.identity_store_id, &record.user_id).await? else {
        return Err(Error::Conflict(format!(
            "the people record of `{employee_id}` names user {} (`{}`), which the identity store no longer has: \
             deleted outside this system; look before sending its events again",
            record.user_id, record.user_name
        )));
    };
    proves(&record, &found).map_err(Error::Conflict)?;
    Ok(Some(subject(&record, &found.user_name)))
}

/// Makes the hire's Identity Store user at the first free name (`base`, `base2`, ...), the
/// people record first: the record is claimed (conditionally, once per employee) with the name
/// and the lifecycle before the user is made, then bound to the user's id. A delivery that finds
/// the record claimed but unbound (a concurrent one, or a crash between the two writes) goes on
/// with its name; a user of that name that is not the one this system makes for the person (its
/// display name and email differ) moves the claim to the next free name. A name held by someone
/// else is skipped, never touched. No password or secret is made: the person sets theirs at the
/// portal.
pub(crate) async fn create(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    intent: &Intent,
) -> Result<Made, Error> {
    let meta = &intent.hire.meta;
    let (table, store) = (&t.people_table, &t.instance.identity_store_id);
    let lifecycle = super::hire_tags(&ctx.cfg.lifecycle, ctx.due_now(), intent, &BTreeMap::new());
    let hire = &intent.hire;
    let display = format!("{} {}", hire.first_name(), hire.family_name);
    let label = record_label(t, &meta.employee_id);
    // The record claimed before the user is made: no user id yet.
    let pending = |name: &str| PersonRecord {
        employee_id: meta.employee_id.clone(),
        user_id: String::new(),
        user_name: name.to_owned(),
        since: ctx.now(),
        origin: Origin::Created,
        lifecycle: lifecycle.clone(),
    };
    // Whether the name was found free just now: then the user is made without looking again.
    let mut free = false;
    let mut name = match ctx.aws.people.get(table, &meta.employee_id).await? {
        Some(r) if r.user_id.is_empty() => r.user_name,
        Some(_) => return found_now(ctx, t, &meta.employee_id).await,
        None => {
            let name = free_name(t, intent, 1).await?;
            let record = pending(&name);
            if trail.dry_run() {
                trail.record("identitystore:CreateUser", &name, Outcome::WouldDo).await?;
                return Ok(Made::Would(subject(&record, &name)));
            }
            if ctx.aws.people.claim(table, &record).await? {
                trail.record("dynamodb:PutItem", &label, Outcome::Done).await?;
                free = true;
                name
            } else {
                // Another delivery of the hire claimed it first: go on with its name.
                match ctx.aws.people.get(table, &meta.employee_id).await? {
                    Some(r) if r.user_id.is_empty() => r.user_name,
                    _ => return found_now(ctx, t, &meta.employee_id).await,
                }
            }
        }
    };
    if trail.dry_run() {
        // Claimed by a delivery that has not made the user yet: this run would make it.
        trail.record("identitystore:CreateUser", &name, Outcome::WouldDo).await?;
        return Ok(Made::Would(subject(&pending(&name), &name)));
    }
    for _ in 0..MAX_VARIANTS {
        let new = NewUser {
            user_name: &name,
            display_name: &display,
            given_name: hire.first_name(),
            family_name: &hire.family_name,
            email: &hire.email,
            title: hire.title.as_deref(),
        };
        let found = if std::mem::take(&mut free) { None } else { t.ic.user_id_named(store, &name).await? };
        let made = match found {
            Some(id) => Some((id, false)),
            None => match t.ic.create_user(store, &new).await {
                Ok(id) => Some((id, true)),
                // Made between our look and our create: look again below.
                Err(e) if is_code(&e, "ConflictException") => {
                    t.ic.user_id_named(store, &name).await?.map(|id| (id, false))
                }
                Err(e) => return Err(e),
            },
        };
        let Some((id, now)) = made else { continue };
        let arn = format!("{USER_ARN}{id}");
        if now {
            tracing::info!(user = %name, id = %id, "created Identity Store user");
        } else if !is_as_made(t, &id, &new).await? {
            // Someone else's user took the claimed name: the claim moves on, nothing is touched.
            let next = free_name(t, intent, variant_number(&intent.base_name, &name) + 1).await?;
            tracing::info!(candidate = %name, next = %next, "user name taken, moving the claim to the next variant");
            ctx.aws.people.rename_pending(table, &meta.employee_id, &name, &next).await?;
            (name, free) = (next, true);
            continue;
        }
        let outcome = if now { Outcome::Done } else { Outcome::AlreadyDone };
        trail.record("identitystore:CreateUser", &arn, outcome).await?;
        ctx.aws.people.bind(table, &meta.employee_id, &id).await?;
        trail.record("dynamodb:UpdateItem", &label, Outcome::Done).await?;
        let user = subject(&PersonRecord { user_id: id, ..pending(&name) }, &name);
        return Ok(if now { Made::Created(user) } else { Made::Found(user) });
    }
    Err(no_free_name(intent))
}

/// The person's user, made by another delivery that bound it since we looked.
async fn found_now(ctx: &Ctx, t: &IdentityCenterTarget, employee_id: &str) -> Result<Made, Error> {
    match find(ctx, t, employee_id).await? {
        Some(u) => Ok(Made::Found(u)),
        None => Err(Error::Conflict(format!(
            "the people record of `{employee_id}` changed while its user was being made; send the hire again"
        ))),
    }
}

/// Whether the user is the one this system makes for the person: same display name and email.
async fn is_as_made(t: &IdentityCenterTarget, id: &str, new: &NewUser<'_>) -> Result<bool, Error> {
    let Some(u) = t.ic.user(&t.instance.identity_store_id, id).await? else { return Ok(false) };
    Ok(u.display_name.as_deref() == Some(new.display_name)
        && u.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(new.email)))
}

/// The first variant of the hire's base name, from the `from`th, that no user holds.
async fn free_name(t: &IdentityCenterTarget, intent: &Intent, from: u32) -> Result<String, Error> {
    for n in from..=MAX_VARIANTS {
        let name = variant(&intent.base_name, n);
        match t.ic.user_id_named(&t.instance.identity_store_id, &name).await? {
            Some(_) => tracing::info!(candidate = %name, "user name taken, trying the next variant"),
            None => return Ok(name),
        }
    }
    Err(no_free_name(intent))
}

/// Which variant of `base` a name is (1 for `base` itself).
fn variant_number(base: &str, name: &str) -> u32 {
    (1..=MAX_VARIANTS).find(|&n| variant(base, n) == name).unwrap_or(MAX_VARIANTS)
}

fn no_free_name(intent: &Intent) -> Error {
    Error::Conflict(format!(
        "no free user name: `{}` and its variants up to `{}` all belong to someone else",
        intent.base_name,
        variant(&intent.base_name, MAX_VARIANTS)
    ))
}

/// Puts the user in every group of `wanted` and out of the mapped groups (`groups.allowed`) not
/// in it; returns the groups it left. Every wanted group must exist before the first change.
/// Memberships in groups outside the mapping are never touched.
pub(crate) async fn regroup(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    wanted: &[String],
) -> Result<Vec<String>, Error> {
    if waits_for_activation(ctx, user.tags) {
        // The groups are the access: a pre-hire joins them at activation (`on_activation`).
        tracing::info!(user = %user.name, "pre-hire: groups wait for the activation");
        return Ok(Vec::new());
    }
    let store = &t.instance.identity_store_id;
    let mut ids = Vec::with_capacity(wanted.len());
    for g in wanted {
        ids.push(t.group_id(g).await?);
    }
    if !user.exists {
        for id in &ids {
            trail.record("identitystore:CreateGroupMembership", &format!("{GROUP_ARN}{id}"), Outcome::WouldDo).await?;
        }
        return Ok(Vec::new());
    }
    let uid = user_id(user)?;
    // A user this delivery made is in no group yet.
    let current = if user.made_here { Vec::new() } else { t.ic.memberships_of(store, uid).await? };
    for id in &ids {
        let target = format!("{GROUP_ARN}{id}");
        if current.iter().any(|(_, g)| g == id) {
            trail.record("identitystore:CreateGroupMembership", &target, Outcome::AlreadyDone).await?;
        } else {
            let join = async {
                let joined = t.ic.join(store, id, uid).await;
                if joined.as_ref().is_err_and(|e| is_code(e, "ResourceNotFoundException")) {
                    // The group went since its id was read: the retry reads it again.
                    t.forget_group_ids();
                }
                joined
            };
            trail.apply("identitystore:CreateGroupMembership", &target, join).await?;
            tracing::info!(user = %user.name, group = %target, "joined group");
        }
    }
    let mut stale = Vec::new();
    let foreign: Vec<_> = current.iter().filter(|(_, g)| !ids.contains(g)).collect();
    if foreign.is_empty() {
        return Ok(stale);
    }
    let names: BTreeMap<String, String> = t.ic.groups(store).await?.into_iter().collect();
    for (membership, group) in foreign {
        let Some(name) = names.get(group).filter(|n| ctx.cfg.groups.allowed.contains(n)) else { continue };
        let target = format!("{MEMBERSHIP_ARN}{membership}");
        trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, membership)).await?;
        tracing::info!(user = %user.name, group = %name, "left group that no longer applies");
        stale.push(name.clone());
    }
    Ok(stale)
}

/// Ends one group membership an access review revoked (the departure's call), then reads the
/// user's memberships back: the proof. A person without a user has no access left to end.
#[cfg(feature = "review")]
pub(crate) async fn revoke_group(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    employee_id: &str,
    group: &str,
) -> Result<String, Error> {
    let Some(user) = find(ctx, t, employee_id).await? else {
        return Ok(format!("no Identity Store user of {employee_id} (access already ended)"));
    };
    if super::ownership::is_protected(&ctx.cfg, &user) {
        return Err(Error::Conflict(format!("`{}` is protected: its access is not changed", user.name)));
    }
    let uid = user.arn.strip_prefix(USER_ARN).filter(|u| !u.is_empty()).ok_or_else(|| {
        Error::Conflict(format!("{employee_id}: the people record names no user yet; run close again"))
    })?;
    let store = &t.instance.identity_store_id;
    let gid = t.group_id(group).await?;
    match t.ic.memberships_of(store, uid).await?.into_iter().find(|(_, g)| *g == gid) {
        Some((m, _)) => {
            let target = format!("{MEMBERSHIP_ARN}{m}");
            trail.apply("identitystore:DeleteGroupMembership", &target, t.ic.leave(store, &m)).await?;
        }
        None => {
            let target = format!("{GROUP_ARN}{gid}");
            trail.record("identitystore:DeleteGroupMembership", &target, Outcome::AlreadyDone).await?;
        }
    }
    let after = t.ic.memberships_of(store, uid).await?;
    if after.iter().any(|(_, g)| *g == gid) {
        return Err(Error::Conflict(format!("`{}` is still in group {group} after its removal", user.name)));
    }
    Ok(format!(
        "identitystore:ListGroupMembershipsForMember({}): not a member of {group}; {} membership(s) left",
        user.name,
        after.len()
    ))
}

/// A pre-hire whose activation time has not come.
fn waits_for_activation(ctx: &Ctx, lifecycle: &BTreeMap<String, String>) -> bool {
    let at = lifecycle.get(tags::ACTIVATE_AT).and_then(|t| crate::lifecycle::parse_stamp(t));
    lifecycle.get(STATUS).map(String::as_str) == Some(Status::Pending.as_str())
        && at.is_some_and(|at| ctx.due_now() < at)
}

/// Deletes a disabled leaver's Identity Store user after the grace period: every membership it
/// still has, the tombstone (before the user: a crash in between leaves both, and the retry
/// deletes), the user, then the person's record. A user gone already (an earlier attempt) is
/// no error; one renamed since is a conflict, and nothing is deleted.
#[cfg(feature = "secrets")]
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
    super::tombstone::leave(ctx, trail, user).await?;
    trail.apply("identitystore:DeleteUser", &user.arn, t.ic.delete_user(store, uid)).await?;
    let gone = ctx.aws.people.delete(&t.people_table, employee_id, uid);
    trail.apply("dynamodb:DeleteItem", &record_label(t, employee_id), gone).await?;
    tracing::info!(user = %user.name, "deleted");
    Ok(())
}

/// What of a lifecycle change the Identity Store user itself holds, as `UpdateUser` attribute
/// operations: the title, the display and given names, the work email (primary).
pub(crate) fn store_attributes(set: &BTreeMap<String, String>) -> Vec<(&'static str, Document)> {
    let text = |v: &String| Document::String(v.clone());
    let mut changes = Vec::new();
    if let Some(v) = set.get(tags::TITLE) {
        changes.push(("title", text(v)));
    }
    if let Some(v) = set.get(tags::DISPLAY_NAME) {
        changes.push(("displayName", text(v)));
    }
    if let Some(v) = set.get(tags::GIVEN_NAME) {
        changes.push(("name.givenName", text(v)));
    }
    if let Some(v) = set.get(tags::EMAIL) {
        let email = [("value", text(v)), ("type", Document::String("work".into())), ("primary", Document::Bool(true))];
        let email = email.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        changes.push(("emails", Document::Array(vec![Document::Object(email)])));
    }
    changes
}

/// Writes a lifecycle change to the person's record: one conditional update, so the order of
/// sets and removals an IAM user's 50-tag limit asks for does not arise. What of it the Identity
/// Store user holds (title, names, email) is written to the user first: a crash in between
/// leaves the record behind, and the retry, computing the difference again, writes both.
pub(crate) async fn write_lifecycle(
    ctx: &Ctx,
    t: &IdentityCenterTarget,
    trail: &mut Trail<'_>,
    user: &UserRef<'_>,
    diff: tags::TagDiff,
) -> Result<Outcome, Error> {
    let employee_id = user
        .tags
        .get(EMPLOYEE_ID)
        .ok_or_else(|| Error::Untrusted(format!("user `{}` carries no employee id", user.name)))?;
    let attributes = store_attributes(&diff.set);
    if !attributes.is_empty() && user.exists && !t.skip_user_updates(&ctx.aws) {
        let update = t.ic.update_user(&t.instance.identity_store_id, user_id(user)?, &attributes);
        trail.apply("identitystore:UpdateUser", user.arn, update).await?;
    }
    let remove: Vec<&str> = diff.remove.iter().map(String::as_str).collect();
    let write = ctx.aws.people.set_lifecycle(&t.people_table, employee_id, &diff.set, &remove);
    trail.apply("dynamodb:UpdateItem", &record_label(t, employee_id), write).await?;
    // A rehire: the revocation mark is gone from the record, so the permission sets stop denying
    // the person now, not when their entry would have expired.
    #[cfg(feature = "secrets")]
    if remove.contains(&tags::ACCESS_REVOKED) {
        end_sessions(ctx, t, trail, None).await?;
    }
    Ok(trail.change())
}

/// The people this system manages, as the guard and the revocations count them: every record
/// bound to a user, as a subject (the record is this system's own; the store is not read).
pub(crate) async fn managed(ctx: &Ctx, t: &IdentityCenterTarget) -> Result<Vec<User>, Error> {
    let records = ctx.aws.people.all(&t.people_table).await?;
    Ok(records.iter().filter(|r| !r.user_id.is_empty()).map(|r| subject(r, &r.user_name)).collect())
}

/// Ends every way in for a leaver's Identity Store user; returns when (the `access-revoked` time,
/// kept from an earlier attempt). The record says so first, so a concurrent departure's writer
/// includes this person; then the leaver's user id is denied everything in every permission set
/// this system manages, and those are provisioned again, which ends the sessions the person
/// already holds ([`end_sessions`]); then every membership the user has is ended, in groups this
/// system does not own too (the user is this system's). Sessions from permission sets this system
/// does not manage last until they expire.
#[cfg(feature = "secrets")]
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
#[cfg(feature = "secrets")]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Jane's record (employee E1) naming user `u-1`, `jane.doe`, with this lifecycle.
    fn janes_record(lifecycle: &[(&str, &str)]) -> PersonRecord {
        PersonRecord {
            employee_id: "E1".into(),
            user_id: "u-1".into(),
            user_name: "jane.doe".into(),
            since: chrono::DateTime::from_timestamp(0, 0).expect("t"),
            origin: Origin::Created,
            lifecycle: lifecycle.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn an_identity_center_user_is_ours_only_as_its_record_names_it() {
        let record = janes_record(&[]);
        let user =
            |id: &str, name: &str| StoreUser { id: id.into(), user_name: name.into(), display_name: None, email: None };
        assert_eq!(proves(&record, &user("u-1", "jane.doe")), Ok(()));
        let other = proves(&record, &user("u-2", "jane.doe")).expect_err("another user of that name");
        assert!(other.contains("names user u-1, not u-2"), "{other}");
        let renamed = proves(&record, &user("u-1", "jane.admin")).expect_err("renamed");
        assert!(renamed.contains("renamed outside this system"), "{renamed}");
    }

    /// What `roster import` and `drift` read: a proven user is the record's subject, ours; a
    /// renamed one carries its record's employee id but is not ours; anyone else's is a bare user
    /// with its email, never ours.
    #[test]
    fn the_store_as_seen_marks_only_what_a_record_proves() {
        let record = janes_record(&[(STATUS, "active")]);
        let user = |id: &str, name: &str, email: Option<&str>| StoreUser {
            id: id.into(),
            user_name: name.into(),
            display_name: None,
            email: email.map(str::to_owned),
        };
        let ic = crate::config::Config::shipped_identity_center().expect("config");
        let owner = super::super::ownership::Owner { cfg: &ic, boundary_arn: "", require_boundary: false };
        let ours = |u: &User| super::super::ownership::is_managed(owner, u);
        let seen = as_seen(
            std::slice::from_ref(&record),
            &[
                user("u-1", "jane.doe", Some("jane.doe@example.com")),
                user("u-2", "bob", Some("bob@example.com")),
                user("u-3", "x", None),
            ],
        );
        assert_eq!(seen[0].arn, "arn:aws:identitystore:::user/u-1");
        assert_eq!((seen[0].tags.get(EMPLOYEE_ID).map(String::as_str), ours(&seen[0])), (Some("E1"), true));
        assert_eq!(seen[0].tags.get(STATUS).map(String::as_str), Some("active"), "the record's lifecycle");
        assert_eq!(seen[1].tags, BTreeMap::from([(EMAIL.to_owned(), "bob@example.com".to_owned())]));
        assert!(!ours(&seen[1]) && !ours(&seen[2]));
        let renamed = as_seen(std::slice::from_ref(&record), &[user("u-1", "jane.admin", None)]);
        assert_eq!(renamed[0].tags.get(EMPLOYEE_ID).map(String::as_str), Some("E1"));
        assert!(!ours(&renamed[0]), "a record that no longer proves its user makes it nobody's");
    }

    #[test]
    fn a_change_writes_the_title_names_and_work_email_the_identity_store_holds_and_nothing_else() {
        let set: BTreeMap<String, String> = [
            (tags::TITLE, "Financial Analyst"),
            (tags::GIVEN_NAME, "Janie"),
            (tags::EMAIL, "jane.doe@example.com"),
            (tags::DEPARTMENT, "Finance"),
            (tags::LAST_EVENT_TIME, "2026-11-26T10:00:00Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let changes = store_attributes(&set);
        let paths: Vec<&str> = changes.iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, ["title", "name.givenName", "emails"]);
        assert_eq!(changes[0].1, Document::String("Financial Analyst".into()));
        let Document::Array(emails) = &changes[2].1 else { panic!("emails is a list: {:?}", changes[2].1) };
        let Document::Object(email) = &emails[0] else { panic!("an email is an object") };
        assert_eq!(email.get("value"), Some(&Document::String("jane.doe@example.com".into())));
        assert_eq!(email.get("primary"), Some(&Document::Bool(true)));
        assert!(store_attributes(&BTreeMap::new()).is_empty(), "a lifecycle-only change writes no attribute");
    }
}
