//! Secrets Manager: initial credentials, readable only by their owner.

use std::collections::BTreeMap;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::types::Tag;

use super::{aws_error, is_code};
use crate::error::Error;
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct Secrets {
    client: Client,
}

/// What the steps need to know about an existing secret (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretInfo {
    pub arn: String,
    pub tags: BTreeMap<String, String>,
    /// Scheduled for deletion.
    pub deleted: bool,
    /// The version labelled `AWSCURRENT`.
    pub current_version: Option<String>,
}

/// A secret as `ListSecrets` shows it: enough for the sweep to decide whether it is still needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSecret {
    pub arn: String,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    /// When its value was last written, i.e. when the credential in it was issued.
    pub issued: Option<chrono::DateTime<chrono::Utc>>,
}

impl Secrets {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// A secret's current value (`GetSecretValue`): for the one function that reads a key.
    pub async fn value(&self, secret_id: &str) -> Result<Secret, Error> {
        let out = self
            .client
            .get_secret_value()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:GetSecretValue", e))?;
        out.secret_string()
            .map(|s| Secret::new(s.to_owned()))
            .ok_or_else(|| Error::Input(format!("secret {secret_id} holds no text")))
    }

    pub async fn describe(&self, name: &str) -> Result<Option<SecretInfo>, Error> {
        match self.client.describe_secret().secret_id(name).send().await {
            Ok(out) => Ok(Some(SecretInfo {
                arn: out.arn().unwrap_or_default().to_owned(),
                tags: out.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned()))).collect(),
                deleted: out.deleted_date().is_some(),
                current_version: out
                    .version_ids_to_stages()
                    .and_then(|m| m.iter().find(|(_, st)| st.iter().any(|s| s == "AWSCURRENT")))
                    .map(|(v, _)| v.clone()),
            })),
            Err(e) => {
                let e = aws_error("secretsmanager:DescribeSecret", e);
                if is_code(&e, "ResourceNotFoundException") { Ok(None) } else { Err(e) }
            }
        }
    }

    /// Every secret whose name starts with `prefix` and that is not scheduled for deletion
    /// (`ListSecrets`, pages of 100: one call per hundred people still onboarding).
    pub async fn list(&self, prefix: &str) -> Result<Vec<ListedSecret>, Error> {
        use aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput;
        use aws_sdk_secretsmanager::types::{Filter, FilterNameStringType};
        let filter = Filter::builder().key(FilterNameStringType::Name).values(prefix).build();
        let fetch = |token: Option<String>| {
            let req = self.client.list_secrets().filters(filter.clone()).max_results(100).set_next_token(token);
            async move { req.send().await.map_err(|e| aws_error("secretsmanager:ListSecrets", e)) }
        };
        let listed = |page: &ListSecretsOutput| {
            let mut out = Vec::new();
            for s in page.secret_list() {
                let (Some(arn), Some(name)) = (s.arn(), s.name()) else { continue };
                if s.deleted_date().is_some() || !name.starts_with(prefix) {
                    continue;
                }
                let tags: BTreeMap<String, String> =
                    s.tags().iter().filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned()))).collect();
                // The issue time the step recorded; else when the value last changed.
                let issued = tags.get("issued-at").and_then(|t| crate::lifecycle::parse_stamp(t)).or_else(|| {
                    s.last_changed_date()
                        .or(s.created_date())
                        .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
                });
                out.push(ListedSecret { arn: arn.to_owned(), name: name.to_owned(), tags, issued });
            }
            out
        };
        super::all_pages(fetch, listed, ListSecretsOutput::next_token).await
    }

    /// Creates the secret. `token` makes a retried call idempotent (same token, same value:
    /// same version).
    /// Creates the secret, with its first value or (`None`) empty: no version until
    /// [`Secrets::put_value`].
    pub async fn create(
        &self,
        name: &str,
        description: &str,
        value: Option<&Secret>,
        token: &str,
        kms_key_id: Option<&str>,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect::<Vec<_>>();
        let out = self
            .client
            .create_secret()
            .name(name)
            .description(description)
            .set_secret_string(value.map(|v| v.expose().to_owned()))
            .client_request_token(token)
            .set_kms_key_id(kms_key_id.map(str::to_owned))
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:CreateSecret", e))?;
        Ok(out.arn().unwrap_or_default().to_owned())
    }

    /// A new current version of an existing secret.
    pub async fn put_value(&self, secret_id: &str, value: &Secret, token: &str) -> Result<(), Error> {
        self.client
            .put_secret_value()
            .secret_id(secret_id)
            .secret_string(value.expose())
            .client_request_token(token)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:PutSecretValue", e))?;
        Ok(())
    }

    pub async fn tag(&self, secret_id: &str, tags: &BTreeMap<String, String>) -> Result<(), Error> {
        let tags = tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect::<Vec<_>>();
        self.client
            .tag_resource()
            .secret_id(secret_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:TagResource", e))?;
        Ok(())
    }

    /// Takes a secret out of a scheduled deletion (a resend after an operator deleted it).
    pub async fn restore(&self, secret_id: &str) -> Result<(), Error> {
        self.client
            .restore_secret()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:RestoreSecret", e))?;
        Ok(())
    }

    /// Schedules the secret's deletion after `recovery_days` (7-30); it can be restored until
    /// then. `false` when its deletion was already scheduled (by a concurrent delivery).
    pub async fn schedule_deletion(&self, secret_id: &str, recovery_days: i64) -> Result<bool, Error> {
        let sent = self
            .client
            .delete_secret()
            .secret_id(secret_id)
            .recovery_window_in_days(recovery_days.clamp(7, 30))
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:DeleteSecret", e));
        match sent {
            Ok(_) => Ok(true),
            // AWS's words: "You can't perform this operation on the secret because it was marked
            // for deletion"; the emulator's: "... a secret that's currently marked deleted".
            Err(e) if is_code(&e, "InvalidRequestException") && e.to_string().contains("marked") => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn put_resource_policy(&self, secret_id: &str, policy: &str) -> Result<(), Error> {
        self.client
            .put_resource_policy()
            .secret_id(secret_id)
            .resource_policy(policy)
            .block_public_policy(true)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:PutResourcePolicy", e))?;
        Ok(())
    }

    /// The secret's resource policy, if it has one.
    pub async fn resource_policy(&self, secret_id: &str) -> Result<Option<String>, Error> {
        let out = self
            .client
            .get_resource_policy()
            .secret_id(secret_id)
            .send()
            .await
            .map_err(|e| aws_error("secretsmanager:GetResourcePolicy", e))?;
        Ok(out.resource_policy().map(str::to_owned))
    }
}
