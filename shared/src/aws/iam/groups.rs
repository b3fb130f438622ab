//! IAM groups and their members.

use super::{Iam, absent, fresh, gone, truncated};
use crate::error::Error;
use crate::retry::{transient, transient_or_not_yet_visible};

impl Iam {
    /// Creates the group; `false` when it existed.
    pub async fn create_group(&self, name: &str) -> Result<bool, Error> {
        crate::aws::written(
            self.call("iam:CreateGroup", transient, || self.client.create_group().group_name(name).send()).await,
            "EntityAlreadyExists",
        )
    }

    /// Attaches a managed policy to a group (a no-op when attached).
    pub async fn attach_group_policy(&self, group: &str, policy_arn: &str) -> Result<(), Error> {
        self.call("iam:AttachGroupPolicy", transient, || {
            self.client.attach_group_policy().group_name(group).policy_arn(policy_arn).send()
        })
        .await?;
        Ok(())
    }

    /// The group's ARN, or `None` when it does not exist (a missing group is asked again each
    /// time; an existing one is remembered for [`FRESH_FOR`]).
    pub async fn group_arn(&self, group: &str) -> Result<Option<String>, Error> {
        let cached = self.cache.groups.lock().ok().and_then(|g| fresh(g.get(group)));
        if cached.is_some() {
            return Ok(cached);
        }
        let r = self.call("iam:GetGroup", transient, || self.client.get_group().group_name(group).max_items(1).send());
        let arn = absent(r.await)?.and_then(|o| o.group().map(|g| g.arn().to_owned()));
        if let (Some(arn), Ok(mut groups)) = (&arn, self.cache.groups.lock()) {
            groups.insert(group.to_owned(), (std::time::Instant::now(), arn.clone()));
        }
        Ok(arn)
    }

    /// The names of the user's groups (all pages). A user not yet visible is waited for.
    pub async fn groups_for_user(&self, name: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "iam:ListGroupsForUser",
            transient_or_not_yet_visible,
            |marker| self.client.list_groups_for_user().user_name(name).set_marker(marker).send(),
            |page| page.groups().iter().map(|g| g.group_name().to_owned()).collect(),
            |page| truncated(page.is_truncated(), page.marker()),
        )
        .await
    }

    pub async fn add_user_to_group(&self, name: &str, group: &str) -> Result<(), Error> {
        self.call("iam:AddUserToGroup", transient_or_not_yet_visible, || {
            self.client.add_user_to_group().user_name(name).group_name(group).send()
        })
        .await?;
        Ok(())
    }

    /// What a group grants: the names of its attached managed policies and inline policies
    /// (all pages of each), for an access review's items.
    pub async fn group_policies(&self, group: &str) -> Result<Vec<String>, Error> {
        let mut names = self
            .paged(
                "iam:ListAttachedGroupPolicies",
                transient,
                |marker| self.client.list_attached_group_policies().group_name(group).set_marker(marker).send(),
                |page| page.attached_policies().iter().filter_map(|p| p.policy_name().map(str::to_owned)).collect(),
                |page| truncated(page.is_truncated(), page.marker()),
            )
            .await?;
        let inline = self
            .paged(
                "iam:ListGroupPolicies",
                transient,
                |marker| self.client.list_group_policies().group_name(group).set_marker(marker).send(),
                |page| page.policy_names().iter().map(|n| format!("{n} (inline)")).collect(),
                |page| truncated(page.is_truncated(), page.marker()),
            )
            .await?;
        names.extend(inline);
        Ok(names)
    }

    pub async fn remove_user_from_group(&self, name: &str, group: &str) -> Result<bool, Error> {
        gone(
            self.call("iam:RemoveUserFromGroup", transient, || {
                self.client.remove_user_from_group().user_name(name).group_name(group).send()
            })
            .await,
        )
    }
}
