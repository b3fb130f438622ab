//! Who a user belongs to. Every managed user lives under `{user_path}{employee-id}/`, so one
//! `ListUsers` with that path prefix finds a person's user, whatever its name (a rehire, a name
//! change, a departure event that carries no name), without scanning the directory.

use chrono::{DateTime, Utc};

use crate::aws::iam::User;
use crate::config::Config;
use crate::error::Error;
use crate::event::Departure;
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
pub fn refusal(u: &User, event_time: DateTime<Utc>) -> Option<String> {
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

/// What a departure does to the employee's user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartureDecision {
    AlreadyDisabled,
    /// Access ends later: the due date goes on the user for the sweep.
    Schedule(DateTime<Utc>),
    DisableNow,
}

/// The one place that decides a departure at `now`; the `offboard` step and the batch guard both
/// ask it. `Err` is why nothing may change: no user, not ours, protected, or a stale event.
pub fn on_departure<'u>(
    cfg: &Config,
    user: Option<&'u User>,
    d: &Departure,
    now: DateTime<Utc>,
) -> Result<(&'u User, DepartureDecision), String> {
    let u = user.ok_or_else(|| format!("no user for employee `{}`: nothing to offboard", d.meta.employee_id))?;
    if let Some(reason) = refusal(u, d.meta.time) {
        return Err(reason);
    }
    if is_protected(cfg, u) {
        return Err(format!("`{}` is protected (lifecycle.protect): never disabled", u.name));
    }
    if status(u) == Status::Disabled {
        return Ok((u, DepartureDecision::AlreadyDisabled));
    }
    let ends = if d.immediate { now } else { lifecycle::disable_time(d.last_day, &cfg.lifecycle) };
    Ok((u, if ends > now { DepartureDecision::Schedule(ends) } else { DepartureDecision::DisableNow }))
}

/// The status a user is in.
pub fn status(u: &User) -> Status {
    Status::of(&u.tags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::HrEvent;
    use crate::tags::{LAST_EVENT_TIME, STATUS};

    fn cfg() -> Config {
        let mut c = Config::parse(include_str!("../../../onboarding.toml"), "onboarding.toml").expect("shipped config");
        c.lifecycle.protect = vec!["breakglass".into()];
        c
    }

    fn at(s: &str) -> DateTime<Utc> {
        lifecycle::parse_stamp(s).expect("time")
    }

    fn user(name: &str, tags: &[(&str, &str)]) -> User {
        let mut t: std::collections::BTreeMap<String, String> = [(MANAGED_BY, MANAGED_BY_VALUE), (EMPLOYEE_ID, "E1")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        User {
            name: name.into(),
            arn: format!("arn:aws:iam::1:user/employees/E1/{name}"),
            path: "/employees/E1/".into(),
            tags: t,
        }
    }

    fn departure(last_day: &str, immediate: bool) -> Departure {
        let raw = serde_json::json!({"id": "x", "detail-type": "Employee Departed", "source": "hr", "time": "2027-01-10T09:00:00Z",
            "detail": {"eventId": "d1", "employeeId": "E1", "lastDay": last_day, "immediate": immediate}});
        match crate::event::parse(&raw).expect("valid") {
            HrEvent::Departed(d) => d,
            other => panic!("not a departure: {other:?}"),
        }
    }

    #[test]
    fn one_decision_for_every_departure() {
        let (c, now) = (cfg(), at("2027-01-10T12:00:00Z"));
        let later = departure("2027-01-31", false);
        assert!(on_departure(&c, None, &later, now).expect_err("no user").contains("E1"));
        let jane = user("jane.doe", &[]);
        assert_eq!(
            on_departure(&c, Some(&jane), &later, now).map(|d| d.1),
            Ok(DepartureDecision::Schedule(at("2027-02-01T00:00:00Z")))
        );
        let now_please = departure("2027-01-31", true);
        assert_eq!(on_departure(&c, Some(&jane), &now_please, now).map(|d| d.1), Ok(DepartureDecision::DisableNow));
        let past = departure("2027-01-05", false);
        assert_eq!(on_departure(&c, Some(&jane), &past, now).map(|d| d.1), Ok(DepartureDecision::DisableNow));
        let gone = user("jane.doe", &[(STATUS, "disabled")]);
        assert_eq!(
            on_departure(&c, Some(&gone), &now_please, now).map(|d| d.1),
            Ok(DepartureDecision::AlreadyDisabled)
        );
        let guarded = user("breakglass", &[]);
        assert!(on_departure(&c, Some(&guarded), &now_please, now).expect_err("protected").contains("protected"));
        let newer = user("jane.doe", &[(LAST_EVENT_TIME, "2027-01-11T00:00:00Z")]);
        assert!(on_departure(&c, Some(&newer), &now_please, now).expect_err("stale").contains("older"));
        let mut foreign = user("svc", &[]);
        foreign.tags.remove(MANAGED_BY);
        assert!(on_departure(&c, Some(&foreign), &now_please, now).expect_err("unmanaged").contains("not managed"));
    }
}
