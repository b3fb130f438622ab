//! sso-admin: permission sets, their policies and provisioning, and account assignments.

use std::time::Duration;

use aws_sdk_ssoadmin::types::{PrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType};

use super::IdentityCenter;
use crate::aws::is_code;
use crate::error::Error;

/// A permission set as sso-admin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub session_duration: Option<String>,
}

/// Who an account assignment is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    Group,
    User,
}
/// Which kind of asynchronous request [`IdentityCenter::settled`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polled {
    Assignment,
    Provisioning,
}

/// How long an asynchronous request may stay in progress before it is reported failed.
pub const PATIENCE: Duration = Duration::from_secs(300);
/// Where an asynchronous sso-admin request (an account assignment's creation, a permission
/// set's provisioning) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigning {
    InProgress { request_id: String },
    Succeeded,
    Failed { reason: String },
}
impl IdentityCenter {
    /// Every permission set of the instance, described.
    pub async fn permission_sets(&self, instance: &str) -> Result<Vec<PermissionSet>, Error> {
        let arns = self
            .paged(
                "sso:ListPermissionSets",
                |token| self.admin.list_permission_sets().instance_arn(instance).set_next_token(token).send(),
                |page| page.permission_sets().to_vec(),
                |page| page.next_token(),
            )
            .await?;
        let mut sets = Vec::with_capacity(arns.len());
        for arn in arns {
            let out = self
                .call("sso:DescribePermissionSet", || {
                    self.admin.describe_permission_set().instance_arn(instance).permission_set_arn(&arn).send()
                })
                .await?;
            if let Some(p) = out.permission_set() {
                sets.push(PermissionSet {
                    arn: arn.clone(),
                    name: p.name().unwrap_or_default().to_owned(),
                    description: p.description().map(str::to_owned),
                    session_duration: p.session_duration().map(str::to_owned),
                });
            }
        }
        Ok(sets)
    }

    /// Creates a permission set, tagged `tag`; returns its ARN.
    pub async fn create_permission_set(
        &self,
        instance: &str,
        name: &str,
        description: &str,
        session_duration: &str,
        tag: (&str, &str),
    ) -> Result<String, Error> {
        let tag = Tag::builder().key(tag.0).value(tag.1).build().map_err(|e| Error::Input(e.to_string()))?;
        let out = self
            .call("sso:CreatePermissionSet", || {
                self.admin
                    .create_permission_set()
                    .instance_arn(instance)
                    .name(name)
                    .description(description)
                    .session_duration(session_duration)
                    .tags(tag.clone())
                    .send()
            })
            .await?;
        out.permission_set()
            .and_then(|p| p.permission_set_arn())
            .map(str::to_owned)
            .ok_or_else(|| Error::Conflict(format!("sso:CreatePermissionSet for `{name}` answered without an ARN")))
    }

    /// The AWS managed policies attached to a permission set.
    pub async fn managed_policies(&self, instance: &str, permission_set: &str) -> Result<Vec<String>, Error> {
        self.paged(
            "sso:ListManagedPoliciesInPermissionSet",
            |token| {
                self.admin
                    .list_managed_policies_in_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
            },
            |page| page.attached_managed_policies().iter().filter_map(|p| p.arn().map(str::to_owned)).collect(),
            |page| page.next_token(),
        )
        .await
    }

    pub async fn attach_managed_policy(&self, instance: &str, permission_set: &str, policy: &str) -> Result<(), Error> {
        self.call("sso:AttachManagedPolicyToPermissionSet", || {
            self.admin
                .attach_managed_policy_to_permission_set()
                .instance_arn(instance)
                .permission_set_arn(permission_set)
                .managed_policy_arn(policy)
                .send()
        })
        .await?;
        Ok(())
    }

    /// Gives a permission set this system made another session duration (its description, the
    /// marker of what bootstrap made, is written again with it).
    pub async fn set_session_duration(
        &self,
        instance: &str,
        permission_set: &str,
        description: &str,
        session_duration: &str,
    ) -> Result<(), Error> {
        self.call("sso:UpdatePermissionSet", || {
            self.admin
                .update_permission_set()
                .instance_arn(instance)
                .permission_set_arn(permission_set)
                .description(description)
                .session_duration(session_duration)
                .send()
        })
        .await?;
        Ok(())
    }

    /// Starts provisioning a changed permission set to every account it is provisioned to (a
    /// change reaches no account before this).
    pub async fn provision(&self, instance: &str, permission_set: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:ProvisionPermissionSet", || {
                self.admin
                    .provision_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .target_type(ProvisionTargetType::AllProvisionedAccounts)
                    .send()
            })
            .await?;
        let s = out.permission_set_provisioning_status();
        Ok(assigning(s.and_then(|s| s.status()), s.and_then(|s| s.request_id()), s.and_then(|s| s.failure_reason())))
    }

    /// Polls a request until it succeeded (`Ok`), failed (AWS's reason), or stayed in progress
    /// past [`PATIENCE`]; waits from half a second, doubling, up to 5 s between polls.
    pub async fn settled(&self, instance: &str, mut status: Assigning, kind: Polled) -> Result<(), Error> {
        let (started, mut wait) = (tokio::time::Instant::now(), Duration::from_millis(500));
        loop {
            match status {
                Assigning::Succeeded => return Ok(()),
                Assigning::Failed { reason } => return Err(Error::Conflict(reason)),
                Assigning::InProgress { request_id } if started.elapsed() > PATIENCE => {
                    return Err(Error::Conflict(format!(
                        "request {request_id} still in progress after {} s; run the command again to check it",
                        PATIENCE.as_secs()
                    )));
                }
                Assigning::InProgress { request_id } => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                    status = match kind {
                        Polled::Assignment => self.assignment_status(instance, &request_id).await?,
                        Polled::Provisioning => self.provisioning_status(instance, &request_id).await?,
                    };
                }
            }
        }
    }

    /// Where a permission set's provisioning is now.
    pub async fn provisioning_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:DescribePermissionSetProvisioningStatus", || {
                self.admin
                    .describe_permission_set_provisioning_status()
                    .instance_arn(instance)
                    .provision_permission_set_request_id(request_id)
                    .send()
            })
            .await?;
        let s = out.permission_set_provisioning_status();
        Ok(assigning(
            s.and_then(|s| s.status()),
            s.and_then(|s| s.request_id()).or(Some(request_id)),
            s.and_then(|s| s.failure_reason()),
        ))
    }

    /// The groups a permission set is assigned to in an account.
    pub async fn assigned_groups(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
    ) -> Result<Vec<String>, Error> {
        let all = self.assignments(instance, account, permission_set).await?;
        Ok(all.into_iter().filter(|(kind, _)| *kind == Principal::Group).map(|(_, id)| id).collect())
    }

    /// Who a permission set is assigned to in an account: groups and users, by id.
    pub async fn assignments(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
    ) -> Result<Vec<(Principal, String)>, Error> {
        self.paged(
            "sso:ListAccountAssignments",
            |token| {
                self.admin
                    .list_account_assignments()
                    .instance_arn(instance)
                    .account_id(account)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
            },
            |page| {
                page.account_assignments()
                    .iter()
                    .filter_map(|a| {
                        let kind = match a.principal_type()? {
                            PrincipalType::Group => Principal::Group,
                            PrincipalType::User => Principal::User,
                            _ => return None,
                        };
                        Some((kind, a.principal_id()?.to_owned()))
                    })
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }
    /// A permission set's inline policy, or `None` when it has none.
    pub async fn inline_policy(&self, instance: &str, permission_set: &str) -> Result<Option<String>, Error> {
        let out = self
            .call("sso:GetInlinePolicyForPermissionSet", || {
                self.admin
                    .get_inline_policy_for_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .send()
            })
            .await?;
        Ok(out.inline_policy().filter(|p| !p.is_empty()).map(str::to_owned))
    }

    /// Writes a permission set's inline policy, or removes it (`None`). It reaches the accounts
    /// only once the permission set is provisioned again ([`Self::provision`]).
    pub async fn set_inline_policy(
        &self,
        instance: &str,
        permission_set: &str,
        document: Option<&str>,
    ) -> Result<(), Error> {
        match document {
            Some(doc) => {
                self.call("sso:PutInlinePolicyToPermissionSet", || {
                    self.admin
                        .put_inline_policy_to_permission_set()
                        .instance_arn(instance)
                        .permission_set_arn(permission_set)
                        .inline_policy(doc)
                        .send()
                })
                .await?;
            }
            None => {
                let gone = self
                    .call("sso:DeleteInlinePolicyFromPermissionSet", || {
                        self.admin
                            .delete_inline_policy_from_permission_set()
                            .instance_arn(instance)
                            .permission_set_arn(permission_set)
                            .send()
                    })
                    .await;
                match gone {
                    Ok(_) => {}
                    Err(e) if is_code(&e, "ResourceNotFoundException") => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(())
    }

    /// Starts assigning a permission set to a group in an account.
    pub async fn assign_group(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
        group_id: &str,
    ) -> Result<Assigning, Error> {
        let out = self
            .call("sso:CreateAccountAssignment", || {
                self.admin
                    .create_account_assignment()
                    .instance_arn(instance)
                    .target_id(account)
                    .target_type(TargetType::AwsAccount)
                    .permission_set_arn(permission_set)
                    .principal_type(PrincipalType::Group)
                    .principal_id(group_id)
                    .send()
            })
            .await?;
        let status = out.account_assignment_creation_status();
        Ok(assigning(
            status.and_then(|s| s.status()),
            status.and_then(|s| s.request_id()),
            status.and_then(|s| s.failure_reason()),
        ))
    }

    /// Where an assignment's creation is now.
    pub async fn assignment_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        let out = self
            .call("sso:DescribeAccountAssignmentCreationStatus", || {
                self.admin
                    .describe_account_assignment_creation_status()
                    .instance_arn(instance)
                    .account_assignment_creation_request_id(request_id)
                    .send()
            })
            .await?;
        let status = out.account_assignment_creation_status();
        Ok(assigning(
            status.and_then(|s| s.status()),
            status.and_then(|s| s.request_id()).or(Some(request_id)),
            status.and_then(|s| s.failure_reason()),
        ))
    }
}

fn assigning(status: Option<&StatusValues>, request_id: Option<&str>, reason: Option<&str>) -> Assigning {
    match (status, request_id) {
        (Some(StatusValues::Succeeded), _) => Assigning::Succeeded,
        (Some(StatusValues::InProgress), Some(id)) => Assigning::InProgress { request_id: id.to_owned() },
        _ => Assigning::Failed { reason: reason.unwrap_or("sso-admin gave no reason").to_owned() },
    }
}
