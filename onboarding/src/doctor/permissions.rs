//! The caller's permissions against AWS: what each command needs ([`needs`]) and IAM's policy
//! simulator asked for the caller ([`permissions`]).

use shared::config::{Config, TargetKind};

use super::Check;

/// What each command needs of its caller, as IAM actions: the calls it makes through
/// `shared::aws` for this config (the lifecycle for the IAM target; Identity Center's bootstrap
/// for that target; the scheduler when departures are scheduled; the trail when a bucket is
/// named). `sts:GetCallerIdentity` needs no permission.
pub fn needs(cfg: &Config) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut needs = Vec::new();
    let mut bootstrap = vec!["sns:CreateTopic", "sns:ListTopics", "dynamodb:CreateTable", "dynamodb:UpdateTimeToLive"];
    if cfg.target.kind == TargetKind::IdentityCenter {
        bootstrap.extend([
            "sso:ListInstances",
            "sso:ListPermissionSets",
            "sso:DescribePermissionSet",
            "sso:CreatePermissionSet",
            "sso:UpdatePermissionSet",
            "sso:ListManagedPoliciesInPermissionSet",
            "sso:AttachManagedPolicyToPermissionSet",
            "sso:ProvisionPermissionSet",
            "sso:DescribePermissionSetProvisioningStatus",
            "sso:ListAccountAssignments",
            "sso:CreateAccountAssignment",
            "sso:DescribeAccountAssignmentCreationStatus",
            "identitystore:GetGroupId",
            "identitystore:DescribeGroup",
            "identitystore:CreateGroup",
        ]);
        needs.push(("bootstrap", bootstrap));
        needs.push(("run, plan, sweep, serve, quarantine", IDENTITY_CENTER_LIFECYCLE.to_vec()));
        let mut reading = IDENTITY_CENTER_LIFECYCLE.to_vec();
        reading.extend(["identitystore:ListUsers", "identitystore:ListGroupMemberships"]);
        needs.push(("status, drift, roster import", reading));
        needs.push(("audit access", IDENTITY_CENTER_ACCESS.to_vec()));
        let mut review = IDENTITY_CENTER_ACCESS.to_vec();
        review.extend([
            "identitystore:ListGroupMembershipsForMember",
            "identitystore:DescribeUser",
            "identitystore:GetGroupId",
            "identitystore:DeleteGroupMembership",
        ]);
        review.extend(REVIEW.iter().filter(|a| a.starts_with("dynamodb:") || a.starts_with("sns:")));
        needs.push(("review", review));
    } else {
        bootstrap.extend(IAM_POLICIES);
        bootstrap.extend(["iam:CreatePolicy", "iam:CreateGroup", "iam:GetGroup", "iam:AttachGroupPolicy"]);
        needs.push(("bootstrap", bootstrap));
        let mut lifecycle = LIFECYCLE.to_vec();
        lifecycle.extend(IAM_POLICIES);
        if cfg.lifecycle.schedule_role.is_some() {
            lifecycle.extend([
                "scheduler:CreateSchedule",
                "scheduler:GetSchedule",
                "scheduler:DeleteSchedule",
                "iam:PassRole",
            ]);
        }
        needs.push(("run, plan, sweep, serve, status, drift, roster import, quarantine", lifecycle));
        needs.push(("audit access", AUDIT_ACCESS.to_vec()));
        needs.push(("review", REVIEW.to_vec()));
    }
    if cfg.trail.bucket.is_some() {
        needs
            .push(("audit (the trail's bucket)", vec!["s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion"]));
    }
    needs
}

/// Access reviews (IAM users): freezing the access, the campaign store, the links, and close's
/// revocations with their read-back.
const REVIEW: &[&str] = &[
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:ListAttachedGroupPolicies",
    "iam:ListGroupPolicies",
    "iam:GetUser",
    "iam:ListGroupsForUser",
    "iam:RemoveUserFromGroup",
    "iam:GetLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:UpdateAccessKey",
    "iam:ListAttachedUserPolicies",
    "iam:DetachUserPolicy",
    "iam:ListUserPolicies",
    "iam:DeleteUserPolicy",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "sns:Publish",
];

/// Who has what in Identity Center: its users, groups, memberships and account assignments, and
/// the people table.
const IDENTITY_CENTER_ACCESS: &[&str] = &[
    "sso:ListInstances",
    "sso:ListPermissionSets",
    "sso:DescribePermissionSet",
    "sso:ListAccountAssignments",
    "identitystore:ListUsers",
    "identitystore:ListGroups",
    "identitystore:ListGroupMemberships",
    "dynamodb:Scan",
];

/// Reading and versioning this system's customer-managed policies.
const IAM_POLICIES: [&str; 6] = [
    "iam:ListPolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:ListPolicyVersions",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion",
];

/// IAM's own view for auditors: authorisation details and the credential report.
const AUDIT_ACCESS: [&str; 3] =
    ["iam:GetAccountAuthorizationDetails", "iam:GenerateCredentialReport", "iam:GetCredentialReport"];

/// Hires, changes, departures and the sweep on Identity Center: its users, memberships and the
/// managed permission sets' revocations, the people and tombstone tables, the messages.
const IDENTITY_CENTER_LIFECYCLE: &[&str] = &[
    "sso:ListInstances",
    "sso:ListPermissionSets",
    "sso:DescribePermissionSet",
    "sso:GetInlinePolicyForPermissionSet",
    "sso:PutInlinePolicyToPermissionSet",
    "sso:DeleteInlinePolicyFromPermissionSet",
    "sso:ProvisionPermissionSet",
    "sso:DescribePermissionSetProvisioningStatus",
    "identitystore:GetUserId",
    "identitystore:DescribeUser",
    "identitystore:CreateUser",
    "identitystore:UpdateUser",
    "identitystore:DeleteUser",
    "identitystore:GetGroupId",
    "identitystore:ListGroups",
    "identitystore:ListGroupMembershipsForMember",
    "identitystore:CreateGroupMembership",
    "identitystore:DeleteGroupMembership",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Scan",
    "sns:ListTopics",
    "sns:Publish",
    "sns:PublishBatch",
];

/// Hires, changes, departures, the sweep and the roster: every user, credential, secret,
/// message and tombstone call of the flows, in process.
const LIFECYCLE: &[&str] = &[
    "iam:GetUser",
    "iam:ListUsers",
    "iam:CreateUser",
    "iam:UpdateUser",
    "iam:DeleteUser",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:PutUserPermissionsBoundary",
    "iam:GetGroup",
    "iam:ListGroupsForUser",
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:GetLoginProfile",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:GetAccountPasswordPolicy",
    "iam:ListAccessKeys",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:GetAccessKeyLastUsed",
    "iam:ListSSHPublicKeys",
    "iam:UpdateSSHPublicKey",
    "iam:DeleteSSHPublicKey",
    "iam:ListServiceSpecificCredentials",
    "iam:UpdateServiceSpecificCredential",
    "iam:DeleteServiceSpecificCredential",
    "iam:ListSigningCertificates",
    "iam:UpdateSigningCertificate",
    "iam:DeleteSigningCertificate",
    "iam:ListMFADevices",
    "iam:DeactivateMFADevice",
    "iam:DeleteVirtualMFADevice",
    "iam:ListAttachedUserPolicies",
    "iam:DetachUserPolicy",
    "iam:ListUserPolicies",
    "iam:DeleteUserPolicy",
    "iam:GetAccountAuthorizationDetails",
    "iam:GenerateCredentialReport",
    "iam:GetCredentialReport",
    "iam:GetAccountSummary",
    "secretsmanager:CreateSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "secretsmanager:PutResourcePolicy",
    "secretsmanager:TagResource",
    "secretsmanager:RestoreSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:ListSecrets",
    "sns:ListTopics",
    "sns:Publish",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    // The sweep closes access reviews past their due date.
    "dynamodb:Scan",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
];

/// IAM's policy simulator, asked for the caller (a user, or the role behind an assumed-role
/// session) on every resource: one check per command, with the actions it is missing.
pub async fn permissions(cfg: &Config, iam: &shared::aws::iam::Iam, caller: &str) -> Vec<Check> {
    let principal = match principal(iam, caller).await {
        Ok(Ok(arn)) => arn,
        Ok(Err(why)) => return vec![Check::not_checked("permissions", why)],
        Err(e) => {
            return vec![Check::failed(
                "permissions",
                format!("cannot find the role behind {caller}: {e}"),
                "let the caller iam:GetRole its own role, or check permissions by hand",
            )];
        }
    };
    let needs = needs(cfg);
    let mut all: Vec<&str> = needs.iter().flat_map(|(_, actions)| actions.iter().copied()).collect();
    all.sort_unstable();
    all.dedup();
    let allowed: std::collections::BTreeSet<String> = match iam.simulate(&principal, &all).await {
        Ok(results) => results.into_iter().filter(|(_, ok)| *ok).map(|(action, _)| action).collect(),
        Err(e) => {
            return vec![Check::failed(
                "permissions",
                format!("IAM's simulator did not answer for {principal}: {e}"),
                "let the caller iam:SimulatePrincipalPolicy on itself, or check permissions by hand",
            )];
        }
    };
    needs
        .into_iter()
        .map(|(command, actions)| {
            let check = format!("permissions: {command}");
            let missing: Vec<&str> = actions.iter().copied().filter(|a| !allowed.contains(*a)).collect();
            if missing.is_empty() {
                Check::ok(&check, format!("{} actions allowed for {principal} (simulated on every resource)", actions.len()))
            } else {
                Check::failed(
                    &check,
                    format!("{principal} may not: {}", missing.join(", ")),
                    "grant them (the stack's roles show the scoped form), or run the command as a principal that has them",
                )
            }
        })
        .collect()
}

/// The principal IAM's simulator takes for a caller: a user's ARN as it is; an assumed-role
/// session's role, with its path (`iam:GetRole`); `Ok(Err(why))` for a caller it cannot simulate.
async fn principal(iam: &shared::aws::iam::Iam, caller: &str) -> Result<Result<String, String>, shared::Error> {
    let Some((_, resource)) = caller.split_once(":iam::").or_else(|| caller.split_once(":sts::")) else {
        return Ok(Err(format!("{caller} is not an IAM or STS ARN")));
    };
    let resource = resource.split_once(':').map_or("", |(_, r)| r);
    if resource == "root" {
        return Ok(Err("the account's root user may do everything; do not run this system as root".into()));
    }
    if resource.starts_with("user/") {
        return Ok(Ok(caller.to_owned()));
    }
    if let Some(session) = resource.strip_prefix("assumed-role/") {
        let role = session.split('/').next().unwrap_or_default();
        return Ok(match iam.role_arn(role).await? {
            Some(arn) => Ok(arn),
            None => Err(format!("the role {role} behind {caller} was not found")),
        });
    }
    Ok(Err(format!("{caller} cannot be simulated (IAM's simulator takes users and roles)")))
}
