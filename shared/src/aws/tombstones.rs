//! DynamoDB: what remains of a deleted person, so that a replayed or late event cannot bring them
//! back. One item per employee id; DynamoDB's TTL removes it after `lifecycle.tombstone_days`.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};
use chrono::{DateTime, Utc};

use super::{aws_error, built};
use crate::error::Error;
use crate::lifecycle;

#[derive(Clone, Debug)]
pub struct Tombstones {
    client: Client,
}

/// A deleted person: who, when, and the newest HR event applied to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tombstone {
    pub employee_id: String,
    pub user_name: String,
    pub last_event_time: Option<DateTime<Utc>>,
    pub deleted_at: DateTime<Utc>,
}

const KEY: &str = "employeeId";
const TTL: &str = "expiresAt";

impl Tombstones {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub async fn get(&self, table: &str, employee_id: &str) -> Result<Option<Tombstone>, Error> {
        let Some(item) = super::get_keyed_item(&self.client, table, KEY, employee_id).await? else { return Ok(None) };
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let time = |k: &str| text(k).and_then(|t| lifecycle::parse_stamp(&t));
        Ok(Some(Tombstone {
            employee_id: employee_id.to_owned(),
            user_name: text("userName").unwrap_or_default(),
            last_event_time: time("lastEventTime"),
            deleted_at: time("deletedAt").unwrap_or_default(),
        }))
    }

    /// Writes (or overwrites, for a person deleted a second time) the tombstone.
    pub async fn put(&self, table: &str, t: &Tombstone, expires_at: DateTime<Utc>) -> Result<(), Error> {
        let mut req = self
            .client
            .put_item()
            .table_name(table)
            .item(KEY, AttributeValue::S(t.employee_id.clone()))
            .item("userName", AttributeValue::S(t.user_name.clone()))
            .item("deletedAt", AttributeValue::S(lifecycle::stamp(t.deleted_at)))
            .item(TTL, AttributeValue::N(expires_at.timestamp().to_string()));
        if let Some(last) = t.last_event_time {
            req = req.item("lastEventTime", AttributeValue::S(lifecycle::stamp(last)));
        }
        req.send().await.map_err(|e| aws_error("dynamodb:PutItem", e))?;
        Ok(())
    }

    /// Creates the table (on demand, TTL on `expiresAt`) unless it exists; returns whether it did.
    pub async fn create_table(&self, table: &str) -> Result<bool, Error> {
        if !super::create_keyed_table(&self.client, table, KEY, None).await? {
            return Ok(false);
        }
        let ttl = built(TimeToLiveSpecification::builder().attribute_name(TTL).enabled(true).build())?;
        self.client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateTimeToLive", e))?;
        Ok(true)
    }
}
