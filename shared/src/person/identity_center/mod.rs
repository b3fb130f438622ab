//! What happens to a person when their access lives in IAM Identity Center: the second
//! implementation of the person layer's operations, chosen where each begins
//! (`ctx.identity_center`). The steps do not know which one runs.
//!
//! A person's Identity Store user is acted on as a [`User`] ([`subject`]): its user name, its
//! ARN, and, in place of an IAM user's tags, the lifecycle this system's people record keeps
//! (`aws::people`), so statuses, due dates, staleness and the HR attributes are decided by the
//! same code for both targets. Such a value is made only from a record that names the user and a
//! user that answers to it ([`find`], [`create`]): the record is the proof of ownership.
//!
//! Its operations, by the person layer's module they implement: `ownership` (whose a user is:
//! [`proves`], [`find`], [`managed`], [`as_seen`], [`adopt`]), `account` ([`create`]),
//! `membership` ([`regroup`]), `tagging` ([`write_lifecycle`]) and `access` (`revoke`,
//! `end_sessions`, `delete`). This file holds what they share: the ARNs and the subject.

#[cfg(feature = "secrets")]
mod access;
mod account;
mod membership;
mod ownership;
mod tagging;

#[cfg(feature = "secrets")]
pub(crate) use access::{delete, end_sessions, revoke};
pub(crate) use account::create;
pub(crate) use membership::regroup;
#[cfg(feature = "review")]
pub(crate) use membership::revoke_group;
pub(crate) use ownership::{adopt, find, managed};
pub use ownership::{as_seen, proves};
pub(crate) use tagging::write_lifecycle;

use crate::aws::iam::User;
use crate::aws::people::PersonRecord;
use crate::context::IdentityCenterTarget;
use crate::error::Error;
use crate::person::UserRef;
use crate::tags::{EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE};

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
