//! Whose an Identity Store user is: the people record that names it is the proof.

use std::collections::BTreeMap;

use super::{USER_ARN, record_label, subject};
use crate::audit::Outcome;
use crate::aws::iam::User;
use crate::aws::identity_center::StoreUser;
use crate::aws::people::{Origin, PersonRecord};
use crate::context::{Ctx, IdentityCenterTarget};
use crate::error::Error;
use crate::intent::Intent;
use crate::lifecycle::Status;
use crate::tags::{EMAIL, EMPLOYEE_ID, STATUS};
use crate::trail::Trail;

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

/// The people this system manages, as the guard and the revocations count them: every record
/// bound to a user, as a subject (the record is this system's own; the store is not read).
pub(crate) async fn managed(ctx: &Ctx, t: &IdentityCenterTarget) -> Result<Vec<User>, Error> {
    let records = ctx.aws.people.all(&t.people_table).await?;
    Ok(records.iter().filter(|r| !r.user_id.is_empty()).map(|r| subject(r, &r.user_name)).collect())
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
        let owner = crate::person::ownership::Owner { cfg: &ic, boundary_arn: "", require_boundary: false };
        let ours = |u: &User| crate::person::ownership::is_managed(owner, u);
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
}
