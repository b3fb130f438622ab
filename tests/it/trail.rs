//! The durable trail: every audit record of a full run (hires, a transfer, an immediate and a
//! scheduled departure, a failed event, a sweep) reaches the Object Lock bucket through the
//! `archiver` binary (under the Runtime API host, fed from a queue subscribed to the audit topic
//! as the stack subscribes its archive queue), each object locked in compliance mode, none
//! deletable, none alterable, and no secret in any of them.

use std::time::Duration;

use serde_json::{Value, json};
use tests::runtime_api::{Answer, Function};
use tests::{Account, config, event};

fn s3(acct: &Account) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&acct.sdk).force_path_style(true).build())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_lands_locked_in_the_trail_and_cannot_be_deleted_or_altered() {
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule,
    };
    let acct = Account::new().await;
    let (ctx, _inboxes) = acct.ready(config()).await;
    // The stack's bucket and archive queue (raw delivery, as ArchiveSubscription).
    let bucket = format!("trail-{}", acct.id);
    let s3 = s3(&acct);
    s3.create_bucket().bucket(&bucket).object_lock_enabled_for_bucket(true).send().await.expect("bucket");
    let rule = ObjectLockRule::builder()
        .default_retention(DefaultRetention::builder().mode(ObjectLockRetentionMode::Compliance).days(400).build())
        .build();
    s3.put_object_lock_configuration()
        .bucket(&bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder().object_lock_enabled(ObjectLockEnabled::Enabled).rule(rule).build(),
        )
        .send()
        .await
        .expect("default retention");
    let sqs = acct.sqs();
    let queue =
        sqs.create_queue().queue_name("archive").send().await.expect("queue").queue_url().expect("url").to_owned();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{}:archive", acct.id);
    acct.sns()
        .subscribe()
        .topic_arn(&ctx.targets.audit_topic_arn)
        .protocol("sqs")
        .endpoint(&queue_arn)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");

    // A full run: two hires (one with a key), a transfer, a scheduled and an immediate
    // departure, a failed event; then the sweep.
    let files = ["hire-engineering.json", "hire-finance-programmatic.json", "hire-unmapped-department.json"];
    let mut events: Vec<Value> = files.iter().map(|f| event(f, json!({}))).collect();
    events.push(event("change-transfer.json", json!({})));
    events.push(event("depart-scheduled.json", json!({})));
    events.push(event("depart-immediate.json", json!({})));
    events.push(event("hire-engineering.json", json!({"eventId": "bad-1", "startDate": "2026-13-01"})));
    let entries = events.into_iter().map(Ok).collect();
    let reports = shared::pipeline::run_all(&ctx, entries).await;
    assert_eq!(reports.iter().filter(|r| r.outcome == shared::pipeline::EventOutcome::Failed).count(), 1);
    shared::steps::sweep::run(&ctx).await.expect("sweep");

    // The archiver, fed the queue in batches of ten, as the event source mapping feeds it.
    let toml = format!(
        "{}\n[trail]\nbucket = \"{bucket}\"\n",
        std::fs::read_to_string(tests::root().join("onboarding.toml")).expect("config")
    );
    let archiver = Function::start("archiver", acct.env(), &toml);
    let mut delivered = Vec::new();
    loop {
        let got = sqs.receive_message().queue_url(&queue).max_number_of_messages(10).send().await.expect("receive");
        if got.messages().is_empty() {
            break;
        }
        let records: Vec<Value> = got
            .messages()
            .iter()
            .map(|m| json!({"messageId": m.message_id(), "body": m.body(), "eventSource": "aws:sqs"}))
            .collect();
        let answer =
            tokio::task::block_in_place(|| archiver.api.invoke(json!({"Records": records}), Duration::from_secs(60)));
        match answer {
            Some(Answer::Response(v)) => assert_eq!(v["batchItemFailures"], json!([]), "{v}"),
            other => panic!("{other:?}\n{}", archiver.log_text()),
        }
        for m in got.messages() {
            delivered.push(m.body().unwrap_or_default().to_owned());
            let handle = m.receipt_handle().expect("handle");
            sqs.delete_message().queue_url(&queue).receipt_handle(handle).send().await.expect("delete");
        }
    }
    drop(archiver);
    assert!(delivered.len() > 40, "a full run's records: {}", delivered.len());

    // Every record is in the bucket, once, under its day; every object is locked.
    let listed = s3.list_objects_v2().bucket(&bucket).prefix("audit/").send().await.expect("list");
    let mut archived = Vec::new();
    let mut first = None;
    for o in listed.contents() {
        let key = o.key().expect("key");
        assert!(key.starts_with("audit/20") && key.ends_with(".jsonl") && key.split('/').count() == 5, "{key}");
        let body =
            s3.get_object().bucket(&bucket).key(key).send().await.expect("get").body.collect().await.expect("body");
        archived.extend(String::from_utf8(body.to_vec()).expect("utf-8").lines().map(str::to_owned));
        // (The emulator answers GetObjectRetention with the object; HEAD carries the lock.)
        let head = s3.head_object().bucket(&bucket).key(key).send().await.expect("head");
        assert_eq!(head.object_lock_mode().map(|m| m.as_str()), Some("COMPLIANCE"), "{key}");
        let until = head.object_lock_retain_until_date().expect("retained until").secs();
        assert!(until > chrono::Utc::now().timestamp() + 399 * 86_400, "{key}: locked for the retention");
        first.get_or_insert_with(|| key.to_owned());
    }
    let mut want = delivered.clone();
    want.sort();
    archived.sort();
    assert_eq!(archived, want, "every delivered record archived, none twice");
    let terminals = archived.iter().filter(|r| r.contains("\"terminal\":true")).count();
    assert!(terminals >= 7, "one terminal record per event: {terminals}");

    // Neither deleted nor altered: deleting the locked version is refused; writing the key again
    // adds a version and leaves the locked one as it was.
    let key = first.expect("an object");
    let head = s3.head_object().bucket(&bucket).key(&key).send().await.expect("head");
    let version = head.version_id().expect("versioned").to_owned();
    let original = head.content_length();
    let refused = s3.delete_object().bucket(&bucket).key(&key).version_id(&version).send().await;
    let code = refused.map_err(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(&e).map(str::to_owned));
    assert_eq!(code.err().flatten().as_deref(), Some("AccessDenied"), "a locked version cannot be deleted");
    s3.put_object().bucket(&bucket).key(&key).body(b"forged".to_vec().into()).send().await.expect("a new version");
    let kept =
        s3.head_object().bucket(&bucket).key(&key).version_id(&version).send().await.expect("the locked version");
    assert_eq!(kept.content_length(), original, "the locked version is unchanged");

    // No secret anywhere in the trail.
    let user = "zoe.obrien-nunez";
    let password = acct.secret_value(&format!("employee-lifecycle/{user}/console-password")).await;
    let key_doc = acct.access_key_document(&format!("employee-lifecycle/{user}/access-key")).await;
    let all = archived.join("\n");
    assert!(!all.contains(&password), "a password in the trail");
    assert!(!all.contains(key_doc["SecretAccessKey"].as_str().expect("secret key")), "a secret key in the trail");
}
