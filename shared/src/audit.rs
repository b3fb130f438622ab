//! Audit records: one JSON document per action, plus one terminal record per HR event.
//! No field can hold a secret: the record is built from names, ARNs and outcomes only.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA_VERSION: u32 = 1;

tokio::task_local! {
    /// The delivery the records built in this task belong to (see [`AuditRecord::delivery`]).
    static DELIVERY: String;
}

/// Runs `work` as one delivery: every record built inside carries `id` as its `delivery`. The
/// work is boxed: a flow's future is large, and a caller's stack need not hold it.
pub async fn in_delivery<F: std::future::Future>(id: String, work: F) -> F::Output {
    DELIVERY.scope(id, Box::pin(work)).await
}

/// A fresh delivery id for an in-process run of one event (`d-` and 16 random hex digits).
pub fn new_delivery_id() -> String {
    let mut b = [0u8; 8];
    // Without randomness, the time still tells deliveries apart.
    if getrandom::fill(&mut b).is_err() {
        b = Utc::now().timestamp_nanos_opt().unwrap_or_default().to_be_bytes();
    }
    format!("d-{}", hex::encode(b))
}

/// What happened to one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The change was made now.
    Done,
    /// It was already in place (a resend or a retry): nothing changed.
    AlreadyDone,
    /// Dry run: it would be made.
    WouldDo,
    /// The action failed.
    Failed,
    /// Terminal: the whole event succeeded.
    Succeeded,
    /// Terminal: the event changes nothing, for the reason given (unknown employee, stale event,
    /// protected or unmanaged user).
    Ignored,
    /// The mass-departure guard held the disable back (an alert, and the terminal outcome of
    /// each held-back departure).
    Quarantined,
}

impl Outcome {
    /// The serialised name (`done`, `already-done`, ...), e.g. for an SNS message attribute.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::AlreadyDone => "already-done",
            Outcome::WouldDo => "would-do",
            Outcome::Failed => "failed",
            Outcome::Succeeded => "succeeded",
            Outcome::Ignored => "ignored",
            Outcome::Quarantined => "quarantined",
        }
    }
}

/// One thing a step did (or found done, or would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub step: String,
    /// The AWS API action, e.g. `iam:CreateUser`, or a lifecycle decision (`lifecycle:Disable`,
    /// `lifecycle:ScheduleDisable`) that sums several up.
    pub action: String,
    /// What it acted on: an ARN, or a name where no ARN exists yet.
    pub target: String,
    pub outcome: Outcome,
}

/// The record published to the audit topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    pub schema_version: u32,
    pub event_id: Option<String>,
    pub employee_id: Option<String>,
    pub detail_type: Option<String>,
    pub step: String,
    pub action: String,
    pub target: Option<String>,
    pub outcome: Outcome,
    /// True on the one record that ends an HR event.
    pub terminal: bool,
    /// On a terminal record: whether the event changed anything (false for a resend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    pub timestamp: String,
    /// Why an event was ignored or quarantined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    /// On the terminal record of a departure or a sweep's disable: when access ended (the
    /// disable's first change), so time-to-revoke can be computed from records alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_ended_at: Option<String>,
    /// On the terminal record of a departure: when HR said access must end (its effective date,
    /// or the time the departure was processed for an immediate one), for the leaver SLA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_due_at: Option<String>,
    /// The one processing of an event these records come from: a state machine execution's name,
    /// or an id the CLI draws per event. A resend is another delivery; an exact copy of a record
    /// (at-least-once plumbing) has the same one. Absent on records built outside a delivery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<String>,
    /// On an aggregate record (the intake's refusals of one minute): how many requests it stands for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// On an access review's records: the campaign, item, reviewer and decision (the reviewer's
    /// reason is in `reason`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewMark>,
}

/// The action of a reviewer's decision on an access review's item (written by the page, checked
/// against the reviews table by `review report --trail`).
pub const REVIEW_DECIDE: &str = "review:Decide";
/// The action of an item's outcome set at a campaign's close.
pub const REVIEW_SETTLE: &str = "review:Settle";

/// Which decision on which item of which access review, by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewMark {
    pub campaign: String,
    pub item: String,
    pub reviewer: String,
    pub decision: String,
    /// Set by the campaign's default at close, not by the reviewer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub defaulted: bool,
}

impl AuditRecord {
    /// A record about `ids` with every optional field empty: the one place the fields are listed.
    fn new(ids: &Ids, step: &str, action: &str, outcome: Outcome, now: DateTime<Utc>) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            event_id: ids.event_id.clone(),
            employee_id: ids.employee_id.clone(),
            detail_type: ids.detail_type.clone(),
            step: step.into(),
            action: action.into(),
            target: None,
            outcome,
            terminal: false,
            changed: None,
            timestamp: stamp(now),
            reason: None,
            error: None,
            error_type: None,
            access_ended_at: None,
            access_due_at: None,
            delivery: DELIVERY.try_with(Clone::clone).ok(),
            count: None,
            review: None,
        }
    }

    pub fn for_action(ids: &Ids, a: &Action, now: DateTime<Utc>) -> Self {
        Self { target: Some(a.target.clone()), ..Self::new(ids, &a.step, &a.action, a.outcome, now) }
    }

    /// The terminal record of a flow (`step` `pipeline`, `action` `onboard`, `change` or
    /// `offboard`) or of one sweep action: `succeeded`, or `failed` with the error.
    pub fn terminal(
        ids: &Ids,
        step: &str,
        action: &str,
        target: Option<String>,
        changed: bool,
        error: Option<(&str, String)>,
        now: DateTime<Utc>,
    ) -> Self {
        let outcome = if error.is_some() { Outcome::Failed } else { Outcome::Succeeded };
        Self {
            target,
            terminal: true,
            changed: Some(changed),
            error_type: error.as_ref().map(|(t, _)| (*t).to_owned()),
            error: error.map(|(_, m)| m),
            ..Self::new(ids, step, action, outcome, now)
        }
    }

    /// Marks when access ended (see [`AuditRecord::access_ended_at`]).
    pub fn access_ended(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.access_ended_at = at.map(stamp);
        self
    }

    /// Marks when access was due to end (see [`AuditRecord::access_due_at`]).
    pub fn access_due(mut self, at: Option<String>) -> Self {
        self.access_due_at = at;
        self
    }

    /// A successful terminal record's outcome told more precisely (`ignored`, `quarantined`).
    pub fn because(mut self, outcome: Outcome, reason: &str) -> Self {
        if self.outcome != Outcome::Failed {
            self.outcome = outcome;
        }
        self.reason = Some(reason.to_owned());
        self
    }

    /// The mass-departure guard's alert: departures held, an operator must look.
    pub fn alert(ids: &Ids, step: &str, reason: &str, now: DateTime<Utc>) -> Self {
        Self {
            employee_id: None,
            reason: Some(format!(
                "{reason}; nothing was disabled. Check HR's feed, then release or discard the held departures \
                 (`onboarding quarantine`), or rerun with --allow-mass-offboarding"
            )),
            ..Self::new(ids, step, "mass-departure-guard", Outcome::Quarantined, now)
        }
    }

    /// A departing user whose permissions boundary someone changed: its departure ends its access
    /// all the same (every credential removed, now or on its last day), and the boundary needs
    /// restoring by an administrator.
    pub fn boundary_tampered(ids: &Ids, step: &str, user_arn: &str, why: &str, now: DateTime<Utc>) -> Self {
        Self {
            target: Some(user_arn.to_owned()),
            reason: Some(format!(
                "{why}: someone changed it. The departure ends every credential all the same; restore \
                 the boundary and find who changed it (CloudTrail: PutUserPermissionsBoundary, \
                 DeleteUserPermissionsBoundary)"
            )),
            ..Self::new(ids, step, "ownership:BoundaryChanged", Outcome::Failed, now)
        }
    }

    /// The one record of a webhook request (step `intake`, action `webhook:Receive`, target
    /// `webhook/{source}/{webhook-id}`): `done` when accepted, `already-done` for a replay
    /// answered again, `failed` with the status and reason otherwise. Never the body.
    pub fn intake(ids: &Ids, target: &str, answer: &crate::webhook::Answer, now: DateTime<Utc>) -> Self {
        let outcome = match answer.status {
            202 => Outcome::Done,
            200 => Outcome::AlreadyDone,
            _ => Outcome::Failed,
        };
        let reason = answer.error.as_ref().map(|e| match &answer.field {
            Some(f) => format!("{} {}: {f}: {e}", answer.status, answer.outcome),
            None => format!("{} {}: {e}", answer.status, answer.outcome),
        });
        Self { target: Some(target.to_owned()), reason, ..Self::new(ids, "intake", "webhook:Receive", outcome, now) }
    }

    /// The intake's refusals of one minute, of requests whose signature did not verify (another
    /// path or method, an unknown source, a missing or bad signature, a body too large): one
    /// record for all of them, each kind with its count, instead of a record each.
    pub fn intake_refused(minute: DateTime<Utc>, counts: &BTreeMap<String, u64>, now: DateTime<Utc>) -> Self {
        let total = counts.values().sum();
        let kinds: Vec<String> = counts.iter().map(|(what, n)| format!("{n} x {what}")).collect();
        let reason =
            format!("{total} unsigned requests refused in the minute from {}: {}", stamp(minute), kinds.join("; "));
        Self {
            target: Some("webhook/*".into()),
            reason: Some(reason),
            count: Some(total),
            ..Self::new(&Ids::default(), "intake", "webhook:Refused", Outcome::Failed, now)
        }
    }

    /// A decision on one item of an access review (step `review`, action `review:Decide`, target
    /// `review/{campaign}/{item}`): `done`, or `already-done` when the same decision and reason
    /// were given again; the reviewer's reason in `reason`. At close, `review:Settle` records
    /// each item's outcome the same way (the default's marked `defaulted`).
    pub fn review(
        employee_id: &str,
        action: &str,
        mark: ReviewMark,
        reason: Option<String>,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Self {
        let ids = Ids { employee_id: Some(employee_id.to_owned()), ..Ids::default() };
        Self {
            target: Some(format!("review/{}/{}", mark.campaign, mark.item)),
            reason,
            review: Some(mark),
            ..Self::new(&ids, "review", action, outcome, now)
        }
    }

    /// An access review's revocations held by the guard: an operator must look.
    pub fn review_held(campaign: &str, reason: String, now: DateTime<Utc>) -> Self {
        Self {
            target: Some(format!("review/{campaign}")),
            reason: Some(format!(
                "{reason}; nothing was revoked. Check the decisions (`onboarding review report {campaign}`), then \
                 run `onboarding review close {campaign} --allow-mass-offboarding` to carry them out"
            )),
            ..Self::new(&Ids::default(), "review", "review-guard", Outcome::Quarantined, now)
        }
    }

    /// A step that failed (not terminal: a state machine may still retry it).
    pub fn step_failed(ids: &Ids, step: &str, error_type: &str, error: String, now: DateTime<Utc>) -> Self {
        Self {
            error: Some(error),
            error_type: Some(error_type.into()),
            ..Self::new(ids, step, step, Outcome::Failed, now)
        }
    }
}

/// Who an audit record is about; best effort for events that do not parse.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids {
    pub event_id: Option<String>,
    pub employee_id: Option<String>,
    pub detail_type: Option<String>,
}

impl Ids {
    /// The ids of a validated event.
    pub fn of(meta: &crate::event::EventMeta) -> Self {
        Self {
            event_id: Some(meta.event_id.clone()),
            employee_id: Some(meta.employee_id.clone()),
            detail_type: Some(meta.detail_type.clone()),
        }
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Logs a record the audit topic would not take, in full, at error level: the stack's metric
/// filter counts `audit record undelivered` and alarms.
pub(crate) fn undelivered_record(record: &AuditRecord, e: &crate::error::Error) {
    let json = serde_json::to_string(record).unwrap_or_default();
    tracing::error!(record = %json, error = %e, "audit record undelivered");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_serialise_with_stable_field_names() {
        let ids = Ids {
            event_id: Some("e1".into()),
            employee_id: Some("E1".into()),
            detail_type: Some("Employee Hired".into()),
        };
        let a = Action {
            step: "create-user".into(),
            action: "iam:CreateUser".into(),
            target: "arn:aws:iam::1:user/x".into(),
            outcome: Outcome::Done,
        };
        let t = DateTime::parse_from_rfc3339("2026-11-28T10:00:00Z").expect("time").with_timezone(&Utc);
        let v = serde_json::to_value(AuditRecord::for_action(&ids, &a, t)).expect("json");
        assert_eq!(v["schemaVersion"], 1);
        assert_eq!(v["eventId"], "e1");
        assert_eq!(v["outcome"], "done");
        for o in [
            Outcome::Done,
            Outcome::AlreadyDone,
            Outcome::WouldDo,
            Outcome::Failed,
            Outcome::Succeeded,
            Outcome::Ignored,
            Outcome::Quarantined,
        ] {
            assert_eq!(serde_json::to_value(o).expect("json"), o.as_str());
        }
        assert_eq!(v["terminal"], false);
        assert_eq!(v["timestamp"], "2026-11-28T10:00:00.000Z");
        assert!(v.get("error").is_none());
        let f = serde_json::to_value(AuditRecord::terminal(
            &ids,
            "pipeline",
            "onboard",
            None,
            false,
            Some(("Onboarding.InvalidEvent", "bad".into())),
            t,
        ))
        .expect("json");
        assert_eq!((f["outcome"].as_str(), f["terminal"].as_bool()), (Some("failed"), Some(true)));
        assert_eq!(f["errorType"], "Onboarding.InvalidEvent");
        assert_eq!(f["changed"], false);
        assert!(v.get("changed").is_none(), "only terminal records say whether anything changed");
    }
}
