//! The state machines are the code's flows: generated, committed, and run step by step.

use super::*;

/// The committed state machines are the ones the flows generate. A stale one is rewritten and
/// the test fails: commit the result (`cargo xtask gen-infra` runs just this).
#[test]
fn committed_state_machines_are_the_generated_ones() {
    let mut stale = Vec::new();
    for flow in Flow::ALL {
        let path = root().join("infra/statemachines").join(format!("{}.asl.json", flow.name()));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = rendered(flow);
        if committed != generated {
            std::fs::write(&path, generated).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            stale.push(path.display().to_string());
        }
    }
    assert!(stale.is_empty(), "regenerated from shared::steps, commit them: {stale:?}");
}

#[test]
fn every_flow_runs_its_steps_in_order_and_ends_in_a_terminal_record() {
    for flow in Flow::ALL {
        let d = asl::definition(flow);
        let states = d["States"].as_object().expect("states");
        // Follow the happy path from the start: the tasks met are the flow's steps, in order.
        let mut at = d["StartAt"].as_str().expect("start").to_owned();
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let s = &states[&at];
            if s["Type"] == "Task" && s["Resource"].as_str().is_some_and(|r| r.ends_with("FunctionArn}")) {
                tasks.push(at.clone());
                assert!(s["Retry"][0]["BackoffRate"].as_f64().is_some_and(|b| b > 1.0));
                if at != "Record" {
                    // Every step retries transient errors with backoff and catches the rest.
                    let retried = s["Retry"][0]["ErrorEquals"].as_array().expect("retry");
                    assert!(retried.contains(&json!("Onboarding.Transient")));
                    assert_eq!(s["Catch"][0]["Next"], "Record failed");
                }
            }
            let next = match s["Type"].as_str() {
                Some("Choice") => s["Default"].as_str(),
                _ => s["Next"].as_str(),
            };
            match next {
                Some(n) => at = n.to_owned(),
                None => break,
            }
        }
        let mut expected: Vec<String> = flow.steps().iter().map(|s| s.name().to_owned()).collect();
        expected.push("Record".into());
        assert_eq!(tasks, expected, "{}", flow.name());
        assert_eq!(at, "Done", "{}: the happy path ends in Succeed", flow.name());
        // Every end is the `record` step (the code's one definition of the terminal record):
        // no state machine builds a record itself.
        let record = format!("${{{}}}", asl::function_arn_param(Step::Record));
        for (name, s) in states {
            let ends = s["Next"] == "Done" || s["Next"] == "Failed";
            if ends {
                assert_eq!(
                    s["Resource"].as_str(),
                    Some(record.as_str()),
                    "{}: {name} ends without the record step",
                    flow.name()
                );
            }
            assert!(!s.to_string().contains("\"terminal\""), "{}: {name} builds a record itself", flow.name());
        }
        // Every record of an execution names it: the first state passes its name on.
        if flow.detail_type().is_some() {
            assert_eq!(states["Event"]["Parameters"]["delivery.$"], "$$.Execution.Name", "{}", flow.name());
        }
        // The failure path records the failed event, then fails the execution.
        assert_eq!(states["Record failed"]["Next"], "Failed");
        assert_eq!(states["Failed"]["Type"], "Fail");
    }
}
