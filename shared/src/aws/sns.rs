//! SNS: welcome messages and audit records.

use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use super::aws_error;
use crate::error::Error;

#[derive(Clone, Debug)]
pub struct Sns {
    client: Client,
}

impl Sns {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Publishes an audit record to the audit topic, with the attributes auditors filter on
    /// (`step`, `outcome`, `event-type` `audit` or `alert`, `employee-id`).
    pub async fn audit(&self, topic_arn: &str, record: &crate::audit::AuditRecord) -> Result<(), Error> {
        let (body, attrs) = audit_message(record)?;
        let attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        self.publish(topic_arn, None, &body, &attrs).await?;
        Ok(())
    }

    /// Publishes audit records together (`PublishBatch`, ten a call; same bodies and attributes
    /// as [`Sns::audit`]). Returns the records SNS did not take (each with why), for the caller to
    /// log; an error only when a call failed as a whole, with every record of that call.
    pub async fn audit_batch(
        &self,
        topic_arn: &str,
        records: &[crate::audit::AuditRecord],
    ) -> Vec<(crate::audit::AuditRecord, Error)> {
        use aws_sdk_sns::types::PublishBatchRequestEntry;
        let mut undelivered = Vec::new();
        for chunk in records.chunks(10) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, record) in chunk.iter().enumerate() {
                let entry = audit_message(record).and_then(|(body, attrs)| {
                    let mut e = PublishBatchRequestEntry::builder().id(i.to_string()).message(body);
                    for (k, v) in attrs {
                        e = e.message_attributes(k, attribute(k, &v)?);
                    }
                    e.build().map_err(|e| Error::Input(format!("audit record {i}: {e}")))
                });
                match entry {
                    Ok(e) => entries.push(e),
                    Err(e) => undelivered.push((record.clone(), e)),
                }
            }
            if entries.is_empty() {
                continue;
            }
            let sent =
                self.client.publish_batch().topic_arn(topic_arn).set_publish_batch_request_entries(Some(entries));
            match sent.send().await {
                Ok(out) => {
                    for f in out.failed() {
                        let record = f.id().parse::<usize>().ok().and_then(|i| chunk.get(i));
                        let why = format!("{}: {}", f.code(), f.message().unwrap_or_default());
                        if let Some(r) = record {
                            undelivered.push((r.clone(), Error::Input(format!("sns:PublishBatch refused it: {why}"))));
                        }
                    }
                }
                Err(e) => {
                    let e = aws_error("sns:PublishBatch", e);
                    undelivered.extend(chunk.iter().map(|r| (r.clone(), Error::Input(e.to_string()))));
                }
            }
        }
        undelivered
    }

    /// Publishes a message with string attributes (for subscription filter policies).
    pub async fn publish(
        &self,
        topic_arn: &str,
        subject: Option<&str>,
        message: &str,
        attributes: &[(&str, &str)],
    ) -> Result<String, Error> {
        let mut req =
            self.client.publish().topic_arn(topic_arn).message(message).set_subject(subject.map(str::to_owned));
        for (k, v) in attributes {
            req = req.message_attributes(*k, attribute(k, v)?);
        }
        let out = req.send().await.map_err(|e| aws_error("sns:Publish", e))?;
        Ok(out.message_id().unwrap_or_default().to_owned())
    }

    /// A topic's ARN by name, if it exists (all pages of ListTopics).
    pub async fn find_topic(&self, name: &str) -> Result<Option<String>, Error> {
        let suffix = format!(":{name}");
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_topics()
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| aws_error("sns:ListTopics", e))?;
            if let Some(t) = out.topics().iter().filter_map(|t| t.topic_arn()).find(|a| a.ends_with(&suffix)) {
                return Ok(Some(t.to_owned()));
            }
            match out.next_token() {
                Some(t) => token = Some(t.to_owned()),
                None => return Ok(None),
            }
        }
    }

    /// Creates the topic (idempotent in SNS: an existing one's ARN comes back).
    pub async fn create_topic(&self, name: &str) -> Result<String, Error> {
        let out = self.client.create_topic().name(name).send().await.map_err(|e| aws_error("sns:CreateTopic", e))?;
        Ok(out.topic_arn().unwrap_or_default().to_owned())
    }
}

/// A message's string attributes, by name.
type Attributes = Vec<(&'static str, String)>;

/// An audit record's message: its JSON, and the attributes auditors filter on.
fn audit_message(record: &crate::audit::AuditRecord) -> Result<(String, Attributes), Error> {
    use crate::audit::Outcome;
    let body = serde_json::to_string(record).map_err(|e| Error::Input(e.to_string()))?;
    let kind = if record.outcome == Outcome::Quarantined && !record.terminal { "alert" } else { "audit" };
    let mut attrs = vec![
        ("step", record.step.clone()),
        ("outcome", record.outcome.as_str().to_owned()),
        ("event-type", kind.to_owned()),
    ];
    if let Some(e) = &record.employee_id {
        attrs.push(("employee-id", e.clone()));
    }
    Ok((body, attrs))
}

/// A string message attribute.
fn attribute(name: &str, value: &str) -> Result<MessageAttributeValue, Error> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| Error::Input(format!("message attribute {name}: {e}")))
}
