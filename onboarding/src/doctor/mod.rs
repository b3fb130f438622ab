//! `onboarding doctor`: before a first run, one line per check with what to do when it fails.
//! The config, the SDK's region and credentials and whose they are, the endpoint, and what
//! `bootstrap` makes (topics, the tombstones table, the policies with this version's documents,
//! the groups), and against AWS whether the caller may do what each command needs (IAM's policy
//! simulator). Reads only. Exit 0 only when every check passed.

use std::path::Path;

use serde::Serialize;
use shared::aws::{self, Aws};
use shared::config::Config;
use shared::policies;

use crate::bootstrap::{INSTALLED_BY, Installed, installed};

mod identity_center;
mod permissions;

pub use permissions::{needs, permissions};

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
    if let Some(ic_cfg) = cfg.identity_center_target() {
        let ic = shared::aws::identity_center::IdentityCenter::new(&sdk, ic_cfg.max_tps, cfg.retry_policy());
        checks.extend(identity_center::checks(&cfg, ic_cfg, &ic).await);
    }
    match endpoint {
        Some(_) => checks.push(Check::not_checked(
            "permissions",
            "an emulator evaluates no IAM policy: nothing to learn there; against AWS, IAM's simulator is asked",
        )),
        None => checks.extend(permissions(&cfg, &clients.iam, &caller).await),
    }
    checks
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
    // A table is there when a read of an item nobody has answers.
    let table = |name: &str, read: Result<(), shared::Error>| {
        let check = format!("dynamodb table {name}");
        match read {
            Ok(()) => Check::ok(&check, "readable"),
            Err(e) if e.aws_code() == Some("ResourceNotFoundException") => Check::failed(&check, "missing", BOOTSTRAP),
            Err(e) => Check::failed(&check, e.to_string(), "check the caller may dynamodb:GetItem on it"),
        }
    };
    let tombstones = &cfg.lifecycle.tombstones_table;
    checks.push(table(tombstones, aws.tombstones.get(tombstones, "onboarding-doctor").await.map(drop)));
    if let Some(ic_cfg) = cfg.identity_center_target() {
        let people = &ic_cfg.people_table;
        checks.push(table(people, aws.people.get(people, "onboarding-doctor").await.map(drop)));
        // Identity Center's own part: `identity_center::checks`.
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
