//! Employees under the boundary: a ceiling whatever their groups grant, no reach into this
//! system, and a leaver's credentials and role sessions ended.

use super::*;

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

#[test]
fn the_boundary_is_within_iams_size_limit_and_the_template_installs_the_codes() {
    let s = stack();
    let installed = &resource(&s, "PermissionsBoundary")["PolicyDocument"];
    // The code's boundary, with the template's prefix placeholder filled in the same way.
    assert_eq!(installed, &policies::boundary("employee-lifecycle"));
    let counted = installed.to_string().chars().filter(|c| !c.is_whitespace()).count();
    assert!(counted <= 6_144, "{counted} characters: over IAM's managed-policy limit");
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
