//! IAM Identity Center: the Identity Store (groups) and sso-admin (instances, permission sets,
//! account assignments). Every call waits its turn on one [`Pace`] per process
//! (`identity_center.max_tps`); a throttled call is retried by the SDK's standard retry (backoff
//! with jitter). Honouring `RetryAfterSeconds` across the process is not built yet.

use aws_sdk_identitystore::types::{AlternateIdentifier, UniqueAttribute};
use aws_sdk_ssoadmin::types::{PrincipalType, ProvisionTargetType, StatusValues, Tag, TargetType};
use aws_smithy_types::Document;

use super::{aws_error, is_code};
use crate::config::IdentityCenterConfig;
use crate::error::Error;
use crate::pace::Pace;

/// The Identity Store and sso-admin clients, sharing one pace.
#[derive(Clone, Debug)]
pub struct IdentityCenter {
    store: aws_sdk_identitystore::Client,
    admin: aws_sdk_ssoadmin::Client,
    pace: Pace,
}

/// An Identity Center instance and its identity store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub arn: String,
    pub identity_store_id: String,
}

/// A permission set as sso-admin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionSet {
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    pub session_duration: Option<String>,
}

/// Where an asynchronous sso-admin request (an account assignment's creation, a permission
/// set's provisioning) is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assigning {
    InProgress { request_id: String },
    Succeeded,
    Failed { reason: String },
}

impl IdentityCenter {
    pub fn new(sdk: &aws_config::SdkConfig, max_tps: u32) -> Self {
        Self::from_clients(aws_sdk_identitystore::Client::new(sdk), aws_sdk_ssoadmin::Client::new(sdk), max_tps)
    }

    /// From clients built elsewhere (the tests' fault injection).
    pub fn from_clients(store: aws_sdk_identitystore::Client, admin: aws_sdk_ssoadmin::Client, max_tps: u32) -> Self {
        Self { store, admin, pace: Pace::new(max_tps) }
    }

    /// Waits for this call's turn.
    async fn turn(&self) {
        self.pace.wait().await;
    }

    /// The configured instance and identity store, or the only ones the caller can see.
    pub async fn instance(&self, cfg: &IdentityCenterConfig) -> Result<Instance, Error> {
        if let (Some(arn), Some(store)) = (&cfg.instance_arn, &cfg.identity_store_id) {
            return Ok(Instance { arn: arn.clone(), identity_store_id: store.clone() });
        }
        choose(cfg, &self.instances().await?)
    }

    /// Every instance the caller can see.
    pub async fn instances(&self) -> Result<Vec<Instance>, Error> {
        self.turn().await;
        let out = self.admin.list_instances().send().await.map_err(|e| aws_error("sso:ListInstances", e))?;
        Ok(out
            .instances()
            .iter()
            .filter_map(|i| {
                Some(Instance {
                    arn: i.instance_arn()?.to_owned(),
                    identity_store_id: i.identity_store_id()?.to_owned(),
                })
            })
            .collect())
    }

    /// The id of the group with this display name, if there is one.
    pub async fn group_id(&self, store: &str, display_name: &str) -> Result<Option<String>, Error> {
        let by_name = UniqueAttribute::builder()
            .attribute_path("displayName")
            .attribute_value(Document::String(display_name.to_owned()))
            .build()
            .map_err(|e| Error::Input(e.to_string()))?;
        self.turn().await;
        let out = self
            .store
            .get_group_id()
            .identity_store_id(store)
            .alternate_identifier(AlternateIdentifier::UniqueAttribute(by_name))
            .send()
            .await
            .map_err(|e| aws_error("identitystore:GetGroupId", e));
        match out {
            Ok(o) => Ok(Some(o.group_id().to_owned())),
            Err(e) if is_code(&e, "ResourceNotFoundException") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A group's description.
    pub async fn group_description(&self, store: &str, group_id: &str) -> Result<Option<String>, Error> {
        self.turn().await;
        let out = self
            .store
            .describe_group()
            .identity_store_id(store)
            .group_id(group_id)
            .send()
            .await
            .map_err(|e| aws_error("identitystore:DescribeGroup", e))?;
        Ok(out.description().map(str::to_owned))
    }

    /// Creates a group; returns its id.
    pub async fn create_group(&self, store: &str, display_name: &str, description: &str) -> Result<String, Error> {
        self.turn().await;
        let out = self
            .store
            .create_group()
            .identity_store_id(store)
            .display_name(display_name)
            .description(description)
            .send()
            .await
            .map_err(|e| aws_error("identitystore:CreateGroup", e))?;
        Ok(out.group_id().to_owned())
    }

    /// Every permission set of the instance, described.
    pub async fn permission_sets(&self, instance: &str) -> Result<Vec<PermissionSet>, Error> {
        let arns = super::all_pages(
            |token| async move {
                self.turn().await;
                self.admin
                    .list_permission_sets()
                    .instance_arn(instance)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| aws_error("sso:ListPermissionSets", e))
            },
            |page| page.permission_sets().to_vec(),
            |page| page.next_token(),
        )
        .await?;
        let mut sets = Vec::with_capacity(arns.len());
        for arn in arns {
            self.turn().await;
            let out = self
                .admin
                .describe_permission_set()
                .instance_arn(instance)
                .permission_set_arn(&arn)
                .send()
                .await
                .map_err(|e| aws_error("sso:DescribePermissionSet", e))?;
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
        self.turn().await;
        let out = self
            .admin
            .create_permission_set()
            .instance_arn(instance)
            .name(name)
            .description(description)
            .session_duration(session_duration)
            .tags(tag)
            .send()
            .await
            .map_err(|e| aws_error("sso:CreatePermissionSet", e))?;
        out.permission_set()
            .and_then(|p| p.permission_set_arn())
            .map(str::to_owned)
            .ok_or_else(|| Error::Conflict(format!("sso:CreatePermissionSet for `{name}` answered without an ARN")))
    }

    /// The AWS managed policies attached to a permission set.
    pub async fn managed_policies(&self, instance: &str, permission_set: &str) -> Result<Vec<String>, Error> {
        super::all_pages(
            |token| async move {
                self.turn().await;
                self.admin
                    .list_managed_policies_in_permission_set()
                    .instance_arn(instance)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| aws_error("sso:ListManagedPoliciesInPermissionSet", e))
            },
            |page| page.attached_managed_policies().iter().filter_map(|p| p.arn().map(str::to_owned)).collect(),
            |page| page.next_token(),
        )
        .await
    }

    pub async fn attach_managed_policy(&self, instance: &str, permission_set: &str, policy: &str) -> Result<(), Error> {
        self.turn().await;
        self.admin
            .attach_managed_policy_to_permission_set()
            .instance_arn(instance)
            .permission_set_arn(permission_set)
            .managed_policy_arn(policy)
            .send()
            .await
            .map_err(|e| aws_error("sso:AttachManagedPolicyToPermissionSet", e))?;
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
        self.turn().await;
        self.admin
            .update_permission_set()
            .instance_arn(instance)
            .permission_set_arn(permission_set)
            .description(description)
            .session_duration(session_duration)
            .send()
            .await
            .map_err(|e| aws_error("sso:UpdatePermissionSet", e))?;
        Ok(())
    }

    /// Starts provisioning a changed permission set to every account it is provisioned to (a
    /// change reaches no account before this).
    pub async fn provision(&self, instance: &str, permission_set: &str) -> Result<Assigning, Error> {
        self.turn().await;
        let out = self
            .admin
            .provision_permission_set()
            .instance_arn(instance)
            .permission_set_arn(permission_set)
            .target_type(ProvisionTargetType::AllProvisionedAccounts)
            .send()
            .await
            .map_err(|e| aws_error("sso:ProvisionPermissionSet", e))?;
        let s = out.permission_set_provisioning_status();
        Ok(assigning(s.and_then(|s| s.status()), s.and_then(|s| s.request_id()), s.and_then(|s| s.failure_reason())))
    }

    /// Where a permission set's provisioning is now.
    pub async fn provisioning_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        self.turn().await;
        let out = self
            .admin
            .describe_permission_set_provisioning_status()
            .instance_arn(instance)
            .provision_permission_set_request_id(request_id)
            .send()
            .await
            .map_err(|e| aws_error("sso:DescribePermissionSetProvisioningStatus", e))?;
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
        super::all_pages(
            |token| async move {
                self.turn().await;
                self.admin
                    .list_account_assignments()
                    .instance_arn(instance)
                    .account_id(account)
                    .permission_set_arn(permission_set)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(|e| aws_error("sso:ListAccountAssignments", e))
            },
            |page| {
                page.account_assignments()
                    .iter()
                    .filter(|a| a.principal_type() == Some(&PrincipalType::Group))
                    .filter_map(|a| a.principal_id().map(str::to_owned))
                    .collect()
            },
            |page| page.next_token(),
        )
        .await
    }

    /// Starts assigning a permission set to a group in an account.
    pub async fn assign_group(
        &self,
        instance: &str,
        account: &str,
        permission_set: &str,
        group_id: &str,
    ) -> Result<Assigning, Error> {
        self.turn().await;
        let out = self
            .admin
            .create_account_assignment()
            .instance_arn(instance)
            .target_id(account)
            .target_type(TargetType::AwsAccount)
            .permission_set_arn(permission_set)
            .principal_type(PrincipalType::Group)
            .principal_id(group_id)
            .send()
            .await
            .map_err(|e| aws_error("sso:CreateAccountAssignment", e))?;
        let status = out.account_assignment_creation_status();
        Ok(assigning(
            status.and_then(|s| s.status()),
            status.and_then(|s| s.request_id()),
            status.and_then(|s| s.failure_reason()),
        ))
    }

    /// Where an assignment's creation is now.
    pub async fn assignment_status(&self, instance: &str, request_id: &str) -> Result<Assigning, Error> {
        self.turn().await;
        let out = self
            .admin
            .describe_account_assignment_creation_status()
            .instance_arn(instance)
            .account_assignment_creation_request_id(request_id)
            .send()
            .await
            .map_err(|e| aws_error("sso:DescribeAccountAssignmentCreationStatus", e))?;
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

/// The instance the config means among those the caller sees: the one named, or the only one.
/// A config error names the key to set.
fn choose(cfg: &IdentityCenterConfig, seen: &[Instance]) -> Result<Instance, Error> {
    // The account does not match the config: a conflict, named by the key to set.
    let invalid = |key: &str, why: String| Error::Conflict(format!("identity_center.{key}: {why}"));
    let found = match &cfg.instance_arn {
        Some(arn) => seen.iter().find(|i| &i.arn == arn).ok_or_else(|| {
            invalid("instance_arn", format!("`{arn}` is not an instance the caller can see (sso:ListInstances)"))
        })?,
        None => match seen {
            [one] => one,
            [] => {
                return Err(invalid(
                    "instance_arn",
                    "the caller sees no Identity Center instance: enable IAM Identity Center, or set this key".into(),
                ));
            }
            many => {
                let arns: Vec<&str> = many.iter().map(|i| i.arn.as_str()).collect();
                return Err(invalid(
                    "instance_arn",
                    format!("the caller sees {} instances; set one of {}", many.len(), arns.join(", ")),
                ));
            }
        },
    };
    match &cfg.identity_store_id {
        Some(store) if store != &found.identity_store_id => Err(invalid(
            "identity_store_id",
            format!("`{store}` is not the identity store of {} ({})", found.arn, found.identity_store_id),
        )),
        _ => Ok(found.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(arn: Option<&str>, store: Option<&str>) -> IdentityCenterConfig {
        IdentityCenterConfig {
            instance_arn: arn.map(str::to_owned),
            identity_store_id: store.map(str::to_owned),
            portal_url: "https://example.awsapps.com/start".into(),
            max_tps: 20,
            permission_sets: Vec::new(),
            assignments: Vec::new(),
        }
    }

    fn instance(n: u8) -> Instance {
        Instance { arn: format!("arn:aws:sso:::instance/ssoins-{n}"), identity_store_id: format!("d-000000000{n}") }
    }

    #[test]
    fn the_only_instance_is_found_and_anything_else_names_the_key() {
        assert_eq!(choose(&cfg(None, None), &[instance(1)]).expect("the only one"), instance(1));
        let named = cfg(Some("arn:aws:sso:::instance/ssoins-2"), None);
        assert_eq!(choose(&named, &[instance(1), instance(2)]).expect("named"), instance(2));
        let cases = [
            (cfg(None, None), vec![], "identity_center.instance_arn", "no Identity Center instance"),
            (cfg(None, None), vec![instance(1), instance(2)], "identity_center.instance_arn", "ssoins-2"),
            (named.clone(), vec![instance(1)], "identity_center.instance_arn", "not an instance"),
            (cfg(None, Some("d-0000000009")), vec![instance(1)], "identity_center.identity_store_id", "d-0000000001"),
        ];
        for (c, seen, key, says) in cases {
            let e = choose(&c, &seen).expect_err(key).to_string();
            assert!(e.contains(key) && e.contains(says), "{e}");
        }
    }
}
