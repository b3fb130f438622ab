//! The Step Functions state machines, generated from the flows defined in `shared::steps`: the
//! deployed order cannot drift from the order the CLI and the tests run. Deployment tooling, so
//! it lives with the deployment's checks: `tests/it/infra.rs` renders them, and when a committed
//! file differs it rewrites it and fails (commit the result); `cargo xtask gen-infra` runs that.
//!
//! Every Lambda task retries transient failures with backoff and catches everything else into a
//! failure path that publishes the failed terminal audit record and fails the execution (for the
//! alarm). A flow whose first step decides the event changes nothing ends with an `ignored`
//! record. ARNs are `${...}` placeholders the template fills in (`DefinitionSubstitutions`).

use serde_json::{Value, json};

use shared::audit::SCHEMA_VERSION;
use shared::error::TRANSIENT_ERROR_TYPE;
use shared::steps::{CHANGE, OFFBOARD, ONBOARD, Step};

/// A deployed flow: one state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Onboard,
    Change,
    Offboard,
    Sweep,
}

impl Flow {
    pub const ALL: [Flow; 4] = [Flow::Onboard, Flow::Change, Flow::Offboard, Flow::Sweep];

    /// The file name stem and the `action` of its terminal audit records.
    pub const fn name(self) -> &'static str {
        match self {
            Flow::Onboard => "onboard",
            Flow::Change => "change",
            Flow::Offboard => "offboard",
            Flow::Sweep => "sweep",
        }
    }

    pub fn steps(self) -> &'static [Step] {
        match self {
            Flow::Onboard => &ONBOARD,
            Flow::Change => &CHANGE,
            Flow::Offboard => &OFFBOARD,
            Flow::Sweep => &[Step::Sweep],
        }
    }

    /// Started by an HR event (the others by the schedule).
    pub const fn detail_type(self) -> Option<&'static str> {
        match self {
            Flow::Onboard => Some(shared::event::HIRED),
            Flow::Change => Some(shared::event::CHANGED),
            Flow::Offboard => Some(shared::event::DEPARTED),
            Flow::Sweep => None,
        }
    }
}

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

/// The placeholder for the audit topic's ARN.
pub const AUDIT_TOPIC_PARAM: &str = "AuditTopicArn";

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
        let after = steps.get(i + 1).map_or("Record succeeded", |n| n.name());
        if may_skip(step) {
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
    let skipper = steps.iter().find(|s| may_skip(**s));
    states.insert("Record succeeded".into(), record(flow, "succeeded", skipper.copied(), "Publish succeeded"));
    states.insert("Publish succeeded".into(), publish("Done"));
    if skipper.is_some() {
        states.insert("Record ignored".into(), record(flow, "ignored", skipper.copied(), "Publish ignored"));
        states.insert("Publish ignored".into(), publish("Done"));
    }
    if steps.contains(&Step::Offboard) {
        states.insert("Record held".into(), record(flow, "quarantined", None, "Publish held"));
        states.insert("Publish held".into(), publish("Done"));
    }
    states.insert("Record failed".into(), record(flow, "failed", None, "Publish failed"));
    states.insert("Publish failed".into(), publish("Failed"));
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
                "Comment": "EventBridge hands over the HR event; the steps take {event, ...earlier outputs}.",
                "Parameters": {"event.$": "$"},
                "Next": steps[0].name(),
            }),
        );
        "Event"
    } else {
        steps[0].name()
    };
    json!({
        "Comment": format!(
            "{} flow, generated from shared::steps by `cargo xtask gen-infra`; do not edit.",
            flow.name()
        ),
        "StartAt": start,
        "States": states,
    })
}

/// Where a step's output sends the flow besides on: `skipped` (the event changes nothing) and,
/// for `offboard`, `held` (the mass-departure guard holds the disable for an operator).
fn choices(step: Step) -> Value {
    let key = step.state_key();
    let mut c = vec![json!({"Variable": format!("$.{key}.skipped"), "IsPresent": true, "Next": "Record ignored"})];
    if step == Step::Offboard {
        c.push(json!({"Variable": format!("$.{key}.held"), "IsPresent": true, "Next": "Record held"}));
    }
    Value::Array(c)
}

/// The step that may decide the event changes nothing (its output then has `skipped`).
fn may_skip(step: Step) -> bool {
    matches!(step, Step::CreateUser | Step::Offboard)
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

/// Builds the terminal audit record (the same fields the in-process pipeline publishes) from the
/// execution's state. The event rules only start executions for events that carry both ids.
fn record(flow: Flow, outcome: &str, skipper: Option<Step>, next: &str) -> Value {
    let mut r = json!({
        "schemaVersion": SCHEMA_VERSION,
        "eventId.$": "$.event.detail.eventId",
        "employeeId.$": "$.event.detail.employeeId",
        "detailType.$": "$.event.detail-type",
        "step": "pipeline",
        "action": flow.name(),
        "outcome": outcome,
        "terminal": true,
        "timestamp.$": "$$.State.EnteredTime",
        "execution.$": "$$.Execution.Id",
    });
    let Some(fields) = r.as_object_mut() else { return r };
    match (outcome, skipper) {
        ("failed", _) => {
            fields.insert("errorType.$".into(), json!("$.error.Error"));
            fields.insert("error.$".into(), json!("$.error.Cause"));
        }
        ("ignored", Some(s)) => {
            fields.insert("reason.$".into(), json!(format!("$.{}.skipped", s.state_key())));
        }
        ("quarantined", _) => {
            fields.insert("reason.$".into(), json!(format!("$.{}.held", Step::Offboard.state_key())));
        }
        // A departure says when access ended (null while it is only scheduled).
        ("succeeded", _) if flow.steps().contains(&Step::Offboard) => {
            fields.insert("accessEndedAt.$".into(), json!(format!("$.{}.accessEndedAt", Step::Offboard.state_key())));
        }
        _ => {}
    }
    if flow == Flow::Sweep {
        for k in ["eventId.$", "employeeId.$", "detailType.$"] {
            fields.remove(k);
        }
        fields.insert("detailType".into(), json!("Sweep"));
    }
    json!({"Type": "Pass", "Parameters": r, "ResultPath": "$.record", "Next": next})
}

fn publish(next: &str) -> Value {
    json!({
        "Type": "Task",
        "Resource": "arn:aws:states:::sns:publish",
        "Parameters": {
            "TopicArn": format!("${{{AUDIT_TOPIC_PARAM}}}"),
            "Message.$": "States.JsonToString($.record)",
            "MessageAttributes": {
                "event-type": {"DataType": "String", "StringValue": "audit"},
                "step": {"DataType": "String", "StringValue": "pipeline"},
                "outcome": {"DataType": "String", "StringValue.$": "$.record.outcome"}
            }
        },
        "ResultPath": null,
        "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2.0, "JitterStrategy": "FULL"}],
        "Next": next,
    })
}
