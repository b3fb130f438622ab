//! Who can do what, proven by evaluating the real policy documents with IAM's rules
//! (`tests::policy`: explicit Deny wins; within one account an identity Allow inside the
//! boundary, or a resource-policy Allow, suffices; a boundary intersects identity policies; a
//! KMS key policy is authoritative). The documents are the template's (boundary, roles, key,
//! bus, topics, queue), what bootstrap installs (self-service, force-MFA), and a secret's
//! resource policy as the emulator holds it after a real hire. The emulator itself enforces
//! none of them.
//!
//! Each "nobody else can" is shown by a concrete somebody denied, and each "the person can" by
//! the person allowed, so a ceiling that blocks everything fails too.

use serde_json::{Value, json};
use shared::pipeline::{EventOutcome, process};
use shared::policies;
use tests::policy::{Decision, Principal, Request, Resource, decide, decide_under};
use tests::stack::{
    ACCOUNT, AUDITOR, HR_PUBLISHER, IDENTITY_STORE_ID, INSTANCE_ID, SERVICE_DESK, SIGNING_SECRET, STACK, arn,
    function_role, resource, role_arn, stack,
};
use tests::{Account, REGION, config, event};

/// Every role of the stack (a test checks the template has exactly these).
const ROLES: [&str; 14] = [
    "ArchiverRole",
    "CreateUserRole",
    "EventsRole",
    "FlowsRole",
    "IntakeRole",
    "JoinGroupsRole",
    "NotifyRole",
    "OffboardRole",
    "RecordRole",
    "ReviewsRole",
    "SchedulerRole",
    "StorePasswordRole",
    "SweepRole",
    "TagUserRole",
];

fn user_arn(employee: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}::user/employees/{employee}/{name}").replace("::user", ":user")
}

fn secret_arn(user: &str, kind: &str) -> String {
    arn("secretsmanager", &format!("secret:employee-lifecycle/{user}/{kind}-AbCdEf"))
}

/// An employee under the stack's boundary, whose groups grant *everything* (the worst case a
/// careless group could give), plus bootstrap's self-service and force-MFA policies.
fn employee(stack: &Value, name: &'static str, employee_id: &str) -> Principal {
    let cfg = config();
    Principal {
        name,
        arn: user_arn(employee_id, name),
        account: ACCOUNT.into(),
        identity: vec![
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
            policies::self_service(&cfg),
            policies::force_mfa(),
        ],
        boundary: Some(resource(stack, "PermissionsBoundary")["PolicyDocument"].clone()),
    }
}

/// An account administrator: `Allow *` on everything, no boundary.
fn admin() -> Principal {
    Principal {
        name: "admin",
        arn: format!("arn:aws:iam::{ACCOUNT}:role/Administrator"),
        account: ACCOUNT.into(),
        identity: vec![
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ],
        boundary: None,
    }
}

/// A principal whose identity policy allows exactly `action` on `*` (e.g. an HR integration).
fn allowed_to(name: &'static str, principal_arn: &str, actions: &[&str]) -> Principal {
    Principal {
        name,
        arn: principal_arn.into(),
        account: ACCOUNT.into(),
        identity: vec![
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}),
        ],
        boundary: None,
    }
}

fn mfa(r: Request) -> Request {
    r.with("aws:MultiFactorAuthPresent", &["true"])
}

#[track_caller]
fn denied(p: &Principal, r: Request, res: Resource<'_>) {
    let d = decide(p, &r, res);
    assert!(!d.allowed(), "{} must not be able to {} on {}, but is: {d:?}", p.name, r.action, r.resource);
}

#[track_caller]
fn allowed(p: &Principal, r: Request, res: Resource<'_>) {
    let d = decide(p, &r, res);
    assert_eq!(d, Decision::Allowed, "{} must be able to {} on {}", p.name, r.action, r.resource);
}

#[test]
fn the_evaluator_follows_iams_rules() {
    // Wildcards span slashes and colons; `?` is one character.
    assert!(tests::policy::like("arn:aws:iam::*:user/*/jane", "arn:aws:iam::1:user/employees/E1/jane"));
    assert!(!tests::policy::like("arn:aws:iam::*:user/jane", "arn:aws:iam::1:user/employees/E1/jane"));
    assert!(tests::policy::like("iam:Get?ser", "iam:GetUser"));
    let allow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]});
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Sid": "No", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}]});
    let p = |identity: Vec<Value>, boundary: Option<Value>| Principal {
        name: "p",
        arn: format!("arn:aws:iam::{ACCOUNT}:user/p"),
        account: ACCOUNT.into(),
        identity,
        boundary,
    };
    let get = Request::new("s3:GetObject", "arn:aws:s3:::b/k");
    // Explicit deny wins over an allow.
    let d = decide(
        &p(vec![allow.clone(), deny.clone()], None),
        &Request::new("s3:DeleteObject", "arn:aws:s3:::b/k"),
        Resource::None,
    );
    assert_eq!(d, Decision::ExplicitDeny("identity: No".into()));
    // Nothing allows: implicit deny. An identity allow suffices within the account.
    assert_eq!(decide(&p(vec![], None), &get, Resource::None), Decision::ImplicitDeny);
    assert_eq!(decide(&p(vec![allow.clone()], None), &get, Resource::None), Decision::Allowed);
    // A boundary intersects: an identity allow outside it is denied.
    let ceiling =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]});
    assert_eq!(decide(&p(vec![allow.clone()], Some(ceiling.clone())), &get, Resource::None), Decision::ImplicitDeny);
    // A resource policy naming the user's ARN, or everyone, suffices even outside the user's
    // boundary; one naming the account only delegates to IAM (which the boundary limits); one
    // naming a role's ARN is limited by that role's boundary.
    let bucket = |who: Value| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": who}, "Action": "s3:GetObject", "Resource": "*"}]});
    let me = bucket(json!(format!("arn:aws:iam::{ACCOUNT}:user/p")));
    assert_eq!(decide(&p(vec![], Some(ceiling.clone())), &get, Resource::Policy(&me)), Decision::Allowed);
    let everyone = bucket(json!("*"));
    assert_eq!(decide(&p(vec![], Some(ceiling.clone())), &get, Resource::Policy(&everyone)), Decision::Allowed);
    let account = bucket(json!(format!("arn:aws:iam::{ACCOUNT}:root")));
    assert_eq!(decide(&p(vec![], None), &get, Resource::Policy(&account)), Decision::ImplicitDeny);
    assert_eq!(decide(&p(vec![allow.clone()], None), &get, Resource::Policy(&account)), Decision::Allowed);
    let role = Principal {
        name: "bounded role",
        arn: format!("arn:aws:iam::{ACCOUNT}:role/r"),
        account: ACCOUNT.into(),
        identity: vec![],
        boundary: Some(ceiling.clone()),
    };
    let to_role = bucket(json!(role.arn.clone()));
    assert_eq!(decide(&role, &get, Resource::Policy(&to_role)), Decision::ImplicitDeny);
    // Across accounts both sides must allow: the identity policy alone is not enough, nor the
    // resource policy alone.
    let elsewhere = Request::new("sqs:SendMessage", "arn:aws:sqs:us-east-1:444455556666:q");
    let sqs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]});
    assert_eq!(decide(&p(vec![sqs.clone()], None), &elsewhere, Resource::None), Decision::ImplicitDeny);
    let queue = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "sqs:SendMessage", "Resource": "*"}]});
    assert_eq!(decide(&p(vec![], None), &elsewhere, Resource::Policy(&queue)), Decision::ImplicitDeny);
    assert_eq!(decide(&p(vec![sqs], None), &elsewhere, Resource::Policy(&queue)), Decision::Allowed);
    // KMS: an identity allow counts only where the key policy delegates to the account.
    let no_delegation = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:role/x"}, "Action": "kms:*", "Resource": "*"}]});
    let kms =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]});
    let decrypt = Request::new("kms:Decrypt", &format!("arn:aws:kms:us-east-1:{ACCOUNT}:key/k"));
    assert_eq!(decide(&p(vec![kms.clone()], None), &decrypt, Resource::Key(&no_delegation)), Decision::ImplicitDeny);
    let delegation = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    assert_eq!(decide(&p(vec![kms], None), &decrypt, Resource::Key(&delegation)), Decision::Allowed);
    // Conditions: negated operators match an absent key; positive ones do not.
    let cond = |op: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {op: {"aws:ResourceTag/team": "x"}}}]});
    assert!(decide(&p(vec![cond("StringNotEquals")], None), &get, Resource::None).allowed());
    assert!(!decide(&p(vec![cond("StringEquals")], None), &get, Resource::None).allowed());
    assert!(decide(&p(vec![cond("StringEqualsIfExists")], None), &get, Resource::None).allowed());
    // ForAnyValue on an absent key fails, negated or not.
    assert!(!decide(&p(vec![cond("ForAnyValue:StringNotEquals")], None), &get, Resource::None).allowed());
    // Condition key names are case-insensitive.
    let tagged = get.clone().with("aws:PrincipalTag/team", &["x"]);
    let upper = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringEquals": {"AWS:PRINCIPALTAG/team": "x"}}}]});
    assert!(decide(&p(vec![upper], None), &tagged, Resource::None).allowed());
    // ArnLike matches part by part: a wildcard does not span the colons between an ARN's parts.
    assert!(tests::policy::arn_like("arn:aws:iam::*:role/*", "arn:aws:iam::1:role/a:b"));
    assert!(!tests::policy::arn_like("arn:aws:iam::1*", "arn:aws:iam::1:role/a"));
    let arn_cond = |pattern: &str| json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": pattern}}}]});
    assert!(decide(&p(vec![arn_cond("arn:aws:iam::*:user/*")], None), &get, Resource::None).allowed());
    assert!(!decide(&p(vec![arn_cond(&format!("arn:aws:iam::{ACCOUNT}*"))], None), &get, Resource::None).allowed());
    // A service principal is an AWS service, with no account; the simulator decides on a KMS
    // encryption-context key (renamed for it: `tests::simulator`) as ours does.
    let on_service = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*", "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}, "StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:us-east-1:1:t"}}}]});
    let sns = Principal {
        name: "sns",
        arn: "sns.amazonaws.com".into(),
        account: ACCOUNT.into(),
        identity: vec![],
        boundary: None,
    };
    let by_topic = |topic: &str| decrypt.clone().with("kms:EncryptionContext:aws:sns:topicArn", &[topic]);
    assert_eq!(decide(&sns, &by_topic("arn:aws:sns:us-east-1:1:t"), Resource::Key(&on_service)), Decision::Allowed);
    assert_eq!(
        decide(&sns, &by_topic("arn:aws:sns:us-east-1:1:u"), Resource::Key(&on_service)),
        Decision::ImplicitDeny
    );
}

#[test]
fn the_boundary_is_a_ceiling_even_when_a_group_grants_everything() {
    let s = stack();
    let jane = employee(&s, "jane.doe", "E1");
    let me = jane.arn.clone();
    let bob = user_arn("E2", "bob.smith");
    let group = |g: &str| format!("arn:aws:iam::{ACCOUNT}:group/{g}");
    let none = Resource::None;
    // What the person can do for themselves.
    allowed(&jane, mfa(Request::new("iam:ChangePassword", &me)), none);
    allowed(&jane, Request::new("iam:ChangePassword", &me), none); // first sign-in: no MFA yet
    allowed(&jane, Request::new("iam:CreateVirtualMFADevice", &format!("arn:aws:iam::{ACCOUNT}:mfa/jane.doe")), none);
    allowed(&jane, Request::new("iam:EnableMFADevice", &me), none);
    allowed(&jane, mfa(Request::new("iam:DeactivateMFADevice", &me)), none);
    allowed(&jane, mfa(Request::new("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv")), none);
    // Never, for anyone (themselves included): credentials, MFA of others, groups, policies,
    // boundaries, roles, identity providers, the account password policy.
    for (action, target) in [
        ("iam:CreateAccessKey", bob.clone()),
        ("iam:CreateAccessKey", me.clone()),
        ("iam:UpdateAccessKey", bob.clone()),
        ("iam:DeleteAccessKey", bob.clone()),
        ("iam:CreateServiceSpecificCredential", bob.clone()),
        ("iam:ResetServiceSpecificCredential", bob.clone()),
        ("iam:UploadSSHPublicKey", bob.clone()),
        ("iam:UpdateSSHPublicKey", me.clone()),
        ("iam:UploadSigningCertificate", bob.clone()),
        ("iam:CreateLoginProfile", bob.clone()),
        ("iam:UpdateLoginProfile", bob.clone()),
        ("iam:DeleteLoginProfile", bob.clone()),
        ("iam:EnableMFADevice", bob.clone()),
        ("iam:DeactivateMFADevice", bob.clone()),
        ("iam:ResyncMFADevice", bob.clone()),
        ("iam:DeleteVirtualMFADevice", format!("arn:aws:iam::{ACCOUNT}:mfa/bob.smith")),
        ("iam:AddUserToGroup", group("Admins")),
        ("iam:RemoveUserFromGroup", group("Developers")),
        ("iam:CreateGroup", group("Admins2")),
        ("iam:UpdateGroup", group("Admins")),
        ("iam:DeleteGroup", group("Finance")),
        ("iam:AttachUserPolicy", me.clone()),
        ("iam:PutUserPolicy", me.clone()),
        ("iam:AttachGroupPolicy", group("Developers")),
        ("iam:CreatePolicyVersion", format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary")),
        ("iam:DeleteUserPermissionsBoundary", me.clone()),
        ("iam:PutUserPermissionsBoundary", bob.clone()),
        ("iam:CreateRole", format!("arn:aws:iam::{ACCOUNT}:role/escape")),
        ("iam:UpdateAssumeRolePolicy", format!("arn:aws:iam::{ACCOUNT}:role/Administrator")),
        ("iam:PassRole", format!("arn:aws:iam::{ACCOUNT}:role/Administrator")),
        ("iam:CreateUser", format!("arn:aws:iam::{ACCOUNT}:user/employees/E9/mallory")),
        ("iam:TagUser", me.clone()),
        ("iam:UntagUser", bob.clone()),
        ("iam:CreateSAMLProvider", format!("arn:aws:iam::{ACCOUNT}:saml-provider/evil")),
        ("iam:CreateOpenIDConnectProvider", format!("arn:aws:iam::{ACCOUNT}:oidc-provider/evil.example")),
        ("iam:UpdateAccountPasswordPolicy", "*".into()),
        ("iam:DeleteAccountPasswordPolicy", "*".into()),
    ] {
        denied(&jane, mfa(Request::new(action, &target)), none);
    }
    // Nor drive or change this system: `employees_reach_none_of_this_systems_control_points...`.
}

/// Issue #23, items 1 and 2: an employee whose groups grant everything can reach none of this
/// system's control points (each a concrete resource of the deployed stack), cannot use a role
/// session that does not carry their own name as its source identity, and gets no federation
/// token. An account administrator (no boundary) still can: that is the honest limit, and each
/// such step is visible in CloudTrail.
#[test]
fn employees_reach_none_of_this_systems_control_points_and_their_role_sessions_carry_their_name() {
    let s = stack();
    let jane = employee(&s, "jane.doe", "E1");
    let none = Resource::None;
    let log_group = arn("logs", "log-group:/aws/lambda/employee-offboard");
    let alarm = arn("cloudwatch", "alarm:employee-lifecycle-OffboardFailedAlarm-1A2B3C");
    let stack_arn = arn("cloudformation", "stack/employee-lifecycle/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d");
    let bucket = format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}");
    let mapping = arn("lambda", "event-source-mapping:0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d");
    let controls = [
        ("events:PutEvents", arn("events", "event-bus/hr-events")),
        ("events:PutRule", arn("events", "rule/hr-events/forged")),
        ("lambda:InvokeFunction", arn("lambda", "function:employee-store-password")),
        ("lambda:UpdateFunctionCode", arn("lambda", "function:employee-offboard")),
        ("sns:Publish", arn("sns", "onboarding-audit")),
        ("sns:Subscribe", arn("sns", "onboarding-notifications")),
        ("sqs:ReceiveMessage", arn("sqs", "onboarding-auditors")),
        ("secretsmanager:GetSecretValue", SIGNING_SECRET.to_owned()),
        ("secretsmanager:PutSecretValue", SIGNING_SECRET.to_owned()),
        ("s3:PutBucketPolicy", bucket.clone()),
        ("s3:DeleteBucketPolicy", bucket.clone()),
        ("s3:PutBucketVersioning", bucket.clone()),
        ("s3:GetObject", format!("{bucket}/2026/12/01/records.jsonl")),
        ("logs:DeleteLogGroup", log_group.clone()),
        ("logs:PutRetentionPolicy", log_group),
        ("cloudwatch:DeleteAlarms", alarm.clone()),
        ("cloudwatch:DisableAlarmActions", alarm),
        ("cloudformation:DeleteStack", stack_arn.clone()),
        ("cloudformation:UpdateStack", stack_arn),
        ("lambda:PutFunctionConcurrency", arn("lambda", "function:employee-archiver")),
        ("lambda:UpdateFunctionCode", arn("lambda", "function:employee-record")),
        ("lambda:InvokeFunction", arn("lambda", "function:employee-record")),
        ("states:StartExecution", arn("states", "stateMachine:employee-offboard")),
        ("sqs:SetQueueAttributes", arn("sqs", "onboarding-archive")),
        ("events:DisableRule", arn("events", "rule/employee-lifecycle-SweepRule-1A2B3C")),
        ("events:DeleteArchive", arn("events", "archive/employee-lifecycle-hr-events")),
        ("dynamodb:DeleteItem", arn("dynamodb", "table/employee-lifecycle-tombstones")),
    ];
    for (action, target) in &controls {
        denied(&jane, mfa(Request::new(action, target)), none);
        allowed(&admin(), Request::new(action, target), none);
    }
    // The archiver's queue mapping has no name; the function it feeds does.
    let remap = |f: &str| {
        Request::new("lambda:DeleteEventSourceMapping", &mapping)
            .with("lambda:FunctionArn", &[&arn("lambda", &format!("function:{f}"))])
    };
    denied(&jane, mfa(remap("employee-archiver")), none);
    allowed(&jane, mfa(remap("team-etl")), none);
    // Both keys, by alias: no administration, disabling, deletion or grant; a team's own key is
    // untouched. The key policies keep direct decryption from everyone (tested below).
    for (key, alias) in [("Key", "alias/employee-lifecycle-events"), ("SecretsKey", "alias/employee-lifecycle-secrets")]
    {
        let policy = resource(&s, key)["KeyPolicy"].clone();
        for action in ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "kms:CreateGrant"] {
            let r = Request::new(action, &arn("kms", &format!("key/{key}"))).with("kms:ResourceAliases", &[alias]);
            denied(&jane, mfa(r.clone()), Resource::Key(&policy));
            allowed(&admin(), r, Resource::Key(&policy));
        }
    }
    let team_key = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "kms:*", "Resource": "*"}]});
    let team = Request::new("kms:ScheduleKeyDeletion", &arn("kms", "key/team"))
        .with("kms:ResourceAliases", &["alias/team-data"]);
    allowed(&jane, mfa(team), Resource::Key(&team_key));
    // Role sessions: only with the employee's own name as source identity, so a leaver's
    // sessions can be told apart on every role; no federation token at all.
    let role = format!("arn:aws:iam::{ACCOUNT}:role/ReadOnly");
    let assume = |who: Option<&str>| {
        let r = mfa(Request::new("sts:AssumeRole", &role));
        match who {
            Some(w) => r.with("sts:SourceIdentity", &[w]),
            None => r,
        }
    };
    allowed(&jane, assume(Some("jane.doe")), none);
    denied(&jane, assume(None), none);
    denied(&jane, assume(Some("bob.smith")), none);
    denied(
        &jane,
        mfa(Request::new("sts:GetFederationToken", &format!("arn:aws:sts::{ACCOUNT}:federated-user/jane"))),
        none,
    );
    // Unsubscribe has no resource type (the simulator refuses a subscription ARN for it), so the
    // archive's subscription is kept only by denying it everywhere.
    denied(&jane, mfa(Request::new("sns:Unsubscribe", "*")), none);
}

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

/// A leaver's role sessions end: the roles' boundary (the operator sets it on every role
/// employees assume; departures write leavers into it) denies every request of a session whose
/// source identity is a leaver's, chained sessions included, and nothing of anyone else's. Only
/// the offboard and sweep roles rewrite it, employees never, and under the guardrail no
/// administrator but the deployer and the operator either. A boundary grants nothing, so whoever
/// rewrites it can end sessions, not give access.
#[test]
fn a_leavers_role_sessions_end_on_every_role_that_carries_the_role_sessions_boundary() {
    let s = stack();
    let none = Resource::None;
    let installed = resource(&s, "RoleSessionsBoundary")["PolicyDocument"].clone();
    assert_eq!(installed, policies::role_sessions_boundary([]).0, "the template installs the code's document");
    let (after, _) = policies::role_sessions_boundary(["jane.doe"]);
    let grants = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sts:AssumeRole"], "Resource": "*"}]});
    let session = |who: &'static str, boundary: &Value| Principal {
        name: who,
        arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/DataAnalyst/{who}"),
        account: ACCOUNT.into(),
        identity: vec![grants.clone()],
        boundary: Some(boundary.clone()),
    };
    let by = |r: Request, who: &str| r.with("aws:SourceIdentity", &[who]);
    let read = || Request::new("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv");
    let chain = || Request::new("sts:AssumeRole", &format!("arn:aws:iam::{ACCOUNT}:role/Deployer"));
    // Before her departure, her session works; after it, every request of it is denied,
    // chaining into another role too, while a colleague's session on the same role works.
    allowed(&session("jane.doe", &installed), by(read(), "jane.doe"), none);
    for r in [read(), chain()] {
        let d = decide(&session("jane.doe", &after), &by(r.clone(), "jane.doe"), none);
        assert_eq!(d, Decision::ExplicitDeny("boundary: DenyLeaversRoleSessions".into()), "{}", r.action);
        allowed(&session("sam.lee", &after), by(r, "sam.lee"), none);
    }
    // The boundary grants nothing the role does not.
    let create = Request::new("iam:CreateUser", &user_arn("E9", "mallory"));
    assert_eq!(decide(&session("sam.lee", &after), &by(create, "sam.lee"), none), Decision::ImplicitDeny);
    // Who rewrites it: the two roles that end access, and nothing else of IAM's policies.
    let policy = format!("arn:aws:iam::{ACCOUNT}:policy/employee-role-sessions-boundary");
    let users_boundary = format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary");
    let rewrite = |arn: &str| Request::new("iam:CreatePolicyVersion", arn);
    for role in ["OffboardRole", "SweepRole"] {
        let p = function_role(&s, role);
        allowed(&p, rewrite(&policy), none);
        denied(&p, rewrite(&users_boundary), none);
        denied(
            &p,
            Request::new("iam:DeleteRolePermissionsBoundary", &format!("arn:aws:iam::{ACCOUNT}:role/DataAnalyst")),
            none,
        );
    }
    for role in ROLES.into_iter().filter(|r| !["OffboardRole", "SweepRole"].contains(r)) {
        denied(&function_role(&s, role), rewrite(&policy), none);
    }
    let jane = employee(&s, "jane.doe", "E1");
    for action in
        ["iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicyVersion", "iam:DeletePolicy"]
    {
        denied(&jane, mfa(Request::new(action, &policy)), none);
    }
    for action in ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"] {
        denied(&jane, mfa(Request::new(action, &format!("arn:aws:iam::{ACCOUNT}:role/DataAnalyst"))), none);
    }
    // Under the guardrail: an administrator cannot, the deployer, the operator and the two roles can.
    let text = std::fs::read_to_string(tests::root().join("infra/guardrail-scp.json")).expect("guardrail");
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, serde_json::from_str(&text).expect("json")];
    let administrator = |role: &str| Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"), ..admin() };
    assert!(matches!(decide_under(&scps, &admin(), &rewrite(&policy), none), Decision::ExplicitDeny(_)));
    for p in [
        administrator("employee-lifecycle-deployer"),
        administrator("employee-lifecycle-operator"),
        function_role(&s, "OffboardRole"),
        function_role(&s, "SweepRole"),
    ] {
        assert_eq!(decide_under(&scps, &p, &rewrite(&policy), none), Decision::Allowed, "{}", p.arn);
    }
}

/// Identity Center (written by `person::identity_center::end_sessions`): the inline policy of a
/// permission set this system manages, AWS's documented revocation, denies every request of a
/// session whose `identitystore:userId` is a leaver's, in whatever account the permission set is
/// provisioned to, chained sessions included, and nothing of a colleague's on the same
/// permission set; it grants nothing of its own.
#[test]
fn a_leavers_identity_center_sessions_are_denied_by_the_permission_sets_revocations() {
    let none = Resource::None;
    let (revocations, dropped) = policies::permission_set_revocations(["9067a8d5-jane"]);
    assert!(dropped.is_empty());
    let revocations = revocations.expect("a document for one leaver");
    let managed = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "ec2:DescribeInstances", "sts:AssumeRole"], "Resource": "*"}]});
    let session = |who: &'static str, inline: Option<&Value>| Principal {
        name: who,
        arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Developers_0123456789abcdef/{who}"),
        account: ACCOUNT.into(),
        identity: std::iter::once(managed.clone()).chain(inline.cloned()).collect(),
        boundary: None,
    };
    let by = |r: Request, user_id: &str| r.with("identitystore:userId", &[user_id]);
    let requests = [
        Request::new("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv"),
        Request::new("ec2:DescribeInstances", "*"),
        Request::new("sts:AssumeRole", &format!("arn:aws:iam::{ACCOUNT}:role/Deployer")),
    ];
    for r in requests {
        // Before the departure (no inline policy) her session works; after it, denied.
        allowed(&session("jane", None), by(r.clone(), "9067a8d5-jane"), none);
        let d = decide(&session("jane", Some(&revocations)), &by(r.clone(), "9067a8d5-jane"), none);
        assert_eq!(d, Decision::ExplicitDeny("identity: DenyLeavers".into()), "{}", r.action);
        // A colleague on the same permission set keeps theirs.
        allowed(&session("sam", Some(&revocations)), by(r, "4f2b1c3d-sam"), none);
    }
    // The revocations grant nothing: alone, a colleague's request is not allowed.
    let alone = Principal { identity: vec![revocations.clone()], ..session("sam", None) };
    assert_eq!(decide(&alone, &by(Request::new("s3:GetObject", "*"), "4f2b1c3d-sam"), none), Decision::ImplicitDeny);
}

/// Issue #22 item 8, a stack deployed with `Target` identity-center: the functions' roles reach
/// one instance and one identity store; only `create-user` makes a user and only the sweep
/// deletes one; only `offboard` and the sweep write a permission set's inline policy or provision
/// it, and only in the permission sets bootstrap made (tagged `managed-by`), never in another's
/// (an administrators' one, say); no role makes or changes a group, a permission set's grants or
/// an assignment (the operator's `bootstrap` does). With `Target` iam they have none of it. Who
/// else can rewrite those inline policies (and so lift a leaver's deny): under
/// `infra/guardrail-identity-center-scp.json`, not an administrator of the account; the deployer,
/// the operator and the two departure roles can, and nobody but the deployer and the operator
/// can mark or unmark a permission set as this system's, or write the people table but its
/// writers.
#[test]
fn on_identity_center_the_roles_reach_one_store_and_only_departures_write_the_managed_permission_sets() {
    let s = tests::stack::stack_for("identity-center");
    let none = Resource::None;
    let store = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/{IDENTITY_STORE_ID}");
    let other_store = format!("arn:aws:identitystore::{ACCOUNT}:identitystore/d-9999999999");
    let user = "arn:aws:identitystore:::user/9067a8d5-jane";
    let group = "arn:aws:identitystore:::group/1c2d3e4f-developers";
    let instance = format!("arn:aws:sso:::instance/{INSTANCE_ID}");
    let other_instance = "arn:aws:sso:::instance/ssoins-fedcba0987654321";
    let ours = format!("arn:aws:sso:::permissionSet/{INSTANCE_ID}/ps-0123456789abcdef");
    let elsewhere = "arn:aws:sso:::permissionSet/ssoins-fedcba0987654321/ps-0123456789abcdef";
    let marked = |r: Request| r.with("aws:ResourceTag/managed-by", &["employee-lifecycle"]);
    let steps = [
        "CreateUserRole",
        "JoinGroupsRole",
        "TagUserRole",
        "StorePasswordRole",
        "NotifyRole",
        "RecordRole",
        "OffboardRole",
        "SweepRole",
    ];
    // Every step proves a user against its record: it reads users of this store, of no other.
    for role in steps {
        let p = function_role(&s, role);
        for resource in [store.as_str(), user] {
            allowed(&p, Request::new("identitystore:DescribeUser", resource), none);
        }
        denied(&p, Request::new("identitystore:DescribeUser", &other_store), none);
    }
    // Every action a role's Identity Center policy grants, on another store, another instance or
    // another table: denied.
    let other_table = arn("dynamodb", "table/someone-elses-table");
    for role in steps {
        let p = function_role(&s, role);
        let granted: std::collections::BTreeSet<String> = p
            .identity
            .iter()
            .flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
            .flat_map(|st| match &st["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                _ => Vec::new(),
            })
            .filter(|a| a.starts_with("identitystore:") || a.starts_with("sso:"))
            .collect();
        assert!(!granted.is_empty(), "{role} has its Identity Center policy");
        for action in &granted {
            let elsewhere = if action.starts_with("sso:") { other_instance } else { other_store.as_str() };
            denied(&p, marked(Request::new(action, elsewhere)), none);
        }
        for action in ["dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:DeleteItem"] {
            denied(&p, Request::new(action, &other_table), none);
        }
    }
    let only = |action: &str, resources: &[&str], tagged: bool, who: &[&str]| {
        for role in ROLES {
            let p = function_role(&s, role);
            for resource in resources {
                let r = Request::new(action, resource);
                let r = if tagged { marked(r) } else { r };
                if who.contains(&role) {
                    allowed(&p, r, none);
                } else {
                    denied(&p, r, none);
                }
            }
        }
    };
    only("identitystore:CreateUser", &[&store], false, &["CreateUserRole"]);
    only("identitystore:DeleteUser", &[&store, user], false, &["SweepRole"]);
    only("identitystore:UpdateUser", &[&store, user], false, &["TagUserRole"]);
    only("identitystore:CreateGroupMembership", &[&store, group, user], false, &["JoinGroupsRole", "SweepRole"]);
    let departures = ["OffboardRole", "SweepRole"];
    for action in
        ["sso:PutInlinePolicyToPermissionSet", "sso:DeleteInlinePolicyFromPermissionSet", "sso:ProvisionPermissionSet"]
    {
        only(action, &[&instance, &ours], true, &departures);
        for role in departures {
            let p = function_role(&s, role);
            // Not a permission set bootstrap did not make (untagged, or tagged by someone else),
            // not another instance's.
            denied(&p, Request::new(action, &ours), none);
            denied(&p, Request::new(action, &ours).with("aws:ResourceTag/managed-by", &["platform-team"]), none);
            denied(&p, marked(Request::new(action, elsewhere)), none);
            denied(&p, Request::new(action, other_instance), none);
        }
    }
    for role in departures {
        denied(&function_role(&s, role), Request::new("sso:ListPermissionSets", other_instance), none);
    }
    // Nobody's function makes or changes groups, permission sets or assignments.
    for (action, resource) in [
        ("identitystore:CreateGroup", store.as_str()),
        ("identitystore:DeleteGroup", group),
        ("sso:CreatePermissionSet", instance.as_str()),
        ("sso:AttachManagedPolicyToPermissionSet", ours.as_str()),
        ("sso:CreateAccountAssignment", ours.as_str()),
        ("sso:DeleteAccountAssignment", ours.as_str()),
        ("sso:TagResource", ours.as_str()),
        ("sso:UntagResource", ours.as_str()),
    ] {
        only(action, &[resource], true, &[]);
    }
    // And no IAM user is theirs to make or touch on this target: those statements are an IAM
    // stack's only.
    let jane = user_arn("E1", "jane.doe");
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary");
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    for (role, r) in [
        ("CreateUserRole", Request::new("iam:CreateUser", &jane).with("iam:PermissionsBoundary", &[&boundary])),
        ("JoinGroupsRole", Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Developers"))),
        ("TagUserRole", managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["lifecycle-status"])),
        ("StorePasswordRole", managed(Request::new("iam:CreateLoginProfile", &jane))),
        ("StorePasswordRole", Request::new("secretsmanager:CreateSecret", &secret_arn("jane.doe", "console-password"))),
        (
            "OffboardRole",
            Request::new(
                "iam:CreatePolicyVersion",
                &format!("arn:aws:iam::{ACCOUNT}:policy/employee-role-sessions-boundary"),
            ),
        ),
        ("SweepRole", managed(Request::new("iam:DeleteUser", &jane))),
        ("RecordRole", Request::new("iam:GetUser", &jane)),
    ] {
        denied(&function_role(&s, role), r.clone(), none);
        allowed(&function_role(&stack(), role), r, none);
    }
    // With Target iam the roles have none of it.
    let iam = stack();
    for (role, action, resource) in [
        ("CreateUserRole", "identitystore:CreateUser", store.as_str()),
        ("OffboardRole", "sso:PutInlinePolicyToPermissionSet", ours.as_str()),
        ("SweepRole", "identitystore:DeleteUser", user),
    ] {
        denied(&function_role(&iam, role), marked(Request::new(action, resource)), none);
    }

    // Under the guardrail: an administrator can neither rewrite a managed permission set's inline
    // policy nor unmark it; the deployer, the operator and the two roles can write it. Permission
    // sets this system did not mark stay the administrators'.
    let text =
        std::fs::read_to_string(tests::root().join("infra/guardrail-identity-center-scp.json")).expect("guardrail");
    assert!(text.len() <= 5_120, "{} characters: over the SCP size limit", text.len());
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, serde_json::from_str(&text).expect("json")];
    let administrator = |role: &str| Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"), ..admin() };
    let rewrite = |action: &str| marked(Request::new(action, &ours));
    let keyed = |action: &str, resource: &str| Request::new(action, resource).with("aws:TagKeys", &["managed-by"]);
    for r in [
        rewrite("sso:PutInlinePolicyToPermissionSet"),
        rewrite("sso:DeleteInlinePolicyFromPermissionSet"),
        rewrite("sso:UntagResource").with("aws:TagKeys", &["managed-by"]),
        keyed("sso:TagResource", &ours),
        keyed("sso:CreatePermissionSet", &instance),
    ] {
        assert!(
            matches!(decide_under(&scps, &admin(), &r, none), Decision::ExplicitDeny(_)),
            "an administrator may {} on {}",
            r.action,
            r.resource
        );
        for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
            assert_eq!(decide_under(&scps, &administrator(who), &r, none), Decision::Allowed, "{who}: {}", r.action);
        }
    }
    for p in [function_role(&s, "OffboardRole"), function_role(&s, "SweepRole")] {
        let r = rewrite("sso:PutInlinePolicyToPermissionSet");
        assert_eq!(decide_under(&scps, &p, &r, none), Decision::Allowed, "{}", p.arn);
    }
    // The people table is the proof of whom this system owns there: under the guardrail only its
    // writers (and the deployer and operator) write it, so no administrator can make someone
    // else's user this system's (and so a departure's to delete).
    let people = arn("dynamodb", "table/employee-lifecycle-people");
    let claim = Request::new("dynamodb:PutItem", &people);
    assert!(matches!(decide_under(&scps, &admin(), &claim, none), Decision::ExplicitDeny(_)));
    for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
        assert_eq!(decide_under(&scps, &administrator(who), &claim, none), Decision::Allowed, "{who}");
    }
    assert_eq!(decide_under(&scps, &function_role(&s, "CreateUserRole"), &claim, none), Decision::Allowed);
    let reader = decide_under(&scps, &function_role(&s, "JoinGroupsRole"), &claim, none);
    assert!(matches!(reader, Decision::ExplicitDeny(_)), "join-groups only reads the table: {reader:?}");
    let elsewhere_table = Request::new("dynamodb:PutItem", &arn("dynamodb", "table/team-table"));
    assert_eq!(decide_under(&scps, &admin(), &elsewhere_table, none), Decision::Allowed);
    let theirs = Request::new("sso:PutInlinePolicyToPermissionSet", &ours);
    assert_eq!(decide_under(&scps, &admin(), &theirs, none), Decision::Allowed);
    let team = Request::new("sso:TagResource", &ours).with("aws:TagKeys", &["team"]);
    assert_eq!(decide_under(&scps, &admin(), &team, none), Decision::Allowed);
}

#[test]
fn the_boundary_is_within_iams_size_limit_and_the_template_installs_the_codes() {
    let s = stack();
    let installed = &resource(&s, "PermissionsBoundary")["PolicyDocument"];
    // The code's boundary, with the template's prefix placeholder filled in the same way.
    assert_eq!(installed, &policies::boundary("employee-lifecycle"));
    let counted = installed.to_string().chars().filter(|c| !c.is_whitespace()).count();
    assert!(counted <= 6_144, "{counted} characters: over IAM's managed-policy limit");
}

/// A hire in the emulator, then its console-password secret's resource policy as stored there.
async fn stored_secret_policy() -> (Value, String, String) {
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    let report = process(&ctx, &event("hire-engineering.json", json!({}))).await;
    assert_eq!(report.outcome, EventOutcome::Succeeded, "{:?}", report.error);
    let secret = report.secret_arn.clone().expect("secret");
    let got = acct.secrets().get_resource_policy().secret_id(&secret).send().await.expect("policy");
    let policy: Value = serde_json::from_str(got.resource_policy().expect("a resource policy")).expect("json");
    (policy, report.user_arn.expect("user"), secret)
}

#[tokio::test]
async fn only_the_person_reads_their_first_credentials() {
    let s = stack();
    let (policy, person_arn, secret) = stored_secret_policy().await;
    // The emulator's account and names, in the stack's shape: one person, one secret.
    let user = person_arn.rsplit('/').next().expect("name").to_owned();
    let employee_id = person_arn.split('/').nth(2).expect("employee id").to_owned();
    let mut person = employee(&s, "person", &employee_id);
    person.arn = person_arn.clone();
    person.account = shared::arn::account_of(&person_arn).expect("account").to_owned();
    let account = person.account.clone();
    let mut other = employee(&s, "other", "E9");
    other.arn = format!("arn:aws:iam::{account}:user/employees/E9/mallory");
    other.account = account.clone();
    let mut root_admin = admin();
    root_admin.account = account.clone();
    root_admin.arn = format!("arn:aws:iam::{account}:role/Administrator");
    // The role as the stack would deploy it in the emulator's account.
    let mut store_password = function_role(&s, "StorePasswordRole");
    store_password.identity = serde_json::from_str(
        &serde_json::to_string(&store_password.identity).expect("json").replace(ACCOUNT, &account),
    )
    .expect("json");
    store_password.account = account.clone();
    store_password.arn = format!("arn:aws:iam::{account}:role/{STACK}-StorePasswordRole-1A2B3C4D5E6F");
    // An administrator who cannot change this secret's policy through IAM and has no Secrets
    // Manager rights on it; and one with everything.
    let mut sm_less_admin = admin();
    sm_less_admin.account = account.clone();
    sm_less_admin.identity.push(json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*"}]}));
    let tagged = |r: Request| r.with("aws:ResourceTag/user-name", &[&user]);
    let on = Resource::Policy(&policy);

    allowed(&person, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    for p in [&other, &root_admin, &sm_less_admin, &store_password] {
        denied(p, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    }
    // Nobody but this system changes, removes, replicates or restores it, not even an admin
    // with every IAM right (the policy's Deny holds against the identity's Allow).
    for action in [
        "secretsmanager:PutResourcePolicy",
        "secretsmanager:DeleteResourcePolicy",
        "secretsmanager:ReplicateSecretToRegions",
        "secretsmanager:RestoreSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:TagResource",
    ] {
        denied(&root_admin, tagged(Request::new(action, &secret)), on);
        denied(&other, tagged(Request::new(action, &secret)), on);
    }
    // The system's roles (as the stack names them in `secrets.writers`) may manage it, never read.
    let mut cfg = config();
    cfg.secrets.writers = vec![store_password.arn.clone()];
    let with_writers = policies::secret_policy(&person_arn, &cfg.secrets.readers, &cfg.secrets.writers);
    let on = Resource::Policy(&with_writers);
    allowed(&store_password, tagged(Request::new("secretsmanager:PutResourcePolicy", &secret)), on);
    denied(&store_password, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    allowed(&person, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    // The configured readers (a service desk) read it and do nothing else to it, even with
    // every Secrets Manager right.
    let desk = allowed_to("service desk", SERVICE_DESK, &["secretsmanager:*"]);
    let mut desk = desk;
    desk.account = account.clone();
    desk.arn = SERVICE_DESK.replace(ACCOUNT, &account);
    let with_readers = policies::secret_policy(&person_arn, std::slice::from_ref(&desk.arn), &cfg.secrets.writers);
    let on = Resource::Policy(&with_readers);
    allowed(&desk, tagged(Request::new("secretsmanager:GetSecretValue", &secret)), on);
    for action in ["secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:PutResourcePolicy"] {
        denied(&desk, tagged(Request::new(action, &secret)), on);
    }
    // The stored policy is the code's (with this config's empty writers).
    assert_eq!(policy, policies::secret_policy(&person_arn, &[], &[]));
}

#[test]
fn the_secrets_key_decrypts_only_the_persons_own_secrets_through_secrets_manager() {
    let s = stack();
    let key = resource(&s, "SecretsKey")["KeyPolicy"].clone();
    let key_arn = arn("kms", "key/SecretsKey");
    let jane = employee(&s, "jane.doe", "E1");
    let decrypt = |secret: &str, via: Option<&str>| {
        let r = Request::new("kms:Decrypt", &key_arn)
            .with("kms:EncryptionContext:SecretARN", &[secret])
            .with("kms:ResourceAliases", &["alias/employee-lifecycle-secrets"]);
        match via {
            Some(v) => r.with("kms:ViaService", &[v]),
            None => r,
        }
    };
    let sm = "secretsmanager.us-east-1.amazonaws.com";
    let k = Resource::Key(&key);
    allowed(&jane, decrypt(&secret_arn("jane.doe", "console-password"), Some(sm)), k);
    denied(&jane, decrypt(&secret_arn("bob.smith", "console-password"), Some(sm)), k);
    denied(&jane, decrypt(&secret_arn("jane.doe", "console-password"), None), k);
    // The configured readers (the service desk that hands passwords over) decrypt any initial
    // credential, still only through Secrets Manager.
    let desk = allowed_to("service desk", SERVICE_DESK, &["secretsmanager:GetSecretValue"]);
    allowed(&desk, decrypt(&secret_arn("bob.smith", "console-password"), Some(sm)), k);
    denied(&desk, decrypt(&secret_arn("bob.smith", "console-password"), None), k);
    denied(&desk, decrypt(&arn("secretsmanager", "secret:team/database-AbCdEf"), Some(sm)), k);
    // An administrator with kms:* in IAM: the key policy gives no cryptographic right to the
    // account, so none.
    denied(&admin(), decrypt(&secret_arn("jane.doe", "console-password"), Some(sm)), k);
    denied(&admin(), Request::new("kms:Decrypt", &key_arn), k);
    // The writers encrypt (and Secrets Manager decrypts the data key for them) only via Secrets
    // Manager; another role of the account does not.
    let store = function_role(&s, "StorePasswordRole");
    let generate = Request::new("kms:GenerateDataKey", &key_arn)
        .with("kms:ViaService", &[sm])
        .with("kms:CallerAccount", &[ACCOUNT]);
    allowed(&store, generate.clone(), k);
    denied(&function_role(&s, "NotifyRole"), generate, k);
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

#[test]
fn only_named_publishers_put_hr_events_and_only_the_sources_start_flows() {
    let s = stack();
    let bus_policy = json!({"Version": "2012-10-17", "Statement": [resource(&s, "HrBusPolicy")["Statement"].clone()]});
    let bus = arn("events", "event-bus/hr-events");
    let put = || Request::new("events:PutEvents", &bus);
    let on = Resource::Policy(&bus_policy);
    allowed(&allowed_to("hr", HR_PUBLISHER, &["events:PutEvents"]), put(), on);
    denied(&admin(), put(), on);
    denied(&allowed_to("another app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["events:PutEvents"]), put(), on);
    denied(&employee(&s, "jane.doe", "E1"), mfa(put()), on);
    // The intake (HR's verified webhooks) puts; it may not put on another bus.
    let intake = function_role(&s, "IntakeRole");
    allowed(&intake, put(), on);
    denied(&intake, Request::new("events:PutEvents", &arn("events", "event-bus/default")), Resource::None);
    for rule in ["OnboardRule", "ChangeRule", "OffboardRule"] {
        assert_eq!(resource(&s, rule)["EventPattern"]["source"], json!(["hr.workday"]), "{rule}: exact sources only");
    }
}

#[test]
fn only_this_systems_roles_publish_records_and_messages_and_only_auditors_read() {
    let s = stack();
    let topics = resource(&s, "TopicsPolicy")["PolicyDocument"].clone();
    let audit = arn("sns", "onboarding-audit");
    let publish = |t: &str| Request::new("sns:Publish", t);
    let on = Resource::Policy(&topics);
    allowed(&function_role(&s, "NotifyRole"), publish(&arn("sns", "onboarding-notifications")), on);
    allowed(&function_role(&s, "RecordRole"), publish(&audit), on);
    // The state machines no longer publish: the record step does.
    denied(&function_role(&s, "FlowsRole"), publish(&audit), on);
    denied(&admin(), publish(&audit), on);
    denied(&allowed_to("app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["sns:Publish"]), publish(&audit), on);
    // A role of this stack may publish only where its own policy says: tag-user has no right
    // to message people.
    denied(&function_role(&s, "TagUserRole"), publish(&arn("sns", "onboarding-notifications")), on);

    let queue = resource(&s, "AuditorsQueuePolicy")["PolicyDocument"].clone();
    let receive = Request::new("sqs:ReceiveMessage", &arn("sqs", "onboarding-auditors"));
    let on = Resource::Policy(&queue);
    allowed(&allowed_to("auditor", AUDITOR, &["sqs:ReceiveMessage"]), receive.clone(), on);
    denied(&admin(), receive, on);
}

#[test]
fn the_roles_write_only_this_systems_tags_and_only_create_user_marks_a_user() {
    let s = stack();
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    let jane = user_arn("E1", "jane.doe");
    let stranger = format!("arn:aws:iam::{ACCOUNT}:user/employees/E7/hand-made");
    for role in ["TagUserRole", "NotifyRole", "OffboardRole", "SweepRole"] {
        let p = function_role(&s, role);
        allowed(
            &p,
            managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["lifecycle-status"]),
            Resource::None,
        );
        for forged in [["managed-by"], ["employee-id"], ["team-owner"]] {
            denied(&p, managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &forged), Resource::None);
        }
        // A user this system did not mark cannot be given the marker or anything else.
        denied(&p, Request::new("iam:TagUser", &stranger).with("aws:TagKeys", &["lifecycle-status"]), Resource::None);
    }
    let create = function_role(&s, "CreateUserRole");
    let boundary = format!("arn:aws:iam::{ACCOUNT}:policy/employee-permissions-boundary");
    // The tag keys `create-user` creates users with, as the code computes them: a hire with every
    // optional attribute, once pending (its start ahead) and once active.
    let mut every = tests::event(
        "hire-finance-programmatic.json",
        serde_json::json!({
            "title": "Controller", "location": "Dublin", "costCenter": "CC-1", "preferredName": "Zo"
        }),
    );
    let cfg = tests::config();
    let mut keys = std::collections::BTreeSet::new();
    for start in ["2026-01-05", "2099-01-05"] {
        every["detail"]["startDate"] = serde_json::json!(start);
        let Ok(shared::intent::Request::Hire(intent)) = shared::intent::Request::from_event(&cfg, &every) else {
            panic!("a valid hire")
        };
        let now = chrono::Utc::now();
        let tags = shared::person::hire_tags(&cfg.lifecycle, now, &intent, &Default::default());
        keys.extend(tags.into_keys());
    }
    assert!(
        keys.contains("activate-at") && keys.contains("last-event-time") && keys.contains("cost-center"),
        "{keys:?}"
    );
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let new_user = format!("arn:aws:iam::{ACCOUNT}:user/employees/E8/new.hire");
    let at_creation = |action: &str| {
        Request::new(action, &new_user).with("iam:PermissionsBoundary", &[&boundary]).with("aws:TagKeys", &keys)
    };
    allowed(&create, at_creation("iam:CreateUser"), Resource::None);
    // CreateUser with tags is also authorised as TagUser, and `iam:PermissionsBoundary` is not
    // among TagUser's documented keys (the independent simulator ignores it there): whether or
    // not IAM carries it into that check, the hire is allowed.
    allowed(&create, at_creation("iam:TagUser"), Resource::None);
    allowed(&create, Request::new("iam:TagUser", &new_user).with("aws:TagKeys", &keys), Resource::None);
    // Without the boundary, or with another one, no user is created (the call needs both).
    denied(&create, Request::new("iam:CreateUser", &new_user).with("aws:TagKeys", &keys), Resource::None);
    let other_boundary = format!("arn:aws:iam::{ACCOUNT}:policy/lenient");
    let lenient = Request::new("iam:CreateUser", &new_user).with("iam:PermissionsBoundary", &[&other_boundary]);
    denied(&create, lenient.with("aws:TagKeys", &keys), Resource::None);
    // A user this system marked is never retagged by create-user (another employee id, say).
    denied(&create, managed(Request::new("iam:TagUser", &jane)).with("aws:TagKeys", &["employee-id"]), Resource::None);
    // What remains: create-user could mark an unmarked user under the path. That user is still
    // not this system's, since ownership also needs the boundary, which this role sets only at
    // creation (it has no PutUserPermissionsBoundary).
    allowed(&create, Request::new("iam:TagUser", &stranger).with("aws:TagKeys", &["managed-by"]), Resource::None);
    denied(&create, Request::new("iam:PutUserPermissionsBoundary", &stranger), Resource::None);
    let marked_stranger = shared::aws::iam::User {
        name: "hand-made".into(),
        arn: stranger.clone(),
        path: "/employees/E7/".into(),
        tags: [("managed-by", "employee-lifecycle"), ("employee-id", "E7")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        boundary: None,
        password_last_used: None,
    };
    let owner = shared::person::ownership::Owner { cfg: &cfg, boundary_arn: &boundary, require_boundary: true };
    let refused = shared::person::ownership::ownership(owner, &marked_stranger).expect_err("not owned");
    assert!(refused.contains("permissions boundary is absent"), "{refused}");
    // Groups only from the allow-list.
    let join = function_role(&s, "JoinGroupsRole");
    allowed(
        &join,
        Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Developers")),
        Resource::None,
    );
    denied(&join, Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Admins")), Resource::None);
    // The template lists exactly the code's writable keys.
    let listed = |role: &str| -> Vec<String> {
        resource(&s, role)["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .filter_map(|st| st["Condition"]["ForAllValues:StringEquals"]["aws:TagKeys"].as_array())
            .flatten()
            .map(|k| k.as_str().expect("key").to_owned())
            .collect()
    };
    let writable: Vec<String> = shared::tags::writable_after_creation().iter().map(|k| k.to_string()).collect();
    for role in ["TagUserRole", "NotifyRole", "OffboardRole", "SweepRole", "StorePasswordRole"] {
        assert_eq!(listed(role), writable, "{role}");
    }
}

/// Issue #23 item 7: the roles that issue or destroy credentials (and delete users) do so only
/// on users this system marked, not on any user a path could hold: a hand-made user under the
/// path is out of their reach, though they may read it.
#[test]
fn credentials_are_issued_and_destroyed_only_on_users_this_system_marked() {
    let s = stack();
    let jane = user_arn("E1", "jane.doe");
    let hand_made = format!("arn:aws:iam::{ACCOUNT}:user/employees/E7/hand-made");
    let managed = |r: Request| r.with("iam:ResourceTag/managed-by", &["employee-lifecycle"]);
    for (role, actions) in [
        (
            "StorePasswordRole",
            &["iam:CreateLoginProfile", "iam:UpdateLoginProfile", "iam:CreateAccessKey", "iam:DeleteAccessKey"][..],
        ),
        (
            "SweepRole",
            &[
                "iam:CreateLoginProfile",
                "iam:DeleteLoginProfile",
                "iam:CreateAccessKey",
                "iam:UpdateAccessKey",
                "iam:DeleteUser",
            ][..],
        ),
        ("OffboardRole", &["iam:DeleteLoginProfile", "iam:UpdateAccessKey", "iam:UpdateSSHPublicKey"][..]),
    ] {
        let p = function_role(&s, role);
        for action in actions {
            allowed(&p, managed(Request::new(action, &jane)), Resource::None);
            denied(&p, Request::new(action, &hand_made), Resource::None);
            denied(
                &p,
                Request::new(action, &hand_made).with("iam:ResourceTag/managed-by", &["someone-else"]),
                Resource::None,
            );
        }
        allowed(&p, Request::new("iam:GetUser", &hand_made), Resource::None);
    }
}

#[test]
fn a_disabled_leaver_can_do_nothing_at_all_with_any_credential_or_session() {
    let s = stack();
    let jane = employee(&s, "jane.doe", "E1");
    let me = jane.arn.clone();
    let own_secret = secret_arn("jane.doe", "console-password");
    // What she could do yesterday (the ceiling allows it) ...
    let yesterday = [
        mfa(Request::new("s3:GetObject", "arn:aws:s3:::team-bucket/report.csv")),
        mfa(Request::new("iam:ChangePassword", &me)),
        mfa(Request::new("iam:DeactivateMFADevice", &me)),
        mfa(Request::new("sts:GetSessionToken", "*")),
        mfa(Request::new("secretsmanager:GetSecretValue", &own_secret))
            .with("aws:ResourceTag/user-name", &["jane.doe"]),
    ];
    for r in &yesterday {
        allowed(&jane, r.clone(), Resource::None);
    }
    // ... is denied the moment the revocation tag is on her user: the boundary's first Deny
    // matches every request she signs, with a key, a console session or session credentials.
    let revoked = |r: &Request| r.clone().with("aws:PrincipalTag/access-revoked", &["2031-02-01T10:00:00Z"]);
    for r in &yesterday {
        let d = decide(&jane, &revoked(r), Resource::None);
        assert_eq!(d, Decision::ExplicitDeny("boundary: DenyEverythingOnceAccessIsRevoked".into()), "{}", r.action);
    }
    // Even what a resource policy grants her by name.
    let (secret_policy, read) = (
        policies::secret_policy(&me, &[], &[]),
        mfa(Request::new("secretsmanager:GetSecretValue", &own_secret))
            .with("aws:ResourceTag/user-name", &["jane.doe"]),
    );
    allowed(&jane, read.clone(), Resource::Policy(&secret_policy));
    denied(&jane, revoked(&read), Resource::Policy(&secret_policy));
}

#[test]
fn only_the_scheduler_role_is_passed_and_only_to_the_scheduler_and_tombstones_stay_this_systems() {
    let s = stack();
    let offboard = function_role(&s, "OffboardRole");
    let scheduler_role = role_arn("SchedulerRole");
    let pass = |role: &str, to: &str| Request::new("iam:PassRole", role).with("iam:PassedToService", &[to]);
    allowed(&offboard, pass(&scheduler_role, "scheduler.amazonaws.com"), Resource::None);
    denied(&offboard, pass(&scheduler_role, "lambda.amazonaws.com"), Resource::None);
    denied(&offboard, pass(&role_arn("SweepRole"), "scheduler.amazonaws.com"), Resource::None);
    denied(
        &offboard,
        pass(&format!("arn:aws:iam::{ACCOUNT}:role/Administrator"), "scheduler.amazonaws.com"),
        Resource::None,
    );
    denied(&function_role(&s, "NotifyRole"), pass(&scheduler_role, "scheduler.amazonaws.com"), Resource::None);
    // The schedules: offboard makes only employee-disable-*; an employee none at all.
    let schedule = |name: &str| arn("scheduler", &format!("schedule/default/{name}"));
    allowed(&offboard, Request::new("scheduler:CreateSchedule", &schedule("employee-disable-E1")), Resource::None);
    denied(&offboard, Request::new("scheduler:CreateSchedule", &schedule("anything-else")), Resource::None);
    let jane = employee(&s, "jane.doe", "E1");
    denied(&jane, mfa(Request::new("scheduler:DeleteSchedule", &schedule("employee-disable-E2"))), Resource::None);
    // The tombstones: create-user reads, the sweep writes, nobody else, no employee.
    let table = arn("dynamodb", "table/employee-lifecycle-tombstones");
    allowed(&function_role(&s, "CreateUserRole"), Request::new("dynamodb:GetItem", &table), Resource::None);
    denied(&function_role(&s, "CreateUserRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    allowed(&function_role(&s, "SweepRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    denied(&function_role(&s, "TagUserRole"), Request::new("dynamodb:PutItem", &table), Resource::None);
    for action in ["dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:GetItem"] {
        denied(&jane, mfa(Request::new(action, &table)), Resource::None);
    }
}

/// The intake holds the only read of a secret in this system: its own signing secrets. It
/// cannot read anyone's credentials, touch IAM, or publish anything but audit records; and no
/// other role of the stack can read the signing secrets.
#[test]
fn only_the_intake_reads_the_signing_secrets_and_the_intake_can_do_nothing_else() {
    let s = stack();
    let intake = function_role(&s, "IntakeRole");
    let read = |arn: &str| Request::new("secretsmanager:GetSecretValue", arn);
    allowed(&intake, read(SIGNING_SECRET), Resource::None);
    denied(&intake, read(&secret_arn("jane.doe", "console-password")), Resource::None);
    denied(&intake, read(&arn("secretsmanager", "secret:hr/other-signing-AbCdEf")), Resource::None);
    for action in ["iam:CreateUser", "iam:GetUser", "iam:TagUser", "iam:CreateAccessKey"] {
        denied(&intake, Request::new(action, &user_arn("E1", "jane.doe")), Resource::None);
    }
    denied(
        &intake,
        Request::new("iam:AddUserToGroup", &format!("arn:aws:iam::{ACCOUNT}:group/Admins")),
        Resource::None,
    );
    // It publishes its audit records past the topics' policy, and nothing else.
    let topics = resource(&s, "TopicsPolicy")["PolicyDocument"].clone();
    let notifications = arn("sns", "onboarding-notifications");
    denied(&intake, Request::new("sns:Publish", &notifications), Resource::Policy(&topics));
    allowed(&intake, Request::new("sns:Publish", &arn("sns", "onboarding-audit")), Resource::Policy(&topics));
    for role in [
        "CreateUserRole",
        "JoinGroupsRole",
        "TagUserRole",
        "StorePasswordRole",
        "NotifyRole",
        "OffboardRole",
        "SweepRole",
    ] {
        denied(&function_role(&s, role), read(SIGNING_SECRET), Resource::None);
    }
}

/// The trail lasts and cannot be altered: only the archiver writes records, nobody (an
/// administrator with `Allow *` included) deletes one or loosens its lock, and only the auditors
/// read it. (Object Lock's compliance retention stands behind the policy: even the root user cannot
/// delete a locked version before its retention ends.)
#[test]
fn only_the_archiver_writes_the_trail_nobody_deletes_it_and_auditors_read_it() {
    let s = stack();
    let policy = resource(&s, "TrailBucketPolicy")["PolicyDocument"].clone();
    let on = Resource::Policy(&policy);
    let bucket = format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}");
    let object = format!("{bucket}/audit/2026/11/29/0123456789abcdef.jsonl");
    let tls = |r: Request| r.with("aws:SecureTransport", &["true"]);
    let write = |key: &str, mode: &str| tls(Request::new("s3:PutObject", key)).with("s3:object-lock-mode", &[mode]);
    let archiver = function_role(&s, "ArchiverRole");
    allowed(&archiver, write(&object, "COMPLIANCE"), on);
    // Every write carries its own compliance lock: without one, or with a governance lock
    // (which a privileged caller could lift), even the archiver's write is refused.
    denied(&archiver, tls(Request::new("s3:PutObject", &object)), on);
    denied(&archiver, write(&object, "GOVERNANCE"), on);
    denied(&archiver, write(&format!("{bucket}/elsewhere.jsonl"), "COMPLIANCE"), on);
    denied(&archiver, write(&object, "COMPLIANCE").with("aws:SecureTransport", &["false"]), on);
    for who in [admin(), allowed_to("app", &format!("arn:aws:iam::{ACCOUNT}:role/app"), &["s3:PutObject"])] {
        denied(&who, write(&object, "COMPLIANCE"), on);
    }
    // The archiver may set an object's retention (compliance mode only ever lengthens it);
    // nobody else may, and nobody deletes or bypasses.
    allowed(&archiver, tls(Request::new("s3:PutObjectRetention", &object)), on);
    denied(&admin(), tls(Request::new("s3:PutObjectRetention", &object)), on);
    for action in ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"] {
        denied(&admin(), tls(Request::new(action, &object)), on);
        denied(&archiver, tls(Request::new(action, &object)), on);
    }
    // The policy protects itself, the lock, the encryption and the bucket: an administrator with
    // every right is refused (the account's root user alone can still delete a bucket policy).
    for action in [
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:DeleteBucket",
    ] {
        denied(&admin(), tls(Request::new(action, &bucket)), on);
    }
    // The auditor needs no identity policy: the bucket's own Allow names them.
    let auditor =
        Principal { name: "auditor", arn: AUDITOR.into(), account: ACCOUNT.into(), identity: vec![], boundary: None };
    allowed(&auditor, tls(Request::new("s3:GetObject", &object)), on);
    allowed(&auditor, tls(Request::new("s3:ListBucket", &bucket)), on);
    // What `onboarding audit` calls: every version of every object.
    allowed(&auditor, tls(Request::new("s3:ListBucketVersions", &bucket)), on);
    allowed(&auditor, tls(Request::new("s3:GetObjectVersion", &object)), on);
    denied(&auditor, tls(Request::new("s3:PutObject", &object)), on);
    // Nobody else reads the trail: an employee whose groups grant `*`, an administrator.
    denied(&employee(&s, "jane.doe", "E1"), mfa(tls(Request::new("s3:GetObject", &object))), on);
    denied(&admin(), tls(Request::new("s3:GetObject", &object)), on);
}

/// The auditors decrypt what they read with the stack's key, with no grant of their own: the
/// trail through S3 and their queues through SQS, nothing else and never directly.
#[test]
fn auditors_decrypt_their_queues_and_nothing_else_and_the_trail_needs_no_key() {
    let s = stack();
    let key = resource(&s, "Key")["KeyPolicy"].clone();
    let k = Resource::Key(&key);
    let key_arn = arn("kms", "key/Key");
    let via = |service: &str, context: (&str, &str)| {
        Request::new("kms:Decrypt", &key_arn)
            .with("kms:ViaService", &[&format!("{service}.{REGION}.amazonaws.com")])
            .with(&format!("kms:EncryptionContext:{}", context.0), &[context.1])
    };
    let bucket = format!("arn:aws:s3:::employee-lifecycle-audit-{ACCOUNT}-{REGION}");
    let queue = |name: &str| format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
    let auditor =
        Principal { name: "auditor", arn: AUDITOR.into(), account: ACCOUNT.into(), identity: vec![], boundary: None };
    // The trail is encrypted with S3-managed keys: no key of the account (whose deletion an
    // insider could schedule) can make it unreadable, and the stack keeps bucket and keys.
    let trail = &s["Resources"]["TrailBucket"];
    let sse = &trail["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(sse["ServerSideEncryptionByDefault"], json!({"SSEAlgorithm": "AES256"}));
    for id in ["TrailBucket", "Key", "SecretsKey"] {
        assert_eq!(s["Resources"][id]["DeletionPolicy"], "Retain", "{id}");
        assert_eq!(s["Resources"][id]["UpdateReplacePolicy"], "Retain", "{id}");
    }
    // Archiving that stops is alarmed long before the queue's 14 days run out.
    let age = resource(&s, "ArchiveQueueAgeAlarm");
    assert_eq!(age["MetricName"], "ApproximateAgeOfOldestMessage");
    assert!(age["Threshold"].as_f64().is_some_and(|t| t <= 3_600.0), "{age}");
    assert_eq!(resource(&s, "ArchiveQueue")["MessageRetentionPeriod"], 1_209_600);
    for q in ["onboarding-auditors", "onboarding-auditors-dlq", "onboarding-archive-dlq"] {
        allowed(&auditor, via("sqs", ("aws:sqs:arn", &queue(q))), k);
    }
    // Not another bucket or queue of the account, not directly, not the topics.
    denied(&auditor, via("s3", ("aws:s3:arn", "arn:aws:s3:::someone-elses-bucket")), k);
    denied(&auditor, via("sqs", ("aws:sqs:arn", &queue("onboarding-events-dlq"))), k);
    denied(&auditor, via("sns", ("aws:sns:topicArn", &arn("sns", "onboarding-notifications"))), k);
    denied(&auditor, Request::new("kms:Decrypt", &key_arn), k);
    // The key has no statement for the trail any more: nobody decrypts through S3 with it.
    denied(&auditor, via("s3", ("aws:s3:arn", &bucket)), k);
}

/// Records reach the auditors' queue and the trail only from the audit topic, and leave the
/// archive queue only through the archiver: an administrator can neither slip in a forged record
/// nor take one out before it is locked.
#[test]
fn records_enter_the_queues_only_from_the_audit_topic_and_leave_the_archive_only_to_the_trail() {
    let s = stack();
    let topic = arn("sns", "onboarding-audit");
    let sns = Principal {
        name: "sns",
        arn: "sns.amazonaws.com".into(),
        account: ACCOUNT.into(),
        identity: vec![],
        boundary: None,
    };
    for (policy, queue) in
        [("ArchiveQueuePolicy", "onboarding-archive"), ("AuditorsQueuePolicy", "onboarding-auditors")]
    {
        let doc = resource(&s, policy)["PolicyDocument"].clone();
        let on = Resource::Policy(&doc);
        let send = || Request::new("sqs:SendMessage", &arn("sqs", queue));
        allowed(&sns, send().with("aws:SourceArn", &[&topic]), on);
        denied(&sns, send().with("aws:SourceArn", &[&arn("sns", "another-topic")]), on);
        denied(&admin(), send(), on);
        denied(&function_role(&s, "RecordRole"), send(), on);
    }
    let doc = resource(&s, "ArchiveQueuePolicy")["PolicyDocument"].clone();
    let on = Resource::Policy(&doc);
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"] {
        let take = Request::new(action, &arn("sqs", "onboarding-archive"));
        denied(&admin(), take.clone(), on);
        denied(&function_role(&s, "SweepRole"), take.clone(), on);
    }
    let archiver = function_role(&s, "ArchiverRole");
    for action in ["sqs:ReceiveMessage", "sqs:DeleteMessage"] {
        allowed(&archiver, Request::new(action, &arn("sqs", "onboarding-archive")), on);
    }
    denied(&archiver, Request::new("sqs:PurgeQueue", &arn("sqs", "onboarding-archive")), on);
}

/// The access reviews' function alone reads the key that signs reviewers' links: the key's
/// resource policy denies every other principal (an administrator and the operator included),
/// and only the deployer may change the key or that policy. Its role reaches the reviews table,
/// its stream, the two topics and nothing else (no IAM, no other secret or table). Under the
/// guardrails, only the reviews role, the operator and the deployer write campaigns (so no
/// administrator can forge a manager's decision), and only the deployer changes the function.
#[test]
fn only_the_reviews_function_reads_the_review_key_and_it_reaches_nothing_but_the_campaigns() {
    let s = stack();
    let key_policy = resource(&s, "ReviewsKeyPolicy")["ResourcePolicy"].clone();
    let key = arn("secretsmanager", "secret:employee-lifecycle-reviews-key-AbCdEf");
    let on_key = Resource::Policy(&key_policy);
    let reviews = function_role(&s, "ReviewsRole");
    let administrator = |role: &str| Principal { arn: format!("arn:aws:iam::{ACCOUNT}:role/{role}"), ..admin() };
    let read = || Request::new("secretsmanager:GetSecretValue", &key);
    allowed(&reviews, read(), on_key);
    denied(&admin(), read(), on_key);
    denied(&administrator("employee-lifecycle-operator"), read(), on_key);
    for role in ROLES.iter().filter(|r| **r != "ReviewsRole") {
        denied(&function_role(&s, role), read(), on_key);
    }
    for action in ["secretsmanager:PutSecretValue", "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteSecret"] {
        denied(&admin(), Request::new(action, &key), on_key);
        allowed(&administrator("employee-lifecycle-deployer"), Request::new(action, &key), on_key);
    }

    let table = arn("dynamodb", "table/employee-lifecycle-reviews");
    let none = Resource::None;
    for action in ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"] {
        allowed(&reviews, Request::new(action, &table), none);
    }
    allowed(&reviews, Request::new("sns:Publish", &arn("sns", "onboarding-notifications")), none);
    for (action, target) in [
        ("dynamodb:PutItem", table.clone()),
        ("dynamodb:DeleteItem", table.clone()),
        ("dynamodb:UpdateItem", arn("dynamodb", "table/employee-lifecycle-tombstones")),
        ("secretsmanager:GetSecretValue", SIGNING_SECRET.to_owned()),
        ("secretsmanager:GetSecretValue", secret_arn("jane.doe", "console-password")),
        ("iam:RemoveUserFromGroup", format!("arn:aws:iam::{ACCOUNT}:group/Developers")),
        ("iam:DeleteLoginProfile", user_arn("E1", "jane.doe")),
        ("sns:Publish", arn("sns", "another-topic")),
    ] {
        denied(&reviews, Request::new(action, &target), none);
    }

    let read_scp = |f: &str| -> Value {
        let text = std::fs::read_to_string(tests::root().join("infra").join(f)).expect("guardrail");
        assert!(text.len() <= 5_120, "{f}: {} characters, over the SCP size limit", text.len());
        serde_json::from_str(&text).expect("json")
    };
    let full_access =
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
    let scps = [full_access, read_scp("guardrail-scp.json"), read_scp("guardrail-reviews-scp.json")];
    let forge = Request::new("dynamodb:UpdateItem", &table);
    assert!(matches!(decide_under(&scps, &admin(), &forge, none), Decision::ExplicitDeny(_)));
    assert_eq!(decide_under(&scps, &reviews, &forge, none), Decision::Allowed);
    for who in ["employee-lifecycle-deployer", "employee-lifecycle-operator"] {
        assert_eq!(decide_under(&scps, &administrator(who), &forge, none), Decision::Allowed, "{who}");
    }
    let code = Request::new("lambda:UpdateFunctionCode", &arn("lambda", "function:employee-reviews"));
    assert!(matches!(
        decide_under(&scps, &administrator("employee-lifecycle-operator"), &code, none),
        Decision::ExplicitDeny(_)
    ));
    assert_eq!(decide_under(&scps, &administrator("employee-lifecycle-deployer"), &code, none), Decision::Allowed);
}
