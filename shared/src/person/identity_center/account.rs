//! Making a hire's Identity Store user, its people record claimed first.

use std::collections::BTreeMap;

use super::{USER_ARN, find, record_label, subject};
use crate::audit::Outcome;
use crate::aws::identity_center::NewUser;
use crate::aws::is_code;
use crate::aws::people::{Origin, PersonRecord};
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::intent::Intent;
use crate::person::Made;
use crate::trail::Trail;
use crate::username::{MAX_VARIANTS, variant};

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
    let lifecycle = crate::person::hire_tags(&ctx.cfg.lifecycle, ctx.due_now(), intent, &BTreeMap::new());
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
