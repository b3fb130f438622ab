//! IAM calls used by the steps.

use std::collections::BTreeMap;

use aws_sdk_iam::Client;
use aws_sdk_iam::types::Tag;

use super::{aws_error, is_code};
use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::retry::{self, RetryPolicy};
use crate::secret::Secret;

#[derive(Clone, Debug)]
pub struct Iam {
    client: Client,
    retry: RetryPolicy,
}

/// A user as the steps see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub arn: String,
    pub path: String,
    pub tags: BTreeMap<String, String>,
}

/// An access key's id and whether it is active.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub id: String,
    pub active: bool,
}

fn to_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, Error> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| Error::Input(format!("tag {k}: {e}"))))
        .collect()
}

fn from_tags(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect()
}

impl Iam {
    pub fn new(client: Client, retry: RetryPolicy) -> Self {
        Self { client, retry }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// The user, or `None` when it does not exist.
    pub async fn get_user(&self, name: &str) -> Result<Option<User>, Error> {
        let r = retry::retry(self.retry, "iam:GetUser", retry::transient, || async {
            self.client.get_user().user_name(name).send().await.map_err(|e| aws_error("iam:GetUser", e))
        })
        .await;
        match r {
            Ok(out) => Ok(out.user().map(|u| User {
                name: u.user_name().to_owned(),
                arn: u.arn().to_owned(),
                path: u.path().to_owned(),
                tags: from_tags(u.tags()),
            })),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The user, waiting (within the retry bounds) for one created moments ago to be visible.
    pub async fn wait_for_user(&self, name: &str) -> Result<User, Error> {
        let out = retry::retry(self.retry, "iam:GetUser", retry::transient_or_not_yet_visible, || async {
            self.client.get_user().user_name(name).send().await.map_err(|e| aws_error("iam:GetUser", e))
        })
        .await?;
        let u = out.user().ok_or_else(|| Error::Input(format!("GetUser returned no user for {name}")))?;
        Ok(User {
            name: u.user_name().to_owned(),
            arn: u.arn().to_owned(),
            path: u.path().to_owned(),
            tags: from_tags(u.tags()),
        })
    }

    /// Creates a user with its path, permissions boundary and all tags in one call.
    /// `EntityAlreadyExists` is returned as the error, for the caller to decide.
    pub async fn create_user(
        &self,
        name: &str,
        path: &str,
        boundary_arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let tags = to_tags(tags)?;
        let out = retry::retry(self.retry, "iam:CreateUser", retry::transient, || async {
            self.client
                .create_user()
                .user_name(name)
                .path(path)
                .permissions_boundary(boundary_arn)
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|e| aws_error("iam:CreateUser", e))
        })
        .await?;
        Ok(out.user().map(|u| u.arn().to_owned()).unwrap_or_default())
    }

    pub async fn tag_user(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), Error> {
        let tags = to_tags(tags)?;
        retry::retry(self.retry, "iam:TagUser", retry::transient_or_not_yet_visible, || async {
            self.client
                .tag_user()
                .user_name(name)
                .set_tags(Some(tags.clone()))
                .send()
                .await
                .map_err(|e| aws_error("iam:TagUser", e))
        })
        .await?;
        Ok(())
    }

    pub async fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), Error> {
        retry::retry(self.retry, "iam:UntagUser", retry::transient_or_not_yet_visible, || async {
            self.client
                .untag_user()
                .user_name(name)
                .set_tag_keys(Some(keys.to_vec()))
                .send()
                .await
                .map_err(|e| aws_error("iam:UntagUser", e))
        })
        .await?;
        Ok(())
    }

    /// Whether the group exists.
    pub async fn group_exists(&self, group: &str) -> Result<bool, Error> {
        let r = retry::retry(self.retry, "iam:GetGroup", retry::transient, || async {
            self.client
                .get_group()
                .group_name(group)
                .max_items(1)
                .send()
                .await
                .map_err(|e| aws_error("iam:GetGroup", e))
        })
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The names of the user's groups (all pages). A user not yet visible is waited for.
    pub async fn groups_for_user(&self, name: &str) -> Result<Vec<String>, Error> {
        let mut groups = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out =
                retry::retry(self.retry, "iam:ListGroupsForUser", retry::transient_or_not_yet_visible, || async {
                    self.client
                        .list_groups_for_user()
                        .user_name(name)
                        .set_marker(marker.clone())
                        .send()
                        .await
                        .map_err(|e| aws_error("iam:ListGroupsForUser", e))
                })
                .await?;
            groups.extend(out.groups().iter().map(|g| g.group_name().to_owned()));
            match out.marker() {
                Some(m) if out.is_truncated() => marker = Some(m.to_owned()),
                _ => return Ok(groups),
            }
        }
    }

    pub async fn add_user_to_group(&self, name: &str, group: &str) -> Result<(), Error> {
        retry::retry(self.retry, "iam:AddUserToGroup", retry::transient_or_not_yet_visible, || async {
            self.client
                .add_user_to_group()
                .user_name(name)
                .group_name(group)
                .send()
                .await
                .map_err(|e| aws_error("iam:AddUserToGroup", e))
        })
        .await?;
        Ok(())
    }

    /// Whether the user has a console password.
    pub async fn has_login_profile(&self, name: &str) -> Result<bool, Error> {
        let r = retry::retry(self.retry, "iam:GetLoginProfile", retry::transient, || async {
            self.client
                .get_login_profile()
                .user_name(name)
                .send()
                .await
                .map_err(|e| aws_error("iam:GetLoginProfile", e))
        })
        .await;
        match r {
            Ok(_) => Ok(true),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the user a console password that must be changed at first sign-in. If a profile
    /// appeared meanwhile (a concurrent run), its password is replaced, so the stored secret and
    /// the login profile always agree.
    pub async fn set_login_profile(&self, name: &str, password: &Secret) -> Result<(), Error> {
        let created =
            retry::retry(self.retry, "iam:CreateLoginProfile", retry::transient_or_not_yet_visible, || async {
                self.client
                    .create_login_profile()
                    .user_name(name)
                    .password(password.expose())
                    .password_reset_required(true)
                    .send()
                    .await
                    .map_err(|e| aws_error("iam:CreateLoginProfile", e))
            })
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                retry::retry(self.retry, "iam:UpdateLoginProfile", retry::transient, || async {
                    self.client
                        .update_login_profile()
                        .user_name(name)
                        .password(password.expose())
                        .password_reset_required(true)
                        .send()
                        .await
                        .map_err(|e| aws_error("iam:UpdateLoginProfile", e))
                })
                .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The account password policy; AWS's default when none is set (`NoSuchEntity`).
    pub async fn password_policy(&self) -> Result<PasswordPolicy, Error> {
        let r = retry::retry(self.retry, "iam:GetAccountPasswordPolicy", retry::transient, || async {
            self.client
                .get_account_password_policy()
                .send()
                .await
                .map_err(|e| aws_error("iam:GetAccountPasswordPolicy", e))
        })
        .await;
        match r {
            Ok(out) => Ok(out
                .password_policy()
                .map(|p| PasswordPolicy {
                    minimum_length: p.minimum_password_length().unwrap_or(8).max(0) as usize,
                    require_uppercase: p.require_uppercase_characters(),
                    require_lowercase: p.require_lowercase_characters(),
                    require_numbers: p.require_numbers(),
                    require_symbols: p.require_symbols(),
                })
                .unwrap_or(PasswordPolicy::AWS_DEFAULT)),
            Err(e) if is_code(&e, "NoSuchEntity") => Ok(PasswordPolicy::AWS_DEFAULT),
            Err(e) => Err(e),
        }
    }

    pub async fn access_keys(&self, name: &str) -> Result<Vec<AccessKey>, Error> {
        let out = retry::retry(self.retry, "iam:ListAccessKeys", retry::transient_or_not_yet_visible, || async {
            self.client.list_access_keys().user_name(name).send().await.map_err(|e| aws_error("iam:ListAccessKeys", e))
        })
        .await?;
        Ok(out
            .access_key_metadata()
            .iter()
            .filter_map(|k| {
                Some(AccessKey {
                    id: k.access_key_id()?.to_owned(),
                    active: k.status().is_some_and(|s| s.as_str() == "Active"),
                })
            })
            .collect())
    }

    /// Creates an access key; the secret half is wrapped at once.
    pub async fn create_access_key(&self, name: &str) -> Result<(String, Secret), Error> {
        let out = retry::retry(self.retry, "iam:CreateAccessKey", retry::transient_or_not_yet_visible, || async {
            self.client
                .create_access_key()
                .user_name(name)
                .send()
                .await
                .map_err(|e| aws_error("iam:CreateAccessKey", e))
        })
        .await?;
        let key = out.access_key().ok_or_else(|| Error::Input("CreateAccessKey returned no key".into()))?;
        Ok((key.access_key_id().to_owned(), Secret::new(key.secret_access_key().to_owned())))
    }

    /// A customer-managed policy's ARN by name (scope Local), if it exists.
    pub async fn find_local_policy(&self, name: &str) -> Result<Option<String>, Error> {
        let mut marker: Option<String> = None;
        loop {
            let out = retry::retry(self.retry, "iam:ListPolicies", retry::transient, || async {
                self.client
                    .list_policies()
                    .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                    .set_marker(marker.clone())
                    .send()
                    .await
                    .map_err(|e| aws_error("iam:ListPolicies", e))
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
}
