//! The `archiver` Lambda: reads audit records from the archive queue (an SQS event source) and
//! writes them to the Object Lock bucket as JSON Lines under `audit/YYYY/MM/DD/`
//! (`shared::archive`), each object locked in compliance mode for `trail.retention_days` (set on
//! the object; the bucket's policy refuses a write without it): no one, the account's root
//! included, can change or delete it until the retention ends. A batch
//! whose objects could not all be written reports those messages as failed: SQS redelivers them,
//! and after five tries parks them in the dead-letter queue (alarmed). Nothing is dropped.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")] // one invocation at a time: no worker threads to start
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber(); // honours AWS_LAMBDA_LOG_FORMAT=JSON
    let cfg = shared::config::Config::from_env()?;
    let bucket = cfg.trail.bucket.clone().ok_or("trail.bucket is not set")?;
    let sdk = shared::aws::load_sdk_config(&cfg, shared::aws::Trust::AmazonRoots).await;
    let bucket = shared::aws::s3::Bucket::new(&sdk, &bucket);
    let days = cfg.trail.retention_days;
    run(service_fn(|ev: LambdaEvent<Value>| archive(&bucket, days, ev.payload))).await
}

/// Writes a batch; answers which messages failed (SQS's partial batch response).
async fn archive(bucket: &shared::aws::s3::Bucket, retention_days: u32, event: Value) -> Result<Value, Error> {
    let until = chrono::Utc::now() + chrono::TimeDelta::days(i64::from(retention_days));
    let batch: Vec<(String, String)> = event["Records"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| {
                    (
                        r["messageId"].as_str().unwrap_or_default().to_owned(),
                        r["body"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut failed = Vec::new();
    for object in shared::archive::objects(&batch) {
        match bucket.put_locked(&object.key, object.body.clone(), "application/x-ndjson", until).await {
            Ok(_) => tracing::info!(key = %object.key, records = object.body.lines().count(), "archived"),
            Err(e) => {
                tracing::error!(key = %object.key, error = %e, "not archived; SQS redelivers the batch's messages");
                // The messages of this object: those whose records it holds.
                for (id, record) in &batch {
                    if object.body.contains(record.trim_end()) {
                        failed.push(json!({"itemIdentifier": id}));
                    }
                }
            }
        }
    }
    Ok(json!({"batchItemFailures": failed}))
}
