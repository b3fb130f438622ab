//! `record`: the one terminal audit record of an HR event, built from the state its flow ends
//! with. One definition for both orchestrators: the in-process pipeline calls [`terminal`], and
//! the deployed state machines end every path (succeeded, ignored, held, failed) in this step's
//! Lambda, which calls it too. So the records auditors read have the same keys and meaning
//! whichever ran the flow.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Ctx, State};
use crate::audit::{AuditRecord, Ids, Outcome};
use crate::error::Error;
use crate::event;
use crate::flow::{Flow, SWEEP};
use crate::lifecycle::Status;
use crate::person::ownership;
use crate::tags::{ACCESS_REVOKED, DISABLED_AT};

/// The event's ids, best effort (an event that does not parse still gets its record); no event
/// at all is a sweep.
pub fn ids(raw: &Value) -> Ids {
    if raw.is_null() {
        return Ids { detail_type: Some(SWEEP.into()), ..Ids::default() };
    }
    let (event_id, employee_id) = event::ids_of(raw);
    Ids {
        event_id,
        employee_id,
        detail_type: raw.get("detail-type").and_then(Value::as_str).map(|s| event::clip(s, 64)),
    }
}

/// The user the event was about, name and ARN: the one `create-user` made or found, or the leaver
/// `offboard` acted on.
pub fn user(state: &State) -> (Option<String>, Option<String>) {
    let offboard = state.offboard.as_ref();
    let created = state.create_user.as_ref();
    let name = created.map(|u| u.user_name.clone()).or_else(|| offboard.and_then(|o| o.user_name.clone()));
    let arn = created.map(|u| u.user_arn.clone()).or_else(|| offboard.and_then(|o| o.user_arn.clone()));
    (name.filter(|n| !n.is_empty()), arn.filter(|a| !a.is_empty()))
}

/// The terminal record: `succeeded` (with `changed` when any action was done), `ignored` with the
/// reason a step gave, `quarantined` (held by the mass-departure guard, in this batch or by the
/// offboard step across executions), or `failed` with the error. `target` is the user's ARN;
/// a departure carries when access ended.
pub fn terminal(
    ids: &Ids,
    state: &State,
    error: Option<(&str, String)>,
    quarantined: Option<&str>,
    now: DateTime<Utc>,
) -> AuditRecord {
    let offboard = state.offboard.as_ref();
    let (_, user_arn) = user(state);
    let changed = state.actions().iter().any(|a| a.outcome == Outcome::Done);
    let quarantined = quarantined.or(offboard.and_then(|o| o.held.as_deref()));
    let reason = quarantined.or(state.skipped());
    let mut record = AuditRecord::terminal(
        ids,
        "pipeline",
        Flow::of_detail_type(ids.detail_type.as_deref()).name(),
        user_arn,
        changed,
        error,
        now,
    );
    record.access_ended_at = offboard.and_then(|o| o.access_ended_at.clone());
    record.access_due_at = offboard.and_then(|o| o.access_due_at.clone());
    if let Some(r) = reason {
        record = record.because(if quarantined.is_some() { Outcome::Quarantined } else { Outcome::Ignored }, r);
    }
    record
}

/// The deployed flows' last step: publishes the terminal record for the state (a failed one when
/// the state carries Step Functions' caught `error`) and returns it.
pub async fn run(ctx: &Ctx, state: &State) -> Result<AuditRecord, Error> {
    let error = state.error.as_ref().map(|e| {
        let kind = e["Error"].as_str().unwrap_or("Onboarding.Failed");
        // A Lambda's `Cause` is its error as JSON; anything else is kept as it is.
        let cause = e["Cause"].as_str().unwrap_or_default();
        let message = serde_json::from_str::<Value>(cause)
            .ok()
            .and_then(|c| c["errorMessage"].as_str().map(str::to_owned))
            .unwrap_or_else(|| event::clip(cause, 2000));
        (kind, message)
    });
    let record = terminal(&ids(&state.event), state, error, None, Utc::now());
    let record = confirmed(ctx, record).await?;
    ctx.audit(&record).await?;
    Ok(record)
}

/// The record with what it says about the person read back from IAM. The Lambda's state is a
/// claim (anyone who may invoke `record` could hand it one): the user's ARN stays only as IAM
/// has it for the event's employee, and when access ended comes from that user's own
/// `access-revoked` tag, and only while the user is disabled. Never from the state.
async fn confirmed(ctx: &Ctx, mut record: AuditRecord) -> Result<AuditRecord, Error> {
    let user = match &record.employee_id {
        Some(employee_id) => ownership::find(ctx, employee_id).await?,
        None => None,
    };
    let user = user.filter(|u| ownership::departs_as_ours(ctx.owner(), u));
    if record.target.is_some() {
        record.target = user.as_ref().map(|u| u.arn.clone());
    }
    let ended = |u: &crate::aws::iam::User| {
        let disabled = ownership::status(u) == Status::Disabled || u.tags.contains_key(ACCESS_REVOKED);
        disabled.then(|| u.tags.get(ACCESS_REVOKED).or(u.tags.get(DISABLED_AT)).cloned()).flatten()
    };
    let confirmed =
        if record.detail_type.as_deref() == Some(event::DEPARTED) { user.as_ref().and_then(ended) } else { None };
    if record.access_ended_at != confirmed {
        tracing::warn!(
            claimed = ?record.access_ended_at, confirmed = ?confirmed,
            "the state's access-ended time is not IAM's; the record carries IAM's"
        );
        record.access_ended_at = confirmed;
    }
    Ok(record)
}
