//! `onboarding doctor`: before a first run, one line per check with what to do when it fails.
//! The config, the SDK's region and credentials and whose they are, the endpoint, and what
//! `bootstrap` makes (topics, the tombstones table, the policies with this version's documents,
//! the groups), and against AWS whether the caller may do what each command needs (IAM's policy
//! simulator). Reads only. Exit 0 only when every check passed.

use std::path::Path;

use serde::Serialize;
use shared::aws::{self, Aws};
use shared::config::{Config, TargetKind};
use shared::policies;

use crate::bootstrap::{INSTALLED_BY, Installed, installed};

/// One check's verdict.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    pub check: String,
    /// `ok`, `failed`, or `not-checked` (cannot be checked here, or an earlier check failed).
    pub verdict: &'static str,
    pub detail: String,
    /// What to do, when it failed.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

impl Check {
    fn ok(check: &str, detail: impl Into<String>) -> Self {
        Self { check: check.into(), verdict: "ok", detail: detail.into(), fix: String::new() }
    }

    fn failed(check: &str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { check: check.into(), verdict: "failed", detail: detail.into(), fix: fix.into() }
    }

    fn not_checked(check: &str, why: impl Into<String>) -> Self {
        Self { check: check.into(), verdict: "not-checked", detail: why.into(), fix: String::new() }
    }
}

const BOOTSTRAP: &str = "run `onboarding bootstrap` (or deploy the stack) with this config";

/// Every check, in order; later ones are `not-checked` when what they need failed.
pub async fn doctor(config: &Path) -> Vec<Check> {
    let mut checks = Vec::new();
    let cfg = match Config::load(config) {
        Ok(cfg) => {
            checks.push(Check::ok("config", format!("{} is valid", config.display())));
            cfg
        }
        Err(e) => {
            checks.push(Check::failed("config", e.to_string(), "correct the key it names"));
            checks.push(Check::not_checked("aws", "the config is needed first"));
            return checks;
        }
    };
    let sdk = aws::load_sdk_config(&cfg, aws::Trust::System).await;
    if let Err(e) = aws::ready(&sdk).await {
        checks.push(Check::failed("credentials", e, "see above"));
        checks.push(Check::not_checked("account", "credentials are needed first"));
        return checks;
    }
    let region = sdk.region().map(ToString::to_string).unwrap_or_default();
    checks.push(Check::ok("credentials", format!("found, region {region}")));
    let endpoint = sdk.endpoint_url().map(str::to_owned);
    match crate::reachable(&sdk).await {
        Ok(()) => checks.push(Check::ok(
            "endpoint",
            endpoint.clone().map_or("AWS's own endpoints".into(), |u| format!("{u} answers (an emulator?)")),
        )),
        Err(e) => {
            checks.push(Check::failed("endpoint", e, "start the emulator, or unset AWS_ENDPOINT_URL"));
            return checks;
        }
    }
    let caller = match aws::sts::caller(&sdk).await {
        Ok(arn) => {
            checks.push(Check::ok("identity", format!("signed as {arn}")));
            arn
        }
        Err(e) => {
            checks.push(Check::failed("identity", e.to_string(), "check the credentials (expired? another account?)"));
            return checks;
        }
    };
    let clients = Aws::new(&sdk, cfg.retry_policy());
    checks.extend(made_by_bootstrap(&cfg, &clients).await);
    match endpoint {
        Some(_) => checks.push(Check::not_checked(
            "permissions",
            "an emulator evaluates no IAM policy: nothing to learn there; against AWS, IAM's simulator is asked",
        )),
        None => checks.extend(permissions(&cfg, &clients.iam, &caller).await),
    }
    checks
}

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
    }
    if cfg.trail.bucket.is_some() {
        needs
            .push(("audit (the trail's bucket)", vec!["s3:ListBucketVersions", "s3:GetObject", "s3:GetObjectVersion"]));
    }
    needs
}

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

/// What `bootstrap` makes, as this version makes it.
async fn made_by_bootstrap(cfg: &Config, aws: &Aws) -> Vec<Check> {
    let mut checks = Vec::new();
    for topic in [&cfg.topics.notifications, &cfg.topics.audit] {
        let check = format!("sns topic {topic}");
        checks.push(match aws.sns.find_topic(topic).await {
            Ok(Some(arn)) => Check::ok(&check, arn),
            Ok(None) => Check::failed(&check, "missing", BOOTSTRAP),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may sns:ListTopics"),
        });
    }
    let table = &cfg.lifecycle.tombstones_table;
    let check = format!("dynamodb table {table}");
    checks.push(match aws.tombstones.get(table, "onboarding-doctor").await {
        Ok(_) => Check::ok(&check, "readable"),
        Err(e) if e.aws_code() == Some("ResourceNotFoundException") => Check::failed(&check, "missing", BOOTSTRAP),
        Err(e) => Check::failed(&check, e.to_string(), "check the caller may dynamodb:GetItem on it"),
    });
    if cfg.target.kind != TargetKind::Iam {
        checks.push(Check::not_checked(
            "identity center",
            "its groups, permission sets and assignments are not checked yet: `onboarding bootstrap` reports them",
        ));
        return checks;
    }
    let mut documents = vec![
        (policies::SELF_SERVICE_POLICY.to_owned(), policies::self_service(cfg)),
        (policies::FORCE_MFA_POLICY.to_owned(), policies::force_mfa()),
    ];
    if !cfg.iam.permissions_boundary.starts_with("arn:") {
        documents.insert(0, (cfg.iam.permissions_boundary.clone(), policies::boundary(&cfg.secrets.prefix)));
    }
    for (name, doc) in documents {
        let check = format!("iam policy {name}");
        checks.push(match installed(aws, &name, &doc).await {
            Ok(Installed::Current(arn)) => Check::ok(&check, format!("{arn}, this version's document")),
            Ok(Installed::Missing) => Check::failed(&check, "missing", BOOTSTRAP),
            Ok(Installed::Outdated { arn, ours: true }) => Check::failed(
                &check,
                format!("{arn} has not this version's document (an older one, or changed since)"),
                BOOTSTRAP,
            ),
            Ok(Installed::Outdated { arn, ours: false }) => Check::failed(
                &check,
                format!("{arn} has another document and was not installed by bootstrap"),
                "compare it with this version's, then delete or rename it, and run bootstrap",
            ),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may read IAM policies"),
        });
    }
    if let Some(name) = cfg.iam.role_sessions_boundary.as_ref().filter(|n| !n.starts_with("arn:")) {
        let check = format!("iam policy {name}");
        let found = match aws.iam.find_local_policy(name).await {
            Ok(Some(arn)) => aws.iam.policy_document(&arn).await.map(|(d, _)| Some((arn, d))),
            Ok(None) => Ok(None),
            Err(e) => Err(e),
        };
        checks.push(match found {
            Ok(Some((arn, d))) if d.as_deref() == Some(INSTALLED_BY) => Check::ok(&check, arn),
            Ok(Some((arn, _))) => Check::failed(
                &check,
                format!("{arn} was not installed by bootstrap: departures would rewrite it"),
                "name another in [iam] role_sessions_boundary",
            ),
            Ok(None) => Check::failed(&check, "missing", BOOTSTRAP),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may read IAM policies"),
        });
    }
    for group in &cfg.groups.allowed {
        let check = format!("iam group {group}");
        checks.push(match aws.iam.group_arn(group).await {
            Ok(Some(arn)) => Check::ok(&check, arn),
            Ok(None) => Check::failed(&check, "missing", BOOTSTRAP),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may iam:GetGroup"),
        });
    }
    checks
}
