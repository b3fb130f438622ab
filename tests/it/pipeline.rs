//! The whole onboarding pipeline, in process, against the emulator; every result is checked
//! through the AWS API.

use serde_json::{Value, json};
use shared::pipeline::{EventOutcome, process as onboard};
use shared::tags;
use tests::{Account, config, event, form_value, user_groups, user_names, user_tags};

const SAMPLES: &[(&str, &str, &[&str])] = &[
    ("hire-engineering.json", "jane.doe", &["AllEmployees", "Developers"]),
    ("hire-finance-programmatic.json", "zoe.obrien-nunez", &["AllEmployees", "Finance"]),
    ("hire-unmapped-department.json", "majo.garcia-lopez", &["AllEmployees"]),
    ("hire-non-latin.json", "tai-lang.shan-tian", &["AllEmployees", "Developers"]),
];

#[tokio::test]
async fn sample_hires_become_ready_secured_users() {
    // GIVEN a bootstrapped account with inboxes on both topics
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;

    for (file, user, groups) in SAMPLES {
        // WHEN the event is onboarded
        let ev = event(file, json!({}));
        let report = onboard(&ctx, &ev).await;
        assert_eq!(report.outcome, EventOutcome::Succeeded, "{file}: {:?}", report.error);
        assert_eq!(report.user_name.as_deref(), Some(*user));

        // THEN the user exists under the managed path with its tags and groups
        let u = acct.iam().get_user().user_name(*user).send().await.expect("GetUser");
        let u = u.user().expect("user");
        // (each employee's user lives under their own path: one ListUsers finds it by id)
        let employee = ev["detail"]["employeeId"].as_str().expect("id");
        assert_eq!(u.path(), format!("/employees/{employee}/"));
        assert_eq!(report.user_arn.as_deref(), Some(u.arn()));
        let t = user_tags(&acct, user).await;
        assert_eq!(t.get(tags::EMPLOYEE_ID), ev["detail"]["employeeId"].as_str().map(str::to_owned).as_ref());
        assert_eq!(t.get("department"), ev["detail"]["department"].as_str().map(str::to_owned).as_ref());
        assert_eq!(t.get(tags::MANAGED_BY).map(String::as_str), Some(tags::MANAGED_BY_VALUE));
        assert_eq!(user_groups(&acct, user).await, groups.iter().map(|g| g.to_string()).collect::<Vec<_>>());
        assert_eq!(report.no_rule_matched, *file == "hire-unmapped-department.json");

        // AND it can sign in to the console with the stored password
        acct.iam().get_login_profile().user_name(*user).send().await.expect("login profile");
        let secret_name = format!("employee-lifecycle/{user}/console-password");
        let password = acct.secret_value(&secret_name).await;
        assert!(shared::password::PasswordPolicy::AWS_DEFAULT.accepts(&password));
        assert!(password.len() >= 20);

        // AND the secret's resource policy lets only that user read it
        let policy = acct.secrets().get_resource_policy().secret_id(&secret_name).send().await.expect("policy");
        let policy: Value = serde_json::from_str(policy.resource_policy().expect("policy text")).expect("json");
        assert_eq!(policy["Statement"][0]["Principal"]["AWS"], json!([u.arn()]));
        assert_eq!(policy["Statement"][1]["Effect"], "Deny");
        assert_eq!(policy["Statement"][1]["Condition"]["StringNotLike"]["aws:PrincipalArn"], json!([u.arn()]));
        // (who can read under IAM's real evaluation is proven in tests/it/trust/)
        assert_eq!(policy, shared::policies::secret_policy(u.arn(), &[], &[]));
    }

    // AND every CreateUser carried the permissions boundary, every login profile the reset
    // flag (the emulator drops both, so read what was sent)
    let sent = acct.recorded();
    let creates: Vec<&String> = sent.iter().filter(|(a, _)| a == "CreateUser").map(|(_, b)| b).collect();
    assert_eq!(creates.len(), SAMPLES.len());
    for body in creates {
        let boundary = form_value(body, "PermissionsBoundary").expect("boundary sent");
        assert_eq!(boundary, ctx.targets.boundary_arn);
        assert!(form_value(body, "Path").is_some_and(|p| p.starts_with("/employees/E")), "{body}");
    }
    let profiles: Vec<&String> = sent.iter().filter(|(a, _)| a == "CreateLoginProfile").map(|(_, b)| b).collect();
    assert_eq!(profiles.len(), SAMPLES.len());
    assert!(profiles.iter().all(|b| form_value(b, "PasswordResetRequired").as_deref() == Some("true")));

    // AND one welcome per hire plus one per manager, with filterable attributes
    let welcomes = inboxes.notifications.drain().await;
    let to: Vec<String> = welcomes.iter().map(|m| m.attributes["recipient"].clone()).collect();
    assert_eq!(
        to,
        [
            "jane.doe@example.com",
            "ada.lovelace@example.com",
            "zoe.obrien@example.com",
            "grace.hopper@example.com",
            "majo.garcia@example.com",
            "taro.yamada@example.com"
        ]
    );
    assert!(
        welcomes.iter().all(|m| m.attributes.contains_key("employee-id") && m.attributes.contains_key("event-type"))
    );
    assert!(welcomes[0].message.contains("employee-lifecycle/jane.doe/console-password"));
    assert!(welcomes[0].message.contains("https://"));

    // AND one terminal `succeeded` record per event on the audit topic
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    let terminal: Vec<&Value> = audit.iter().filter(|r| r["terminal"] == true).collect();
    assert_eq!(terminal.len(), SAMPLES.len());
    assert!(terminal.iter().all(|r| r["outcome"] == "succeeded" && r["schemaVersion"] == 1 && r["changed"] == true));
    assert!(
        audit.iter().any(|r| r["action"] == "iam:CreateUser" && r["outcome"] == "done" && r["employeeId"] == "E1001")
    );
    let developers = format!("arn:aws:iam::{}:group/Developers", acct.id);
    assert!(audit.iter().any(|r| r["action"] == "iam:AddUserToGroup" && r["target"] == developers.as_str()));
}

#[tokio::test]
async fn a_resend_changes_nothing_and_sends_no_second_welcome() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let ev = event("hire-finance-programmatic.json", json!({}));

    let first = onboard(&ctx, &ev).await;
    assert_eq!(first.outcome, EventOutcome::Succeeded, "{:?}", first.error);
    let welcomes = inboxes.notifications.drain().await.len();
    assert_eq!(welcomes, 2);
    inboxes.audit.drain().await;

    // WHEN HR resends the same event (twice)
    for _ in 0..2 {
        let again = onboard(&ctx, &ev).await;
        // THEN nothing changes
        assert_eq!(again.outcome, EventOutcome::Unchanged, "{:?}", again.actions);
        assert_eq!(again.user_name, first.user_name);
        assert_eq!(again.secret_arn, first.secret_arn);
        assert_eq!(again.access_key_secret_arn, first.access_key_secret_arn);
    }
    let user = first.user_name.as_deref().expect("user");
    assert_eq!(user_names(&acct).await, [user]);
    let keys = acct.iam().list_access_keys().user_name(user).send().await.expect("keys");
    assert_eq!(keys.access_key_metadata().len(), 1);
    for secret in [first.secret_arn.as_deref(), first.access_key_secret_arn.as_deref()] {
        let versions =
            acct.secrets().list_secret_version_ids().secret_id(secret.expect("arn")).send().await.expect("versions");
        assert_eq!(versions.versions().len(), 1, "a second secret version was written");
    }
    assert!(inboxes.notifications.drain().await.is_empty(), "a second welcome went out");
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    let resends: Vec<&Value> = audit.iter().filter(|r| r["terminal"] == true).collect();
    assert_eq!(resends.len(), 2);
    assert!(resends.iter().all(|r| r["outcome"] == "succeeded" && r["changed"] == false), "{resends:?}");
    assert!(audit.iter().filter(|r| r["terminal"] == false).all(|r| r["outcome"] == "already-done"));
}

#[tokio::test]
async fn two_people_with_one_name_get_two_users_and_foreign_users_are_left_alone() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // GIVEN a `jane.doe` made by hand, not managed by this system
    acct.iam().create_user().user_name("jane.doe").send().await.expect("hand-made user");

    // WHEN two different Jane Does are hired
    let a = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    let b = onboard(&ctx, &event("hire-same-name.json", json!({}))).await;

    // THEN each gets their own user, and the hand-made one is untouched
    assert_eq!(a.user_name.as_deref(), Some("jane.doe2"), "{:?}", a.error);
    assert_eq!(b.user_name.as_deref(), Some("jane.doe3"), "{:?}", b.error);
    assert_eq!(user_tags(&acct, "jane.doe2").await[tags::EMPLOYEE_ID], "E1001");
    assert_eq!(user_tags(&acct, "jane.doe3").await[tags::EMPLOYEE_ID], "E2077");
    assert!(user_tags(&acct, "jane.doe").await.is_empty());
    assert!(user_groups(&acct, "jane.doe").await.is_empty());

    // AND a resend of the first finds its own user again, not a fourth
    let again = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!((again.user_name.as_deref(), again.outcome), (Some("jane.doe2"), EventOutcome::Unchanged));
    assert_eq!(user_names(&acct).await, ["jane.doe", "jane.doe2", "jane.doe3"]);
}

#[tokio::test]
async fn a_missing_group_is_named_and_the_event_fails_audited() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    // GIVEN the Developers group was deleted after bootstrap
    acct.iam().delete_group().group_name("Developers").send().await.expect("delete group");

    let r = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!(r.outcome, EventOutcome::Failed);
    let err = r.error.expect("error");
    assert!(err.contains("IAM group `Developers` does not exist"), "{err}");
    assert_eq!(r.error_type.as_deref(), Some("Onboarding.MissingResource"));
    // no membership was half-made: the check runs before the first AddUserToGroup
    assert!(user_groups(&acct, "jane.doe").await.is_empty());
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    let terminal: Vec<&Value> = audit.iter().filter(|r| r["terminal"] == true).collect();
    assert_eq!(terminal.len(), 1);
    assert_eq!(terminal[0]["outcome"], "failed");
    assert!(terminal[0]["error"].as_str().is_some_and(|e| e.contains("Developers")));
}

#[tokio::test]
async fn programmatic_access_stores_the_key_it_created() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    let r = onboard(
        &ctx,
        &event("hire-finance-programmatic.json", json!({"access": {"console": false, "programmatic": true}})),
    )
    .await;
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
    let user = r.user_name.expect("user");
    // no console access was asked for, so none was given
    assert!(acct.iam().get_login_profile().user_name(&user).send().await.is_err());
    assert!(r.secret_arn.is_none());
    let keys = acct.iam().list_access_keys().user_name(&user).send().await.expect("keys");
    let id = keys.access_key_metadata()[0].access_key_id().expect("id");
    let stored = acct.access_key_document(&r.access_key_secret_arn.expect("arn")).await;
    assert_eq!(stored["AccessKeyId"], id);
    assert!(stored["SecretAccessKey"].as_str().is_some_and(|s| s.len() >= 30));
}

#[tokio::test]
async fn a_plan_changes_nothing() {
    let acct = Account::new().await;
    let (mut ctx, inboxes) = acct.ready(config()).await;
    ctx.dry_run = true;
    let r = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!(r.outcome, EventOutcome::WouldChange, "{:?}", r.error);
    assert!(r.actions.iter().any(|a| a.action == "iam:CreateUser"));
    // The plan predicts the run: the user would be created with its tags, so `tag-user` would
    // have nothing to write (as a run's does not); `notify` would mark the welcome sent.
    let tagging = |step: &str| -> Vec<_> {
        r.actions.iter().filter(|a| a.action == "iam:TagUser" && a.step == step).map(|a| a.outcome).collect()
    };
    assert_eq!(tagging("tag-user"), [shared::audit::Outcome::AlreadyDone], "{:?}", r.actions);
    assert_eq!(tagging("notify"), [shared::audit::Outcome::WouldDo], "{:?}", r.actions);
    assert!(user_names(&acct).await.is_empty());
    assert!(acct.secrets().list_secrets().send().await.expect("list").secret_list().is_empty());
    assert!(inboxes.audit.drain().await.is_empty());
    assert!(inboxes.notifications.drain().await.is_empty());
}

#[tokio::test]
async fn a_run_that_died_after_storing_the_secret_recovers_with_one_consistent_password() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // GIVEN an earlier attempt created the user and the secret, then died before the login profile
    let ev = event("hire-engineering.json", json!({}));
    let mut state = shared::steps::State::new(ev.clone());
    shared::steps::run(shared::steps::Step::CreateUser, &ctx, &mut state).await.expect("create-user");
    // (made as the step makes it: with this system's tags for this employee)
    let tag = |k: &str, v: &str| aws_sdk_secretsmanager::types::Tag::builder().key(k).value(v).build();
    acct.secrets()
        .create_secret()
        .name("employee-lifecycle/jane.doe/console-password")
        .secret_string("stale-value-from-the-dead-run")
        .tags(tag("managed-by", "employee-lifecycle"))
        .tags(tag("employee-id", "E1001"))
        .tags(tag("user-name", "jane.doe"))
        .send()
        .await
        .expect("stale secret");

    // WHEN the event is delivered again
    let r = onboard(&ctx, &ev).await;

    // THEN the step writes a fresh password into the existing secret and sets the same one on the profile
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
    assert!(r.actions.iter().any(|a| a.action == "secretsmanager:PutSecretValue"));
    let current = acct.secret_value("employee-lifecycle/jane.doe/console-password").await;
    assert_ne!(current, "stale-value-from-the-dead-run");
    let sent = acct.recorded();
    let (_, profile) = sent.iter().find(|(a, _)| a == "CreateLoginProfile").expect("CreateLoginProfile sent");
    assert_eq!(form_value(profile, "Password").as_deref(), Some(current.as_str()), "login profile and secret disagree");
}

#[tokio::test]
async fn the_generated_password_meets_a_strict_account_policy() {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // GIVEN an account that demands 40 characters of every class
    acct.iam()
        .update_account_password_policy()
        .minimum_password_length(40)
        .require_symbols(true)
        .require_numbers(true)
        .require_uppercase_characters(true)
        .require_lowercase_characters(true)
        .send()
        .await
        .expect("password policy");

    let r = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
    let pw = acct.secret_value(&r.secret_arn.expect("arn")).await;
    assert_eq!(pw.len(), 40);
    let strict = shared::password::PasswordPolicy {
        minimum_length: 40,
        require_uppercase: true,
        require_lowercase: true,
        require_numbers: true,
        require_symbols: true,
    };
    assert!(strict.accepts(&pw));
}

#[tokio::test]
async fn corrected_attributes_are_reconciled_without_touching_foreign_tags() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let first = onboard(&ctx, &event("hire-engineering.json", json!({}))).await;
    let user = first.user_name.expect("user");
    // GIVEN someone else tagged the user
    let team = aws_sdk_iam::types::Tag::builder().key("team").value("platform").build().expect("tag");
    acct.iam().tag_user().user_name(&user).tags(team).send().await.expect("foreign tag");
    inboxes.notifications.drain().await;

    // WHEN HR resends the hire with a corrected title and without a cost center
    let mut corrected =
        event("hire-engineering.json", json!({"eventId": "hr-evt-1001-fix", "title": "Staff Engineer"}));
    corrected["detail"].as_object_mut().expect("detail").remove("costCenter");
    let r = onboard(&ctx, &corrected).await;

    // THEN the owned tags follow HR, the foreign one stays, and the same user is kept
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
    assert_eq!(r.user_name.as_deref(), Some(user.as_str()));
    let t = user_tags(&acct, &user).await;
    assert_eq!(t["title"], "Staff Engineer");
    assert!(!t.contains_key("cost-center"));
    assert_eq!(t["team"], "platform");
    assert_eq!(t[tags::WELCOME_SENT], "hr-evt-1001", "the welcome marker is not an HR attribute");
    assert!(r.actions.iter().any(|a| a.action == "iam:UntagUser" && a.outcome == shared::audit::Outcome::Done));
    // AND the person is not welcomed twice, nor given a second password
    assert!(inboxes.notifications.drain().await.is_empty());
    let versions =
        acct.secrets().list_secret_version_ids().secret_id(first.secret_arn.expect("arn")).send().await.expect("v");
    assert_eq!(versions.versions().len(), 1);
}

#[tokio::test]
async fn an_event_from_the_future_is_refused_and_the_persons_real_events_still_apply() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let hire = event("hire-engineering.json", json!({}));
    assert_eq!(onboard(&ctx, &hire).await.outcome, EventOutcome::Succeeded);
    // GIVEN a forged change whose envelope time lies years ahead (it would make every real
    // event after it look stale, the departure included)
    let mut forged = event("change-transfer.json", json!({"employeeId": "E1001", "eventId": "forged-1"}));
    forged["time"] = json!("2036-01-01T00:00:00Z");
    // WHEN it is processed THEN it fails naming `time`, changes nothing and is audited
    let r = onboard(&ctx, &forged).await;
    assert_eq!(r.outcome, EventOutcome::Failed);
    assert!(
        r.error.as_deref().is_some_and(|e| e.contains("time") && e.contains("ahead of the clock")),
        "{:?}",
        r.error
    );
    assert_eq!(r.error_type.as_deref(), Some("Onboarding.InvalidEvent"));
    let tags = acct.iam().list_user_tags().user_name("jane.doe").send().await.expect("tags");
    let last = tags.tags().iter().find(|t| t.key() == "last-event-time").map(|t| t.value().to_owned());
    assert_eq!(last.as_deref(), Some("2026-11-20T09:00:00Z"), "the forged time was not recorded");
    let audit: Vec<Value> = inboxes.audit.drain().await.iter().map(|m| m.json()).collect();
    assert!(audit.iter().any(|a| a["eventId"] == "forged-1" && a["outcome"] == "failed" && a["terminal"] == true));
    // AND the person's real, later departure still applies
    let leave = event("depart-immediate.json", json!({"employeeId": "E1001", "eventId": "leave-1"}));
    let r = onboard(&ctx, &leave).await;
    assert_eq!(r.outcome, EventOutcome::Succeeded, "{:?}", r.error);
    assert_eq!(r.status.as_deref(), Some("disabled"));
}
