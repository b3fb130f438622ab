//! Departures the mass-departure guard holds: listed, released (disabled now, the operator's
//! decision) or discarded (the person stays), each decision audited with who made it. Held
//! departures live on the users themselves (`disable-held`, `disable-at`): nothing is lost when
//! a process, a Lambda or the machine restarts, and the sweep re-alerts until an operator decides.

use chrono::Utc;
use serde::Serialize;

use crate::audit::{Action, AuditRecord, Ids};
use crate::aws::iam::User;
use crate::context::Ctx;
use crate::error::Error;
use crate::flow::Step;
use crate::lifecycle::{self, Status};
use crate::person::UserRef;
use crate::person::access::disable;
use crate::person::ownership::{self, is_protected};
use crate::person::tagging::write_tags;
use crate::tags::{DISABLE_AT, DISABLE_HELD, EMPLOYEE_ID, LAST_DAY};
use crate::trail::Trail;

/// One held departure, or what an operator's decision did to it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Held {
    pub user_name: String,
    pub employee_id: Option<String>,
    /// When the guard held it; absent for a disable the sweep's guard keeps back each hour
    /// without a mark (it is overdue all the same).
    pub held_since: Option<String>,
    /// When access was due to end.
    pub disable_at: Option<String>,
    /// `held`, `released` (disabled now), `discarded` (stays active), or `failed`.
    pub outcome: &'static str,
    /// For a release: when access ended.
    pub access_ended_at: Option<String>,
    pub actions: Vec<Action>,
    pub error: Option<String>,
}

/// Which held departures a decision applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Which {
    All,
    Employees(Vec<String>),
}

/// Every departure waiting for an operator: managed, not protected, not disabled, and either
/// marked held or overdue (its `disable-at` passed while the guard kept it back).
pub async fn list(ctx: &Ctx) -> Result<Vec<(User, Held)>, Error> {
    let now = ctx.due_now();
    let users = ownership::managed(ctx).await?;
    let mut out = Vec::new();
    for u in users {
        if is_protected(&ctx.cfg, &u) {
            continue;
        }
        let overdue = lifecycle::due(&u.tags, now) == Some(lifecycle::Due::Disable);
        if ownership::status(&u) == Status::Disabled || !(overdue || u.tags.contains_key(DISABLE_HELD)) {
            continue;
        }
        let held = Held {
            user_name: u.name.clone(),
            employee_id: u.tags.get(EMPLOYEE_ID).cloned(),
            held_since: u.tags.get(DISABLE_HELD).cloned(),
            disable_at: u.tags.get(DISABLE_AT).cloned(),
            outcome: "held",
            access_ended_at: None,
            actions: Vec::new(),
            error: None,
        };
        out.push((u, held));
    }
    Ok(out)
}

/// An operator's decision on held departures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Disable now, past the guard.
    Release,
    /// Drop the departure: the person keeps their access (HR made a mistake).
    Discard,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Release => "release",
            Decision::Discard => "discard",
        }
    }
}

/// Applies `decision` to the held departures `which` names, on behalf of `operator` (an ARN).
/// An employee id that names no held departure is an error, before anything changes.
pub async fn decide(ctx: &Ctx, which: &Which, decision: Decision, operator: &str) -> Result<Vec<Held>, Error> {
    let held = list(ctx).await?;
    if let Which::Employees(ids) = which {
        let unknown: Vec<&String> =
            ids.iter().filter(|id| !held.iter().any(|(_, h)| h.employee_id.as_ref() == Some(*id))).collect();
        if !unknown.is_empty() {
            return Err(Error::Conflict(format!(
                "no held departure for employee(s) {}; `onboarding quarantine list` shows them",
                unknown.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    let mut out = Vec::new();
    for (user, mut h) in held {
        if let Which::Employees(ids) = which
            && !h.employee_id.as_ref().is_some_and(|e| ids.contains(e))
        {
            continue;
        }
        let now = ctx.now();
        let ids = Ids {
            event_id: Some(format!("quarantine-{}-{}", decision.as_str(), lifecycle::stamp(now))),
            employee_id: h.employee_id.clone(),
            detail_type: Some("Quarantine".into()),
        };
        let mut trail = Trail::with_ids(ctx, ids.clone(), Step::Offboard);
        let by = format!("{} by {operator}", decision.as_str());
        let result = async {
            trail
                .record(&format!("lifecycle:{}Hold", capitalised(decision.as_str())), &user.arn, trail.change())
                .await?;
            match decision {
                Decision::Release => Box::pin(disable(ctx, &mut trail, &user, None, None)).await.map(Some),
                Decision::Discard => {
                    let held = [DISABLE_HELD, DISABLE_AT, LAST_DAY];
                    write_tags(ctx, &mut trail, &UserRef::of(&user), &Default::default(), &held).await.map(|_| None)
                }
            }
        }
        .await;
        h.actions = std::mem::take(&mut trail.actions);
        let error = result.as_ref().err().map(|e| (e.error_type(), e.to_string()));
        let ended = result.ok().flatten();
        h.outcome = match (&error, decision) {
            (Some(_), _) => "failed",
            (None, Decision::Release) => "released",
            (None, Decision::Discard) => "discarded",
        };
        h.access_ended_at = ended.map(lifecycle::stamp);
        h.error = error.as_ref().map(|(_, e)| e.clone());
        let changed = h.actions.iter().any(|a| a.outcome == crate::audit::Outcome::Done);
        let record = AuditRecord::terminal(
            &ids,
            "quarantine",
            decision.as_str(),
            Some(user.arn.clone()),
            changed,
            error,
            Utc::now(),
        )
        .access_ended(ended);
        let record = if h.error.is_none() { record.because(crate::audit::Outcome::Succeeded, &by) } else { record };
        ctx.audit(&record).await?;
        out.push(h);
    }
    Ok(out)
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}
