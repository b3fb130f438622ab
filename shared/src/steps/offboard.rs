//! `offboard`: a departure. Disables the user at the end of the last day (at once when
//! `immediate` or when that moment has passed), or schedules it on the user's tags for the sweep.
//! Deleting after the grace period is the sweep's. What a disable and a deletion do, and the
//! mass-departure guard: [`crate::person::access`].

use std::collections::BTreeMap;

use chrono::Utc;

use super::{Ctx, OffboardOutput, State, Step, Trail};
use crate::audit::{AuditRecord, Ids, Outcome};
use crate::aws::scheduler::ScheduleTarget;
use crate::error::Error;
use crate::intent::Request;
use crate::lifecycle::{self, Status};
use crate::person::UserRef;
use crate::person::access::{disable, schedule_name};
use crate::person::guard::{admit, hold};
use crate::person::ownership::{self, DepartureDecision};
use crate::person::tagging::write_tags;
use crate::tags::{ACCESS_REVOKED, DISABLE_AT, DISABLED_AT, LAST_DAY, LAST_EVENT_TIME};

pub async fn run(ctx: &Ctx, state: &State) -> Result<OffboardOutput, Error> {
    let Request::Depart(d) = state.request(ctx)? else {
        return Err(Error::Input("`offboard` handles departures only".into()));
    };
    let user = ownership::find(ctx, &d.meta.employee_id).await?;
    let now = ctx.due_now();
    let mut out = OffboardOutput {
        user_name: user.as_ref().map(|u| u.name.clone()),
        user_arn: user.as_ref().map(|u| u.arn.clone()),
        status: user.as_ref().map(ownership::status),
        ..OffboardOutput::default()
    };
    let (user, decision) = match ownership::on_departure(ctx.owner(), user.as_ref(), d, now) {
        Ok(decided) => decided,
        Err(reason) => {
            tracing::info!(reason = %reason, "departure changes nothing");
            out.skipped = Some(reason);
            return Ok(out);
        }
    };
    out.access_due_at = Some(lifecycle::stamp(ownership::access_due(&ctx.cfg, d)));
    let mut trail = Trail::new(ctx, &d.meta, Step::Offboard);
    if let Some(why) = ownership::boundary_tampered(ctx.owner(), user) {
        tracing::error!(user = %user.name, why, "departure of a user whose permissions boundary was changed");
        let record =
            AuditRecord::boundary_tampered(&Ids::of(&d.meta), Step::Offboard.name(), &user.arn, &why, Utc::now());
        ctx.audit(&record).await?;
    }
    match decision {
        DepartureDecision::AlreadyDisabled => {
            trail.record("lifecycle:Disable", &user.arn, Outcome::AlreadyDone).await?;
            out.access_ended_at = user.tags.get(ACCESS_REVOKED).or(user.tags.get(DISABLED_AT)).cloned();
        }
        DepartureDecision::Schedule(disable_at) => {
            // Ahead of time: the due date lives on the user; the sweep acts on it.
            let tags = BTreeMap::from([
                (LAST_DAY.to_owned(), d.last_day.to_string()),
                (DISABLE_AT.to_owned(), lifecycle::stamp(disable_at)),
                (LAST_EVENT_TIME.to_owned(), lifecycle::stamp(d.meta.time)),
            ]);
            let outcome = write_tags(ctx, &mut trail, &UserRef::of(user), &tags, &[]).await?;
            trail.record("lifecycle:ScheduleDisable", &user.arn, outcome).await?;
            // On time: a one-time schedule starts this departure again at its moment (the sweep
            // stays the safety net). Written each time, so a new last day moves it.
            let l = &ctx.cfg.lifecycle;
            if let (Some(arn), Some(role_arn)) = (&l.schedule_target, &l.schedule_role) {
                let input = serde_json::to_string(&state.event).map_err(|e| Error::Input(e.to_string()))?;
                let target = ScheduleTarget { arn, role_arn, input: &input };
                let name = schedule_name(&d.meta.employee_id);
                let outcome = match ctx.dry_run {
                    true => Outcome::WouldDo,
                    false if ctx.aws.scheduler.put_once(&name, disable_at, &target).await? => Outcome::Done,
                    false => Outcome::AlreadyDone,
                };
                trail.record("scheduler:CreateSchedule", &name, outcome).await?;
            }
            out.disable_at = Some(lifecycle::stamp(disable_at));
        }
        DepartureDecision::DisableNow => match admit(ctx, user).await? {
            Some(reason) => {
                let ids = Ids::of(&d.meta);
                hold(ctx, &mut trail, &ids, user, Some(d), &reason, true).await?;
                out.held = Some(reason);
            }
            None => {
                let ended = Box::pin(disable(ctx, &mut trail, user, Some(d.meta.time), d.reason.as_deref())).await?;
                out.status = Some(Status::Disabled);
                out.access_ended_at = Some(lifecycle::stamp(ended));
            }
        },
    }
    out.actions = trail.actions;
    Ok(out)
}
