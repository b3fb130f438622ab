//! The mass-departure guard, whole: its rules ([`batch`], [`window`]), the operator's override
//! ([`overridden`]), its alert ([`alert`]) and its enforcement ([`admit`] and [`hold`] for one
//! departure across executions; [`batch_verdict`] for a run or a sweep). One glitch in HR's feed
//! (a bulk export marked everyone as leaving) must not disable everyone.
//!
//! Two rules. Within one run or sweep: more than `lifecycle.max_disables` disables, or more than
//! `lifecycle.max_disable_percent` of the managed users (a single departure never), holds them
//! all. Across runs, executions and sweeps: `lifecycle.max_disables` disables per
//! `guard_window_minutes`, counted from IAM (`access-revoked` tags), holds the one too many. A
//! held departure is marked on the user and waits for an operator (`onboarding quarantine`).
//! `--allow-mass-offboarding` or `lifecycle.allow_mass_offboarding` lets everything through.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::UserRef;
use super::ownership;
use super::tagging::write_tags;
use crate::audit::{AuditRecord, Ids};
use crate::aws::iam::User;
use crate::config::LifecycleConfig;
use crate::context::Ctx;
use crate::error::Error;
use crate::event::Departure;
use crate::lifecycle::{self, parse_stamp};
use crate::tags::{ACCESS_REVOKED, DISABLE_AT, DISABLE_HELD, LAST_DAY, LAST_EVENT_TIME};
use crate::trail::Trail;

/// The operator's override: `--allow-mass-offboarding` for this run, or the config's
/// `lifecycle.allow_mass_offboarding`. The only place either is read.
pub fn overridden(ctx: &Ctx) -> bool {
    ctx.allow_mass_offboarding || ctx.cfg.lifecycle.allow_mass_offboarding
}

/// The rule for one run or sweep: why disabling `disables` users out of `managed` at once must
/// not go ahead, or `None` when it may.
pub fn batch(disables: usize, managed: usize, cfg: &LifecycleConfig) -> Option<String> {
    if disables == 0 {
        return None;
    }
    if disables > cfg.max_disables as usize {
        return Some(format!(
            "{disables} users would be disabled in one run; lifecycle.max_disables is {}",
            cfg.max_disables
        ));
    }
    // A single departure is never a mass departure, however small the directory.
    let share = disables * 100 / managed.max(1);
    if disables > 1 && share > cfg.max_disable_percent as usize {
        return Some(format!(
            "{disables} of {managed} managed users ({share}%) would be disabled in one run; \
             lifecycle.max_disable_percent is {}",
            cfg.max_disable_percent
        ));
    }
    None
}

/// The rule across executions: why one more disable must wait for an operator when `recent`
/// users were disabled within the window, or `None` when it may go ahead. A count, shared by
/// every run, execution and sweep (`lifecycle.max_disables` per `guard_window_minutes`); the
/// share of the directory stays a rule for one run or sweep ([`batch`]), since over a window it
/// would hold the second leaver of a small team.
pub fn window(recent: usize, cfg: &LifecycleConfig) -> Option<String> {
    if recent < cfg.max_disables as usize {
        return None;
    }
    Some(format!(
        "{recent} users were disabled in the last {} minutes and lifecycle.max_disables is {}; \
         held for an operator: `onboarding quarantine list`",
        cfg.guard_window_minutes, cfg.max_disables
    ))
}

/// Users disabled within the guard's window (`lifecycle.guard_window_minutes` up to `now`), by
/// their `access-revoked` tag: the count every run, execution and sweep shares, read from IAM.
pub fn recent_disables<'a>(
    users: impl IntoIterator<Item = &'a BTreeMap<String, String>>,
    now: DateTime<Utc>,
    cfg: &LifecycleConfig,
) -> usize {
    let since = now - chrono::TimeDelta::minutes(i64::from(cfg.guard_window_minutes));
    users
        .into_iter()
        .filter(|t| t.get(ACCESS_REVOKED).and_then(|v| parse_stamp(v)).is_some_and(|at| at > since && at <= now))
        .count()
}

/// The verdict on a run's or a sweep's `disables` out of `managed`: `Some(why)` holds them all,
/// after one alert (from `step`, under `ids`) went out or was logged as undelivered.
pub(crate) async fn batch_verdict(ctx: &Ctx, ids: &Ids, step: &str, disables: usize, managed: usize) -> Option<String> {
    if overridden(ctx) {
        return None;
    }
    let reason = batch(disables, managed, &ctx.cfg.lifecycle)?;
    tracing::warn!(disables, managed, reason = %reason, "mass-departure guard: no user disabled");
    alert(ctx, ids, step, &reason).await.ok();
    Some(reason)
}

/// The guard's alert to the audit topic ([`Ctx::alert`]): a run or a sweep goes on when it cannot
/// go out (its disables never wait for the trail), a held departure's step fails.
pub(crate) async fn alert(ctx: &Ctx, ids: &Ids, step: &str, reason: &str) -> Result<(), Error> {
    ctx.alert(&AuditRecord::alert(ids, step, reason, Utc::now())).await
}

/// The guard across executions: `Some(why)` when this user's disable must wait for an operator.
/// A user already held stays held until an operator decides; otherwise the disables of the
/// window, counted from IAM (every run, execution and sweep alike), decide.
pub(crate) async fn admit(ctx: &Ctx, user: &User) -> Result<Option<String>, Error> {
    // The operator's override is their decision, held or not.
    if overridden(ctx) {
        return Ok(None);
    }
    if let Some(since) = user.tags.get(DISABLE_HELD) {
        return Ok(Some(format!(
            "held by the mass-departure guard since {since}; an operator releases or discards it \
             (`onboarding quarantine release|discard`)"
        )));
    }
    let managed = ownership::managed(ctx).await?;
    let recent = recent_disables(managed.iter().map(|u| &u.tags), ctx.now(), &ctx.cfg.lifecycle);
    Ok(window(recent, &ctx.cfg.lifecycle))
}

/// Holds a departure for an operator: the disable is due now and marked held (so no sweep or
/// resend does it), and, with `alert`, an alert goes to the audit topic. Idempotent.
pub(crate) async fn hold(
    ctx: &Ctx,
    trail: &mut Trail<'_>,
    ids: &Ids,
    user: &User,
    departure: Option<&Departure>,
    reason: &str,
    alert: bool,
) -> Result<(), Error> {
    let now = lifecycle::stamp(ctx.now());
    let mut tags = BTreeMap::from([
        (DISABLE_HELD.to_owned(), user.tags.get(DISABLE_HELD).cloned().unwrap_or_else(|| now.clone())),
        (DISABLE_AT.to_owned(), user.tags.get(DISABLE_AT).cloned().unwrap_or(now)),
    ]);
    if let Some(d) = departure {
        tags.insert(LAST_DAY.to_owned(), d.last_day.to_string());
        tags.insert(LAST_EVENT_TIME.to_owned(), lifecycle::stamp(d.meta.time));
    }
    let outcome = write_tags(ctx, trail, &UserRef::of(user), &tags, &[]).await?;
    trail.record("lifecycle:HoldDisable", &user.arn, outcome).await?;
    tracing::warn!(user = %user.name, reason, "mass-departure guard: disable held for an operator");
    if alert {
        self::alert(ctx, ids, trail.step().name(), reason).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn guard_counts_and_shares() {
        let c = LifecycleConfig { max_disables: 3, max_disable_percent: 20, ..LifecycleConfig::default() };
        assert_eq!(batch(1, 1, &c), None, "one departure is never a mass departure");
        assert_eq!(batch(2, 100, &c), None);
        assert!(batch(4, 100, &c).expect("count").contains("max_disables"));
        assert!(batch(3, 10, &c).expect("share").contains("30%"));
        assert_eq!(batch(0, 0, &c), None, "nothing to disable");
    }

    #[test]
    fn the_window_counts_disables_of_every_run_and_holds_the_one_too_many() {
        let cfg = LifecycleConfig { max_disables: 3, ..LifecycleConfig::default() };
        let now = parse_stamp("2031-02-01T10:00:00Z").expect("now");
        let at = |m: i64| tags(&[(ACCESS_REVOKED, &lifecycle::stamp(now - chrono::TimeDelta::minutes(m)))]);
        let users = [at(5), at(30), at(59), at(61), tags(&[])];
        assert_eq!(recent_disables(&users, now, &cfg), 3, "only the last 60 minutes count");
        assert!(window(2, &cfg).is_none(), "the third of three may go, whatever the share");
        let held = window(3, &cfg).expect("the fourth is held");
        assert!(held.contains("quarantine list") && held.contains("max_disables is 3"), "{held}");
    }
}
