//! The Step Functions state machines, generated from the flows defined in `shared::flow`: the
//! deployed order cannot drift from the order the CLI and the tests run. Deployment tooling, so
//! it lives with the deployment's checks: `tests/it/infra/flows.rs` renders them, and when a committed
//! file differs it rewrites it and fails (commit the result); `cargo xtask gen-infra` runs that.
//!
//! Every Lambda task retries transient failures with backoff and catches everything else into a
//! failure path that records the failed event and fails the execution (for the alarm). Every end
//! is the `record` step, whose Lambda builds the terminal audit record from the state with the
//! code the in-process pipeline uses (`shared::steps::record`): one definition of the record. A
//! flow whose first step decides the event changes nothing goes straight to it. ARNs are `${...}`
//! placeholders the template fills in (`DefinitionSubstitutions`).

use serde_json::{Value, json};

use shared::error::TRANSIENT_ERROR_TYPE;
pub use shared::flow::Flow;
use shared::flow::Step;

/// The template parameter holding a step's function ARN, e.g. `CreateUserFunctionArn`.
pub fn function_arn_param(step: Step) -> String {
    let camel: String = step
        .name()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{camel}FunctionArn")
}

/// Errors a task retries: ours (`Onboarding.Transient`) and Lambda's own transient ones.
pub const RETRIED: [&str; 5] = [
    TRANSIENT_ERROR_TYPE,
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

/// The state machine definition for a flow.
pub fn definition(flow: Flow) -> Value {
    let steps = flow.steps();
    let mut states = serde_json::Map::new();
    for (i, &step) in steps.iter().enumerate() {
        let after = steps.get(i + 1).map_or("Record", |n| n.name());
        if step.may_skip() && after != "Record" {
            // After the step that may decide the event changes nothing, look before going on.
            let check = format!("{}?", step.name());
            states.insert(step.name().into(), task(flow, step, &check));
            states.insert(
                check,
                json!({
                    "Type": "Choice",
                    "Comment": "The event changes nothing (unknown employee, stale event, protected user, leaver): record why and stop.",
                    "Choices": choices(step),
                    "Default": after,
                }),
            );
        } else {
            states.insert(step.name().into(), task(flow, step, after));
        }
    }
    // Every end (succeeded, ignored, held; failed) is the `record` step: the terminal record is
    // built by the code from the state, as the in-process pipeline builds it.
    states.insert("Record".into(), record_task("Done"));
    states.insert("Record failed".into(), record_task("Failed"));
    states.insert("Done".into(), json!({"Type": "Succeed"}));
    states.insert(
        "Failed".into(),
        json!({"Type": "Fail", "Error": "Onboarding.EventFailed", "Cause": "a step failed; see the audit topic"}),
    );
    let start = if flow.detail_type().is_some() {
        states.insert(
            "Event".into(),
            json!({
                "Type": "Pass",
                "Comment": "EventBridge hands over the HR event; the steps take {event, delivery (the execution's name, on every audit record), ...earlier outputs}.",
                "Parameters": {"event.$": "$", "delivery.$": "$$.Execution.Name"},
                "Next": steps[0].name(),
            }),
        );
        "Event"
    } else {
        steps[0].name()
    };
    json!({
        "Comment": format!(
            "{} flow, generated from shared::flow by `cargo xtask gen-infra`; do not edit.",
            flow.name()
        ),
        "StartAt": start,
        "States": states,
    })
}

/// Where a step's output sends the flow besides on: `skipped` (the event changes nothing) goes
/// straight to the record (a last step, e.g. `offboard` with `skipped` or `held`, goes there
/// anyway, and the record says which).
fn choices(step: Step) -> Value {
    json!([{"Variable": format!("$.{}.skipped", step.state_key()), "IsPresent": true, "Next": "Record"}])
}

/// A Lambda task: the function gets the whole state (as the steps expect it) and its output is
/// stored under the step's key, as `steps::run` does in process.
fn task(flow: Flow, step: Step, next: &str) -> Value {
    let mut t = json!({
        "Type": "Task",
        "Resource": format!("${{{}}}", function_arn_param(step)),
        "ResultPath": format!("$.{}", step.state_key()),
        "Next": next,
        "Retry": [{
            "ErrorEquals": RETRIED,
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL"
        }],
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Record failed"}],
    });
    if flow == Flow::Sweep {
        // The sweep looks at every managed user; it takes no input.
        t["Parameters"] = json!({});
    }
    t
}

/// The `record` step: its Lambda gets the whole state (with `$.error` on the failure path) and
/// publishes the terminal record; retried until it went out, as an audit record must.
fn record_task(next: &str) -> Value {
    json!({
        "Type": "Task",
        "Resource": format!("${{{}}}", function_arn_param(Step::Record)),
        "ResultPath": "$.record",
        "Retry": [{
            "ErrorEquals": ["States.ALL"],
            "IntervalSeconds": 2,
            "MaxAttempts": 6,
            "BackoffRate": 2.0,
            "MaxDelaySeconds": 60,
            "JitterStrategy": "FULL"
        }],
        "Next": next,
    })
}
