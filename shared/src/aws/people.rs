//! DynamoDB: the people table, this system's own record of whom it owns in Identity Center.
//! Identity Store users carry no tags, so what IAM users keep in theirs (the employee id, that
//! this system made or adopted them, the lifecycle's status and dates) lives here, one item per
//! employee id. A user is this system's only when its record names it and the user still
//! answers to the record's id and name (`person::identity_center::proves`).

use std::collections::{BTreeMap, HashMap};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

use super::{aws_error, is_code};
use crate::error::Error;
use crate::lifecycle;

/// One person's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub employee_id: String,
    /// The Identity Store user id; empty while the user is being made (the record is claimed
    /// first, so two deliveries of a hire make one user, and [`People::bind`] names it after).
    pub user_id: String,
    pub user_name: String,
    pub since: DateTime<Utc>,
    /// How the user became this system's: it created it, or an operator adopted it.
    pub origin: Origin,
    /// What IAM users keep in tags: `status`, `start-date`, `disable-at`, ...
    pub lifecycle: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Created,
    Adopted,
}

impl Origin {
    pub const fn as_str(self) -> &'static str {
        match self {
            Origin::Created => "created",
            Origin::Adopted => "adopted",
        }
    }
}

#[derive(Clone, Debug)]
pub struct People {
    client: Client,
}

const KEY: &str = "employeeId";
const LIFECYCLE: &str = "lifecycle";

impl People {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// A client for the SDK's configuration.
    pub fn of(sdk: &aws_config::SdkConfig) -> Self {
        Self::new(Client::new(sdk))
    }

    /// The employee's record, read consistently.
    pub async fn get(&self, table: &str, employee_id: &str) -> Result<Option<PersonRecord>, Error> {
        let item = super::get_keyed_item(&self.client, table, KEY, employee_id).await?;
        item.as_ref().map(record).transpose()
    }

    /// Writes the record unless the employee has one: `true` when this call wrote it, `false`
    /// when one was there (another delivery's, or an earlier one's; read it to see whose user).
    pub async fn claim(&self, table: &str, r: &PersonRecord) -> Result<bool, Error> {
        let lifecycle = r.lifecycle.iter().map(|(k, v)| (k.clone(), AttributeValue::S(v.clone()))).collect();
        let put = self
            .client
            .put_item()
            .table_name(table)
            .item(KEY, AttributeValue::S(r.employee_id.clone()))
            .item("userId", AttributeValue::S(r.user_id.clone()))
            .item("userName", AttributeValue::S(r.user_name.clone()))
            .item("since", AttributeValue::S(lifecycle::stamp(r.since)))
            .item("origin", AttributeValue::S(r.origin.as_str().into()))
            .item(LIFECYCLE, AttributeValue::M(lifecycle))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", KEY)
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:PutItem", e));
        super::written(put, "ConditionalCheckFailedException")
    }

    /// Names the user made for a record claimed before it was (`user_id` empty: see
    /// `PersonRecord::user_id`). Binding the same id again is no error; another id is a conflict.
    pub async fn bind(&self, table: &str, employee_id: &str, user_id: &str) -> Result<(), Error> {
        let bound = self
            .client
            .update_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(employee_id.to_owned()))
            .update_expression("SET #u = :id")
            .condition_expression("#u = :none OR #u = :id")
            .expression_attribute_names("#u", "userId")
            .expression_attribute_values(":id", AttributeValue::S(user_id.to_owned()))
            .expression_attribute_values(":none", AttributeValue::S(String::new()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e));
        match bound {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => Err(Error::Conflict(format!(
                "the people record of `{employee_id}` names another user than {user_id}, or is gone; read it \
                 (`onboarding status {employee_id}`) before anything else"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Moves a claim whose user is not made yet to another user name (the claimed one turned out
    /// to be someone else's). Only an unbound record of that name is changed.
    pub async fn rename_pending(&self, table: &str, employee_id: &str, from: &str, to: &str) -> Result<(), Error> {
        let moved = self
            .client
            .update_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(employee_id.to_owned()))
            .update_expression("SET #n = :to")
            .condition_expression("#u = :none AND #n = :from")
            .expression_attribute_names("#u", "userId")
            .expression_attribute_names("#n", "userName")
            .expression_attribute_values(":to", AttributeValue::S(to.to_owned()))
            .expression_attribute_values(":from", AttributeValue::S(from.to_owned()))
            .expression_attribute_values(":none", AttributeValue::S(String::new()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e));
        match moved {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => Err(Error::Conflict(format!(
                "the people record of `{employee_id}` changed while its user was being made; send the hire again"
            ))),
            Err(e) => Err(e),
        }
    }

    /// Sets and removes lifecycle entries of an existing record in one write (a record that is
    /// not there is not made: `Error::Missing`).
    pub async fn set_lifecycle(
        &self,
        table: &str,
        employee_id: &str,
        set: &BTreeMap<String, String>,
        remove: &[&str],
    ) -> Result<(), Error> {
        if set.is_empty() && remove.is_empty() {
            return Ok(());
        }
        let mut names = HashMap::from([("#k".to_owned(), KEY.to_owned()), ("#l".to_owned(), LIFECYCLE.to_owned())]);
        let mut values = HashMap::new();
        let mut sets = Vec::new();
        for (i, (k, v)) in set.iter().enumerate() {
            names.insert(format!("#s{i}"), k.clone());
            values.insert(format!(":s{i}"), AttributeValue::S(v.clone()));
            sets.push(format!("#l.#s{i} = :s{i}"));
        }
        let mut removes = Vec::new();
        for (i, k) in remove.iter().enumerate() {
            names.insert(format!("#r{i}"), (*k).to_owned());
            removes.push(format!("#l.#r{i}"));
        }
        let mut expression = String::new();
        if !sets.is_empty() {
            expression.push_str(&format!("SET {}", sets.join(", ")));
        }
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let updated = self
            .client
            .update_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(employee_id.to_owned()))
            .update_expression(expression.trim())
            .condition_expression("attribute_exists(#k)")
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:UpdateItem", e));
        match updated {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "ConditionalCheckFailedException") => Err(Error::Missing {
                kind: "people record",
                name: employee_id.to_owned(),
                hint: "a record is made when this system creates or adopts the person's user",
            }),
            Err(e) => Err(e),
        }
    }

    /// Removes the employee's record if it still names `user_id` (a rehire's newer record is
    /// kept); `false` when there was none to remove.
    pub async fn delete(&self, table: &str, employee_id: &str, user_id: &str) -> Result<bool, Error> {
        let gone = self
            .client
            .delete_item()
            .table_name(table)
            .key(KEY, AttributeValue::S(employee_id.to_owned()))
            .condition_expression("#u = :id")
            .expression_attribute_names("#u", "userId")
            .expression_attribute_values(":id", AttributeValue::S(user_id.to_owned()))
            .send()
            .await
            .map_err(|e| aws_error("dynamodb:DeleteItem", e));
        super::written(gone, "ConditionalCheckFailedException")
    }

    /// Every record (all pages).
    pub async fn all(&self, table: &str) -> Result<Vec<PersonRecord>, Error> {
        let raw = super::table_pages(|start| async move {
            let scan = self.client.scan().table_name(table).consistent_read(true).set_exclusive_start_key(start);
            let out = scan.send().await.map_err(|e| aws_error("dynamodb:Scan", e))?;
            Ok((out.items.unwrap_or_default(), out.last_evaluated_key))
        })
        .await?;
        let mut records = raw.iter().map(record).collect::<Result<Vec<_>, _>>()?;
        records.sort_by(|a, b| a.employee_id.cmp(&b.employee_id));
        Ok(records)
    }

    /// Creates the table (on demand) unless it exists; returns whether it did.
    pub async fn create_table(&self, table: &str) -> Result<bool, Error> {
        super::create_keyed_table(&self.client, table, KEY, None).await
    }
}

/// A record from its item; an item missing what every record has is reported, not guessed.
fn record(item: &HashMap<String, AttributeValue>) -> Result<PersonRecord, Error> {
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let id = text(KEY).unwrap_or_default();
    let broken = |field: &str| Error::Conflict(format!("the people record of `{id}` has no valid `{field}`"));
    Ok(PersonRecord {
        user_id: text("userId").ok_or_else(|| broken("userId"))?,
        user_name: text("userName").ok_or_else(|| broken("userName"))?,
        since: text("since").and_then(|t| lifecycle::parse_stamp(&t)).ok_or_else(|| broken("since"))?,
        origin: match text("origin").as_deref() {
            Some("created") => Origin::Created,
            Some("adopted") => Origin::Adopted,
            _ => return Err(broken("origin")),
        },
        lifecycle: item
            .get(LIFECYCLE)
            .and_then(|v| v.as_m().ok())
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_s().ok()?.clone()))).collect())
            .unwrap_or_default(),
        employee_id: id,
    })
}
