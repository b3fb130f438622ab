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
        use crate::audit::Outcome;
        let body = serde_json::to_string(record).map_err(|e| Error::Input(e.to_string()))?;
        let kind = if record.outcome == Outcome::Quarantined && !record.terminal { "alert" } else { "audit" };
        let mut attrs =
            vec![("step", record.step.as_str()), ("outcome", record.outcome.as_str()), ("event-type", kind)];
        if let Some(e) = &record.employee_id {
            attrs.push(("employee-id", e));
        }
        self.publish(topic_arn, None, &body, &attrs).await?;
        Ok(())
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
            let attr = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*v)
                .build()
                .map_err(|e| Error::Input(format!("message attribute {k}: {e}")))?;
            req = req.message_attributes(*k, attr);
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
