//! Managed and inline policies: made, read, rewritten, attached, removed.

use super::{Iam, gone, truncated};
use crate::aws::is_code;
use crate::error::Error;
use crate::retry::transient;

impl Iam {
    /// Creates a customer-managed policy; returns its ARN.
    pub async fn create_policy(&self, name: &str, description: &str, document: &str) -> Result<String, Error> {
        let out = self
            .call("iam:CreatePolicy", transient, || {
                self.client.create_policy().policy_name(name).description(description).policy_document(document).send()
            })
            .await?;
        Ok(out.policy().and_then(|p| p.arn()).unwrap_or_default().to_owned())
    }

    /// A customer-managed policy's description and default document.
    pub async fn policy_document(&self, arn: &str) -> Result<(Option<String>, serde_json::Value), Error> {
        let out = self.call("iam:GetPolicy", transient, || self.client.get_policy().policy_arn(arn).send()).await?;
        let policy = out.policy().ok_or_else(|| Error::Input(format!("GetPolicy returned no policy for {arn}")))?;
        let version = policy.default_version_id().unwrap_or("v1").to_owned();
        let description = policy.description().map(str::to_owned);
        let out = self
            .call("iam:GetPolicyVersion", transient, || {
                self.client.get_policy_version().policy_arn(arn).version_id(&version).send()
            })
            .await?;
        let text = out.policy_version().and_then(|v| v.document()).unwrap_or_default();
        // IAM answers the document percent-encoded; an emulator may not.
        let doc = serde_json::from_str(text)
            .or_else(|_| serde_json::from_str(&crate::aws::percent_decode(text)))
            .map_err(|e| Error::Input(format!("{arn}: its document is not JSON: {e}")))?;
        Ok((description, doc))
    }

    /// Makes `document` the policy's default version, deleting its oldest other version first
    /// when it holds IAM's five.
    pub async fn replace_policy_document(&self, arn: &str, document: &str) -> Result<(), Error> {
        // IAM keeps five versions: the oldest non-default one goes first. Writers that race (two
        // departures at once) may delete the same version or both find five: each tries again.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let out = self
                .call("iam:ListPolicyVersions", transient, || self.client.list_policy_versions().policy_arn(arn).send())
                .await?;
            let mut others: Vec<_> = out.versions().iter().filter(|v| !v.is_default_version()).collect();
            if out.versions().len() >= 5 {
                others.sort_by_key(|v| v.create_date().map(|d| d.secs()));
                if let Some(id) = others.first().and_then(|v| v.version_id()) {
                    let deleted = self
                        .call("iam:DeletePolicyVersion", transient, || {
                            self.client.delete_policy_version().policy_arn(arn).version_id(id).send()
                        })
                        .await;
                    match deleted {
                        Err(e) if is_code(&e, "NoSuchEntity") && attempts < 5 => continue,
                        other => other?,
                    };
                }
            }
            let created = self
                .call("iam:CreatePolicyVersion", transient, || {
                    self.client
                        .create_policy_version()
                        .policy_arn(arn)
                        .policy_document(document)
                        .set_as_default(true)
                        .send()
                })
                .await;
            match created {
                Err(e) if is_code(&e, "LimitExceeded") && attempts < 5 => continue,
                other => return other.map(|_| ()),
            }
        }
    }

    /// A customer-managed policy's ARN by name (scope Local), if it exists.
    pub async fn find_local_policy(&self, name: &str) -> Result<Option<String>, Error> {
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .call("iam:ListPolicies", transient, || {
                    self.client
                        .list_policies()
                        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                        .set_marker(marker.clone())
                        .send()
                })
                .await?;
            if let Some(p) = out.policies().iter().find(|p| p.policy_name() == Some(name)) {
                return Ok(p.arn().map(str::to_owned));
            }
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(None),
            }
        }
    }

    /// Names of the user's inline policies (all pages).
    pub async fn inline_policies(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListUserPolicies",
            transient,
            |marker| self.client.list_user_policies().user_name(name).set_marker(marker).send(),
            |page| page.policy_names().to_vec(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn delete_user_policy(&self, name: &str, policy: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DeleteUserPolicy", transient, || {
                self.client.delete_user_policy().user_name(name).policy_name(policy).send()
            })
            .await,
        )
    }

    /// ARNs of the managed policies attached to the user (all pages).
    pub async fn attached_policies(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListAttachedUserPolicies",
            transient,
            |marker| self.client.list_attached_user_policies().user_name(name).set_marker(marker).send(),
            |page| page.attached_policies().iter().filter_map(|p| p.policy_arn().map(str::to_owned)).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn detach_user_policy(&self, name: &str, arn: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:DetachUserPolicy", transient, || {
                self.client.detach_user_policy().user_name(name).policy_arn(arn).send()
            })
            .await,
        )
    }
}
