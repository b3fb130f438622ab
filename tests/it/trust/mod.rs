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

mod credentials;
mod employees;
mod guardrail;
mod identity_center;
mod reviews;
mod roles;
mod trail;

/// Every role of the stack (a test checks the template has exactly these).
pub(super) const ROLES: [&str; 14] = [
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

pub(super) fn user_arn(employee: &str, name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}::user/employees/{employee}/{name}").replace("::user", ":user")
}

pub(super) fn secret_arn(user: &str, kind: &str) -> String {
    arn("secretsmanager", &format!("secret:employee-lifecycle/{user}/{kind}-AbCdEf"))
}

/// An employee under the stack's boundary, whose groups grant *everything* (the worst case a
/// careless group could give), plus bootstrap's self-service and force-MFA policies.
pub(super) fn employee(stack: &Value, name: &'static str, employee_id: &str) -> Principal {
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
/// SNS as a service principal (it has no identity policy; a resource policy decides for it).
pub(super) fn sns_service() -> Principal {
    Principal {
        name: "sns",
        arn: "sns.amazonaws.com".into(),
        account: ACCOUNT.into(),
        identity: vec![],
        boundary: None,
    }
}

pub(super) fn admin() -> Principal {
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
pub(super) fn allowed_to(name: &'static str, principal_arn: &str, actions: &[&str]) -> Principal {
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

pub(super) fn mfa(r: Request) -> Request {
    r.with("aws:MultiFactorAuthPresent", &["true"])
}

#[track_caller]
pub(super) fn denied(p: &Principal, r: Request, res: Resource<'_>) {
    let d = decide(p, &r, res);
    assert!(!d.allowed(), "{} must not be able to {} on {}, but is: {d:?}", p.name, r.action, r.resource);
}

#[track_caller]
pub(super) fn allowed(p: &Principal, r: Request, res: Resource<'_>) {
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
    let sns = sns_service();
    let by_topic = |topic: &str| decrypt.clone().with("kms:EncryptionContext:aws:sns:topicArn", &[topic]);
    assert_eq!(decide(&sns, &by_topic("arn:aws:sns:us-east-1:1:t"), Resource::Key(&on_service)), Decision::Allowed);
    assert_eq!(
        decide(&sns, &by_topic("arn:aws:sns:us-east-1:1:u"), Resource::Key(&on_service)),
        Decision::ImplicitDeny
    );
}
