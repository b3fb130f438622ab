//! The guardrail SCP: the control points kept from every administrator but the deployer.

use super::*;

/// The optional guardrail (`infra/guardrail-scp.json`, a service control policy for
/// organisations that can attach one): even an account administrator with `Allow *` cannot
/// change this system's functions, flows, roles, boundary, stack, trail policy, keys, queues,
/// topics, logs or alarms, start a flow or invoke a function outside the bus, the scheduler and
/// the flows, or change an employee's boundary; the deployer role can (the operator role sets
/// boundaries when adopting). Who can change the SCP: only the organization's management
/// account, to which no SCP applies.
#[test]
fn the_guardrail_keeps_the_control_points_from_every_administrator_but_the_deployer() {
    let s = stack();
    let text = std::fs::read_to_string(tests::root().join("infra/guardrail-scp.json")).expect("guardrail");
    assert!(text.len() <= 5_120, "{} characters: over the SCP size limit", text.len());
    let guardrail: Value = serde_json::from_str(&text).expect("json");
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, guardrail];
    let everything = |name: &'static str, role: &str| Principal {
        name,
        arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"),
        account: ACCOUNT.into(),
        identity: admin().identity,
        boundary: None,
    };
    let deployer = everything("deployer", "employee-lifecycle-deployer");
    let operator = everything("operator", "employee-lifecycle-operator");
    let none = Resource::None;
    let keyed = |action: &str, key: &str, alias: &str| {
        Request::new(action, &arn("kms", &format!("key/{key}"))).with("kms:ResourceAliases", &[alias])
    };
    let changes = [
        Request::new("lambda:UpdateFunctionCode", &arn("lambda", "function:employee-record")),
        Request::new("lambda:PutFunctionConcurrency", &arn("lambda", "function:employee-archiver")),
        Request::new("states:UpdateStateMachine", &arn("states", "stateMachine:employee-offboard")),
        Request::new("cloudformation:DeleteStack", &arn("cloudformation", "stack/employee-lifecycle/0a1b2c3d")),
        Request::new("iam:PutRolePolicy", &role_arn("OffboardRole")),
        Request::new("iam:CreateRole", &format!("arn:aws:iam::{ACCOUNT}:role/employee-lifecycle-escape")),
        Request::new(
            "iam:CreatePolicyVersion",
            &format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary"),
        ),
        Request::new("s3:PutBucketPolicy", &format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}")),
        Request::new("events:DisableRule", &arn("events", "rule/hr-events/employee-lifecycle-OffboardRule-1A2B")),
        Request::new("sqs:SetQueueAttributes", &arn("sqs", "onboarding-archive")),
        // The topics' policy (who may publish records and messages) is a topic attribute.
        Request::new("sns:SetTopicAttributes", &arn("sns", "onboarding-audit")).with("sns:AttributeName", &["Policy"]),
        Request::new("logs:DeleteLogGroup", &arn("logs", "log-group:/aws/lambda/employee-offboard")),
        Request::new(
            "cloudwatch:DeleteAlarms",
            &arn("cloudwatch", "alarm:employee-lifecycle-ArchiveQueueAgeAlarm-1A2B"),
        ),
        Request::new("lambda:DeleteEventSourceMapping", &arn("lambda", "event-source-mapping:0a1b2c3d"))
            .with("lambda:FunctionArn", &[&arn("lambda", "function:employee-archiver")]),
    ];
    for r in &changes {
        assert!(
            matches!(decide_under(&scps, &admin(), r, none), Decision::ExplicitDeny(_)),
            "{} {}",
            r.action,
            r.resource
        );
        assert_eq!(decide_under(&scps, &deployer, r, none), Decision::Allowed, "{} {}", r.action, r.resource);
    }
    // The keys, each under its own key policy (which delegates their administration to IAM).
    for (key, alias, action) in [
        ("Key", "alias/employee-lifecycle-events", "kms:ScheduleKeyDeletion"),
        ("SecretsKey", "alias/employee-lifecycle-secrets", "kms:PutKeyPolicy"),
    ] {
        let policy = resource(&s, key)["KeyPolicy"].clone();
        let r = keyed(action, key, alias);
        assert!(
            matches!(decide_under(&scps, &admin(), &r, Resource::Key(&policy)), Decision::ExplicitDeny(_)),
            "{key}"
        );
        assert_eq!(decide_under(&scps, &deployer, &r, Resource::Key(&policy)), Decision::Allowed, "{key}");
    }
    // Flows start only from the bus's and the scheduler's roles; functions run only in flows.
    let start = Request::new("states:StartExecution", &arn("states", "stateMachine:employee-offboard"));
    let invoke = Request::new("lambda:InvokeFunction", &arn("lambda", "function:employee-record"));
    for p in [admin(), deployer.clone(), operator.clone()] {
        assert!(!decide_under(&scps, &p, &start, none).allowed(), "{}", p.name);
        assert!(!decide_under(&scps, &p, &invoke, none).allowed(), "{}", p.name);
    }
    assert_eq!(decide_under(&scps, &function_role(&s, "EventsRole"), &start, none), Decision::Allowed);
    assert_eq!(decide_under(&scps, &function_role(&s, "SchedulerRole"), &start, none), Decision::Allowed);
    assert_eq!(decide_under(&scps, &function_role(&s, "FlowsRole"), &invoke, none), Decision::Allowed);
    // Employees' boundaries: the operator (adoption) and the deployer only.
    let boundary = Request::new("iam:PutUserPermissionsBoundary", &user_arn("E1", "jane.doe"));
    assert!(!decide_under(&scps, &admin(), &boundary, none).allowed());
    assert_eq!(decide_under(&scps, &operator, &boundary, none), Decision::Allowed);
    // Everything else of the account stays the administrator's.
    for r in [
        Request::new("lambda:UpdateFunctionCode", &arn("lambda", "function:team-etl")),
        Request::new("iam:CreateRole", &format!("arn:aws:iam::{ACCOUNT}:role/team-etl")),
    ] {
        assert_eq!(decide_under(&scps, &admin(), &r, none), Decision::Allowed, "{} {}", r.action, r.resource);
    }
    let team_key = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let team = keyed("kms:ScheduleKeyDeletion", "team", "alias/team-data");
    assert_eq!(decide_under(&scps, &admin(), &team, Resource::Key(&team_key)), Decision::Allowed);
}

/// The evaluators do not model KMS grants (a grant allows its grantee whatever the policies
/// say), so who can *create* one on this system's keys is proven instead: no function role and
/// no employee; an account administrator, through the key policies' delegation to IAM (the
/// docs/deploying.md says so), and under the guardrail the deployer alone.
#[test]
fn only_the_keys_administrators_can_grant_on_them_and_under_the_guardrail_only_the_deployer() {
    let s = stack();
    let text = std::fs::read_to_string(tests::root().join("infra/guardrail-scp.json")).expect("guardrail");
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, serde_json::from_str(&text).expect("json")];
    let mut in_template: Vec<&str> = s["Resources"]
        .as_object()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::IAM::Role")
        .map(|(id, _)| id.as_str())
        .collect();
    in_template.sort_unstable();
    assert_eq!(in_template, ROLES, "every role of the stack is asked");
    let deployer = Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/employee-lifecycle-deployer"), ..admin() };
    for (key, alias) in [("Key", "alias/employee-lifecycle-events"), ("SecretsKey", "alias/employee-lifecycle-secrets")]
    {
        let policy = resource(&s, key)["KeyPolicy"].clone();
        let k = Resource::Key(&policy);
        let grant = Request::new("kms:CreateGrant", &arn("kms", &format!("key/{key}")))
            .with("kms:ResourceAliases", &[alias])
            .with("kms:GranteePrincipal", &[&admin().arn]);
        for role in ROLES {
            denied(&function_role(&s, role), grant.clone(), k);
        }
        denied(&employee(&s, "jane.doe", "E1"), mfa(grant.clone()), k);
        allowed(&admin(), grant.clone(), k);
        assert!(matches!(decide_under(&scps, &admin(), &grant, k), Decision::ExplicitDeny(_)), "{key}");
        assert_eq!(decide_under(&scps, &deployer, &grant, k), Decision::Allowed, "{key}");
    }
}
