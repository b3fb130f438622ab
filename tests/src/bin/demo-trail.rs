//! Demo helper (`cargo xtask demo`): `subscribe` puts SQS queues on the audit and notification
//! topics; `show [ARCHIVE_DIR]` prints what AWS now holds and what the topics carried, read
//! through the API, and lays the audit records out in ARCHIVE_DIR as the archiver lays them out
//! in the trail bucket (`shared::archive`), for `onboarding audit --source ARCHIVE_DIR`.

use std::process::ExitCode;

use shared::config::Config;
use shared::steps::Targets;
use tests::Inbox;

const AUDIT_QUEUE: &str = "demo-audit";
const NOTIFY_QUEUE: &str = "demo-notifications";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cfg = match Config::load(std::path::Path::new("onboarding.toml")) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let sdk = shared::aws::load_sdk_config(&cfg, shared::aws::Trust::System).await;
    let aws = shared::aws::Aws::new(&sdk, cfg.retry_policy());
    let targets = match Targets::resolve(&cfg, &aws).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match std::env::args().nth(1).as_deref() {
        Some("subscribe") => {
            Inbox::subscribe(&sdk, &targets.audit_topic_arn, AUDIT_QUEUE).await;
            Inbox::subscribe(&sdk, &targets.notifications_topic_arn, NOTIFY_QUEUE).await;
            ExitCode::SUCCESS
        }
        Some("show") => match show(&cfg, &sdk, std::env::args().nth(2)).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("usage: demo-trail subscribe|show [ARCHIVE_DIR]");
            ExitCode::from(2)
        }
    }
}

async fn show(cfg: &Config, sdk: &aws_config::SdkConfig, archive: Option<String>) -> Result<(), String> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let secrets = aws_sdk_secretsmanager::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);

    println!("IAM users under {}:", cfg.iam.user_path);
    let users =
        iam.list_users().path_prefix(&cfg.iam.user_path).send().await.map(|o| o.users().to_vec()).unwrap_or_default();
    for u in users {
        let name = u.user_name();
        let groups = iam
            .list_groups_for_user()
            .user_name(name)
            .send()
            .await
            .map(|o| o.groups().iter().map(|g| g.group_name().to_owned()).collect::<Vec<_>>())
            .unwrap_or_default();
        let tags = iam
            .list_user_tags()
            .user_name(name)
            .send()
            .await
            .map(|o| o.tags().iter().map(|t| format!("{}={}", t.key(), t.value())).collect::<Vec<_>>())
            .unwrap_or_default();
        let console = iam.get_login_profile().user_name(name).send().await.is_ok();
        let keys =
            iam.list_access_keys().user_name(name).send().await.map(|o| o.access_key_metadata().len()).unwrap_or(0);
        println!(
            "  {name:<28} groups [{}]  console {}  access keys {keys}",
            groups.join(", "),
            if console { "yes" } else { "no" }
        );
        println!("  {:<28} tags {}", "", tags.join(" "));
    }

    println!("\nSecrets (values not shown; each readable only by its user):");
    let list = secrets.list_secrets().send().await.map(|o| o.secret_list().to_vec()).unwrap_or_default();
    for s in list {
        let name = s.name().unwrap_or_default();
        let policy = secrets
            .get_resource_policy()
            .secret_id(name)
            .send()
            .await
            .ok()
            .and_then(|p| p.resource_policy().map(str::to_owned))
            .unwrap_or_default();
        let readers = serde_json::from_str::<serde_json::Value>(&policy)
            .ok()
            .map(|p| p["Statement"][0]["Principal"]["AWS"].to_string())
            .unwrap_or_default();
        println!("  {name:<52} readers {readers}");
    }

    if let Some(inbox) = Inbox::existing(sqs.clone(), &format!("{NOTIFY_QUEUE}-inbox")).await {
        println!("\nNotifications topic (what subscribers received):");
        for m in inbox.drain().await {
            println!(
                "  to {:<28} [{}] {}",
                m.attributes.get("recipient").cloned().unwrap_or_default(),
                m.attributes.get("event-type").cloned().unwrap_or_default(),
                m.subject.unwrap_or_default()
            );
        }
    }
    if let Some(inbox) = Inbox::existing(sqs, &format!("{AUDIT_QUEUE}-inbox")).await {
        println!("\nAudit trail (as an auditor's queue receives it):");
        let records = inbox.drain().await;
        if let Some(dir) = archive {
            let batch: Vec<(String, String)> =
                records.iter().enumerate().map(|(i, m)| (format!("demo-{i:05}"), m.message.clone())).collect();
            for o in shared::archive::objects(&batch) {
                let path = std::path::Path::new(&dir).join(&o.key);
                let parent = path.parent().ok_or("no parent")?;
                std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                std::fs::write(&path, o.body).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
        }
        for m in records {
            let r = m.json();
            let s = |k: &str| r[k].as_str().unwrap_or("-").to_owned();
            println!(
                "  {} {:<10} {:<8} {:<15} {:<34} {:<13} {}{}",
                s("timestamp"),
                s("eventId"),
                s("employeeId"),
                s("step"),
                s("action"),
                s("outcome"),
                s("target"),
                r["error"].as_str().map(|e| format!("  error: {e}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}
