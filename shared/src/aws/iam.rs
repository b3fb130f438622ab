//! IAM calls used by the steps. Every call goes through [`Iam::call`]: SDK error → [`Error::Aws`]
//! with the AWS code, retried within the policy when the predicate says it is worth it.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_iam::Client;
use aws_sdk_iam::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::Tag;

use super::{aws_error, is_code};
use crate::error::Error;
use crate::password::PasswordPolicy;
use crate::retry::{self, RetryPolicy, transient, transient_or_not_yet_visible};
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

impl From<&aws_sdk_iam::types::User> for User {
    fn from(u: &aws_sdk_iam::types::User) -> Self {
        Self {
            name: u.user_name().to_owned(),
            arn: u.arn().to_owned(),
            path: u.path().to_owned(),
            tags: u.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
        }
    }
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

/// `Ok(None)` for `NoSuchEntity`: the thing asked about does not exist.
fn absent<T>(r: Result<T, Error>) -> Result<Option<T>, Error> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_code(&e, "NoSuchEntity") => Ok(None),
        Err(e) => Err(e),
    }
}

impl Iam {
    pub fn new(client: Client, retry: RetryPolicy) -> Self {
        Self { client, retry }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// One API call: errors keep their AWS code; `retryable` ones are retried within the policy.
    async fn call<T, E, R, F, Fut>(
        &self,
        operation: &'static str,
        retryable: fn(&Error) -> bool,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, R>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug,
    {
        retry::retry(self.retry, operation, retryable, || async { send().await.map_err(|e| aws_error(operation, e)) })
            .await
    }

    /// The user, or `None` when it does not exist.
    pub async fn get_user(&self, name: &str) -> Result<Option<User>, Error> {
        let out = absent(self.call("iam:GetUser", transient, || self.client.get_user().user_name(name).send()).await)?;
        Ok(out.and_then(|o| o.user().map(User::from)))
    }

    /// The user, waiting (within the retry bounds) for one created moments ago to be visible.
    pub async fn wait_for_user(&self, name: &str) -> Result<User, Error> {
        let out = self
            .call("iam:GetUser", transient_or_not_yet_visible, || self.client.get_user().user_name(name).send())
            .await?;
        out.user().map(User::from).ok_or_else(|| Error::Input(format!("GetUser returned no user for {name}")))
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
        let out = self
            .call("iam:CreateUser", transient, || {
                self.client
                    .create_user()
                    .user_name(name)
                    .path(path)
                    .permissions_boundary(boundary_arn)
                    .set_tags(Some(tags.clone()))
                    .send()
            })
            .await?;
        Ok(out.user().map(|u| u.arn().to_owned()).unwrap_or_default())
    }

    pub async fn tag_user(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), Error> {
        let tags = to_tags(tags)?;
        self.call("iam:TagUser", transient_or_not_yet_visible, || {
            self.client.tag_user().user_name(name).set_tags(Some(tags.clone())).send()
        })
        .await?;
        Ok(())
    }

    pub async fn untag_user(&self, name: &str, keys: &[String]) -> Result<(), Error> {
        self.call("iam:UntagUser", transient_or_not_yet_visible, || {
            self.client.untag_user().user_name(name).set_tag_keys(Some(keys.to_vec())).send()
        })
        .await?;
        Ok(())
    }

    /// The group's ARN, or `None` when it does not exist.
    pub async fn group_arn(&self, group: &str) -> Result<Option<String>, Error> {
        let r = self.call("iam:GetGroup", transient, || self.client.get_group().group_name(group).max_items(1).send());
        Ok(absent(r.await)?.and_then(|o| o.group().map(|g| g.arn().to_owned())))
    }

    /// The names of the user's groups (all pages). A user not yet visible is waited for.
    pub async fn groups_for_user(&self, name: &str) -> Result<Vec<String>, Error> {
        let mut groups = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let out = self
                .call("iam:ListGroupsForUser", transient_or_not_yet_visible, || {
                    self.client.list_groups_for_user().user_name(name).set_marker(marker.clone()).send()
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
        self.call("iam:AddUserToGroup", transient_or_not_yet_visible, || {
            self.client.add_user_to_group().user_name(name).group_name(group).send()
        })
        .await?;
        Ok(())
    }

    /// Whether the user has a console password.
    pub async fn has_login_profile(&self, name: &str) -> Result<bool, Error> {
        let r = self.call("iam:GetLoginProfile", transient, || self.client.get_login_profile().user_name(name).send());
        Ok(absent(r.await)?.is_some())
    }

    /// Gives the user a console password that must be changed at first sign-in. If a profile
    /// appeared meanwhile (a concurrent run), its password is replaced, so the stored secret and
    /// the login profile always agree.
    pub async fn set_login_profile(&self, name: &str, password: &Secret) -> Result<(), Error> {
        let created = self
            .call("iam:CreateLoginProfile", transient_or_not_yet_visible, || {
                self.client
                    .create_login_profile()
                    .user_name(name)
                    .password(password.expose())
                    .password_reset_required(true)
                    .send()
            })
            .await;
        match created {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, "EntityAlreadyExists") => {
                self.call("iam:UpdateLoginProfile", transient, || {
                    self.client
                        .update_login_profile()
                        .user_name(name)
                        .password(password.expose())
                        .password_reset_required(true)
                        .send()
                })
                .await?;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The account password policy; AWS's default when none is set (`NoSuchEntity`).
    pub async fn password_policy(&self) -> Result<PasswordPolicy, Error> {
        let out = absent(
            self.call("iam:GetAccountPasswordPolicy", transient, || self.client.get_account_password_policy().send())
                .await,
        )?;
        Ok(out
            .as_ref()
            .and_then(|o| o.password_policy())
            .map(|p| PasswordPolicy {
                minimum_length: p.minimum_password_length().unwrap_or(8).max(0) as usize,
                require_uppercase: p.require_uppercase_characters(),
                require_lowercase: p.require_lowercase_characters(),
                require_numbers: p.require_numbers(),
                require_symbols: p.require_symbols(),
            })
            .unwrap_or(PasswordPolicy::AWS_DEFAULT))
    }

    pub async fn access_keys(&self, name: &str) -> Result<Vec<AccessKey>, Error> {
        let out = self
            .call("iam:ListAccessKeys", transient_or_not_yet_visible, || {
                self.client.list_access_keys().user_name(name).send()
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
        let out = self
            .call("iam:CreateAccessKey", transient_or_not_yet_visible, || {
                self.client.create_access_key().user_name(name).send()
            })
            .await?;
        let key = out.access_key().ok_or_else(|| Error::Input("CreateAccessKey returned no key".into()))?;
        Ok((key.access_key_id().to_owned(), Secret::new(key.secret_access_key().to_owned())))
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
}
