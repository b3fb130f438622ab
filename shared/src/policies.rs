//! IAM policy documents this system installs (`onboarding bootstrap`). Pure JSON builders.

use serde_json::{Value, json};

use crate::config::Config;

/// Name of the policy attached to the always-groups: change one's own password, manage one's
/// own MFA device, read one's own initial credentials.
pub const SELF_SERVICE_POLICY: &str = "employee-self-service";
/// Name of the policy that denies everything but MFA set-up until the user signed in with MFA.
pub const FORCE_MFA_POLICY: &str = "employee-force-mfa";
/// Default name of the permissions boundary for the roles employees assume
/// ([`role_sessions_boundary`]).
pub const ROLE_SESSIONS_POLICY: &str = "employee-role-sessions-boundary";
/// The statement of [`role_sessions_boundary`] that denies leavers' sessions.
const DENY_LEAVER_SESSIONS: &str = "DenyLeaversRoleSessions";

/// Names of this system's resources that no employee may touch: the deployed stack's fixed
/// names (`hr-events`, `employee-*`, `onboarding-*`), and the configured secrets prefix.
pub const HR_BUS: &str = "hr-events";
pub const FUNCTIONS_AND_FLOWS_PREFIX: &str = "employee-";
pub const TOPICS_AND_QUEUES_PREFIX: &str = "onboarding-";
/// The deployed stack's name starts with this, and so do the names CloudFormation gives its
/// alarms, roles and the sweep's schedule rule, the trail bucket's name and the keys' aliases.
pub const STACK_PREFIX: &str = "employee-lifecycle";

/// Every IAM resource type (IAM refuses a bare `arn:aws:iam::*:*`).
pub const IAM_RESOURCE_TYPES: &[&str] = &[
    "user",
    "group",
    "role",
    "policy",
    "mfa",
    "instance-profile",
    "saml-provider",
    "oidc-provider",
    "server-certificate",
    "sms-mfa",
];

/// What an employee may do to IAM itself: their own password and MFA device, nothing else.
pub const SELF_SERVICE_IAM_WRITES: &[&str] = &[
    "iam:ChangePassword",
    "iam:CreateVirtualMFADevice",
    "iam:EnableMFADevice",
    "iam:ResyncMFADevice",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
];

/// The permissions boundary for every created user: the most any employee can ever be granted,
/// whatever their groups say. A ceiling of Allows (everything outside IAM; IAM reads; their own
/// password and MFA) with explicit Denies on top:
/// - every other IAM action on any IAM resource (credentials, keys, certificates, MFA, groups,
///   memberships, policies, boundaries, roles, identity providers of anyone), and the
///   account-level IAM settings (password policy, alias, STS preferences);
/// - every control point of this system: its bus and rules, state machines, functions and their
///   queue mappings, topics, queues, schedules, tables, the intake's signing secrets, the trail
///   bucket, log groups, alarms, the stack, and every action on its keys but `kms:Decrypt` (which
///   the key policies limit to reading one's own secret through Secrets Manager);
/// - every initial-credential secret except reading their own (by the secret's `user-name` tag,
///   which only this system writes);
/// - role sessions that do not carry the employee's own user name as `sts:SourceIdentity` (so a
///   leaver's sessions are recognisable on every role and in CloudTrail), and federation tokens;
/// - `sns:Unsubscribe` anywhere: it has no resource type, so no ARN can keep it from the trail's
///   archive subscription.
pub fn boundary(secrets_prefix: &str) -> Value {
    let mut never_on_iam = vec!["iam:Get*", "iam:List*", "iam:Generate*", "iam:Simulate*", "sts:*"];
    never_on_iam.extend(SELF_SERVICE_IAM_WRITES);
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowWhatGroupsGrantOutsideIam",
                "Effect": "Allow",
                "NotAction": ["iam:*", "organizations:*", "account:*"],
                "Resource": "*"
            },
            {
                "Sid": "AllowReadingIam",
                "Effect": "Allow",
                "Action": ["iam:Get*", "iam:List*", "iam:Generate*", "iam:Simulate*"],
                "Resource": "*"
            },
            {
                "Sid": "AllowOwnPasswordAndMfa",
                "Effect": "Allow",
                "Action": SELF_SERVICE_IAM_WRITES,
                "Resource": [
                    "arn:aws:iam::*:user/${aws:username}",
                    "arn:aws:iam::*:user/*/${aws:username}",
                    "arn:aws:iam::*:mfa/${aws:username}"
                ]
            },
            {
                "Sid": "DenyEverythingOnceAccessIsRevoked",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"Null": {format!("aws:PrincipalTag/{}", crate::tags::ACCESS_REVOKED): "false"}}
            },
            {
                "Sid": "DenyIamWritesButOwnPasswordAndMfa",
                "Effect": "Deny",
                "NotAction": never_on_iam,
                "Resource": IAM_RESOURCE_TYPES.iter().map(|t| format!("arn:aws:iam::*:{t}/*")).collect::<Vec<_>>()
            },
            {
                "Sid": "DenyAccountSettings",
                "Effect": "Deny",
                "Action": [
                    "iam:UpdateAccountPasswordPolicy", "iam:DeleteAccountPasswordPolicy",
                    "iam:CreateAccountAlias", "iam:DeleteAccountAlias",
                    "iam:SetSecurityTokenServicePreferences", "iam:UpdateAccountEmailAddress",
                    "iam:UpdateAccountName", "organizations:*", "account:*"
                ],
                "Resource": "*"
            },
            {
                "Sid": "DenyThisSystem",
                "Effect": "Deny",
                "Action": "*",
                "Resource": [
                    format!("arn:aws:events:*:*:event-bus/{HR_BUS}"),
                    format!("arn:aws:events:*:*:rule/{HR_BUS}/*"),
                    format!("arn:aws:events:*:*:rule/{STACK_PREFIX}*"),
                    format!("arn:aws:events:*:*:archive/*"),
                    format!("arn:aws:states:*:*:stateMachine:{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:states:*:*:execution:{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:lambda:*:*:function:{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:sns:*:*:{TOPICS_AND_QUEUES_PREFIX}*"),
                    format!("arn:aws:sqs:*:*:{TOPICS_AND_QUEUES_PREFIX}*"),
                    format!("arn:aws:scheduler:*:*:schedule/*/{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:dynamodb:*:*:table/{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:secretsmanager:*:*:secret:{}*", crate::config::signing_secrets_prefix(secrets_prefix)),
                    format!("arn:aws:s3:::{STACK_PREFIX}-audit-*"),
                    format!("arn:aws:logs:*:*:log-group:/aws/lambda/{FUNCTIONS_AND_FLOWS_PREFIX}*"),
                    format!("arn:aws:cloudwatch:*:*:alarm:{STACK_PREFIX}*"),
                    format!("arn:aws:cloudformation:*:*:stack/{STACK_PREFIX}*")
                ]
            },
            {
                "Sid": "DenyThisSystemsKeys",
                "Effect": "Deny",
                "NotAction": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": format!("alias/{STACK_PREFIX}*")}}
            },
            {
                "Sid": "DenyThisSystemsQueueMappings",
                "Effect": "Deny",
                "Action": ["lambda:CreateEventSourceMapping", "lambda:UpdateEventSourceMapping", "lambda:DeleteEventSourceMapping"],
                "Resource": "*",
                "Condition": {"ArnLike": {"lambda:FunctionArn": format!("arn:aws:lambda:*:*:function:{FUNCTIONS_AND_FLOWS_PREFIX}*")}}
            },
            {
                "Sid": "DenyRoleSessionsWithoutOwnSourceIdentity",
                "Effect": "Deny",
                "Action": "sts:AssumeRole",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"sts:SourceIdentity": "${aws:username}"}}
            },
            {
                "Sid": "DenyFederationTokensAndUnsubscribing",
                "Effect": "Deny",
                "Action": ["sts:GetFederationToken", "sns:Unsubscribe"],
                "Resource": "*"
            },
            {
                "Sid": "DenyChangingInitialCredentials",
                "Effect": "Deny",
                "NotAction": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": format!("arn:aws:secretsmanager:*:*:secret:{secrets_prefix}/*")
            },
            {
                "Sid": "DenyOthersInitialCredentials",
                "Effect": "Deny",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": format!("arn:aws:secretsmanager:*:*:secret:{secrets_prefix}/*"),
                "Condition": {"StringNotEquals": {"aws:ResourceTag/user-name": "${aws:username}"}}
            }
        ]
    })
}

/// The permissions boundary for the roles employees assume (the operator sets it on them): it
/// allows whatever the role's own policies allow, and denies every request of a session whose
/// `aws:SourceIdentity` is a leaver's user name. Employees can assume a role only with their own
/// name as source identity (the user boundary), and it stays on every session chained from it,
/// so a departure that adds the name ends those sessions at their next request. A boundary can
/// only take away: whoever may rewrite it can end sessions, never grant anything.
///
/// `leavers` most recent first: IAM's 6,144 characters hold a few hundred names, kept in that
/// order; the second value is the names that did not fit (none unless hundreds left within the
/// longest role session, 12 hours, a wave the mass-departure guard holds back long before).
pub fn role_sessions_boundary<'a>(leavers: impl IntoIterator<Item = &'a str>) -> (Value, Vec<String>) {
    let allow = json!({
        "Sid": "AllowWhatTheRoleGrants",
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*"
    });
    let budget = MANAGED_POLICY_CHARACTERS - allow.to_string().len() - 200;
    let (deny, dropped) = deny_listed(DENY_LEAVER_SESSIONS, "aws:SourceIdentity", leavers, budget);
    let statements: Vec<Value> = std::iter::once(allow).chain(deny).collect();
    (json!({"Version": "2012-10-17", "Statement": statements}), dropped)
}

/// The leavers whose sessions a [`role_sessions_boundary`] document denies.
pub fn leavers_denied(document: &Value) -> std::collections::BTreeSet<String> {
    listed(document, DENY_LEAVER_SESSIONS, "aws:SourceIdentity")
}

/// IAM's limit on a managed policy, white space not counted.
const MANAGED_POLICY_CHARACTERS: usize = 6_144;

/// IAM's limit on a role's inline policies together, white space not counted: what a permission
/// set's inline policy becomes in each account it is provisioned to (sso-admin itself takes
/// 32,768).
const ROLE_INLINE_CHARACTERS: usize = 10_240;

/// The statement id of the leavers' denial in a permission set's inline policy.
pub const DENY_LEAVERS: &str = "DenyLeavers";

/// The inline policy of every permission set this system manages in Identity Center, AWS's
/// documented revocation: every request of a session whose `identitystore:userId` is a leaver's
/// is denied, so sessions the person already holds end at their next request once the permission
/// set is provisioned again. Nothing else is in it (the permission sets' grants are their managed
/// policies), so it can only take away.
///
/// `user_ids` most recent first; the second value is the ids that did not fit IAM's 10,240
/// characters for a role's inline policies (a few hundred fit: entries stay only as long as a
/// session can live). `None` when there is no leaver to deny: the permission set needs no
/// inline policy.
pub fn permission_set_revocations<'a>(user_ids: impl IntoIterator<Item = &'a str>) -> (Option<Value>, Vec<String>) {
    let budget = ROLE_INLINE_CHARACTERS - 200;
    let (deny, dropped) = deny_listed(DENY_LEAVERS, "identitystore:userId", user_ids, budget);
    (deny.map(|d| json!({"Version": "2012-10-17", "Statement": [d]})), dropped)
}

/// The Identity Store user ids a [`permission_set_revocations`] document denies.
pub fn users_denied(document: &Value) -> std::collections::BTreeSet<String> {
    listed(document, DENY_LEAVERS, "identitystore:userId")
}

/// A Deny of every action on every resource for a request whose `key` is one of `values`, each
/// once, the first ones kept while they fit `budget` characters: the statement (`None` for no
/// value: an empty condition list is not a policy), and the values that did not fit.
fn deny_listed<'a>(
    sid: &str,
    key: &str,
    values: impl IntoIterator<Item = &'a str>,
    mut budget: usize,
) -> (Option<Value>, Vec<String>) {
    let (mut kept, mut dropped) = (std::collections::BTreeSet::new(), Vec::new());
    for value in values {
        if kept.contains(value) {
            continue;
        }
        match budget.checked_sub(value.len() + 3) {
            Some(left) => {
                budget = left;
                kept.insert(value);
            }
            None => dropped.push(value.to_owned()),
        }
    }
    let statement = (!kept.is_empty()).then(|| {
        json!({
            "Sid": sid,
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"StringEquals": {key: kept.into_iter().collect::<Vec<_>>()}}
        })
    });
    (statement, dropped)
}

/// The values of `key` that the statement `sid` of a [`deny_listed`] document lists (one value
/// may come back from AWS as a string).
fn listed(document: &Value, sid: &str, key: &str) -> std::collections::BTreeSet<String> {
    let statements = document["Statement"].as_array().map(Vec::as_slice).unwrap_or_default();
    let Some(deny) = statements.iter().find(|s| s["Sid"] == sid) else {
        return Default::default();
    };
    match &deny["Condition"]["StringEquals"][key] {
        Value::String(one) => [one.clone()].into(),
        Value::Array(many) => many.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        _ => Default::default(),
    }
}

/// The resource policy of a secret holding someone's initial credentials. Under IAM's rules an
/// identity policy alone suffices within one account, so the Allow is not what protects it; the
/// Denies are:
/// - reading the value: everyone but the person and the configured readers (so also this
///   system's roles, which write secrets and never read them);
/// - changing or removing this policy, replicating, restoring, rewriting, retagging or deleting
///   the secret: everyone but the person, this system's `writers` and the account root (the
///   audited break-glass path); the readers read, nothing more.
pub fn secret_policy(person_arn: &str, readers: &[String], writers: &[String]) -> Value {
    let mut read = vec![person_arn.to_owned()];
    read.extend(readers.iter().cloned());
    // The readers read; they never rewrite, retag, restore or delete.
    let mut manage = vec![person_arn.to_owned()];
    manage.extend(writers.iter().cloned());
    if let Some(account) = crate::arn::account_of(person_arn) {
        let partition = person_arn.split(':').nth(1).unwrap_or("aws");
        manage.push(format!("arn:{partition}:iam::{account}:root"));
    }
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PersonReads",
                "Effect": "Allow",
                "Principal": {"AWS": read},
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": "*"
            },
            {
                "Sid": "NobodyElseReads",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
                "Condition": {"StringNotLike": {"aws:PrincipalArn": read}}
            },
            {
                "Sid": "OnlyThisSystemManagesIt",
                "Effect": "Deny",
                "Principal": "*",
                "Action": [
                    "secretsmanager:PutResourcePolicy", "secretsmanager:DeleteResourcePolicy",
                    "secretsmanager:ReplicateSecretToRegions", "secretsmanager:RemoveRegionsFromReplication",
                    "secretsmanager:StopReplicationToReplica", "secretsmanager:RestoreSecret",
                    "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret",
                    "secretsmanager:UpdateSecretVersionStage", "secretsmanager:RotateSecret",
                    "secretsmanager:CancelRotateSecret", "secretsmanager:TagResource",
                    "secretsmanager:UntagResource", "secretsmanager:DeleteSecret"
                ],
                "Resource": "*",
                "Condition": {"StringNotLike": {"aws:PrincipalArn": manage}}
            }
        ]
    })
}

/// Self-service for employees (attached to the always-groups).
pub fn self_service(cfg: &Config) -> Value {
    let prefix = &cfg.secrets.prefix;
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ViewAccountPasswordRules", "Effect": "Allow", "Action": ["iam:GetAccountPasswordPolicy", "iam:ListVirtualMFADevices"], "Resource": "*"},
            {
                "Sid": "ManageOwnPasswordAndMfa",
                "Effect": "Allow",
                "Action": [
                    "iam:ChangePassword", "iam:GetUser", "iam:GetLoginProfile",
                    "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:ResyncMFADevice",
                    "iam:ListMFADevices", "iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"
                ],
                "Resource": ["arn:aws:iam::*:user/*/${aws:username}", "arn:aws:iam::*:user/${aws:username}", "arn:aws:iam::*:mfa/${aws:username}"]
            },
            {
                "Sid": "ReadOwnInitialCredentials",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                "Resource": format!("arn:aws:secretsmanager:*:*:secret:{prefix}/${{aws:username}}/*")
            }
        ]
    })
}

/// Until the user has signed in with MFA, deny everything except setting MFA up, changing the
/// initial password and reading the initial credentials (AWS's documented pattern).
pub fn force_mfa() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyAllExceptMfaSetupWithoutMfa",
                "Effect": "Deny",
                "NotAction": [
                    "iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser", "iam:ListMFADevices",
                    "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "iam:ChangePassword",
                    "iam:GetAccountPasswordPolicy", "sts:GetSessionToken",
                    "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "kms:Decrypt"
                ],
                "Resource": "*",
                "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}
            },
            {
                // Reading the initial credentials decrypts them with the secrets key, on the
                // person's behalf: that one decryption, through Secrets Manager, is allowed.
                "Sid": "DenyDecryptWithoutMfaButInitialCredentials",
                "Effect": "Deny",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "BoolIfExists": {"aws:MultiFactorAuthPresent": "false"},
                    "StringNotLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}
                }
            }
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundary_fits_iams_size_limit() {
        // A managed policy may hold 6,144 characters, white space not counted.
        let text = boundary("employee-lifecycle").to_string();
        let counted = text.chars().filter(|c| !c.is_whitespace()).count();
        assert!(counted <= 6_144, "{counted} characters");
    }

    #[test]
    fn the_role_sessions_boundary_lists_leavers_once_and_reads_back() {
        let (empty, dropped) = role_sessions_boundary([]);
        assert_eq!(empty["Statement"].as_array().map(Vec::len), Some(1), "no empty condition list");
        assert!(dropped.is_empty() && leavers_denied(&empty).is_empty());
        let (doc, dropped) = role_sessions_boundary(["sam.lee", "jane.doe", "sam.lee"]);
        assert!(dropped.is_empty());
        assert_eq!(
            doc["Statement"][1]["Condition"]["StringEquals"]["aws:SourceIdentity"],
            json!(["jane.doe", "sam.lee"])
        );
        assert_eq!(leavers_denied(&doc), ["jane.doe".to_owned(), "sam.lee".to_owned()].into());
        // A document IAM returns with one value as a string reads the same.
        let mut one = doc.clone();
        one["Statement"][1]["Condition"]["StringEquals"]["aws:SourceIdentity"] = json!("jane.doe");
        assert_eq!(leavers_denied(&one), ["jane.doe".to_owned()].into());
    }

    #[test]
    fn the_role_sessions_boundary_stays_within_iams_size_limit_and_says_who_did_not_fit() {
        let names: Vec<String> = (0..1_000).map(|i| format!("firstname.lastname{i:04}")).collect();
        let (doc, dropped) = role_sessions_boundary(names.iter().map(String::as_str));
        let counted = doc.to_string().chars().filter(|c| !c.is_whitespace()).count();
        assert!(counted <= 6_144, "{counted} characters");
        let kept = leavers_denied(&doc);
        assert!(kept.len() > 200, "{} names fit", kept.len());
        assert_eq!(kept.len() + dropped.len(), names.len());
        assert!(dropped.iter().all(|d| !kept.contains(d)));
    }

    #[test]
    fn a_permission_sets_revocations_list_each_leaver_once_fit_iams_role_limit_and_read_back() {
        assert_eq!(permission_set_revocations([]), (None, Vec::new()), "no leaver, no inline policy");
        let (doc, dropped) = permission_set_revocations(["u-2", "u-1", "u-2"]);
        let doc = doc.expect("a document");
        assert!(dropped.is_empty());
        assert_eq!(
            doc["Statement"],
            json!([{"Sid": "DenyLeavers", "Effect": "Deny", "Action": "*", "Resource": "*",
                    "Condition": {"StringEquals": {"identitystore:userId": ["u-1", "u-2"]}}}])
        );
        assert_eq!(users_denied(&doc), ["u-1".to_owned(), "u-2".to_owned()].into());
        // Identity Store user ids are 36-character UUIDs (with a store prefix, up to 47).
        let ids: Vec<String> = (0..1_000).map(|i| format!("9067a8d5-e0f1-70c6-1d2e-3f4a5b6c{i:04}")).collect();
        let (doc, dropped) = permission_set_revocations(ids.iter().map(String::as_str));
        let doc = doc.expect("a document");
        let counted = doc.to_string().chars().filter(|c| !c.is_whitespace()).count();
        assert!(counted <= 10_240, "{counted} characters");
        let kept = users_denied(&doc);
        assert!(kept.len() > 200, "{} ids fit", kept.len());
        assert_eq!(kept.len() + dropped.len(), ids.len());
        assert!(ids[..kept.len()].iter().all(|id| kept.contains(id)), "the most recent are kept");
    }

    #[test]
    fn users_can_change_their_password_and_read_only_their_secrets() {
        let cfg = Config::shipped().expect("cfg");
        let p = self_service(&cfg);
        assert!(p["Statement"][1]["Action"].as_array().expect("a").iter().any(|a| a == "iam:ChangePassword"));
        assert_eq!(
            p["Statement"][2]["Resource"],
            "arn:aws:secretsmanager:*:*:secret:employee-lifecycle/${aws:username}/*"
        );
        let f = force_mfa();
        assert!(f["Statement"][0]["NotAction"].as_array().expect("a").iter().any(|a| a == "iam:ChangePassword"));
    }
}
