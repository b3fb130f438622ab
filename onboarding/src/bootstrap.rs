//! `onboarding bootstrap`: what the config names and a local run needs, created idempotently:
//! the SNS topics, the tombstones table, the permissions boundary, the groups, and on the
//! always-groups the self-service and force-MFA policies.

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

fn code<E: aws_sdk_iam::error::ProvideErrorMetadata>(e: &E) -> &str {
    e.code().unwrap_or("Unknown")
}

pub async fn bootstrap(cfg: &Config, aws: &Aws) -> Result<Vec<Item>, String> {
    let iam = aws.iam.client();
    let sns = aws.sns.client();
    let mut items = Vec::new();

    for topic in [&cfg.topics.notifications, &cfg.topics.audit] {
        if topic.starts_with("arn:") {
            continue;
        }
        let existed = aws.sns.find_topic(topic).await.map_err(|e| e.to_string())?.is_some();
        sns.create_topic()
            .name(topic)
            .send()
            .await
            .map_err(|e| format!("sns:CreateTopic {topic}: {}", shared::aws::describe(&e)))?;
        items.push(Item { kind: "sns topic", name: topic.clone(), created: !existed });
    }

    let table = &cfg.lifecycle.tombstones_table;
    if !table.starts_with("arn:") {
        let created = aws.tombstones.create_table(table).await.map_err(|e| e.to_string())?;
        items.push(Item { kind: "dynamodb table", name: table.clone(), created });
    }

    let policy = |name: String, doc: serde_json::Value| async move {
        let arn = aws.iam.find_local_policy(&name).await.map_err(|e| e.to_string())?;
        if let Some(arn) = arn {
            return Ok::<_, String>((arn, Item { kind: "iam policy", name, created: false }));
        }
        let out = iam
            .create_policy()
            .policy_name(&name)
            .description("Installed by employee-lifecycle onboarding bootstrap")
            .policy_document(doc.to_string())
            .send()
            .await
            .map_err(|e| format!("iam:CreatePolicy {name}: {}", shared::aws::describe(&e)))?;
        let arn = out.policy().and_then(|p| p.arn()).unwrap_or_default().to_owned();
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
        let created = match iam.create_group().group_name(group).send().await {
            Ok(_) => true,
            Err(e) if code(&e) == "EntityAlreadyExists" => false,
            Err(e) => {
                return Err(format!("iam:CreateGroup {group}: {}", shared::aws::describe(&e)));
            }
        };
        items.push(Item { kind: "iam group", name: group.clone(), created });
    }
    for group in &cfg.groups.always {
        for arn in [&self_service, &force_mfa] {
            iam.attach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
                .await
                .map_err(|e| format!("iam:AttachGroupPolicy {group}: {}", shared::aws::describe(&e)))?;
        }
    }
    Ok(items)
}
