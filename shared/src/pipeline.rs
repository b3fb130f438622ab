//! Runs HR events through the steps of their flow ([`steps::Flow`]: onboard, change, offboard),
//! in process: the CLI and the tests use this; the state machines run the same steps as Lambdas.
//! Every event ends with exactly one terminal audit record. A batch of departures that would
//! disable too many users at once is quarantined by the mass-departure guard.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use crate::audit::{self, Action, Ids, Outcome};
use crate::error::{Error, ValidationError};
use crate::intent::Request;
use crate::lanes;
use crate::lifecycle;
use crate::person::guard;
use crate::person::ownership::{self, DepartureDecision};
use crate::steps::{self, Ctx, State, record};

/// How an event ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventOutcome {
    /// Changes were made and every step succeeded.
    Succeeded,
    /// Every step found its work already done (a resend).
    Unchanged,
    /// Dry run: changes would be made.
    WouldChange,
    /// Nothing to do, for the reason given: an unknown employee, a stale event, a protected
    /// or unmanaged user, a change for a leaver.
    Ignored,
    /// Held back by the mass-departure guard: nothing was done.
    Quarantined,
    Failed,
}

impl EventOutcome {
    /// The serialised name, as the CLI prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Succeeded => "succeeded",
            EventOutcome::Unchanged => "unchanged",
            EventOutcome::WouldChange => "would-change",
            EventOutcome::Ignored => "ignored",
            EventOutcome::Quarantined => "quarantined",
            EventOutcome::Failed => "failed",
        }
    }
}

/// One event's result, as `onboarding run --output json` prints it. No secret can be in it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventReport {
    pub event_id: Option<String>,
    pub employee_id: Option<String>,
    pub detail_type: Option<String>,
    pub outcome: EventOutcome,
    /// The user's lifecycle status afterwards: `active`, `pending`, `disabled`, `deleted` (no
    /// user), or `quarantined`.
    pub status: Option<String>,
    /// Why the event was ignored or quarantined.
    pub reason: Option<String>,
    /// For a departure scheduled ahead: when access ends (RFC 3339).
    pub disable_at: Option<String>,
    /// For a disabled leaver: when access ended (RFC 3339).
    pub access_ended_at: Option<String>,
    pub user_name: Option<String>,
    pub user_arn: Option<String>,
    pub secret_arn: Option<String>,
    pub access_key_secret_arn: Option<String>,
    pub groups: Vec<String>,
    /// No mapping rule matched the department: the user got the always-groups only.
    pub no_rule_matched: bool,
    pub actions: Vec<Action>,
    pub error: Option<String>,
    pub error_type: Option<String>,
}

/// Processes entries, each person's in input order, up to `ctx.concurrency` people at once
/// ([`lanes`]); reports come back in input order. Departures that together would disable more
/// users than the guard allows are all quarantined (and one alert goes to the audit topic).
pub async fn run_all(ctx: &Ctx, entries: Vec<Result<Value, ValidationError>>) -> Vec<EventReport> {
    run_all_reporting(ctx, entries, &|_, _| {}).await
}

/// What must run one after the other: events about the same employee; hires whose user names
/// start from the same base (which variant each gets depends on their order); and all
/// departures, so the mass-departure guard across runs counts each disable before the next.
fn lane_keys(ctx: &Ctx, entries: &[Result<Value, ValidationError>]) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            let Ok(raw) = e else { return Vec::new() };
            let mut keys = Vec::new();
            if let (_, Some(employee)) = crate::event::ids_of(raw) {
                keys.push(format!("employee:{employee}"));
            }
            match Request::from_event(&ctx.cfg, raw) {
                Ok(Request::Hire(intent)) => keys.push(format!("name:{}", intent.base_name)),
                Ok(Request::Depart(_)) => keys.push("departures".into()),
                _ => {}
            }
            keys
        })
        .collect()
}

/// [`run_all`], calling `progress(done, total)` after each event.
pub async fn run_all_reporting(
    ctx: &Ctx,
    entries: Vec<Result<Value, ValidationError>>,
    progress: &dyn Fn(usize, usize),
) -> Vec<EventReport> {
    let held = mass_departure(ctx, &entries).await;
    let lanes = lanes::lanes(&lane_keys(ctx, &entries));
    let (entries, held) = (&entries, &held);
    let one = |i: usize| async move {
        // Boxed: a flow's future is large, and many wait side by side.
        match (&entries[i], held) {
            (Ok(raw), Some((reason, indices))) if indices.contains(&i) => Box::pin(quarantine(ctx, raw, reason)).await,
            (Ok(raw), _) => Box::pin(process(ctx, raw)).await,
            (Err(e), _) => Box::pin(unreadable(ctx, e.clone())).await,
        }
    };
    lanes::run(lanes, ctx.concurrency, one, progress).await
}

/// The guard's verdict on a batch: the reason and the departures it holds back.
async fn mass_departure(ctx: &Ctx, entries: &[Result<Value, ValidationError>]) -> Option<(String, Vec<usize>)> {
    if guard::overridden(ctx) {
        return None;
    }
    let now = ctx.due_now();
    let mut due = Vec::new();
    for (i, raw) in entries.iter().enumerate() {
        let Ok(Ok(Request::Depart(d))) = raw.as_ref().map(|r| ctx.request(r)) else { continue };
        // A lookup that fails here fails again, reported, when the event is processed.
        let Ok(user) = ownership::find(ctx, &d.meta.employee_id).await else { continue };
        if let Ok((_, DepartureDecision::DisableNow)) = ownership::on_departure(ctx.owner(), user.as_ref(), &d, now) {
            due.push(i);
        }
    }
    if due.is_empty() {
        return None;
    }
    let managed = ownership::managed_count(ctx).await.unwrap_or(due.len());
    let ids = Ids { event_id: Some(format!("run-{}", lifecycle::stamp(ctx.now()))), ..Ids::default() };
    guard::batch_verdict(ctx, &ids, "pipeline", due.len(), managed).await.map(|r| (r, due))
}

/// Processes one event through its flow. Never panics and never returns without a terminal
/// record (except in a dry run, which publishes nothing).
pub async fn process(ctx: &Ctx, raw: &Value) -> EventReport {
    let delivery = async {
        let mut state = State::new(raw.clone());
        let result = run_steps(ctx, &mut state).await;
        finish(ctx, record::ids(raw), &state, result, None).await
    };
    audit::in_delivery(audit::new_delivery_id(), batched(ctx, delivery)).await
}

/// A delivery with its records published in one batch ([`Ctx::batch`]); records the topic did not
/// take fail the delivery.
async fn batched(ctx: &Ctx, delivery: impl std::future::Future<Output = EventReport>) -> EventReport {
    let (mut report, delivered) = ctx.batch(delivery).await;
    if let (Err(e), None) = (delivered, &report.error) {
        report.outcome = EventOutcome::Failed;
        report.error_type = Some(e.error_type().to_owned());
        report.error = Some(e.to_string());
    }
    report
}

/// Adopts `user_name` for the person of a hire event built from HR's roster (the operator's
/// `onboarding roster import --apply`): [`crate::drivers::adopt`], then [`steps::ADOPTED`], with the one
/// terminal record.
pub async fn adopt(ctx: &Ctx, raw: &Value, user_name: &str) -> EventReport {
    let adopting = async {
        let mut state = State::new(raw.clone());
        let result = async {
            let Request::Hire(intent) = ctx.request(raw)? else {
                return Err(Error::Input("only a hire's person can be adopted".into()));
            };
            let (adopted, actions) = crate::drivers::adopt::run(ctx, &intent, user_name).await?;
            state.create_user = Some(steps::create_user::CreateUserOutput::found(&adopted, actions));
            for &step in &steps::ADOPTED {
                steps::run(step, ctx, &mut state).await?;
            }
            Ok(())
        }
        .await;
        finish(ctx, record::ids(raw), &state, result, None).await
    };
    audit::in_delivery(audit::new_delivery_id(), batched(ctx, Box::pin(adopting))).await
}

/// A departure the batch guard held back: marked held on the user (so it waits for an operator,
/// `onboarding quarantine`), reported and audited; no access is touched.
async fn quarantine(ctx: &Ctx, raw: &Value, reason: &str) -> EventReport {
    audit::in_delivery(audit::new_delivery_id(), held(ctx, raw, reason)).await
}

async fn held(ctx: &Ctx, raw: &Value, reason: &str) -> EventReport {
    let mut state = State::new(raw.clone());
    let held = async {
        let Request::Depart(d) = ctx.request(raw)? else { return Ok(()) };
        let Some(user) = ownership::find(ctx, &d.meta.employee_id).await? else { return Ok(()) };
        let mut trail = steps::Trail::new(ctx, &d.meta, steps::Step::Offboard);
        // The batch's one alert went out already.
        guard::hold(ctx, &mut trail, &Ids::of(&d.meta), &user, Some(&d), reason, false).await?;
        state.offboard = Some(steps::OffboardOutput {
            user_name: Some(user.name.clone()),
            user_arn: Some(user.arn.clone()),
            held: Some(reason.to_owned()),
            actions: trail.actions,
            ..steps::OffboardOutput::default()
        });
        Ok::<(), Error>(())
    }
    .await;
    finish(ctx, record::ids(raw), &state, held, Some(reason)).await
}

/// An entry that is not even JSON: reported failed, with its failed terminal audit record.
pub async fn unreadable(ctx: &Ctx, e: ValidationError) -> EventReport {
    let none = State::default();
    let failed = finish(ctx, Ids::default(), &none, Err(Error::Invalid(e)), None);
    audit::in_delivery(audit::new_delivery_id(), failed).await
}

/// Publishes the event's one terminal record and builds its report.
async fn finish(
    ctx: &Ctx,
    ids: Ids,
    state: &State,
    result: Result<(), Error>,
    quarantined: Option<&str>,
) -> EventReport {
    let offboard = state.offboard.as_ref();
    let (user_name, user_arn) = record::user(state);
    let actions = state.actions();
    // A departure the guard held within its own step (a separate execution over the window).
    let quarantined = quarantined.or(offboard.and_then(|o| o.held.as_deref()));
    let reason = quarantined.or(state.skipped()).map(str::to_owned);
    let error = result.as_ref().err().map(|e| (e.error_type(), e.to_string()));
    let terminal = record::terminal(&ids, state, error, quarantined, Utc::now());
    let access_ended_at = terminal.access_ended_at.clone();
    let published = ctx.audit(&terminal).await;
    let error = match (result, published) {
        (Err(e), _) | (Ok(()), Err(e)) => Some(e),
        (Ok(()), Ok(())) => None,
    };
    let outcome = match &error {
        Some(_) => EventOutcome::Failed,
        None if quarantined.is_some() => EventOutcome::Quarantined,
        None if reason.is_some() => EventOutcome::Ignored,
        None if actions.iter().any(|a| a.outcome == Outcome::WouldDo) => EventOutcome::WouldChange,
        None if actions.iter().all(|a| a.outcome == Outcome::AlreadyDone) => EventOutcome::Unchanged,
        None => EventOutcome::Succeeded,
    };
    let status = if quarantined.is_some() {
        Some("quarantined".to_owned())
    } else if user_name.is_none() && ids.employee_id.is_some() && error.is_none() && !ctx.dry_run {
        // No user for the employee (never hired here, or deleted after leaving).
        Some("deleted".to_owned())
    } else {
        state.status().map(|s| s.as_str().to_owned())
    };
    let (event_id, employee_id) = (ids.event_id.as_deref().unwrap_or("-"), ids.employee_id.as_deref().unwrap_or("-"));
    match &error {
        Some(e) => tracing::warn!(event_id, employee_id, error_type = e.error_type(), error = %e, "event failed"),
        None => tracing::info!(event_id, employee_id, outcome = outcome.as_str(), "event done"),
    }
    let stored = state.store_password.as_ref();
    EventReport {
        event_id: ids.event_id,
        employee_id: ids.employee_id,
        detail_type: ids.detail_type,
        outcome,
        status,
        reason,
        disable_at: offboard.and_then(|o| o.disable_at.clone()),
        access_ended_at,
        user_name,
        user_arn,
        secret_arn: stored.and_then(|s| s.password_secret_arn.clone()),
        access_key_secret_arn: stored.and_then(|s| s.access_key_secret_arn.clone()),
        groups: state.join_groups.as_ref().map(|j| j.groups.clone()).unwrap_or_default(),
        no_rule_matched: state.join_groups.as_ref().is_some_and(|j| j.no_rule_matched),
        actions,
        error_type: error.as_ref().map(|e| e.error_type().to_owned()),
        error: error.map(|e| e.to_string()),
    }
}

async fn run_steps(ctx: &Ctx, state: &mut State) -> Result<(), Error> {
    // Validate everything before the first call: a bad event creates nothing.
    let flow = steps::Flow::of(state.request(ctx)?);
    for &step in flow.steps() {
        tracing::debug!(step = step.name(), "step");
        steps::run(step, ctx, state).await?;
        if step.may_skip() && state.skipped().is_some() {
            break;
        }
    }
    Ok(())
}
