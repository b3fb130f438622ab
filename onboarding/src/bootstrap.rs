//! `onboarding bootstrap`: what the config names and a local run needs, created idempotently:
//! the SNS topics, the tombstones table, the permissions boundary, the groups, and on the
//! always-groups the self-service and force-MFA policies.

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
}

pub async fn bootstrap(cfg: &Config, aws: &Aws) -> Result<Vec<Item>, Error> {
    let mut items = Vec::new();

    for topic in [&cfg.topics.notifications, &cfg.topics.audit] {
        if topic.starts_with("arn:") {
            continue;
        }
        let existed = aws.sns.find_topic(topic).await?.is_some();
        aws.sns.create_topic(topic).await?;
        items.push(Item { kind: "sns topic", name: topic.clone(), created: !existed });
    }

    let table = &cfg.lifecycle.tombstones_table;
    if !table.starts_with("arn:") {
        let created = aws.tombstones.create_table(table).await?;
        items.push(Item { kind: "dynamodb table", name: table.clone(), created });
    }

    let policy = |name: String, doc: serde_json::Value| async move {
        if let Some(arn) = aws.iam.find_local_policy(&name).await? {
            return Ok::<_, Error>((arn, Item { kind: "iam policy", name, created: false }));
        }
        let arn = aws
            .iam
            .create_policy(&name, "Installed by employee-lifecycle onboarding bootstrap", &doc.to_string())
            .await?;
        Ok((arn, Item { kind: "iam policy", name, created: true }))
    };

    if !cfg.iam.permissions_boundary.starts_with("arn:") {
        let (_, item) = policy(cfg.iam.permissions_boundary.clone(), policies::boundary(&cfg.secrets.prefix)).await?;
        items.push(item);
    }
    let (self_service, item) = policy(policies::SELF_SERVICE_POLICY.into(), policies::self_service(cfg)).await?;
    items.push(item);
    let (force_mfa, item) = policy(policies::FORCE_MFA_POLICY.into(), policies::force_mfa()).await?;
    items.push(item);

    for group in &cfg.groups.allowed {
        let created = aws.iam.create_group(group).await?;
        items.push(Item { kind: "iam group", name: group.clone(), created });
    }
    for group in &cfg.groups.always {
        for arn in [&self_service, &force_mfa] {
            aws.iam.attach_group_policy(group, arn).await?;
        }
    }
    Ok(items)
}
