//! `onboarding bootstrap`: what the config names and a local run needs, created idempotently:
//! the SNS topics and the tombstones table; for IAM users the permissions boundary, the groups,
//! and on the always-groups the self-service and force-MFA policies; for Identity Center the
//! groups, permission sets and assignments ([`identity_center`]).

pub mod identity_center;

use shared::Error;
use shared::aws::Aws;
use shared::config::Config;
use shared::policies;

/// What bootstrap found or made, one line per resource.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Item {
    pub kind: &'static str,
    pub name: String,
    pub created: bool,
    /// An existing policy this bootstrap installed, given this version's document (or an
    /// existing permission set it made, given the policies the config added).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub updated: bool,
    /// Why it could not be made (an Identity Center assignment, reported by account).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Item {
    pub fn new(kind: &'static str, name: &str, created: bool) -> Self {
        Self { kind, name: name.to_owned(), created, updated: false, error: None }
    }
}

pub use shared::tags::INSTALLED_BY;

pub async fn bootstrap(cfg: &Config, aws: &Aws) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();

    for topic in [&cfg.topics.notifications, &cfg.topics.audit] {
        if topic.starts_with("arn:") {
            continue;
        }
        let existed = aws.sns.find_topic(topic).await?.is_some();
        aws.sns.create_topic(topic).await?;
        items.push(Item::new("sns topic", topic, !existed));
    }

    let table = &cfg.lifecycle.tombstones_table;
    if !table.starts_with("arn:") {
        let created = aws.tombstones.create_table(table).await?;
        items.push(Item::new("dynamodb table", table, created));
    }
    // Access reviews' campaigns.
    let table = &cfg.review.table;
    items.push(Item::new("dynamodb table", table, aws.reviews.create_table(table).await?));
    if let Some(ic_cfg) = cfg.identity_center_target() {
        // The people table here; the target's own resources: `identity_center::bootstrap`.
        let table = &ic_cfg.people_table;
        items.push(Item::new("dynamodb table", table, aws.people.create_table(table).await?));
        return Ok(items);
    }

    // A policy of the name is used only with this version's document: one bootstrap installed
    // gets it (a new default version), anyone else's is refused, never used as it is.
    let policy = |name: String, doc: serde_json::Value| async move {
        let item = |created, updated| Item { updated, ..Item::new("iam policy", &name, created) };
        match installed(aws, &name, &doc).await? {
            Installed::Current(arn) => Ok::<_, Error>((arn, item(false, false))),
            Installed::Outdated { arn, ours: false } => Err(Error::Conflict(format!(
                "policy `{name}` ({arn}) exists with another document and was not installed by bootstrap: \
                 compare it with this version's, then delete or rename it, and run bootstrap again"
            ))),
            Installed::Outdated { arn, ours: true } => {
                aws.iam.replace_policy_document(&arn, &doc.to_string()).await?;
                Ok((arn, item(false, true)))
            }
            Installed::Missing => {
                let arn = aws.iam.create_policy(&name, INSTALLED_BY, &doc.to_string()).await?;
                Ok((arn, item(true, false)))
            }
        }
    };

    if !cfg.iam.permissions_boundary.starts_with("arn:") {
        let (_, item) = policy(cfg.iam.permissions_boundary.clone(), policies::boundary(&cfg.secrets.prefix)).await?;
        items.push(item);
    }
    if let Some(name) = cfg.iam.role_sessions_boundary.as_ref().filter(|n| !n.starts_with("arn:")) {
        items.push(role_sessions_boundary(aws, name).await?);
    }
    let (self_service, item) = policy(policies::SELF_SERVICE_POLICY.into(), policies::self_service(cfg)).await?;
    items.push(item);
    let (force_mfa, item) = policy(policies::FORCE_MFA_POLICY.into(), policies::force_mfa()).await?;
    items.push(item);

    for group in &cfg.groups.allowed {
        let created = aws.iam.create_group(group).await?;
        items.push(Item::new("iam group", group, created));
    }
    for group in &cfg.groups.always {
        for arn in [&self_service, &force_mfa] {
            aws.iam.attach_group_policy(group, arn).await?;
        }
    }
    Ok(items)
}

/// Where a policy bootstrap installs stands in the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    Missing,
    /// With this version's document.
    Current(String),
    /// With another document; `ours` when bootstrap installed it (it will update it).
    Outdated {
        arn: String,
        ours: bool,
    },
}

/// The customer-managed policy `name` compared with this version's document `doc`.
pub async fn installed(aws: &Aws, name: &str, doc: &serde_json::Value) -> Result<Installed, Error> {
    let Some(arn) = aws.iam.find_local_policy(name).await? else { return Ok(Installed::Missing) };
    let (description, current) = aws.iam.policy_document(&arn).await?;
    Ok(if &current == doc {
        Installed::Current(arn)
    } else {
        Installed::Outdated { ours: description.as_deref() == Some(INSTALLED_BY), arn }
    })
}

/// The roles' boundary that departures write leavers into: created empty (it allows what the
/// role allows); one bootstrap installed is left as departures wrote it; anyone else's policy of
/// the name is refused, since a departure would overwrite it.
async fn role_sessions_boundary(aws: &Aws, name: &str) -> Result<Item, Error> {
    let item = |created| Item::new("iam policy", name, created);
    let Some(arn) = aws.iam.find_local_policy(name).await? else {
        let (empty, _) = policies::role_sessions_boundary([]);
        aws.iam.create_policy(name, INSTALLED_BY, &empty.to_string()).await?;
        return Ok(item(true));
    };
    match aws.iam.policy_document(&arn).await? {
        (Some(description), _) if description == INSTALLED_BY => Ok(item(false)),
        _ => Err(Error::Conflict(format!(
            "policy `{name}` ({arn}) exists and was not installed by bootstrap: departures would rewrite it; \
             name another in [iam] role_sessions_boundary, or delete or rename it, and run bootstrap again"
        ))),
    }
}
