//! The stack deployed into the emulator, with either `Target`.

use super::*;

/// Resource types moto 5.2.5's CloudFormation does not implement (it skips them with a warning).
/// If a newer pin implements one, this test says so and the list must shrink.
const NOT_IN_THE_EMULATOR: &[&str] = &[
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::Events::EventBusPolicy",
    "AWS::Logs::MetricFilter",
    // The intake's and the reviews' Function URLs (and so the `IntakeUrl` and `ReviewsUrl`
    // outputs, which deploy_stack.py drops).
    "AWS::Lambda::Url",
    // The review key and its resource policy (their claims: tests/it/trust/).
    "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::ResourcePolicy",
    "AWS::S3::BucketPolicy",
];

/// Deploys the template into `acct` as `sam deploy` would (transform, upload), with `parameters`
/// (`Key=Value`), and checks the stack is complete and every resource the emulator implements
/// whose `Condition` holds (`IsIdentityCenter` exactly when `Target` is identity-center) was
/// created, and no other. Returns what was created: (logical id, type).
fn deploy(acct: &tests::Account, parameters: &[&str]) -> BTreeSet<(String, String)> {
    let python = std::env::var("ONBOARDING_PYTHON").expect("cargo xtask test sets ONBOARDING_PYTHON");
    let out = acct
        .command(python)
        .arg(root().join("tests/deploy_stack.py"))
        .arg(root())
        .arg("employee-lifecycle")
        .args(parameters)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("PYTHONWARNINGS", "ignore")
        .output()
        .expect("deploy_stack.py");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["status"], "CREATE_COMPLETE");
    let created: BTreeSet<(String, String)> = report["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["status"] == "CREATE_COMPLETE")
        .map(|r| (r["logicalId"].as_str().unwrap_or("").to_owned(), r["type"].as_str().unwrap_or("").to_owned()))
        .collect();
    let identity_center = parameters.contains(&"Target=identity-center");
    let mut skipped = BTreeSet::new();
    for pair in report["expected"].as_array().expect("expected") {
        let (id, kind) = (pair[0].as_str().expect("id").to_owned(), pair[1].as_str().expect("type").to_owned());
        match pair[2].as_str() {
            None => {}
            Some("IsIdentityCenter") if identity_center => {}
            Some("IsIdentityCenter") => {
                assert!(!created.contains(&(id.clone(), kind)), "{id} was created without Target identity-center");
                continue;
            }
            Some(other) => panic!("{id}: a condition this test does not know: {other}"),
        }
        if NOT_IN_THE_EMULATOR.contains(&kind.as_str()) {
            assert!(
                !created.contains(&(id.clone(), kind.clone())),
                "the emulator now creates {kind}: tighten the test"
            );
            skipped.insert(kind);
        } else {
            assert!(created.contains(&(id.clone(), kind.clone())), "{id} ({kind}) was not created");
        }
    }
    assert_eq!(skipped.len(), NOT_IN_THE_EMULATOR.len());
    created
}

#[tokio::test]
async fn the_template_deploys_into_the_emulator() {
    // GIVEN a fresh account, WHEN the stack is deployed with its defaults (Target iam)
    let acct = tests::Account::new().await;
    let created = deploy(&acct, &[]);

    // THEN the stack is complete and every resource the emulator implements was created
    let count = |kind: &str| created.iter().filter(|(_, k)| k == kind).count();
    assert_eq!(count("AWS::IAM::Policy"), 0, "no Identity Center policy on an IAM stack");
    assert_eq!(count("AWS::Lambda::Function"), 11);
    assert_eq!(count("AWS::StepFunctions::StateMachine"), 4);
    assert_eq!(count("AWS::Events::Rule"), 4);
    assert_eq!((count("AWS::Events::EventBus"), count("AWS::Events::Archive")), (1, 1));
    // Each public Function URL (AuthType NONE) with both permissions Lambda has asked for since
    // October 2025 (`lambda:InvokeFunctionUrl`, and `lambda:InvokeFunction` through the URL only):
    // without the second a new URL answers 403. The pinned SAM transform writes both.
    for function in ["IntakeFunction", "ReviewsFunction"] {
        for permission in ["UrlPublicPermissions", "URLInvokeAllowPublicAccess"] {
            let id = format!("{function}{permission}");
            assert!(created.contains(&(id.clone(), "AWS::Lambda::Permission".into())), "{id} was not deployed");
        }
    }

    // AND, through the AWS API: the encrypted topics, the queues with their dead letters, the
    // roles and the boundary
    let topics = acct.sns().list_topics().send().await.expect("topics");
    let mut names = Vec::new();
    for t in topics.topics() {
        let arn = t.topic_arn().expect("arn");
        let attrs = acct.sns().get_topic_attributes().topic_arn(arn).send().await.expect("attributes");
        assert!(
            attrs.attributes().and_then(|a| a.get("KmsMasterKeyId")).is_some_and(|k| !k.is_empty()),
            "{arn} unencrypted"
        );
        names.push(arn.rsplit(':').next().unwrap_or("").to_owned());
    }
    names.sort();
    assert_eq!(names, ["onboarding-alarms", "onboarding-audit", "onboarding-notifications"]);
    let auditors = acct.sqs().get_queue_url().queue_name("onboarding-auditors").send().await.expect("auditors queue");
    let attrs = acct
        .sqs()
        .get_queue_attributes()
        .queue_url(auditors.queue_url().expect("url"))
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .expect("attributes");
    assert!(
        attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy))
            .is_some_and(|r| r.contains("onboarding-auditors-dlq"))
    );
    acct.sqs().get_queue_url().queue_name("onboarding-events-dlq").send().await.expect("events dead-letter queue");
    let roles = acct.iam().list_roles().send().await.expect("roles");
    assert_eq!(
        roles.roles().len(),
        14,
        "one per function, one for the rules, one for the flows, one for the scheduler"
    );
    let dynamodb = aws_sdk_dynamodb::Client::new(&acct.sdk);
    let key_of = async |table: &str| {
        let out = dynamodb.describe_table().table_name(table).send().await.expect(table);
        out.table().map(|t| t.key_schema().iter().map(|k| k.attribute_name().to_owned()).collect::<Vec<_>>())
    };
    assert_eq!(key_of("employee-lifecycle-tombstones").await, Some(vec!["employeeId".to_owned()]));
    // The trail's bucket exists; its lock is read from the template, because the emulator's
    // CloudFormation drops ObjectLockConfiguration (its S3 API honours one: tests/it/trail.rs).
    let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&acct.sdk).force_path_style(true).build());
    s3.head_bucket()
        .bucket(format!("employee-lifecycle-audit-{}-us-east-1", acct.id))
        .send()
        .await
        .expect("the trail bucket");
    let t = template();
    let bucket = &t["Resources"]["TrailBucket"]["Properties"];
    assert_eq!(bucket["ObjectLockEnabled"], true);
    let retention = &bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"];
    assert_eq!(
        (retention["Mode"].as_str(), &retention["Days"]),
        (Some("COMPLIANCE"), &json!({"Ref": "AuditRetentionDays"}))
    );
    assert_eq!(t["Parameters"]["AuditRetentionDays"]["Default"], 400);
    assert_eq!(bucket["VersioningConfiguration"]["Status"], "Enabled");
    assert_eq!(key_of("employee-lifecycle-webhooks").await, Some(vec!["webhookKey".to_owned()]), "the dedupe table");
    let boundary =
        acct.iam().list_policies().scope(aws_sdk_iam::types::PolicyScopeType::Local).send().await.expect("policies");
    assert!(boundary.policies().iter().any(|p| p.policy_name() == Some("employee-permissions-boundary")));
}

/// The same template with `Target` identity-center deploys too: the people table and the eight
/// step functions' Identity Center policies are made, on their roles (checked through the API).
#[tokio::test]
async fn the_identity_center_stack_deploys_into_the_emulator() {
    let acct = tests::Account::new().await;
    let (instance, store) = (tests::stack::INSTANCE_ID, tests::stack::IDENTITY_STORE_ID);
    let created = deploy(
        &acct,
        &[
            "Target=identity-center",
            &format!("IdentityCenterInstanceId={instance}"),
            &format!("IdentityStoreId={store}"),
            "PortalUrl=https://example.awsapps.com/start",
        ],
    );
    assert!(created.contains(&("PeopleTable".to_owned(), "AWS::DynamoDB::Table".to_owned())));
    let dynamodb = aws_sdk_dynamodb::Client::new(&acct.sdk);
    let table = dynamodb.describe_table().table_name("employee-lifecycle-people").send().await.expect("people table");
    let key: Vec<&str> = table.table().expect("table").key_schema().iter().map(|k| k.attribute_name()).collect();
    assert_eq!(key, ["employeeId"], "the key `shared::aws::people` reads and writes");
    let roles = acct.iam().list_roles().send().await.expect("roles");
    let mut with_policy = Vec::new();
    for role in roles.roles() {
        let policies = acct.iam().list_role_policies().role_name(role.role_name()).send().await.expect("policies");
        if let Some(name) = policies.policy_names().iter().find(|p| p.ends_with("-identity-center")) {
            let doc = acct
                .iam()
                .get_role_policy()
                .role_name(role.role_name())
                .policy_name(name)
                .send()
                .await
                .expect("policy");
            let text = shared::aws::percent_decode(doc.policy_document());
            assert!(text.contains(&format!("identitystore/{store}")), "{name}: {text}");
            with_policy.push(name.clone());
        }
    }
    with_policy.sort();
    assert_eq!(
        with_policy,
        [
            "create-user-identity-center",
            "join-groups-identity-center",
            "notify-identity-center",
            "offboard-identity-center",
            "record-identity-center",
            "store-password-identity-center",
            "sweep-identity-center",
            "tag-user-identity-center"
        ]
    );
}
