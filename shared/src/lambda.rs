//! Lambda glue shared by every function binary: start-up and the handler.

use chrono::Utc;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;

use crate::audit::{self, AuditRecord, Ids};
use crate::aws::{self, Aws};
use crate::config::Config;
use crate::error::Error;
use crate::event;
use crate::steps::{self, Ctx, State, Step, Targets};

/// Everything a function needs, built once per cold start: config parsed from the environment,
/// SDK clients, topic and policy ARNs.
pub async fn init() -> Result<Ctx, lambda_runtime::Error> {
    let cfg = Config::from_env()?;
    let sdk = aws::load_sdk_config(&cfg, aws::Trust::AmazonRoots).await;
    let aws = Aws::new(&sdk, cfg.retry_policy());
    let targets = Targets::resolve(&cfg, &aws).await?;
    let ctx = Ctx::new(cfg, aws, targets);
    // Identity Center, when it is the target: the stack names the instance and the store, so no
    // call is made here either.
    #[cfg(feature = "identity-center")]
    let ctx = ctx.with_identity_center(&sdk).await?;
    // A function serves its target's every flow, or refuses to start (a binary built without the
    // target it is configured for).
    ctx.serves(crate::context::Work::Hire)?;
    Ok(ctx)
}

/// The Lambda error: `errorType` is what a state machine's `Retry`/`Catch` match on.
#[derive(Debug)]
pub struct StepFailure {
    pub error_type: &'static str,
    pub message: String,
}

impl From<StepFailure> for Diagnostic {
    fn from(f: StepFailure) -> Self {
        Diagnostic { error_type: f.error_type.into(), error_message: f.message }
    }
}

/// Handles one invocation of `step`: the input is the state (or a bare HR event), the output
/// the step's own result. A failure is audited (not as terminal: the state machine may retry).
#[tracing::instrument(skip_all, fields(step = step.name(), request_id = %ev.context.request_id))]
pub async fn handle(ctx: &Ctx, step: Step, ev: LambdaEvent<Value>) -> Result<Value, StepFailure> {
    // The execution's name (the flows pass it on as `delivery`), else this invocation's id.
    let delivery = ev.payload.get("delivery").and_then(Value::as_str).map(str::to_owned);
    let delivery = delivery.unwrap_or_else(|| ev.context.request_id.clone());
    audit::in_delivery(delivery, handle_step(ctx, step, ev)).await
}

async fn handle_step(ctx: &Ctx, step: Step, ev: LambdaEvent<Value>) -> Result<Value, StepFailure> {
    let (event_id, employee_id) = event::ids_of(ev.payload.get("event").unwrap_or(&ev.payload));
    let result = match State::from_input(ev.payload) {
        Ok(mut state) => ctx.batched(steps::run(step, ctx, &mut state)).await,
        Err(e) => Err(e),
    };
    let e: Error = match result {
        Ok(v) => return Ok(v),
        Err(e) => e,
    };
    let failure = StepFailure { error_type: e.error_type(), message: e.to_string() };
    tracing::error!(error_type = failure.error_type, error = %failure.message, "step failed");
    let ids = Ids { event_id, employee_id, detail_type: None };
    let record = AuditRecord::step_failed(&ids, step.name(), failure.error_type, failure.message.clone(), Utc::now());
    if let Err(audit) = ctx.audit(&record).await {
        tracing::error!(error = %audit, "could not publish the failure to the audit topic");
    }
    Err(failure)
}

/// Handles one scheduled invocation of the sweep. The input is ignored: a sweep always looks at
/// every managed user at the current time. Fails (for the schedule's retry and alarm) when any
/// user's action failed; the report lists each.
#[cfg(feature = "secrets")]
#[tracing::instrument(skip_all, fields(step = "sweep", request_id = %ev.context.request_id))]
pub async fn handle_sweep(ctx: &Ctx, ev: LambdaEvent<Value>) -> Result<Value, StepFailure> {
    let sweep = crate::drivers::sweep::run(ctx);
    let report = audit::in_delivery(ev.context.request_id.clone(), sweep).await.map_err(|e| {
        tracing::error!(error_type = e.error_type(), error = %e, "sweep failed");
        StepFailure { error_type: e.error_type(), message: e.to_string() }
    })?;
    let failed = report.items.iter().filter(|i| i.outcome == crate::drivers::sweep::SweepOutcome::Failed).count();
    if failed > 0 {
        return Err(StepFailure {
            error_type: "Onboarding.SweepIncomplete",
            message: format!("{failed} of {} due actions failed; see the audit topic", report.items.len()),
        });
    }
    #[allow(unused_mut)]
    let mut out = serde_json::to_value(&report)
        .map_err(|e| StepFailure { error_type: "Onboarding.InvalidInput", message: e.to_string() })?;
    // Access reviews past their due date close here (undecided items get the default).
    #[cfg(feature = "review")]
    {
        let closing = crate::drivers::review::close_due(ctx, ctx.due_now());
        let closed = audit::in_delivery(ev.context.request_id.clone(), closing).await.map_err(|e| {
            tracing::error!(error = %e, "access reviews due could not be closed");
            StepFailure { error_type: "Onboarding.SweepIncomplete", message: format!("access reviews: {e}") }
        })?;
        if let Some(c) = closed.iter().find(|c| !c.failed.is_empty()) {
            return Err(StepFailure {
                error_type: "Onboarding.SweepIncomplete",
                message: format!("{}; the next sweep carries on", c.line()),
            });
        }
        out["reviews"] = serde_json::Value::from(closed.iter().map(|c| c.line()).collect::<Vec<_>>());
    }
    Ok(out)
}
