//! An SQS queue subscribed to an SNS topic: how the tests (and the demo) read what was
//! published, the way an auditor's queue would.

use std::collections::BTreeMap;

use serde_json::Value;

use aws_config::SdkConfig;

pub struct Inbox {
    sqs: aws_sdk_sqs::Client,
    pub url: String,
}

/// One delivered SNS message.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub subject: Option<String>,
    pub message: String,
    pub attributes: BTreeMap<String, String>,
}

impl Delivered {
    /// The message body as JSON (audit records are JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.message).unwrap_or(Value::Null)
    }
}

impl Inbox {
    /// Creates queue `{name}-inbox` and subscribes it to `topic_arn` (SNS envelope kept, so
    /// subject and message attributes arrive too).
    pub async fn subscribe(sdk: &SdkConfig, topic_arn: &str, name: &str) -> Self {
        let sqs = aws_sdk_sqs::Client::new(sdk);
        let url = sqs.create_queue().queue_name(format!("{name}-inbox")).send().await.expect("CreateQueue");
        let url = url.queue_url().expect("queue url").to_owned();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes");
        let queue_arn = attrs
            .attributes()
            .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn")
            .clone();
        aws_sdk_sns::Client::new(sdk)
            .subscribe()
            .topic_arn(topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await
            .expect("Subscribe");
        Self { sqs, url }
    }

    /// An existing inbox by queue name.
    pub async fn existing(sqs: aws_sdk_sqs::Client, queue_name: &str) -> Option<Self> {
        let out = sqs.get_queue_url().queue_name(queue_name).send().await.ok()?;
        let url = out.queue_url()?.to_owned();
        Some(Self { sqs, url })
    }

    /// Everything delivered so far as one text (subject, body and attributes of each message),
    /// for checking that something appears, or does not, anywhere in what was sent.
    pub async fn drain_text(&self) -> String {
        let all = self.drain().await;
        all.iter().map(|m| format!("{:?} {} {:?}", m.subject, m.message, m.attributes)).collect::<Vec<_>>().join("\n")
    }

    /// Everything delivered so far (and removes it from the queue).
    pub async fn drain(&self) -> Vec<Delivered> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .wait_time_seconds(0)
                .send()
                .await
                .expect("ReceiveMessage");
            let batch = out.messages();
            if batch.is_empty() {
                return all;
            }
            for m in batch {
                let envelope: Value = serde_json::from_str(m.body().unwrap_or_default()).unwrap_or(Value::Null);
                let attributes = envelope["MessageAttributes"]
                    .as_object()
                    .map(|o| {
                        o.iter().map(|(k, v)| (k.clone(), v["Value"].as_str().unwrap_or_default().to_owned())).collect()
                    })
                    .unwrap_or_default();
                all.push(Delivered {
                    subject: envelope["Subject"].as_str().map(str::to_owned),
                    message: envelope["Message"].as_str().unwrap_or_default().to_owned(),
                    attributes,
                });
                if let Some(h) = m.receipt_handle() {
                    self.sqs
                        .delete_message()
                        .queue_url(&self.url)
                        .receipt_handle(h)
                        .send()
                        .await
                        .expect("DeleteMessage");
                }
            }
        }
    }
}
