//! Each function binary itself, started as Lambda starts it (a Runtime API host hands it
//! events), doing its step against the emulator. Together they onboard one hire end to end,
//! passing the state along as the state machine will.

use std::time::Duration;

use serde_json::{Value, json};
use shared::flow::{Flow, Step};
use tests::runtime_api::{Answer, Function};
use tests::{Account, config, event, root, user_groups};

fn start(acct: &Account, step: Step) -> Function {
    start_with(acct, step, |toml| toml)
}

/// A function started with the shipped config, edited by `edit` (it must change something).
fn start_with(acct: &Account, step: Step, edit: impl Fn(String) -> String) -> Function {
    let toml = edit(
        std::fs::read_to_string(root().join("onboarding.toml"))
            .expect("config")
            .replace("base_delay_ms = 200", "base_delay_ms = 5"),
    );
    Function::start(step.name(), acct.env(), &toml)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_binary_runs_its_step_under_a_lambda_runtime() {
    // GIVEN a bootstrapped account and every function started as on a cold start
    let acct = Account::new().await;
    let (_ctx, inboxes) = acct.ready(config()).await;
    let functions: Vec<(Step, Function)> = Flow::Onboard.steps().iter().map(|&s| (s, start(&acct, s))).collect();

    // WHEN the state flows through them in the defined order
    let mut state = json!({"event": event("hire-finance-programmatic.json", json!({}))});
    for (step, f) in &functions {
        let payload = state.clone();
        let answer = tokio::task::block_in_place(|| f.api.invoke(payload, Duration::from_secs(60)));
        match answer {
            Some(Answer::Response(v)) => state[step.state_key()] = v,
            other => panic!("{}: {other:?}\n{}", step.name(), std::fs::read_to_string(&f.log).unwrap_or_default()),
        }
        assert!(f.api.first_poll().is_some());
    }

    // THEN the hire is onboarded, checked through the AWS API
    let user = state["createUser"]["userName"].as_str().expect("user name").to_owned();
    assert_eq!(user, "zoe.obrien-nunez");
    assert_eq!(user_groups(&acct, &user).await, ["AllEmployees", "Finance"]);
    acct.iam().get_login_profile().user_name(&user).send().await.expect("login profile");
    let secret = state["storePassword"]["passwordSecretArn"].as_str().expect("secret arn");
    let password = acct.secret_value(secret).await;
    assert_eq!(state["notify"]["sentTo"], json!(["zoe.obrien@example.com", "grace.hopper@example.com"]));
    assert_eq!(inboxes.notifications.drain().await.len(), 2);

    // AND a bad event makes the function answer with a typed error, audited
    let (_, create) = &functions[0];
    let bad = json!({"event": event("hire-engineering.json", json!({"startDate": "2026-13-01"}))});
    match tokio::task::block_in_place(|| create.api.invoke(bad, Duration::from_secs(60))) {
        Some(Answer::Error(e)) => {
            assert_eq!(e["errorType"], "Onboarding.InvalidEvent");
            assert!(e["errorMessage"].as_str().is_some_and(|m| m.contains("detail.startDate")), "{e}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    assert!(audit.iter().any(|r| r["step"] == "create-user"
        && r["outcome"] == "failed"
        && r["errorType"] == "Onboarding.InvalidEvent"));
    assert!(
        audit.iter().any(|r| r["step"] == "store-password"
            && r["action"] == "iam:CreateLoginProfile"
            && r["outcome"] == "done")
    );

    // AND no function logged a secret (their logs, JSON at debug level, were captured)
    let key = acct.access_key_document(state["storePassword"]["accessKeySecretArn"].as_str().expect("arn")).await;
    let secret_key = key["SecretAccessKey"].as_str().expect("secret key").to_owned();
    let logs: String = functions.iter().map(|(_, f)| std::fs::read_to_string(&f.log).unwrap_or_default()).collect();
    assert!(logs.contains("\"level\""), "no JSON logs captured");
    assert!(!logs.contains(&password) && !logs.contains(&secret_key), "a secret appears in a function's logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_offboard_and_sweep_binaries_disable_leavers() {
    // GIVEN two onboarded people
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    for file in ["hire-engineering.json", "hire-finance-programmatic.json"] {
        let r = shared::pipeline::process(&ctx, &event(file, json!({}))).await;
        assert!(r.error.is_none(), "{file}: {:?}", r.error);
    }
    let offboard = start(&acct, Step::Offboard);
    let sweep = start(&acct, Step::Sweep);
    let invoke = |f: &Function, payload: Value| match tokio::task::block_in_place(|| {
        f.api.invoke(payload, Duration::from_secs(60))
    }) {
        Some(Answer::Response(v)) => v,
        other => panic!("{other:?}\n{}", std::fs::read_to_string(&f.log).unwrap_or_default()),
    };

    // WHEN the offboard function gets an immediate termination
    let leave = json!({"event": event("depart-scheduled.json", json!({"immediate": true}))});
    let out = invoke(&offboard, leave);

    // THEN that user is disabled at once
    assert_eq!(out["status"], "disabled", "{out}");
    assert!(acct.iam().get_login_profile().user_name("zoe.obrien-nunez").send().await.is_err());
    let keys = acct.iam().list_access_keys().user_name("zoe.obrien-nunez").send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().is_some_and(|s| s.as_str() == "Inactive")));

    // WHEN a departure scheduled on another user has fallen due and the scheduled sweep runs
    acct.iam()
        .tag_user()
        .user_name("jane.doe")
        .tags(aws_sdk_iam::types::Tag::builder().key("disable-at").value("2026-01-01T00:00:00Z").build().expect("tag"))
        .send()
        .await
        .expect("schedule");
    let report = invoke(&sweep, json!({}));

    // THEN the sweep disabled exactly that one
    let items = report["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{report}");
    assert_eq!((items[0]["userName"].as_str(), items[0]["outcome"].as_str()), (Some("jane.doe"), Some("succeeded")));
    assert!(acct.iam().get_login_profile().user_name("jane.doe").send().await.is_err());
    assert!(user_groups(&acct, "jane.doe").await.is_empty());
    let kinds: Vec<String> =
        inboxes.notifications.drain().await.iter().map(|m| m.attributes["event-type"].clone()).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "access-ended").count(), 2, "both managers told: {kinds:?}");
}

/// A state that names someone else's user, another ARN, or a user this system did not make:
/// each function refuses it before any write and publishes one failed audit record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_step_input_is_refused_by_every_function_and_changes_nothing() {
    // GIVEN two onboarded people and a hand-made user who carries Jane's tags but not her path
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let jane_hire = event("hire-engineering.json", json!({}));
    let jane = shared::pipeline::process(&ctx, &jane_hire).await;
    let zoe = shared::pipeline::process(&ctx, &event("hire-finance-programmatic.json", json!({}))).await;
    let (jane_arn, zoe_name, zoe_arn) =
        (jane.user_arn.clone().expect("jane"), zoe.user_name.clone().expect("zoe"), zoe.user_arn.clone().expect("zoe"));
    let tag = |k: &str, v: &str| aws_sdk_iam::types::Tag::builder().key(k).value(v).build().expect("tag");
    let mallory = acct
        .iam()
        .create_user()
        .user_name("mallory")
        .tags(tag("managed-by", "employee-lifecycle"))
        .tags(tag("employee-id", "E1001"))
        .send()
        .await
        .expect("hand-made user");
    let mallory_arn = mallory.user().expect("user").arn().to_owned();
    let secrets_before = acct.secrets().list_secrets().send().await.expect("list").secret_list().len();
    let zoe_tags_before = acct.iam().list_user_tags().user_name(&zoe_name).send().await.expect("tags").tags().len();
    inboxes.audit.drain().await;
    inboxes.notifications.drain().await;

    let forgeries = [
        ("another person's user", zoe_name.as_str(), zoe_arn.as_str()),
        ("Jane's name with another ARN", "jane.doe", zoe_arn.as_str()),
        ("a user this system did not make", "mallory", mallory_arn.as_str()),
    ];
    for step in [Step::JoinGroups, Step::TagUser, Step::StorePassword, Step::Notify] {
        let f = start(&acct, step);
        for (what, name, arn) in forgeries {
            // WHEN the function is handed Jane's hire with a forged `createUser`
            let forged = json!({"event": jane_hire, "createUser":
                {"userName": name, "userArn": arn, "exists": true, "actions": []}});
            let answer = tokio::task::block_in_place(|| f.api.invoke(forged, Duration::from_secs(60)));
            // THEN it refuses, naming why
            match answer {
                Some(Answer::Error(e)) => {
                    assert_eq!(e["errorType"], "Onboarding.UntrustedInput", "{}: {what}: {e}", step.name());
                    assert!(e["errorMessage"].as_str().is_some_and(|m| m.contains(name)), "{e}");
                }
                other => panic!("{}: {what}: expected a refusal, got {other:?}", step.name()),
            }
            // AND exactly one failed audit record says so
            let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
            assert_eq!(audit.len(), 1, "{}: {what}: {audit:?}", step.name());
            assert_eq!((audit[0]["step"].as_str(), audit[0]["outcome"].as_str()), (Some(step.name()), Some("failed")));
        }
    }
    // AND nothing was written: no group, tag, secret, login profile or message for anyone
    assert!(user_groups(&acct, "mallory").await.is_empty());
    assert!(acct.iam().get_login_profile().user_name("mallory").send().await.is_err());
    assert_eq!(acct.secrets().list_secrets().send().await.expect("list").secret_list().len(), secrets_before);
    let zoe_tags = acct.iam().list_user_tags().user_name(&zoe_name).send().await.expect("tags").tags().len();
    assert_eq!(zoe_tags, zoe_tags_before);
    assert!(inboxes.notifications.drain().await.is_empty());
    // (and the genuine state still works: Jane's own ARN passes)
    let f = start(&acct, Step::TagUser);
    let genuine = json!({"event": jane_hire, "createUser": {"userName": "jane.doe", "userArn": jane_arn, "exists": true, "actions": []}});
    match tokio::task::block_in_place(|| f.api.invoke(genuine, Duration::from_secs(60))) {
        Some(Answer::Response(v)) => assert!(v["actions"].as_array().is_some_and(|a| !a.is_empty()), "{v}"),
        other => panic!("the genuine state was refused: {other:?}"),
    }
}

/// Separate invocations of the offboard function share the mass-departure guard (the count is
/// IAM's, not the process's): with `max_disables = 2`, the third departure is held, and a new
/// cold start holds it still.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_offboard_invocations_share_the_guard() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    for (i, n) in ["Ames", "Banks", "Cole"].iter().enumerate() {
        let hire = event(
            "hire-engineering.json",
            json!({"eventId": format!("h{i}"), "employeeId": format!("E80{i}"), "familyName": n}),
        );
        let r = shared::pipeline::process(&ctx, &hire).await;
        assert_eq!(r.outcome, shared::pipeline::EventOutcome::Succeeded, "{:?}", r.error);
    }
    inboxes.audit.drain().await;
    let guarded = |t: String| {
        let t = t.replace("max_disables = 10", "max_disables = 2");
        assert!(t.contains("max_disables = 2"));
        t
    };
    let leave = |i: usize| json!({"event": event("depart-immediate.json", json!({"eventId": format!("d{i}"), "employeeId": format!("E80{i}")}))});
    let mut outputs = Vec::new();
    for i in 0..3 {
        // A cold start each time: nothing is shared but what IAM holds.
        let f = start_with(&acct, Step::Offboard, guarded);
        match tokio::task::block_in_place(|| f.api.invoke(leave(i), Duration::from_secs(60))) {
            Some(Answer::Response(v)) => outputs.push(v),
            other => panic!("offboard {i}: {other:?}\n{}", std::fs::read_to_string(&f.log).unwrap_or_default()),
        }
    }
    assert_eq!(outputs[0]["status"], "disabled");
    assert_eq!(outputs[1]["status"], "disabled");
    assert!(outputs[2]["held"].as_str().is_some_and(|r| r.contains("max_disables")), "{}", outputs[2]);
    assert!(acct.iam().get_login_profile().user_name("jane.cole").send().await.is_ok(), "held: untouched");
    let tags = tests::user_tags(&acct, "jane.cole").await;
    assert!(tags.contains_key("disable-held"), "{tags:?}");
    // A resend to a fresh instance keeps it held.
    let f = start_with(&acct, Step::Offboard, guarded);
    match tokio::task::block_in_place(|| f.api.invoke(leave(2), Duration::from_secs(60))) {
        Some(Answer::Response(v)) => assert!(v["held"].is_string(), "{v}"),
        other => panic!("{other:?}"),
    }
    let alerts = inboxes.audit.drain().await.iter().filter(|m| m.attributes["event-type"] == "alert").count();
    assert_eq!(alerts, 2, "an alert each time it is held");
}

/// Three executions of the onboarding flow for the same hire at the same moment, each with its
/// own instance of every function (concurrent Lambdas are separate processes), then three of the
/// offboard function for the person's departure: every invocation answers (none fails), and
/// the account ends as after one execution: one user, one login profile, one stored key, a
/// welcome (at most one per execution, docs/limits.md), and the leaver disabled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_invocations_of_every_function_end_clean() {
    const N: usize = 3;
    let acct = Account::new().await;
    let (_ctx, inboxes) = acct.ready(config()).await;
    let executions: Vec<Vec<(Step, Function)>> =
        (0..N).map(|_| Flow::Onboard.steps().iter().map(|&s| (s, start(&acct, s))).collect()).collect();
    let hire = json!({"event": event("hire-finance-programmatic.json", json!({}))});
    let finals: Vec<Value> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let runs: Vec<_> = executions
                .iter()
                .map(|functions| {
                    let mut state = hire.clone();
                    scope.spawn(move || {
                        for (step, f) in functions {
                            match f.api.invoke(state.clone(), Duration::from_secs(120)) {
                                Some(Answer::Response(v)) => state[step.state_key()] = v,
                                other => panic!("{}: {other:?}", step.name()),
                            }
                        }
                        state
                    })
                })
                .collect();
            runs.into_iter().map(|r| r.join().expect("an execution failed")).collect()
        })
    });
    let user = "zoe.obrien-nunez";
    assert!(finals.iter().all(|s| s["createUser"]["userName"] == user), "{finals:#?}");
    assert_eq!(tests::user_names(&acct).await, [user]);
    assert_eq!(user_groups(&acct, user).await, ["AllEmployees", "Finance"]);
    acct.iam().get_login_profile().user_name(user).send().await.expect("login profile");
    acct.the_stored_access_key(user).await;
    let kinds: Vec<String> =
        inboxes.notifications.drain().await.iter().map(|m| m.attributes["event-type"].clone()).collect();
    let welcomes = kinds.iter().filter(|k| *k == "welcome").count();
    assert!(
        (1..=N).contains(&welcomes),
        "{kinds:?} {:#?}",
        finals.iter().map(|s| &s["storePassword"]).collect::<Vec<_>>()
    );

    let offboards: Vec<Function> = (0..N).map(|_| start(&acct, Step::Offboard)).collect();
    let leave = json!({"event": event("depart-immediate.json", json!({"employeeId": "E1002"}))});
    let answers: Vec<Option<Answer>> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let calls: Vec<_> = offboards
                .iter()
                .map(|f| {
                    let leave = leave.clone();
                    scope.spawn(move || f.api.invoke(leave, Duration::from_secs(120)))
                })
                .collect();
            calls.into_iter().map(|c| c.join().expect("invoke")).collect()
        })
    });
    for a in &answers {
        assert!(matches!(a, Some(Answer::Response(v)) if v["status"] == "disabled"), "{answers:#?}");
    }
    assert!(acct.iam().get_login_profile().user_name(user).send().await.is_err());
    let keys = acct.iam().list_access_keys().user_name(user).send().await.expect("keys");
    assert!(keys.access_key_metadata().iter().all(|k| k.status().is_some_and(|s| s.as_str() == "Inactive")));
    assert!(user_groups(&acct, user).await.is_empty());
    let ended = inboxes.notifications.drain().await;
    let told = ended.iter().filter(|m| m.attributes["event-type"] == "access-ended").count();
    assert!((1..=N).contains(&told), "the manager told at least once: {told}");
}

/// The deployed flows' terminal record is the in-process pipeline's: the `record` binary, given
/// the state a state machine ends with (succeeded, ignored, failed with Step Functions' caught
/// error), publishes the record `pipeline::process` publishes for the same event, field for field
/// (the timestamp aside).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_function_publishes_the_pipelines_terminal_record() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let record = start(&acct, Step::Record);
    // The record without its time, and the delivery it names (the execution's, or the pipeline's).
    let terminal = |records: Vec<tests::inbox::Delivered>| {
        let mut t: Vec<Value> = records.iter().map(|m| m.json()).filter(|r| r["terminal"] == true).collect();
        assert_eq!(t.len(), 1, "{t:#?}");
        let mut t = t.remove(0);
        t.as_object_mut().expect("record").remove("timestamp");
        let delivery = t.as_object_mut().expect("record").remove("delivery");
        (t, delivery.and_then(|d| d.as_str().map(str::to_owned)).unwrap_or_default())
    };
    let invoke = |state: Value| match tokio::task::block_in_place(|| record.api.invoke(state, Duration::from_secs(60)))
    {
        Some(Answer::Response(v)) => v,
        other => panic!("{other:?}\n{}", std::fs::read_to_string(&record.log).unwrap_or_default()),
    };

    // Succeeded (a hire), then the same hire again (changed: false), then ignored (a departure of
    // nobody): the state each step leaves, run in process as the state machine runs them.
    let hire = event("hire-finance-programmatic.json", json!({}));
    let nobody = event("depart-immediate.json", json!({"employeeId": "E4040"}));
    let runs = [(&hire, Flow::Onboard.steps()), (&hire, Flow::Onboard.steps()), (&nobody, &[Step::Offboard][..])];
    for (i, (raw, steps)) in runs.into_iter().enumerate() {
        let mut state = shared::steps::State::new(raw.clone());
        // As the state machine's first state passes on the execution's name.
        state.delivery = Some(format!("execution-{i}"));
        for &step in steps {
            shared::steps::run(step, &ctx, &mut state).await.expect("step");
        }
        inboxes.audit.drain().await;
        let output = invoke(serde_json::to_value(&state).expect("state"));
        let (deployed, execution) = terminal(inboxes.audit.drain().await);
        assert_eq!(output["outcome"], deployed["outcome"]);
        assert_eq!(execution, format!("execution-{i}"), "the record names the execution it ends");
        // The pipeline, on the same event now (a resend of what the steps did): same record,
        // except what the resend itself changed, and its own delivery.
        let _ = shared::pipeline::process(&ctx, raw).await;
        let (mut in_process, delivery) = terminal(inboxes.audit.drain().await);
        assert!(delivery.starts_with("d-") && delivery.len() == 18, "{delivery}");
        if deployed["changed"] == true {
            in_process["changed"] = json!(true);
        }
        assert_eq!(deployed, in_process);
    }

    // Failed: Step Functions' caught error, as the failure path hands it over.
    let bad = event("hire-engineering.json", json!({"startDate": "2026-13-01"}));
    let report = shared::pipeline::process(&ctx, &bad).await;
    let (in_process, _) = terminal(inboxes.audit.drain().await);
    let cause = json!({"errorType": report.error_type, "errorMessage": report.error}).to_string();
    let state = json!({"event": bad, "error": {"Error": report.error_type, "Cause": cause}});
    invoke(state);
    let (deployed, _) = terminal(inboxes.audit.drain().await);
    assert_eq!(deployed["outcome"], "failed");
    assert_eq!(deployed, in_process);

    // Forged: a state that says Zoë (E1002, hired above and active) left and her access ended,
    // naming another user. The record says what IAM says: her own user, and no end of access.
    let zoe = acct.iam().list_users().path_prefix("/employees/E1002/").send().await.expect("users");
    let zoe_arn = zoe.users()[0].arn().to_owned();
    let departure = event("depart-immediate.json", json!({"employeeId": "E1002"}));
    let forged = json!({"event": departure, "offboard": {
        "userName": "zoe.obrien-nunez", "userArn": format!("arn:aws:iam::{}:user/someone-else", acct.id),
        "status": "disabled", "accessEndedAt": "2026-11-01T00:00:00Z", "actions": []}});
    invoke(forged);
    let (deployed, _) = terminal(inboxes.audit.drain().await);
    assert_eq!(deployed["target"], json!(zoe_arn), "{deployed:#}");
    assert!(
        deployed.get("accessEndedAt").is_none_or(Value::is_null),
        "no end of access IAM does not show: {deployed:#}"
    );
    // After a real departure, the record carries the user's own `access-revoked` time.
    let mut state = shared::steps::State::new(departure.clone());
    shared::steps::run(Step::Offboard, &ctx, &mut state).await.expect("offboard");
    inboxes.audit.drain().await;
    let revoked = acct.iam().list_user_tags().user_name("zoe.obrien-nunez").send().await.expect("tags");
    let revoked = revoked.tags().iter().find(|t| t.key() == "access-revoked").map(|t| t.value().to_owned());
    let mut claimed = serde_json::to_value(&state).expect("state");
    claimed["offboard"]["accessEndedAt"] = json!("2026-11-01T00:00:00Z");
    invoke(claimed);
    let (deployed, _) = terminal(inboxes.audit.drain().await);
    assert_eq!(deployed["accessEndedAt"].as_str(), revoked.as_deref(), "{deployed:#}");
}
