//! The deployed intake's effects: its signing secrets (Secrets Manager, read at the cold start
//! and again every `intake.secrets_ttl_seconds`; the only secrets this system reads), the
//! dedupe table (DynamoDB, conditional writes),
//! the bus (EventBridge `PutEvents`), and its audit records (SNS). Never IAM.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, Utc};
use serde_json::Value;
use zeroize::Zeroizing;

use super::{aws_error, is_code};
use crate::audit::AuditRecord;
use crate::config::Config;
use crate::error::Error;
use crate::event::HrEvent;
use crate::intake::{Audit, CLAIM_LEASE, Claim, Dedupe, HandOn, Intake};
use crate::webhook::{self, Answer, SigningSecret};

pub type Deployed = Intake<DynamoDedupe, Bus, SnsAudit>;

/// How long the deployed intake trusts the signing secrets it read before reading them again
/// (`intake.secrets_ttl_seconds`): a revoked or rotated secret stops working within this.
pub fn secrets_ttl(cfg: &Config) -> std::time::Duration {
    std::time::Duration::from_secs(cfg.intake.secrets_ttl_seconds)
}

/// How soon a failed re-read is tried again (the secrets read before stay in use meanwhile).
const RETRY_READ: std::time::Duration = std::time::Duration::from_secs(30);

/// The deployed intake and where its signing secrets come from: re-read when older than
/// [`secrets_ttl`], before the request that finds them so.
pub struct Door {
    pub intake: Deployed,
    sm: aws_sdk_secretsmanager::Client,
    cfg: Config,
    next_read: std::sync::Mutex<std::time::Instant>,
}

impl Door {
    /// Answers one request, with signing secrets at most [`secrets_ttl`] old.
    pub async fn handle(&self, req: &crate::intake::Request<'_>, now: DateTime<Utc>) -> Answer {
        let due = *self.next_read.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) <= std::time::Instant::now();
        if due {
            let next = match read_sources(&self.cfg, &self.sm).await {
                Ok(sources) => {
                    self.intake.sources.replace(sources);
                    secrets_ttl(&self.cfg)
                }
                Err(e) => {
                    tracing::error!(error = %e, "intake: the signing secrets could not be read again; the ones read before stay in use");
                    RETRY_READ
                }
            };
            *self.next_read.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = std::time::Instant::now() + next;
        }
        self.intake.handle(req, now).await
    }
}

/// Every source's signing secrets from Secrets Manager. A source configured without any is kept
/// (and answered 401: nobody can sign for it).
async fn read_sources(
    cfg: &Config,
    sm: &aws_sdk_secretsmanager::Client,
) -> Result<BTreeMap<String, Vec<SigningSecret>>, Error> {
    let mut sources = BTreeMap::new();
    for src in &cfg.intake.sources {
        let mut secrets: Vec<SigningSecret> = Vec::new();
        for arn in &src.secrets {
            let out = sm
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| aws_error("secretsmanager:GetSecretValue", e))?;
            let text = Zeroizing::new(out.secret_string().unwrap_or_default().to_owned());
            secrets.extend(webhook::parse_secrets(&text, &format!("intake.sources.{}.secrets", src.name))?);
        }
        if secrets.is_empty() {
            tracing::warn!(source = %src.name, "intake source has no signing secret: its requests are answered 401");
        }
        sources.insert(src.name.clone(), secrets);
    }
    Ok(sources)
}

/// Builds the intake from the configuration: reads every source's signing secrets (a secret
/// that cannot be read stops the cold start). Makes no IAM call.
pub async fn init(cfg: &Config, sdk: &SdkConfig) -> Result<Door, Error> {
    let sm = aws_sdk_secretsmanager::Client::new(sdk);
    let sources = read_sources(cfg, &sm).await?;
    let table = cfg.intake.dedupe_table.clone().ok_or_else(|| Error::Input("intake.dedupe_table is not set".into()))?;
    let bus = cfg.intake.event_bus.clone().ok_or_else(|| Error::Input("intake.event_bus is not set".into()))?;
    let topic = cfg.topics.audit.clone();
    if !topic.starts_with("arn:") {
        return Err(Error::Input("topics.audit must be an ARN for the intake".into()));
    }
    let intake = Intake {
        sources: sources.into(),
        dedupe: DynamoDedupe { client: aws_sdk_dynamodb::Client::new(sdk), table },
        hand_on: Bus { client: aws_sdk_eventbridge::Client::new(sdk), bus },
        audit: SnsAudit { sns: super::sns::Sns::new(aws_sdk_sns::Client::new(sdk)), topic },
        refused: Default::default(),
    };
    let next_read = std::sync::Mutex::new(std::time::Instant::now() + secrets_ttl(cfg));
    Ok(Door { intake, sm, cfg: cfg.clone(), next_read })
}

/// One item per `{source}/{webhook-id}`: `state` `claimed` (with `at`, a lease) or `answered`
/// (with the answer); DynamoDB's TTL removes it after 24 hours.
pub struct DynamoDedupe {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

const KEY: &str = "webhookKey";

impl DynamoDedupe {
    pub fn new(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Self { client, table }
    }

    fn item(key: &str, state: &str, now: DateTime<Utc>) -> BTreeMap<String, AttributeValue> {
        BTreeMap::from([
            (KEY.to_owned(), AttributeValue::S(key.to_owned())),
            ("state".to_owned(), AttributeValue::S(state.to_owned())),
            ("at".to_owned(), AttributeValue::N(now.timestamp().to_string())),
            ("expiresAt".to_owned(), AttributeValue::N((now + webhook::REMEMBER).timestamp().to_string())),
        ])
    }
}

impl Dedupe for DynamoDedupe {
    async fn claim(&self, key: &str, now: DateTime<Utc>) -> Result<Claim, Error> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(Self::item(key, "claimed", now).into_iter().collect()))
            // New; or a claim whose holder died (lease over); or a memory older than 24 hours.
            .condition_expression("attribute_not_exists(#k) OR (#s = :claimed AND #at < :lease) OR expiresAt < :now")
            .expression_attribute_names("#k", KEY)
            .expression_attribute_names("#s", "state")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":claimed", AttributeValue::S("claimed".into()))
            .expression_attribute_values(":lease", AttributeValue::N((now - CLAIM_LEASE).timestamp().to_string()))
            .expression_attribute_values(":now", AttributeValue::N(now.timestamp().to_string()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:PutItem", e));
        match put {
            Ok(_) => Ok(Claim::Mine),
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => {
                let got = self
                    .client
                    .get_item()
                    .table_name(&self.table)
                    .key(KEY, AttributeValue::S(key.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb:GetItem", e))?;
                let answer = got
                    .item()
                    .and_then(|i| i.get("answer"))
                    .and_then(|a| a.as_s().ok())
                    .and_then(|a| serde_json::from_str::<Answer>(a).ok());
                Ok(answer.map_or(Claim::Busy, Claim::Answered))
            }
            Err(e) => Err(e),
        }
    }

    async fn answered(&self, key: &str, answer: &Answer, now: DateTime<Utc>) -> Result<(), Error> {
        let mut item = Self::item(key, "answered", now);
        item.insert("answer".into(), AttributeValue::S(answer.body()));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.into_iter().collect()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:PutItem", e))?;
        Ok(())
    }

    async fn release(&self, key: &str) -> Result<(), Error> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(key.to_owned()))
            .condition_expression("#s = :claimed")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":claimed", AttributeValue::S("claimed".into()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:DeleteItem", e));
        match out {
            Err(e) if !is_code(&e, "ConditionalCheckFailedException") => Err(e),
            _ => Ok(()),
        }
    }
}

/// Hands accepted events to the HR bus, as an HR system with `PutEvents` would.
pub struct Bus {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl Bus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus: String) -> Self {
        Self { client, bus }
    }
}

impl HandOn for Bus {
    async fn hand_on(&self, envelope: &Value, _: &HrEvent) -> Result<(), Error> {
        let text = |k: &str| envelope[k].as_str().unwrap_or_default().to_owned();
        let time = crate::lifecycle::parse_stamp(&text("time"))
            .map(|t| aws_sdk_eventbridge::primitives::DateTime::from_secs(t.timestamp()));
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(text("source"))
            .detail_type(text("detail-type"))
            .detail(envelope["detail"].to_string())
            .set_time(time)
            .build();
        let out = self.client.put_events().entries(entry).send().await.map_err(|e| aws_error("events:PutEvents", e))?;
        if out.failed_entry_count() > 0 {
            let why = out.entries().iter().find_map(|e| e.error_message().map(str::to_owned)).unwrap_or_default();
            return Err(Error::Input(format!("events:PutEvents refused the entry: {why}")));
        }
        Ok(())
    }
}

pub struct SnsAudit {
    sns: super::sns::Sns,
    topic: String,
}

impl Audit for SnsAudit {
    async fn audit(&self, record: &AuditRecord) -> Result<(), Error> {
        self.sns.audit(&self.topic, record).await
    }
}
