//! IAM users: read, listed with what grants them access, made, tagged, moved, deleted.

use std::collections::BTreeMap;

use super::{Iam, User, UserDetail, absent, gone, to_chrono, to_tags, truncated};
use crate::error::Error;
use crate::retry::{transient, transient_or_not_yet_visible};

impl Iam {
    /// The user, or `None` when it does not exist.
    pub async fn get_user(&self, name: &str) -> Result<Option<User>, Error> {
        let out = absent(self.call("iam:GetUser", transient, || self.client.get_user().user_name(name).send()).await)?;
        Ok(out.and_then(|o| o.user().map(User::from)))
    }

    /// Every user under `path_prefix` with its tags, path and boundary, read with
    /// `GetAccountAuthorizationDetails` (one call per page of up to 1,000 users, not one per user).
    pub async fn users_with_tags(&self, path_prefix: &str) -> Result<Vec<User>, Error> {
        Ok(self.user_details(path_prefix).await?.into_iter().map(|d| d.user).collect())
    }

    /// Every user under `path_prefix` with what grants it access (groups, policies attached or
    /// inline), from the same paginated `GetAccountAuthorizationDetails` read.
    pub async fn user_details(&self, path_prefix: &str) -> Result<Vec<UserDetail>, Error> {
        use aws_sdk_iam::types::EntityType;
        self.paged(
            "iam:GetAccountAuthorizationDetails",
            transient,
            |marker| {
                let read = self.client.get_account_authorization_details().filter(EntityType::User);
                read.max_items(1000).set_marker(marker).send()
            },
            |page| {
                let under = page.user_detail_list().iter().filter(|u| u.path().unwrap_or("/").starts_with(path_prefix));
                under
                    .map(|u| UserDetail {
                        user: User {
                            name: u.user_name().unwrap_or_default().to_owned(),
                            arn: u.arn().unwrap_or_default().to_owned(),
                            path: u.path().unwrap_or("/").to_owned(),
                            tags: u.tags().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect(),
                            boundary: u
                                .permissions_boundary()
                                .and_then(|b| b.permissions_boundary_arn())
                                .map(str::to_owned),
                            password_last_used: None,
                        },
                        groups: u.group_list().to_vec(),
                        attached_policies: u
                            .attached_managed_policies()
                            .iter()
                            .filter_map(|p| p.policy_arn().map(str::to_owned))
                            .collect(),
                        inline_policies: u
                            .user_policy_list()
                            .iter()
                            .filter_map(|p| p.policy_name().map(str::to_owned))
                            .collect(),
                        created: u.create_date().and_then(|t| to_chrono(*t)),
                    })
                    .collect()
            },
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
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

    /// Moves the user to `path` (its ARN changes with it; name, credentials and groups stay).
    pub async fn move_user(&self, name: &str, path: &str) -> Result<(), Error> {
        self.call("iam:UpdateUser", transient_or_not_yet_visible, || {
            self.client.update_user().user_name(name).new_path(path).send()
        })
        .await?;
        Ok(())
    }

    /// Sets the user's permissions boundary (replacing any other).
    pub async fn set_boundary(&self, name: &str, boundary_arn: &str) -> Result<(), Error> {
        self.call("iam:PutUserPermissionsBoundary", transient_or_not_yet_visible, || {
            self.client.put_user_permissions_boundary().user_name(name).permissions_boundary(boundary_arn).send()
        })
        .await?;
        Ok(())
    }

    /// Every user under `path_prefix` (all pages). ListUsers carries no tags.
    pub async fn list_users(&self, path_prefix: &str) -> Result<Vec<User>, Error> {
        self.paged(
            "iam:ListUsers",
            transient,
            |marker| self.client.list_users().path_prefix(path_prefix).set_marker(marker).send(),
            |page| page.users().iter().map(User::from).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    /// Deletes the user; `false` when it was already gone. `DeleteConflict` means something is
    /// still attached: the caller's cleanup missed it.
    pub async fn delete_user(&self, name: &str) -> Result<bool, Error> {
        gone(self.call("iam:DeleteUser", transient, || self.client.delete_user().user_name(name).send()).await)
    }
}
