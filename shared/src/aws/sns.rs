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
    /// log.
    pub async fn audit_batch(
        &self,
        topic_arn: &str,
        records: &[crate::audit::AuditRecord],
    ) -> Vec<(crate::audit::AuditRecord, Error)> {
        let mut undelivered = Vec::new();
        let mut messages = Vec::with_capacity(records.len());
        let mut sent = Vec::with_capacity(records.len());
        for record in records {
            match audit_message(record) {
                Ok((body, attributes)) => {
                    messages.push(Message { subject: None, body, attributes });
                    sent.push(record);
                }
                Err(e) => undelivered.push((record.clone(), e)),
            }
        }
        let results = self.publish_batch(topic_arn, &messages).await;
        undelivered.extend(sent.into_iter().zip(results).filter_map(|(r, e)| e.map(|e| (r.clone(), e))));
        undelivered
    }

    /// Publishes messages together, ten to a `PublishBatch` call. Per message, in order: `None`
    /// when SNS took it, else why not (the entry refused, or its whole call failed).
    pub async fn publish_batch(&self, topic_arn: &str, messages: &[Message]) -> Vec<Option<Error>> {
        use aws_sdk_sns::types::PublishBatchRequestEntry;
        let mut results = Vec::with_capacity(messages.len());
        for chunk in messages.chunks(10) {
            let mut outcome: Vec<Option<Error>> = (0..chunk.len()).map(|_| None).collect();
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, m) in chunk.iter().enumerate() {
                let mut e = PublishBatchRequestEntry::builder()
                    .id(i.to_string())
                    .message(&m.body)
                    .set_subject(m.subject.clone());
                let mut bad = None;
                for (k, v) in &m.attributes {
                    match attribute(k, v) {
                        Ok(a) => e = e.message_attributes(*k, a),
                        Err(err) => bad = Some(err),
                    }
                }
                match (bad, e.build()) {
                    (None, Ok(e)) => entries.push(e),
                    (Some(err), _) => outcome[i] = Some(err),
                    (None, Err(err)) => outcome[i] = Some(Error::Input(format!("message {i}: {err}"))),
                }
            }
            if !entries.is_empty() {
                let sent =
                    self.client.publish_batch().topic_arn(topic_arn).set_publish_batch_request_entries(Some(entries));
                match sent.send().await {
                    Ok(out) => {
                        for f in out.failed() {
                            if let Some(slot) = f.id().parse::<usize>().ok().and_then(|i| outcome.get_mut(i)) {
                                *slot = Some(Error::Aws {
                                    operation: "sns:PublishBatch",
                                    code: f.code().to_owned(),
                                    message: f.message().unwrap_or_default().to_owned(),
                                    status: None,
                                    request_id: None,
                                });
                            }
                        }
                    }
                    Err(e) => {
                        // The call's error for each message, code and request id kept.
                        let e = aws_error("sns:PublishBatch", e);
                        for slot in outcome.iter_mut().filter(|o| o.is_none()) {
                            *slot = Some(match &e {
                                Error::Aws { operation, code, message, status, request_id } => Error::Aws {
                                    operation,
                                    code: code.clone(),
                                    message: message.clone(),
                                    status: *status,
                                    request_id: request_id.clone(),
                                },
                                other => Error::Input(other.to_string()),
                            });
                        }
                    }
                }
            }
            results.extend(outcome);
        }
        results
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
        use std::ops::ControlFlow;

        use aws_sdk_sns::operation::list_topics::ListTopicsOutput;
        let suffix = format!(":{name}");
        let fetch = |token: Option<String>| {
            let req = self.client.list_topics().set_next_token(token);
            async move { req.send().await.map_err(|e| aws_error("sns:ListTopics", e)) }
        };
        // Stops at the page that holds it.
        let named = |page: &ListTopicsOutput| match page
            .topics()
            .iter()
            .filter_map(|t| t.topic_arn())
            .find(|a| a.ends_with(&suffix))
        {
            Some(arn) => ControlFlow::Break(arn.to_owned()),
            None => ControlFlow::Continue(()),
        };
        super::walk_pages(fetch, ListTopicsOutput::next_token, named).await
    }

    /// Creates the topic (idempotent in SNS: an existing one's ARN comes back).
    pub async fn create_topic(&self, name: &str) -> Result<String, Error> {
        let out = self.client.create_topic().name(name).send().await.map_err(|e| aws_error("sns:CreateTopic", e))?;
        Ok(out.topic_arn().unwrap_or_default().to_owned())
    }
}

/// A message's string attributes, by name.
type Attributes = Vec<(&'static str, String)>;

/// One message for [`Sns::publish_batch`].
#[derive(Debug, Clone)]
pub struct Message {
    pub subject: Option<String>,
    pub body: String,
    /// String attributes (for subscription filter policies).
    pub attributes: Attributes,
}

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
