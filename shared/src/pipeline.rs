//! Runs an HR event through the steps in their one defined order ([`steps::ONBOARD`]), in
//! process: the CLI and the tests use this; the state machine runs the same steps as Lambdas.
//! Every event ends with exactly one terminal audit record.

use chrono::Utc;
use serde::Serialize;
use serde_json::Value;

use crate::audit::{Action, AuditRecord, Ids, Outcome};
use crate::error::Error;
use crate::event;
use crate::intent::Intent;
use crate::steps::{self, Ctx, State};

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
    Failed,
}

impl EventOutcome {
    /// The serialised name, as the CLI prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventOutcome::Succeeded => "succeeded",
            EventOutcome::Unchanged => "unchanged",
            EventOutcome::WouldChange => "would-change",
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
    pub outcome: EventOutcome,
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

/// Onboards one event. Never panics and never returns early without a terminal record (except
/// in a dry run, which publishes nothing).
pub async fn onboard(ctx: &Ctx, raw: &Value) -> EventReport {
    let (event_id, employee_id) = event::ids_of(raw);
    let ids = Ids {
        event_id,
        employee_id,
        detail_type: raw.get("detail-type").and_then(Value::as_str).map(|s| event::clip(s, 64)),
    };
    let mut state = State::new(raw.clone());
    let result = run_steps(ctx, &mut state).await;
    finish(ctx, ids, &state, result).await
}

/// An entry that is not even JSON: reported failed, with its failed terminal audit record.
pub async fn unreadable(ctx: &Ctx, e: crate::ValidationError) -> EventReport {
    finish(ctx, Ids::default(), &State::default(), Err(Error::Invalid(e))).await
}

/// Publishes the event's one terminal record and builds its report.
async fn finish(ctx: &Ctx, ids: Ids, state: &State, result: Result<(), Error>) -> EventReport {
    let user_arn = state.create_user.as_ref().map(|u| u.user_arn.clone()).filter(|a| !a.is_empty());
    let actions = state.actions();
    let changed = actions.iter().any(|a| a.outcome == Outcome::Done);
    let terminal = AuditRecord::terminal(
        &ids,
        user_arn.clone(),
        changed,
        result.as_ref().err().map(|e| (e.error_type(), e.to_string())),
        Utc::now(),
    );
    let published = ctx.audit(&terminal).await;
    let error = match (result, published) {
        (Err(e), _) | (Ok(()), Err(e)) => Some(e),
        (Ok(()), Ok(())) => None,
    };
    let outcome = match &error {
        Some(_) => EventOutcome::Failed,
        None if actions.iter().any(|a| a.outcome == Outcome::WouldDo) => EventOutcome::WouldChange,
        None if actions.iter().all(|a| a.outcome == Outcome::AlreadyDone) => EventOutcome::Unchanged,
        None => EventOutcome::Succeeded,
    };
    let (event_id, employee_id) = (ids.event_id.as_deref().unwrap_or("-"), ids.employee_id.as_deref().unwrap_or("-"));
    match &error {
        Some(e) => tracing::warn!(event_id, employee_id, error_type = e.error_type(), error = %e, "event failed"),
        None => tracing::info!(event_id, employee_id, outcome = ?outcome, "event done"),
    }
    let stored = state.store_password.as_ref();
    EventReport {
        event_id: ids.event_id,
        employee_id: ids.employee_id,
        outcome,
        user_name: state.create_user.as_ref().map(|u| u.user_name.clone()),
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
    Intent::from_event(&ctx.cfg, &state.event)?;
    for step in steps::ONBOARD {
        tracing::debug!(step = step.name(), "step");
        steps::run(step, ctx, state).await?;
    }
    Ok(())
}
