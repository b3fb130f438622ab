//! No secret (password, secret access key) ever appears in a log line, an output, an error,
//! a notification or an audit record. Proven by capturing all of them, at TRACE level with the
//! SDK's own logs included, and searching for the real secret values read back from AWS.

use std::process::Stdio;

use serde_json::json;
use shared::pipeline::{EventOutcome, process as onboard};
use tests::{Account, binary, capture_logs, config, event};

/// The secret values stored for a user, read back through the API.
async fn stored_secrets(acct: &Account, user: &str) -> Vec<String> {
    let mut found = Vec::new();
    found.push(acct.secret_value(&format!("employee-lifecycle/{user}/console-password")).await);
    let key = acct.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
    found.push(key["SecretAccessKey"].as_str().expect("secret key").to_owned());
    assert!(found.iter().all(|s| s.len() >= 20), "implausible secrets");
    found
}

fn assert_absent(secrets: &[String], what: &str, text: &str) {
    assert!(!text.is_empty(), "{what}: nothing was captured, so nothing was proven");
    for s in secrets {
        assert!(!text.contains(s.as_str()), "a secret appears in {what}");
    }
}

#[tokio::test]
async fn no_secret_in_logs_reports_notifications_or_audit_records() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let (logs, guard) = capture_logs();

    let report = onboard(&ctx, &event("hire-finance-programmatic.json", json!({}))).await;
    assert_eq!(report.outcome, EventOutcome::Succeeded, "{:?}", report.error);
    // a failing event too: its error path must not leak either
    let failed = onboard(&ctx, &event("hire-finance-programmatic.json", json!({"startDate": "never"}))).await;
    assert_eq!(failed.outcome, EventOutcome::Failed);
    drop(guard);

    let secrets = stored_secrets(&acct, report.user_name.as_deref().expect("user")).await;
    let logs = logs.text();
    assert!(logs.contains("CreateLoginProfile"), "the SDK's own TRACE logs were not captured");
    assert_absent(&secrets, "the logs", &logs);
    assert_absent(&secrets, "the report", &serde_json::to_string(&report).expect("json"));
    assert_absent(&secrets, "the failure report", &serde_json::to_string(&failed).expect("json"));
    assert_absent(&secrets, "the notifications", &inboxes.notifications.drain_text().await);
    let audit: Vec<String> = inboxes.audit.drain().await.iter().map(|m| m.message.clone()).collect();
    assert!(audit.len() > 10);
    assert_absent(&secrets, "the audit records", &audit.join("\n"));
}

#[tokio::test]
async fn no_secret_in_the_cli_output_at_trace_level() {
    let acct = Account::new().await;
    let (_ctx, inboxes) = acct.ready(config()).await;
    for format in ["text", "json"] {
        let out = acct
            .command(binary("onboarding"))
            .args(["run", "--format", format, "events/hire-finance-programmatic.json", "events/invalid/bad-date.json"])
            .env("RUST_LOG", "trace")
            .env("ONBOARDING_LOG_FORMAT", format)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("onboarding");
        assert_eq!(out.status.code(), Some(1));
        let secrets = stored_secrets(&acct, "zoe.obrien-nunez").await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("CreateLoginProfile") || format == "json" && stderr.contains("login"),
            "TRACE logs missing"
        );
        assert_absent(&secrets, "stdout", &stdout);
        assert_absent(&secrets, "stderr", &stderr);
    }
    let audit: Vec<String> = inboxes.audit.drain().await.iter().map(|m| m.message.clone()).collect();
    assert_absent(&stored_secrets(&acct, "zoe.obrien-nunez").await, "the audit records", &audit.join("\n"));
}

#[tokio::test]
async fn no_secret_when_the_sweep_makes_a_pre_hires_credentials() {
    let acct = Account::new().await;
    let (ctx, inboxes) = acct.ready(config()).await;
    let early = shared::steps::Ctx { now: Some("2031-01-05T00:00:00Z".parse().expect("time")), ..ctx.clone() };
    let hire = event("hire-finance-programmatic.json", json!({"startDate": "2031-03-10"}));
    assert_eq!(onboard(&early, &hire).await.status.as_deref(), Some("pending"));

    let (logs, guard) = capture_logs();
    let due = shared::steps::Ctx { now: Some("2031-03-10T00:00:00Z".parse().expect("time")), ..ctx.clone() };
    let report = shared::drivers::sweep::run(&due).await.expect("sweep");
    drop(guard);
    assert_eq!(report.items.len(), 1, "{report:?}");

    let secrets = stored_secrets(&acct, "zoe.obrien-nunez").await;
    let logs = logs.text();
    assert!(logs.contains("CreateLoginProfile"), "the SDK's own TRACE logs were not captured");
    assert_absent(&secrets, "the logs", &logs);
    assert_absent(&secrets, "the sweep report", &serde_json::to_string(&report).expect("json"));
    let notes = inboxes.notifications.drain_text().await;
    assert!(notes.contains("welcome"), "the sweep sent the welcome");
    assert_absent(&secrets, "the notifications", &notes);
    let audit: Vec<String> = inboxes.audit.drain().await.iter().map(|m| m.message.clone()).collect();
    assert_absent(&secrets, "the audit records", &audit.join("\n"));
}
