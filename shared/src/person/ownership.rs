//! Whose a user is. Every managed user lives under `{user_path}{employee-id}/`, so one
//! `ListUsers` with that path prefix finds a person's user ([`find`]), whatever its name (a
//! rehire, a name change, a departure event that carries no name), without scanning the
//! directory.
//!
//! A user is this system's only when the path, the `managed-by` and `employee-id` tags and the
//! permissions boundary all say so ([`ownership`]): tags alone can be written by others. What a
//! departure does to a user is decided here once ([`on_departure`]).

use chrono::{DateTime, Utc};

use crate::aws::iam::User;
use crate::config::Config;
use crate::context::Ctx;
use crate::error::Error;
use crate::event::Departure;
use crate::lifecycle::{self, Status};
use crate::tags::{EMPLOYEE_ID, MANAGED_BY, MANAGED_BY_VALUE};

/// The ARN prefix of an Identity Store user.
const IDENTITY_STORE_USER: &str = "arn:aws:identitystore:::user/";

/// The IAM path of an employee's user.
pub fn employee_path(cfg: &Config, employee_id: &str) -> String {
    format!("{}{employee_id}/", cfg.iam.user_path)
}

/// What makes a user this system's, besides its tags: where managed users live and the boundary
/// they carry.
#[derive(Debug, Clone, Copy)]
pub struct Owner<'a> {
    pub cfg: &'a Config,
    pub boundary_arn: &'a str,
    /// False only where IAM cannot report boundaries (an emulator): see `iam.require_boundary`.
    pub require_boundary: bool,
}

impl Ctx {
    /// This system's idea of ownership, as the config and the resolved boundary define it.
    pub fn owner(&self) -> Owner<'_> {
        Owner {
            cfg: &self.cfg,
            boundary_arn: &self.targets.boundary_arn,
            require_boundary: self.targets.require_boundary,
        }
    }
}

/// `Ok` when the user is this system's: it carries the `managed-by` marker and an `employee-id`,
/// lives at that employee's path and has the boundary. `Err` says which is missing. A path can
/// only be set by `CreateUser`/`UpdateUser` and the boundary only with the boundary's own
/// permissions, so a tag written by someone else does not make a user managed.
pub fn ownership(owner: Owner<'_>, u: &User) -> Result<(), String> {
    let not = |why: String| Err(format!("user `{}` is not managed by this system: {why}", u.name));
    if owner.cfg.identity_center_target().is_some() {
        // An Identity Store user carries nothing of ours: it is acted on only as read through the
        // people record that names it (`person::identity_center`, proven by `identity_center`
        // below), which is where its marks come from.
        let ours = u.arn.starts_with(IDENTITY_STORE_USER)
            && u.tags.get(MANAGED_BY).map(String::as_str) == Some(MANAGED_BY_VALUE)
            && u.tags.contains_key(EMPLOYEE_ID);
        return if ours { Ok(()) } else { not("no people record names it".into()) };
    }
    if u.tags.get(MANAGED_BY).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return not(format!("no `{MANAGED_BY}` tag"));
    }
    let Some(id) = u.tags.get(EMPLOYEE_ID) else { return not(format!("no `{EMPLOYEE_ID}` tag")) };
    let path = employee_path(owner.cfg, id);
    if u.path != path {
        return not(format!("it lives at path `{}`, not at its employee's `{path}`", u.path));
    }
    if owner.require_boundary && u.boundary.as_deref() != Some(owner.boundary_arn) {
        return not(format!(
            "its permissions boundary is {}, not `{}`",
            u.boundary.as_deref().map(|b| format!("`{b}`")).unwrap_or_else(|| "absent".into()),
            owner.boundary_arn
        ));
    }
    Ok(())
}

/// Why a user whose path and ownership tags are this system's fails ownership only on its
/// permissions boundary (someone changed or removed it), if that is so. Such a user is not ours
/// for any change, but a departure still ends its access (every credential removed, since the
/// boundary's deny-all no longer stands behind the disable), with an alert: a leaver is never
/// left with access because of it.
pub fn boundary_tampered(owner: Owner<'_>, u: &User) -> Option<String> {
    let lenient = Owner { require_boundary: false, ..owner };
    match (ownership(owner, u), ownership(lenient, u)) {
        (Err(why), Ok(())) => Some(why),
        _ => None,
    }
}

/// Whether a departure may end the user's access: this system manages it, or would but for a
/// changed boundary ([`boundary_tampered`]).
pub fn departs_as_ours(owner: Owner<'_>, u: &User) -> bool {
    ownership(Owner { require_boundary: false, ..owner }, u).is_ok()
}

/// Whether this system manages the user (see [`ownership`]).
pub fn is_managed(owner: Owner<'_>, u: &User) -> bool {
    ownership(owner, u).is_ok()
}

/// Whether the config protects the user from being disabled or deleted.
pub fn is_protected(cfg: &Config, u: &User) -> bool {
    cfg.lifecycle.protect.iter().any(|p| p == &u.name)
}

/// The employee's user (with its tags), if there is one. A user at the path that does not carry
/// the employee's id is not theirs; two that do is a conflict for a human to resolve.
pub async fn find(ctx: &Ctx, employee_id: &str) -> Result<Option<User>, Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::find(ctx, t, employee_id).await;
    }
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

/// Every user this system manages, with its tags (Identity Center: its record's lifecycle).
pub async fn managed(ctx: &Ctx) -> Result<Vec<User>, Error> {
    #[cfg(feature = "identity-center")]
    if let Some(t) = &ctx.identity_center {
        return super::identity_center::managed(ctx, t).await;
    }
    let users = ctx.aws.iam.users_with_tags(&ctx.cfg.iam.user_path).await?;
    Ok(users.into_iter().filter(|u| is_managed(ctx.owner(), u)).collect())
}

/// How many users this system manages, as the guard's percentage counts them (IAM: the users at
/// the managed path, one listing without tags; Identity Center: the people records).
pub async fn managed_count(ctx: &Ctx) -> Result<usize, Error> {
    #[cfg(feature = "identity-center")]
    if ctx.identity_center.is_some() {
        return Ok(managed(ctx).await?.len());
    }
    Ok(ctx.aws.iam.list_users(&ctx.cfg.iam.user_path).await?.len())
}

/// Why an event for this user must change nothing, if it must: the user is not ours, or the
/// event is older than the newest one applied.
pub fn refusal(owner: Owner<'_>, u: &User, event_time: DateTime<Utc>) -> Option<String> {
    if let Err(why) = ownership(owner, u) {
        return Some(why);
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
/// ask it. `Err` is why nothing may change: no user, not ours, protected, or a stale event. A
/// user that is ours but for a changed boundary is decided like any other ([`boundary_tampered`]).
pub fn on_departure<'u>(
    owner: Owner<'_>,
    user: Option<&'u User>,
    d: &Departure,
    now: DateTime<Utc>,
) -> Result<(&'u User, DepartureDecision), String> {
    let cfg = owner.cfg;
    let u = user.ok_or_else(|| format!("no user for employee `{}`: nothing to offboard", d.meta.employee_id))?;
    // A changed boundary does not keep a leaver's access (see `boundary_tampered`).
    let owner = match boundary_tampered(owner, u) {
        Some(_) => Owner { require_boundary: false, ..owner },
        None => owner,
    };
    if let Some(reason) = refusal(owner, u, d.meta.time) {
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

/// When HR said a leaver's access must end: the event's time for an immediate departure, else
/// the end of the last day (the leaver SLA is measured from here).
pub fn access_due(cfg: &Config, d: &Departure) -> DateTime<Utc> {
    if d.immediate { d.meta.time } else { lifecycle::disable_time(d.last_day, &cfg.lifecycle) }
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
        let mut c = Config::shipped().expect("shipped config");
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
            boundary: Some(BOUNDARY.into()),
            password_last_used: None,
        }
    }

    const BOUNDARY: &str = "arn:aws:iam::1:policy/employee-permissions-boundary";

    fn owner(c: &Config) -> Owner<'_> {
        Owner { cfg: c, boundary_arn: BOUNDARY, require_boundary: true }
    }

    #[test]
    fn tags_alone_do_not_make_a_user_managed() {
        let c = cfg();
        assert_eq!(ownership(owner(&c), &user("jane.doe", &[])), Ok(()));
        // Tagged by someone else, but made elsewhere: the path gives it away.
        let mut elsewhere = user("boss", &[]);
        elsewhere.path = "/".into();
        assert!(ownership(owner(&c), &elsewhere).expect_err("path").contains("path `/`"));
        // At another employee's path.
        let mut other = user("jane.doe", &[(EMPLOYEE_ID, "E2")]);
        other.path = "/employees/E1/".into();
        assert!(ownership(owner(&c), &other).expect_err("path").contains("/employees/E2/"));
        // Made by hand at the path, without the boundary (or with another one).
        let mut bare = user("jane.doe", &[]);
        bare.boundary = None;
        assert!(ownership(owner(&c), &bare).expect_err("boundary").contains("absent"));
        bare.boundary = Some("arn:aws:iam::1:policy/lax".into());
        assert!(ownership(owner(&c), &bare).expect_err("boundary").contains("lax"));
        assert_eq!(ownership(Owner { require_boundary: false, ..owner(&c) }, &bare), Ok(()), "emulator mode");
        let mut unmarked = user("jane.doe", &[]);
        unmarked.tags.remove(MANAGED_BY);
        assert!(ownership(owner(&c), &unmarked).expect_err("marker").contains("managed-by"));
    }

    #[test]
    fn a_changed_boundary_keeps_a_user_from_every_change_but_its_departure() {
        let c = cfg();
        let now = at("2027-01-10T12:00:00Z");
        let mut lax = user("jane.doe", &[]);
        lax.boundary = Some("arn:aws:iam::1:policy/lax".into());
        // Not ours for a hire or a change, but its departure ends access, said so.
        assert!(ownership(owner(&c), &lax).is_err());
        let why = boundary_tampered(owner(&c), &lax).expect("tampered");
        assert!(why.contains("lax"), "{why}");
        let d = on_departure(owner(&c), Some(&lax), &departure("2027-01-10", true), now).map(|d| d.1);
        assert_eq!(d, Ok(DepartureDecision::DisableNow));
        assert!(departs_as_ours(owner(&c), &lax) && departs_as_ours(owner(&c), &user("jane.doe", &[])));
        lax.boundary = None;
        assert!(boundary_tampered(owner(&c), &lax).expect("removed").contains("absent"));
        // Owned users, and users that are not ours for another reason, are not "tampered": a
        // hand-made user at the path without the marker is never disabled.
        assert_eq!(boundary_tampered(owner(&c), &user("jane.doe", &[])), None);
        let mut unmarked = lax.clone();
        unmarked.tags.remove(MANAGED_BY);
        assert_eq!(boundary_tampered(owner(&c), &unmarked), None);
        assert!(!departs_as_ours(owner(&c), &unmarked));
        assert!(on_departure(owner(&c), Some(&unmarked), &departure("2027-01-10", true), now).is_err());
        // Where IAM reports no boundaries (an emulator), nothing is tampered.
        assert_eq!(boundary_tampered(Owner { require_boundary: false, ..owner(&c) }, &lax), None);
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
        assert!(on_departure(owner(&c), None, &later, now).expect_err("no user").contains("E1"));
        let jane = user("jane.doe", &[]);
        assert_eq!(
            on_departure(owner(&c), Some(&jane), &later, now).map(|d| d.1),
            Ok(DepartureDecision::Schedule(at("2027-02-01T00:00:00Z")))
        );
        let now_please = departure("2027-01-31", true);
        assert_eq!(
            on_departure(owner(&c), Some(&jane), &now_please, now).map(|d| d.1),
            Ok(DepartureDecision::DisableNow)
        );
        let past = departure("2027-01-05", false);
        assert_eq!(on_departure(owner(&c), Some(&jane), &past, now).map(|d| d.1), Ok(DepartureDecision::DisableNow));
        let gone = user("jane.doe", &[(STATUS, "disabled")]);
        assert_eq!(
            on_departure(owner(&c), Some(&gone), &now_please, now).map(|d| d.1),
            Ok(DepartureDecision::AlreadyDisabled)
        );
        let guarded = user("breakglass", &[]);
        assert!(
            on_departure(owner(&c), Some(&guarded), &now_please, now).expect_err("protected").contains("protected")
        );
        let newer = user("jane.doe", &[(LAST_EVENT_TIME, "2027-01-11T00:00:00Z")]);
        assert!(on_departure(owner(&c), Some(&newer), &now_please, now).expect_err("stale").contains("older"));
        let mut foreign = user("svc", &[]);
        foreign.tags.remove(MANAGED_BY);
        assert!(
            on_departure(owner(&c), Some(&foreign), &now_please, now).expect_err("unmanaged").contains("not managed")
        );
    }
}
