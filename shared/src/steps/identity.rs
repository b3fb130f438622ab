//! Who a user belongs to. Every managed user lives under `{user_path}{employee-id}/`, so one
//! `ListUsers` with that path prefix finds a person's user, whatever its name (a rehire, a name
//! change, a departure event that carries no name), without scanning the directory.

use crate::aws::iam::User;
use crate::config::Config;
use crate::error::Error;
use crate::lifecycle::{self, Status};
use crate::tags::{EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE};

use super::Ctx;

/// The IAM path of an employee's user.
pub fn employee_path(cfg: &Config, employee_id: &str) -> String {
    format!("{}{employee_id}/", cfg.iam.user_path)
}

/// Whether this system manages the user (the marker tag, set only by `create-user`).
pub fn is_managed(u: &User) -> bool {
    u.tags.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE)
}

/// Whether the config protects the user from being disabled or deleted.
pub fn is_protected(cfg: &Config, u: &User) -> bool {
    cfg.lifecycle.protect.iter().any(|p| p == &u.name)
}

/// The employee's user (with its tags), if there is one. A user at the path that does not carry
/// the employee's id is not theirs; two that do is a conflict for a human to resolve.
pub async fn find(ctx: &Ctx, employee_id: &str) -> Result<Option<User>, Error> {
    let mut found: Option<User> = None;
    for listed in ctx.aws.iam.list_users(&employee_path(&ctx.cfg, employee_id)).await? {
        let Some(u) = ctx.aws.iam.get_user(&listed.name).await? else { continue };
        if u.tags.get(EMPLOYEE_ID).map(String::as_str) != Some(employee_id) {
            continue;
        }
        if let Some(other) = &found {
            return Err(Error::Conflict(format!(
                "two users carry employee id `{employee_id}`: `{}` and `{}`; remove one by hand",
                other.name, u.name
            )));
        }
        found = Some(u);
    }
    Ok(found)
}

/// Why an event for this user must change nothing, if it must: the user is not ours, or the
/// event is older than the newest one applied.
pub fn refusal(u: &User, event_time: chrono::DateTime<chrono::Utc>) -> Option<String> {
    if !is_managed(u) {
        return Some(format!("user `{}` is not managed by this system (no `{MANAGED_BY}` tag)", u.name));
    }
    if lifecycle::is_stale(&u.tags, event_time) {
        return Some(format!(
            "event time {} is older than the last event applied to `{}` ({})",
            lifecycle::stamp(event_time),
            u.name,
            u.tags.get(crate::tags::LAST_EVENT_TIME).map(String::as_str).unwrap_or("-")
        ));
    }
    None
}

/// The status a user is in.
pub fn status(u: &User) -> Status {
    Status::of(&u.tags)
}
