//! DynamoDB: access-review campaigns. One table, keyed by `campaign` and `sk`: the campaign's
//! header (`sk = "campaign"`) and one record per item (`sk = "item#{id}"`), whose frozen part is
//! written once and whose decision, outcome and revocation are conditional updates: a decision
//! only by the item's reviewer and only before the item's outcome is set at close.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, ReturnValue, WriteRequest};

use super::{aws_error, built, is_code};
use crate::error::Error;
use crate::review::{Campaign, Decision, Frozen, Item, Status};

#[derive(Clone, Debug)]
pub struct Reviews {
    client: Client,
}

const PK: &str = "campaign";
const SK: &str = "sk";
const HEADER: &str = "campaign";

fn item_key(id: &str) -> String {
    format!("item#{id}")
}

use super::Record;

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn text(r: &Record, k: &str) -> Option<String> {
    r.get(k).and_then(|v| v.as_s().ok()).cloned()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Input(format!("the reviews table holds an unreadable {what}: {e}"))
}

fn item_of(r: &Record) -> Result<Item, Error> {
    let frozen: Frozen =
        serde_json::from_str(&text(r, "frozen").unwrap_or_default()).map_err(|e| corrupt("item", e))?;
    let decision = |k: &str| text(r, k).and_then(|d| d.parse::<Decision>().ok());
    Ok(Item {
        frozen,
        decision: decision("decision"),
        reason: text(r, "reason"),
        decided_by: text(r, "decidedBy"),
        decided_at: text(r, "decidedAt"),
        outcome: decision("outcome"),
        defaulted: r.get("defaulted").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        revoked_at: text(r, "revokedAt"),
        proof: text(r, "proof"),
    })
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decided {
    /// Recorded now; `changed` is false when it was already the item's decision and reason.
    Recorded { changed: bool },
    /// The item is another reviewer's, or not in the campaign.
    NotYours,
    /// The item's outcome is set: the campaign closed.
    Closed,
}

impl Reviews {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Creates the table (on demand) unless it exists; returns whether it did.
    pub async fn create_table(&self, table: &str) -> Result<bool, Error> {
        super::create_keyed_table(&self.client, table, PK, Some(SK)).await
    }

    /// Stores a new campaign and its items; `false` (nothing written) when a campaign of that
    /// name exists. Items left by an interrupted start are removed first; the header is written
    /// last, so a campaign is never seen without all its items.
    pub async fn create(&self, table: &str, campaign: &Campaign, items: &[Frozen]) -> Result<bool, Error> {
        if self.campaign(table, &campaign.name).await?.is_some() {
            return Ok(false);
        }
        for left in self.items(table, &campaign.name).await? {
            self.client
                .delete_item()
                .table_name(table)
                .key(PK, s(&campaign.name))
                .key(SK, s(item_key(&left.frozen.id)))
                .send()
                .await
                .map_err(|e| aws_error("dynamodb:DeleteItem", e))?;
        }
        for chunk in items.chunks(25) {
            let mut requests = Vec::with_capacity(chunk.len());
            for f in chunk {
                let frozen = serde_json::to_string(f).map_err(|e| Error::Input(e.to_string()))?;
                let put = PutRequest::builder()
                    .item(PK, s(&campaign.name))
                    .item(SK, s(item_key(&f.id)))
                    .item("reviewer", s(&f.reviewer))
                    .item("frozen", s(frozen));
                requests.push(WriteRequest::builder().put_request(built(put.build())?).build());
            }
            let mut pending = HashMap::from([(table.to_owned(), requests)]);
            for attempt in 0..8u32 {
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(pending))
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb:BatchWriteItem", e))?;
                pending = out.unprocessed_items.unwrap_or_default();
                pending.retain(|_, v| !v.is_empty());
                if pending.is_empty() {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(5))).await;
            }
            if !pending.is_empty() {
                return Err(Error::Conflict(
                    "dynamodb:BatchWriteItem: items stayed unprocessed after 8 tries; run `review start` again".into(),
                ));
            }
        }
        let body = serde_json::to_string(campaign).map_err(|e| Error::Input(e.to_string()))?;
        let put = self
            .client
            .put_item()
            .table_name(table)
            .item(PK, s(&campaign.name))
            .item(SK, s(HEADER))
            .item("status", s(campaign.status.as_str()))
            .item("due", s(&campaign.due))
            .item("body", s(body))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:PutItem", e));
        super::written(put, "ConditionalCheckFailedException")
    }

    /// The campaign's header, read consistently.
    pub async fn campaign(&self, table: &str, name: &str) -> Result<Option<Campaign>, Error> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(PK, s(name))
            .key(SK, s(HEADER))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:GetItem", e))?;
        let Some(r) = out.item else { return Ok(None) };
        let mut c: Campaign =
            serde_json::from_str(&text(&r, "body").unwrap_or_default()).map_err(|e| corrupt("campaign", e))?;
        c.status = match text(&r, "status").as_deref() {
            Some("held") => Status::Held,
            Some("closed") => Status::Closed,
            _ => Status::Open,
        };
        c.closed_at = text(&r, "closedAt").or(c.closed_at);
        Ok(Some(c))
    }

    /// The open campaigns due at `now` (RFC 3339, as `due` is stored): the sweep closes them. A
    /// missing table (never bootstrapped) has none.
    pub async fn open_and_due(&self, table: &str, now: &str) -> Result<Vec<String>, Error> {
        let pages = super::table_pages(|start| async move {
            let scan = self
                .client
                .scan()
                .table_name(table)
                .filter_expression("#sk = :h AND #s = :open AND #due <= :now")
                .expression_attribute_names("#sk", SK)
                .expression_attribute_names("#s", "status")
                .expression_attribute_names("#due", "due")
                .expression_attribute_values(":h", s(HEADER))
                .expression_attribute_values(":open", s(Status::Open.as_str()))
                .expression_attribute_values(":now", s(now))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            let out = scan.send().await.map_err(|e| aws_error("dynamodb:Scan", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        });
        let mut names: Vec<String> = match pages.await {
            Ok(records) => records.iter().filter_map(|r| text(r, PK)).collect(),
            Err(e) if is_code(&e, "ResourceNotFoundException") => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        names.sort();
        Ok(names)
    }

    /// Every item of a campaign, in id order, read consistently.
    pub async fn items(&self, table: &str, name: &str) -> Result<Vec<Item>, Error> {
        let records = super::table_pages(|start| async move {
            let query = self
                .client
                .query()
                .table_name(table)
                .key_condition_expression("#pk = :c AND begins_with(#sk, :item)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":c", s(name))
                .expression_attribute_values(":item", s("item#"))
                .consistent_read(true)
                .set_exclusive_start_key(start);
            let out = query.send().await.map_err(|e| aws_error("dynamodb:Query", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await?;
        let mut items = records.iter().map(item_of).collect::<Result<Vec<_>, _>>()?;
        items.sort_by(|a, b| a.frozen.id.cmp(&b.frozen.id));
        Ok(items)
    }

    /// Records `reviewer`'s decision on one item: only theirs, only while its outcome is unset.
    pub async fn decide(
        &self,
        table: &str,
        campaign: &str,
        id: &str,
        reviewer: &str,
        (decision, reason): (Decision, Option<&str>),
        at: &str,
    ) -> Result<Decided, Error> {
        let mut update = self
            .client
            .update_item()
            .table_name(table)
            .key(PK, s(campaign))
            .key(SK, s(item_key(id)))
            .expression_attribute_names("#by", "decidedBy")
            .expression_attribute_values(":me", s(reviewer))
            .expression_attribute_values(":d", s(decision.as_str()))
            .expression_attribute_values(":at", s(at))
            .condition_expression("reviewer = :me AND attribute_not_exists(outcome)")
            .return_values(ReturnValue::AllOld);
        update = match reason.filter(|r| !r.is_empty()) {
            Some(r) => update
                .update_expression("SET decision = :d, reason = :r, #by = :me, decidedAt = :at")
                .expression_attribute_values(":r", s(r)),
            None => update.update_expression("SET decision = :d, #by = :me, decidedAt = :at REMOVE reason"),
        };
        match update.send().await.map_err(|e| aws_error("dynamodb:UpdateItem", e)) {
            Ok(out) => {
                let old = out.attributes.unwrap_or_default();
                let same = text(&old, "decision").as_deref() == Some(decision.as_str())
                    && text(&old, "reason").as_deref().unwrap_or_default() == reason.unwrap_or_default();
                Ok(Decided::Recorded { changed: !same })
            }
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => {
                let got = self
                    .client
                    .get_item()
                    .table_name(table)
                    .key(PK, s(campaign))
                    .key(SK, s(item_key(id)))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| aws_error("dynamodb:GetItem", e))?;
                Ok(match got.item {
                    Some(r) if text(&r, "reviewer").as_deref() == Some(reviewer) => Decided::Closed,
                    _ => Decided::NotYours,
                })
            }
            Err(e) => Err(e),
        }
    }

    /// Sets an item's outcome at close, unless a decision other than `seen` arrived meanwhile
    /// (`false`: read it again).
    pub async fn settle(
        &self,
        table: &str,
        campaign: &str,
        id: &str,
        seen: Option<Decision>,
        outcome: Decision,
        defaulted: bool,
    ) -> Result<bool, Error> {
        let update = self
            .client
            .update_item()
            .table_name(table)
            .key(PK, s(campaign))
            .key(SK, s(item_key(id)))
            .update_expression("SET outcome = :o, defaulted = :def")
            .expression_attribute_values(":o", s(outcome.as_str()))
            .expression_attribute_values(":def", AttributeValue::Bool(defaulted));
        let update = match seen {
            Some(d) => update
                .condition_expression("attribute_exists(reviewer) AND decision = :seen")
                .expression_attribute_values(":seen", s(d.as_str())),
            None => update.condition_expression("attribute_exists(reviewer) AND attribute_not_exists(decision)"),
        };
        super::written(
            update.send().await.map_err(|e| aws_error("dynamodb:UpdateItem", e)),
            "ConditionalCheckFailedException",
        )
    }

    /// Records a carried-out revocation and what the target showed when read back.
    pub async fn revoked(&self, table: &str, campaign: &str, id: &str, at: &str, proof: &str) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(table)
            .key(PK, s(campaign))
            .key(SK, s(item_key(id)))
            .update_expression("SET revokedAt = :at, proof = :p")
            .condition_expression("attribute_exists(reviewer)")
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":p", s(proof))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e))?;
        Ok(())
    }

    /// Asks the deployed `reviews` function for the reviewers' links (`[review] links =
    /// "function"`): the campaign's record changes, and its stream starts the function.
    pub async fn request_links(&self, table: &str, campaign: &str, reminder: bool, at: &str) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(table)
            .key(PK, s(campaign))
            .key(SK, s(HEADER))
            .update_expression("SET linksRequested = :at, linksReminder = :r")
            .condition_expression("attribute_exists(#s)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":at", s(at))
            .expression_attribute_values(":r", AttributeValue::Bool(reminder))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e))?;
        Ok(())
    }

    /// Moves the campaign to `status`, stamping when.
    pub async fn set_status(&self, table: &str, campaign: &str, status: Status, at: &str) -> Result<(), Error> {
        self.client
            .update_item()
            .table_name(table)
            .key(PK, s(campaign))
            .key(SK, s(HEADER))
            .update_expression("SET #s = :s, closedAt = :at")
            .condition_expression("attribute_exists(#s)")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":s", s(status.as_str()))
            .expression_attribute_values(":at", s(at))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e))?;
        Ok(())
    }
}
